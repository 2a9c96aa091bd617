// Command dynamodb measures wharf's DynamoDB side by side with moto's server in
// the same run: PutItem, GetItem and Query (40 items per page) operations per
// second at 8 concurrent aws-sdk-go-v2 clients, and what a stream costs PutItem:
// the same puts to a table with a NEW_AND_OLD_IMAGES stream, in alternating
// rounds with the plain table (issue 15: at most 15% slower, durable, 8 clients). wharf runs with its durable
// on-disk store (every acknowledged PutItem is fsynced, group-committed); moto
// keeps everything in memory. It prints absolute numbers and ratios and asserts
// nothing (a benchmark, not a test).
//
//	go run ./bench/dynamodb [-duration 5s] [-clients 8] [-ephemeral]
package main

import (
	"context"
	"flag"
	"fmt"
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
	"github.com/aws/aws-sdk-go-v2/credentials"
	sdk "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/wharf-dev/wharf/bench/internal/benchkit"
)

// queryItems is how many items the Query benchmark's partition holds and
// each Query returns.
const queryItems = 40

type phase struct {
	name     string
	rps      float64
	requests int64
	errors   int64
	firstErr error
}

func main() {
	duration := flag.Duration("duration", 5*time.Second, "how long to drive each operation on each server")
	clients := flag.Int("clients", 8, "concurrent clients")
	ephemeral := flag.Bool("ephemeral", false, "run wharf with its in-memory store instead of the durable one")
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

	w, err := run("wharf", func(port int) *exec.Cmd {
		args := []string{"serve", "--data-dir", dataDir, "--listen", fmt.Sprintf("127.0.0.1:%d", port), "--log-level", "warn"}
		if *ephemeral {
			args = append(args, "--ephemeral")
		}
		return exec.Command(bin, args...)
	}, "/_wharf/health", *duration, *clients)
	if err != nil {
		fail(err)
	}
	m, err := run("moto", func(port int) *exec.Cmd {
		return exec.Command("python3", "-m", "moto.server", "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	}, "/moto-api/", *duration, *clients)
	if err != nil {
		fail(err)
	}
	fmt.Printf("%-6s %-14s %12s %9s %7s\n", "server", "op", "ops/s", "requests", "errors")
	for _, r := range [][]phase{w, m} {
		name := "wharf"
		if &r[0] == &m[0] {
			name = "moto"
		}
		for _, p := range r {
			fmt.Printf("%-6s %-14s %12.0f %9d %7d\n", name, p.name, p.rps, p.requests, p.errors)
			if p.firstErr != nil {
				fmt.Printf("       first error: %v\n", p.firstErr)
			}
		}
	}
	store := "durable"
	if *ephemeral {
		store = "ephemeral"
	}
	fmt.Printf("\nratios (wharf vs moto, %d clients, wharf %s):\n", *clients, store)
	for i := range w {
		ratio := w[i].rps / m[i].rps
		fmt.Printf("  %-14s %6.1fx  (target >= 20x: %s)\n", w[i].name, ratio, verdict(ratio >= 20))
	}
	plain, streamed := rate(w, "PutItem"), rate(w, "PutItem+stream")
	if plain > 0 && streamed > 0 {
		slower := 1 - streamed/plain
		fmt.Printf("\nwharf PutItem with a stream: %.0f vs %.0f ops/s without, %.1f%% slower (target <= 15%%: %s)\n",
			streamed, plain, 100*slower, verdict(slower <= 0.15))
	}
}

// rate is the mean rate of the phases named name (the stream comparison runs
// each side in several alternating rounds).
func rate(ps []phase, name string) float64 {
	var sum float64
	n := 0
	for _, p := range ps {
		if p.name == name {
			sum += p.rps
			n++
		}
	}
	if n == 0 {
		return 0
	}
	return sum / float64(n)
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

// run starts a server, waits until it answers, drives each operation for d, and
// stops it.
func run(name string, command func(port int) *exec.Cmd, healthPath string, d time.Duration, clients int) ([]phase, error) {
	port, err := benchkit.FreePort()
	if err != nil {
		return nil, err
	}
	cmd := command(port)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
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
	start := time.Now()
	for {
		resp, err := hc.Get(base + healthPath)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode < 500 {
				break
			}
		}
		if time.Since(start) > 60*time.Second {
			return nil, fmt.Errorf("%s did not become ready", name)
		}
		time.Sleep(5 * time.Millisecond)
	}
	c := sdk.New(sdk.Options{
		BaseEndpoint: aws.String(base),
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
		HTTPClient:   &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}},
	})
	ctx := context.Background()
	table := aws.String("bench")
	_, err = c.CreateTable(ctx, &sdk.CreateTableInput{
		TableName: table,
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String("sk"), AttributeType: types.ScalarAttributeTypeN},
		},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String("sk"), KeyType: types.KeyTypeRange},
		},
		BillingMode: types.BillingModePayPerRequest,
	})
	if err != nil {
		return nil, fmt.Errorf("%s CreateTable: %w", name, err)
	}
	streamTable := aws.String("bench-stream")
	_, err = c.CreateTable(ctx, &sdk.CreateTableInput{
		TableName: streamTable,
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String("sk"), AttributeType: types.ScalarAttributeTypeN},
		},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String("sk"), KeyType: types.KeyTypeRange},
		},
		BillingMode:         types.BillingModePayPerRequest,
		StreamSpecification: &types.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: types.StreamViewTypeNewAndOldImages},
	})
	if err != nil {
		return nil, fmt.Errorf("%s CreateTable with a stream: %w", name, err)
	}
	item := func(pk string, sk int) map[string]types.AttributeValue {
		return map[string]types.AttributeValue{
			"pk":      &types.AttributeValueMemberS{Value: pk},
			"sk":      &types.AttributeValueMemberN{Value: strconv.Itoa(sk)},
			"payload": &types.AttributeValueMemberS{Value: "a modest item payload of about one hundred bytes, like a typical task result row"},
			"count":   &types.AttributeValueMemberN{Value: "42"},
		}
	}
	for i := 0; i < queryItems; i++ {
		if _, err := c.PutItem(ctx, &sdk.PutItemInput{TableName: table, Item: item("query", i)}); err != nil {
			return nil, fmt.Errorf("%s seed: %w", name, err)
		}
	}
	var seq atomic.Int64
	put := func(client int) error {
		_, err := c.PutItem(ctx, &sdk.PutItemInput{TableName: table, Item: item("p"+strconv.Itoa(client), int(seq.Add(1)))})
		return err
	}
	putStreamed := func(client int) error {
		_, err := c.PutItem(ctx, &sdk.PutItemInput{TableName: streamTable, Item: item("p"+strconv.Itoa(client), int(seq.Add(1)))})
		return err
	}
	ops := []struct {
		name string
		call func(client int) error
	}{
		// Alternating rounds, so load from elsewhere on the machine falls on
		// both sides of the stream comparison alike.
		{"PutItem", put}, {"PutItem+stream", putStreamed},
		{"PutItem", put}, {"PutItem+stream", putStreamed},
		{"GetItem", func(client int) error {
			_, err := c.GetItem(ctx, &sdk.GetItemInput{TableName: table, Key: map[string]types.AttributeValue{
				"pk": &types.AttributeValueMemberS{Value: "query"}, "sk": &types.AttributeValueMemberN{Value: strconv.Itoa(int(seq.Add(1)) % queryItems)},
			}})
			return err
		}},
		{"Query", func(client int) error {
			out, err := c.Query(ctx, &sdk.QueryInput{TableName: table, KeyConditionExpression: aws.String("pk = :pk"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: "query"}}})
			if err == nil && len(out.Items) != queryItems {
				err = fmt.Errorf("query returned %d items", len(out.Items))
			}
			return err
		}},
	}
	var phases []phase
	for _, op := range ops {
		p := phase{name: op.name}
		var requests, errors atomic.Int64
		var once sync.Once
		deadline := time.Now().Add(d)
		began := time.Now()
		var wg sync.WaitGroup
		for i := 0; i < clients; i++ {
			wg.Add(1)
			go func(client int) {
				defer wg.Done()
				for time.Now().Before(deadline) {
					if err := op.call(client); err != nil {
						errors.Add(1)
						once.Do(func() { p.firstErr = err })
						continue
					}
					requests.Add(1)
				}
			}(i)
		}
		wg.Wait()
		p.requests, p.errors = requests.Load(), errors.Load()
		p.rps = float64(p.requests) / time.Since(began).Seconds()
		phases = append(phases, p)
	}
	return phases, nil
}
