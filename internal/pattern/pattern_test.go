package pattern

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
)

// A matchCase is one row of testdata/<operator>.json: a pattern, an event and
// whether the pattern matches it. Rows in invalid.json carry the error instead.
type matchCase struct {
	Name    string          `json:"name"`
	Pattern json.RawMessage `json:"pattern"`
	Event   json.RawMessage `json:"event"`
	Match   bool            `json:"match"`
	Error   string          `json:"error"`
}

func loadCases(t testing.TB) map[string][]matchCase {
	t.Helper()
	files, err := filepath.Glob("testdata/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata: %v", err)
	}
	out := map[string][]matchCase{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var cs []matchCase
		if err := json.Unmarshal(b, &cs); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out[strings.TrimSuffix(filepath.Base(f), ".json")] = cs
	}
	return out
}

func TestPatternsMatchDocumentedExamples(t *testing.T) {
	for file, cases := range loadCases(t) {
		if file == "invalid" {
			continue
		}
		for _, c := range cases {
			t.Run(file+"/"+c.Name, func(t *testing.T) {
				p, err := Compile(c.Pattern)
				if err != nil {
					t.Fatalf("compile %s: %v", c.Pattern, err)
				}
				got, err := p.Match(c.Event)
				if err != nil {
					t.Fatalf("match: %v", err)
				}
				if got != c.Match {
					t.Errorf("pattern %s\nevent %s\nmatch = %v, want %v", c.Pattern, c.Event, got, c.Match)
				}
			})
		}
	}
}

func TestInvalidPatternsNameTheProblem(t *testing.T) {
	for _, c := range loadCases(t)["invalid"] {
		t.Run(c.Name, func(t *testing.T) {
			_, err := Compile(c.Pattern)
			if err == nil {
				t.Fatalf("Compile(%s) succeeded", c.Pattern)
			}
			var pe *Error
			if !errors.As(err, &pe) {
				t.Errorf("error %T is not a *pattern.Error", err)
			}
			if !strings.Contains(err.Error(), c.Error) {
				t.Errorf("error %q does not contain %q", err, c.Error)
			}
		})
	}
}

func TestCompileRejectsMalformedJSON(t *testing.T) {
	for _, src := range []string{``, `{`, `{"a":["x"]} {}`, `{"a":["x"],}`, `null`, `"x"`} {
		if _, err := Compile([]byte(src)); err == nil {
			t.Errorf("Compile(%q) succeeded", src)
		}
	}
}

// TestSetAgreesWithEachPattern puts every pattern of a testdata file in one Set and
// checks that, for every event of the file, the Set returns exactly the patterns
// that match it one by one: the index must never lose a match nor invent one.
func TestSetAgreesWithEachPattern(t *testing.T) {
	all := loadCases(t)
	var pats []*Pattern
	var names []string
	var events [][]byte
	set := &Set{}
	for file, cases := range all {
		if file == "invalid" {
			continue
		}
		for i, c := range cases {
			p, err := Compile(c.Pattern)
			if err != nil {
				t.Fatal(err)
			}
			name := fmt.Sprintf("%s/%03d", file, i)
			pats = append(pats, p)
			names = append(names, name)
			set.Put(name, p)
			events = append(events, c.Event)
		}
	}
	for _, e := range events {
		checkSetAgrees(t, set, names, pats, e)
	}
	set.Delete(names[0])
	if set.Len() != len(names)-1 {
		t.Errorf("Len after Delete = %d", set.Len())
	}
	ev, _ := ParseEvent(events[0])
	for _, n := range set.Match(ev) {
		if n == names[0] {
			t.Errorf("deleted pattern %s still matches", n)
		}
	}
}

func checkSetAgrees(t testing.TB, set *Set, names []string, pats []*Pattern, event []byte) {
	t.Helper()
	ev, err := ParseEvent(event)
	if err != nil {
		return
	}
	var want []string
	for i, p := range pats {
		if p.MatchEvent(ev) {
			want = append(want, names[i])
		}
	}
	sort.Strings(want)
	got := set.Match(ev)
	if len(got) == 0 && len(want) == 0 {
		return
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("event %s\nset matched %v\npatterns matched %v", event, got, want)
	}
}

