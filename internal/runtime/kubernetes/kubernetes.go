// Package kubernetes runs ECS tasks on a Kubernetes cluster, speaking to its
// API server over HTTP (client.go):
// a task is one Pod, each container definition one of its containers.
//
// How a task definition maps onto the Pod:
//
//   - image, entryPoint and command are the container's image, command and
//     args (the same override rules); environment (with environmentFiles and
//     what wharf injects: endpoint, region, task-role credentials, metadata)
//     its env; workingDirectory its workingDir; user its runAsUser[:runAsGroup]
//     (numeric only); readonlyRootFilesystem its securityContext's.
//   - cpu units are a cpu request (1024 = one core; ECS cpu is a share, never a
//     cap); memory is the memory limit, memoryReservation the request.
//   - mountPoints mount the task's volumes: an emptyDir shared by the task's
//     containers, or a hostPath for a volume with a host sourcePath.
//   - healthCheck is a readiness probe (exec); ready is HEALTHY, and a
//     container that was ready, or has not been for longer than its start
//     period and retries, is UNHEALTHY.
//   - dependsOn shapes the Pod (see roles): COMPLETE and SUCCESS dependencies
//     are init containers, HEALTHY ones sidecars gated by a startup probe,
//     START ones come first in the containers' order.
//   - stopTimeout is the grace period when the Pod is deleted (the longest
//     of its containers'), as SIGTERM then SIGKILL.
//   - ulimits have no per-container equivalent in Kubernetes and are ignored;
//     dockerLabels stay on the task definition (the Pod carries the ECS
//     agent's labels as annotations).
//
// The Pod uses the host's network, so a task reaches wharf, its credentials
// and its metadata at the address wharf advertises (--advertise-url), and
// never restarts a container: ECS reports exits and stops the task when an
// essential container ends. An image that cannot be pulled is ECS's
// CannotPullContainerError, an OOM kill its OutOfMemoryError, and an evicted
// Pod stops its task with TerminationNotice. Output is read through the API
// server (stdout and stderr together, as the kubelet keeps them).
//
// Runner lists and watches wharf's Pods (label wharf.managed=true); a
// container's id is namespace/pod/container, so a restarted wharf finds the
// Pods it left running and re-adopts them. A Pod deleted behind wharf's back
// ends its task (the service controller replaces it).
//
// The package links no k8s.io module: a kubeconfig is read by kubeconfig.go
// (YAML or JSON, with every way client-go authenticates except auth-provider
// plugins, which client-go no longer builds in either), and the Pod, Node and
// Status fields wharf uses are the small types of api.go.
package kubernetes

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wharf-dev/wharf/internal/runtime"
)

// Options configure a Runner.
type Options struct {
	// Kubeconfig is the kubeconfig file to use. Empty means the in-cluster
	// configuration when wharf runs in a Pod, else kubectl's rules
	// ($KUBECONFIG, then ~/.kube/config).
	Kubeconfig string
	// Namespace holds every task's Pod; empty means one namespace per ECS
	// cluster, wharf-<cluster>, created when its first task starts.
	Namespace string
}

// Runner is a runtime.TaskRunner on a Kubernetes cluster.
type Runner struct {
	cs   *client
	cfg  *restConfig
	ns   string // fixed namespace, or "" for one per cluster
	host string // the API server, for messages

	startOnce sync.Once
	stop      chan struct{}
	closeOnce sync.Once

	mu        sync.Mutex
	pods      map[string]*Pod       // wharf's Pods as last listed or watched, by namespace/name
	synced    chan struct{}         // closed once the Pods have been listed
	watchErr  error                 // the last list's or watch's failure, for messages
	retryWait time.Duration         // if set, the wait after a failed list or watch instead of the backoff's
	changed   chan struct{}         // closed and replaced on every Pod change
	gone      map[string]goneRecord // last state of deleted Pods, by namespace/name
	ready     map[string]bool       // containers (ids) seen ready once
	nsReady   map[string]bool       // namespaces known to exist

	summaries summaryCache // kubelets' stats summaries, by node
	// kubeletHC reaches kubelets directly (kubeletClient); atomic so that
	// Close can close its idle connections while a request makes it.
	kubeletOnce sync.Once
	kubeletHC   atomic.Pointer[http.Client]
}

