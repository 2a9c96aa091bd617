package app

import (
	"context"

	sqsapi "github.com/wharf-dev/wharf/internal/awsapi/sqs"
	"github.com/wharf-dev/wharf/internal/server"
	"github.com/wharf-dev/wharf/internal/service/cloudwatch"
	"github.com/wharf-dev/wharf/internal/service/events"
	"github.com/wharf-dev/wharf/internal/service/sqs"
)

func init() {
	builders = append(builders, func(d Deps) server.Registration {
		svc := sqs.New(sqs.Options{Store: d.Store, Logger: d.Logger, DefaultHost: d.Config.Listen})
		d.Loops.Go(svc.Run)
		d.Loops.Go(svc.RunMoves) // message move tasks (DLQ redrive), resumed after a restart
		d.Registry.Provide("sqs", svc)
		registerEventTarget(d, "sqs", events.SQSTarget{Queues: svc})
		// Queue metrics go to CloudWatch as AWS/SQS, where alarms and
		// Application Auto Scaling read the backlog.
		d.Registry.AfterBuild(func() {
			if cw, ok := d.Registry.Lookup("cloudwatch").(cloudwatchPutter); ok {
				svc.SetMetrics(sqsMetrics{cw})
			}
		})
		d.Loops.Go(svc.RunMetrics)
		return server.Registration{Desc: sqsapi.Service, Handlers: sqsapi.Bind(svc)}
	})
}

// cloudwatchPutter is what SQS needs of CloudWatch: storing metric data.
type cloudwatchPutter interface {
	Put(ctx context.Context, account, region, namespace string, data ...cloudwatch.Datum) error
}

// sqsMetrics adapts CloudWatch to sqs.Metrics.
type sqsMetrics struct{ cw cloudwatchPutter }

func (m sqsMetrics) Put(ctx context.Context, account, region, namespace string, data ...sqs.Datum) error {
	out := make([]cloudwatch.Datum, len(data))
	for i, d := range data {
		out[i] = cloudwatch.Datum{MetricName: d.MetricName, Dimensions: d.Dimensions, Time: d.Time, Value: d.Value, Unit: d.Unit, HighResolution: d.HighResolution}
	}
	return m.cw.Put(ctx, account, region, namespace, out...)
}