func TestSetAnchorsOnTheMostSelectiveField(t *testing.T) {
	set := &Set{}
	for i := 0; i < 50; i++ {
		set.Put(fmt.Sprintf("r%02d", i), MustCompile(fmt.Sprintf(`{"source":["aws.s3"],"detail":{"bucket":{"name":["b%d"]}}}`, i)))
	}
	set.Put("prefix", MustCompile(`{"source":[{"prefix":"aws."}]}`))
	ix := &set.ix
	if len(ix.always) != 0 {
		t.Errorf("%d conjunctions evaluated for every event, want 0", len(ix.always))
	}
	if ix.tries["source"] == nil {
		t.Errorf("the prefix rule is not in the source trie")
	}
	if n := len(ix.byValue["detail\x00bucket\x00name\x00sb7"]); n != 1 {
		t.Errorf("bucket b7 anchors %d rules, want 1", n)
	}
	ev, _ := ParseEvent([]byte(`{"source":"aws.s3","detail":{"bucket":{"name":"b7"}}}`))
	if got := set.Match(ev); !reflect.DeepEqual(got, []string{"prefix", "r07"}) {
		t.Errorf("matched %v", got)
	}
}

// TestSetIndexesPrefixAndSuffixRules checks which conjunctions the index can
// anchor by prefix or suffix, that it prefers an exact anchor, and that the
// tries find exactly the rules whose prefix or suffix the event's value has.
func TestSetIndexesPrefixAndSuffixRules(t *testing.T) {
	set := &Set{}
	pats := map[string]string{
		"in":        `{"key":[{"prefix":"in/"}]}`,
		"in-photos": `{"key":[{"prefix":"in/photos/"}]}`,
		"empty":     `{"key":[{"prefix":""}]}`,
		"png":       `{"key":[{"suffix":".png"}]}`,
		"PNG-fold":  `{"key":[{"suffix":{"equals-ignore-case":".PNG"}}]}`,
		"IN-fold":   `{"key":[{"prefix":{"equals-ignore-case":"IN/"}}]}`,
		"mixed":     `{"key":["exact", {"prefix":"out/"}]}`,
		"exact-too": `{"key":[{"prefix":"in/"}],"bucket":["b1"]}`,
		// A numeric value beside the prefix: the field cannot anchor.
		"numeric": `{"key":[{"prefix":"in/"}, {"numeric":[">",1]}]}`,
		// Array elements are indexed like scalars.
		"tags": `{"tags":[{"prefix":"team-"}]}`,
	}
	for n, p := range pats {
		set.Put(n, MustCompile(p))
	}
	ix := &set.ix
	var always []string
	for _, c := range ix.always {
		always = append(always, ix.conjs[c].name)
	}
	if !reflect.DeepEqual(always, []string{"numeric"}) {
		t.Errorf("evaluated for every event: %v, want [numeric]", always)
	}
	if n := len(ix.byValue["bucket\x00sb1"]); n != 1 {
		t.Errorf("exact-too is anchored %d times on its bucket, want 1 (exact beats prefix)", n)
	}
	cases := []struct {
		event string
		want  []string
	}{
		{`{"key":"in/photos/cat.png"}`, []string{"IN-fold", "PNG-fold", "empty", "in", "in-photos", "numeric", "png"}},
		{`{"key":"IN/cat.PNG"}`, []string{"IN-fold", "PNG-fold", "empty"}},
		{`{"key":"in/x","bucket":"b1"}`, []string{"IN-fold", "empty", "exact-too", "in", "numeric"}},
		{`{"key":"exact"}`, []string{"empty", "mixed"}},
		{`{"key":"out/a"}`, []string{"empty", "mixed"}},
		{`{"key":5}`, []string{"numeric"}},
		{`{"key":""}`, []string{"empty"}},
		{`{"tags":["x","team-a"]}`, []string{"tags"}},
		{`{"other":"in/"}`, nil},
	}
	for _, c := range cases {
		ev, err := ParseEvent([]byte(c.event))
		if err != nil {
			t.Fatal(err)
		}
		if got := set.Match(ev); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s matched %v, want %v", c.event, got, c.want)
		}
	}
}

