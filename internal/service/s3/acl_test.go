package s3_test

import (
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// grantList renders grants as "TYPE:who:PERMISSION", sorted, for comparison.
func grantList(gs []types.Grant) string {
	var out []string
	for _, g := range gs {
		who := aws.ToString(g.Grantee.ID)
		if g.Grantee.URI != nil {
			who = aws.ToString(g.Grantee.URI)
		}
		out = append(out, string(g.Grantee.Type)+":"+who+":"+string(g.Permission))
	}
	sort.Strings(out)
	return strings.Join(out, " ")
}

func TestNewBucketsHaveACLsDisabledAsS3Does(t *testing.T) {
	e := newEnv(t)
	b := e.bucket(t, "acl-off")
	own, err := e.client.GetBucketOwnershipControls(ctx(), &awss3.GetBucketOwnershipControlsInput{Bucket: &b})
	if err != nil || own.OwnershipControls.Rules[0].ObjectOwnership != types.ObjectOwnershipBucketOwnerEnforced {
		t.Fatalf("ownership %+v %v", own, err)
	}
	acl, err := e.client.GetBucketAcl(ctx(), &awss3.GetBucketAclInput{Bucket: &b})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(acl.Owner.ID)
	if len(id) != 64 || grantList(acl.Grants) != "CanonicalUser:"+id+":FULL_CONTROL" {
		t.Fatalf("owner %q grants %s", id, grantList(acl.Grants))
	}
	// Only bucket-owner-full-control is accepted; any other ACL is refused
	// with AccessControlListNotSupported, on the bucket even "private" (the
	// error Terraform's aws_s3_bucket_acl gets from S3 for a new bucket).
	if _, err := e.client.PutBucketAcl(ctx(), &awss3.PutBucketAclInput{Bucket: &b, ACL: types.BucketCannedACLPrivate}); errCode(err) != "AccessControlListNotSupported" {
		t.Fatalf("PutBucketAcl private: %v, want AccessControlListNotSupported", err)
	}
	if _, err := e.client.PutBucketAcl(ctx(), &awss3.PutBucketAclInput{Bucket: &b, GrantFullControl: aws.String("id=" + id)}); err != nil {
		t.Fatalf("PutBucketAcl granting the owner full control: %v", err)
	}
	if _, err := e.client.PutObject(ctx(), &awss3.PutObjectInput{Bucket: &b, Key: aws.String("k"), Body: strings.NewReader("x"),
		ACL: types.ObjectCannedACLBucketOwnerFullControl}); err != nil {
		t.Fatalf("bucket-owner-full-control: %v", err)
	}
	_, err = e.client.PutBucketAcl(ctx(), &awss3.PutBucketAclInput{Bucket: &b, ACL: types.BucketCannedACLPublicRead})
	wantErr(t, "PutBucketAcl public-read", err, "AccessControlListNotSupported", 400)
	_, err = e.client.PutObject(ctx(), &awss3.PutObjectInput{Bucket: &b, Key: aws.String("k"), Body: strings.NewReader("x"),
		GrantRead: aws.String(`uri="http://acs.amazonaws.com/groups/global/AuthenticatedUsers"`)})
	wantErr(t, "PutObject with a grant", err, "AccessControlListNotSupported", 400)
	_, err = e.client.PutObjectAcl(ctx(), &awss3.PutObjectAclInput{Bucket: &b, Key: aws.String("k"), ACL: types.ObjectCannedACLPublicRead})
	wantErr(t, "PutObjectAcl public-read", err, "AccessControlListNotSupported", 400)
	// An object PUT takes no ACL but the bucket owner's full control, not
	// even "private" (PutObject docs).
	_, err = e.client.PutObject(ctx(), &awss3.PutObjectInput{Bucket: &b, Key: aws.String("k"), Body: strings.NewReader("x"), ACL: types.ObjectCannedACLPrivate})
	wantErr(t, "PutObject private", err, "AccessControlListNotSupported", 400)
	_, err = e.client.CreateBucket(ctx(), &awss3.CreateBucketInput{Bucket: aws.String("acl-off-2"), ACL: types.BucketCannedACLPublicRead})
	wantErr(t, "CreateBucket public-read", err, "InvalidBucketAclWithObjectOwnership", 400)
	oacl, err := e.client.GetObjectAcl(ctx(), &awss3.GetObjectAclInput{Bucket: &b, Key: aws.String("k")})
	if err != nil || grantList(oacl.Grants) != "CanonicalUser:"+id+":FULL_CONTROL" {
		t.Fatalf("object acl %v %v", oacl, err)
	}
}

func TestACLsKeptWhereOwnershipAllowsThem(t *testing.T) {
	e := newEnv(t)
	b := "acl-on"
	if _, err := e.client.CreateBucket(ctx(), &awss3.CreateBucketInput{Bucket: &b, ObjectOwnership: types.ObjectOwnershipObjectWriter}); err != nil {
		t.Fatal(err)
	}
	acl, err := e.client.GetBucketAcl(ctx(), &awss3.GetBucketAclInput{Bucket: &b})
	if err != nil {
		t.Fatal(err)
	}
	me := aws.ToString(acl.Owner.ID)
	// Block Public Access is on for a new bucket: public ACLs are refused,
	// other grants kept.
	_, err = e.client.PutBucketAcl(ctx(), &awss3.PutBucketAclInput{Bucket: &b, ACL: types.BucketCannedACLPublicRead})
	wantErr(t, "public-read under Block Public Access", err, "AccessDenied", 403)
	other := otherCanonicalID(t, e, "111111111111")
	if _, err := e.client.PutBucketAcl(ctx(), &awss3.PutBucketAclInput{Bucket: &b,
		GrantRead: aws.String(`id="` + other + `"`), GrantFullControl: aws.String("id=" + me)}); err != nil {
		t.Fatal(err)
	}
	acl, _ = e.client.GetBucketAcl(ctx(), &awss3.GetBucketAclInput{Bucket: &b})
	if got, want := grantList(acl.Grants), "CanonicalUser:"+me+":FULL_CONTROL CanonicalUser:"+other+":READ"; got != want {
		t.Fatalf("grants %s\nwant   %s", got, want)
	}
	// Without Block Public Access, canned public ACLs are kept.
	if _, err := e.client.DeletePublicAccessBlock(ctx(), &awss3.DeletePublicAccessBlockInput{Bucket: &b}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.PutObject(ctx(), &awss3.PutObjectInput{Bucket: &b, Key: aws.String("pub"), Body: strings.NewReader("x"),
		ACL: types.ObjectCannedACLPublicRead}); err != nil {
		t.Fatal(err)
	}
	oacl, err := e.client.GetObjectAcl(ctx(), &awss3.GetObjectAclInput{Bucket: &b, Key: aws.String("pub")})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := grantList(oacl.Grants), "CanonicalUser:"+me+":FULL_CONTROL Group:http://acs.amazonaws.com/groups/global/AllUsers:READ"; got != want {
		t.Fatalf("object grants %s\nwant           %s", got, want)
	}
	// The AccessControlPolicy body replaces the ACL.
	if _, err := e.client.PutObjectAcl(ctx(), &awss3.PutObjectAclInput{Bucket: &b, Key: aws.String("pub"),
		AccessControlPolicy: &types.AccessControlPolicy{Owner: oacl.Owner, Grants: []types.Grant{
			{Grantee: &types.Grantee{Type: types.TypeCanonicalUser, ID: aws.String(me)}, Permission: types.PermissionFullControl},
			{Grantee: &types.Grantee{Type: types.TypeGroup, URI: aws.String("http://acs.amazonaws.com/groups/global/AuthenticatedUsers")}, Permission: types.PermissionReadAcp},
		}}}); err != nil {
		t.Fatal(err)
	}
	oacl, _ = e.client.GetObjectAcl(ctx(), &awss3.GetObjectAclInput{Bucket: &b, Key: aws.String("pub")})
	if got, want := grantList(oacl.Grants), "CanonicalUser:"+me+":FULL_CONTROL Group:http://acs.amazonaws.com/groups/global/AuthenticatedUsers:READ_ACP"; got != want {
		t.Fatalf("object grants %s\nwant           %s", got, want)
	}
	// A copy gets the request's ACL, not its source's.
	if _, err := e.client.CopyObject(ctx(), &awss3.CopyObjectInput{Bucket: &b, Key: aws.String("copy"), CopySource: aws.String(b + "/pub")}); err != nil {
		t.Fatal(err)
	}
	oacl, _ = e.client.GetObjectAcl(ctx(), &awss3.GetObjectAclInput{Bucket: &b, Key: aws.String("copy")})
	if got := grantList(oacl.Grants); got != "CanonicalUser:"+me+":FULL_CONTROL" {
		t.Fatalf("copy grants %s", got)
	}
	// A multipart upload's ACL is its object's.
	up, err := e.client.CreateMultipartUpload(ctx(), &awss3.CreateMultipartUploadInput{Bucket: &b, Key: aws.String("mp"), ACL: types.ObjectCannedACLAuthenticatedRead})
	if err != nil {
		t.Fatal(err)
	}
	part, err := e.client.UploadPart(ctx(), &awss3.UploadPartInput{Bucket: &b, Key: aws.String("mp"), UploadId: up.UploadId, PartNumber: aws.Int32(1), Body: strings.NewReader("x")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.CompleteMultipartUpload(ctx(), &awss3.CompleteMultipartUploadInput{Bucket: &b, Key: aws.String("mp"), UploadId: up.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{{ETag: part.ETag, PartNumber: aws.Int32(1)}}}}); err != nil {
		t.Fatal(err)
	}
	oacl, _ = e.client.GetObjectAcl(ctx(), &awss3.GetObjectAclInput{Bucket: &b, Key: aws.String("mp")})
	if got := grantList(oacl.Grants); got != "CanonicalUser:"+me+":FULL_CONTROL Group:http://acs.amazonaws.com/groups/global/AuthenticatedUsers:READ" {
		t.Fatalf("multipart grants %s", got)
	}
	// An ACL may grant nothing at all: the owner keeps the right to change it.
	if _, err := e.client.PutObjectAcl(ctx(), &awss3.PutObjectAclInput{Bucket: &b, Key: aws.String("mp"),
		AccessControlPolicy: &types.AccessControlPolicy{Owner: oacl.Owner}}); err != nil {
		t.Fatal(err)
	}
	if oacl, _ = e.client.GetObjectAcl(ctx(), &awss3.GetObjectAclInput{Bucket: &b, Key: aws.String("mp")}); len(oacl.Grants) != 0 {
		t.Fatalf("revoked: %s", grantList(oacl.Grants))
	}
	// Ownership cannot become BucketOwnerEnforced while the bucket's ACL
	// grants others.
	_, err = e.client.PutBucketOwnershipControls(ctx(), &awss3.PutBucketOwnershipControlsInput{Bucket: &b,
		OwnershipControls: &types.OwnershipControls{Rules: []types.OwnershipControlsRule{{ObjectOwnership: types.ObjectOwnershipBucketOwnerEnforced}}}})
	wantErr(t, "enforce with grants", err, "InvalidBucketAclWithObjectOwnership", 400)
}

func TestACLRequestsCheckedAsS3ChecksThem(t *testing.T) {
	e := newEnv(t)
	b := "acl-bad"
	if _, err := e.client.CreateBucket(ctx(), &awss3.CreateBucketInput{Bucket: &b, ObjectOwnership: types.ObjectOwnershipBucketOwnerPreferred}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		what   string
		in     *awss3.PutBucketAclInput
		code   string
		status int
	}{
		{"made-up canonical id", &awss3.PutBucketAclInput{GrantRead: aws.String(`id="` + strings.Repeat("ab", 32) + `"`)}, "InvalidArgument", 400},
		{"unknown group", &awss3.PutBucketAclInput{GrantRead: aws.String(`uri="http://acs.amazonaws.com/groups/global/Nobody"`)}, "InvalidArgument", 400},
		{"email grantee, discontinued in 2025", &awss3.PutBucketAclInput{GrantRead: aws.String(`emailAddress="a@example.com"`)}, "MethodNotAllowed", 405},
		{"canned and grants", &awss3.PutBucketAclInput{ACL: types.BucketCannedACLPrivate, GrantRead: aws.String(`uri="http://acs.amazonaws.com/groups/s3/LogDelivery"`)}, "InvalidRequest", 400},
		{"nothing", &awss3.PutBucketAclInput{}, "MissingSecurityHeader", 400},
	} {
		c.in.Bucket = &b
		_, err := e.client.PutBucketAcl(ctx(), c.in)
		wantErr(t, c.what, err, c.code, c.status)
	}
}

func TestBlockPublicPolicyRefusesAPublicBucketPolicy(t *testing.T) {
	e := newEnv(t)
	b := e.bucket(t, "bpa-policy")
	public := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::bpa-policy/*"}]}`
	_, err := e.client.PutBucketPolicy(ctx(), &awss3.PutBucketPolicyInput{Bucket: &b, Policy: &public})
	wantErr(t, "public policy", err, "AccessDenied", 403)
	if !strings.Contains(err.Error(), "because public policies are blocked by the BlockPublicPolicy block public access setting") {
		t.Fatalf("message: %v", err)
	}
	// A policy naming an account is not public.
	private := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"111111111111"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::bpa-policy/*"}]}`
	if _, err := e.client.PutBucketPolicy(ctx(), &awss3.PutBucketPolicyInput{Bucket: &b, Policy: &private}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.PutPublicAccessBlock(ctx(), &awss3.PutPublicAccessBlockInput{Bucket: &b,
		PublicAccessBlockConfiguration: &types.PublicAccessBlockConfiguration{BlockPublicAcls: aws.Bool(true)}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.PutBucketPolicy(ctx(), &awss3.PutBucketPolicyInput{Bucket: &b, Policy: &public}); err != nil {
		t.Fatalf("with BlockPublicPolicy off: %v", err)
	}
}

// otherCanonicalID is the canonical user id S3 shows for account acct.
func otherCanonicalID(t *testing.T, e *env, acct string) string {
	t.Helper()
	c := newClient(e.addr, func(o *awss3.Options) { o.Credentials = staticCreds(acct) })
	out, err := c.ListBuckets(ctx(), &awss3.ListBucketsInput{})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.Owner.ID)
}

// S3 lists a canned ACL's grants with the owner's FULL_CONTROL first, then
// the group's (what AWS-recorded snapshots of GetBucketAcl and GetObjectAcl
// show; Ceph's s3-tests expect RGW's order, the group first).
func TestCannedACLGrantsListTheOwnerFirst(t *testing.T) {
	e := newEnv(t)
	b := "acl-order"
	if _, err := e.client.CreateBucket(ctx(), &awss3.CreateBucketInput{Bucket: &b, ObjectOwnership: types.ObjectOwnershipObjectWriter}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.DeletePublicAccessBlock(ctx(), &awss3.DeletePublicAccessBlockInput{Bucket: &b}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.PutBucketAcl(ctx(), &awss3.PutBucketAclInput{Bucket: &b, ACL: types.BucketCannedACLPublicReadWrite}); err != nil {
		t.Fatal(err)
	}
	acl, err := e.client.GetBucketAcl(ctx(), &awss3.GetBucketAclInput{Bucket: &b})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, g := range acl.Grants {
		got = append(got, string(g.Grantee.Type)+":"+string(g.Permission))
	}
	if want := "CanonicalUser:FULL_CONTROL Group:READ Group:WRITE"; strings.Join(got, " ") != want {
		t.Fatalf("grants in order %v, want %s", got, want)
	}
}

// Re-creating a bucket one owns in us-east-1 answers 200 and resets its
// ACL (CreateBucket docs, "For legacy compatibility").
func TestRecreatingOwnBucketInUSEast1ResetsItsACL(t *testing.T) {
	e := newEnv(t)
	b := "acl-recreate"
	if _, err := e.client.CreateBucket(ctx(), &awss3.CreateBucketInput{Bucket: &b, ObjectOwnership: types.ObjectOwnershipObjectWriter}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.PutBucketAcl(ctx(), &awss3.PutBucketAclInput{Bucket: &b, ACL: types.BucketCannedACL("log-delivery-write")}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.CreateBucket(ctx(), &awss3.CreateBucketInput{Bucket: &b}); err != nil {
		t.Fatalf("re-create: %v", err)
	}
	acl, err := e.client.GetBucketAcl(ctx(), &awss3.GetBucketAclInput{Bucket: &b})
	if err != nil {
		t.Fatal(err)
	}
	if got := grantList(acl.Grants); got != "CanonicalUser:"+aws.ToString(acl.Owner.ID)+":FULL_CONTROL" {
		t.Fatalf("grants after re-create: %s", got)
	}
}

// x-amz-expected-bucket-owner (and, for a copy's source,
// x-amz-source-expected-bucket-owner) naming another account than the
// bucket's owner fails the request with 403 AccessDenied.
func TestExpectedBucketOwnerIsChecked(t *testing.T) {
	e := newEnv(t)
	b := e.bucket(t, "expected-owner")
	mine, other := aws.String("000000000000"), aws.String("111111111111")
	if _, err := e.client.PutObject(ctx(), &awss3.PutObjectInput{Bucket: &b, Key: aws.String("k"), Body: strings.NewReader("x"), ExpectedBucketOwner: mine}); err != nil {
		t.Fatalf("PutObject expecting the owner: %v", err)
	}
	if _, err := e.client.ListObjectsV2(ctx(), &awss3.ListObjectsV2Input{Bucket: &b, ExpectedBucketOwner: mine}); err != nil {
		t.Fatalf("ListObjectsV2 expecting the owner: %v", err)
	}
	_, err := e.client.ListObjectsV2(ctx(), &awss3.ListObjectsV2Input{Bucket: &b, ExpectedBucketOwner: other})
	wantErr(t, "ListObjectsV2 expecting another owner", err, "AccessDenied", 403)
	_, err = e.client.PutObject(ctx(), &awss3.PutObjectInput{Bucket: &b, Key: aws.String("k2"), Body: strings.NewReader("x"), ExpectedBucketOwner: other})
	wantErr(t, "PutObject expecting another owner", err, "AccessDenied", 403)
	if _, err := e.client.HeadObject(ctx(), &awss3.HeadObjectInput{Bucket: &b, Key: aws.String("k2")}); errCode(err) != "NotFound" {
		t.Fatalf("the refused PUT wrote its object: %v", err)
	}
	_, err = e.client.GetBucketAcl(ctx(), &awss3.GetBucketAclInput{Bucket: &b, ExpectedBucketOwner: aws.String("not-an-account")})
	wantErr(t, "GetBucketAcl expecting a malformed owner", err, "AccessDenied", 403)
	_, err = e.client.CopyObject(ctx(), &awss3.CopyObjectInput{Bucket: &b, Key: aws.String("c"), CopySource: aws.String(b + "/k"), ExpectedSourceBucketOwner: other})
	wantErr(t, "CopyObject expecting another source owner", err, "AccessDenied", 403)
	if _, err := e.client.CopyObject(ctx(), &awss3.CopyObjectInput{Bucket: &b, Key: aws.String("c"), CopySource: aws.String(b + "/k"),
		ExpectedSourceBucketOwner: mine, ExpectedBucketOwner: mine}); err != nil {
		t.Fatalf("CopyObject expecting the owners: %v", err)
	}
	// A bucket that does not exist is reported as such.
	_, err = e.client.ListObjectsV2(ctx(), &awss3.ListObjectsV2Input{Bucket: aws.String("no-such-bucket-here"), ExpectedBucketOwner: other})
	wantErr(t, "a missing bucket", err, "NoSuchBucket", 404)
}

// S3 refuses a bucket policy it cannot evaluate, and NotPrincipal with
// Allow, which IAM does not support, with MalformedPolicy.
func TestPutBucketPolicyRefusesMalformedPolicies(t *testing.T) {
	e := newEnv(t)
	b := e.bucket(t, "policy-check")
	stmt := func(s string) *string {
		return aws.String(`{"Version":"2012-10-17","Statement":[` + s + `]}`)
	}
	for _, c := range []struct{ what, policy string }{
		{"NotPrincipal with Allow", `{"Effect":"Allow","NotPrincipal":{"AWS":"111111111111"},"Action":"s3:ListBucket","Resource":"arn:aws:s3:::policy-check"}`},
		{"no principal", `{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::policy-check"}`},
		{"a bad effect", `{"Effect":"Permit","Principal":"*","Action":"s3:ListBucket","Resource":"arn:aws:s3:::policy-check"}`},
		{"an action without a service", `{"Effect":"Allow","Principal":"*","Action":"ListBucket","Resource":"arn:aws:s3:::policy-check"}`},
	} {
		_, err := e.client.PutBucketPolicy(ctx(), &awss3.PutBucketPolicyInput{Bucket: &b, Policy: stmt(c.policy)})
		wantErr(t, c.what, err, "MalformedPolicy", 400)
	}
	deny := `{"Effect":"Deny","NotPrincipal":{"AWS":"000000000000"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::policy-check/*"}`
	if _, err := e.client.PutBucketPolicy(ctx(), &awss3.PutBucketPolicyInput{Bucket: &b, Policy: stmt(deny)}); err != nil {
		t.Fatalf("NotPrincipal with Deny: %v", err)
	}
}
