package s3

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/wharf-dev/wharf/internal/lazyregexp"

	"github.com/wharf-dev/wharf/internal/apierr"
	"github.com/wharf-dev/wharf/internal/awsapi"
	s3api "github.com/wharf-dev/wharf/internal/awsapi/s3"
	"github.com/wharf-dev/wharf/internal/iampolicy"
	"github.com/wharf-dev/wharf/internal/store"
)

// bucket is a bucket's stored state.
type bucket struct {
	Name    string
	Account string
	Region  string
	Created time.Time
	// Versioning is "", "Enabled" or "Suspended". Once it is not "", every
	// version of every object is kept under s3/v/.
	Versioning   string                              `json:",omitempty"`
	Tags         []s3api.Tag                         `json:",omitempty"`
	Policy       string                              `json:",omitempty"`
	CORS         *s3api.CORSConfiguration            `json:",omitempty"`
	Lifecycle    *s3api.BucketLifecycleConfiguration `json:",omitempty"`
	Notification *s3api.NotificationConfiguration    `json:",omitempty"`
	// LifecycleMinSize is the lifecycle's transition default minimum object
	// size; "" stands for S3's default.
	LifecycleMinSize string `json:",omitempty"`
	// PublicAccessBlock is nil once deleted; CreateBucket sets every flag.
	PublicAccessBlock *s3api.PublicAccessBlockConfiguration `json:",omitempty"`
	// Encryption is nil for S3's default, SSE-S3.
	Encryption *s3api.ServerSideEncryptionConfiguration `json:",omitempty"`
	// Ownership is the object ownership rule, "" once deleted.
	Ownership string `json:",omitempty"`
	// ACL is the bucket's ACL, nil for its owner's FULL_CONTROL alone (an
	// ACL may also grant nothing at all).
	ACL        *[]grant `json:",omitempty"`
	ObjectLock bool     `json:",omitempty"`
	// LockDefault is the Object Lock default retention, nil when none.
	LockDefault *defaultRetention `json:",omitempty"`
	// accountBlock is the owning account's Block Public Access (S3
	// Control), read with the bucket, nil when the account has none.
	accountBlock *s3api.PublicAccessBlockConfiguration
}

func (b *bucket) versioned() bool { return b.Versioning != "" }

// regionName is the form of an AWS region name (us-west-2, us-gov-east-1,
// ap-southeast-3, eu-central-2, ...).
var regionName = lazyregexp.New(`^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]{1,2}$`)

// validBucketName applies the general purpose bucket naming rules ("Bucket
// naming rules" in the S3 user guide).
func validBucketName(n string) bool {
	if len(n) < 3 || len(n) > 63 {
		return false
	}
	for i := 0; i < len(n); i++ {
		c := n[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '-') {
			return false
		}
	}
	first, last := n[0], n[len(n)-1]
	if first == '.' || first == '-' || last == '.' || last == '-' {
		return false
	}
	if strings.Contains(n, "..") || net.ParseIP(n) != nil {
		return false
	}
	for _, p := range []string{"xn--", "sthree-", "amzn-s3-demo-"} {
		if strings.HasPrefix(n, p) {
			return false
		}
	}
	for _, s := range []string{"-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"} {
		if strings.HasSuffix(n, s) {
			return false
		}
	}
	return true
}

func invalidBucketName(n string) error {
	return s3api.ErrInvalidBucketName("The specified bucket is not valid.").WithFields(map[string]any{"BucketName": n})
}

// decodedBuckets keeps the last decoding of each bucket record, by key:
// every request reads its bucket (the authorizer for its policy, then the
// operation), and decoding its JSON was a fifth of a small GET's cost. An
// entry serves only while the stored bytes are the ones it was decoded from.
var decodedBuckets sync.Map // string(bucketKey) → *decodedBucket

type decodedBucket struct {
	raw []byte
	b   bucket
}

