package app

import (
	"context"

	"github.com/wharf-dev/wharf/internal/apierr"
	"github.com/wharf-dev/wharf/internal/awsapi"
	aasapi "github.com/wharf-dev/wharf/internal/awsapi/applicationautoscaling"
	ecsapi "github.com/wharf-dev/wharf/internal/awsapi/ecs"
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
type ecsServiceAPI interface {
	DescribeServices(ctx context.Context, in *ecsapi.DescribeServicesInput) (*ecsapi.DescribeServicesOutput, error)
	UpdateService(ctx context.Context, in *ecsapi.UpdateServiceInput) (*ecsapi.UpdateServiceOutput, error)
}

// ecsServices adapts ECS's API to autoscaling.Services, for as long as ECS
// does not implement that interface itself.
type ecsServices struct{ api ecsServiceAPI }

func ecsCaller(ctx context.Context, account, region string) context.Context {
	return awsapi.WithCaller(ctx, &awsapi.Caller{Account: account, Region: region, Service: "ecs"})
}

func (e ecsServices) DesiredCount(ctx context.Context, account, region, cluster, service string) (int32, error) {
	out, err := e.api.DescribeServices(ecsCaller(ctx, account, region), &ecsapi.DescribeServicesInput{Cluster: &cluster, Services: []string{service}})
	if err != nil {
		return 0, err
	}
	for _, s := range out.Services {
		if awsapi.ToString(s.ServiceName) == service && awsapi.ToString(s.Status) == "ACTIVE" {
			return awsapi.ToInt32(s.DesiredCount), nil
		}
	}
	return 0, &apierr.Error{Code: "ServiceNotFoundException", Message: "Service not found."}
}

func (e ecsServices) SetDesiredCount(ctx context.Context, account, region, cluster, service string, count int32) error {
	_, err := e.api.UpdateService(ecsCaller(ctx, account, region), &ecsapi.UpdateServiceInput{Cluster: &cluster, Service: &service, DesiredCount: &count})
	return err
}

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
			// ECS services come later: ECS's own Services implementation
			// first, else its DescribeServices/UpdateService; until either
			// exists, wharf keeps each target's capacity itself.
			switch e := d.Registry.Lookup("ecs").(type) {
			case autoscaling.Services:
				svc.SetServices(e)
			case ecsServiceAPI:
				svc.SetServices(ecsServices{e})
			}
		})
		return server.Registration{Desc: aasapi.Service, Handlers: aasapi.Bind(svc)}
	})
}
