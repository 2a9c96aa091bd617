package sqs_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	cw "github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	sdksqs "github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/wharf-dev/wharf/internal/app"
	"github.com/wharf-dev/wharf/internal/config"
	"github.com/wharf-dev/wharf/internal/service/sqs"
)

// TestQueueBacklogReachesCloudWatch sends to a queue on the real server and
// reads the queue's AWS/SQS ApproximateNumberOfMessagesVisible back with
// CloudWatch's GetMetricData, as Application Auto Scaling does.
func TestQueueBacklogReachesCloudWatch(t *testing.T) {
	old := sqs.DefaultMetricsInterval
	sqs.DefaultMetricsInterval = 50 * time.Millisecond
	t.Cleanup(func() { sqs.DefaultMetricsInterval = old })
	cfg, err := config.Parse([]string{"--listen", "127.0.0.1:0", "--ephemeral"}, func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	w, err := app.Start(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), "test")
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		if err := w.Wait(); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	creds := credentials.NewStaticCredentialsProvider("test", "test", "")
	endpoint := aws.String("http://" + w.Addr())
	q := sdksqs.New(sdksqs.Options{Region: "us-east-1", BaseEndpoint: endpoint, Credentials: creds})
	m := cw.New(cw.Options{Region: "us-east-1", BaseEndpoint: endpoint, Credentials: creds})

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
