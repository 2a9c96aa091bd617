package sigv4

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/wharf-dev/wharf/internal/apierr"
)

func TestParseRejectsMalformedSignatures(t *testing.T) {
	const scope = "AKID/20240305/us-east-1/sqs/aws4_request"
	cases := []struct {
		name, auth, query, date, code string
	}{
		{name: "no signature", auth: "AWS4-HMAC-SHA256 Credential=" + scope + ", SignedHeaders=host", date: "20240305T102030Z", code: "IncompleteSignature"},
		{name: "no credential", auth: "AWS4-HMAC-SHA256 SignedHeaders=host, Signature=00", date: "20240305T102030Z", code: "IncompleteSignature"},
		{name: "no date", auth: "AWS4-HMAC-SHA256 Credential=" + scope + ", SignedHeaders=host, Signature=00", code: "IncompleteSignature"},
		{name: "bad date", auth: "AWS4-HMAC-SHA256 Credential=" + scope + ", SignedHeaders=host, Signature=00", date: "2024-03-05", code: "IncompleteSignature"},
		{name: "short scope", auth: "AWS4-HMAC-SHA256 Credential=AKID/20240305/us-east-1/aws4_request, SignedHeaders=host, Signature=00", date: "20240305T102030Z", code: "IncompleteSignature"},
		{name: "scope not aws4_request", auth: "AWS4-HMAC-SHA256 Credential=AKID/20240305/us-east-1/sqs/aws5, SignedHeaders=host, Signature=00", date: "20240305T102030Z", code: "IncompleteSignature"},
		{name: "sigv2 without a key", auth: "AWS c2ln", code: "InvalidArgument"},
		{name: "sigv4a", auth: "AWS4-ECDSA-P256-SHA256 Credential=x", code: "IncompleteSignature"},
		{name: "presign without date", query: "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKID%2F20240305%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-SignedHeaders=host&X-Amz-Signature=00", code: "AuthorizationQueryParametersError"},
		{name: "presign other algorithm", query: "X-Amz-Algorithm=AWS4-HMAC-SHA1&X-Amz-Credential=AKID%2F20240305%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20240305T102030Z&X-Amz-SignedHeaders=host&X-Amz-Signature=00", code: "AuthorizationQueryParametersError"},
		{name: "presign expires not a number", query: "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKID%2F20240305%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20240305T102030Z&X-Amz-Expires=soon&X-Amz-SignedHeaders=host&X-Amz-Signature=00", code: "AuthorizationQueryParametersError"},
		{name: "well-formed header", auth: "AWS4-HMAC-SHA256 Credential=" + scope + ", SignedHeaders=host;x-amz-date, Signature=ABCDEF", date: "20240305T102030Z"},
		{name: "well-formed presign", query: "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKID%2F20240305%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20240305T102030Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host&X-Amz-Signature=00"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "http://127.0.0.1/?"+tc.query, http.NoBody)
			if tc.auth != "" {
				r.Header.Set("Authorization", tc.auth)
			}
			if tc.date != "" {
				r.Header.Set("X-Amz-Date", tc.date)
			}
			c, err := Parse(r)
			wantCode(t, err, tc.code)
			if tc.code == "" && (c == nil || c.AccessKey != "AKID" || c.Date != "20240305" || c.Time.IsZero()) {
				t.Fatalf("credential = %+v", c)
			}
			if tc.code == "" && !c.Presigned && c.Signature != "abcdef" {
				t.Fatalf("signature not lowercased: %q", c.Signature)
			}
		})
	}
}

func TestVerifyRejectsScopeDateOtherThanRequestDate(t *testing.T) {
	r := httptest.NewRequest("GET", "http://127.0.0.1/", http.NoBody)
	r.Header.Set("X-Amz-Date", "20240305T102030Z")
	r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKID/20240304/us-east-1/sqs/aws4_request, SignedHeaders=host;x-amz-date, Signature=00")
	c, err := Parse(r)
	if err != nil {
		t.Fatal(err)
	}
	wantCode(t, Verify(r, c, testSecret, c.Time), "SignatureDoesNotMatch")
}

