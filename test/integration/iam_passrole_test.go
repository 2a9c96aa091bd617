package integration

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
)

// TestIAMEnforcePassRoleCoversTheRolesRunTaskOverridesPass: a role that
// overrides a task's taskRoleArn or executionRoleArn is passed to ECS as the
// task definition's would be, so the caller needs iam:PassRole for it. A
// user allowed to pass only the task definition's role may run the task as
// defined but not with another role; allowed to pass that other role, it may
// run the task with it (and no longer needs the replaced role). The same
// holds for an EventBridge rule whose ECS target's input overrides
// taskRoleArn: its role lacking iam:PassRole for the override fails the
// invocation (DLQ, NO_PERMISSIONS); once allowed, the task runs with the
// override's role.
func TestIAMEnforcePassRoleCoversTheRolesRunTaskOverridesPass(t *testing.T) {
	t.Parallel()
	w := newDeliveryWorld(t)
	ctx := callTimeout(t)
	ec, eb, ic := ecs.NewFromConfig(w.cfg), eventbridge.NewFromConfig(w.cfg), iam.NewFromConfig(w.cfg)
	w.must(ec.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("work")}))
	plain := w.role("plain", "ecs-tasks.amazonaws.com", "")
	other := w.role("other", "ecs-tasks.amazonaws.com", "")
	td, err := ec.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("job"), TaskRoleArn: &plain,
		ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: aws.String("main"), Image: aws.String("/bin/sh"),
			Essential: aws.Bool(true), Command: []string{"-c", "exit 0"}}}})
	if err != nil {
		t.Fatal(err)
	}
	tdArn := td.TaskDefinition.TaskDefinitionArn
	policy := func(passable ...string) string {
		return `{"Version":"2012-10-17","Statement":[
			{"Effect":"Allow","Action":"ecs:RunTask","Resource":"arn:aws:ecs:us-east-1:` + acct + `:task-definition/job:*"},
			{"Effect":"Allow","Action":"iam:PassRole","Resource":["` + strings.Join(passable, `","`) + `"],
			 "Condition":{"StringEquals":{"iam:PassedToService":"ecs-tasks.amazonaws.com"}}}]}`
	}

	w.must(ic.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("dev")}))
	key, err := ic.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("dev")})
	if err != nil {
		t.Fatal(err)
	}
	putDev := func(doc string) {
		t.Helper()
		w.must(ic.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("dev"), PolicyName: aws.String("run"), PolicyDocument: aws.String(doc)}))
	}
	dev := ecs.NewFromConfig(awsConfig(w.url, *key.AccessKey.AccessKeyId, *key.AccessKey.SecretAccessKey, ""))
	run := func(o *ecstypes.TaskOverride) (*ecs.RunTaskOutput, error) {
		return dev.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String("work"), TaskDefinition: tdArn, Overrides: o})
	}
	denied := func(role string) string {
		return "User: arn:aws:iam::" + acct + ":user/dev is not authorized to perform: iam:PassRole on resource: " + role +
			" because no identity-based policy allows the iam:PassRole action"
	}

	putDev(policy(plain))
	if _, err := run(nil); err != nil {
		t.Fatalf("RunTask as defined, allowed to pass its role: %v", err)
	}
	_, err = run(&ecstypes.TaskOverride{TaskRoleArn: &other})
	wantDenied(t, err, "AccessDeniedException", 400, denied(other))
	_, err = run(&ecstypes.TaskOverride{ExecutionRoleArn: &other})
	wantDenied(t, err, "AccessDeniedException", 400, denied(other))

	putDev(policy(other))
	out, err := run(&ecstypes.TaskOverride{TaskRoleArn: &other})
	if err != nil {
		t.Fatalf("RunTask overriding the task role with one the user may pass: %v", err)
	}
	if got := aws.ToString(out.Tasks[0].Overrides.TaskRoleArn); got != other {
		t.Fatalf("the task's taskRoleArn override is %q, want %s", got, other)
	}

	// A rule's ECS target whose input overrides the task role.
	eventsRole := w.role("events-run", "events.amazonaws.com", policy(plain))
	rule, err := eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("go"), EventPattern: aws.String(`{"source":["shop"]}`)})
	if err != nil {
		t.Fatal(err)
	}
	dlq := w.queue("go-dlq", dlqPolicy("go-dlq", *rule.RuleArn))
	clusterArn := "arn:aws:ecs:us-east-1:" + acct + ":cluster/work"
	w.must(eb.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String("go"), Targets: []ebtypes.Target{{
		Id: aws.String("task"), Arn: &clusterArn, RoleArn: &eventsRole,
		Input:            aws.String(`{"containerOverrides":[{"name":"main","command":["-c","exit 0"]}],"taskRoleArn":"` + other + `"}`),
		DeadLetterConfig: &ebtypes.DeadLetterConfig{Arn: aws.String("arn:aws:sqs:us-east-1:" + acct + ":go-dlq")},
		EcsParameters:    &ebtypes.EcsParameters{TaskDefinitionArn: tdArn}}}}))
	put := func() {
		t.Helper()
		w.must(eb.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{
			{Source: aws.String("shop"), DetailType: aws.String("order"), Detail: aws.String(`{"id":1}`)}}}))
	}
	put()
	m := w.receive(dlq, 10)
	if m == nil {
		t.Fatal("the invocation passing a role its rule's role may not pass did not reach the DLQ")
	}
	if msg := attr(m, "ERROR_MESSAGE"); attr(m, "ERROR_CODE") != "NO_PERMISSIONS" ||
		!strings.HasPrefix(msg, "User: arn:aws:sts::"+acct+":assumed-role/events-run/") ||
		!strings.HasSuffix(msg, " is not authorized to perform: iam:PassRole on resource: "+other+" because no identity-based policy allows the iam:PassRole action") {
		t.Fatalf("DLQ message: %s %s", attr(m, "ERROR_CODE"), msg)
	}
	started := func() []ecstypes.Task {
		t.Helper()
		var arns []string
		for _, st := range []ecstypes.DesiredStatus{ecstypes.DesiredStatusRunning, ecstypes.DesiredStatusStopped} {
			l, err := ec.ListTasks(ctx, &ecs.ListTasksInput{Cluster: aws.String("work"), StartedBy: aws.String("events-rule/go"), DesiredStatus: st})
			if err != nil {
				t.Fatal(err)
			}
			arns = append(arns, l.TaskArns...)
		}
		if len(arns) == 0 {
			return nil
		}
		d, err := ec.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String("work"), Tasks: arns})
		if err != nil {
			t.Fatal(err)
		}
		return d.Tasks
	}
	if tasks := started(); len(tasks) != 0 {
		t.Fatalf("the rule ran a task with a role its role may not pass: %+v", tasks)
	}

	w.putRolePolicy("events-run", policy(other))
	put()
	deadline := time.Now().Add(15 * time.Second)
	for {
		tasks := started()
		if len(tasks) == 1 {
			if got := aws.ToString(tasks[0].Overrides.TaskRoleArn); got != other {
				t.Fatalf("the rule's task runs with taskRoleArn %q, want the input's %s", got, other)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the rule ran %d tasks once its role may pass the input's role", len(tasks))
		}
		time.Sleep(100 * time.Millisecond)
	}
	if m := w.receive(dlq, 0); m != nil {
		t.Fatalf("the allowed invocation was dead-lettered: %v", m.MessageAttributes)
	}
}
