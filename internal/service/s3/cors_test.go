package s3_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

func TestCORSPreflightAndResponseHeadersFollowTheBucketsRules(t *testing.T) {
	e := newEnv(t)
	b := e.bucket(t, "cors")
	e.bucket(t, "no-cors")
	if _, err := e.client.PutBucketCors(ctx(), &awss3.PutBucketCorsInput{Bucket: aws.String(b), CORSConfiguration: &types.CORSConfiguration{
		CORSRules: []types.CORSRule{
			{AllowedOrigins: []string{"https://*.example.com"}, AllowedMethods: []string{"GET", "PUT"},
				AllowedHeaders: []string{"x-amz-*", "Content-Type"}, ExposeHeaders: []string{"ETag", "x-amz-request-id"}, MaxAgeSeconds: aws.Int32(600)},
			{AllowedOrigins: []string{"*"}, AllowedMethods: []string{"GET"}},
		}}}); err != nil {
		t.Fatal(err)
	}
	putKeys(t, e, b, "obj")

	const vary = "Origin, Access-Control-Request-Headers, Access-Control-Request-Method"
	for _, tc := range []struct {
		name, method, path string
		header             map[string]string
		status             int
		want               map[string]string // "" means absent
		body               string            // a substring of the body
	}{
		{"preflight matching a wildcard origin, with allowed headers", "OPTIONS", "/cors/obj",
			map[string]string{"Origin": "https://app.example.com", "Access-Control-Request-Method": "PUT", "Access-Control-Request-Headers": "Content-Type, x-amz-meta-color"},
			200, map[string]string{"Access-Control-Allow-Origin": "https://app.example.com", "Access-Control-Allow-Credentials": "true",
				"Access-Control-Allow-Methods": "GET, PUT", "Access-Control-Allow-Headers": "Content-Type, x-amz-meta-color",
				"Access-Control-Expose-Headers": "ETag, x-amz-request-id", "Access-Control-Max-Age": "600", "Vary": vary}, ""},
		{"preflight falling through to the any-origin rule", "OPTIONS", "/cors/obj",
			map[string]string{"Origin": "https://other.org", "Access-Control-Request-Method": "GET"},
			200, map[string]string{"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Credentials": "", "Access-Control-Allow-Methods": "GET",
				"Access-Control-Max-Age": "", "Access-Control-Expose-Headers": ""}, ""},
		{"preflight of a bucket URL", "OPTIONS", "/cors",
			map[string]string{"Origin": "https://other.org", "Access-Control-Request-Method": "GET"},
			200, map[string]string{"Access-Control-Allow-Origin": "*"}, ""},
		{"preflight of a method no rule allows", "OPTIONS", "/cors/obj",
			map[string]string{"Origin": "https://other.org", "Access-Control-Request-Method": "PUT"},
			403, map[string]string{"Access-Control-Allow-Origin": ""}, "CORSResponse: This CORS request is not allowed"},
		{"preflight of a header no rule allows", "OPTIONS", "/cors/obj",
			map[string]string{"Origin": "https://app.example.com", "Access-Control-Request-Method": "PUT", "Access-Control-Request-Headers": "Authorization"},
			403, map[string]string{"Access-Control-Allow-Origin": ""}, "AccessForbidden"},
		{"preflight where the wildcard does not reach", "OPTIONS", "/cors/obj",
			map[string]string{"Origin": "https://example.com", "Access-Control-Request-Method": "PUT"},
			403, nil, "CORSResponse: This CORS request is not allowed"},
		{"preflight without Origin", "OPTIONS", "/cors/obj",
			map[string]string{"Access-Control-Request-Method": "GET"}, 400, nil, "Origin request header needed"},
		{"preflight without a method", "OPTIONS", "/cors/obj",
			map[string]string{"Origin": "https://other.org"}, 400, nil, "Access-Control-Request-Method"},
		{"preflight to a bucket without CORS", "OPTIONS", "/no-cors/obj",
			map[string]string{"Origin": "https://other.org", "Access-Control-Request-Method": "GET"}, 403, nil, "CORS is not enabled for this bucket"},
		{"preflight to a missing bucket", "OPTIONS", "/missing/obj",
			map[string]string{"Origin": "https://other.org", "Access-Control-Request-Method": "GET"}, 404, nil, "NoSuchBucket"},
		{"GET with an allowed Origin", "GET", "/cors/obj",
			map[string]string{"Origin": "https://app.example.com"}, 200,
			map[string]string{"Access-Control-Allow-Origin": "https://app.example.com", "Access-Control-Expose-Headers": "ETag, x-amz-request-id", "Vary": vary}, "obj"},
		{"PUT from an origin no rule allows is served without CORS headers", "PUT", "/cors/other",
			map[string]string{"Origin": "https://other.org"}, 200, map[string]string{"Access-Control-Allow-Origin": "", "Vary": ""}, ""},
		{"a request naming the method it asks about is matched by that method", "PUT", "/cors/other2",
			map[string]string{"Origin": "https://other.org", "Access-Control-Request-Method": "GET"}, 200,
			map[string]string{"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Methods": "GET"}, ""},
		{"GET without Origin has no CORS headers", "GET", "/cors/obj", nil, 200, map[string]string{"Access-Control-Allow-Origin": ""}, "obj"},
		{"error responses carry the headers too", "GET", "/cors/missing",
			map[string]string{"Origin": "https://app.example.com"}, 404, map[string]string{"Access-Control-Allow-Origin": "https://app.example.com"}, "NoSuchKey"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(tc.method, "http://"+e.addr+tc.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range tc.header {
				req.Header.Set(k, v)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.status {
				t.Errorf("status %d, want %d: %s", resp.StatusCode, tc.status, body)
			}
			for k, v := range tc.want {
				if got := resp.Header.Get(k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
			if !strings.Contains(string(body), tc.body) {
				t.Errorf("body %q does not contain %q", body, tc.body)
			}
		})
	}
}
