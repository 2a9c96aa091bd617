package restjson

import (
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"

	"github.com/wharf-dev/wharf/internal/awsapi"
)

// route is an operation's request URI template, parsed: "/schedules/{Name}",
// "/{Bucket}/{Key+}?uploads", "/tags/{ResourceArn}?x-id=Tag".
type route struct {
	op       *awsapi.Operation
	segments []segment
	query    []queryLiteral // literal query markers after '?' in the template
	literals int            // literal segments, for preferring the most specific route
}

type segment struct {
	literal string // when label is empty
	label   string
	greedy  bool   // {Key+}: the rest of the path, slashes included
	prefix  string // literal text before a label within the segment (rare: "v1-{Id}")
	suffix  string
}

type queryLiteral struct {
	key, value string
	hasValue   bool
}

func parseRoute(op *awsapi.Operation) *route {
	rt := &route{op: op}
	path, query, _ := strings.Cut(op.RequestURI, "?")
	for _, s := range splitPath(path) {
		open, end := strings.IndexByte(s, '{'), strings.LastIndexByte(s, '}')
		if open < 0 || end < open {
			rt.segments = append(rt.segments, segment{literal: s})
			rt.literals++
			continue
		}
		label := s[open+1 : end]
		seg := segment{label: strings.TrimSuffix(label, "+"), greedy: strings.HasSuffix(label, "+"), prefix: s[:open], suffix: s[end+1:]}
		rt.segments = append(rt.segments, seg)
	}
	if query != "" {
		for _, kv := range strings.Split(query, "&") {
			if kv == "" {
				continue
			}
			k, v, has := strings.Cut(kv, "=")
			rt.query = append(rt.query, queryLiteral{key: k, value: v, hasValue: has})
		}
	}
	return rt
}

// splitPath splits an escaped path into its segments, ignoring the leading slash
// and one trailing slash, so "/schedules/" and "/schedules" route alike.
func splitPath(p string) []string {
	p = strings.TrimPrefix(p, "/")
	p = strings.TrimSuffix(p, "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

// match returns the route's labels, percent-decoded, if r's path and query fit it.
func (rt *route) match(segs []string, q url.Values) (map[string]string, bool) {
	for _, ql := range rt.query {
		vs, ok := q[ql.key]
		if !ok {
			return nil, false
		}
		if ql.hasValue && (len(vs) == 0 || vs[0] != ql.value) {
			return nil, false
		}
	}
	labels := map[string]string{}
	for i, seg := range rt.segments {
		if i >= len(segs) {
			return nil, false
		}
		if seg.label == "" {
			lit, err := url.PathUnescape(segs[i])
			if err != nil || lit != seg.literal {
				return nil, false
			}
			continue
		}
		raw := segs[i]
		if seg.greedy {
			raw = strings.Join(segs[i:], "/")
		}
		if !strings.HasPrefix(raw, seg.prefix) || !strings.HasSuffix(raw, seg.suffix) || len(raw) <= len(seg.prefix)+len(seg.suffix) {
			return nil, false
		}
		raw = raw[len(seg.prefix) : len(raw)-len(seg.suffix)]
		v, err := url.PathUnescape(raw)
		if err != nil || v == "" {
			return nil, false
		}
		labels[seg.label] = v
		if seg.greedy {
			return labels, true
		}
	}
	return labels, len(segs) == len(rt.segments)
}

// routes of a service, most specific first.
var routeTables sync.Map // *awsapi.Service → []*route

func routesOf(svc *awsapi.Service) []*route {
	if rs, ok := routeTables.Load(svc); ok {
		return rs.([]*route)
	}
	var rs []*route
	for i := range svc.OperationList {
		rs = append(rs, parseRoute(&svc.OperationList[i]))
	}
	sort.Slice(rs, func(i, j int) bool {
		a, b := rs[i], rs[j]
		if a.literals != b.literals {
			return a.literals > b.literals
		}
		if len(a.query) != len(b.query) {
			return len(a.query) > len(b.query)
		}
		if len(a.segments) != len(b.segments) {
			return len(a.segments) > len(b.segments)
		}
		return a.op.Name < b.op.Name
	})
	actual, _ := routeTables.LoadOrStore(svc, rs)
	return actual.([]*route)
}

// find returns the route r calls and its labels; pathMatched reports whether some
// route matched the path under another method.
func find(svc *awsapi.Service, r *http.Request) (rt *route, labels map[string]string, pathMatched bool) {
	segs := splitPath(r.URL.EscapedPath())
	q := r.URL.Query()
	for _, c := range routesOf(svc) {
		l, ok := c.match(segs, q)
		if !ok {
			continue
		}
		if c.op.Method != r.Method {
			pathMatched = true
			continue
		}
		return c, l, true
	}
	return nil, nil, pathMatched
}

// routeOf returns op's parsed route.
func routeOf(svc *awsapi.Service, op *awsapi.Operation) *route {
	for _, c := range routesOf(svc) {
		if c.op == op {
			return c
		}
	}
	return parseRoute(op)
}
