// Package iamaction knows, for every operation wharf implements, the IAM
// actions and resource ARNs AWS authorizes it as (ListObjectsV2 is
// s3:ListBucket on the bucket, CopyObject reads its source and writes its
// destination, RunTask passes the task's roles). The map is data, in
// actions.txt; this package reads it and applies it to a decoded input.
package iamaction

import (
	"context"
	_ "embed"
	"fmt"
	"net/url"
	"reflect"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
)

//go:embed actions.txt
var table string

// Check is one authorization a request needs: an action on a resource, with
// the condition keys the operation supplies.
type Check struct {
	Action   string
	Resource string
	// Context holds the request's tags (aws:RequestTag/KEY, aws:TagKeys)
	// and the KEY/* keys (s3:RequestObjectTag/KEY), whose names depend on
	// the request.
	Context map[string][]string
	// Lazy are the operation's other condition keys (s3:prefix,
	// ecs:cluster, dynamodb:LeadingKeys ...): the authorizer computes each
	// only when a policy reads it, since most requests are decided by
	// policies that read none of them and a lookup ({@leading-keys}) is
	// costly.
	Lazy []LazyKey
}

// LazyKey is a condition key whose values are computed on demand.
type LazyKey struct {
	Key   string
	tmpl  *template
	input reflect.Value
	env   *Env
}

// Values computes the key's values; none means the request has no value
// for it (the key is absent).
func (k LazyKey) Values() []string { return expand(k.tmpl, k.input, *k.env) }

// Env is what templates read besides the input: the caller's region and
// account, and named lookups ({@taskdef-roles}) the authorizer answers,
// with the request's context (Ctx, passed to Lookup as it is: a closure
// over it was an allocation on every authorized request).
type Env struct {
	Region  string
	Account string
	Ctx     context.Context
	Lookup  func(ctx context.Context, name string, input any) []string
}

type line struct {
	action   string
	resource *template
	keys     []conditionKey
	// when, if set, is a template the line applies only if it has a value
	// (if={Tags[].Key}: tag-on-create checks, made only when tags are given).
	when *template
}

// conditionKey is a condition key and the template of its values.
type conditionKey struct {
	key  string
	tmpl *template
}

// op names an operation of a service: the table's key.
type op struct{ service, operation string }

// entries is the parsed table, built on first use rather than at init.
var entries = sync.OnceValue(func() map[op][]line {
	m, err := parse(table)
	if err != nil {
		panic(err) // the embedded table is checked by the package's tests
	}
	return m
})

func parse(text string) (map[op][]line, error) {
	m := map[op][]line{}
	for n, l := range strings.Split(text, "\n") {
		l = strings.TrimSpace(l)
		if l == "" || l[0] == '#' {
			continue
		}
		f := strings.Fields(l)
		if len(f) < 4 {
			return nil, fmt.Errorf("actions.txt:%d: want service operation action resource", n+1)
		}
		ln := line{action: f[2], resource: compile(f[3])}
		for _, kv := range f[4:] {
			k, v, ok := strings.Cut(kv, "=")
			if !ok {
				return nil, fmt.Errorf("actions.txt:%d: condition %q is not key=value", n+1, kv)
			}
			if k == "if" {
				ln.when = compile(v)
				continue
			}
			ln.keys = append(ln.keys, conditionKey{k, compile(v)})
		}
		o := op{f[0], f[1]}
		m[o] = append(m[o], ln)
	}
	return m, nil
}

// Known reports whether the map has an entry for service's operation.
func Known(service, operation string) bool { return len(entries()[op{service, operation}]) > 0 }

// For returns the checks service's operation needs for input, a pointer to
// its decoded input struct. ok is false when the map has no entry. An
// operation AWS does not authorize (GetCallerIdentity) returns no checks.
func For(service, operation string, input any, env Env) (checks []Check, ok bool) {
	return forInput(service, operation, input, env, true)
}

