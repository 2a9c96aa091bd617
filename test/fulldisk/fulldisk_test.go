// Package fulldisk runs the real wharf binary on a small tmpfs and fills it:
// writes must fail with each service's retryable error, reads and deletes
// must go on, health must say degraded, SIGTERM must exit 0, wharf must start
// again on the full disk, and recover by itself once space returns, with
// every acknowledged write kept throughout.
package fulldisk

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"

	"github.com/wharf-dev/wharf/internal/sdkhttp"
	"github.com/wharf-dev/wharf/test/internal/wharfproc"
)

func TestMain(m *testing.M) {
	code := m.Run()
	wharfproc.Cleanup()
	os.Exit(code)
}

// mountTmpfs mounts a tmpfs of the given size on a new directory, unmounted
// when the test ends. It needs root: outside CI a test that cannot mount is
// skipped, in CI (CI=true, set by .ci/run, which runs as root) it fails.
func mountTmpfs(t *testing.T, size string) string {
	t.Helper()
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size+",mode=0700", "tmpfs", dir).CombinedOutput(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("mount a tmpfs for the full-disk test: %v: %s", err, out)
		}
		t.Skipf("cannot mount a tmpfs (root is needed): %v: %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount: %v: %s", err, out)
		}
	})
	return dir
}

// fill writes to path until the disk it is on is full.
func fill(t *testing.T, path string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 64<<10)
	for {
		if _, err := f.Write(buf); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatal(err)
			}
			return
		}
	}
}

type clients struct {
	s3  *s3.Client
	sqs *sqs.Client
	ddb *dynamodb.Client
	sns *sns.Client
}

func connect(p *wharfproc.Proc) clients {
	hc := sdkhttp.Client(nil)
	hc.Timeout = 60 * time.Second
	cfg := aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""),
		// One attempt: the test looks at each error the server gives.
		RetryMaxAttempts: 1,
		BaseEndpoint:     aws.String(p.Endpoint()),
		HTTPClient:       hc,
	}
	return clients{
		s3:  s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }),
		sqs: sqs.NewFromConfig(cfg),
		ddb: dynamodb.NewFromConfig(cfg),
		sns: sns.NewFromConfig(cfg),
	}
}

// wantRetryable checks that err is the AWS error code with HTTP status,
// and that the SDK's own default retry policy would retry it.
func wantRetryable(t *testing.T, what string, err error, code string, status int) {
	t.Helper()
	var ae smithy.APIError
	var re *awshttp.ResponseError
	if !errors.As(err, &ae) || !errors.As(err, &re) {
		t.Errorf("%s on a full disk: %v, want %s %d", what, err, code, status)
		return
	}
	if ae.ErrorCode() != code || re.HTTPStatusCode() != status {
		t.Errorf("%s on a full disk: %s %d (%v), want %s %d", what, ae.ErrorCode(), re.HTTPStatusCode(), err, code, status)
	}
	if retry.IsErrorRetryables(retry.DefaultRetryables).IsErrorRetryable(err) != aws.TrueTernary {
		t.Errorf("%s on a full disk: the SDK would not retry %v", what, err)
	}
}

func body(key string, size int) []byte {
	b := bytes.Repeat([]byte(key+"."), size/(len(key)+1)+1)
	return b[:size]
}

