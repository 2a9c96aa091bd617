package integration

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// Under --iam enforce a bucket that does not exist is NoSuchBucket to
// anyone, an unsigned request too, as S3 answers; nothing else opens: a
// missing object is NoSuchKey only to a caller who may list the bucket (S3
// decides a missing object by s3:ListBucket), an object the caller may not
// read stays AccessDenied, and an unsigned CreateBucket is refused.
func TestIAMEnforceMissingBucketsAnswerNoSuchBucketToAnyone(t *testing.T) {
	w := newACLWorld(t, "enforce")
	ctx := callTimeout(t)
	_, err := w.get(w.anon, "missing")
	wantDenied(t, err, "AccessDenied", 403, "Access Denied")

	if _, err := w.owner.PutBucketAcl(ctx, &s3.PutBucketAclInput{Bucket: aws.String(aclBucket), ACL: s3types.BucketCannedACLPublicRead}); err != nil {
		t.Fatal(err)
	}
	_, err = w.get(w.anon, "missing")
	wantDenied(t, err, "NoSuchKey", 404, "The specified key does not exist.")
	_, err = w.get(w.anon, "private")
	wantDenied(t, err, "AccessDenied", 403, "Access Denied")

	_, err = w.anon.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("no-such-bucket-here"), Key: aws.String("k")})
	wantDenied(t, err, "NoSuchBucket", 404, "The specified bucket does not exist")
	_, err = w.anon.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("no-such-bucket-here"), Key: aws.String("k"), Body: strings.NewReader("x")})
	wantDenied(t, err, "NoSuchBucket", 404, "The specified bucket does not exist")
	_, err = w.anon.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("anonymous-made")})
	wantDenied(t, err, "AccessDenied", 403, "Access Denied")
}
