package app

import (
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"

	"github.com/wharf-dev/wharf/internal/clock"
	"github.com/wharf-dev/wharf/internal/config"
	"github.com/wharf-dev/wharf/internal/eventbus"
	"github.com/wharf-dev/wharf/internal/store"
)

// ServiceOperations is what wharf implements of one service's model.
type ServiceOperations struct {
	ID          string
	Name        string
	Protocols   []string
	Implemented []string
	Missing     []string
}

// Operations builds every service (in memory, never started) and reports which
// operations of each model have a handler: the supported-operations table in the
// README and docs/operations.md is generated from this, not written by hand.
func Operations() []ServiceOperations {
	return docsSystem().operations()
}

// docsSystem builds every service in memory, never started, to read what it
// implements.
func docsSystem() *System {
	cfg, err := config.Parse([]string{"--ephemeral", "--runtime", "process"}, func(string) string { return "" }, io.Discard)
	if err != nil {
		panic(err) // fixed arguments: cannot fail
	}
	st := store.OpenMemory()
	defer st.Close()
	return build(deps{cfg: cfg, st: st, log: slog.New(slog.DiscardHandler), bus: eventbus.New(), loops: &Loops{}, clock: clock.Real})
}

func (sys *System) operations() []ServiceOperations {
	var out []ServiceOperations
	for _, r := range sys.registrations() {
		so := ServiceOperations{ID: r.Desc.ID, Name: r.Desc.ServiceID, Protocols: r.Desc.Protocols}
		for i := range r.Desc.OperationList {
			name := r.Desc.OperationList[i].Name
			if r.Handlers[name] != nil {
				so.Implemented = append(so.Implemented, name)
			} else {
				so.Missing = append(so.Missing, name)
			}
		}
		sort.Strings(so.Implemented)
		sort.Strings(so.Missing)
		out = append(out, so)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// OperationsSummary renders one row per service: protocols and how many of the
// model's operations wharf implements.
func OperationsSummary(ops []ServiceOperations) string {
	var b strings.Builder
	b.WriteString("| service | protocols | operations implemented |\n|---|---|---|\n")
	for _, s := range ops {
		total := len(s.Implemented) + len(s.Missing)
		fmt.Fprintf(&b, "| %s (`%s`) | %s | %d of %d |\n", s.Name, s.ID, strings.Join(s.Protocols, ", "), len(s.Implemented), total)
	}
	return b.String()
}

// OperationsDetail renders every service's implemented and missing operations.
func OperationsDetail(ops []ServiceOperations) string {
	var b strings.Builder
	b.WriteString("# Supported operations\n\nGenerated from the code by `go test ./internal/app -run TestDocsAreCurrent -update`; do not edit.\n")
	for _, s := range ops {
		fmt.Fprintf(&b, "\n## %s (`%s`)\n\nProtocols: %s. Implemented: %d of %d.\n\n", s.Name, s.ID, strings.Join(s.Protocols, ", "), len(s.Implemented), len(s.Implemented)+len(s.Missing))
		if len(s.Implemented) > 0 {
			fmt.Fprintf(&b, "Implemented: %s\n\n", strings.Join(s.Implemented, ", "))
		}
		if len(s.Missing) > 0 {
			fmt.Fprintf(&b, "Not yet (answers `NotImplemented`, HTTP 501): %s\n", strings.Join(s.Missing, ", "))
		}
	}
	return b.String()
}
