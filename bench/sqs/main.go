// Command sqs measures SQS message throughput side by side with moto's server
// in the same run: SendMessage, SendMessageBatch (10 entries) and
// ReceiveMessage (10) + DeleteMessageBatch, in messages per second at 8
// concurrent clients, against wharf on a disk data directory (every
// acknowledged message fsynced, group-committed), wharf --ephemeral, and moto.
// It prints absolute numbers and ratios; it asserts nothing.
//
//	go run ./bench/sqs [-duration 5s] [-clients 8] [-only wharf-disk]
package main

import (
	"context"
	"errors"
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
	sdksqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/wharf-dev/wharf/bench/internal/benchkit"
)

// server is one peer under test.
type server struct {
	name    string
	command func(port int) *exec.Cmd
	health  string
}

// result is one server's throughput per workload, in messages per second.
type result struct {
	name                 string
	send, batch, receive float64
	errors               int64
}

func main() {
	duration := flag.Duration("duration", 5*time.Second, "how long to drive each workload")
	clients := flag.Int("clients", 8, "concurrent clients")
	only := flag.String("only", "", "measure only this server (wharf-disk, wharf-ephemeral, moto), e.g. while profiling")
	flag.Parse()

	bin, err := benchkit.BuildWharf()
	if err != nil {
		fail(err)
	}
	defer os.RemoveAll(filepath.Dir(bin))
	dataDir, err := os.MkdirTemp("", "wharf-bench-sqs-data")
	if err != nil {
		fail(err)
	}
	defer os.RemoveAll(dataDir)

	servers := []server{
		{"wharf-disk", func(port int) *exec.Cmd {
			return exec.Command(bin, "serve", "--data-dir", dataDir, "--listen", fmt.Sprintf("127.0.0.1:%d", port), "--log-level", "warn")
		}, "/_wharf/health"},
		{"wharf-ephemeral", func(port int) *exec.Cmd {
			return exec.Command(bin, "serve", "--ephemeral", "--listen", fmt.Sprintf("127.0.0.1:%d", port), "--log-level", "warn")
		}, "/_wharf/health"},
		{"moto", func(port int) *exec.Cmd {
			return exec.Command("python3", "-m", "moto.server", "-H", "127.0.0.1", "-p", strconv.Itoa(port))
		}, "/moto-api/"},
	}
	results := map[string]result{}
	var order []string
	for _, s := range servers {
		if *only != "" && s.name != *only {
			continue
		}
		r, err := measure(s, *duration, *clients)
		if err != nil {
			fail(err)
		}
		results[s.name] = r
		order = append(order, s.name)
	}

	fmt.Printf("messages/s at %d clients, %s per workload\n", *clients, *duration)
	fmt.Printf("%-16s %14s %18s %22s %7s\n", "server", "SendMessage", "SendMessageBatch", "Receive+DeleteBatch", "errors")
	for _, n := range order {
		r := results[n]
		fmt.Printf("%-16s %14.0f %18.0f %22.0f %7d\n", r.name, r.send, r.batch, r.receive, r.errors)
	}
	m, ok := results["moto"]
	if !ok {
		return
	}
	fmt.Println()
	for _, n := range order {
		if n == "moto" {
			continue
		}
		r := results[n]
		fmt.Printf("%s vs moto: SendMessage %.1fx, SendMessageBatch %.1fx, Receive+DeleteBatch %.1fx\n",
			n, r.send/m.send, r.batch/m.batch, r.receive/m.receive)
	}
	if d, ok := results["wharf-disk"]; ok {
		met := d.send >= 30*m.send && d.batch >= 30*m.batch && d.receive >= 30*m.receive
		fmt.Printf("target: >= 30x moto with every message durable (wharf-disk): %s\n", map[bool]string{true: "met", false: "missed"}[met])
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "bench:", err)
	os.Exit(1)
}

