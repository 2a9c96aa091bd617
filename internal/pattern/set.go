package pattern

import (
	"slices"
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
//
// The index is kept up to date by Put and Delete, which change only the entries
// of the pattern they add or remove (a rule change costs the size of that
// rule's pattern, not a rebuild over every rule); Match only reads it, under a
// read lock, so events are matched concurrently. An anchor is chosen when its
// pattern is added, by how many conjunctions share its values then; which
// anchor is chosen changes the candidates examined, never the result.
type Set struct {
	mu    sync.RWMutex
	pats  map[string]*Pattern
	ids   map[string][]int32 // pattern name → its conjunctions in ix.conjs
	ix    index
	ready bool // ix's maps are made
}

// Put adds or replaces the pattern named name.
func (s *Set) Put(name string, p *Pattern) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.ready {
		s.pats, s.ids = map[string]*Pattern{}, map[string][]int32{}
		s.ix = index{byValue: map[string][]int32{}, tries: map[string]*pathTrie{}, paths: map[string]int{}, count: map[string]int{}}
		s.ready = true
	}
	if _, ok := s.pats[name]; ok {
		s.removeLocked(name)
	}
	s.pats[name] = p
	for _, n := range p.alts {
		s.ids[name] = append(s.ids[name], s.ix.add(name, n))
	}
}

// Delete removes the pattern named name.
func (s *Set) Delete(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.pats[name]; ok {
		s.removeLocked(name)
	}
}

func (s *Set) removeLocked(name string) {
	for _, c := range s.ids[name] {
		s.ix.remove(c)
	}
	delete(s.ids, name)
	delete(s.pats, name)
}

// Len is the number of patterns in s.
func (s *Set) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.pats)
}

// Match returns the names of the patterns ev matches, sorted.
func (s *Set) Match(ev *Event) []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if !s.ready {
		return nil
	}
	return s.ix.match(ev)
}

// conj is one conjunction of a pattern; n is nil for a free slot.
type conj struct {
	name  string
	n     *node
	cands []anchor // its candidate anchors, counted in index.count
	at    int      // the candidate it is indexed under, or -1: in always
}