type goneRecord struct {
	pod *Pod
	at  time.Time
}

var _ runtime.TaskRunner = (*Runner)(nil)

// New returns a Runner for the cluster o describes. It does not contact the
// cluster; Ping does.
func New(o Options) (*Runner, error) {
	cfg, err := loadConfig(o.Kubeconfig)
	if err != nil {
		return nil, err
	}
	// No client-side rate limit (client-go's is 5 requests/s unless raised):
	// tasks start in bursts (a service scaling out, 100 RunTasks), and the
	// API server has its own fairness.
	return newRunner(newClient(cfg), o.Namespace), nil
}

func newRunner(cs *client, ns string) *Runner {
	return &Runner{
		cs: cs, cfg: cs.cfg, ns: ns, host: cs.cfg.Host, stop: make(chan struct{}),
		pods: map[string]*Pod{}, synced: make(chan struct{}),
		changed: make(chan struct{}), gone: map[string]goneRecord{}, ready: map[string]bool{}, nsReady: map[string]bool{},
	}
}

// Name is "kubernetes".
func (r *Runner) Name() string { return "kubernetes" }

// Ping reports whether the API server answers and lets wharf list Pods.
func (r *Runner) Ping(ctx context.Context) error {
	if _, err := r.cs.serverVersion(ctx); err != nil {
		return fmt.Errorf("kubernetes API server %s: %w", r.host, err)
	}
	if _, err := r.cs.listPods(ctx, r.ns, listOptions{LabelSelector: r.selector(), Limit: 1}); err != nil {
		return fmt.Errorf("kubernetes API server %s: list pods: %w", r.host, err)
	}
	return nil
}

// Close stops watching the cluster and closes the idle connections to the
// API server and the kubelets, so that none outlives the Runner for the
// transport's idle timeout (90 s); the watch's own connection is closed
// when the watch has ended. Pods keep running.
func (r *Runner) Close() {
	r.closeOnce.Do(func() {
		close(r.stop)
		r.closeIdle()
	})
}

// closeIdle closes the connections no request is using.
func (r *Runner) closeIdle() {
	r.cs.hc.CloseIdleConnections()
	if hc := r.kubeletHC.Load(); hc != nil {
		hc.CloseIdleConnections()
	}
}

// watch starts listing and watching wharf's Pods once and waits until they
// have been listed.
func (r *Runner) watch(ctx context.Context) error {
	r.startOnce.Do(func() {
		wctx, cancel := context.WithCancel(context.Background())
		go func() {
			<-r.stop
			cancel()
		}()
		go func() {
			r.runWatch(wctx)
			r.closeIdle() // the watch's connection, idle once it ended after Close
		}()
	})
	select {
	case <-r.synced:
		return nil
	default:
	}
	select {
	case <-r.synced:
		return nil
	case <-ctx.Done():
		r.mu.Lock()
		werr := r.watchErr
		r.mu.Unlock()
		if werr != nil {
			return fmt.Errorf("kubernetes API server %s: pods not listed (%v): %w", r.host, werr, ctx.Err())
		}
		return ctx.Err()
	case <-r.stop:
		return fmt.Errorf("kubernetes API server %s: pods not listed: the runner is closed", r.host)
	}
}

