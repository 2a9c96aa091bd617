// Package ecs is wharf's Amazon ECS: clusters, task definitions, and tasks that
// run as real containers through a runtime.Runner (Docker, or host processes).
//
// A task goes through the states AWS reports (PROVISIONING, PENDING, RUNNING,
// STOPPING, DEPROVISIONING, STOPPED) with AWS's stop codes and reasons; each
// change is persisted, then announced as an "ECS Task State Change" event on
// the bus. Inside its containers, unmodified AWS SDK code finds wharf
// (AWS_ENDPOINT_URL), its task role's credentials
// (AWS_CONTAINER_CREDENTIALS_FULL_URI) and the task metadata endpoint
// (ECS_CONTAINER_METADATA_URI_V4), served on a small loopback listener of its own.
//
// # Key layout
//
//	ecs/<account>/<region>/cluster/<name>                 cluster (JSON)
//	ecs/<account>/<region>/taskdef/<family>/<revision:010> task definition (JSON)
//	ecs/<account>/<region>/task/<cluster>/<task id>       task (JSON)
//	ecs/<account>/<region>/setting/<principal>/<name>     account setting (JSON)
//	ecs/endpoint                                          the endpoint listener's port
//
// and the indexes of tasks and task definitions that index.go describes.
package ecs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wharf-dev/wharf/internal/awsapi"
	ecsapi "github.com/wharf-dev/wharf/internal/awsapi/ecs"
	"github.com/wharf-dev/wharf/internal/clock"
	"github.com/wharf-dev/wharf/internal/eventbus"
	"github.com/wharf-dev/wharf/internal/lazyregexp"
	"github.com/wharf-dev/wharf/internal/runtime"
	"github.com/wharf-dev/wharf/internal/service/ecs/taskstate"
	"github.com/wharf-dev/wharf/internal/store"
)

// Credentials are temporary credentials of a task role.
type Credentials struct {
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string
	Expiration      time.Time
}

// RoleCredentials mints temporary credentials for a role (STS AssumeRole).
type RoleCredentials interface {
	CredentialsForRole(ctx context.Context, account, roleARN, sessionName string) (Credentials, error)
}

// LogLine is one line of a container's output.
type LogLine struct {
	Time    time.Time
	Message string
}

// LogWriter delivers container output to CloudWatch Logs (the awslogs driver).
type LogWriter interface {
	PutLogLines(ctx context.Context, account, region, group, stream string, lines []LogLine) error
}

// Options configure a Service.
type Options struct {
	Store  store.Store
	Logger *slog.Logger
	Runner runtime.Runner
	Bus    *eventbus.Bus
	// Account and Region are where requests without a caller (events) act.
	Account, Region string
	// Endpoint is wharf's host:port as a container reaches it, used when a
	// task is not started by a request whose Host says it (EventBridge).
	Endpoint string
	// AdvertiseURL is wharf's URL as tasks reach it (--advertise-url), when
	// that is not where requests arrive (tasks on other machines, in a
	// cluster): it is their AWS_ENDPOINT_URL, and its host serves their
	// credentials and metadata. Empty means Endpoint and loopback.
	AdvertiseURL string
	// Credentials mints task role credentials; nil means tasks get none.
	Credentials RoleCredentials
	// Listen is the address of the credentials and metadata listener;
	// "" means 127.0.0.1 on the port used last time, else a free one.
	Listen string
	// Clock is the time the service reads; nil means clock.Real.
	Clock clock.Clock
	// NewID returns 32 hex digits for task and container ids; nil means random.
	NewID func() string
	// HealthPoll is how often container health is read; 0 means every second.
	HealthPoll time.Duration
	// StatsInterval is how often running tasks' CPU and memory use is
	// sampled for AWS/ECS metrics; 0 means DefaultStatsInterval.
	StatsInterval time.Duration
	// RemoveOnShutdown removes running tasks' containers when Run returns,
	// for a store that does not outlive wharf (--ephemeral): otherwise they
	// keep running and the next wharf re-adopts them.
	RemoveOnShutdown bool
}