func TestErrorConstructorsCarryAWSCodes(t *testing.T) {
	for _, tc := range []struct {
		code   string
		status int
		err    error
	}{
		{"InvalidClientTokenId", 403, InvalidClientTokenID()},
		{"InvalidAccessKeyId", 403, InvalidAccessKeyID("AKID")},
		{"MissingAuthenticationToken", 403, MissingAuthenticationToken()},
	} {
		wantCode(t, tc.err, tc.code)
		if apierrOf(tc.err).Status != tc.status {
			t.Fatalf("%s: status %d", tc.code, apierrOf(tc.err).Status)
		}
	}
}

// SigV2 (S3's "AWS key:signature" header and AWSAccessKeyId/Signature/Expires
// URLs, which boto3 still presigns S3 URLs with) names its key and, in a URL,
// its expiry.
func TestParseSigV2(t *testing.T) {
	r := httptest.NewRequest("PUT", "http://127.0.0.1/b/k", http.NoBody)
	r.Header.Set("Authorization", "AWS 111111111111:c2ln")
	c, err := Parse(r)
	if err != nil || c == nil || !c.V2 || c.AccessKey != "111111111111" || c.Presigned {
		t.Fatalf("SigV2 header: %+v, %v", c, err)
	}
	now := time.Date(2026, 12, 6, 7, 0, 0, 0, time.UTC)
	if err := CheckExpiry(c, now); err != nil {
		t.Errorf("CheckExpiry of a SigV2 header: %v", err)
	}
	url := func(expires int64) *Credential {
		t.Helper()
		r := httptest.NewRequest("GET", fmt.Sprintf("http://127.0.0.1/b/k?AWSAccessKeyId=AKID&Signature=c2ln&Expires=%d", expires), http.NoBody)
		c, err := Parse(r)
		if err != nil || c == nil || !c.V2 || !c.Presigned || c.AccessKey != "AKID" {
			t.Fatalf("SigV2 URL: %+v, %v", c, err)
		}
		return c
	}
	if err := CheckExpiry(url(now.Unix()+60), now); err != nil {
		t.Errorf("a SigV2 URL a minute from expiry: %v", err)
	}
	wantCode(t, CheckExpiry(url(now.Unix()-1), now), "AccessDenied")
}