// getBucket returns the bucket, or nil when there is none. The result is the
// caller's: its fields may be replaced (b.CORS = ...), but what they point to
// is shared with other callers and must not be modified in place.
func getBucket(tx store.Tx, name string) (*bucket, error) {
	k := bucketKey(name)
	v, err := tx.Get(k)
	if err != nil || v == nil {
		if v == nil && err == nil {
			decodedBuckets.Delete(string(k))
		}
		return nil, err
	}
	var b *bucket
	if c, ok := decodedBuckets.Load(string(k)); ok && bytes.Equal(c.(*decodedBucket).raw, v) {
		copied := c.(*decodedBucket).b
		b = &copied
	} else {
		b = &bucket{}
		if err := json.Unmarshal(v, b); err != nil {
			return nil, fmt.Errorf("s3: bucket %s: %w", name, err)
		}
		decodedBuckets.Store(string(k), &decodedBucket{raw: bytes.Clone(v), b: *b})
	}
	if b.accountBlock, err = accountBlock(tx, b.Account); err != nil {
		return nil, err
	}
	return b, nil
}

func putBucket(tx store.Tx, b *bucket) error {
	v, err := json.Marshal(b)
	if err != nil {
		return err
	}
	return tx.Put(bucketKey(b.Name), v)
}

// ownBucket returns the bucket the caller may use, or NoSuchBucket /
// AccessDenied: another account's bucket, or any bucket for an anonymous
// caller, only when its bucket policy granted this request (the authorizer
// says so on the caller).
func ownBucket(ctx context.Context, tx store.Tx, name string) (*bucket, error) {
	b, err := getBucket(tx, name)
	if err != nil {
		return nil, err
	}
	if b == nil {
		return nil, noSuchBucket(name)
	}
	if c := caller(ctx); (c.Anonymous || c.Account != "" && c.Account != b.Account) && !c.ResourcePolicyGrant {
		return nil, accessDenied()
	}
	return b, nil
}

func (s *Service) viewBucket(ctx context.Context, name string) (*bucket, error) {
	var b *bucket
	err := s.st.View(func(tx store.Tx) error {
		var err error
		b, err = ownBucket(ctx, tx, name)
		return err
	})
	return b, err
}

// updateBucket applies fn to the caller's bucket and stores it.
func (s *Service) updateBucket(ctx context.Context, name string, fn func(b *bucket) error) error {
	return s.st.Update(func(tx store.Tx) error {
		b, err := ownBucket(ctx, tx, name)
		if err != nil {
			return err
		}
		if err := fn(b); err != nil {
			return err
		}
		return putBucket(tx, b)
	})
}

// owner is the canonical user of an account: S3 shows a 64-hex-digit id.
func owner(account string) *s3api.Owner {
	return &s3api.Owner{ID: awsapi.String(canonicalID(account)), DisplayName: awsapi.String(account)}
}

