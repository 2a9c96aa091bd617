package s3

import (
	"context"
	"reflect"
	"sync"

	"github.com/wharf-dev/wharf/internal/awsapi"
	s3api "github.com/wharf-dev/wharf/internal/awsapi/s3"
	"github.com/wharf-dev/wharf/internal/store"
)

// Bind returns the handlers of impl's S3 operations, as s3api.Bind does,
// each first checking the bucket owner the request expects: a request with
// x-amz-expected-bucket-owner (ExpectedBucketOwner) fails with 403
// AccessDenied when the bucket is owned by another account, and so does a
// copy whose x-amz-source-expected-bucket-owner does not own its source
// bucket (the x-amz-expected-bucket-owner parameter of every S3 operation,
// "Verifying bucket ownership with bucket owner condition" in the S3 user
// guide). Every operation that names a bucket takes the header, so it is
// checked here once rather than in each.
func Bind(impl any) map[string]awsapi.Handler {
	s, _ := impl.(*Service)
	h := s3api.Bind(impl)
	if s == nil {
		return h
	}
	return s.CheckingOwners(h)
}

// CheckingOwners returns h, S3's handlers as s3api.Bind finds them on s,
// with each first checking the bucket owner the request expects, as Bind's
// do. It changes h.
func (s *Service) CheckingOwners(h map[string]awsapi.Handler) map[string]awsapi.Handler {
	for op, f := range h {
		h[op] = func(ctx context.Context, in any) (any, error) {
			if err := s.checkExpectedOwners(in); err != nil {
				return nil, err
			}
			return f(ctx, in)
		}
	}
	return h
}

// ownerFields are the indexes of the fields of an operation's input that
// the expected-owner check reads; nil where the input has no such field.
type ownerFields struct {
	bucket, owner, copySource, sourceOwner []int
}

var ownerFieldsByType sync.Map // reflect.Type → *ownerFields

func fieldsOf(t reflect.Type) *ownerFields {
	if f, ok := ownerFieldsByType.Load(t); ok {
		return f.(*ownerFields)
	}
	f := &ownerFields{}
	index := func(name string) []int {
		if sf, ok := t.FieldByName(name); ok && sf.Type == reflect.TypeOf((*string)(nil)) {
			return sf.Index
		}
		return nil
	}
	f.bucket, f.owner = index("Bucket"), index("ExpectedBucketOwner")
	f.copySource, f.sourceOwner = index("CopySource"), index("ExpectedSourceBucketOwner")
	ownerFieldsByType.Store(t, f)
	return f
}

// checkExpectedOwners applies in's expected bucket owners, if it names any.
func (s *Service) checkExpectedOwners(in any) error {
	v := reflect.ValueOf(in)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return nil
	}
	v = v.Elem()
	f := fieldsOf(v.Type())
	str := func(idx []int) *string {
		if idx == nil {
			return nil
		}
		p, _ := v.FieldByIndex(idx).Interface().(*string)
		return p
	}
	if want := str(f.owner); want != nil {
		if err := s.expectOwner(awsapi.ToString(str(f.bucket)), *want); err != nil {
			return err
		}
	}
	if want := str(f.sourceOwner); want != nil {
		if src := str(f.copySource); src != nil {
			if name, _, _, err := copySource(*src); err == nil {
				return s.expectOwner(name, *want)
			}
		}
	}
	return nil
}

// expectOwner refuses a request that expects bucket name to be owned by
// account want when another account owns it. A bucket that does not exist
// is left to the operation, which reports it.
func (s *Service) expectOwner(name, want string) error {
	if name == "" {
		return nil
	}
	var owner string
	err := s.st.View(func(tx store.Tx) error {
		b, err := getBucket(tx, name)
		if b != nil {
			owner = b.Account
		}
		return err
	})
	if err != nil {
		return err
	}
	if owner != "" && owner != want {
		return accessDenied()
	}
	return nil
}
