package ecs

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/wharf-dev/wharf/internal/awsapi"
	"github.com/wharf-dev/wharf/internal/runtime"
	"github.com/wharf-dev/wharf/internal/service/cloudwatch"
	"github.com/wharf-dev/wharf/internal/service/ecs/taskstate"
)

// Metrics receives the AWS/ECS CPUUtilization and MemoryUtilization
// metrics. CloudWatch implements it; Application Auto Scaling's
// ECSServiceAverageCPUUtilization policies read them there.
type Metrics interface {
	Put(ctx context.Context, account, region, namespace string, data ...cloudwatch.Datum) error
}

// DefaultStatsInterval is how often a Service whose Options leave
// StatsInterval zero samples its running tasks: every 20 seconds, as the ECS
// agent does for the metrics it reports each minute (Amazon ECS service
// utilization metrics).
const DefaultStatsInterval = 20 * time.Second

// SetMetrics makes the service publish AWS/ECS utilization to m. Call it
// before Run.
func (s *Service) SetMetrics(m Metrics) { s.metrics = m }

// statsReader is the runner's statistics, or nil when the runtime has none.
func (s *Service) statsReader() runtime.StatsReader {
	sr, _ := s.runner.(runtime.StatsReader)
	return sr
}

// containerStats samples the container with runtime id and returns it with
// the sample before it (zero when this is the first), which becomes the next
// one's previous: the CPU a container used is a difference of two samples.
func (s *Service) containerStats(ctx context.Context, id string) (cur, prev runtime.Stats, err error) {
	sr := s.statsReader()
	if sr == nil {
		return cur, prev, runtime.ErrNoStats
	}
	cur, err = sr.Stats(ctx, id)
	if err != nil {
		return cur, prev, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	prev = s.lastStats[id]
	if prev.Read.Before(cur.Read) {
		s.lastStats[id] = cur
	}
	return cur, prev, nil
}

// statsLoop samples every running task each interval and publishes AWS/ECS
// metrics, until ctx ends.
func (s *Service) statsLoop(ctx context.Context) {
	if s.statsReader() == nil {
		return
	}
	t := time.NewTicker(s.statsInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		s.publishStats(ctx)
	}
}

// usage is one task's resource use in one sample, as percentages of what
// its task definition reserves; ok is false for a measure with nothing to
// measure against (no reservation, or no earlier CPU sample yet).
type usage struct {
	cpuUnits, cpuReserved float64
	cpuOK                 bool
	memMiB, memReserved   float64
	memOK                 bool
}

// taskUsage samples every container of running task r.
func (s *Service) taskUsage(ctx context.Context, r *taskRecord) (usage, error) {
	var u usage
	cpuOK := true
	for _, id := range r.Runtime {
		cur, prev, err := s.containerStats(ctx, id)
		if err != nil {
			return u, err
		}
		u.memMiB += float64(cur.MemoryUsage) / (1 << 20)
		if dt := cur.Read.Sub(prev.Read); prev.Read.IsZero() || dt <= 0 || cur.CPUTotal < prev.CPUTotal {
			cpuOK = false
		} else {
			// ECS counts CPU in units of 1/1024 of a vCPU.
			u.cpuUnits += float64(cur.CPUTotal-prev.CPUTotal) / float64(dt) * 1024
		}
	}
	u.cpuReserved, u.memReserved = reservedCPU(r), reservedMemory(r)
	u.cpuOK = cpuOK && u.cpuReserved > 0
	u.memOK = u.memReserved > 0
	return u, nil
}

// reservedCPU is the task's CPU units: the task size when set, else its
// containers' cpu.
func reservedCPU(r *taskRecord) float64 {
	if n := parseSize(awsapi.ToString(r.Task.Cpu), "vcpu", 1024); n > 0 {
		return n
	}
	var sum float64
	for _, c := range r.Task.Containers {
		sum += parseSize(awsapi.ToString(c.Cpu), "vcpu", 1024)
	}
	return sum
}

// reservedMemory is the task's memory in MiB: the task size when set, else
// each container's soft limit (memoryReservation) or, without one, its hard
// limit (memory), as the service utilization docs say.
func reservedMemory(r *taskRecord) float64 {
	if n := parseSize(awsapi.ToString(r.Task.Memory), "gb", 1024); n > 0 {
		return n
	}
	var sum float64
	for _, c := range r.Task.Containers {
		if n := parseSize(awsapi.ToString(c.MemoryReservation), "gb", 1024); n > 0 {
			sum += n
		} else {
			sum += parseSize(awsapi.ToString(c.Memory), "gb", 1024)
		}
	}
	return sum
}

// parseSize reads a task size: a number ("512"), or a number of unit ("1
// vCPU", "2 GB"), which is worth per each.
func parseSize(v, unit string, per float64) float64 {
	v = strings.TrimSpace(strings.ToLower(v))
	mult := 1.0
	if n, ok := strings.CutSuffix(v, unit); ok {
		v, mult = strings.TrimSpace(n), per
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f < 0 || math.IsInf(f, 0) {
		return 0
	}
	return f * mult
}

// publishStats samples each RUNNING task and publishes AWS/ECS
// CPUUtilization and MemoryUtilization: per service (ClusterName and
// ServiceName), one datum per task, so that Average is the service's
// utilization and Minimum and Maximum its least and most busy task's, as the
// service utilization docs describe; and per cluster (ClusterName), the
// cluster's tasks' use over their reservations. AWS divides a cluster's use
// by the CPU and memory of its registered container instances; wharf's
// tasks run on no registered instance, so their reservations stand in.
// Nothing is published for a cluster or service without running tasks, as
// on AWS.
func (s *Service) publishStats(ctx context.Context) {
	recs, err := s.unfinished()
	if err != nil {
		s.log.Warn("ecs: stats", "err", err)
		return
	}
	type scopeKey struct{ account, region string }
	type clusterKey struct {
		scopeKey
		cluster string
	}
	batches := map[scopeKey][]cloudwatch.Datum{}
	clusters := map[clusterKey]*usage{}
	now := s.now().UTC()
	percent := func(name string, dims map[string]string, v float64) cloudwatch.Datum {
		return cloudwatch.Datum{MetricName: name, Dimensions: dims, Time: now, Value: v, Unit: "Percent"}
	}
	live := map[string]bool{}
	var unavailable error
	for _, r := range recs {
		for _, id := range r.Runtime {
			live[id] = true
		}
		if taskstate.Of(r.Task.LastStatus) != taskstate.Running || len(r.Runtime) == 0 {
			continue
		}
		u, err := s.taskUsage(ctx, r)
		if errors.Is(err, runtime.ErrNoStats) {
			unavailable = err
			continue
		}
		if err != nil {
			if ctx.Err() == nil && !errors.Is(err, runtime.ErrNotFound) {
				s.log.Debug("ecs: task stats", "task", r.id(), "err", err)
			}
			continue
		}
		sk := scopeKey{r.Account, r.Region}
		ck := clusterKey{sk, r.Cluster}
		c := clusters[ck]
		if c == nil {
			c = &usage{}
			clusters[ck] = c
		}
		if u.cpuOK {
			c.cpuUnits += u.cpuUnits
			c.cpuReserved += u.cpuReserved
			c.cpuOK = true
		}
		if u.memOK {
			c.memMiB += u.memMiB
			c.memReserved += u.memReserved
			c.memOK = true
		}
		svc, ok := strings.CutPrefix(awsapi.ToString(r.Task.Group), "service:")
		if !ok {
			continue
		}
		dims := map[string]string{"ClusterName": r.Cluster, "ServiceName": svc}
		if u.cpuOK {
			batches[sk] = append(batches[sk], percent("CPUUtilization", dims, u.cpuUnits*100/u.cpuReserved))
		}
		if u.memOK {
			batches[sk] = append(batches[sk], percent("MemoryUtilization", dims, u.memMiB*100/u.memReserved))
		}
	}
	if unavailable != nil && !s.statsWarned {
		s.statsWarned = true
		s.log.Warn("ecs: no CPUUtilization or MemoryUtilization metrics", "runtime", s.runner.Name(), "err", unavailable)
	}
	for ck, c := range clusters {
		dims := map[string]string{"ClusterName": ck.cluster}
		if c.cpuOK {
			batches[ck.scopeKey] = append(batches[ck.scopeKey], percent("CPUUtilization", dims, c.cpuUnits*100/c.cpuReserved))
		}
		if c.memOK {
			batches[ck.scopeKey] = append(batches[ck.scopeKey], percent("MemoryUtilization", dims, c.memMiB*100/c.memReserved))
		}
	}
	// The previous samples of containers that have ended go with them.
	s.mu.Lock()
	for id := range s.lastStats {
		if !live[id] {
			delete(s.lastStats, id)
		}
	}
	s.mu.Unlock()
	if s.metrics == nil {
		return
	}
	keys := make([]scopeKey, 0, len(batches))
	for k := range batches {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].account+keys[i].region < keys[j].account+keys[j].region })
	for _, k := range keys {
		if err := s.metrics.Put(ctx, k.account, k.region, "AWS/ECS", batches[k]...); err != nil && ctx.Err() == nil {
			s.log.Warn("ecs: metrics", "err", err)
		}
	}
}

