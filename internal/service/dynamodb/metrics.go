package dynamodb

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/wharf-dev/wharf/internal/service/cloudwatch"
	"github.com/wharf-dev/wharf/internal/store"
)

// Metrics receives the AWS/DynamoDB metrics. CloudWatch implements it.
type Metrics interface {
	Put(ctx context.Context, account, region, namespace string, data ...cloudwatch.Datum) error
}

// SetMetrics makes the service publish AWS/DynamoDB metrics to m ("DynamoDB
// metrics and dimensions"): ConsumedReadCapacityUnits and
// ConsumedWriteCapacityUnits per TableName, and per TableName and
// GlobalSecondaryIndexName for a global secondary index (a local one's
// units count against its table), summed from the units each request
// consumed (what ReturnConsumedCapacity reports); and, beside them,
// ProvisionedReadCapacityUnits and ProvisionedWriteCapacityUnits of a
// provisioned table or index. wharf does not throttle, so it publishes no
// ThrottledRequests or throttle events. Call it before RunMetrics.
func (s *Service) SetMetrics(m Metrics) { s.metrics.m = m }

// capacityMetrics sums the units consumed between publications.
type capacityMetrics struct {
	m      Metrics
	mu     sync.Mutex
	counts map[capacityKey]*capacitySum
}

// capacityKey is a table, or one of its global secondary indexes.
type capacityKey struct{ account, region, table, index string }

type capacitySum struct{ read, write float64 }

// countConsumed counts units consumed by the table a request named (by name,
// in the caller's account and region, or by ARN).
func (s *Service) countConsumed(ctx context.Context, table string, units float64, read bool) {
	account, region := caller(ctx)
	if rest, ok := strings.CutPrefix(table, "arn:aws:dynamodb:"); ok {
		// arn:aws:dynamodb:<region>:<account>:table/<name>
		parts := strings.SplitN(rest, ":", 3)
		if len(parts) != 3 || !strings.HasPrefix(parts[2], "table/") {
			return
		}
		region, account, table = parts[0], parts[1], strings.TrimPrefix(parts[2], "table/")
	}
	s.countCapacity(account, region, table, "", units, read)
}

// countCapacity counts units consumed by a table or, with index set, by one
// of its global secondary indexes.
func (s *Service) countCapacity(account, region, table, index string, units float64, read bool) {
	if s.metrics.m == nil || units <= 0 {
		return
	}
	s.metrics.mu.Lock()
	defer s.metrics.mu.Unlock()
	if s.metrics.counts == nil {
		s.metrics.counts = map[capacityKey]*capacitySum{}
	}
	k := capacityKey{account, region, table, index}
	c := s.metrics.counts[k]
	if c == nil {
		c = &capacitySum{}
		s.metrics.counts[k] = c
	}
	if read {
		c.read += units
	} else {
		c.write += units
	}
}

// RunMetrics publishes the consumed capacity every second until ctx is
// cancelled. DynamoDB publishes per minute; wharf sooner, so that alarms and
// Application Auto Scaling react in seconds: a Sum over a minute is the
// same. Like DynamoDB, it publishes nothing for a table nothing consumed
// ("auto scaling doesn't scale down your provisioned capacity if your
// table's consumed capacity becomes zero").
func (s *Service) RunMetrics(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.after(time.Second):
		}
		s.publishMetrics(ctx)
	}
}

func (s *Service) publishMetrics(ctx context.Context) {
	if s.metrics.m == nil {
		return
	}
	s.metrics.mu.Lock()
	counts := s.metrics.counts
	s.metrics.counts = nil
	s.metrics.mu.Unlock()
	type scope struct{ account, region string }
	data := map[scope][]cloudwatch.Datum{}
	now := s.now()
	tables := map[capacityKey]*table{}
	for k, c := range counts {
		sc := scope{k.account, k.region}
		dims := map[string]string{"TableName": k.table}
		if k.index != "" {
			dims["GlobalSecondaryIndexName"] = k.index
		}
		datum := func(name string, v float64) {
			data[sc] = append(data[sc], cloudwatch.Datum{MetricName: name, Time: now, Value: v, Unit: "Count", Dimensions: dims})
		}
		if c.read > 0 {
			datum("ConsumedReadCapacityUnits", c.read)
		}
		if c.write > 0 {
			datum("ConsumedWriteCapacityUnits", c.write)
		}
		tk := capacityKey{k.account, k.region, k.table, ""}
		t, ok := tables[tk]
		if !ok {
			err := s.st.View(func(tx store.Tx) (err error) {
				t, err = loadTable(tx, k.account, k.region, k.table)
				return err
			})
			if err != nil {
				t = nil // deleted meanwhile: no provisioned capacity to report
			}
			tables[tk] = t
		}
		if rcu, wcu, ok := provisioned(t, k.index); ok {
			datum("ProvisionedReadCapacityUnits", float64(rcu))
			datum("ProvisionedWriteCapacityUnits", float64(wcu))
		}
	}
	for sc, ds := range data {
		if err := s.metrics.m.Put(ctx, sc.account, sc.region, "AWS/DynamoDB", ds...); err != nil && ctx.Err() == nil && !errors.Is(err, store.ErrClosed) {
			s.log.Debug("dynamodb: metrics", "err", err)
		}
	}
}

// provisioned is the capacity of a provisioned table or, with index set, of
// its global secondary index; ok is false in on-demand mode.
func provisioned(t *table, index string) (rcu, wcu int64, ok bool) {
	if t == nil || t.Billing == "PAY_PER_REQUEST" {
		return 0, 0, false
	}
	if index == "" {
		return t.RCU, t.WCU, t.RCU > 0 || t.WCU > 0
	}
	ix := t.index(index)
	if ix == nil {
		return 0, 0, false
	}
	return ix.RCU, ix.WCU, ix.RCU > 0 || ix.WCU > 0
}