// Resources is For without the condition keys: the actions and resources
// alone, for a caller that needs the keys only when a policy may read them.
func Resources(service, operation string, input any, env Env) (checks []Check, ok bool) {
	return forInput(service, operation, input, env, false)
}

func forInput(service, operation string, input any, env Env, withKeys bool) (checks []Check, ok bool) {
	lines := entries()[op{service, operation}]
	if len(lines) == 0 {
		return nil, false
	}
	if lines[0].action == "-" {
		return nil, true
	}
	v := reflect.ValueOf(input)
	var envp *Env // made for the first lazy key only: a pointer to env would move it to the heap on every call
	for _, ln := range lines {
		if ln.when != nil && len(expand(ln.when, v, env)) == 0 {
			continue
		}
		resources := expand(ln.resource, v, env)
		for _, res := range resources {
			c := Check{Action: ln.action, Resource: res}
			for _, kv := range ln.keys {
				if !withKeys {
					break
				}
				if kv.key == "tags" {
					c.Context = requestTags(c.Context, kv.tmpl.text, v)
					continue
				}
				if !strings.HasSuffix(kv.key, "/*") {
					if c.Lazy == nil {
						c.Lazy = make([]LazyKey, 0, len(ln.keys))
					}
					if envp == nil {
						e := env
						envp = &e
					}
					c.Lazy = append(c.Lazy, LazyKey{Key: kv.key, tmpl: kv.tmpl, input: v, env: envp})
					continue
				}
				vals := expand(kv.tmpl, v, env)
				if len(vals) == 0 {
					continue
				}
				if c.Context == nil {
					c.Context = map[string][]string{}
				}
				// KEY/*: each value is NAME=VALUE, giving KEY/NAME.
				prefix := strings.TrimSuffix(kv.key, "/*")
				for _, pair := range vals {
					if n, val, ok := strings.Cut(pair, "="); ok {
						c.Context[prefix+"/"+n] = append(c.Context[prefix+"/"+n], val)
					}
				}
			}
			checks = append(checks, c)
		}
	}
	if len(checks) == 0 {
		// Nothing named a resource (an optional member was absent): the
		// operation is still authorized, on every resource.
		checks = []Check{{Action: lines[0].action, Resource: "*"}}
	}
	return checks, true
}

// requestTags adds the request's tags, the member {Path} names (a map of key
// to value, or a list of Key/Value pairs), as aws:RequestTag/KEY and
// aws:TagKeys ("AWS global condition context keys").
func requestTags(ctx map[string][]string, tmpl string, input reflect.Value) map[string][]string {
	path := strings.TrimSuffix(strings.TrimPrefix(tmpl, "{"), "}")
	f := input
	for _, name := range strings.Split(path, ".") {
		for f.Kind() == reflect.Pointer || f.Kind() == reflect.Interface {
			if f.IsNil() {
				return ctx
			}
			f = f.Elem()
		}
		if f.Kind() != reflect.Struct {
			return ctx
		}
		if f = f.FieldByName(name); !f.IsValid() {
			return ctx
		}
	}
	var keys []string
	add := func(k, v string) {
		if ctx == nil {
			ctx = map[string][]string{}
		}
		ctx["aws:RequestTag/"+k] = []string{v}
		keys = append(keys, k)
	}
	switch f.Kind() {
	case reflect.Map:
		iter := f.MapRange()
		for iter.Next() {
			if iter.Key().Kind() == reflect.String && iter.Value().Kind() == reflect.String {
				add(iter.Key().String(), iter.Value().String())
			}
		}
	case reflect.Slice:
		for i := range f.Len() {
			k, v := members(f.Index(i), tagKey), members(f.Index(i), tagValue)
			if len(k) == 1 {
				val := ""
				if len(v) == 1 {
					val = v[0]
				}
				add(k[0], val)
			}
		}
	}
	if len(keys) > 0 {
		sort.Strings(keys)
		ctx["aws:TagKeys"] = keys
	}
	return ctx
}

