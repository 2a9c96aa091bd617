package s3_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

func TestBucketLifecycleAndErrors(t *testing.T) {
	e := newEnv(t)
	c := e.client
	e.bucket(t, "alpha")
	e.bucket(t, "beta")

	// Re-creating an owned bucket in us-east-1 is a legacy 200 (CreateBucket docs).
	if _, err := c.CreateBucket(ctx(), &awss3.CreateBucketInput{Bucket: aws.String("alpha")}); err != nil {
		t.Errorf("re-create in us-east-1: %v", err)
	}
	if _, err := c.HeadBucket(ctx(), &awss3.HeadBucketInput{Bucket: aws.String("alpha")}); err != nil {
		t.Errorf("HeadBucket: %v", err)
	}
	_, err := c.HeadBucket(ctx(), &awss3.HeadBucketInput{Bucket: aws.String("missing")})
	if httpStatus(err) != 404 {
		t.Errorf("HeadBucket missing = %v, want 404", err)
	}
	lb, err := c.ListBuckets(ctx(), &awss3.ListBucketsInput{})
	if err != nil || len(lb.Buckets) != 2 || aws.ToString(lb.Buckets[0].Name) != "alpha" || lb.Owner == nil {
		t.Fatalf("ListBuckets = %+v, %v", lb, err)
	}
	page, err := c.ListBuckets(ctx(), &awss3.ListBucketsInput{MaxBuckets: aws.Int32(1)})
	if err != nil || len(page.Buckets) != 1 || page.ContinuationToken == nil {
		t.Fatalf("ListBuckets page 1 = %+v, %v", page, err)
	}
	page, err = c.ListBuckets(ctx(), &awss3.ListBucketsInput{MaxBuckets: aws.Int32(1), ContinuationToken: page.ContinuationToken})
	if err != nil || len(page.Buckets) != 1 || aws.ToString(page.Buckets[0].Name) != "beta" || page.ContinuationToken != nil {
		t.Fatalf("ListBuckets page 2 = %+v, %v", page, err)
	}
	loc, err := c.GetBucketLocation(ctx(), &awss3.GetBucketLocationInput{Bucket: aws.String("alpha")})
	if err != nil || loc.LocationConstraint != "" {
		t.Errorf("GetBucketLocation = %+v, %v", loc, err)
	}

	if _, err := c.PutObject(ctx(), &awss3.PutObjectInput{Bucket: aws.String("alpha"), Key: aws.String("k")}); err != nil {
		t.Fatal(err)
	}
	_, err = c.DeleteBucket(ctx(), &awss3.DeleteBucketInput{Bucket: aws.String("alpha")})
	if errCode(err) != "BucketNotEmpty" || httpStatus(err) != 409 {
		t.Errorf("DeleteBucket non-empty = %v", err)
	}
	if _, err := c.DeleteObject(ctx(), &awss3.DeleteObjectInput{Bucket: aws.String("alpha"), Key: aws.String("k")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteBucket(ctx(), &awss3.DeleteBucketInput{Bucket: aws.String("alpha")}); err != nil {
		t.Errorf("DeleteBucket empty: %v", err)
	}
	_, err = c.DeleteBucket(ctx(), &awss3.DeleteBucketInput{Bucket: aws.String("alpha")})
	if errCode(err) != "NoSuchBucket" {
		t.Errorf("DeleteBucket twice = %v", err)
	}
	_, err = c.PutObject(ctx(), &awss3.PutObjectInput{Bucket: aws.String("alpha"), Key: aws.String("k")})
	if errCode(err) != "NoSuchBucket" {
		t.Errorf("PutObject into missing bucket = %v", err)
	}
}

func TestCreateBucketValidatesNamesAndLocation(t *testing.T) {
	e := newEnv(t)
	for _, name := range []string{"ab", "UPPER", "under_score", "-lead", "trail-", "a..b", "192.168.1.1", "xn--abc", "name-s3alias"} {
		_, err := e.client.CreateBucket(ctx(), &awss3.CreateBucketInput{Bucket: aws.String(name)})
		if errCode(err) != "InvalidBucketName" {
			t.Errorf("CreateBucket %q = %v, want InvalidBucketName", name, err)
		}
	}
	_, err := e.client.CreateBucket(ctx(), &awss3.CreateBucketInput{Bucket: aws.String("loc-east"),
		CreateBucketConfiguration: &types.CreateBucketConfiguration{LocationConstraint: "us-east-1"}})
	if errCode(err) != "InvalidLocationConstraint" {
		t.Errorf("us-east-1 constraint in us-east-1 = %v", err)
	}
	west := newClient(e.addr, func(o *awss3.Options) { o.Region = "eu-west-2" })
	_, err = west.CreateBucket(ctx(), &awss3.CreateBucketInput{Bucket: aws.String("loc-west")})
	if errCode(err) != "IllegalLocationConstraintException" {
		t.Errorf("no constraint in eu-west-2 = %v", err)
	}
	if _, err := west.CreateBucket(ctx(), &awss3.CreateBucketInput{Bucket: aws.String("loc-west"),
		CreateBucketConfiguration: &types.CreateBucketConfiguration{LocationConstraint: "eu-west-2"}}); err != nil {
		t.Fatalf("CreateBucket eu-west-2: %v", err)
	}
	loc, err := west.GetBucketLocation(ctx(), &awss3.GetBucketLocationInput{Bucket: aws.String("loc-west")})
	if err != nil || loc.LocationConstraint != "eu-west-2" {
		t.Errorf("GetBucketLocation = %+v, %v", loc, err)
	}
	_, err = west.CreateBucket(ctx(), &awss3.CreateBucketInput{Bucket: aws.String("loc-west"),
		CreateBucketConfiguration: &types.CreateBucketConfiguration{LocationConstraint: "eu-west-2"}})
	if errCode(err) != "BucketAlreadyOwnedByYou" {
		t.Errorf("re-create outside us-east-1 = %v", err)
	}
	other := newClient(e.addr, func(o *awss3.Options) {
		o.Credentials = aws.NewCredentialsCache(staticCreds("111122223333"))
	})
	_, err = other.CreateBucket(ctx(), &awss3.CreateBucketInput{Bucket: aws.String("loc-west")})
	if errCode(err) != "BucketAlreadyExists" {
		t.Errorf("another account's bucket name = %v", err)
	}
}

func TestBucketConfigurationsAreStored(t *testing.T) {
	e := newEnv(t)
	c := e.client
	b := e.bucket(t, "configs")

	_, err := c.GetBucketTagging(ctx(), &awss3.GetBucketTaggingInput{Bucket: aws.String(b)})
	if errCode(err) != "NoSuchTagSet" {
		t.Errorf("GetBucketTagging before = %v", err)
	}
	if _, err := c.PutBucketTagging(ctx(), &awss3.PutBucketTaggingInput{Bucket: aws.String(b),
		Tagging: &types.Tagging{TagSet: []types.Tag{{Key: aws.String("team"), Value: aws.String("data")}}}}); err != nil {
		t.Fatal(err)
	}
	tg, err := c.GetBucketTagging(ctx(), &awss3.GetBucketTaggingInput{Bucket: aws.String(b)})
	if err != nil || len(tg.TagSet) != 1 || aws.ToString(tg.TagSet[0].Value) != "data" {
		t.Errorf("GetBucketTagging = %+v, %v", tg, err)
	}

	policy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"111111111111"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::configs/*"}]}`
	if _, err := c.PutBucketPolicy(ctx(), &awss3.PutBucketPolicyInput{Bucket: aws.String(b), Policy: aws.String(policy)}); err != nil {
		t.Fatal(err)
	}
	gp, err := c.GetBucketPolicy(ctx(), &awss3.GetBucketPolicyInput{Bucket: aws.String(b)})
	if err != nil || aws.ToString(gp.Policy) != policy {
		t.Errorf("GetBucketPolicy = %v, %v", aws.ToString(gp.Policy), err)
	}
	_, err = c.PutBucketPolicy(ctx(), &awss3.PutBucketPolicyInput{Bucket: aws.String(b), Policy: aws.String("not json")})
	if errCode(err) != "MalformedPolicy" {
		t.Errorf("bad policy = %v", err)
	}

	if _, err := c.PutBucketCors(ctx(), &awss3.PutBucketCorsInput{Bucket: aws.String(b), CORSConfiguration: &types.CORSConfiguration{
		CORSRules: []types.CORSRule{{AllowedMethods: []string{"GET", "PUT"}, AllowedOrigins: []string{"*"}, MaxAgeSeconds: aws.Int32(300)}}}}); err != nil {
		t.Fatal(err)
	}
	cors, err := c.GetBucketCors(ctx(), &awss3.GetBucketCorsInput{Bucket: aws.String(b)})
	if err != nil || len(cors.CORSRules) != 1 || len(cors.CORSRules[0].AllowedMethods) != 2 {
		t.Errorf("GetBucketCors = %+v, %v", cors, err)
	}
	if _, err := c.PutBucketLifecycleConfiguration(ctx(), &awss3.PutBucketLifecycleConfigurationInput{Bucket: aws.String(b),
		LifecycleConfiguration: &types.BucketLifecycleConfiguration{Rules: []types.LifecycleRule{{
			ID: aws.String("expire"), Status: types.ExpirationStatusEnabled, Filter: &types.LifecycleRuleFilter{Prefix: aws.String("tmp/")},
			Expiration: &types.LifecycleExpiration{Days: aws.Int32(7)}}}}}); err != nil {
		t.Fatal(err)
	}
	lc, err := c.GetBucketLifecycleConfiguration(ctx(), &awss3.GetBucketLifecycleConfigurationInput{Bucket: aws.String(b)})
	if err != nil || len(lc.Rules) != 1 || aws.ToInt32(lc.Rules[0].Expiration.Days) != 7 {
		t.Errorf("GetBucketLifecycleConfiguration = %+v, %v", lc, err)
	}
	if _, err := c.DeleteBucketCors(ctx(), &awss3.DeleteBucketCorsInput{Bucket: aws.String(b)}); err != nil {
		t.Fatal(err)
	}
	_, err = c.GetBucketCors(ctx(), &awss3.GetBucketCorsInput{Bucket: aws.String(b)})
	if errCode(err) != "NoSuchCORSConfiguration" {
		t.Errorf("GetBucketCors after delete = %v", err)
	}
}
