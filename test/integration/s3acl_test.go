package integration

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// aclWorld is a wharf under --iam MODE where the default account's root
// owns a bucket with ACLs enabled (ObjectWriter) and Block Public Access
// off, holding a private object and a public-read one; partner is another
// account's root, anon an unsigned client.
type aclWorld struct {
	t                    *testing.T
	endpoint             string
	owner, partner, anon *s3.Client
}

const aclBucket = "shared-acl"

func newACLWorld(t *testing.T, mode string) *aclWorld {
	t.Helper()
	endpoint := start(t, "--iam", mode)
	w := &aclWorld{t: t, endpoint: endpoint,
		owner:   s3Client(awsConfig(endpoint, "test", "test", "")),
		partner: s3Client(awsConfig(endpoint, "222222222222", "x", "")),
	}
	anon := awsConfig(endpoint, "test", "test", "")
	anon.Credentials = aws.AnonymousCredentials{}
	w.anon = s3Client(anon)
	ctx := callTimeout(t)
	if _, err := w.owner.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(aclBucket), ObjectOwnership: s3types.ObjectOwnershipObjectWriter}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.owner.DeletePublicAccessBlock(ctx, &s3.DeletePublicAccessBlockInput{Bucket: aws.String(aclBucket)}); err != nil {
		t.Fatal(err)
	}
	w.put("private", "")
	w.put("public", s3types.ObjectCannedACLPublicRead)
	return w
}

func (w *aclWorld) put(key string, acl s3types.ObjectCannedACL) {
	w.t.Helper()
	if _, err := w.owner.PutObject(callTimeout(w.t), &s3.PutObjectInput{Bucket: aws.String(aclBucket), Key: aws.String(key),
		Body: strings.NewReader(key), ACL: acl}); err != nil {
		w.t.Fatal(err)
	}
}

// get reads key as c and returns its body, or the error.
func (w *aclWorld) get(c *s3.Client, key string) (string, error) {
	w.t.Helper()
	out, err := c.GetObject(callTimeout(w.t), &s3.GetObjectInput{Bucket: aws.String(aclBucket), Key: aws.String(key)})
	if err != nil {
		return "", err
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	return string(b), err
}

func (w *aclWorld) mustGet(who string, c *s3.Client, key string) {
	w.t.Helper()
	if body, err := w.get(c, key); err != nil || body != key {
		w.t.Fatalf("%s GET %s: %q %v", who, key, body, err)
	}
}

func (w *aclWorld) canonicalID(c *s3.Client) string {
	w.t.Helper()
	out, err := c.ListBuckets(callTimeout(w.t), &s3.ListBucketsInput{})
	if err != nil {
		w.t.Fatal(err)
	}
	return aws.ToString(out.Owner.ID)
}

func TestIAMEnforceAnonymousRequestsOnlyThroughPublicACLs(t *testing.T) {
	w := newACLWorld(t, "enforce")
	ctx := callTimeout(t)
	w.mustGet("anonymous", w.anon, "public")
	_, err := w.get(w.anon, "private")
	wantDenied(t, err, "AccessDenied", 403, "Access Denied")
	// Anonymous callers list nothing and write nothing without a grant.
	_, err = w.anon.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(aclBucket)})
	wantDenied(t, err, "AccessDenied", 403, "Access Denied")
	_, err = w.anon.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(aclBucket), Key: aws.String("x"), Body: strings.NewReader("x")})
	wantDenied(t, err, "AccessDenied", 403, "Access Denied")
	// A bucket ACL granting AllUsers READ lets them list.
	if _, err := w.owner.PutBucketAcl(ctx, &s3.PutBucketAclInput{Bucket: aws.String(aclBucket), ACL: s3types.BucketCannedACLPublicRead}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.anon.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(aclBucket)}); err != nil {
		t.Fatalf("anonymous list of a public-read bucket: %v", err)
	}
	// IgnorePublicAcls makes the public grants count for nothing.
	if _, err := w.owner.PutPublicAccessBlock(ctx, &s3.PutPublicAccessBlockInput{Bucket: aws.String(aclBucket),
		PublicAccessBlockConfiguration: &s3types.PublicAccessBlockConfiguration{IgnorePublicAcls: aws.Bool(true)}}); err != nil {
		t.Fatal(err)
	}
	_, err = w.get(w.anon, "public")
	wantDenied(t, err, "AccessDenied", 403, "Access Denied")
	w.mustGet("owner", w.owner, "public")
}

