// Command events measures EventBridge, on wharf and on moto's server side by
// side in the same run:
//
//   - PutEvents-to-SQS delivery latency, p50 and p99: a rule on the default bus
//     targets an SQS queue; each sample is one PutEvents followed by a
//     long-polling ReceiveMessage on the queue, timed from before PutEvents to
//     the message's receipt (target: wharf's p50 under 5 ms and at least 50x
//     moto's);
//   - PutEvents requests per second (one enabled rule, 8 concurrent clients);
//   - PutEvents on a durable store against in memory, in rounds alternating
//     the two (and, with -baseline, an older wharf binary's two), for an
//     event that matches the rule and one that matches nothing: requests per
//     second, server CPU per request from /proc, and the ratios durable /
//     in memory (target: durable at least 0.7x in-memory throughput);
//   - in process, events matched per second on one core against buses of 1, 10,
//     100, 1,000 and 10,000 rules, and the ratio of the cost at 10,000 rules to
//     the cost at 10 (whether cost grows with the number of rules; target:
//     under 3x), for rules told apart by an exact value and for rules told
//     apart only by a prefix.
//
// It prints numbers and ratios and asserts nothing.
//
//	go run ./bench/events [-duration 5s] [-clients 8] [-samples 500] [-rounds 3]
//	    [-baseline path/to/older/wharf] [-durable-only]
package main

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/wharf-dev/wharf/bench/internal/benchkit"
	"github.com/wharf-dev/wharf/internal/pattern"
)

