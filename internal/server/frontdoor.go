package server

import (
	"net"
	"net/http"
	"strings"
	"sync"

	"github.com/wharf-dev/wharf/internal/awsapi"
)

// router picks the service a request is for. It is built once from the registered
// services; lookups are map reads.
type router struct {
	bySigningName  map[string]*service // "sqs", "monitoring", "s3"
	byTargetPrefix map[string]*service // "AmazonSQS", "DynamoDB_20120810"
	byVersion      map[string]*service // query Version (API version) → its service
	// byAction maps a query Action to the first query service that has it.
	// Only a request routed by its Action (one without a readable
	// signature) needs it, so it is built on the first such request
	// (actions) rather than at startup from every query operation.
	byAction     map[string]*service
	byActionOnce sync.Once
	query        []*service // the query services, in registration order
	restJSON     []*service // the rest-json services other than S3, for byPath
	// byPathPrefix are services that share another's signing name and are
	// told apart by their path's prefix (S3 Control: "s3", /v20180820/).
	byPathPrefix []*service
	s3           *service
	s3Domain     string
}

func newRouter(services []*service, s3Domain string) *router {
	rt := &router{
		bySigningName:  map[string]*service{},
		byTargetPrefix: map[string]*service{},
		byVersion:      map[string]*service{},
		s3Domain:       strings.ToLower(strings.TrimPrefix(s3Domain, ".")),
	}
	for _, s := range services {
		d := s.desc
		// Services may share a signing name (DynamoDB Streams signs as
		// "dynamodb"): the first registered keeps it, X-Amz-Target tells
		// the others apart (route).
		if _, taken := rt.bySigningName[d.SigningName]; !taken {
			rt.bySigningName[d.SigningName] = s
		}
		rt.bySigningName[d.EndpointPrefix] = s
		if d.TargetPrefix != "" {
			rt.byTargetPrefix[d.TargetPrefix] = s
		}
		if d.Speaks(awsapi.ProtocolQuery) {
			rt.byVersion[d.APIVersion] = s
			rt.query = append(rt.query, s)
		}
		if d.Quirks.PathPrefix != "" {
			rt.byPathPrefix = append(rt.byPathPrefix, s)
		}
		if d.Quirks.VirtualHostedBuckets {
			rt.s3 = s
		} else if d.Speaks(awsapi.ProtocolRestJSON) {
			rt.restJSON = append(rt.restJSON, s)
		}
	}
	return rt
}

// actions returns byAction, building it on the first call.
func (rt *router) actions() map[string]*service {
	rt.byActionOnce.Do(func() {
		m := map[string]*service{}
		for _, s := range rt.query {
			for i := range s.desc.OperationList {
				if name := s.desc.OperationList[i].Name; m[name] == nil {
					m[name] = s
				}
			}
		}
		rt.byAction = m
	})
	return rt.byAction
}

// pathMatcher is a codec that can tell whether a request's method and path
// are one of a service's operations (restjson's).
type pathMatcher interface {
	Matches(svc *awsapi.Service, r *http.Request) bool
}

// byPath returns the rest-json service one of whose operations r's method
// and path are, or nil. The front door asks it only for a request whose
// signature could not be read and that nothing else routes: its error is
// then the service's, in its protocol, as AWS (where the host names the
// service) answers. Unsigned requests are not routed by path: a path-style
// S3 request to a bucket named "schedules" would be taken for Scheduler.
func (rt *router) byPath(r *http.Request, m pathMatcher) *service {
	for _, s := range rt.restJSON {
		if m.Matches(s.desc, r) {
			return s
		}
	}
	return nil
}

// route returns the service r calls, in the order docs/architecture.md gives: the SigV4
// credential scope, the X-Amz-Target prefix, the CBOR operation path, the query
// Action, and finally S3. It returns nil when the request names a service wharf
// does not have.
func (rt *router) route(r *http.Request, scopeService string) *service {
	if scopeService != "" {
		for _, s := range rt.byPathPrefix {
			// "v20180820" is also a valid bucket name: S3 Control's
			// requests are told from a path-style request to that bucket
			// by the x-amz-account-id header every one of its operations
			// (but Outposts' CreateBucket) requires and S3 never reads.
			if s.desc.SigningName == scopeService && strings.HasPrefix(r.URL.Path, s.desc.Quirks.PathPrefix) &&
				r.Header.Get("X-Amz-Account-Id") != "" {
				return s
			}
		}
		if s, ok := rt.bySigningName[scopeService]; ok {
			if t := r.Header.Get("X-Amz-Target"); t != "" {
				prefix, _, _ := strings.Cut(t, ".")
				if o, ok := rt.byTargetPrefix[prefix]; ok && o.desc.SigningName == s.desc.SigningName {
					return o
				}
			}
			return s
		}
		return nil
	}
	if t := r.Header.Get("X-Amz-Target"); t != "" {
		prefix, _, _ := strings.Cut(t, ".")
		if s, ok := rt.byTargetPrefix[prefix]; ok {
			return s
		}
		return nil
	}
	// smithy-rpc-v2-cbor: POST /service/<ServiceShape>/operation/<Op>; the service shape
	// name is the JSON target prefix.
	if rest, ok := strings.CutPrefix(r.URL.Path, "/service/"); ok {
		name, _, _ := strings.Cut(rest, "/")
		if s, ok := rt.byTargetPrefix[name]; ok {
			return s
		}
	}
	if action, version := queryAction(r); action != "" {
		// An unknown Action still names its service by Version, so the client
		// hears InvalidAction from it rather than an S3 error.
		if s, ok := rt.actions()[action]; ok {
			return s
		}
		if s, ok := rt.byVersion[version]; ok {
			return s
		}
		return nil
	}
	return rt.s3
}

// queryAction returns the Action and Version parameters of a query-protocol
// request, reading a form body when there is one (ParseForm caches it for the codec).
func queryAction(r *http.Request) (action, version string) {
	if q := r.URL.Query(); q.Has("Action") {
		return q.Get("Action"), q.Get("Version")
	}
	if r.Method == http.MethodPost && strings.HasPrefix(strings.ToLower(r.Header.Get("Content-Type")), "application/x-www-form-urlencoded") {
		if err := r.ParseForm(); err == nil {
			return r.PostForm.Get("Action"), r.PostForm.Get("Version")
		}
	}
	return "", ""
}

// virtualHostBucket returns the bucket named by a virtual-host style Host
// (<bucket>.s3.localhost:4566), or "".
func (rt *router) virtualHostBucket(host string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.ToLower(host)
	if rt.s3Domain == "" {
		return ""
	}
	bucket, ok := strings.CutSuffix(host, "."+rt.s3Domain)
	if !ok || bucket == "" {
		return ""
	}
	return bucket
}

// rewriteVirtualHost turns a virtual-host style S3 request into path style, so the
// rest-xml codec sees one form.
func rewriteVirtualHost(r *http.Request, bucket string) {
	r.URL.Path = "/" + bucket + r.URL.Path
	if r.URL.RawPath != "" {
		r.URL.RawPath = "/" + bucket + r.URL.RawPath
	}
}
