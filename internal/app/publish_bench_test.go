package app

import (
	"context"
	"fmt"
	"testing"

	"github.com/wharf-dev/wharf/internal/awsapi"
	snsapi "github.com/wharf-dev/wharf/internal/awsapi/sns"
	sqsapi "github.com/wharf-dev/wharf/internal/awsapi/sqs"
)

// BenchmarkPublishToThreeQueues is a Publish to a topic with three SQS
// subscribers through the wired services (bench/peers' sns-publish-fanout
// without HTTP): authorized as sns.amazonaws.com under --iam audit, the
// queues having no policy, as there.
func BenchmarkPublishToThreeQueues(b *testing.B) {
	sys := testSystem(b)
	ctx := awsapi.WithCaller(context.Background(), &awsapi.Caller{Account: "000000000000", Region: "us-east-1", Host: "localhost:4566"})
	topic := fanoutTopic(b, sys, ctx)
	in := &snsapi.PublishInput{TopicArn: topic.TopicArn, Message: awsapi.String("hello from the benchmark")}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := sys.SNS.Publish(ctx, in); err != nil {
			b.Fatal(err)
		}
	}
}

// fanoutTopic creates bench/peers' fan-out topic, subscribed by three SQS
// queues, and returns it.
func fanoutTopic(b *testing.B, sys *System, ctx context.Context) *snsapi.CreateTopicOutput {
	b.Helper()
	topic, err := sys.SNS.CreateTopic(ctx, &snsapi.CreateTopicInput{Name: awsapi.String("bench-fanout")})
	if err != nil {
		b.Fatal(err)
	}
	for i := range 3 {
		name := fmt.Sprintf("bench-fanout-%d", i)
		if _, err := sys.SQS.CreateQueue(ctx, &sqsapi.CreateQueueInput{QueueName: &name}); err != nil {
			b.Fatal(err)
		}
		arn := "arn:aws:sqs:us-east-1:000000000000:" + name
		if _, err := sys.SNS.Subscribe(ctx, &snsapi.SubscribeInput{TopicArn: topic.TopicArn, Protocol: awsapi.String("sqs"), Endpoint: &arn}); err != nil {
			b.Fatal(err)
		}
	}
	return topic
}
