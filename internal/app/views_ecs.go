package app

import (
	"context"
	"strings"
	"time"

	"github.com/wharf-dev/wharf/internal/apierr"
	"github.com/wharf-dev/wharf/internal/awsapi"
	aasapi "github.com/wharf-dev/wharf/internal/awsapi/applicationautoscaling"
	ecsapi "github.com/wharf-dev/wharf/internal/awsapi/ecs"
	logsapi "github.com/wharf-dev/wharf/internal/awsapi/logs"
)

// Cluster is one row of the clusters view.
type Cluster struct {
	Name           string `json:"name"`
	ARN            string `json:"arn"`
	Status         string `json:"status"`
	Running        int32  `json:"running"`
	Pending        int32  `json:"pending"`
	ActiveServices int32  `json:"activeServices"`
}

// ECSService is one row of the services view: the counts, deployments and
// latest events DescribeServices answers, and its scalable target.
type ECSService struct {
	Name           string              `json:"name"`
	ARN            string              `json:"arn"`
	Cluster        string              `json:"cluster"`
	Status         string              `json:"status"`
	TaskDefinition string              `json:"taskDefinition"`
	Desired        int32               `json:"desired"`
	Running        int32               `json:"running"`
	Pending        int32               `json:"pending"`
	Deployments    []ServiceDeployment `json:"deployments"`
	Events         []ServiceEvent      `json:"events"`
	// Scaling is the Application Auto Scaling target of the service's
	// desired count, when one is registered.
	Scaling *ScalableTarget `json:"scaling,omitempty"`
}

// ServiceDeployment is one deployment of a service.
type ServiceDeployment struct {
	ID             string     `json:"id"`
	Status         string     `json:"status"` // PRIMARY, ACTIVE
	RolloutState   string     `json:"rolloutState,omitempty"`
	TaskDefinition string     `json:"taskDefinition"`
	Desired        int32      `json:"desired"`
	Running        int32      `json:"running"`
	Pending        int32      `json:"pending"`
	Failed         int32      `json:"failed"`
	Created        *time.Time `json:"created,omitempty"`
}

// ServiceEvent is one of a service's latest events.
type ServiceEvent struct {
	Time    *time.Time `json:"time,omitempty"`
	Message string     `json:"message"`
}

// ScalableTarget is a service's scalable target.
type ScalableTarget struct {
	ResourceID string   `json:"resourceId"`
	Min        int32    `json:"min"`
	Max        int32    `json:"max"`
	Policies   []string `json:"policies"`
}

// TaskLog is the tail of one container's awslogs stream.
type TaskLog struct {
	Container string    `json:"container"`
	Group     string    `json:"group"`
	Stream    string    `json:"stream"`
	Lines     []LogLine `json:"lines"`
	// Error says why the stream could not be read (none yet, deleted).
	Error string `json:"error,omitempty"`
}

// LogLine is one log event.
type LogLine struct {
	Time    time.Time `json:"time"`
	Message string    `json:"message"`
}

// ScalingActivity is one of Application Auto Scaling's activities.
type ScalingActivity struct {
	ID          string     `json:"id"`
	ResourceID  string     `json:"resourceId"`
	Description string     `json:"description"`
	Cause       string     `json:"cause"`
	Status      string     `json:"status"`
	Message     string     `json:"message,omitempty"`
	Start       *time.Time `json:"start,omitempty"`
	End         *time.Time `json:"end,omitempty"`
}

// maxLogLines is how many of a stream's latest lines the console shows.
const maxLogLines = 200

func (r *resources) clusterARNs(ctx context.Context) ([]string, error) {
	if r.sys.ECS == nil {
		return nil, nil
	}
	var arns []string
	in := &ecsapi.ListClustersInput{MaxResults: awsapi.Int32(100)}
	for range maxPages {
		out, err := r.sys.ECS.ListClusters(ctx, in)
		if err != nil {
			return nil, err
		}
		arns = append(arns, out.ClusterArns...)
		if out.NextToken == nil {
			break
		}
		in.NextToken = out.NextToken
	}
	return arns, nil
}

func (r *resources) clusters(ctx context.Context) ([]Cluster, error) {
	cs := []Cluster{}
	arns, err := r.clusterARNs(ctx)
	if err != nil || len(arns) == 0 {
		return cs, err
	}
	for start := 0; start < len(arns); start += 100 {
		out, err := r.sys.ECS.DescribeClusters(ctx, &ecsapi.DescribeClustersInput{Clusters: arns[start:min(start+100, len(arns))]})
		if err != nil {
			return nil, err
		}
		for _, c := range out.Clusters {
			cs = append(cs, Cluster{Name: awsapi.ToString(c.ClusterName), ARN: awsapi.ToString(c.ClusterArn), Status: awsapi.ToString(c.Status),
				Running: awsapi.ToInt32(c.RunningTasksCount), Pending: awsapi.ToInt32(c.PendingTasksCount), ActiveServices: awsapi.ToInt32(c.ActiveServicesCount)})
		}
	}
	return cs, nil
}

