// Package pattern compiles and matches EventBridge event patterns: exact values,
// arrays as OR, nested fields, prefix, suffix, equals-ignore-case, wildcard,
// anything-but, numeric ranges, exists, cidr, $or, null and empty strings, and
// matching inside arrays of objects ("Content filtering in Amazon EventBridge event
// patterns", "Arrays in Amazon EventBridge event patterns", "Matching null values and
// empty strings in Amazon EventBridge event patterns").
//
// Compile turns one pattern into a *Pattern; a Set holds every rule of a bus and
// finds the rules an event matches without evaluating each rule (see Set).
//
// Semantics follow AWS's open-source event-ruler where the documentation is silent:
// a field in an event array matches if any element matches; fields of a nested
// pattern object must all match inside the same element of an event array
// ("array-consistent" matching); exists only looks at leaf values, so a field whose
// value is an object or an empty array does not exist.
package pattern

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/wharf-dev/wharf/internal/jsonlimit"
)

// Pattern is a compiled event pattern. It is immutable and safe for concurrent use.
type Pattern struct {
	// alts are the pattern's alternatives after $or is expanded: the pattern
	// matches an event when any alternative does.
	alts []*node
}

// node is a conjunction over the fields of one JSON object.
type node struct {
	fields []field
}

// field is one named member of a pattern object: either a nested object (child)
// or a list of matchers (leaf), of which one must match.
type field struct {
	name  string
	child *node
	leaf  []matcher
}

// Error is a pattern that cannot be compiled. Its message names the problem and
// where it is, so the service can return it in InvalidEventPatternException.
type Error struct {
	Path   string // dotted path of the offending field; "" for the whole pattern
	Reason string
}

func (e *Error) Error() string {
	if e.Path == "" {
		return e.Reason
	}
	return e.Reason + " at " + e.Path
}

// maxDepth bounds how deeply a pattern's objects and arrays nest. AWS's
// event-ruler parses patterns with Jackson, whose default nesting limit is
// 1000; checking it before decoding bounds the compiler's recursion and the
// paths it builds for error messages.
const maxDepth = 1000

// Compile parses and checks an event pattern.
func Compile(src []byte) (*Pattern, error) {
	if jsonlimit.Depth(src, maxDepth) > maxDepth {
		return nil, &Error{Reason: fmt.Sprintf("Event pattern is nested more than %d levels deep", maxDepth)}
	}
	v, err := decode(src)
	if err != nil {
		return nil, &Error{Reason: "Event pattern is not valid JSON: " + err.Error()}
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, &Error{Reason: "Filter is not an object"}
	}
	if len(obj) == 0 {
		return nil, &Error{Reason: "Empty event pattern"}
	}
	c := compiler{}
	alts, err := c.object(obj, "")
	if err != nil {
		return nil, err
	}
	return &Pattern{alts: alts}, nil
}

// MustCompile is Compile for patterns known to be valid; it panics otherwise.
// It is for tests and package-level patterns.
func MustCompile(src string) *Pattern {
	p, err := Compile([]byte(src))
	if err != nil {
		panic(err)
	}
	return p
}

// Match reports whether event (a JSON object) matches p.
func (p *Pattern) Match(event []byte) (bool, error) {
	ev, err := ParseEvent(event)
	if err != nil {
		return false, err
	}
	return p.MatchEvent(ev), nil
}

// MatchEvent reports whether a parsed event matches p.
func (p *Pattern) MatchEvent(ev *Event) bool {
	for _, n := range p.alts {
		if n.match(ev.root) {
			return true
		}
	}
	return false
}

// Event is a parsed event, ready for matching against many patterns.
type Event struct {
	root map[string]any
}

// ErrNotObject is returned for an event that is not a JSON object.
var ErrNotObject = errors.New("event is not a JSON object")

// ParseEvent parses a JSON object for matching.
func ParseEvent(b []byte) (*Event, error) {
	v, err := decode(b)
	if err != nil {
		return nil, fmt.Errorf("parse event: %w", err)
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, ErrNotObject
	}
	return &Event{root: obj}, nil
}

// EventFromValue wraps an already-decoded JSON object (numbers as json.Number or
// float64) for matching.
func EventFromValue(obj map[string]any) *Event { return &Event{root: obj} }

// Object is the event's JSON object as parsed; callers must not modify it.
func (e *Event) Object() map[string]any { return e.root }

// ParseValue parses one JSON value as ParseEvent parses the members of an
// event: objects as map[string]any, arrays as []any, numbers as json.Number.
// With EventFromValue it builds an event from parts already at hand.
func ParseValue(b []byte) (any, error) { return decode(b) }

// decode reads exactly one JSON value, keeping numbers exact (json.Number).
func decode(b []byte) (any, error) {
	if v, ok := decodeFast(b); ok {
		return v, nil
	}
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

// match evaluates the conjunction n against an event object. A nil object is an
// absent one: only fields that may be absent (exists: false) match it.
func (n *node) match(obj map[string]any) bool {
	for i := range n.fields {
		f := &n.fields[i]
		v, present := obj[f.name]
		if f.child != nil {
			if !f.child.matchValue(v, present) {
				return false
			}
			continue
		}
		if !matchLeaf(f.leaf, v, present) {
			return false
		}
	}
	return true
}

// matchValue matches a nested pattern object against an event value: an object
// directly, an array when any element matches (all fields inside one element),
// anything else as an absent object.
func (n *node) matchValue(v any, present bool) bool {
	if present {
		switch t := v.(type) {
		case map[string]any:
			return n.match(t)
		case []any:
			sawObject := false
			for _, e := range t {
				switch e.(type) {
				case map[string]any, []any:
					sawObject = true
					if n.matchValue(e, true) {
						return true
					}
				}
			}
			if sawObject {
				return false
			}
		}
	}
	return n.match(nil)
}

// matchLeaf reports whether any of ms matches any leaf value of v.
func matchLeaf(ms []matcher, v any, present bool) bool {
	var one [1]any
	vals := one[:0]
	if present {
		vals = leaves(v, vals)
	}
	if len(vals) == 0 {
		for i := range ms {
			if ms[i].kind == kExists && !ms[i].exists {
				return true
			}
		}
		return false
	}
	for i := range ms {
		for _, x := range vals {
			if ms[i].match(x) {
				return true
			}
		}
	}
	return false
}

// leaves appends the scalar values of v: v itself, or the scalars of an array,
// flattened. Objects are not leaves.
func leaves(v any, dst []any) []any {
	switch t := v.(type) {
	case map[string]any:
		return dst
	case []any:
		for _, e := range t {
			dst = leaves(e, dst)
		}
		return dst
	default:
		return append(dst, v)
	}
}
