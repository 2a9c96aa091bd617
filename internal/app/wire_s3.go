package app

import (
	"context"
	"os"
	"path/filepath"

	s3api "github.com/wharf-dev/wharf/internal/awsapi/s3"
	"github.com/wharf-dev/wharf/internal/server"
	"github.com/wharf-dev/wharf/internal/service/s3"
)

func init() {
	builders = append(builders, func(d Deps) server.Registration {
		dir, ephemeral := filepath.Join(d.Config.DataDir, "s3"), d.Config.Ephemeral
		if ephemeral {
			// --ephemeral keeps nothing on disk after wharf stops: object
			// bytes go to a temporary directory removed at shutdown.
			tmp, err := os.MkdirTemp("", "wharf-s3-")
			if err != nil {
				d.Logger.Error("s3: temporary data directory", "service", "s3", "err", err)
				return server.Registration{Desc: s3api.Service}
			}
			dir = tmp
			d.Loops.Go(func(ctx context.Context) {
				<-ctx.Done()
				os.RemoveAll(tmp)
			})
		}
		// SQS and SNS are wired as Notifier destinations when they implement it.
		svc, err := s3.New(s3.Options{Store: d.Store, Dir: dir, NoSync: ephemeral, Bus: d.Bus, Logger: d.Logger, Region: d.Config.Region})
		if err != nil {
			d.Logger.Error("s3: not started", "service", "s3", "err", err)
			return server.Registration{Desc: s3api.Service}
		}
		return server.Registration{Desc: s3api.Service, Handlers: s3api.Bind(svc)}
	})
}
