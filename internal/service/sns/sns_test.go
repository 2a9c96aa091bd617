package sns

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wharf-dev/wharf/internal/awsapi"
	snsapi "github.com/wharf-dev/wharf/internal/awsapi/sns"
	sqsapi "github.com/wharf-dev/wharf/internal/awsapi/sqs"
	"github.com/wharf-dev/wharf/internal/store"
)

// fakeClock only moves when a test moves it; After never fires, since tests
// run the outbox by calling deliverNow.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}
func (c *fakeClock) After(time.Duration) <-chan time.Time { return nil }
func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// fakeQueues records what SNS delivers to SQS.
type fakeQueues struct {
	mu    sync.Mutex
	calls int
	sent  []sentMsg
}

type sentMsg struct {
	arn, body, group, dedup string
	attrs                   map[string]sqsapi.MessageAttributeValue
}

func (q *fakeQueues) DeliverToQueues(_ context.Context, msgs []QueueMessage) []error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.calls++
	for _, m := range msgs {
		q.sent = append(q.sent, sentMsg{m.QueueARN, m.Body, m.GroupID, m.DedupID, m.Attrs})
	}
	return make([]error, len(msgs))
}

func newTestService(st store.Store, clock *fakeClock, client *http.Client) *Service {
	return New(Options{Store: st, Clock: clock, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), HTTPClient: client, DefaultHost: "wharf.test:4566"})
}

var caller = awsapi.WithCaller(context.Background(), &awsapi.Caller{Account: "111122223333", Region: "eu-west-1", Host: "wharf.test:4566"})

// deliverNow runs every due delivery to completion.
func (s *Service) deliverNow(t *testing.T) {
	t.Helper()
	var wg sync.WaitGroup
	s.dispatch(context.Background(), &wg)
	wg.Wait()
}

func (s *Service) outboxLen(t *testing.T) (n int, due []int64) {
	t.Helper()
	err := s.st.View(func(tx store.Tx) error {
		return tx.Scan([]byte(outboxPrefix), nil, func(k, v []byte) (bool, error) {
			var d delivery
			json.Unmarshal(v, &d)
			due = append(due, d.Due)
			n++
			return true, nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return n, due
}

// must returns v, and stops the test (by panicking) on an error; it takes
// a call's two results directly.
func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// confirmHTTP subscribes endpoint over http and confirms it with the token.
func confirmHTTP(t *testing.T, s *Service, topicARN, endpoint string) string {
	t.Helper()
	out := must(s.Subscribe(caller, &snsapi.SubscribeInput{TopicArn: &topicARN, Protocol: awsapi.String("http"), Endpoint: &endpoint, ReturnSubscriptionArn: awsapi.Bool(true)}))
	var sub *subscription
	s.st.View(func(tx store.Tx) error {
		sub, _ = getSub(tx, *out.SubscriptionArn)
		return nil
	})
	must(s.ConfirmSubscription(caller, &snsapi.ConfirmSubscriptionInput{TopicArn: &topicARN, Token: &sub.Token}))
	return *out.SubscriptionArn
}

func TestHTTPDeliveryRetriesPerPolicyThenGivesUp(t *testing.T) {
	var mu sync.Mutex
	var types []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		types = append(types, r.Header.Get("x-amz-sns-message-type"))
		mu.Unlock()
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	clock := &fakeClock{now: time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)}
	s := newTestService(store.OpenMemory(), clock, srv.Client())
	topic := must(s.CreateTopic(caller, &snsapi.CreateTopicInput{Name: awsapi.String("t")})).TopicArn
	must(s.Subscribe(caller, &snsapi.SubscribeInput{TopicArn: topic, Protocol: awsapi.String("http"), Endpoint: awsapi.String(srv.URL)}))

	// The confirmation fails and is retried three times, 20 s apart (AWS's default policy).
	s.deliverNow(t)
	for retry := 1; retry <= 3; retry++ {
		n, due := s.outboxLen(t)
		if n != 1 || due[0] != clock.Now().Add(20*time.Second).UnixMilli() {
			t.Fatalf("after attempt %d: outbox %d due %v", retry, n, due)
		}
		s.deliverNow(t) // not due yet: nothing happens
		clock.advance(20 * time.Second)
		s.deliverNow(t)
	}
	if n, _ := s.outboxLen(t); n != 0 {
		t.Fatalf("outbox still has %d after the retries", n)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(types) != 4 || types[0] != "SubscriptionConfirmation" {
		t.Fatalf("attempts = %v, want 4 confirmations", types)
	}
}

func TestHTTPClientErrorIsNotRetried(t *testing.T) {
	calls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		w.WriteHeader(http.StatusNotFound)
	}))
	defer srv.Close()
	s := newTestService(store.OpenMemory(), &fakeClock{now: time.Unix(1e9, 0)}, srv.Client())
	topic := must(s.CreateTopic(caller, &snsapi.CreateTopicInput{Name: awsapi.String("t")})).TopicArn
	must(s.Subscribe(caller, &snsapi.SubscribeInput{TopicArn: topic, Protocol: awsapi.String("http"), Endpoint: awsapi.String(srv.URL)}))
	s.deliverNow(t)
	if n, _ := s.outboxLen(t); n != 0 || calls != 1 {
		t.Fatalf("outbox %d, calls %d; want 0, 1", n, calls)
	}
}

// A delivery in the outbox when wharf stops is delivered by the next run.
func TestOutboxSurvivesRestart(t *testing.T) {
	var mu sync.Mutex
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, r.Header.Get("x-amz-sns-message-type")+" "+string(b))
		mu.Unlock()
	}))
	defer srv.Close()
	st := store.OpenMemory()
	clock := &fakeClock{now: time.Unix(1e9, 0)}
	first := newTestService(st, clock, srv.Client())
	topic := must(first.CreateTopic(caller, &snsapi.CreateTopicInput{Name: awsapi.String("t")})).TopicArn
	confirmHTTP(t, first, *topic, srv.URL)
	must(first.Publish(caller, &snsapi.PublishInput{TopicArn: topic, Message: awsapi.String("survivor")}))
	// first never runs its outbox: it "crashed". A new service over the same store does.
	second := newTestService(st, clock, srv.Client())
	second.deliverNow(t)
	mu.Lock()
	defer mu.Unlock()
	sort.Strings(got) // deliveries run concurrently
	if len(got) != 2 || !strings.HasPrefix(got[1], "SubscriptionConfirmation") || !strings.Contains(got[0], `"Message":"survivor"`) {
		t.Fatalf("delivered after restart: %q", got)
	}
}

