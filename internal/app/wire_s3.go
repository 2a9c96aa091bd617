package app

import (
	"context"
	"errors"
	"os"
	"path/filepath"

	s3api "github.com/wharf-dev/wharf/internal/awsapi/s3"
	"github.com/wharf-dev/wharf/internal/server"
	"github.com/wharf-dev/wharf/internal/service/s3"
)

// s3Notifier delivers S3's queue and topic notifications to wharf's SQS and SNS,
// looked up when a notification is sent, so build order does not matter.
type s3Notifier struct{ reg *Registry }

func (n s3Notifier) SendToQueue(ctx context.Context, queueARN, body string) error {
	q, ok := n.reg.Lookup("sqs").(interface {
		SendToQueue(ctx context.Context, queueARN, body string) error
	})
	if !ok {
		return errors.New("sqs is not running")
	}
	return q.SendToQueue(ctx, queueARN, body)
}

func (n s3Notifier) PublishToTopic(ctx context.Context, topicARN, subject, body string) error {
	t, ok := n.reg.Lookup("sns").(interface {
		PublishToTopic(ctx context.Context, topicARN, subject, message string, attrs map[string]string) (string, error)
	})
	if !ok {
		return errors.New("sns is not running")
	}
	_, err := t.PublishToTopic(ctx, topicARN, subject, body, nil)
	return err
}

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
		svc, err := s3.New(s3.Options{Store: d.Store, Dir: dir, NoSync: ephemeral, Bus: d.Bus, Logger: d.Logger, Region: d.Config.Region,
			Notifier: s3Notifier{d.Registry}})
		if err != nil {
			d.Logger.Error("s3: not started", "service", "s3", "err", err)
			return server.Registration{Desc: s3api.Service}
		}
		if !ephemeral {
			// Files a crash left unreferenced are removed in the background:
			// only files present before this start are candidates, so the
			// sweep never races the PUTs being served.
			d.Loops.Go(func(ctx context.Context) {
				n, err := svc.SweepOrphans(ctx)
				if err != nil && ctx.Err() == nil {
					d.Logger.Warn("s3: orphan sweep", "service", "s3", "err", err)
				} else if n > 0 {
					d.Logger.Info("s3: removed files left by a crash", "service", "s3", "files", n)
				}
			})
		}
		d.Registry.Provide("s3", svc) // ReadObject: ECS environment files
		return server.Registration{Desc: s3api.Service, Handlers: s3api.Bind(svc), CORS: svc.CORS}
	})
}