func TestFullDisk(t *testing.T) {
	bin := wharfproc.Build(t)
	mnt := mountTmpfs(t, "80m")
	data := filepath.Join(mnt, "data")
	p := wharfproc.Start(t, bin, data)
	c := connect(p)
	ctx := context.Background()

	const bucket, table = "full", "items"
	if _, err := c.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	// Visibility 0 by default: a receive leaves the messages for the next.
	q, err := c.sqs.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("full"), Attributes: map[string]string{"VisibilityTimeout": "0"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.ddb.CreateTable(ctx, &dynamodb.CreateTableInput{TableName: aws.String(table),
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: ddbtypes.KeyTypeHash}},
		BillingMode:          ddbtypes.BillingModePayPerRequest}); err != nil {
		t.Fatal(err)
	}

	// What was acknowledged, and must be there to the end.
	objects := map[string][]byte{}
	items := map[string]string{}
	messages := map[string]bool{}
	putObject := func(key string, size int) error {
		b := body(key, size)
		_, err := c.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(b)})
		if err == nil {
			objects[key] = b
		}
		return err
	}
	putItem := func(id string) error {
		_, err := c.ddb.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: map[string]ddbtypes.AttributeValue{
			"id": &ddbtypes.AttributeValueMemberS{Value: id}, "v": &ddbtypes.AttributeValueMemberS{Value: "value of " + id}}})
		if err == nil {
			items[id] = "value of " + id
		}
		return err
	}
	send := func(b string) error {
		_, err := c.sqs.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: q.QueueUrl, MessageBody: aws.String(b)})
		if err == nil {
			messages[b] = true
		}
		return err
	}
	for i := range 4 {
		for _, err := range []error{
			putObject(fmt.Sprintf("big/%d", i), 2<<20),
			putObject(fmt.Sprintf("small/%d", i), 1000),
			putItem(fmt.Sprintf("item-%d", i)),
			send(fmt.Sprintf("message-%d", i)),
		} {
			if err != nil {
				t.Fatal(err)
			}
		}
	}

	up, err := c.s3.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String("multipart")})
	if err != nil {
		t.Fatal(err)
	}
	part := body("multipart", 5<<20)
	uploadPart := func() (*s3.UploadPartOutput, error) {
		return c.s3.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(bucket), Key: aws.String("multipart"), UploadId: up.UploadId,
			PartNumber: aws.Int32(1), Body: bytes.NewReader(part)})
	}

	fill(t, filepath.Join(mnt, "filler"))

	// Writes: each service's retryable error, never blaming the client.
	err = putObject("big/new", 2<<20)
	wantRetryable(t, "S3 PutObject (file)", err, "SlowDown", 503)
	wantRetryable(t, "S3 PutObject (small)", putObject("small/new", 1000), "SlowDown", 503)
	_, err = uploadPart()
	wantRetryable(t, "S3 UploadPart", err, "SlowDown", 503)
	wantRetryable(t, "SQS SendMessage", send("refused"), "ServiceUnavailable", 503)
	batch, err := c.sqs.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: q.QueueUrl,
		Entries: []sqstypes.SendMessageBatchRequestEntry{{Id: aws.String("a"), MessageBody: aws.String("refused")}}})
	// The batch fails whole (retryably), or its entry does, not as the
	// sender's fault.
	if err != nil {
		wantRetryable(t, "SQS SendMessageBatch", err, "ServiceUnavailable", 503)
	} else if len(batch.Failed) != 1 || aws.ToString(batch.Failed[0].Code) != "ServiceUnavailable" || batch.Failed[0].SenderFault {
		t.Errorf("SQS SendMessageBatch on a full disk: %+v; want the entry failed with ServiceUnavailable, not the sender's fault", batch)
	}
	wantRetryable(t, "DynamoDB PutItem", putItem("refused"), "InternalServerError", 500)
	_, err = c.sns.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("refused")})
	wantRetryable(t, "SNS CreateTopic", err, "ServiceUnavailable", 503)

	h, err := p.Health()
	if err != nil || h.Status != "degraded" || !strings.Contains(h.Reason, "disk is full") {
		t.Errorf("health on a full disk: %+v, %v; want degraded, saying the disk is full", h, err)
	}

	// Reads and deletes go on.
	checkAll := func(c clients) {
		t.Helper()
		for key, want := range objects {
			out, err := c.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
			if err != nil {
				t.Errorf("GetObject %s: %v", key, err)
				continue
			}
			got, err := io.ReadAll(out.Body)
			out.Body.Close()
			if err != nil || !bytes.Equal(got, want) {
				t.Errorf("GetObject %s: %d bytes (%v), want %d", key, len(got), err, len(want))
			}
		}
		for id, want := range items {
			out, err := c.ddb.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true),
				Key: map[string]ddbtypes.AttributeValue{"id": &ddbtypes.AttributeValueMemberS{Value: id}}})
			if err != nil {
				t.Errorf("GetItem %s: %v", id, err)
				continue
			}
			if v, _ := out.Item["v"].(*ddbtypes.AttributeValueMemberS); v == nil || v.Value != want {
				t.Errorf("GetItem %s: %v", id, out.Item)
			}
		}
		// Every message not deleted is there; receiving them (a write to
		// the store) works on a full disk too.
		seen := map[string]bool{}
		for range 5 {
			out, err := c.sqs.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: q.QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
			if err != nil {
				t.Errorf("ReceiveMessage: %v", err)
				break
			}
			for _, m := range out.Messages {
				seen[aws.ToString(m.Body)] = true
			}
			if len(seen) >= len(messages) {
				break
			}
		}
		for m := range messages {
			if !seen[m] {
				t.Errorf("message %q not received", m)
			}
		}
	}
	checkAll(c)

	if _, err := c.s3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String("big/0")}); err != nil {
		t.Errorf("DeleteObject on a full disk: %v", err)
	} else {
		delete(objects, "big/0")
	}
	if _, err := c.ddb.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(table),
		Key: map[string]ddbtypes.AttributeValue{"id": &ddbtypes.AttributeValueMemberS{Value: "item-0"}}}); err != nil {
		t.Errorf("DeleteItem on a full disk: %v", err)
	} else {
		delete(items, "item-0")
	}
	out, err := c.sqs.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: q.QueueUrl, MaxNumberOfMessages: 1, VisibilityTimeout: 30, WaitTimeSeconds: 5})
	if err != nil || len(out.Messages) != 1 {
		t.Fatalf("ReceiveMessage to delete: %v, %v", out, err)
	}
	if _, err := c.sqs.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: q.QueueUrl, ReceiptHandle: out.Messages[0].ReceiptHandle}); err != nil {
		t.Errorf("DeleteMessage on a full disk: %v", err)
	} else {
		delete(messages, aws.ToString(out.Messages[0].Body))
	}
	checkAll(c)

	// The deletes gave space back: take it, so that the restart is on a
	// full disk too. SIGTERM exits 0.
	fill(t, filepath.Join(mnt, "filler2"))
	if code, err := p.Stop(60 * time.Second); err != nil || code != 0 {
		t.Fatalf("SIGTERM on a full disk: exit %d, %v; want 0", code, err)
	}

	// Start on the full disk: degraded, serving reads and deletes.
	p = wharfproc.Start(t, bin, data)
	c = connect(p)
	if h, err := p.Health(); err != nil || h.Status != "degraded" {
		t.Errorf("health after a start on a full disk: %+v, %v; want degraded", h, err)
	}
	checkAll(c)
	wantRetryable(t, "S3 PutObject after a restart", putObject("small/new", 1000), "SlowDown", 503)
	if _, err := c.s3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String("small/0")}); err != nil {
		t.Errorf("DeleteObject after a restart on a full disk: %v", err)
	} else {
		delete(objects, "small/0")
	}

	// kill -9 while degraded, with that delete perhaps only in the log:
	// wharf starts again and has it.
	p.Kill()
	p = wharfproc.Start(t, bin, data)
	c = connect(p)
	checkAll(c)

	// Space returns: wharf takes writes again by itself.
	if err := os.Remove(filepath.Join(mnt, "filler")); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(mnt, "filler2")); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		h, err := p.Health()
		if err == nil && h.Status == "running" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("still not running with space free: %+v, %v", h, err)
		}
	}
	for _, err := range []error{putObject("big/after", 2<<20), putObject("small/after", 1000), putItem("after"), send("after")} {
		if err != nil {
			t.Errorf("a write after space returned: %v", err)
		}
	}
	// The upload begun before the disk filled completes now.
	if p, err := uploadPart(); err != nil {
		t.Errorf("UploadPart after space returned: %v", err)
	} else if _, err := c.s3.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String("multipart"),
		UploadId: up.UploadId, MultipartUpload: &s3types.CompletedMultipartUpload{Parts: []s3types.CompletedPart{{PartNumber: aws.Int32(1), ETag: p.ETag}}}}); err != nil {
		t.Errorf("CompleteMultipartUpload after space returned: %v", err)
	} else {
		objects["multipart"] = part
	}
	checkAll(c)
	if code, err := p.Stop(60 * time.Second); err != nil || code != 0 {
		t.Fatalf("SIGTERM: exit %d, %v; want 0", code, err)
	}
	p = wharfproc.Start(t, bin, data)
	checkAll(connect(p))
}
