// Package iamaction knows, for every operation wharf implements, the IAM
// actions and resource ARNs AWS authorizes it as (ListObjectsV2 is
// s3:ListBucket on the bucket, CopyObject reads its source and writes its
// destination, RunTask passes the task's roles). The map is data, in
// actions.txt; this package reads it and applies it to a decoded input.
package iamaction

import (
	_ "embed"
	"fmt"
	"net/url"
	"reflect"
	"sort"
	"strings"
	"sync"
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
	tmpl  string
	input reflect.Value
	env   *Env
}

// Values computes the key's values; none means the request has no value
// for it (the key is absent).
func (k LazyKey) Values() []string { return expand(k.tmpl, k.input, *k.env) }

// Env is what templates read besides the input: the caller's region and
// account, and named lookups ({@taskdef-roles}) the authorizer answers.
type Env struct {
	Region  string
	Account string
	Lookup  func(name string, input any) []string
}

type line struct {
	action   string
	resource string
	keys     [][2]string // condition key, value template
	// when, if set, is a template the line applies only if it has a value
	// (if={Tags[].Key}: tag-on-create checks, made only when tags are given).
	when string
}

// entries is the parsed table, built on first use rather than at init.
var entries = sync.OnceValue(func() map[string][]line {
	m, err := parse(table)
	if err != nil {
		panic(err) // the embedded table is checked by the package's tests
	}
	return m
})

func parse(text string) (map[string][]line, error) {
	m := map[string][]line{}
	for n, l := range strings.Split(text, "\n") {
		l = strings.TrimSpace(l)
		if l == "" || l[0] == '#' {
			continue
		}
		f := strings.Fields(l)
		if len(f) < 4 {
			return nil, fmt.Errorf("actions.txt:%d: want service operation action resource", n+1)
		}
		ln := line{action: f[2], resource: f[3]}
		for _, kv := range f[4:] {
			k, v, ok := strings.Cut(kv, "=")
			if !ok {
				return nil, fmt.Errorf("actions.txt:%d: condition %q is not key=value", n+1, kv)
			}
			if k == "if" {
				ln.when = v
				continue
			}
			ln.keys = append(ln.keys, [2]string{k, v})
		}
		m[f[0]+" "+f[1]] = append(m[f[0]+" "+f[1]], ln)
	}
	return m, nil
}

