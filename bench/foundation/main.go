// Command foundation measures wharf's foundation side by side with moto's server in
// the same run: startup to ready, idle RSS, and STS GetCallerIdentity requests per
// second at 8 concurrent clients. It prints absolute numbers and ratios; it asserts
// nothing (a benchmark, not a test).
//
//	go run ./bench/foundation [-duration 5s] [-clients 8] [-rounds 7] [-sts-rounds 3]
//	    [-runtime process] [-baseline OLD_WHARF] [-static] [-moto=false]
//
// -static builds wharf as the Dockerfile does (CGO_ENABLED=0 -trimpath -ldflags=-s:
// no libc mapped, a smaller binary); build -baseline the same way to compare.
//
// Startup is measured -rounds times per binary, in memory (--ephemeral), durable on a
// new, empty --data-dir ("new": the first start creates and syncs the store's files)
// and durable on the data directory of an earlier start ("restart"), the binaries
// alternating: ready is the wall
// time from starting the process to the first answer of /_wharf/health; CPU is the
// process's CPU time at that moment (every thread's, from /proc/<pid>/task/*/schedstat);
// idle RSS is read from /proc/<pid>/status after a second of idle, split into
// anonymous memory and file pages (mostly the binary's own text and read-only data).
// Medians are printed, with the minimum and maximum of ready. GetCallerIdentity
// is driven -sts-rounds times for -duration on wharf and on moto in turn (both
// servers up), and the ratio is the median of the rounds' ratios: on a shared
// machine the load changes between one server's turn and the other's. Each
// server's CPU per request (from /proc/<pid>/stat) is printed beside it: the
// client, the Go SDK on the same cores, uses about twice wharf's CPU per
// request, so requests/s partly measures the client; CPU per request does not.
package main

import (
	"bufio"
	"cmp"
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/wharf-dev/wharf/bench/internal/benchkit"
)

// start is one start of a server: how long to ready, and its memory once idle.
type start struct {
	ready    time.Duration
	cpu      time.Duration
	rss      mem
	pid      int
	stop     func()
	endpoint string
}

// mem is a process's resident memory in MiB.
type mem struct{ total, anon, file float64 }

