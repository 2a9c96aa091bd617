package iampolicy

import (
	"strings"
	"sync"
	"unicode/utf8"
)

// Set is a list of policies compiled to decide many requests: a principal's
// identity-based policies, which wharf keeps while IAM's state is unchanged.
// For each action it finds once, across all its policies, the statements
// that can match it (in policy order, then statement order, as Evaluate
// checks them), so a request is not matched against the action index of each
// of fifty policies; and it knows the condition keys any of them reads. A
// Set is safe for concurrent use and never changes its policies.
type Set struct {
	named []Named

	keys                    map[string]bool // every policy's keys
	resourceTags, objectTag bool

	mu       sync.RWMutex
	byAction map[string]*setCandidates // by the action as requested
}

// maxSetActions bounds a Set's memo: wharf's operations name a few hundred
// actions, and one beyond the bound is found without being kept.
const maxSetActions = 1024

// setCandidates are the statements of a Set that may match one action.
type setCandidates struct {
	lower       string // the action lower-cased
	deny, allow []setRef
}

// setRef is a statement: the index of its policy in the Set, and its own.
type setRef struct{ policy, stmt int32 }

// NewSet compiles named. The Set keeps the slice: it must not be changed.
func NewSet(named []Named) *Set {
	s := &Set{named: named, keys: map[string]bool{}, byAction: map[string]*setCandidates{}}
	for _, n := range named {
		for k := range n.Policy.keys {
			s.keys[k] = true
		}
		s.resourceTags = s.resourceTags || n.Policy.NeedsResourceTags()
		s.objectTag = s.objectTag || n.Policy.NeedsObjectTags()
	}
	return s
}

// Named returns the Set's policies.
func (s *Set) Named() []Named { return s.named }

// candidates returns the statements that may match action.
func (s *Set) candidates(action string) *setCandidates {
	s.mu.RLock()
	c := s.byAction[action]
	s.mu.RUnlock()
	if c != nil {
		return c
	}
	c = &setCandidates{lower: strings.ToLower(action)}
	for i, n := range s.named {
		n.Policy.candidates(c.lower, func(j int) bool {
			ref := setRef{int32(i), int32(j)}
			if n.Policy.Statements[j].Effect == Deny {
				c.deny = append(c.deny, ref)
			} else {
				c.allow = append(c.allow, ref)
			}
			return true
		})
	}
	s.mu.Lock()
	if len(s.byAction) < maxSetActions {
		s.byAction[action] = c
	}
	s.mu.Unlock()
	return c
}

// first returns the first of refs that applies to r, and its policy.
func (s *Set) first(refs []setRef, r *Request, vars func(string) (string, bool)) (*Named, *Statement) {
	for _, ref := range refs {
		n := &s.named[ref.policy]
		v := vars
		if n.Policy.Version != Version2012 {
			v = nil // variables are literal text in 2008-10-17 policies
		}
		if st := &n.Policy.Statements[ref.stmt]; st.applies(r, v) {
			return n, st
		}
	}
	return nil, nil
}

// Reads reports whether a policy of the Set reads the condition key key.
func (s *Set) Reads(key string) bool { return readsKey(s.keys, key) }

// NeedsResourceTags reports whether a policy of the Set reads
// aws:ResourceTag keys (or a service's own form of them).
func (s *Set) NeedsResourceTags() bool { return s.resourceTags }

// NeedsObjectTags reports whether a policy of the Set reads
// s3:ExistingObjectTag keys.
func (s *Set) NeedsObjectTags() bool { return s.objectTag }

// readsKey reports whether keys (lower-cased) holds key, in any case.
func readsKey(keys map[string]bool, key string) bool {
	if len(keys) == 0 {
		return false
	}
	// Lower-case into a buffer on the stack: authorization asks this for
	// every request, and the map lookup of a converted []byte does not
	// allocate.
	var buf [64]byte
	if len(key) > len(buf) {
		return keys[strings.ToLower(key)]
	}
	b := buf[:len(key)]
	for i := 0; i < len(key); i++ {
		c := key[i]
		if c >= utf8.RuneSelf {
			return keys[strings.ToLower(key)]
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b[i] = c
	}
	return keys[string(b)]
}
