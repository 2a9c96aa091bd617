// Package chaos kills the real wharf binary with SIGKILL at random moments
// under a mixed durable workload, restarts it, and checks that no write it
// acknowledged was lost, that no object is half-written, and that a FIFO
// queue never hands out a message before an earlier one.
package chaos

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/wharf-dev/wharf/internal/sdkhttp"
	"github.com/wharf-dev/wharf/test/internal/wharfproc"
)

func TestMain(m *testing.M) {
	code := m.Run()
	wharfproc.Cleanup()
	os.Exit(code)
}

type clients struct {
	s3  *s3.Client
	sqs *sqs.Client
	ddb *dynamodb.Client
	eb  *eventbridge.Client
	sns *sns.Client
}

func connect(p *wharfproc.Proc) clients {
	hc := sdkhttp.Client(nil)
	hc.Timeout = 30 * time.Second
	cfg := aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""),
		// No retries: a request either was acknowledged or was not.
		RetryMaxAttempts: 1,
		BaseEndpoint:     aws.String(p.Endpoint()),
		HTTPClient:       hc,
	}
	return clients{
		s3:  s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }),
		sqs: sqs.NewFromConfig(cfg),
		ddb: dynamodb.NewFromConfig(cfg),
		eb:  eventbridge.NewFromConfig(cfg),
		sns: sns.NewFromConfig(cfg),
	}
}

// objectBody is the body of key: it follows from the key alone, so any
// object found, acknowledged or not, can be checked for being whole. Most
// are small (kept in the store), some go to files.
func objectBody(key string) []byte {
	h := fnv.New64a()
	h.Write([]byte(key))
	seed := h.Sum64()
	r := rand.New(rand.NewPCG(seed, seed>>1))
	size := 1 + r.IntN(8<<10)
	if strings.HasPrefix(key, "mp/") {
		size = 5<<20 + r.IntN(64<<10)
	} else if seed%4 == 0 {
		size = 64<<10 + r.IntN(192<<10)
	}
	b := make([]byte, size)
	var s [32]byte
	copy(s[:], key)
	rand.NewChaCha8(s).Read(b)
	return b
}

// ledger is the client-side log of every acknowledged write (and of the
// attempts whose outcome is unknown, where the checks need them).
type ledger struct {
	mu       sync.Mutex
	objects  map[string]bool // acknowledged PUTs (and multipart completions)
	items    map[string]bool // acknowledged PutItems
	txs      map[int]bool    // transactions attempted: true when acknowledged
	std      map[string]bool // standard queue: sent and acknowledged
	stdGone  map[string]bool // standard queue: delete acknowledged
	stdTry   map[string]bool // standard queue: delete sent (its outcome may be unknown)
	events   map[string]bool // PutEvents acknowledged
	notes    map[string]bool // SNS Publish acknowledged
	fifoSent int             // FIFO messages 1..fifoSent acknowledged, in order
	fifoDel  int             // FIFO messages 1..fifoDel deleted, acknowledged
	fifoTry  map[int]bool    // FIFO deletes attempted but not acknowledged
	writes   atomic.Int64
}

type world struct {
	bucket, table                    string
	stdURL, fifoURL, evURL, notesURL string
	topic                            string
}

func setup(t *testing.T, c clients) world {
	ctx := context.Background()
	w := world{bucket: "chaos", table: "chaos"}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	_, err := c.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(w.bucket)})
	must(err)
	_, err = c.ddb.CreateTable(ctx, &dynamodb.CreateTableInput{TableName: aws.String(w.table),
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: ddbtypes.KeyTypeHash}},
		BillingMode:          ddbtypes.BillingModePayPerRequest})
	must(err)
	queue := func(name string, attrs map[string]string) (url, arn string) {
		out, err := c.sqs.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: attrs})
		must(err)
		a, err := c.sqs.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: out.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{"QueueArn"}})
		must(err)
		return *out.QueueUrl, a.Attributes["QueueArn"]
	}
	// Short visibility: what a killed consumer had received comes back soon.
	w.stdURL, _ = queue("std", map[string]string{"VisibilityTimeout": "2"})
	w.fifoURL, _ = queue("order.fifo", map[string]string{"FifoQueue": "true", "VisibilityTimeout": "2"})
	var evARN, notesARN string
	w.evURL, evARN = queue("events", nil)
	w.notesURL, notesARN = queue("notes", nil)

	_, err = c.eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("chaos"), EventPattern: aws.String(`{"source":["chaos"]}`)})
	must(err)
	_, err = c.eb.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String("chaos"), Targets: []ebtypes.Target{{Id: aws.String("q"), Arn: aws.String(evARN)}}})
	must(err)
	topic, err := c.sns.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("chaos")})
	must(err)
	w.topic = *topic.TopicArn
	_, err = c.sns.Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("sqs"), Endpoint: aws.String(notesARN),
		Attributes: map[string]string{"RawMessageDelivery": "true"}})
	must(err)
	return w
}

