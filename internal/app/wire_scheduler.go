package app

import (
	schedapi "github.com/wharf-dev/wharf/internal/awsapi/scheduler"
	"github.com/wharf-dev/wharf/internal/server"
	"github.com/wharf-dev/wharf/internal/service/scheduler"
)

func init() {
	builders = append(builders, func(d Deps) server.Registration {
		svc := scheduler.New(scheduler.Options{Store: d.Store, Logger: d.Logger, Account: d.Config.Account, Region: d.Config.Region})
		d.Loops.Go(svc.Run)
		d.Registry.AfterBuild(func() {
			// Firings are delivered by EventBridge, through its targets,
			// retries and dead-letter queues.
			if sub, ok := d.Registry.Lookup("events").(scheduler.Submitter); ok {
				svc.SetSubmitter(sub)
			} else {
				d.Logger.Warn("scheduler: EventBridge is not provided; schedules fire but are not delivered", "service", "scheduler")
			}
		})
		return server.Registration{Desc: schedapi.Service, Handlers: schedapi.Bind(svc)}
	})
}