func TestIAMEnforceACLGrantsLetAnotherAccountIn(t *testing.T) {
	w := newACLWorld(t, "enforce")
	ctx := callTimeout(t)
	partnerID := w.canonicalID(w.partner)
	_, err := w.get(w.partner, "private")
	wantDenied(t, err, "AccessDenied", 403, "User: arn:aws:iam::222222222222:root is not authorized to perform: s3:GetObject on resource: arn:aws:s3:::shared-acl/private because no resource-based policy allows the s3:GetObject action")
	// A public-read object is readable by every account too.
	w.mustGet("partner", w.partner, "public")
	// An object grant to the partner's canonical user.
	if _, err := w.owner.PutObjectAcl(ctx, &s3.PutObjectAclInput{Bucket: aws.String(aclBucket), Key: aws.String("private"),
		GrantRead: aws.String(`id="` + partnerID + `"`)}); err != nil {
		t.Fatal(err)
	}
	w.mustGet("partner with READ", w.partner, "private")
	_, err = w.partner.GetObjectAcl(ctx, &s3.GetObjectAclInput{Bucket: aws.String(aclBucket), Key: aws.String("private")})
	wantDenied(t, err, "AccessDenied", 403, "User: arn:aws:iam::222222222222:root is not authorized to perform: s3:GetObjectAcl on resource: arn:aws:s3:::shared-acl/private because no resource-based policy allows the s3:GetObjectAcl action")
	// A bucket grant of WRITE lets the partner write; of READ, list.
	_, err = w.partner.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(aclBucket), Key: aws.String("from-partner"), Body: strings.NewReader("p")})
	wantDenied(t, err, "AccessDenied", 403, "User: arn:aws:iam::222222222222:root is not authorized to perform: s3:PutObject on resource: arn:aws:s3:::shared-acl/from-partner because no resource-based policy allows the s3:PutObject action")
	ownerID := w.canonicalID(w.owner)
	if _, err := w.owner.PutBucketAcl(ctx, &s3.PutBucketAclInput{Bucket: aws.String(aclBucket),
		GrantFullControl: aws.String("id=" + ownerID), GrantWrite: aws.String("id=" + partnerID), GrantRead: aws.String("id=" + partnerID)}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.partner.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(aclBucket), Key: aws.String("from-partner"), Body: strings.NewReader("p")}); err != nil {
		t.Fatalf("partner write with WRITE: %v", err)
	}
	list, err := w.partner.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(aclBucket)})
	if err != nil || len(list.Contents) != 3 {
		t.Fatalf("partner list with READ: %v %v", list, err)
	}
	// In an ObjectWriter bucket the writer owns what it wrote, and listings
	// say so; so does a multipart upload it starts.
	acl, err := w.partner.GetObjectAcl(ctx, &s3.GetObjectAclInput{Bucket: aws.String(aclBucket), Key: aws.String("from-partner")})
	if err != nil || aws.ToString(acl.Owner.ID) != partnerID {
		t.Fatalf("object written by the partner: %+v %v", acl, err)
	}
	owned, err := w.owner.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(aclBucket), Prefix: aws.String("from-"), FetchOwner: aws.Bool(true)})
	if err != nil || len(owned.Contents) != 1 || aws.ToString(owned.Contents[0].Owner.ID) != partnerID {
		t.Fatalf("listed owner: %+v %v", owned, err)
	}
	up, err := w.partner.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(aclBucket), Key: aws.String("mp")})
	if err != nil {
		t.Fatal(err)
	}
	parts, err := w.partner.ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String(aclBucket), Key: aws.String("mp"), UploadId: up.UploadId})
	if err != nil || aws.ToString(parts.Owner.ID) != partnerID || aws.ToString(parts.Initiator.ID) != partnerID {
		t.Fatalf("upload owner and initiator: %+v %v", parts, err)
	}
	// Another account's CreateBucket of the name is told it is taken.
	_, err = w.partner.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(aclBucket)})
	wantDenied(t, err, "BucketAlreadyExists", 409, "The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.")
	// Once ownership is BucketOwnerEnforced, ACLs stop counting.
	if _, err := w.owner.PutBucketAcl(ctx, &s3.PutBucketAclInput{Bucket: aws.String(aclBucket), ACL: s3types.BucketCannedACLPrivate}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.owner.PutBucketOwnershipControls(ctx, &s3.PutBucketOwnershipControlsInput{Bucket: aws.String(aclBucket),
		OwnershipControls: &s3types.OwnershipControls{Rules: []s3types.OwnershipControlsRule{{ObjectOwnership: s3types.ObjectOwnershipBucketOwnerEnforced}}}}); err != nil {
		t.Fatal(err)
	}
	_, err = w.get(w.partner, "private")
	wantDenied(t, err, "AccessDenied", 403, "User: arn:aws:iam::222222222222:root is not authorized to perform: s3:GetObject on resource: arn:aws:s3:::shared-acl/private because no resource-based policy allows the s3:GetObject action")
	_, err = w.get(w.anon, "public")
	wantDenied(t, err, "AccessDenied", 403, "Access Denied")
}

