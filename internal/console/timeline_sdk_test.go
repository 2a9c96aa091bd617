package console_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/wharf-dev/wharf/internal/timeline"
	"github.com/wharf-dev/wharf/internal/wharftest"
)

type entries struct {
	Entries []timeline.Entry `json:"entries"`
}

func getJSON(t *testing.T, u string, v any) int {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	return resp.StatusCode
}

// waitTrace polls the trace of id until it holds an entry of kind.
func waitTrace(t *testing.T, base, id, kind string) []timeline.Entry {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		var tr entries
		getJSON(t, base+"/_wharf/api/trace/"+url.PathEscape(id), &tr)
		for _, e := range tr.Entries {
			if e.Kind == kind {
				return tr.Entries
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("trace of %s never had %s: %+v", id, kind, tr.Entries)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func find(es []timeline.Entry, kind string) *timeline.Entry {
	for i := range es {
		if es[i].Kind == kind {
			return &es[i]
		}
	}
	return nil
}

func TestTimelineTracesAnUploadToARuleToAQueue(t *testing.T) {
	srv := wharftest.Start(t)
	cfg := srv.Config()
	ctx := context.Background()
	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	eb, sq := eventbridge.NewFromConfig(cfg), sqs.NewFromConfig(cfg)

	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("uploads")}); err != nil {
		t.Fatal(err)
	}
	if _, err := s3c.PutBucketNotificationConfiguration(ctx, &s3.PutBucketNotificationConfigurationInput{Bucket: aws.String("uploads"),
		NotificationConfiguration: &s3types.NotificationConfiguration{EventBridgeConfiguration: &s3types.EventBridgeConfiguration{}}}); err != nil {
		t.Fatal(err)
	}
	q, err := sq.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("work")})
	if err != nil {
		t.Fatal(err)
	}
	queueARN := "arn:aws:sqs:us-east-1:000000000000:work"
	rule, err := eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("on-upload"),
		EventPattern: aws.String(`{"source":["aws.s3"],"detail-type":["Object Created"],"detail":{"bucket":{"name":["uploads"]}}}`)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := eb.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String("on-upload"),
		Targets: []ebtypes.Target{{Id: aws.String("q"), Arn: aws.String(queueARN)}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("uploads"), Key: aws.String("in/a.txt"), Body: strings.NewReader("hello")}); err != nil {
		t.Fatal(err)
	}
	rm, err := sq.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: q.QueueUrl, WaitTimeSeconds: 10})
	if err != nil || len(rm.Messages) != 1 {
		t.Fatalf("ReceiveMessage: %v %+v", err, rm)
	}
	msgID := *rm.Messages[0].MessageId
	var event struct {
		ID string `json:"id"`
	}
	json.Unmarshal([]byte(*rm.Messages[0].Body), &event)
	if _, err := sq.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: q.QueueUrl, ReceiptHandle: rm.Messages[0].ReceiptHandle}); err != nil {
		t.Fatal(err)
	}

	// The message's trace is the whole chain, from the upload on, each hop
	// linked to its cause.
	chain := waitTrace(t, srv.URL, msgID, "MessageDeleted")
	// EventBridge records the invocation when the send it made returns; by
	// then a receiver may have taken the message, and deleted it: the
	// invocation comes anywhere after the send. The rest is in the order of
	// cause and effect: SQS records a send inside its commit, before any
	// receive can see the message. The queue has no policy letting
	// events.amazonaws.com in: AWS would refuse the delivery, and under
	// --iam audit the trace says so.
	var kinds, all []string
	invocation, sentAt := -1, -1
	for i, e := range chain {
		k := e.Service + "." + e.Kind
		all = append(all, k)
		switch k {
		case "events.Invocation":
			invocation = i
			continue
		case "sqs.MessageSent":
			sentAt = i
		}
		kinds = append(kinds, k)
	}
	want := []string{"s3.ObjectCreated", "events.EventReceived", "events.RuleMatched", "iam.AccessDenied", "sqs.MessageSent", "sqs.MessageReceived", "sqs.MessageDeleted"}
	if strings.Join(kinds, " ") != strings.Join(want, " ") || sentAt < 0 || invocation < sentAt {
		t.Fatalf("trace of the message:\n got %v\nwant %v, with events.Invocation after sqs.MessageSent", all, want)
	}
	created, received := find(chain, "ObjectCreated"), find(chain, "EventReceived")
	matched, invoked, sent := find(chain, "RuleMatched"), find(chain, "Invocation"), find(chain, "MessageSent")
	if created.Resource != "arn:aws:s3:::uploads/in/a.txt" {
		t.Errorf("ObjectCreated resource %q", created.Resource)
	}
	if received.Subject != event.ID || received.Cause != created.Subject {
		t.Errorf("EventReceived %+v: want subject %s caused by %s", received, event.ID, created.Subject)
	}
	if matched.Resource != *rule.RuleArn || matched.Subject != event.ID {
		t.Errorf("RuleMatched %+v", matched)
	}
	if d := find(chain, "AccessDenied"); d.Outcome != "" || d.Cause != event.ID || !strings.Contains(d.Detail, "audit") {
		t.Errorf("AccessDenied %+v: want an audit record caused by event %s", d, event.ID)
	}
	if invoked.Outcome != timeline.OK || invoked.Resource != queueARN || invoked.Subject != event.ID {
		t.Errorf("Invocation %+v", invoked)
	}
	if sent.Subject != msgID || sent.Cause != event.ID || sent.Resource != queueARN {
		t.Errorf("MessageSent %+v: want message %s caused by event %s", sent, msgID, event.ID)
	}
	// The trace of the event, or of the upload's request, is the same chain.
	for _, id := range []string{event.ID, created.Subject} {
		var tr entries
		getJSON(t, srv.URL+"/_wharf/api/trace/"+url.PathEscape(id), &tr)
		if len(tr.Entries) != len(chain) {
			t.Errorf("trace of %s has %d entries, want %d", id, len(tr.Entries), len(chain))
		}
	}

	// The timeline, filtered by event id, newest first.
	var byEvent entries
	getJSON(t, srv.URL+"/_wharf/api/timeline?id="+event.ID, &byEvent)
	if len(byEvent.Entries) < 4 || byEvent.Entries[0].Time.Before(byEvent.Entries[len(byEvent.Entries)-1].Time) {
		t.Errorf("timeline by event id: %+v", byEvent.Entries)
	}
	for _, e := range byEvent.Entries {
		if e.Subject != event.ID && e.Cause != event.ID {
			t.Errorf("timeline?id=%s returned an unrelated entry %+v", event.ID, e)
		}
	}
	var bySQS entries
	getJSON(t, srv.URL+"/_wharf/api/timeline?service=sqs&resource="+url.QueryEscape(queueARN), &bySQS)
	if len(bySQS.Entries) != 3 || bySQS.Entries[0].Kind != "MessageDeleted" || bySQS.Entries[2].Kind != "MessageSent" {
		t.Errorf("timeline of the queue: %+v", bySQS.Entries)
	}
	var bad map[string]string
	if code := getJSON(t, srv.URL+"/_wharf/api/timeline?since=yesterday", &bad); code != 400 || bad["error"] == "" {
		t.Errorf("bad since: %d %v", code, bad)
	}
	if code := getJSON(t, srv.URL+"/_wharf/api/trace/no-such-id", &bad); code != 404 {
		t.Errorf("unknown trace: %d", code)
	}

	// An event no rule matches says so.
	pe, err := eb.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{
		{Source: aws.String("com.example"), DetailType: aws.String("Nothing"), Detail: aws.String(`{}`)}}})
	if err != nil {
		t.Fatal(err)
	}
	none := waitTrace(t, srv.URL, *pe.Entries[0].EventId, "NoRuleMatched")
	if e := find(none, "NoRuleMatched"); e.Resource != "arn:aws:events:us-east-1:000000000000:event-bus/default" {
		t.Errorf("NoRuleMatched %+v", e)
	}
}

