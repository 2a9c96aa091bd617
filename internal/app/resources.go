package app

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/wharf-dev/wharf/internal/apierr"
	"github.com/wharf-dev/wharf/internal/awsapi"
	cwapi "github.com/wharf-dev/wharf/internal/awsapi/cloudwatch"
	dynamodbapi "github.com/wharf-dev/wharf/internal/awsapi/dynamodb"
	ecsapi "github.com/wharf-dev/wharf/internal/awsapi/ecs"
	eventsapi "github.com/wharf-dev/wharf/internal/awsapi/events"
	sqsapi "github.com/wharf-dev/wharf/internal/awsapi/sqs"
	"github.com/wharf-dev/wharf/internal/clock"
	"github.com/wharf-dev/wharf/internal/config"
	"github.com/wharf-dev/wharf/internal/console"
)

// resources answers the console's resource views (GET
// /_wharf/api/resources/{kind}) by calling each service's own API
// operations as the account's root would: the console reads what a client
// reads, never a service's state directly.
type resources struct {
	sys   *System
	cfg   *config.Config
	clock clock.Clock // wharf's clock: plots end at its now
}

// maxPages bounds one view: at most this many pages of each list call.
const maxPages = 20

// Queue is one row of the queues view.
type Queue struct {
	Name     string `json:"name"`
	URL      string `json:"url"`
	ARN      string `json:"arn"`
	Visible  int64  `json:"visible"`  // ApproximateNumberOfMessages
	InFlight int64  `json:"inFlight"` // ApproximateNumberOfMessagesNotVisible
	Delayed  int64  `json:"delayed"`  // ApproximateNumberOfMessagesDelayed
	FIFO     bool   `json:"fifo"`
	// DeadLetterQueue is the ARN the redrive policy names, with its depth.
	DeadLetterQueue string `json:"deadLetterQueue,omitempty"`
	MaxReceiveCount int64  `json:"maxReceiveCount,omitempty"`
	DeadLetterDepth *int64 `json:"deadLetterDepth,omitempty"`
}

// Table is one row of the tables view.
type Table struct {
	Name      string   `json:"name"`
	ARN       string   `json:"arn"`
	Status    string   `json:"status"`
	ItemCount int64    `json:"itemCount"`
	Key       []string `json:"key"` // "id (HASH)", "sk (RANGE)"
}

// Rule is one row of the rules view, with its targets.
type Rule struct {
	Name     string       `json:"name"`
	ARN      string       `json:"arn"`
	Bus      string       `json:"bus"`
	State    string       `json:"state"`
	Pattern  string       `json:"pattern,omitempty"`
	Schedule string       `json:"schedule,omitempty"`
	Targets  []RuleTarget `json:"targets"`
}

// RuleTarget is one target of a rule.
type RuleTarget struct {
	ID              string `json:"id"`
	ARN             string `json:"arn"`
	DeadLetterQueue string `json:"deadLetterQueue,omitempty"`
}

// Task is one row of the tasks view.
type Task struct {
	ARN            string          `json:"arn"`
	Cluster        string          `json:"cluster"`
	TaskDefinition string          `json:"taskDefinition"`
	LastStatus     string          `json:"lastStatus"`
	DesiredStatus  string          `json:"desiredStatus"`
	StoppedReason  string          `json:"stoppedReason,omitempty"`
	StartedBy      string          `json:"startedBy,omitempty"`
	CreatedAt      *time.Time      `json:"createdAt,omitempty"`
	Containers     []TaskContainer `json:"containers"`
}

// TaskContainer is one container of a task.
type TaskContainer struct {
	Name       string `json:"name"`
	LastStatus string `json:"lastStatus"`
	ExitCode   *int32 `json:"exitCode,omitempty"`
	Reason     string `json:"reason,omitempty"`
}

// Alarm is one row of the alarms view.
type Alarm struct {
	Name       string     `json:"name"`
	ARN        string     `json:"arn"`
	State      string     `json:"state"`
	Reason     string     `json:"reason"`
	Updated    *time.Time `json:"updated,omitempty"`
	Metric     string     `json:"metric,omitempty"` // "Namespace MetricName"
	Comparison string     `json:"comparison,omitempty"`
	Threshold  *float64   `json:"threshold,omitempty"`
	Period     int32      `json:"period,omitempty"`
}