func TestIAMEnforceAuthenticatedUsersExcludesAnonymous(t *testing.T) {
	w := newACLWorld(t, "enforce")
	w.put("members", s3types.ObjectCannedACLAuthenticatedRead)
	w.mustGet("partner", w.partner, "members")
	_, err := w.get(w.anon, "members")
	wantDenied(t, err, "AccessDenied", 403, "Access Denied")
}

func TestIAMEnforceRestrictPublicBucketsKeepsOutsidersOut(t *testing.T) {
	w := newACLWorld(t, "enforce")
	ctx := callTimeout(t)
	policy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::shared-acl/private"}]}`
	if _, err := w.owner.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(aclBucket), Policy: aws.String(policy)}); err != nil {
		t.Fatal(err)
	}
	w.mustGet("anonymous through the public policy", w.anon, "private")
	w.mustGet("partner through the public policy", w.partner, "private")
	if _, err := w.owner.PutPublicAccessBlock(ctx, &s3.PutPublicAccessBlockInput{Bucket: aws.String(aclBucket),
		PublicAccessBlockConfiguration: &s3types.PublicAccessBlockConfiguration{RestrictPublicBuckets: aws.Bool(true)}}); err != nil {
		t.Fatal(err)
	}
	_, err := w.get(w.anon, "private")
	wantDenied(t, err, "AccessDenied", 403, "Access Denied")
	_, err = w.get(w.partner, "private")
	wantDenied(t, err, "AccessDenied", 403, "User: arn:aws:iam::222222222222:root is not authorized to perform: s3:GetObject on resource: arn:aws:s3:::shared-acl/private because no resource-based policy allows the s3:GetObject action")
	w.mustGet("owner", w.owner, "private")
	// BlockPublicPolicy refuses the same policy from now on.
	if _, err := w.owner.PutPublicAccessBlock(ctx, &s3.PutPublicAccessBlockInput{Bucket: aws.String(aclBucket),
		PublicAccessBlockConfiguration: &s3types.PublicAccessBlockConfiguration{BlockPublicPolicy: aws.Bool(true)}}); err != nil {
		t.Fatal(err)
	}
	_, err = w.owner.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(aclBucket), Policy: aws.String(policy)})
	wantDenied(t, err, "AccessDenied", 403, `User: arn:aws:iam::000000000000:root is not authorized to perform: s3:PutBucketPolicy on resource: "arn:aws:s3:::shared-acl" because public policies are blocked by the BlockPublicPolicy block public access setting.`)
}