// record keeps a Pod's state from the list or watch; r.mu is held.
func (r *Runner) record(pod *Pod, deleted bool) {
	key := pod.Namespace + "/" + pod.Name
	for _, cs := range allStatuses(pod) {
		if cs.Ready {
			r.ready[id(pod.Namespace, pod.Name, cs.Name)] = true
		}
	}
	if !deleted {
		r.pods[key] = pod
		return
	}
	delete(r.pods, key)
	now := time.Now()
	for k, g := range r.gone {
		if now.Sub(g.at) > 10*time.Minute {
			delete(r.gone, k)
			for _, cs := range allStatuses(g.pod) {
				delete(r.ready, id(g.pod.Namespace, g.pod.Name, cs.Name))
			}
		}
	}
	r.gone[key] = goneRecord{pod: pod, at: now}
}

// broadcast wakes every waiter on a change; r.mu is held.
func (r *Runner) broadcast() {
	close(r.changed)
	r.changed = make(chan struct{})
}

func (r *Runner) changes() <-chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.changed
}

func allStatuses(pod *Pod) []ContainerStatus {
	return append(append([]ContainerStatus{}, pod.Status.InitContainerStatuses...), pod.Status.ContainerStatuses...)
}

// id is a container's runtime id.
func id(ns, pod, container string) string { return ns + "/" + pod + "/" + container }

func parseID(s string) (ns, pod, container string, ok bool) {
	p := strings.Split(s, "/")
	if len(p) != 3 || p[0] == "" || p[1] == "" || p[2] == "" {
		return "", "", "", false
	}
	return p[0], p[1], p[2], true
}

// pod returns the Pod as last seen, and whether it has been deleted.
func (r *Runner) pod(ns, name string) (*Pod, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if p, ok := r.pods[ns+"/"+name]; ok {
		return p, false
	}
	if g, ok := r.gone[ns+"/"+name]; ok {
		return g.pod, true
	}
	return nil, true
}

// namespace makes sure ns exists.
func (r *Runner) namespace(ctx context.Context, ns string) error {
	r.mu.Lock()
	known := r.nsReady[ns]
	r.mu.Unlock()
	if known {
		return nil
	}
	err := r.cs.getNamespace(ctx, ns)
	if isNotFound(err) {
		err = r.cs.createNamespace(ctx, &namespaceObject{ObjectMeta: ObjectMeta{
			Name: ns, Labels: map[string]string{labelManagedBy: "wharf"},
		}})
		if isAlreadyExists(err) {
			err = nil
		}
	}
	if err != nil {
		return fmt.Errorf("namespace %s: %w", ns, err)
	}
	r.mu.Lock()
	r.nsReady[ns] = true
	r.mu.Unlock()
	return nil
}

// Start is not how a Pod is made: ECS calls StartTask on a TaskRunner.
func (r *Runner) Start(ctx context.Context, spec runtime.Spec) (string, error) {
	return "", errors.New("kubernetes: containers start with their task's Pod (StartTask)")
}

// StartTask creates the task's Pod and waits until every container has
// started (init containers: run to the end), an image cannot be pulled, or a
// container cannot start. A Pod the scheduler cannot place yet is waited for,
// as a task waits for capacity.
func (r *Runner) StartTask(ctx context.Context, t runtime.Task) (map[string]string, error) {
	if err := r.watch(ctx); err != nil {
		return nil, err
	}
	ns := r.ns
	if ns == "" {
		ns = Namespace(t.Cluster)
	}
	pod, names, err := podFor(&t, ns)
	if err != nil {
		return nil, err
	}
	if err := r.namespace(ctx, ns); err != nil {
		return nil, err
	}
	if err := r.cs.createPod(ctx, ns, pod); err != nil && !isAlreadyExists(err) {
		return nil, fmt.Errorf("create pod %s/%s: %w", ns, pod.Name, err)
	}
	ids := map[string]string{}
	for ecsName, n := range names {
		ids[ecsName] = id(ns, pod.Name, n)
	}
	fail := func(err error) (map[string]string, error) {
		r.delete(context.WithoutCancel(ctx), ns, pod.Name, 0)
		return nil, err
	}
	images := map[string]string{}
	for _, c := range t.Containers {
		images[names[c.Name]] = c.Spec.Image
	}
	for {
		ch := r.changes()
		cur, deleted := r.pod(ns, pod.Name)
		if cur != nil && !deleted {
			done, err := started(cur, images)
			if err != nil {
				return fail(err)
			}
			if done {
				return ids, nil
			}
		} else if cur != nil {
			return fail(fmt.Errorf("pod %s/%s was deleted while it started", ns, pod.Name))
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fail(ctx.Err())
		}
	}
}

