// Package taskstate holds the states an ECS task and its containers move
// through, the stop codes that say why a task stopped, and health statuses:
// typed, so a misspelt state is a compile error rather than a task that never
// matches a filter, and ordered, so "has it started yet" is one method.
//
// The values are AWS's words (Task lifecycle docs; the TaskStopCode and
// HealthStatus enums of the ECS model), stored and returned as they are.
package taskstate

import "github.com/wharf-dev/wharf/internal/awsapi"

// Status is a task's lastStatus or desiredStatus, or a container's lastStatus.
type Status string

// The lifecycle, in the order a task moves through it. wharf has no ENIs or
// load balancer registration to wait on, so ACTIVATING and DEACTIVATING are
// never recorded by it, but a filter or a stored value may name them.
const (
	Provisioning   Status = "PROVISIONING"
	Pending        Status = "PENDING"
	Activating     Status = "ACTIVATING"
	Running        Status = "RUNNING"
	Deactivating   Status = "DEACTIVATING"
	Stopping       Status = "STOPPING"
	Deprovisioning Status = "DEPROVISIONING"
	Stopped        Status = "STOPPED"
)

var rank = map[Status]int{
	Provisioning: 1, Pending: 2, Activating: 3, Running: 4,
	Deactivating: 5, Stopping: 6, Deprovisioning: 7, Stopped: 8,
}

// Of reads a status from a model field; nil or unknown text is the zero Status.
func Of(p *string) Status { return Status(awsapi.ToString(p)) }

// Ptr returns the status as a model field.
func (s Status) Ptr() *string { return awsapi.String(string(s)) }

// Known reports whether s is one of the lifecycle's states.
func (s Status) Known() bool { return rank[s] != 0 }

// Terminal reports whether nothing follows s: the task has stopped.
func (s Status) Terminal() bool { return s == Stopped }

// Starting reports whether s comes before RUNNING: the task's containers are
// still being set up ("pending" in a cluster's counts).
func (s Status) Starting() bool { return s.Known() && rank[s] < rank[Running] }

// Before reports whether s comes earlier in the lifecycle than t. Unknown
// states come before every known one.
func (s Status) Before(t Status) bool { return rank[s] < rank[t] }

// DesiredValid reports whether s may be asked for as a desired status
// (ListTasks' desiredStatus: RUNNING, PENDING or STOPPED).
func (s Status) DesiredValid() bool { return s == Running || s == Pending || s == Stopped }

// StopCode is why a task stopped (the model's TaskStopCode enum).
type StopCode string

// The stop codes wharf records.
const (
	TaskFailedToStart         StopCode = "TaskFailedToStart"
	EssentialContainerExited  StopCode = "EssentialContainerExited"
	UserInitiated             StopCode = "UserInitiated"
	ServiceSchedulerInitiated StopCode = "ServiceSchedulerInitiated"
	SpotInterruption          StopCode = "SpotInterruption"
	TerminationNotice         StopCode = "TerminationNotice"
)

// Ptr returns the code as a model field.
func (c StopCode) Ptr() *string { return awsapi.String(string(c)) }

// CodeOf reads a stop code from a model field.
func CodeOf(p *string) StopCode { return StopCode(awsapi.ToString(p)) }

// Health is a container's or task's healthStatus (the model's HealthStatus).
type Health string

// The health statuses.
const (
	Healthy   Health = "HEALTHY"
	Unhealthy Health = "UNHEALTHY"
	Unknown   Health = "UNKNOWN"
)

// Ptr returns the health as a model field.
func (h Health) Ptr() *string { return awsapi.String(string(h)) }
