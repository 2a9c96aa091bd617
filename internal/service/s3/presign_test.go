package s3_test

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/wharf-dev/wharf/internal/store"
)

// A presigned URL expires as on AWS even under --auth any, where signatures
// are not verified: a URL dated further back than its X-Amz-Expires is
// refused with AccessDenied "Request has expired".
func TestPresignedURLExpiresUnderAuthAny(t *testing.T) {
	e := newEnv(t)
	b := e.bucket(t, "presigned")
	if _, err := e.client.PutObject(ctx(), &awss3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("k"), Body: strings.NewReader("data")}); err != nil {
		t.Fatal(err)
	}
	req, err := awss3.NewPresignClient(e.client).PresignGetObject(ctx(), &awss3.GetObjectInput{Bucket: aws.String(b), Key: aws.String("k")},
		awss3.WithPresignExpires(15*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	get := func(u string) (int, string) {
		t.Helper()
		resp, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	if code, body := get(req.URL); code != 200 || body != "data" {
		t.Fatalf("fresh presigned GET = %d %q", code, body)
	}
	// The same URL signed a day ago (the signature is not checked under
	// --auth any, so only its date and expiry decide).
	u, err := url.Parse(req.URL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	signed, err := time.Parse("20060102T150405Z", q.Get("X-Amz-Date"))
	if err != nil {
		t.Fatal(err)
	}
	q.Set("X-Amz-Date", signed.Add(-24*time.Hour).Format("20060102T150405Z"))
	u.RawQuery = q.Encode()
	if code, body := get(u.String()); code != 403 || !strings.Contains(body, "<Code>AccessDenied</Code>") || !strings.Contains(body, "Request has expired") {
		t.Errorf("expired presigned GET = %d %s", code, body)
	}
	q.Set("X-Amz-Date", signed.Format("20060102T150405Z"))
	q.Set("X-Amz-Expires", "0")
	u.RawQuery = q.Encode()
	if code, _ := get(u.String()); code != 403 {
		t.Errorf("presigned GET with X-Amz-Expires=0 = %d, want 403", code)
	}
}

// SigV2, which boto3 still presigns S3 URLs with, is accepted under --auth
// any as the key it names (a 12-digit key acts in that account), and its
// URLs expire at their Expires.
func TestSigV2UnderAuthAny(t *testing.T) {
	e := newEnv(t)
	do := func(method, path, auth string) (int, string) {
		t.Helper()
		req, err := http.NewRequest(method, "http://"+e.addr+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	if code, body := do("PUT", "/v2-bucket", "AWS 111111111111:c2lnbmF0dXJl"); code != 200 {
		t.Fatalf("CreateBucket signed with SigV2 = %d %s", code, body)
	}
	alt := newClient(e.addr, func(o *awss3.Options) { o.Credentials = staticCreds("111111111111") })
	list, err := alt.ListBuckets(ctx(), &awss3.ListBucketsInput{})
	if err != nil || len(list.Buckets) != 1 || aws.ToString(list.Buckets[0].Name) != "v2-bucket" {
		t.Fatalf("account 111111111111's buckets = %+v, %v; want the one made with its SigV2 key", list, err)
	}
	if _, err := alt.PutObject(ctx(), &awss3.PutObjectInput{Bucket: aws.String("v2-bucket"), Key: aws.String("k"), Body: strings.NewReader("v2")}); err != nil {
		t.Fatal(err)
	}
	future, past := time.Now().Add(time.Hour).Unix(), time.Now().Add(-time.Hour).Unix()
	if code, body := do("GET", "/v2-bucket/k?AWSAccessKeyId=111111111111&Signature=c2ln&Expires="+strconv.FormatInt(future, 10), ""); code != 200 || body != "v2" {
		t.Errorf("SigV2 presigned GET = %d %q", code, body)
	}
	if code, body := do("GET", "/v2-bucket/k?AWSAccessKeyId=111111111111&Signature=c2ln&Expires="+strconv.FormatInt(past, 10), ""); code != 403 || !strings.Contains(body, "Request has expired") {
		t.Errorf("expired SigV2 presigned GET = %d %s", code, body)
	}
}

// signV2 signs req as S3's SigV2 does (HMAC-SHA1 of the StringToSign in
// "Signing and authenticating REST requests (AWS signature version 2)").
func signV2(req *http.Request, key, secret, resource string) {
	var amz []string
	for k, v := range req.Header {
		if lk := strings.ToLower(k); strings.HasPrefix(lk, "x-amz-") {
			amz = append(amz, lk+":"+strings.Join(v, ",")+"\n")
		}
	}
	sort.Strings(amz)
	date := req.Header.Get("Date")
	if _, ok := req.Header["X-Amz-Date"]; ok {
		date = ""
	}
	sts := req.Method + "\n" + req.Header.Get("Content-MD5") + "\n" + req.Header.Get("Content-Type") + "\n" + date + "\n" + strings.Join(amz, "") + resource
	m := hmac.New(sha1.New, []byte(secret))
	m.Write([]byte(sts))
	req.Header.Set("Authorization", "AWS "+key+":"+base64.StdEncoding.EncodeToString(m.Sum(nil)))
}

// Under --auth strict a SigV2 signature is verified as S3 verifies it: the
// right secret gets in (header and query string), a wrong one gets
// SignatureDoesNotMatch, and a bad or far-off date is refused before the
// signature is looked at (AccessDenied, RequestTimeTooSkewed).
func TestSigV2VerifiedUnderAuthStrict(t *testing.T) {
	e := newEnvWith(t, store.OpenMemory(), t.TempDir(), "--auth", "strict", "--access-key", "AKIAV2TEST", "--secret-key", "v2secret")
	e.client = newClient(e.addr, func(o *awss3.Options) {
		o.Credentials = credentials.NewStaticCredentialsProvider("AKIAV2TEST", "v2secret", "")
	})
	b := e.bucket(t, "v2-strict")
	do := func(req *http.Request) (int, string) {
		t.Helper()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	put := func(secret string, hdr map[string]string) (int, string) {
		t.Helper()
		req, err := http.NewRequest("PUT", "http://"+e.addr+"/"+b+"/a%20key?x-id=PutObject", strings.NewReader("v2 body"))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Date", time.Now().UTC().Format(http.TimeFormat))
		req.Header.Set("Content-Type", "text/plain")
		req.Header.Set("X-Amz-Meta-Signed", "yes")
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		signV2(req, "AKIAV2TEST", secret, "/"+b+"/a%20key")
		return do(req)
	}
	if code, body := put("v2secret", nil); code != 200 {
		t.Fatalf("PutObject signed with SigV2 = %d %s", code, body)
	}
	got, err := e.client.GetObject(ctx(), &awss3.GetObjectInput{Bucket: aws.String(b), Key: aws.String("a key")})
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(got.Body)
	got.Body.Close()
	if string(data) != "v2 body" || got.Metadata["signed"] != "yes" {
		t.Errorf("object put with SigV2 = %q %v", data, got.Metadata)
	}
	if code, body := put("wrong", nil); code != 403 || !strings.Contains(body, "<Code>SignatureDoesNotMatch</Code>") || !strings.Contains(body, "<StringToSign>PUT") {
		t.Errorf("wrong secret = %d %s", code, body)
	}
	for date, want := range map[string]string{
		"Bad Date":                      "AccessDenied",
		"Tue, 07 Jul 1950 21:53:04 GMT": "AccessDenied",
		"Tue, 07 Jul 2010 21:53:04 GMT": "RequestTimeTooSkewed",
		time.Now().Add(time.Hour).UTC().Format(http.TimeFormat): "RequestTimeTooSkewed",
	} {
		if code, body := put("v2secret", map[string]string{"X-Amz-Date": date}); code != 403 || !strings.Contains(body, "<Code>"+want+"</Code>") {
			t.Errorf("x-amz-date %q = %d %s, want %s", date, code, body, want)
		}
	}
	// An unknown key is refused as S3 refuses it.
	req, _ := http.NewRequest("GET", "http://"+e.addr+"/"+b, nil)
	req.Header.Set("Date", time.Now().UTC().Format(http.TimeFormat))
	signV2(req, "AKIAUNKNOWN", "v2secret", "/"+b)
	if code, body := do(req); code != 403 || !strings.Contains(body, "<Code>InvalidAccessKeyId</Code>") {
		t.Errorf("unknown key = %d %s", code, body)
	}
	// A query-string (presigned) GET, then the same URL with another Expires.
	presign := func(expires int64, secret string) string {
		sts := "GET\n\n\n" + strconv.FormatInt(expires, 10) + "\n/" + b + "/a%20key"
		m := hmac.New(sha1.New, []byte(secret))
		m.Write([]byte(sts))
		return "http://" + e.addr + "/" + b + "/a%20key?AWSAccessKeyId=AKIAV2TEST&Expires=" + strconv.FormatInt(expires, 10) +
			"&Signature=" + url.QueryEscape(base64.StdEncoding.EncodeToString(m.Sum(nil)))
	}
	exp := time.Now().Add(time.Hour).Unix()
	req, _ = http.NewRequest("GET", presign(exp, "v2secret"), nil)
	if code, body := do(req); code != 200 || body != "v2 body" {
		t.Errorf("SigV2 presigned GET = %d %q", code, body)
	}
	req, _ = http.NewRequest("GET", strings.Replace(presign(exp, "v2secret"), "Expires="+strconv.FormatInt(exp, 10), "Expires="+strconv.FormatInt(exp+1, 10), 1), nil)
	if code, body := do(req); code != 403 || !strings.Contains(body, "SignatureDoesNotMatch") {
		t.Errorf("SigV2 presigned GET with its Expires changed = %d %s", code, body)
	}
	req, _ = http.NewRequest("GET", presign(time.Now().Add(-time.Minute).Unix(), "v2secret"), nil)
	if code, body := do(req); code != 403 || !strings.Contains(body, "Request has expired") {
		t.Errorf("expired SigV2 presigned GET = %d %s", code, body)
	}
}