// index is a Set's matching index.
type index struct {
	conjs   []conj
	free    []int32              // free slots of conjs
	byValue map[string][]int32   // path + "\x00" + value key → conjunctions anchored there
	tries   map[string]*pathTrie // path → its prefix and suffix tries
	paths   map[string]int       // every path (and path prefix) that is indexed → conjunctions under it
	always  []int32              // conjunctions without an anchor
	count   map[string]int       // path + "\x00" + value's cost key → conjunctions that could anchor there
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

// remove takes c out of the conjunctions at key, and prunes the nodes left
// with neither conjunctions nor children.
func (t *trie) remove(key string, reverse bool, c int32) {
	path := []*trie{t}
	for i := 0; i < len(key); i++ {
		b := key[i]
		if reverse {
			b = key[len(key)-1-i]
		}
		if t = t.kids[b]; t == nil {
			return
		}
		path = append(path, t)
	}
	t.conjs = without(t.conjs, c)
	for i := len(path) - 1; i > 0; i-- {
		n := path[i]
		if len(n.conjs) > 0 || len(n.kids) > 0 {
			return
		}
		b := key[i-1]
		if reverse {
			b = key[len(key)-i]
		}
		delete(path[i-1].kids, b)
	}
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

// without returns list without c.
func without(list []int32, c int32) []int32 {
	for i, x := range list {
		if x == c {
			return append(list[:i], list[i+1:]...)
		}
	}
	return list
}

// add indexes the conjunction n of the pattern name and returns its slot.
func (ix *index) add(name string, n *node) int32 {
	as := anchors(n, "", nil)
	for _, a := range as {
		for _, k := range a.keys {
			ix.count[a.path+"\x00"+k]++
		}
		for i := range a.affix {
			ix.count[a.path+"\x00"+a.affix[i].costKey()]++
		}
	}
	best, bestCost, bestAffix := -1, 0, false
	for j, a := range as {
		cost := 0
		for _, k := range a.keys {
			cost += ix.count[a.path+"\x00"+k]
		}
		for k := range a.affix {
			cost += ix.count[a.path+"\x00"+a.affix[k].costKey()]
		}
		// An exact anchor beats one that needs a trie: a prefix such
		// as "" or "a" can admit most events.
		affix := len(a.affix) > 0
		if best < 0 || (bestAffix && !affix) || (affix == bestAffix && cost < bestCost) {
			best, bestCost, bestAffix = j, cost, affix
		}
	}
	var i int32
	if f := len(ix.free); f > 0 {
		i, ix.free = ix.free[f-1], ix.free[:f-1]
	} else {
		i = int32(len(ix.conjs))
		ix.conjs = append(ix.conjs, conj{})
	}
	ix.conjs[i] = conj{name: name, n: n, cands: as, at: best}
	if best < 0 {
		ix.always = append(ix.always, i)
		return i
	}
	a := as[best]
	for _, k := range a.keys {
		key := a.path + "\x00" + k
		ix.byValue[key] = append(ix.byValue[key], i)
	}
	for _, m := range a.affix {
		pt := ix.tries[a.path]
		if pt == nil {
			pt = &pathTrie{}
			ix.tries[a.path] = pt
		}
		t := pt.of(m)
		if *t == nil {
			*t = &trie{}
		}
		(*t).insert(m.str, m.kind == kSuffix, i)
	}
	forPathPrefixes(a.path, func(p string) { ix.paths[p]++ })
	return i
}

// remove takes the conjunction in slot i out of the index.
func (ix *index) remove(i int32) {
	c := ix.conjs[i]
	for _, a := range c.cands {
		for _, k := range a.keys {
			ix.uncount(a.path + "\x00" + k)
		}
		for j := range a.affix {
			ix.uncount(a.path + "\x00" + a.affix[j].costKey())
		}
	}
	if c.at < 0 {
		ix.always = without(ix.always, i)
	} else {
		a := c.cands[c.at]
		for _, k := range a.keys {
			key := a.path + "\x00" + k
			if l := without(ix.byValue[key], i); len(l) > 0 {
				ix.byValue[key] = l
			} else {
				delete(ix.byValue, key)
			}
		}
		if pt := ix.tries[a.path]; pt != nil {
			for _, m := range a.affix {
				(*pt.of(m)).remove(m.str, m.kind == kSuffix, i)
			}
		}
		forPathPrefixes(a.path, func(p string) {
			if ix.paths[p]--; ix.paths[p] <= 0 {
				delete(ix.paths, p)
			}
		})
	}
	ix.conjs[i] = conj{}
	ix.free = append(ix.free, i)
}

func (ix *index) uncount(key string) {
	if ix.count[key]--; ix.count[key] <= 0 {
		delete(ix.count, key)
	}
}

// of returns the trie of pt that holds m's kind of comparison.
func (pt *pathTrie) of(m matcher) **trie {
	switch {
	case m.kind == kPrefix && m.fold:
		return &pt.prefixFold
	case m.kind == kSuffix && !m.fold:
		return &pt.suffix
	case m.kind == kSuffix && m.fold:
		return &pt.suffixFold
	}
	return &pt.prefix
}

// forPathPrefixes calls fn with path and each of its ancestors.
func forPathPrefixes(path string, fn func(string)) {
	for p := path; ; {
		fn(p)
		j := strings.LastIndexByte(p, '\x00')
		if j < 0 {
			return
		}
		p = p[:j]
	}
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
	var path [64]byte
	m := matching{ix: ix}
	m.walk(ev.root, path[:0], true)
	m.cands = append(m.cands, ix.always...)
	var out []string
	for _, c := range m.cands {
		cj := ix.conjs[c]
		if slices.Contains(out, cj.name) {
			continue // a rule's other conjunction matched already
		}
		if cj.n.match(ev.root) {
			out = append(out, cj.name)
		}
	}
	sort.Strings(out)
	return out
}

// matching gathers the candidate conjunctions of one event. It builds each
// path and value key in one buffer, so that looking them up allocates
// nothing, and tells the candidates it has from a list while they are few.
type matching struct {
	ix    *index
	cands []int32
	seen  map[int32]bool // once cands is long
	key   []byte
}

func (m *matching) add(cs []int32) {
	for _, c := range cs {
		if m.seen == nil {
			if slices.Contains(m.cands, c) {
				continue
			}
			if len(m.cands) >= 16 {
				m.seen = make(map[int32]bool, 2*len(m.cands))
				for _, x := range m.cands {
					m.seen[x] = true
				}
			}
		}
		if m.seen != nil {
			if m.seen[c] {
				continue
			}
			m.seen[c] = true
		}
		m.cands = append(m.cands, c)
	}
}

// walk visits each scalar of obj on an indexed path, descending only into
// indexed paths; path is obj's own, its names joined by NUL, and the
// buffer walk builds its members' paths in.
func (m *matching) walk(obj map[string]any, path []byte, root bool) {
	for name, v := range obj {
		p := path
		if !root {
			p = append(p, 0)
		}
		p = append(p, name...)
		if m.ix.paths[string(p)] == 0 {
			continue
		}
		m.value(v, p)
	}
}

func (m *matching) value(v any, p []byte) {
	switch t := v.(type) {
	case map[string]any:
		// A child path is built after p in a buffer of its own: p is
		// the caller's, still being walked.
		m.walk(t, append(make([]byte, 0, len(p)+32), p...), false)
	case []any:
		for _, e := range t {
			m.value(e, p)
		}
	default:
		m.scalar(p, t)
	}
}

func (m *matching) scalar(path []byte, v any) {
	ix := m.ix
	m.key = append(append(m.key[:0], path...), 0)
	if k, ok := appendValueKey(m.key, v); ok {
		m.key = k
		m.add(ix.byValue[string(k)])
	}
	s, ok := v.(string)
	if !ok {
		return
	}
	pt := ix.tries[string(path)]
	if pt == nil {
		return
	}
	pt.prefix.lookup(s, false, m.add)
	pt.suffix.lookup(s, true, m.add)
	if pt.prefixFold != nil || pt.suffixFold != nil {
		lower := strings.ToLower(s)
		pt.prefixFold.lookup(lower, false, m.add)
		pt.suffixFold.lookup(lower, true, m.add)
	}
}
