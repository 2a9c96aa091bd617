package integration

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// Bucket policies read S3's own condition keys as AWS does ("Actions,
// resources, and condition keys for Amazon S3"): s3:x-amz-server-side-
// encryption and its SSE-C and KMS siblings from the request's headers,
// s3:ExistingObjectTag/KEY from the object's tags, s3:RequestObjectTag/KEY
// from x-amz-tagging, s3:x-amz-copy-source and s3:x-amz-metadata-directive
// from a copy.
func TestIAMEnforceBucketPolicyConditionKeysOfS3(t *testing.T) {
	w := newIAMWorld(t, "enforce")
	ctx := callTimeout(t)
	rootS3, otherS3 := s3Client(w.root), s3Client(w.other())
	put := func(c *s3.Client, in *s3.PutObjectInput) error {
		t.Helper()
		if in.Body == nil {
			in.Body = strings.NewReader("body of " + aws.ToString(in.Key))
		}
		_, err := c.PutObject(ctx, in)
		return err
	}
	policy := func(doc string) {
		t.Helper()
		if _, err := rootS3.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String("data"), Policy: aws.String(doc)}); err != nil {
			t.Fatal(err)
		}
	}
	denied := func(what string, err error) {
		t.Helper()
		if err == nil || !strings.Contains(err.Error(), "AccessDenied") {
			t.Errorf("%s: %v, want AccessDenied", what, err)
		}
	}

	// A Null condition on the encryption header binds even the owner.
	policy(`{"Version":"2012-10-17","Statement":[
		{"Effect":"Deny","Principal":"*","Action":"s3:PutObject","Resource":"arn:aws:s3:::data/*","Condition":{"Null":{"s3:x-amz-server-side-encryption":"true"}}},
		{"Effect":"Deny","Principal":"*","Action":"s3:PutObject","Resource":"arn:aws:s3:::data/*","Condition":{"StringNotEqualsIfExists":{"s3:x-amz-server-side-encryption":"AES256"}}}]}`)
	denied("PutObject without x-amz-server-side-encryption", put(rootS3, &s3.PutObjectInput{Bucket: aws.String("data"), Key: aws.String("plain")}))
	denied("PutObject with aws:kms", put(rootS3, &s3.PutObjectInput{Bucket: aws.String("data"), Key: aws.String("kms"), ServerSideEncryption: s3types.ServerSideEncryptionAwsKms}))
	if err := put(rootS3, &s3.PutObjectInput{Bucket: aws.String("data"), Key: aws.String("enc"), ServerSideEncryption: s3types.ServerSideEncryptionAes256}); err != nil {
		t.Errorf("PutObject with AES256: %v", err)
	}

	// Tags: another account may read only objects tagged security=public,
	// and write only objects it tags so.
	policy(`{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Principal":{"AWS":"222222222222"},"Action":["s3:GetObject","s3:GetObjectTagging"],"Resource":"arn:aws:s3:::data/*","Condition":{"StringEquals":{"s3:ExistingObjectTag/security":"public"}}},
		{"Effect":"Allow","Principal":{"AWS":"222222222222"},"Action":"s3:PutObject","Resource":"arn:aws:s3:::data/*","Condition":{"StringEquals":{"s3:RequestObjectTag/security":"public"}}}]}`)
	for key, tagging := range map[string]string{"pub": "security=public&team=a", "priv": "security=private", "none": ""} {
		in := &s3.PutObjectInput{Bucket: aws.String("data"), Key: aws.String(key)}
		if tagging != "" {
			in.Tagging = aws.String(tagging)
		}
		if err := put(rootS3, in); err != nil {
			t.Fatal(err)
		}
	}
	got, err := otherS3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("data"), Key: aws.String("pub")})
	if err != nil {
		t.Fatalf("GetObject of an object tagged security=public: %v", err)
	}
	body, _ := io.ReadAll(got.Body)
	got.Body.Close()
	if string(body) != "body of pub" {
		t.Errorf("body %q", body)
	}
	if _, err := otherS3.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: aws.String("data"), Key: aws.String("pub")}); err != nil {
		t.Errorf("GetObjectTagging of an object tagged security=public: %v", err)
	}
	for _, key := range []string{"priv", "none"} {
		_, err := otherS3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("data"), Key: aws.String(key)})
		denied("GetObject of "+key, err)
	}
	// Retagging the object changes the answer.
	if _, err := rootS3.PutObjectTagging(ctx, &s3.PutObjectTaggingInput{Bucket: aws.String("data"), Key: aws.String("pub"),
		Tagging: &s3types.Tagging{TagSet: []s3types.Tag{{Key: aws.String("security"), Value: aws.String("private")}}}}); err != nil {
		t.Fatal(err)
	}
	_, err = otherS3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("data"), Key: aws.String("pub")})
	denied("GetObject after the object was retagged private", err)
	denied("PutObject without tags", put(otherS3, &s3.PutObjectInput{Bucket: aws.String("data"), Key: aws.String("up1")}))
	denied("PutObject tagged private", put(otherS3, &s3.PutObjectInput{Bucket: aws.String("data"), Key: aws.String("up2"), Tagging: aws.String("security=private")}))
	if err := put(otherS3, &s3.PutObjectInput{Bucket: aws.String("data"), Key: aws.String("up3"), Tagging: aws.String("security=public")}); err != nil {
		t.Errorf("PutObject tagged security=public: %v", err)
	}

	// A copy: only from the source prefix the policy names, and only with
	// the metadata directive it names.
	if _, err := rootS3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("dst")}); err != nil {
		t.Fatal(err)
	}
	if err := put(rootS3, &s3.PutObjectInput{Bucket: aws.String("data"), Key: aws.String("public/a"), Tagging: aws.String("security=public")}); err != nil {
		t.Fatal(err)
	}
	if err := put(rootS3, &s3.PutObjectInput{Bucket: aws.String("data"), Key: aws.String("private/a"), Tagging: aws.String("security=public")}); err != nil {
		t.Fatal(err)
	}
	if _, err := rootS3.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String("dst"), Policy: aws.String(`{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Principal":{"AWS":"222222222222"},"Action":"s3:PutObject","Resource":"arn:aws:s3:::dst/*",
		 "Condition":{"StringLike":{"s3:x-amz-copy-source":"data/public/*"},"StringEquals":{"s3:x-amz-metadata-directive":"COPY"}}}]}`)}); err != nil {
		t.Fatal(err)
	}
	copyObj := func(src, dst string, directive s3types.MetadataDirective) error {
		_, err := otherS3.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("dst"), Key: aws.String(dst), CopySource: aws.String(src), MetadataDirective: directive})
		return err
	}
	if err := copyObj("data/public/a", "c1", s3types.MetadataDirectiveCopy); err != nil {
		t.Errorf("CopyObject from data/public/ with COPY: %v", err)
	}
	denied("CopyObject from data/private/", copyObj("data/private/a", "c2", s3types.MetadataDirectiveCopy))
	denied("CopyObject without x-amz-metadata-directive", copyObj("data/public/a", "c3", ""))
	denied("CopyObject with REPLACE", copyObj("data/public/a", "c4", s3types.MetadataDirectiveReplace))
}

// CreateBucket of a name another account owns is BucketAlreadyExists under
// --iam enforce, as on AWS: the existing bucket's policy is not the new
// request's to pass.
func TestIAMEnforceCreateBucketOfAnotherAccountsNameIsBucketAlreadyExists(t *testing.T) {
	w := newIAMWorld(t, "enforce")
	_, err := s3Client(w.other()).CreateBucket(callTimeout(t), &s3.CreateBucketInput{Bucket: aws.String("data")})
	var exists *s3types.BucketAlreadyExists
	if !errors.As(err, &exists) {
		t.Fatalf("CreateBucket of another account's bucket name: %v, want BucketAlreadyExists", err)
	}
}