// statsDocument is container name's statistics as the task metadata
// endpoint serves them: Docker's stats document (the engine's own when the
// runtime is Docker), with the previous sample as precpu_stats and preread,
// as the ECS agent's are (Task metadata endpoint version 4).
func (s *Service) statsDocument(ctx context.Context, r *taskRecord, name string) (map[string]any, error) {
	id := r.Runtime[name]
	if id == "" {
		return nil, runtime.ErrNotFound
	}
	cur, prev, err := s.containerStats(ctx, id)
	if err != nil {
		return nil, err
	}
	doc := dockerStats(cur, runtimeName(r, name), id)
	if !prev.Read.IsZero() && prev.Read.Before(cur.Read) {
		doc["preread"] = prev.Read.UTC().Format(time.RFC3339Nano)
		doc["precpu_stats"] = dockerStats(prev, "", "")["cpu_stats"]
	}
	return doc, nil
}

// dockerStats is st in the shape of Docker's stats document: the engine's
// own document when the runtime gave one, else built from the sample's
// fields.
func dockerStats(st runtime.Stats, name, id string) map[string]any {
	var doc map[string]any
	if len(st.Doc) > 0 && json.Unmarshal(st.Doc, &doc) == nil {
		return doc
	}
	cpu := func(total, kernel, user, system uint64, cpus int) map[string]any {
		return map[string]any{
			"cpu_usage":        map[string]any{"total_usage": total, "usage_in_kernelmode": kernel, "usage_in_usermode": user},
			"system_cpu_usage": system, "online_cpus": cpus,
			"throttling_data": map[string]any{"periods": 0, "throttled_periods": 0, "throttled_time": 0},
		}
	}
	return map[string]any{
		"read": st.Read.UTC().Format(time.RFC3339Nano), "preread": time.Time{}.Format(time.RFC3339Nano),
		"name": "/" + name, "id": id, "num_procs": 0,
		"pids_stats":   map[string]any{"current": st.PIDs},
		"cpu_stats":    cpu(st.CPUTotal, st.CPUKernel, st.CPUUser, st.SystemCPU, st.OnlineCPUs),
		"precpu_stats": cpu(0, 0, 0, 0, 0),
		"memory_stats": map[string]any{"usage": st.MemoryUsage, "limit": st.MemoryLimit},
	}
}

