package restxml

import (
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/wharf-dev/wharf/internal/apierr"
	"github.com/wharf-dev/wharf/internal/awsapi"
)

// route is one operation's compiled RequestURI template.
type route struct {
	op       *awsapi.Operation
	method   string
	segments []segment
	markers  []marker // literal query parts: "uploads", "list-type=2"
	required []binding
	// demoted marks operations S3 keeps for old clients whose URI equals a newer
	// one's (GetBucketLifecycle vs GetBucketLifecycleConfiguration): on a tie the
	// newer operation wins, as S3 answers with the newer shape.
	demoted bool
}

type segment struct {
	literal string
	label   string // uri member's locationName; "" for a literal
	greedy  bool
}

type marker struct {
	key, value string
	hasValue   bool
}

type binding struct{ location, name string }

var demoted = map[string]bool{
	"GetBucketLifecycle": true, "PutBucketLifecycle": true,
	"GetBucketNotification": true, "PutBucketNotification": true,
	"ListDirectoryBuckets": true,
}

func compile(op *awsapi.Operation) route {
	rt := route{op: op, method: op.Method, demoted: demoted[op.Name]}
	path, query, _ := strings.Cut(op.RequestURI, "?")
	for _, s := range strings.Split(strings.TrimPrefix(path, "/"), "/") {
		if s == "" {
			continue
		}
		if strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}") {
			name := s[1 : len(s)-1]
			greedy := strings.HasSuffix(name, "+")
			rt.segments = append(rt.segments, segment{label: strings.TrimSuffix(name, "+"), greedy: greedy})
			continue
		}
		rt.segments = append(rt.segments, segment{literal: s})
	}
	for _, q := range strings.Split(query, "&") {
		if q == "" || strings.HasPrefix(q, "x-id=") {
			// x-id only steers SDK routing; S3 does not require it.
			continue
		}
		k, v, has := strings.Cut(q, "=")
		rt.markers = append(rt.markers, marker{key: k, value: v, hasValue: has})
	}
	if op.NewInput != nil {
		shape := awsapi.ShapeOf(reflect.TypeOf(op.NewInput()))
		for _, f := range shape.Fields {
			if f.Required && (f.Location == "header" || f.Location == "querystring") {
				rt.required = append(rt.required, binding{f.Location, f.WireName()})
			}
		}
	}
	return rt
}

var routeCache sync.Map // *awsapi.Service → []route

func routes(svc *awsapi.Service) []route {
	if rs, ok := routeCache.Load(svc); ok {
		return rs.([]route)
	}
	names := make([]string, 0, len(svc.Operations))
	for n := range svc.Operations {
		names = append(names, n)
	}
	sort.Strings(names)
	rs := make([]route, 0, len(names))
	for _, n := range names {
		rs = append(rs, compile(svc.Operations[n]))
	}
	actual, _ := routeCache.LoadOrStore(svc, rs)
	return actual.([]route)
}

// match reports whether the escaped path fits the template, and returns the
// percent-decoded labels.
func (rt *route) match(escapedPath string) (map[string]string, bool) {
	rest := strings.TrimPrefix(escapedPath, "/")
	labels := map[string]string{}
	for i, s := range rt.segments {
		if s.greedy {
			if rest == "" {
				return nil, false
			}
			v, err := url.PathUnescape(rest)
			if err != nil {
				return nil, false
			}
			labels[s.label] = v
			rest = ""
			continue
		}
		seg, after, _ := strings.Cut(rest, "/")
		if seg == "" {
			return nil, false
		}
		if s.literal != "" {
			if seg != s.literal {
				return nil, false
			}
		} else {
			v, err := url.PathUnescape(seg)
			if err != nil {
				return nil, false
			}
			labels[s.label] = v
		}
		rest = after
		// "/bucket/" addresses the bucket, as "/bucket" does.
		if i == len(rt.segments)-1 && rest == "" {
			return labels, true
		}
	}
	return labels, rest == ""
}

func (rt *route) markersMatch(q url.Values) bool {
	for _, m := range rt.markers {
		if !q.Has(m.key) || m.hasValue && q.Get(m.key) != m.value {
			return false
		}
	}
	return true
}

// present counts the required header and query bindings r carries, and reports
// whether it carries them all.
func (rt *route) present(r *http.Request, q url.Values) (int, bool) {
	n := 0
	for _, b := range rt.required {
		if b.location == "header" && r.Header.Get(b.name) != "" || b.location == "querystring" && q.Has(b.name) {
			n++
		}
	}
	return n, n == len(rt.required)
}

// find picks the operation for r: among templates whose method, path and literal
// query markers match, the one with the most markers, then with all its required
// headers and query parameters present (PUT /{Bucket}/{Key+} is CopyObject with
// x-amz-copy-source, UploadPart with partNumber and uploadId, else PutObject).
func find(svc *awsapi.Service, r *http.Request) (*route, map[string]string, error) {
	q := r.URL.Query()
	path := r.URL.EscapedPath()
	var best *route
	var bestLabels map[string]string
	bestScore := -1
	pathMatched := false
	var allowed []string
	for i := range routes(svc) {
		rt := &routes(svc)[i]
		labels, ok := rt.match(path)
		if !ok || !rt.markersMatch(q) {
			continue
		}
		pathMatched = true
		if !slices.Contains(allowed, rt.method) {
			allowed = append(allowed, rt.method)
		}
		if rt.method != r.Method {
			continue
		}
		n, all := rt.present(r, q)
		score := len(rt.markers)*10000 + len(rt.segments)*1000 + n*10
		if all {
			score += 500
		}
		if !rt.demoted {
			score++
		}
		if score > bestScore {
			best, bestLabels, bestScore = rt, labels, score
		}
	}
	if best != nil {
		return best, bestLabels, nil
	}
	if pathMatched {
		// A 405 names the methods the resource takes in Allow (RFC 9110
		// 15.5.6), as S3 does.
		slices.Sort(allowed)
		return nil, nil, &apierr.Error{Code: "MethodNotAllowed", Status: http.StatusMethodNotAllowed,
			Message: "The specified method is not allowed against this resource.",
			Fields:  map[string]any{"Method": r.Method, "ResourceType": resourceType(path)},
			Header:  http.Header{"Allow": {strings.Join(allowed, ", ")}}}
	}
	return nil, nil, &apierr.Error{Code: "InvalidRequest", Status: http.StatusBadRequest,
		Message: "The request does not match any S3 operation."}
}

func resourceType(path string) string {
	switch strings.Count(strings.Trim(path, "/"), "/") {
	case 0:
		if strings.Trim(path, "/") == "" {
			return "SERVICE"
		}
		return "BUCKET"
	}
	return "OBJECT"
}
