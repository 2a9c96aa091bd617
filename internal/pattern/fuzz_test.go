package pattern

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"reflect"
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

// decodeJSON is decode's answer from encoding/json alone.
func decodeJSON(b []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := d.Token(); err != io.EOF {
		return nil, errors.New("unexpected data after the JSON value")
	}
	return v, nil
}

// FuzzDecodeFastMatchesEncodingJSON: what decodeFast decodes, encoding/json
// decodes to the same value.
func FuzzDecodeFastMatchesEncodingJSON(f *testing.F) {
	for _, s := range []string{
		`{"version":"0","id":"x","detail-type":"Bench","source":"bench","account":"000000000000","time":"2026-12-06T00:00:00Z","region":"us-east-1","resources":[],"detail":{"w":0,"order":"o-1"}}`,
		`{"a":[1,-0.5e+3,true,false,null,"\u00e9\ud83d\ude00\n\/\"",{},[]],"a":{"b":{"c":[[]]}}}`,
		` [1, 2 ] `, `"s"`, `-0`, `01`, `1.`, `{"a":1,}`, `[1 2]`, `{"a" 1}`, `"\ud800"`, `"\udc00"`, "\"\xff\"", `{"a":1} {}`, `tru`, `nul`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		fast, ok := decodeFast(b)
		if !ok {
			return
		}
		want, err := decodeJSON(b)
		if err != nil {
			t.Fatalf("%q: decoded fast, but encoding/json says %v", b, err)
		}
		if !reflect.DeepEqual(fast, want) {
			t.Fatalf("%q: fast %#v, encoding/json %#v", b, fast, want)
		}
	})
}

// TestDecodeFastTakesAnEnvelope: an event as wharf writes it is decoded
// fast, or the fuzz test above checks nothing.
func TestDecodeFastTakesAnEnvelope(t *testing.T) {
	env := []byte(`{"version":"0","id":"6a7e8feb","detail-type":"Bench","source":"bench","account":"000000000000","time":"2026-12-06T00:00:00Z","region":"us-east-1","resources":[],"detail":{"w":0,"order":"o-1","n":[1.5,null,true]}}`)
	v, ok := decodeFast(env)
	want, err := decodeJSON(env)
	if !ok || err != nil || !reflect.DeepEqual(v, want) {
		t.Fatalf("decodeFast: %v %#v; encoding/json: %v %#v", ok, v, err, want)
	}
}

func BenchmarkParseEvent(b *testing.B) {
	env := []byte(`{"version":"0","id":"6a7e8feb-b491-4cf7-a9f1-bf3703467718","detail-type":"Bench","source":"bench","account":"000000000000","time":"2026-12-06T00:00:00Z","region":"us-east-1","resources":[],"detail":{"w":0,"order":"o-1"}}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseEvent(env); err != nil {
			b.Fatal(err)
		}
	}
}
