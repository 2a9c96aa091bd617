package integration

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// anonymousCall sends an unsigned request and returns its status and body.
func anonymousCall(t *testing.T, method, url string, body io.Reader, contentType string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// Under --auth strict and --iam enforce an unsigned S3 request is the
// anonymous principal, as on AWS: a bucket policy granting everyone lets it
// read what it names and nothing else; without --iam enforce nothing would
// decide it, so it is refused.
func TestS3AnonymousRequestsUnderStrictAuth(t *testing.T) {
	ep := start(t, "--auth", "strict", "--iam", "enforce")
	root := s3Client(awsConfig(ep, "test", "test", ""))
	ctx := callTimeout(t)
	if _, err := root.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("pub")}); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"public/a", "private/a"} {
		if _, err := root.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("pub"), Key: aws.String(k), Body: strings.NewReader(k)}); err != nil {
			t.Fatal(err)
		}
	}
	if code, body := anonymousCall(t, "GET", ep+"/pub/public/a", nil, ""); code != 403 || !strings.Contains(body, "<Code>AccessDenied</Code>") {
		t.Fatalf("anonymous GET before any policy = %d %s", code, body)
	}
	policy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::pub/public/*"}]}`
	// Block Public Access, on for a new bucket, would refuse the policy.
	if _, err := root.DeletePublicAccessBlock(ctx, &s3.DeletePublicAccessBlockInput{Bucket: aws.String("pub")}); err != nil {
		t.Fatal(err)
	}
	if _, err := root.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String("pub"), Policy: aws.String(policy)}); err != nil {
		t.Fatal(err)
	}
	if code, body := anonymousCall(t, "GET", ep+"/pub/public/a", nil, ""); code != 200 || body != "public/a" {
		t.Errorf("anonymous GET the policy grants = %d %q", code, body)
	}
	for _, c := range []struct{ method, path string }{
		{"GET", "/pub/private/a"}, {"PUT", "/pub/public/b"}, {"GET", "/pub"}, {"GET", "/"}, {"PUT", "/anon-bucket"}, {"DELETE", "/pub/public/a"},
	} {
		if code, body := anonymousCall(t, c.method, ep+c.path, nil, ""); code != 403 || !strings.Contains(body, "<Code>AccessDenied</Code>") {
			t.Errorf("anonymous %s %s = %d %s, want 403 AccessDenied", c.method, c.path, code, body)
		}
	}
	if _, err := root.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("anon-bucket")}); err == nil {
		t.Error("an anonymous CreateBucket made a bucket")
	}

	audit := start(t, "--auth", "strict", "--iam", "audit")
	rootA := s3Client(awsConfig(audit, "test", "test", ""))
	if _, err := rootA.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("pub")}); err != nil {
		t.Fatal(err)
	}
	if _, err := rootA.DeletePublicAccessBlock(ctx, &s3.DeletePublicAccessBlockInput{Bucket: aws.String("pub")}); err != nil {
		t.Fatal(err)
	}
	if _, err := rootA.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String("pub"), Policy: aws.String(policy)}); err != nil {
		t.Fatal(err)
	}
	if code, body := anonymousCall(t, "GET", audit+"/pub/public/a", nil, ""); code != 403 || !strings.Contains(body, "<Code>AccessDenied</Code>") {
		t.Errorf("anonymous GET under --iam audit = %d %s, want 403", code, body)
	}
}

// postForm builds a browser POST upload of key to bucket, signed with SigV4
// by akid/secret ("Browser-based uploads using POST").
func postForm(t *testing.T, bucket, key, akid, secret string) (*bytes.Buffer, string) {
	t.Helper()
	now := time.Now().UTC()
	date, amzDate := now.Format("20060102"), now.Format("20060102T150405Z")
	cred := akid + "/" + date + "/us-east-1/s3/aws4_request"
	doc := `{"expiration":"` + now.Add(time.Hour).Format(time.RFC3339) + `","conditions":[{"bucket":"` + bucket +
		`"},["starts-with","$key",""],{"x-amz-algorithm":"AWS4-HMAC-SHA256"},{"x-amz-credential":"` + cred +
		`"},{"x-amz-date":"` + amzDate + `"}]}`
	policy := base64.StdEncoding.EncodeToString([]byte(doc))
	mac := func(k []byte, s string) []byte { m := hmac.New(sha256.New, k); m.Write([]byte(s)); return m.Sum(nil) }
	sk := mac(mac(mac(mac([]byte("AWS4"+secret), date), "us-east-1"), "s3"), "aws4_request")
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, f := range [][2]string{{"key", key}, {"x-amz-algorithm", "AWS4-HMAC-SHA256"}, {"x-amz-credential", cred},
		{"x-amz-date", amzDate}, {"policy", policy}, {"x-amz-signature", hex.EncodeToString(mac(sk, policy))}} {
		if err := mw.WriteField(f[0], f[1]); err != nil {
			t.Fatal(err)
		}
	}
	fw, err := mw.CreateFormFile("file", "f.txt")
	if err != nil {
		t.Fatal(err)
	}
	fw.Write([]byte("posted " + key))
	mw.Close()
	return &buf, mw.FormDataContentType()
}

// Under --auth strict a browser POST upload is authenticated by its form:
// a policy signed with a known key's secret acts as that key, a wrong
// secret is SignatureDoesNotMatch and an unknown key InvalidAccessKeyId.
func TestS3PostUploadSignatureVerifiedUnderStrictAuth(t *testing.T) {
	for _, mode := range []string{"audit", "enforce"} {
		t.Run(mode, func(t *testing.T) {
			ep := start(t, "--auth", "strict", "--iam", mode, "--access-key", "AKIAPOSTTEST", "--secret-key", "postsecret")
			root := s3Client(awsConfig(ep, "AKIAPOSTTEST", "postsecret", ""))
			ctx := callTimeout(t)
			if _, err := root.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("forms")}); err != nil {
				t.Fatal(err)
			}
			body, ct := postForm(t, "forms", "ok.txt", "AKIAPOSTTEST", "postsecret")
			if code, resp := anonymousCall(t, "POST", ep+"/forms", body, ct); code != 204 {
				t.Fatalf("signed POST upload = %d %s", code, resp)
			}
			got, err := root.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("forms"), Key: aws.String("ok.txt")})
			if err != nil {
				t.Fatal(err)
			}
			data, _ := io.ReadAll(got.Body)
			got.Body.Close()
			if string(data) != "posted ok.txt" {
				t.Errorf("posted object = %q", data)
			}
			body, ct = postForm(t, "forms", "bad.txt", "AKIAPOSTTEST", "wrong")
			if code, resp := anonymousCall(t, "POST", ep+"/forms", body, ct); code != 403 || !strings.Contains(resp, "<Code>SignatureDoesNotMatch</Code>") {
				t.Errorf("POST signed with a wrong secret = %d %s", code, resp)
			}
			body, ct = postForm(t, "forms", "bad.txt", "AKIAUNKNOWNKEY", "postsecret")
			if code, resp := anonymousCall(t, "POST", ep+"/forms", body, ct); code != 403 || !strings.Contains(resp, "<Code>InvalidAccessKeyId</Code>") {
				t.Errorf("POST signed with an unknown key = %d %s", code, resp)
			}
			if _, err := root.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("forms"), Key: aws.String("bad.txt")}); err == nil {
				t.Error("a POST with a bad signature stored its object")
			}
		})
	}
}