// run drives the workload on c until ctx ends. An error while alive() is a
// test failure; after the kill, errors are expected and end the worker.
func (l *ledger) run(t *testing.T, ctx context.Context, c clients, w world, round int, alive func() bool) {
	var wg sync.WaitGroup
	worker := func(name string, step func(n int) error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; ctx.Err() == nil; n++ {
				if err := step(n); err != nil {
					if alive() {
						t.Errorf("round %d: %s %d while wharf was running: %v", round, name, n, err)
					}
					return
				}
				l.writes.Add(1)
			}
		}()
	}
	worker("PutObject", func(n int) error {
		key := fmt.Sprintf("r%d/o%d", round, n)
		_, err := c.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: &w.bucket, Key: &key, Body: bytes.NewReader(objectBody(key))})
		if err == nil {
			l.mu.Lock()
			l.objects[key] = true
			l.mu.Unlock()
		}
		return err
	})
	worker("multipart upload", func(n int) error {
		key := fmt.Sprintf("mp/r%d/%d", round, n)
		if err := multipart(ctx, c.s3, w.bucket, key); err != nil {
			return err
		}
		l.mu.Lock()
		l.objects[key] = true
		l.mu.Unlock()
		return nil
	})
	worker("PutItem", func(n int) error {
		id := fmt.Sprintf("r%d/i%d", round, n)
		_, err := c.ddb.PutItem(ctx, &dynamodb.PutItemInput{TableName: &w.table, Item: map[string]ddbtypes.AttributeValue{
			"id": &ddbtypes.AttributeValueMemberS{Value: id}, "v": &ddbtypes.AttributeValueMemberS{Value: "v" + id}}})
		if err == nil {
			l.mu.Lock()
			l.items[id] = true
			l.mu.Unlock()
		}
		return err
	})
	worker("TransactWriteItems", func(n int) error {
		tx := round*100000 + n
		l.mu.Lock()
		l.txs[tx] = false
		l.mu.Unlock()
		put := func(side string) ddbtypes.TransactWriteItem {
			return ddbtypes.TransactWriteItem{Put: &ddbtypes.Put{TableName: &w.table, Item: map[string]ddbtypes.AttributeValue{
				"id": &ddbtypes.AttributeValueMemberS{Value: fmt.Sprintf("tx%d/%s", tx, side)}}}}
		}
		_, err := c.ddb.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []ddbtypes.TransactWriteItem{put("a"), put("b")}})
		if err == nil {
			l.mu.Lock()
			l.txs[tx] = true
			l.mu.Unlock()
		}
		return err
	})
	worker("SendMessage", func(n int) error {
		body := fmt.Sprintf("r%d/m%d", round, n)
		_, err := c.sqs.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &w.stdURL, MessageBody: &body})
		if err == nil {
			l.mu.Lock()
			l.std[body] = true
			l.mu.Unlock()
		}
		return err
	})
	worker("receive and delete", func(n int) error {
		out, err := c.sqs.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &w.stdURL, MaxNumberOfMessages: 5})
		if err != nil {
			return err
		}
		for _, m := range out.Messages {
			l.mu.Lock()
			gone := l.stdGone[*m.Body]
			l.mu.Unlock()
			if gone {
				t.Errorf("round %d: standard message %s received after its delete was acknowledged", round, *m.Body)
			}
			l.mu.Lock()
			l.stdTry[*m.Body] = true
			l.mu.Unlock()
			if _, err := c.sqs.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: &w.stdURL, ReceiptHandle: m.ReceiptHandle}); err != nil {
				return err
			}
			l.mu.Lock()
			l.stdGone[*m.Body] = true
			l.mu.Unlock()
		}
		return nil
	})
	worker("FIFO send", func(int) error {
		l.mu.Lock()
		k := l.fifoSent + 1
		l.mu.Unlock()
		// A send whose answer was lost is sent again after the restart with
		// the same deduplication id, so the acknowledged ones are exactly
		// 1..fifoSent, in order.
		_, err := c.sqs.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &w.fifoURL, MessageBody: aws.String(strconv.Itoa(k)),
			MessageGroupId: aws.String("g"), MessageDeduplicationId: aws.String(strconv.Itoa(k))})
		if err == nil {
			l.mu.Lock()
			l.fifoSent = k
			l.mu.Unlock()
		}
		return err
	})
	worker("FIFO receive and delete", func(int) error {
		out, err := c.sqs.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &w.fifoURL, MaxNumberOfMessages: 3})
		if err != nil {
			return err
		}
		for _, m := range out.Messages {
			k, _ := strconv.Atoi(*m.Body)
			l.checkFIFO(t, round, k)
			l.mu.Lock()
			l.fifoTry[k] = true
			l.mu.Unlock()
			if _, err := c.sqs.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: &w.fifoURL, ReceiptHandle: m.ReceiptHandle}); err != nil {
				return err
			}
			l.mu.Lock()
			l.fifoDel = max(l.fifoDel, k)
			l.mu.Unlock()
		}
		return nil
	})
	worker("PutEvents", func(n int) error {
		id := fmt.Sprintf("r%d/e%d", round, n)
		out, err := c.eb.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{{
			Source: aws.String("chaos"), DetailType: aws.String("chaos"), Detail: aws.String(`{"id":"` + id + `"}`)}}})
		if err == nil && out.FailedEntryCount == 0 {
			l.mu.Lock()
			l.events[id] = true
			l.mu.Unlock()
		}
		return err
	})
	worker("Publish", func(n int) error {
		msg := fmt.Sprintf("r%d/n%d", round, n)
		_, err := c.sns.Publish(ctx, &sns.PublishInput{TopicArn: &w.topic, Message: &msg})
		if err == nil {
			l.mu.Lock()
			l.notes[msg] = true
			l.mu.Unlock()
		}
		return err
	})
	wg.Wait()
}

