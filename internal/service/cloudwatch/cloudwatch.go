// Package cloudwatch is wharf's Amazon CloudWatch: metrics (PutMetricData,
// GetMetricStatistics, GetMetricData with metric math, ListMetrics) and metric
// alarms evaluated by a loop that records history, publishes `CloudWatch Alarm
// State Change` events and calls alarm actions (SNS topics, scaling policies).
// wharf's own services publish their metrics (AWS/SQS, AWS/ECS) through Put.
//
// # Key layout
//
//	cw/m/<account>/<region>/<metric>                        metric descriptor; value: last timestamp (ms)
//	cw/d/<account>/<region>/<metric>\x00<ts><seq>           one datum (binary, see encodeSample)
//	cw/a/<account>/<region>/<alarm name>                    alarm (JSON)
//	cw/h/<account>/<region>/<alarm name>\x00<ts><seq>       alarm history item (JSON)
//	cw/dn/, cw/dv/ ...                                      metrics by dimension (dimindex.go)
//
// <metric> is namespace \x00 name \x00 dimensions, the dimensions sorted by name
// as name=value joined by \x01, so that reading one metric over a time range is
// one ordered scan. ts is milliseconds and seq a service-wide increasing number,
// both 8 bytes big-endian. Names and values may not contain \x00 or \x01.
package cloudwatch

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/wharf-dev/wharf/internal/awsapi"
	cwapi "github.com/wharf-dev/wharf/internal/awsapi/cloudwatch"
	"github.com/wharf-dev/wharf/internal/clock"
	"github.com/wharf-dev/wharf/internal/eventbus"
	"github.com/wharf-dev/wharf/internal/store"
)

// TopicPublisher delivers alarm notifications to SNS topics. SNS implements it.
type TopicPublisher interface {
	PublishToTopic(ctx context.Context, topicARN, subject, message string, attrs map[string]string) (string, error)
}

// ScalingPolicyExecutor runs an Application Auto Scaling policy that an alarm
// action names. Application Auto Scaling implements it; alarm is what the
// policy's step adjustments are computed from.
type ScalingPolicyExecutor interface {
	ExecuteScalingPolicy(ctx context.Context, policyARN string, alarm AlarmFiring) error
}

// AlarmFiring is what a scaling policy learns of the alarm that triggers it.
type AlarmFiring struct {
	Account, Region string
	AlarmName       string
	AlarmARN        string
	State           string // ALARM, OK, INSUFFICIENT_DATA
	Threshold       float64
	Value           float64 // the most recent datapoint evaluated (NaN when none)
	Time            time.Time
}

// Options configure a Service.
type Options struct {
	Store store.Store
	// Clock is the time the service reads; nil means clock.Real.
	Clock clock.Clock
	// Bus receives alarm state change events; nil drops them.
	Bus *eventbus.Bus
	// Logger defaults to slog.Default.
	Logger *slog.Logger
	// EvaluationInterval is how often the alarm loop runs; default 10 s. Alarms
	// with a period under a minute are evaluated at most every period.
	EvaluationInterval time.Duration
}

// Service implements the CloudWatch operations.
type Service struct {
	tl    Timeline // nil records nothing
	st    store.Store
	clock clock.Clock
	bus   *eventbus.Bus
	log   *slog.Logger
	every time.Duration

	mu      sync.Mutex
	lastSeq uint64
	topics  TopicPublisher
	scaling ScalingPolicyExecutor

	evalMu sync.Mutex // one evaluation pass at a time

	// dimIndexed is set once every metric is in the dimension index
	// (dimindex.go); until then ListMetrics reads every metric.
	dimIndexed bool
}

// New returns a Service over opts.Store.
func New(opts Options) *Service {
	s := &Service{st: opts.Store, clock: opts.Clock, bus: opts.Bus, log: opts.Logger, every: opts.EvaluationInterval}
	if s.clock == nil {
		s.clock = clock.Real
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.every <= 0 {
		s.every = 10 * time.Second
	}
	if s.st != nil {
		var err error
		if s.dimIndexed, err = s.buildDimIndex(); err != nil {
			s.log.Error("cloudwatch: indexing metrics by dimension; ListMetrics reads every metric meanwhile", "err", err)
		}
	}
	return s
}

// SetTopicPublisher connects alarm actions that name SNS topics.
func (s *Service) SetTopicPublisher(p TopicPublisher) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.topics = p
}

