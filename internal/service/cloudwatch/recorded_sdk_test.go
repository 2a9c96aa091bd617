package cloudwatch_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cw "github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/smithy-go"

	"github.com/wharf-dev/wharf/internal/wharftest"
)

// TestSDKErrorsInTheWordsCloudWatchRecorded: CloudWatch's answers as its
// AWS-validated snapshots (localstack's) recorded them over every protocol:
// GetMetricStatistics' datapoint limit and time order, a dashboard name with
// other characters, two of Value, StatisticValues and Values, Values and
// Counts of different sizes, an unknown alarm state and a missing alarm.
func TestSDKErrorsInTheWordsCloudWatchRecorded(t *testing.T) {
	t.Parallel()
	c := cw.NewFromConfig(wharftest.Start(t).Config())
	ctx := context.Background()
	now := time.Now().UTC()
	stats := func(start, end time.Time, period int32) error {
		_, err := c.GetMetricStatistics(ctx, &cw.GetMetricStatisticsInput{Namespace: aws.String("n"), MetricName: aws.String("m"),
			StartTime: aws.Time(start), EndTime: aws.Time(end), Period: aws.Int32(period), Statistics: []cwtypes.Statistic{cwtypes.StatisticAverage}})
		return err
	}
	put := func(d cwtypes.MetricDatum) error {
		d.MetricName = aws.String("m")
		_, err := c.PutMetricData(ctx, &cw.PutMetricDataInput{Namespace: aws.String("n"), MetricData: []cwtypes.MetricDatum{d}})
		return err
	}
	one := aws.Float64(1)
	for _, tc := range []struct {
		name, code, msg string
		err             error
	}{
		{"86400 datapoints", "InvalidParameterCombination", "You have requested up to 86400 datapoints, which exceeds the limit of 1440. You may reduce the datapoints requested by increasing Period, or decreasing the time range.",
			stats(now.Add(-24*time.Hour), now, 1)},
		{"start after end", "InvalidParameterValue", "The parameter StartTime must be less than the parameter EndTime.", stats(now, now.Add(-24*time.Hour), 60)},
		{"dashboard name", "InvalidParameterValue", "The value for field DashboardName contains invalid characters. It can only contain alphanumerics, dash (-) and underscore (_).", func() error {
			_, err := c.PutDashboard(ctx, &cw.PutDashboardInput{DashboardName: aws.String("bad name!"), DashboardBody: aws.String(`{"widgets":[]}`)})
			return err
		}()},
		{"Value and StatisticValues", "InvalidParameterCombination", "The parameters MetricData.member.1.Value and MetricData.member.1.StatisticValues are mutually exclusive and you have specified both.",
			put(cwtypes.MetricDatum{Value: one, StatisticValues: &cwtypes.StatisticSet{SampleCount: one, Sum: one, Minimum: one, Maximum: one}})},
		{"Value and Values", "InvalidParameterCombination", "The parameters MetricData.member.1.Value and MetricData.member.1.Values are mutually exclusive and you have specified both.",
			put(cwtypes.MetricDatum{Value: one, Values: []float64{1}})},
		{"Values and Counts", "InvalidParameterValue", "The parameters MetricData.member.1.Values and MetricData.member.1.Counts must be of the same size.",
			put(cwtypes.MetricDatum{Values: []float64{1, 2}, Counts: []float64{1}})},
		{"unknown state", "ValidationError", "1 validation error detected: Value 'INVALID' at 'stateValue' failed to satisfy constraint: Member must satisfy enum value set: [INSUFFICIENT_DATA, ALARM, OK]", func() error {
			_, err := c.SetAlarmState(ctx, &cw.SetAlarmStateInput{AlarmName: aws.String("a"), StateValue: "INVALID", StateReason: aws.String("test")})
			return err
		}()},
		{"missing alarm", "ResourceNotFound", "", func() error {
			_, err := c.SetAlarmState(ctx, &cw.SetAlarmStateInput{AlarmName: aws.String("a-nonexistent"), StateValue: cwtypes.StateValueOk, StateReason: aws.String("test")})
			return err
		}()},
	} {
		var ae smithy.APIError
		if !errors.As(tc.err, &ae) || ae.ErrorCode() != tc.code || ae.ErrorMessage() != tc.msg {
			t.Errorf("%s: %v, want %s %q", tc.name, tc.err, tc.code, tc.msg)
		}
	}
}
