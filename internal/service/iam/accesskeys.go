package iam

import (
	"context"
	"slices"

	"github.com/wharf-dev/wharf/internal/awsapi"
	api "github.com/wharf-dev/wharf/internal/awsapi/iam"
	"github.com/wharf-dev/wharf/internal/store"
)

// maxKeysPerUser is IAM's AccessKeysPerUser quota ("IAM and AWS STS quotas").
const maxKeysPerUser = 2

func keyNotFound(id string) error {
	return noSuchEntity("The Access Key with id %s cannot be found.", id)
}

// keyOwner is the user an access-key operation acts on: the named one, else
// the caller; "" means the root user.
func keyOwner(ctx context.Context, name *string) string {
	if n := awsapi.ToString(name); n != "" {
		return n
	}
	return callerUserName(ctx)
}

// CreateAccessKey creates an access key (id and secret) for a user; the
// secret is returned only here.
func (s *Service) CreateAccessKey(ctx context.Context, in *api.CreateAccessKeyInput) (*api.CreateAccessKeyOutput, error) {
	acct := s.account(ctx)
	owner := keyOwner(ctx, in.UserName)
	id, err := s.ids.accessKeyID(prefixAccessKey)
	if err != nil {
		return nil, err
	}
	secret, err := s.ids.secret()
	if err != nil {
		return nil, err
	}
	k := &accessKey{ID: id, Secret: secret, Account: acct, User: owner, Status: "Active", Created: s.clock()}
	err = s.update(func(tx store.Tx) error {
		if owner == "" {
			keys, err := s.rootKeys(tx, acct)
			if err != nil {
				return err
			}
			if len(keys) >= maxKeysPerUser {
				return limitExceeded("Cannot exceed quota for AccessKeysPerUser: %d", maxKeysPerUser)
			}
			return put(tx, accessKeyKey(id), k)
		}
		u, err := loadUser(tx, acct, owner)
		if err != nil {
			return err
		}
		if len(u.Keys) >= maxKeysPerUser {
			return limitExceeded("Cannot exceed quota for AccessKeysPerUser: %d", maxKeysPerUser)
		}
		k.User = u.Name
		u.Keys = append(u.Keys, id)
		if err := put(tx, userKey(acct, u.Name), u); err != nil {
			return err
		}
		return put(tx, accessKeyKey(id), k)
	})
	if err != nil {
		return nil, err
	}
	return &api.CreateAccessKeyOutput{AccessKey: &api.AccessKey{
		UserName:        awsapi.String(k.User),
		AccessKeyId:     awsapi.String(k.ID),
		Status:          awsapi.String(k.Status),
		SecretAccessKey: awsapi.String(k.Secret),
		CreateDate:      &k.Created,
	}}, nil
}

// rootKeys are the access keys of the account's root user.
func (s *Service) rootKeys(tx store.Tx, acct string) ([]accessKey, error) {
	all, err := scan[accessKey](tx, []byte("iam/key/"))
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(all, func(k accessKey) bool { return k.Account != acct || k.User != "" }), nil
}

// userKeys are the access keys of owner ("" for root), oldest first.
func (s *Service) userKeys(tx store.Tx, acct, owner string) ([]accessKey, error) {
	if owner == "" {
		return s.rootKeys(tx, acct)
	}
	u, err := loadUser(tx, acct, owner)
	if err != nil {
		return nil, err
	}
	var out []accessKey
	for _, id := range u.Keys {
		var k accessKey
		found, err := get(tx, accessKeyKey(id), &k)
		if err != nil {
			return nil, err
		}
		if found {
			out = append(out, k)
		}
	}
	return out, nil
}

// ListAccessKeys lists a user's access keys, without their secrets.
func (s *Service) ListAccessKeys(ctx context.Context, in *api.ListAccessKeysInput) (*api.ListAccessKeysOutput, error) {
	acct := s.account(ctx)
	owner := keyOwner(ctx, in.UserName)
	var keys []accessKey
	err := s.st.View(func(tx store.Tx) (err error) {
		keys, err = s.userKeys(tx, acct, owner)
		return err
	})
	if err != nil {
		return nil, err
	}
	pg, truncated, next, err := page(keys, func(k accessKey) string { return k.ID }, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	out := &api.ListAccessKeysOutput{AccessKeyMetadata: []api.AccessKeyMetadata{}, IsTruncated: awsapi.Bool(truncated), Marker: next}
	for _, k := range pg {
		out.AccessKeyMetadata = append(out.AccessKeyMetadata, api.AccessKeyMetadata{
			UserName:    awsapi.String(k.User),
			AccessKeyId: awsapi.String(k.ID),
			Status:      awsapi.String(k.Status),
			CreateDate:  &k.Created,
		})
	}
	return out, nil
}

// ownedKey loads access key id if it belongs to owner in acct.
func ownedKey(tx store.Tx, acct, owner, id string) (*accessKey, error) {
	var k accessKey
	found, err := get(tx, accessKeyKey(id), &k)
	if err != nil {
		return nil, err
	}
	if !found || k.Account != acct || sortKey(k.User) != sortKey(owner) {
		return nil, keyNotFound(id)
	}
	return &k, nil
}

// UpdateAccessKey activates or deactivates an access key: an inactive key
// no longer authenticates.
func (s *Service) UpdateAccessKey(ctx context.Context, in *api.UpdateAccessKeyInput) (*api.UpdateAccessKeyOutput, error) {
	acct := s.account(ctx)
	owner := keyOwner(ctx, in.UserName)
	status := awsapi.ToString(in.Status)
	if status != "Active" && status != "Inactive" {
		return nil, validationError("status", status, "Member must satisfy enum value set: [Active, Inactive]")
	}
	id := awsapi.ToString(in.AccessKeyId)
	err := s.update(func(tx store.Tx) error {
		if owner != "" {
			if _, err := loadUser(tx, acct, owner); err != nil {
				return err
			}
		}
		k, err := ownedKey(tx, acct, owner, id)
		if err != nil {
			return err
		}
		k.Status = status
		return put(tx, accessKeyKey(id), k)
	})
	if err != nil {
		return nil, err
	}
	return &api.UpdateAccessKeyOutput{}, nil
}

// DeleteAccessKey deletes an access key.
func (s *Service) DeleteAccessKey(ctx context.Context, in *api.DeleteAccessKeyInput) (*api.DeleteAccessKeyOutput, error) {
	acct := s.account(ctx)
	owner := keyOwner(ctx, in.UserName)
	id := awsapi.ToString(in.AccessKeyId)
	err := s.update(func(tx store.Tx) error {
		var u *user
		if owner != "" {
			var err error
			if u, err = loadUser(tx, acct, owner); err != nil {
				return err
			}
		}
		if _, err := ownedKey(tx, acct, owner, id); err != nil {
			return err
		}
		if u != nil {
			u.Keys = slices.DeleteFunc(u.Keys, func(k string) bool { return k == id })
			if err := put(tx, userKey(acct, u.Name), u); err != nil {
				return err
			}
		}
		if err := tx.Put(deletedKeyKey(id), []byte("{}")); err != nil {
			return err
		}
		return tx.Delete(accessKeyKey(id))
	})
	if err != nil {
		return nil, err
	}
	return &api.DeleteAccessKeyOutput{}, nil
}