func main() {
	duration := flag.Duration("duration", 5*time.Second, "how long to drive each server with GetCallerIdentity")
	clients := flag.Int("clients", 8, "concurrent clients")
	rounds := flag.Int("rounds", 7, "starts per binary and mode (in memory, durable), alternating")
	rt := flag.String("runtime", "", "wharf's --runtime (empty: wharf's default, which probes for a Docker engine)")
	baseline := flag.String("baseline", "", "an older wharf binary to measure beside, in the same run")
	withMoto := flag.Bool("moto", true, "measure moto's server too")
	stsRounds := flag.Int("sts-rounds", 3, "rounds of GetCallerIdentity, wharf and moto alternating, each for -duration")
	static := flag.Bool("static", false, "build wharf as the Dockerfile does: CGO_ENABLED=0 -trimpath -ldflags=-s")
	flag.Parse()

	bin, err := build(*static)
	if err != nil {
		fail(err)
	}
	defer os.RemoveAll(filepath.Dir(bin))
	bins := []struct{ name, path string }{{"wharf", bin}}
	if *baseline != "" {
		bins = append(bins, struct{ name, path string }{"baseline", *baseline})
	}

	type key struct{ bin, mode string }
	starts := map[key][]start{}
	modes := []string{"memory", "new", "restart"}
	dirs := map[string]string{} // each binary's directory for "restart"
	for _, b := range bins {
		dir, err := os.MkdirTemp("", "wharf-foundation")
		if err != nil {
			fail(err)
		}
		defer os.RemoveAll(dir)
		s, err := startWharf(b.path, "restart", dir, *rt)
		if err != nil {
			fail(fmt.Errorf("%s: %w", b.name, err))
		}
		s.stop()
		dirs[b.name] = dir
	}
	for round := 0; round < *rounds; round++ {
		for _, mode := range modes {
			for _, b := range bins {
				s, err := startWharf(b.path, mode, dirs[b.name], *rt)
				if err != nil {
					fail(fmt.Errorf("%s %s: %w", b.name, mode, err))
				}
				s.stop()
				starts[key{b.name, mode}] = append(starts[key{b.name, mode}], s)
			}
		}
	}
	fmt.Printf("startup: %d starts per row, medians (ready: min-max)\n", *rounds)
	fmt.Printf("%-9s %-8s %22s %10s %9s %9s %9s\n", "binary", "mode", "ready_ms", "cpu_ms", "rss_MiB", "anon_MiB", "file_MiB")
	for _, b := range bins {
		for _, mode := range modes {
			ss := starts[key{b.name, mode}]
			ready := durations(ss, func(s start) time.Duration { return s.ready })
			fmt.Printf("%-9s %-8s %8.1f (%5.1f-%5.1f) %10.1f %9.1f %9.1f %9.1f\n", b.name, mode,
				ms(median(ready)), ms(ready[0]), ms(ready[len(ready)-1]),
				ms(median(durations(ss, func(s start) time.Duration { return s.cpu }))),
				medianOf(ss, func(s start) float64 { return s.rss.total }),
				medianOf(ss, func(s start) float64 { return s.rss.anon }),
				medianOf(ss, func(s start) float64 { return s.rss.file }))
		}
	}
	mem := starts[key{"wharf", "memory"}]
	readyMs := ms(median(durations(mem, func(s start) time.Duration { return s.ready })))
	rss := medianOf(mem, func(s start) float64 { return s.rss.total })
	fmt.Printf("issue 20's targets (wharf in memory): ready < 10 ms (%s), idle RSS <= 16 MiB (%s)\n",
		verdict(readyMs < 10), verdict(rss <= 16))

	if *stsRounds < 1 {
		return // startup only
	}
	// Throughput, wharf (in memory) against moto: both servers stay up and
	// are driven in turn, -sts-rounds times, so that a change in the
	// machine's load (other processes) lands on both; the ratio is the
	// median of the rounds' ratios.
	s, err := startWharf(bin, "memory", "", *rt)
	if err != nil {
		fail(err)
	}
	defer s.stop()
	var ms0 start
	if *withMoto {
		if ms0, err = startMoto(); err != nil {
			fail(err)
		}
		defer ms0.stop()
	}
	var ws, mts []result
	var ratios, cpuRatios []float64
	for round := 0; round < *stsRounds; round++ {
		w, err := drive("wharf", s, *duration, *clients)
		if err != nil {
			fail(err)
		}
		ws = append(ws, w)
		if !*withMoto {
			continue
		}
		m, err := drive("moto", ms0, *duration, *clients)
		if err != nil {
			fail(err)
		}
		mts = append(mts, m)
		ratios = append(ratios, w.rps/m.rps)
		if w.cpuPerOp > 0 {
			cpuRatios = append(cpuRatios, float64(m.cpuPerOp)/float64(w.cpuPerOp))
		}
	}
	w := medianResult(ws)
	if !*withMoto {
		fmt.Printf("\nGetCallerIdentity at %d clients: wharf %.0f req/s (median of %d rounds; %d requests, %d errors)\n", *clients, w.rps, len(ws), w.requests, w.errors)
		return
	}
	m := medianResult(mts)
	fmt.Printf("\nGetCallerIdentity at %d clients, %d rounds of %s each, alternating; req/s per round:\n", *clients, *stsRounds, *duration)
	for i := range ws {
		fmt.Printf("  round %d: wharf %.0f, moto %.0f: %.1fx (server CPU per request: wharf %s, moto %s)\n",
			i+1, ws[i].rps, mts[i].rps, ratios[i], ws[i].cpuPerOp.Round(time.Microsecond), mts[i].cpuPerOp.Round(time.Microsecond))
	}
	slices.Sort(ratios)
	ratio := ratios[len(ratios)/2]
	fmt.Printf("\n%-6s %12s %10s %14s %9s %7s\n", "server", "ready_ms", "rss_MiB", "req/s (med)", "requests", "errors")
	fmt.Printf("%-6s %12.1f %10.1f %14.0f %9d %7d\n", "wharf", readyMs, rss, w.rps, w.requests, w.errors)
	fmt.Printf("%-6s %12.1f %10.1f %14.0f %9d %7d\n", "moto", ms(ms0.ready), ms0.rss.total, m.rps, m.requests, m.errors)
	fmt.Printf("\nratios (wharf vs moto): ready %.1fx faster, RSS %.1fx smaller, GetCallerIdentity %.1fx the requests/s (median of the rounds' ratios; target >= 20x: %s)\n",
		ms(ms0.ready)/readyMs, ms0.rss.total/rss, ratio, verdict(ratio >= 20))
	if len(cpuRatios) > 0 {
		slices.Sort(cpuRatios)
		fmt.Printf("server CPU per GetCallerIdentity: moto's is %.1fx wharf's (median of the rounds' ratios)\n", cpuRatios[len(cpuRatios)/2])
	}
}

// medianResult is the result of median requests per second.
func medianResult(rs []result) result {
	rs = slices.Clone(rs)
	slices.SortFunc(rs, func(a, b result) int { return cmp.Compare(a.rps, b.rps) })
	return rs[len(rs)/2]
}

// build builds ./cmd/wharf: as benchkit does, or as the Dockerfile does.
func build(static bool) (string, error) {
	if !static {
		return benchkit.BuildWharf()
	}
	dir, err := os.MkdirTemp("", "wharf-bench")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "wharf")
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s", "-o", bin, "./cmd/wharf")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	return bin, cmd.Run()
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "missed"
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func durations(ss []start, f func(start) time.Duration) []time.Duration {
	var out []time.Duration
	for _, s := range ss {
		out = append(out, f(s))
	}
	slices.Sort(out)
	return out
}

func median(d []time.Duration) time.Duration { return d[len(d)/2] }