func main() {
	duration := flag.Duration("duration", 5*time.Second, "how long to drive each server")
	clients := flag.Int("clients", 8, "concurrent clients")
	samples := flag.Int("samples", 500, "PutEvents-to-SQS deliveries timed on each server")
	rounds := flag.Int("rounds", 3, "rounds of the durable / in-memory comparison")
	baseline := flag.String("baseline", "", "an older wharf binary measured beside this one in the durable / in-memory comparison")
	durableOnly := flag.Bool("durable-only", false, "run only the durable / in-memory comparison")
	flag.Parse()
	// "On one core": the in-process matching runs on one P; the servers get
	// the machine back below.
	if !*durableOnly {
		procs := runtime.GOMAXPROCS(1)
		fmt.Println("matching one S3 Object Created event (parse + match), in process, one core:")
		matching("rules: one per bucket (exact) with a key prefix, plus one suffix rule", rules)
		matching("rules: only prefixes on the object key (no exact field), plus one suffix rule", prefixRules)
		runtime.GOMAXPROCS(procs)
	}

	bin, err := benchkit.BuildWharf()
	if err != nil {
		fail(err)
	}
	defer os.RemoveAll(filepath.Dir(bin))
	wharf := server{"wharf", func(port int) *exec.Cmd {
		return exec.Command(bin, "serve", "--ephemeral", "--listen", fmt.Sprintf("127.0.0.1:%d", port), "--log-level", "warn")
	}, "/_wharf/health"}
	dataDir, err := os.MkdirTemp("", "wharf-bench-data")
	if err != nil {
		fail(err)
	}
	defer os.RemoveAll(dataDir)
	// The same binary with a durable store: every acknowledged PutEvents and
	// SendMessage is fsynced before its answer, which moto never does.
	durable := server{"wharf --data-dir", func(port int) *exec.Cmd {
		return exec.Command(bin, "serve", "--data-dir", dataDir, "--listen", fmt.Sprintf("127.0.0.1:%d", port), "--log-level", "warn")
	}, "/_wharf/health"}
	moto := server{"moto", func(port int) *exec.Cmd {
		return exec.Command("python3", "-m", "moto.server", "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	}, "/moto-api/"}

	pairs := []pair{{"wharf", bin}}
	if *baseline != "" {
		pairs = append(pairs, pair{"baseline", *baseline})
	}
	if err := durability(pairs, dataDir, *rounds, *duration, *clients); err != nil {
		fail(err)
	}
	if *durableOnly {
		return
	}

	wl, err := latency(wharf, *samples)
	if err != nil {
		fail(err)
	}
	dl, err := latency(durable, *samples)
	if err != nil {
		fail(err)
	}
	ml, err := latency(moto, *samples)
	if err != nil {
		fail(err)
	}
	fmt.Printf("\nPutEvents → rule → SQS target → ReceiveMessage (long poll), %d samples each:\n", *samples)
	fmt.Printf("  wharf --ephemeral  p50 %8.2f ms  p99 %8.2f ms\n", ms(wl.p50), ms(wl.p99))
	fmt.Printf("  wharf --data-dir   p50 %8.2f ms  p99 %8.2f ms   (fsynced)\n", ms(dl.p50), ms(dl.p99))
	fmt.Printf("  moto               p50 %8.2f ms  p99 %8.2f ms\n", ms(ml.p50), ms(ml.p99))
	fmt.Printf("ratio: wharf --ephemeral is %.1fx faster than moto at p50, %.1fx at p99 (targets: p50 < 5 ms, >= 50x)\n",
		float64(ml.p50)/float64(wl.p50), float64(ml.p99)/float64(wl.p99))
	fmt.Printf("ratio: wharf --data-dir  is %.1fx faster than moto at p50, %.1fx at p99\n",
		float64(ml.p50)/float64(dl.p50), float64(ml.p99)/float64(dl.p99))

	w, err := drive(wharf, *duration, *clients, matchingDetail)
	if err != nil {
		fail(err)
	}
	m, err := drive(moto, *duration, *clients, matchingDetail)
	if err != nil {
		fail(err)
	}
	fmt.Printf("\nPutEvents (1 entry, %d clients, %s):\n", *clients, *duration)
	fmt.Printf("  wharf %10.0f req/s (%d errors)\n  moto  %10.0f req/s (%d errors)\n", w.rps, w.errors, m.rps, m.errors)
	fmt.Printf("ratio: wharf %.1fx moto's PutEvents/s\n", w.rps/m.rps)
}

// matching prints events matched per second against buses of 1 to 10,000
// rules made by mk, and the ratio of the cost at 10,000 rules to that at 10.
func matching(title string, mk func(int) *pattern.Set) {
	fmt.Println(" ", title)
	var base, at10k float64
	for _, n := range []int{1, 10, 100, 1000, 10000} {
		set := mk(n)
		r := testing.Benchmark(func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				ev, err := pattern.ParseEvent(s3Event)
				if err != nil || len(set.Match(ev)) == 0 {
					b.Fatal("no match")
				}
			}
		})
		ns := float64(r.T.Nanoseconds()) / float64(r.N)
		switch n {
		case 10:
			base = ns
		case 10000:
			at10k = ns
		}
		fmt.Printf("    rules=%-6d %8.0f ns/event %10.0f events/s", n, ns, 1e9/ns)
		if base > 0 {
			fmt.Printf("   %.2fx the cost at 10 rules", ns/base)
		}
		fmt.Println()
	}
	fmt.Printf("  ratio: cost per event at 10,000 rules / at 10 rules = %.2fx (target < 3x)\n", at10k/base)
}

var s3Event = []byte(`{"version":"0","id":"17793124-05d4-b198-2fde-7ededc63b103","detail-type":"Object Created","source":"aws.s3","account":"123456789012","time":"2021-11-12T00:00:00Z","region":"us-east-1","resources":["arn:aws:s3:::bucket-7"],"detail":{"version":"0","bucket":{"name":"bucket-7"},"object":{"key":"in/photo.png","size":5,"etag":"b1946ac92492d2347c6235b4d2611184"},"request-id":"N4N7GDK58NMKJ12R","requester":"123456789012","reason":"PutObject"}}`)

// rules builds a bus of n rules: one per bucket, each also filtering on a key
// prefix, plus one suffix rule that has no exact field to be indexed by.
func rules(n int) *pattern.Set {
	set := &pattern.Set{}
	for i := 0; i < n-1; i++ {
		set.Put(fmt.Sprintf("bucket-%d", i), pattern.MustCompile(fmt.Sprintf(
			`{"source":["aws.s3"],"detail-type":["Object Created"],"detail":{"bucket":{"name":["bucket-%d"]},"object":{"key":[{"prefix":"in/"}]}}}`, i)))
	}
	set.Put("png", pattern.MustCompile(`{"detail":{"object":{"key":[{"suffix":".png"}]}}}`))
	ev, _ := pattern.ParseEvent(s3Event)
	set.Match(ev) // build the index before timing
	return set
}

// prefixRules builds a bus of n rules that no exact value tells apart: each
// filters on its own key prefix (a folder per tenant), plus one suffix rule.
func prefixRules(n int) *pattern.Set {
	set := &pattern.Set{}
	for i := 0; i < n-1; i++ {
		set.Put(fmt.Sprintf("folder-%d", i), pattern.MustCompile(fmt.Sprintf(
			`{"source":[{"prefix":"aws."}],"detail":{"object":{"key":[{"prefix":"in-%d/"}]}}}`, i)))
	}
	set.Put("png", pattern.MustCompile(`{"detail":{"object":{"key":[{"suffix":".png"}]}}}`))
	ev, _ := pattern.ParseEvent(s3Event)
	set.Match(ev)
	return set
}

type result struct {
	rps    float64
	errors int64
	cpu    time.Duration // the server's CPU time per request
}

// pair is a wharf binary, run in memory and on a durable store.
type pair struct{ name, bin string }

// The details of the benchmark's events: the first matches the rule drive
// puts, the second matches nothing.
const (
	matchingDetail  = `{"amount":150}`
	unmatchedDetail = `{"amount":50}`
)

// durability drives each binary in memory and durable, in rounds alternating
// them, with an event that matches the rule and one that matches nothing, and
// prints the medians and the ratios durable / in memory.
func durability(pairs []pair, dataDir string, rounds int, d time.Duration, clients int) error {
	type cell struct{ rps, cpu []float64 }
	type key struct{ pair, mode, detail string }
	cells := map[key]*cell{}
	details := []struct{ name, detail string }{{"matches a rule", matchingDetail}, {"matches nothing", unmatchedDetail}}
	n := 0
	for r := 0; r < rounds; r++ {
		for _, dt := range details {
			for _, p := range pairs {
				for _, mode := range []string{"in memory", "durable"} {
					bin := p.bin
					srv := server{p.name + " " + mode, func(port int) *exec.Cmd {
						return exec.Command(bin, "serve", "--ephemeral", "--listen", fmt.Sprintf("127.0.0.1:%d", port), "--log-level", "warn")
					}, "/_wharf/health"}
					if mode == "durable" {
						n++
						dir := filepath.Join(dataDir, fmt.Sprintf("durable-%d", n))
						srv.command = func(port int) *exec.Cmd {
							return exec.Command(bin, "serve", "--data-dir", dir, "--listen", fmt.Sprintf("127.0.0.1:%d", port), "--log-level", "warn")
						}
					}
					res, err := drive(srv, d, clients, dt.detail)
					if err != nil {
						return err
					}
					k := key{p.name, mode, dt.name}
					if cells[k] == nil {
						cells[k] = &cell{}
					}
					cells[k].rps = append(cells[k].rps, res.rps)
					cells[k].cpu = append(cells[k].cpu, ms(res.cpu))
				}
			}
		}
	}
	median := func(xs []float64) float64 { xs = slices.Clone(xs); slices.Sort(xs); return xs[len(xs)/2] }
	fmt.Printf("\nPutEvents (1 entry, %d clients, %s per run, median of %d rounds), durable vs in memory:\n", clients, d, rounds)
	for _, dt := range details {
		fmt.Printf("  event %s:\n", dt.name)
		for _, p := range pairs {
			mem, dur := cells[key{p.name, "in memory", dt.name}], cells[key{p.name, "durable", dt.name}]
			fmt.Printf("    %-8s in memory %8.0f req/s %7.3f ms CPU/req   durable %8.0f req/s %7.3f ms CPU/req   durable/in memory: %.2fx throughput, %.2fx CPU/req\n",
				p.name, median(mem.rps), median(mem.cpu), median(dur.rps), median(dur.cpu),
				median(dur.rps)/median(mem.rps), median(dur.cpu)/median(mem.cpu))
		}
	}
	fmt.Println("  (targets: durable >= 0.7x in-memory throughput; durable <= 1.5x in-memory CPU/req)")
	return nil
}

// cpuTime is a process's user and system CPU time so far, from
// /proc/<pid>/stat (fields 14 and 15, in clock ticks of 1/100 s).
func cpuTime(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(u+st) * 10 * time.Millisecond
}

// server is a program serving AWS APIs on a port, and the path that answers
// once it is ready.
type server struct {
	name    string
	command func(port int) *exec.Cmd
	health  string
}

// start runs srv on a free port and waits until it answers; stop ends it.
func start(srv server) (base string, cmd *exec.Cmd, stop func(), err error) {
	port, err := benchkit.FreePort()
	if err != nil {
		return "", nil, nil, err
	}
	cmd = srv.command(port)
	if err := cmd.Start(); err != nil {
		return "", nil, nil, fmt.Errorf("%s: %w", srv.name, err)
	}
	stop = func() {
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	}
	base = fmt.Sprintf("http://127.0.0.1:%d", port)
	t0 := time.Now()
	for {
		resp, err := http.Get(base + srv.health)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode < 500 {
				return base, cmd, stop, nil
			}
		}
		if time.Since(t0) > 60*time.Second {
			stop()
			return "", nil, nil, fmt.Errorf("%s did not become ready", srv.name)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// drive runs PutEvents of one event with the given detail from clients
// clients for d, after a rule on the default bus.
func drive(srv server, d time.Duration, clients int, detail string) (result, error) {
	var r result
	name := srv.name
	base, cmd, stop, err := start(srv)
	if err != nil {
		return r, err
	}
	defer stop()
	c := eventbridge.New(eventbridge.Options{
		BaseEndpoint: aws.String(base), Region: "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""),
		HTTPClient:  &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}},
	})
	ctx := context.Background()
	if _, err := c.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("orders"), EventPattern: aws.String(`{"source":["com.example"],"detail":{"amount":[{"numeric":[">",100]}]}}`)}); err != nil {
		return r, fmt.Errorf("%s PutRule: %w", name, err)
	}
	entry := []types.PutEventsRequestEntry{{Source: aws.String("com.example"), DetailType: aws.String("Order"), Detail: aws.String(detail)}}
	var n, errs atomic.Int64
	cpu0 := cpuTime(cmd.Process.Pid)
	dctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var wg sync.WaitGroup
	t0 := time.Now()
	for i := 0; i < clients; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for dctx.Err() == nil {
				out, err := c.PutEvents(dctx, &eventbridge.PutEventsInput{Entries: entry})
				if err != nil || out.FailedEntryCount != 0 {
					if dctx.Err() == nil {
						errs.Add(1)
					}
					continue
				}
				n.Add(1)
			}
		}()
	}
	wg.Wait()
	r.rps, r.errors = float64(n.Load())/time.Since(t0).Seconds(), errs.Load()
	if n.Load() > 0 {
		r.cpu = (cpuTime(cmd.Process.Pid) - cpu0) / time.Duration(n.Load())
	}
	return r, nil
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "bench:", err)
	os.Exit(1)
}

