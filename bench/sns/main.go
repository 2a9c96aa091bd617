// Command sns measures SNS fan-out to SQS side by side with moto's server in the
// same run: Publish requests per second at 8 concurrent clients to a topic with
// one SQS subscription, and the latency from Publish to a long-polling receiver
// of the subscribed queue (p50, p99). wharf runs twice: durable (data on disk,
// every acknowledged publish fsync'd into the queue) and --ephemeral. It prints
// absolute numbers and ratios; it asserts nothing (a benchmark, not a test).
//
//	go run ./bench/sns [-duration 5s] [-clients 8] [-latency 200]
package main

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/wharf-dev/wharf/bench/internal/benchkit"
)

type result struct {
	name     string
	rps      float64
	requests int64
	errors   int64
	p50, p99 time.Duration
	received int
}

func main() {
	duration := flag.Duration("duration", 5*time.Second, "how long to publish to each server")
	clients := flag.Int("clients", 8, "concurrent publishing clients")
	latencyN := flag.Int("latency", 200, "messages timed from Publish to receive")
	flag.Parse()

	bin, err := benchkit.BuildWharf()
	if err != nil {
		fail(err)
	}
	defer os.RemoveAll(filepath.Dir(bin))
	dataDir, err := os.MkdirTemp("", "wharf-bench-data")
	if err != nil {
		fail(err)
	}
	defer os.RemoveAll(dataDir)

	servers := []struct {
		name   string
		cmd    func(port int) *exec.Cmd
		health string
	}{
		{"wharf", func(port int) *exec.Cmd {
			return exec.Command(bin, "serve", "--data-dir", dataDir, "--listen", fmt.Sprintf("127.0.0.1:%d", port), "--log-level", "warn")
		}, "/_wharf/health"},
		{"wharf-mem", func(port int) *exec.Cmd {
			return exec.Command(bin, "serve", "--ephemeral", "--listen", fmt.Sprintf("127.0.0.1:%d", port), "--log-level", "warn")
		}, "/_wharf/health"},
		{"moto", func(port int) *exec.Cmd {
			return exec.Command("python3", "-m", "moto.server", "-H", "127.0.0.1", "-p", strconv.Itoa(port))
		}, "/moto-api/"},
	}
	var results []result
	for _, s := range servers {
		r, err := measure(s.name, s.cmd, s.health, *duration, *clients, *latencyN)
		if err != nil {
			fail(err)
		}
		results = append(results, r)
	}
	fmt.Printf("%-10s %12s %9s %7s %10s %10s %9s\n", "server", "publish/s", "requests", "errors", "p50_ms", "p99_ms", "received")
	for _, r := range results {
		fmt.Printf("%-10s %12.0f %9d %7d %10.2f %10.2f %9d\n", r.name, r.rps, r.requests, r.errors, ms(r.p50), ms(r.p99), r.received)
	}
	w, mem, m := results[0], results[1], results[2]
	fmt.Printf("\nratios vs moto: publish/s durable %.1fx, ephemeral %.1fx; p50 Publish→receive durable %.1fx, ephemeral %.1fx faster\n",
		w.rps/m.rps, mem.rps/m.rps, ms(m.p50)/ms(w.p50), ms(m.p50)/ms(mem.p50))
	fmt.Printf("targets: >= 30x moto's publish/s durable (%s); p50 Publish→long-poll receive < 5 ms durable (%s)\n",
		verdict(w.rps >= 30*m.rps), verdict(w.p50 < 5*time.Millisecond))
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

// measure starts a server, creates a topic with one SQS subscription, drives
// Publish from clients for d, then times n publishes to a long-polling receiver.
func measure(name string, command func(port int) *exec.Cmd, healthPath string, d time.Duration, clients, n int) (result, error) {
	r := result{name: name}
	port, err := benchkit.FreePort()
	if err != nil {
		return r, err
	}
	cmd := command(port)
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
	for start := time.Now(); ; time.Sleep(5 * time.Millisecond) {
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
	}
	httpc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients + 2}}
	creds := credentials.NewStaticCredentialsProvider("test", "test", "")
	snsc := sns.New(sns.Options{BaseEndpoint: aws.String(base), Region: "us-east-1", Credentials: creds, HTTPClient: httpc})
	sqsc := sqs.New(sqs.Options{BaseEndpoint: aws.String(base), Region: "us-east-1", Credentials: creds, HTTPClient: httpc})
	ctx := context.Background()

	topic, err := snsc.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("bench")})
	if err != nil {
		return r, fmt.Errorf("%s create topic: %w", name, err)
	}
	setup := func(queue string) (string, error) {
		q, err := sqsc.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(queue)})
		if err != nil {
			return "", err
		}
		a, err := sqsc.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: q.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{"QueueArn"}})
		if err != nil {
			return "", err
		}
		sub, err := snsc.Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("sqs"), Endpoint: aws.String(a.Attributes["QueueArn"]), ReturnSubscriptionArn: true})
		if err != nil {
			return "", err
		}
		_ = sub
		return *q.QueueUrl, nil
	}
	if _, err := setup("bench-throughput"); err != nil {
		return r, fmt.Errorf("%s setup: %w", name, err)
	}

	// Throughput: clients publish as fast as they are answered.
	var reqs, errs atomic.Int64
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	start := time.Now()
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				if _, err := snsc.Publish(ctx, &sns.PublishInput{TopicArn: topic.TopicArn, Message: aws.String("benchmark message body")}); err != nil {
					errs.Add(1)
					continue
				}
				reqs.Add(1)
			}
		}()
	}
	wg.Wait()
	r.rps = float64(reqs.Load()) / time.Since(start).Seconds()
	r.requests, r.errors = reqs.Load(), errs.Load()

	// Latency: a fresh topic and queue, one publish at a time, a receiver
	// long-polling the queue; each message is timed from just before Publish
	// to its arrival at the receiver.
	topic, err = snsc.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("bench-latency")})
	if err != nil {
		return r, err
	}
	qurl, err := setup("bench-latency")
	if err != nil {
		return r, fmt.Errorf("%s latency setup: %w", name, err)
	}
	arrived := make(chan time.Time, 16)
	rctx, stop := context.WithCancel(ctx)
	defer stop()
	go func() {
		for rctx.Err() == nil {
			out, err := sqsc.ReceiveMessage(rctx, &sqs.ReceiveMessageInput{QueueUrl: &qurl, MaxNumberOfMessages: 10, WaitTimeSeconds: 20})
			if err != nil {
				continue
			}
			now := time.Now()
			for _, m := range out.Messages {
				arrived <- now
				sqsc.DeleteMessage(rctx, &sqs.DeleteMessageInput{QueueUrl: &qurl, ReceiptHandle: m.ReceiptHandle})
			}
		}
	}()
	time.Sleep(100 * time.Millisecond) // the receiver is waiting
	var lat []time.Duration
	for range n {
		t0 := time.Now()
		if _, err := snsc.Publish(ctx, &sns.PublishInput{TopicArn: topic.TopicArn, Message: aws.String("latency probe")}); err != nil {
			return r, fmt.Errorf("%s latency publish: %w", name, err)
		}
		select {
		case t1 := <-arrived:
			lat = append(lat, t1.Sub(t0))
		case <-time.After(30 * time.Second):
			return r, fmt.Errorf("%s: message not received within 30s", name)
		}
	}
	stop()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	r.received = len(lat)
	r.p50 = lat[len(lat)/2]
	r.p99 = lat[len(lat)*99/100]
	return r, nil
}
