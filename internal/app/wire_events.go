package app

import (
	"sync"

	eventsapi "github.com/wharf-dev/wharf/internal/awsapi/events"
	"github.com/wharf-dev/wharf/internal/eventbus"
	"github.com/wharf-dev/wharf/internal/server"
	"github.com/wharf-dev/wharf/internal/service/events"
)

// eventTargets are the EventBridge targets other services provide, per running
// wharf (keyed by its Bus, which each Start creates) and by ARN service ("sqs",
// "sns", "logs", "ecs"). A service registers its Target from its own wire file
// with registerEventTarget; EventBridge looks targets up when it delivers, after
// every service is built, so the order services are built in does not matter.
var eventTargets = struct {
	sync.RWMutex
	m map[*eventbus.Bus]map[string]events.Target
}{m: map[*eventbus.Bus]map[string]events.Target{}}

// registerEventTarget makes t the target for ARNs of service in the wharf d
// belongs to. For SQS: registerEventTarget(d, "sqs", events.SQSTarget{Queues: svc}).
func registerEventTarget(d Deps, service string, t events.Target) {
	eventTargets.Lock()
	defer eventTargets.Unlock()
	if eventTargets.m[d.Bus] == nil {
		eventTargets.m[d.Bus] = map[string]events.Target{}
	}
	eventTargets.m[d.Bus][service] = t
}

func init() {
	builders = append(builders, func(d Deps) server.Registration {
		bus := d.Bus
		svc := events.New(events.Options{
			Store: d.Store, Logger: d.Logger, Account: d.Config.Account, Region: d.Config.Region,
			Targets: func(service string) events.Target {
				eventTargets.RLock()
				defer eventTargets.RUnlock()
				return eventTargets.m[bus][service]
			},
		})
		d.Bus.Attach(svc)
		d.Loops.Go(svc.Run)
		return server.Registration{Desc: eventsapi.Service, Handlers: eventsapi.Bind(svc)}
	})
}
