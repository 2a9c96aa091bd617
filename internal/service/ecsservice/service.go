// Package ecsservice is wharf's Amazon ECS services: CreateService,
// UpdateService, DeleteService, DescribeServices and ListServices, and the
// controller that keeps each service's running tasks equal to its desired
// count, as ECS's service scheduler does.
//
// The controller starts and stops tasks only through ECS's own task API
// (RunTask, StopTask, DescribeTasks), behind the small Tasks interface, acting
// as the service's account and region. Tasks it starts carry startedBy
// "ecs-svc/<deployment digits>" and group "service:<name>", as on AWS.
//
// # Key layout
//
//	ecssvc/<account>/<region>/<cluster>/<name>   service record (JSON)
package ecsservice

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/wharf-dev/wharf/internal/apierr"
	"github.com/wharf-dev/wharf/internal/awsapi"
	ecsapi "github.com/wharf-dev/wharf/internal/awsapi/ecs"
	"github.com/wharf-dev/wharf/internal/clock"
	"github.com/wharf-dev/wharf/internal/eventbus"
	"github.com/wharf-dev/wharf/internal/lazyregexp"
	"github.com/wharf-dev/wharf/internal/service/cloudwatch"
	"github.com/wharf-dev/wharf/internal/service/ecs/taskstate"
	"github.com/wharf-dev/wharf/internal/store"
)

// Tasks is the part of ECS's task API the controller drives. The ECS task
// service implements it with its own API methods.
type Tasks interface {
	RunTask(ctx context.Context, in *ecsapi.RunTaskInput) (*ecsapi.RunTaskOutput, error)
	StopTask(ctx context.Context, in *ecsapi.StopTaskInput) (*ecsapi.StopTaskOutput, error)
	DescribeTasks(ctx context.Context, in *ecsapi.DescribeTasksInput) (*ecsapi.DescribeTasksOutput, error)
	ListTasks(ctx context.Context, in *ecsapi.ListTasksInput) (*ecsapi.ListTasksOutput, error)
	DescribeTaskDefinition(ctx context.Context, in *ecsapi.DescribeTaskDefinitionInput) (*ecsapi.DescribeTaskDefinitionOutput, error)
	DescribeClusters(ctx context.Context, in *ecsapi.DescribeClustersInput) (*ecsapi.DescribeClustersOutput, error)
}

// SchedulerStopper is implemented by a Tasks that can record the stopCode
// ServiceSchedulerInitiated, as AWS does for the tasks a service stops;
// without it the controller uses StopTask (stopCode UserInitiated).
type SchedulerStopper interface {
	StopServiceTask(ctx context.Context, in *ecsapi.StopTaskInput) (*ecsapi.StopTaskOutput, error)
}

// ServiceLauncher is implemented by a Tasks that starts a service's tasks
// from a revision no longer ACTIVE, as ECS lets an existing service scale
// with a deregistered or DELETE_IN_PROGRESS revision (DeleteTaskDefinitions
// docs); without it the controller uses RunTask, which refuses them.
type ServiceLauncher interface {
	RunServiceTask(ctx context.Context, in *ecsapi.RunTaskInput) (*ecsapi.RunTaskOutput, error)
}

// Metrics receives the ECS/ContainerInsights task counts. CloudWatch's Put
// implements it.
type Metrics interface {
	Put(ctx context.Context, account, region, namespace string, data ...cloudwatch.Datum) error
}

// Options configure a Service.
type Options struct {
	Store  store.Store
	Logger *slog.Logger
	Bus    *eventbus.Bus // nil: no events
	Tasks  Tasks
	// Account and Region are where a request without a caller acts.
	Account, Region string
	// Clock is the time the service reads; nil means clock.Real.
	Clock clock.Clock
	// NewID returns 32 hex digits (event and deployment ids); nil means random.
	NewID func() string
	// Interval is how often Run reconciles every service; 0 means 1 s.
	Interval time.Duration
	// MetricsInterval is how often Run publishes the task counts to
	// CloudWatch; 0 means 1 s, so a backlog-per-task policy (m1 / m2
	// combines only where both metrics have a datapoint) never waits for
	// RunningTaskCount: bench/scaling measured 5.8 s to a new task with a
	// 5 s interval and 3.0 s with 1 s (AWS/SQS every 1 s in both). One Put
	// per account and region keeps it cheap.
	MetricsInterval time.Duration
	// Round, when set, is held for each round of Run's work (reconciling
	// every service, publishing the counts) and returns the round's
	// context. wharf's reset takes it exclusively (it is the server's
	// gate): a reconcile reads a service, launches its tasks and writes it
	// back, so one in flight when a reset began would launch a task after
	// the reset stopped every task, and write back the service it deleted.
	Round func(ctx context.Context) (context.Context, func())
}

