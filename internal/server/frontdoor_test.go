package server

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/wharf-dev/wharf/internal/awsapi"
	s3api "github.com/wharf-dev/wharf/internal/awsapi/s3"
)

func testServices() []*service {
	mk := func(id, signing, target string, protocols []string, ops ...string) *service {
		d := &awsapi.Service{ID: id, SigningName: signing, EndpointPrefix: signing, TargetPrefix: target, Protocols: protocols}
		if id == "s3" {
			d.Quirks = s3api.Service.Quirks // the catch-all route and virtual hosts
		}
		for _, op := range ops {
			d.OperationList = append(d.OperationList, awsapi.Operation{Name: op})
		}
		return &service{desc: d}
	}
	mkv := func(_, version string, s *service) *service {
		s.desc.APIVersion = version
		return s
	}
	return []*service{
		mk("s3", "s3", "", []string{"rest-xml"}, "GetObject"),
		mk("sqs", "sqs", "AmazonSQS", []string{"json", "query"}, "SendMessage", "CreateQueue"),
		mkv("sts", "2011-06-15", mk("sts", "sts", "", []string{"query"}, "GetCallerIdentity")),
		mk("sns", "sns", "", []string{"query"}, "CreateTopic", "ListTagsForResource"),
		mk("cloudwatch", "monitoring", "GraniteServiceVersion20100801", []string{"smithy-rpc-v2-cbor", "json", "query"}, "PutMetricData", "ListTagsForResource"),
		mk("dynamodb", "dynamodb", "DynamoDB_20120810", []string{"json"}, "PutItem"),
	}
}

func TestRouteFollowsDesignOrder(t *testing.T) {
	rt := newRouter(testServices(), "s3.localhost")
	form := func(body string) *http.Request {
		r := httptest.NewRequest("POST", "/", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
		return r
	}
	tests := []struct {
		name  string
		req   *http.Request
		scope string
		want  string
	}{
		{"scope wins over target", withHeader(httptest.NewRequest("POST", "/", nil), "X-Amz-Target", "DynamoDB_20120810.PutItem"), "sqs", "sqs"},
		{"cloudwatch signs as monitoring", httptest.NewRequest("POST", "/", nil), "monitoring", "cloudwatch"},
		{"target prefix", withHeader(httptest.NewRequest("POST", "/", nil), "X-Amz-Target", "DynamoDB_20120810.PutItem"), "", "dynamodb"},
		{"cbor path", httptest.NewRequest("POST", "/service/GraniteServiceVersion20100801/operation/PutMetricData", nil), "", "cloudwatch"},
		{"query action in form", form("Action=GetCallerIdentity&Version=2011-06-15"), "", "sts"},
		{"unknown action goes to the service its version names", form("Action=Nope&Version=2011-06-15"), "", "sts"},
		{"unknown action and version", form("Action=Nope&Version=1999-01-01"), "", ""},
		{"query action in url", httptest.NewRequest("GET", "/?Action=CreateTopic", nil), "", "sns"},
		{"an action two services have is the first registered's", form("Action=ListTagsForResource"), "", "sns"},
		{"anything else is s3", httptest.NewRequest("GET", "/bucket/key", nil), "", "s3"},
		{"unknown scope", httptest.NewRequest("GET", "/", nil), "ec2", ""},
		{"unknown target", withHeader(httptest.NewRequest("POST", "/", nil), "X-Amz-Target", "Nope.Op"), "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ""
			if s := rt.route(tt.req, tt.scope); s != nil {
				got = s.desc.ID
			}
			if got != tt.want {
				t.Errorf("route = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestVirtualHostBucket(t *testing.T) {
	rt := newRouter(testServices(), "s3.localhost")
	for host, want := range map[string]string{
		"my-bucket.s3.localhost:4566": "my-bucket",
		"My.Dotted.s3.localhost":      "my.dotted",
		"s3.localhost:4566":           "",
		"127.0.0.1:4566":              "",
		"localhost":                   "",
	} {
		if got := rt.virtualHostBucket(host); got != want {
			t.Errorf("virtualHostBucket(%q) = %q, want %q", host, got, want)
		}
	}
	r := httptest.NewRequest("GET", "http://b.s3.localhost/a%2Fb/c", nil)
	rewriteVirtualHost(r, "b")
	if r.URL.Path != "/b/a/b/c" || r.URL.EscapedPath() != "/b/a%2Fb/c" {
		t.Errorf("rewritten path = %q (escaped %q)", r.URL.Path, r.URL.EscapedPath())
	}
}

func withHeader(r *http.Request, k, v string) *http.Request {
	r.Header.Set(k, v)
	return r
}

// FuzzRoute feeds the front door arbitrary paths, headers and bodies: it must pick
// a service or none, never panic.
func FuzzRoute(f *testing.F) {
	f.Add("/", "", "Action=GetCallerIdentity", "application/x-www-form-urlencoded", "")
	f.Add("/service/GraniteServiceVersion20100801/operation/X", "", "", "application/cbor", "")
	f.Add("/b/k", "AmazonSQS.SendMessage", "{}", "application/x-amz-json-1.0", "b.s3.localhost")
	f.Add("/%zz", "", "%%%", "application/x-www-form-urlencoded", "::")
	rt := newRouter(testServices(), "s3.localhost")
	f.Fuzz(func(t *testing.T, path, target, body, ctype, host string) {
		u := &url.URL{Path: path}
		r, err := http.NewRequest("POST", "http://127.0.0.1"+u.EscapedPath(), strings.NewReader(body))
		if err != nil {
			return
		}
		r.Header.Set("X-Amz-Target", target)
		r.Header.Set("Content-Type", ctype)
		r.Host = host
		if b := rt.virtualHostBucket(r.Host); b != "" {
			rewriteVirtualHost(r, b)
		}
		rt.route(r, "")
	})
}
