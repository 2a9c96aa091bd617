package integration

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	logstypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/scheduler"
	schedtypes "github.com/aws/aws-sdk-go-v2/service/scheduler/types"

	"github.com/wharf-dev/wharf/internal/wharftest"
)

// abacWorld is a wharf under --iam enforce (tasks as host processes) whose
// root made what the test needs, and a user bob tagged team=blue holding
// the policy the test gives him.
type abacWorld struct {
	t         *testing.T
	root, bob aws.Config
}

func newABACWorld(t *testing.T, policy string) *abacWorld {
	t.Helper()
	srv := wharftest.Start(t, "--iam", "enforce", "--runtime", "process")
	w := &abacWorld{t: t, root: awsConfig(srv.URL, "test", "test", "")}
	ctx := callTimeout(t)
	ic := iam.NewFromConfig(w.root)
	if _, err := ic.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("bob"),
		Tags: []iamtypes.Tag{{Key: aws.String("team"), Value: aws.String("blue")}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := ic.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("bob"), PolicyName: aws.String("abac"),
		PolicyDocument: aws.String(policy)}); err != nil {
		t.Fatal(err)
	}
	k, err := ic.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("bob")})
	if err != nil {
		t.Fatal(err)
	}
	w.bob = awsConfig(srv.URL, *k.AccessKey.AccessKeyId, *k.AccessKey.SecretAccessKey, "")
	return w
}

func (w *abacWorld) must(_ any, err error) {
	w.t.Helper()
	if err != nil {
		w.t.Fatal(err)
	}
}

