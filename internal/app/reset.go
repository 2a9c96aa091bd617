package app

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/wharf-dev/wharf/internal/apierr"
	"github.com/wharf-dev/wharf/internal/inithooks"
	"github.com/wharf-dev/wharf/internal/server"
	"github.com/wharf-dev/wharf/internal/store"
	"github.com/wharf-dev/wharf/internal/timeline"
)

// resetPrefixes are the store key prefixes of each service a reset can
// empty on its own (POST /_wharf/reset?service=), by its id in
// /_wharf/health. IAM and STS share their state.
var resetPrefixes = map[string][]string{
	"application-autoscaling": {"aas/"},
	"cloudwatch":              {"cw/"},
	"dynamodb":                {"ddb/"},
	"ecs":                     {"ecs/", "ecssvc/"},
	"events":                  {"events/"},
	"iam":                     {"iam/", "sts/"},
	"logs":                    {"logs/"},
	"s3":                      {"s3/"},
	"s3control":               {"s3/pab/"},
	"scheduler":               {"scheduler/"},
	"sns":                     {"sns/"},
	"sqs":                     {"sqs/"},
	"sts":                     {"iam/", "sts/"},
}

// ResetServices lists the services a reset can empty on its own.
func ResetServices() []string {
	ids := make([]string, 0, len(resetPrefixes))
	for id := range resetPrefixes {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// stopTimeout bounds how long a reset waits for running tasks to stop.
const stopTimeout = 60 * time.Second

// resetter empties wharf's state without a restart. It runs while no AWS
// request is served (the server's gate): requests in flight end first (a long
// poll answers empty), new ones wait for it.
type resetter struct {
	sys  *System
	st   store.Store
	gate *server.Gate
	// hooks are the init hooks (--init-dir), nil without them.
	hooks *hookRunner
}

// hookRunner runs the init hooks one run at a time: at start, and again
// after a full reset.
type hookRunner struct {
	mu    sync.Mutex
	hooks inithooks.Hooks
}

func (h *hookRunner) run(ctx context.Context) []inithooks.Result {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.hooks.Run(ctx)
}

// hookTimeout bounds the init hooks a reset runs again.
const hookTimeout = 10 * time.Minute

// ResetResult says what a reset emptied.
type ResetResult struct {
	Services []string `json:"services"`
	// Keys is how many stored records were deleted.
	Keys int `json:"keys"`
	// TasksStopped is how many ECS tasks were running and were stopped.
	TasksStopped int `json:"tasksStopped"`
	// InitHooks are the init hooks a full reset ran again, in order.
	InitHooks []string `json:"initHooks,omitempty"`
	// InitHookError says which hook failed and how; the ones after it
	// did not run.
	InitHookError string `json:"initHookError,omitempty"`
}

// Reset empties every service, or only service when it is not "". Running
// tasks are stopped (their containers removed) first.
func (r *resetter) Reset(ctx context.Context, service string) (*ResetResult, error) {
	var prefixes []string
	res := &ResetResult{}
	if service == "" {
		res.Services = ResetServices()
	} else {
		p, ok := resetPrefixes[service]
		if !ok {
			return nil, apierr.New("InvalidParameterValue", 400, "wharf cannot reset %q: the services are %s.", service, strings.Join(ResetServices(), ", "))
		}
		prefixes, res.Services = p, []string{service}
	}
	if service == "" && r.hooks != nil {
		// Hooks still running from the start finish first: a record they
		// wrote after the reset would stop them running again.
		r.hooks.mu.Lock()
		defer r.hooks.mu.Unlock()
	}
	// The store's prefixes the reset empties (nil: every key), and within
	// them the keys of the first pass: while tasks are to be stopped, rules,
	// alarms, services and scaling go before them, so that the tasks'
	// STOPPED events alert no one and no controller starts a replacement.
	var scans [][]byte
	for _, p := range prefixes {
		scans = append(scans, []byte(p))
	}
	if service == "" {
		scans = [][]byte{nil}
	}
	stopping := (service == "" || service == "ecs") && r.sys.ECS != nil
	first := func(k []byte) bool { return !stopping || !bytes.HasPrefix(k, []byte("ecs/")) }
	var forgetErr error
	err := r.gate.Exclusive(func() error {
		// The gate holds requests back, and the loops that hold it for
		// each round of their work (deps.round: the scheduler's, the ECS
		// services controller's, Application Auto Scaling's, EventBridge's
		// retries, replays and schedule rules), but not the other
		// services' own loops: one that writes from what its service holds
		// in memory while the first pass runs can write keys back behind
		// it. Once forget has made the services drop what they hold, such
		// a loop has nothing left to write, and the second pass deletes
		// what it wrote meanwhile.
		for pass := 1; pass <= 2; pass++ {
			sel := func(k []byte) bool { return true }
			if pass == 1 {
				sel = first
			}
			n, err := r.deleteKeys(scans, sel)
			res.Keys += n
			if err != nil {
				return err
			}
			resetPassHook(pass)
			// A service that could not forget (S3's blob files) does not
			// stop the reset: the tasks are stopped and the keys deleted
			// all the same, and the error is the reset's answer.
			if err := r.forget(service); err != nil && forgetErr == nil {
				forgetErr = err // the second pass's is the same again
			}
			if pass == 1 && stopping {
				running, err := r.sys.ECS.Running()
				if err != nil {
					return err
				}
				res.TasksStopped = running
				sctx, cancel := context.WithTimeout(ctx, stopTimeout)
				defer cancel()
				if err := r.sys.ECS.StopAll(sctx, "wharf reset"); err != nil {
					return err
				}
			}
		}
		// Inside the gate: a request served after it recorded its hops
		// on the timeline the reset had not emptied yet, and lost them.
		if service == "" && r.sys.Timeline != nil {
			if err := r.sys.Timeline.Reset(); err != nil {
				return errors.Join(forgetErr, fmt.Errorf("reset timeline: %w", err))
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if r.sys.Timeline != nil {
		what := "every service"
		if service != "" {
			what = service
		}
		e := timeline.Entry{Service: "wharf", Kind: "Reset", Outcome: timeline.OK,
			Detail: fmt.Sprintf("reset %s: %d records deleted, %d tasks stopped", what, res.Keys, res.TasksStopped)}
		if forgetErr != nil {
			e.Outcome, e.Error = timeline.Failed, forgetErr.Error()
		}
		r.sys.Timeline.Record(ctx, e)
	}
	// A full reset leaves wharf as a first start on an empty data
	// directory would: it deleted the records of the init hooks that had
	// run (with everything else), so they run again now, once the server
	// answers again, before the reset answers. Left for the next start,
	// the resources they make would be missing until a restart brought
	// them back. A reset of one service keeps the records: hooks make
	// resources in several services, and running them again would make the
	// others' twice.
	if service == "" && r.hooks != nil {
		hctx, cancel := context.WithTimeout(ctx, hookTimeout)
		defer cancel()
		for _, h := range r.hooks.hooks.Run(hctx) { // r.hooks.mu is held
			switch {
			case h.Err != nil:
				res.InitHookError = h.Name + ": " + h.Err.Error()
			case !h.Skipped:
				res.InitHooks = append(res.InitHooks, h.Name)
			}
		}
	}
	if forgetErr != nil {
		// Answered once the hooks have made their resources again: the
		// store is as empty as any reset leaves it.
		return nil, forgetErr
	}
	return res, nil
}

// forget drops what services keep in memory beside the keys just deleted.
func (r *resetter) forget(service string) error {
	sys := r.sys
	all := service == ""
	if all || service == "events" {
		sys.Events.Forget()
	}
	if all || service == "scheduler" {
		sys.Scheduler.Forget()
	}
	if all || service == "sns" {
		sys.SNS.Forget()
	}
	if all || service == "sqs" {
		sys.SQS.Forget()
	}
	if all || service == "iam" || service == "sts" {
		sys.IAM.Forget()
	}
	if (all || service == "s3") && sys.S3 != nil {
		if err := sys.S3.RemoveBlobs(); err != nil {
			return err
		}
	}
	return nil
}

// resetPassHook is called after each of a reset's two passes has deleted
// its keys, before the services forget what they hold; a test sets it to
// write keys back as a service's loop would.
var resetPassHook = func(pass int) {}

// deleteKeys deletes every key under the prefixes (a nil one: every key) that
// sel selects, but the timeline's (it is reset on its own), in bounded
// transactions, and returns how many.
func (r *resetter) deleteKeys(prefixes [][]byte, sel func(k []byte) bool) (int, error) {
	total := 0
	for _, prefix := range prefixes {
		n, err := r.deleteUnder(prefix, sel)
		total += n
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

func (r *resetter) deleteUnder(prefix []byte, sel func(k []byte) bool) (int, error) {
	const batch = 10000
	total := 0
	var start []byte
	for {
		var keys [][]byte
		err := r.st.View(func(tx store.Tx) error {
			return tx.Scan(prefix, start, func(k, _ []byte) (bool, error) {
				if bytes.Equal(k, start) {
					return true, nil
				}
				if !bytes.HasPrefix(k, []byte("timeline/")) && sel(k) {
					keys = append(keys, bytes.Clone(k))
				}
				start = bytes.Clone(k)
				return len(keys) < batch, nil
			})
		})
		if err != nil {
			return total, fmt.Errorf("reset: %w", err)
		}
		if len(keys) == 0 {
			return total, nil
		}
		err = r.st.Update(func(tx store.Tx) error {
			for _, k := range keys {
				if err := tx.Delete(k); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return total, fmt.Errorf("reset: %w", err)
		}
		total += len(keys)
	}
}
