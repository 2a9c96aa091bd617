package docker

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/wharf-dev/wharf/internal/runtime"
)

var _ runtime.StatsReader = (*Runner)(nil)

// statsDoc is the part of the engine's statistics document (GET
// /containers/{id}/stats) that ECS's metrics are computed from.
type statsDoc struct {
	Read      time.Time `json:"read"`
	PidsStats struct {
		Current uint64 `json:"current"`
	} `json:"pids_stats"`
	CPUStats struct {
		CPUUsage struct {
			TotalUsage        uint64 `json:"total_usage"`
			UsageInKernelmode uint64 `json:"usage_in_kernelmode"`
			UsageInUsermode   uint64 `json:"usage_in_usermode"`
		} `json:"cpu_usage"`
		SystemCPUUsage uint64 `json:"system_cpu_usage"`
		OnlineCPUs     int    `json:"online_cpus"`
	} `json:"cpu_stats"`
	MemoryStats struct {
		Usage uint64            `json:"usage"`
		Limit uint64            `json:"limit"`
		Stats map[string]uint64 `json:"stats"`
	} `json:"memory_stats"`
}

// Stats samples the container once (one-shot: the engine does not wait a
// second for a previous sample; ECS keeps its own).
func (r *Runner) Stats(ctx context.Context, id string) (runtime.Stats, error) {
	resp, err := r.do(ctx, http.MethodGet, "/containers/"+id+"/stats", url.Values{"stream": {"false"}, "one-shot": {"true"}}, nil)
	if notFound(err) {
		return runtime.Stats{}, runtime.ErrNotFound
	}
	if err != nil {
		return runtime.Stats{}, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return runtime.Stats{}, fmt.Errorf("container stats: %w", err)
	}
	return parseStats(raw)
}

// parseStats reads the engine's document. Memory in use leaves out the
// inactive page cache, as docker stats does: total_inactive_file under
// cgroup v1, inactive_file under v2.
func parseStats(raw []byte) (runtime.Stats, error) {
	var d statsDoc
	if err := json.Unmarshal(raw, &d); err != nil {
		return runtime.Stats{}, fmt.Errorf("container stats: %w", err)
	}
	mem := d.MemoryStats.Usage
	cache, ok := d.MemoryStats.Stats["total_inactive_file"]
	if !ok {
		cache = d.MemoryStats.Stats["inactive_file"]
	}
	if cache < mem {
		mem -= cache
	}
	c := d.CPUStats
	return runtime.Stats{
		Read: d.Read, CPUTotal: c.CPUUsage.TotalUsage, CPUKernel: c.CPUUsage.UsageInKernelmode, CPUUser: c.CPUUsage.UsageInUsermode,
		SystemCPU: c.SystemCPUUsage, OnlineCPUs: c.OnlineCPUs,
		MemoryUsage: mem, MemoryLimit: d.MemoryStats.Limit, PIDs: d.PidsStats.Current, Doc: raw,
	}, nil
}
