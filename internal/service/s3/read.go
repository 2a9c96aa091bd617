package s3

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/wharf-dev/wharf/internal/awsapi"
)

// MaxReadObject is the largest object ReadObject returns. Its readers (ECS
// environment files) want a small document in memory, never a large object.
const MaxReadObject = 1 << 20

// ErrObjectTooLarge is returned by ReadObject for an object larger than
// MaxReadObject.
var ErrObjectTooLarge = errors.New("object too large to read")

// ReadObject returns the bytes of the current version of bucket/key, read as
// account: another service's plain-values GetObject (ECS environment files).
// Errors are S3's (NoSuchBucket, NoSuchKey, AccessDenied for another
// account's bucket), or ErrObjectTooLarge.
func (s *Service) ReadObject(ctx context.Context, account, bucket, key string) ([]byte, error) {
	ctx = awsapi.WithCaller(ctx, &awsapi.Caller{Account: account, Service: "s3", Operation: "GetObject"})
	_, o, r, err := s.openObject(ctx, bucket, key, "", true)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	if o.Size > MaxReadObject {
		return nil, fmt.Errorf("%s/%s is %d bytes, more than %d: %w", bucket, key, o.Size, MaxReadObject, ErrObjectTooLarge)
	}
	b, err := io.ReadAll(io.LimitReader(r, MaxReadObject+1))
	if err != nil {
		return nil, fmt.Errorf("s3: read %s/%s: %w", bucket, key, err)
	}
	if len(b) > MaxReadObject {
		return nil, fmt.Errorf("%s/%s is more than %d bytes: %w", bucket, key, MaxReadObject, ErrObjectTooLarge)
	}
	return b, nil
}
