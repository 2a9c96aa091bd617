package kubernetes

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/wharf-dev/wharf/internal/runtime"
)

// A container's resource use comes from its node's kubelet: the Summary API
// (/stats/summary), read through the API server's node proxy, which needs
// the nodes/proxy permission (deploy/kubernetes grants it). The API server
// proxies to no loopback or link-local node address, so for a node known by
// one (a single-node cluster on 127.0.0.1) wharf asks the kubelet itself,
// with its own credentials and the cluster's CA, as the API server would
// (nodes get and nodes/stats permissions). The kubelet refreshes the summary
// every 10-15 s (its housekeeping interval), so two reads close together
// may be the same sample; ECS then computes CPU from the next.

var _ runtime.StatsReader = (*Runner)(nil)

// summaryTTL is how long a node's summary is reused: every container of
// every task on a node is sampled in one pass, from one read.
const summaryTTL = time.Second

// summary is the part of the kubelet's Summary API (stats/v1alpha1) read here.
type summary struct {
	Pods []struct {
		PodRef struct {
			Name      string `json:"name"`
			Namespace string `json:"namespace"`
		} `json:"podRef"`
		Containers []struct {
			Name string `json:"name"`
			CPU  *struct {
				Time                 time.Time `json:"time"`
				UsageCoreNanoSeconds *uint64   `json:"usageCoreNanoSeconds"`
			} `json:"cpu"`
			Memory *struct {
				Time            time.Time `json:"time"`
				WorkingSetBytes *uint64   `json:"workingSetBytes"`
			} `json:"memory"`
		} `json:"containers"`
	} `json:"pods"`
}

type summaryCache struct {
	mu    sync.Mutex
	nodes map[string]cachedSummary
}

type cachedSummary struct {
	at  time.Time
	sum *summary
}

// nodeSummary reads node's summary, or the one read less than summaryTTL ago.
func (r *Runner) nodeSummary(ctx context.Context, node string) (*summary, error) {
	r.summaries.mu.Lock()
	defer r.summaries.mu.Unlock()
	if c, ok := r.summaries.nodes[node]; ok && time.Since(c.at) < summaryTTL {
		return c.sum, nil
	}
	raw, err := r.cs.nodeProxy(ctx, node, "stats/summary")
	if isBadRequest(err) {
		// "address not allowed": the node's address is loopback.
		raw, err = r.kubeletSummary(ctx, node)
	}
	if isForbidden(err) || isUnauthorized(err) {
		return nil, fmt.Errorf("%w: reading node %s's kubelet stats summary needs get on nodes/proxy: %v", runtime.ErrNoStats, node, err)
	}
	if err != nil {
		return nil, fmt.Errorf("node %s stats summary: %w", node, err)
	}
	var s summary
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, fmt.Errorf("node %s stats summary: %w", node, err)
	}
	if r.summaries.nodes == nil {
		r.summaries.nodes = map[string]cachedSummary{}
	}
	r.summaries.nodes[node] = cachedSummary{at: time.Now(), sum: &s}
	return &s, nil
}

// Stats returns the container's CPU time and working set as its kubelet
// last measured them, timed by the kubelet's own sample time. The memory
// limit is the container's, when it has one; what the kubelet does not
// report (kernel and user time, the host's CPU time) stays zero.
func (r *Runner) Stats(ctx context.Context, cid string) (runtime.Stats, error) {
	if err := r.watch(ctx); err != nil {
		return runtime.Stats{}, err
	}
	ns, p, c, ok := parseID(cid)
	if !ok {
		return runtime.Stats{}, runtime.ErrNotFound
	}
	pod, deleted := r.pod(ns, p)
	if pod == nil || deleted || pod.Spec.NodeName == "" {
		return runtime.Stats{}, runtime.ErrNotFound
	}
	sum, err := r.nodeSummary(ctx, pod.Spec.NodeName)
	if err != nil {
		return runtime.Stats{}, err
	}
	return containerStats(sum, pod.Namespace, pod.Name, c, limitOf(pod.Spec.Containers, c))
}

// containerStats finds container c of Pod ns/name in the summary.
func containerStats(sum *summary, ns, name, c string, limit uint64) (runtime.Stats, error) {
	for _, ps := range sum.Pods {
		if ps.PodRef.Namespace != ns || ps.PodRef.Name != name {
			continue
		}
		for _, cs := range ps.Containers {
			if cs.Name != c || cs.CPU == nil || cs.CPU.UsageCoreNanoSeconds == nil {
				continue
			}
			st := runtime.Stats{Read: cs.CPU.Time, CPUTotal: *cs.CPU.UsageCoreNanoSeconds, MemoryLimit: limit}
			if m := cs.Memory; m != nil && m.WorkingSetBytes != nil {
				st.MemoryUsage = *m.WorkingSetBytes
			}
			return st, nil
		}
	}
	// A container the kubelet has not measured yet (just started): no
	// sample, which is not a sample of zero.
	return runtime.Stats{}, fmt.Errorf("container %s of Pod %s/%s: not in its node's stats summary yet", c, ns, name)
}

// limitOf is container c's memory limit in bytes, 0 without one.
func limitOf(cs []Container, c string) uint64 {
	for _, k := range cs {
		if k.Name != c {
			continue
		}
		if v, ok := parseQuantity(k.Resources.Limits["memory"]); ok && v > 0 {
			return uint64(v)
		}
	}
	return 0
}

// kubeletSummary reads node's stats summary from its kubelet directly, at
// the node's InternalIP and kubelet port, authenticated as wharf is to the
// API server.
func (r *Runner) kubeletSummary(ctx context.Context, name string) ([]byte, error) {
	node, err := r.cs.getNode(ctx, name)
	if err != nil {
		return nil, err
	}
	var ip string
	for _, a := range node.Status.Addresses {
		if a.Type == "InternalIP" {
			ip = a.Address
			break
		}
	}
	port := node.Status.DaemonEndpoints.KubeletEndpoint.Port
	if ip == "" || port == 0 {
		return nil, fmt.Errorf("%w: node %s has no InternalIP or kubelet port to read its stats summary from", runtime.ErrNoStats, name)
	}
	hc := r.kubeletClient()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "https://"+net.JoinHostPort(ip, strconv.Itoa(int(port)))+"/stats/summary", nil)
	if err != nil {
		return nil, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("kubelet of node %s: %w", name, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("kubelet of node %s: %w", name, err)
	}
	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return nil, fmt.Errorf("%w: the kubelet of node %s refused its stats summary (%s): wharf needs get on nodes/stats", runtime.ErrNoStats, name, resp.Status)
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("kubelet of node %s: %s: %s", name, resp.Status, bytes.TrimSpace(body))
	}
	return body, nil
}

// kubeletClient is an HTTP client with wharf's credentials and the cluster's
// CA, made once.
func (r *Runner) kubeletClient() *http.Client {
	r.kubeletOnce.Do(func() {
		tc := r.cfg.TLS.Clone()
		tc.ServerName = "" // the kubelet's certificate names the node, not the API server
		r.kubeletHC.Store(&http.Client{Transport: r.cfg.transport(tc), Timeout: 10 * time.Second})
	})
	return r.kubeletHC.Load()
}
