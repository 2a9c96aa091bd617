package sigv4

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

var signTime = time.Date(2024, 3, 5, 10, 20, 30, 0, time.UTC)

func hexSum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// sdkRequest is a request as a service's SDK client would build it.
type sdkRequest struct {
	service, method, path, query string
	header                       map[string]string
	body                         string
	payloadHash                  string // "" means sha256 of body
}

func (s sdkRequest) build(t *testing.T, base string) *http.Request {
	t.Helper()
	u := base + s.path
	if s.query != "" {
		u += "?" + s.query
	}
	req, err := http.NewRequest(s.method, u, strings.NewReader(s.body))
	if err != nil {
		t.Fatal(err)
	}
	if s.body == "" {
		req.Body = http.NoBody
		req.ContentLength = 0
	}
	for k, v := range s.header {
		req.Header.Set(k, v)
	}
	return req
}

func (s sdkRequest) hash() string {
	if s.payloadHash != "" {
		return s.payloadHash
	}
	return hexSum([]byte(s.body))
}

var sdkRequests = map[string]sdkRequest{
	"query protocol POST form": {
		service: "sqs", method: "POST", path: "/",
		header: map[string]string{"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
		body:   "Action=SendMessage&MessageBody=hello+world%21&QueueUrl=http%3A%2F%2F127.0.0.1%2F000000000000%2Fq&Version=2012-11-05",
	},
	"json protocol with target": {
		service: "dynamodb", method: "POST", path: "/",
		header: map[string]string{"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "DynamoDB_20120810.PutItem"},
		body:   `{"TableName":"t","Item":{"pk":{"S":"a  b"}}}`,
	},
	"rest-json path is double-encoded": {
		service: "scheduler", method: "GET", path: "/schedules/my%20schedule%2Bx", query: "groupName=default%20group",
	},
	"s3 key with reserved characters": {
		service: "s3", method: "GET", path: "/bucket/dir/a%20b%2Bc%28%C3%A9%29%21.txt", query: "versionId=3%2F4&response-content-type=text%2Fplain",
		header:      map[string]string{"X-Amz-Content-Sha256": UnsignedPayload, "Range": "bytes=0-9"},
		payloadHash: UnsignedPayload,
	},
	"s3 put with signed payload": {
		service: "s3", method: "PUT", path: "/bucket/key", body: "object bytes",
		header: map[string]string{"X-Amz-Content-Sha256": hexSum([]byte("object bytes")), "X-Amz-Meta-Note": "  spaced   value  "},
	},
	"s3 list with empty query value": {
		service: "s3", method: "GET", path: "/bucket", query: "list-type=2&prefix=&delimiter=%2F",
		header:      map[string]string{"X-Amz-Content-Sha256": emptySHA256},
		payloadHash: emptySHA256,
	},
}

func TestVerifyAcceptsSDKHeaderSignatures(t *testing.T) {
	for name, tc := range sdkRequests {
		t.Run(name, func(t *testing.T) {
			base, seen := verifier(t, func() time.Time { return signTime.Add(time.Minute) }, testSecret)
			req := tc.build(t, base)
			creds := aws.Credentials{AccessKeyID: testAccessKey, SecretAccessKey: testSecret, SessionToken: "session-token"}
			err := v4.NewSigner().SignHTTP(context.Background(), creds, req, tc.hash(), tc.service, "eu-west-1", signTime, func(o *v4.SignerOptions) {
				o.DisableURIPathEscaping = tc.service == "s3"
			})
			if err != nil {
				t.Fatal(err)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			o := receive(t, seen)
			wantCode(t, o.err, "")
			if o.cred == nil || o.cred.AccessKey != testAccessKey || o.cred.Service != tc.service || o.cred.Region != "eu-west-1" || o.cred.SecurityToken != "session-token" || o.cred.Presigned {
				t.Fatalf("credential = %+v", o.cred)
			}
			if string(o.body) != tc.body {
				t.Fatalf("body after Verify = %q, want %q", o.body, tc.body)
			}
		})
	}
}

func TestVerifyRejectsTamperedOrMisSignedRequests(t *testing.T) {
	sqs := sdkRequests["query protocol POST form"]
	s3put := sdkRequests["s3 put with signed payload"]
	s3get := sdkRequests["s3 key with reserved characters"]
	ddb := sdkRequests["json protocol with target"]
	cases := []struct {
		name   string
		req    sdkRequest
		secret string
		now    time.Time
		tamper func(*http.Request)
		code   string
	}{
		{name: "wrong secret", req: sqs, secret: "not-the-secret", code: "SignatureDoesNotMatch"},
		{name: "signed header changed", req: ddb, tamper: func(r *http.Request) { r.Header.Set("X-Amz-Target", "DynamoDB_20120810.DeleteTable") }, code: "SignatureDoesNotMatch"},
		{name: "query parameter added", req: s3get, tamper: func(r *http.Request) { r.URL.RawQuery += "&acl=" }, code: "SignatureDoesNotMatch"},
		{name: "query value changed", req: s3get, tamper: func(r *http.Request) { r.URL.RawQuery = strings.Replace(r.URL.RawQuery, "3%2F4", "3%2F5", 1) }, code: "SignatureDoesNotMatch"},
		{name: "path changed", req: s3get, tamper: func(r *http.Request) { r.URL.RawPath, r.URL.Path = "", "/bucket/other" }, code: "SignatureDoesNotMatch"},
		{name: "body changed under a body-hash signature", req: sqs, tamper: setBody("Action=DeleteQueue&QueueUrl=x"), code: "SignatureDoesNotMatch"},
		{name: "body changed under x-amz-content-sha256", req: s3put, tamper: setBody("other bytes!"), code: "XAmzContentSHA256Mismatch"},
		{name: "request from the future", req: sqs, now: signTime.Add(-16 * time.Minute), code: "RequestTimeTooSkewed"},
		{name: "request too old", req: sqs, now: signTime.Add(16 * time.Minute), code: "RequestTimeTooSkewed"},
		{name: "request within skew", req: sqs, now: signTime.Add(14 * time.Minute)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			now := tc.now
			if now.IsZero() {
				now = signTime
			}
			secret := tc.secret
			if secret == "" {
				secret = testSecret
			}
			base, seen := verifier(t, func() time.Time { return now }, secret)
			req := tc.req.build(t, base)
			creds := aws.Credentials{AccessKeyID: testAccessKey, SecretAccessKey: testSecret}
			if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, tc.req.hash(), tc.req.service, "us-east-1", signTime, func(o *v4.SignerOptions) {
				o.DisableURIPathEscaping = tc.req.service == "s3"
			}); err != nil {
				t.Fatal(err)
			}
			if tc.tamper != nil {
				tc.tamper(req)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			wantCode(t, receive(t, seen).err, tc.code)
		})
	}
}

func setBody(s string) func(*http.Request) {
	return func(r *http.Request) {
		r.Body = io.NopCloser(strings.NewReader(s))
		r.ContentLength = int64(len(s))
	}
}

func TestVerifyPresignedURLs(t *testing.T) {
	get := sdkRequests["s3 key with reserved characters"]
	get.header = nil
	sts := sdkRequest{service: "sts", method: "GET", path: "/", query: "Action=GetCallerIdentity&Version=2011-06-15"}
	cases := []struct {
		name    string
		req     sdkRequest
		hash    string
		expires time.Duration
		now     time.Time
		secret  string
		tamper  func(*http.Request)
		code    string
	}{
		{name: "s3 get within expiry", req: get, hash: UnsignedPayload, expires: time.Hour, now: signTime.Add(59 * time.Minute)},
		{name: "s3 get after expiry", req: get, hash: UnsignedPayload, expires: time.Hour, now: signTime.Add(61 * time.Minute), code: "AccessDenied"},
		{name: "seven days is the limit", req: get, hash: UnsignedPayload, expires: MaxPresignExpires, now: signTime.Add(6 * 24 * time.Hour)},
		{name: "over seven days is refused", req: get, hash: UnsignedPayload, expires: MaxPresignExpires + time.Second, now: signTime, code: "AuthorizationQueryParametersError"},
		{name: "not yet valid", req: get, hash: UnsignedPayload, expires: time.Hour, now: signTime.Add(-time.Hour), code: "AccessDenied"},
		{name: "wrong secret", req: get, hash: UnsignedPayload, expires: time.Hour, now: signTime, secret: "other", code: "SignatureDoesNotMatch"},
		{name: "query tampered", req: get, hash: UnsignedPayload, expires: time.Hour, now: signTime, tamper: func(r *http.Request) {
			r.URL.RawQuery = strings.Replace(r.URL.RawQuery, "X-Amz-Expires=3600", "X-Amz-Expires=7200", 1)
		}, code: "SignatureDoesNotMatch"},
		{name: "signed header tampered", req: sdkRequest{service: "s3", method: "GET", path: "/b/k", header: map[string]string{"X-Amz-Meta-A": "1"}}, hash: UnsignedPayload, expires: time.Hour, now: signTime, tamper: func(r *http.Request) {
			r.Header.Set("X-Amz-Meta-A", "2")
		}, code: "SignatureDoesNotMatch"},
		{name: "non-s3 presign over the body hash", req: sts, hash: emptySHA256, expires: time.Minute, now: signTime},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			secret := tc.secret
			if secret == "" {
				secret = testSecret
			}
			base, seen := verifier(t, func() time.Time { return tc.now }, secret)
			req := tc.req.build(t, base)
			q := req.URL.Query()
			q.Set("X-Amz-Expires", strconv.Itoa(int(tc.expires/time.Second)))
			req.URL.RawQuery = q.Encode()
			creds := aws.Credentials{AccessKeyID: testAccessKey, SecretAccessKey: testSecret, SessionToken: "tok"}
			signed, hdr, err := v4.NewSigner().PresignHTTP(context.Background(), creds, req, tc.hash, tc.req.service, "us-west-2", signTime, func(o *v4.SignerOptions) {
				o.DisableURIPathEscaping = tc.req.service == "s3"
			})
			if err != nil {
				t.Fatal(err)
			}
			out, err := http.NewRequest(tc.req.method, signed, nil)
			if err != nil {
				t.Fatal(err)
			}
			out.Header = hdr
			if tc.tamper != nil {
				tc.tamper(out)
			}
			resp, err := http.DefaultClient.Do(out)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			o := receive(t, seen)
			wantCode(t, o.err, tc.code)
			if tc.code == "" && (!o.cred.Presigned || o.cred.Expires != tc.expires || o.cred.SecurityToken != "tok" || o.cred.Region != "us-west-2") {
				t.Fatalf("credential = %+v", o.cred)
			}
			if tc.code == "AccessDenied" && tc.now.After(signTime) {
				if e := apierrOf(o.err); e.Message != "Request has expired" || e.Status != 403 {
					t.Fatalf("expired: %+v", e)
				}
			}
		})
	}
}

func TestUnsignedRequestParsesToNil(t *testing.T) {
	for _, h := range []string{"", "Bearer abc", "token-from-the-container-credentials-endpoint"} {
		req, _ := http.NewRequest("GET", "http://127.0.0.1/?Action=ListQueues", bytes.NewReader(nil))
		if h != "" {
			req.Header.Set("Authorization", h)
		}
		c, err := Parse(req)
		if c != nil || err != nil {
			t.Fatalf("Authorization %q: Parse = %+v, %v", h, c, err)
		}
		wantCode(t, Verify(req, nil, testSecret, signTime), "MissingAuthenticationToken")
	}
}