func TestFailedInvocationShowsItsErrorAndIsCounted(t *testing.T) {
	srv := wharftest.Start(t)
	cfg := srv.Config()
	ctx := context.Background()
	eb, cw := eventbridge.NewFromConfig(cfg), cloudwatch.NewFromConfig(cfg)
	if _, err := eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("to-nowhere"),
		EventPattern: aws.String(`{"source":["com.example"]}`)}); err != nil {
		t.Fatal(err)
	}
	// The queue does not exist; no retries, so the first failure is final.
	if _, err := eb.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String("to-nowhere"), Targets: []ebtypes.Target{{
		Id: aws.String("gone"), Arn: aws.String("arn:aws:sqs:us-east-1:000000000000:missing"),
		RetryPolicy: &ebtypes.RetryPolicy{MaximumRetryAttempts: aws.Int32(0)}}}}); err != nil {
		t.Fatal(err)
	}

	// The live stream sees the failure as it happens.
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/_wharf/api/timeline/stream?service=events", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("stream Content-Type %q", ct)
	}
	streamed := make(chan timeline.Entry, 16)
	go func() {
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				var e timeline.Entry
				json.Unmarshal([]byte(data), &e)
				streamed <- e
			}
		}
		close(streamed)
	}()

	pe, err := eb.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{
		{Source: aws.String("com.example"), DetailType: aws.String("Order"), Detail: aws.String(`{"n":1}`)}}})
	if err != nil {
		t.Fatal(err)
	}
	id := *pe.Entries[0].EventId
	chain := waitTrace(t, srv.URL, id, "InvocationFailed")
	inv, gaveUp := find(chain, "Invocation"), find(chain, "InvocationFailed")
	if inv.Outcome != timeline.Failed || !strings.Contains(inv.Error, "exist") {
		t.Errorf("Invocation %+v: want failed with the queue's error", inv)
	}
	if gaveUp.Outcome != timeline.Failed || gaveUp.Error != inv.Error || gaveUp.Resource != "arn:aws:sqs:us-east-1:000000000000:missing" {
		t.Errorf("InvocationFailed %+v", gaveUp)
	}

	var kinds []string
	timeout := time.After(15 * time.Second)
	for find := true; find; {
		select {
		case e, ok := <-streamed:
			if !ok {
				t.Fatal("stream ended")
			}
			if e.Subject == id {
				kinds = append(kinds, e.Kind)
			}
			find = e.Kind != "InvocationFailed"
		case <-timeout:
			t.Fatalf("stream: got %v", kinds)
		}
	}
	if strings.Join(kinds, " ") != "EventReceived RuleMatched Invocation InvocationFailed" {
		t.Errorf("streamed %v", kinds)
	}

	// AWS/Events metrics, per rule: what AWS answers "why didn't my rule fire?" with.
	want := map[string]float64{"MatchedEvents": 1, "TriggeredRules": 1, "Invocations": 1, "FailedInvocations": 1}
	deadline := time.Now().Add(15 * time.Second)
	for name, v := range want {
		for {
			st, err := cw.GetMetricStatistics(ctx, &cloudwatch.GetMetricStatisticsInput{
				Namespace: aws.String("AWS/Events"), MetricName: aws.String(name),
				Dimensions: []cwtypes.Dimension{{Name: aws.String("RuleName"), Value: aws.String("to-nowhere")}},
				StartTime:  aws.Time(time.Now().Add(-10 * time.Minute)), EndTime: aws.Time(time.Now().Add(10 * time.Minute)),
				Period: aws.Int32(60), Statistics: []cwtypes.Statistic{cwtypes.StatisticSum},
			})
			if err != nil {
				t.Fatal(err)
			}
			sum := 0.0
			for _, dp := range st.Datapoints {
				sum += *dp.Sum
			}
			if sum == v {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s for the rule: sum %v, want %v", name, sum, v)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
}