// CreateBucket creates a bucket in the caller's region.
func (s *Service) CreateBucket(ctx context.Context, in *s3api.CreateBucketInput) (*s3api.CreateBucketOutput, error) {
	name := awsapi.ToString(in.Bucket)
	if !validBucketName(name) {
		return nil, invalidBucketName(name)
	}
	region := s.regionOf(ctx)
	var constraint string
	var tags []s3api.Tag
	if c := in.CreateBucketConfiguration; c != nil {
		constraint = awsapi.ToString(c.LocationConstraint)
		tags = c.Tags
	}
	if err := validTags(tags, true); err != nil {
		return nil, err
	}
	// CreateBucket docs: us-east-1 takes no constraint; elsewhere the
	// constraint must name the endpoint's region. The us-east-1 endpoint
	// (s3.amazonaws.com) creates a bucket in any region its constraint names.
	invalid := s3api.ErrInvalidLocationConstraint("The specified location-constraint is not valid").WithFields(map[string]any{"LocationConstraint": constraint})
	switch {
	case constraint == "" && region != "us-east-1":
		return nil, s3api.ErrIllegalLocationConstraintException("The unspecified location constraint is incompatible for the region specific endpoint this request was sent to.")
	case constraint == "us-east-1" && region == "us-east-1":
		return nil, invalid
	case constraint != "" && region == "us-east-1":
		if constraint == "EU" {
			region = "eu-west-1"
		} else if !regionName.MatchString(constraint) {
			return nil, invalid
		} else {
			region = constraint
		}
	case constraint != "" && constraint != region && !(constraint == "EU" && region == "eu-west-1"):
		return nil, s3api.ErrIllegalLocationConstraintException("The %s location constraint is incompatible for the region specific endpoint this request was sent to.", constraint)
	}
	ownership := awsapi.ToString(in.ObjectOwnership)
	if ownership == "" {
		ownership = defaultOwnership
	} else if !validOwnership(ownership) {
		return nil, invalidOwnership(ownership)
	}
	lock := awsapi.ToBool(in.ObjectLockEnabledForBucket)
	acct := caller(ctx).Account
	// A new bucket has ACLs disabled and Block Public Access on unless the
	// request says otherwise: an ACL beyond the owner's full control is
	// refused with the first, a public one with the second ("Default
	// settings for new S3 buckets").
	var acl *[]grant
	if r := (aclRequest{in.ACL, in.GrantFullControl, in.GrantRead, in.GrantReadACP, in.GrantWrite, in.GrantWriteACP, nil}); r.present() {
		gs, err := r.grants(acct, acct)
		if err != nil {
			return nil, err
		}
		switch {
		case onlyFullControl(gs, acct):
		case ownership == ownerEnforced:
			return nil, s3api.ErrInvalidBucketAclWithObjectOwnership("Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting")
		case publicGrants(gs):
			return nil, s3api.ErrInvalidBucketAclWithBlockPublicAccessError("Bucket cannot have public ACLs set with BlockPublicAccess enabled")
		default:
			acl = &gs
		}
	}
	err := s.st.Update(func(tx store.Tx) error {
		old, err := getBucket(tx, name)
		if err != nil {
			return err
		}
		if old != nil {
			if old.Account != acct {
				return s3api.ErrBucketAlreadyExists("The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.").WithFields(map[string]any{"BucketName": name})
			}
			// CreateBucket docs: "For legacy compatibility, if you re-create an
			// existing bucket that you already own in the North Virginia Region,
			// Amazon S3 returns 200 OK and resets the bucket access control
			// lists (ACLs)": to the request's, the owner's alone without one.
			if old.Region == "us-east-1" && region == "us-east-1" {
				if aclsDisabled(old) {
					return nil
				}
				old.ACL = acl
				return putBucket(tx, old)
			}
			return s3api.ErrBucketAlreadyOwnedByYou("Your previous request to create the named bucket succeeded and you already own it.").WithFields(map[string]any{"BucketName": name})
		}
		b := &bucket{Name: name, Account: acct, Region: region, Created: s.nowMillis(), Tags: tags,
			PublicAccessBlock: allBlocked(), Ownership: ownership, ObjectLock: lock, ACL: acl}
		// Object Lock needs versioning: S3 enables it with the lock
		// (CreateBucket docs, x-amz-bucket-object-lock-enabled).
		if lock {
			b.Versioning = "Enabled"
		}
		if err := putBucket(tx, b); err != nil {
			return err
		}
		return tx.Put(accountBucketKey(acct, name), nil)
	})
	if err != nil {
		return nil, err
	}
	return &s3api.CreateBucketOutput{Location: awsapi.String("/" + name), BucketArn: awsapi.String(bucketARN(name))}, nil
}