// checkFIFO checks that FIFO message k may come now: every message before it
// was deleted (or its delete was sent, unacknowledged, before a kill).
func (l *ledger) checkFIFO(t *testing.T, round, k int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if k <= l.fifoDel {
		t.Errorf("round %d: FIFO message %d received after its delete (of up to %d) was acknowledged", round, k, l.fifoDel)
	}
	for j := l.fifoDel + 1; j < k; j++ {
		if !l.fifoTry[j] {
			t.Errorf("round %d: FIFO message %d received before message %d, which is not deleted", round, k, j)
			return
		}
	}
}

func multipart(ctx context.Context, c *s3.Client, bucket, key string) error {
	body := objectBody(key)
	up, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &bucket, Key: &key})
	if err != nil {
		return err
	}
	var parts []s3types.CompletedPart
	for i, chunk := range [][]byte{body[:5<<20], body[5<<20:]} {
		n := int32(i + 1)
		p, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: &bucket, Key: &key, UploadId: up.UploadId, PartNumber: &n, Body: bytes.NewReader(chunk)})
		if err != nil {
			return err
		}
		parts = append(parts, s3types.CompletedPart{PartNumber: aws.Int32(n), ETag: p.ETag})
	}
	_, err = c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: &bucket, Key: &key, UploadId: up.UploadId,
		MultipartUpload: &s3types.CompletedMultipartUpload{Parts: parts}})
	return err
}

func TestAcknowledgedWritesSurviveKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("kills and restarts the wharf binary for about a minute")
	}
	bin := wharfproc.Build(t)
	data := t.TempDir()
	p := wharfproc.Start(t, bin, data)
	c := connect(p)
	w := setup(t, c)
	l := &ledger{objects: map[string]bool{}, items: map[string]bool{}, txs: map[int]bool{}, std: map[string]bool{},
		stdGone: map[string]bool{}, stdTry: map[string]bool{}, events: map[string]bool{}, notes: map[string]bool{}, fifoTry: map[int]bool{}}

	seed := time.Now().UnixNano()
	t.Logf("kill moments from seed %d", seed)
	rnd := rand.New(rand.NewPCG(uint64(seed), 0))
	const rounds = 12
	for round := range rounds {
		var killed atomic.Bool
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			defer close(done)
			l.run(t, ctx, c, w, round, func() bool { return !killed.Load() })
		}()
		time.Sleep(time.Duration(100+rnd.IntN(1400)) * time.Millisecond)
		killed.Store(true)
		p.Kill()
		cancel()
		<-done
		p = wharfproc.Start(t, bin, data)
		c = connect(p)
	}
	t.Logf("%d rounds, %d acknowledged writes", rounds, l.writes.Load())
	l.verify(t, c, w)
}

