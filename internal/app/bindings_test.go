package app

import (
	"slices"
	"strings"
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

func TestSplitARNMatchesSplitN(t *testing.T) {
	for _, arn := range []string{
		"arn:aws:sqs:us-east-1:000000000000:q", "arn:aws:s3:::bucket/key:with:colons", "arn:aws:iam::000000000000:role/r",
		"", "arn", "arn:aws:sqs", "arn:aws:sqs:r:a", "arn:aws:sqs:r:a:", "nota:aws:sqs:r:a:q", ":::::", "arn:::::",
	} {
		parts, ok := splitARN(arn)
		want := strings.SplitN(arn, ":", 6)
		wantOK := len(want) == 6 && want[0] == "arn"
		if ok != wantOK || ok && parts != [6]string(want) {
			t.Errorf("splitARN(%q) = %q, %v; SplitN gives %q", arn, parts, ok, want)
		}
	}
}
