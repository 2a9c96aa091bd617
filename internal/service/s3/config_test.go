package s3_test

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// A bucket made today has Block Public Access on, ACLs disabled
// (BucketOwnerEnforced) and SSE-S3 default encryption; each setting can be
// put, read back exactly and deleted, as Terraform's bucket resources do.
func TestBucketSettingsAnswerAsForANewS3Bucket(t *testing.T) {
	e := newEnv(t)
	c := e.client
	b := aws.String(e.bucket(t, "settings"))

	pab, err := c.GetPublicAccessBlock(ctx(), &awss3.GetPublicAccessBlockInput{Bucket: b})
	if err != nil || !aws.ToBool(pab.PublicAccessBlockConfiguration.BlockPublicAcls) || !aws.ToBool(pab.PublicAccessBlockConfiguration.RestrictPublicBuckets) {
		t.Fatalf("GetPublicAccessBlock of a new bucket = %+v, %v", pab, err)
	}
	if _, err := c.PutPublicAccessBlock(ctx(), &awss3.PutPublicAccessBlockInput{Bucket: b,
		PublicAccessBlockConfiguration: &types.PublicAccessBlockConfiguration{BlockPublicAcls: aws.Bool(true)}}); err != nil {
		t.Fatal(err)
	}
	pab, err = c.GetPublicAccessBlock(ctx(), &awss3.GetPublicAccessBlockInput{Bucket: b})
	if err != nil || !aws.ToBool(pab.PublicAccessBlockConfiguration.BlockPublicAcls) || aws.ToBool(pab.PublicAccessBlockConfiguration.BlockPublicPolicy) {
		t.Fatalf("GetPublicAccessBlock after put = %+v, %v", pab.PublicAccessBlockConfiguration, err)
	}
	if _, err := c.DeletePublicAccessBlock(ctx(), &awss3.DeletePublicAccessBlockInput{Bucket: b}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetPublicAccessBlock(ctx(), &awss3.GetPublicAccessBlockInput{Bucket: b}); errCode(err) != "NoSuchPublicAccessBlockConfiguration" || httpStatus(err) != 404 {
		t.Errorf("GetPublicAccessBlock after delete = %v", err)
	}

	enc, err := c.GetBucketEncryption(ctx(), &awss3.GetBucketEncryptionInput{Bucket: b})
	if err != nil || enc.ServerSideEncryptionConfiguration.Rules[0].ApplyServerSideEncryptionByDefault.SSEAlgorithm != types.ServerSideEncryptionAes256 {
		t.Fatalf("GetBucketEncryption default = %+v, %v", enc, err)
	}
	kms := &types.ServerSideEncryptionConfiguration{Rules: []types.ServerSideEncryptionRule{{
		ApplyServerSideEncryptionByDefault: &types.ServerSideEncryptionByDefault{SSEAlgorithm: types.ServerSideEncryptionAwsKms, KMSMasterKeyID: aws.String("alias/app")},
		BucketKeyEnabled:                   aws.Bool(true)}}}
	if _, err := c.PutBucketEncryption(ctx(), &awss3.PutBucketEncryptionInput{Bucket: b, ServerSideEncryptionConfiguration: kms}); err != nil {
		t.Fatal(err)
	}
	enc, err = c.GetBucketEncryption(ctx(), &awss3.GetBucketEncryptionInput{Bucket: b})
	if err != nil || aws.ToString(enc.ServerSideEncryptionConfiguration.Rules[0].ApplyServerSideEncryptionByDefault.KMSMasterKeyID) != "alias/app" ||
		!aws.ToBool(enc.ServerSideEncryptionConfiguration.Rules[0].BucketKeyEnabled) {
		t.Fatalf("GetBucketEncryption after put = %+v, %v", enc, err)
	}
	bad := &types.ServerSideEncryptionConfiguration{Rules: []types.ServerSideEncryptionRule{{
		ApplyServerSideEncryptionByDefault: &types.ServerSideEncryptionByDefault{SSEAlgorithm: types.ServerSideEncryptionAes256, KMSMasterKeyID: aws.String("k")}}}}
	if _, err := c.PutBucketEncryption(ctx(), &awss3.PutBucketEncryptionInput{Bucket: b, ServerSideEncryptionConfiguration: bad}); errCode(err) != "InvalidArgument" {
		t.Errorf("AES256 with a KMS key = %v, want InvalidArgument", err)
	}
	if _, err := c.DeleteBucketEncryption(ctx(), &awss3.DeleteBucketEncryptionInput{Bucket: b}); err != nil {
		t.Fatal(err)
	}
	enc, err = c.GetBucketEncryption(ctx(), &awss3.GetBucketEncryptionInput{Bucket: b})
	if err != nil || enc.ServerSideEncryptionConfiguration.Rules[0].ApplyServerSideEncryptionByDefault.SSEAlgorithm != types.ServerSideEncryptionAes256 {
		t.Fatalf("GetBucketEncryption after delete = %+v, %v (want SSE-S3 again)", enc, err)
	}

	own, err := c.GetBucketOwnershipControls(ctx(), &awss3.GetBucketOwnershipControlsInput{Bucket: b})
	if err != nil || own.OwnershipControls.Rules[0].ObjectOwnership != types.ObjectOwnershipBucketOwnerEnforced {
		t.Fatalf("GetBucketOwnershipControls default = %+v, %v", own, err)
	}
	if _, err := c.PutBucketOwnershipControls(ctx(), &awss3.PutBucketOwnershipControlsInput{Bucket: b, OwnershipControls: &types.OwnershipControls{
		Rules: []types.OwnershipControlsRule{{ObjectOwnership: types.ObjectOwnershipBucketOwnerPreferred}}}}); err != nil {
		t.Fatal(err)
	}
	own, err = c.GetBucketOwnershipControls(ctx(), &awss3.GetBucketOwnershipControlsInput{Bucket: b})
	if err != nil || own.OwnershipControls.Rules[0].ObjectOwnership != types.ObjectOwnershipBucketOwnerPreferred {
		t.Fatalf("GetBucketOwnershipControls after put = %+v, %v", own, err)
	}
	if _, err := c.DeleteBucketOwnershipControls(ctx(), &awss3.DeleteBucketOwnershipControlsInput{Bucket: b}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetBucketOwnershipControls(ctx(), &awss3.GetBucketOwnershipControlsInput{Bucket: b}); errCode(err) != "OwnershipControlsNotFoundError" {
		t.Errorf("GetBucketOwnershipControls after delete = %v", err)
	}
	if _, err := c.CreateBucket(ctx(), &awss3.CreateBucketInput{Bucket: aws.String("writer"), ObjectOwnership: types.ObjectOwnershipObjectWriter}); err != nil {
		t.Fatal(err)
	}
	own, err = c.GetBucketOwnershipControls(ctx(), &awss3.GetBucketOwnershipControlsInput{Bucket: aws.String("writer")})
	if err != nil || own.OwnershipControls.Rules[0].ObjectOwnership != types.ObjectOwnershipObjectWriter {
		t.Errorf("ownership of a bucket created with ObjectWriter = %+v, %v", own, err)
	}
}

// The reads of features a bucket never had answer as S3 answers them.
func TestBucketReadsOfFeaturesNeverConfigured(t *testing.T) {
	e := newEnv(t)
	c := e.client
	b := aws.String(e.bucket(t, "plain"))

	acl, err := c.GetBucketAcl(ctx(), &awss3.GetBucketAclInput{Bucket: b})
	if err != nil || len(acl.Grants) != 1 || acl.Grants[0].Permission != types.PermissionFullControl ||
		aws.ToString(acl.Grants[0].Grantee.ID) != aws.ToString(acl.Owner.ID) || acl.Grants[0].Grantee.Type != types.TypeCanonicalUser {
		t.Errorf("GetBucketAcl = %+v, %v", acl, err)
	}
	if _, err := c.PutBucketAcl(ctx(), &awss3.PutBucketAclInput{Bucket: b, ACL: types.BucketCannedACLPublicRead}); errCode(err) != "AccessControlListNotSupported" {
		t.Errorf("PutBucketAcl public-read = %v, want AccessControlListNotSupported", err)
	}
	acc, err := c.GetBucketAccelerateConfiguration(ctx(), &awss3.GetBucketAccelerateConfigurationInput{Bucket: b})
	if err != nil || acc.Status != "" {
		t.Errorf("GetBucketAccelerateConfiguration = %+v, %v", acc, err)
	}
	lg, err := c.GetBucketLogging(ctx(), &awss3.GetBucketLoggingInput{Bucket: b})
	if err != nil || lg.LoggingEnabled != nil {
		t.Errorf("GetBucketLogging = %+v, %v", lg, err)
	}
	rp, err := c.GetBucketRequestPayment(ctx(), &awss3.GetBucketRequestPaymentInput{Bucket: b})
	if err != nil || rp.Payer != types.PayerBucketOwner {
		t.Errorf("GetBucketRequestPayment = %+v, %v", rp, err)
	}
	for name, call := range map[string]func() error{
		"NoSuchWebsiteConfiguration": func() error {
			_, err := c.GetBucketWebsite(ctx(), &awss3.GetBucketWebsiteInput{Bucket: b})
			return err
		},
		"ReplicationConfigurationNotFoundError": func() error {
			_, err := c.GetBucketReplication(ctx(), &awss3.GetBucketReplicationInput{Bucket: b})
			return err
		},
		"ObjectLockConfigurationNotFoundError": func() error {
			_, err := c.GetObjectLockConfiguration(ctx(), &awss3.GetObjectLockConfigurationInput{Bucket: b})
			return err
		},
	} {
		if err := call(); errCode(err) != name || httpStatus(err) != 404 {
			t.Errorf("want %s (404), got %v", name, err)
		}
	}
	if _, err := c.GetBucketAcl(ctx(), &awss3.GetBucketAclInput{Bucket: aws.String("missing")}); errCode(err) != "NoSuchBucket" {
		t.Errorf("GetBucketAcl of a missing bucket = %v", err)
	}

	if _, err := c.PutBucketLifecycleConfiguration(ctx(), &awss3.PutBucketLifecycleConfigurationInput{Bucket: b,
		LifecycleConfiguration: &types.BucketLifecycleConfiguration{Rules: []types.LifecycleRule{{ID: aws.String("x"), Status: types.ExpirationStatusEnabled,
			Filter: &types.LifecycleRuleFilter{Prefix: aws.String("tmp/")}, Expiration: &types.LifecycleExpiration{Days: aws.Int32(1)}}}}}); err != nil {
		t.Fatal(err)
	}
	lc, err := c.GetBucketLifecycleConfiguration(ctx(), &awss3.GetBucketLifecycleConfigurationInput{Bucket: b})
	if err != nil || lc.TransitionDefaultMinimumObjectSize != types.TransitionDefaultMinimumObjectSizeAllStorageClasses128k {
		t.Errorf("GetBucketLifecycleConfiguration's x-amz-transition-default-minimum-object-size = %q, %v", lc.TransitionDefaultMinimumObjectSize, err)
	}
	if _, err := c.CreateBucket(ctx(), &awss3.CreateBucketInput{Bucket: aws.String("locked"), ObjectLockEnabledForBucket: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	ol, err := c.GetObjectLockConfiguration(ctx(), &awss3.GetObjectLockConfigurationInput{Bucket: aws.String("locked")})
	if err != nil || ol.ObjectLockConfiguration.ObjectLockEnabled != types.ObjectLockEnabledEnabled {
		t.Errorf("GetObjectLockConfiguration of a locked bucket = %+v, %v", ol, err)
	}
	v, err := c.GetBucketVersioning(ctx(), &awss3.GetBucketVersioningInput{Bucket: aws.String("locked")})
	if err != nil || v.Status != types.BucketVersioningStatusEnabled {
		t.Errorf("versioning of a locked bucket = %+v, %v", v, err)
	}
}

// A lifecycle date is a day: an expiration or transition at any time but
// midnight UTC is refused with InvalidArgument, as S3 refuses it.
func TestLifecycleDatesMustBeMidnightUTC(t *testing.T) {
	e := newEnv(t)
	b := aws.String(e.bucket(t, "lc-dates"))
	put := func(r types.LifecycleRule) error {
		r.ID, r.Status, r.Filter = aws.String("r"), types.ExpirationStatusEnabled, &types.LifecycleRuleFilter{Prefix: aws.String("p/")}
		_, err := e.client.PutBucketLifecycleConfiguration(ctx(), &awss3.PutBucketLifecycleConfigurationInput{Bucket: b,
			LifecycleConfiguration: &types.BucketLifecycleConfiguration{Rules: []types.LifecycleRule{r}}})
		return err
	}
	midnight := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	noon := midnight.Add(12 * time.Hour)
	if err := put(types.LifecycleRule{Expiration: &types.LifecycleExpiration{Date: &noon}}); errCode(err) != "InvalidArgument" || httpStatus(err) != 400 {
		t.Errorf("expiration at noon: %v, want 400 InvalidArgument", err)
	}
	if err := put(types.LifecycleRule{Transitions: []types.Transition{{Date: &noon, StorageClass: types.TransitionStorageClassGlacier}}}); errCode(err) != "InvalidArgument" {
		t.Errorf("transition at noon: %v, want InvalidArgument", err)
	}
	if err := put(types.LifecycleRule{Expiration: &types.LifecycleExpiration{Date: &midnight},
		Transitions: []types.Transition{{Date: &midnight, StorageClass: types.TransitionStorageClassGlacier}}}); err != nil {
		t.Fatalf("dates at midnight UTC: %v", err)
	}
	got, err := e.client.GetBucketLifecycleConfiguration(ctx(), &awss3.GetBucketLifecycleConfigurationInput{Bucket: b})
	if err != nil || len(got.Rules) != 1 || got.Rules[0].Expiration == nil || !aws.ToTime(got.Rules[0].Expiration.Date).Equal(midnight) {
		t.Errorf("GetBucketLifecycleConfiguration = %+v, %v", got, err)
	}
}
