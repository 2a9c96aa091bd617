package s3

import (
	"context"
	"encoding/json"
	"sort"
	"strings"

	"github.com/wharf-dev/wharf/internal/apierr"
	"github.com/wharf-dev/wharf/internal/awsapi"
	"github.com/wharf-dev/wharf/internal/store"
)

// ObjectTags returns the tags of the current version of key in bucket, for
// the authorizer's s3:ExistingObjectTag keys; nil when there is no such
// object (the operation then reports it). It does not check who asks.
func (s *Service) ObjectTags(bucket, key string) (map[string]string, error) {
	_, o, _, err := s.openObject(context.Background(), bucket, key, "", false)
	if err != nil {
		if apierr.As(err) != nil {
			return nil, nil
		}
		return nil, err
	}
	tags := make(map[string]string, len(o.Tags))
	for _, t := range o.Tags {
		tags[awsapi.ToString(t.Key)] = awsapi.ToString(t.Value)
	}
	return tags, nil
}

// ObjectExists reports whether bucket has a current version of key (not a
// delete marker), for the authorizer's answer to a read of a missing
// object. A missing bucket counts as existing: the operation reports it. It
// does not check who asks.
func (s *Service) ObjectExists(bucket, key string) (bool, error) {
	_, _, _, err := s.openObject(context.Background(), bucket, key, "", false)
	if e := apierr.As(err); e != nil {
		return e.Code != "NoSuchKey", nil
	}
	return err == nil, err
}

// BucketPolicy returns the bucket policy of bucket name and the account that
// owns the bucket, for the authorizer; found is false when there is no such
// bucket. It does not check who asks: the authorizer decides with it.
func (s *Service) BucketPolicy(name string) (policy, account string, found bool, err error) {
	err = s.st.View(func(tx store.Tx) error {
		b, err := getBucket(tx, name)
		if err != nil || b == nil {
			return err
		}
		policy, account, found = b.Policy, b.Account, true
		return nil
	})
	return policy, account, found, err
}

// ResourcePolicy is what the authorizer evaluates as the resource-based
// policy of resource ("bucket" or "bucket/key"), for the caller in ctx, and
// the account owning the bucket ("" when there is none). S3 grants access
// through the bucket policy and, where Object Ownership leaves ACLs
// enabled, through the bucket's and the object's ACLs ("How Amazon S3
// authorizes a request"); each ACL grant becomes an Allow statement of the
// actions its permission maps to ("Mapping of ACL permissions and access
// policy permissions"). Block Public Access applies here: IgnorePublicAcls
// drops the grants to AllUsers and AuthenticatedUsers, and
// RestrictPublicBuckets keeps a public policy's Allows from anyone outside
// the bucket owner's account.
func (s *Service) ResourcePolicy(ctx context.Context, resource string) (policy, account string, err error) {
	name, key, isObject := strings.Cut(resource, "/")
	var b *bucket
	var o *object
	err = s.st.View(func(tx store.Tx) error {
		var err error
		if b, err = getBucket(tx, name); err != nil || b == nil {
			return err
		}
		if isObject && !aclsDisabled(b) {
			o, err = getObject(tx, objectKey(name, key))
		}
		return err
	})
	if err != nil || b == nil {
		return "", "", err
	}
	c := caller(ctx)
	if c.Operation == "CreateBucket" {
		// The bucket a CreateBucket names is the caller's to be; one that
		// exists answers BucketAlreadyExists, whoever owns it.
		return "", "", nil
	}
	outsider := c.Anonymous || c.Account != b.Account
	var stmts []json.RawMessage
	version := "2012-10-17"
	if b.Policy != "" {
		var doc struct {
			Version   string
			Statement json.RawMessage
		}
		if json.Unmarshal([]byte(b.Policy), &doc) != nil {
			return "", b.Account, nil // a policy that does not parse grants nothing
		}
		if doc.Version != "" {
			version = doc.Version
		}
		if err := json.Unmarshal(doc.Statement, &stmts); err != nil {
			stmts = []json.RawMessage{doc.Statement} // a single statement
		}
		if blocks(b, restrictPublicBuckets) && outsider {
			kept := stmts[:0:0]
			for _, st := range stmts {
				if !publicPolicy(`{"Version":"2012-10-17","Statement":[` + string(st) + `]}`) {
					kept = append(kept, st)
				}
			}
			stmts = kept
		}
	}
	if !aclsDisabled(b) {
		ignorePublic := blocks(b, ignorePublicAcls)
		add := func(gs []grant, perms map[string][]string) {
			for _, g := range gs {
				if st := aclStatement(g, perms[g.Permission], c.Anonymous, ignorePublic); st != nil {
					stmts = append(stmts, st)
				}
			}
		}
		if isObject {
			add(bucketGrants(b), bucketObjectActions)
			if o != nil && !o.DeleteMarker {
				add(objectGrants(b, o), objectActions)
			}
		} else {
			add(bucketGrants(b), bucketActions)
		}
	}
	if len(stmts) == 0 {
		return "", b.Account, nil
	}
	doc, err := json.Marshal(map[string]any{"Version": version, "Statement": stmts})
	return string(doc), b.Account, err
}

// The actions each ACL permission allows ("Mapping of ACL permissions and
// access policy permissions" in the S3 user guide): on the bucket, on the
// objects of the bucket (a bucket's WRITE is what lets a grantee create and
// delete objects in it), and on an object.
var (
	bucketActions = fullControl(map[string][]string{
		permRead:     {"s3:ListBucket", "s3:ListBucketVersions", "s3:ListBucketMultipartUploads"},
		permReadACP:  {"s3:GetBucketAcl"},
		permWriteACP: {"s3:PutBucketAcl"},
	})
	bucketObjectActions = fullControl(map[string][]string{
		permWrite: {"s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"},
	})
	objectActions = fullControl(map[string][]string{
		permRead:     {"s3:GetObject", "s3:GetObjectVersion", "s3:GetObjectTorrent"},
		permReadACP:  {"s3:GetObjectAcl", "s3:GetObjectVersionAcl"},
		permWriteACP: {"s3:PutObjectAcl", "s3:PutObjectVersionAcl"},
	})
)

// fullControl adds FULL_CONTROL, every action of the others, to m.
func fullControl(m map[string][]string) map[string][]string {
	var all []string
	for _, as := range m {
		all = append(all, as...)
	}
	sort.Strings(all) // the same policy text each time: the authorizer caches by it
	m[permFull] = all
	return m
}

// aclStatement is grant g as a policy statement allowing actions, nil when
// it allows nothing to this caller.
func aclStatement(g grant, actions []string, anonymous, ignorePublic bool) json.RawMessage {
	if len(actions) == 0 {
		return nil
	}
	var principal any
	switch g.URI {
	case groupAllUsers:
		principal = "*"
	case groupAuthenticated:
		if anonymous {
			return nil
		}
		principal = "*"
	case groupLogDelivery:
		principal = map[string]string{"Service": "logging.s3.amazonaws.com"}
	case "":
		acct, ok := canonicalAccount(g.ID)
		if !ok {
			return nil
		}
		principal = map[string]string{"AWS": acct}
	default:
		return nil
	}
	if ignorePublic && (g.URI == groupAllUsers || g.URI == groupAuthenticated) {
		return nil
	}
	st, _ := json.Marshal(map[string]any{"Effect": "Allow", "Principal": principal,
		"Action": actions, "Resource": "*"})
	return st
}
