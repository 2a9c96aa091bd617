package s3

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"

	"github.com/wharf-dev/wharf/internal/awsapi"
	s3api "github.com/wharf-dev/wharf/internal/awsapi/s3"
	"github.com/wharf-dev/wharf/internal/store"
)

// Access control lists ("Access control list (ACL) overview" in the S3 user
// guide), as S3 keeps them since April 2023: a bucket's Object Ownership
// decides whether they exist at all. Under BucketOwnerEnforced (the default)
// ACLs are disabled: the bucket owner owns every object, an ACL request is
// refused unless it grants nothing beyond the owner's full control, and
// reads show the owner's FULL_CONTROL only. Under BucketOwnerPreferred and
// ObjectWriter buckets and objects keep the grants they are given, and the
// authorizer counts them (ResourcePolicy), unless Block Public Access
// ignores the public ones.

// The ACL permissions.
const (
	permFull     = "FULL_CONTROL"
	permRead     = "READ"
	permWrite    = "WRITE"
	permReadACP  = "READ_ACP"
	permWriteACP = "WRITE_ACP"
)

// The predefined groups a grant may name by URI.
const (
	groupAllUsers      = "http://acs.amazonaws.com/groups/global/AllUsers"
	groupAuthenticated = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"
	groupLogDelivery   = "http://acs.amazonaws.com/groups/s3/LogDelivery"
)

const (
	ownerEnforced  = "BucketOwnerEnforced"
	ownerPreferred = "BucketOwnerPreferred"
	objectWriter   = "ObjectWriter"
)

// grant is one stored ACL grant: to an account's canonical user (ID) or to a
// group (URI).
type grant struct {
	ID         string `json:",omitempty"`
	URI        string `json:",omitempty"`
	Permission string
}

// canonicalID is an account's canonical user id: 64 hex digits, as S3's
// are. Its last twelve are the account id, so a grant names its account
// without a lookup; the rest is a digest that makes the id hard to guess
// from the account alone and lets a made-up id be told apart.
func canonicalID(account string) string {
	sum := sha256.Sum256([]byte("wharf-canonical-user/" + account))
	return hex.EncodeToString(sum[:])[:64-len(account)] + account
}

// canonicalAccount is the account whose canonical user id is id.
func canonicalAccount(id string) (string, bool) {
	id = strings.ToLower(id)
	if len(id) != 64 {
		return "", false
	}
	acct := id[52:]
	for _, c := range acct {
		if c < '0' || c > '9' {
			return "", false
		}
	}
	return acct, canonicalID(acct) == id
}

// aclRequest is the ACL a request sets, in any of S3's three forms: a
// canned ACL, x-amz-grant-* headers, or an AccessControlPolicy body.
type aclRequest struct {
	canned                               *string
	full, read, readACP, write, writeACP *string
	body                                 *s3api.AccessControlPolicy
}

func (r aclRequest) headers() bool {
	return r.full != nil || r.read != nil || r.readACP != nil || r.write != nil || r.writeACP != nil
}

func (r aclRequest) present() bool { return r.canned != nil || r.headers() || r.body != nil }

func invalidACLArgument(msg, name, value string) error {
	return invalidArgument(msg, name, value)
}