// allowed fails the test when err, bob's call that the policy allows, is an
// error.
func allowed(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// noAllow is AWS's message for bob's action on resource that no statement
// allowed.
func noAllow(action, resource string) string {
	return "User: " + bobARN + " is not authorized to perform: " + action + " on resource: " + resource +
		" because no identity-based policy allows the " + action + " action"
}

func blueRed(team string) []ecstypes.Tag {
	return []ecstypes.Tag{{Key: aws.String("team"), Value: aws.String(team)}}
}

// ecsABACPolicy lets bob act on ECS resources of his team by
// aws:ResourceTag (clusters, task definitions, tasks, capacity providers)
// or by ECS's own form, ecs:ResourceTag (services); create what is tagged
// with his team (aws:RequestTag), tag with the keys team and owner only
// (aws:TagKeys); and never run a task tagged for another team.
const ecsABACPolicy = `{"Version":"2012-10-17","Statement":[
	{"Effect":"Allow","Action":["ecs:DescribeClusters","ecs:UpdateCluster","ecs:RunTask","ecs:DescribeTasks","ecs:StopTask","ecs:UpdateCapacityProvider"],
	 "Resource":"*","Condition":{"StringEquals":{"aws:ResourceTag/team":"${aws:PrincipalTag/team}"}}},
	{"Effect":"Allow","Action":["ecs:DescribeServices","ecs:ListTagsForResource"],"Resource":"*",
	 "Condition":{"StringEquals":{"ecs:ResourceTag/team":"${aws:PrincipalTag/team}"}}},
	{"Effect":"Allow","Action":["ecs:CreateCluster","ecs:CreateService","ecs:RegisterTaskDefinition","ecs:CreateCapacityProvider"],"Resource":"*",
	 "Condition":{"StringEquals":{"aws:RequestTag/team":"${aws:PrincipalTag/team}"}}},
	{"Effect":"Allow","Action":["ecs:TagResource","ecs:UntagResource"],"Resource":"*",
	 "Condition":{"ForAllValues:StringEquals":{"aws:TagKeys":["team","owner"]},"StringEquals":{"aws:ResourceTag/team":"${aws:PrincipalTag/team}"}}},
	{"Effect":"Allow","Action":"ecs:TagResource","Resource":"*",
	 "Condition":{"StringEquals":{"ecs:CreateAction":["CreateCluster","CreateService","RegisterTaskDefinition","CreateCapacityProvider","RunTask"]}}},
	{"Effect":"Deny","Action":"ecs:RunTask","Resource":"*",
	 "Condition":{"StringNotEqualsIfExists":{"aws:RequestTag/team":"${aws:PrincipalTag/team}"}}}]}`

// TestIAMEnforceABACOnECSResources: a user tagged team=blue whose policy
// compares aws:ResourceTag/team (and ecs:ResourceTag/team) with its own tag
// reaches the blue cluster, task definition, task, service and capacity
// provider and none of the red ones; creates only resources tagged blue
// (aws:RequestTag, also on RunTask, CreateService, RegisterTaskDefinition
// and CreateCapacityProvider); tags only with the keys aws:TagKeys allows.
func TestIAMEnforceABACOnECSResources(t *testing.T) {
	t.Parallel()
	w := newABACWorld(t, ecsABACPolicy)
	ctx := callTimeout(t)
	root, bob := ecs.NewFromConfig(w.root), ecs.NewFromConfig(w.bob)
	const asg = "arn:aws:autoscaling:us-east-1:000000000000:autoScalingGroup:1:autoScalingGroupName/asg"
	arn := func(res string) string { return "arn:aws:ecs:us-east-1:000000000000:" + res }
	denied := func(err error, action, res string) {
		t.Helper()
		wantDenied(t, err, "AccessDeniedException", 400, noAllow(action, arn(res)))
	}
	tdArns, taskArns := map[string]string{}, map[string]string{}
	for _, team := range []string{"blue", "red"} {
		w.must(root.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String(team), Tags: blueRed(team)}))
		td, err := root.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String(team + "-job"), Tags: blueRed(team),
			ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: aws.String("main"), Image: aws.String("/bin/sh"),
				Essential: aws.Bool(true), Command: []string{"-c", "sleep 30"}}}})
		if err != nil {
			t.Fatal(err)
		}
		tdArns[team] = *td.TaskDefinition.TaskDefinitionArn
		run, err := root.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String(team), TaskDefinition: td.TaskDefinition.TaskDefinitionArn, Tags: blueRed(team)})
		if err != nil || len(run.Tasks) != 1 {
			t.Fatalf("RunTask: %v %v", run, err)
		}
		taskArns[team] = *run.Tasks[0].TaskArn
		w.must(root.CreateService(ctx, &ecs.CreateServiceInput{Cluster: aws.String(team), ServiceName: aws.String(team + "-svc"),
			TaskDefinition: aws.String(team + "-job"), DesiredCount: aws.Int32(0), Tags: blueRed(team)}))
		w.must(root.CreateCapacityProvider(ctx, &ecs.CreateCapacityProviderInput{Name: aws.String(team + "-cp"), Tags: blueRed(team),
			AutoScalingGroupProvider: &ecstypes.AutoScalingGroupProvider{AutoScalingGroupArn: aws.String(asg)}}))
	}

	// Clusters.
	_, err := bob.DescribeClusters(ctx, &ecs.DescribeClustersInput{Clusters: []string{"blue"}})
	allowed(t, "DescribeClusters of the blue cluster", err)
	_, err = bob.DescribeClusters(ctx, &ecs.DescribeClustersInput{Clusters: []string{"red"}})
	denied(err, "ecs:DescribeClusters", "cluster/red")

	// Task definitions: RunTask is authorized on the task definition, named
	// by family alone (its latest revision's tags) or by revision.
	_, err = bob.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String("blue"), TaskDefinition: aws.String("blue-job"), Tags: blueRed("blue")})
	allowed(t, "RunTask of the blue task definition, tagged blue", err)
	_, err = bob.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String("blue"), TaskDefinition: aws.String(tdArns["red"]), Tags: blueRed("blue")})
	denied(err, "ecs:RunTask", "task-definition/red-job:1")
	_, err = bob.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String("blue"), TaskDefinition: aws.String("red-job"), Tags: blueRed("blue")})
	denied(err, "ecs:RunTask", "task-definition/red-job")
	// aws:RequestTag on RunTask: tagging the task for another team is
	// explicitly denied.
	_, err = bob.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String("blue"), TaskDefinition: aws.String("blue-job"), Tags: blueRed("red")})
	wantDenied(t, err, "AccessDeniedException", 400, "User: "+bobARN+" is not authorized to perform: ecs:RunTask on resource: "+
		arn("task-definition/blue-job")+" with an explicit deny in an identity-based policy")

	// Tasks.
	_, err = bob.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String("blue"), Tasks: []string{taskArns["blue"]}})
	allowed(t, "DescribeTasks of the blue task", err)
	redTask := taskArns["red"][len("arn:aws:ecs:us-east-1:000000000000:"):]
	_, err = bob.StopTask(ctx, &ecs.StopTaskInput{Cluster: aws.String("red"), Task: aws.String(taskArns["red"])})
	denied(err, "ecs:StopTask", redTask)
	_, err = bob.StopTask(ctx, &ecs.StopTaskInput{Cluster: aws.String("blue"), Task: aws.String(taskArns["blue"])})
	allowed(t, "StopTask of the blue task", err)

	// Services, by ecs:ResourceTag.
	_, err = bob.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String("blue"), Services: []string{"blue-svc"}})
	allowed(t, "DescribeServices of the blue service", err)
	_, err = bob.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String("red"), Services: []string{"red-svc"}})
	denied(err, "ecs:DescribeServices", "service/red/red-svc")
	_, err = bob.ListTagsForResource(ctx, &ecs.ListTagsForResourceInput{ResourceArn: aws.String(arn("cluster/blue"))})
	allowed(t, "ListTagsForResource of the blue cluster (ecs:ResourceTag)", err)
	_, err = bob.ListTagsForResource(ctx, &ecs.ListTagsForResourceInput{ResourceArn: aws.String(tdArns["red"])})
	denied(err, "ecs:ListTagsForResource", "task-definition/red-job:1")

	// Capacity providers.
	upd := func(name string) error {
		_, err := bob.UpdateCapacityProvider(ctx, &ecs.UpdateCapacityProviderInput{Name: aws.String(name),
			AutoScalingGroupProvider: &ecstypes.AutoScalingGroupProviderUpdate{ManagedTerminationProtection: ecstypes.ManagedTerminationProtectionDisabled}})
		return err
	}
	allowed(t, "UpdateCapacityProvider of the blue provider", upd("blue-cp"))
	denied(upd("red-cp"), "ecs:UpdateCapacityProvider", "capacity-provider/red-cp")

	// aws:RequestTag on the creates.
	_, err = bob.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("blue-2"), Tags: blueRed("blue")})
	allowed(t, "CreateCluster tagged blue", err)
	_, err = bob.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("red-2"), Tags: blueRed("red")})
	denied(err, "ecs:CreateCluster", "cluster/red-2")
	_, err = bob.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("untagged")})
	denied(err, "ecs:CreateCluster", "cluster/untagged")
	_, err = bob.CreateService(ctx, &ecs.CreateServiceInput{Cluster: aws.String("blue"), ServiceName: aws.String("s2"),
		TaskDefinition: aws.String("blue-job"), DesiredCount: aws.Int32(0), Tags: blueRed("red")})
	denied(err, "ecs:CreateService", "service/blue/s2")
	_, err = bob.CreateService(ctx, &ecs.CreateServiceInput{Cluster: aws.String("blue"), ServiceName: aws.String("s2"),
		TaskDefinition: aws.String("blue-job"), DesiredCount: aws.Int32(0), Tags: blueRed("blue")})
	allowed(t, "CreateService tagged blue", err)
	reg := func(team string) error {
		_, err := bob.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("bob-job"), Tags: blueRed(team),
			ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: aws.String("main"), Image: aws.String("/bin/sh")}}})
		return err
	}
	wantDenied(t, reg("red"), "AccessDeniedException", 400, noAllow("ecs:RegisterTaskDefinition", "*"))
	allowed(t, "RegisterTaskDefinition tagged blue", reg("blue"))
	_, err = bob.CreateCapacityProvider(ctx, &ecs.CreateCapacityProviderInput{Name: aws.String("cp-2"), Tags: blueRed("red"),
		AutoScalingGroupProvider: &ecstypes.AutoScalingGroupProvider{AutoScalingGroupArn: aws.String(asg)}})
	denied(err, "ecs:CreateCapacityProvider", "capacity-provider/cp-2")

	// aws:TagKeys on TagResource and UntagResource.
	tag := func(res, key string) error {
		_, err := bob.TagResource(ctx, &ecs.TagResourceInput{ResourceArn: aws.String(arn(res)),
			Tags: []ecstypes.Tag{{Key: aws.String(key), Value: aws.String("bob")}}})
		return err
	}
	allowed(t, "TagResource of the blue cluster with owner", tag("cluster/blue", "owner"))
	denied(tag("cluster/blue", "cost-centre"), "ecs:TagResource", "cluster/blue")
	denied(tag("cluster/red", "owner"), "ecs:TagResource", "cluster/red")
	_, err = bob.UntagResource(ctx, &ecs.UntagResourceInput{ResourceArn: aws.String(arn("cluster/blue")), TagKeys: []string{"cost-centre"}})
	denied(err, "ecs:UntagResource", "cluster/blue")
	_, err = bob.UntagResource(ctx, &ecs.UntagResourceInput{ResourceArn: aws.String(arn("cluster/blue")), TagKeys: []string{"owner"}})
	allowed(t, "UntagResource of owner from the blue cluster", err)

	// Tags are read at each request: the red cluster retagged blue is bob's.
	w.must(root.TagResource(ctx, &ecs.TagResourceInput{ResourceArn: aws.String(arn("cluster/red")), Tags: blueRed("blue")}))
	_, err = bob.DescribeClusters(ctx, &ecs.DescribeClustersInput{Clusters: []string{"red"}})
	allowed(t, "DescribeClusters of the red cluster retagged blue", err)
}