// SetScalingPolicyExecutor connects alarm actions that name scaling policies.
func (s *Service) SetScalingPolicyExecutor(p ScalingPolicyExecutor) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.scaling = p
}

func (s *Service) nextSeq() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := uint64(s.clock.Now().UnixNano())
	if n <= s.lastSeq {
		n = s.lastSeq + 1
	}
	s.lastSeq = n
	return n
}

type scope struct{ account, region string }

func scopeOf(ctx context.Context) scope {
	c := awsapi.CallerFrom(ctx)
	sc := scope{c.Account, c.Region}
	if sc.account == "" {
		sc.account = "000000000000"
	}
	if sc.region == "" {
		sc.region = "us-east-1"
	}
	return sc
}

func (sc scope) prefix(kind string) []byte {
	return []byte("cw/" + kind + "/" + sc.account + "/" + sc.region + "/")
}

// metricID identifies one metric: namespace, name and dimensions.
type metricID struct {
	Namespace string
	Name      string
	Dims      []dim // sorted by name
}

type dim struct{ Name, Value string }

func (m metricID) key() string {
	var b strings.Builder
	b.WriteString(m.Namespace)
	b.WriteByte(0)
	b.WriteString(m.Name)
	b.WriteByte(0)
	for i, d := range m.Dims {
		if i > 0 {
			b.WriteByte(1)
		}
		b.WriteString(d.Name)
		b.WriteByte('=')
		b.WriteString(d.Value)
	}
	return b.String()
}

func parseMetricKey(k string) (metricID, bool) {
	parts := strings.SplitN(k, "\x00", 3)
	if len(parts) != 3 {
		return metricID{}, false
	}
	m := metricID{Namespace: parts[0], Name: parts[1]}
	if parts[2] != "" {
		for _, kv := range strings.Split(parts[2], "\x01") {
			n, v, _ := strings.Cut(kv, "=")
			m.Dims = append(m.Dims, dim{n, v})
		}
	}
	return m, true
}

func sortDims(ds []dim) {
	sort.Slice(ds, func(i, j int) bool { return ds[i].Name < ds[j].Name })
}

func badChars(s string) bool { return strings.ContainsAny(s, "\x00\x01") }

// sample is one stored datum: a statistic set, its unit and resolution, and its
// raw values with counts when the client sent them (for percentiles).
type sample struct {
	Count, Sum, Min, Max float64
	Unit                 string
	HighRes              bool
	Values               []float64
	Counts               []float64
}

// encodeSample packs a sample: flags, unit, the four statistics, then value/count pairs.
func encodeSample(sm *sample) []byte {
	b := make([]byte, 0, 2+len(sm.Unit)+32+4+16*len(sm.Values))
	flags := byte(0)
	if sm.HighRes {
		flags = 1
	}
	b = append(b, flags, byte(len(sm.Unit)))
	b = append(b, sm.Unit...)
	for _, f := range []float64{sm.Count, sm.Sum, sm.Min, sm.Max} {
		b = binary.BigEndian.AppendUint64(b, math.Float64bits(f))
	}
	b = binary.BigEndian.AppendUint32(b, uint32(len(sm.Values)))
	for i, v := range sm.Values {
		b = binary.BigEndian.AppendUint64(b, math.Float64bits(v))
		b = binary.BigEndian.AppendUint64(b, math.Float64bits(sm.Counts[i]))
	}
	return b
}

var errCorrupt = errors.New("cloudwatch: corrupt datum")

func decodeSample(b []byte, sm *sample) error {
	if len(b) < 2 {
		return errCorrupt
	}
	sm.HighRes = b[0]&1 != 0
	n := int(b[1])
	b = b[2:]
	if len(b) < n+36 {
		return errCorrupt
	}
	sm.Unit = string(b[:n])
	b = b[n:]
	f := func(i int) float64 { return math.Float64frombits(binary.BigEndian.Uint64(b[8*i:])) }
	sm.Count, sm.Sum, sm.Min, sm.Max = f(0), f(1), f(2), f(3)
	nv := int(binary.BigEndian.Uint32(b[32:]))
	b = b[36:]
	if len(b) != 16*nv {
		return errCorrupt
	}
	sm.Values, sm.Counts = sm.Values[:0], sm.Counts[:0]
	for i := 0; i < nv; i++ {
		sm.Values = append(sm.Values, f(2*i))
		sm.Counts = append(sm.Counts, f(2*i+1))
	}
	return nil
}

