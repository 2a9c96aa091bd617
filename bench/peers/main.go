// Command peers measures wharf beside the AWS emulators that install on this
// machine, in one run: wharf in memory and durable, moto (python3 -m
// moto.server), goaws (SQS and SNS, built from the Go module proxy), dynalite
// (DynamoDB) and s3rver (S3) from npm, and a null Go HTTP server answering
// canned responses, the ceiling for any server here.
//
// Each operation runs at 1 and 8 clients (aws-sdk-go-v2, keep-alive), in
// rounds that alternate the servers' order, and prints throughput, latency
// p50/p99 and server CPU per operation (utime+stime from /proc, the steadier
// figure on a shared machine), with the ratios to wharf in memory and to the
// null server. It asserts nothing and stops by itself; run it from the module
// root: go run ./bench/peers [-rounds 3] [-duration 1s] [-ops REGEXP]
// [-targets wharf,moto,...].
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wharf-dev/wharf/bench/internal/benchkit"
)

var (
	rounds    = flag.Int("rounds", 3, "rounds per operation and client count; each round runs every server once, in rotated order")
	duration  = flag.Duration("duration", time.Second, "how long each server runs each operation per round")
	opsRE     = flag.String("ops", ".", "regular expression selecting operations by name")
	only      = flag.String("targets", "", "comma-separated servers to run (default: all that start): wharf,wharf-durable,null,moto,goaws,dynalite,s3rver")
	clientsF  = flag.String("clients", "1,8", "comma-separated client counts")
	wharfBin  = flag.String("wharf", "", "wharf binary to measure (default: build ./cmd/wharf)")
	debugAddr = flag.String("debug-addr", "", "start in-memory wharf (durable wharf with -targets wharf-durable) with --debug-addr, to profile it while this runs")
	baseline  = flag.String("baseline", "", "also measure this older wharf binary, in memory as wharf-baseline and durable as wharf-baseline-durable")
	nullAddr  = flag.String("serve-null", "", "internal: serve the null server on this address")
	noInstall = flag.Bool("no-install", false, "do not install missing peers (goaws, dynalite, s3rver)")
)

func main() {
	flag.Parse()
	if *nullAddr != "" {
		if err := serveNull(*nullAddr); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "peers:", err)
		os.Exit(1)
	}
}

type sample struct {
	ops, errs int64
	elapsed   time.Duration
	cpu       time.Duration
	lat       []time.Duration
	firstErr  error
}

type cellKey struct {
	op      string
	clients int
	target  string
}

func logf(f string, a ...any) { fmt.Fprintf(os.Stderr, f+"\n", a...) }

func run() error {
	re, err := regexp.Compile(*opsRE)
	if err != nil {
		return err
	}
	var counts []int
	for _, s := range strings.Split(*clientsF, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			return fmt.Errorf("-clients %q", *clientsF)
		}
		counts = append(counts, n)
	}
	work, err := os.MkdirTemp("", "wharf-peers")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	bin := *wharfBin
	if bin == "" {
		if bin, err = benchkit.BuildWharf(); err != nil {
			return fmt.Errorf("build wharf: %w", err)
		}
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	wanted := func(name string) bool { return *only == "" || slices.Contains(strings.Split(*only, ","), name) }
	if !*noInstall {
		install(logf, wanted)
	}
	var ts []*target
	for _, t := range targets(bin, self, work) {
		if !wanted(t.name) {
			continue
		}
		if err := t.launch(); err != nil {
			logf("skipping %s: %v", t.name, err)
			continue
		}
		defer t.stop()
		logf("%s ready at %s", t.name, t.base)
		ts = append(ts, t)
	}
	var ops []op
	for _, o := range allOps() {
		if re.MatchString(o.name) {
			ops = append(ops, o)
		}
	}
	maxClients := slices.Max(counts)
	cells := map[cellKey][]sample{}
	ctx := context.Background()
	for _, o := range ops {
		// Set the operation up on every server first, so that one a
		// server cannot do is dropped from its rounds, with why.
		calls := map[string]call{}
		var order []*target
		for _, t := range ts {
			if !t.serves(o.name) || (t.name == "null" && o.name == "events-sqs-latency") {
				continue
			}
			sctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
			c, err := o.setup(sctx, newClients(t.base, t.key), maxClients)
			cancel()
			if err != nil {
				logf("%s: %s cannot: %v", o.name, t.name, err)
				continue
			}
			calls[t.name] = c
			order = append(order, t)
		}
		for _, n := range counts {
			for r := 0; r < *rounds; r++ {
				for i := range order {
					t := order[(i+r)%len(order)]
					s := measure(t, calls[t.name], n, *duration)
					if s.firstErr != nil {
						logf("%s %s x%d: %d errors, first: %v", o.name, t.name, n, s.errs, s.firstErr)
					}
					k := cellKey{o.name, n, t.name}
					cells[k] = append(cells[k], s)
				}
			}
		}
		report(o, counts, ts, cells)
	}
	fmt.Println()
	fmt.Println("RSS at the end of the run (MiB):")
	for _, t := range ts {
		fmt.Printf("  %-14s %6.1f\n", t.name, t.rss())
	}
	return nil
}