// as is the context of a call the console makes: the account's root in
// region ("" for wharf's region), through host (the Host the browser used,
// for queue URLs).
func (r *resources) as(ctx context.Context, region, host string) context.Context {
	if region == "" {
		region = r.cfg.Region
	}
	return awsapi.WithCaller(ctx, &awsapi.Caller{Account: r.cfg.Account, Region: region,
		ARN: "arn:aws:iam::" + r.cfg.Account + ":root", Host: host})
}

// PurgeQueue purges the queue at url, as the console's purge button asks.
func (r *resources) PurgeQueue(ctx context.Context, url string, q console.Query) error {
	_, err := r.sys.SQS.PurgeQueue(r.as(ctx, q.Region, q.Host), &sqsapi.PurgeQueueInput{QueueUrl: awsapi.String(url)})
	return err
}

// views are the console's views, in the order its error message lists them.
var views = []string{"queues", "tables", "items", "rules", "tasks", "alarms", "buckets", "objects", "topics", "buses", "schedules",
	"clusters", "services", "logs", "alarm-history", "scaling-activities"}

// List returns the view of kind; q.Params carries a view's arguments
// (objects: bucket, prefix; items: table; logs: task; alarm-history: alarm;
// scaling-activities: namespace, resource).
func (r *resources) List(ctx context.Context, kind string, q console.Query) (any, error) {
	ctx = r.as(ctx, q.Region, q.Host)
	p := q.Params
	switch kind {
	case "queues":
		return r.queues(ctx)
	case "tables":
		return r.tables(ctx)
	case "items":
		t, err := r.tableScan(ctx, p.Get("table"))
		return t.Items, err
	case "rules":
		return r.rules(ctx)
	case "tasks":
		return r.tasks(ctx)
	case "alarms":
		return r.alarms(ctx)
	case "buckets":
		return r.buckets(ctx)
	case "objects":
		return r.objects(ctx, p.Get("bucket"), p.Get("prefix"))
	case "topics":
		return r.topics(ctx)
	case "buses":
		return r.buses(ctx)
	case "schedules":
		return r.schedules(ctx)
	case "clusters":
		return r.clusters(ctx)
	case "services":
		return r.services(ctx)
	case "logs":
		return r.taskLogs(ctx, p.Get("task"))
	case "alarm-history":
		return r.alarmHistory(ctx, p.Get("alarm"))
	case "scaling-activities":
		return r.scalingActivities(ctx, p.Get("namespace"), p.Get("resource"))
	}
	return nil, apierr.New("ResourceNotFoundException", 404, "the console has no view of %q: the views are %s.", kind, strings.Join(views, ", "))
}

func (r *resources) queues(ctx context.Context) ([]Queue, error) {
	var urls []string
	in := &sqsapi.ListQueuesInput{MaxResults: awsapi.Int32(1000)}
	for range maxPages {
		out, err := r.sys.SQS.ListQueues(ctx, in)
		if err != nil {
			return nil, err
		}
		urls = append(urls, out.QueueUrls...)
		if out.NextToken == nil {
			break
		}
		in.NextToken = out.NextToken
	}
	qs := []Queue{}
	byARN := map[string]*Queue{}
	for _, u := range urls {
		out, err := r.sys.SQS.GetQueueAttributes(ctx, &sqsapi.GetQueueAttributesInput{QueueUrl: awsapi.String(u), AttributeNames: []string{"All"}})
		if err != nil {
			continue // deleted meanwhile
		}
		a := out.Attributes
		q := Queue{URL: u, ARN: a["QueueArn"], Visible: atoi64(a["ApproximateNumberOfMessages"]),
			InFlight: atoi64(a["ApproximateNumberOfMessagesNotVisible"]), Delayed: atoi64(a["ApproximateNumberOfMessagesDelayed"]),
			FIFO: a["FifoQueue"] == "true"}
		q.Name = q.ARN[strings.LastIndex(q.ARN, ":")+1:]
		if rp := a["RedrivePolicy"]; rp != "" {
			var p struct {
				DeadLetterTargetArn string
				MaxReceiveCount     any
			}
			if jsonUnmarshal(rp, &p) == nil {
				q.DeadLetterQueue = p.DeadLetterTargetArn
				q.MaxReceiveCount = atoi64(strings.Trim(strings.TrimSpace(jsonString(p.MaxReceiveCount)), `"`))
			}
		}
		qs = append(qs, q)
	}
	for i := range qs {
		byARN[qs[i].ARN] = &qs[i]
	}
	for i := range qs {
		if d := byARN[qs[i].DeadLetterQueue]; d != nil {
			n := d.Visible + d.InFlight + d.Delayed
			qs[i].DeadLetterDepth = &n
		}
	}
	return qs, nil
}

