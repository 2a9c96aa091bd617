package s3

import "github.com/wharf-dev/wharf/internal/store"

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