// DeleteBucket deletes an empty bucket, and any multipart uploads left in it.
func (s *Service) DeleteBucket(ctx context.Context, in *s3api.DeleteBucketInput) (*s3api.DeleteBucketOutput, error) {
	name := awsapi.ToString(in.Bucket)
	var garbage []string
	err := s.st.Update(func(tx store.Tx) error {
		garbage = garbage[:0]
		b, err := ownBucket(ctx, tx, name)
		if err != nil {
			return err
		}
		empty := true
		for _, p := range [][]byte{objectPrefix(name), versionPrefix(name)} {
			if err := tx.Scan(p, nil, func(k, v []byte) (bool, error) {
				empty = false
				return false, nil
			}); err != nil {
				return err
			}
		}
		if !empty {
			msg := "The bucket you tried to delete is not empty"
			if b.versioned() {
				msg += ". You must delete all versions in the bucket."
			}
			return s3api.ErrBucketNotEmpty("%s", msg).WithFields(map[string]any{"BucketName": name})
		}
		var uploads [][]byte
		if err := tx.Scan(uploadPrefix(name), nil, func(k, v []byte) (bool, error) {
			uploads = append(uploads, append([]byte(nil), k...))
			var u upload
			if json.Unmarshal(v, &u) == nil {
				parts, err := listParts(tx, u.ID)
				if err != nil {
					return false, err
				}
				for _, p := range parts {
					garbage = append(garbage, p.Blob)
				}
			}
			return true, nil
		}); err != nil {
			return err
		}
		for _, k := range uploads {
			id := string(k[strings.IndexByte(string(k), 0)+1:])
			if err := deletePrefix(tx, partPrefix(id)); err != nil {
				return err
			}
			if err := tx.Delete(k); err != nil {
				return err
			}
		}
		if err := dropInline(tx, garbage); err != nil {
			return err
		}
		if err := tx.Delete(accountBucketKey(b.Account, name)); err != nil {
			return err
		}
		return tx.Delete(bucketKey(name))
	})
	if err != nil {
		return nil, err
	}
	s.dropBlobs(garbage)
	return &s3api.DeleteBucketOutput{}, nil
}

