package app

import (
	"time"

	cwapi "github.com/wharf-dev/wharf/internal/awsapi/cloudwatch"
	"github.com/wharf-dev/wharf/internal/server"
	"github.com/wharf-dev/wharf/internal/service/cloudwatch"
)

func init() {
	builders = append(builders, func(d Deps) server.Registration {
		// The alarm loop wakes every second so that alarms on 1-second metrics
		// react in seconds; each alarm is still evaluated once per period.
		svc := cloudwatch.New(cloudwatch.Options{Store: d.Store, Bus: d.Bus, Logger: d.Logger, EvaluationInterval: time.Second})
		d.Loops.Go(svc.Run)
		// wharf's own services publish AWS/SQS and AWS/ECS metrics through svc.Put;
		// Application Auto Scaling reads them through svc.MetricData.
		d.Registry.Provide("cloudwatch", svc)
		d.Registry.AfterBuild(func() {
			if p, ok := d.Registry.Lookup("sns").(cloudwatch.TopicPublisher); ok {
				svc.SetTopicPublisher(p)
			}
			if p, ok := d.Registry.Lookup("application-autoscaling").(cloudwatch.ScalingPolicyExecutor); ok {
				svc.SetScalingPolicyExecutor(p)
			}
		})
		return server.Registration{Desc: cwapi.Service, Handlers: cwapi.Bind(svc)}
	})
}