// measure starts s, runs the three workloads against it, and stops it. The
// batch workload fills the queue that the receive workload then drains.
func measure(s server, d time.Duration, clients int) (result, error) {
	r := result{name: s.name}
	port, err := benchkit.FreePort()
	if err != nil {
		return r, err
	}
	cmd := s.command(port)
	if err := cmd.Start(); err != nil {
		return r, fmt.Errorf("%s: %w", s.name, err)
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
	for start := time.Now(); ; time.Sleep(5 * time.Millisecond) {
		if resp, err := hc.Get(base + s.health); err == nil {
			resp.Body.Close()
			if resp.StatusCode < 500 {
				break
			}
		}
		if time.Since(start) > 60*time.Second {
			return r, fmt.Errorf("%s did not become ready", s.name)
		}
	}
	c := sdksqs.New(sdksqs.Options{
		BaseEndpoint: aws.String(base),
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
		HTTPClient:   &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}},
	})
	ctx := context.Background()
	mk := func(name string) (*string, error) {
		out, err := c.CreateQueue(ctx, &sdksqs.CreateQueueInput{QueueName: aws.String(name)})
		if err != nil {
			return nil, fmt.Errorf("%s CreateQueue: %w", s.name, err)
		}
		return out.QueueUrl, nil
	}
	single, err := mk("bench-single")
	if err != nil {
		return r, err
	}
	batched, err := mk("bench-batch")
	if err != nil {
		return r, err
	}
	body := aws.String(strings.Repeat("b", 256))
	var errs atomic.Int64

	r.send = drive(d, clients, &errs, func(ctx context.Context) (int, error) {
		_, err := c.SendMessage(ctx, &sdksqs.SendMessageInput{QueueUrl: single, MessageBody: body})
		return 1, err
	})
	entries := make([]types.SendMessageBatchRequestEntry, 10)
	for i := range entries {
		entries[i] = types.SendMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), MessageBody: body}
	}
	r.batch = drive(d, clients, &errs, func(ctx context.Context) (int, error) {
		out, err := c.SendMessageBatch(ctx, &sdksqs.SendMessageBatchInput{QueueUrl: batched, Entries: entries})
		if err != nil {
			return 0, err
		}
		return len(out.Successful), nil
	})
	r.receive = drive(d, clients, &errs, func(ctx context.Context) (int, error) {
		out, err := c.ReceiveMessage(ctx, &sdksqs.ReceiveMessageInput{QueueUrl: batched, MaxNumberOfMessages: 10, VisibilityTimeout: 60, WaitTimeSeconds: 1})
		if err != nil {
			return 0, err
		}
		if len(out.Messages) == 0 {
			return 0, errDrained // a 1-second long poll found nothing
		}
		del := make([]types.DeleteMessageBatchRequestEntry, len(out.Messages))
		for i, m := range out.Messages {
			del[i] = types.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: m.ReceiptHandle}
		}
		res, err := c.DeleteMessageBatch(ctx, &sdksqs.DeleteMessageBatchInput{QueueUrl: batched, Entries: del})
		if err != nil {
			return 0, err
		}
		return len(res.Successful), nil
	})
	r.errors = errs.Load()
	return r, nil
}

// errDrained ends a workload early: the queue it reads is empty.
var errDrained = errors.New("queue drained")

// drive runs op from clients goroutines for d (or until one reports
// errDrained) and returns the messages per second it completed. An op that
// is running when d ends is waited for and counted, so that a slow server's
// long calls are not thrown away.
func drive(d time.Duration, clients int, errs *atomic.Int64, op func(ctx context.Context) (int, error)) float64 {
	ctx := context.Background()
	deadline := time.Now().Add(d)
	var n atomic.Int64
	var drained atomic.Bool
	var wg sync.WaitGroup
	t0 := time.Now()
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) && !drained.Load() {
				k, err := op(ctx)
				if errors.Is(err, errDrained) {
					drained.Store(true)
					return
				}
				if err != nil {
					errs.Add(1)
					continue
				}
				n.Add(int64(k))
			}
		}()
	}
	wg.Wait()
	return float64(n.Load()) / time.Since(t0).Seconds()
}
