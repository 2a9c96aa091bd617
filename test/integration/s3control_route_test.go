package integration

import (
	"io"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/wharf-dev/wharf/internal/wharftest"
)

// TestABucketNamedLikeS3ControlsPathIsS3s: S3 Control shares S3's signing
// name and is told from it by its /v20180820/ path, but "v20180820" is also
// a valid bucket name. Every S3 Control operation wharf serves carries
// x-amz-account-id, which no S3 request does, so a path-style request to
// that bucket without it is S3's: the bucket's objects are written, read
// and listed.
func TestABucketNamedLikeS3ControlsPathIsS3s(t *testing.T) {
	srv := wharftest.Start(t)
	ctx := callTimeout(t)
	s3c := s3.NewFromConfig(srv.Config(), func(o *s3.Options) { o.UsePathStyle = true })
	bucket := aws.String("v20180820")
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: bucket}); err != nil {
		t.Fatal(err)
	}
	if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: bucket, Key: aws.String("configuration/publicAccessBlock"), Body: strings.NewReader("body")}); err != nil {
		t.Fatal(err)
	}
	out, err := s3c.GetObject(ctx, &s3.GetObjectInput{Bucket: bucket, Key: aws.String("configuration/publicAccessBlock")})
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(out.Body)
	out.Body.Close()
	if err != nil || string(b) != "body" {
		t.Fatalf("GetObject read %q, %v", b, err)
	}
	list, err := s3c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: bucket, Prefix: aws.String("configuration/")})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Contents) != 1 || aws.ToString(list.Contents[0].Key) != "configuration/publicAccessBlock" {
		t.Errorf("ListObjectsV2 gave %+v", list.Contents)
	}
}
