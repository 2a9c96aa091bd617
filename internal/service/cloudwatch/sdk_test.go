package cloudwatch_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	cw "github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/wharf-dev/wharf/internal/wharftest"
)

func startWharf(t *testing.T) (*cw.Client, string) {
	t.Helper()
	w := wharftest.Start(t)
	return cw.NewFromConfig(w.Config()), w.Addr
}

// protocolRecorder captures the Content-Type of each request the SDK sends, to
// prove which protocol the test exercised.
func protocolRecorder(seen *[]string) func(*middleware.Stack) error {
	return func(st *middleware.Stack) error {
		return st.Finalize.Add(middleware.FinalizeMiddlewareFunc("record", func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
			if r, ok := in.Request.(*smithyhttp.Request); ok {
				*seen = append(*seen, r.Header.Get("Smithy-Protocol")+"|"+r.Header.Get("Content-Type"))
			}
			return next.HandleFinalize(ctx, in)
		}), middleware.After)
	}
}

func TestSDKv2CBORMetricsRoundTrip(t *testing.T) {
	c, _ := startWharf(t)
	ctx := context.Background()
	var seen []string
	rec := func(o *cw.Options) { o.APIOptions = append(o.APIOptions, protocolRecorder(&seen)) }
	now := time.Now().Truncate(time.Second)
	_, err := c.PutMetricData(ctx, &cw.PutMetricDataInput{Namespace: aws.String("Wharf/Test"), MetricData: []types.MetricDatum{
		{MetricName: aws.String("Backlog"), Dimensions: []types.Dimension{{Name: aws.String("Queue"), Value: aws.String("jobs")}}, Value: aws.Float64(10), Timestamp: aws.Time(now.Add(-2 * time.Second)), StorageResolution: aws.Int32(1), Unit: types.StandardUnitCount},
		{MetricName: aws.String("Backlog"), Dimensions: []types.Dimension{{Name: aws.String("Queue"), Value: aws.String("jobs")}}, Value: aws.Float64(30), Timestamp: aws.Time(now.Add(-1 * time.Second)), StorageResolution: aws.Int32(1), Unit: types.StandardUnitCount},
	}}, rec)
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) != 1 || !strings.HasPrefix(seen[0], "rpc-v2-cbor|application/cbor") {
		t.Fatalf("the SDK did not speak CBOR: %v", seen)
	}
	stats, err := c.GetMetricStatistics(ctx, &cw.GetMetricStatisticsInput{Namespace: aws.String("Wharf/Test"), MetricName: aws.String("Backlog"),
		Dimensions: []types.Dimension{{Name: aws.String("Queue"), Value: aws.String("jobs")}},
		StartTime:  aws.Time(now.Add(-time.Minute)), EndTime: aws.Time(now.Add(time.Minute)), Period: aws.Int32(120),
		Statistics: []types.Statistic{types.StatisticSum, types.StatisticAverage}})
	if err != nil {
		t.Fatal(err)
	}
	if len(stats.Datapoints) != 1 || aws.ToFloat64(stats.Datapoints[0].Sum) != 40 || aws.ToFloat64(stats.Datapoints[0].Average) != 20 || stats.Datapoints[0].Unit != types.StandardUnitCount {
		t.Fatalf("datapoints = %+v", stats.Datapoints)
	}
	data, err := c.GetMetricData(ctx, &cw.GetMetricDataInput{StartTime: aws.Time(now.Add(-time.Minute)), EndTime: aws.Time(now), ScanBy: types.ScanByTimestampAscending,
		MetricDataQueries: []types.MetricDataQuery{
			{Id: aws.String("b"), ReturnData: aws.Bool(false), MetricStat: &types.MetricStat{Period: aws.Int32(1), Stat: aws.String("Maximum"), Metric: &types.Metric{Namespace: aws.String("Wharf/Test"), MetricName: aws.String("Backlog"), Dimensions: []types.Dimension{{Name: aws.String("Queue"), Value: aws.String("jobs")}}}}},
			{Id: aws.String("perTask"), Expression: aws.String("b / 2"), Label: aws.String("backlog per task")},
		}})
	if err != nil {
		t.Fatal(err)
	}
	if len(data.MetricDataResults) != 1 || *data.MetricDataResults[0].Label != "backlog per task" || len(data.MetricDataResults[0].Values) != 2 || data.MetricDataResults[0].Values[1] != 15 {
		t.Fatalf("results = %+v", data.MetricDataResults)
	}
	list, err := c.ListMetrics(ctx, &cw.ListMetricsInput{Namespace: aws.String("Wharf/Test")})
	if err != nil || len(list.Metrics) != 1 || *list.Metrics[0].Dimensions[0].Value != "jobs" {
		t.Fatalf("list = %+v %v", list, err)
	}
	_, err = c.PutMetricData(ctx, &cw.PutMetricDataInput{Namespace: aws.String("Wharf/Test"), MetricData: []types.MetricDatum{{MetricName: aws.String("X"), Value: aws.Float64(1), StorageResolution: aws.Int32(7)}}})
	var bad *types.InvalidParameterValueException
	if !errors.As(err, &bad) {
		t.Fatalf("bad resolution: %v", err)
	}
}

