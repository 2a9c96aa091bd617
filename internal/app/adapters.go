package app

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
	"time"

	"github.com/wharf-dev/wharf/internal/authz"
	"github.com/wharf-dev/wharf/internal/awsapi"
	sqsapi "github.com/wharf-dev/wharf/internal/awsapi/sqs"
	stsapi "github.com/wharf-dev/wharf/internal/awsapi/sts"
	"github.com/wharf-dev/wharf/internal/config"
	"github.com/wharf-dev/wharf/internal/runtime"
	"github.com/wharf-dev/wharf/internal/runtime/docker"
	"github.com/wharf-dev/wharf/internal/runtime/kubernetes"
	"github.com/wharf-dev/wharf/internal/runtime/process"
	"github.com/wharf-dev/wharf/internal/service/autoscaling"
	"github.com/wharf-dev/wharf/internal/service/cloudwatch"
	"github.com/wharf-dev/wharf/internal/service/ecs"
	"github.com/wharf-dev/wharf/internal/service/events"
	"github.com/wharf-dev/wharf/internal/service/iam"
	"github.com/wharf-dev/wharf/internal/service/logs"
	"github.com/wharf-dev/wharf/internal/service/s3"
	"github.com/wharf-dev/wharf/internal/service/sns"
	"github.com/wharf-dev/wharf/internal/service/sqs"
	"github.com/wharf-dev/wharf/internal/store"
)

// The adapters below turn one service's exported methods into the narrow
// interface another declares, where their plain types differ. The assertions
// make a drift in either side a compile error.
var (
	_ cloudwatch.ScalingPolicyExecutor = alarmActions{}
	_ ecs.RoleCredentials              = roleCredentials{}
	_ ecs.LogWriter                    = ecsLogs{}
	_ events.LogGroups                 = logGroups{}
	_ events.Target                    = ecsTarget{}
	_ sqs.Metrics                      = sqsMetrics{}
	_ logs.Metrics                     = logsMetrics{}
	_ s3.Notifier                      = s3Notifier{}
	_ sns.QueueSender                  = servicePrincipalQueues{}
)

// alarmActions lets CloudWatch's alarm actions run scaling policies: it is
// CloudWatch's ScalingPolicyExecutor over ExecutePolicy's plain values.
type alarmActions struct{ svc *autoscaling.Service }

func (a alarmActions) ExecuteScalingPolicy(ctx context.Context, policyARN string, f cloudwatch.AlarmFiring) error {
	return a.svc.ExecutePolicy(ctx, f.Account, f.Region, policyARN, f.AlarmName, f.State, f.Value, f.Threshold)
}

// roleCredentials mints task role credentials through STS AssumeRole, acting
// as the task's account root.
type roleCredentials struct{ sts *iam.STS }

func (c roleCredentials) CredentialsForRole(ctx context.Context, account, roleARN, session string) (ecs.Credentials, error) {
	ctx = awsapi.WithCaller(ctx, &awsapi.Caller{Account: account, Service: "sts", Operation: "AssumeRole"})
	out, err := c.sts.AssumeRole(ctx, &stsapi.AssumeRoleInput{RoleArn: &roleARN, RoleSessionName: &session})
	if err != nil {
		return ecs.Credentials{}, err
	}
	cr := out.Credentials
	return ecs.Credentials{
		AccessKeyID: awsapi.ToString(cr.AccessKeyId), SecretAccessKey: awsapi.ToString(cr.SecretAccessKey),
		SessionToken: awsapi.ToString(cr.SessionToken), Expiration: *cr.Expiration,
	}, nil
}

// ecsLogs gives ECS's awslogs output to CloudWatch Logs.
type ecsLogs struct{ logs *logs.Service }

func (a ecsLogs) PutLogLines(ctx context.Context, account, region, group, stream string, lines []ecs.LogLine) error {
	out := make([]logs.LogLine, len(lines))
	for i, l := range lines {
		out[i] = logs.LogLine{Time: l.Time, Message: l.Message}
	}
	return a.logs.PutLogLines(ctx, account, region, group, stream, out)
}

// logGroups is EventBridge's log group target's way into CloudWatch Logs.
type logGroups struct{ logs *logs.Service }

func (g logGroups) WriteLogEvent(ctx context.Context, account, region, group, stream string, t time.Time, message string) error {
	return g.logs.PutLogLines(ctx, account, region, group, stream, []logs.LogLine{{Time: t, Message: message}})
}

// ecsTarget is EventBridge's (and Scheduler's) ECS target: RunTask with the
// target's EcsParameters, its Arn naming the cluster.
type ecsTarget struct{ svc *ecs.Service }

