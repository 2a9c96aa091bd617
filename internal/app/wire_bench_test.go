package app

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/wharf-dev/wharf/internal/awsapi"
	eventsapi "github.com/wharf-dev/wharf/internal/awsapi/events"
	sqsapi "github.com/wharf-dev/wharf/internal/awsapi/sqs"
)

// BenchmarkPublishQuery is bench/peers' sns-publish-fanout without the
// network: a signed query-protocol Publish to a topic with three SQS
// subscribers through the server's whole request path, in memory.
func BenchmarkPublishQuery(b *testing.B) {
	sys, srv := benchServer(b)
	ctx := awsapi.WithCaller(context.Background(), &awsapi.Caller{Account: "000000000000", Region: "us-east-1", Host: "localhost:4566"})
	topic := fanoutTopic(b, sys, ctx)
	body := url.Values{"Action": {"Publish"}, "Version": {"2010-03-31"}, "TopicArn": {*topic.TopicArn}, "Message": {"hello from the benchmark"}}.Encode()
	req := httptest.NewRequest(http.MethodPost, "http://localhost:4566/", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	serveSigned(b, srv, req, body, "sns")
}

// BenchmarkPutEventsJSON is bench/peers' events-put without the network: a
// signed PutEvents of one entry, which a rule matches and sends to an SQS
// queue whose policy lets the rule in, through the server's whole request
// path, in memory; each is delivered (Dispatch) before the next is sent, as
// the dispatcher does at one client.
func BenchmarkPutEventsJSON(b *testing.B) {
	sys, srv := benchServer(b)
	ctx := awsapi.WithCaller(context.Background(), &awsapi.Caller{Account: "000000000000", Region: "us-east-1", Host: "localhost:4566"})
	name := "bench-events-0"
	q, err := sys.SQS.CreateQueue(ctx, &sqsapi.CreateQueueInput{QueueName: &name})
	if err != nil {
		b.Fatal(err)
	}
	arn := "arn:aws:sqs:us-east-1:000000000000:" + name
	rule, err := sys.Events.PutRule(ctx, &eventsapi.PutRuleInput{Name: &name, EventPattern: awsapi.String(`{"source":["bench"],"detail":{"w":[0]}}`)})
	if err != nil {
		b.Fatal(err)
	}
	policy := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Sid":"events","Effect":"Allow","Principal":{"Service":"events.amazonaws.com"},`+
		`"Action":"sqs:SendMessage","Resource":%q,"Condition":{"ArnEquals":{"aws:SourceArn":%q}}}]}`, arn, *rule.RuleArn)
	if _, err := sys.SQS.SetQueueAttributes(ctx, &sqsapi.SetQueueAttributesInput{QueueUrl: q.QueueUrl, Attributes: map[string]string{"Policy": policy}}); err != nil {
		b.Fatal(err)
	}
	if _, err := sys.Events.PutTargets(ctx, &eventsapi.PutTargetsInput{Rule: &name, Targets: []eventsapi.Target{{Id: awsapi.String("q"), Arn: &arn}}}); err != nil {
		b.Fatal(err)
	}
	body := `{"Entries":[{"Detail":"{\"w\":0,\"order\":\"o-1\"}","DetailType":"Bench","Source":"bench"}]}`
	req := httptest.NewRequest(http.MethodPost, "http://localhost:4566/", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "AWSEvents.PutEvents")
	serveSignedThen(b, srv, req, body, "events", func() {
		if err := sys.Events.Dispatch(ctx); err != nil {
			b.Fatal(err)
		}
	})
	out, err := sys.SQS.GetQueueAttributes(ctx, &sqsapi.GetQueueAttributesInput{QueueUrl: q.QueueUrl, AttributeNames: []string{"ApproximateNumberOfMessages"}})
	if err != nil {
		b.Fatal(err)
	}
	if out.Attributes["ApproximateNumberOfMessages"] == "0" {
		b.Fatal("no event reached the queue")
	}
}