// Service serves ECS services and runs their controller.
type Service struct {
	st       store.Store
	log      *slog.Logger
	bus      *eventbus.Bus
	tasks    Tasks
	account  string
	region   string
	now      func() time.Time
	newID    func() string
	interval time.Duration
	metricsI time.Duration
	round    func(ctx context.Context) (context.Context, func()) // see Options.Round

	mu      sync.Mutex
	metrics Metrics
	locks   map[string]*sync.Mutex // per service key: API writes and reconcile take turns
	adopted map[string]bool        // services whose tasks were looked for since this start
	kick    chan struct{}
}

// New returns the service for o.
func New(o Options) *Service {
	s := &Service{
		st: o.Store, log: o.Logger, bus: o.Bus, tasks: o.Tasks, account: o.Account, region: o.Region,
		now: clock.Or(o.Clock).Now, newID: o.NewID, interval: o.Interval, metricsI: o.MetricsInterval,
		locks: map[string]*sync.Mutex{}, adopted: map[string]bool{}, kick: make(chan struct{}, 1), round: o.Round,
	}
	if s.round == nil {
		s.round = func(ctx context.Context) (context.Context, func()) { return ctx, func() {} }
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.newID == nil {
		s.newID = func() string {
			var b [16]byte
			rand.Read(b[:])
			return hex.EncodeToString(b[:])
		}
	}
	if s.interval <= 0 {
		s.interval = time.Second
	}
	if s.metricsI <= 0 {
		s.metricsI = time.Second
	}
	return s
}

// SetMetrics makes m receive the services' task counts.
func (s *Service) SetMetrics(m Metrics) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.metrics = m
}

// Handlers are the ECS operations this package implements, to be merged into
// ECS's registration (its task service answers every other operation).
func Handlers(s *Service) map[string]awsapi.Handler { return ecsapi.Bind(s) }

func (s *Service) lock(key string) func() {
	s.mu.Lock()
	m, ok := s.locks[key]
	if !ok {
		m = &sync.Mutex{}
		s.locks[key] = m
	}
	s.mu.Unlock()
	m.Lock()
	return m.Unlock
}

// wake asks Run to reconcile now rather than at the next tick.
func (s *Service) wake() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// scope is the account and region a request acts in.
type scope struct{ account, region string }

func (s *Service) scope(ctx context.Context) scope {
	c := awsapi.CallerFrom(ctx)
	sc := scope{c.Account, c.Region}
	if sc.account == "" {
		sc.account = s.account
	}
	if sc.region == "" {
		sc.region = s.region
	}
	return sc
}

func (sc scope) arn(resource string) string {
	return "arn:aws:ecs:" + sc.region + ":" + sc.account + ":" + resource
}

func (sc scope) prefix() string { return "ecssvc/" + sc.account + "/" + sc.region + "/" }

func (sc scope) key(cluster, name string) string { return sc.prefix() + cluster + "/" + name }

// record is a service as stored: what DescribeServices shows, plus what the
// controller needs to carry on after a restart.
type record struct {
	Account, Region, Cluster string
	Svc                      ecsapi.ServiceShape // Deployments and Events are filled from the fields below
	Deployments              []*deployment       // [0] is PRIMARY
	Events                   []ecsapi.ServiceEvent
	// Stable is the last deployment that completed: what the circuit
	// breaker rolls back to.
	Stable *ecsapi.Deployment `json:",omitempty"`
	// StartFailures counts tasks in a row that stopped before reaching
	// RUNNING; from throttleAfter on, launches are spaced out (service
	// throttle logic).
	StartFailures int
	NextLaunch    time.Time
	Steady        bool
	SteadyAt      time.Time
}

// deployment is one of a service's deployments and the tasks it started.
type deployment struct {
	D     ecsapi.Deployment
	Tasks []*taskRef
}

// taskRef is what the controller knows of a task it started.
type taskRef struct {
	Arn      string
	Status   taskstate.Status // lastStatus when last seen
	Stopping bool             // the controller asked it to stop
	Running  bool             // seen RUNNING at least once
}

func (r *record) key() string { return scope{r.Account, r.Region}.key(r.Cluster, *r.Svc.ServiceName) }

func (r *record) primary() *deployment { return r.Deployments[0] }

// shape is the service as the API shows it.
func (r *record) shape(withTags bool) ecsapi.ServiceShape {
	out := r.Svc
	out.Deployments = make([]ecsapi.Deployment, len(r.Deployments))
	for i, d := range r.Deployments {
		out.Deployments[i] = d.D
	}
	out.Events = append([]ecsapi.ServiceEvent{}, r.Events...)
	if !withTags {
		out.Tags = nil
	} else if out.Tags == nil {
		out.Tags = []ecsapi.Tag{}
	}
	return out
}