func (t ecsTarget) Deliver(ctx context.Context, d *events.Delivery) error {
	p := ecs.EcsTargetParams{ClusterArn: awsapi.ToString(d.Target.Arn)}
	if e := d.Target.EcsParameters; e != nil {
		p.TaskDefinitionArn, p.TaskCount = awsapi.ToString(e.TaskDefinitionArn), int(awsapi.ToInt32(e.TaskCount))
		p.LaunchType, p.PlatformVersion = awsapi.ToString(e.LaunchType), awsapi.ToString(e.PlatformVersion)
		p.Group, p.PropagateTags = awsapi.ToString(e.Group), awsapi.ToString(e.PropagateTags)
		for _, c := range e.CapacityProviderStrategy {
			p.CapacityProviders = append(p.CapacityProviders, awsapi.ToString(c.CapacityProvider))
		}
		if len(e.Tags) > 0 {
			p.Tags = map[string]string{}
			for _, tag := range e.Tags {
				p.Tags[awsapi.ToString(tag.Key)] = awsapi.ToString(tag.Value)
			}
		}
	}
	// Tasks a rule starts say so: startedBy "events-rule/<rule name>".
	if i := strings.LastIndexByte(d.RuleArn, '/'); i >= 0 && strings.Contains(d.RuleArn, ":rule/") {
		p.StartedBy = "events-rule/" + d.RuleArn[i+1:]
	}
	return t.svc.RunTaskFromEvent(ctx, d.Account, d.Region, p, d.Input)
}

// sqsMetrics adapts CloudWatch to sqs.Metrics.
type sqsMetrics struct{ cw *cloudwatch.Service }

func (m sqsMetrics) Put(ctx context.Context, account, region, namespace string, data ...sqs.Datum) error {
	out := make([]cloudwatch.Datum, len(data))
	for i, d := range data {
		out[i] = cloudwatch.Datum{MetricName: d.MetricName, Dimensions: d.Dimensions, Time: d.Time, Value: d.Value, Unit: d.Unit, HighResolution: d.HighResolution}
	}
	return m.cw.Put(ctx, account, region, namespace, out...)
}

// logsMetrics adapts CloudWatch to logs.Metrics: what metric filters extract.
type logsMetrics struct{ cw *cloudwatch.Service }

func (m logsMetrics) Put(ctx context.Context, account, region, namespace string, data ...logs.Datum) error {
	out := make([]cloudwatch.Datum, len(data))
	for i, d := range data {
		out[i] = cloudwatch.Datum{MetricName: d.MetricName, Dimensions: d.Dimensions, Time: d.Time, Value: d.Value, Unit: d.Unit}
	}
	return m.cw.Put(ctx, account, region, namespace, out...)
}

// s3Notifier delivers S3's queue and topic notifications to SQS and SNS.
// Both act as s3.amazonaws.com for the bucket: the queue's or topic's policy
// must let S3 in.
type s3Notifier struct {
	sqs servicePrincipalQueues
	sns *sns.Service
	az  *authz.Authorizer
}

func (n s3Notifier) SendToQueue(ctx context.Context, queueARN, body string) error {
	_, err := n.sqs.DeliverToQueue(ctx, queueARN, body, nil, "", "")
	return err
}

func (n s3Notifier) PublishToTopic(ctx context.Context, topicARN, subject, body string) error {
	src, _ := awsapi.SourceFrom(ctx)
	if err := n.az.AuthorizeService(ctx, "s3.amazonaws.com", "sns:Publish", topicARN, src.ARN, src.Account); err != nil {
		return err
	}
	_, err := n.sns.PublishToTopic(ctx, topicARN, subject, body, nil)
	return err
}

// servicePrincipalQueues delivers to SQS queues for another service (SNS, S3)
// acting as its service principal for the source the context carries
// (awsapi.Source): the queue's policy must allow sqs:SendMessage to it, as on
// AWS. Under --iam enforce a refusal is the delivery's error; under audit it
// is recorded and the message delivered.
type servicePrincipalQueues struct {
	sqs       *sqs.Service
	az        *authz.Authorizer
	principal string
}

func (q servicePrincipalQueues) DeliverToQueue(ctx context.Context, queueARN, body string, attrs map[string]sqsapi.MessageAttributeValue, groupID, dedupID string) (string, error) {
	src, _ := awsapi.SourceFrom(ctx)
	if err := q.az.AuthorizeService(ctx, q.principal, "sqs:SendMessage", queueARN, src.ARN, src.Account); err != nil {
		return "", err
	}
	return q.sqs.DeliverToQueue(ctx, queueARN, body, attrs, groupID, dedupID)
}