// SigV2 signatures verify with the examples of S3's "Signing and
// authenticating REST requests (AWS signature version 2)": a GET and a PUT
// signed in the Authorization header and a query-string (presigned) GET;
// a bad date is refused before the signature is looked at, as S3 does.
func TestVerifySigV2(t *testing.T) {
	const secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	signed := func(method, url, date, ctype, sig string) *http.Request {
		r := httptest.NewRequest(method, url, http.NoBody)
		if date != "" {
			r.Header.Set("Date", date)
		}
		if ctype != "" {
			r.Header.Set("Content-Type", ctype)
		}
		r.Header.Set("Authorization", "AWS AKIAIOSFODNN7EXAMPLE:"+sig)
		return r
	}
	verify := func(r *http.Request, now time.Time) error {
		t.Helper()
		c, err := Parse(r)
		if err != nil || c == nil || !c.V2 {
			t.Fatalf("Parse: %+v, %v", c, err)
		}
		return Verify(r, c, secret, now)
	}
	getTime := time.Date(2007, 3, 27, 19, 36, 42, 0, time.UTC)
	get := signed("GET", "http://127.0.0.1/awsexamplebucket1/photos/puppy.jpg", "Tue, 27 Mar 2007 19:36:42 +0000", "", "qgk2+6Sv9/oM7G3qLEjTH1a1l1g=")
	if err := verify(get, getTime.Add(time.Minute)); err != nil {
		t.Errorf("the docs' GET: %v", err)
	}
	put := signed("PUT", "http://127.0.0.1/awsexamplebucket1/photos/puppy.jpg", "Tue, 27 Mar 2007 21:15:45 +0000", "image/jpeg", "iqRzw+ileNPu1fhspnRs8nOjjIA=")
	if err := verify(put, time.Date(2007, 3, 27, 21, 15, 45, 0, time.UTC)); err != nil {
		t.Errorf("the docs' PUT: %v", err)
	}
	// Another secret, another path, a header the signature did not cover.
	if err := Verify(get, &Credential{AccessKey: "AKIAIOSFODNN7EXAMPLE", Signature: "qgk2+6Sv9/oM7G3qLEjTH1a1l1g=", V2: true}, "other", getTime); apierr.As(err) == nil || apierr.As(err).Code != "SignatureDoesNotMatch" {
		t.Errorf("wrong secret: %v", err)
	} else if sts := apierr.As(err).Fields["StringToSign"]; sts != "GET\n\n\nTue, 27 Mar 2007 19:36:42 +0000\n/awsexamplebucket1/photos/puppy.jpg" {
		t.Errorf("StringToSign = %q", sts)
	}
	wantCode(t, verify(signed("GET", "http://127.0.0.1/awsexamplebucket1/photos/kitten.jpg", "Tue, 27 Mar 2007 19:36:42 +0000", "", "qgk2+6Sv9/oM7G3qLEjTH1a1l1g="), getTime), "SignatureDoesNotMatch")
	amz := signed("GET", "http://127.0.0.1/awsexamplebucket1/photos/puppy.jpg", "Tue, 27 Mar 2007 19:36:42 +0000", "", "qgk2+6Sv9/oM7G3qLEjTH1a1l1g=")
	amz.Header.Set("X-Amz-Meta-Extra", "1")
	wantCode(t, verify(amz, getTime), "SignatureDoesNotMatch")
	// The time is checked first: too far off, unreadable, missing.
	wantCode(t, verify(get, getTime.Add(16*time.Minute)), "RequestTimeTooSkewed")
	wantCode(t, verify(get, getTime.Add(-16*time.Minute)), "RequestTimeTooSkewed")
	for _, d := range []string{"Bad Date", "", "Tue, 07 Jul 1950 21:53:04 GMT"} {
		r := signed("GET", "http://127.0.0.1/awsexamplebucket1/photos/puppy.jpg", "Tue, 27 Mar 2007 19:36:42 +0000", "", "qgk2+6Sv9/oM7G3qLEjTH1a1l1g=")
		r.Header["X-Amz-Date"] = []string{d}
		wantCode(t, verify(r, getTime), "AccessDenied")
	}
	wantCode(t, verify(signed("GET", "http://127.0.0.1/awsexamplebucket1/photos/puppy.jpg", "", "", "qgk2+6Sv9/oM7G3qLEjTH1a1l1g="), getTime), "AccessDenied")
	// The query-string example, before and after its Expires.
	q := httptest.NewRequest("GET", "http://127.0.0.1/johnsmith/photos/puppy.jpg?AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Expires=1175139620&Signature=NpgCjnDzrM%2BWFzoENXmpNDUsSn8%3D", http.NoBody)
	if err := verify(q, time.Unix(1175139620-60, 0)); err != nil {
		t.Errorf("the docs' query-string GET: %v", err)
	}
	wantCode(t, verify(q, time.Unix(1175139620+1, 0)), "AccessDenied")
	// Sub-resources are signed, other query parameters are not.
	sub := httptest.NewRequest("GET", "http://127.0.0.1/johnsmith/photos/puppy.jpg?tagging&x-id=GetObjectTagging", http.NoBody)
	sub.Header.Set("Date", "Tue, 27 Mar 2007 19:36:42 +0000")
	m := hmac.New(sha1.New, []byte(secret))
	m.Write([]byte("GET\n\n\nTue, 27 Mar 2007 19:36:42 +0000\n/johnsmith/photos/puppy.jpg?tagging"))
	sub.Header.Set("Authorization", "AWS AKIAIOSFODNN7EXAMPLE:"+base64.StdEncoding.EncodeToString(m.Sum(nil)))
	if err := verify(sub, getTime); err != nil {
		t.Errorf("a sub-resource GET: %v", err)
	}
}
