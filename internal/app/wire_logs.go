package app

import (
	logsapi "github.com/wharf-dev/wharf/internal/awsapi/logs"
	"github.com/wharf-dev/wharf/internal/server"
	"github.com/wharf-dev/wharf/internal/service/logs"
)

func init() {
	builders = append(builders, func(d Deps) server.Registration {
		svc := logs.New(logs.Options{Store: d.Store, Logger: d.Logger})
		// ECS's awslogs driver and EventBridge's log-group target write through PutLogLines.
		d.Registry.Provide("logs", svc)
		return server.Registration{Desc: logsapi.Service, Handlers: logsapi.Bind(svc)}
	})
}
