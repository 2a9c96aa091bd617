package app

import (
	"slices"
	"testing"
)

// TestRegistrationsHaveTheHandlersBindFinds: the bind functions of
// operations_gen.go, which registrations uses, give every service exactly
// the operations its package's Bind finds on its implementations.
func TestRegistrationsHaveTheHandlersBindFinds(t *testing.T) {
	sys := docsSystem()
	want := map[string][]string{} // by service ID
	for _, b := range sys.bindings() {
		for op := range b.bind(b.impl) {
			if !slices.Contains(want[b.desc.ID], op) {
				want[b.desc.ID] = append(want[b.desc.ID], op)
			}
		}
	}
	for _, r := range sys.registrations() {
		var got []string
		for op, h := range r.Handlers {
			if h == nil {
				t.Errorf("%s %s: nil handler", r.Desc.ID, op)
			}
			got = append(got, op)
		}
		slices.Sort(got)
		w := want[r.Desc.ID]
		slices.Sort(w)
		if !slices.Equal(got, w) {
			t.Errorf("%s: registered %d operations %v,\nBind finds %d: %v", r.Desc.ID, len(got), got, len(w), w)
		}
	}
}
