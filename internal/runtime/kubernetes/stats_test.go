package kubernetes

import (
	"encoding/json"
	"testing"
	"time"
)

// A kubelet's stats summary in the shape of its Summary API (stats/v1alpha1),
// trimmed: a Pod with a measured container and one not measured yet.
const kubeletSummary = `{
 "node": {"nodeName": "127.0.0.1", "cpu": {"time": "2026-12-06T09:00:00Z", "usageCoreNanoSeconds": 999}},
 "pods": [
  {"podRef": {"name": "other", "namespace": "wharf-c", "uid": "u1"}, "containers": [
    {"name": "app", "cpu": {"time": "2026-12-06T09:00:00Z", "usageNanoCores": 1, "usageCoreNanoSeconds": 1}}]},
  {"podRef": {"name": "task-1", "namespace": "wharf-c", "uid": "u2"}, "containers": [
    {"name": "app", "startTime": "2026-12-06T08:59:00Z",
     "cpu": {"time": "2026-12-06T09:00:05Z", "usageNanoCores": 250000000, "usageCoreNanoSeconds": 1500000000},
     "memory": {"time": "2026-12-06T09:00:05Z", "usageBytes": 40000000, "workingSetBytes": 33554432, "rssBytes": 30000000}},
    {"name": "sidecar", "startTime": "2026-12-06T09:00:04Z"}]}
 ]
}`

func TestStatsComeFromTheKubeletSummary(t *testing.T) {
	var sum summary
	if err := json.Unmarshal([]byte(kubeletSummary), &sum); err != nil {
		t.Fatal(err)
	}
	st, err := containerStats(&sum, "wharf-c", "task-1", "app", 64<<20)
	if err != nil {
		t.Fatal(err)
	}
	if !st.Read.Equal(time.Date(2026, 12, 6, 9, 0, 5, 0, time.UTC)) || st.CPUTotal != 1500000000 || st.MemoryUsage != 32<<20 || st.MemoryLimit != 64<<20 || st.Doc != nil {
		t.Errorf("stats %+v", st)
	}
	// Not measured yet, or not there: an error, never a sample of zero.
	for _, c := range []struct{ pod, container string }{{"task-1", "sidecar"}, {"task-2", "app"}} {
		if st, err := containerStats(&sum, "wharf-c", c.pod, c.container, 0); err == nil {
			t.Errorf("%s/%s: %+v", c.pod, c.container, st)
		}
	}
}

func TestMemoryLimitIsTheContainers(t *testing.T) {
	cs := []Container{{Name: "a"}, {Name: "b", Resources: ResourceRequirements{Limits: map[string]string{"memory": "256Mi"}}}}
	if got := limitOf(cs, "b"); got != 256<<20 {
		t.Errorf("limit of b = %d", got)
	}
	if got := limitOf(cs, "a"); got != 0 {
		t.Errorf("limit of a = %d", got)
	}
}

func TestQuantities(t *testing.T) {
	for in, want := range map[string]int64{
		"256Mi": 256 << 20, "268435456": 268435456, "1G": 1e9, "1Gi": 1 << 30, "500m": 1, "2": 2, "1e3": 1000, "1.5Ki": 1536, "64k": 64000,
	} {
		if got, ok := parseQuantity(in); !ok || got != want {
			t.Errorf("parseQuantity(%q) = %d, %v; want %d", in, got, ok, want)
		}
	}
	for _, bad := range []string{"", "x", "12Qi", "-1Mi", "Mi"} {
		if got, ok := parseQuantity(bad); ok {
			t.Errorf("parseQuantity(%q) = %d, want refused", bad, got)
		}
	}
}