// tagKey and tagValue are the members of a tag given as a Key/Value pair.
var tagKey, tagValue = []step{{name: "Key"}}, []step{{name: "Value"}}

// queuePath is the path of a queue URL, or v when it has none. Every SQS
// request names its queue by URL, so the usual http://host/ACCOUNT/NAME is
// cut without url.Parse; anything else (escapes, a query) is parsed.
func queuePath(v string) string {
	rest, ok := strings.CutPrefix(v, "http://")
	if !ok {
		rest, ok = strings.CutPrefix(v, "https://")
	}
	if ok && !strings.ContainsAny(rest, "%?#@") {
		if i := strings.IndexByte(rest, '/'); i >= 0 {
			return rest[i:]
		}
		return v
	}
	if u, err := url.Parse(v); err == nil && u.Path != "" {
		return u.Path
	}
	return v
}

// template is a value template of actions.txt, parsed once: literal texts
// between {placeholders}.
type template struct {
	text string        // as written
	lits []string      // the literal texts, one more than phs
	phs  []placeholder // nil lits: an unclosed brace, which gives no value
	// single: every placeholder gives at most one value (no A[], A#,
	// lookup or querypairs), so the template gives at most one string.
	single bool
}

// placeholder is one {path|filter?default}.
type placeholder struct {
	path   string // a member path, region, account or @lookup
	steps  []step // path's members, when it names members of the input
	filter string
	def    string
	hasDef bool
	single bool // at most one value: see template.single
}

// step is one member of a placeholder's path: A, A[] (each element of a
// list) or A# (each key of a map).
type step struct {
	name       string
	each, keys bool
	// field is the member's index in the struct type last read, cached:
	// every authorized request reads a few members of its input, and
	// reflect's FieldByName searches the fields each time.
	field atomic.Pointer[field]
}

// field is a struct type's member index; index is nil when it has none.
type field struct {
	t     reflect.Type
	index []int
}

func compile(text string) *template {
	t := &template{text: text, single: true}
	rest := text
	for {
		i := strings.IndexByte(rest, '{')
		if i < 0 {
			break
		}
		j := strings.IndexByte(rest[i:], '}')
		if j < 0 {
			return &template{text: text}
		}
		t.lits = append(t.lits, rest[:i])
		p := compilePlaceholder(rest[i+1 : i+j])
		t.single = t.single && p.single
		t.phs = append(t.phs, p)
		rest = rest[i+j+1:]
	}
	t.lits = append(t.lits, rest)
	return t
}

func compilePlaceholder(text string) placeholder {
	text, def, hasDef := strings.Cut(text, "?")
	path, filter, _ := strings.Cut(text, "|")
	p := placeholder{path: path, filter: filter, def: def, hasDef: hasDef}
	p.single = filter != "querypairs" && !strings.HasPrefix(path, "@")
	if path != "region" && path != "account" && !strings.HasPrefix(path, "@") {
		for _, name := range strings.Split(path, ".") {
			each, keys := strings.HasSuffix(name, "[]"), strings.HasSuffix(name, "#")
			name = strings.TrimSuffix(strings.TrimSuffix(name, "[]"), "#")
			p.steps = append(p.steps, step{name: name, each: each, keys: keys})
			p.single = p.single && !each && !keys
		}
	}
	return p
}

