package restxml

import (
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"unicode/utf8"

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
	// bound are the query parameters a non-map member binds; a querystring
	// map takes the others.
	bound map[string]bool
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

// binding is a required member's location and wire name; a header's name is
// kept canonical, so that looking it up costs no canonicalisation.
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
		rt.bound = map[string]bool{}
		for _, f := range shape.Fields {
			if f.Location == "querystring" && f.Type.Kind() != reflect.Map {
				rt.bound[f.WireName()] = true
			}
			if f.Required && (f.Location == "header" || f.Location == "querystring") {
				name := f.WireName()
				if f.Location == "header" {
					name = http.CanonicalHeaderKey(name)
				}
				rt.required = append(rt.required, binding{f.Location, name})
			}
		}
	}
	return rt
}

// table is a service's compiled routes, indexed so that a request is
// compared only with the templates of its method, and an operation finds its
// route without compiling it again.
type table struct {
	all      []route
	byMethod map[string][]*route
	byOp     map[*awsapi.Operation]*route
}

var routeCache sync.Map // *awsapi.Service → *table

func routes(svc *awsapi.Service) *table {
	if t, ok := routeCache.Load(svc); ok {
		return t.(*table)
	}
	ops := make([]*awsapi.Operation, len(svc.OperationList))
	for i := range ops {
		ops[i] = &svc.OperationList[i]
	}
	sort.Slice(ops, func(i, j int) bool { return ops[i].Name < ops[j].Name })
	t := &table{all: make([]route, 0, len(ops)), byMethod: map[string][]*route{}, byOp: map[*awsapi.Operation]*route{}}
	for _, op := range ops {
		t.all = append(t.all, compile(op))
	}
	for i := range t.all {
		rt := &t.all[i]
		t.byMethod[rt.method] = append(t.byMethod[rt.method], rt)
		t.byOp[rt.op] = rt
	}
	actual, _ := routeCache.LoadOrStore(svc, t)
	return actual.(*table)
}

// routeOf is op's compiled route: from its service's table when svc has it,
// else compiled now.
func routeOf(svc *awsapi.Service, op *awsapi.Operation) *route {
	if svc != nil {
		if rt := routes(svc).byOp[op]; rt != nil {
			return rt
		}
	}
	rt := compile(op)
	return &rt
}

// fits reports whether the escaped path fits the template, as match does,
// without decoding or keeping the labels: routing compares many templates,
// and only the chosen one's labels are needed.
func (rt *route) fits(escapedPath string) bool {
	rest := strings.TrimPrefix(escapedPath, "/")
	for i, s := range rt.segments {
		if s.greedy {
			return rest != "" && validEscapes(rest)
		}
		seg, after, _ := strings.Cut(rest, "/")
		if seg == "" {
			return false
		}
		if s.literal != "" {
			if seg != s.literal {
				return false
			}
		} else if !validEscapes(seg) {
			return false
		}
		rest = after
		if i == len(rt.segments)-1 && rest == "" {
			return true
		}
	}
	return rest == ""
}

// validEscapes reports whether url.PathUnescape accepts s: every '%' is
// followed by two hex digits.
func validEscapes(s string) bool {
	for i := strings.IndexByte(s, '%'); i >= 0; {
		if i+2 >= len(s) || !ishex(s[i+1]) || !ishex(s[i+2]) {
			return false
		}
		j := strings.IndexByte(s[i+3:], '%')
		if j < 0 {
			break
		}
		i += 3 + j
	}
	return true
}

func ishex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
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
		if b.location == "header" && headerValue(r.Header, b.name) != "" || b.location == "querystring" && q.Has(b.name) {
			n++
		}
	}
	return n, n == len(rt.required)
}

// headerValue is h.Get(key) for a key already canonical.
func headerValue(h http.Header, key string) string {
	if v := h[key]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// find picks the operation for r: among templates whose method, path and literal
// query markers match, the one with the most markers, then with all its required
// headers and query parameters present (PUT /{Bucket}/{Key+} is CopyObject with
// x-amz-copy-source, UploadPart with partNumber and uploadId, else PutObject).
// Only the templates of r's method are compared, markers (cheap) before the
// path; the other methods are looked at only to answer 405.
func find(svc *awsapi.Service, r *http.Request) (*route, error) {
	var q url.Values // nil (no parameters) unless the query has some
	if r.URL.RawQuery != "" {
		q = r.URL.Query()
	}
	path := r.URL.EscapedPath()
	// A path whose percent-decoding is not UTF-8 names no bucket or key: S3
	// answers 400 InvalidURI (what clients that sent a Latin-1 file name raw
	// report from S3) before it looks for the resource.
	// Most paths have no escapes: they are checked without decoding.
	if strings.IndexByte(path, '%') < 0 {
		if !utf8.ValidString(path) {
			return nil, &apierr.Error{Code: "InvalidURI", Status: http.StatusBadRequest, Message: "Couldn't parse the specified URI."}
		}
	} else if p, err := url.PathUnescape(path); err == nil && !utf8.ValidString(p) {
		return nil, &apierr.Error{Code: "InvalidURI", Status: http.StatusBadRequest, Message: "Couldn't parse the specified URI."}
	}
	t := routes(svc)
	var best *route
	bestScore := -1
	for _, rt := range t.byMethod[r.Method] {
		if !rt.markersMatch(q) || !rt.fits(path) {
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
			best, bestScore = rt, score
		}
	}
	if best != nil {
		return best, nil
	}
	var allowed []string
	for i := range t.all {
		rt := &t.all[i]
		if rt.markersMatch(q) && rt.fits(path) && !slices.Contains(allowed, rt.method) {
			allowed = append(allowed, rt.method)
		}
	}
	if len(allowed) > 0 {
		// A 405 names the methods the resource takes in Allow (RFC 9110
		// 15.5.6), as S3 does.
		slices.Sort(allowed)
		return nil, &apierr.Error{Code: "MethodNotAllowed", Status: http.StatusMethodNotAllowed,
			Message: "The specified method is not allowed against this resource.",
			Fields:  map[string]any{"Method": r.Method, "ResourceType": resourceType(path)},
			Header:  http.Header{"Allow": {strings.Join(allowed, ", ")}}}
	}
	return nil, &apierr.Error{Code: "InvalidRequest", Status: http.StatusBadRequest,
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