func TestRetryPolicyDelays(t *testing.T) {
	p := retryPolicy{MinDelayTarget: 1, MaxDelayTarget: 9, NumRetries: 7, NumNoDelayRetries: 1, NumMinDelayRetries: 1, NumMaxDelayRetries: 1, BackoffFunction: "linear"}
	want := []time.Duration{0, time.Second, 3 * time.Second, 5 * time.Second, 7 * time.Second, 9 * time.Second, 9 * time.Second}
	for i, w := range want {
		if got := p.delay(i + 1); got != w {
			t.Errorf("linear retry %d: %v, want %v", i+1, got, w)
		}
	}
	e := retryPolicy{MinDelayTarget: 1, MaxDelayTarget: 16, NumRetries: 4, BackoffFunction: "exponential"}
	for i, w := range []time.Duration{2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second} {
		if got := e.delay(i + 1); got.Round(time.Millisecond) != w {
			t.Errorf("exponential retry %d: %v, want %v", i+1, got, w)
		}
	}
}

func TestSubscriptionDeliveryPolicyOverridesTopic(t *testing.T) {
	tp := &topic{Attrs: map[string]string{"DeliveryPolicy": `{"http":{"defaultHealthyRetryPolicy":{"minDelayTarget":5,"maxDelayTarget":5,"numRetries":2}}}`}}
	if p := policyFor(tp, &subscription{}); p.NumRetries != 2 || p.MinDelayTarget != 5 {
		t.Errorf("topic policy: %+v", p)
	}
	sub := &subscription{Attrs: map[string]string{"DeliveryPolicy": `{"healthyRetryPolicy":{"minDelayTarget":1,"maxDelayTarget":2,"numRetries":1000}}`}}
	if p := policyFor(tp, sub); p.NumRetries != maxRetries || p.MinDelayTarget != 1 || p.MaxDelayTarget != 2 {
		t.Errorf("subscription policy (bounded): %+v", p)
	}
}

