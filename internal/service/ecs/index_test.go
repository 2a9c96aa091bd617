package ecs

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wharf-dev/wharf/internal/awsapi"
	ecsapi "github.com/wharf-dev/wharf/internal/awsapi/ecs"
	"github.com/wharf-dev/wharf/internal/runtime"
	"github.com/wharf-dev/wharf/internal/store"
)

// listAll pages through ListTasks two at a time and returns every ARN.
func (h *harness) listAll(in ecsapi.ListTasksInput) []string {
	h.t.Helper()
	in.MaxResults = awsapi.Int32(2)
	var arns []string
	for range 100 {
		out, err := h.svc.ListTasks(h.ctx, &in)
		if err != nil {
			h.t.Fatalf("ListTasks(%+v): %v", in, err)
		}
		arns = append(arns, out.TaskArns...)
		if out.NextToken == nil {
			return arns
		}
		in.NextToken = out.NextToken
	}
	h.t.Fatal("ListTasks never ended")
	return nil
}

// tasksFixture runs, in this order, three "web" tasks started by "ci" (the
// second then stopped), one "worker" task in group service:queue, and one
// "worker" task whose start fails; each a second after the one before.
// (The fake runner's Stop ends the latest container of a name, so tasks
// end through exitTask.)
type tasksFixture struct {
	web1, web2, web3, worker, failed string
}

func newTasksFixture(h *harness) tasksFixture {
	h.t.Helper()
	web := h.register("web", container("main", "img", true))
	worker := h.register("worker", container("main", "img", true))
	h.fake.mu.Lock()
	h.fake.failing["broken"] = &runtime.PullError{Image: "broken", Err: errors.New("pull access denied for broken")}
	h.fake.mu.Unlock()
	broken := h.register("worker", container("main", "broken", true))
	var f tasksFixture
	run := func(in ecsapi.RunTaskInput, wait string) string {
		now := h.clock.Load().Add(time.Second)
		h.clock.Store(&now)
		out, err := h.svc.RunTask(h.ctx, &in)
		if err != nil {
			h.t.Fatal(err)
		}
		arn := *out.Tasks[0].TaskArn
		h.waitStatus(arn, wait)
		return arn
	}
	f.web1 = run(ecsapi.RunTaskInput{TaskDefinition: &web, StartedBy: awsapi.String("ci")}, "RUNNING")
	f.web2 = run(ecsapi.RunTaskInput{TaskDefinition: &web, StartedBy: awsapi.String("ci")}, "RUNNING")
	f.web3 = run(ecsapi.RunTaskInput{TaskDefinition: &web, StartedBy: awsapi.String("ci")}, "RUNNING")
	f.worker = run(ecsapi.RunTaskInput{TaskDefinition: &worker, Group: awsapi.String("service:queue")}, "RUNNING")
	f.failed = run(ecsapi.RunTaskInput{TaskDefinition: &broken}, "STOPPED")
	h.fake.exitTask(f.web2, 0)
	h.waitStatus(f.web2, "STOPPED")
	return f
}

// check lists with each filter, paging, and compares with what AWS lists.
func (f tasksFixture) check(h *harness) {
	h.t.Helper()
	s := awsapi.String
	for _, c := range []struct {
		name string
		in   ecsapi.ListTasksInput
		want []string
	}{
		{"running", ecsapi.ListTasksInput{}, []string{f.web1, f.web3, f.worker}},
		{"stopped", ecsapi.ListTasksInput{DesiredStatus: s("STOPPED")}, []string{f.web2, f.failed}},
		{"pending", ecsapi.ListTasksInput{DesiredStatus: s("PENDING")}, nil},
		{"family", ecsapi.ListTasksInput{Family: s("web")}, []string{f.web1, f.web3}},
		{"family stopped", ecsapi.ListTasksInput{Family: s("worker"), DesiredStatus: s("STOPPED")}, []string{f.failed}},
		{"startedBy", ecsapi.ListTasksInput{StartedBy: s("ci")}, []string{f.web1, f.web3}},
		{"startedBy and family", ecsapi.ListTasksInput{StartedBy: s("ci"), Family: s("worker")}, nil},
		{"service", ecsapi.ListTasksInput{ServiceName: s("queue")}, []string{f.worker}},
		{"launch type", ecsapi.ListTasksInput{LaunchType: s("EC2")}, nil},
		{"launch type FARGATE", ecsapi.ListTasksInput{LaunchType: s("FARGATE")}, []string{f.web1, f.web3, f.worker}},
		{"container instance", ecsapi.ListTasksInput{ContainerInstance: s("x")}, nil},
	} {
		if got := h.listAll(c.in); !slices.Equal(got, c.want) {
			h.t.Errorf("%s: ListTasks = %v, want %v", c.name, got, c.want)
		}
	}
	d, err := h.svc.DescribeClusters(h.ctx, &ecsapi.DescribeClustersInput{})
	if err != nil || len(d.Clusters) != 1 || awsapi.ToInt32(d.Clusters[0].RunningTasksCount) != 3 || awsapi.ToInt32(d.Clusters[0].PendingTasksCount) != 0 {
		h.t.Errorf("DescribeClusters = %+v, %v", d, err)
	}
}

