package app

import (
	eventsapi "github.com/wharf-dev/wharf/internal/awsapi/events"
	"github.com/wharf-dev/wharf/internal/server"
	"github.com/wharf-dev/wharf/internal/service/events"
)

// registerEventTarget makes t EventBridge's target for ARNs of service ("sqs",
// "sns", "logs", "ecs") in the wharf d belongs to. A service calls it from its own
// wire file; EventBridge looks targets up when it delivers, after every service is
// built, so build order does not matter.
func registerEventTarget(d Deps, service string, t events.Target) {
	d.Registry.Provide("events-target:"+service, t)
}

func init() {
	builders = append(builders, func(d Deps) server.Registration {
		svc := events.New(events.Options{
			Store: d.Store, Logger: d.Logger, Account: d.Config.Account, Region: d.Config.Region,
			Targets: func(service string) events.Target {
				t, _ := d.Registry.Lookup("events-target:" + service).(events.Target)
				return t
			},
		})
		d.Bus.Attach(svc)
		d.Loops.Go(svc.Run)
		// Scheduler delivers through EventBridge's targets, retries and
		// dead-letter queues (events.Service.Submit).
		d.Registry.Provide("events", svc)
		d.Registry.AfterBuild(func() {
			// SNS's wiring does not register an EventBridge target; its
			// exported Publish is all the SNS target needs.
			if d.Registry.Lookup("events-target:sns") != nil {
				return
			}
			if topics, ok := d.Registry.Lookup("sns").(events.SNSTopics); ok {
				registerEventTarget(d, "sns", events.SNSTarget{Topics: topics})
			}
		})
		return server.Registration{Desc: eventsapi.Service, Handlers: eventsapi.Bind(svc)}
	})
}