func TestPublishFansOutToQueuesWithFilterAndStructure(t *testing.T) {
	q := &fakeQueues{}
	s := newTestService(store.OpenMemory(), &fakeClock{now: time.Unix(1e9, 0)}, nil)
	s.SetQueueSender(q)
	topic := must(s.CreateTopic(caller, &snsapi.CreateTopicInput{Name: awsapi.String("t")})).TopicArn
	sub := func(queue string, attrs map[string]string) {
		must(s.Subscribe(caller, &snsapi.SubscribeInput{TopicArn: topic, Protocol: awsapi.String("sqs"), Endpoint: awsapi.String("arn:aws:sqs:eu-west-1:111122223333:" + queue), Attributes: attrs}))
	}
	sub("all", nil)
	sub("raw", map[string]string{"RawMessageDelivery": "true"})
	sub("red", map[string]string{"FilterPolicy": `{"color":["red"]}`})
	must(s.Publish(caller, &snsapi.PublishInput{TopicArn: topic, MessageStructure: awsapi.String("json"),
		Message:           awsapi.String(`{"default":"plain","sqs":"for queues"}`),
		MessageAttributes: map[string]snsapi.MessageAttributeValue{"color": {DataType: awsapi.String("String"), StringValue: awsapi.String("blue")}}}))
	got := map[string]sentMsg{}
	for _, m := range q.sent {
		got[m.arn[strings.LastIndexByte(m.arn, ':')+1:]] = m
	}
	if len(got) != 2 {
		t.Fatalf("delivered to %v, want all and raw", got)
	}
	if got["raw"].body != "for queues" || *got["raw"].attrs["color"].StringValue != "blue" {
		t.Errorf("raw = %+v", got["raw"])
	}
	var en envelope
	if err := json.Unmarshal([]byte(got["all"].body), &en); err != nil || en.Message != "for queues" || en.UnsubscribeURL == "" {
		t.Errorf("envelope = %s (%v)", got["all"].body, err)
	}
	// PublishToTopic is what other services call.
	q.sent = nil
	id, err := s.PublishToTopic(context.Background(), *topic, "Alarm", "state ALARM", map[string]string{"color": "red"})
	if err != nil || id == "" || len(q.sent) != 3 {
		t.Fatalf("PublishToTopic: %q %v, %d deliveries", id, err, len(q.sent))
	}
}

// TestPublishDeliversToQueuesInOneCall: a Publish hands all its SQS
// subscribers' messages to SQS at once (one store commit, so on a durable
// store one sync), each subscriber's envelope naming its own subscription.
func TestPublishDeliversToQueuesInOneCall(t *testing.T) {
	const n = 5
	q := &fakeQueues{}
	s := newTestService(store.OpenMemory(), &fakeClock{now: time.Unix(1e9, 0)}, nil)
	s.SetQueueSender(q)
	topic := must(s.CreateTopic(caller, &snsapi.CreateTopicInput{Name: awsapi.String("t")})).TopicArn
	for i := range n {
		must(s.Subscribe(caller, &snsapi.SubscribeInput{TopicArn: topic, Protocol: awsapi.String("sqs"),
			Endpoint: awsapi.String(fmt.Sprintf("arn:aws:sqs:us-east-1:111122223333:q%d", i))}))
	}
	if _, err := s.Publish(caller, &snsapi.PublishInput{TopicArn: topic, Message: awsapi.String("hello")}); err != nil {
		t.Fatal(err)
	}
	if q.calls != 1 || len(q.sent) != n {
		t.Fatalf("%d messages in %d calls, want %d in 1", len(q.sent), q.calls, n)
	}
	unsub := map[string]bool{}
	for _, m := range q.sent {
		var en envelope
		if err := json.Unmarshal([]byte(m.body), &en); err != nil || en.Message != "hello" {
			t.Fatalf("envelope %s: %v", m.body, err)
		}
		unsub[en.UnsubscribeURL] = true
	}
	if len(unsub) != n {
		t.Errorf("%d distinct UnsubscribeURLs among %d subscribers", len(unsub), n)
	}
}

// wholeEnvelope encodes n's envelope for sub in one piece, as SNS's
// envelope was encoded before its parts were shared between subscribers.
func wholeEnvelope(n *notification, sub *subscription, protocol string) string {
	en := envelope{
		Type: "Notification", MessageID: n.id, SequenceNumber: n.seq, TopicArn: n.topic.ARN,
		Subject: n.entry.Subject, Message: n.entry.bodyFor(protocol), Timestamp: n.time.UTC().Format(timestampFormat),
		UnsubscribeURL: unsubscribeURL(n.host, sub.ARN),
	}
	if len(n.entry.Attrs) > 0 {
		en.MessageAttributes = map[string]envAttr{}
		for k, a := range n.entry.Attrs {
			val := a.StringValue
			if a.BinaryValue != nil {
				val = base64.StdEncoding.EncodeToString(a.BinaryValue)
			}
			en.MessageAttributes[k] = envAttr{Type: a.DataType, Value: val}
		}
	}
	en.sign(n.topic.Attrs["SignatureVersion"], n.topic.Region)
	return marshal(en)
}