// verify checks everything the ledger holds against the restarted wharf.
func (l *ledger) verify(t *testing.T, c clients, w world) {
	ctx := context.Background()

	// Objects: every acknowledged one is there, and every one there (also
	// those whose PUT was cut off) is whole.
	found := map[string]bool{}
	pages := s3.NewListObjectsV2Paginator(c.s3, &s3.ListObjectsV2Input{Bucket: &w.bucket})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range page.Contents {
			found[*o.Key] = true
		}
	}
	for key := range l.objects {
		if !found[key] {
			t.Errorf("acknowledged object %s is missing", key)
		}
	}
	for key := range found {
		out, err := c.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: &w.bucket, Key: &key})
		if err != nil {
			t.Errorf("GetObject %s: %v", key, err)
			continue
		}
		got, err := io.ReadAll(out.Body)
		out.Body.Close()
		if want := objectBody(key); err != nil || !bytes.Equal(got, want) {
			t.Errorf("object %s: %d bytes (%v), want its %d bytes whole", key, len(got), err, len(want))
		}
	}

	// Items, and transactions all or nothing.
	getItem := func(id string) bool {
		out, err := c.ddb.GetItem(ctx, &dynamodb.GetItemInput{TableName: &w.table, ConsistentRead: aws.Bool(true),
			Key: map[string]ddbtypes.AttributeValue{"id": &ddbtypes.AttributeValueMemberS{Value: id}}})
		if err != nil {
			t.Fatalf("GetItem %s: %v", id, err)
		}
		return out.Item != nil
	}
	for id := range l.items {
		if !getItem(id) {
			t.Errorf("acknowledged item %s is missing", id)
		}
	}
	for tx, acked := range l.txs {
		a, b := getItem(fmt.Sprintf("tx%d/a", tx)), getItem(fmt.Sprintf("tx%d/b", tx))
		if a != b || (acked && !a) {
			t.Errorf("transaction %d (acknowledged: %v): item a present %v, item b present %v", tx, acked, a, b)
		}
	}

	// Queues: drain what is left and what the rule and the topic delivered.
	drain := func(url string, want func(map[string]bool) bool, each func(body string)) map[string]bool {
		got := map[string]bool{}
		for deadline := time.Now().Add(30 * time.Second); !want(got) && time.Now().Before(deadline); {
			out, err := c.sqs.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range out.Messages {
				got[*m.Body] = true
				if each != nil {
					each(*m.Body)
				}
				if _, err := c.sqs.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: &url, ReceiptHandle: m.ReceiptHandle}); err != nil {
					t.Fatal(err)
				}
			}
		}
		return got
	}
	all := func(want map[string]bool, key func(string) string) func(map[string]bool) bool {
		return func(got map[string]bool) bool {
			have := map[string]bool{}
			for b := range got {
				have[key(b)] = true
			}
			for k := range want {
				if !have[k] {
					return false
				}
			}
			return true
		}
	}
	same := func(s string) string { return s }
	left := map[string]bool{}
	for m := range l.std {
		// A delete cut off by the kill may or may not have happened.
		if !l.stdTry[m] {
			left[m] = true
		}
	}
	stdGot := drain(w.stdURL, all(left, same), func(body string) {
		if l.stdGone[body] {
			t.Errorf("standard message %s received after its delete was acknowledged", body)
		}
	})
	for m := range left {
		if !stdGot[m] {
			t.Errorf("acknowledged standard message %s was lost", m)
		}
	}

	fifoWant := map[string]bool{}
	for k := l.fifoDel + 1; k <= l.fifoSent; k++ {
		// A delete cut off by the kill may or may not have happened.
		if !l.fifoTry[k] {
			fifoWant[strconv.Itoa(k)] = true
		}
	}
	var fifoOrder []int
	drain(w.fifoURL, all(fifoWant, same), func(body string) {
		k, _ := strconv.Atoi(body)
		l.checkFIFO(t, -1, k)
		fifoOrder = append(fifoOrder, k)
		l.fifoDel = max(l.fifoDel, k)
	})
	for k := range fifoWant {
		n, _ := strconv.Atoi(k)
		if !slices.Contains(fifoOrder, n) {
			t.Errorf("acknowledged FIFO message %d was lost", n)
		}
	}

	detailID := func(body string) string {
		var ev struct {
			Detail struct {
				ID string `json:"id"`
			} `json:"detail"`
		}
		json.Unmarshal([]byte(body), &ev)
		return ev.Detail.ID
	}
	evGot := drain(w.evURL, all(l.events, detailID), nil)
	ids := map[string]bool{}
	for b := range evGot {
		ids[detailID(b)] = true
	}
	for id := range l.events {
		if !ids[id] {
			t.Errorf("acknowledged event %s never reached the rule's queue", id)
		}
	}
	notesGot := drain(w.notesURL, all(l.notes, same), nil)
	for m := range l.notes {
		if !notesGot[m] {
			t.Errorf("acknowledged SNS message %s never reached the subscribed queue", m)
		}
	}
	t.Logf("checked %d objects, %d items, %d transactions, %d+%d queue messages, FIFO up to %d, %d events, %d notifications",
		len(found), len(l.items), len(l.txs), len(l.std), len(l.stdGone), l.fifoSent, len(l.events), len(l.notes))
}
