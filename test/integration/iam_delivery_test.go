package integration

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/scheduler"
	schedtypes "github.com/aws/aws-sdk-go-v2/service/scheduler/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/wharf-dev/wharf/internal/wharftest"
)

const acct = "000000000000"

// deliveryWorld is a wharf under --iam enforce running tasks as host
// processes, driven by the account's root.
type deliveryWorld struct {
	t   *testing.T
	url string
	cfg aws.Config
}

func newDeliveryWorld(t *testing.T) *deliveryWorld {
	t.Helper()
	srv := wharftest.Start(t, "--iam", "enforce", "--runtime", "process")
	return &deliveryWorld{t: t, url: srv.URL, cfg: awsConfig(srv.URL, "test", "test", "")}
}

func (w *deliveryWorld) must(_ any, err error) {
	w.t.Helper()
	if err != nil {
		w.t.Fatal(err)
	}
}

// role makes a role trusting service with the inline policy doc ("" for none).
func (w *deliveryWorld) role(name, service, doc string) string {
	w.t.Helper()
	ctx := callTimeout(w.t)
	ic := iam.NewFromConfig(w.cfg)
	out, err := ic.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(name), AssumeRolePolicyDocument: aws.String(
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"` + service + `"},"Action":"sts:AssumeRole"}]}`)})
	if err != nil {
		w.t.Fatal(err)
	}
	if doc != "" {
		w.putRolePolicy(name, doc)
	}
	return *out.Role.Arn
}

func (w *deliveryWorld) putRolePolicy(role, doc string) {
	w.t.Helper()
	w.must(iam.NewFromConfig(w.cfg).PutRolePolicy(callTimeout(w.t), &iam.PutRolePolicyInput{RoleName: aws.String(role),
		PolicyName: aws.String("access"), PolicyDocument: aws.String(doc)}))
}

// queue makes a queue with policy ("" for none) and returns its URL.
func (w *deliveryWorld) queue(name, policy string) string {
	w.t.Helper()
	in := &sqs.CreateQueueInput{QueueName: aws.String(name)}
	if policy != "" {
		in.Attributes = map[string]string{"Policy": policy}
	}
	out, err := sqs.NewFromConfig(w.cfg).CreateQueue(callTimeout(w.t), in)
	if err != nil {
		w.t.Fatal(err)
	}
	return *out.QueueUrl
}

// receive waits up to wait seconds for one message on url.
func (w *deliveryWorld) receive(url string, wait int32) *sqstypes.Message {
	w.t.Helper()
	out, err := sqs.NewFromConfig(w.cfg).ReceiveMessage(callTimeout(w.t), &sqs.ReceiveMessageInput{QueueUrl: &url,
		WaitTimeSeconds: wait, MessageAttributeNames: []string{"All"}})
	if err != nil {
		w.t.Fatal(err)
	}
	if len(out.Messages) == 0 {
		return nil
	}
	return &out.Messages[0]
}

type denial struct{ Principal, Action, Resource, Decision, Reason string }

func (w *deliveryWorld) denials() []denial {
	w.t.Helper()
	resp, err := http.Get(w.url + "/_wharf/iam/denials")
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct{ Denials []denial }
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		w.t.Fatal(err)
	}
	return out.Denials
}

// wantDenial waits up to 10 s for want among the recorded denials: the
// deliveries of one schedule or event run concurrently, so the denial the
// test waits for can be recorded after the one it saw first.
func (w *deliveryWorld) wantDenial(want denial) {
	w.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := w.denials()
		for _, d := range got {
			if d == want {
				return
			}
		}
		if time.Now().After(deadline) {
			w.t.Fatalf("no denial %+v among %+v", want, got)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func attr(m *sqstypes.Message, name string) string {
	if v, ok := m.MessageAttributes[name]; ok && v.StringValue != nil {
		return *v.StringValue
	}
	return ""
}

// dlqPolicy lets EventBridge send to queue for rule, as a rule's DLQ needs.
func dlqPolicy(queue, rule string) string {
	return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"events.amazonaws.com"},
		"Action":"sqs:SendMessage","Resource":"arn:aws:sqs:us-east-1:` + acct + `:` + queue + `",
		"Condition":{"ArnEquals":{"aws:SourceArn":"` + rule + `"}}}]}`
}

