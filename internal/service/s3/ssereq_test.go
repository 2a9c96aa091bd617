package s3_test

import (
	"bytes"
	"crypto/md5"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
)

// A read cannot choose an encryption: x-amz-server-side-encryption on a GET
// or HEAD is refused with 400 InvalidArgument, as S3 refuses it.
func TestReadsRefuseServerSideEncryptionHeader(t *testing.T) {
	e := newEnv(t)
	b := e.bucket(t, "sse-read")
	if _, err := e.client.PutObject(ctx(), &awss3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("k"), Body: strings.NewReader("x")}); err != nil {
		t.Fatal(err)
	}
	url := "http://" + e.addr + "/" + b + "/k"
	for _, sse := range []string{"AES256", "aws:kms"} {
		resp, body := send(t, http.MethodGet, url, "", map[string]string{"x-amz-server-side-encryption": sse})
		if resp.StatusCode != 400 || !strings.Contains(body, "<Code>InvalidArgument</Code>") ||
			!strings.Contains(body, "x-amz-server-side-encryption header is not supported for this operation.") {
			t.Errorf("GET with x-amz-server-side-encryption: %s = %d %s", sse, resp.StatusCode, body)
		}
		resp, _ = send(t, http.MethodHead, url, "", map[string]string{"x-amz-server-side-encryption": sse})
		if resp.StatusCode != 400 {
			t.Errorf("HEAD with x-amz-server-side-encryption: %s = %d, want 400", sse, resp.StatusCode)
		}
	}
	if resp, body := send(t, http.MethodGet, url, "", nil); resp.StatusCode != 200 || body != "x" {
		t.Errorf("plain GET = %d %q", resp.StatusCode, body)
	}
}

// An SSE-C request must carry the key's MD5 (S3 does not derive it), and the
// key itself: either missing is 400 InvalidArgument.
func TestSSECustomerKeyNeedsItsMD5(t *testing.T) {
	e := newEnv(t)
	b := e.bucket(t, "ssec-md5")
	key := bytes.Repeat([]byte{9}, 32)
	sum := md5.Sum(key)
	k64, m64 := base64.StdEncoding.EncodeToString(key), base64.StdEncoding.EncodeToString(sum[:])
	url := "http://" + e.addr + "/" + b + "/k"
	for _, c := range []struct {
		name string
		hdr  map[string]string
		msg  string
	}{
		{"no MD5", map[string]string{"x-amz-server-side-encryption-customer-algorithm": "AES256", "x-amz-server-side-encryption-customer-key": k64},
			"must provide the client calculated MD5 of the secret key."},
		{"no key", map[string]string{"x-amz-server-side-encryption-customer-algorithm": "AES256", "x-amz-server-side-encryption-customer-key-MD5": m64},
			"must provide an appropriate secret key."},
	} {
		resp, body := send(t, http.MethodPut, url, "data", c.hdr)
		if resp.StatusCode != 400 || !strings.Contains(body, "<Code>InvalidArgument</Code>") || !strings.Contains(body, c.msg) {
			t.Errorf("PUT with SSE-C, %s = %d %s", c.name, resp.StatusCode, body)
		}
	}
	if _, err := e.client.HeadObject(ctx(), &awss3.HeadObjectInput{Bucket: aws.String(b), Key: aws.String("k")}); errCode(err) != "NotFound" {
		t.Errorf("a refused SSE-C PUT left an object: %v", err)
	}
	full := map[string]string{"x-amz-server-side-encryption-customer-algorithm": "AES256",
		"x-amz-server-side-encryption-customer-key": k64, "x-amz-server-side-encryption-customer-key-MD5": m64}
	if resp, body := send(t, http.MethodPut, url, "data", full); resp.StatusCode != 200 || resp.Header.Get("x-amz-server-side-encryption-customer-key-MD5") != m64 {
		t.Errorf("PUT with the SSE-C triple = %d %s", resp.StatusCode, body)
	}
	delete(full, "x-amz-server-side-encryption-customer-key-MD5")
	if resp, body := send(t, http.MethodGet, url, "", full); resp.StatusCode != 400 || !strings.Contains(body, "client calculated MD5") {
		t.Errorf("GET with the SSE-C key but no MD5 = %d %s", resp.StatusCode, body)
	}
}