func (r *resources) tables(ctx context.Context) ([]Table, error) {
	var names []string
	in := &dynamodbapi.ListTablesInput{}
	for range maxPages {
		out, err := r.sys.DynamoDB.ListTables(ctx, in)
		if err != nil {
			return nil, err
		}
		names = append(names, out.TableNames...)
		if out.LastEvaluatedTableName == nil {
			break
		}
		in.ExclusiveStartTableName = out.LastEvaluatedTableName
	}
	ts := []Table{}
	for _, n := range names {
		out, err := r.sys.DynamoDB.DescribeTable(ctx, &dynamodbapi.DescribeTableInput{TableName: awsapi.String(n)})
		if err != nil || out.Table == nil {
			continue
		}
		d := out.Table
		t := Table{Name: n, ARN: awsapi.ToString(d.TableArn), Status: awsapi.ToString(d.TableStatus), ItemCount: awsapi.ToInt64(d.ItemCount), Key: []string{}}
		for _, k := range d.KeySchema {
			t.Key = append(t.Key, awsapi.ToString(k.AttributeName)+" ("+awsapi.ToString(k.KeyType)+")")
		}
		ts = append(ts, t)
	}
	return ts, nil
}

func (r *resources) rules(ctx context.Context) ([]Rule, error) {
	buses, err := r.sys.Events.ListEventBuses(ctx, &eventsapi.ListEventBusesInput{Limit: awsapi.Int32(100)})
	if err != nil {
		return nil, err
	}
	rules := []Rule{}
	for _, b := range buses.EventBuses {
		in := &eventsapi.ListRulesInput{EventBusName: b.Name, Limit: awsapi.Int32(100)}
		for range maxPages {
			out, err := r.sys.Events.ListRules(ctx, in)
			if err != nil {
				return nil, err
			}
			for _, rr := range out.Rules {
				rule := Rule{Name: awsapi.ToString(rr.Name), ARN: awsapi.ToString(rr.Arn), Bus: awsapi.ToString(b.Name), State: awsapi.ToString(rr.State),
					Pattern: awsapi.ToString(rr.EventPattern), Schedule: awsapi.ToString(rr.ScheduleExpression), Targets: []RuleTarget{}}
				ts, err := r.sys.Events.ListTargetsByRule(ctx, &eventsapi.ListTargetsByRuleInput{Rule: rr.Name, EventBusName: b.Name, Limit: awsapi.Int32(100)})
				if err == nil {
					for _, t := range ts.Targets {
						rt := RuleTarget{ID: awsapi.ToString(t.Id), ARN: awsapi.ToString(t.Arn)}
						if t.DeadLetterConfig != nil {
							rt.DeadLetterQueue = awsapi.ToString(t.DeadLetterConfig.Arn)
						}
						rule.Targets = append(rule.Targets, rt)
					}
				}
				rules = append(rules, rule)
			}
			if out.NextToken == nil {
				break
			}
			in.NextToken = out.NextToken
		}
	}
	return rules, nil
}