// opsABACPolicy lets bob act on log groups, EventBridge rules and buses,
// CloudWatch alarms and Scheduler groups (and their schedules) of his team,
// create them only tagged with his team, and tag with the keys team and
// owner only; and read the IAM roles of his team, by IAM's own
// iam:ResourceTag.
const opsABACPolicy = `{"Version":"2012-10-17","Statement":[
	{"Effect":"Allow","Action":["logs:PutRetentionPolicy","logs:PutLogEvents","events:DescribeRule","events:DisableRule","events:DescribeEventBus",
	  "cloudwatch:SetAlarmState","scheduler:GetScheduleGroup","scheduler:GetSchedule"],
	 "Resource":"*","Condition":{"StringEquals":{"aws:ResourceTag/team":"${aws:PrincipalTag/team}"}}},
	{"Effect":"Allow","Action":["logs:CreateLogGroup","events:PutRule","events:CreateEventBus","cloudwatch:PutMetricAlarm","scheduler:CreateScheduleGroup"],
	 "Resource":"*","Condition":{"StringEquals":{"aws:RequestTag/team":"${aws:PrincipalTag/team}"}}},
	{"Effect":"Allow","Action":["logs:TagResource","events:TagResource","cloudwatch:TagResource","scheduler:TagResource"],"Resource":"*",
	 "Condition":{"ForAllValues:StringEquals":{"aws:TagKeys":["team","owner"]}}},
	{"Effect":"Allow","Action":"iam:GetRole","Resource":"*","Condition":{"StringEquals":{"iam:ResourceTag/team":"${aws:PrincipalTag/team}"}}}]}`

