package s3

import (
	"net/http"
	"strconv"
	"strings"

	s3api "github.com/wharf-dev/wharf/internal/awsapi/s3"
	"github.com/wharf-dev/wharf/internal/store"
)

// CORS answers browsers' cross-origin checks from the bucket's CORS
// configuration ("Using cross-origin resource sharing (CORS)" in the S3 user
// guide): an OPTIONS preflight is allowed or refused, and other requests with
// an Origin header get the headers of the rule that allows them. No model
// operation describes a preflight, so the server calls this before its codec
// (server.Registration.CORS). On error h is left untouched.
func (s *Service) CORS(r *http.Request, h http.Header) error {
	preflight := r.Method == http.MethodOptions
	origin := r.Header.Get("Origin")
	method := r.Method
	var reqHeaders []string
	if preflight {
		if origin == "" {
			return s3api.ErrBadRequest("Insufficient information. Origin request header needed.")
		}
		method = r.Header.Get("Access-Control-Request-Method")
		if method == "" {
			return s3api.ErrBadRequest("Invalid Access-Control-Request-Method: null")
		}
		for _, v := range r.Header.Values("Access-Control-Request-Headers") {
			for _, name := range strings.Split(v, ",") {
				if name = strings.TrimSpace(name); name != "" {
					reqHeaders = append(reqHeaders, name)
				}
			}
		}
	} else if m := r.Header.Get("Access-Control-Request-Method"); m != "" {
		// A request that names the method it asks about is matched by
		// that method, as S3 does a preflight's (what Ceph's s3-tests
		// test_cors_origin_response expects of S3; browsers send the
		// header only on preflights).
		method = m
	}
	name, key, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	if name == "" {
		return noSuchBucket(name)
	}
	resource := "BUCKET"
	if key != "" {
		resource = "OBJECT"
	}
	var cfg *s3api.CORSConfiguration
	err := s.st.View(func(tx store.Tx) error {
		b, err := getBucket(tx, name)
		if err != nil {
			return err
		}
		if b == nil {
			return noSuchBucket(name)
		}
		cfg = b.CORS
		return nil
	})
	if err != nil {
		return err
	}
	if cfg == nil {
		return s3api.ErrAccessForbidden("CORSResponse: CORS is not enabled for this bucket.").WithFields(map[string]any{"Method": method, "ResourceType": resource})
	}
	rule, wildcard := matchCORS(cfg.CORSRules, origin, method, reqHeaders)
	if rule == nil {
		return s3api.ErrAccessForbidden("CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec.").WithFields(map[string]any{"Method": method, "ResourceType": resource})
	}
	// A rule allowing every origin answers "*" and no credentials; one naming
	// the origin echoes it and allows credentials, as S3 does.
	if wildcard {
		h.Set("Access-Control-Allow-Origin", "*")
	} else {
		h.Set("Access-Control-Allow-Origin", origin)
		h.Set("Access-Control-Allow-Credentials", "true")
	}
	h.Set("Access-Control-Allow-Methods", strings.Join(rule.AllowedMethods, ", "))
	if len(reqHeaders) > 0 {
		h.Set("Access-Control-Allow-Headers", strings.Join(reqHeaders, ", "))
	}
	if len(rule.ExposeHeaders) > 0 {
		h.Set("Access-Control-Expose-Headers", strings.Join(rule.ExposeHeaders, ", "))
	}
	if rule.MaxAgeSeconds != nil {
		h.Set("Access-Control-Max-Age", strconv.Itoa(int(*rule.MaxAgeSeconds)))
	}
	h.Set("Vary", "Origin, Access-Control-Request-Headers, Access-Control-Request-Method")
	return nil
}

// matchCORS returns the first rule that allows origin, method and every
// requested header, in S3's order of evaluation ("How does Amazon S3 evaluate
// the CORS configuration on a bucket?"), and whether it allows any origin.
func matchCORS(rules []s3api.CORSRule, origin, method string, headers []string) (*s3api.CORSRule, bool) {
	for i := range rules {
		r := &rules[i]
		all, ok := false, false
		for _, o := range r.AllowedOrigins {
			if wildcardMatch(strings.ToLower(o), strings.ToLower(origin)) {
				ok, all = true, o == "*"
				break
			}
		}
		if !ok || !containsFold(r.AllowedMethods, method) {
			continue
		}
		allowed := true
		for _, h := range headers {
			found := false
			for _, a := range r.AllowedHeaders {
				if wildcardMatch(strings.ToLower(a), strings.ToLower(h)) {
					found = true
					break
				}
			}
			if !found {
				allowed = false
				break
			}
		}
		if allowed {
			return r, all
		}
	}
	return nil, false
}

// wildcardMatch reports whether s matches pattern, in which each "*" stands
// for any run of characters (S3 allows one per AllowedOrigin or
// AllowedHeader; more are matched the same way).
func wildcardMatch(pattern, s string) bool {
	parts := strings.Split(pattern, "*")
	if len(parts) == 1 {
		return pattern == s
	}
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	last := parts[len(parts)-1]
	for _, p := range parts[1 : len(parts)-1] {
		i := strings.Index(s, p)
		if i < 0 {
			return false
		}
		s = s[i+len(p):]
	}
	return len(s) >= len(last) && strings.HasSuffix(s, last)
}

func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}