func (r *resources) services(ctx context.Context) ([]ECSService, error) {
	svcs := []ECSService{}
	if r.sys.ECSServices == nil {
		return svcs, nil
	}
	arns, err := r.clusterARNs(ctx)
	if err != nil {
		return nil, err
	}
	targets := r.scalableTargets(ctx)
	for _, c := range arns {
		in := &ecsapi.ListServicesInput{Cluster: awsapi.String(c), MaxResults: awsapi.Int32(100)}
		for range maxPages {
			list, err := r.sys.ECSServices.ListServices(ctx, in)
			if err != nil {
				return nil, err
			}
			for start := 0; start < len(list.ServiceArns); start += 10 {
				d, err := r.sys.ECSServices.DescribeServices(ctx, &ecsapi.DescribeServicesInput{Cluster: awsapi.String(c),
					Services: list.ServiceArns[start:min(start+10, len(list.ServiceArns))]})
				if err != nil {
					return nil, err
				}
				for _, s := range d.Services {
					v := serviceView(c, &s)
					v.Scaling = targets["service/"+v.Cluster+"/"+v.Name]
					svcs = append(svcs, v)
				}
			}
			if list.NextToken == nil {
				break
			}
			in.NextToken = list.NextToken
		}
	}
	return svcs, nil
}

func serviceView(cluster string, s *ecsapi.ServiceShape) ECSService {
	v := ECSService{Name: awsapi.ToString(s.ServiceName), ARN: awsapi.ToString(s.ServiceArn), Cluster: cluster[strings.LastIndex(cluster, "/")+1:],
		Status: awsapi.ToString(s.Status), TaskDefinition: lastPart(awsapi.ToString(s.TaskDefinition)), Desired: awsapi.ToInt32(s.DesiredCount),
		Running: awsapi.ToInt32(s.RunningCount), Pending: awsapi.ToInt32(s.PendingCount), Deployments: []ServiceDeployment{}, Events: []ServiceEvent{}}
	for _, d := range s.Deployments {
		v.Deployments = append(v.Deployments, ServiceDeployment{ID: awsapi.ToString(d.Id), Status: awsapi.ToString(d.Status),
			RolloutState: awsapi.ToString(d.RolloutState), TaskDefinition: lastPart(awsapi.ToString(d.TaskDefinition)),
			Desired: awsapi.ToInt32(d.DesiredCount), Running: awsapi.ToInt32(d.RunningCount), Pending: awsapi.ToInt32(d.PendingCount),
			Failed: awsapi.ToInt32(d.FailedTasks), Created: d.CreatedAt})
	}
	for i, e := range s.Events {
		if i == 10 { // the latest ten; ECS lists newest first
			break
		}
		v.Events = append(v.Events, ServiceEvent{Time: e.CreatedAt, Message: awsapi.ToString(e.Message)})
	}
	return v
}

// scalableTargets are the ECS services' scalable targets by resource id,
// with their policies' names.
func (r *resources) scalableTargets(ctx context.Context) map[string]*ScalableTarget {
	ts := map[string]*ScalableTarget{}
	in := &aasapi.DescribeScalableTargetsInput{ServiceNamespace: awsapi.String("ecs")}
	for range maxPages {
		out, err := r.sys.AutoScaling.DescribeScalableTargets(ctx, in)
		if err != nil {
			return ts
		}
		for _, t := range out.ScalableTargets {
			id := awsapi.ToString(t.ResourceId)
			ts[id] = &ScalableTarget{ResourceID: id, Min: awsapi.ToInt32(t.MinCapacity), Max: awsapi.ToInt32(t.MaxCapacity), Policies: []string{}}
		}
		if out.NextToken == nil {
			break
		}
		in.NextToken = out.NextToken
	}
	pin := &aasapi.DescribeScalingPoliciesInput{ServiceNamespace: awsapi.String("ecs")}
	for range maxPages {
		ps, err := r.sys.AutoScaling.DescribeScalingPolicies(ctx, pin)
		if err != nil {
			break
		}
		for _, p := range ps.ScalingPolicies {
			if t := ts[awsapi.ToString(p.ResourceId)]; t != nil {
				t.Policies = append(t.Policies, awsapi.ToString(p.PolicyName)+" ("+awsapi.ToString(p.PolicyType)+")")
			}
		}
		if ps.NextToken == nil {
			break
		}
		pin.NextToken = ps.NextToken
	}
	return ts
}