// Datum is one metric value published by another wharf service (AWS/SQS,
// AWS/ECS, ECS/ContainerInsights).
type Datum struct {
	MetricName string
	Dimensions map[string]string
	// Time defaults to now.
	Time  time.Time
	Value float64
	// Unit defaults to None.
	Unit string
	// HighResolution stores the datum at 1-second resolution (StorageResolution 1).
	HighResolution bool
}

// Put stores data under namespace in account and region, as PutMetricData does.
func (s *Service) Put(ctx context.Context, account, region, namespace string, data ...Datum) error {
	sc := scope{account, region}
	now := s.clock.Now()
	ws := make([]write, 0, len(data))
	for _, d := range data {
		m := metricID{Namespace: namespace, Name: d.MetricName}
		for k, v := range d.Dimensions {
			m.Dims = append(m.Dims, dim{k, v})
		}
		sortDims(m.Dims)
		t := d.Time
		if t.IsZero() {
			t = now
		}
		unit := d.Unit
		if unit == "" {
			unit = "None"
		}
		ws = append(ws, write{m: m, ts: t.UnixMilli(), sm: sample{Count: 1, Sum: d.Value, Min: d.Value, Max: d.Value, Unit: unit, HighRes: d.HighResolution}})
	}
	return s.store(sc, ws)
}

// write is one sample about to be stored.
type write struct {
	m  metricID
	ts int64
	sm sample
}

func (s *Service) store(sc scope, ws []write) error {
	seqs := make([]uint64, len(ws))
	for i := range ws {
		seqs[i] = s.nextSeq()
	}
	mp, dp := sc.prefix("m"), sc.prefix("d")
	return s.st.Update(func(tx store.Tx) error {
		last := map[string]int64{}
		for i, w := range ws {
			mk := w.m.key()
			key := make([]byte, 0, len(dp)+len(mk)+17)
			key = append(append(append(key, dp...), mk...), 0)
			key = binary.BigEndian.AppendUint64(key, uint64(w.ts)^(1<<63))
			key = binary.BigEndian.AppendUint64(key, seqs[i])
			if err := tx.Put(key, encodeSample(&w.sm)); err != nil {
				return err
			}
			if t, ok := last[mk]; !ok || w.ts > t {
				last[mk] = w.ts
			}
		}
		for mk, ts := range last {
			k := append(append([]byte(nil), mp...), mk...)
			old, err := tx.Get(k)
			if err != nil {
				return err
			}
			if old == nil {
				m, _ := parseMetricKey(mk)
				if err := putDimIndex(tx, sc, m, mk); err != nil {
					return err
				}
			}
			if len(old) == 8 && int64(binary.BigEndian.Uint64(old)) >= ts {
				continue
			}
			if err := tx.Put(k, binary.BigEndian.AppendUint64(nil, uint64(ts))); err != nil {
				return err
			}
		}
		return nil
	})
}

// readSamples calls fn for each sample of m with from <= ts < to (ms), in time order.
func (s *Service) readSamples(tx store.Tx, sc scope, m metricID, from, to int64, fn func(ts int64, sm *sample) error) error {
	prefix := append(append(sc.prefix("d"), m.key()...), 0)
	start := binary.BigEndian.AppendUint64(append([]byte(nil), prefix...), uint64(from)^(1<<63))
	var sm sample
	return tx.Scan(prefix, start, func(k, v []byte) (bool, error) {
		if len(k) != len(prefix)+16 {
			return true, nil
		}
		ts := int64(binary.BigEndian.Uint64(k[len(prefix):]) ^ (1 << 63))
		if ts >= to {
			return false, nil
		}
		if err := decodeSample(v, &sm); err != nil {
			return false, fmt.Errorf("%w at %q", err, k)
		}
		return true, fn(ts, &sm)
	})
}

func invalidValue(format string, args ...any) error {
	return cwapi.ErrInvalidParameterValueException(format, args...)
}

func missingParam(format string, args ...any) error {
	return cwapi.ErrMissingRequiredParameterException(format, args...)
}

func invalidCombination(format string, args ...any) error {
	return cwapi.ErrInvalidParameterCombinationException(format, args...)
}

func invalidToken() error {
	return cwapi.ErrInvalidNextToken("The service cannot process the request because the token is invalid.")
}
