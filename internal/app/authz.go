package app

import (
	"context"
	"log/slog"
	"strings"

	"github.com/wharf-dev/wharf/internal/authz"
	"github.com/wharf-dev/wharf/internal/awsapi"
	ecsapi "github.com/wharf-dev/wharf/internal/awsapi/ecs"
	"github.com/wharf-dev/wharf/internal/config"
	"github.com/wharf-dev/wharf/internal/service/events"
)

// authorizer makes the request path's authorization step (--iam) over sys:
// IAM answers who a caller is and which policies apply, ECS the roles a task
// definition passes, and each resource's service its resource-based policy.
func (sys *System) authorizer(cfg *config.Config, log *slog.Logger) *authz.Authorizer {
	return authz.New(authz.Options{
		Mode:           cfg.IAM,
		Logger:         log.With("service", "iam"),
		Principals:     sys.IAM,
		ResourcePolicy: sys.resourcePolicy,
		Lookup:         sys.authzLookup,
	})
}

// resourcePolicy returns the resource-based policy of the resource arn and
// the account owning it: a role's trust policy, a bucket policy (for the
// bucket and its objects), a queue's or a topic's Policy attribute.
func (sys *System) resourcePolicy(ctx context.Context, arn string) (policy, account string, err error) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" {
		return "", "", nil
	}
	switch parts[2] {
	case "iam":
		if strings.HasPrefix(parts[5], "role/") {
			doc, _, err := sys.IAM.RoleTrust(ctx, arn)
			return doc, "", err
		}
	case "s3":
		if sys.S3 != nil {
			bucket, _, _ := strings.Cut(parts[5], "/")
			doc, owner, _, err := sys.S3.BucketPolicy(bucket)
			return doc, owner, err
		}
	case "sqs":
		doc, _, err := sys.SQS.QueuePolicy(parts[4], parts[3], parts[5])
		return doc, "", err
	case "sns":
		doc, owner, _, err := sys.SNS.TopicPolicy(arn)
		return doc, owner, err
	}
	return "", "", nil
}

// authzLookup answers iamaction's named lookups: {@taskdef-roles} is the
// task and execution roles of a RunTask or StartTask task definition, which
// the caller passes to ECS.
func (sys *System) authzLookup(ctx context.Context, name string, input any) []string {
	if name != "taskdef-roles" || sys.ECS == nil {
		return nil
	}
	var td *string
	switch in := input.(type) {
	case *ecsapi.RunTaskInput:
		td = in.TaskDefinition
	case *ecsapi.StartTaskInput:
		td = in.TaskDefinition
	}
	if td == nil {
		return nil
	}
	out, err := sys.ECS.DescribeTaskDefinition(ctx, &ecsapi.DescribeTaskDefinitionInput{TaskDefinition: td})
	if err != nil || out.TaskDefinition == nil {
		return nil // the operation reports a missing task definition itself
	}
	var roles []string
	for _, r := range []*string{out.TaskDefinition.TaskRoleArn, out.TaskDefinition.ExecutionRoleArn} {
		if r != nil && *r != "" {
			roles = append(roles, *r)
		}
	}
	return roles
}

// servicePrincipalTarget checks, before EventBridge delivers to a queue or
// topic, that the resource's policy lets events.amazonaws.com perform action
// for the rule (aws:SourceArn), as AWS does. Scheduler's deliveries and
// targets with a RoleArn act through a role instead and are not checked here.
type servicePrincipalTarget struct {
	inner  events.Target
	az     *authz.Authorizer
	action string
}

func (t servicePrincipalTarget) Deliver(ctx context.Context, d *events.Delivery) error {
	if d.ScheduleArn == "" && d.Target.RoleArn == nil {
		if err := t.az.AuthorizeService(ctx, "events.amazonaws.com", t.action, awsapi.ToString(d.Target.Arn), d.RuleArn, d.Account); err != nil {
			return err
		}
	}
	return t.inner.Deliver(ctx, d)
}
