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
// values are all exact, prefix or suffix values, so an event can only match if
// it carries, on that path, one of the exact values or a string starting (or
// ending) with one of the prefixes (suffixes). Exact values are looked up in a
// map; prefixes in a trie of the bytes of the event's string, suffixes in a trie
// of its bytes read backwards (both also case-folded, for prefix and suffix with
// equals-ignore-case), so the cost of a lookup is the length of the event's
// value, not the number of rules. Among a conjunction's candidate anchors an
// exact one wins over one that needs a trie, and among those the one whose
// values are shared by the fewest other conjunctions, so 10,000 rules that all
// say "source": ["aws.s3"] but differ in their bucket name are told apart by the
// bucket. An event is walked once to collect its values on indexed paths; only
// the conjunctions found that way, plus those without any anchor (evaluated for
// every event: only anything-but, numeric, exists, wildcard, cidr and
// equals-ignore-case fields), are evaluated. Per-event cost thus grows with the
// event's size and the number of candidate rules, not with the number of rules.
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
	conjs   []conj
	byValue map[string][]int32   // path + "\x00" + value key → conjunctions anchored there
	tries   map[string]*pathTrie // path → its prefix and suffix tries
	paths   map[string]bool      // every path (and path prefix) that is indexed
	always  []int32              // conjunctions without an anchor
}

// pathTrie holds the conjunctions anchored on one path by prefix or suffix
// values, one trie per kind of comparison.
type pathTrie struct {
	prefix, suffix, prefixFold, suffixFold *trie
}

// trie maps byte strings to the conjunctions anchored at them.
type trie struct {
	conjs []int32
	kids  map[byte]*trie
}

func (t *trie) insert(key string, reverse bool, c int32) {
	for i := 0; i < len(key); i++ {
		b := key[i]
		if reverse {
			b = key[len(key)-1-i]
		}
		if t.kids == nil {
			t.kids = map[byte]*trie{}
		}
		next := t.kids[b]
		if next == nil {
			next = &trie{}
			t.kids[b] = next
		}
		t = next
	}
	t.conjs = append(t.conjs, c)
}

// lookup calls fn with the conjunctions of every key that is a prefix of s
// (a suffix of s when reverse).
func (t *trie) lookup(s string, reverse bool, fn func([]int32)) {
	for i := 0; t != nil; i++ {
		if len(t.conjs) > 0 {
			fn(t.conjs)
		}
		if i == len(s) {
			return
		}
		b := s[i]
		if reverse {
			b = s[len(s)-1-i]
		}
		t = t.kids[b]
	}
}

// anchor is a candidate anchor of a conjunction: a path whose values are all
// exact, prefix or suffix values.
type anchor struct {
	path  string
	keys  []string  // value keys (see valueKey) of the exact values
	affix []matcher // the prefix and suffix values
}

// costKey names a value of an anchor for counting how many conjunctions share it.
func (m *matcher) costKey() string {
	k := "p"
	if m.kind == kSuffix {
		k = "x"
	}
	if m.fold {
		k += "i"
	}
	return k + "\x00" + m.str
}

func build(pats map[string]*Pattern) *index {
	ix := &index{byValue: map[string][]int32{}, tries: map[string]*pathTrie{}, paths: map[string]bool{}}
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
				for i := range a.affix {
					count[a.path+"\x00"+a.affix[i].costKey()]++
				}
			}
		}
	}
	for i, as := range cands {
		best, bestCost, bestAffix := -1, 0, false
		for j, a := range as {
			cost := 0
			for _, k := range a.keys {
				cost += count[a.path+"\x00"+k]
			}
			for k := range a.affix {
				cost += count[a.path+"\x00"+a.affix[k].costKey()]
			}
			// An exact anchor beats one that needs a trie: a prefix such
			// as "" or "a" can admit most events.
			affix := len(a.affix) > 0
			if best < 0 || (bestAffix && !affix) || (affix == bestAffix && cost < bestCost) {
				best, bestCost, bestAffix = j, cost, affix
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
		for _, m := range a.affix {
			pt := ix.tries[a.path]
			if pt == nil {
				pt = &pathTrie{}
				ix.tries[a.path] = pt
			}
			t := &pt.prefix
			switch {
			case m.kind == kPrefix && m.fold:
				t = &pt.prefixFold
			case m.kind == kSuffix && !m.fold:
				t = &pt.suffix
			case m.kind == kSuffix && m.fold:
				t = &pt.suffixFold
			}
			if *t == nil {
				*t = &trie{}
			}
			(*t).insert(m.str, m.kind == kSuffix, int32(i))
		}
		for p := a.path; ; {
			ix.paths[p] = true
			j := strings.LastIndexByte(p, '\x00')
			if j < 0 {
				break
			}
			p = p[:j]
		}
	}
	return ix
}

// anchors lists the fields of n (at any depth) whose values are all exact,
// prefix or suffix values. Every such field must be present with a value
// satisfying one of them for n to match. Paths join names with NUL, which
// cannot be confused with a dot inside a name.
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
		a, ok := anchor{path: p}, true
		for _, m := range f.leaf {
			switch m.kind {
			case kExact:
				a.keys = append(a.keys, m.key)
			case kPrefix, kSuffix:
				a.affix = append(a.affix, m)
			default:
				// One value the index cannot look up (numeric,
				// anything-but, ...) makes the whole field unusable.
				ok = false
			}
		}
		if ok {
			dst = append(dst, a)
		}
	}
	return dst
}

func (ix *index) match(ev *Event) []string {
	seen := map[int32]bool{}
	var cands []int32
	add := func(cs []int32) {
		for _, c := range cs {
			if !seen[c] {
				seen[c] = true
				cands = append(cands, c)
			}
		}
	}
	ix.walk(ev.root, "", func(path string, v any) {
		if k, ok := valueKey(v); ok {
			add(ix.byValue[path+"\x00"+k])
		}
		s, ok := v.(string)
		if !ok {
			return
		}
		pt := ix.tries[path]
		if pt == nil {
			return
		}
		pt.prefix.lookup(s, false, add)
		pt.suffix.lookup(s, true, add)
		if pt.prefixFold != nil || pt.suffixFold != nil {
			lower := strings.ToLower(s)
			pt.prefixFold.lookup(lower, false, add)
			pt.suffixFold.lookup(lower, true, add)
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

// walk calls fn with the path and value of each scalar of obj on an indexed
// path, descending only into indexed paths.
func (ix *index) walk(obj map[string]any, path string, fn func(string, any)) {
	for name, v := range obj {
		p := name
		if path != "" {
			p = path + "\x00" + name
		}
		if !ix.paths[p] {
			continue
		}
		ix.value(v, p, fn)
	}
}

func (ix *index) value(v any, p string, fn func(string, any)) {
	switch t := v.(type) {
	case map[string]any:
		ix.walk(t, p, fn)
	case []any:
		for _, e := range t {
			ix.value(e, p, fn)
		}
	default:
		fn(p, t)
	}
}