// grants resolves r to the grants it sets on a resource owned by owner in a
// bucket owned by bucketOwner (the bucket-owner-* canned ACLs name it).
func (r aclRequest) grants(owner, bucketOwner string) ([]grant, error) {
	if r.canned != nil && r.headers() {
		return nil, invalidRequest("Specifying both Canned ACLs and Header Grants is not allowed")
	}
	if r.body != nil && (r.canned != nil || r.headers()) {
		return nil, s3api.ErrUnexpectedContent("This request does not support content")
	}
	own := grant{ID: canonicalID(owner), Permission: permFull}
	switch {
	case r.canned != nil:
		gs := []grant{own}
		switch c := *r.canned; c {
		case "private", "aws-exec-read":
		case "public-read":
			gs = append(gs, grant{URI: groupAllUsers, Permission: permRead})
		case "public-read-write":
			gs = append(gs, grant{URI: groupAllUsers, Permission: permRead}, grant{URI: groupAllUsers, Permission: permWrite})
		case "authenticated-read":
			gs = append(gs, grant{URI: groupAuthenticated, Permission: permRead})
		case "log-delivery-write":
			gs = append(gs, grant{URI: groupLogDelivery, Permission: permWrite}, grant{URI: groupLogDelivery, Permission: permReadACP})
		case "bucket-owner-read":
			if bucketOwner != owner {
				gs = append(gs, grant{ID: canonicalID(bucketOwner), Permission: permRead})
			}
		case "bucket-owner-full-control":
			if bucketOwner != owner {
				gs = append(gs, grant{ID: canonicalID(bucketOwner), Permission: permFull})
			}
		default:
			return nil, invalidACLArgument("", "x-amz-acl", c)
		}
		return gs, nil
	case r.headers():
		var gs []grant
		for _, h := range []struct {
			name, perm string
			v          *string
		}{{"x-amz-grant-read", permRead, r.read}, {"x-amz-grant-write", permWrite, r.write},
			{"x-amz-grant-read-acp", permReadACP, r.readACP}, {"x-amz-grant-write-acp", permWriteACP, r.writeACP},
			{"x-amz-grant-full-control", permFull, r.full}} {
			if h.v == nil {
				continue
			}
			for _, item := range strings.Split(*h.v, ",") {
				typ, val, ok := strings.Cut(strings.TrimSpace(item), "=")
				if !ok {
					return nil, invalidACLArgument("Invalid grant header", h.name, *h.v)
				}
				val = strings.Trim(strings.TrimSpace(val), `"`)
				g, err := grantee(strings.ToLower(strings.TrimSpace(typ)), val, h.perm)
				if err != nil {
					return nil, err
				}
				gs = append(gs, g)
			}
		}
		return gs, nil
	case r.body != nil:
		if o := r.body.Owner; o != nil && o.ID != nil && !strings.EqualFold(*o.ID, canonicalID(owner)) {
			return nil, accessDenied()
		}
		gs := []grant{}
		for _, g := range r.body.Grants {
			if g.Grantee == nil || g.Permission == nil {
				return nil, malformedACL()
			}
			switch *g.Permission {
			case permFull, permRead, permWrite, permReadACP, permWriteACP:
			default:
				return nil, malformedACL()
			}
			var typ, val string
			switch awsapi.ToString(g.Grantee.Type) {
			case "CanonicalUser":
				typ, val = "id", awsapi.ToString(g.Grantee.ID)
			case "Group":
				typ, val = "uri", awsapi.ToString(g.Grantee.URI)
			case "AmazonCustomerByEmail":
				typ, val = "emailaddress", awsapi.ToString(g.Grantee.EmailAddress)
			default:
				return nil, malformedACL()
			}
			gr, err := grantee(typ, val, *g.Permission)
			if err != nil {
				return nil, err
			}
			gs = append(gs, gr)
		}
		return gs, nil
	}
	return []grant{own}, nil
}

// grantee checks one grantee of a header or body grant.
func grantee(typ, val, perm string) (grant, error) {
	switch typ {
	case "id":
		if _, ok := canonicalAccount(val); !ok {
			return grant{}, invalidACLArgument("Invalid id", "CanonicalUser/ID", val)
		}
		return grant{ID: strings.ToLower(val), Permission: perm}, nil
	case "uri":
		switch val {
		case groupAllUsers, groupAuthenticated, groupLogDelivery:
			return grant{URI: val, Permission: perm}, nil
		}
		return grant{}, invalidACLArgument("Invalid group uri", "Group/URI", val)
	case "emailaddress":
		// "End of support notice: As of October 1, 2025, Amazon S3 has
		// discontinued support for Email Grantee Access Control Lists"
		// (PutBucketAcl, PutObjectAcl docs): such a request gets a 405.
		return grant{}, s3api.ErrMethodNotAllowed("The specified method is not allowed against this resource.").
			WithFields(map[string]any{"Method": "PUT", "ResourceType": "ACL"})
	}
	return grant{}, invalidACLArgument("Argument format not recognized", "x-amz-grant", typ+"="+val)
}

