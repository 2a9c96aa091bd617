package ecs

import (
	"context"
	"encoding/json"

	"github.com/wharf-dev/wharf/internal/awsapi"
	ecsapi "github.com/wharf-dev/wharf/internal/awsapi/ecs"
)

// EcsTargetParams are an EventBridge or Scheduler target's EcsParameters, as
// plain values.
type EcsTargetParams struct {
	ClusterArn        string // the target's Arn
	TaskDefinitionArn string
	TaskCount         int // 0 means 1
	LaunchType        string
	PlatformVersion   string
	Group             string
	PropagateTags     string
	Tags              map[string]string
	// CapacityProviders is the strategy's capacity provider names, in order.
	CapacityProviders []string
	// StartedBy is what the task's startedBy says; "" means "events-rule".
	StartedBy string
}

// RunTaskFromEvent runs a task for an EventBridge or Scheduler target. The
// target input, when it is a JSON object with task override members
// (containerOverrides, taskRoleArn, cpu, memory ...), overrides the task, as
// AWS applies a rule's input to an ECS target; any other input is ignored.
func (s *Service) RunTaskFromEvent(ctx context.Context, account, region string, p EcsTargetParams, input []byte) error {
	sc := scope{account: account, region: region}
	if sc.account == "" {
		sc.account = s.account
	}
	if sc.region == "" {
		sc.region = s.region
	}
	count := p.TaskCount
	if count == 0 {
		count = 1
	}
	if count < 1 || count > 10 {
		return invalidParam("TaskCount must be between 1 and 10.")
	}
	rp := runParams{
		Cluster: p.ClusterArn, TaskDefinition: p.TaskDefinitionArn, Count: count, Group: p.Group,
		LaunchType: p.LaunchType, Platform: p.PlatformVersion, PropagateTags: p.PropagateTags, StartedBy: p.StartedBy,
	}
	if rp.StartedBy == "" {
		rp.StartedBy = "events-rule"
	}
	for _, cp := range p.CapacityProviders {
		rp.CapacityProv = append(rp.CapacityProv, ecsapi.CapacityProviderStrategyItem{CapacityProvider: awsapi.String(cp)})
	}
	for k, v := range p.Tags {
		rp.Tags = append(rp.Tags, ecsapi.Tag{Key: awsapi.String(k), Value: awsapi.String(v)})
	}
	rp.Overrides = OverridesFromInput(input)
	_, err := s.run(ctx, sc, rp)
	return err
}

// OverridesFromInput reads the TaskOverride an ECS target's input carries,
// or nil: what RunTaskFromEvent applies, and so what the delivering role
// must be allowed (iam:PassRole for its taskRoleArn and executionRoleArn).
func OverridesFromInput(input []byte) *ecsapi.TaskOverride {
	var probe map[string]json.RawMessage
	if json.Unmarshal(input, &probe) != nil {
		return nil
	}
	known := false
	for _, k := range []string{"containerOverrides", "taskRoleArn", "executionRoleArn", "cpu", "memory"} {
		_, ok := probe[k]
		known = known || ok
	}
	if !known {
		return nil
	}
	var o ecsapi.TaskOverride
	if json.Unmarshal(input, &o) != nil {
		return nil
	}
	return &o
}
