package s3_test

import (
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// GetBucketPolicyStatus calls a bucket public when its policy allows every
// principal without a condition on a fixed-value key ("The meaning of
// 'public'" in the S3 user guide); a bucket without a policy has no status
// (NoSuchBucketPolicy), whatever its ACL grants.
func TestGetBucketPolicyStatus(t *testing.T) {
	e := newEnv(t)
	c := e.client
	b := aws.String(e.bucket(t, "status"))
	isPublic := func() bool {
		t.Helper()
		out, err := c.GetBucketPolicyStatus(ctx(), &awss3.GetBucketPolicyStatusInput{Bucket: b})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToBool(out.PolicyStatus.IsPublic)
	}
	_, err := c.GetBucketPolicyStatus(ctx(), &awss3.GetBucketPolicyStatusInput{Bucket: b})
	wantErr(t, "a bucket without a policy", err, "NoSuchBucketPolicy", 404)
	// Block Public Access, on for a new bucket, would refuse the public
	// policies and ACLs.
	if _, err := c.DeletePublicAccessBlock(ctx(), &awss3.DeletePublicAccessBlockInput{Bucket: b}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutBucketOwnershipControls(ctx(), &awss3.PutBucketOwnershipControlsInput{Bucket: b,
		OwnershipControls: &types.OwnershipControls{Rules: []types.OwnershipControlsRule{{ObjectOwnership: types.ObjectOwnershipObjectWriter}}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutBucketAcl(ctx(), &awss3.PutBucketAclInput{Bucket: b, ACL: types.BucketCannedACLPublicRead}); err != nil {
		t.Fatal(err)
	}
	_, err = c.GetBucketPolicyStatus(ctx(), &awss3.GetBucketPolicyStatusInput{Bucket: b})
	wantErr(t, "a public-read bucket without a policy", err, "NoSuchBucketPolicy", 404)
	stmt := `{"Effect":"%s","Principal":%s,"Action":"s3:GetObject","Resource":"arn:aws:s3:::status/*"%s}`
	for _, tc := range []struct {
		what, effect, principal, condition string
		public                             bool
	}{
		{"Principal *", "Allow", `"*"`, "", true},
		{"AWS *", "Allow", `{"AWS":"*"}`, "", true},
		{"AWS * with a condition on another key", "Allow", `{"AWS":"*"}`, `,"Condition":{"StringEquals":{"s3:prefix":"a/"}}`, true},
		{"AWS * from one address", "Allow", `{"AWS":"*"}`, `,"Condition":{"IpAddress":{"aws:SourceIp":"192.0.2.1/32"}}`, false},
		{"AWS * from any address", "Allow", `{"AWS":"*"}`, `,"Condition":{"IpAddress":{"aws:SourceIp":"0.0.0.0/0"}}`, true},
		{"AWS * from one account", "Allow", `{"AWS":"*"}`, `,"Condition":{"StringEquals":{"aws:SourceAccount":"111111111111"}}`, false},
		{"one account", "Allow", `{"AWS":"arn:aws:iam::111111111111:root"}`, "", false},
		{"a Deny to everyone", "Deny", `"*"`, "", false},
	} {
		doc := `{"Version":"2012-10-17","Statement":[` + fmt.Sprintf(stmt, tc.effect, tc.principal, tc.condition) + `]}`
		if _, err := c.PutBucketPolicy(ctx(), &awss3.PutBucketPolicyInput{Bucket: b, Policy: aws.String(doc)}); err != nil {
			t.Fatalf("%s: %v", tc.what, err)
		}
		if got := isPublic(); got != tc.public {
			t.Errorf("%s: IsPublic = %v, want %v", tc.what, got, tc.public)
		}
	}
	_, err = c.GetBucketPolicyStatus(ctx(), &awss3.GetBucketPolicyStatusInput{Bucket: aws.String("no-such-bucket")})
	wantErr(t, "a missing bucket", err, "NoSuchBucket", 404)
}