// signedPost sends a SigV4-signed POST for the monitoring service.
func signedPost(t *testing.T, addr string, header map[string]string, body []byte) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/", bytes.NewReader(body))
	for k, v := range header {
		req.Header.Set(k, v)
	}
	sum := sha256.Sum256(body)
	err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: "test", SecretAccessKey: "test"}, req, hex.EncodeToString(sum[:]), "monitoring", "us-east-1", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// CLI v2 and older SDKs call CloudWatch in the query protocol; some use JSON 1.0.
func TestQueryAndJSONProtocols(t *testing.T) {
	_, addr := startWharf(t)
	form := url.Values{
		"Action": {"PutMetricData"}, "Version": {"2010-08-01"}, "Namespace": {"Wharf/Query"},
		"MetricData.member.1.MetricName": {"Hits"}, "MetricData.member.1.Value": {"5"},
		"MetricData.member.1.Dimensions.member.1.Name": {"Page"}, "MetricData.member.1.Dimensions.member.1.Value": {"home"},
	}
	status, body := signedPost(t, addr, map[string]string{"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}, []byte(form.Encode()))
	if status != 200 || !strings.Contains(body, "PutMetricDataResponse") {
		t.Fatalf("query put: %d %s", status, body)
	}
	start := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	end := time.Now().Add(time.Minute).UTC().Format(time.RFC3339)
	form = url.Values{
		"Action": {"GetMetricStatistics"}, "Version": {"2010-08-01"}, "Namespace": {"Wharf/Query"}, "MetricName": {"Hits"},
		"Dimensions.member.1.Name": {"Page"}, "Dimensions.member.1.Value": {"home"},
		"StartTime": {start}, "EndTime": {end}, "Period": {"3600"}, "Statistics.member.1": {"Sum"},
	}
	status, body = signedPost(t, addr, map[string]string{"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}, []byte(form.Encode()))
	if status != 200 || !strings.Contains(body, "<Sum>5") {
		t.Fatalf("query get: %d %s", status, body)
	}
	form = url.Values{"Action": {"PutMetricData"}, "Version": {"2010-08-01"}, "Namespace": {"AWS/EC2"}, "MetricData.member.1.MetricName": {"X"}, "MetricData.member.1.Value": {"1"}}
	status, body = signedPost(t, addr, map[string]string{"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}, []byte(form.Encode()))
	if status != 400 || !strings.Contains(body, "<Code>InvalidParameterValue</Code>") {
		t.Fatalf("query error: %d %s", status, body)
	}
	status, body = signedPost(t, addr, map[string]string{"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "GraniteServiceVersion20100801.ListMetrics"}, []byte(`{"Namespace":"Wharf/Query"}`))
	if status != 200 || !strings.Contains(body, `"MetricName":"Hits"`) {
		t.Fatalf("json list: %d %s", status, body)
	}
}

func TestSDKv2CBORAlarms(t *testing.T) {
	c, _ := startWharf(t)
	ctx := context.Background()
	_, err := c.PutMetricAlarm(ctx, &cw.PutMetricAlarmInput{
		AlarmName: aws.String("sdk-high"), Namespace: aws.String("Wharf/Test"), MetricName: aws.String("Backlog"),
		Statistic: types.StatisticAverage, Period: aws.Int32(60), EvaluationPeriods: aws.Int32(2), DatapointsToAlarm: aws.Int32(1),
		Threshold: aws.Float64(5), ComparisonOperator: types.ComparisonOperatorGreaterThanThreshold, TreatMissingData: aws.String("notBreaching"),
		Dimensions: []types.Dimension{{Name: aws.String("Queue"), Value: aws.String("jobs")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.SetAlarmState(ctx, &cw.SetAlarmStateInput{AlarmName: aws.String("sdk-high"), StateValue: types.StateValueAlarm, StateReason: aws.String("test")}); err != nil {
		t.Fatal(err)
	}
	out, err := c.DescribeAlarms(ctx, &cw.DescribeAlarmsInput{AlarmNamePrefix: aws.String("sdk-")})
	if err != nil || len(out.MetricAlarms) != 1 {
		t.Fatalf("describe: %+v %v", out, err)
	}
	a := out.MetricAlarms[0]
	if *a.AlarmArn != "arn:aws:cloudwatch:us-east-1:000000000000:alarm:sdk-high" || a.StateUpdatedTimestamp == nil || a.StateUpdatedTimestamp.IsZero() ||
		aws.ToInt32(a.DatapointsToAlarm) != 1 || a.Dimensions[0].Value == nil {
		t.Fatalf("alarm = %+v", a)
	}
	hist, err := c.DescribeAlarmHistory(ctx, &cw.DescribeAlarmHistoryInput{AlarmName: aws.String("sdk-high")})
	if err != nil || len(hist.AlarmHistoryItems) < 2 {
		t.Fatalf("history: %+v %v", hist, err)
	}
	_, err = c.DeleteAlarms(ctx, &cw.DeleteAlarmsInput{AlarmNames: []string{"missing"}})
	var nf *types.ResourceNotFound
	if !errors.As(err, &nf) {
		t.Fatalf("delete missing: %v", err)
	}
	if _, err := c.DeleteAlarms(ctx, &cw.DeleteAlarmsInput{AlarmNames: []string{"sdk-high"}}); err != nil {
		t.Fatal(err)
	}
}
