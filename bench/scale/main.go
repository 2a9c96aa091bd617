// Command scale prints how the cost of operations changes with the data
// wharf holds, where AWS's does not: for each size (messages in a queue), a
// fresh wharf is filled and each operation is timed, printing size → p50,
// p99, server CPU per operation (from /proc) and RSS. -baseline adds an older
// wharf binary, measured the same way in the same run.
//
// Curves:
//   - fifo-receive: ReceiveMessage of the one message of a new group, from a
//     FIFO queue whose other N messages are in one group blocked by its first
//     message in flight (the send of that message is in the CPU figure);
//   - send-beside-fifo: SendMessage to an unrelated queue while those
//     receives run (a receive used to hold the store's write path);
//   - attrs-delayed: GetQueueAttributes of a queue of N delayed messages;
//   - attrs-visible: GetQueueAttributes of a queue of N visible messages.
//
// With -groups (default all), more curves, each group on a fresh wharf per
// size:
//   - ecs (N stopped tasks in a cluster, 5 running beside them):
//     ecs-list-running (ListTasks), ecs-list-family (ListTasks --family),
//     ecs-list-stopped-page (ListTasks --desired-status STOPPED, first 100),
//     ecs-describe-clusters (its task counts), ecs-restart (process start
//     to first health answer of wharf restarted on the store, 5 restarts;
//     CPU is the new process's to that point; not with -ephemeral);
//   - taskdefs (N revisions of one family, 3 of another):
//     ecs-list-taskdefs (first page of the big family), ecs-list-families;
//   - events (N rules on the default bus, always in memory):
//     events-put (PutEvents matching one rule), events-put-after-rule-change
//     (PutEvents right after a PutRule changed one rule; CPU includes the
//     PutRule);
//   - cloudwatch (N metrics differing by a QueueName dimension):
//     cw-list-metrics-dimension (ListMetrics filtered on one queue).
//
// It asserts nothing and stops by itself. From the module root:
// go run ./bench/scale [-sizes 1000,10000,100000] [-groups sqs,ecs,taskdefs,events,cloudwatch] [-ephemeral] [-baseline BIN]
package main

import (
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
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/wharf-dev/wharf/bench/internal/benchkit"
)

var (
	sizesF    = flag.String("sizes", "1000,10000,100000", "comma-separated numbers of stored messages")
	ephemeral = flag.Bool("ephemeral", false, "run wharf in memory (default: durable, in a temporary directory)")
	samples   = flag.Int("samples", 100, "operations timed per curve and size")
	wharfBin  = flag.String("wharf", "", "wharf binary (default: build ./cmd/wharf)")
	baseline  = flag.String("baseline", "", "an older wharf binary to measure beside, in the same run")
	baseMax   = flag.Int("baseline-max", 0, "largest size the baseline is measured at (0: every size); an older wharf at 100k can take very long")
	groupsF   = flag.String("groups", "sqs,ecs,taskdefs,events,cloudwatch", "comma-separated groups of curves to measure")
)

// groups are the groups of curves: each measures its curves on a fresh wharf
// holding n of what it scales.
var groups = []struct {
	name    string
	curves  []string
	measure func(bin string, n int) (map[string]point, error)
}{
	{"sqs", []string{"fifo-receive", "send-beside-fifo", "attrs-delayed", "attrs-visible"}, measure},
	{"ecs", []string{"ecs-list-running", "ecs-list-family", "ecs-list-stopped-page", "ecs-describe-clusters", "ecs-restart"}, measureECS},
	{"taskdefs", []string{"ecs-list-taskdefs", "ecs-list-families"}, measureTaskDefs},
	{"events", []string{"events-put", "events-put-after-rule-change"}, measureEvents},
	{"cloudwatch", []string{"cw-list-metrics-dimension"}, measureCloudWatch},
}

type point struct {
	p50, p99, cpu time.Duration
	rss           float64
}

func main() {
	flag.Parse()
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "scale:", err)
		os.Exit(1)
	}
}

