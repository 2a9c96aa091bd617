package app

import (
	cwapi "github.com/wharf-dev/wharf/internal/awsapi/cloudwatch"
	"github.com/wharf-dev/wharf/internal/server"
	"github.com/wharf-dev/wharf/internal/service/cloudwatch"
)

func init() {
	builders = append(builders, func(d Deps) server.Registration {
		svc := cloudwatch.New(cloudwatch.Options{Store: d.Store, Bus: d.Bus, Logger: d.Logger})
		// wharf's own services publish AWS/SQS and AWS/ECS metrics through svc.Put;
		// Application Auto Scaling reads them through svc.MetricData.
		d.Registry.Provide("cloudwatch", svc)
		return server.Registration{Desc: cwapi.Service, Handlers: cwapi.Bind(svc)}
	})
}