func TestMatchRejectsNonObjectEvents(t *testing.T) {
	p := MustCompile(`{"a":["x"]}`)
	for _, e := range []string{`[]`, `"x"`, `{`, ``} {
		if _, err := p.Match([]byte(e)); err == nil {
			t.Errorf("Match(%q) succeeded", e)
		}
	}
}

func TestOrExpansionIsBounded(t *testing.T) {
	var b strings.Builder
	b.WriteString("{")
	for i := 0; i < 12; i++ {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `"f%d":{"$or":[{"a":["1"]},{"b":["2"]}]}`, i)
	}
	b.WriteString("}")
	_, err := Compile([]byte(b.String()))
	if err == nil || !strings.Contains(err.Error(), "Too many $or combinations") {
		t.Errorf("2^12 alternatives: err = %v", err)
	}
}

// TestCompileBoundsNesting compiles the deepest pattern allowed, which matches
// an event as deep, and refuses one level more before decoding it.
func TestCompileBoundsNesting(t *testing.T) {
	deep := func(d int, leaf string) []byte {
		return []byte(strings.Repeat(`{"a":`, d) + leaf + strings.Repeat("}", d))
	}
	p, err := Compile(deep(maxDepth-1, `["x"]`))
	if err != nil {
		t.Fatalf("%d levels: %v", maxDepth, err)
	}
	if ok, err := p.Match(deep(maxDepth-1, `"x"`)); !ok || err != nil {
		t.Errorf("the deepest pattern does not match its event: %v %v", ok, err)
	}
	var pe *Error
	_, err = Compile(deep(maxDepth, `["x"]`))
	if !errors.As(err, &pe) || !strings.Contains(err.Error(), "nested more than 1000 levels") {
		t.Fatalf("%d levels: %v", maxDepth+1, err)
	}
}

// TestSetAgreesAfterRulesChange changes the Set's patterns one by one (the
// index is updated in place, not rebuilt): after deleting every other
// pattern and giving others' names new patterns, the Set still returns
// exactly the patterns that match one by one, and once every pattern is
// deleted the index holds nothing.
func TestSetAgreesAfterRulesChange(t *testing.T) {
	var pats []*Pattern
	var events [][]byte
	for file, cases := range loadCases(t) {
		if file == "invalid" {
			continue
		}
		for _, c := range cases {
			pats = append(pats, MustCompile(string(c.Pattern)))
			events = append(events, c.Event)
		}
	}
	set := &Set{}
	names := make([]string, len(pats))
	for i, p := range pats {
		names[i] = fmt.Sprintf("r%04d", i)
		set.Put(names[i], p)
	}
	var keptNames []string
	var kept []*Pattern
	for i := range pats {
		switch i % 3 {
		case 0:
			set.Delete(names[i])
		case 1:
			// The same name, another rule's pattern.
			p := pats[(i*7+3)%len(pats)]
			set.Put(names[i], p)
			keptNames, kept = append(keptNames, names[i]), append(kept, p)
		default:
			keptNames, kept = append(keptNames, names[i]), append(kept, pats[i])
		}
	}
	if set.Len() != len(kept) {
		t.Fatalf("Len = %d, want %d", set.Len(), len(kept))
	}
	for _, e := range events {
		checkSetAgrees(t, set, keptNames, kept, e)
	}
	for _, n := range keptNames {
		set.Delete(n)
	}
	ix := &set.ix
	live := 0
	for _, c := range ix.conjs {
		if c.n != nil {
			live++
		}
	}
	if live != 0 || len(ix.byValue) != 0 || len(ix.paths) != 0 || len(ix.always) != 0 || len(ix.count) != 0 {
		t.Errorf("empty set's index: %d conjunctions, %d values, %d paths, %d always, %d counts", live, len(ix.byValue), len(ix.paths), len(ix.always), len(ix.count))
	}
	for path, pt := range ix.tries {
		for _, tr := range []*trie{pt.prefix, pt.suffix, pt.prefixFold, pt.suffixFold} {
			if tr != nil && (len(tr.conjs) > 0 || len(tr.kids) > 0) {
				t.Errorf("trie of %q not empty: %+v", path, tr)
			}
		}
	}
}
