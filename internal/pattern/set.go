package pattern

import (
	"sort"
	"strings"
	"sync"
)

// Set holds the patterns of many rules (an event bus's rules) and finds the rules
// an event matches. It is safe for concurrent use.
//
// Matching does not evaluate every rule. Each conjunction of each pattern (a
// pattern has several when it uses $or) is indexed by one "anchor": a field whose
// values are all exact, so an event can only match if it carries one of those
// (path, value) pairs. Among a conjunction's exact fields the anchor is the one
// whose values are shared by the fewest other conjunctions, so 10,000 rules that
// all say "source": ["aws.s3"] but differ in their bucket name are told apart by
// the bucket. An event is walked once to collect its (path, value) pairs on
// indexed paths; only the conjunctions found that way, plus those without any
// exact field (evaluated for every event), are evaluated. Per-event cost thus
// grows with the event's size and the number of candidate rules, not with the
// number of rules.
type Set struct {
	mu    sync.Mutex
	pats  map[string]*Pattern
	index *index // rebuilt lazily after a change
}

// Put adds or replaces the pattern named name.
func (s *Set) Put(name string, p *Pattern) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pats == nil {
		s.pats = map[string]*Pattern{}
	}
	s.pats[name] = p
	s.index = nil
}

// Delete removes the pattern named name.
func (s *Set) Delete(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.pats, name)
	s.index = nil
}

// Len is the number of patterns in s.
func (s *Set) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.pats)
}

// Match returns the names of the patterns ev matches, sorted.
func (s *Set) Match(ev *Event) []string {
	s.mu.Lock()
	ix := s.index
	if ix == nil {
		ix = build(s.pats)
		s.index = ix
	}
	s.mu.Unlock()
	return ix.match(ev)
}

type conj struct {
	name string
	n    *node
}

// index is an immutable snapshot of a Set, built for matching.
type index struct {
	conjs    []conj
	byValue  map[string][]int32 // path + "\x00" + value key → conjunctions anchored there
	prefixes map[string]bool    // every path (and path prefix) that is indexed
	always   []int32            // conjunctions without an exact field
}

// anchor is a candidate anchor of a conjunction: a path whose values are all exact.
type anchor struct {
	path string
	keys []string
}

func build(pats map[string]*Pattern) *index {
	ix := &index{byValue: map[string][]int32{}, prefixes: map[string]bool{}}
	names := make([]string, 0, len(pats))
	for n := range pats {
		names = append(names, n)
	}
	sort.Strings(names)
	var cands [][]anchor
	count := map[string]int{}
	for _, name := range names {
		for _, n := range pats[name].alts {
			ix.conjs = append(ix.conjs, conj{name: name, n: n})
			as := anchors(n, "", nil)
			cands = append(cands, as)
			for _, a := range as {
				for _, k := range a.keys {
					count[a.path+"\x00"+k]++
				}
			}
		}
	}
	for i, as := range cands {
		best, bestCost := -1, 0
		for j, a := range as {
			cost := 0
			for _, k := range a.keys {
				cost += count[a.path+"\x00"+k]
			}
			if best < 0 || cost < bestCost {
				best, bestCost = j, cost
			}
		}
		if best < 0 {
			ix.always = append(ix.always, int32(i))
			continue
		}
		a := as[best]
		for _, k := range a.keys {
			key := a.path + "\x00" + k
			ix.byValue[key] = append(ix.byValue[key], int32(i))
		}
		for p := a.path; ; {
			ix.prefixes[p] = true
			j := strings.LastIndexByte(p, '\x00')
			if j < 0 {
				break
			}
			p = p[:j]
		}
	}
	return ix
}

// anchors lists the fields of n (at any depth) whose values are all exact. Every
// such field must be present with one of its values for n to match. Paths join
// names with NUL, which cannot be confused with a dot inside a name.
func anchors(n *node, path string, dst []anchor) []anchor {
	for _, f := range n.fields {
		p := f.name
		if path != "" {
			p = path + "\x00" + f.name
		}
		if f.child != nil {
			dst = anchors(f.child, p, dst)
			continue
		}
		keys := make([]string, 0, len(f.leaf))
		for _, m := range f.leaf {
			if m.kind != kExact {
				keys = nil
				break
			}
			keys = append(keys, m.key)
		}
		if len(keys) > 0 {
			dst = append(dst, anchor{path: p, keys: keys})
		}
	}
	return dst
}

func (ix *index) match(ev *Event) []string {
	seen := map[int32]bool{}
	var cands []int32
	ix.walk(ev.root, "", func(key string) {
		for _, c := range ix.byValue[key] {
			if !seen[c] {
				seen[c] = true
				cands = append(cands, c)
			}
		}
	})
	cands = append(cands, ix.always...)
	var out []string
	matched := map[string]bool{}
	for _, c := range cands {
		cj := ix.conjs[c]
		if matched[cj.name] {
			continue
		}
		if cj.n.match(ev.root) {
			matched[cj.name] = true
			out = append(out, cj.name)
		}
	}
	sort.Strings(out)
	return out
}

// walk calls fn with path+"\x00"+valueKey for each scalar of obj on an indexed
// path, descending only into indexed paths.
func (ix *index) walk(obj map[string]any, path string, fn func(string)) {
	for name, v := range obj {
		p := name
		if path != "" {
			p = path + "\x00" + name
		}
		if !ix.prefixes[p] {
			continue
		}
		ix.value(v, p, fn)
	}
}

func (ix *index) value(v any, p string, fn func(string)) {
	switch t := v.(type) {
	case map[string]any:
		ix.walk(t, p, fn)
	case []any:
		for _, e := range t {
			ix.value(e, p, fn)
		}
	default:
		if k, ok := valueKey(t); ok {
			fn(p + "\x00" + k)
		}
	}
}