func deletePrefix(tx store.Tx, prefix []byte) error {
	var keys [][]byte
	if err := tx.Scan(prefix, nil, func(k, v []byte) (bool, error) {
		keys = append(keys, append([]byte(nil), k...))
		return true, nil
	}); err != nil {
		return err
	}
	for _, k := range keys {
		if err := tx.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

func (s *Service) dropBlobs(ids []string) {
	if err := s.blobs.remove(ids...); err != nil {
		s.log.Warn("s3: remove unreferenced blob", "err", err)
	}
}

// HeadBucket reports whether the bucket exists and the caller may use it.
func (s *Service) HeadBucket(ctx context.Context, in *s3api.HeadBucketInput) (*s3api.HeadBucketOutput, error) {
	b, err := s.viewBucket(ctx, awsapi.ToString(in.Bucket))
	if err != nil {
		return nil, err
	}
	return &s3api.HeadBucketOutput{BucketRegion: awsapi.String(b.Region), BucketArn: awsapi.String(bucketARN(b.Name)),
		AccessPointAlias: awsapi.Bool(false)}, nil
}

// GetBucketLocation returns the bucket's region; us-east-1 is an empty constraint.
func (s *Service) GetBucketLocation(ctx context.Context, in *s3api.GetBucketLocationInput) (*s3api.GetBucketLocationOutput, error) {
	b, err := s.viewBucket(ctx, awsapi.ToString(in.Bucket))
	if err != nil {
		return nil, err
	}
	out := &s3api.GetBucketLocationOutput{}
	if b.Region != "us-east-1" {
		out.LocationConstraint = awsapi.String(b.Region)
	}
	return out, nil
}

// ListBuckets lists the caller's buckets by name, paginated when asked.
func (s *Service) ListBuckets(ctx context.Context, in *s3api.ListBucketsInput) (*s3api.ListBucketsOutput, error) {
	acct := caller(ctx).Account
	limit := int(awsapi.ToInt32(in.MaxBuckets))
	if in.MaxBuckets != nil && (limit < 1 || limit > 10000) {
		return nil, invalidArgument("Argument max-buckets must be an integer between 1 and 10000.", "max-buckets", fmt.Sprint(limit))
	}
	var start []byte
	if t := awsapi.ToString(in.ContinuationToken); t != "" {
		after, err := base64.RawURLEncoding.DecodeString(t)
		if err != nil {
			return nil, invalidArgument("The continuation token provided is incorrect", "continuation-token", t)
		}
		start = append(accountBucketKey(acct, string(after)), 0)
	}
	prefix := awsapi.ToString(in.Prefix)
	out := &s3api.ListBucketsOutput{Owner: owner(acct), Buckets: []s3api.Bucket{}}
	if in.Prefix != nil {
		out.Prefix = in.Prefix
	}
	err := s.st.View(func(tx store.Tx) error {
		return tx.Scan(append(accountPrefix(acct), prefix...), start, func(k, _ []byte) (bool, error) {
			name := string(k[len(accountPrefix(acct)):])
			if limit > 0 && len(out.Buckets) == limit {
				last := awsapi.ToString(out.Buckets[len(out.Buckets)-1].Name)
				out.ContinuationToken = awsapi.String(base64.RawURLEncoding.EncodeToString([]byte(last)))
				return false, nil
			}
			b, err := getBucket(tx, name)
			if err != nil || b == nil {
				return err == nil, err
			}
			if r := awsapi.ToString(in.BucketRegion); r != "" && r != b.Region {
				return true, nil
			}
			created := b.Created
			out.Buckets = append(out.Buckets, s3api.Bucket{Name: awsapi.String(name), CreationDate: &created,
				BucketRegion: awsapi.String(b.Region), BucketArn: awsapi.String(bucketARN(name))})
			return true, nil
		})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Bucket configurations that are stored and returned.

// PutBucketTagging replaces the bucket's tags.
func (s *Service) PutBucketTagging(ctx context.Context, in *s3api.PutBucketTaggingInput) (*s3api.PutBucketTaggingOutput, error) {
	if in.Tagging == nil {
		return nil, malformedXML()
	}
	if err := validTags(in.Tagging.TagSet, true); err != nil {
		return nil, err
	}
	err := s.updateBucket(ctx, awsapi.ToString(in.Bucket), func(b *bucket) error {
		b.Tags = in.Tagging.TagSet
		return nil
	})
	return &s3api.PutBucketTaggingOutput{}, err
}

// GetBucketTagging returns the bucket's tags, or NoSuchTagSet.
func (s *Service) GetBucketTagging(ctx context.Context, in *s3api.GetBucketTaggingInput) (*s3api.GetBucketTaggingOutput, error) {
	b, err := s.viewBucket(ctx, awsapi.ToString(in.Bucket))
	if err != nil {
		return nil, err
	}
	if len(b.Tags) == 0 {
		return nil, s3api.ErrNoSuchTagSet("The TagSet does not exist").WithFields(map[string]any{"BucketName": b.Name})
	}
	return &s3api.GetBucketTaggingOutput{TagSet: b.Tags}, nil
}

// DeleteBucketTagging removes the bucket's tags.
func (s *Service) DeleteBucketTagging(ctx context.Context, in *s3api.DeleteBucketTaggingInput) (*s3api.DeleteBucketTaggingOutput, error) {
	err := s.updateBucket(ctx, awsapi.ToString(in.Bucket), func(b *bucket) error {
		b.Tags = nil
		return nil
	})
	return &s3api.DeleteBucketTaggingOutput{}, err
}

// validTags applies the tag limits (Tagging docs): at most 10 tags on an
// object and 50 on a bucket, keys of up to 128 characters, values of up to
// 256, no duplicate keys, no keys in the aws: namespace, which AWS reserves
// for its own tags. The count is S3's BadRequest, the rest InvalidTag, each
// in S3's words.
func validTags(tags []s3api.Tag, onBucket bool) error {
	if !onBucket && len(tags) > 10 {
		return s3api.ErrBadRequest("Object tags cannot be greater than 10")
	}
	if onBucket && len(tags) > 50 {
		return s3api.ErrBadRequest("Bucket tag count cannot be greater than 50")
	}
	seen := map[string]bool{}
	for _, t := range tags {
		k, v := awsapi.ToString(t.Key), awsapi.ToString(t.Value)
		if k == "" || len([]rune(k)) > 128 {
			return s3api.ErrInvalidTag("The TagKey you have provided is invalid")
		}
		if len([]rune(v)) > 256 {
			return s3api.ErrInvalidTag("The TagValue you have provided is invalid")
		}
		if seen[k] {
			return s3api.ErrInvalidTag("Cannot provide multiple Tags with the same key")
		}
		seen[k] = true
		if len(k) >= 4 && strings.EqualFold(k[:4], "aws:") {
			if onBucket {
				return s3api.ErrInvalidTag("System tags cannot be added/updated by requester")
			}
			return s3api.ErrInvalidTag("Your TagKey cannot be prefixed with aws:")
		}
	}
	return nil
}

// PutBucketVersioning enables or suspends versioning. The first time it is
// set, the objects already in the bucket become "null" versions.
func (s *Service) PutBucketVersioning(ctx context.Context, in *s3api.PutBucketVersioningInput) (*s3api.PutBucketVersioningOutput, error) {
	c := in.VersioningConfiguration
	if c == nil {
		return nil, malformedXML()
	}
	status := awsapi.ToString(c.Status)
	if status != "Enabled" && status != "Suspended" {
		return nil, malformedXML()
	}
	name := awsapi.ToString(in.Bucket)
	err := s.st.Update(func(tx store.Tx) error {
		b, err := ownBucket(ctx, tx, name)
		if err != nil {
			return err
		}
		// Versioning of a bucket with Object Lock stays Enabled
		// (PutBucketVersioning docs).
		if b.ObjectLock && status != "Enabled" {
			return invalidBucketState("An Object Lock configuration is present on this bucket, so the versioning state cannot be changed.")
		}
		if !b.versioned() {
			if err := migrateToVersions(tx, name); err != nil {
				return err
			}
		}
		b.Versioning = status
		return putBucket(tx, b)
	})
	return &s3api.PutBucketVersioningOutput{}, err
}

// migrateToVersions copies every current object into the version index.
func migrateToVersions(tx store.Tx, name string) error {
	var objs []*object
	if err := tx.Scan(objectPrefix(name), nil, func(k, v []byte) (bool, error) {
		o, err := decodeObject(v)
		if err != nil {
			return false, err
		}
		objs = append(objs, o)
		return true, nil
	}); err != nil {
		return err
	}
	for _, o := range objs {
		if err := putObject(tx, versionKey(name, o.Key, o.Seq), o); err != nil {
			return err
		}
	}
	return nil
}

// GetBucketVersioning returns the versioning status; never-versioned buckets have none.
func (s *Service) GetBucketVersioning(ctx context.Context, in *s3api.GetBucketVersioningInput) (*s3api.GetBucketVersioningOutput, error) {
	b, err := s.viewBucket(ctx, awsapi.ToString(in.Bucket))
	if err != nil {
		return nil, err
	}
	out := &s3api.GetBucketVersioningOutput{}
	if b.Versioning != "" {
		out.Status = awsapi.String(b.Versioning)
	}
	return out, nil
}

// PutBucketPolicy stores the bucket policy, which the authorizer enforces;
// a public policy is refused while Block Public Access blocks public
// policies.
func (s *Service) PutBucketPolicy(ctx context.Context, in *s3api.PutBucketPolicyInput) (*s3api.PutBucketPolicyOutput, error) {
	p := awsapi.ToString(in.Policy)
	var doc map[string]any
	if json.Unmarshal([]byte(p), &doc) != nil {
		return nil, s3api.ErrMalformedPolicy("Policies must be valid JSON and the first byte must be '{'")
	}
	if _, ok := doc["Statement"]; !ok {
		return nil, s3api.ErrMalformedPolicy("Missing required field Statement")
	}
	// S3 refuses a policy it cannot evaluate rather than store it; its
	// words for what IAM's grammar refuses are IAM's.
	pol, err := iampolicy.Parse(p, iampolicy.Resource)
	if err != nil {
		msg := "Invalid policy"
		if e := apierr.As(err); e != nil {
			msg = e.Message
		}
		return nil, s3api.ErrMalformedPolicy("%s", msg)
	}
	for _, st := range pol.Statements {
		// "NotPrincipal must be used with "Effect":"Deny". Using it with
		// "Effect":"Allow" is not supported" (IAM JSON policy elements:
		// NotPrincipal); the wording is wharf's.
		if st.NotPrincipal && st.Effect == iampolicy.Allow {
			return nil, s3api.ErrMalformedPolicy("NotPrincipal is supported only with Effect Deny")
		}
	}
	err = s.updateBucket(ctx, awsapi.ToString(in.Bucket), func(b *bucket) error {
		if blocks(b, blockPublicPolicy) && publicPolicy(p) {
			return publicPolicyBlocked(ctx, b.Name)
		}
		b.Policy = p
		return nil
	})
	return &s3api.PutBucketPolicyOutput{}, err
}

// GetBucketPolicy returns the stored policy, or NoSuchBucketPolicy.
func (s *Service) GetBucketPolicy(ctx context.Context, in *s3api.GetBucketPolicyInput) (*s3api.GetBucketPolicyOutput, error) {
	b, err := s.viewBucket(ctx, awsapi.ToString(in.Bucket))
	if err != nil {
		return nil, err
	}
	if b.Policy == "" {
		return nil, noSuchBucketPolicy(b.Name)
	}
	return &s3api.GetBucketPolicyOutput{Policy: awsapi.String(b.Policy)}, nil
}

func noSuchBucketPolicy(name string) error {
	return s3api.ErrNoSuchBucketPolicy("The bucket policy does not exist").WithFields(map[string]any{"BucketName": name})
}

// DeleteBucketPolicy removes the policy.
func (s *Service) DeleteBucketPolicy(ctx context.Context, in *s3api.DeleteBucketPolicyInput) (*s3api.DeleteBucketPolicyOutput, error) {
	err := s.updateBucket(ctx, awsapi.ToString(in.Bucket), func(b *bucket) error {
		b.Policy = ""
		return nil
	})
	return &s3api.DeleteBucketPolicyOutput{}, err
}

// PutBucketCors stores the CORS rules.
func (s *Service) PutBucketCors(ctx context.Context, in *s3api.PutBucketCorsInput) (*s3api.PutBucketCorsOutput, error) {
	c := in.CORSConfiguration
	if c == nil || len(c.CORSRules) == 0 || len(c.CORSRules) > 100 {
		return nil, malformedXML()
	}
	for _, r := range c.CORSRules {
		if len(r.AllowedMethods) == 0 || len(r.AllowedOrigins) == 0 {
			return nil, malformedXML()
		}
		for _, m := range r.AllowedMethods {
			switch m {
			case "GET", "PUT", "POST", "DELETE", "HEAD":
			default:
				return nil, invalidRequest("Found unsupported HTTP method in CORS config. Unsupported method is " + m)
			}
		}
	}
	err := s.updateBucket(ctx, awsapi.ToString(in.Bucket), func(b *bucket) error {
		b.CORS = c
		return nil
	})
	return &s3api.PutBucketCorsOutput{}, err
}

// GetBucketCors returns the CORS rules, or NoSuchCORSConfiguration.
func (s *Service) GetBucketCors(ctx context.Context, in *s3api.GetBucketCorsInput) (*s3api.GetBucketCorsOutput, error) {
	b, err := s.viewBucket(ctx, awsapi.ToString(in.Bucket))
	if err != nil {
		return nil, err
	}
	if b.CORS == nil {
		return nil, s3api.ErrNoSuchCORSConfiguration("The CORS configuration does not exist").WithFields(map[string]any{"BucketName": b.Name})
	}
	return &s3api.GetBucketCorsOutput{CORSRules: b.CORS.CORSRules}, nil
}

// DeleteBucketCors removes the CORS rules.
func (s *Service) DeleteBucketCors(ctx context.Context, in *s3api.DeleteBucketCorsInput) (*s3api.DeleteBucketCorsOutput, error) {
	err := s.updateBucket(ctx, awsapi.ToString(in.Bucket), func(b *bucket) error {
		b.CORS = nil
		return nil
	})
	return &s3api.DeleteBucketCorsOutput{}, err
}

// PutBucketLifecycleConfiguration stores the lifecycle rules (not applied yet).
func (s *Service) PutBucketLifecycleConfiguration(ctx context.Context, in *s3api.PutBucketLifecycleConfigurationInput) (*s3api.PutBucketLifecycleConfigurationOutput, error) {
	c := in.LifecycleConfiguration
	if c == nil || len(c.Rules) == 0 {
		return nil, malformedXML()
	}
	// Rule checks in S3's words (PutBucketLifecycleConfiguration docs): IDs
	// of up to 255 characters, unique, generated when left out.
	ids := map[string]bool{}
	for i := range c.Rules {
		r := &c.Rules[i]
		st := awsapi.ToString(r.Status)
		if st != "Enabled" && st != "Disabled" {
			return nil, malformedXML()
		}
		if r.ID == nil || *r.ID == "" {
			r.ID = awsapi.String(s.randomHex(24))
		}
		id := *r.ID
		if len(id) > 255 {
			return nil, invalidArgument("ID length should not exceed allowed limit of 255", "ID", id)
		}
		if ids[id] {
			return nil, invalidArgument("Rule ID must be unique. Found same ID for more than one rule", "ID", id)
		}
		ids[id] = true
		if e := r.Expiration; e != nil && e.Days != nil && *e.Days <= 0 {
			return nil, invalidArgument("'Days' for Expiration action must be a positive integer", "Days", fmt.Sprint(*e.Days))
		}
		// A lifecycle date is a day: S3 acts at midnight UTC and refuses
		// any other time of day ("Lifecycle configuration elements" in the
		// S3 user guide: the date must be at midnight UTC).
		dates := []*time.Time{}
		if r.Expiration != nil {
			dates = append(dates, r.Expiration.Date)
		}
		for _, t := range r.Transitions {
			dates = append(dates, t.Date)
		}
		for _, d := range dates {
			if d != nil && !d.UTC().Equal(d.UTC().Truncate(24*time.Hour)) {
				return nil, invalidArgument("'Date' must be at midnight GMT", "Date", d.UTC().Format(time.RFC3339))
			}
		}
	}
	size := awsapi.ToString(in.TransitionDefaultMinimumObjectSize)
	switch size {
	case "", defaultMinimumObjectSize, "varies_by_storage_class":
	default:
		return nil, invalidRequest("Invalid TransitionDefaultMinimumObjectSize: " + size)
	}
	err := s.updateBucket(ctx, awsapi.ToString(in.Bucket), func(b *bucket) error {
		b.Lifecycle = c
		b.LifecycleMinSize = size
		return nil
	})
	if err != nil {
		return nil, err
	}
	if size == "" {
		size = defaultMinimumObjectSize
	}
	return &s3api.PutBucketLifecycleConfigurationOutput{TransitionDefaultMinimumObjectSize: awsapi.String(size)}, nil
}

// GetBucketLifecycleConfiguration returns the stored rules, or NoSuchLifecycleConfiguration.
func (s *Service) GetBucketLifecycleConfiguration(ctx context.Context, in *s3api.GetBucketLifecycleConfigurationInput) (*s3api.GetBucketLifecycleConfigurationOutput, error) {
	b, err := s.viewBucket(ctx, awsapi.ToString(in.Bucket))
	if err != nil {
		return nil, err
	}
	if b.Lifecycle == nil {
		return nil, s3api.ErrNoSuchLifecycleConfiguration("The lifecycle configuration does not exist").WithFields(map[string]any{"BucketName": b.Name})
	}
	size := b.LifecycleMinSize
	if size == "" {
		size = defaultMinimumObjectSize
	}
	return &s3api.GetBucketLifecycleConfigurationOutput{Rules: b.Lifecycle.Rules, TransitionDefaultMinimumObjectSize: awsapi.String(size)}, nil
}

// DeleteBucketLifecycle removes the lifecycle rules.
func (s *Service) DeleteBucketLifecycle(ctx context.Context, in *s3api.DeleteBucketLifecycleInput) (*s3api.DeleteBucketLifecycleOutput, error) {
	err := s.updateBucket(ctx, awsapi.ToString(in.Bucket), func(b *bucket) error {
		b.Lifecycle = nil
		b.LifecycleMinSize = ""
		return nil
	})
	return &s3api.DeleteBucketLifecycleOutput{}, err
}
