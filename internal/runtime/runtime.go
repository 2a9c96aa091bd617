// Package runtime defines Runner, the narrow interface through which ECS runs a
// task's containers, and the types it speaks. Implementations live beside it:
// docker (the Docker Engine API, which Podman also serves), process (host
// processes, for machines without a container engine) and kubernetes (a task
// is a Pod).
//
// A Runner works one container at a time: ordering containers (dependsOn),
// deciding when a task stops (essential containers) and what AWS reports are
// ECS's job, so every runtime behaves the same way. The one exception is a
// TaskRunner, whose engine creates a task's containers together (a Pod): it
// is given the whole task and its dependencies once, and orders them itself.
package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"time"
)

// ErrNotFound is returned for a container the runtime does not know (removed,
// or started by a previous wharf the runtime cannot re-adopt).
var ErrNotFound = errors.New("container not found")

// ErrDependency is wrapped by a TaskRunner's StartTask error when a
// container others wait on ended so that they can never start. ECS reports it
// as "Dependency condition not met".
var ErrDependency = errors.New("dependency condition not met")

// ErrNoStats is wrapped by a StatsReader's error when the runtime cannot
// measure a container's resource use at all (not a passing failure).
var ErrNoStats = errors.New("container statistics are not available")

// PullError means the image is neither present nor pullable. ECS reports it as
// CannotPullContainerError.
type PullError struct {
	Image string
	Err   error
}

func (e *PullError) Error() string { return "pull " + e.Image + ": " + e.Err.Error() }
func (e *PullError) Unwrap() error { return e.Err }

// Spec is one container to start.
type Spec struct {
	// Name is a name unique in the runtime (wharf derives it from the task id
	// and the container name), so a retried start does not run twice.
	Name  string
	Image string
	// EntryPoint and Command follow Docker's meaning: when EntryPoint is empty
	// the image's own entrypoint runs with Command as its arguments.
	EntryPoint []string
	Command    []string
	Env        []string // KEY=value
	WorkingDir string
	User       string
	// CPU is in ECS units (1024 = one vCPU); Memory and MemoryReservation in
	// MiB. Zero means no limit.
	CPU               int
	Memory            int
	MemoryReservation int
	ReadonlyRootFS    bool
	// Binds are host paths mounted into the container: "host:container" or
	// "host:container:ro". The process runtime ignores them.
	Binds []string
	// Mounts are the task volumes mounted into the container (mountPoints),
	// with or without a host path: a TaskRunner shares a volume without one
	// between the task's containers. Docker and process use Binds instead.
	Mounts []Mount
	// Ulimits are resource limits by name ("nofile"); the process runtime
	// ignores them.
	Ulimits []Ulimit
	// Health is the container's health check; nil means none.
	Health *HealthCheck
	// Labels mark the container as wharf's and name its task, so that a later
	// wharf can find and re-adopt it (List).
	Labels map[string]string
}

// HealthCheck is a command run periodically in the container (Docker's and
// ECS's meaning): ["CMD", exe, args...] or ["CMD-SHELL", "shell command"].
// Exit 0 is healthy; Retries consecutive failures after StartPeriod make the
// container unhealthy.
type HealthCheck struct {
	Test        []string
	Interval    time.Duration
	Timeout     time.Duration
	StartPeriod time.Duration
	Retries     int
}

// Health states, as Docker names them.
const (
	HealthStarting  = "starting"
	HealthHealthy   = "healthy"
	HealthUnhealthy = "unhealthy"
)

// Mount is one task volume mounted into a container.
type Mount struct {
	Volume        string // the task volume's name
	HostPath      string // "" for a volume that lives and dies with the task
	ContainerPath string
	ReadOnly      bool
}

// Ulimit is one resource limit.
type Ulimit struct {
	Name       string
	Soft, Hard int64
}

// State is what the runtime knows of one container.
type State struct {
	ID       string
	Name     string
	Labels   map[string]string
	Running  bool
	ExitCode int
	// Reason explains an abnormal end (OOM kill, start failure) in the words
	// ECS puts in a container's reason.
	Reason string
	// Health is the health check's verdict ("" without a health check).
	Health string
	// StopCode, when set, is why the runtime itself ended the container's
	// task (a Kubernetes eviction: "TerminationNotice"), with Reason as the
	// task's stopped reason; ECS reports it instead of the container's exit.
	StopCode   string
	StartedAt  time.Time
	FinishedAt time.Time
}

