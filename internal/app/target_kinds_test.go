package app_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/scheduler"
	schedtypes "github.com/aws/aws-sdk-go-v2/service/scheduler/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/smithy-go"

	"github.com/wharf-dev/wharf/internal/service/events"
	"github.com/wharf-dev/wharf/internal/wharftest"
)

const kindsAcct = "000000000000"

// kindsWorld is one wharf (process runtime) with clients for every target kind.
type kindsWorld struct {
	ctx context.Context
	eb  *eventbridge.Client
	sc  *scheduler.Client
	sq  *sqs.Client
	sn  *sns.Client
	ec  *ecs.Client
	cwl *cloudwatchlogs.Client
}

func newKindsWorld(t *testing.T) *kindsWorld {
	cfg := wharftest.Start(t, "--runtime", "process").Config()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return &kindsWorld{ctx: ctx, eb: eventbridge.NewFromConfig(cfg), sc: scheduler.NewFromConfig(cfg), sq: sqs.NewFromConfig(cfg),
		sn: sns.NewFromConfig(cfg), ec: ecs.NewFromConfig(cfg), cwl: cloudwatchlogs.NewFromConfig(cfg)}
}

// must fails t when the call it is given failed: must(t)(client.Call(...)).
func must(t *testing.T) func(any, error) {
	return func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
}

// queue creates a queue and returns its URL and ARN.
func (w *kindsWorld) queue(t *testing.T, name string) (string, string) {
	t.Helper()
	q, err := w.sq.CreateQueue(w.ctx, &sqs.CreateQueueInput{QueueName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(q.QueueUrl), "arn:aws:sqs:us-east-1:" + kindsAcct + ":" + name
}

// receiveMarker waits for a message containing marker on the queue.
func (w *kindsWorld) receiveMarker(t *testing.T, url, marker string) {
	t.Helper()
	for w.ctx.Err() == nil {
		out, err := w.sq.ReceiveMessage(w.ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), WaitTimeSeconds: 2})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range out.Messages {
			if strings.Contains(aws.ToString(m.Body), marker) {
				return
			}
		}
	}
	t.Fatalf("no message with %s on %s", marker, url)
}

// targetKind sets up one kind of target resource: its ARN, what a rule or a
// schedule must say besides (ECS parameters), and how to see a delivery
// carrying marker arrive.
type targetKind struct {
	name  string
	setup func(t *testing.T, w *kindsWorld, name string) kindTarget
}

type kindTarget struct {
	arn     string
	taskDef string // ECS: the task definition to run
	// input is the target's Input for marker, nil for the event itself.
	input func(marker string) *string
	wait  func(t *testing.T, marker string)
}

// overridesInput is an ECS target Input: a task override whose environment
// carries marker, so the task shows which delivery started it.
func overridesInput(marker string) *string {
	return aws.String(`{"containerOverrides":[{"name":"main","environment":[{"name":"MARKER","value":"` + marker + `"}]}]}`)
}