// Errors in AWS's words.
func invalidParam(format string, args ...any) error {
	return ecsapi.ErrInvalidParameterException(format, args...)
}
func clusterNotFound() error {
	return ecsapi.ErrClusterNotFoundException("Cluster not found.")
}
func serviceNotFound() error {
	return ecsapi.ErrServiceNotFoundException("Service not found.")
}
func serviceNotActive() error {
	return ecsapi.ErrServiceNotActiveException("Service was not ACTIVE.")
}

var nameRE = lazyregexp.New(`^[a-zA-Z0-9_-]{1,255}$`)

// clusterName resolves a cluster name or ARN; "" is the default cluster.
func clusterName(sc scope, ref string) (string, error) {
	if ref == "" {
		return "default", nil
	}
	if strings.HasPrefix(ref, "arn:") {
		p, ok := strings.CutPrefix(ref, sc.arn("cluster/"))
		if !ok || !nameRE.MatchString(p) {
			return "", invalidParam("Invalid cluster ARN: %s", ref)
		}
		return p, nil
	}
	if !nameRE.MatchString(ref) {
		return "", invalidParam("Cluster name must be at most 255 letters (uppercase and lowercase), numbers, hyphens, and underscores.")
	}
	return ref, nil
}

// serviceName resolves a service name or ARN (short arn:...:service/<name>
// or long arn:...:service/<cluster>/<name>) in cluster.
func serviceName(sc scope, cluster, ref string) (string, bool) {
	if rest, ok := strings.CutPrefix(ref, sc.arn("service/")); ok {
		if c, n, long := strings.Cut(rest, "/"); long {
			if c != cluster {
				return "", false
			}
			rest = n
		}
		ref = rest
	}
	return ref, nameRE.MatchString(ref)
}

// callerCtx is ctx acting as account and region, for the controller's calls
// into ECS's task API.
func callerCtx(ctx context.Context, account, region, op string) context.Context {
	return awsapi.WithCaller(ctx, &awsapi.Caller{Account: account, Region: region, Service: "ecs", Operation: op,
		ARN: "arn:aws:iam::" + account + ":root"})
}

// checkCluster fails unless cluster is ACTIVE. The default cluster counts as
// present, since ECS creates it on first use.
func (s *Service) checkCluster(ctx context.Context, sc scope, cluster string) (string, error) {
	out, err := s.tasks.DescribeClusters(callerCtx(ctx, sc.account, sc.region, "DescribeClusters"),
		&ecsapi.DescribeClustersInput{Clusters: []string{cluster}})
	if err != nil {
		return "", err
	}
	for _, c := range out.Clusters {
		if awsapi.ToString(c.Status) == "ACTIVE" {
			return awsapi.ToString(c.ClusterArn), nil
		}
	}
	if cluster == "default" {
		return sc.arn("cluster/default"), nil
	}
	return "", clusterNotFound()
}

func (s *Service) load(tx store.Tx, key string) (*record, error) {
	b, err := tx.Get([]byte(key))
	if err != nil || b == nil {
		return nil, err
	}
	var r record
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("ecs service %s: %w", key, err)
	}
	return &r, nil
}

func save(tx store.Tx, r *record) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	return tx.Put([]byte(r.key()), b)
}

// deploymentID is "ecs-svc/" and 19 digits, as AWS's deployment ids look.
func (s *Service) deploymentID() string {
	h := "000000000000000" + s.newID()
	n, _ := strconv.ParseUint(h[len(h)-15:], 16, 64)
	return fmt.Sprintf("ecs-svc/%019d", n%10_000_000_000_000_000_000)
}