func TestIAMAuditRecordsWhatACLsWouldDeny(t *testing.T) {
	w := newACLWorld(t, "audit")
	// Audit records what AWS would decide; S3 itself still keeps another
	// account out of a bucket nothing granted it.
	_, err := w.get(w.partner, "private")
	wantDenied(t, err, "AccessDenied", 403, "Access Denied")
	resp, err := http.Get(w.endpoint + "/_wharf/iam/denials")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Denials []struct{ Principal, Action, Resource, Decision, Reason string }
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	if len(out.Denials) != 1 {
		t.Fatalf("denials %+v, want the partner's GET only", out.Denials)
	}
	d := out.Denials[0]
	if d.Principal != "arn:aws:iam::222222222222:root" || d.Action != "s3:GetObject" || d.Resource != "arn:aws:s3:::shared-acl/private" ||
		d.Decision != "implicitDeny" || d.Reason != "because no resource-based policy allows the s3:GetObject action" {
		t.Fatalf("denial %+v", d)
	}
	// The public-read object's ACL lets the partner in, in audit mode too.
	w.mustGet("partner, public-read", w.partner, "public")
}

// A read of a missing object is answered by s3:ListBucket, not
// s3:GetObject: 404 to a caller who may list the bucket (through an ACL, or
// a policy whose s3:prefix condition the key meets), 403 to any other,
// even one allowed s3:GetObject (GetObject and HeadObject docs,
// Permissions).
func TestIAMEnforceMissingObjectAnsweredByListBucket(t *testing.T) {
	w := newACLWorld(t, "enforce")
	ctx := callTimeout(t)
	// Nobody but the owner may list: a missing key is denied to the others.
	_, err := w.get(w.anon, "missing")
	wantDenied(t, err, "AccessDenied", 403, "Access Denied")
	_, err = w.get(w.owner, "missing")
	wantDenied(t, err, "NoSuchKey", 404, "The specified key does not exist.")
	// The partner may read every object but list nothing.
	policy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"222222222222"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::shared-acl/*"},
		{"Effect":"Allow","Principal":{"AWS":"222222222222"},"Action":"s3:ListBucket","Resource":"arn:aws:s3:::shared-acl","Condition":{"StringLike":{"s3:prefix":"public/*"}}}]}`
	if _, err := w.owner.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(aclBucket), Policy: aws.String(policy)}); err != nil {
		t.Fatal(err)
	}
	w.mustGet("partner through the policy", w.partner, "private")
	_, err = w.get(w.partner, "missing")
	wantDenied(t, err, "AccessDenied", 403, "User: arn:aws:iam::222222222222:root is not authorized to perform: s3:ListBucket on resource: arn:aws:s3:::shared-acl because no resource-based policy allows the s3:ListBucket action")
	_, err = w.get(w.partner, "public/missing")
	wantDenied(t, err, "NoSuchKey", 404, "The specified key does not exist.")
	_, err = w.partner.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(aclBucket), Key: aws.String("public/missing")})
	wantStatus(t, err, 404)
	_, err = w.partner.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(aclBucket), Key: aws.String("private/missing")})
	wantStatus(t, err, 403)
	// A bucket ACL granting everyone READ (listing) makes a missing key a
	// 404 for anyone, even with no grant on the objects.
	if _, err := w.owner.PutBucketAcl(ctx, &s3.PutBucketAclInput{Bucket: aws.String(aclBucket), ACL: s3types.BucketCannedACLPublicRead}); err != nil {
		t.Fatal(err)
	}
	_, err = w.get(w.anon, "missing")
	wantDenied(t, err, "NoSuchKey", 404, "The specified key does not exist.")
	_, err = w.get(w.anon, "private")
	wantDenied(t, err, "AccessDenied", 403, "Access Denied")
}

// An object another account wrote to an ObjectWriter bucket is that
// account's: S3 evaluates an object operation in the object owner's context,
// where only the object's ACL grants ("How Amazon S3 authorizes a request
// for an object operation"), so neither the bucket owner nor a bucket policy
// reaches it without a grant from its owner.
func TestIAMEnforceObjectAnotherAccountOwnsNeedsItsGrant(t *testing.T) {
	w := newACLWorld(t, "enforce")
	ctx := callTimeout(t)
	policy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"222222222222"},"Action":"s3:PutObject","Resource":"arn:aws:s3:::shared-acl/*"},
		{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::shared-acl/*"}]}`
	if _, err := w.owner.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(aclBucket), Policy: aws.String(policy)}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.partner.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(aclBucket), Key: aws.String("theirs"), Body: strings.NewReader("theirs")}); err != nil {
		t.Fatal(err)
	}
	// The bucket policy lets everyone read the owner's objects, not the
	// partner's; the bucket owner cannot read it or its ACL either.
	w.mustGet("anonymous through the policy", w.anon, "private")
	_, err := w.get(w.anon, "theirs")
	wantDenied(t, err, "AccessDenied", 403, "Access Denied")
	_, err = w.get(w.owner, "theirs")
	wantDenied(t, err, "AccessDenied", 403, "Access Denied")
	_, err = w.owner.GetObjectAcl(ctx, &s3.GetObjectAclInput{Bucket: aws.String(aclBucket), Key: aws.String("theirs")})
	wantDenied(t, err, "AccessDenied", 403, "Access Denied")
	_, err = w.owner.PutObjectAcl(ctx, &s3.PutObjectAclInput{Bucket: aws.String(aclBucket), Key: aws.String("theirs"), ACL: s3types.ObjectCannedACLPrivate})
	wantDenied(t, err, "AccessDenied", 403, "Access Denied")
	w.mustGet("its owner", w.partner, "theirs")
	// Its owner grants the bucket owner READ: the bucket owner reads it,
	// but still not its ACL.
	if _, err := w.partner.PutObjectAcl(ctx, &s3.PutObjectAclInput{Bucket: aws.String(aclBucket), Key: aws.String("theirs"), ACL: s3types.ObjectCannedACLBucketOwnerRead}); err != nil {
		t.Fatal(err)
	}
	w.mustGet("bucket owner with READ", w.owner, "theirs")
	_, err = w.owner.GetObjectAcl(ctx, &s3.GetObjectAclInput{Bucket: aws.String(aclBucket), Key: aws.String("theirs")})
	wantDenied(t, err, "AccessDenied", 403, "Access Denied")
	// The bucket owner may still delete what is in its bucket.
	if _, err := w.owner.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(aclBucket), Key: aws.String("theirs")}); err != nil {
		t.Fatalf("bucket owner's delete: %v", err)
	}
}

// An IAM user allowed s3:GetObject alone is refused a missing key with 403,
// and told NoSuchKey once also allowed s3:ListBucket, as S3 answers.
func TestIAMEnforceUserWithoutListBucketGets403ForAMissingKey(t *testing.T) {
	w := newIAMWorld(t, "enforce")
	ctx := callTimeout(t)
	bob := s3Client(w.bob)
	w.putBobPolicy("read", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::data/*"}]}`)
	_, err := bob.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("data"), Key: aws.String("missing")})
	wantDenied(t, err, "AccessDenied", 403, "User: "+bobARN+" is not authorized to perform: s3:ListBucket on resource: arn:aws:s3:::data because no identity-based policy allows the s3:ListBucket action")
	w.putBobPolicy("list", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::data"}]}`)
	_, err = bob.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("data"), Key: aws.String("missing")})
	wantDenied(t, err, "NoSuchKey", 404, "The specified key does not exist.")
}

// wantStatus checks err is an API error with HTTP status status (a HEAD's
// error has no body to name its code).
func wantStatus(t *testing.T, err error, status int) {
	t.Helper()
	var re *smithyhttp.ResponseError
	if !errors.As(err, &re) || re.HTTPStatusCode() != status {
		t.Fatalf("err = %v, want HTTP %d", err, status)
	}
}