// checkEnvelopes fails t unless every subscriber's envelope is the bytes
// of the envelope encoded whole.
func checkEnvelopes(t *testing.T, n *notification, protocol string, subs ...*subscription) {
	t.Helper()
	for _, sub := range subs {
		if got, want := n.envelope(sub, protocol), wholeEnvelope(n, sub, protocol); got != want {
			t.Fatalf("envelope for %q:\n got %s\nwant %s", sub.ARN, got, want)
		}
	}
}

func TestSharedEnvelopeIsTheWholeEncoding(t *testing.T) {
	tp := &topic{ARN: "arn:aws:sns:eu-west-1:111122223333:t", Region: "eu-west-1", Attrs: map[string]string{"SignatureVersion": "2"}}
	subs := []*subscription{{ARN: tp.ARN + ":a"}, {ARN: tp.ARN + ":b&c d"}, {ARN: tp.ARN + ":é"}}
	cases := []struct {
		name  string
		host  string
		entry entry
	}{
		{"plain", "wharf.test:4566", entry{Message: "hello"}},
		{"the member's text in the message", "h", entry{Message: `x","UnsubscribeURL":"\u0000"}` + "\x00<&>", Subject: "s"}},
		{"attributes", "h", entry{Message: "m", Attrs: map[string]msgAttr{
			"z": {DataType: "String", StringValue: `"UnsubscribeURL":"`}, "a": {DataType: "Binary", BinaryValue: []byte{0, 1}}}}},
		{"structure", "h", entry{Message: "{}", Structure: map[string]string{"default": "d", "sqs": "for queues"}}},
		{"host to escape", "h\"o<s>t\u2028\xff", entry{Message: "m"}},
		{"host with a backslash", `h\o`, entry{Message: "m"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := c.entry
			n := &notification{entry: &e, id: "id", seq: "0001", topic: tp, time: time.Unix(1e9, 0), host: c.host}
			checkEnvelopes(t, n, "sqs", subs...)
			checkEnvelopes(t, n, "http", subs...)
			checkEnvelopes(t, n, "sqs", subs...)
		})
	}
}

func FuzzSharedEnvelopeIsTheWholeEncoding(f *testing.F) {
	f.Add("hello", "", "wharf.test:4566", ":a", "v")
	f.Add(`x","UnsubscribeURL":"\u0000"}`, "subj", "h\"o", ":b&c d", "\x00")
	f.Fuzz(func(t *testing.T, message, subject, host, subID, attr string) {
		tp := &topic{ARN: "arn:aws:sns:eu-west-1:111122223333:t", Region: "eu-west-1"}
		e := entry{Message: message, Subject: subject}
		if attr != "" {
			e.Attrs = map[string]msgAttr{"k": {DataType: "String", StringValue: attr}}
		}
		n := &notification{entry: &e, id: "id", topic: tp, time: time.Unix(1e9, 0), host: host}
		checkEnvelopes(t, n, "sqs", &subscription{ARN: tp.ARN + subID}, &subscription{ARN: tp.ARN + ":x"})
	})
}

