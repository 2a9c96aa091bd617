package console_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/wharf-dev/wharf/internal/timeline"
	"github.com/wharf-dev/wharf/internal/wharftest"
)

// An upload runs a task (architecture 1's first half) that fails; its Task
// State Change alerts through SNS to a queue (architecture 4). The alert
// message's trace goes back to the upload, through every hop.
func TestTimelineTracesAFailingTaskToItsAlert(t *testing.T) {
	t.Parallel()
	srv := wharftest.Start(t, "--runtime", "process")
	cfg := srv.Config()
	ctx := context.Background()
	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	eb, sq, tp, ec := eventbridge.NewFromConfig(cfg), sqs.NewFromConfig(cfg), sns.NewFromConfig(cfg), ecs.NewFromConfig(cfg)
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("incoming")}))
	must(s3c.PutBucketNotificationConfiguration(ctx, &s3.PutBucketNotificationConfigurationInput{Bucket: aws.String("incoming"),
		NotificationConfiguration: &s3types.NotificationConfiguration{EventBridgeConfiguration: &s3types.EventBridgeConfiguration{}}}))
	must(ec.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("work")}))
	td, err := ec.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("fails"),
		ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: aws.String("main"), Image: aws.String("/bin/sh"),
			Essential: aws.Bool(true), Command: []string{"-c", "exit 3"}}}})
	if err != nil {
		t.Fatal(err)
	}
	must(eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("run-on-upload"),
		EventPattern: aws.String(`{"source":["aws.s3"],"detail-type":["Object Created"]}`)}))
	must(eb.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String("run-on-upload"), Targets: []ebtypes.Target{{
		Id: aws.String("task"), Arn: aws.String("arn:aws:ecs:us-east-1:000000000000:cluster/work"),
		RoleArn:       aws.String("arn:aws:iam::000000000000:role/events"),
		EcsParameters: &ebtypes.EcsParameters{TaskDefinitionArn: td.TaskDefinition.TaskDefinitionArn}}}}))
	topic, err := tp.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("alerts")})
	if err != nil {
		t.Fatal(err)
	}
	q, err := sq.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("pager")})
	if err != nil {
		t.Fatal(err)
	}
	must(tp.Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("sqs"),
		Endpoint: aws.String("arn:aws:sqs:us-east-1:000000000000:pager"), Attributes: map[string]string{"RawMessageDelivery": "true"}}))
	must(eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("task-failed"),
		EventPattern: aws.String(`{"source":["aws.ecs"],"detail-type":["ECS Task State Change"],"detail":{"lastStatus":["STOPPED"],"containers":{"exitCode":[{"anything-but":0}]}}}`)}))
	must(eb.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String("task-failed"),
		Targets: []ebtypes.Target{{Id: aws.String("sns"), Arn: topic.TopicArn}}}))

	must(s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("incoming"), Key: aws.String("job.csv"), Body: strings.NewReader("a,b")}))
	rm, err := sq.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: q.QueueUrl, WaitTimeSeconds: 20})
	if err != nil || len(rm.Messages) != 1 {
		t.Fatalf("no alert: %v %+v", err, rm)
	}
	id := *rm.Messages[0].MessageId
	chain := waitTrace(t, srv.URL, id, "MessageReceived")
	// SNS records its Delivery, and EventBridge its invocation of the topic,
	// once the send to the queue and Publish return: on a loaded machine the
	// test can receive the alert before either is recorded, so it waits for them.
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); {
		if find(chain, "Delivery") != nil && countOK(chain) == 2 {
			break
		}
		time.Sleep(50 * time.Millisecond)
		chain = waitTrace(t, srv.URL, id, "MessageReceived")
	}

	// Each hop, in causal order, names its cause. SNS records its Delivery
	// when the send to the queue returns, by when the alert may have been
	// received: the Delivery is checked after the send, not before the
	// receive.
	want := []string{
		"s3.ObjectCreated", "events.EventReceived", "events.RuleMatched", "ecs.RunTask",
		"ecs.ContainerExited", "ecs.TaskStateChange", "events.EventReceived", "events.RuleMatched",
		"sns.Published", "sqs.MessageSent", "sqs.MessageReceived",
	}
	if invocations := countOK(chain); invocations != 2 {
		t.Errorf("the alert's trace has %d successful invocations, want 2 (the task, the topic)", invocations)
	}
	at := 0
	var got []string
	for _, e := range chain {
		got = append(got, e.Service+"."+e.Kind)
		if at < len(want) && e.Service+"."+e.Kind == want[at] {
			at++
		}
	}
	if at < len(want) {
		t.Fatalf("the alert's trace lacks %s (in order %v):\n%v", want[at], want, strings.Join(got, "\n"))
	}
	var exited, runTask *timeline.Entry
	for i := range chain {
		switch chain[i].Kind {
		case "ContainerExited":
			exited = &chain[i]
		case "RunTask":
			runTask = &chain[i]
		}
	}
	if exited.Outcome != timeline.Failed || exited.Error != "exit code 3" {
		t.Errorf("ContainerExited %+v", exited)
	}
	created := find(chain, "ObjectCreated")
	if runTask.Cause == "" || runTask.Cause == created.Subject {
		t.Errorf("RunTask %+v should be caused by the upload's event", runTask)
	}
	published := find(chain, "Published")
	if published.Resource != *topic.TopicArn || published.Cause == "" {
		t.Errorf("Published %+v", published)
	}
	if d := find(chain, "Delivery"); d.Outcome != timeline.OK || d.Subject != published.Subject {
		t.Errorf("Delivery %+v", d)
	}
	sentAt, deliveryAt := -1, -1
	for i := range chain {
		switch chain[i].Service + "." + chain[i].Kind {
		case "sqs.MessageSent":
			sentAt = i
		case "sns.Delivery":
			deliveryAt = i
		}
	}
	if sentAt < 0 || deliveryAt < sentAt {
		t.Errorf("sns.Delivery at %d of the trace, want it after sqs.MessageSent (at %d)", deliveryAt, sentAt)
	}
}

// countOK counts the successful target invocations in a trace.
func countOK(chain []timeline.Entry) int {
	n := 0
	for _, e := range chain {
		if e.Kind == "Invocation" && e.Outcome == timeline.OK {
			n++
		}
	}
	return n
}