// serveTaskStats serves /task/stats: every container's statistics by its
// runtime id, null for a container not running (as the ECS agent does for
// one without statistics).
func (s *Service) serveTaskStats(w http.ResponseWriter, req *http.Request) {
	r := s.taskByID(req.PathValue("task"))
	if r == nil || containerDef(&r.Def, req.PathValue("container")) == nil {
		writeJSON(w, http.StatusNotFound, map[string]string{"message": "task or container not found"})
		return
	}
	out := map[string]any{}
	for _, cd := range r.Def.ContainerDefinitions {
		name := awsapi.ToString(cd.Name)
		id := r.Runtime[name]
		if id == "" {
			continue
		}
		doc, err := s.statsDocument(req.Context(), r, name)
		switch {
		case errors.Is(err, runtime.ErrNoStats):
			writeStatsError(w, err)
			return
		case err != nil:
			out[id] = nil
		default:
			out[id] = doc
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// writeStatsError answers a statistics request that could not be served: a
// runtime that has no statistics says so rather than serving made-up ones.
func writeStatsError(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, runtime.ErrNotFound):
		writeJSON(w, http.StatusNotFound, map[string]string{"message": "container not running"})
	case errors.Is(err, runtime.ErrNoStats):
		writeJSON(w, http.StatusNotImplemented, map[string]string{"message": err.Error()})
	default:
		writeJSON(w, http.StatusInternalServerError, map[string]string{"message": "unable to get container stats: " + err.Error()})
	}
}
