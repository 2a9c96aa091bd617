package s3_test

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
)

// atLimit and overLimit are user metadata of exactly 2048 bytes and of one
// byte more, as S3 measures it: the UTF-8 bytes of each name (without
// x-amz-meta-) and value, summed over the entries.
var (
	atLimit   = map[string]string{"a": strings.Repeat("x", 1000), "bb": strings.Repeat("y", 1045)} // 1+1000+2+1045
	overLimit = map[string]string{"a": strings.Repeat("x", 1000), "bb": strings.Repeat("y", 1046)}
)

// TestUserMetadataIsLimitedTo2KB: every request that sets an object's user
// metadata takes 2 KB of it and refuses one byte more with 400
// MetadataTooLarge ("Working with object metadata" in the S3 user guide),
// and a refused request creates nothing.
func TestUserMetadataIsLimitedTo2KB(t *testing.T) {
	e := newEnv(t)
	b := e.bucket(t, "meta-limit")
	if _, err := e.client.PutObject(ctx(), &awss3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("src"), Body: strings.NewReader("x")}); err != nil {
		t.Fatal(err)
	}
	ops := []struct {
		name string
		call func(key string, meta map[string]string) error
	}{
		{"PutObject", func(key string, meta map[string]string) error {
			_, err := e.client.PutObject(ctx(), &awss3.PutObjectInput{Bucket: aws.String(b), Key: aws.String(key), Body: strings.NewReader("x"), Metadata: meta})
			return err
		}},
		{"CopyObject REPLACE", func(key string, meta map[string]string) error {
			_, err := e.client.CopyObject(ctx(), &awss3.CopyObjectInput{Bucket: aws.String(b), Key: aws.String(key), CopySource: aws.String(b + "/src"),
				MetadataDirective: "REPLACE", Metadata: meta})
			return err
		}},
		{"CreateMultipartUpload", func(key string, meta map[string]string) error {
			_, err := e.client.CreateMultipartUpload(ctx(), &awss3.CreateMultipartUploadInput{Bucket: aws.String(b), Key: aws.String(key), Metadata: meta})
			return err
		}},
	}
	for _, op := range ops {
		t.Run(op.name, func(t *testing.T) {
			key := strings.ReplaceAll(op.name, " ", "-")
			if err := op.call(key+"-at", atLimit); err != nil {
				t.Errorf("2048 bytes of metadata: %v", err)
			}
			err := op.call(key+"-over", overLimit)
			if errCode(err) != "MetadataTooLarge" || httpStatus(err) != http.StatusBadRequest {
				t.Errorf("2049 bytes of metadata = %d %v, want 400 MetadataTooLarge", httpStatus(err), err)
			}
		})
	}
	// Nothing of a refused request was kept: no object, no upload.
	for _, key := range []string{"PutObject-over", "CopyObject-REPLACE-over"} {
		if _, err := e.client.HeadObject(ctx(), &awss3.HeadObjectInput{Bucket: aws.String(b), Key: aws.String(key)}); httpStatus(err) != http.StatusNotFound {
			t.Errorf("HeadObject %s after a refused write = %v, want 404", key, err)
		}
	}
	ups, err := e.client.ListMultipartUploads(ctx(), &awss3.ListMultipartUploadsInput{Bucket: aws.String(b)})
	if err != nil || len(ups.Uploads) != 1 || aws.ToString(ups.Uploads[0].Key) != "CreateMultipartUpload-at" {
		t.Errorf("uploads after one accepted and one refused CreateMultipartUpload: %+v, %v", ups, err)
	}
	// COPY takes the source's metadata and ignores what the request sends.
	if _, err := e.client.CopyObject(ctx(), &awss3.CopyObjectInput{Bucket: aws.String(b), Key: aws.String("copied"), CopySource: aws.String(b + "/src"),
		MetadataDirective: "COPY", Metadata: overLimit}); err != nil {
		t.Errorf("CopyObject COPY with 2049 bytes of ignored metadata: %v", err)
	}
}

