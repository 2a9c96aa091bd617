// Package grant adds and removes the labelled statements that SQS and SNS
// AddPermission and RemovePermission write into a queue's or topic's resource
// policy: the statement's Sid is the label.
package grant

import (
	"bytes"
	"encoding/json"
	"errors"
	"sort"
)

// ErrExists is returned by Add when a statement already has the label.
var ErrExists = errors.New("grant: label already exists")

// ErrNotFound is returned by Remove when no statement has the label.
var ErrNotFound = errors.New("grant: label not found")

// ErrBadPolicy is returned when the stored policy is not a JSON object.
var ErrBadPolicy = errors.New("grant: policy is not a JSON object")

// ValidLabel reports whether label is 1 to 80 alphanumerics, hyphens and
// underscores, what SQS's and SNS's AddPermission take as a Label (their API
// references).
func ValidLabel(label string) bool {
	if label == "" || len(label) > 80 {
		return false
	}
	for i := 0; i < len(label); i++ {
		c := label[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// Statement is the statement AddPermission writes. A single principal or
// action is written as a string, several as a list, as AWS writes them.
type Statement struct {
	Sid        string
	Principals []string
	Actions    []string
	Resource   string
}

func oneOrMany(v []string) any {
	if len(v) == 1 {
		return v[0]
	}
	return v
}

func (s Statement) marshal() json.RawMessage {
	b, _ := json.Marshal(struct {
		Sid       string
		Effect    string
		Principal struct {
			AWS any
		}
		Action   any
		Resource string
	}{Sid: s.Sid, Effect: "Allow", Principal: struct{ AWS any }{oneOrMany(s.Principals)}, Action: oneOrMany(s.Actions), Resource: s.Resource})
	return b
}

// doc is a policy kept as raw members so that what grant does not write
// (conditions, other statements, unknown keys) survives unchanged.
type doc struct {
	members    map[string]json.RawMessage
	statements []json.RawMessage
}

func parse(policy string) (*doc, error) {
	d := &doc{members: map[string]json.RawMessage{}}
	if policy == "" {
		return d, nil
	}
	if err := json.Unmarshal([]byte(policy), &d.members); err != nil || d.members == nil {
		return nil, ErrBadPolicy
	}
	raw, ok := d.members["Statement"]
	if !ok {
		return d, nil
	}
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '{' {
		// A policy may hold one statement as an object instead of a list.
		d.statements = []json.RawMessage{raw}
		return d, nil
	}
	if err := json.Unmarshal(raw, &d.statements); err != nil {
		return nil, ErrBadPolicy
	}
	return d, nil
}

func sid(st json.RawMessage) string {
	var v struct{ Sid string }
	_ = json.Unmarshal(st, &v)
	return v.Sid
}

func (d *doc) index(label string) int {
	for i, st := range d.statements {
		if sid(st) == label {
			return i
		}
	}
	return -1
}

// render writes Version, Id and Statement first, then any other members in
// name order, so the document reads as AWS writes it.
func (d *doc) render() string {
	st, _ := json.Marshal(d.statements)
	d.members["Statement"] = st
	var b bytes.Buffer
	b.WriteByte('{')
	first := true
	put := func(k string) {
		v, ok := d.members[k]
		if !ok {
			return
		}
		if !first {
			b.WriteByte(',')
		}
		first = false
		kb, _ := json.Marshal(k)
		b.Write(kb)
		b.WriteByte(':')
		b.Write(v)
	}
	put("Version")
	put("Id")
	put("Statement")
	var rest []string
	for k := range d.members {
		if k != "Version" && k != "Id" && k != "Statement" {
			rest = append(rest, k)
		}
	}
	sort.Strings(rest)
	for _, k := range rest {
		put(k)
	}
	b.WriteByte('}')
	return b.String()
}

// Add returns policy with st appended. An empty policy becomes a new document
// with Version version and Id id, as AWS creates one on the first grant.
func Add(policy, version, id string, st Statement) (string, error) {
	d, err := parse(policy)
	if err != nil {
		return "", err
	}
	if d.index(st.Sid) >= 0 {
		return "", ErrExists
	}
	if len(d.members) == 0 {
		v, _ := json.Marshal(version)
		i, _ := json.Marshal(id)
		d.members["Version"], d.members["Id"] = v, i
	}
	d.statements = append(d.statements, st.marshal())
	return d.render(), nil
}

// Remove returns policy without the statement labelled label, and whether no
// statement is left (SQS then drops the policy).
func Remove(policy, label string) (out string, empty bool, err error) {
	d, err := parse(policy)
	if err != nil {
		return "", false, err
	}
	i := d.index(label)
	if i < 0 {
		return "", false, ErrNotFound
	}
	d.statements = append(d.statements[:i], d.statements[i+1:]...)
	return d.render(), len(d.statements) == 0, nil
}
