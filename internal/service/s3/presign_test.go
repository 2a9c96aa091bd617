package s3_test

import (
	"io"
	"net/http"
	"net/url"
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
