package sqs

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/wharf-dev/wharf/internal/apierr"
	"github.com/wharf-dev/wharf/internal/awsapi"
	sqsapi "github.com/wharf-dev/wharf/internal/awsapi/sqs"
	"github.com/wharf-dev/wharf/internal/clock"
	"github.com/wharf-dev/wharf/internal/store"
)

// newFakeClock is a manual clock: After fires only when Advance passes it.
func newFakeClock() *clock.Manual {
	return clock.NewManual(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
}

const testAccount = "123456789012"

func testCtx() context.Context {
	return awsapi.WithCaller(context.Background(), &awsapi.Caller{Account: testAccount, Region: "us-east-1", Host: "localhost:4566"})
}

type fixture struct {
	t     testing.TB
	svc   *Service
	clock *clock.Manual
	ctx   context.Context
}

func newFixture(t *testing.T) *fixture {
	return newFixtureOn(t, store.OpenMemory(), newFakeClock())
}

func newFixtureOn(t testing.TB, st store.Store, clock *clock.Manual) *fixture {
	t.Helper()
	return &fixture{t: t, svc: New(Options{Store: st, Clock: clock}), clock: clock, ctx: testCtx()}
}

// diskFixture is a fixture on a durable store in a directory of its own,
// which restart closes and opens again, as a restarted wharf does.
type diskFixture struct {
	*fixture
	dir string
	st  store.Store
}

// newDiskFixture opens a durable store in a new directory, and a fixture
// with a manual clock on it; the store is closed when the test ends.
func newDiskFixture(t *testing.T) *diskFixture {
	t.Helper()
	d := &diskFixture{dir: t.TempDir()}
	d.open(t, newFakeClock())
	t.Cleanup(func() { d.st.Close() })
	return d
}

func (d *diskFixture) open(t testing.TB, clock *clock.Manual) {
	t.Helper()
	st, err := store.Open(d.dir)
	if err != nil {
		t.Fatal(err)
	}
	d.st, d.fixture = st, newFixtureOn(t, st, clock)
}

// restart closes the store and opens its directory in a new service, on
// the same clock.
func (d *diskFixture) restart() {
	d.t.Helper()
	if err := d.st.Close(); err != nil {
		d.t.Fatal(err)
	}
	d.open(d.t, d.clock)
}

func (f *fixture) createQueue(name string, attrs map[string]string) string {
	f.t.Helper()
	out, err := f.svc.CreateQueue(f.ctx, &sqsapi.CreateQueueInput{QueueName: &name, Attributes: attrs})
	if err != nil {
		f.t.Fatalf("CreateQueue %s: %v", name, err)
	}
	return *out.QueueUrl
}

func (f *fixture) send(url, body string) *sqsapi.SendMessageOutput {
	f.t.Helper()
	out, err := f.svc.SendMessage(f.ctx, &sqsapi.SendMessageInput{QueueUrl: &url, MessageBody: &body})
	if err != nil {
		f.t.Fatalf("SendMessage: %v", err)
	}
	return out
}

func (f *fixture) sendGroup(url, body, group, dedup string) *sqsapi.SendMessageOutput {
	f.t.Helper()
	in := &sqsapi.SendMessageInput{QueueUrl: &url, MessageBody: &body, MessageGroupId: &group}
	if dedup != "" {
		in.MessageDeduplicationId = &dedup
	}
	out, err := f.svc.SendMessage(f.ctx, in)
	if err != nil {
		f.t.Fatalf("SendMessage: %v", err)
	}
	return out
}

func (f *fixture) receive(url string, n int32) []sqsapi.Message {
	f.t.Helper()
	out, err := f.svc.ReceiveMessage(f.ctx, &sqsapi.ReceiveMessageInput{QueueUrl: &url, MaxNumberOfMessages: &n, MessageSystemAttributeNames: []string{"All"}})
	if err != nil {
		f.t.Fatalf("ReceiveMessage: %v", err)
	}
	return out.Messages
}

func (f *fixture) attrs(url string) map[string]string {
	f.t.Helper()
	out, err := f.svc.GetQueueAttributes(f.ctx, &sqsapi.GetQueueAttributesInput{QueueUrl: &url, AttributeNames: []string{"All"}})
	if err != nil {
		f.t.Fatalf("GetQueueAttributes: %v", err)
	}
	return out.Attributes
}

func bodies(msgs []sqsapi.Message) []string {
	var out []string
	for _, m := range msgs {
		out = append(out, *m.Body)
	}
	return out
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	e := apierr.As(err)
	if e == nil || e.Code != code {
		t.Fatalf("error = %v, want code %s", err, code)
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestQueueURLAndARNNameTheCallersAccountAndRegion(t *testing.T) {
	f := newFixture(t)
	url := f.createQueue("orders", nil)
	if url != "http://localhost:4566/123456789012/orders" {
		t.Fatalf("url = %s", url)
	}
	if got := f.attrs(url)["QueueArn"]; got != "arn:aws:sqs:us-east-1:123456789012:orders" {
		t.Fatalf("QueueArn = %s", got)
	}
	// A path works as well as a full URL, and other regions do not see the queue.
	if _, err := f.svc.GetQueueAttributes(f.ctx, &sqsapi.GetQueueAttributesInput{QueueUrl: awsapi.String("/123456789012/orders")}); err != nil {
		t.Fatalf("path QueueUrl: %v", err)
	}
	other := awsapi.WithCaller(context.Background(), &awsapi.Caller{Account: testAccount, Region: "eu-west-1"})
	_, err := f.svc.GetQueueUrl(other, &sqsapi.GetQueueUrlInput{QueueName: awsapi.String("orders")})
	wantCode(t, err, "QueueDoesNotExist")
}

func TestCreateQueueIsIdempotentOnlyWithTheSameAttributes(t *testing.T) {
	f := newFixture(t)
	u1 := f.createQueue("q", map[string]string{"VisibilityTimeout": "40"})
	u2 := f.createQueue("q", map[string]string{"VisibilityTimeout": "40"})
	if u1 != u2 {
		t.Fatalf("urls differ: %s %s", u1, u2)
	}
	_, err := f.svc.CreateQueue(f.ctx, &sqsapi.CreateQueueInput{QueueName: awsapi.String("q"), Attributes: map[string]string{"VisibilityTimeout": "50"}})
	wantCode(t, err, "QueueNameExists")
}

func TestQueueAttributeValidation(t *testing.T) {
	cases := []struct {
		name, attr, value, code string
	}{
		{"visibility too large", "VisibilityTimeout", "43201", "InvalidAttributeValue"},
		{"visibility negative", "VisibilityTimeout", "-1", "InvalidAttributeValue"},
		{"visibility not a number", "VisibilityTimeout", "soon", "InvalidAttributeValue"},
		{"retention too short", "MessageRetentionPeriod", "59", "InvalidAttributeValue"},
		{"retention too long", "MessageRetentionPeriod", "1209601", "InvalidAttributeValue"},
		{"message size too small", "MaximumMessageSize", "1023", "InvalidAttributeValue"},
		{"message size too large", "MaximumMessageSize", "1048577", "InvalidAttributeValue"},
		{"delay too long", "DelaySeconds", "901", "InvalidAttributeValue"},
		{"wait too long", "ReceiveMessageWaitTimeSeconds", "21", "InvalidAttributeValue"},
		{"redrive not JSON", "RedrivePolicy", "{", "InvalidAttributeValue"},
		{"redrive without target", "RedrivePolicy", `{"maxReceiveCount":3}`, "InvalidAttributeValue"},
		{"redrive to a missing queue", "RedrivePolicy", `{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:123456789012:nope","maxReceiveCount":3}`, "InvalidAttributeValue"},
		{"redrive allow unknown permission", "RedriveAllowPolicy", `{"redrivePermission":"maybe"}`, "InvalidAttributeValue"},
		{"unknown attribute", "Colour", "blue", "InvalidAttributeName"},
		{"read-only attribute", "QueueArn", "arn:aws:sqs:us-east-1:1:x", "InvalidAttributeName"},
		{"FIFO attribute on a standard queue", "ContentBasedDeduplication", "true", "InvalidAttributeName"},
		{"valid visibility", "VisibilityTimeout", "43200", ""},
		{"valid retention", "MessageRetentionPeriod", "60", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			url := f.createQueue("q", nil)
			_, err := f.svc.SetQueueAttributes(f.ctx, &sqsapi.SetQueueAttributesInput{QueueUrl: &url, Attributes: map[string]string{tc.attr: tc.value}})
			if tc.code == "" {
				if err != nil {
					t.Fatalf("SetQueueAttributes: %v", err)
				}
				if got := f.attrs(url)[tc.attr]; got != tc.value {
					t.Fatalf("%s = %q, want %q", tc.attr, got, tc.value)
				}
				return
			}
			wantCode(t, err, tc.code)
			_, err = f.svc.CreateQueue(f.ctx, &sqsapi.CreateQueueInput{QueueName: awsapi.String("other"), Attributes: map[string]string{tc.attr: tc.value}})
			wantCode(t, err, tc.code)
		})
	}
}

func TestGetQueueAttributesReturnsDefaultsAndTimestamps(t *testing.T) {
	f := newFixture(t)
	url := f.createQueue("q", nil)
	f.clock.Advance(10 * time.Second)
	if _, err := f.svc.SetQueueAttributes(f.ctx, &sqsapi.SetQueueAttributesInput{QueueUrl: &url, Attributes: map[string]string{"DelaySeconds": "5"}}); err != nil {
		t.Fatal(err)
	}
	a := f.attrs(url)
	want := map[string]string{
		"VisibilityTimeout": "30", "MaximumMessageSize": "1048576", "MessageRetentionPeriod": "345600",
		"DelaySeconds": "5", "ReceiveMessageWaitTimeSeconds": "0", "ApproximateNumberOfMessages": "0",
		"ApproximateNumberOfMessagesNotVisible": "0", "ApproximateNumberOfMessagesDelayed": "0",
		"CreatedTimestamp":      strconv.FormatInt(newFakeClock().Now().Unix(), 10),
		"LastModifiedTimestamp": strconv.FormatInt(newFakeClock().Now().Unix()+10, 10),
	}
	for k, v := range want {
		if a[k] != v {
			t.Errorf("%s = %q, want %q", k, a[k], v)
		}
	}
	if _, ok := a["FifoQueue"]; ok {
		t.Errorf("standard queue reports FifoQueue")
	}
	one, err := f.svc.GetQueueAttributes(f.ctx, &sqsapi.GetQueueAttributesInput{QueueUrl: &url, AttributeNames: []string{"QueueArn"}})
	if err != nil || len(one.Attributes) != 1 {
		t.Fatalf("single attribute: %v %v", one, err)
	}
	_, err = f.svc.GetQueueAttributes(f.ctx, &sqsapi.GetQueueAttributesInput{QueueUrl: &url, AttributeNames: []string{"Bogus"}})
	wantCode(t, err, "InvalidAttributeName")
}

func TestSendReturnsTheDigestsClientsVerify(t *testing.T) {
	f := newFixture(t)
	url := f.createQueue("q", nil)
	out, err := f.svc.SendMessage(f.ctx, &sqsapi.SendMessageInput{
		QueueUrl: &url, MessageBody: awsapi.String("hello"),
		MessageAttributes: map[string]sqsapi.MessageAttributeValue{
			"City":       {DataType: awsapi.String("String"), StringValue: awsapi.String("Any City")},
			"Population": {DataType: awsapi.String("Number"), StringValue: awsapi.String("1250800")},
			"Blob":       {DataType: awsapi.String("Binary"), BinaryValue: []byte{0, 1, 2}},
		},
		MessageSystemAttributes: map[string]sqsapi.MessageSystemAttributeValue{
			"AWSTraceHeader": {DataType: awsapi.String("String"), StringValue: awsapi.String("Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1")},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	// Expected digests computed independently (Python, following "Calculating
	// the MD5 message digest for message attributes").
	if *out.MD5OfMessageBody != "5d41402abc4b2a76b9719d911017c592" {
		t.Errorf("MD5OfMessageBody = %s", *out.MD5OfMessageBody)
	}
	if *out.MD5OfMessageAttributes != "69d43f899c5f825653b41c617787137a" {
		t.Errorf("MD5OfMessageAttributes = %s", *out.MD5OfMessageAttributes)
	}
	if *out.MD5OfMessageSystemAttributes != "5f48eef650c1d0207456969c85af2fdd" {
		t.Errorf("MD5OfMessageSystemAttributes = %s", *out.MD5OfMessageSystemAttributes)
	}
	n := int32(1)
	rec, err := f.svc.ReceiveMessage(f.ctx, &sqsapi.ReceiveMessageInput{QueueUrl: &url, MaxNumberOfMessages: &n, MessageAttributeNames: []string{"All"}, MessageSystemAttributeNames: []string{"AWSTraceHeader"}})
	if err != nil || len(rec.Messages) != 1 {
		t.Fatalf("receive: %v %v", rec, err)
	}
	m := rec.Messages[0]
	if *m.MD5OfMessageAttributes != "69d43f899c5f825653b41c617787137a" || len(m.MessageAttributes) != 3 {
		t.Errorf("received attributes %v, digest %s", m.MessageAttributes, *m.MD5OfMessageAttributes)
	}
	if m.Attributes["AWSTraceHeader"] == "" || len(m.Attributes) != 1 {
		t.Errorf("system attributes = %v", m.Attributes)
	}
}

func TestMessageAttributeNameFilters(t *testing.T) {
	attrs := map[string]sqsapi.MessageAttributeValue{
		"order.id":   {DataType: awsapi.String("String"), StringValue: awsapi.String("1")},
		"order.kind": {DataType: awsapi.String("String"), StringValue: awsapi.String("x")},
		"trace":      {DataType: awsapi.String("String"), StringValue: awsapi.String("t")},
	}
	cases := []struct {
		filter []string
		want   int
	}{
		{nil, 0},
		{[]string{"All"}, 3},
		{[]string{".*"}, 3},
		{[]string{"order.*"}, 2},
		{[]string{"trace"}, 1},
		{[]string{"missing"}, 0},
	}
	for _, tc := range cases {
		f := newFixture(t)
		url := f.createQueue("q", nil)
		if _, err := f.svc.SendMessage(f.ctx, &sqsapi.SendMessageInput{QueueUrl: &url, MessageBody: awsapi.String("b"), MessageAttributes: attrs}); err != nil {
			t.Fatal(err)
		}
		out, err := f.svc.ReceiveMessage(f.ctx, &sqsapi.ReceiveMessageInput{QueueUrl: &url, MessageAttributeNames: tc.filter})
		if err != nil {
			t.Fatal(err)
		}
		m := out.Messages[0]
		if len(m.MessageAttributes) != tc.want {
			t.Errorf("filter %v: %d attributes, want %d", tc.filter, len(m.MessageAttributes), tc.want)
		}
		if (m.MD5OfMessageAttributes != nil) != (tc.want > 0) {
			t.Errorf("filter %v: digest %v", tc.filter, m.MD5OfMessageAttributes)
		}
	}
}

func TestSendRejectsInvalidMessages(t *testing.T) {
	big := make([]byte, 1025)
	for i := range big {
		big[i] = 'a'
	}
	cases := []struct {
		name string
		in   sqsapi.SendMessageInput
		code string
	}{
		{"empty body", sqsapi.SendMessageInput{MessageBody: awsapi.String("")}, "MissingParameter"},
		{"control character", sqsapi.SendMessageInput{MessageBody: awsapi.String("a\x01b")}, "InvalidMessageContents"},
		{"lone surrogate bytes", sqsapi.SendMessageInput{MessageBody: awsapi.String("a\xed\xa0\x80")}, "InvalidMessageContents"},
		{"larger than the queue allows", sqsapi.SendMessageInput{MessageBody: awsapi.String(string(big))}, "InvalidParameterValue"},
		{"delay too long", sqsapi.SendMessageInput{MessageBody: awsapi.String("x"), DelaySeconds: awsapi.Int32(901)}, "InvalidParameterValue"},
		{"attribute without value", sqsapi.SendMessageInput{MessageBody: awsapi.String("x"), MessageAttributes: map[string]sqsapi.MessageAttributeValue{"a": {DataType: awsapi.String("String")}}}, "InvalidParameterValue"},
		{"attribute of unknown type", sqsapi.SendMessageInput{MessageBody: awsapi.String("x"), MessageAttributes: map[string]sqsapi.MessageAttributeValue{"a": {DataType: awsapi.String("Date"), StringValue: awsapi.String("x")}}}, "InvalidParameterValue"},
		{"number that is not", sqsapi.SendMessageInput{MessageBody: awsapi.String("x"), MessageAttributes: map[string]sqsapi.MessageAttributeValue{"a": {DataType: awsapi.String("Number"), StringValue: awsapi.String("one")}}}, "InvalidParameterValue"},
		{"reserved attribute name", sqsapi.SendMessageInput{MessageBody: awsapi.String("x"), MessageAttributes: map[string]sqsapi.MessageAttributeValue{"AWS.x": {DataType: awsapi.String("String"), StringValue: awsapi.String("x")}}}, "InvalidParameterValue"},
		{"deduplication id on a standard queue", sqsapi.SendMessageInput{MessageBody: awsapi.String("x"), MessageDeduplicationId: awsapi.String("d")}, "InvalidParameterValue"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			url := f.createQueue("q", map[string]string{"MaximumMessageSize": "1024"})
			in := tc.in
			in.QueueUrl = &url
			_, err := f.svc.SendMessage(f.ctx, &in)
			wantCode(t, err, tc.code)
			if a := f.attrs(url); a["ApproximateNumberOfMessages"] != "0" {
				t.Fatalf("a rejected message was stored: %v", a)
			}
		})
	}
}

func TestReceiveHonoursVisibilityTimeout(t *testing.T) {
	f := newFixture(t)
	url := f.createQueue("q", map[string]string{"VisibilityTimeout": "30"})
	f.send(url, "m1")
	first := f.receive(url, 10)
	if len(first) != 1 || first[0].Attributes["ApproximateReceiveCount"] != "1" {
		t.Fatalf("first receive = %v", first)
	}
	if a := f.attrs(url); a["ApproximateNumberOfMessages"] != "0" || a["ApproximateNumberOfMessagesNotVisible"] != "1" {
		t.Fatalf("counts in flight: %v", a)
	}
	f.clock.Advance(29 * time.Second)
	if got := f.receive(url, 10); len(got) != 0 {
		t.Fatalf("received an in-flight message: %v", bodies(got))
	}
	f.clock.Advance(time.Second)
	again := f.receive(url, 10)
	if len(again) != 1 || again[0].Attributes["ApproximateReceiveCount"] != "2" {
		t.Fatalf("after timeout = %v", again)
	}
	if again[0].Attributes["ApproximateFirstReceiveTimestamp"] != first[0].Attributes["ApproximateFirstReceiveTimestamp"] {
		t.Fatalf("first receive timestamp changed")
	}
	if *again[0].ReceiptHandle == *first[0].ReceiptHandle {
		t.Fatalf("receipt handle reused")
	}
}

func TestChangeMessageVisibility(t *testing.T) {
	f := newFixture(t)
	url := f.createQueue("q", nil)
	f.send(url, "m1")
	m := f.receive(url, 1)[0]
	if _, err := f.svc.ChangeMessageVisibility(f.ctx, &sqsapi.ChangeMessageVisibilityInput{QueueUrl: &url, ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: awsapi.Int32(0)}); err != nil {
		t.Fatal(err)
	}
	m2 := f.receive(url, 1)
	if len(m2) != 1 {
		t.Fatalf("visibility 0 did not make the message visible")
	}
	// Extend: still invisible after the queue's default 30 s.
	if _, err := f.svc.ChangeMessageVisibility(f.ctx, &sqsapi.ChangeMessageVisibilityInput{QueueUrl: &url, ReceiptHandle: m2[0].ReceiptHandle, VisibilityTimeout: awsapi.Int32(100)}); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(99 * time.Second)
	if len(f.receive(url, 1)) != 0 {
		t.Fatalf("extended message visible early")
	}
	f.clock.Advance(time.Second)
	_, err := f.svc.ChangeMessageVisibility(f.ctx, &sqsapi.ChangeMessageVisibilityInput{QueueUrl: &url, ReceiptHandle: m2[0].ReceiptHandle, VisibilityTimeout: awsapi.Int32(10)})
	wantCode(t, err, "MessageNotInflight")
	_, err = f.svc.ChangeMessageVisibility(f.ctx, &sqsapi.ChangeMessageVisibilityInput{QueueUrl: &url, ReceiptHandle: awsapi.String("garbage"), VisibilityTimeout: awsapi.Int32(10)})
	wantCode(t, err, "ReceiptHandleIsInvalid")
}

func TestDelayedMessagesAreCountedAndAppearLater(t *testing.T) {
	f := newFixture(t)
	url := f.createQueue("q", map[string]string{"DelaySeconds": "10"})
	f.send(url, "queue-delay")
	if _, err := f.svc.SendMessage(f.ctx, &sqsapi.SendMessageInput{QueueUrl: &url, MessageBody: awsapi.String("own-delay"), DelaySeconds: awsapi.Int32(0)}); err != nil {
		t.Fatal(err)
	}
	a := f.attrs(url)
	if a["ApproximateNumberOfMessagesDelayed"] != "1" || a["ApproximateNumberOfMessages"] != "1" {
		t.Fatalf("counts: %v", a)
	}
	if got := bodies(f.receive(url, 10)); !equal(got, []string{"own-delay"}) {
		t.Fatalf("receive = %v", got)
	}
	f.clock.Advance(10 * time.Second)
	if got := bodies(f.receive(url, 10)); !equal(got, []string{"queue-delay"}) {
		t.Fatalf("after delay = %v", got)
	}
}

func TestDeleteMessage(t *testing.T) {
	f := newFixture(t)
	url := f.createQueue("q", nil)
	f.send(url, "m1")
	m := f.receive(url, 1)[0]
	if _, err := f.svc.DeleteMessage(f.ctx, &sqsapi.DeleteMessageInput{QueueUrl: &url, ReceiptHandle: m.ReceiptHandle}); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(time.Hour)
	if len(f.receive(url, 1)) != 0 {
		t.Fatalf("deleted message came back")
	}
	// Deleting again succeeds, as on SQS.
	if _, err := f.svc.DeleteMessage(f.ctx, &sqsapi.DeleteMessageInput{QueueUrl: &url, ReceiptHandle: m.ReceiptHandle}); err != nil {
		t.Fatal(err)
	}
	_, err := f.svc.DeleteMessage(f.ctx, &sqsapi.DeleteMessageInput{QueueUrl: &url, ReceiptHandle: awsapi.String("not-a-handle")})
	wantCode(t, err, "ReceiptHandleIsInvalid")
}

func TestDeadLetterQueueTakesMessageOnTheReceiveThatExceedsMaxReceiveCount(t *testing.T) {
	f := newFixture(t)
	dlq := f.createQueue("dlq", nil)
	src := f.createQueue("src", map[string]string{
		"VisibilityTimeout": "5",
		"RedrivePolicy":     `{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:123456789012:dlq","maxReceiveCount":"2"}`,
	})
	f.send(src, "poison")
	for i := 1; i <= 2; i++ {
		got := f.receive(src, 1)
		if len(got) != 1 {
			t.Fatalf("receive %d: %v", i, got)
		}
		f.clock.Advance(5 * time.Second)
	}
	if got := f.receive(src, 1); len(got) != 0 {
		t.Fatalf("third receive returned %v, want the message moved", bodies(got))
	}
	moved := f.receive(dlq, 1)
	if len(moved) != 1 || *moved[0].Body != "poison" {
		t.Fatalf("dead-letter queue = %v", moved)
	}
	if moved[0].Attributes["DeadLetterQueueSourceArn"] != "arn:aws:sqs:us-east-1:123456789012:src" {
		t.Fatalf("source arn = %v", moved[0].Attributes)
	}
	out, err := f.svc.ListDeadLetterSourceQueues(f.ctx, &sqsapi.ListDeadLetterSourceQueuesInput{QueueUrl: &dlq})
	if err != nil || !equal(out.QueueUrls, []string{src}) {
		t.Fatalf("ListDeadLetterSourceQueues = %v %v", out, err)
	}
}

func TestRedriveAllowPolicyDenies(t *testing.T) {
	f := newFixture(t)
	f.createQueue("dlq", map[string]string{"RedriveAllowPolicy": `{"redrivePermission":"denyAll"}`})
	_, err := f.svc.CreateQueue(f.ctx, &sqsapi.CreateQueueInput{QueueName: awsapi.String("src"), Attributes: map[string]string{
		"RedrivePolicy": `{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:123456789012:dlq","maxReceiveCount":1}`,
	}})
	wantCode(t, err, "InvalidAttributeValue")
}

func TestFIFOKeepsGroupOrderWithOneGroupInFlight(t *testing.T) {
	f := newFixture(t)
	url := f.createQueue("q.fifo", map[string]string{"FifoQueue": "true", "ContentBasedDeduplication": "true"})
	f.sendGroup(url, "a1", "a", "")
	f.sendGroup(url, "a2", "a", "")
	f.sendGroup(url, "b1", "b", "")
	if got := bodies(f.receive(url, 1)); !equal(got, []string{"a1"}) {
		t.Fatalf("first = %v", got)
	}
	// Group a has a message in flight: only b may be delivered.
	if got := bodies(f.receive(url, 10)); !equal(got, []string{"b1"}) {
		t.Fatalf("second = %v", got)
	}
	if got := f.receive(url, 10); len(got) != 0 {
		t.Fatalf("third = %v", bodies(got))
	}
	// a1's visibility expires: it comes back before a2.
	f.clock.Advance(30 * time.Second)
	got := f.receive(url, 10)
	if !equal(bodies(got)[:2], []string{"a1", "a2"}) {
		t.Fatalf("after timeout = %v", bodies(got))
	}
	if got[0].Attributes["MessageGroupId"] != "a" || len(got[0].Attributes["SequenceNumber"]) != 20 {
		t.Fatalf("fifo attributes = %v", got[0].Attributes)
	}
}

func TestFIFODeduplicatesWithinFiveMinutes(t *testing.T) {
	f := newFixture(t)
	url := f.createQueue("q.fifo", map[string]string{"FifoQueue": "true"})
	first := f.sendGroup(url, "x", "g", "d1")
	dup := f.sendGroup(url, "x", "g", "d1")
	if *dup.MessageId != *first.MessageId || *dup.SequenceNumber != *first.SequenceNumber {
		t.Fatalf("duplicate got a new id: %v vs %v", *dup.MessageId, *first.MessageId)
	}
	if a := f.attrs(url); a["ApproximateNumberOfMessages"] != "1" {
		t.Fatalf("duplicate stored: %v", a["ApproximateNumberOfMessages"])
	}
	f.clock.Advance(5 * time.Minute)
	later := f.sendGroup(url, "x", "g", "d1")
	if *later.MessageId == *first.MessageId {
		t.Fatalf("deduplicated after the interval")
	}
	_, err := f.svc.SendMessage(f.ctx, &sqsapi.SendMessageInput{QueueUrl: &url, MessageBody: awsapi.String("x"), MessageGroupId: awsapi.String("g")})
	wantCode(t, err, "InvalidParameterValue") // no dedup id and no content-based deduplication
	_, err = f.svc.SendMessage(f.ctx, &sqsapi.SendMessageInput{QueueUrl: &url, MessageBody: awsapi.String("x"), MessageDeduplicationId: awsapi.String("z")})
	wantCode(t, err, "MissingParameter")
}

func TestFIFONamesAndAttributesMustAgree(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		name  string
		attrs map[string]string
	}{
		{"plain", map[string]string{"FifoQueue": "true"}},
		{"x.fifo", nil},
		{"bad name!", nil},
	} {
		_, err := f.svc.CreateQueue(f.ctx, &sqsapi.CreateQueueInput{QueueName: awsapi.String(tc.name), Attributes: tc.attrs})
		wantCode(t, err, "InvalidParameterValue")
	}
}

func TestLongPollReturnsAsSoonAsAMessageArrives(t *testing.T) {
	f := newFixture(t)
	url := f.createQueue("q", nil)
	done := make(chan []sqsapi.Message)
	go func() {
		out, err := f.svc.ReceiveMessage(f.ctx, &sqsapi.ReceiveMessageInput{QueueUrl: &url, WaitTimeSeconds: awsapi.Int32(20)})
		if err != nil {
			t.Error(err)
		}
		done <- out.Messages
	}()
	// The fake clock never advances, so only the send can end the wait.
	time.Sleep(10 * time.Millisecond) // let the receiver start waiting; correctness does not depend on it
	f.send(url, "wake")
	if got := bodies(<-done); !equal(got, []string{"wake"}) {
		t.Fatalf("long poll = %v", got)
	}
}

func TestLongPollReturnsEmptyAfterWaitTime(t *testing.T) {
	f := newFixture(t)
	url := f.createQueue("q", nil)
	done := make(chan []sqsapi.Message)
	go func() {
		out, _ := f.svc.ReceiveMessage(f.ctx, &sqsapi.ReceiveMessageInput{QueueUrl: &url, WaitTimeSeconds: awsapi.Int32(2)})
		done <- out.Messages
	}()
	for {
		select {
		case got := <-done:
			if len(got) != 0 {
				t.Fatalf("got %v", got)
			}
			return
		case <-time.After(time.Millisecond):
			f.clock.Advance(time.Second)
		}
	}
}

func TestReceiveValidatesItsParameters(t *testing.T) {
	f := newFixture(t)
	url := f.createQueue("q", nil)
	for _, in := range []sqsapi.ReceiveMessageInput{
		{MaxNumberOfMessages: awsapi.Int32(0)},
		{MaxNumberOfMessages: awsapi.Int32(11)},
		{VisibilityTimeout: awsapi.Int32(43201)},
		{WaitTimeSeconds: awsapi.Int32(21)},
	} {
		in.QueueUrl = &url
		_, err := f.svc.ReceiveMessage(f.ctx, &in)
		wantCode(t, err, "InvalidParameterValue")
	}
	_, err := f.svc.ReceiveMessage(f.ctx, &sqsapi.ReceiveMessageInput{QueueUrl: awsapi.String("http://localhost:4566/123456789012/none")})
	wantCode(t, err, "QueueDoesNotExist")
}

func TestBatchRules(t *testing.T) {
	f := newFixture(t)
	url := f.createQueue("q", nil)
	entry := func(id string) sqsapi.SendMessageBatchRequestEntry {
		return sqsapi.SendMessageBatchRequestEntry{Id: awsapi.String(id), MessageBody: awsapi.String("b-" + id)}
	}
	eleven := []sqsapi.SendMessageBatchRequestEntry{}
	for i := range 11 {
		eleven = append(eleven, entry(strconv.Itoa(i)))
	}
	cases := []struct {
		name    string
		entries []sqsapi.SendMessageBatchRequestEntry
		code    string
	}{
		{"empty", nil, "EmptyBatchRequest"},
		{"too many", eleven, "TooManyEntriesInBatchRequest"},
		{"repeated id", []sqsapi.SendMessageBatchRequestEntry{entry("a"), entry("a")}, "BatchEntryIdsNotDistinct"},
		{"bad id", []sqsapi.SendMessageBatchRequestEntry{entry("a b")}, "InvalidBatchEntryId"},
	}
	for _, tc := range cases {
		_, err := f.svc.SendMessageBatch(f.ctx, &sqsapi.SendMessageBatchInput{QueueUrl: &url, Entries: tc.entries})
		if e := apierr.As(err); e == nil || e.Code != tc.code {
			t.Errorf("%s: %v, want %s", tc.name, err, tc.code)
		}
	}
	bad := entry("bad")
	bad.MessageBody = awsapi.String("")
	out, err := f.svc.SendMessageBatch(f.ctx, &sqsapi.SendMessageBatchInput{QueueUrl: &url, Entries: []sqsapi.SendMessageBatchRequestEntry{entry("ok1"), bad, entry("ok2")}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Successful) != 2 || len(out.Failed) != 1 || *out.Failed[0].Id != "bad" || !*out.Failed[0].SenderFault {
		t.Fatalf("batch result = %+v", out)
	}
	msgs := f.receive(url, 10)
	var del []sqsapi.DeleteMessageBatchRequestEntry
	for i, m := range msgs {
		del = append(del, sqsapi.DeleteMessageBatchRequestEntry{Id: awsapi.String(strconv.Itoa(i)), ReceiptHandle: m.ReceiptHandle})
	}
	del = append(del, sqsapi.DeleteMessageBatchRequestEntry{Id: awsapi.String("junk"), ReceiptHandle: awsapi.String("junk")})
	dout, err := f.svc.DeleteMessageBatch(f.ctx, &sqsapi.DeleteMessageBatchInput{QueueUrl: &url, Entries: del})
	if err != nil || len(dout.Successful) != 2 || len(dout.Failed) != 1 || *dout.Failed[0].Code != "ReceiptHandleIsInvalid" {
		t.Fatalf("delete batch = %+v %v", dout, err)
	}
}

func TestListQueuesPrefixAndPages(t *testing.T) {
	f := newFixture(t)
	for _, n := range []string{"a1", "a2", "a3", "b1"} {
		f.createQueue(n, nil)
	}
	all, err := f.svc.ListQueues(f.ctx, &sqsapi.ListQueuesInput{QueueNamePrefix: awsapi.String("a")})
	if err != nil || len(all.QueueUrls) != 3 || all.NextToken != nil {
		t.Fatalf("prefix = %v %v", all, err)
	}
	var pages [][]string
	var token *string
	for {
		out, err := f.svc.ListQueues(f.ctx, &sqsapi.ListQueuesInput{MaxResults: awsapi.Int32(3), NextToken: token})
		if err != nil {
			t.Fatal(err)
		}
		pages = append(pages, out.QueueUrls)
		if out.NextToken == nil {
			break
		}
		token = out.NextToken
	}
	if len(pages) != 2 || len(pages[0]) != 3 || len(pages[1]) != 1 {
		t.Fatalf("pages = %v", pages)
	}
}

func TestTags(t *testing.T) {
	f := newFixture(t)
	name := "q"
	out, err := f.svc.CreateQueue(f.ctx, &sqsapi.CreateQueueInput{QueueName: &name, Tags: map[string]string{"team": "a"}})
	if err != nil {
		t.Fatal(err)
	}
	url := out.QueueUrl
	if _, err := f.svc.TagQueue(f.ctx, &sqsapi.TagQueueInput{QueueUrl: url, Tags: map[string]string{"env": "dev"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.UntagQueue(f.ctx, &sqsapi.UntagQueueInput{QueueUrl: url, TagKeys: []string{"team"}}); err != nil {
		t.Fatal(err)
	}
	tags, err := f.svc.ListQueueTags(f.ctx, &sqsapi.ListQueueTagsInput{QueueUrl: url})
	if err != nil || len(tags.Tags) != 1 || tags.Tags["env"] != "dev" {
		t.Fatalf("tags = %v %v", tags, err)
	}
}

func TestPurgeQueueOncePerMinute(t *testing.T) {
	f := newFixture(t)
	url := f.createQueue("q", nil)
	f.send(url, "a")
	f.send(url, "b")
	if _, err := f.svc.PurgeQueue(f.ctx, &sqsapi.PurgeQueueInput{QueueUrl: &url}); err != nil {
		t.Fatal(err)
	}
	if a := f.attrs(url); a["ApproximateNumberOfMessages"] != "0" || len(f.receive(url, 10)) != 0 {
		t.Fatalf("purge left messages: %v", a)
	}
	_, err := f.svc.PurgeQueue(f.ctx, &sqsapi.PurgeQueueInput{QueueUrl: &url})
	wantCode(t, err, "PurgeQueueInProgress")
	f.clock.Advance(time.Minute)
	if _, err := f.svc.PurgeQueue(f.ctx, &sqsapi.PurgeQueueInput{QueueUrl: &url}); err != nil {
		t.Fatal(err)
	}
}

func TestDeleteQueueForgetsItsMessages(t *testing.T) {
	f := newFixture(t)
	url := f.createQueue("q", nil)
	f.send(url, "old")
	if _, err := f.svc.DeleteQueue(f.ctx, &sqsapi.DeleteQueueInput{QueueUrl: &url}); err != nil {
		t.Fatal(err)
	}
	_, err := f.svc.SendMessage(f.ctx, &sqsapi.SendMessageInput{QueueUrl: &url, MessageBody: awsapi.String("x")})
	wantCode(t, err, "QueueDoesNotExist")
	f.createQueue("q", nil)
	if got := f.receive(url, 10); len(got) != 0 {
		t.Fatalf("recreated queue has %v", bodies(got))
	}
}

func TestRetentionExpiresMessages(t *testing.T) {
	f := newFixture(t)
	url := f.createQueue("q", map[string]string{"MessageRetentionPeriod": "60"})
	f.send(url, "old")
	f.clock.Advance(30 * time.Second)
	f.send(url, "young")
	f.clock.Advance(31 * time.Second)
	if err := f.svc.Sweep(); err != nil {
		t.Fatal(err)
	}
	if a := f.attrs(url); a["ApproximateNumberOfMessages"] != "1" {
		t.Fatalf("after sweep: %v", a["ApproximateNumberOfMessages"])
	}
	if got := bodies(f.receive(url, 10)); !equal(got, []string{"young"}) {
		t.Fatalf("receive = %v", got)
	}
}

func TestRestartKeepsMessagesAndVisibilityDeadlines(t *testing.T) {
	f := newDiskFixture(t)
	url := f.createQueue("q", nil)
	f.send(url, "in-flight") // sent first, so received first
	f.send(url, "kept")
	if got := bodies(f.receive(url, 1)); !equal(got, []string{"in-flight"}) {
		t.Fatalf("receive before restart = %v", got)
	}

	f.restart()
	kept := f.receive(url, 10)
	if !equal(bodies(kept), []string{"kept"}) {
		t.Fatalf("after restart, before the timeout: %v", bodies(kept))
	}
	if _, err := f.svc.DeleteMessage(f.ctx, &sqsapi.DeleteMessageInput{QueueUrl: &url, ReceiptHandle: kept[0].ReceiptHandle}); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(30 * time.Second)
	got := f.receive(url, 10)
	if !equal(bodies(got), []string{"in-flight"}) || got[0].Attributes["ApproximateReceiveCount"] != "2" {
		t.Fatalf("after the timeout: %v", bodies(got))
	}
}

func TestVisibilityIndexOrdersByVisibleTime(t *testing.T) {
	a := visKey("q", 1000, 5)
	b := visKey("q", 2000, 1)
	if string(a) >= string(b) {
		t.Fatalf("index keys out of order")
	}
	if binary.BigEndian.Uint64(a[len(visPrefix("q")):]) != 1000 {
		t.Fatalf("visible time not at the front of the key")
	}
}

func FuzzParseReceiptHandle(f *testing.F) {
	f.Add(receiptHandle("abc", &message{Seq: 42, Token: "t"}))
	f.Add("")
	f.Add("Zm9vOmJhcjpiYXo")
	f.Fuzz(func(t *testing.T, h string) {
		qid, seq, token, ok := parseReceiptHandle(h)
		if !ok {
			return
		}
		// What parses names one message: the handle wharf would give that
		// message parses back to the same queue, sequence and token.
		again := receiptHandle(string(qid), &message{Seq: seq, Token: string(token)})
		q2, s2, t2, ok2 := parseReceiptHandle(again)
		if !ok2 || string(q2) != string(qid) || s2 != seq || string(t2) != string(token) {
			t.Fatalf("%q parsed to %q %d %q; its re-made handle %q parsed to %q %d %q %v", h, qid, seq, token, again, q2, s2, t2, ok2)
		}
	})
}

// TestReceiptHandleMatchesItsFormula checks the handle built in stack
// buffers against its definition, base64url of qid:SEQ:TOKEN, for short
// and long queue ids.
func TestReceiptHandleMatchesItsFormula(t *testing.T) {
	for _, qid := range []string{"", "abc", "0123456789abcdef0123456789", strings.Repeat("q", 200)} {
		for _, seq := range []uint64{0, 42, 1 << 40, ^uint64(0)} {
			for _, token := range []string{"", "t", "00112233445566778899aabb"} {
				m := &message{Seq: seq, Token: token}
				want := base64.RawURLEncoding.EncodeToString([]byte(qid + ":" + strconv.FormatUint(seq, 16) + ":" + token))
				if got := receiptHandle(qid, m); got != want {
					t.Fatalf("receiptHandle(%q, %d, %q) = %q, want %q", qid, seq, token, got, want)
				}
				gq, gs, gt, ok := parseReceiptHandle(want)
				if !ok || string(gq) != qid || gs != seq || string(gt) != token {
					t.Fatalf("parseReceiptHandle(%q) = %q %d %q %v", want, gq, gs, gt, ok)
				}
			}
		}
	}
}

// FuzzParseReceiptHandleMatchesSplit checks parseReceiptHandle against the
// strings.Split form it replaced.
func FuzzParseReceiptHandleMatchesSplit(f *testing.F) {
	for _, s := range []string{"a:1:t", "a:1", "a:1:t:u", "::", ":ff:", "a:-1:t", "a:+1:t", "a:0x1:t", "a:g:t", "a:1_0:t"} {
		f.Add(base64.RawURLEncoding.EncodeToString([]byte(s)))
	}
	f.Add("not base64!")
	f.Fuzz(func(t *testing.T, h string) {
		q, s, tok, ok := parseReceiptHandle(h)
		var wq, wt string
		var ws uint64
		wok := false
		if b, err := base64.RawURLEncoding.DecodeString(h); err == nil {
			if parts := strings.Split(string(b), ":"); len(parts) == 3 {
				if n, err := strconv.ParseUint(parts[1], 16, 64); err == nil {
					wq, ws, wt, wok = parts[0], n, parts[2], true
				}
			}
		}
		if string(q) != wq || s != ws || string(tok) != wt || ok != wok {
			t.Fatalf("parseReceiptHandle(%q) = %q %d %q %v, want %q %d %q %v", h, q, s, tok, ok, wq, ws, wt, wok)
		}
	})
}

// FuzzValidBatchIDMatchesThePattern compares validBatchID with the pattern
// it replaced.
func FuzzValidBatchIDMatchesThePattern(f *testing.F) {
	for _, s := range []string{"", "a", "A-z_09", strings.Repeat("x", 80), strings.Repeat("x", 81), "a b", "a\n", "é", "a.b"} {
		f.Add(s)
	}
	re := regexp.MustCompile(`^[A-Za-z0-9_-]{1,80}$`)
	f.Fuzz(func(t *testing.T, id string) {
		if got, want := validBatchID(id), re.MatchString(id); got != want {
			t.Fatalf("validBatchID(%q) = %v, the pattern says %v", id, got, want)
		}
	})
}

func FuzzParseQueueURL(f *testing.F) {
	for _, s := range []string{"http://localhost:4566/123456789012/q", "/123456789012/q", "q", "http://x/", "://", "http://[::1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		account, name, err := parseQueueURL(raw, "000000000000")
		if err == nil && (account == "" || name == "") {
			t.Fatalf("%q parsed to empty account or name", raw)
		}
	})
}

// FuzzPlainURLPathMatchesURLParse compares plainURLPath, parseQueueURL's
// fast path, with url.Parse, which it skips: a URL it takes must be one
// url.Parse reads, to the same path.
func FuzzPlainURLPathMatchesURLParse(f *testing.F) {
	for _, s := range []string{"http://localhost:4566/123456789012/q", "https://sqs.us-east-1.amazonaws.com/123456789012/q.fifo",
		"http://x/", "http://", "://", "1http://x/a/b", "h+t.t-p://x/a", "http://[::1]:4566/a/b", "http://x:y/a/b", "http://x:/a/b",
		"http://:80/a/b", "http://x:1:2/a/b", "http://x/a%2Fb/c", "http://x/a/b?c", "http://x/a/b#c", "http://u@x/a/b", "http://x/a b/c",
		"http://x/a;b/c", "/x://y/a/b", "http://x//a/b", "HTTP://X/A/B"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		if !strings.Contains(raw, "://") {
			return
		}
		got, ok := plainURLPath(raw)
		if !ok {
			return
		}
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatalf("plainURLPath(%q) took it (path %q); url.Parse refuses it: %v", raw, got, err)
		}
		if got != u.Path {
			t.Fatalf("plainURLPath(%q) = %q; url.Parse's path is %q", raw, got, u.Path)
		}
	})
}

// BenchmarkSendReceiveDelete measures the hot path on the in-memory store with a
// backlog, so a receive that scanned every message would show.
func BenchmarkSendReceiveDelete(b *testing.B) {
	f := newFixtureOn(b, store.OpenMemory(), newFakeClock())
	f.svc.clock = clock.Real
	url := f.createQueue("bench", nil)
	for range 10000 {
		f.send(url, "backlog")
	}
	body := "payload"
	b.ResetTimer()
	for range b.N {
		if _, err := f.svc.SendMessage(f.ctx, &sqsapi.SendMessageInput{QueueUrl: &url, MessageBody: &body}); err != nil {
			b.Fatal(err)
		}
		out, err := f.svc.ReceiveMessage(f.ctx, &sqsapi.ReceiveMessageInput{QueueUrl: &url})
		if err != nil || len(out.Messages) != 1 {
			b.Fatal(err)
		}
		if _, err := f.svc.DeleteMessage(f.ctx, &sqsapi.DeleteMessageInput{QueueUrl: &url, ReceiptHandle: out.Messages[0].ReceiptHandle}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReceiveDeleteBatch is bench/peers' receive+delete without the
// server: a batch of ten sent, received and deleted by batch, on the
// in-memory store and on a durable one, by 1 client and by 8, with
// bench/peers' 24-byte bodies and with 1 KiB ones. Besides wall time it
// reports the process's CPU time per round (cpu-ns/op), the figure to
// compare on a loaded machine.
func BenchmarkReceiveDeleteBatch(b *testing.B) {
	for _, durable := range []bool{false, true} {
		for _, clients := range []int{1, 8} {
			for _, size := range []int{24, 1024} {
				name := "memory"
				if durable {
					name = "durable"
				}
				b.Run(name+"/clients="+strconv.Itoa(clients)+"/body="+strconv.Itoa(size), func(b *testing.B) {
					st := store.OpenMemory()
					if durable {
						var err error
						if st, err = store.Open(b.TempDir()); err != nil {
							b.Fatal(err)
						}
						defer st.Close()
					}
					f := newFixtureOn(b, st, newFakeClock())
					f.svc.clock = clock.Real
					url := f.createQueue("bench", nil)
					body := "hello from the benchmark"
					if size != len(body) {
						body = strings.Repeat("b", size)
					}
					send := &sqsapi.SendMessageBatchInput{QueueUrl: &url}
					for i := range 10 {
						send.Entries = append(send.Entries, sqsapi.SendMessageBatchRequestEntry{Id: awsapi.String(strconv.Itoa(i)), MessageBody: &body})
					}
					n := int32(10)
					round := func() error {
						if _, err := f.svc.SendMessageBatch(f.ctx, send); err != nil {
							return err
						}
						out, err := f.svc.ReceiveMessage(f.ctx, &sqsapi.ReceiveMessageInput{QueueUrl: &url, MaxNumberOfMessages: &n})
						if err != nil {
							return err
						}
						if len(out.Messages) == 0 {
							if clients == 1 {
								return errors.New("received nothing")
							}
							return nil // the other clients took them
						}
						del := &sqsapi.DeleteMessageBatchInput{QueueUrl: &url}
						for i, m := range out.Messages {
							del.Entries = append(del.Entries, sqsapi.DeleteMessageBatchRequestEntry{Id: awsapi.String(strconv.Itoa(i)), ReceiptHandle: m.ReceiptHandle})
						}
						_, err = f.svc.DeleteMessageBatch(f.ctx, del)
						return err
					}
					b.ReportAllocs()
					cpu0 := cpuTime()
					b.ResetTimer()
					if clients == 1 {
						for range b.N {
							if err := round(); err != nil {
								b.Fatal(err)
							}
						}
					} else {
						b.SetParallelism(clients / 2) // x GOMAXPROCS(2) on the bench machine
						b.RunParallel(func(pb *testing.PB) {
							for pb.Next() {
								if err := round(); err != nil {
									b.Error(err)
									return
								}
							}
						})
					}
					b.StopTimer()
					b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
				})
			}
		}
	}
}

// FuzzValidBody checks validBody's byte-at-a-time ASCII path against the
// definition, rune by rune: #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to
// #xFFFD | #x10000 to #x10FFFF (SendMessage docs), and no invalid UTF-8.
func FuzzValidBody(f *testing.F) {
	for _, s := range []string{"", "hello", "a\tb\nc\rd", "\x00", "\x1f", "\x7f", "é", "\ud7ff", "\ue000", "\ufffd",
		"\uffff", "\U0001F600", "\xff", "a\xc3", "\xed\xa0\x80", "{\"Message\":\"x\"}"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		want := utf8.ValidString(body)
		for _, r := range body {
			if !(r == 0x9 || r == 0xA || r == 0xD || r >= 0x20 && r <= 0xD7FF || r >= 0xE000 && r <= 0xFFFD || r >= 0x10000 && r <= 0x10FFFF) {
				want = false
			}
		}
		if got := validBody(body); got != want {
			t.Fatalf("validBody(%q) = %v, want %v", body, got, want)
		}
	})
}