func run() error {
	var sizes []int
	for _, s := range strings.Split(*sizesF, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 10 {
			return fmt.Errorf("-sizes %q: want numbers of 10 or more", *sizesF)
		}
		sizes = append(sizes, n/10*10)
	}
	bin := *wharfBin
	if bin == "" {
		var err error
		if bin, err = benchkit.BuildWharf(); err != nil {
			return err
		}
	}
	bins := []struct{ name, path string }{{"wharf", bin}}
	if *baseline != "" {
		bins = append(bins, struct{ name, path string }{"baseline", *baseline})
	}
	var curves []string
	type group = struct {
		name    string
		curves  []string
		measure func(bin string, n int) (map[string]point, error)
	}
	var chosen []group
	for _, g := range groups {
		if slices.Contains(strings.Split(*groupsF, ","), g.name) {
			chosen = append(chosen, g)
			curves = append(curves, g.curves...)
		}
	}
	if len(chosen) == 0 {
		return fmt.Errorf("-groups %q: no such group", *groupsF)
	}
	res := map[string]map[string]map[int]point{} // binary → curve → size
	for _, b := range bins {
		res[b.name] = map[string]map[int]point{}
		for _, c := range curves {
			res[b.name][c] = map[int]point{}
		}
	}
	for _, n := range sizes {
		for _, g := range chosen {
			for _, b := range bins {
				if b.name == "baseline" && *baseMax > 0 && n > *baseMax {
					continue
				}
				fmt.Fprintf(os.Stderr, "%s, %s at %d...\n", b.name, g.name, n)
				pts, err := g.measure(b.path, n)
				if err != nil {
					return fmt.Errorf("%s, %s at %d: %w", b.name, g.name, n, err)
				}
				for _, c := range g.curves {
					if p, ok := pts[c]; ok {
						res[b.name][c][n] = p
						// Each point as it comes, so that a long run cut short still says something.
						fmt.Fprintf(os.Stderr, "| %s | %s | %d | %.2f | %.2f | %.3f | %.0f |\n", c, b.name, n, ms(p.p50), ms(p.p99), ms(p.cpu), p.rss)
					}
				}
			}
		}
	}
	mode := "durable"
	if *ephemeral {
		mode = "in memory"
	}
	fmt.Printf("wharf %s, %d samples per point\n", mode, *samples)
	for _, c := range curves {
		fmt.Printf("\n%s\n\n| binary | size | p50 ms | p99 ms | server CPU ms/op | RSS MiB |\n|---|---|---|---|---|---|\n", c)
		for _, b := range bins {
			for _, n := range sizes {
				p, ok := res[b.name][c][n]
				if !ok {
					continue
				}
				fmt.Printf("| %s | %d | %.2f | %.2f | %.3f | %.0f |\n", b.name, n, ms(p.p50), ms(p.p99), ms(p.cpu), p.rss)
			}
		}
	}
	return nil
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// measure starts bin, fills it with n messages per queue and times every curve.
func measure(bin string, n int) (map[string]point, error) {
	dir, err := os.MkdirTemp("", "wharf-scale")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	port, err := benchkit.FreePort()
	if err != nil {
		return nil, err
	}
	args := []string{"serve", "--listen", fmt.Sprintf("127.0.0.1:%d", port), "--log-level", "warn"}
	if *ephemeral {
		args = append(args, "--ephemeral")
	} else {
		args = append(args, "--data-dir", filepath.Join(dir, "data"))
	}
	cmd := exec.Command(bin, args...)
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	}()
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	for t0 := time.Now(); ; time.Sleep(10 * time.Millisecond) {
		if resp, err := http.Get(base + "/_wharf/health"); err == nil {
			resp.Body.Close()
			break
		}
		if time.Since(t0) > time.Minute {
			return nil, fmt.Errorf("wharf did not start")
		}
	}
	pid := cmd.Process.Pid
	c := sqs.New(sqs.Options{BaseEndpoint: aws.String(base), Region: "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""), RetryMaxAttempts: 1,
		HTTPClient: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}})
	ctx := context.Background()
	mk := func(name string, attrs map[string]string) (string, error) {
		out, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: &name, Attributes: attrs})
		if err != nil {
			return "", err
		}
		return *out.QueueUrl, nil
	}
	fifo, err := mk("scale.fifo", map[string]string{"FifoQueue": "true", "ContentBasedDeduplication": "true"})
	if err != nil {
		return nil, err
	}
	delayed, err := mk("delayed", nil)
	if err != nil {
		return nil, err
	}
	visible, err := mk("visible", nil)
	if err != nil {
		return nil, err
	}
	other, err := mk("other", nil)
	if err != nil {
		return nil, err
	}
	// Fill, 4 senders at a time.
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := w; b < n/10; b += 4 {
				var fe, de, ve []types.SendMessageBatchRequestEntry
				for i := 0; i < 10; i++ {
					id, body := strconv.Itoa(i), fmt.Sprintf("message %d of batch %d", i, b)
					fe = append(fe, types.SendMessageBatchRequestEntry{Id: &id, MessageBody: &body, MessageGroupId: aws.String("big")})
					de = append(de, types.SendMessageBatchRequestEntry{Id: &id, MessageBody: &body, DelaySeconds: 900})
					ve = append(ve, types.SendMessageBatchRequestEntry{Id: &id, MessageBody: &body})
				}
				for _, q := range []struct {
					url string
					e   []types.SendMessageBatchRequestEntry
				}{{fifo, fe}, {delayed, de}, {visible, ve}} {
					if _, err := c.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: &q.url, Entries: q.e}); err != nil {
						errs <- err
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	select {
	case err := <-errs:
		return nil, fmt.Errorf("fill: %w", err)
	default:
	}
	pts := map[string]point{}
	timed := func(f func() error) (point, error) {
		var lat []time.Duration
		cpu0 := benchkit.ProcCPU(pid)
		for i := 0; i < *samples; i++ {
			t0 := time.Now()
			if err := f(); err != nil {
				return point{}, err
			}
			lat = append(lat, time.Since(t0))
		}
		cpu := (benchkit.ProcCPU(pid) - cpu0) / time.Duration(*samples)
		return summarise(lat, cpu, benchkit.ProcRSS(pid)), nil
	}
	// Block the big group: its first message goes in flight.
	if out, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &fifo, MaxNumberOfMessages: 1, VisibilityTimeout: 900}); err != nil || len(out.Messages) != 1 {
		return nil, fmt.Errorf("first FIFO receive: %v", err)
	}
	seq := 0
	var lat []time.Duration
	receive := func(timedOnly bool) error {
		seq++
		if _, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &fifo, MessageBody: aws.String("small " + strconv.Itoa(seq)), MessageGroupId: aws.String("s" + strconv.Itoa(seq))}); err != nil {
			return err
		}
		t0 := time.Now()
		out, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &fifo, MaxNumberOfMessages: 1, VisibilityTimeout: 900})
		if timedOnly {
			lat = append(lat, time.Since(t0))
		}
		if err == nil && len(out.Messages) != 1 {
			err = fmt.Errorf("FIFO receive got %d messages", len(out.Messages))
		}
		return err
	}
	cpu0 := benchkit.ProcCPU(pid)
	for i := 0; i < *samples; i++ {
		if err := receive(true); err != nil {
			return nil, err
		}
	}
	pts["fifo-receive"] = summarise(lat, (benchkit.ProcCPU(pid)-cpu0)/time.Duration(*samples), benchkit.ProcRSS(pid))
	// Sends to another queue while receives run.
	stop := make(chan struct{})
	recvDone := make(chan error, 1)
	go func() {
		for {
			select {
			case <-stop:
				recvDone <- nil
				return
			default:
			}
			if err := receive(false); err != nil {
				recvDone <- err
				return
			}
		}
	}()
	lat = nil
	for i := 0; i < *samples; i++ {
		t0 := time.Now()
		if _, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &other, MessageBody: aws.String("beside")}); err != nil {
			close(stop)
			return nil, err
		}
		lat = append(lat, time.Since(t0))
	}
	close(stop)
	if err := <-recvDone; err != nil {
		return nil, err
	}
	pts["send-beside-fifo"] = summarise(lat, 0, benchkit.ProcRSS(pid))
	attrs := func(u string) func() error {
		return func() error {
			out, err := c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: &u, AttributeNames: []types.QueueAttributeName{"All"}})
			if err == nil && out.Attributes["ApproximateNumberOfMessages"] == "" {
				err = fmt.Errorf("no ApproximateNumberOfMessages")
			}
			return err
		}
	}
	if pts["attrs-delayed"], err = timed(attrs(delayed)); err != nil {
		return nil, err
	}
	if pts["attrs-visible"], err = timed(attrs(visible)); err != nil {
		return nil, err
	}
	return pts, nil
}

func summarise(lat []time.Duration, cpu time.Duration, rss float64) point {
	slices.Sort(lat)
	q := func(p float64) time.Duration { return lat[int(p*float64(len(lat)-1))] }
	return point{p50: q(0.5), p99: q(0.99), cpu: cpu, rss: rss}
}