// TestListTasksFiltersAndPages: ListTasks answers from the indexes what it
// answered from the tasks themselves: each filter, in creation order, page
// by page; DescribeClusters counts the tasks not stopped.
func TestListTasksFiltersAndPages(t *testing.T) {
	h := newHarness(t, newFakeRunner(), nil)
	f := newTasksFixture(h)
	f.check(h)
	if _, err := h.svc.ListTasks(h.ctx, &ecsapi.ListTasksInput{NextToken: awsapi.String("12")}); err == nil || !strings.Contains(err.Error(), "Invalid nextToken") {
		t.Errorf("ListTasks with a token of another form: %v", err)
	}
	if _, err := h.svc.ListTasks(h.ctx, &ecsapi.ListTasksInput{Cluster: awsapi.String("none"), MaxResults: awsapi.Int32(0)}); err == nil || !strings.Contains(err.Error(), "Cluster not found") {
		t.Errorf("ListTasks of a missing cluster with a bad maxResults: %v", err)
	}
}

// indexKeys returns the stored keys that are index entries.
func indexKeys(t *testing.T, st store.Store) []string {
	t.Helper()
	var keys []string
	err := st.View(func(tx store.Tx) error {
		return tx.Scan([]byte("ecs/"), nil, func(k, _ []byte) (bool, error) {
			parts := strings.Split(string(k), "/")
			switch {
			case string(k) == indexKey, parts[1] == "live", parts[1] == "stopped", parts[1] == "id",
				len(parts) > 3 && strings.HasPrefix(parts[3], "td"), len(parts) > 3 && parts[3] == "tasks":
				keys = append(keys, string(k))
			}
			return true, nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

// TestIndexesAreBuiltForAStoreWrittenWithoutThem: a store from a wharf
// before the indexes gets them when ECS starts on it, the same entries as
// if they had been kept all along, and lists, counts and expires as before.
func TestIndexesAreBuiltForAStoreWrittenWithoutThem(t *testing.T) {
	h := newHarness(t, newFakeRunner(), nil)
	f := newTasksFixture(h)
	if _, err := h.svc.DeregisterTaskDefinition(h.ctx, &ecsapi.DeregisterTaskDefinitionInput{TaskDefinition: awsapi.String("web:1")}); err != nil {
		t.Fatal(err)
	}
	h.stop()
	kept := indexKeys(t, h.st)
	if len(kept) == 0 {
		t.Fatal("no index entries")
	}
	if err := h.st.Update(func(tx store.Tx) error {
		for _, k := range kept {
			if err := tx.Delete([]byte(k)); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	h2 := newHarness(t, h.fake, h.st)
	h2.clock.Store(h.clock.Load())
	if got := indexKeys(t, h2.st); !slices.Equal(got, kept) {
		t.Errorf("rebuilt index:\n%s\nkept:\n%s", strings.Join(got, "\n"), strings.Join(kept, "\n"))
	}
	f.check(h2)
	fams, err := h2.svc.ListTaskDefinitionFamilies(h2.ctx, &ecsapi.ListTaskDefinitionFamiliesInput{Status: awsapi.String("INACTIVE")})
	if err != nil || !slices.Equal(fams.Families, []string{"web"}) {
		t.Errorf("inactive families = %+v, %v", fams, err)
	}
}

// TestExpiryRemovesEveryIndexEntryOfATask: once its stopped tasks expire,
// a cluster whose tasks all stopped has no index entry left but the task
// definitions'.
func TestExpiryRemovesEveryIndexEntryOfATask(t *testing.T) {
	h := newHarness(t, newFakeRunner(), nil)
	f := newTasksFixture(h)
	for _, arn := range []string{f.web1, f.web3, f.worker} {
		h.fake.exitTask(arn, 0)
		h.waitStatus(arn, "STOPPED")
	}
	now := h.clock.Load().Add(StoppedRetention + time.Minute)
	h.clock.Store(&now)
	if n, err := h.svc.expireStopped(); err != nil || n != 5 {
		t.Fatalf("expireStopped = %d, %v", n, err)
	}
	for _, k := range indexKeys(t, h.st) {
		if parts := strings.Split(k, "/"); k != indexKey && !(len(parts) > 3 && strings.HasPrefix(parts[3], "td")) {
			t.Errorf("left after expiry: %s", k)
		}
	}
	err := h.st.View(func(tx store.Tx) error {
		return tx.Scan([]byte("ecs/"), nil, func(k, _ []byte) (bool, error) {
			if bytes.Contains(k, []byte("/task/")) {
				t.Errorf("task left after expiry: %s", k)
			}
			return true, nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestListTaskDefinitionsAndFamiliesPage: revisions by status, in both
// orders, and families by whether they have an ACTIVE revision, page by page.
func TestListTaskDefinitionsAndFamiliesPage(t *testing.T) {
	h := newHarness(t, newFakeRunner(), nil)
	for range 5 {
		h.register("a", container("main", "img", true))
	}
	h.register("ab", container("main", "img", true))
	h.register("b", container("main", "img", true))
	// A running task of a:5 keeps it DELETE_IN_PROGRESS: without one, the
	// deletion loop may remove it for good before the listings below read it.
	h.waitStatus(*h.run("a:5", nil).TaskArn, "RUNNING")
	for _, td := range []string{"a:2", "b:1", "a:5"} {
		if _, err := h.svc.DeregisterTaskDefinition(h.ctx, &ecsapi.DeregisterTaskDefinitionInput{TaskDefinition: &td}); err != nil {
			t.Fatal(err)
		}
	}
	if out, err := h.svc.DeleteTaskDefinitions(h.ctx, &ecsapi.DeleteTaskDefinitionsInput{TaskDefinitions: []string{"a:5"}}); err != nil || len(out.Failures) != 0 {
		t.Fatalf("DeleteTaskDefinitions = %+v, %v", out, err)
	}
	arn := func(ids ...string) []string {
		for i, id := range ids {
			ids[i] = "arn:aws:ecs:us-east-1:000000000000:task-definition/" + id
		}
		return ids
	}
	s := awsapi.String
	for _, c := range []struct {
		name string
		in   ecsapi.ListTaskDefinitionsInput
		want []string
	}{
		{"active", ecsapi.ListTaskDefinitionsInput{}, arn("a:1", "a:3", "a:4", "ab:1")},
		{"all", ecsapi.ListTaskDefinitionsInput{Status: s("ALL")}, arn("a:1", "a:2", "a:3", "a:4", "a:5", "ab:1", "b:1")},
		{"inactive desc", ecsapi.ListTaskDefinitionsInput{Status: s("INACTIVE"), Sort: s("DESC")}, arn("b:1", "a:2")},
		{"family", ecsapi.ListTaskDefinitionsInput{FamilyPrefix: s("a")}, arn("a:1", "a:3", "a:4")},
		{"family all desc", ecsapi.ListTaskDefinitionsInput{FamilyPrefix: s("a"), Status: s("ALL"), Sort: s("DESC")}, arn("a:5", "a:4", "a:3", "a:2", "a:1")},
		{"deleting", ecsapi.ListTaskDefinitionsInput{Status: s("DELETE_IN_PROGRESS")}, arn("a:5")},
	} {
		in := c.in
		in.MaxResults = awsapi.Int32(2)
		var got []string
		for range 10 {
			out, err := h.svc.ListTaskDefinitions(h.ctx, &in)
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			got = append(got, out.TaskDefinitionArns...)
			if in.NextToken = out.NextToken; in.NextToken == nil {
				break
			}
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("%s: ListTaskDefinitions = %v, want %v", c.name, got, c.want)
		}
	}
	for _, c := range []struct {
		status, prefix string
		want           []string
	}{
		{"", "", []string{"a", "ab"}},
		{"ALL", "", []string{"a", "ab", "b"}},
		{"INACTIVE", "", []string{"b"}},
		{"DELETE_IN_PROGRESS", "", []string{"b"}},
		{"ALL", "a", []string{"a", "ab"}},
	} {
		in := ecsapi.ListTaskDefinitionFamiliesInput{MaxResults: awsapi.Int32(1), FamilyPrefix: s(c.prefix)}
		if c.status != "" {
			in.Status = s(c.status)
		}
		var got []string
		for range 10 {
			out, err := h.svc.ListTaskDefinitionFamilies(h.ctx, &in)
			if err != nil {
				t.Fatalf("families %s: %v", c.status, err)
			}
			got = append(got, out.Families...)
			if in.NextToken = out.NextToken; in.NextToken == nil {
				break
			}
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("families %q %q = %v, want %v", c.status, c.prefix, got, c.want)
		}
	}
	if _, err := h.svc.DeregisterTaskDefinition(h.ctx, &ecsapi.DeregisterTaskDefinitionInput{TaskDefinition: s("ab:1")}); err != nil {
		t.Fatal(err)
	}
	if out, err := h.svc.ListTaskDefinitionFamilies(h.ctx, &ecsapi.ListTaskDefinitionFamiliesInput{}); err != nil || !slices.Equal(out.Families, []string{"a"}) {
		t.Errorf("active families after deregistering ab:1 = %+v, %v", out, err)
	}
}
