// Package autoscaling is wharf's Application Auto Scaling for ECS services
// (ServiceNamespace ecs, ScalableDimension ecs:service:DesiredCount), DynamoDB
// provisioned capacity and custom resources (an application's own endpoint,
// ServiceNamespace custom-resource): scalable targets, target tracking and step scaling policies, scheduled actions, and the
// scaling activities they cause, kept in the durable store.
//
// # How scaling happens
//
// Target tracking is driven by this package's own loop (Run): every Interval it
// reads each policy's metric from CloudWatch (GetMetricData, so metric math such
// as AWS's backlog-per-task e1 = m1/m2 works) and sets the desired count to
// ceil(current × metric / target). The loop is the primary mechanism because it
// reacts within one interval of a metric crossing the target, where AWS's
// target-tracking alarms need three one-minute datapoints (and fifteen to scale
// in), and because it needs nothing of CloudWatch but reading metrics. The two
// alarms AWS creates (TargetTracking-<resource>-AlarmHigh/AlarmLow-<uuid>) are
// still created, with the policy as their action; when one fires, ExecutePolicy
// runs the same evaluation at once from a fresh reading, so the loop and the
// alarms cannot disagree.
//
// Step scaling is driven by alarms only, as on AWS: the alarm that names the
// policy calls ExecutePolicy with the value that breached its threshold.
//
// # Key layout
//
//	aas/t/<account>/<region>/<target>               scalable target (JSON)
//	aas/p/<account>/<region>/<target>\x00<policy>   scaling policy (JSON)
//	aas/s/<account>/<region>/<target>\x00<action>   scheduled action (JSON)
//	aas/a/<account>/<region>/<target>\x00<seq>      scaling activity (JSON)
//
// <target> is namespace \x00 resource id \x00 dimension; seq is 8 bytes
// big-endian and grows with time, so activities of a target scan oldest first.
package autoscaling

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/wharf-dev/wharf/internal/apierr"
	"github.com/wharf-dev/wharf/internal/awsapi"
	aas "github.com/wharf-dev/wharf/internal/awsapi/applicationautoscaling"
	cwapi "github.com/wharf-dev/wharf/internal/awsapi/cloudwatch"
	"github.com/wharf-dev/wharf/internal/clock"
	"github.com/wharf-dev/wharf/internal/store"
)

// Metrics reads CloudWatch metrics for target tracking. It is CloudWatch's own
// GetMetricData operation: Application Auto Scaling reads metrics as any
// CloudWatch client does, in the account and region of awsapi.CallerFrom(ctx).
type Metrics interface {
	GetMetricData(ctx context.Context, in *cwapi.GetMetricDataInput) (*cwapi.GetMetricDataOutput, error)
}

// Alarms creates and deletes the CloudWatch alarms of target tracking
// policies. These are CloudWatch's own operations, called in the account and
// region of awsapi.CallerFrom(ctx), as AWS calls them with its service-linked
// role.
type Alarms interface {
	PutMetricAlarm(ctx context.Context, in *cwapi.PutMetricAlarmInput) (*cwapi.PutMetricAlarmOutput, error)
	DeleteAlarms(ctx context.Context, in *cwapi.DeleteAlarmsInput) (*cwapi.DeleteAlarmsOutput, error)
}

// Services reads and sets the desired count of ECS services. ECS implements it.
// An error from either method whose apierr code is ServiceNotFoundException or
// ClusterNotFoundException makes scaling fail as on AWS (the activity is Failed).
type Services interface {
	DesiredCount(ctx context.Context, account, region, cluster, service string) (int32, error)
	SetDesiredCount(ctx context.Context, account, region, cluster, service string, count int32) error
}

// Options configure a Service.
type Options struct {
	Store store.Store
	// Clock is the time the service reads; nil means clock.Real.
	Clock clock.Clock
	// Random fills ids; defaults to crypto/rand.
	Random io.Reader
	// Logger defaults to slog.Default.
	Logger *slog.Logger
	// Interval is how often Run evaluates target tracking policies and
	// scheduled actions; default 1 s.
	Interval time.Duration
	// MetricPeriod is the period target tracking reads its metric at; default
	// 10 s. The newest datapoint within the last MetricLookback counts.
	MetricPeriod time.Duration
	// MetricLookback bounds how old a datapoint may be; default 5 × MetricPeriod.
	MetricLookback time.Duration
	// HTTPClient calls custom resources' endpoints; nil means
	// http.DefaultClient (each call is bounded by its own timeout).
	HTTPClient *http.Client
	// Round, when set, is held for each round of Run's work (Tick) and
	// returns the round's context. wharf's reset takes it exclusively (it
	// is the server's gate): the reset waits for a round in flight and none
	// begins until it is over, so a round never writes back what the reset
	// deletes. The reset cancels the round's context, which ends a call to
	// a custom resource's endpoint in flight at once.
	Round func(ctx context.Context) (context.Context, func())
}

// Service implements the Application Auto Scaling operations.
type Service struct {
	tl       Timeline // nil records nothing
	st       store.Store
	clock    clock.Clock
	rnd      io.Reader
	log      *slog.Logger
	interval time.Duration
	period   time.Duration
	lookback time.Duration
	http     *http.Client
	round    func(ctx context.Context) (context.Context, func()) // see Options.Round

	mu       sync.Mutex
	lastSeq  uint64
	metrics  Metrics
	alarms   Alarms
	services Services
	tables   Tables

	// scaleMu serializes scaling decisions, so the loop and alarm actions
	// never compute from the same capacity at once.
	scaleMu sync.Mutex
}

