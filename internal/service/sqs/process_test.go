package sqs_test

// Tests that run the real wharf binary as a child process on a data directory
// and kill it with SIGKILL: what an acknowledged SendMessage leaves behind.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	sdksqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/wharf-dev/wharf/internal/wharftest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	wharftest.Cleanup()
	os.Exit(code)
}

// startProcess runs the wharf binary bin on dataDir, on a free loopback port.
func startProcess(t *testing.T, bin, dataDir string) *wharftest.Process {
	t.Helper()
	return wharftest.Serve(t, bin, "127.0.0.1:0", "--data-dir", dataDir)
}

func client(p *wharftest.Process) *sdksqs.Client {
	return sdksqs.New(sdksqs.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(p.URL),
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
		Retryer:      aws.NopRetryer{}, // a send that failed must stay failed: it was never acknowledged
	})
}

// crashBody is the body of message id: a reader checks it is intact from the
// body alone.
func crashBody(id string) string {
	sum := sha256.Sum256([]byte(id))
	return id + " " + hex.EncodeToString(sum[:]) + " " + strings.Repeat("x", len(id)*7)
}

func checkCrashBody(body string) (id string, ok bool) {
	id, _, _ = strings.Cut(body, " ")
	return id, crashBody(id) == body
}

// TestAcknowledgedSendsSurviveKill9 sends from 8 clients (single sends and
// batches) to the real binary, kills it with SIGKILL while sends are in
// flight, restarts it on the same data directory, and receives every
// acknowledged message, intact. Sends in flight at the kill may or may not be
// there; anything there is intact.
func TestAcknowledgedSendsSurviveKill9(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds and runs the wharf binary")
	}
	bin := wharftest.Binary(t)
	dir := t.TempDir()
	p := startProcess(t, bin, dir)
	c := client(p)
	ctx := context.Background()
	q, err := c.CreateQueue(ctx, &sdksqs.CreateQueueInput{QueueName: aws.String("crash")})
	if err != nil {
		t.Fatal(err)
	}

	var (
		mu    sync.Mutex
		acked = map[string]bool{}
		count atomic.Int64
		wg    sync.WaitGroup
	)
	const killAfter = 600
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				if i%2 == 0 {
					id := fmt.Sprintf("w%d-s%d", w, i)
					_, err := c.SendMessage(ctx, &sdksqs.SendMessageInput{QueueUrl: q.QueueUrl, MessageBody: aws.String(crashBody(id))})
					if err != nil {
						return // the server is gone
					}
					mu.Lock()
					acked[id] = true
					mu.Unlock()
					count.Add(1)
					continue
				}
				var entries []types.SendMessageBatchRequestEntry
				for j := range 10 {
					id := fmt.Sprintf("w%d-b%d-%d", w, i, j)
					entries = append(entries, types.SendMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(j)), MessageBody: aws.String(crashBody(id))})
				}
				out, err := c.SendMessageBatch(ctx, &sdksqs.SendMessageBatchInput{QueueUrl: q.QueueUrl, Entries: entries})
				if err != nil {
					return
				}
				mu.Lock()
				for _, s := range out.Successful {
					j, _ := strconv.Atoi(*s.Id)
					acked[fmt.Sprintf("w%d-b%d-%d", w, i, j)] = true
				}
				mu.Unlock()
				count.Add(int64(len(out.Successful)))
			}
		}()
	}
	for count.Load() < killAfter {
		time.Sleep(time.Millisecond)
	}
	p.Kill()
	wg.Wait()
	mu.Lock()
	want := len(acked)
	mu.Unlock()
	t.Logf("%d sends acknowledged before SIGKILL", want)

	p2 := startProcess(t, bin, dir)
	c2 := client(p2)
	got := map[string]int{}
	for {
		out, err := c2.ReceiveMessage(ctx, &sdksqs.ReceiveMessageInput{QueueUrl: q.QueueUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 600})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Messages) == 0 {
			break
		}
		for _, m := range out.Messages {
			id, ok := checkCrashBody(*m.Body)
			if !ok {
				t.Fatalf("message %s has a damaged body: %.80q", *m.MessageId, *m.Body)
			}
			got[id]++
		}
	}
	lost := 0
	for id := range acked {
		if got[id] == 0 {
			lost++
			if lost <= 5 {
				t.Errorf("acknowledged message %s was lost", id)
			}
		}
	}
	if lost > 0 {
		t.Fatalf("%d of %d acknowledged messages lost", lost, want)
	}
	t.Logf("received %d distinct messages after restart (%d acknowledged, the rest in flight at the kill)", len(got), want)
}