// targetKinds are the kinds events.TargetServices (and EventBridge's own event
// buses) name: TestEveryTargetKindIsTested keeps the two lists together.
var targetKinds = []targetKind{
	{"sqs", func(t *testing.T, w *kindsWorld, name string) kindTarget {
		url, arn := w.queue(t, name)
		return kindTarget{arn: arn, wait: func(t *testing.T, m string) { w.receiveMarker(t, url, m) }}
	}},
	{"sns", func(t *testing.T, w *kindsWorld, name string) kindTarget {
		topic, err := w.sn.CreateTopic(w.ctx, &sns.CreateTopicInput{Name: aws.String(name)})
		if err != nil {
			t.Fatal(err)
		}
		url, qarn := w.queue(t, name+"-sub")
		must(t)(w.sn.Subscribe(w.ctx, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("sqs"), Endpoint: aws.String(qarn)}))
		return kindTarget{arn: aws.ToString(topic.TopicArn), wait: func(t *testing.T, m string) { w.receiveMarker(t, url, m) }}
	}},
	{"ecs", func(t *testing.T, w *kindsWorld, name string) kindTarget {
		must(t)(w.ec.CreateCluster(w.ctx, &ecs.CreateClusterInput{ClusterName: aws.String(name)}))
		td, err := w.ec.RegisterTaskDefinition(w.ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String(name),
			ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: aws.String("main"), Image: aws.String("/bin/sh"),
				Essential: aws.Bool(true), Command: []string{"-c", "exit 0"}}}})
		if err != nil {
			t.Fatal(err)
		}
		cluster := "arn:aws:ecs:us-east-1:" + kindsAcct + ":cluster/" + name
		return kindTarget{arn: cluster, taskDef: aws.ToString(td.TaskDefinition.TaskDefinitionArn), input: overridesInput,
			wait: func(t *testing.T, m string) {
				for w.ctx.Err() == nil {
					for _, status := range []ecstypes.DesiredStatus{ecstypes.DesiredStatusRunning, ecstypes.DesiredStatusStopped} {
						l, err := w.ec.ListTasks(w.ctx, &ecs.ListTasksInput{Cluster: aws.String(name), DesiredStatus: status})
						if err != nil {
							t.Fatal(err)
						}
						if len(l.TaskArns) == 0 {
							continue
						}
						d, err := w.ec.DescribeTasks(w.ctx, &ecs.DescribeTasksInput{Cluster: aws.String(name), Tasks: l.TaskArns})
						if err != nil {
							t.Fatal(err)
						}
						for _, task := range d.Tasks {
							for _, o := range task.Overrides.ContainerOverrides {
								for _, e := range o.Environment {
									if aws.ToString(e.Name) == "MARKER" && aws.ToString(e.Value) == m {
										return
									}
								}
							}
						}
					}
					time.Sleep(50 * time.Millisecond)
				}
				t.Fatalf("no task with MARKER=%s in cluster %s", m, name)
			}}
	}},
	{"logs", func(t *testing.T, w *kindsWorld, name string) kindTarget {
		group := "/wharf/" + name
		must(t)(w.cwl.CreateLogGroup(w.ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(group)}))
		return kindTarget{arn: "arn:aws:logs:us-east-1:" + kindsAcct + ":log-group:" + group, wait: func(t *testing.T, m string) {
			for w.ctx.Err() == nil {
				f, err := w.cwl.FilterLogEvents(w.ctx, &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String(group)})
				if err != nil {
					t.Fatal(err)
				}
				for _, e := range f.Events {
					if strings.Contains(aws.ToString(e.Message), m) {
						return
					}
				}
				time.Sleep(50 * time.Millisecond)
			}
			t.Fatalf("no log event with %s in %s", m, group)
		}}
	}},
	{"events", func(t *testing.T, w *kindsWorld, name string) kindTarget {
		bus, err := w.eb.CreateEventBus(w.ctx, &eventbridge.CreateEventBusInput{Name: aws.String(name)})
		if err != nil {
			t.Fatal(err)
		}
		// On the second bus, a rule sends everything to a queue.
		url, qarn := w.queue(t, name+"-out")
		must(t)(w.eb.PutRule(w.ctx, &eventbridge.PutRuleInput{Name: aws.String("all"), EventBusName: aws.String(name),
			EventPattern: aws.String(`{"account":["` + kindsAcct + `"]}`)}))
		pt, err := w.eb.PutTargets(w.ctx, &eventbridge.PutTargetsInput{Rule: aws.String("all"), EventBusName: aws.String(name),
			Targets: []ebtypes.Target{{Id: aws.String("q"), Arn: aws.String(qarn)}}})
		if err != nil || pt.FailedEntryCount != 0 {
			t.Fatalf("PutTargets on %s: %v %+v", name, err, pt)
		}
		return kindTarget{arn: aws.ToString(bus.EventBusArn), wait: func(t *testing.T, m string) { w.receiveMarker(t, url, m) }}
	}},
}

// TestEveryTargetKindIsTested: each service wharf delivers to has a kind
// above, so a new target service cannot be added without a delivery test.
func TestEveryTargetKindIsTested(t *testing.T) {
	have := map[string]bool{}
	for _, k := range targetKinds {
		have[k.name] = true
	}
	for _, svc := range append([]string{"events"}, events.TargetServices...) {
		if !have[svc] {
			t.Errorf("target service %s has no delivery test in targetKinds", svc)
		}
	}
}

// TestRuleDeliversToEveryTargetKind: a rule with a target of each kind
// EventBridge accepts delivers a matching event there, through the server.
func TestRuleDeliversToEveryTargetKind(t *testing.T) {
	t.Parallel()
	w := newKindsWorld(t)
	targets := make([]kindTarget, len(targetKinds))
	for i, k := range targetKinds {
		name := "rule-" + k.name
		tg := k.setup(t, w, name)
		targets[i] = tg
		marker := "marker-rule-" + k.name
		must(t)(w.eb.PutRule(w.ctx, &eventbridge.PutRuleInput{Name: aws.String(name),
			EventPattern: aws.String(`{"source":["kinds.` + k.name + `"]}`)}))
		target := ebtypes.Target{Id: aws.String("t"), Arn: aws.String(tg.arn)}
		if tg.input != nil {
			target.Input = tg.input(marker)
		}
		if tg.taskDef != "" {
			target.RoleArn = aws.String("arn:aws:iam::" + kindsAcct + ":role/events")
			target.EcsParameters = &ebtypes.EcsParameters{TaskDefinitionArn: aws.String(tg.taskDef)}
		}
		pt, err := w.eb.PutTargets(w.ctx, &eventbridge.PutTargetsInput{Rule: aws.String(name), Targets: []ebtypes.Target{target}})
		if err != nil || pt.FailedEntryCount != 0 {
			t.Fatalf("PutTargets %s: %v %+v", k.name, err, pt)
		}
		pe, err := w.eb.PutEvents(w.ctx, &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{{
			Source: aws.String("kinds." + k.name), DetailType: aws.String("Kind Test"), Detail: aws.String(`{"marker":"` + marker + `"}`)}}})
		if err != nil || pe.FailedEntryCount != 0 {
			t.Fatalf("PutEvents %s: %v %+v", k.name, err, pe)
		}
	}
	for i, k := range targetKinds {
		t.Run(k.name, func(t *testing.T) { targets[i].wait(t, "marker-rule-"+k.name) })
	}
}

