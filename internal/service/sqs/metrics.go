package sqs

import (
	"context"
	"encoding/json"
	"errors"
	"sync/atomic"
	"time"

	"github.com/wharf-dev/wharf/internal/store"
)

// Datum is one metric value, as CloudWatch's PutMetricData takes it.
type Datum struct {
	MetricName string
	Dimensions map[string]string
	Time       time.Time
	Value      float64
	// Unit is a CloudWatch unit: Count, Seconds, Bytes.
	Unit string
	// HighResolution asks for 1-second resolution (StorageResolution 1).
	HighResolution bool
}

// Metrics receives the AWS/SQS metrics of every queue. CloudWatch implements
// it; Application Auto Scaling reads the queue backlog from there.
type Metrics interface {
	Put(ctx context.Context, account, region, namespace string, data ...Datum) error
}

// DefaultMetricsInterval is how often a Service whose Options leave
// MetricsInterval zero publishes queue metrics. AWS publishes every minute;
// wharf publishes every second, the resolution ECS task counts use too, so that
// target tracking on a local queue's backlog per task reacts in seconds
// (bench/scaling: ~3 s to the first new task, against ~5 s at 5 s intervals).
// Integration tests shorten it before app.Start.
var DefaultMetricsInterval = time.Second

// SetMetrics makes the service publish queue metrics to m. Call it before Run.
func (s *Service) SetMetrics(m Metrics) { s.metrics = m }

// queueCounters are the per-queue event counts between two publications,
// kept in memory: losing one interval's counts in a crash is acceptable for
// metrics, and an atomic add keeps the send path cheap.
type queueCounters struct {
	sent, sentBytes, received, deleted, emptyReceives atomic.Int64

	// names are the queue's strings a send records in the timeline, made
	// once for every entry rather than per send.
	names atomic.Pointer[queueNames]
}

// queueNames are a queue's ARN and the detail of its MessageSent entries.
type queueNames struct {
	arn, sentDetail string
}

// namesOf returns c's names of the queue r refers to.
func (c *queueCounters) namesOf(r queueRef) *queueNames {
	if n := c.names.Load(); n != nil {
		return n
	}
	n := &queueNames{arn: queueARN(r.region, r.account, r.name), sentDetail: "message sent to queue " + r.name}
	c.names.Store(n)
	return n
}

// counters returns the counters of the queue whose key is qk.
func (s *Service) counters(qk string) *queueCounters {
	if c, ok := s.stats.Load(qk); ok {
		return c.(*queueCounters)
	}
	c, _ := s.stats.LoadOrStore(qk, &queueCounters{})
	return c.(*queueCounters)
}

// RunMetrics publishes every queue's metrics each interval until ctx is
// cancelled. Without SetMetrics it returns at once.
func (s *Service) RunMetrics(ctx context.Context) {
	if s.metrics == nil {
		return
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.clock.After(s.metricsInterval):
		}
		switch err := s.PublishMetrics(ctx); {
		case err == nil, errors.Is(err, store.ErrClosed), ctx.Err() != nil:
		case store.IsNoSpace(err):
			// Every second while the disk is full: the health endpoint
			// says so once for everyone.
			s.log.Debug("sqs metrics", "err", err)
		default:
			s.log.Error("sqs metrics", "err", err)
		}
	}
}

// PublishMetrics publishes the AWS/SQS metrics of every queue once: the
// queue's current counts and the events counted since the last publication
// (SQS metrics: "Available CloudWatch metrics for Amazon SQS").
func (s *Service) PublishMetrics(ctx context.Context) error {
	if s.metrics == nil {
		return nil
	}
	var queues []*queue
	err := s.st.View(func(tx store.Tx) error {
		return tx.Scan([]byte("sqs/q/"), nil, func(_, v []byte) (bool, error) {
			q := &queue{}
			if err := json.Unmarshal(v, q); err != nil {
				return false, err
			}
			queues = append(queues, q)
			return true, nil
		})
	})
	if err != nil {
		return err
	}
	live := map[string]bool{}
	now := s.clock.Now()
	var errs []error
	for _, q := range queues {
		qk := string(queueKey(q.Account, q.Region, q.Name))
		live[qk] = true
		var visible, notVisible, delayed uint64
		var oldest int64
		err := s.st.View(func(tx store.Tx) error {
			var err error
			visible, notVisible, delayed, err = counts(tx, q.ID, now.UnixMilli())
			if err != nil {
				return err
			}
			return tx.Scan(msgPrefix(q.ID), nil, func(_, v []byte) (bool, error) {
				var m message
				if err := decodeMessage(v, &m); err != nil {
					return false, err
				}
				oldest = m.Sent
				return false, nil
			})
		})
		if err != nil {
			errs = append(errs, err)
			continue
		}
		c := s.counters(qk)
		sent, sentBytes := c.sent.Swap(0), c.sentBytes.Swap(0)
		age := 0.0
		if oldest > 0 && now.UnixMilli() > oldest {
			age = float64((now.UnixMilli() - oldest) / 1000)
		}
		dims := map[string]string{"QueueName": q.Name}
		d := func(name string, v float64, unit string) Datum {
			return Datum{MetricName: name, Dimensions: dims, Time: now, Value: v, Unit: unit, HighResolution: true}
		}
		data := []Datum{
			d("ApproximateNumberOfMessagesVisible", float64(visible), "Count"),
			d("ApproximateNumberOfMessagesNotVisible", float64(notVisible), "Count"),
			d("ApproximateNumberOfMessagesDelayed", float64(delayed), "Count"),
			d("ApproximateAgeOfOldestMessage", age, "Seconds"),
			d("NumberOfMessagesSent", float64(sent), "Count"),
			d("NumberOfMessagesReceived", float64(c.received.Swap(0)), "Count"),
			d("NumberOfMessagesDeleted", float64(c.deleted.Swap(0)), "Count"),
			d("NumberOfEmptyReceives", float64(c.emptyReceives.Swap(0)), "Count"),
		}
		if sent > 0 {
			// One datum per interval: its value is the mean size, so Average
			// is right and Minimum/Maximum are the interval's mean.
			data = append(data, d("SentMessageSize", float64(sentBytes)/float64(sent), "Bytes"))
		}
		if err := s.metrics.Put(ctx, q.Account, q.Region, "AWS/SQS", data...); err != nil {
			errs = append(errs, err)
		}
	}
	// Counters of deleted queues go with them.
	s.stats.Range(func(k, _ any) bool {
		if !live[k.(string)] {
			s.stats.Delete(k)
		}
		return true
	})
	return errors.Join(errs...)
}