func (r *resources) tasks(ctx context.Context) ([]Task, error) {
	tasks := []Task{}
	if r.sys.ECS == nil {
		return tasks, nil
	}
	clusters, err := r.sys.ECS.ListClusters(ctx, &ecsapi.ListClustersInput{MaxResults: awsapi.Int32(100)})
	if err != nil {
		return nil, err
	}
	for _, c := range clusters.ClusterArns {
		// Running tasks, then the recently stopped ones ECS still lists.
		for _, desired := range []string{"RUNNING", "STOPPED"} {
			in := &ecsapi.ListTasksInput{Cluster: awsapi.String(c), DesiredStatus: awsapi.String(desired), MaxResults: awsapi.Int32(100)}
			for range maxPages {
				out, err := r.sys.ECS.ListTasks(ctx, in)
				if err != nil {
					return nil, err
				}
				if len(out.TaskArns) > 0 {
					d, err := r.sys.ECS.DescribeTasks(ctx, &ecsapi.DescribeTasksInput{Cluster: awsapi.String(c), Tasks: out.TaskArns})
					if err != nil {
						return nil, err
					}
					for _, t := range d.Tasks {
						tasks = append(tasks, taskView(c, &t))
					}
				}
				if out.NextToken == nil {
					break
				}
				in.NextToken = out.NextToken
			}
		}
	}
	return tasks, nil
}

func taskView(cluster string, t *ecsapi.Task) Task {
	v := Task{ARN: awsapi.ToString(t.TaskArn), Cluster: cluster[strings.LastIndex(cluster, "/")+1:], TaskDefinition: awsapi.ToString(t.TaskDefinitionArn),
		LastStatus: awsapi.ToString(t.LastStatus), DesiredStatus: awsapi.ToString(t.DesiredStatus), StoppedReason: awsapi.ToString(t.StoppedReason),
		StartedBy: awsapi.ToString(t.StartedBy), CreatedAt: t.CreatedAt, Containers: []TaskContainer{}}
	if i := strings.LastIndex(v.TaskDefinition, "/"); i >= 0 {
		v.TaskDefinition = v.TaskDefinition[i+1:]
	}
	for _, c := range t.Containers {
		v.Containers = append(v.Containers, TaskContainer{Name: awsapi.ToString(c.Name), LastStatus: awsapi.ToString(c.LastStatus),
			ExitCode: c.ExitCode, Reason: awsapi.ToString(c.Reason)})
	}
	return v
}

func (r *resources) alarms(ctx context.Context) ([]Alarm, error) {
	alarms := []Alarm{}
	in := &cwapi.DescribeAlarmsInput{MaxRecords: awsapi.Int32(100)}
	for range maxPages {
		out, err := r.sys.CloudWatch.DescribeAlarms(ctx, in)
		if err != nil {
			return nil, err
		}
		for _, a := range out.MetricAlarms {
			v := Alarm{Name: awsapi.ToString(a.AlarmName), ARN: awsapi.ToString(a.AlarmArn), State: awsapi.ToString(a.StateValue),
				Reason: awsapi.ToString(a.StateReason), Updated: a.StateUpdatedTimestamp, Comparison: awsapi.ToString(a.ComparisonOperator),
				Threshold: a.Threshold, Period: awsapi.ToInt32(a.Period)}
			if a.MetricName != nil {
				v.Metric = awsapi.ToString(a.Namespace) + " " + awsapi.ToString(a.MetricName)
			}
			alarms = append(alarms, v)
		}
		for _, a := range out.CompositeAlarms {
			alarms = append(alarms, Alarm{Name: awsapi.ToString(a.AlarmName), ARN: awsapi.ToString(a.AlarmArn), State: awsapi.ToString(a.StateValue),
				Reason: awsapi.ToString(a.StateReason), Updated: a.StateUpdatedTimestamp})
		}
		if out.NextToken == nil {
			break
		}
		in.NextToken = out.NextToken
	}
	return alarms, nil
}

func atoi64(s string) int64 {
	n, _ := strconv.ParseInt(s, 10, 64)
	return n
}

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }

// jsonString renders a redrive policy's maxReceiveCount, which clients send
// as a number or a string.
func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