type quantiles struct{ p50, p99 time.Duration }

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// latency times n deliveries through srv: PutEvents on the default bus, a rule
// whose target is an SQS queue, and a long-polling ReceiveMessage on that
// queue. Each sample runs from before PutEvents to the receipt of the message;
// the message is then deleted outside the timing. A few unmeasured rounds warm
// up connections first.
func latency(srv server, n int) (quantiles, error) {
	var q quantiles
	base, _, stop, err := start(srv)
	if err != nil {
		return q, err
	}
	defer stop()
	creds := credentials.NewStaticCredentialsProvider("test", "test", "")
	eb := eventbridge.New(eventbridge.Options{BaseEndpoint: aws.String(base), Region: "us-east-1", Credentials: creds})
	sq := sqs.New(sqs.Options{BaseEndpoint: aws.String(base), Region: "us-east-1", Credentials: creds})
	ctx := context.Background()
	qu, err := sq.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("delivered")})
	if err != nil {
		return q, fmt.Errorf("%s CreateQueue: %w", srv.name, err)
	}
	attrs, err := sq.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: qu.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{"QueueArn"}})
	if err != nil {
		return q, fmt.Errorf("%s GetQueueAttributes: %w", srv.name, err)
	}
	if _, err := eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("orders"), EventPattern: aws.String(`{"source":["com.example"],"detail-type":["Order"]}`)}); err != nil {
		return q, fmt.Errorf("%s PutRule: %w", srv.name, err)
	}
	if _, err := eb.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String("orders"), Targets: []types.Target{{Id: aws.String("q"), Arn: aws.String(attrs.Attributes["QueueArn"])}}}); err != nil {
		return q, fmt.Errorf("%s PutTargets: %w", srv.name, err)
	}
	entry := []types.PutEventsRequestEntry{{Source: aws.String("com.example"), DetailType: aws.String("Order"), Detail: aws.String(`{"amount":150}`)}}
	const warmup = 5
	var ds []time.Duration
	for i := 0; i < n+warmup; i++ {
		t0 := time.Now()
		out, err := eb.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: entry})
		if err != nil || out.FailedEntryCount != 0 {
			return q, fmt.Errorf("%s PutEvents: %v", srv.name, err)
		}
		got, err := sq.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: qu.QueueUrl, WaitTimeSeconds: 10, MaxNumberOfMessages: 1})
		if err != nil {
			return q, fmt.Errorf("%s ReceiveMessage: %w", srv.name, err)
		}
		if len(got.Messages) != 1 {
			return q, fmt.Errorf("%s: the event did not reach the queue within 10 s", srv.name)
		}
		d := time.Since(t0)
		if i >= warmup {
			ds = append(ds, d)
		}
		if _, err := sq.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: qu.QueueUrl, ReceiptHandle: got.Messages[0].ReceiptHandle}); err != nil {
			return q, fmt.Errorf("%s DeleteMessage: %w", srv.name, err)
		}
	}
	slices.Sort(ds)
	q.p50, q.p99 = ds[len(ds)/2], ds[len(ds)*99/100]
	return q, nil
}