// TestReceivedUndeletedMessageReturnsAfterKill9 receives a message without
// deleting it, kills the server, and checks that after a restart the message
// is delivered again once its visibility timeout has passed, not before, with
// its receive count kept.
func TestReceivedUndeletedMessageReturnsAfterKill9(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds and runs the wharf binary")
	}
	bin := wharftest.Binary(t)
	dir := t.TempDir()
	p := startProcess(t, bin, dir)
	c := client(p)
	ctx := context.Background()
	q, err := c.CreateQueue(ctx, &sdksqs.CreateQueueInput{QueueName: aws.String("inflight")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.SendMessage(ctx, &sdksqs.SendMessageInput{QueueUrl: q.QueueUrl, MessageBody: aws.String("work item")}); err != nil {
		t.Fatal(err)
	}
	const timeout = 3
	first, err := c.ReceiveMessage(ctx, &sdksqs.ReceiveMessageInput{QueueUrl: q.QueueUrl, VisibilityTimeout: timeout,
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll}})
	if err != nil || len(first.Messages) != 1 {
		t.Fatalf("first receive: %v %v", first, err)
	}
	firstAt, _ := strconv.ParseInt(first.Messages[0].Attributes["ApproximateFirstReceiveTimestamp"], 10, 64)
	p.Kill()

	p2 := startProcess(t, bin, dir)
	c2 := client(p2)
	attrs, err := c2.GetQueueAttributes(ctx, &sdksqs.GetQueueAttributesInput{QueueUrl: q.QueueUrl, AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameAll}})
	if err != nil {
		t.Fatal(err)
	}
	if n := attrs.Attributes["ApproximateNumberOfMessages"] + "/" + attrs.Attributes["ApproximateNumberOfMessagesNotVisible"]; n != "0/1" && n != "1/0" {
		t.Fatalf("visible/not visible after restart = %s, want the one message", n)
	}
	// A receive that returns before the timeout has passed (by this machine's
	// clock, which the server shares) must not get the message back.
	var again *sdksqs.ReceiveMessageOutput
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); {
		again, err = c2.ReceiveMessage(ctx, &sdksqs.ReceiveMessageInput{QueueUrl: q.QueueUrl, WaitTimeSeconds: 1,
			MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll}})
		if err != nil {
			t.Fatal(err)
		}
		if len(again.Messages) > 0 {
			if returned := time.Now().UnixMilli(); returned < firstAt+timeout*1000 {
				t.Fatalf("redelivered within %d ms of the first receive, before the %d s visibility timeout", returned-firstAt, timeout)
			}
			break
		}
	}
	if again == nil || len(again.Messages) != 1 {
		t.Fatal("the received, undeleted message did not come back after its visibility timeout")
	}
	m := again.Messages[0]
	if *m.Body != "work item" || *m.MessageId != *first.Messages[0].MessageId {
		t.Fatalf("got %s %q, want %s \"work item\"", *m.MessageId, *m.Body, *first.Messages[0].MessageId)
	}
	if rc := m.Attributes["ApproximateReceiveCount"]; rc != "2" {
		t.Fatalf("ApproximateReceiveCount = %s, want 2", rc)
	}
	if _, err := c2.DeleteMessage(ctx, &sdksqs.DeleteMessageInput{QueueUrl: q.QueueUrl, ReceiptHandle: m.ReceiptHandle}); err != nil {
		t.Fatal(err)
	}
}