// scalingActivities lists Application Auto Scaling's activities in
// namespace (ecs when ""), of resource when given, newest first.
func (r *resources) scalingActivities(ctx context.Context, namespace, resource string) ([]ScalingActivity, error) {
	if namespace == "" {
		namespace = "ecs"
	}
	in := &aasapi.DescribeScalingActivitiesInput{ServiceNamespace: awsapi.String(namespace), MaxResults: awsapi.Int32(50),
		IncludeNotScaledActivities: awsapi.Bool(true)}
	if resource != "" {
		in.ResourceId = awsapi.String(resource)
	}
	out, err := r.sys.AutoScaling.DescribeScalingActivities(ctx, in)
	if err != nil {
		return nil, err
	}
	as := []ScalingActivity{}
	for _, a := range out.ScalingActivities {
		as = append(as, ScalingActivity{ID: awsapi.ToString(a.ActivityId), ResourceID: awsapi.ToString(a.ResourceId),
			Description: awsapi.ToString(a.Description), Cause: awsapi.ToString(a.Cause), Status: awsapi.ToString(a.StatusCode),
			Message: awsapi.ToString(a.StatusMessage), Start: a.StartTime, End: a.EndTime})
	}
	return as, nil
}

// taskLogs tails each container's awslogs stream of task (an ARN): the
// stream ECS writes, <prefix>/<container>/<task id> in the group the task
// definition names.
func (r *resources) taskLogs(ctx context.Context, task string) ([]TaskLog, error) {
	if r.sys.ECS == nil {
		return nil, apierr.New("ClusterNotFoundException", 400, "ECS is not running in this wharf.")
	}
	// arn:aws:ecs:REGION:ACCOUNT:task/CLUSTER/ID
	parts := strings.Split(task, "/")
	if !strings.HasPrefix(task, "arn:") || len(parts) != 3 {
		return nil, apierr.New("InvalidParameterException", 400, "the logs view needs ?task=TASK_ARN (arn:aws:ecs:region:account:task/cluster/id), got %q.", task)
	}
	cluster, id := parts[1], parts[2]
	d, err := r.sys.ECS.DescribeTasks(ctx, &ecsapi.DescribeTasksInput{Cluster: awsapi.String(cluster), Tasks: []string{task}})
	if err != nil {
		return nil, err
	}
	if len(d.Tasks) == 0 {
		return nil, apierr.New("InvalidParameterException", 400, "no task %s in cluster %s.", task, cluster)
	}
	td, err := r.sys.ECS.DescribeTaskDefinition(ctx, &ecsapi.DescribeTaskDefinitionInput{TaskDefinition: d.Tasks[0].TaskDefinitionArn})
	if err != nil {
		return nil, err
	}
	logs := []TaskLog{}
	for _, cd := range td.TaskDefinition.ContainerDefinitions {
		lc := cd.LogConfiguration
		if lc == nil || awsapi.ToString(lc.LogDriver) != "awslogs" || lc.Options["awslogs-group"] == "" {
			continue
		}
		l := TaskLog{Container: awsapi.ToString(cd.Name), Group: lc.Options["awslogs-group"], Stream: awsapi.ToString(cd.Name) + "/" + id, Lines: []LogLine{}}
		if p := lc.Options["awslogs-stream-prefix"]; p != "" {
			l.Stream = p + "/" + l.Stream
		}
		lctx := ctx
		if reg := lc.Options["awslogs-region"]; reg != "" {
			c := *awsapi.CallerFrom(ctx)
			c.Region = reg
			lctx = awsapi.WithCaller(ctx, &c)
		}
		out, err := r.sys.Logs.GetLogEvents(lctx, &logsapi.GetLogEventsInput{LogGroupName: awsapi.String(l.Group),
			LogStreamName: awsapi.String(l.Stream), Limit: awsapi.Int32(maxLogLines), StartFromHead: awsapi.Bool(false)})
		if err != nil {
			l.Error = err.Error()
			if e := apierr.As(err); e != nil {
				l.Error = e.Code + ": " + e.Message
			}
		} else {
			for _, e := range out.Events {
				l.Lines = append(l.Lines, LogLine{Time: time.UnixMilli(awsapi.ToInt64(e.Timestamp)).UTC(), Message: awsapi.ToString(e.Message)})
			}
		}
		logs = append(logs, l)
	}
	return logs, nil
}

func lastPart(arn string) string { return arn[strings.LastIndex(arn, "/")+1:] }
