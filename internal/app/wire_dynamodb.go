package app

import (
	dynamodbapi "github.com/wharf-dev/wharf/internal/awsapi/dynamodb"
	"github.com/wharf-dev/wharf/internal/server"
	"github.com/wharf-dev/wharf/internal/service/dynamodb"
)

func init() {
	builders = append(builders, func(d Deps) server.Registration {
		svc := dynamodb.New(dynamodb.Options{Store: d.Store, Logger: d.Logger})
		d.Loops.Go(svc.Run)
		return server.Registration{Desc: dynamodbapi.Service, Handlers: dynamodbapi.Bind(svc)}
	})
}