// Known reports whether the map has an entry for service's operation.
func Known(service, operation string) bool { return len(entries()[service+" "+operation]) > 0 }

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
	lines := entries()[service+" "+operation]
	if len(lines) == 0 {
		return nil, false
	}
	if lines[0].action == "-" {
		return nil, true
	}
	v := reflect.ValueOf(input)
	var envp *Env // made for the first lazy key only: a pointer to env would move it to the heap on every call
	for _, ln := range lines {
		if ln.when != "" && len(expand(ln.when, v, env)) == 0 {
			continue
		}
		resources := expand(ln.resource, v, env)
		for _, res := range resources {
			c := Check{Action: ln.action, Resource: res}
			for _, kv := range ln.keys {
				if !withKeys {
					break
				}
				if kv[0] == "tags" {
					c.Context = requestTags(c.Context, kv[1], v)
					continue
				}
				if !strings.HasSuffix(kv[0], "/*") {
					if c.Lazy == nil {
						c.Lazy = make([]LazyKey, 0, len(ln.keys))
					}
					if envp == nil {
						e := env
						envp = &e
					}
					c.Lazy = append(c.Lazy, LazyKey{Key: kv[0], tmpl: kv[1], input: v, env: envp})
					continue
				}
				vals := expand(kv[1], v, env)
				if len(vals) == 0 {
					continue
				}
				if c.Context == nil {
					c.Context = map[string][]string{}
				}
				// KEY/*: each value is NAME=VALUE, giving KEY/NAME.
				prefix := strings.TrimSuffix(kv[0], "/*")
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
			k, v := members(f.Index(i), "Key"), members(f.Index(i), "Value")
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

// expand renders tmpl: each {placeholder} may give several values, and the
// result is their product. A placeholder without a value and without a
// default yields nothing.
func expand(tmpl string, input reflect.Value, env Env) []string {
	if !strings.Contains(tmpl, "{") {
		return []string{tmpl}
	}
	// The literal texts and each placeholder's values, in order.
	type part struct {
		lit  string
		vals []string
	}
	var buf [4]part
	parts := buf[:0]
	single, size := true, 0
	for {
		i := strings.IndexByte(tmpl, '{')
		if i < 0 {
			break
		}
		j := strings.IndexByte(tmpl[i:], '}')
		if j < 0 {
			return nil
		}
		vals := placeholder(tmpl[i+1:i+j], input, env)
		if len(vals) == 0 {
			return nil
		}
		single = single && len(vals) == 1
		size += i + len(vals[0])
		parts = append(parts, part{tmpl[:i], vals})
		tmpl = tmpl[i+j+1:]
	}
	if single {
		// Most templates give one value per placeholder: one string, built
		// once, rather than the product's intermediate slices.
		var b strings.Builder
		b.Grow(size + len(tmpl))
		for _, p := range parts {
			b.WriteString(p.lit)
			b.WriteString(p.vals[0])
		}
		b.WriteString(tmpl)
		return []string{b.String()}
	}
	out := []string{""}
	for _, p := range parts {
		next := make([]string, 0, len(out)*len(p.vals))
		for _, o := range out {
			for _, v := range p.vals {
				next = append(next, o+p.lit+v)
			}
		}
		out = next
	}
	for k := range out {
		out[k] += tmpl
	}
	return out
}

func placeholder(ph string, input reflect.Value, env Env) []string {
	ph, def, hasDef := strings.Cut(ph, "?")
	if def == "@account" {
		def = env.Account
	}
	path, filter, _ := strings.Cut(ph, "|")
	var vals []string
	switch {
	case path == "region":
		vals = []string{env.Region}
	case path == "account":
		vals = []string{env.Account}
	case strings.HasPrefix(path, "@"):
		if env.Lookup != nil {
			vals = env.Lookup(path[1:], input.Interface())
		}
	default:
		vals = members(input, path)
	}
	if filter == "querypairs" {
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
		if v = apply(filter, v, env); v != "" {
			out = append(out, v)
		}
	}
	if len(out) == 0 && hasDef {
		if def == "" {
			return []string{""}
		}
		return []string{apply(filter, def, env)}
	}
	return out
}

// members reads the values at path (dot-separated) in v: "A" a member,
// "A[]" each element of a list member, "A#" each key of a map member.
func members(v reflect.Value, path string) []string {
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			return nil
		}
		v = v.Elem()
	}
	if path == "" {
		switch v.Kind() {
		case reflect.String:
			return []string{v.String()}
		case reflect.Int, reflect.Int32, reflect.Int64:
			return []string{fmt.Sprint(v.Int())}
		case reflect.Bool:
			return []string{fmt.Sprint(v.Bool())}
		}
		return nil
	}
	if v.Kind() != reflect.Struct {
		return nil
	}
	name, rest, _ := strings.Cut(path, ".")
	each, keys := strings.HasSuffix(name, "[]"), strings.HasSuffix(name, "#")
	name = strings.TrimSuffix(strings.TrimSuffix(name, "[]"), "#")
	index := fieldIndex(v.Type(), name)
	if index == nil {
		return nil
	}
	f := v.FieldByIndex(index) // as FieldByName would
	switch {
	case each && f.Kind() == reflect.Slice:
		var out []string
		for i := range f.Len() {
			out = append(out, members(f.Index(i), rest)...)
		}
		return out
	case keys && f.Kind() == reflect.Map:
		var out []string
		for _, k := range f.MapKeys() {
			out = append(out, members(k, rest)...)
		}
		return out
	case each || keys:
		return nil
	}
	return members(f, rest)
}

type fieldKey struct {
	t    reflect.Type
	name string
}

// fields caches fieldIndex's answers: every authorized request reads a few
// members of its input, and reflect's FieldByName searches the fields each
// time.
var fields struct {
	sync.RWMutex
	m map[fieldKey][]int // nil: no such field
}

// fieldIndex returns the index sequence of struct type t's field name, as
// reflect's FieldByName finds it, or nil when it has none.
func fieldIndex(t reflect.Type, name string) []int {
	k := fieldKey{t, name}
	fields.RLock()
	index, ok := fields.m[k]
	fields.RUnlock()
	if !ok {
		if f, found := t.FieldByName(name); found {
			index = f.Index
		}
		fields.Lock()
		if fields.m == nil {
			fields.m = map[fieldKey][]int{}
		}
		fields.m[k] = index
		fields.Unlock()
	}
	return index
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
