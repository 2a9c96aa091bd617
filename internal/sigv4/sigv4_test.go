package sigv4

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
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
// its expiry; Verify refuses it, since wharf does not check its signature.
func TestParseSigV2(t *testing.T) {
	r := httptest.NewRequest("PUT", "http://127.0.0.1/b/k", http.NoBody)
	r.Header.Set("Authorization", "AWS 111111111111:c2ln")
	c, err := Parse(r)
	if err != nil || c == nil || !c.V2 || c.AccessKey != "111111111111" || c.Presigned {
		t.Fatalf("SigV2 header: %+v, %v", c, err)
	}
	now := time.Date(2026, 12, 6, 7, 0, 0, 0, time.UTC)
	wantCode(t, Verify(r, c, "secret", now), "IncompleteSignature")
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
