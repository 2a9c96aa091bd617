package ecs

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/wharf-dev/wharf/internal/awsapi"
	ecsapi "github.com/wharf-dev/wharf/internal/awsapi/ecs"
	"github.com/wharf-dev/wharf/internal/runtime"
	"github.com/wharf-dev/wharf/internal/service/cloudwatch"
)

func TestReservationsFollowTheTaskSizeElseItsContainers(t *testing.T) {
	ctr := func(cpu, mem, soft string) ecsapi.Container {
		c := ecsapi.Container{}
		if cpu != "" {
			c.Cpu = &cpu
		}
		if mem != "" {
			c.Memory = &mem
		}
		if soft != "" {
			c.MemoryReservation = &soft
		}
		return c
	}
	for _, tc := range []struct {
		name             string
		cpu, mem         string
		containers       []ecsapi.Container
		wantCPU, wantMem float64
	}{
		{"task size in units", "256", "512", []ecsapi.Container{ctr("0", "", "")}, 256, 512},
		{"task size in vCPU and GB", "1 vCPU", "2 GB", nil, 1024, 2048},
		{"containers: soft limit before hard limit", "", "", []ecsapi.Container{ctr("100", "300", "200"), ctr("28", "64", "")}, 128, 264},
		{"nothing reserved", "", "", []ecsapi.Container{ctr("0", "", "")}, 0, 0},
		{"garbage is no reservation", "lots", "-5", nil, 0, 0},
	} {
		r := &taskRecord{Task: ecsapi.Task{Containers: tc.containers}}
		if tc.cpu != "" {
			r.Task.Cpu = &tc.cpu
		}
		if tc.mem != "" {
			r.Task.Memory = &tc.mem
		}
		if got := reservedCPU(r); got != tc.wantCPU {
			t.Errorf("%s: CPU %v, want %v", tc.name, got, tc.wantCPU)
		}
		if got := reservedMemory(r); got != tc.wantMem {
			t.Errorf("%s: memory %v, want %v", tc.name, got, tc.wantMem)
		}
	}
}

// statsRunner is a fakeRunner whose containers report scripted samples.
type statsRunner struct {
	*fakeRunner
	samples chan runtime.Stats
}

func (r *statsRunner) Stats(context.Context, string) (runtime.Stats, error) {
	return <-r.samples, nil
}

type recordedMetrics struct{ data chan cloudwatch.Datum }

func (m *recordedMetrics) Put(_ context.Context, account, region, namespace string, data ...cloudwatch.Datum) error {
	for _, d := range data {
		m.data <- d
	}
	return nil
}

// TestUtilizationIsCPUUsedBetweenSamplesOverTheReservation: two samples a
// second apart in which the container used half a vCPU and holds 64 MiB make
// a task reserving 256 units and 128 MiB 200% and 50% busy, per service and
// per cluster; the first sample alone gives memory but no CPU.
func TestUtilizationIsCPUUsedBetweenSamplesOverTheReservation(t *testing.T) {
	sr := &statsRunner{fakeRunner: newFakeRunner(), samples: make(chan runtime.Stats, 2)}
	h := newHarness(t, sr, nil)
	m := &recordedMetrics{data: make(chan cloudwatch.Datum, 100)}
	h.svc.SetMetrics(m)
	family := "sized"
	out, err := h.svc.RegisterTaskDefinition(h.ctx, &ecsapi.RegisterTaskDefinitionInput{Family: &family, Cpu: awsapi.String("256"), Memory: awsapi.String("128"),
		ContainerDefinitions: []ecsapi.ContainerDefinition{container("main", "img", true)}})
	if err != nil {
		t.Fatal(err)
	}
	task, err := h.svc.RunTask(h.ctx, &ecsapi.RunTaskInput{TaskDefinition: out.TaskDefinition.TaskDefinitionArn, Group: awsapi.String("service:web")})
	if err != nil {
		t.Fatal(err)
	}
	h.waitStatus(*task.Tasks[0].TaskArn, "RUNNING")
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	sr.samples <- runtime.Stats{Read: t0, CPUTotal: 1e9, MemoryUsage: 64 << 20}
	h.svc.publishStats(h.ctx)
	got := map[string]float64{}
	collect := func() {
		for {
			select {
			case d := <-m.data:
				got[d.MetricName+"/"+d.Dimensions["ServiceName"]] = d.Value
				if d.Unit != "Percent" || d.Dimensions["ClusterName"] != "default" {
					t.Errorf("datum %+v", d)
				}
			default:
				return
			}
		}
	}
	collect()
	if len(got) != 2 || got["MemoryUtilization/web"] != 50 || got["MemoryUtilization/"] != 50 {
		t.Fatalf("after one sample: %v", got)
	}
	sr.samples <- runtime.Stats{Read: t0.Add(time.Second), CPUTotal: 1.5e9, MemoryUsage: 64 << 20}
	h.svc.publishStats(h.ctx)
	clear(got)
	collect()
	want := map[string]float64{"CPUUtilization/web": 200, "CPUUtilization/": 200, "MemoryUtilization/web": 50, "MemoryUtilization/": 50}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v (all: %v)", k, got[k], v, got)
		}
	}
}

// TestStatsNotAvailableIsSaidNotFaked: on a runtime that cannot measure its
// containers the metadata endpoint's /stats and /task/stats answer an error
// saying so, never numbers.
func TestStatsNotAvailableIsSaidNotFaked(t *testing.T) {
	h := newHarness(t, newFakeRunner(), nil)
	task := h.run(h.register("app", container("main", "img", true)), nil)
	h.waitStatus(*task.TaskArn, "RUNNING")
	base := "http://" + h.svc.EndpointAddr() + "/v4/" + taskID(*task.TaskArn) + "/main"
	for _, path := range []string{"/stats", "/task/stats"} {
		code, m := get(t, base+path, "")
		if code != http.StatusNotImplemented || m["message"] != runtime.ErrNoStats.Error() {
			t.Errorf("%s = %d %v", path, code, m)
		}
	}
}