// Line is one line a container wrote.
type Line struct {
	Stream string // "stdout" or "stderr"
	Time   time.Time
	Text   string // without the trailing newline
}

// Runner starts and watches containers.
type Runner interface {
	// Name is "docker" or "process", for logs and the ready line.
	Name() string
	// Start creates and starts the container and returns its runtime id. An
	// image that is missing and cannot be pulled returns a *PullError.
	Start(ctx context.Context, spec Spec) (string, error)
	// Stop sends SIGTERM, then SIGKILL once timeout has passed. Stopping a
	// container that has already exited is not an error.
	Stop(ctx context.Context, id string, timeout time.Duration) error
	// Wait blocks until the container has exited (or ctx ends) and returns its
	// final state.
	Wait(ctx context.Context, id string) (State, error)
	// Logs calls fn for every line the container writes, from its start,
	// until it exits (then Logs returns nil) or ctx ends.
	Logs(ctx context.Context, id string, fn func(Line)) error
	// Inspect returns the container's current state, or ErrNotFound.
	Inspect(ctx context.Context, id string) (State, error)
	// List returns the containers carrying label (key=value), running or not:
	// how ECS re-adopts its containers after a restart.
	List(ctx context.Context, key, value string) ([]State, error)
	// Remove deletes an exited container (and its logs).
	Remove(ctx context.Context, id string) error
}

// TaskRunner is a Runner whose engine must create a task's containers
// together: on Kubernetes a task is one Pod, and a Pod's containers are fixed
// when it is created. ECS starts a task on it with one StartTask instead of a
// Start per container; the other methods still work per container.
type TaskRunner interface {
	Runner
	// StartTask creates the task's containers and returns once each has
	// started (or, for one others wait on to complete, has run), with the
	// runtime id of each by container name. A container whose image cannot
	// be pulled fails it with a *PullError; on any error nothing it created
	// is left behind.
	StartTask(ctx context.Context, t Task) (map[string]string, error)
}

// Task is a whole task for a TaskRunner.
type Task struct {
	// Name is unique in the runtime (derived from the task id).
	Name string
	// ID is the ECS task id and Cluster the ECS cluster's name.
	ID, Cluster string
	// Labels mark the task as wharf's (the ECS agent's labels).
	Labels map[string]string
	// Containers are in start order: every container after those it
	// depends on.
	Containers []TaskContainer
}

// TaskContainer is one container of a Task.
type TaskContainer struct {
	// Name is the container definition's name.
	Name      string
	Spec      Spec
	Essential bool
	// DependsOn are the container's dependencies (dependsOn), by container
	// name and condition: START, COMPLETE, SUCCESS or HEALTHY.
	DependsOn []Dependency
	// StopTimeout is the time between SIGTERM and SIGKILL when it stops.
	StopTimeout time.Duration
}

// Dependency is one dependsOn entry.
type Dependency struct {
	Container string
	Condition string
}

// Stats is one sample of a container's resource use: what ECS turns into
// CPUUtilization and MemoryUtilization, and the task metadata endpoint
// serves at /stats in Docker's shape.
type Stats struct {
	// Read is when the sample was taken.
	Read time.Time
	// CPUTotal is the CPU time the container has used since it started, in
	// nanoseconds; CPUKernel and CPUUser split it when the runtime knows.
	CPUTotal, CPUKernel, CPUUser uint64
	// SystemCPU is the host's cumulative CPU time in nanoseconds, and
	// OnlineCPUs its CPUs (Docker's system_cpu_usage and online_cpus);
	// zero when the runtime does not know them.
	SystemCPU  uint64
	OnlineCPUs int
	// MemoryUsage is the memory the container uses in bytes, without the
	// page cache the kernel can reclaim (the working set, as the ECS agent
	// and docker stats count it); MemoryLimit its limit (0: unknown).
	MemoryUsage, MemoryLimit uint64
	// PIDs is the number of processes and threads (0: unknown).
	PIDs uint64
	// Doc is the engine's own statistics document when it has Docker's
	// shape (the docker runtime): the metadata endpoint serves it as is.
	Doc json.RawMessage
}

// StatsReader is a Runner that can sample a container's resource use.
type StatsReader interface {
	// Stats returns one sample of the running container's resource use, or
	// ErrNotFound, or an error wrapping ErrNoStats when the runtime cannot
	// measure it.
	Stats(ctx context.Context, id string) (Stats, error)
}