func malformedACL() error {
	return s3api.ErrMalformedACLError("The XML you provided was not well-formed or did not validate against our published schema")
}

// publicGrants reports whether gs grant anything to everyone or to every
// authenticated AWS user, what Block Public Access calls public ("The
// meaning of 'public'").
func publicGrants(gs []grant) bool {
	for _, g := range gs {
		if g.URI == groupAllUsers || g.URI == groupAuthenticated {
			return true
		}
	}
	return false
}

// onlyFullControl reports whether gs grant nothing but FULL_CONTROL to the
// canonical users of accts: the ACLs a bucket with ACLs disabled accepts
// (bucket-owner-full-control, private, or their XML form).
func onlyFullControl(gs []grant, accts ...string) bool {
	for _, g := range gs {
		if g.Permission != permFull || g.ID == "" {
			return false
		}
		acct, _ := canonicalAccount(g.ID)
		if !contains(accts, acct) {
			return false
		}
	}
	return true
}

// blocks reports whether a Block Public Access flag is on for b: set on the
// bucket or on its account (S3 Control), the more restrictive winning.
func blocks(b *bucket, flag func(*s3api.PublicAccessBlockConfiguration) *bool) bool {
	return b.PublicAccessBlock != nil && awsapi.ToBool(flag(b.PublicAccessBlock)) ||
		b.accountBlock != nil && awsapi.ToBool(flag(b.accountBlock))
}

func blockPublicAcls(c *s3api.PublicAccessBlockConfiguration) *bool   { return c.BlockPublicAcls }
func ignorePublicAcls(c *s3api.PublicAccessBlockConfiguration) *bool  { return c.IgnorePublicAcls }
func blockPublicPolicy(c *s3api.PublicAccessBlockConfiguration) *bool { return c.BlockPublicPolicy }
func restrictPublicBuckets(c *s3api.PublicAccessBlockConfiguration) *bool {
	return c.RestrictPublicBuckets
}

func aclsDisabled(b *bucket) bool { return b.Ownership == ownerEnforced }

// newObjectACL decides who owns an object writer writes to b and the grants
// it gets, from the request's ACL, b's Object Ownership and its Block Public
// Access ("Controlling ownership of objects and disabling ACLs").
func newObjectACL(b *bucket, writer string, r aclRequest) (owner string, acl *[]grant, err error) {
	if writer == "" {
		writer = b.Account
	}
	owner = writer
	if aclsDisabled(b) {
		if r.present() {
			if err := enforcedObjectACL(r, b, writer); err != nil {
				return "", nil, err
			}
		}
		return "", nil, nil
	}
	if b.Ownership == ownerPreferred && r.canned != nil && *r.canned == "bucket-owner-full-control" {
		owner = b.Account
	}
	if !r.present() {
		if owner == b.Account {
			return "", nil, nil
		}
		return owner, &[]grant{{ID: canonicalID(owner), Permission: permFull}}, nil
	}
	gs, err := r.grants(owner, b.Account)
	if err != nil {
		return "", nil, err
	}
	if publicGrants(gs) && blocks(b, blockPublicAcls) {
		return "", nil, accessDenied()
	}
	if owner == b.Account {
		owner = ""
	}
	return owner, &gs, nil
}

// ownerOr is owner, or def when owner is "" (the bucket owner's).
func ownerOr(owner, def string) string {
	if owner == "" {
		return def
	}
	return owner
}

// initiator is the Initiator S3 lists for an upload account started.
func initiator(account string) *s3api.Initiator {
	o := owner(account)
	return &s3api.Initiator{ID: o.ID, DisplayName: o.DisplayName}
}

// enforcedObjectACL checks the ACL an object PUT names in a bucket with ACLs
// disabled: "Buckets that use this setting only accept PUT requests that
// don't specify an ACL or PUT requests that specify bucket owner full control
// ACLs, such as the bucket-owner-full-control canned ACL or an equivalent
// form of this ACL expressed in the XML format" (PutObject docs); even
// "private" is refused.
func enforcedObjectACL(r aclRequest, b *bucket, writer string) error {
	if r.canned != nil && *r.canned != "bucket-owner-full-control" {
		return aclNotSupported()
	}
	gs, err := r.grants(writer, b.Account)
	if err != nil {
		return err
	}
	if !onlyFullControl(gs, b.Account, writer) {
		return aclNotSupported()
	}
	return nil
}

