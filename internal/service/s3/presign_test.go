package s3_test

import (
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
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