func TestFilterPolicies(t *testing.T) {
	str := func(v string) msgAttr { return msgAttr{DataType: "String", StringValue: v} }
	num := func(v string) msgAttr { return msgAttr{DataType: "Number", StringValue: v} }
	cases := []struct {
		name, policy, scope, body string
		attrs                     map[string]msgAttr
		want                      bool
	}{
		{"exact", `{"a":["x","y"]}`, "", "", map[string]msgAttr{"a": str("y")}, true},
		{"exact miss", `{"a":["x"]}`, "", "", map[string]msgAttr{"a": str("z")}, false},
		{"missing attribute", `{"a":["x"]}`, "", "", nil, false},
		{"prefix", `{"a":[{"prefix":"ord"}]}`, "", "", map[string]msgAttr{"a": str("order")}, true},
		{"anything-but", `{"a":[{"anything-but":["x"]}]}`, "", "", map[string]msgAttr{"a": str("y")}, true},
		{"anything-but miss", `{"a":[{"anything-but":"x"}]}`, "", "", map[string]msgAttr{"a": str("x")}, false},
		{"numeric range", `{"n":[{"numeric":[">=",10,"<",20]}]}`, "", "", map[string]msgAttr{"n": num("10")}, true},
		{"numeric out of range", `{"n":[{"numeric":[">=",10,"<",20]}]}`, "", "", map[string]msgAttr{"n": num("20")}, false},
		{"numeric exact", `{"n":[5]}`, "", "", map[string]msgAttr{"n": num("5.0")}, true},
		{"numeric on a string attribute", `{"n":[{"numeric":[">",1]}]}`, "", "", map[string]msgAttr{"n": str("5")}, false},
		{"exists", `{"a":[{"exists":true}]}`, "", "", map[string]msgAttr{"a": str("q")}, true},
		{"not exists", `{"a":[{"exists":false}]}`, "", "", map[string]msgAttr{"b": str("q")}, true},
		{"string array any element", `{"tags":["b"]}`, "", "", map[string]msgAttr{"tags": {DataType: "String.Array", StringValue: `["a","b"]`}}, true},
		{"binary attributes are invisible", `{"a":[{"exists":true}]}`, "", "", map[string]msgAttr{"a": {DataType: "Binary", BinaryValue: []byte{1}}}, false},
		{"every key must match", `{"a":["x"],"b":["y"]}`, "", "", map[string]msgAttr{"a": str("x"), "b": str("z")}, false},
		{"$or", `{"$or":[{"a":["x"]},{"b":["y"]}]}`, "", "", map[string]msgAttr{"b": str("y")}, true},
		{"body nested", `{"o":{"s":["paid"]}}`, scopeBody, `{"o":{"s":"paid"}}`, nil, true},
		{"body miss", `{"o":{"s":["paid"]}}`, scopeBody, `{"o":{"s":"new"}}`, nil, false},
		{"body not JSON", `{"o":["x"]}`, scopeBody, `hello`, nil, false},
		{"body numeric", `{"price":[{"numeric":["<",10]}]}`, scopeBody, `{"price":9.99}`, nil, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f, err := compileFilter(tc.policy, tc.scope)
			if err != nil {
				t.Fatal(err)
			}
			if got := f.matches(tc.body, tc.attrs); got != tc.want {
				t.Fatalf("matches = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestInvalidFilterPolicies(t *testing.T) {
	for _, tc := range []struct{ policy, scope string }{
		{`not json`, ""},
		{`["a"]`, ""},
		{`{"a":{"b":["c"]}}`, scopeAttributes}, // nested needs MessageBody scope
		{`{"a":"x"}`, ""},
		{`{"a":[{"numeric":["<"]}]}`, ""},
	} {
		if _, err := compileFilter(tc.policy, tc.scope); err == nil {
			t.Errorf("compileFilter(%s, %q) succeeded", tc.policy, tc.scope)
		} else if !strings.HasPrefix(err.Error(), "InvalidParameterException: Invalid parameter: ") {
			t.Errorf("error %v lacks AWS's prefix", err)
		}
	}
}

func FuzzFilterPolicy(f *testing.F) {
	f.Add(`{"a":["x",{"prefix":"y"}],"n":[{"numeric":[">",1]}]}`, "MessageAttributes", `{"a":"x"}`, "x", "3")
	f.Add(`{"o":{"s":["paid"]}}`, "MessageBody", `{"o":{"s":"paid"}}`, "", "")
	f.Add(`{"$or":[{"a":["x"]},{"b":[{"exists":false}]}]}`, "", `[]`, "b", "-1e400")
	f.Fuzz(func(t *testing.T, policy, scope, body, s, n string) {
		fl, err := compileFilter(policy, scope)
		if err != nil {
			return
		}
		fl.matches(body, map[string]msgAttr{"a": {DataType: "String", StringValue: s}, "n": {DataType: "Number", StringValue: n},
			"arr": {DataType: "String.Array", StringValue: body}})
	})
}

func FuzzSubscriptionARN(f *testing.F) {
	f.Add("arn:aws:sns:us-east-1:000000000000:t:0b6f3f2c-0000-4000-8000-000000000000")
	f.Add("arn:aws:sns:us-east-1::x:")
	f.Fuzz(func(t *testing.T, arn string) {
		topic, id, ok := parseSubscriptionARN(arn)
		if ok && topic+":"+id != arn {
			t.Fatalf("%q parsed to %q + %q", arn, topic, id)
		}
	})
}

func TestExpiredDeduplicationRecordsAreSwept(t *testing.T) {
	clock := &fakeClock{now: time.Unix(1e9, 0)}
	s := newTestService(store.OpenMemory(), clock, nil)
	s.SetQueueSender(&fakeQueues{})
	topic := must(s.CreateTopic(caller, &snsapi.CreateTopicInput{Name: awsapi.String("t.fifo"), Attributes: map[string]string{"FifoTopic": "true"}})).TopicArn
	first := must(s.Publish(caller, &snsapi.PublishInput{TopicArn: topic, Message: awsapi.String("m"), MessageGroupId: awsapi.String("g"), MessageDeduplicationId: awsapi.String("d")}))
	again := must(s.Publish(caller, &snsapi.PublishInput{TopicArn: topic, Message: awsapi.String("m"), MessageGroupId: awsapi.String("g"), MessageDeduplicationId: awsapi.String("d")}))
	if *again.MessageId != *first.MessageId {
		t.Fatalf("duplicate within 5 minutes got a new id")
	}
	count := func() (n int) {
		s.st.View(func(tx store.Tx) error {
			return tx.Scan([]byte("sns/dd/"), nil, func(k, v []byte) (bool, error) { n++; return true, nil })
		})
		return n
	}
	if err := s.sweepDedup(clock.Now()); err != nil || count() != 1 {
		t.Fatalf("live record swept: %v, %d left", err, count())
	}
	clock.advance(dedupInterval)
	if err := s.sweepDedup(clock.Now()); err != nil || count() != 0 {
		t.Fatalf("expired record kept: %v, %d left", err, count())
	}
	later := must(s.Publish(caller, &snsapi.PublishInput{TopicArn: topic, Message: awsapi.String("m"), MessageGroupId: awsapi.String("g"), MessageDeduplicationId: awsapi.String("d")}))
	if *later.MessageId == *first.MessageId {
		t.Fatalf("publish after the interval was deduplicated")
	}
}

// TestEnvelopeEncodeIsMarshal: the hand-written envelope encoder writes
// encoding/json's bytes (marshal's), for every field set or empty, strings
// that need escaping, and message attributes in any order.
func TestEnvelopeEncodeIsMarshal(t *testing.T) {
	hostile := "<a href=\"x\">&amp;</a>\\ \x00\x1f\t\n\u2028\u2029 \xff\xfe é 😀"
	for _, en := range []envelope{
		{},
		{Type: "Notification", MessageID: "id", TopicArn: "arn:aws:sns:us-east-1:123456789012:t", Message: "hello", Timestamp: "2026-12-07T00:00:00.000Z"},
		{Type: "SubscriptionConfirmation", MessageID: hostile, Token: "tok", SequenceNumber: "00000000000000000001", TopicArn: hostile,
			Subject: hostile, Message: hostile, SubscribeURL: "http://h/?a=b&c=<d>", Timestamp: hostile, UnsubscribeURL: "\x00",
			MessageAttributes: map[string]envAttr{"z": {Type: "String", Value: hostile}, hostile: {Type: "Binary", Value: "AAE="}, "a": {Type: "Number", Value: "1"}}},
		{Type: "Notification", MessageAttributes: map[string]envAttr{}},
	} {
		en.sign("", "us-east-1")
		if got, want := en.encode(), marshal(en); got != want {
			t.Errorf("encode:\n%s\nmarshal:\n%s", got, want)
		}
	}
}

// BenchmarkEnvelopeEncode encodes a notification's envelope by hand
// (encode) and with encoding/json (marshal).
func BenchmarkEnvelopeEncode(b *testing.B) {
	en := envelope{Type: "Notification", MessageID: "6c6c2b5a-5d43-4f5e-9b53-4a5f3e2c1d0a", TopicArn: "arn:aws:sns:us-east-1:123456789012:bench-fanout",
		Message: `{"order":42,"status":"shipped","items":["a","b"]}`, Timestamp: "2026-12-07T00:00:00.000Z", UnsubscribeURL: "\x00"}
	b.Run("encode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			en.sign("", "us-east-1")
			_ = en.encode()
		}
	})
	b.Run("marshal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			en.sign("", "us-east-1")
			_ = marshal(en)
		}
	})
}