// TestIAMEnforceARuleRunsATaskOnlyWithItsRolesPermissions: EventBridge runs
// an ECS task with the target's role. A role allowed ecs:RunTask but not
// iam:PassRole for the task's role fails the invocation: it is not retried,
// it goes to the target's DLQ with ERROR_CODE NO_PERMISSIONS and AWS's
// message, it counts as a FailedInvocation and shows in the denials. Once
// the role may pass the task role, the same rule runs the task.
func TestIAMEnforceARuleRunsATaskOnlyWithItsRolesPermissions(t *testing.T) {
	t.Parallel()
	w := newDeliveryWorld(t)
	ctx := callTimeout(t)
	ec, eb := ecs.NewFromConfig(w.cfg), eventbridge.NewFromConfig(w.cfg)
	w.must(ec.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("work")}))
	taskRole := w.role("task", "ecs-tasks.amazonaws.com", "")
	td, err := ec.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("job"), TaskRoleArn: &taskRole,
		ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: aws.String("main"), Image: aws.String("/bin/sh"),
			Essential: aws.Bool(true), Command: []string{"-c", "exit 0"}}}})
	if err != nil {
		t.Fatal(err)
	}
	clusterArn := "arn:aws:ecs:us-east-1:" + acct + ":cluster/work"
	runOnly := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecs:RunTask","Resource":"arn:aws:ecs:us-east-1:` + acct + `:task-definition/job:*",
		"Condition":{"ArnEquals":{"ecs:cluster":"` + clusterArn + `"}}}]}`
	eventsRole := w.role("events-run", "events.amazonaws.com", runOnly)

	rule, err := eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("go"), EventPattern: aws.String(`{"source":["shop"]}`)})
	if err != nil {
		t.Fatal(err)
	}
	dlq := w.queue("go-dlq", dlqPolicy("go-dlq", *rule.RuleArn))
	// EventBridge reaches a cluster only through a role.
	_, err = eb.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String("go"), Targets: []ebtypes.Target{{
		Id: aws.String("task"), Arn: &clusterArn, EcsParameters: &ebtypes.EcsParameters{TaskDefinitionArn: td.TaskDefinition.TaskDefinitionArn}}}})
	wantDenied(t, err, "ValidationException", 400, "RoleArn is required for target "+clusterArn+".")
	w.must(eb.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String("go"), Targets: []ebtypes.Target{{
		Id: aws.String("task"), Arn: &clusterArn, RoleArn: &eventsRole,
		DeadLetterConfig: &ebtypes.DeadLetterConfig{Arn: aws.String("arn:aws:sqs:us-east-1:" + acct + ":go-dlq")},
		EcsParameters:    &ebtypes.EcsParameters{TaskDefinitionArn: td.TaskDefinition.TaskDefinitionArn}}}}))
	put := func() {
		t.Helper()
		w.must(eb.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{
			{Source: aws.String("shop"), DetailType: aws.String("order"), Detail: aws.String(`{"id":1}`)}}}))
	}
	put()
	// Not retried: the default retry policy would hold the event for
	// minutes; a missing permission goes to the DLQ at once.
	m := w.receive(dlq, 10)
	if m == nil {
		t.Fatal("the failed invocation did not reach the DLQ")
	}
	session := "arn:aws:sts::" + acct + ":assumed-role/events-run/"
	msg := attr(m, "ERROR_MESSAGE")
	if attr(m, "ERROR_CODE") != "NO_PERMISSIONS" || attr(m, "RULE_ARN") != *rule.RuleArn || attr(m, "TARGET_ARN") != clusterArn ||
		!strings.HasPrefix(msg, "User: "+session) ||
		!strings.HasSuffix(msg, " is not authorized to perform: iam:PassRole on resource: "+taskRole+" because no identity-based policy allows the iam:PassRole action") {
		t.Fatalf("DLQ message: %s %s %s %s", attr(m, "ERROR_CODE"), attr(m, "RULE_ARN"), attr(m, "TARGET_ARN"), msg)
	}
	found := false
	for _, d := range w.denials() {
		found = found || strings.HasPrefix(d.Principal, session) && d.Action == "iam:PassRole" && d.Resource == taskRole && d.Decision == "implicitDeny"
	}
	if !found {
		t.Fatalf("no denial of iam:PassRole to the rule's role session: %+v", w.denials())
	}
	list, err := ec.ListTasks(ctx, &ecs.ListTasksInput{Cluster: aws.String("work"), DesiredStatus: ecstypes.DesiredStatusStopped})
	if err != nil || len(list.TaskArns) != 0 {
		t.Fatalf("a task ran without iam:PassRole: %v %v", list, err)
	}
	running, err := ec.ListTasks(ctx, &ecs.ListTasksInput{Cluster: aws.String("work")})
	if err != nil || len(running.TaskArns) != 0 {
		t.Fatalf("a task ran without iam:PassRole: %v %v", running, err)
	}
	cw := cloudwatch.NewFromConfig(w.cfg)
	deadline := time.Now().Add(15 * time.Second)
	for {
		st, err := cw.GetMetricStatistics(ctx, &cloudwatch.GetMetricStatisticsInput{
			Namespace: aws.String("AWS/Events"), MetricName: aws.String("FailedInvocations"),
			Dimensions: []cwtypes.Dimension{{Name: aws.String("RuleName"), Value: aws.String("go")}},
			StartTime:  aws.Time(time.Now().Add(-10 * time.Minute)), EndTime: aws.Time(time.Now().Add(10 * time.Minute)),
			Period: aws.Int32(60), Statistics: []cwtypes.Statistic{cwtypes.StatisticSum},
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(st.Datapoints) > 0 && *st.Datapoints[0].Sum == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("FailedInvocations for the rule: %+v", st.Datapoints)
		}
		time.Sleep(100 * time.Millisecond)
	}

	// With iam:PassRole for the task role (to ECS tasks only), the rule runs it.
	w.putRolePolicy("events-run", `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":"ecs:RunTask","Resource":"arn:aws:ecs:us-east-1:`+acct+`:task-definition/job:*"},
		{"Effect":"Allow","Action":"iam:PassRole","Resource":"`+taskRole+`","Condition":{"StringEquals":{"iam:PassedToService":"ecs-tasks.amazonaws.com"}}}]}`)
	put()
	deadline = time.Now().Add(15 * time.Second)
	for {
		var n int
		for _, st := range []ecstypes.DesiredStatus{ecstypes.DesiredStatusRunning, ecstypes.DesiredStatusStopped} {
			l, err := ec.ListTasks(ctx, &ecs.ListTasksInput{Cluster: aws.String("work"), DesiredStatus: st})
			if err != nil {
				t.Fatal(err)
			}
			n += len(l.TaskArns)
		}
		if n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the rule ran %d tasks once its role may pass the task role", n)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if m := w.receive(dlq, 0); m != nil {
		t.Fatalf("the allowed invocation was dead-lettered: %v", m.MessageAttributes)
	}
}

// TestIAMEnforceASchedulerDeliveryNeedsARoleThatTrustsSchedulerAndMaySend:
// Scheduler delivers with the schedule's execution role. A role that trusts
// only events.amazonaws.com cannot be assumed by scheduler.amazonaws.com, so
// nothing is delivered; a role that trusts Scheduler but may send only to
// the DLQ sends the failed delivery there with NO_PERMISSIONS; a role allowed
// sqs:SendMessage on the queue delivers.
func TestIAMEnforceASchedulerDeliveryNeedsARoleThatTrustsSchedulerAndMaySend(t *testing.T) {
	t.Parallel()
	w := newDeliveryWorld(t)
	ctx := callTimeout(t)
	jobs := w.queue("jobs", "")
	dlq := w.queue("sched-dlq", "")
	qarn := func(n string) string { return "arn:aws:sqs:us-east-1:" + acct + ":" + n }
	send := func(arns ...string) string {
		return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sqs:SendMessage","Resource":["` + strings.Join(arns, `","`) + `"]}]}`
	}
	wrongTrust := w.role("wrong-trust", "events.amazonaws.com", send(qarn("jobs"), qarn("sched-dlq")))
	dlqOnly := w.role("dlq-only", "scheduler.amazonaws.com", send(qarn("sched-dlq")))
	good := w.role("good", "scheduler.amazonaws.com", send(qarn("jobs")))

	sc := scheduler.NewFromConfig(w.cfg)
	// Five seconds ahead (four at least, as the time is whole seconds): the
	// three CreateSchedule calls must be done by then on a loaded machine, as
	// an at() time already past never fires.
	due := time.Now().UTC().Add(5 * time.Second).Truncate(time.Second)
	for _, s := range []struct{ name, role string }{{"wrong-trust", wrongTrust}, {"dlq-only", dlqOnly}, {"good", good}} {
		w.must(sc.CreateSchedule(ctx, &scheduler.CreateScheduleInput{Name: aws.String(s.name),
			ScheduleExpression: aws.String("at(" + due.Format("2006-01-02T15:04:05") + ")"),
			FlexibleTimeWindow: &schedtypes.FlexibleTimeWindow{Mode: schedtypes.FlexibleTimeWindowModeOff},
			Target: &schedtypes.Target{Arn: aws.String(qarn("jobs")), RoleArn: aws.String(s.role), Input: aws.String(s.name),
				DeadLetterConfig: &schedtypes.DeadLetterConfig{Arn: aws.String(qarn("sched-dlq"))}}}))
	}
	m := w.receive(jobs, 15)
	if m == nil || *m.Body != "good" {
		t.Fatalf("the schedule whose role may send delivered %v", m)
	}
	d := w.receive(dlq, 10)
	if d == nil || *d.Body != "dlq-only" || attr(d, "ERROR_CODE") != "NO_PERMISSIONS" ||
		attr(d, "SCHEDULE_ARN") != "arn:aws:scheduler:us-east-1:"+acct+":schedule/default/dlq-only" ||
		!strings.HasSuffix(attr(d, "ERROR_MESSAGE"), "is not authorized to perform: sqs:SendMessage on resource: "+qarn("jobs")+" because no identity-based policy allows the sqs:SendMessage action") {
		t.Fatalf("DLQ got %+v", d)
	}
	w.wantDenial(denial{Principal: "scheduler.amazonaws.com", Action: "sts:AssumeRole", Resource: wrongTrust, Decision: "implicitDeny",
		Reason: "because no resource-based policy allows the sts:AssumeRole action"})
	// The role Scheduler could not assume cannot send to the DLQ either.
	if m := w.receive(jobs, 1); m != nil {
		t.Fatalf("jobs got a second message %q", *m.Body)
	}
	if d := w.receive(dlq, 0); d != nil {
		t.Fatalf("the DLQ got a second message %q", *d.Body)
	}
}

