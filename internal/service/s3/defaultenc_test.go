package s3_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// A bucket's default encryption applies to every new object whose request
// names none — PutObject, CopyObject and multipart uploads — and a request
// that names one is encrypted as it asks (PutBucketEncryption docs).
func TestBucketDefaultEncryptionApplies(t *testing.T) {
	e := newEnv(t)
	c := e.client
	b := aws.String(e.bucket(t, "kms-default"))
	const key = "arn:aws:kms:us-east-1:000000000000:key/11111111-2222-3333-4444-555555555555"
	if _, err := c.PutBucketEncryption(ctx(), &awss3.PutBucketEncryptionInput{Bucket: b,
		ServerSideEncryptionConfiguration: &types.ServerSideEncryptionConfiguration{Rules: []types.ServerSideEncryptionRule{{
			ApplyServerSideEncryptionByDefault: &types.ServerSideEncryptionByDefault{SSEAlgorithm: types.ServerSideEncryptionAwsKms, KMSMasterKeyID: aws.String(key)},
			BucketKeyEnabled:                   aws.Bool(true)}}}}); err != nil {
		t.Fatal(err)
	}
	put, err := c.PutObject(ctx(), &awss3.PutObjectInput{Bucket: b, Key: aws.String("a"), Body: strings.NewReader("x")})
	if err != nil {
		t.Fatal(err)
	}
	if put.ServerSideEncryption != types.ServerSideEncryptionAwsKms || aws.ToString(put.SSEKMSKeyId) != key || !aws.ToBool(put.BucketKeyEnabled) {
		t.Errorf("PutObject under an SSE-KMS default: %q key %q bucket key %v", put.ServerSideEncryption, aws.ToString(put.SSEKMSKeyId), put.BucketKeyEnabled)
	}
	head, err := c.HeadObject(ctx(), &awss3.HeadObjectInput{Bucket: b, Key: aws.String("a")})
	if err != nil || head.ServerSideEncryption != types.ServerSideEncryptionAwsKms || aws.ToString(head.SSEKMSKeyId) != key {
		t.Errorf("HeadObject under an SSE-KMS default = %q %q, %v", head.ServerSideEncryption, aws.ToString(head.SSEKMSKeyId), err)
	}
	cp, err := c.CopyObject(ctx(), &awss3.CopyObjectInput{Bucket: b, Key: aws.String("b"), CopySource: aws.String("kms-default/a")})
	if err != nil || cp.ServerSideEncryption != types.ServerSideEncryptionAwsKms || aws.ToString(cp.SSEKMSKeyId) != key {
		t.Errorf("CopyObject under an SSE-KMS default = %+v, %v", cp, err)
	}
	mp, err := c.CreateMultipartUpload(ctx(), &awss3.CreateMultipartUploadInput{Bucket: b, Key: aws.String("c")})
	if err != nil || mp.ServerSideEncryption != types.ServerSideEncryptionAwsKms || aws.ToString(mp.SSEKMSKeyId) != key {
		t.Errorf("CreateMultipartUpload under an SSE-KMS default = %+v, %v", mp, err)
	}
	own, err := c.PutObject(ctx(), &awss3.PutObjectInput{Bucket: b, Key: aws.String("d"), Body: strings.NewReader("x"),
		ServerSideEncryption: types.ServerSideEncryptionAes256})
	if err != nil || own.ServerSideEncryption != types.ServerSideEncryptionAes256 || own.SSEKMSKeyId != nil {
		t.Errorf("PutObject asking for SSE-S3 under an SSE-KMS default = %q %v, %v", own.ServerSideEncryption, own.SSEKMSKeyId, err)
	}
	if _, err := c.DeleteBucketEncryption(ctx(), &awss3.DeleteBucketEncryptionInput{Bucket: b}); err != nil {
		t.Fatal(err)
	}
	after, err := c.PutObject(ctx(), &awss3.PutObjectInput{Bucket: b, Key: aws.String("e"), Body: strings.NewReader("x")})
	if err != nil || after.ServerSideEncryption != types.ServerSideEncryptionAes256 {
		t.Errorf("PutObject after DeleteBucketEncryption = %q, %v; want AES256", after.ServerSideEncryption, err)
	}
}