func (s *Service) uuid() string {
	h := (s.newID() + strings.Repeat("0", 32))[:32]
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// resolveTaskDef returns the full ARN (with revision) of an ACTIVE task
// definition given by family, family:revision or ARN.
func (s *Service) resolveTaskDef(ctx context.Context, sc scope, ref string) (string, error) {
	out, err := s.tasks.DescribeTaskDefinition(callerCtx(ctx, sc.account, sc.region, "DescribeTaskDefinition"),
		&ecsapi.DescribeTaskDefinitionInput{TaskDefinition: &ref})
	if err != nil {
		return "", err
	}
	td := out.TaskDefinition
	if td == nil || awsapi.ToString(td.Status) != "ACTIVE" {
		return "", ecsapi.ErrClientException("TaskDefinition is inactive")
	}
	return awsapi.ToString(td.TaskDefinitionArn), nil
}

func checkDeploymentConfig(c *ecsapi.DeploymentConfiguration) error {
	if c == nil {
		return nil
	}
	if c.MaximumPercent != nil && (*c.MaximumPercent < 100 || *c.MaximumPercent > 200) && !(*c.MaximumPercent > 0 && c.MinimumHealthyPercent != nil && *c.MinimumHealthyPercent < *c.MaximumPercent) {
		return invalidParam("maximumPercent must be between 100 and 200, or greater than minimumHealthyPercent.")
	}
	if c.MinimumHealthyPercent != nil && (*c.MinimumHealthyPercent < 0 || *c.MinimumHealthyPercent > 100) {
		return invalidParam("minimumHealthyPercent must be between 0 and 100.")
	}
	if s := awsapi.ToString(c.Strategy); s != "" && s != "ROLLING" {
		return ecsapi.ErrUnsupportedFeatureException("wharf supports the ROLLING deployment strategy only.")
	}
	return nil
}

// mergeDeploymentConfig sets what in gives over cur, with AWS's defaults
// (200 %, 100 %, circuit breaker off).
func mergeDeploymentConfig(cur, in *ecsapi.DeploymentConfiguration) *ecsapi.DeploymentConfiguration {
	out := ecsapi.DeploymentConfiguration{
		MaximumPercent: awsapi.Int32(200), MinimumHealthyPercent: awsapi.Int32(100),
		DeploymentCircuitBreaker: &ecsapi.DeploymentCircuitBreaker{Enable: awsapi.Bool(false), Rollback: awsapi.Bool(false)},
	}
	if cur != nil {
		out = *cur
	}
	if in == nil {
		return &out
	}
	if in.MaximumPercent != nil {
		out.MaximumPercent = in.MaximumPercent
	}
	if in.MinimumHealthyPercent != nil {
		out.MinimumHealthyPercent = in.MinimumHealthyPercent
	}
	if in.DeploymentCircuitBreaker != nil {
		out.DeploymentCircuitBreaker = in.DeploymentCircuitBreaker
	}
	if in.Alarms != nil {
		out.Alarms = in.Alarms
	}
	if in.Strategy != nil {
		out.Strategy = in.Strategy
	}
	return &out
}

// newDeployment is a PRIMARY deployment of the service's current settings.
func (s *Service) newDeployment(svc *ecsapi.ServiceShape, now time.Time, reason string) *deployment {
	id := s.deploymentID()
	if reason == "" {
		reason = "ECS deployment " + id + " in progress."
	}
	d := ecsapi.Deployment{
		Id: awsapi.String(id), Status: awsapi.String("PRIMARY"), TaskDefinition: svc.TaskDefinition,
		DesiredCount: svc.DesiredCount, PendingCount: awsapi.Int32(0), RunningCount: awsapi.Int32(0), FailedTasks: awsapi.Int32(0),
		CreatedAt: &now, UpdatedAt: &now, LaunchType: svc.LaunchType, CapacityProviderStrategy: svc.CapacityProviderStrategy,
		PlatformVersion: svc.PlatformVersion, PlatformFamily: svc.PlatformFamily, NetworkConfiguration: svc.NetworkConfiguration,
		RolloutState: awsapi.String("IN_PROGRESS"), RolloutStateReason: awsapi.String(reason),
	}
	return &deployment{D: d}
}

// CreateService creates a service and its first deployment; the controller
// then starts its tasks.
func (s *Service) CreateService(ctx context.Context, in *ecsapi.CreateServiceInput) (*ecsapi.CreateServiceOutput, error) {
	sc := s.scope(ctx)
	cluster, err := clusterName(sc, awsapi.ToString(in.Cluster))
	if err != nil {
		return nil, err
	}
	name := awsapi.ToString(in.ServiceName)
	if !nameRE.MatchString(name) {
		return nil, invalidParam("Service name must be at most 255 letters (uppercase and lowercase), numbers, hyphens, and underscores.")
	}
	if c := in.DeploymentController; c != nil && awsapi.ToString(c.Type) != "ECS" {
		return nil, ecsapi.ErrUnsupportedFeatureException("wharf supports the ECS deployment controller only.")
	}
	if in.TaskDefinition == nil {
		return nil, invalidParam("TaskDefinition must be specified.")
	}
	if in.LaunchType != nil && len(in.CapacityProviderStrategy) > 0 {
		return nil, invalidParam("Specifying both a launch type and capacity provider strategy is not supported. Remove one and try again.")
	}
	strategy := awsapi.ToString(in.SchedulingStrategy)
	switch strategy {
	case "":
		strategy = "REPLICA"
	case "REPLICA", "DAEMON":
	default:
		return nil, invalidParam("Invalid scheduling strategy: %s", strategy)
	}
	desired := awsapi.ToInt32(in.DesiredCount)
	if strategy == "DAEMON" {
		desired = 1 // one task per container instance; wharf is one machine
	}
	if desired < 0 {
		return nil, invalidParam("Desired count must be at least 0.")
	}
	if err := checkDeploymentConfig(in.DeploymentConfiguration); err != nil {
		return nil, err
	}
	clusterArn, err := s.checkCluster(ctx, sc, cluster)
	if err != nil {
		return nil, err
	}
	tdArn, err := s.resolveTaskDef(ctx, sc, *in.TaskDefinition)
	if err != nil {
		return nil, err
	}
	now := s.now().UTC()
	launch, platform, family := awsapi.ToString(in.LaunchType), in.PlatformVersion, (*string)(nil)
	if launch == "" && len(in.CapacityProviderStrategy) == 0 {
		launch = "FARGATE"
	}
	if launch == "FARGATE" || len(in.CapacityProviderStrategy) > 0 {
		if platform == nil {
			platform = awsapi.String("LATEST")
		}
		family = awsapi.String("Linux")
	}
	propagate := awsapi.ToString(in.PropagateTags)
	if propagate == "" {
		propagate = "NONE"
	}
	svc := ecsapi.ServiceShape{
		ServiceArn: awsapi.String(sc.arn("service/" + cluster + "/" + name)), ServiceName: &name, ClusterArn: &clusterArn,
		LoadBalancers: nonNil(in.LoadBalancers), ServiceRegistries: nonNil(in.ServiceRegistries), Status: awsapi.String("ACTIVE"),
		DesiredCount: &desired, RunningCount: awsapi.Int32(0), PendingCount: awsapi.Int32(0),
		CapacityProviderStrategy: in.CapacityProviderStrategy, PlatformVersion: platform, PlatformFamily: family,
		TaskDefinition: &tdArn, DeploymentConfiguration: mergeDeploymentConfig(nil, in.DeploymentConfiguration),
		RoleArn: in.Role, CreatedAt: &now, PlacementConstraints: nonNil(in.PlacementConstraints),
		PlacementStrategy: nonNil(in.PlacementStrategy), NetworkConfiguration: in.NetworkConfiguration,
		HealthCheckGracePeriodSeconds: in.HealthCheckGracePeriodSeconds, SchedulingStrategy: &strategy,
		DeploymentController: &ecsapi.DeploymentController{Type: awsapi.String("ECS")}, Tags: in.Tags,
		CreatedBy: awsapi.String(awsapi.CallerFrom(ctx).ARN), EnableECSManagedTags: awsapi.Bool(awsapi.ToBool(in.EnableECSManagedTags)),
		PropagateTags: &propagate, EnableExecuteCommand: awsapi.Bool(awsapi.ToBool(in.EnableExecuteCommand)),
		AvailabilityZoneRebalancing: in.AvailabilityZoneRebalancing,
	}
	if launch != "" {
		svc.LaunchType = &launch
	}
	if *svc.CreatedBy == "" {
		svc.CreatedBy = awsapi.String("arn:aws:iam::" + sc.account + ":root")
	}
	r := &record{Account: sc.account, Region: sc.region, Cluster: cluster, Svc: svc, Events: []ecsapi.ServiceEvent{}}
	r.Deployments = []*deployment{s.newDeployment(&r.Svc, now, "")}
	key := r.key()
	defer s.lock(key)()
	err = s.st.Update(func(tx store.Tx) error {
		old, err := s.load(tx, key)
		if err != nil {
			return err
		}
		if old != nil && awsapi.ToString(old.Svc.Status) != "INACTIVE" {
			return invalidParam("Creation of service was not idempotent.")
		}
		return save(tx, r)
	})
	if err != nil {
		return nil, err
	}
	s.publishDeployment(ctx, r, r.primary(), "SERVICE_DEPLOYMENT_IN_PROGRESS", now)
	s.wake()
	out := r.shape(true)
	return &ecsapi.CreateServiceOutput{Service: &out}, nil
}

func nonNil[T any](v []T) []T {
	if v == nil {
		return []T{}
	}
	return v
}

// find resolves cluster and service references to the service's key.
func (s *Service) find(ctx context.Context, sc scope, clusterRef, serviceRef string) (string, error) {
	cluster, err := clusterName(sc, clusterRef)
	if err != nil {
		return "", err
	}
	name, ok := serviceName(sc, cluster, serviceRef)
	if !ok {
		return "", serviceNotFound()
	}
	return sc.key(cluster, name), nil
}

// modify runs fn on the stored service under its lock and saves it.
func (s *Service) modify(ctx context.Context, sc scope, clusterRef, serviceRef string, fn func(r *record) error) (*record, error) {
	cluster, err := clusterName(sc, clusterRef)
	if err != nil {
		return nil, err
	}
	key, err := s.find(ctx, sc, clusterRef, serviceRef)
	if err != nil {
		return nil, err
	}
	defer s.lock(key)()
	var r *record
	err = s.st.Update(func(tx store.Tx) error {
		if r, err = s.load(tx, key); err != nil {
			return err
		}
		if r == nil {
			return serviceNotFound()
		}
		if err := fn(r); err != nil {
			return err
		}
		return save(tx, r)
	})
	if err != nil {
		if apierr.As(err) != nil && apierr.As(err).Code == "ServiceNotFoundException" {
			if _, cerr := s.checkCluster(ctx, sc, cluster); cerr != nil {
				return nil, cerr
			}
		}
		return nil, err
	}
	return r, nil
}

// UpdateService changes a service's desired count, deployment configuration
// or task definition. A new task definition (or forceNewDeployment, or new
// network or platform settings) starts a new deployment.
func (s *Service) UpdateService(ctx context.Context, in *ecsapi.UpdateServiceInput) (*ecsapi.UpdateServiceOutput, error) {
	sc := s.scope(ctx)
	if in.DesiredCount != nil && *in.DesiredCount < 0 {
		return nil, invalidParam("Desired count must be at least 0.")
	}
	if err := checkDeploymentConfig(in.DeploymentConfiguration); err != nil {
		return nil, err
	}
	if c := in.DeploymentController; c != nil && awsapi.ToString(c.Type) != "ECS" {
		return nil, ecsapi.ErrUnsupportedFeatureException("wharf supports the ECS deployment controller only.")
	}
	var tdArn string
	if in.TaskDefinition != nil {
		var err error
		if tdArn, err = s.resolveTaskDef(ctx, sc, *in.TaskDefinition); err != nil {
			return nil, err
		}
	}
	now := s.now().UTC()
	var started *deployment
	r, err := s.modify(ctx, sc, awsapi.ToString(in.Cluster), awsapi.ToString(in.Service), func(r *record) error {
		if awsapi.ToString(r.Svc.Status) != "ACTIVE" {
			return serviceNotActive()
		}
		svc := &r.Svc
		if in.DesiredCount != nil && awsapi.ToString(svc.SchedulingStrategy) != "DAEMON" {
			svc.DesiredCount = in.DesiredCount
		}
		svc.DeploymentConfiguration = mergeDeploymentConfig(svc.DeploymentConfiguration, in.DeploymentConfiguration)
		redeploy := awsapi.ToBool(in.ForceNewDeployment)
		if tdArn != "" && tdArn != awsapi.ToString(svc.TaskDefinition) {
			svc.TaskDefinition, redeploy = &tdArn, true
		}
		if in.NetworkConfiguration != nil {
			svc.NetworkConfiguration, redeploy = in.NetworkConfiguration, true
		}
		if in.PlatformVersion != nil && *in.PlatformVersion != awsapi.ToString(svc.PlatformVersion) {
			svc.PlatformVersion, redeploy = in.PlatformVersion, true
		}
		if in.CapacityProviderStrategy != nil {
			svc.CapacityProviderStrategy, redeploy = in.CapacityProviderStrategy, true
		}
		for _, v := range []struct {
			dst **bool
			src *bool
		}{{&svc.EnableExecuteCommand, in.EnableExecuteCommand}, {&svc.EnableECSManagedTags, in.EnableECSManagedTags}} {
			if v.src != nil {
				*v.dst = v.src
			}
		}
		if in.PropagateTags != nil {
			svc.PropagateTags = in.PropagateTags
		}
		if in.HealthCheckGracePeriodSeconds != nil {
			svc.HealthCheckGracePeriodSeconds = in.HealthCheckGracePeriodSeconds
		}
		if in.PlacementConstraints != nil {
			svc.PlacementConstraints = in.PlacementConstraints
		}
		if in.PlacementStrategy != nil {
			svc.PlacementStrategy = in.PlacementStrategy
		}
		if redeploy {
			for _, d := range r.Deployments {
				d.D.Status, d.D.UpdatedAt = awsapi.String("ACTIVE"), &now
			}
			started = s.newDeployment(svc, now, "")
			r.Deployments = append([]*deployment{started}, r.Deployments...)
			// A new task definition ends the throttle at once (service throttle logic).
			r.StartFailures, r.NextLaunch, r.Steady = 0, time.Time{}, false
		}
		p := r.primary()
		if awsapi.ToInt32(p.D.DesiredCount) != awsapi.ToInt32(svc.DesiredCount) {
			p.D.DesiredCount, p.D.UpdatedAt = svc.DesiredCount, &now
			r.Steady = false
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if started != nil {
		s.publishDeployment(ctx, r, started, "SERVICE_DEPLOYMENT_IN_PROGRESS", now)
	}
	s.wake()
	out := r.shape(false)
	return &ecsapi.UpdateServiceOutput{Service: &out}, nil
}

// DeleteService drains a service: DRAINING until its tasks have stopped,
// then INACTIVE. Without force, a service above zero tasks is refused.
func (s *Service) DeleteService(ctx context.Context, in *ecsapi.DeleteServiceInput) (*ecsapi.DeleteServiceOutput, error) {
	sc := s.scope(ctx)
	now := s.now().UTC()
	r, err := s.modify(ctx, sc, awsapi.ToString(in.Cluster), awsapi.ToString(in.Service), func(r *record) error {
		switch awsapi.ToString(r.Svc.Status) {
		case "INACTIVE":
			return serviceNotFound()
		case "DRAINING":
			return serviceNotActive()
		}
		if awsapi.ToInt32(r.Svc.DesiredCount) > 0 && !awsapi.ToBool(in.Force) && awsapi.ToString(r.Svc.SchedulingStrategy) != "DAEMON" {
			return invalidParam("The service cannot be stopped while it is scaled above 0.")
		}
		r.Svc.Status, r.Svc.DesiredCount = awsapi.String("DRAINING"), awsapi.Int32(0)
		for _, d := range r.Deployments {
			d.D.DesiredCount, d.D.UpdatedAt = awsapi.Int32(0), &now
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.wake()
	out := r.shape(false)
	return &ecsapi.DeleteServiceOutput{Service: &out}, nil
}

// DescribeServices describes up to 10 services of a cluster; unknown ones
// are failures with reason MISSING.
func (s *Service) DescribeServices(ctx context.Context, in *ecsapi.DescribeServicesInput) (*ecsapi.DescribeServicesOutput, error) {
	sc := s.scope(ctx)
	cluster, err := clusterName(sc, awsapi.ToString(in.Cluster))
	if err != nil {
		return nil, err
	}
	if len(in.Services) == 0 {
		return nil, invalidParam("Services cannot be empty.")
	}
	if len(in.Services) > 10 {
		return nil, invalidParam("Services cannot contain more than 10 elements.")
	}
	withTags := false
	for _, v := range in.Include {
		withTags = withTags || v == "TAGS"
	}
	out := &ecsapi.DescribeServicesOutput{Services: []ecsapi.ServiceShape{}, Failures: []ecsapi.Failure{}}
	var missing []string
	err = s.st.View(func(tx store.Tx) error {
		for _, ref := range in.Services {
			name, ok := serviceName(sc, cluster, ref)
			var r *record
			if ok {
				var err error
				if r, err = s.load(tx, sc.key(cluster, name)); err != nil {
					return err
				}
			}
			if r == nil {
				arn := ref
				if !strings.HasPrefix(ref, "arn:") {
					arn = sc.arn("service/" + cluster + "/" + ref)
				}
				missing = append(missing, arn)
				continue
			}
			out.Services = append(out.Services, r.shape(withTags))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(missing) > 0 || len(out.Services) == 0 {
		if _, err := s.checkCluster(ctx, sc, cluster); err != nil {
			return nil, err
		}
	}
	for _, arn := range missing {
		out.Failures = append(out.Failures, ecsapi.Failure{Arn: awsapi.String(arn), Reason: awsapi.String("MISSING")})
	}
	return out, nil
}

// ListServices lists the ARNs of a cluster's ACTIVE services (DRAINING and
// INACTIVE ones are not listed, as the DeleteService docs say).
func (s *Service) ListServices(ctx context.Context, in *ecsapi.ListServicesInput) (*ecsapi.ListServicesOutput, error) {
	sc := s.scope(ctx)
	cluster, err := clusterName(sc, awsapi.ToString(in.Cluster))
	if err != nil {
		return nil, err
	}
	if _, err := s.checkCluster(ctx, sc, cluster); err != nil {
		return nil, err
	}
	limit := int32(10)
	if in.MaxResults != nil {
		if *in.MaxResults < 1 || *in.MaxResults > 100 {
			return nil, invalidParam("maxResults must be between 1 and 100.")
		}
		limit = *in.MaxResults
	}
	start := []byte(nil)
	if t := awsapi.ToString(in.NextToken); t != "" {
		b, err := base64.RawURLEncoding.DecodeString(t)
		if err != nil || !strings.HasPrefix(string(b), sc.key(cluster, "")) {
			return nil, invalidParam("Invalid nextToken.")
		}
		start = append(b, 0)
	}
	out := &ecsapi.ListServicesOutput{ServiceArns: []string{}}
	var lastKey []byte
	err = s.st.View(func(tx store.Tx) error {
		return tx.Scan([]byte(sc.key(cluster, "")), start, func(k, v []byte) (bool, error) {
			var r record
			if err := json.Unmarshal(v, &r); err != nil {
				return false, err
			}
			switch {
			case awsapi.ToString(r.Svc.Status) != "ACTIVE":
			case in.LaunchType != nil && awsapi.ToString(r.Svc.LaunchType) != *in.LaunchType:
			case in.SchedulingStrategy != nil && awsapi.ToString(r.Svc.SchedulingStrategy) != *in.SchedulingStrategy:
			default:
				if int32(len(out.ServiceArns)) == limit {
					// The token names the last key listed: the next page starts after it.
					out.NextToken = awsapi.String(base64.RawURLEncoding.EncodeToString(lastKey))
					return false, nil
				}
				out.ServiceArns = append(out.ServiceArns, awsapi.ToString(r.Svc.ServiceArn))
				lastKey = append(lastKey[:0], k...)
			}
			return true, nil
		})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ListServicesByNamespace lists services in a Service Connect namespace.
// wharf has no Service Connect, so no service is in any namespace.
func (s *Service) ListServicesByNamespace(ctx context.Context, in *ecsapi.ListServicesByNamespaceInput) (*ecsapi.ListServicesByNamespaceOutput, error) {
	return &ecsapi.ListServicesByNamespaceOutput{ServiceArns: []string{}}, nil
}

// records returns every stored service, sorted by key.
func (s *Service) records() ([]*record, error) {
	var out []*record
	err := s.st.View(func(tx store.Tx) error {
		return tx.Scan([]byte("ecssvc/"), nil, func(_, v []byte) (bool, error) {
			var r record
			if err := json.Unmarshal(v, &r); err != nil {
				return false, err
			}
			out = append(out, &r)
			return true, nil
		})
	})
	sort.Slice(out, func(i, j int) bool { return out[i].key() < out[j].key() })
	return out, err
}

// ActiveServices counts a cluster's ACTIVE services, for ECS's
// DescribeClusters (activeServicesCount).
func (s *Service) ActiveServices(account, region, cluster string) (int, error) {
	n := 0
	err := s.st.View(func(tx store.Tx) error {
		return tx.Scan([]byte(scope{account, region}.prefix()+cluster+"/"), nil, func(_, v []byte) (bool, error) {
			var r record
			if err := json.Unmarshal(v, &r); err != nil {
				return false, err
			}
			if awsapi.ToString(r.Svc.Status) == "ACTIVE" {
				n++
			}
			return true, nil
		})
	})
	return n, err
}

// TaskDefinitionsInUse returns the task definition revisions (ARNs) that an
// account's services in a region still need: those of every deployment of a
// service not INACTIVE, and the last stable one a rollback returns to. ECS
// keeps a DELETE_IN_PROGRESS revision until none needs it.
func (s *Service) TaskDefinitionsInUse(account, region string) (map[string]bool, error) {
	used := map[string]bool{}
	err := s.st.View(func(tx store.Tx) error {
		return tx.Scan([]byte(scope{account, region}.prefix()), nil, func(_, v []byte) (bool, error) {
			var r record
			if err := json.Unmarshal(v, &r); err != nil {
				return false, err
			}
			if awsapi.ToString(r.Svc.Status) == "INACTIVE" {
				return true, nil
			}
			for _, d := range r.Deployments {
				used[awsapi.ToString(d.D.TaskDefinition)] = true
			}
			if r.Stable != nil {
				used[awsapi.ToString(r.Stable.TaskDefinition)] = true
			}
			used[awsapi.ToString(r.Svc.TaskDefinition)] = true
			return true, nil
		})
	})
	return used, err
}

// DesiredCount is an ACTIVE service's desired count, for Application Auto
// Scaling (its Services interface), which reads it as DescribeServices would.
func (s *Service) DesiredCount(ctx context.Context, account, region, cluster, service string) (int32, error) {
	ctx = callerCtx(ctx, account, region, "DescribeServices")
	out, err := s.DescribeServices(ctx, &ecsapi.DescribeServicesInput{Cluster: &cluster, Services: []string{service}})
	if err != nil {
		return 0, err
	}
	for _, sv := range out.Services {
		if awsapi.ToString(sv.Status) == "ACTIVE" {
			return awsapi.ToInt32(sv.DesiredCount), nil
		}
	}
	return 0, serviceNotFound()
}

// SetDesiredCount sets a service's desired count as UpdateService does, for
// Application Auto Scaling; the controller converges on its next pass.
func (s *Service) SetDesiredCount(ctx context.Context, account, region, cluster, service string, count int32) error {
	ctx = callerCtx(ctx, account, region, "UpdateService")
	_, err := s.UpdateService(ctx, &ecsapi.UpdateServiceInput{Cluster: &cluster, Service: &service, DesiredCount: &count})
	return err
}