// pullReasons are the waiting reasons of a container whose image cannot be
// had: ECS's CannotPullContainerError.
var pullReasons = map[string]bool{
	"ErrImagePull": true, "ImagePullBackOff": true, "InvalidImageName": true,
	"ErrImageNeverPull": true, "ImageInspectError": true, "RegistryUnavailable": true,
}

// startReasons are the waiting reasons of a container that cannot be created
// or started: ECS's CannotStartContainerError.
var startReasons = map[string]bool{
	"CreateContainerConfigError": true, "CreateContainerError": true, "RunContainerError": true, "PreCreateHookError": true,
}

// started reports whether every container of pod has started, or why one
// never will.
func started(pod *Pod, images map[string]string) (bool, error) {
	statuses := allStatuses(pod)
	for _, cs := range statuses {
		if w := cs.State.Waiting; w != nil {
			switch {
			case pullReasons[w.Reason]:
				msg := w.Message
				if msg == "" {
					msg = w.Reason
				}
				return false, &runtime.PullError{Image: images[cs.Name], Err: errors.New(msg)}
			case startReasons[w.Reason]:
				return false, fmt.Errorf("%s: %s", w.Reason, w.Message)
			}
		}
		if t := cs.State.Terminated; t != nil && (t.Reason == "StartError" || t.Reason == "ContainerCannotRun") {
			return false, fmt.Errorf("%s: %s", t.Reason, strings.TrimSpace(t.Message))
		}
	}
	for _, c := range pod.Spec.InitContainers {
		cs := status(pod, c.Name)
		if cs == nil {
			return false, nil
		}
		if t := cs.State.Terminated; t != nil && t.ExitCode != 0 && c.RestartPolicy == nil {
			return false, fmt.Errorf("%w: container %s exited with code %d", runtime.ErrDependency, c.Name, t.ExitCode)
		}
	}
	if pod.Status.Phase == PodFailed || pod.Status.Phase == PodSucceeded {
		return true, nil // everything ran; Wait reports each end
	}
	n := 0
	for _, c := range pod.Spec.Containers {
		cs := status(pod, c.Name)
		if cs == nil || (cs.State.Running == nil && cs.State.Terminated == nil) {
			return false, nil
		}
		n++
	}
	return n == len(pod.Spec.Containers), nil
}

func status(pod *Pod, name string) *ContainerStatus {
	for _, l := range [][]ContainerStatus{pod.Status.InitContainerStatuses, pod.Status.ContainerStatuses} {
		for i := range l {
			if l[i].Name == name {
				return &l[i]
			}
		}
	}
	return nil
}

// delete deletes a Pod, giving its containers grace to stop.
func (r *Runner) delete(ctx context.Context, ns, name string, grace time.Duration) error {
	secs := int64(grace.Round(time.Second) / time.Second)
	err := r.cs.deletePod(ctx, ns, name, secs)
	if isNotFound(err) {
		return nil
	}
	return err
}

// Stop deletes the container's Pod with timeout as its grace period: the
// kubelet sends SIGTERM, then SIGKILL. Kubernetes cannot stop one container
// of a Pod; ECS only stops containers when it stops their whole task.
func (r *Runner) Stop(ctx context.Context, cid string, timeout time.Duration) error {
	ns, p, _, ok := parseID(cid)
	if !ok {
		return runtime.ErrNotFound
	}
	return r.delete(ctx, ns, p, timeout)
}

