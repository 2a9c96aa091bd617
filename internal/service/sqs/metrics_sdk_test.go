package sqs_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cw "github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	sdksqs "github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/wharf-dev/wharf/internal/service/sqs"
	"github.com/wharf-dev/wharf/internal/wharftest"
)

// TestQueueBacklogReachesCloudWatch sends to a queue on the real server and
// reads the queue's AWS/SQS ApproximateNumberOfMessagesVisible back with
// CloudWatch's GetMetricData, as Application Auto Scaling does.
func TestQueueBacklogReachesCloudWatch(t *testing.T) {
	old := sqs.DefaultMetricsInterval
	sqs.DefaultMetricsInterval = 50 * time.Millisecond
	t.Cleanup(func() { sqs.DefaultMetricsInterval = old })
	cfg := wharftest.Start(t).Config()
	ctx := context.Background()
	q, m := sdksqs.NewFromConfig(cfg), cw.NewFromConfig(cfg)

	url, err := q.CreateQueue(ctx, &sdksqs.CreateQueueInput{QueueName: aws.String("backlog")})
	if err != nil {
		t.Fatal(err)
	}
	for range 7 {
		if _, err := q.SendMessage(ctx, &sdksqs.SendMessageInput{QueueUrl: url.QueueUrl, MessageBody: aws.String("job")}); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Now().Add(-time.Minute)
	var last []float64
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		out, err := m.GetMetricData(ctx, &cw.GetMetricDataInput{
			StartTime: aws.Time(start), EndTime: aws.Time(time.Now().Add(time.Minute)),
			MetricDataQueries: []cwtypes.MetricDataQuery{{Id: aws.String("visible"), MetricStat: &cwtypes.MetricStat{
				Period: aws.Int32(1), Stat: aws.String("Maximum"),
				Metric: &cwtypes.Metric{Namespace: aws.String("AWS/SQS"), MetricName: aws.String("ApproximateNumberOfMessagesVisible"),
					Dimensions: []cwtypes.Dimension{{Name: aws.String("QueueName"), Value: aws.String("backlog")}}},
			}}},
		})
		if err != nil {
			t.Fatal(err)
		}
		last = out.MetricDataResults[0].Values
		for _, v := range last {
			if v == 7 {
				return
			}
		}
	}
	t.Fatalf("ApproximateNumberOfMessagesVisible for the queue never showed 7 messages; values %v", last)
}
