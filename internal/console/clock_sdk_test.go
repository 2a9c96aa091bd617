package console_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/scheduler"
	schedtypes "github.com/aws/aws-sdk-go-v2/service/scheduler/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/wharf-dev/wharf/internal/wharftest"
)

type clockState struct {
	Now           time.Time `json:"now"`
	Offset        string    `json:"offset"`
	OffsetSeconds float64   `json:"offsetSeconds"`
	Error         string    `json:"error"`
}

// postJSON posts body to u and decodes the answer into v.
func postJSON(t *testing.T, u string, body any, v any) int {
	t.Helper()
	b, _ := json.Marshal(body)
	resp, err := http.Post(u, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("POST %s: %v", u, err)
	}
	return resp.StatusCode
}

func moveClock(t *testing.T, base string, body map[string]string) clockState {
	t.Helper()
	var st clockState
	if code := postJSON(t, base+"/_wharf/clock", body, &st); code != http.StatusOK {
		t.Fatalf("POST /_wharf/clock %v: %d %s", body, code, st.Error)
	}
	return st
}

// receiveOne waits for one message on q, deletes it, and then requires that
// no second one arrives for a while: a schedule fires once per period.
func receiveOne(t *testing.T, sq *sqs.Client, q, what string) {
	t.Helper()
	ctx := context.Background()
	rm, err := sq.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &q, WaitTimeSeconds: 10})
	if err != nil || len(rm.Messages) != 1 {
		t.Fatalf("%s: no message: %v %+v", what, err, rm)
	}
	if _, err := sq.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: &q, ReceiptHandle: rm.Messages[0].ReceiptHandle}); err != nil {
		t.Fatal(err)
	}
	// The dispatcher and the Scheduler look at the clock every second.
	rm, err = sq.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &q, WaitTimeSeconds: 3})
	if err != nil || len(rm.Messages) != 0 {
		t.Fatalf("%s: fired more than once: %v %+v", what, err, rm.Messages)
	}
}

func TestMovingTheClockFiresHourlySchedules(t *testing.T) {
	t.Parallel()
	srv := wharftest.Start(t)
	cfg := srv.Config()
	ctx := context.Background()
	eb, sc, sq := eventbridge.NewFromConfig(cfg), scheduler.NewFromConfig(cfg), sqs.NewFromConfig(cfg)

	var st clockState
	if code := getJSON(t, srv.URL+"/_wharf/clock", &st); code != http.StatusOK || st.OffsetSeconds != 0 {
		t.Fatalf("GET /_wharf/clock at start: %d %+v", code, st)
	}
	ruleQ, err := sq.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("from-rule")})
	if err != nil {
		t.Fatal(err)
	}
	schedQ, err := sq.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("from-schedule")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("hourly"), ScheduleExpression: aws.String("rate(1 hour)")}); err != nil {
		t.Fatal(err)
	}
	if _, err := eb.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String("hourly"),
		Targets: []ebtypes.Target{{Id: aws.String("q"), Arn: aws.String("arn:aws:sqs:us-east-1:000000000000:from-rule")}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := sc.CreateSchedule(ctx, &scheduler.CreateScheduleInput{Name: aws.String("hourly"),
		ScheduleExpression: aws.String("rate(1 hour)"),
		FlexibleTimeWindow: &schedtypes.FlexibleTimeWindow{Mode: schedtypes.FlexibleTimeWindowModeOff},
		Target: &schedtypes.Target{Arn: aws.String("arn:aws:sqs:us-east-1:000000000000:from-schedule"),
			RoleArn: aws.String("arn:aws:iam::000000000000:role/scheduler"), Input: aws.String(`{"batch":true}`)}}); err != nil {
		t.Fatal(err)
	}
	// A rate schedule without a start date fires when it is created
	// (Scheduler's "Rate-based schedules"); a rate rule first fires one
	// period after it is created.
	receiveOne(t, sq, *schedQ.QueueUrl, "the schedule, on creation")

	for hour := 1; hour <= 2; hour++ {
		before := readClock(t, srv.URL)
		after := moveClock(t, srv.URL, map[string]string{"advance": "1h"})
		if d := after.Now.Sub(before.Now); d < time.Hour {
			t.Fatalf("advance 1h moved the clock %s", d)
		}
		receiveOne(t, sq, *ruleQ.QueueUrl, "rate(1 hour) rule after advance "+strconv.Itoa(hour))
		receiveOne(t, sq, *schedQ.QueueUrl, "rate(1 hour) schedule after advance "+strconv.Itoa(hour))
	}

	var bad clockState
	if code := postJSON(t, srv.URL+"/_wharf/clock", map[string]string{"set": "2001-01-01T00:00:00Z"}, &bad); code != http.StatusBadRequest || bad.Error == "" {
		t.Errorf("setting the clock back: %d %+v, want 400 with a reason", code, bad)
	}
	if code := postJSON(t, srv.URL+"/_wharf/clock", map[string]string{"advance": "soon"}, &bad); code != http.StatusBadRequest || bad.Error == "" {
		t.Errorf("advance by 'soon': %d %+v, want 400 with a reason", code, bad)
	}
}