// expand renders t: each {placeholder} may give several values, and the
// result is their product. A placeholder without a value and without a
// default yields nothing.
func expand(t *template, input reflect.Value, env Env) []string {
	if t.lits == nil {
		return nil
	}
	if len(t.phs) == 0 {
		return []string{t.text}
	}
	if t.single {
		// Most templates ({Bucket}/{Key}, {TableName|table}): one string,
		// built once, without a slice of values per placeholder.
		var buf [4]string
		vals, size := buf[:0], len(t.lits[len(t.phs)])
		for i := range t.phs {
			v, ok := t.phs[i].value(input, env)
			if !ok {
				return nil
			}
			size += len(t.lits[i]) + len(v)
			vals = append(vals, v)
		}
		if size == len(vals[0]) {
			return []string{vals[0]} // the value alone ({TableName|table})
		}
		var b strings.Builder
		b.Grow(size)
		for i, v := range vals {
			b.WriteString(t.lits[i])
			b.WriteString(v)
		}
		b.WriteString(t.lits[len(t.phs)])
		return []string{b.String()}
	}
	// Each placeholder's values, in order.
	var buf [4][]string
	vals := buf[:0]
	for i := range t.phs {
		v := t.phs[i].values(input, env)
		if len(v) == 0 {
			return nil
		}
		vals = append(vals, v)
	}
	out := []string{""}
	for i, vs := range vals {
		next := make([]string, 0, len(out)*len(vs))
		for _, o := range out {
			for _, v := range vs {
				next = append(next, o+t.lits[i]+v)
			}
		}
		out = next
	}
	for k := range out {
		out[k] += t.lits[len(t.phs)]
	}
	return out
}

// value is values for a single placeholder: ok is false when it has none.
func (p *placeholder) value(input reflect.Value, env Env) (v string, ok bool) {
	switch {
	case p.steps != nil:
		v = member(input, p.steps)
	case p.path == "region":
		v = env.Region
	case p.path == "account":
		v = env.Account
	}
	if v != "" {
		if v = apply(p.filter, v, env); v != "" {
			return v, true
		}
	}
	if !p.hasDef {
		return "", false
	}
	def := p.def
	if def == "@account" {
		def = env.Account
	}
	if def == "" {
		return "", true
	}
	return apply(p.filter, def, env), true
}

func (p *placeholder) values(input reflect.Value, env Env) []string {
	def := p.def
	if def == "@account" {
		def = env.Account
	}
	var vals []string
	switch {
	case p.steps != nil:
		vals = members(input, p.steps)
	case p.path == "region":
		vals = []string{env.Region}
	case p.path == "account":
		vals = []string{env.Account}
	default: // @lookup
		if env.Lookup != nil {
			vals = env.Lookup(env.Ctx, p.path[1:], input.Interface())
		}
	}
	if p.filter == "querypairs" {
		var pairs []string
		for _, v := range vals {
			pairs = append(pairs, queryPairs(v)...)
		}
		return pairs
	}
	out := vals[:0]
	for _, v := range vals {
		if v == "" {
			continue
		}
		if v = apply(p.filter, v, env); v != "" {
			out = append(out, v)
		}
	}
	if len(out) == 0 && p.hasDef {
		if def == "" {
			return []string{""}
		}
		return []string{apply(p.filter, def, env)}
	}
	return out
}

// members reads the values at path in v.
func members(v reflect.Value, path []step) []string {
	v, ok := deref(v)
	if !ok {
		return nil
	}
	if len(path) == 0 {
		if s, ok := leaf(v); ok {
			return []string{s}
		}
		return nil
	}
	st, rest := &path[0], path[1:]
	f, ok := st.of(v)
	if !ok {
		return nil
	}
	switch {
	case st.each && f.Kind() == reflect.Slice:
		var out []string
		for i := range f.Len() {
			out = append(out, members(f.Index(i), rest)...)
		}
		return out
	case st.keys && f.Kind() == reflect.Map:
		var out []string
		for _, k := range f.MapKeys() {
			out = append(out, members(k, rest)...)
		}
		return out
	case st.each || st.keys:
		return nil
	}
	return members(f, rest)
}

// member reads the value at path, none of whose steps is A[] or A#, in v:
// "" when it has none.
func member(v reflect.Value, path []step) string {
	for i := range path {
		var ok bool
		if v, ok = deref(v); !ok {
			return ""
		}
		if v, ok = path[i].of(v); !ok {
			return ""
		}
	}
	v, ok := deref(v)
	if !ok {
		return ""
	}
	s, _ := leaf(v)
	return s
}