// TestMetadataSizeCountsUTF8Bytes: a header value that is not US-ASCII is
// kept as S3 keeps it, each byte read as one character (see
// TestNonASCIIMetadataIsReturnedRFC2047Encoded), and measured by that
// string's UTF-8, as the user guide measures it: "é", two bytes on the
// wire, is two characters kept, four bytes counted. A browser POST upload's
// form value is UTF-8 and counts as sent: "é" is two bytes.
func TestMetadataSizeCountsUTF8Bytes(t *testing.T) {
	e := newEnv(t)
	b := e.bucket(t, "meta-utf8")
	put := func(key, value string) error {
		_, err := e.client.PutObject(context.Background(), &awss3.PutObjectInput{Bucket: aws.String(b), Key: aws.String(key), Body: strings.NewReader("x"),
			Metadata: map[string]string{"k": value}})
		return err
	}
	if err := put("at", strings.Repeat("é", 511)+"xxx"); err != nil { // 1 + 511*4 + 3
		t.Errorf("2048 bytes counted: %v", err)
	}
	if err := put("over", strings.Repeat("é", 512)); errCode(err) != "MetadataTooLarge" { // 1 + 512*4
		t.Errorf("2049 bytes counted = %v, want MetadataTooLarge", err)
	}

	post := func(key, value string) (*http.Response, string) {
		ct, body := postForm(t, [][2]string{{"key", key}, {"x-amz-meta-k", value}}, "y")
		return send(t, http.MethodPost, "http://"+e.addr+"/"+b, body.String(), map[string]string{"Content-Type": ct})
	}
	if resp, msg := post("posted-at", strings.Repeat("é", 1023)+"x"); resp.StatusCode != http.StatusNoContent { // 1 + 1023*2 + 1
		t.Errorf("POST upload with 2048 bytes of metadata: %d %s", resp.StatusCode, msg)
	}
	resp, msg := post("posted-over", strings.Repeat("é", 1023)+"xx")
	// S3's answer names the size it measured and its limit.
	for _, want := range []string{"<Code>MetadataTooLarge</Code>", "<Message>Your metadata headers exceed the maximum allowed metadata size</Message>",
		"<Size>2049</Size>", "<MaxSizeAllowed>2048</MaxSizeAllowed>"} {
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(msg, want) {
			t.Errorf("POST upload with 2049 bytes of metadata: %d %s, want 400 with %s", resp.StatusCode, msg, want)
		}
	}
	if _, err := e.client.HeadObject(ctx(), &awss3.HeadObjectInput{Bucket: aws.String(b), Key: aws.String("posted-over")}); httpStatus(err) != http.StatusNotFound {
		t.Errorf("HeadObject after a refused POST upload = %v, want 404", err)
	}
}

// TestHeaderSectionIsLimitedTo8KB: S3 takes a request whose header section
// is 8 KB and answers one byte more, whatever the method and before its
// signature, with 400 RequestHeaderSectionTooLarge naming the limit.
func TestHeaderSectionIsLimitedTo8KB(t *testing.T) {
	e := newEnv(t)
	b := e.bucket(t, "header-limit")
	// The header lines as sent, "Name: value\r\n" each, sum to size.
	raw := func(size int) (*http.Response, string) {
		t.Helper()
		host := "Host: " + e.addr + "\r\n"
		pad := size - len(host) - len("X-Pad: \r\n")
		req := "GET /" + b + "/missing HTTP/1.1\r\n" + host + "X-Pad: " + strings.Repeat("p", pad) + "\r\n\r\n"
		conn, err := net.Dial("tcp", e.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(30 * time.Second))
		if _, err := conn.Write([]byte(req)); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatal(err)
		}
		msg, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp, string(msg)
	}
	if resp, msg := raw(8192); resp.StatusCode != http.StatusNotFound || !strings.Contains(msg, "<Code>NoSuchKey</Code>") {
		t.Errorf("GET with an 8192-byte header section = %d %s, want the missing key's 404", resp.StatusCode, msg)
	}
	resp, msg := raw(8193)
	for _, want := range []string{"<Code>RequestHeaderSectionTooLarge</Code>",
		"<Message>Your request header section exceeds the maximum allowed size.</Message>", "<MaxSizeAllowed>8192</MaxSizeAllowed>"} {
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(msg, want) {
			t.Errorf("GET with an 8193-byte header section = %d %s, want 400 with %s", resp.StatusCode, msg, want)
		}
	}

	_, err := e.client.PutObject(ctx(), &awss3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("k"), Body: strings.NewReader("x"),
		ContentDisposition: aws.String(strings.Repeat("d", 8192))})
	if errCode(err) != "RequestHeaderSectionTooLarge" || httpStatus(err) != http.StatusBadRequest {
		t.Errorf("PutObject with an 8 KB Content-Disposition = %d %v, want 400 RequestHeaderSectionTooLarge", httpStatus(err), err)
	}
	if _, err := e.client.HeadObject(ctx(), &awss3.HeadObjectInput{Bucket: aws.String(b), Key: aws.String("k")}); httpStatus(err) != http.StatusNotFound {
		t.Errorf("HeadObject after a refused PutObject = %v, want 404", err)
	}
}