// Service serves ECS.
type Service struct {
	tl      Timeline // nil records nothing
	st      store.Store
	log     *slog.Logger
	runner  runtime.Runner
	bus     *eventbus.Bus
	account string
	region  string
	creds   RoleCredentials
	now     func() time.Time
	newID   func() string
	logs    atomic.Pointer[LogWriter]
	svcs    atomic.Pointer[Services]
	objects atomic.Pointer[ObjectReader] // environmentFiles source (S3)
	trust   atomic.Pointer[RoleTrust]    // role trust check (IAM), none when nil
	// healthPoll is how often container health is read.
	healthPoll       time.Duration
	removeOnShutdown bool
	// metrics receives AWS/ECS utilization, sampled every statsInterval;
	// statsWarned is set once the loop has said the runtime has none.
	metrics       Metrics
	statsInterval time.Duration
	statsWarned   bool
	// deleteKick asks deleteLoop to check DELETE_IN_PROGRESS revisions now.
	deleteKick chan struct{}
	// index maps task ids to their store keys, for the endpoint.
	index sync.Map

	endpoint  atomic.Pointer[string] // wharf's host:port last seen in a request
	advertise *url.URL               // Options.AdvertiseURL, nil when unset
	lnAddr    string                 // Options.Listen
	lnOnce    sync.Once
	ln        net.Listener // credentials and metadata, opened on first use
	lnErr     error
	orphans   []*taskRecord // unfinished tasks of a previous wharf, for Run

	mu   sync.Mutex
	sups map[string]*supervisor // by task ARN
	// closed is set when Run stops waiting for supervisors: none starts
	// after it (the WaitGroup would be reused while Wait runs).
	closed bool
	cache  map[string]Credentials // by task ARN, cached until near expiry
	// lastStats is each running container's last resource sample, by
	// runtime id: CPU use is the difference between two.
	lastStats map[string]runtime.Stats
	base      context.Context // supervisors' context, cancelled at shutdown
	stop      context.CancelFunc
	wg        sync.WaitGroup
}

