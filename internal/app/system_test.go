package app

import (
	"io"
	"log/slog"
	"reflect"
	"testing"

	"github.com/wharf-dev/wharf/internal/clock"
	"github.com/wharf-dev/wharf/internal/config"
	"github.com/wharf-dev/wharf/internal/eventbus"
	"github.com/wharf-dev/wharf/internal/server"
	"github.com/wharf-dev/wharf/internal/service/events"
	"github.com/wharf-dev/wharf/internal/store"
)

func testSystem(t testing.TB) *System {
	sys, _, _ := systemWith(t, clock.Real, nil, "--ephemeral")
	return sys
}

// systemWith builds a System with the process runtime on an in-memory
// store, which it returns with the configuration: flags go before
// --runtime, clk is every service's clock and gate (nil: none) the one
// their loops hold.
func systemWith(t testing.TB, clk clock.Clock, gate *server.Gate, flags ...string) (*System, *config.Config, store.Store) {
	t.Helper()
	cfg, err := config.Parse(append(flags, "--runtime", "process", "--listen", "127.0.0.1:0"), func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	st := store.OpenMemory()
	t.Cleanup(func() { st.Close() })
	return build(deps{cfg: cfg, st: st, log: slog.New(slog.DiscardHandler), bus: eventbus.New(), loops: &Loops{}, clock: clk, gate: gate}), cfg, st
}

// TestEveryEventBridgeTargetTypeIsWired: a target type EventBridge delivers to
// without a Target wired would fail every delivery (as the Logs target once did).
func TestEveryEventBridgeTargetTypeIsWired(t *testing.T) {
	sys := testSystem(t)
	for _, svc := range events.TargetServices {
		if sys.Targets.For(svc) == nil {
			t.Errorf("no EventBridge target is wired for %q", svc)
		}
	}
	if sys.Targets.For("lambda") != nil {
		t.Error("a target for lambda, which wharf does not run, is wired")
	}
}

// TestEveryServiceIsBuilt: with the process runtime and in-memory state every
// field of System is set, so no service is silently left out.
func TestEveryServiceIsBuilt(t *testing.T) {
	sys := testSystem(t)
	v := reflect.ValueOf(sys).Elem()
	for i := range v.NumField() {
		f := v.Field(i)
		if (f.Kind() == reflect.Pointer || f.Kind() == reflect.Interface) && f.IsNil() {
			t.Errorf("System.%s is not built", v.Type().Field(i).Name)
		}
	}
	for _, r := range sys.registrations() {
		if len(r.Handlers) == 0 {
			t.Errorf("%s has no operations bound", r.Desc.ID)
		}
	}
}
