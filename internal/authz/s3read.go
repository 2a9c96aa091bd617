package authz

import (
	"context"
	"strings"

	"github.com/wharf-dev/wharf/internal/iampolicy"
)

// missingObject decides a GetObject or HeadObject (req, its s3:GetObject
// check under ps) of an object that may not exist. S3 answers the read of a
// missing object by s3:ListBucket: "If you have the s3:ListBucket
// permission on the bucket, Amazon S3 returns an HTTP status code 404 Not
// Found error. If you don't have the s3:ListBucket permission, Amazon S3
// returns an HTTP status code 403 Access Denied error" (GetObject and
// HeadObject docs, Permissions), whatever s3:GetObject says, which on a
// missing object no object ACL can grant. The listing is checked for the
// object's key as its s3:prefix, so a policy that lets a caller list only
// under a prefix reveals only what is missing there. missing is false when
// the object exists: req's decision stands.
func (a *Authorizer) missingObject(ctx context.Context, req *iampolicy.Request, ps iampolicy.Policies) (list *iampolicy.Request, d iampolicy.Decision, missing bool, err error) {
	if a.o.ObjectExists == nil {
		return nil, d, false, nil
	}
	bucket, key, ok := strings.Cut(strings.TrimPrefix(req.Resource, "arn:aws:s3:::"), "/")
	if !ok {
		return nil, d, false, nil
	}
	exists, err := a.o.ObjectExists(ctx, req.Resource)
	if err != nil || exists {
		return nil, d, false, err
	}
	list = &iampolicy.Request{Principal: req.Principal, Action: "s3:ListBucket", Resource: "arn:aws:s3:::" + bucket,
		ResourceAccount: req.ResourceAccount, Context: make(iampolicy.Context, len(req.Context)+1), Base: req.Base}
	for k, v := range req.Context {
		list.Context[k] = v
	}
	list.Context.Set("s3:prefix", key)
	ps.Resource = nil
	if a.o.ResourcePolicy != nil {
		doc, owner, err := a.o.ResourcePolicy(ctx, list.Resource)
		if err != nil {
			return nil, d, false, err
		}
		if owner != "" {
			list.ResourceAccount = owner
		}
		if p := a.parse(doc, iampolicy.Resource); p != nil {
			ps.Resource = []iampolicy.Named{{Name: "resource policy", Policy: p}}
		}
	}
	return list, iampolicy.Evaluate(list, ps), true, nil
}
