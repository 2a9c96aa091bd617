// Command cloudwatch measures CloudWatch and CloudWatch Logs writes on wharf
// and on moto's server side by side in the same run, with the same clients:
//
//   - PutMetricData (one datum with a dimension) in the query protocol, the
//     request CLI v2 sends, signed with SigV4 (both servers);
//   - PutMetricData through aws-sdk-go-v2 (CBOR, request compression off), and
//     errors if a server cannot speak it (moto 5.2 cannot);
//   - PutLogEvents (10 events of ~100 bytes) through aws-sdk-go-v2 (JSON 1.1).
//
// wharf runs twice: --ephemeral (memory, as moto keeps state) and on disk
// (every acknowledged write fsync'd, group-committed). It prints requests per
// second and ratios, and asserts nothing.
//
//	go run ./bench/cloudwatch [-duration 5s] [-clients 8]
package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
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
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	cw "github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	cwl "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	cwltypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"

	"github.com/wharf-dev/wharf/bench/internal/benchkit"
)

type server struct {
	name    string
	command func(port int) *exec.Cmd
	health  string
}

type result struct {
	rps    float64
	errors int64
}

func main() {
	duration := flag.Duration("duration", 5*time.Second, "how long to drive each workload")
	clients := flag.Int("clients", 8, "concurrent clients")
	flag.Parse()

	bin, err := benchkit.BuildWharf()
	if err != nil {
		fail(err)
	}
	dir := filepath.Dir(bin)
	defer os.RemoveAll(dir)
	servers := []server{
		{"wharf (memory)", func(port int) *exec.Cmd {
			return exec.Command(bin, "serve", "--ephemeral", "--listen", fmt.Sprintf("127.0.0.1:%d", port), "--log-level", "warn")
		}, "/_wharf/health"},
		{"wharf (disk)", func(port int) *exec.Cmd {
			return exec.Command(bin, "serve", "--data-dir", filepath.Join(dir, "data"), "--listen", fmt.Sprintf("127.0.0.1:%d", port), "--log-level", "warn")
		}, "/_wharf/health"},
		{"moto", func(port int) *exec.Cmd {
			return exec.Command("python3", "-m", "moto.server", "-H", "127.0.0.1", "-p", strconv.Itoa(port))
		}, "/moto-api/"},
	}
	workloads := []string{"PutMetricData (query)", "PutMetricData (CBOR, SDK)", "PutLogEvents (10 events, SDK)"}
	results := map[string]map[string]result{}
	for _, s := range servers {
		r, err := run(s, *duration, *clients)
		if err != nil {
			fail(err)
		}
		results[s.name] = r
	}
	fmt.Printf("%d clients, %s per workload\n", *clients, *duration)
	for _, w := range workloads {
		fmt.Printf("\n%s:\n", w)
		for _, s := range servers {
			r := results[s.name][w]
			fmt.Printf("  %-15s %9.0f req/s (%d errors)\n", s.name, r.rps, r.errors)
		}
		if m := results["moto"][w]; m.rps > 0 && m.errors == 0 {
			fmt.Printf("  ratio: wharf memory %.1fx, wharf disk %.1fx moto\n", results["wharf (memory)"][w].rps/m.rps, results["wharf (disk)"][w].rps/m.rps)
		} else {
			fmt.Printf("  ratio: n/a (moto served %0.f req/s with %d errors)\n", m.rps, m.errors)
		}
	}
}

