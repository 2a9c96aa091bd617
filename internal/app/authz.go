package app

import (
	"context"
	"log/slog"
	"strings"

	"github.com/wharf-dev/wharf/internal/authz"
	ecsapi "github.com/wharf-dev/wharf/internal/awsapi/ecs"
	"github.com/wharf-dev/wharf/internal/config"
)

// authorizer makes the request path's authorization step (--iam) over sys:
// IAM answers who a caller is and which policies apply, ECS the roles a task
// definition passes, and each resource's owner its resource-based policy.
func (sys *System) authorizer(cfg *config.Config, log *slog.Logger) *authz.Authorizer {
	return authz.New(authz.Options{
		Mode:           cfg.IAM,
		Logger:         log.With("service", "iam"),
		Principals:     sys.IAM,
		ResourcePolicy: sys.resourcePolicy,
		Lookup:         sys.authzLookup,
	})
}

// resourcePolicy returns the resource-based policy of the resource arn: a
// role's trust policy.
func (sys *System) resourcePolicy(ctx context.Context, arn string) (string, error) {
	switch {
	case strings.HasPrefix(arn, "arn:aws:iam::") && strings.Contains(arn, ":role/"):
		doc, _, err := sys.IAM.RoleTrust(ctx, arn)
		return doc, err
	}
	return "", nil
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
