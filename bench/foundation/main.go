// Command foundation measures wharf's foundation side by side with moto's server in
// the same run: startup to ready, idle RSS, and STS GetCallerIdentity requests per
// second at 8 concurrent clients. It prints absolute numbers and ratios; it asserts
// nothing (a benchmark, not a test).
//
//	go run ./bench/foundation [-duration 5s] [-clients 8]
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
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

type result struct {
	name     string
	startup  time.Duration
	rssMiB   float64
	rps      float64
	requests int64
	errors   int64
}

func main() {
	duration := flag.Duration("duration", 5*time.Second, "how long to drive each server")
	clients := flag.Int("clients", 8, "concurrent clients")
	flag.Parse()

	bin, err := benchkit.BuildWharf()
	if err != nil {
		fail(err)
	}
	defer os.RemoveAll(filepath.Dir(bin))

	w, err := measure("wharf", func(port int) *exec.Cmd {
		return exec.Command(bin, "serve", "--ephemeral", "--listen", fmt.Sprintf("127.0.0.1:%d", port), "--log-level", "warn")
	}, "/_wharf/health", *duration, *clients)
	if err != nil {
		fail(err)
	}
	m, err := measure("moto", func(port int) *exec.Cmd {
		return exec.Command("python3", "-m", "moto.server", "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	}, "/moto-api/", *duration, *clients)
	if err != nil {
		fail(err)
	}

	fmt.Printf("%-6s %12s %10s %14s %9s %7s\n", "server", "ready_ms", "rss_MiB", "req/s", "requests", "errors")
	for _, r := range []result{w, m} {
		fmt.Printf("%-6s %12.1f %10.1f %14.0f %9d %7d\n", r.name, ms(r.startup), r.rssMiB, r.rps, r.requests, r.errors)
	}
	fmt.Printf("\nratios (wharf vs moto): ready %.1fx faster, RSS %.1fx smaller, GetCallerIdentity %.1fx the requests/s\n",
		ms(m.startup)/ms(w.startup), m.rssMiB/w.rssMiB, w.rps/m.rps)
	fmt.Printf("targets: ready < 25 ms (%s), idle RSS < 20 MiB (%s), >= 20x moto req/s (%s)\n",
		verdict(ms(w.startup) < 25), verdict(w.rssMiB < 20), verdict(w.rps >= 20*m.rps))
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "missed"
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func fail(err error) {
	fmt.Fprintln(os.Stderr, "bench:", err)
	os.Exit(1)
}

// measure starts a server, times it to its first successful health answer, reads
// its idle RSS, drives it with GetCallerIdentity, and stops it.
func measure(name string, command func(port int) *exec.Cmd, healthPath string, d time.Duration, clients int) (result, error) {
	r := result{name: name}
	port, err := benchkit.FreePort()
	if err != nil {
		return r, err
	}
	cmd := command(port)
	cmd.Stdout, cmd.Stderr = nil, nil
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return r, fmt.Errorf("%s: %w", name, err)
	}
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	}()
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	hc := &http.Client{Timeout: time.Second}
	for {
		resp, err := hc.Get(base + healthPath)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode < 500 {
				break
			}
		}
		if time.Since(start) > 60*time.Second {
			return r, fmt.Errorf("%s did not become ready", name)
		}
		time.Sleep(time.Millisecond)
	}
	r.startup = time.Since(start)
	time.Sleep(500 * time.Millisecond) // let it settle to idle
	r.rssMiB, err = rssMiB(cmd.Process.Pid)
	if err != nil {
		return r, err
	}

	client := sts.New(sts.Options{
		BaseEndpoint: aws.String(base),
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
	return r, nil
}

// rssMiB reads the resident set of pid and its children (moto's server may fork)
// from /proc.
func rssMiB(pid int) (float64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			if err != nil {
				return 0, err
			}
			return float64(kb) / 1024, nil
		}
	}
	return 0, fmt.Errorf("no VmRSS for pid %d", pid)
}