// Remove deletes the container's Pod at once.
func (r *Runner) Remove(ctx context.Context, cid string) error {
	ns, p, _, ok := parseID(cid)
	if !ok {
		return nil
	}
	return r.delete(ctx, ns, p, 0)
}

// Wait blocks until the container has exited, or its Pod is gone.
func (r *Runner) Wait(ctx context.Context, cid string) (runtime.State, error) {
	if err := r.watch(ctx); err != nil {
		return runtime.State{}, err
	}
	for {
		ch := r.changes()
		st, err := r.Inspect(ctx, cid)
		if err != nil || !st.Running {
			return st, err
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return runtime.State{}, ctx.Err()
		}
	}
}

// Inspect returns the container's state as last seen. The state of a Pod
// deleted in the last minutes is its final one; a container whose Pod was
// deleted while it ran is ErrNotFound, with the reason in the state.
func (r *Runner) Inspect(ctx context.Context, cid string) (runtime.State, error) {
	if err := r.watch(ctx); err != nil {
		return runtime.State{}, err
	}
	ns, p, c, ok := parseID(cid)
	if !ok {
		return runtime.State{}, runtime.ErrNotFound
	}
	pod, deleted := r.pod(ns, p)
	if pod == nil {
		return runtime.State{}, runtime.ErrNotFound
	}
	st := r.state(pod, c, deleted)
	if deleted && st.Running {
		st.Running = false
		st.Reason = "Pod " + ns + "/" + p + " was deleted while the container ran"
		if pod.DeletionTimestamp == nil {
			st.Reason = "Pod " + ns + "/" + p + " vanished while the container ran"
		}
		return st, runtime.ErrNotFound
	}
	return st, nil
}

// state is container c's state in pod.
func (r *Runner) state(pod *Pod, c string, deleted bool) runtime.State {
	st := runtime.State{ID: id(pod.Namespace, pod.Name, c), Name: pod.Name + "/" + c, Labels: pod.Annotations}
	var spec *Container
	restartable := false
	for _, l := range [][]Container{pod.Spec.InitContainers, pod.Spec.Containers} {
		for i := range l {
			if l[i].Name == c {
				spec = &l[i]
				restartable = l[i].RestartPolicy != nil
			}
		}
	}
	cs := status(pod, c)
	terminal := pod.Status.Phase == PodFailed || pod.Status.Phase == PodSucceeded
	evicted := pod.Status.Reason == "Evicted"
	switch {
	case cs != nil && cs.State.Terminated != nil:
		setExit(&st, cs.State.Terminated)
	case cs != nil && restartable && cs.RestartCount > 0 && cs.LastTerminationState.Terminated != nil:
		// A sidecar the kubelet restarted: ECS saw it exit.
		setExit(&st, cs.LastTerminationState.Terminated)
	case terminal || evicted:
		st.Reason = "Container did not run: " + strings.TrimSpace(pod.Status.Reason+" "+pod.Status.Message)
		if cs != nil && cs.State.Waiting != nil && cs.State.Waiting.Message != "" {
			st.Reason = "Container did not run: " + cs.State.Waiting.Reason + ": " + cs.State.Waiting.Message
		}
	default:
		st.Running = true
		if cs != nil && cs.State.Running != nil {
			st.StartedAt = cs.State.Running.StartedAt
		}
	}
	if evicted {
		// The kubelet evicted the Pod (node pressure): the task ended for
		// the host's reasons, as a task retired by AWS does.
		st.StopCode = "TerminationNotice"
		st.Reason = "Pod evicted by Kubernetes: " + pod.Status.Message
	}
	if spec != nil && spec.ReadinessProbe != nil && cs != nil {
		st.Health = r.health(pod, spec, cs)
	}
	_ = deleted
	return st
}

