package app

import (
	sqsapi "github.com/wharf-dev/wharf/internal/awsapi/sqs"
	"github.com/wharf-dev/wharf/internal/server"
	"github.com/wharf-dev/wharf/internal/service/events"
	"github.com/wharf-dev/wharf/internal/service/sqs"
)

func init() {
	builders = append(builders, func(d Deps) server.Registration {
		svc := sqs.New(sqs.Options{Store: d.Store, Logger: d.Logger, DefaultHost: d.Config.Listen})
		d.Loops.Go(svc.Run)
		d.Registry.Provide("sqs", svc)
		registerEventTarget(d, "sqs", events.SQSTarget{Queues: svc})
		return server.Registration{Desc: sqsapi.Service, Handlers: sqsapi.Bind(svc)}
	})
}
