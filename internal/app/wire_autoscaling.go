package app

import (
	"context"

	aasapi "github.com/wharf-dev/wharf/internal/awsapi/applicationautoscaling"
	"github.com/wharf-dev/wharf/internal/server"
	"github.com/wharf-dev/wharf/internal/service/autoscaling"
	"github.com/wharf-dev/wharf/internal/service/cloudwatch"
)

// alarmActions lets CloudWatch's alarm actions run scaling policies: it is
// CloudWatch's ScalingPolicyExecutor over ExecutePolicy's plain values.
type alarmActions struct{ svc *autoscaling.Service }

func (a alarmActions) ExecuteScalingPolicy(ctx context.Context, policyARN string, f cloudwatch.AlarmFiring) error {
	return a.svc.ExecutePolicy(ctx, f.Account, f.Region, policyARN, f.AlarmName, f.State, f.Value, f.Threshold)
}

// ecsServiceAPI is ECS's own DescribeServices and UpdateService, which is how
// Application Auto Scaling reads and sets a service's desired count on AWS.
func init() {
	builders = append(builders, func(d Deps) server.Registration {
		svc := autoscaling.New(autoscaling.Options{Store: d.Store, Logger: d.Logger})
		d.Loops.Go(svc.Run)
		d.Registry.Provide("autoscaling", svc)
		// CloudWatch looks up its alarm-action executor under the service id.
		d.Registry.Provide("application-autoscaling", alarmActions{svc})
		d.Registry.AfterBuild(func() {
			// CloudWatch's own GetMetricData, PutMetricAlarm and DeleteAlarms
			// are the interfaces: nothing CloudWatch-specific is needed.
			cw := d.Registry.Lookup("cloudwatch")
			if m, ok := cw.(autoscaling.Metrics); ok {
				svc.SetMetrics(m)
			}
			if a, ok := cw.(autoscaling.Alarms); ok {
				svc.SetAlarms(a)
			}
			// ECS services set the desired count scaling decides on.
			if e, ok := d.Registry.Lookup("ecs-services").(autoscaling.Services); ok {
				svc.SetServices(e)
			}
		})
		return server.Registration{Desc: aasapi.Service, Handlers: aasapi.Bind(svc)}
	})
}