func medianOf(ss []start, f func(start) float64) float64 {
	var v []float64
	for _, s := range ss {
		v = append(v, f(s))
	}
	slices.Sort(v)
	return v[len(v)/2]
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "bench:", err)
	os.Exit(1)
}

// startWharf starts bin in mode ("memory"; "new": durable on a new data directory;
// "restart": durable on dir) and measures it to ready and idle.
func startWharf(bin, mode, dir, rt string) (start, error) {
	return launch(func(port int) (*exec.Cmd, func()) {
		args := []string{"serve", "--listen", fmt.Sprintf("127.0.0.1:%d", port), "--log-level", "warn"}
		if rt != "" {
			args = append(args, "--runtime", rt)
		}
		cleanup := func() {}
		switch mode {
		case "new":
			dir, err := os.MkdirTemp("", "wharf-foundation")
			if err != nil {
				fail(err)
			}
			args = append(args, "--data-dir", dir)
			cleanup = func() { os.RemoveAll(dir) }
		case "restart":
			args = append(args, "--data-dir", dir)
		default:
			args = append(args, "--ephemeral")
		}
		return exec.Command(bin, args...), cleanup
	}, "/_wharf/health")
}

func startMoto() (start, error) {
	return launch(func(port int) (*exec.Cmd, func()) {
		return exec.Command("python3", "-m", "moto.server", "-H", "127.0.0.1", "-p", strconv.Itoa(port)), func() {}
	}, "/moto-api/")
}

// launch starts a server, times it to its first successful health answer, reads
// its CPU time then and its RSS after a second of idle. The caller calls stop.
func launch(command func(port int) (*exec.Cmd, func()), healthPath string) (start, error) {
	var s start
	port, err := benchkit.FreePort()
	if err != nil {
		return s, err
	}
	cmd, cleanup := command(port)
	cmd.Stdout, cmd.Stderr = nil, nil
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		cleanup()
		return s, err
	}
	s.pid = cmd.Process.Pid
	s.stop = func() {
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		cleanup()
	}
	s.endpoint = fmt.Sprintf("http://127.0.0.1:%d", port)
	hc := &http.Client{Timeout: time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	for {
		resp, err := hc.Get(s.endpoint + healthPath)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode < 500 {
				break
			}
		}
		if time.Since(t0) > 60*time.Second {
			s.stop()
			return s, fmt.Errorf("%s did not become ready", cmd.Path)
		}
		time.Sleep(500 * time.Microsecond)
	}
	s.ready = time.Since(t0)
	s.cpu = procCPU(s.pid)
	time.Sleep(time.Second) // let it settle to idle
	if s.rss, err = procMem(s.pid); err != nil {
		s.stop()
		return s, err
	}
	return s, nil
}

// procCPU is the CPU time every thread of pid has run, from schedstat (in
// nanoseconds, unlike /proc/<pid>/stat's ticks of 10 ms).
func procCPU(pid int) time.Duration {
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/schedstat", pid))
	var total time.Duration
	for _, t := range tasks {
		b, err := os.ReadFile(t)
		if err != nil {
			continue
		}
		f := strings.Fields(string(b))
		if len(f) > 0 {
			ns, _ := strconv.ParseInt(f[0], 10, 64)
			total += time.Duration(ns)
		}
	}
	return total
}

// procMem reads pid's resident set from /proc/<pid>/status.
func procMem(pid int) (mem, error) {
	var m mem
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return m, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), ":")
		kb, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
		switch k {
		case "VmRSS":
			m.total = float64(kb) / 1024
		case "RssAnon":
			m.anon = float64(kb) / 1024
		case "RssFile":
			m.file = float64(kb) / 1024
		}
	}
	if m.total == 0 {
		return m, fmt.Errorf("no VmRSS for pid %d", pid)
	}
	return m, nil
}

type result struct {
	rps      float64
	requests int64
	errors   int64
	cpuPerOp time.Duration // the server's CPU (user + system) per request
}

// drive sends GetCallerIdentity from clients goroutines for d.
func drive(name string, s start, d time.Duration, clients int) (result, error) {
	endpoint := s.endpoint
	var r result
	client := sts.New(sts.Options{
		BaseEndpoint: aws.String(endpoint),
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
		HTTPClient:   &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}},
	})
	if _, err := client.GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{}); err != nil {
		return r, fmt.Errorf("%s GetCallerIdentity: %w", name, err)
	}
	var n, errs atomic.Int64
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var wg sync.WaitGroup
	cpu0 := benchkit.ProcCPU(s.pid)
	t0 := time.Now()
	for i := 0; i < clients; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				if _, err := client.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
					if ctx.Err() == nil {
						errs.Add(1)
					}
					continue
				}
				n.Add(1)
			}
		}()
	}
	wg.Wait()
	r.requests, r.errors = n.Load(), errs.Load()
	r.rps = float64(r.requests) / time.Since(t0).Seconds()
	if r.requests > 0 {
		r.cpuPerOp = (benchkit.ProcCPU(s.pid) - cpu0) / time.Duration(r.requests)
	}
	return r, nil
}
