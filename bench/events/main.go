// Command events measures EventBridge: PutEvents requests per second on wharf
// and on moto's server side by side in the same run (one enabled rule on the
// default bus, 8 concurrent clients), and the in-process cost of matching one
// event against buses of 1, 10, 100, 1,000 and 10,000 rules (the ratio
// 10,000/10 shows whether cost grows with the number of rules; target: under
// 3x). It prints numbers and ratios and asserts nothing.
//
//	go run ./bench/events [-duration 5s] [-clients 8]
package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/wharf-dev/wharf/internal/pattern"
)

func main() {
	duration := flag.Duration("duration", 5*time.Second, "how long to drive each server")
	clients := flag.Int("clients", 8, "concurrent clients")
	flag.Parse()

	fmt.Println("matching one S3 Object Created event (parse + match), in process:")
	var base float64
	for _, n := range []int{1, 10, 100, 1000, 10000} {
		set := rules(n)
		r := testing.Benchmark(func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				ev, err := pattern.ParseEvent(s3Event)
				if err != nil || len(set.Match(ev)) == 0 {
					b.Fatal("no match")
				}
			}
		})
		ns := float64(r.T.Nanoseconds()) / float64(r.N)
		if n == 10 {
			base = ns
		}
		fmt.Printf("  rules=%-6d %8.0f ns/event %10.0f events/s", n, ns, 1e9/ns)
		if base > 0 {
			fmt.Printf("   %.2fx the cost at 10 rules", ns/base)
		}
		fmt.Println()
	}

	bin, err := buildWharf()
	if err != nil {
		fail(err)
	}
	defer os.RemoveAll(filepath.Dir(bin))
	w, err := drive("wharf", func(port int) *exec.Cmd {
		return exec.Command(bin, "serve", "--ephemeral", "--listen", fmt.Sprintf("127.0.0.1:%d", port), "--log-level", "warn")
	}, "/_wharf/health", *duration, *clients)
	if err != nil {
		fail(err)
	}
	m, err := drive("moto", func(port int) *exec.Cmd {
		return exec.Command("python3", "-m", "moto.server", "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	}, "/moto-api/", *duration, *clients)
	if err != nil {
		fail(err)
	}
	fmt.Printf("\nPutEvents (1 entry, %d clients, %s):\n", *clients, *duration)
	fmt.Printf("  wharf %10.0f req/s (%d errors)\n  moto  %10.0f req/s (%d errors)\n", w.rps, w.errors, m.rps, m.errors)
	fmt.Printf("ratio: wharf %.1fx moto's PutEvents/s\n", w.rps/m.rps)
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

type result struct {
	rps    float64
	errors int64
}

func drive(name string, command func(port int) *exec.Cmd, health string, d time.Duration, clients int) (result, error) {
	var r result
	port, err := freePort()
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
	start := time.Now()
	for {
		resp, err := http.Get(base + health)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode < 500 {
				break
			}
		}
		if time.Since(start) > 60*time.Second {
			return r, fmt.Errorf("%s did not become ready", name)
		}
		time.Sleep(5 * time.Millisecond)
	}
	c := eventbridge.New(eventbridge.Options{
		BaseEndpoint: aws.String(base), Region: "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""),
		HTTPClient:  &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}},
	})
	ctx := context.Background()
	if _, err := c.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("orders"), EventPattern: aws.String(`{"source":["com.example"],"detail":{"amount":[{"numeric":[">",100]}]}}`)}); err != nil {
		return r, fmt.Errorf("%s PutRule: %w", name, err)
	}
	entry := []types.PutEventsRequestEntry{{Source: aws.String("com.example"), DetailType: aws.String("Order"), Detail: aws.String(`{"amount":150}`)}}
	var n, errs atomic.Int64
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
	return r, nil
}

func buildWharf() (string, error) {
	dir, err := os.MkdirTemp("", "wharf-bench")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "wharf")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/wharf")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	return bin, cmd.Run()
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "bench:", err)
	os.Exit(1)
}