func run(s server, d time.Duration, clients int) (map[string]result, error) {
	port, err := benchkit.FreePort()
	if err != nil {
		return nil, err
	}
	cmd := s.command(port)
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s: %w", s.name, err)
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
		resp, err := http.Get(base + s.health)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode < 500 {
				break
			}
		}
		if time.Since(start) > 60*time.Second {
			return nil, fmt.Errorf("%s did not become ready", s.name)
		}
		time.Sleep(5 * time.Millisecond)
	}
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
	creds := credentials.NewStaticCredentialsProvider("test", "test", "")
	out := map[string]result{}
	ctx := context.Background()

	signer := v4.NewSigner()
	out["PutMetricData (query)"] = drive(d, clients, func(ctx context.Context, i int) error {
		form := url.Values{"Action": {"PutMetricData"}, "Version": {"2010-08-01"}, "Namespace": {"Bench"},
			"MetricData.member.1.MetricName": {"Requests"}, "MetricData.member.1.Value": {strconv.Itoa(i)},
			"MetricData.member.1.Dimensions.member.1.Name": {"Client"}, "MetricData.member.1.Dimensions.member.1.Value": {strconv.Itoa(i % 8)}}
		body := []byte(form.Encode())
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+"/", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
		sum := sha256.Sum256(body)
		if err := signer.SignHTTP(ctx, aws.Credentials{AccessKeyID: "test", SecretAccessKey: "test"}, req, hex.EncodeToString(sum[:]), "monitoring", "us-east-1", time.Now()); err != nil {
			return err
		}
		resp, err := hc.Do(req)
		if err != nil {
			return err
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(b), "PutMetricDataResponse") {
			return fmt.Errorf("status %d", resp.StatusCode)
		}
		return nil
	})

	// The SDK gzips every PutMetricData body, however small; a fresh gzip writer
	// per request costs the client more than the server's whole request, so
	// compression is off here to measure the servers.
	c := cw.New(cw.Options{BaseEndpoint: aws.String(base), Region: "us-east-1", Credentials: creds, HTTPClient: hc, DisableRequestCompression: true})
	out["PutMetricData (CBOR, SDK)"] = drive(d, clients, func(ctx context.Context, i int) error {
		_, err := c.PutMetricData(ctx, &cw.PutMetricDataInput{Namespace: aws.String("Bench"), MetricData: []cwtypes.MetricDatum{{
			MetricName: aws.String("Requests"), Value: aws.Float64(float64(i)), StorageResolution: aws.Int32(1),
			Dimensions: []cwtypes.Dimension{{Name: aws.String("Client"), Value: aws.String(strconv.Itoa(i % 8))}}}}})
		return err
	})

	l := cwl.New(cwl.Options{BaseEndpoint: aws.String(base), Region: "us-east-1", Credentials: creds, HTTPClient: hc})
	if _, err := l.CreateLogGroup(ctx, &cwl.CreateLogGroupInput{LogGroupName: aws.String("/bench")}); err != nil {
		return nil, fmt.Errorf("%s CreateLogGroup: %w", s.name, err)
	}
	for i := 0; i < clients; i++ {
		if _, err := l.CreateLogStream(ctx, &cwl.CreateLogStreamInput{LogGroupName: aws.String("/bench"), LogStreamName: aws.String(fmt.Sprint("s", i))}); err != nil {
			return nil, fmt.Errorf("%s CreateLogStream: %w", s.name, err)
		}
	}
	line := strings.Repeat("x", 90)
	out["PutLogEvents (10 events, SDK)"] = drive(d, clients, func(ctx context.Context, i int) error {
		now := time.Now().UnixMilli()
		evs := make([]cwltypes.InputLogEvent, 10)
		for j := range evs {
			evs[j] = cwltypes.InputLogEvent{Timestamp: aws.Int64(now), Message: aws.String(fmt.Sprintf("%d %s", j, line))}
		}
		_, err := l.PutLogEvents(ctx, &cwl.PutLogEventsInput{LogGroupName: aws.String("/bench"), LogStreamName: aws.String(fmt.Sprint("s", i%clients)), LogEvents: evs})
		return err
	})
	return out, nil
}

// drive runs op from clients goroutines for d; op's i identifies the client.
func drive(d time.Duration, clients int, op func(ctx context.Context, i int) error) result {
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
				if err := op(ctx, i); err != nil {
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
	return result{rps: float64(n.Load()) / time.Since(t0).Seconds(), errors: errs.Load()}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "bench:", err)
	os.Exit(1)
}
