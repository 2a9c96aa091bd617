package cloudwatch_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cw "github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/smithy-go"

	"github.com/wharf-dev/wharf/internal/wharftest"
)

// TestMetricsInsightsQueriesInGetMetricData: SELECT ... FROM namespace or
// SCHEMA(...), WHERE with = and != joined by AND and OR, GROUP BY, ORDER BY
// and LIMIT, through the SDK: each group a result with the query's id and
// the group's label, the function over every observation of the group.
func TestMetricsInsightsQueriesInGetMetricData(t *testing.T) {
	t.Parallel()
	c, _ := startWharf(t)
	ctx := context.Background()
	t0 := time.Now().UTC().Truncate(time.Minute).Add(-2 * time.Minute)
	put := func(v float64, dims ...string) {
		t.Helper()
		d := []types.Dimension{}
		for i := 0; i < len(dims); i += 2 {
			d = append(d, types.Dimension{Name: aws.String(dims[i]), Value: aws.String(dims[i+1])})
		}
		if _, err := c.PutMetricData(ctx, &cw.PutMetricDataInput{Namespace: aws.String("App/Web"), MetricData: []types.MetricDatum{
			{MetricName: aws.String("CPU"), Dimensions: d, Value: aws.Float64(v), Timestamp: aws.Time(t0.Add(10 * time.Second))}}}); err != nil {
			t.Fatal(err)
		}
	}
	put(10, "InstanceId", "i-1")
	put(20, "InstanceId", "i-2")
	put(30, "InstanceId", "i-3")
	put(40, "InstanceId", "i-4", "Az", "a")
	put(50)
	query := func(expr string) ([]types.MetricDataResult, error) {
		out, err := c.GetMetricData(ctx, &cw.GetMetricDataInput{StartTime: aws.Time(t0), EndTime: aws.Time(t0.Add(time.Minute)),
			MetricDataQueries: []types.MetricDataQuery{{Id: aws.String("q"), Expression: aws.String(expr), Period: aws.Int32(60)}}})
		if err != nil {
			return nil, err
		}
		return out.MetricDataResults, nil
	}
	type point struct {
		label string
		value float64
	}
	cases := []struct {
		expr string
		want []point
	}{
		{`SELECT AVG(CPU) FROM SCHEMA("App/Web", InstanceId) GROUP BY InstanceId ORDER BY AVG() DESC LIMIT 2`, []point{{"i-3", 30}, {"i-2", 20}}},
		{`select max(CPU) from schema("App/Web", InstanceId) group by InstanceId order by max() asc`, []point{{"i-1", 10}, {"i-2", 20}, {"i-3", 30}}},
		{`SELECT SUM(CPU) FROM "App/Web" WHERE InstanceId != 'i-1'`, []point{{"q", 140}}},
		{`SELECT COUNT(CPU) FROM SCHEMA("App/Web")`, []point{{"q", 1}}},
		{`SELECT MAX(CPU) FROM "App/Web" WHERE InstanceId = 'i-4' AND Az = 'a'`, []point{{"q", 40}}},
		{`SELECT MIN(CPU) FROM "App/Web" WHERE (InstanceId = 'i-2' OR InstanceId = 'i-3') AND InstanceId != 'i-1'`, []point{{"q", 20}}},
		{`SELECT AVG(CPU) FROM "App/Web"`, []point{{"q", 30}}},
	}
	for _, tc := range cases {
		got, err := query(tc.expr)
		if err != nil {
			t.Errorf("%s: %v", tc.expr, err)
			continue
		}
		var pts []point
		for _, r := range got {
			if aws.ToString(r.Id) != "q" || len(r.Values) != 1 || !r.Timestamps[0].Equal(t0) {
				t.Errorf("%s: result %+v", tc.expr, r)
				continue
			}
			pts = append(pts, point{aws.ToString(r.Label), r.Values[0]})
		}
		if len(pts) != len(tc.want) {
			t.Errorf("%s: %v, want %v", tc.expr, pts, tc.want)
			continue
		}
		for i := range pts {
			if pts[i] != tc.want[i] {
				t.Errorf("%s: %v, want %v", tc.expr, pts, tc.want)
				break
			}
		}
	}
	var ae smithy.APIError
	if _, err := query(`SELECT AVG(CPU) FROM`); !errors.As(err, &ae) || ae.ErrorCode() != "InvalidParameterValue" {
		t.Errorf("incomplete query: %v", err)
	}
	if _, err := query(`SELECT MEDIAN(CPU) FROM "App/Web"`); !errors.As(err, &ae) || ae.ErrorCode() != "InvalidParameterValue" {
		t.Errorf("unknown function: %v", err)
	}
	_, err := c.GetMetricData(ctx, &cw.GetMetricDataInput{StartTime: aws.Time(t0), EndTime: aws.Time(t0.Add(time.Minute)),
		MetricDataQueries: []types.MetricDataQuery{{Id: aws.String("q"), Expression: aws.String(`SELECT AVG(CPU) FROM "App/Web"`)}}})
	if !errors.As(err, &ae) || ae.ErrorCode() != "MissingParameter" {
		t.Errorf("a query without Period: %v", err)
	}
}

