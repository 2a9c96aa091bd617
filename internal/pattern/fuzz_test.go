package pattern

import (
	"testing"
)

// FuzzCompile feeds arbitrary bytes to the compiler: it must return a pattern or
// an error, never panic, and a compiled pattern must match every seed event
// without panicking, with a Set agreeing with it.
func FuzzCompile(f *testing.F) {
	var events [][]byte
	for _, cases := range loadCases(f) {
		for _, c := range cases {
			f.Add([]byte(c.Pattern))
			if len(c.Event) > 0 {
				events = append(events, c.Event)
			}
		}
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		p, err := Compile(src)
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("error %T is not *Error", err)
			}
			return
		}
		set := &Set{}
		set.Put("p", p)
		for _, e := range events {
			checkSetAgrees(t, set, []string{"p"}, []*Pattern{p}, e)
		}
	})
}

// FuzzMatch matches arbitrary events against every seed pattern, one by one and
// through a Set, which must agree.
func FuzzMatch(f *testing.F) {
	set := &Set{}
	var names []string
	var pats []*Pattern
	for file, cases := range loadCases(f) {
		for i, c := range cases {
			if len(c.Event) > 0 {
				f.Add([]byte(c.Event))
			}
			p, err := Compile(c.Pattern)
			if err != nil {
				continue
			}
			name := file + "/" + string(rune('a'+i%26)) + string(rune('a'+i/26))
			names = append(names, name)
			pats = append(pats, p)
			set.Put(name, p)
		}
	}
	f.Fuzz(func(t *testing.T, event []byte) {
		checkSetAgrees(t, set, names, pats, event)
	})
}
