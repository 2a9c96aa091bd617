package s3_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"testing"

	"github.com/wharf-dev/wharf/internal/apierr"
	"github.com/wharf-dev/wharf/internal/awsapi"
	s3api "github.com/wharf-dev/wharf/internal/awsapi/s3"
	"github.com/wharf-dev/wharf/internal/service/s3"
	"github.com/wharf-dev/wharf/internal/store"
)

func TestReadObjectReturnsBytesWithinTheBoundAndS3Errors(t *testing.T) {
	svc, err := s3.New(s3.Options{Store: store.OpenMemory(), Dir: t.TempDir(), NoSync: true, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	owner := awsapi.WithCaller(context.Background(), &awsapi.Caller{Account: "111111111111", Region: "us-east-1"})
	if _, err := svc.CreateBucket(owner, &s3api.CreateBucketInput{Bucket: awsapi.String("cfg")}); err != nil {
		t.Fatal(err)
	}
	small := []byte("A=1\n")
	file := bytes.Repeat([]byte("x"), 200<<10) // past the inline size: kept in a file
	limit := bytes.Repeat([]byte("y"), s3.MaxReadObject)
	for key, body := range map[string][]byte{"small.env": small, "file.env": file, "limit.env": limit, "big.env": append(limit, 'z')} {
		if _, err := svc.PutObject(owner, &s3api.PutObjectInput{Bucket: awsapi.String("cfg"), Key: awsapi.String(key), Body: bytes.NewReader(body)}); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	for _, tc := range []struct {
		name, account, bucket, key string
		want                       []byte
		code                       string // S3 error code, or "" for none
		tooLarge                   bool
	}{
		{name: "small object", account: "111111111111", bucket: "cfg", key: "small.env", want: small},
		{name: "object in a file", account: "111111111111", bucket: "cfg", key: "file.env", want: file},
		{name: "exactly the bound", account: "111111111111", bucket: "cfg", key: "limit.env", want: limit},
		{name: "one byte past the bound", account: "111111111111", bucket: "cfg", key: "big.env", tooLarge: true},
		{name: "missing key", account: "111111111111", bucket: "cfg", key: "nope.env", code: "NoSuchKey"},
		{name: "missing bucket", account: "111111111111", bucket: "nope", key: "a.env", code: "NoSuchBucket"},
		{name: "another account's bucket", account: "222222222222", bucket: "cfg", key: "small.env", code: "AccessDenied"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := svc.ReadObject(ctx, tc.account, tc.bucket, tc.key)
			switch {
			case tc.tooLarge:
				if !errors.Is(err, s3.ErrObjectTooLarge) || got != nil {
					t.Errorf("ReadObject = %d bytes, %v; want ErrObjectTooLarge", len(got), err)
				}
			case tc.code != "":
				if e := apierr.As(err); e == nil || e.Code != tc.code {
					t.Errorf("ReadObject error = %v, want %s", err, tc.code)
				}
			default:
				if err != nil || !bytes.Equal(got, tc.want) {
					t.Errorf("ReadObject = %d bytes, %v; want %d bytes", len(got), err, len(tc.want))
				}
			}
		})
	}
}
