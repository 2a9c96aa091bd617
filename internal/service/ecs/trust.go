package ecs

import (
	"context"

	"github.com/wharf-dev/wharf/internal/awsapi"
	"github.com/wharf-dev/wharf/internal/store"
)

// RoleTrust decides whether a task may assume a role: whether the role's
// trust policy lets ecs-tasks.amazonaws.com assume it for the cluster
// (aws:SourceArn) and account (aws:SourceAccount). A nil error allows it.
type RoleTrust interface {
	TaskMayAssume(ctx context.Context, account, clusterArn, roleArn string) error
}

// SetRoleTrust makes RunTask, StartTask and the services' launches refuse a
// task whose task or execution role ECS could not assume, as AWS does.
func (s *Service) SetRoleTrust(t RoleTrust) { s.trust.Store(&t) }

// checkRoles refuses p when a role its task would run with (the task
// definition's, or the overrides') does not trust ECS tasks. A task
// definition that cannot be found is left for run to report.
func (s *Service) checkRoles(ctx context.Context, sc scope, cluster string, p runParams) error {
	tp := s.trust.Load()
	if tp == nil || *tp == nil {
		return nil
	}
	var roles []string
	err := s.st.View(func(tx store.Tx) error {
		td, _, err := s.findTaskDef(tx, sc, p.TaskDefinition)
		if err != nil {
			return nil
		}
		task, exec := awsapi.ToString(td.Def.TaskRoleArn), awsapi.ToString(td.Def.ExecutionRoleArn)
		if o := p.Overrides; o != nil {
			if v := awsapi.ToString(o.TaskRoleArn); v != "" {
				task = v
			}
			if v := awsapi.ToString(o.ExecutionRoleArn); v != "" {
				exec = v
			}
		}
		for _, r := range []string{exec, task} {
			if r != "" {
				roles = append(roles, r)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, r := range roles {
		if err := (*tp).TaskMayAssume(ctx, sc.account, sc.arn("cluster/"+cluster), r); err != nil {
			return err
		}
	}
	return nil
}
