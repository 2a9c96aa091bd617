package s3

import (
	"context"
	"strings"

	"github.com/wharf-dev/wharf/internal/awsapi"
	s3api "github.com/wharf-dev/wharf/internal/awsapi/s3"
	"github.com/wharf-dev/wharf/internal/iampolicy"
)

// fixedValueKeys are the condition keys that, given fixed values, make a
// statement with a wildcard principal non-public ("The meaning of 'public'"
// in the S3 user guide, Blocking public access).
var fixedValueKeys = map[string]bool{
	"aws:sourceip": true, "aws:sourcearn": true, "aws:sourcevpc": true, "aws:sourcevpce": true,
	"aws:sourceowner": true, "aws:sourceaccount": true, "aws:userid": true, "aws:principalarn": true,
	"aws:principalaccount": true, "aws:principalorgid": true, "aws:principalorgpaths": true,
	"aws:sourceorgid": true, "aws:sourceorgpaths": true, "s3:x-amz-server-side-encryption-aws-kms-key-id": true,
	"s3:dataaccesspointarn": true, "s3:dataaccesspointaccount": true,
}

// publicPolicy reports whether a bucket policy grants public access: an
// Allow to every principal ("*", or {"AWS": "*"}) that no condition on a
// fixed-value key narrows.
func publicPolicy(doc string) bool {
	p, err := iampolicy.Parse(doc, iampolicy.Resource)
	if err != nil {
		return false
	}
	for _, s := range p.Statements {
		if s.Effect != iampolicy.Allow || s.NotPrincipal {
			continue
		}
		anyone := s.AnyPrincipal
		for _, v := range s.Principals["AWS"] {
			anyone = anyone || v == "*"
		}
		if !anyone {
			continue
		}
		narrowed := false
		for _, c := range s.Conditions {
			if !fixedValueKeys[strings.ToLower(c.Key)] {
				continue
			}
			fixed := true
			for _, v := range c.Values {
				if strings.ContainsAny(v, "*?") || v == "0.0.0.0/0" || v == "::/0" {
					fixed = false
				}
			}
			narrowed = narrowed || fixed
		}
		if !narrowed {
			return true
		}
	}
	return false
}

// GetBucketPolicyStatus says whether the bucket's policy makes it public.
// It is the policy's status: the bucket's ACL has no say, and a bucket
// without a policy has no status, which S3 answers with NoSuchBucketPolicy
// as GetBucketPolicy does (what inventory tools such as CloudQuery and
// Steampipe get from S3 for such buckets).
func (s *Service) GetBucketPolicyStatus(ctx context.Context, in *s3api.GetBucketPolicyStatusInput) (*s3api.GetBucketPolicyStatusOutput, error) {
	b, err := s.viewBucket(ctx, awsapi.ToString(in.Bucket))
	if err != nil {
		return nil, err
	}
	if b.Policy == "" {
		return nil, noSuchBucketPolicy(b.Name)
	}
	return &s3api.GetBucketPolicyStatusOutput{PolicyStatus: &s3api.PolicyStatus{IsPublic: awsapi.Bool(publicPolicy(b.Policy))}}, nil
}