func readClock(t *testing.T, base string) clockState {
	t.Helper()
	var st clockState
	if code := getJSON(t, base+"/_wharf/clock", &st); code != http.StatusOK {
		t.Fatalf("GET /_wharf/clock: %d %+v", code, st)
	}
	return st
}

func TestMovingTheClockElapsesVisibilityTTLAndAlarmPeriods(t *testing.T) {
	t.Parallel()
	srv := wharftest.Start(t)
	cfg := srv.Config()
	ctx := context.Background()
	sq, ddb, cw := sqs.NewFromConfig(cfg), dynamodb.NewFromConfig(cfg), cloudwatch.NewFromConfig(cfg)

	// Start a minute into an hour, so that no hour ends in real time while
	// the test runs: the alarm's period ends only when the clock is moved.
	now := readClock(t, srv.URL).Now
	moveClock(t, srv.URL, map[string]string{"set": now.Truncate(time.Hour).Add(time.Hour + time.Minute).Format(time.RFC3339Nano)})

	// A message received with a 10-minute visibility timeout comes back once
	// the clock has moved past it, not before.
	q, err := sq.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("jobs")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sq.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: q.QueueUrl, MessageBody: aws.String("job 1")}); err != nil {
		t.Fatal(err)
	}
	rm, err := sq.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: q.QueueUrl, VisibilityTimeout: 600, WaitTimeSeconds: 5})
	if err != nil || len(rm.Messages) != 1 {
		t.Fatalf("first receive: %v %+v", err, rm)
	}
	rm, err = sq.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: q.QueueUrl})
	if err != nil || len(rm.Messages) != 0 {
		t.Fatalf("the message was visible during its visibility timeout: %v %+v", err, rm.Messages)
	}

	// A TTL an hour ahead, and an alarm on an hourly period.
	if _, err := ddb.CreateTable(ctx, &dynamodb.CreateTableInput{TableName: aws.String("sessions"), BillingMode: ddbtypes.BillingModePayPerRequest,
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: ddbtypes.KeyTypeHash}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := ddb.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{TableName: aws.String("sessions"),
		TimeToLiveSpecification: &ddbtypes.TimeToLiveSpecification{AttributeName: aws.String("expires"), Enabled: aws.Bool(true)}}); err != nil {
		t.Fatal(err)
	}
	clockNow := readClock(t, srv.URL).Now
	expires := strconv.FormatInt(clockNow.Add(time.Hour).Unix(), 10)
	key := map[string]ddbtypes.AttributeValue{"id": &ddbtypes.AttributeValueMemberS{Value: "s1"}}
	if _, err := ddb.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("sessions"), Item: map[string]ddbtypes.AttributeValue{
		"id": &ddbtypes.AttributeValueMemberS{Value: "s1"}, "expires": &ddbtypes.AttributeValueMemberN{Value: expires}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := cw.PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{AlarmName: aws.String("errors-high"), Namespace: aws.String("App"),
		MetricName: aws.String("Errors"), Statistic: cwtypes.StatisticSum, Period: aws.Int32(3600), EvaluationPeriods: aws.Int32(1),
		Threshold: aws.Float64(5), ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanThreshold}); err != nil {
		t.Fatal(err)
	}
	if _, err := cw.PutMetricData(ctx, &cloudwatch.PutMetricDataInput{Namespace: aws.String("App"),
		MetricData: []cwtypes.MetricDatum{{MetricName: aws.String("Errors"), Value: aws.Float64(10)}}}); err != nil {
		t.Fatal(err)
	}
	alarmState := func() cwtypes.StateValue {
		out, err := cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{"errors-high"}})
		if err != nil || len(out.MetricAlarms) != 1 {
			t.Fatalf("DescribeAlarms: %v %+v", err, out)
		}
		return out.MetricAlarms[0].StateValue
	}
	// The alarm's evaluation loop runs every second: give it two.
	time.Sleep(2 * time.Second)
	if s := alarmState(); s == cwtypes.StateValueAlarm {
		t.Fatal("the alarm went to ALARM before its hourly period ended")
	}

	moveClock(t, srv.URL, map[string]string{"advance": "1h"})

	rm, err = sq.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: q.QueueUrl, WaitTimeSeconds: 5,
		MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameApproximateReceiveCount}})
	if err != nil || len(rm.Messages) != 1 || rm.Messages[0].Attributes["ApproximateReceiveCount"] != "2" {
		t.Fatalf("after its visibility timeout the message did not come back (receive count 2): %v %+v", err, rm)
	}
	waitFor(t, 15*time.Second, "the alarm to go to ALARM after its period ended", func() bool { return alarmState() == cwtypes.StateValueAlarm })
	waitFor(t, 15*time.Second, "the expired item to be deleted", func() bool {
		out, err := ddb.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("sessions"), Key: key})
		if err != nil {
			t.Fatal(err)
		}
		return out.Item == nil
	})
}

func waitFor(t *testing.T, d time.Duration, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(d); !ok(); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}