// TestIAMEnforceABACOnLogsEventsAlarmsAndSchedules: the same team policy over
// CloudWatch Logs (a group, and a stream by its group's tags), EventBridge
// (a rule and a bus), CloudWatch (an alarm) and Scheduler (a group, and a
// schedule by its group's tags); aws:RequestTag on CreateLogGroup, PutRule,
// CreateEventBus, PutMetricAlarm and CreateScheduleGroup; aws:TagKeys on
// TagResource.
func TestIAMEnforceABACOnLogsEventsAlarmsAndSchedules(t *testing.T) {
	t.Parallel()
	w := newABACWorld(t, opsABACPolicy)
	ctx := callTimeout(t)
	const region = "us-east-1:000000000000:"
	rootLogs, bobLogs := cloudwatchlogs.NewFromConfig(w.root), cloudwatchlogs.NewFromConfig(w.bob)
	rootEB, bobEB := eventbridge.NewFromConfig(w.root), eventbridge.NewFromConfig(w.bob)
	rootCW, bobCW := cloudwatch.NewFromConfig(w.root), cloudwatch.NewFromConfig(w.bob)
	rootSch, bobSch := scheduler.NewFromConfig(w.root), scheduler.NewFromConfig(w.bob)
	alarm := func(name, team string) *cloudwatch.PutMetricAlarmInput {
		return &cloudwatch.PutMetricAlarmInput{AlarmName: aws.String(name), Namespace: aws.String("App"), MetricName: aws.String("Errors"),
			Statistic: cwtypes.StatisticSum, Period: aws.Int32(60), EvaluationPeriods: aws.Int32(1), Threshold: aws.Float64(1),
			ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanThreshold, Tags: []cwtypes.Tag{{Key: aws.String("team"), Value: aws.String(team)}}}
	}
	ebTags := func(team string) []ebtypes.Tag {
		return []ebtypes.Tag{{Key: aws.String("team"), Value: aws.String(team)}}
	}
	schTags := func(team string) []schedtypes.Tag {
		return []schedtypes.Tag{{Key: aws.String("team"), Value: aws.String(team)}}
	}
	for _, team := range []string{"blue", "red"} {
		w.must(rootLogs.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(team + "-logs"), Tags: map[string]string{"team": team}}))
		w.must(rootLogs.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String(team + "-logs"), LogStreamName: aws.String("s")}))
		w.must(rootEB.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String(team + "-rule"), EventPattern: aws.String(`{"source":["app"]}`), Tags: ebTags(team)}))
		w.must(rootEB.CreateEventBus(ctx, &eventbridge.CreateEventBusInput{Name: aws.String(team + "-bus"), Tags: ebTags(team)}))
		w.must(rootCW.PutMetricAlarm(ctx, alarm(team+"-alarm", team)))
		w.must(rootSch.CreateScheduleGroup(ctx, &scheduler.CreateScheduleGroupInput{Name: aws.String(team + "-group"), Tags: schTags(team)}))
		w.must(rootSch.CreateSchedule(ctx, &scheduler.CreateScheduleInput{Name: aws.String("nightly"), GroupName: aws.String(team + "-group"),
			ScheduleExpression: aws.String("rate(1 day)"), FlexibleTimeWindow: &schedtypes.FlexibleTimeWindow{Mode: schedtypes.FlexibleTimeWindowModeOff},
			Target: &schedtypes.Target{Arn: aws.String("arn:aws:sqs:us-east-1:000000000000:jobs"), RoleArn: aws.String("arn:aws:iam::000000000000:role/scheduler")}}))
	}

	// CloudWatch Logs: a group, and a stream by its group's tags.
	retention := func(group string) error {
		_, err := bobLogs.PutRetentionPolicy(ctx, &cloudwatchlogs.PutRetentionPolicyInput{LogGroupName: aws.String(group), RetentionInDays: aws.Int32(7)})
		return err
	}
	allowed(t, "PutRetentionPolicy on the blue group", retention("blue-logs"))
	wantDenied(t, retention("red-logs"), "AccessDeniedException", 400, noAllow("logs:PutRetentionPolicy", "arn:aws:logs:"+region+"log-group:red-logs"))
	put := func(group string) error {
		_, err := bobLogs.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String(group), LogStreamName: aws.String("s"),
			LogEvents: []logstypes.InputLogEvent{{Message: aws.String("m"), Timestamp: aws.Int64(time.Now().UnixMilli())}}})
		return err
	}
	allowed(t, "PutLogEvents to a stream of the blue group", put("blue-logs"))
	wantDenied(t, put("red-logs"), "AccessDeniedException", 400, noAllow("logs:PutLogEvents", "arn:aws:logs:"+region+"log-group:red-logs:log-stream:s"))
	_, err := bobLogs.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String("bob-logs"), Tags: map[string]string{"team": "blue"}})
	allowed(t, "CreateLogGroup tagged blue", err)
	_, err = bobLogs.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String("bob-red"), Tags: map[string]string{"team": "red"}})
	wantDenied(t, err, "AccessDeniedException", 400, noAllow("logs:CreateLogGroup", "arn:aws:logs:"+region+"log-group:bob-red"))
	_, err = bobLogs.TagResource(ctx, &cloudwatchlogs.TagResourceInput{ResourceArn: aws.String("arn:aws:logs:" + region + "log-group:bob-logs"), Tags: map[string]string{"cost": "1"}})
	wantDenied(t, err, "AccessDeniedException", 400, noAllow("logs:TagResource", "arn:aws:logs:"+region+"log-group:bob-logs"))
	_, err = bobLogs.TagResource(ctx, &cloudwatchlogs.TagResourceInput{ResourceArn: aws.String("arn:aws:logs:" + region + "log-group:bob-logs"), Tags: map[string]string{"owner": "bob"}})
	allowed(t, "logs TagResource with owner", err)

	// EventBridge: rules and buses.
	_, err = bobEB.DescribeRule(ctx, &eventbridge.DescribeRuleInput{Name: aws.String("blue-rule")})
	allowed(t, "DescribeRule of the blue rule", err)
	_, err = bobEB.DisableRule(ctx, &eventbridge.DisableRuleInput{Name: aws.String("red-rule")})
	wantDenied(t, err, "AccessDeniedException", 400, noAllow("events:DisableRule", "arn:aws:events:"+region+"rule/red-rule"))
	_, err = bobEB.DescribeEventBus(ctx, &eventbridge.DescribeEventBusInput{Name: aws.String("blue-bus")})
	allowed(t, "DescribeEventBus of the blue bus", err)
	_, err = bobEB.DescribeEventBus(ctx, &eventbridge.DescribeEventBusInput{Name: aws.String("red-bus")})
	wantDenied(t, err, "AccessDeniedException", 400, noAllow("events:DescribeEventBus", "arn:aws:events:"+region+"event-bus/red-bus"))
	_, err = bobEB.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("bob-rule"), EventPattern: aws.String(`{"source":["app"]}`), Tags: ebTags("red")})
	wantDenied(t, err, "AccessDeniedException", 400, noAllow("events:PutRule", "arn:aws:events:"+region+"rule/bob-rule"))
	_, err = bobEB.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("bob-rule"), EventPattern: aws.String(`{"source":["app"]}`), Tags: ebTags("blue")})
	allowed(t, "PutRule tagged blue", err)
	_, err = bobEB.CreateEventBus(ctx, &eventbridge.CreateEventBusInput{Name: aws.String("bob-bus")})
	wantDenied(t, err, "AccessDeniedException", 400, noAllow("events:CreateEventBus", "arn:aws:events:"+region+"event-bus/bob-bus"))
	_, err = bobEB.TagResource(ctx, &eventbridge.TagResourceInput{ResourceARN: aws.String("arn:aws:events:" + region + "rule/bob-rule"), Tags: []ebtypes.Tag{{Key: aws.String("cost"), Value: aws.String("1")}}})
	wantDenied(t, err, "AccessDeniedException", 400, noAllow("events:TagResource", "arn:aws:events:"+region+"rule/bob-rule"))

	// CloudWatch alarms.
	state := func(name string) error {
		_, err := bobCW.SetAlarmState(ctx, &cloudwatch.SetAlarmStateInput{AlarmName: aws.String(name), StateValue: cwtypes.StateValueAlarm, StateReason: aws.String("test")})
		return err
	}
	allowed(t, "SetAlarmState of the blue alarm", state("blue-alarm"))
	wantDenied(t, state("red-alarm"), "AccessDenied", 403, noAllow("cloudwatch:SetAlarmState", "arn:aws:cloudwatch:"+region+"alarm:red-alarm"))
	_, err = bobCW.PutMetricAlarm(ctx, alarm("bob-red", "red"))
	wantDenied(t, err, "AccessDenied", 403, noAllow("cloudwatch:PutMetricAlarm", "arn:aws:cloudwatch:"+region+"alarm:bob-red"))
	_, err = bobCW.PutMetricAlarm(ctx, alarm("bob-blue", "blue"))
	allowed(t, "PutMetricAlarm tagged blue", err)
	_, err = bobCW.TagResource(ctx, &cloudwatch.TagResourceInput{ResourceARN: aws.String("arn:aws:cloudwatch:" + region + "alarm:bob-blue"),
		Tags: []cwtypes.Tag{{Key: aws.String("owner"), Value: aws.String("bob")}}})
	allowed(t, "cloudwatch TagResource with owner", err)

	// Scheduler: groups, and schedules by their group's tags.
	_, err = bobSch.GetScheduleGroup(ctx, &scheduler.GetScheduleGroupInput{Name: aws.String("blue-group")})
	allowed(t, "GetScheduleGroup of the blue group", err)
	_, err = bobSch.GetScheduleGroup(ctx, &scheduler.GetScheduleGroupInput{Name: aws.String("red-group")})
	wantDenied(t, err, "AccessDeniedException", 403, noAllow("scheduler:GetScheduleGroup", "arn:aws:scheduler:"+region+"schedule-group/red-group"))
	_, err = bobSch.GetSchedule(ctx, &scheduler.GetScheduleInput{Name: aws.String("nightly"), GroupName: aws.String("blue-group")})
	allowed(t, "GetSchedule in the blue group", err)
	_, err = bobSch.GetSchedule(ctx, &scheduler.GetScheduleInput{Name: aws.String("nightly"), GroupName: aws.String("red-group")})
	wantDenied(t, err, "AccessDeniedException", 403, noAllow("scheduler:GetSchedule", "arn:aws:scheduler:"+region+"schedule/red-group/nightly"))
	_, err = bobSch.CreateScheduleGroup(ctx, &scheduler.CreateScheduleGroupInput{Name: aws.String("bob-group"), Tags: schTags("red")})
	wantDenied(t, err, "AccessDeniedException", 403, noAllow("scheduler:CreateScheduleGroup", "arn:aws:scheduler:"+region+"schedule-group/bob-group"))
	_, err = bobSch.CreateScheduleGroup(ctx, &scheduler.CreateScheduleGroupInput{Name: aws.String("bob-group"), Tags: schTags("blue")})
	allowed(t, "CreateScheduleGroup tagged blue", err)

	// IAM roles, by iam:ResourceTag.
	ic := iam.NewFromConfig(w.root)
	for _, team := range []string{"blue", "red"} {
		w.must(ic.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(team + "-role"), Tags: []iamtypes.Tag{{Key: aws.String("team"), Value: aws.String(team)}},
			AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}}`)}))
	}
	_, err = iam.NewFromConfig(w.bob).GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("blue-role")})
	allowed(t, "GetRole of the blue role (iam:ResourceTag)", err)
	_, err = iam.NewFromConfig(w.bob).GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("red-role")})
	wantDenied(t, err, "AccessDenied", 403, noAllow("iam:GetRole", "arn:aws:iam::000000000000:role/red-role"))

	// A group retagged blue is bob's, with its schedules.
	w.must(rootSch.TagResource(ctx, &scheduler.TagResourceInput{ResourceArn: aws.String("arn:aws:scheduler:" + region + "schedule-group/red-group"), Tags: schTags("blue")}))
	_, err = bobSch.GetSchedule(ctx, &scheduler.GetScheduleInput{Name: aws.String("nightly"), GroupName: aws.String("red-group")})
	allowed(t, "GetSchedule in the red group retagged blue", err)
}

// TestIAMEnforceECSTagOnCreateNeedsTagResource: ECS authorizes a create that
// carries tags also as ecs:TagResource with ecs:CreateAction ("Grant
// permission to tag resources on creation"): a user allowed CreateCluster
// and RunTask alone creates and runs untagged, is refused
// ecs:TagResource when tagging, and tags once a statement allows
// ecs:TagResource for those create actions.
func TestIAMEnforceECSTagOnCreateNeedsTagResource(t *testing.T) {
	t.Parallel()
	w := newABACWorld(t, `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":["ecs:CreateCluster","ecs:RunTask","ecs:RegisterTaskDefinition"],"Resource":"*"}]}`)
	ctx := callTimeout(t)
	root, bob := ecs.NewFromConfig(w.root), ecs.NewFromConfig(w.bob)
	arn := func(res string) string { return "arn:aws:ecs:us-east-1:000000000000:" + res }
	td, err := root.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("job"),
		ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: aws.String("main"), Image: aws.String("/bin/sh"),
			Essential: aws.Bool(true), Command: []string{"-c", "exit 0"}}}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = bob.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("plain")})
	allowed(t, "CreateCluster without tags", err)
	_, err = bob.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("tagged"), Tags: blueRed("blue")})
	wantDenied(t, err, "AccessDeniedException", 400, noAllow("ecs:TagResource", arn("cluster/tagged")))
	_, err = bob.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String("plain"), TaskDefinition: td.TaskDefinition.TaskDefinitionArn})
	allowed(t, "RunTask without tags", err)
	_, err = bob.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String("plain"), TaskDefinition: td.TaskDefinition.TaskDefinitionArn, Tags: blueRed("blue")})
	wantDenied(t, err, "AccessDeniedException", 400, noAllow("ecs:TagResource", arn("task/plain/*")))

	ic := iam.NewFromConfig(w.root)
	w.must(ic.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("bob"), PolicyName: aws.String("tag-on-create"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecs:TagResource","Resource":"*",
			"Condition":{"StringEquals":{"ecs:CreateAction":["CreateCluster","RunTask"]}}}]}`)}))
	_, err = bob.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("tagged"), Tags: blueRed("blue")})
	allowed(t, "CreateCluster with tags once ecs:TagResource is allowed on create", err)
	_, err = bob.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String("plain"), TaskDefinition: td.TaskDefinition.TaskDefinitionArn, Tags: blueRed("blue")})
	allowed(t, "RunTask with tags once ecs:TagResource is allowed on create", err)
	// The create-action statement does not let bob tag what exists.
	_, err = bob.TagResource(ctx, &ecs.TagResourceInput{ResourceArn: aws.String(arn("cluster/plain")), Tags: blueRed("blue")})
	wantDenied(t, err, "AccessDeniedException", 400, noAllow("ecs:TagResource", arn("cluster/plain")))
}
