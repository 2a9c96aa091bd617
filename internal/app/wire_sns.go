package app

import (
	snsapi "github.com/wharf-dev/wharf/internal/awsapi/sns"
	"github.com/wharf-dev/wharf/internal/server"
	"github.com/wharf-dev/wharf/internal/service/sns"
)

func init() {
	builders = append(builders, func(d Deps) server.Registration {
		svc := sns.New(sns.Options{Store: d.Store, Logger: d.Logger, DefaultHost: d.Config.Listen, SMTPAddr: d.Config.SMTPAddr})
		d.Loops.Go(svc.Run)
		d.Registry.Provide("sns", svc)
		d.Registry.AfterBuild(func() {
			if q, ok := d.Registry.Lookup("sqs").(sns.QueueSender); ok {
				svc.SetQueueSender(q)
			} else {
				d.Logger.Warn("sns: SQS is not provided; deliveries to queues are dropped", "service", "sns")
			}
		})
		return server.Registration{Desc: snsapi.Service, Handlers: snsapi.Bind(svc)}
	})
}