// objectOwner is the account owning o in b.
func objectOwner(b *bucket, o *object) string {
	if aclsDisabled(b) || o.Owner == "" {
		return b.Account
	}
	return o.Owner
}

// bucketGrants are the grants b's ACL gives; with ACLs disabled, only its
// owner's.
func bucketGrants(b *bucket) []grant {
	if aclsDisabled(b) || b.ACL == nil {
		return []grant{{ID: canonicalID(b.Account), Permission: permFull}}
	}
	return *b.ACL
}

// objectGrants are the grants o's ACL gives.
func objectGrants(b *bucket, o *object) []grant {
	if aclsDisabled(b) || o.ACL == nil {
		return []grant{{ID: canonicalID(objectOwner(b, o)), Permission: permFull}}
	}
	return *o.ACL
}

// wireGrants are gs as S3 lists them.
func wireGrants(gs []grant) []s3api.Grant {
	out := make([]s3api.Grant, 0, len(gs))
	for _, g := range gs {
		ge := &s3api.Grantee{}
		if g.URI != "" {
			ge.Type, ge.URI = awsapi.String("Group"), awsapi.String(g.URI)
		} else {
			acct, _ := canonicalAccount(g.ID)
			ge.Type, ge.ID, ge.DisplayName = awsapi.String("CanonicalUser"), awsapi.String(g.ID), awsapi.String(acct)
		}
		out = append(out, s3api.Grant{Grantee: ge, Permission: awsapi.String(g.Permission)})
	}
	return out
}

// GetBucketAcl returns the bucket's ACL: its owner's FULL_CONTROL only when
// ACLs are disabled.
func (s *Service) GetBucketAcl(ctx context.Context, in *s3api.GetBucketAclInput) (*s3api.GetBucketAclOutput, error) {
	b, err := s.viewBucket(ctx, awsapi.ToString(in.Bucket))
	if err != nil {
		return nil, err
	}
	return &s3api.GetBucketAclOutput{Owner: owner(b.Account), Grants: wireGrants(bucketGrants(b))}, nil
}