// New returns the ECS service for o. Run serves its credentials and metadata
// endpoint and supervises tasks.
func New(o Options) (*Service, error) {
	s := &Service{
		st: o.Store, log: o.Logger, runner: o.Runner, bus: o.Bus, account: o.Account, region: o.Region,
		creds: o.Credentials, now: clock.Or(o.Clock).Now, newID: o.NewID,
		sups: map[string]*supervisor{}, cache: map[string]Credentials{}, lastStats: map[string]runtime.Stats{},
		statsInterval: o.StatsInterval, deleteKick: make(chan struct{}, 1),
	}
	if s.statsInterval <= 0 {
		s.statsInterval = DefaultStatsInterval
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.newID == nil {
		s.newID = randomID
	}
	s.healthPoll, s.removeOnShutdown = o.HealthPoll, o.RemoveOnShutdown
	if s.healthPoll <= 0 {
		s.healthPoll = time.Second
	}
	ep := o.Endpoint
	s.endpoint.Store(&ep)
	if o.AdvertiseURL != "" {
		u, err := url.Parse(o.AdvertiseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("ecs: advertise URL %q: want http(s)://host[:port]", o.AdvertiseURL)
		}
		s.advertise = u
	}
	s.base, s.stop = context.WithCancel(context.Background())
	if err := s.buildIndexes(); err != nil {
		return nil, fmt.Errorf("ecs: index tasks: %w", err)
	}
	orphans, err := s.unfinished()
	if err != nil {
		return nil, fmt.Errorf("ecs: load tasks: %w", err)
	}
	s.orphans = orphans
	s.lnAddr = o.Listen
	return s, nil
}

// Services is what ECS needs to know of its services, which live in their
// own package: how many a cluster has ACTIVE (DescribeClusters'
// activeServicesCount) and which task definition revisions they still need
// (a DELETE_IN_PROGRESS revision is kept until none does).
type Services interface {
	ActiveServices(account, region, cluster string) (int, error)
	TaskDefinitionsInUse(account, region string) (map[string]bool, error)
	// UpdateServiceTags lets fn change a service's tags (nil fn reads
	// them); found is false when the ARN names no ACTIVE service.
	UpdateServiceTags(account, region, arn string, fn func(*[]ecsapi.Tag)) (tags []ecsapi.Tag, found bool, err error)
}

// SetServices makes c the services DescribeClusters counts and task
// definition deletion waits for.
func (s *Service) SetServices(c Services) { s.svcs.Store(&c) }

// SetLogWriter makes w receive the output of awslogs containers.
func (s *Service) SetLogWriter(w LogWriter) { s.logs.Store(&w) }

func (s *Service) logWriter() LogWriter {
	if p := s.logs.Load(); p != nil {
		return *p
	}
	return nil
}

func randomID() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// scope is the account and region a request acts in.
type scope struct{ account, region string }

func (s *Service) scope(ctx context.Context) scope {
	c := awsapi.CallerFrom(ctx)
	sc := scope{account: c.Account, region: c.Region}
	if sc.account == "" {
		sc.account = s.account
	}
	if sc.region == "" {
		sc.region = s.region
	}
	if c.Host != "" {
		h := c.Host
		s.endpoint.Store(&h)
	}
	return sc
}

func (sc scope) prefix() string { return "ecs/" + sc.account + "/" + sc.region + "/" }
func (sc scope) arn(resource string) string {
	return "arn:aws:ecs:" + sc.region + ":" + sc.account + ":" + resource
}

// Errors in AWS's words.
func clientErr(format string, args ...any) error {
	return ecsapi.ErrClientException(format, args...)
}
func invalidParam(format string, args ...any) error {
	return ecsapi.ErrInvalidParameterException(format, args...)
}
func clusterNotFound() error {
	return ecsapi.ErrClusterNotFoundException("Cluster not found.")
}

func getJSON(tx store.Tx, key string, v any) (bool, error) {
	b, err := tx.Get([]byte(key))
	if err != nil || b == nil {
		return false, err
	}
	return true, json.Unmarshal(b, v)
}

func putJSON(tx store.Tx, key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return tx.Put([]byte(key), b)
}

func tagsOf(in []ecsapi.Tag) []ecsapi.Tag {
	if len(in) == 0 {
		return nil
	}
	return append([]ecsapi.Tag(nil), in...)
}

func checkTags(tags []ecsapi.Tag) error {
	if len(tags) > 50 {
		return invalidParam("Tags can not exceed 50.")
	}
	for _, t := range tags {
		if k := awsapi.ToString(t.Key); k == "" || len(k) > 128 {
			return invalidParam("Tag keys must be between 1 and 128 characters.")
		}
	}
	return nil
}

// mergeTags sets add over tags, by key.
func mergeTags(tags, add []ecsapi.Tag) []ecsapi.Tag {
	out := append([]ecsapi.Tag(nil), tags...)
	for _, a := range add {
		found := false
		for i := range out {
			if awsapi.ToString(out[i].Key) == awsapi.ToString(a.Key) {
				out[i].Value, found = a.Value, true
			}
		}
		if !found {
			out = append(out, a)
		}
	}
	return out
}

// ---- clusters ----

type clusterRecord struct {
	Cluster ecsapi.Cluster
}

var clusterNameRE = lazyregexp.New(`^[a-zA-Z0-9_-]{1,255}$`)

// clusterName resolves a cluster name or ARN; "" is the default cluster.
func clusterName(sc scope, ref string) (string, error) {
	if ref == "" {
		return "default", nil
	}
	if strings.HasPrefix(ref, "arn:") {
		p, ok := strings.CutPrefix(ref, sc.arn("cluster/"))
		if !ok || !clusterNameRE.MatchString(p) {
			return "", invalidParam("Invalid cluster ARN: %s", ref)
		}
		return p, nil
	}
	if !clusterNameRE.MatchString(ref) {
		return "", invalidParam("Cluster name must be at most 255 letters (uppercase and lowercase), numbers, hyphens, and underscores.")
	}
	return ref, nil
}

func newCluster(sc scope, name string) *clusterRecord {
	return &clusterRecord{Cluster: ecsapi.Cluster{
		ClusterArn: awsapi.String(sc.arn("cluster/" + name)), ClusterName: awsapi.String(name),
		Status: awsapi.String("ACTIVE"), Settings: []ecsapi.ClusterSetting{{Name: awsapi.String("containerInsights"), Value: awsapi.String("disabled")}},
		CapacityProviders: []string{}, DefaultCapacityProviderStrategy: []ecsapi.CapacityProviderStrategyItem{},
	}}
}

// activeCluster loads an ACTIVE cluster; the default cluster is created on
// first use, as the console and the CLI's first run-task do for a new account.
func (s *Service) activeCluster(tx store.Tx, sc scope, name string) (*clusterRecord, error) {
	var c clusterRecord
	found, err := getJSON(tx, sc.prefix()+"cluster/"+name, &c)
	if err != nil {
		return nil, err
	}
	if found && awsapi.ToString(c.Cluster.Status) == "ACTIVE" {
		return &c, nil
	}
	if name == "default" {
		nc := newCluster(sc, name)
		return nc, putJSON(tx, sc.prefix()+"cluster/"+name, nc)
	}
	return nil, clusterNotFound()
}

// CreateCluster creates a cluster, or returns the existing one of that name.
func (s *Service) CreateCluster(ctx context.Context, in *ecsapi.CreateClusterInput) (*ecsapi.CreateClusterOutput, error) {
	sc := s.scope(ctx)
	name, err := clusterName(sc, awsapi.ToString(in.ClusterName))
	if err != nil {
		return nil, err
	}
	if err := checkTags(in.Tags); err != nil {
		return nil, err
	}
	var out *clusterRecord
	err = s.st.Update(func(tx store.Tx) error {
		if err := checkProviders(tx, sc, in.CapacityProviders); err != nil {
			return err
		}
		var c clusterRecord
		found, err := getJSON(tx, sc.prefix()+"cluster/"+name, &c)
		if err != nil {
			return err
		}
		if found && awsapi.ToString(c.Cluster.Status) == "ACTIVE" {
			out = &c // CreateCluster is idempotent on the name (CreateCluster docs)
			return nil
		}
		nc := newCluster(sc, name)
		nc.Cluster.Tags = tagsOf(in.Tags)
		if len(in.Settings) > 0 {
			nc.Cluster.Settings = in.Settings
		}
		nc.Cluster.Configuration = in.Configuration
		if in.CapacityProviders != nil {
			nc.Cluster.CapacityProviders = in.CapacityProviders
		}
		if in.DefaultCapacityProviderStrategy != nil {
			nc.Cluster.DefaultCapacityProviderStrategy = in.DefaultCapacityProviderStrategy
		}
		out = nc
		return putJSON(tx, sc.prefix()+"cluster/"+name, nc)
	})
	if err != nil {
		return nil, err
	}
	c := s.withCounts(sc, out.Cluster)
	return &ecsapi.CreateClusterOutput{Cluster: &c}, nil
}

// withCounts fills a cluster's task counts from its tasks not STOPPED.
func (s *Service) withCounts(sc scope, c ecsapi.Cluster) ecsapi.Cluster {
	var running, pending int32
	if err := s.st.View(func(tx store.Tx) error {
		return liveTasks(tx, liveClusterPrefix(sc, awsapi.ToString(c.ClusterName)), func(e liveEntry) (bool, error) {
			switch st := taskstate.Status(e.LastStatus); {
			case st == taskstate.Running:
				running++
			case st.Starting():
				pending++
			}
			return true, nil
		})
	}); err != nil {
		s.log.Error("ecs: count a cluster's tasks", "cluster", awsapi.ToString(c.ClusterName), "err", err)
	}
	var services int
	if p := s.svcs.Load(); p != nil {
		n, err := (*p).ActiveServices(sc.account, sc.region, awsapi.ToString(c.ClusterName))
		if err != nil {
			s.log.Error("ecs: count a cluster's services", "cluster", awsapi.ToString(c.ClusterName), "err", err)
		}
		services = n
	}
	c.RunningTasksCount, c.PendingTasksCount = awsapi.Int32(running), awsapi.Int32(pending)
	// wharf runs tasks on its own runtime, not on registered EC2 container
	// instances, so a cluster has none.
	c.RegisteredContainerInstancesCount, c.ActiveServicesCount = awsapi.Int32(0), awsapi.Int32(int32(services))
	if c.Statistics == nil {
		c.Statistics = []ecsapi.KeyValuePair{}
	}
	return c
}

// DescribeClusters describes clusters by name or ARN (default: the default
// cluster); unknown ones are failures with reason MISSING.
func (s *Service) DescribeClusters(ctx context.Context, in *ecsapi.DescribeClustersInput) (*ecsapi.DescribeClustersOutput, error) {
	sc := s.scope(ctx)
	refs := in.Clusters
	if len(refs) == 0 {
		refs = []string{"default"}
	}
	out := &ecsapi.DescribeClustersOutput{Clusters: []ecsapi.Cluster{}, Failures: []ecsapi.Failure{}}
	withTags := contains(in.Include, "TAGS")
	for _, ref := range refs {
		name, err := clusterName(sc, ref)
		if err != nil {
			return nil, err
		}
		var c clusterRecord
		var found bool
		err = s.st.View(func(tx store.Tx) (err error) {
			found, err = getJSON(tx, sc.prefix()+"cluster/"+name, &c)
			return err
		})
		if err != nil {
			return nil, err
		}
		if !found {
			out.Failures = append(out.Failures, ecsapi.Failure{Arn: awsapi.String(sc.arn("cluster/" + name)), Reason: awsapi.String("MISSING")})
			continue
		}
		cl := s.withCounts(sc, c.Cluster)
		if !withTags {
			cl.Tags = nil
		}
		out.Clusters = append(out.Clusters, cl)
	}
	return out, nil
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// page returns items[from:from+max] and the next token.
func page[T any](items []T, token *string, maxResults *int32, limit int32) ([]T, *string, error) {
	from := 0
	if t := awsapi.ToString(token); t != "" {
		n, err := strconv.Atoi(t)
		if err != nil || n < 0 || n > len(items) {
			return nil, nil, invalidParam("Invalid nextToken.")
		}
		from = n
	}
	max := int(limit)
	if maxResults != nil {
		if *maxResults < 1 || *maxResults > limit {
			return nil, nil, invalidParam("maxResults must be between 1 and %d.", limit)
		}
		max = int(*maxResults)
	}
	to := min(from+max, len(items))
	var next *string
	if to < len(items) {
		next = awsapi.String(strconv.Itoa(to))
	}
	return items[from:to], next, nil
}

// ListClusters lists the ARNs of the account's clusters in the region.
func (s *Service) ListClusters(ctx context.Context, in *ecsapi.ListClustersInput) (*ecsapi.ListClustersOutput, error) {
	sc := s.scope(ctx)
	var arns []string
	err := s.st.View(func(tx store.Tx) error {
		return tx.Scan([]byte(sc.prefix()+"cluster/"), nil, func(_, v []byte) (bool, error) {
			var c clusterRecord
			if err := json.Unmarshal(v, &c); err != nil {
				return false, err
			}
			if awsapi.ToString(c.Cluster.Status) == "ACTIVE" {
				arns = append(arns, awsapi.ToString(c.Cluster.ClusterArn))
			}
			return true, nil
		})
	})
	if err != nil {
		return nil, err
	}
	items, next, err := page(arns, in.NextToken, in.MaxResults, 100)
	if err != nil {
		return nil, err
	}
	return &ecsapi.ListClustersOutput{ClusterArns: nonNil(items), NextToken: next}, nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// UpdateCluster changes a cluster's settings and configuration.
func (s *Service) UpdateCluster(ctx context.Context, in *ecsapi.UpdateClusterInput) (*ecsapi.UpdateClusterOutput, error) {
	sc := s.scope(ctx)
	name, err := clusterName(sc, awsapi.ToString(in.Cluster))
	if err != nil {
		return nil, err
	}
	var out ecsapi.Cluster
	err = s.st.Update(func(tx store.Tx) error {
		c, err := s.activeCluster(tx, sc, name)
		if err != nil {
			return err
		}
		for _, set := range in.Settings {
			found := false
			for i := range c.Cluster.Settings {
				if awsapi.ToString(c.Cluster.Settings[i].Name) == awsapi.ToString(set.Name) {
					c.Cluster.Settings[i].Value, found = set.Value, true
				}
			}
			if !found {
				c.Cluster.Settings = append(c.Cluster.Settings, set)
			}
		}
		if in.Configuration != nil {
			c.Cluster.Configuration = in.Configuration
		}
		out = c.Cluster
		return putJSON(tx, sc.prefix()+"cluster/"+name, c)
	})
	if err != nil {
		return nil, err
	}
	out = s.withCounts(sc, out)
	return &ecsapi.UpdateClusterOutput{Cluster: &out}, nil
}

// DeleteCluster makes a cluster INACTIVE; one with tasks that have not
// stopped cannot be deleted.
func (s *Service) DeleteCluster(ctx context.Context, in *ecsapi.DeleteClusterInput) (*ecsapi.DeleteClusterOutput, error) {
	sc := s.scope(ctx)
	name, err := clusterName(sc, awsapi.ToString(in.Cluster))
	if err != nil {
		return nil, err
	}
	var out ecsapi.Cluster
	err = s.st.Update(func(tx store.Tx) error {
		var c clusterRecord
		found, err := getJSON(tx, sc.prefix()+"cluster/"+name, &c)
		if err != nil {
			return err
		}
		if !found || awsapi.ToString(c.Cluster.Status) != "ACTIVE" {
			return clusterNotFound()
		}
		busy := false
		err = liveTasks(tx, liveClusterPrefix(sc, name), func(liveEntry) (bool, error) {
			busy = true
			return false, nil
		})
		if err != nil {
			return err
		}
		if busy {
			return ecsapi.ErrClusterContainsTasksException("The Cluster cannot be deleted while Tasks are active.")
		}
		c.Cluster.Status = awsapi.String("INACTIVE")
		out = c.Cluster
		return putJSON(tx, sc.prefix()+"cluster/"+name, c)
	})
	if err != nil {
		return nil, err
	}
	out = s.withCounts(sc, out)
	return &ecsapi.DeleteClusterOutput{Cluster: &out}, nil
}

// ---- account settings ----

type settingRecord struct{ Name, Value, Principal string }

// settingDefaults are the effective values of settings nobody has put
// (ListAccountSettings docs: long ARN formats are on for every account now).
var settingDefaults = map[string]string{
	"serviceLongArnFormat": "enabled", "taskLongArnFormat": "enabled", "containerInstanceLongArnFormat": "enabled",
	"awsvpcTrunking": "disabled", "containerInsights": "disabled", "fargateFIPSMode": "disabled",
	"tagResourceAuthorization": "on", "fargateTaskRetirementWaitPeriod": "7", "guardDutyActivate": "off",
	"defaultLogDriverMode": "non-blocking",
}

func (s *Service) principal(ctx context.Context, sc scope, p *string) string {
	if v := awsapi.ToString(p); v != "" {
		return v
	}
	if a := awsapi.CallerFrom(ctx).ARN; a != "" {
		return a
	}
	return "arn:aws:iam::" + sc.account + ":root"
}

func checkSettingName(name string) error {
	if _, ok := settingDefaults[name]; !ok {
		return invalidParam("Invalid setting name: %s", name)
	}
	return nil
}

func (s *Service) putSetting(sc scope, principal, name, value string) (*ecsapi.Setting, error) {
	if err := checkSettingName(name); err != nil {
		return nil, err
	}
	if value == "" {
		return nil, invalidParam("Setting value must not be empty.")
	}
	err := s.st.Update(func(tx store.Tx) error {
		return putJSON(tx, sc.prefix()+"setting/"+principal+"/"+name, settingRecord{Name: name, Value: value, Principal: principal})
	})
	if err != nil {
		return nil, err
	}
	return &ecsapi.Setting{Name: awsapi.String(name), Value: awsapi.String(value), PrincipalArn: awsapi.String(principal), Type: awsapi.String("user")}, nil
}

// PutAccountSetting sets an account setting for a principal (default: the caller).
func (s *Service) PutAccountSetting(ctx context.Context, in *ecsapi.PutAccountSettingInput) (*ecsapi.PutAccountSettingOutput, error) {
	sc := s.scope(ctx)
	set, err := s.putSetting(sc, s.principal(ctx, sc, in.PrincipalArn), awsapi.ToString(in.Name), awsapi.ToString(in.Value))
	if err != nil {
		return nil, err
	}
	return &ecsapi.PutAccountSettingOutput{Setting: set}, nil
}

// PutAccountSettingDefault sets an account setting for every principal of the account.
func (s *Service) PutAccountSettingDefault(ctx context.Context, in *ecsapi.PutAccountSettingDefaultInput) (*ecsapi.PutAccountSettingDefaultOutput, error) {
	sc := s.scope(ctx)
	set, err := s.putSetting(sc, "arn:aws:iam::"+sc.account+":root", awsapi.ToString(in.Name), awsapi.ToString(in.Value))
	if err != nil {
		return nil, err
	}
	return &ecsapi.PutAccountSettingDefaultOutput{Setting: set}, nil
}

// DeleteAccountSetting removes a principal's setting.
func (s *Service) DeleteAccountSetting(ctx context.Context, in *ecsapi.DeleteAccountSettingInput) (*ecsapi.DeleteAccountSettingOutput, error) {
	sc := s.scope(ctx)
	name := awsapi.ToString(in.Name)
	if err := checkSettingName(name); err != nil {
		return nil, err
	}
	p := s.principal(ctx, sc, in.PrincipalArn)
	var rec settingRecord
	err := s.st.Update(func(tx store.Tx) error {
		found, err := getJSON(tx, sc.prefix()+"setting/"+p+"/"+name, &rec)
		if err != nil || !found {
			rec = settingRecord{Name: name, Value: settingDefaults[name], Principal: p}
			return err
		}
		return tx.Delete([]byte(sc.prefix() + "setting/" + p + "/" + name))
	})
	if err != nil {
		return nil, err
	}
	return &ecsapi.DeleteAccountSettingOutput{Setting: &ecsapi.Setting{Name: &rec.Name, Value: &rec.Value, PrincipalArn: &rec.Principal, Type: awsapi.String("user")}}, nil
}

// ListAccountSettings lists the settings put for a principal (default: the
// caller), with effectiveSettings the values in force, defaults included.
func (s *Service) ListAccountSettings(ctx context.Context, in *ecsapi.ListAccountSettingsInput) (*ecsapi.ListAccountSettingsOutput, error) {
	sc := s.scope(ctx)
	p := s.principal(ctx, sc, in.PrincipalArn)
	root := "arn:aws:iam::" + sc.account + ":root"
	vals := map[string]settingRecord{}
	if awsapi.ToBool(in.EffectiveSettings) {
		for k, v := range settingDefaults {
			vals[k] = settingRecord{Name: k, Value: v, Principal: p}
		}
	}
	err := s.st.View(func(tx store.Tx) error {
		for _, who := range []string{root, p} { // the principal's own override the account default
			err := tx.Scan([]byte(sc.prefix()+"setting/"+who+"/"), nil, func(_, v []byte) (bool, error) {
				var r settingRecord
				if err := json.Unmarshal(v, &r); err != nil {
					return false, err
				}
				if who == root && who != p && !awsapi.ToBool(in.EffectiveSettings) {
					return true, nil
				}
				r.Principal = p
				vals[r.Name] = r
				return true, nil
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	var list []ecsapi.Setting
	for _, r := range vals {
		if n := awsapi.ToString(in.Name); n != "" && r.Name != n {
			continue
		}
		if v := awsapi.ToString(in.Value); v != "" && r.Value != v {
			continue
		}
		list = append(list, ecsapi.Setting{Name: awsapi.String(r.Name), Value: awsapi.String(r.Value), PrincipalArn: awsapi.String(r.Principal), Type: awsapi.String("user")})
	}
	sort.Slice(list, func(i, j int) bool { return *list[i].Name < *list[j].Name })
	items, next, err := page(list, in.NextToken, in.MaxResults, 10)
	if err != nil {
		return nil, err
	}
	if items == nil {
		items = []ecsapi.Setting{}
	}
	return &ecsapi.ListAccountSettingsOutput{Settings: items, NextToken: next}, nil
}

// ---- tagging ----

// resourceKey finds the store key of a taggable resource ARN.
func (s *Service) resourceKey(tx store.Tx, sc scope, arn string) (string, error) {
	rest, ok := strings.CutPrefix(arn, sc.arn(""))
	if !ok {
		return "", invalidParam("The ARN provided is invalid.")
	}
	kind, id, _ := strings.Cut(rest, "/")
	switch kind {
	case "cluster":
		return sc.prefix() + "cluster/" + id, nil
	case "task-definition":
		fam, rev, ok := strings.Cut(id, ":")
		n, err := strconv.Atoi(rev)
		if !ok || err != nil {
			return "", invalidParam("The ARN provided is invalid.")
		}
		return fmt.Sprintf("%staskdef/%s/%010d", sc.prefix(), fam, n), nil
	case "capacity-provider":
		return providerKey(sc, id), nil
	case "task":
		cl, tid, ok := strings.Cut(id, "/")
		if !ok {
			return "", invalidParam("The ARN provided is invalid.")
		}
		return sc.prefix() + "task/" + cl + "/" + tid, nil
	}
	return "", invalidParam("The ARN provided is invalid.")
}

// taggedRecord is an empty record of the kind stored at key (a key from
// resourceKey) and a pointer to its tags, for reading or changing them.
func taggedRecord(key string) (v any, tags *[]ecsapi.Tag) {
	switch {
	case strings.Contains(key, "/cluster/"):
		c := &clusterRecord{}
		return c, &c.Cluster.Tags
	case strings.Contains(key, "/capacity-provider/"):
		p := &ecsapi.CapacityProvider{}
		return p, &p.Tags
	case strings.Contains(key, "/taskdef/"):
		d := &taskDefRecord{}
		return d, &d.Tags
	default:
		t := &taskRecord{}
		return t, &t.Task.Tags
	}
}

// withTags reads the resource at key, lets fn change its tags, and stores it.
func (s *Service) withTags(ctx context.Context, arn string, fn func(*[]ecsapi.Tag)) ([]ecsapi.Tag, error) {
	sc := s.scope(ctx)
	if strings.HasPrefix(arn, sc.arn("service/")) {
		// Services live in their own package.
		p := s.svcs.Load()
		if p == nil {
			return nil, ecsapi.ErrInvalidParameterException("The specified resource could not be found.")
		}
		tags, found, err := (*p).UpdateServiceTags(sc.account, sc.region, arn, fn)
		if err == nil && !found {
			err = ecsapi.ErrInvalidParameterException("The specified resource could not be found.")
		}
		return tags, err
	}
	var tags []ecsapi.Tag
	err := s.st.Update(func(tx store.Tx) error {
		key, err := s.resourceKey(tx, sc, arn)
		if err != nil {
			return err
		}
		v, tp := taggedRecord(key)
		found, err := getJSON(tx, key, v)
		if err != nil {
			return err
		}
		if !found {
			return ecsapi.ErrInvalidParameterException("The specified resource could not be found.")
		}
		if fn == nil {
			tags = *tp
			return nil
		}
		fn(tp)
		tags = *tp
		return putJSON(tx, key, v)
	})
	return tags, err
}

// TagResource adds tags to a cluster, capacity provider, service, task
// definition or task.
func (s *Service) TagResource(ctx context.Context, in *ecsapi.TagResourceInput) (*ecsapi.TagResourceOutput, error) {
	if err := checkTags(in.Tags); err != nil {
		return nil, err
	}
	_, err := s.withTags(ctx, awsapi.ToString(in.ResourceArn), func(t *[]ecsapi.Tag) { *t = mergeTags(*t, in.Tags) })
	if err != nil {
		return nil, err
	}
	return &ecsapi.TagResourceOutput{}, nil
}

// UntagResource removes tags by key.
func (s *Service) UntagResource(ctx context.Context, in *ecsapi.UntagResourceInput) (*ecsapi.UntagResourceOutput, error) {
	_, err := s.withTags(ctx, awsapi.ToString(in.ResourceArn), func(t *[]ecsapi.Tag) {
		var keep []ecsapi.Tag
		for _, tag := range *t {
			if !contains(in.TagKeys, awsapi.ToString(tag.Key)) {
				keep = append(keep, tag)
			}
		}
		*t = keep
	})
	if err != nil {
		return nil, err
	}
	return &ecsapi.UntagResourceOutput{}, nil
}

// ListTagsForResource lists a resource's tags.
func (s *Service) ListTagsForResource(ctx context.Context, in *ecsapi.ListTagsForResourceInput) (*ecsapi.ListTagsForResourceOutput, error) {
	tags, err := s.withTags(ctx, awsapi.ToString(in.ResourceArn), nil)
	if err != nil {
		return nil, err
	}
	if tags == nil {
		tags = []ecsapi.Tag{}
	}
	return &ecsapi.ListTagsForResourceOutput{Tags: tags}, nil
}
