// Command s3 measures wharf's S3 side by side with moto's server in the same
// run: 1 KiB PutObject and GetObject operations per second at 8 concurrent
// aws-sdk-go-v2 clients, and 64 MiB PUT and GET throughput, beside the speed
// of writing the same bytes to a file with fsync on this machine. wharf runs
// twice: --ephemeral (in memory, like moto) and with a data directory (every
// PUT fsynced before it is acknowledged). It prints numbers and ratios and
// asserts nothing (a benchmark, not a test).
//
//	go run ./bench/s3 [-duration 5s] [-clients 8] [-large 64] [-rounds 3] [-baseline path/to/older/wharf]
//
// -baseline adds another wharf binary (an earlier build) on disk to the same
// run, so that a change is measured before and after under the same load.
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/wharf-dev/wharf/bench/internal/benchkit"
)

type result struct {
	name           string
	putOps, getOps float64
	errors         int64
	putMiBs        float64
	getMiBs        float64
}

func main() {
	duration := flag.Duration("duration", 5*time.Second, "how long to drive each small-object workload")
	clients := flag.Int("clients", 8, "concurrent clients")
	largeMiB := flag.Int("large", 64, "size of the large object in MiB")
	rounds := flag.Int("rounds", 3, "large-object PUT/GET rounds")
	baseline := flag.String("baseline", "", "another wharf binary to measure on disk beside this tree's")
	flag.Parse()

	bin, err := benchkit.BuildWharf()
	if err != nil {
		fail(err)
	}
	defer os.RemoveAll(filepath.Dir(bin))
	data, err := os.MkdirTemp("", "wharf-bench-data")
	if err != nil {
		fail(err)
	}
	defer os.RemoveAll(data)

	large := make([]byte, *largeMiB<<20)
	rand.Read(large)
	diskMiBs, err := fsyncBaseline(data, large, *rounds)
	if err != nil {
		fail(err)
	}

	type server struct {
		name   string
		cmd    func(port int) *exec.Cmd
		health string
	}
	var extra []server
	if *baseline != "" {
		extra = append(extra, server{"baseline", func(port int) *exec.Cmd {
			return exec.Command(*baseline, "serve", "--data-dir", filepath.Join(data, "baseline"), "--listen", fmt.Sprintf("127.0.0.1:%d", port), "--log-level", "warn")
		}, "/_wharf/health"})
	}
	var results []result
	for _, s := range append([]server{
		{"wharf-mem", func(port int) *exec.Cmd {
			return exec.Command(bin, "serve", "--ephemeral", "--listen", fmt.Sprintf("127.0.0.1:%d", port), "--log-level", "warn")
		}, "/_wharf/health"},
		{"wharf-disk", func(port int) *exec.Cmd {
			return exec.Command(bin, "serve", "--data-dir", filepath.Join(data, "wharf"), "--listen", fmt.Sprintf("127.0.0.1:%d", port), "--log-level", "warn")
		}, "/_wharf/health"},
		{"moto", func(port int) *exec.Cmd {
			return exec.Command("python3", "-m", "moto.server", "-H", "127.0.0.1", "-p", strconv.Itoa(port))
		}, "/moto-api/"},
	}, extra...) {
		r, err := measure(s.name, s.cmd, s.health, *duration, *clients, large, *rounds)
		if err != nil {
			fail(err)
		}
		results = append(results, r)
	}

	fmt.Printf("%-10s %12s %12s %14s %14s %7s\n", "server", "1KiB PUT/s", "1KiB GET/s", fmt.Sprintf("%dMiB PUT MiB/s", *largeMiB), fmt.Sprintf("%dMiB GET MiB/s", *largeMiB), "errors")
	for _, r := range results {
		fmt.Printf("%-10s %12.0f %12.0f %14.0f %14.0f %7d\n", r.name, r.putOps, r.getOps, r.putMiBs, r.getMiBs, r.errors)
	}
	fmt.Printf("%-10s %12s %12s %14.0f\n", "disk+fsync", "", "", diskMiBs)
	m := results[2]
	for _, w := range append(results[:2:2], results[3:]...) {
		fmt.Printf("\n%s vs moto: PUT %.1fx, GET %.1fx the ops/s; large PUT %.1fx, GET %.1fx the MiB/s",
			w.name, w.putOps/m.putOps, w.getOps/m.getOps, w.putMiBs/m.putMiBs, w.getMiBs/m.getMiBs)
	}
	d := results[1]
	fmt.Printf("\nwharf-disk large PUT is %.2fx the speed of writing the bytes with fsync\n", d.putMiBs/diskMiBs)
	fmt.Printf("targets: small ops >= 15x moto (disk PUT %s, GET %s), large PUT within 2x of disk+fsync (%s)\n",
		verdict(d.putOps >= 15*m.putOps), verdict(d.getOps >= 15*m.getOps), verdict(d.putMiBs*2 >= diskMiBs))
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "missed"
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "bench:", err)
	os.Exit(1)
}