// deref follows v's pointers and interfaces; ok is false at a nil one.
func deref(v reflect.Value) (_ reflect.Value, ok bool) {
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			return v, false
		}
		v = v.Elem()
	}
	return v, true
}

// leaf is v's value as text, when v is a string, an integer or a bool.
func leaf(v reflect.Value) (string, bool) {
	switch v.Kind() {
	case reflect.String:
		return v.String(), true
	case reflect.Int, reflect.Int32, reflect.Int64:
		return fmt.Sprint(v.Int()), true
	case reflect.Bool:
		return fmt.Sprint(v.Bool()), true
	}
	return "", false
}

// of returns the member st names of struct v; ok is false when v is not a
// struct or has no such member.
func (st *step) of(v reflect.Value) (_ reflect.Value, ok bool) {
	if v.Kind() != reflect.Struct {
		return v, false
	}
	index := st.index(v.Type())
	if index == nil {
		return v, false
	}
	return v.FieldByIndex(index), true // as FieldByName would
}

// index returns the index sequence of struct type t's member st.name, as
// reflect's FieldByName finds it, or nil when it has none.
func (st *step) index(t reflect.Type) []int {
	if f := st.field.Load(); f != nil && f.t == t {
		return f.index
	}
	f := &field{t: t}
	if sf, found := t.FieldByName(st.name); found {
		f.index = sf.Index
	}
	st.field.Store(f)
	return f.index
}

// queryPairs reads a URL query string (x-amz-tagging: k1=v1&k2=v2) as
// decoded NAME=VALUE values, for a KEY/* condition key.
func queryPairs(v string) []string {
	q, err := url.ParseQuery(v)
	if err != nil {
		return nil
	}
	var pairs []string
	for k, vs := range q {
		for _, x := range vs {
			pairs = append(pairs, k+"="+x)
		}
	}
	sort.Strings(pairs)
	return pairs
}

func apply(filter, v string, env Env) string {
	switch filter {
	case "":
		return v
	case "name":
		return v[strings.LastIndexAny(v, "/:")+1:]
	case "queue", "queueaccount":
		// A queue URL: http://host/ACCOUNT/NAME (or a bare name).
		v = queuePath(v)
		v = strings.Trim(v, "/")
		i := strings.LastIndexByte(v, '/')
		if filter == "queue" {
			return v[i+1:]
		}
		if i < 0 {
			return ""
		}
		v = v[:i]
		return v[strings.LastIndexByte(v, '/')+1:]
	case "copysource":
		// x-amz-copy-source: [/]bucket/key[?versionId=...], URL-encoded.
		v, _, _ = strings.Cut(v, "?versionId=")
		if u, err := url.PathUnescape(v); err == nil {
			v = u
		}
		if strings.HasPrefix(v, "arn:") {
			return ""
		}
		return strings.TrimPrefix(v, "/")
	case "taskdef":
		if strings.HasPrefix(v, "arn:") {
			return v[strings.LastIndexByte(v, '/')+1:]
		}
		return v
	case "index":
		return "/index/" + v
	case "table":
		// A table name or ARN: another account's table is named by ARN.
		if strings.HasPrefix(v, "arn:") {
			return v
		}
		return "arn:aws:dynamodb:" + env.Region + ":" + env.Account + ":table/" + v
	case "bus":
		if v = v[strings.LastIndexAny(v, "/:")+1:]; v == "default" {
			return ""
		}
		return v + "/"
	case "busarn":
		// An event bus name or ARN: another account's bus is named by ARN.
		if strings.HasPrefix(v, "arn:") {
			return v
		}
		return "arn:aws:events:" + env.Region + ":" + env.Account + ":event-bus/" + v
	case "loggroup":
		// A log group name or ARN (a trailing :* included).
		if strings.HasPrefix(v, "arn:") {
			return strings.TrimSuffix(v, ":*")
		}
		return ""
	}
	return v
}
