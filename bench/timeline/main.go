// Command timeline measures what a console reading the timeline costs the
// requests it watches: SendMessage's latency at -clients concurrent clients,
// alone and while one more client lists a queue's timeline every 10 ms
// (GET /_wharf/api/timeline?resource=, the console's queue page), with the
// timeline holding its 10,000 entries. SQS records each send on the
// timeline inside its store update, so whatever holds the timeline's lock
// holds up every write. It prints p50, p99 and max per phase, and the
// lists answered; it asserts nothing (a benchmark, not a test). A wharf
// from before stop 34 kept up to a quarter more entries between trims
// than its limit, and copied them within their array at each trim: a
// -baseline that old is measured with both.
//
//	go run ./bench/timeline [-duration 3s] [-clients 8] [-rounds 3] [-baseline OLD_WHARF]
//
// -baseline measures an older wharf binary beside the one built from the
// tree, rounds alternating.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	sdksqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/wharf-dev/wharf/bench/internal/benchkit"
)

func main() {
	duration := flag.Duration("duration", 3*time.Second, "how long each phase sends")
	clients := flag.Int("clients", 8, "concurrent SendMessage clients")
	rounds := flag.Int("rounds", 3, "rounds per binary, alternating")
	baseline := flag.String("baseline", "", "an older wharf binary to measure beside, in the same run")
	flag.Parse()

	bin, err := benchkit.BuildWharf()
	if err != nil {
		fail(err)
	}
	defer os.RemoveAll(filepath.Dir(bin))
	bins := []struct{ name, path string }{{"wharf", bin}}
	if *baseline != "" {
		bins = append(bins, struct{ name, path string }{"baseline", *baseline})
	}
	fmt.Printf("SendMessage at %d clients, %s a phase, the timeline full (10,000 entries)\n", *clients, *duration)
	fmt.Printf("%-9s %-5s %-16s %8s %8s %8s %10s %8s\n", "binary", "round", "phase", "p50_ms", "p99_ms", "max_ms", "sends", "lists")
	for r := 1; r <= *rounds; r++ {
		for _, b := range bins {
			if err := round(b.name, b.path, r, *clients, *duration); err != nil {
				fail(err)
			}
		}
	}
}

// round starts a wharf, fills its timeline, and measures both phases.
func round(name, bin string, r, clients int, d time.Duration) error {
	port, err := benchkit.FreePort()
	if err != nil {
		return err
	}
	endpoint := "http://127.0.0.1:" + strconv.Itoa(port)
	cmd := exec.Command(bin, "serve", "--ephemeral", "--listen", "127.0.0.1:"+strconv.Itoa(port), "--log-level", "warn")
	if err := cmd.Start(); err != nil {
		return err
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	if err := waitHealthy(endpoint); err != nil {
		return err
	}
	ctx := context.Background()
	c := sdksqs.New(sdksqs.Options{Region: "us-east-1", BaseEndpoint: aws.String(endpoint),
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")})
	q, err := c.CreateQueue(ctx, &sdksqs.CreateQueueInput{QueueName: aws.String("work")})
	if err != nil {
		return err
	}
	if _, err := c.CreateQueue(ctx, &sdksqs.CreateQueueInput{QueueName: aws.String("watched")}); err != nil {
		return err
	}
	// Fill the timeline: 10,000 entries, the default limit.
	for range 10000 / 10 {
		entries := make([]types.SendMessageBatchRequestEntry, 10)
		for i := range entries {
			entries[i] = types.SendMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), MessageBody: aws.String("fill")}
		}
		if _, err := c.SendMessageBatch(ctx, &sdksqs.SendMessageBatchInput{QueueUrl: q.QueueUrl, Entries: entries}); err != nil {
			return err
		}
	}
	watched := endpoint + "/_wharf/api/timeline?resource=arn:aws:sqs:us-east-1:000000000000:watched&limit=50"
	// The phases take turns going first, as the queue (and the heap) grow
	// through a round.
	order := []bool{false, true}
	if r%2 == 0 {
		order = []bool{true, false}
	}
	for _, listing := range order {
		phase := "alone"
		if listing {
			phase = "console listing"
		}
		lat, lists, err := sends(ctx, c, *q.QueueUrl, clients, d, listing, watched)
		if err != nil {
			return err
		}
		slices.Sort(lat)
		fmt.Printf("%-9s %-5d %-16s %8.2f %8.2f %8.2f %10d %8d\n", name, r, phase,
			ms(lat[len(lat)/2]), ms(lat[len(lat)*99/100]), ms(lat[len(lat)-1]), len(lat), lists)
	}
	return nil
}

// sends drives SendMessage from clients goroutines for d, with one more
// goroutine listing the timeline when listing is set, and returns every
// send's latency and the lists answered.
func sends(ctx context.Context, c *sdksqs.Client, url string, clients int, d time.Duration, listing bool, list string) ([]time.Duration, int64, error) {
	deadline := time.Now().Add(d)
	var mu sync.Mutex
	var all []time.Duration
	var lists atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	if listing {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tick := time.NewTicker(listEvery)
			defer tick.Stop()
			for time.Now().Before(deadline) {
				<-tick.C
				resp, err := http.Get(list)
				if err != nil {
					firstErr.CompareAndSwap(nil, err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					firstErr.CompareAndSwap(nil, fmt.Errorf("timeline list: %s", resp.Status))
					return
				}
				lists.Add(1)
			}
		}()
	}
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			for time.Now().Before(deadline) {
				t0 := time.Now()
				if _, err := c.SendMessage(ctx, &sdksqs.SendMessageInput{QueueUrl: &url, MessageBody: aws.String("hello")}); err != nil {
					firstErr.CompareAndSwap(nil, err)
					return
				}
				mine = append(mine, time.Since(t0))
			}
			mu.Lock()
			all = append(all, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	if err, _ := firstErr.Load().(error); err != nil {
		return nil, 0, err
	}
	if len(all) == 0 {
		return nil, 0, fmt.Errorf("no send finished")
	}
	return all, lists.Load(), nil
}

// listEvery is how often the console's client lists the timeline: a fixed
// rate, so that a faster List does not buy more of them (and more CPU)
// than a slower one.
const listEvery = 10 * time.Millisecond

func waitHealthy(endpoint string) error {
	for range 500 {
		if resp, err := http.Get(endpoint + "/_wharf/health"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	return fmt.Errorf("wharf at %s did not become healthy", endpoint)
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func fail(err error) {
	fmt.Fprintln(os.Stderr, "timeline:", err)
	os.Exit(1)
}