// fsyncBaseline is how fast this machine writes b to a new file and fsyncs it.
func fsyncBaseline(dir string, b []byte, rounds int) (float64, error) {
	var total time.Duration
	for i := 0; i < rounds; i++ {
		p := filepath.Join(dir, "baseline")
		t0 := time.Now()
		f, err := os.Create(p)
		if err != nil {
			return 0, err
		}
		if _, err := f.Write(b); err != nil {
			return 0, err
		}
		if err := f.Sync(); err != nil {
			return 0, err
		}
		f.Close()
		total += time.Since(t0)
		os.Remove(p)
	}
	return float64(len(b)*rounds) / (1 << 20) / total.Seconds(), nil
}

func measure(name string, command func(port int) *exec.Cmd, health string, d time.Duration, clients int, large []byte, rounds int) (result, error) {
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
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients * 2}}
	client := s3.New(s3.Options{
		BaseEndpoint: aws.String(base), Region: "us-east-1", UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""), HTTPClient: hc,
	})
	ctx := context.Background()
	bucket := "bench"
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		return r, fmt.Errorf("%s CreateBucket: %w", name, err)
	}
	small := make([]byte, 1024)
	rand.Read(small)
	var errs atomic.Int64
	drive := func(op func(ctx context.Context, worker int, i int) error) float64 {
		var n atomic.Int64
		cctx, cancel := context.WithTimeout(ctx, d)
		defer cancel()
		var wg sync.WaitGroup
		t0 := time.Now()
		for w := 0; w < clients; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; cctx.Err() == nil; i++ {
					if err := op(cctx, w, i); err != nil {
						if cctx.Err() == nil {
							errs.Add(1)
						}
						continue
					}
					n.Add(1)
				}
			}()
		}
		wg.Wait()
		return float64(n.Load()) / time.Since(t0).Seconds()
	}
	r.putOps = drive(func(ctx context.Context, w, i int) error {
		_, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(fmt.Sprintf("small/%d/%d", w, i%1000)), Body: bytes.NewReader(small)})
		return err
	})
	r.getOps = drive(func(ctx context.Context, w, i int) error {
		out, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(fmt.Sprintf("small/%d/%d", w, i%10))})
		if err != nil {
			return err
		}
		_, err = io.Copy(io.Discard, out.Body)
		out.Body.Close()
		return err
	})

	// Large objects are sent with UNSIGNED-PAYLOAD and no request checksum,
	// so that the client's own hashing of the object does not dominate.
	fast := func(o *s3.Options) {
		o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
		o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
		o.APIOptions = append(o.APIOptions, v4.SwapComputePayloadSHA256ForUnsignedPayloadMiddleware)
	}
	var putTime, getTime time.Duration
	for i := 0; i < rounds; i++ {
		key := aws.String(fmt.Sprintf("large-%d", i))
		t0 := time.Now()
		if _, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: key, Body: bytes.NewReader(large)}, fast); err != nil {
			return r, fmt.Errorf("%s large PUT: %w", name, err)
		}
		putTime += time.Since(t0)
		t0 = time.Now()
		out, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: key}, fast)
		if err != nil {
			return r, fmt.Errorf("%s large GET: %w", name, err)
		}
		n, _ := io.Copy(io.Discard, out.Body)
		out.Body.Close()
		getTime += time.Since(t0)
		if n != int64(len(large)) {
			return r, fmt.Errorf("%s large GET: %d bytes", name, n)
		}
	}
	mib := float64(len(large)*rounds) / (1 << 20)
	r.putMiBs, r.getMiBs = mib/putTime.Seconds(), mib/getTime.Seconds()
	r.errors = errs.Load()
	return r, nil
}