// New returns a Service over opts.Store.
func New(opts Options) *Service {
	s := &Service{st: opts.Store, clock: opts.Clock, rnd: opts.Random, log: opts.Logger,
		interval: opts.Interval, period: opts.MetricPeriod, lookback: opts.MetricLookback, http: opts.HTTPClient, round: opts.Round}
	if s.round == nil {
		s.round = func(ctx context.Context) (context.Context, func()) { return ctx, func() {} }
	}
	if s.clock == nil {
		s.clock = clock.Real
	}
	if s.rnd == nil {
		s.rnd = rand.Reader
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.interval <= 0 {
		s.interval = time.Second
	}
	if s.period <= 0 {
		s.period = 10 * time.Second
	}
	if s.lookback <= 0 {
		s.lookback = 5 * s.period
	}
	return s
}

// SetMetrics connects the metric reader (CloudWatch). Until it is set, target
// tracking policies are not evaluated by the loop.
func (s *Service) SetMetrics(m Metrics) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.metrics = m
}

// SetAlarms connects the alarm writer (CloudWatch). Until it is set, target
// tracking policies are created without alarms.
func (s *Service) SetAlarms(a Alarms) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.alarms = a
}

// Tables reads and sets DynamoDB provisioned capacity: a table's, or with
// index set its global secondary index's, read or write capacity units.
// DynamoDB implements it.
type Tables interface {
	ProvisionedCapacity(ctx context.Context, account, region, table, index string, write bool) (int64, error)
	SetProvisionedCapacity(ctx context.Context, account, region, table, index string, write bool, units int64) error
}

// SetTables connects DynamoDB. Until it is set, DynamoDB targets' capacity is
// kept by the service itself.
func (s *Service) SetTables(t Tables) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tables = t
}

func (s *Service) dynamo() Tables {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tables
}

// SetServices connects ECS. Until it is set, the service keeps each target's
// capacity itself, so policies and activities work before ECS services exist.
func (s *Service) SetServices(e Services) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.services = e
}

func (s *Service) deps() (Metrics, Alarms, Services) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.metrics, s.alarms, s.services
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

// uuid returns a random version 4 UUID.
func (s *Service) uuid() string {
	var b [16]byte
	if _, err := io.ReadFull(s.rnd, b[:]); err != nil {
		// crypto/rand does not fail; a test reader that runs dry falls back
		// to the sequence so ids stay unique.
		binary.BigEndian.PutUint64(b[8:], s.nextSeq())
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// hex returns n random bytes as lower-case hex.
func (s *Service) hex(n int) string {
	b := make([]byte, n)
	if _, err := io.ReadFull(s.rnd, b); err != nil {
		binary.BigEndian.PutUint64(b[len(b)-8:], s.nextSeq())
	}
	return fmt.Sprintf("%x", b)
}

// scope is the account and region a request acts in.
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

// ctx returns a context that carries sc as the caller, for calls into other
// services made on the account's behalf.
func (sc scope) ctx(parent context.Context) context.Context {
	return awsapi.WithCaller(parent, &awsapi.Caller{Account: sc.account, Region: sc.region, Service: "application-autoscaling"})
}

func (sc scope) prefix(kind string) []byte {
	return []byte("aas/" + kind + "/" + sc.account + "/" + sc.region + "/")
}

// targetID names a scalable target.
type targetID struct {
	Namespace, ResourceID, Dimension string
}

func (t targetID) key() string { return t.Namespace + "\x00" + t.ResourceID + "\x00" + t.Dimension }

func (sc scope) targetKey(t targetID) []byte { return append(sc.prefix("t"), t.key()...) }

func (sc scope) childPrefix(kind string, t targetID) []byte {
	return append(sc.prefix(kind), t.key()+"\x00"...)
}

func (sc scope) childKey(kind string, t targetID, name string) []byte {
	return append(sc.childPrefix(kind, t), name...)
}

// parseScopedKey splits aas/<kind>/<account>/<region>/<rest> into its scope and rest.
func parseScopedKey(k []byte) (scope, string, bool) {
	var parts [4]string
	rest := string(k)
	for i := 0; i < 4; i++ {
		j := strings.IndexByte(rest, '/')
		if j < 0 {
			return scope{}, "", false
		}
		parts[i], rest = rest[:j], rest[j+1:]
	}
	return scope{parts[2], parts[3]}, rest, true
}

func getJSON(tx store.Tx, key []byte, v any) (bool, error) {
	b, err := tx.Get(key)
	if err != nil || b == nil {
		return false, err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return false, fmt.Errorf("decode %q: %w", key, err)
	}
	return true, nil
}

func putJSON(tx store.Tx, key []byte, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return tx.Put(key, b)
}

// notFound is AWS's ObjectNotFoundException.
func notFound(format string, args ...any) *apierr.Error {
	return aas.ErrObjectNotFoundException(format, args...)
}

func noTarget(t targetID) *apierr.Error {
	return notFound("No scalable target registered for service namespace: %s, resource ID: %s, scalable dimension: %s", t.Namespace, t.ResourceID, t.Dimension)
}

func jsonDecode(b []byte, v any) error {
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("decode: %w", err)
	}
	return nil
}

func f64p(v float64) *float64 { return &v }

func timep(v time.Time) *time.Time { return &v }