// TestIAMEnforceATaskRoleMustTrustECSTasks: RunTask refuses a task whose
// task or execution role does not trust ecs-tasks.amazonaws.com, with the
// ClientException AWS answers, and a service's launch fails with AWS's
// service event; once the trust policy lets ECS tasks in, the task runs.
func TestIAMEnforceATaskRoleMustTrustECSTasks(t *testing.T) {
	t.Parallel()
	w := newDeliveryWorld(t)
	ctx := callTimeout(t)
	ec := ecs.NewFromConfig(w.cfg)
	w.must(ec.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("work")}))
	exec := w.role("exec", "ecs-tasks.amazonaws.com", "")
	task := w.role("task", "ec2.amazonaws.com", "")
	td, err := ec.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("job"), TaskRoleArn: &task, ExecutionRoleArn: &exec,
		ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: aws.String("main"), Image: aws.String("/bin/sh"),
			Essential: aws.Bool(true), Command: []string{"-c", "sleep 30"}}}})
	if err != nil {
		t.Fatal(err)
	}
	msg := "ECS was unable to assume the role '" + task + "' that was provided for this task. Please verify that the role being passed has the proper trust relationship and permissions and that your IAM user has permissions to pass this role."
	_, err = ec.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String("work"), TaskDefinition: td.TaskDefinition.TaskDefinitionArn})
	wantDenied(t, err, "ClientException", 400, msg)
	w.wantDenial(denial{Principal: "ecs-tasks.amazonaws.com", Action: "sts:AssumeRole", Resource: task, Decision: "implicitDeny",
		Reason: "because no resource-based policy allows the sts:AssumeRole action"})

	w.must(ec.CreateService(ctx, &ecs.CreateServiceInput{Cluster: aws.String("work"), ServiceName: aws.String("web"),
		TaskDefinition: td.TaskDefinition.TaskDefinitionArn, DesiredCount: aws.Int32(1)}))
	want := "(service web) failed to launch a task with (error " + msg + ")."
	deadline := time.Now().Add(15 * time.Second)
	for {
		out, err := ec.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String("work"), Services: []string{"web"}})
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, e := range out.Services[0].Events {
			found = found || *e.Message == want
		}
		if found && out.Services[0].RunningCount == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("service events %+v, running %d", out.Services[0].Events, out.Services[0].RunningCount)
		}
		time.Sleep(100 * time.Millisecond)
	}
	w.must(ec.DeleteService(ctx, &ecs.DeleteServiceInput{Cluster: aws.String("work"), Service: aws.String("web"), Force: aws.Bool(true)}))

	w.must(iam.NewFromConfig(w.cfg).UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String("task"), PolicyDocument: aws.String(
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole",
		"Condition":{"StringEquals":{"aws:SourceAccount":"` + acct + `"},"ArnLike":{"aws:SourceArn":"arn:aws:ecs:us-east-1:` + acct + `:*"}}}]}`)}))
	out, err := ec.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String("work"), TaskDefinition: td.TaskDefinition.TaskDefinitionArn})
	if err != nil || len(out.Tasks) != 1 {
		t.Fatalf("RunTask once the role trusts ECS tasks: %v %v", out, err)
	}
	w.must(ec.StopTask(ctx, &ecs.StopTaskInput{Cluster: aws.String("work"), Task: out.Tasks[0].TaskArn}))
}

// TestIAMEnforceSNSAndS3DeliverToAQueueOnlyIfItsPolicyLetsThemIn: SNS
// delivers to a subscribed queue as sns.amazonaws.com for the topic, and S3
// notifies a queue as s3.amazonaws.com for the bucket: without a queue
// policy naming them (aws:SourceArn, aws:SourceAccount) nothing arrives and
// the denial is recorded; with one, the message arrives.
func TestIAMEnforceSNSAndS3DeliverToAQueueOnlyIfItsPolicyLetsThemIn(t *testing.T) {
	t.Parallel()
	w := newDeliveryWorld(t)
	ctx := callTimeout(t)
	tp := sns.NewFromConfig(w.cfg)
	topic, err := tp.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("alerts")})
	if err != nil {
		t.Fatal(err)
	}
	qarn := func(n string) string { return "arn:aws:sqs:us-east-1:" + acct + ":" + n }
	closed := w.queue("closed", "")
	open := w.queue("open", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"sns.amazonaws.com"},
		"Action":"sqs:SendMessage","Resource":"`+qarn("open")+`","Condition":{"ArnEquals":{"aws:SourceArn":"`+*topic.TopicArn+`"}}}]}`)
	for _, q := range []string{"closed", "open"} {
		w.must(tp.Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("sqs"), Endpoint: aws.String(qarn(q))}))
	}
	w.must(tp.Publish(ctx, &sns.PublishInput{TopicArn: topic.TopicArn, Message: aws.String("disk full")}))
	if m := w.receive(open, 5); m == nil || !strings.Contains(*m.Body, "disk full") {
		t.Fatalf("the queue whose policy lets SNS in got %v", m)
	}
	if m := w.receive(closed, 1); m != nil {
		t.Fatalf("the queue without a policy got %q", *m.Body)
	}
	w.wantDenial(denial{Principal: "sns.amazonaws.com", Action: "sqs:SendMessage", Resource: qarn("closed"), Decision: "implicitDeny",
		Reason: "because no resource-based policy allows the sqs:SendMessage action"})

	s3c := s3Client(w.cfg)
	w.must(s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("uploads")}))
	uploads := w.queue("uploads", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"s3.amazonaws.com"},
		"Action":"sqs:SendMessage","Resource":"`+qarn("uploads")+`","Condition":{"ArnLike":{"aws:SourceArn":"arn:aws:s3:::uploads"},"StringEquals":{"aws:SourceAccount":"`+acct+`"}}}]}`)
	w.must(s3c.PutBucketNotificationConfiguration(ctx, &s3.PutBucketNotificationConfigurationInput{Bucket: aws.String("uploads"),
		NotificationConfiguration: &s3types.NotificationConfiguration{QueueConfigurations: []s3types.QueueConfiguration{
			{QueueArn: aws.String(qarn("uploads")), Events: []s3types.Event{"s3:ObjectCreated:*"}},
			{QueueArn: aws.String(qarn("closed")), Events: []s3types.Event{"s3:ObjectCreated:*"}}}}}))
	if m := w.receive(uploads, 5); m == nil || !strings.Contains(*m.Body, "s3:TestEvent") {
		t.Fatalf("the S3 test event: %v", m)
	}
	sq := sqs.NewFromConfig(w.cfg)
	w.must(s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("uploads"), Key: aws.String("a.csv"), Body: strings.NewReader("x")}))
	m := w.receive(uploads, 5)
	if m == nil || !strings.Contains(*m.Body, `"ObjectCreated:Put"`) {
		t.Fatalf("the S3 notification: %v", m)
	}
	w.must(sq.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: &uploads, ReceiptHandle: m.ReceiptHandle}))
	if m := w.receive(closed, 1); m != nil {
		t.Fatalf("the queue without a policy got %q", *m.Body)
	}
	w.wantDenial(denial{Principal: "s3.amazonaws.com", Action: "sqs:SendMessage", Resource: qarn("closed"), Decision: "implicitDeny",
		Reason: "because no resource-based policy allows the sqs:SendMessage action"})
}

// TestIAMEnforceSNSRedrivesARefusedMessageToADeadLetterQueueThatLetsItIn:
// a queue whose policy does not let the topic in refuses the message (a
// client-side error, not retried); with a RedrivePolicy, SNS sends it to the
// subscription's dead-letter queue as sns.amazonaws.com for the topic, so
// that queue's policy must let the topic in too: a dead-letter queue
// without one gets nothing and the denial is recorded.
func TestIAMEnforceSNSRedrivesARefusedMessageToADeadLetterQueueThatLetsItIn(t *testing.T) {
	t.Parallel()
	w := newDeliveryWorld(t)
	ctx := callTimeout(t)
	tp := sns.NewFromConfig(w.cfg)
	topic, err := tp.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("alerts")})
	if err != nil {
		t.Fatal(err)
	}
	qarn := func(n string) string { return "arn:aws:sqs:us-east-1:" + acct + ":" + n }
	w.queue("refuses", "")
	w.queue("refuses-too", "")
	openDLQ := w.queue("open-dlq", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"sns.amazonaws.com"},
		"Action":"sqs:SendMessage","Resource":"`+qarn("open-dlq")+`","Condition":{"ArnEquals":{"aws:SourceArn":"`+*topic.TopicArn+`"}}}]}`)
	closedDLQ := w.queue("closed-dlq", "")
	for q, dlq := range map[string]string{"refuses": "open-dlq", "refuses-too": "closed-dlq"} {
		w.must(tp.Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("sqs"), Endpoint: aws.String(qarn(q)),
			Attributes: map[string]string{"RedrivePolicy": `{"deadLetterTargetArn":"` + qarn(dlq) + `"}`}}))
	}
	w.must(tp.Publish(ctx, &sns.PublishInput{TopicArn: topic.TopicArn, Message: aws.String("disk full")}))
	if m := w.receive(openDLQ, 5); m == nil || !strings.Contains(*m.Body, "disk full") {
		t.Fatalf("the dead-letter queue whose policy lets SNS in got %v", m)
	}
	if m := w.receive(closedDLQ, 1); m != nil {
		t.Fatalf("the dead-letter queue without a policy got %q", *m.Body)
	}
	w.wantDenial(denial{Principal: "sns.amazonaws.com", Action: "sqs:SendMessage", Resource: qarn("closed-dlq"), Decision: "implicitDeny",
		Reason: "because no resource-based policy allows the sqs:SendMessage action"})
}

