package app

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/wharf-dev/wharf/internal/awsapi"
	schedapi "github.com/wharf-dev/wharf/internal/awsapi/scheduler"
	"github.com/wharf-dev/wharf/internal/clock"
	"github.com/wharf-dev/wharf/internal/config"
	"github.com/wharf-dev/wharf/internal/eventbus"
	"github.com/wharf-dev/wharf/internal/server"
	"github.com/wharf-dev/wharf/internal/store"
)

// TestAScheduleFiringDuringAResetDoesNotSurviveIt: the reset's gate holds
// back requests, not the scheduler's loop. A schedule that fires once the
// reset has deleted its key, but before the scheduler forgot it, writes the
// schedule back (with its next fire time) and a record of the firing; a
// reset that ended there left both, and the schedule came back on the next
// start and fired again.
func TestAScheduleFiringDuringAResetDoesNotSurviveIt(t *testing.T) {
	for _, service := range []string{"scheduler", ""} {
		t.Run("service="+service, func(t *testing.T) {
			cfg, err := config.Parse([]string{"--ephemeral", "--runtime", "process", "--listen", "127.0.0.1:0"}, func(string) string { return "" }, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			st := store.OpenMemory()
			t.Cleanup(func() { st.Close() })
			clk := clock.NewManual(time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC))
			sys := build(deps{cfg: cfg, st: st, log: slog.New(slog.DiscardHandler), bus: eventbus.New(), loops: &Loops{}, clock: clk})
			ctx := context.Background()
			_, err = sys.Scheduler.CreateSchedule(ctx, &schedapi.CreateScheduleInput{Name: awsapi.String("every-minute"),
				ScheduleExpression: awsapi.String("rate(1 minute)"),
				FlexibleTimeWindow: &schedapi.FlexibleTimeWindow{Mode: awsapi.String("OFF")},
				Target: &schedapi.Target{Arn: awsapi.String("arn:aws:sqs:us-east-1:" + cfg.Account + ":work"),
					RoleArn: awsapi.String("arn:aws:iam::" + cfg.Account + ":role/s")}})
			if err != nil {
				t.Fatal(err)
			}

			fired := 0
			old := resetPassHook
			resetPassHook = func(pass int) {
				if pass != 1 {
					return
				}
				// The scheduler's loop, between the first pass's deletes
				// and forget.
				clk.Advance(2 * time.Minute)
				if err := sys.Scheduler.Fire(ctx); err != nil {
					t.Errorf("fire: %v", err)
				}
				fired = len(keysUnder(t, st, "scheduler/"))
			}
			t.Cleanup(func() { resetPassHook = old })

			r := &resetter{sys: sys, st: st, gate: &server.Gate{}}
			if _, err := r.Reset(ctx, service); err != nil {
				t.Fatal(err)
			}
			if fired == 0 {
				t.Fatal("the firing wrote nothing back: the test no longer races the reset")
			}
			if left := keysUnder(t, st, "scheduler/"); len(left) != 0 {
				t.Errorf("after the reset the store still holds %q", left)
			}
			clk.Advance(2 * time.Minute)
			if err := sys.Scheduler.Fire(ctx); err != nil {
				t.Fatal(err)
			}
			if left := keysUnder(t, st, "scheduler/"); len(left) != 0 {
				t.Errorf("the schedule fired again after the reset: %q", left)
			}
		})
	}
}

func keysUnder(t *testing.T, st store.Store, prefix string) []string {
	t.Helper()
	var keys []string
	err := st.View(func(tx store.Tx) error {
		return tx.Scan([]byte(prefix), nil, func(k, _ []byte) (bool, error) {
			keys = append(keys, string(bytes.Clone(k)))
			return true, nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return keys
}
