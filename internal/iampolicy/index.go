package iampolicy

import "strings"

// actionIndex narrows the statements of a policy that can apply to one
// action, so that a principal with hundreds of statements is not decided by
// matching every one of them on every request. It only skips statements
// whose Action cannot match: the candidates are still checked in full, in
// the policy's order, so a decision is the same with or without it.
type actionIndex struct {
	// exact holds statements whose Action patterns are all literal, by
	// each lower-cased action they name.
	exact map[string][]int32
	// service holds statements whose patterns all start with a literal
	// service prefix ("s3:Get*"), by that prefix ("s3").
	service map[string][]int32
	// always are the rest: NotAction, "*", a wildcard in the prefix.
	always []int32
}

// index builds pol's action index.
func (pol *Policy) index() {
	ix := &actionIndex{exact: map[string][]int32{}, service: map[string][]int32{}}
	for i := range pol.Statements {
		s := &pol.Statements[i]
		n := int32(i)
		if s.NotAction || len(s.actions) == 0 {
			ix.always = append(ix.always, n)
			continue
		}
		literal, prefixed := true, true
		for _, a := range s.actions {
			svc, _, ok := strings.Cut(a, ":")
			if !ok || strings.ContainsAny(svc, "*?"+literalMark) {
				prefixed = false
			}
			if strings.ContainsAny(a, "*?"+literalMark) {
				literal = false
			}
		}
		switch {
		case literal:
			for j, a := range s.actions {
				if !contains(s.actions[:j], a) {
					ix.exact[a] = append(ix.exact[a], n)
				}
			}
		case prefixed:
			for j, a := range s.actions {
				svc, _, _ := strings.Cut(a, ":")
				if !containsPrefix(s.actions[:j], svc) {
					ix.service[svc] = append(ix.service[svc], n)
				}
			}
		default:
			ix.always = append(ix.always, n)
		}
	}
	pol.ix = ix
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// containsPrefix reports whether an action of list has the service prefix svc.
func containsPrefix(list []string, svc string) bool {
	for _, x := range list {
		if p, _, _ := strings.Cut(x, ":"); p == svc {
			return true
		}
	}
	return false
}

// candidates calls fn with the indexes of the statements that may match
// action (lower-cased), in ascending order, until fn returns false. A policy
// built without Parse has no index: then every statement is a candidate.
func (pol *Policy) candidates(action string, fn func(i int) bool) {
	ix := pol.ix
	if ix == nil {
		for i := range pol.Statements {
			if !fn(i) {
				return
			}
		}
		return
	}
	svc, _, _ := strings.Cut(action, ":")
	a, b, c := ix.exact[action], ix.service[svc], ix.always
	// Merge three ascending lists; a statement is in at most one of them.
	for len(a)+len(b)+len(c) > 0 {
		next, from := int32(-1), 0
		if len(a) > 0 {
			next, from = a[0], 1
		}
		if len(b) > 0 && (next < 0 || b[0] < next) {
			next, from = b[0], 2
		}
		if len(c) > 0 && (next < 0 || c[0] < next) {
			next, from = c[0], 3
		}
		switch from {
		case 1:
			a = a[1:]
		case 2:
			b = b[1:]
		case 3:
			c = c[1:]
		}
		if !fn(int(next)) {
			return
		}
	}
}