// PutBucketAcl replaces the bucket's ACL. A bucket with ACLs disabled takes
// only bucket-owner-full-control or its equivalent grant, and changes
// nothing (AccessControlListNotSupported otherwise); a public ACL is
// refused while Block Public Access blocks public ACLs.
func (s *Service) PutBucketAcl(ctx context.Context, in *s3api.PutBucketAclInput) (*s3api.PutBucketAclOutput, error) {
	r := aclRequest{in.ACL, in.GrantFullControl, in.GrantRead, in.GrantReadACP, in.GrantWrite, in.GrantWriteACP, in.AccessControlPolicy}
	err := s.updateBucket(ctx, awsapi.ToString(in.Bucket), func(b *bucket) error {
		if !r.present() {
			return s3api.ErrMissingSecurityHeader("Your request was missing a required header").WithFields(map[string]any{"MissingHeaderName": "x-amz-acl"})
		}
		if aclsDisabled(b) {
			// "Requests to set ACLs or update ACLs fail" with ACLs disabled
			// (Object Ownership troubleshooting): even "private", as
			// Terraform's aws_s3_bucket_acl finds on a new bucket; only the
			// bucket-owner-full-control that every PUT may carry passes.
			return enforcedObjectACL(r, b, b.Account)
		}
		gs, err := r.grants(b.Account, b.Account)
		if err != nil {
			return err
		}
		if publicGrants(gs) && blocks(b, blockPublicAcls) {
			return accessDenied()
		}
		b.ACL = &gs
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &s3api.PutBucketAclOutput{}, nil
}

func aclNotSupported() error {
	return s3api.ErrAccessControlListNotSupported("The bucket does not allow ACLs")
}

// objectOwnerGrants refuses a request of the caller in ctx that needs perm
// on o when o is owned by an account other than b's owner and its ACL does
// not grant the caller perm. S3 evaluates an object operation in the object
// owner's context, whose only policy is the object's ACL ("How Amazon S3
// authorizes a request for an object operation"): the bucket owner and the
// bucket policy's Allows give nothing on an object another account owns.
// The object's owner needs no grant, and a request without a caller (wharf
// reading for itself) is not refused.
func objectOwnerGrants(ctx context.Context, b *bucket, o *object, perm string) error {
	own := objectOwner(b, o)
	c := caller(ctx)
	if own == b.Account || !c.Anonymous && (c.Account == own || c.Account == "") {
		return nil
	}
	ignorePublic := blocks(b, ignorePublicAcls)
	for _, g := range objectGrants(b, o) {
		if g.Permission != perm && g.Permission != permFull {
			continue
		}
		switch g.URI {
		case groupAllUsers:
			if !ignorePublic {
				return nil
			}
		case groupAuthenticated:
			if !ignorePublic && !c.Anonymous {
				return nil
			}
		case "":
			if acct, ok := canonicalAccount(g.ID); ok && acct == c.Account && !c.Anonymous {
				return nil
			}
		}
	}
	return accessDenied()
}

// GetObjectAcl returns the ACL of an object (or of one of its versions).
func (s *Service) GetObjectAcl(ctx context.Context, in *s3api.GetObjectAclInput) (*s3api.GetObjectAclOutput, error) {
	b, o, _, err := s.openObject(ctx, awsapi.ToString(in.Bucket), awsapi.ToString(in.Key), awsapi.ToString(in.VersionId), false)
	if err != nil {
		return nil, err
	}
	if err := objectOwnerGrants(ctx, b, o, permReadACP); err != nil {
		return nil, err
	}
	return &s3api.GetObjectAclOutput{Owner: owner(objectOwner(b, o)), Grants: wireGrants(objectGrants(b, o))}, nil
}

// PutObjectAcl replaces the ACL of an object (or of one of its versions), as
// PutBucketAcl does a bucket's. The object keeps its owner.
func (s *Service) PutObjectAcl(ctx context.Context, in *s3api.PutObjectAclInput) (*s3api.PutObjectAclOutput, error) {
	r := aclRequest{in.ACL, in.GrantFullControl, in.GrantRead, in.GrantReadACP, in.GrantWrite, in.GrantWriteACP, in.AccessControlPolicy}
	name, key := awsapi.ToString(in.Bucket), awsapi.ToString(in.Key)
	err := s.st.Update(func(tx store.Tx) error {
		b, err := ownBucket(ctx, tx, name)
		if err != nil {
			return err
		}
		o, err := lookup(tx, b, key, awsapi.ToString(in.VersionId))
		if err != nil {
			return err
		}
		if !r.present() {
			return s3api.ErrMissingSecurityHeader("Your request was missing a required header").WithFields(map[string]any{"MissingHeaderName": "x-amz-acl"})
		}
		if err := objectOwnerGrants(ctx, b, o, permWriteACP); err != nil {
			return err
		}
		own := objectOwner(b, o)
		if aclsDisabled(b) {
			return enforcedObjectACL(r, b, own)
		}
		gs, err := r.grants(own, b.Account)
		if err != nil {
			return err
		}
		if publicGrants(gs) && blocks(b, blockPublicAcls) {
			return accessDenied()
		}
		o.ACL = &gs
		return s.rewriteVersion(tx, b, o)
	})
	if err != nil {
		return nil, err
	}
	return &s3api.PutObjectAclOutput{}, nil
}

// publicPolicyBlocked is S3's refusal of a public bucket policy while Block
// Public Access blocks them: AccessDenied, with the reason in the message
// as S3 words it for the caller.
func publicPolicyBlocked(ctx context.Context, name string) error {
	who := caller(ctx).ARN
	return s3api.ErrAccessDenied("User: %s is not authorized to perform: s3:PutBucketPolicy on resource: %q because public policies are blocked by the BlockPublicPolicy block public access setting.", who, bucketARN(name))
}