// TestIAMEnforceAQueuePolicyChangeDecidesTheNextSNSDelivery: SNS's
// deliveries are authorized from a kept decision, but each change of the
// queue's policy (SetQueueAttributes) decides the next publish: a policy
// for another topic refuses it, the right one lets it in again, and an
// empty policy refuses it.
func TestIAMEnforceAQueuePolicyChangeDecidesTheNextSNSDelivery(t *testing.T) {
	t.Parallel()
	w := newDeliveryWorld(t)
	ctx := callTimeout(t)
	tp, sq := sns.NewFromConfig(w.cfg), sqs.NewFromConfig(w.cfg)
	topic, err := tp.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("alerts")})
	if err != nil {
		t.Fatal(err)
	}
	qarn := "arn:aws:sqs:us-east-1:" + acct + ":inbox"
	policy := func(source string) string {
		return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"sns.amazonaws.com"},
		"Action":"sqs:SendMessage","Resource":"` + qarn + `","Condition":{"ArnEquals":{"aws:SourceArn":"` + source + `"}}}]}`
	}
	inbox := w.queue("inbox", policy(*topic.TopicArn))
	w.must(tp.Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("sqs"), Endpoint: &qarn}))
	steps := []struct {
		policy    string
		delivered bool
	}{
		{policy(*topic.TopicArn), true},
		{policy(*topic.TopicArn + "-other"), false},
		{policy(*topic.TopicArn), true},
		{"", false},
		{policy(*topic.TopicArn), true},
	}
	for i, st := range steps {
		w.must(sq.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: &inbox, Attributes: map[string]string{"Policy": st.policy}}))
		for j := range 2 { // the second publish is decided as the first was
			msg := fmt.Sprintf("step %d publish %d", i, j)
			w.must(tp.Publish(ctx, &sns.PublishInput{TopicArn: topic.TopicArn, Message: &msg}))
			// Publish returns once its queue deliveries are made: the
			// message is there now, or never.
			m := w.receive(inbox, 0)
			switch {
			case st.delivered && (m == nil || !strings.Contains(*m.Body, msg)):
				t.Fatalf("%s: the queue got %v, want the message", msg, m)
			case !st.delivered && m != nil:
				t.Fatalf("%s: the queue got %q, want nothing", msg, *m.Body)
			}
			if m != nil {
				w.must(sq.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: &inbox, ReceiptHandle: m.ReceiptHandle}))
			}
		}
	}
}
