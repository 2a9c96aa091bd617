package s3

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/wharf-dev/wharf/internal/apierr"
	"github.com/wharf-dev/wharf/internal/awsapi"
	s3api "github.com/wharf-dev/wharf/internal/awsapi/s3"
	ctlapi "github.com/wharf-dev/wharf/internal/awsapi/s3control"
	"github.com/wharf-dev/wharf/internal/store"
)

// Control serves S3 Control's account-level Block Public Access
// (PutPublicAccessBlock, GetPublicAccessBlock, DeletePublicAccessBlock with
// x-amz-account-id). It shares S3's state: every bucket of the account obeys
// the account's setting together with its own, the more restrictive of the
// two winning flag by flag ("Blocking public access to your Amazon S3
// storage").
type Control struct{ s *Service }

// Control returns S3 Control over s's state.
func (s *Service) Control() *Control { return &Control{s: s} }

func accountBlockKey(acct string) []byte { return []byte("s3/pab/" + acct) }

// accountBlock reads acct's account-level Block Public Access, nil when none.
func accountBlock(tx store.Tx, acct string) (*s3api.PublicAccessBlockConfiguration, error) {
	v, err := tx.Get(accountBlockKey(acct))
	if err != nil || v == nil {
		return nil, err
	}
	var c s3api.PublicAccessBlockConfiguration
	if err := json.Unmarshal(v, &c); err != nil {
		return nil, fmt.Errorf("s3: account %s public access block: %w", acct, err)
	}
	return &c, nil
}

// ownAccount checks that the x-amz-account-id of a request is the caller's
// account: S3 Control acts only on the account that signs.
func ownAccount(ctx context.Context, id *string) (string, error) {
	acct := caller(ctx).Account
	if awsapi.ToString(id) != acct || acct == "" {
		return "", apierr.New("AccessDenied", 403, "Access Denied")
	}
	return acct, nil
}

// PutPublicAccessBlock sets the account's Block Public Access; a flag left
// out is false.
func (c *Control) PutPublicAccessBlock(ctx context.Context, in *ctlapi.PutPublicAccessBlockInput) (*ctlapi.PutPublicAccessBlockOutput, error) {
	acct, err := ownAccount(ctx, in.AccountId)
	if err != nil {
		return nil, err
	}
	in2 := in.PublicAccessBlockConfiguration
	f := func(v *bool) *bool { b := awsapi.ToBool(v); return &b }
	cfg := s3api.PublicAccessBlockConfiguration{BlockPublicAcls: f(in2.BlockPublicAcls), IgnorePublicAcls: f(in2.IgnorePublicAcls),
		BlockPublicPolicy: f(in2.BlockPublicPolicy), RestrictPublicBuckets: f(in2.RestrictPublicBuckets)}
	v, err := json.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	if err := c.s.st.Update(func(tx store.Tx) error { return tx.Put(accountBlockKey(acct), v) }); err != nil {
		return nil, err
	}
	return &ctlapi.PutPublicAccessBlockOutput{}, nil
}

// GetPublicAccessBlock returns the account's Block Public Access, or
// NoSuchPublicAccessBlockConfiguration when it has none.
func (c *Control) GetPublicAccessBlock(ctx context.Context, in *ctlapi.GetPublicAccessBlockInput) (*ctlapi.GetPublicAccessBlockOutput, error) {
	acct, err := ownAccount(ctx, in.AccountId)
	if err != nil {
		return nil, err
	}
	var cfg *s3api.PublicAccessBlockConfiguration
	if err := c.s.st.View(func(tx store.Tx) (err error) { cfg, err = accountBlock(tx, acct); return err }); err != nil {
		return nil, err
	}
	if cfg == nil {
		return nil, ctlapi.ErrNoSuchPublicAccessBlockConfiguration("The public access block configuration was not found")
	}
	return &ctlapi.GetPublicAccessBlockOutput{PublicAccessBlockConfiguration: &ctlapi.PublicAccessBlockConfiguration{
		BlockPublicAcls: cfg.BlockPublicAcls, IgnorePublicAcls: cfg.IgnorePublicAcls,
		BlockPublicPolicy: cfg.BlockPublicPolicy, RestrictPublicBuckets: cfg.RestrictPublicBuckets}}, nil
}

// DeletePublicAccessBlock removes the account's Block Public Access; buckets
// then obey their own settings alone.
func (c *Control) DeletePublicAccessBlock(ctx context.Context, in *ctlapi.DeletePublicAccessBlockInput) (*ctlapi.DeletePublicAccessBlockOutput, error) {
	acct, err := ownAccount(ctx, in.AccountId)
	if err != nil {
		return nil, err
	}
	if err := c.s.st.Update(func(tx store.Tx) error { return tx.Delete(accountBlockKey(acct)) }); err != nil {
		return nil, err
	}
	return &ctlapi.DeletePublicAccessBlockOutput{}, nil
}