// TestCompositeAlarmNotifiesEndToEnd: metric data breaches two metric
// alarms; the composite alarm whose rule needs both goes to ALARM and its
// action publishes to an SNS topic, whose SQS subscriber gets the
// notification naming the composite alarm.
func TestCompositeAlarmNotifiesEndToEnd(t *testing.T) {
	t.Parallel()
	cfg := wharftest.Start(t).Config()
	c, sn, sq := cw.NewFromConfig(cfg), sns.NewFromConfig(cfg), sqs.NewFromConfig(cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	topic, err := sn.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("alerts")})
	if err != nil {
		t.Fatal(err)
	}
	q, err := sq.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("inbox")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sn.Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("sqs"),
		Endpoint: aws.String("arn:aws:sqs:us-east-1:000000000000:inbox"), Attributes: map[string]string{"RawMessageDelivery": "true"}}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"errors", "latency"} {
		if _, err := c.PutMetricAlarm(ctx, &cw.PutMetricAlarmInput{AlarmName: aws.String(name), Namespace: aws.String("App"), MetricName: aws.String(name),
			Statistic: types.StatisticMaximum, Period: aws.Int32(10), EvaluationPeriods: aws.Int32(1), Threshold: aws.Float64(5),
			ComparisonOperator: types.ComparisonOperatorGreaterThanThreshold, TreatMissingData: aws.String("ignore")}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.PutCompositeAlarm(ctx, &cw.PutCompositeAlarmInput{AlarmName: aws.String("unhealthy"),
		AlarmRule: aws.String(`ALARM("errors") AND ALARM(latency)`), AlarmActions: []string{aws.ToString(topic.TopicArn)}}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"errors", "latency"} {
		if _, err := c.PutMetricData(ctx, &cw.PutMetricDataInput{Namespace: aws.String("App"), MetricData: []types.MetricDatum{
			{MetricName: aws.String(name), Value: aws.Float64(10), StorageResolution: aws.Int32(1)}}}); err != nil {
			t.Fatal(err)
		}
	}
	var body string
	for ctx.Err() == nil && body == "" {
		out, err := sq.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: q.QueueUrl, WaitTimeSeconds: 5})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range out.Messages {
			body = aws.ToString(m.Body)
		}
	}
	if !strings.Contains(body, `"AlarmName":"unhealthy"`) || !strings.Contains(body, `"NewStateValue":"ALARM"`) {
		t.Fatalf("notification %q, want the composite alarm's ALARM", body)
	}
	d, err := c.DescribeAlarms(ctx, &cw.DescribeAlarmsInput{AlarmNames: []string{"unhealthy"}, AlarmTypes: []types.AlarmType{types.AlarmTypeCompositeAlarm}})
	if err != nil || len(d.CompositeAlarms) != 1 || d.CompositeAlarms[0].StateValue != types.StateValueAlarm {
		t.Fatalf("DescribeAlarms: %v %+v", err, d)
	}
}