// DeliverToQueues authorizes each message as DeliverToQueue does and
// stores those allowed in one call (one commit).
func (q servicePrincipalQueues) DeliverToQueues(ctx context.Context, msgs []sns.QueueMessage) []error {
	errs, _ := q.deliver(ctx, msgs, nil)
	return errs
}

// DeliverToQueuesWith is DeliverToQueues with the delivering service's own
// writes in the commit of the messages (sqs.Service.DeliverToQueuesWith):
// SNS and SQS are built on the same store.
func (q servicePrincipalQueues) DeliverToQueuesWith(ctx context.Context, msgs []sns.QueueMessage, also func(store.Tx) error) ([]error, error) {
	return q.deliver(ctx, msgs, also)
}

func (q servicePrincipalQueues) deliver(ctx context.Context, msgs []sns.QueueMessage, also func(store.Tx) error) ([]error, error) {
	src, _ := awsapi.SourceFrom(ctx)
	ds := make([]sqs.Delivery, 0, len(msgs))
	var errs []error // made at the first refusal: most deliveries are allowed
	var idx []int    // ds[j] is msgs[idx[j]], once errs is made
	for i, m := range msgs {
		if err := q.az.AuthorizeService(ctx, q.principal, "sqs:SendMessage", m.QueueARN, src.ARN, src.Account); err != nil {
			if errs == nil {
				errs, idx = make([]error, len(msgs)), make([]int, len(ds), len(msgs))
				for j := range idx {
					idx[j] = j
				}
			}
			errs[i] = err
			continue
		}
		ds = append(ds, sqs.Delivery(m))
		if errs != nil {
			idx = append(idx, i)
		}
	}
	var sent []error
	var err error
	if also == nil {
		sent = q.sqs.DeliverToQueues(ctx, ds)
	} else {
		sent, err = q.sqs.DeliverToQueuesWith(ctx, ds, also)
	}
	if errs == nil {
		return sent, err
	}
	for j, e := range sent {
		errs[idx[j]] = e
	}
	return errs, err
}

// chooseRuntime picks the task runtime --runtime names, or docker when an
// engine answers and process otherwise. --runtime docker without an engine is
// an error: wharf does not start rather than run tasks somewhere else. The
// process runtime standing in for a missing engine says so loudly, since it
// runs only executable paths and the images --process-images lists.
func chooseRuntime(ctx context.Context, cfg *config.Config, log *slog.Logger) (runtime.Runner, error) {
	images := cfg.ProcessImageList()
	switch cfg.Runtime {
	case "process":
		log.Info("ecs: tasks run as host processes (--runtime process), without isolation: only executable paths and --process-images run",
			"process_images", cfg.ProcessImages)
		return process.New(images...), nil
	case "docker":
		r, err := docker.New(os.Getenv)
		if err == nil {
			pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			err = r.Ping(pctx)
			cancel()
		}
		if err != nil {
			return nil, fmt.Errorf("--runtime docker: no container engine answers at %s: %v; start Docker (or Podman's Docker API), set DOCKER_HOST, or choose --runtime process", dockerHost(), err)
		}
		return r, nil
	case "kubernetes":
		// Asked for by name, so a cluster wharf cannot reach stops it here,
		// rather than every RunTask failing later.
		k, err := kubeRuntime(ctx, cfg)
		if err != nil {
			return nil, fmt.Errorf("--runtime kubernetes: %w", err)
		}
		return k, nil
	}
	if r, ok := docker.Available(ctx); ok {
		return r, nil
	}
	log.Warn("ecs: NO CONTAINER ENGINE answers at "+dockerHost()+": tasks will run as HOST PROCESSES, without isolation. "+
		"Only images that are absolute executable paths or that --process-images lists run; any other image stops its task with CannotPullContainerError. "+
		"Start Docker or Podman for real containers, or pass --runtime process to choose this knowingly.",
		"process_images", cfg.ProcessImages)
	return process.New(images...), nil
}

// dockerHost is where the docker runtime looks for an engine.
func dockerHost() string {
	if h := os.Getenv("DOCKER_HOST"); h != "" {
		return h
	}
	return "unix://" + docker.DefaultSocket
}

// kubeRuntime is the kubernetes runtime for cfg, once its API server has
// answered.
func kubeRuntime(ctx context.Context, cfg *config.Config) (*kubernetes.Runner, error) {
	k, err := kubernetes.New(kubernetes.Options{Kubeconfig: cfg.Kubeconfig, Namespace: cfg.KubeNamespace})
	if err != nil {
		return nil, err
	}
	pctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := k.Ping(pctx); err != nil {
		return nil, err
	}
	return k, nil
}

// containerEndpoint is wharf's address as a task's container (host network)
// reaches it: a wildcard listen address becomes loopback.
func containerEndpoint(listen string) string {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return listen
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}