// TestScheduleDeliversToEveryTargetKind: a one-time schedule with a target of
// each kind Scheduler accepts delivers there when it fires.
func TestScheduleDeliversToEveryTargetKind(t *testing.T) {
	t.Parallel()
	w := newKindsWorld(t)
	targets := make([]kindTarget, len(targetKinds))
	for i, k := range targetKinds {
		targets[i] = k.setup(t, w, "sched-"+k.name)
	}
	// Every schedule is due at the same second, once all exist; six seconds
	// (five at least: the time is whole seconds) leave the five
	// CreateSchedule calls time on a loaded machine (an at() already past
	// when created never fires).
	due := time.Now().UTC().Add(6 * time.Second).Format("2006-01-02T15:04:05")
	for i, k := range targetKinds {
		tg := targets[i]
		marker := "marker-schedule-" + k.name
		target := &schedtypes.Target{Arn: aws.String(tg.arn), RoleArn: aws.String("arn:aws:iam::" + kindsAcct + ":role/scheduler"),
			Input: aws.String(`{"marker":"` + marker + `"}`)}
		if tg.input != nil {
			target.Input = tg.input(marker)
		}
		if tg.taskDef != "" {
			target.EcsParameters = &schedtypes.EcsParameters{TaskDefinitionArn: aws.String(tg.taskDef)}
		}
		if k.name == "events" {
			target.EventBridgeParameters = &schedtypes.EventBridgeParameters{Source: aws.String("kinds.schedule"), DetailType: aws.String("Kind Test")}
		}
		must(t)(w.sc.CreateSchedule(w.ctx, &scheduler.CreateScheduleInput{Name: aws.String("sched-" + k.name), ScheduleExpression: aws.String("at(" + due + ")"),
			FlexibleTimeWindow: &schedtypes.FlexibleTimeWindow{Mode: schedtypes.FlexibleTimeWindowModeOff}, Target: target}))
	}
	for i, k := range targetKinds {
		t.Run(k.name, func(t *testing.T) { targets[i].wait(t, "marker-schedule-"+k.name) })
	}
}

// TestTargetsWharfCannotDeliverToAreRefused: PutTargets and CreateSchedule
// refuse a target wharf has no delivery for (Lambda, Kinesis, an API
// destination, a Scheduler universal target) with a ValidationException,
// rather than accepting it and dropping every event.
func TestTargetsWharfCannotDeliverToAreRefused(t *testing.T) {
	t.Parallel()
	w := newKindsWorld(t)
	must(t)(w.eb.PutRule(w.ctx, &eventbridge.PutRuleInput{Name: aws.String("r"), EventPattern: aws.String(`{"source":["x"]}`)}))
	for _, arn := range []string{
		"arn:aws:lambda:us-east-1:" + kindsAcct + ":function:handler",
		"arn:aws:kinesis:us-east-1:" + kindsAcct + ":stream/s",
		"arn:aws:firehose:us-east-1:" + kindsAcct + ":deliverystream/d",
		"arn:aws:states:us-east-1:" + kindsAcct + ":stateMachine:m",
		"arn:aws:events:us-east-1:" + kindsAcct + ":api-destination/d/1234",
		"arn:aws:scheduler:::aws-sdk:sqs:sendMessage",
		"arn:aws:ecs:us-east-1:" + kindsAcct + ":task-definition/job:1",
	} {
		_, err := w.eb.PutTargets(w.ctx, &eventbridge.PutTargetsInput{Rule: aws.String("r"),
			Targets: []ebtypes.Target{{Id: aws.String("t"), Arn: aws.String(arn), RoleArn: aws.String("arn:aws:iam::" + kindsAcct + ":role/events")}}})
		var ae smithy.APIError
		if !errors.As(err, &ae) || ae.ErrorCode() != "ValidationException" || !strings.Contains(ae.ErrorMessage(), arn) {
			t.Errorf("PutTargets %s: %v, want a ValidationException naming it", arn, err)
		}
		_, err = w.sc.CreateSchedule(w.ctx, &scheduler.CreateScheduleInput{Name: aws.String("s"), ScheduleExpression: aws.String("rate(1 hour)"),
			FlexibleTimeWindow: &schedtypes.FlexibleTimeWindow{Mode: schedtypes.FlexibleTimeWindowModeOff},
			Target:             &schedtypes.Target{Arn: aws.String(arn), RoleArn: aws.String("arn:aws:iam::" + kindsAcct + ":role/scheduler")}})
		var ve *schedtypes.ValidationException
		if !errors.As(err, &ve) || !strings.Contains(ve.ErrorMessage(), arn) {
			t.Errorf("CreateSchedule %s: %v, want a ValidationException naming it", arn, err)
		}
	}
	l, err := w.eb.ListTargetsByRule(w.ctx, &eventbridge.ListTargetsByRuleInput{Rule: aws.String("r")})
	if err != nil || len(l.Targets) != 0 {
		t.Errorf("targets after refusals: %v %s", err, mustJSON(l))
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