func setExit(st *runtime.State, t *ContainerStateTerminated) {
	st.ExitCode = int(t.ExitCode)
	st.StartedAt, st.FinishedAt = t.StartedAt, t.FinishedAt
	switch t.Reason {
	case "OOMKilled":
		st.Reason = "OutOfMemoryError: Container killed due to memory usage"
	case "StartError", "ContainerCannotRun":
		st.Reason = "CannotStartContainerError: " + strings.TrimSpace(t.Message)
	}
}

// health is the verdict of a container's health check (its readiness
// probe): healthy while ready; unhealthy once ready before, or once the start
// period and every retry have passed without an answer; starting until then.
func (r *Runner) health(pod *Pod, spec *Container, cs *ContainerStatus) string {
	if cs.Ready {
		return runtime.HealthHealthy
	}
	r.mu.Lock()
	was := r.ready[id(pod.Namespace, pod.Name, cs.Name)]
	r.mu.Unlock()
	if was {
		return runtime.HealthUnhealthy
	}
	if cs.State.Running == nil {
		return runtime.HealthStarting
	}
	p := spec.ReadinessProbe
	startPeriod, _ := strconv.Atoi(pod.Annotations[annStartPeriod+spec.Name])
	grace := time.Duration(startPeriod)*time.Second + time.Duration(p.PeriodSeconds*p.FailureThreshold+p.TimeoutSeconds)*time.Second
	if time.Since(cs.State.Running.StartedAt) > grace {
		return runtime.HealthUnhealthy
	}
	return runtime.HealthStarting
}

// List returns the containers of wharf's Pods whose label or annotation key
// is value.
func (r *Runner) List(ctx context.Context, key, value string) ([]runtime.State, error) {
	if err := r.watch(ctx); err != nil {
		return nil, err
	}
	r.mu.Lock()
	pods := make([]*Pod, 0, len(r.pods))
	for _, p := range r.pods {
		pods = append(pods, p)
	}
	r.mu.Unlock()
	var out []runtime.State
	for _, pod := range pods {
		if pod.Labels[key] != value && pod.Annotations[key] != value {
			continue
		}
		for _, c := range append(append([]Container{}, pod.Spec.InitContainers...), pod.Spec.Containers...) {
			out = append(out, r.state(pod, c.Name, false))
		}
	}
	return out, nil
}

// ECSName is the ECS container name of a Pod container, from the Pod's
// annotation.
func ECSName(pod *Pod, container string) string {
	var m map[string]string
	if json.Unmarshal([]byte(pod.Annotations[annContainers]), &m) == nil && m[container] != "" {
		return m[container]
	}
	return container
}

// Logs follows the container's output (stdout and stderr together, as the
// kubelet keeps them) until it exits.
func (r *Runner) Logs(ctx context.Context, cid string, fn func(runtime.Line)) error {
	ns, p, c, ok := parseID(cid)
	if !ok {
		return runtime.ErrNotFound
	}
	var rc io.ReadCloser
	for {
		ch := r.changes()
		var err error
		rc, err = r.cs.podLogs(ctx, ns, p, c)
		if err == nil {
			break
		}
		if isNotFound(err) {
			return runtime.ErrNotFound
		}
		if !isBadRequest(err) { // BadRequest: not started yet
			return err
		}
		if st, ierr := r.Inspect(ctx, cid); ierr != nil || !st.Running && st.FinishedAt.IsZero() {
			return nil // never ran: nothing to read
		}
		select {
		case <-ch:
		case <-time.After(time.Second):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	defer rc.Close()
	br := bufio.NewReaderSize(rc, 64<<10)
	for {
		line, err := br.ReadString('\n')
		if line != "" {
			line = strings.TrimSuffix(line, "\n")
			ts, text, ok := strings.Cut(line, " ")
			t, perr := time.Parse(time.RFC3339Nano, ts)
			if !ok || perr != nil {
				t, text = time.Now(), line
			}
			fn(runtime.Line{Stream: "stdout", Time: t, Text: text})
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return err
		}
	}
}
