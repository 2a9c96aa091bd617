package sigv4

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// The S3 client signs with the wall clock; the server checks against it too.
func wallClock() time.Time { return time.Now() }

func s3Client(base string, hc *http.Client) *s3.Client {
	o := s3.Options{
		BaseEndpoint:     aws.String(base),
		Region:           "us-east-1",
		UsePathStyle:     true,
		Credentials:      credentials.NewStaticCredentialsProvider(testAccessKey, testSecret, ""),
		RetryMaxAttempts: 1,
	}
	if hc != nil {
		o.HTTPClient = hc
	}
	return s3.New(o)
}

func TestS3ClientPutObjectWithTrailingChecksum(t *testing.T) {
	data := strings.Repeat("wharf object bytes ", 5000) // spans several chunks
	for _, alg := range []types.ChecksumAlgorithm{types.ChecksumAlgorithmCrc32, types.ChecksumAlgorithmCrc32c, types.ChecksumAlgorithmSha1, types.ChecksumAlgorithmSha256, types.ChecksumAlgorithmCrc64nvme} {
		t.Run(string(alg), func(t *testing.T) {
			srv, seen := tlsVerifier(t, wallClock, testSecret)
			_, err := s3Client(srv.URL, srv.Client()).PutObject(context.Background(), &s3.PutObjectInput{
				Bucket: aws.String("bucket"), Key: aws.String("dir/a b+c.txt"),
				Body:              strings.NewReader(data),
				ChecksumAlgorithm: alg,
			})
			if err != nil {
				t.Fatal(err)
			}
			o := receive(t, seen)
			wantCode(t, o.err, "")
			if o.mode != StreamingUnsignedTrailer {
				t.Fatalf("the SDK sent x-amz-content-sha256 %q; this test means to cover %s", o.mode, StreamingUnsignedTrailer)
			}
			if string(o.body) != data {
				t.Fatalf("decoded %d bytes, want %d", len(o.body), len(data))
			}
			if o.trailer.Get("X-Amz-Checksum-"+string(alg)) == "" {
				t.Fatalf("trailer = %v", o.trailer)
			}
		})
	}
}

// corrupting flips one byte of the chunk data on the wire, after the SDK has
// computed its trailing checksum.
type corrupting struct{ http.RoundTripper }

func (c corrupting) RoundTrip(r *http.Request) (*http.Response, error) {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, err
	}
	i := bytes.Index(b, []byte("payload"))
	b[i] = 'P'
	r.Body = io.NopCloser(bytes.NewReader(b))
	r.ContentLength = int64(len(b))
	return c.RoundTripper.RoundTrip(r)
}

func TestS3ClientTrailingChecksumMismatchFails(t *testing.T) {
	srv, seen := tlsVerifier(t, wallClock, testSecret)
	client := s3Client(srv.URL, &http.Client{Transport: corrupting{srv.Client().Transport}})
	_, err := client.PutObject(context.Background(), &s3.PutObjectInput{
		Bucket: aws.String("bucket"), Key: aws.String("k"),
		Body:              strings.NewReader("some payload"),
		ChecksumAlgorithm: types.ChecksumAlgorithmCrc32,
	})
	o := receive(t, seen)
	wantCode(t, o.err, "BadDigest")
	if err == nil {
		t.Fatal("PutObject succeeded")
	}
}

func TestS3PresignClient(t *testing.T) {
	base, seen := verifier(t, wallClock, testSecret)
	presign := s3.NewPresignClient(s3Client(base, nil), s3.WithPresignExpires(10*time.Minute))
	ctx := context.Background()

	get, err := presign.PresignGetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bucket"), Key: aws.String("a/b c~(1).txt")})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(get.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	o := receive(t, seen)
	wantCode(t, o.err, "")
	if !o.cred.Presigned || o.cred.Expires != 10*time.Minute {
		t.Fatalf("credential = %+v", o.cred)
	}

	put, err := presign.PresignPutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bucket"), Key: aws.String("up"), ContentType: aws.String("text/plain")})
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(put.Method, put.URL, strings.NewReader("uploaded"))
	req.Header = put.SignedHeader.Clone()
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	o = receive(t, seen)
	wantCode(t, o.err, "")
	if string(o.body) != "uploaded" {
		t.Fatalf("body = %q", o.body)
	}
}

func TestS3ClientPlainHTTPRequestsVerify(t *testing.T) {
	base, seen := verifier(t, wallClock, testSecret)
	client := s3Client(base, nil)
	ctx := context.Background()
	// Over plain HTTP the SDK signs the payload's sha256 and sends the checksum as a header.
	if _, err := client.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String("bucket"), Key: aws.String("ümlaut/ key=1&x;y.txt"),
		Body: strings.NewReader("hello"), ChecksumAlgorithm: types.ChecksumAlgorithmCrc32,
		Metadata: map[string]string{"note": "two  spaces"},
	}); err != nil {
		t.Fatal(err)
	}
	o := receive(t, seen)
	wantCode(t, o.err, "")
	if string(o.body) != "hello" || !isHexSHA256(o.mode) {
		t.Fatalf("body %q under x-amz-content-sha256 %q", o.body, o.mode)
	}
	// The response body is empty, so the SDK's own result does not matter here.
	client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("bucket"), Prefix: aws.String("a b/ü+"), Delimiter: aws.String("/")})
	wantCode(t, receive(t, seen).err, "")
}