// measure runs call from n clients for d (calls in flight then finish) and
// reads the target's CPU time around it.
func measure(t *target, c call, n int, d time.Duration) sample {
	var s sample
	var mu sync.Mutex
	var ops, errs atomic.Int64
	ctx := context.Background()
	cpu0 := t.cpu()
	t0 := time.Now()
	stop := t0.Add(d)
	var wg sync.WaitGroup
	for w := 0; w < n; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var lat []time.Duration
			for time.Now().Before(stop) {
				cctx, cancel := context.WithTimeout(ctx, 60*time.Second)
				c0 := time.Now()
				err := c(cctx, w)
				el := time.Since(c0)
				cancel()
				if err != nil {
					errs.Add(1)
					mu.Lock()
					if s.firstErr == nil {
						s.firstErr = err
					}
					mu.Unlock()
					continue
				}
				ops.Add(1)
				lat = append(lat, el)
			}
			mu.Lock()
			s.lat = append(s.lat, lat...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	s.elapsed = time.Since(t0)
	s.cpu = t.cpu() - cpu0
	s.ops, s.errs = ops.Load(), errs.Load()
	return s
}

// rate prints ops/s with three significant digits below 100 (64 MiB
// transfers run at a few per second).
func rate(r float64) string {
	if r >= 100 {
		return fmt.Sprintf("%.0f", r)
	}
	return fmt.Sprintf("%.3g", r)
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	xs = slices.Clone(xs)
	sort.Float64s(xs)
	return xs[len(xs)/2]
}

type figures struct {
	rate, p50, p99, cpu float64 // ops/s, ms, ms, ms per op
	ops                 int64
}

func summarise(ss []sample) (f figures, ok bool) {
	var rates, cpus []float64
	var lat []time.Duration
	for _, s := range ss {
		f.ops += s.ops
		if s.ops == 0 {
			continue
		}
		rates = append(rates, float64(s.ops)/s.elapsed.Seconds())
		cpus = append(cpus, float64(s.cpu)/float64(time.Millisecond)/float64(s.ops))
		lat = append(lat, s.lat...)
	}
	if len(rates) == 0 {
		return f, false
	}
	slices.Sort(lat)
	q := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))]) / float64(time.Millisecond) }
	return figures{rate: median(rates), p50: q(0.50), p99: q(0.99), cpu: median(cpus), ops: f.ops}, true
}

// report prints one operation's table (markdown) and its ratios.
func report(o op, counts []int, ts []*target, cells map[cellKey][]sample) {
	fmt.Printf("\n### %s (`%s`)\n", o.title, o.name)
	for _, n := range counts {
		fmt.Println()
		fmt.Println("| clients | server | ops/s | p50 ms | p99 ms | server CPU ms/op | CPU/op ÷ wharf's |")
		fmt.Println("|---|---|---|---|---|---|---|")
		base, haveBase := summarise(cells[cellKey{o.name, n, "wharf"}])
		var notes []string
		for _, t := range ts {
			f, ok := summarise(cells[cellKey{o.name, n, t.name}])
			if !ok {
				continue
			}
			ratio := "-"
			if haveBase && base.cpu > 0 {
				ratio = fmt.Sprintf("%.2fx", f.cpu/base.cpu)
			}
			fmt.Printf("| %d | %s | %s | %.2f | %.2f | %.3f | %s |\n", n, t.name, rate(f.rate), f.p50, f.p99, f.cpu, ratio)
		}
		if !haveBase {
			continue
		}
		if null, ok := summarise(cells[cellKey{o.name, n, "null"}]); ok && null.cpu > 0 {
			notes = append(notes, fmt.Sprintf("wharf CPU/op = %.2fx the null server's", base.cpu/null.cpu))
		}
		if d, ok := summarise(cells[cellKey{o.name, n, "wharf-durable"}]); ok && base.cpu > 0 {
			notes = append(notes, fmt.Sprintf("durable = %.2fx in-memory CPU/op, %.2fx its throughput", d.cpu/base.cpu, d.rate/base.rate))
		}
		bm, okm := summarise(cells[cellKey{o.name, n, "wharf-baseline"}])
		if bd, ok := summarise(cells[cellKey{o.name, n, "wharf-baseline-durable"}]); ok && okm && bm.cpu > 0 {
			notes = append(notes, fmt.Sprintf("baseline durable = %.2fx its in-memory CPU/op", bd.cpu/bm.cpu))
		}
		best, bestName := 0.0, ""
		for _, t := range ts {
			switch t.name {
			case "wharf", "wharf-durable", "wharf-baseline", "wharf-baseline-durable", "null":
				continue
			}
			if f, ok := summarise(cells[cellKey{o.name, n, t.name}]); ok && (bestName == "" || f.cpu < best) {
				best, bestName = f.cpu, t.name
			}
			if f, ok := summarise(cells[cellKey{o.name, n, t.name}]); ok && f.rate > 0 {
				notes = append(notes, fmt.Sprintf("throughput %.1fx %s's", base.rate/f.rate, t.name))
			}
		}
		if bestName != "" && base.cpu > 0 {
			notes = append(notes, fmt.Sprintf("best peer by CPU/op: %s, %.2fx wharf's", bestName, best/base.cpu))
		}
		if len(notes) > 0 {
			fmt.Printf("\n%d client(s): %s.\n", n, strings.Join(notes, "; "))
		}
	}
}
