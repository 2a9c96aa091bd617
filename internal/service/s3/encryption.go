package s3

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"

	"github.com/wharf-dev/wharf/internal/apierr"
	"github.com/wharf-dev/wharf/internal/awsapi"
	s3api "github.com/wharf-dev/wharf/internal/awsapi/s3"
)

// Server-side encryption, as S3 reports it. Since January 2023 S3 encrypts
// every new object, with SSE-S3 (AES256) unless the request asks for SSE-KMS
// or gives its own key (SSE-C) ("Protecting data with server-side
// encryption" in the S3 user guide). wharf keeps bytes as they came: what it
// keeps is what S3 answers with, and for SSE-C the key's MD5 (never the key),
// so that reads without the key, or with another, are refused as on S3.

const sseS3 = "AES256"

// encryption is how an object (or upload) is encrypted. The zero value is
// SSE-S3, so objects stored before wharf recorded it read as S3 reports them.
type encryption struct {
	SSE       string `json:",omitempty"` // "aws:kms" or "aws:kms:dsse"; "" is AES256
	KMSKeyID  string `json:",omitempty"`
	BucketKey bool   `json:",omitempty"`
	// CustomerAlgorithm and CustomerKeyMD5 are set for SSE-C.
	CustomerAlgorithm string `json:",omitempty"`
	CustomerKeyMD5    string `json:",omitempty"`
}

// sseFields are the response fields an operation reports encryption in;
// nil members are fields its output lacks.
type sseFields struct {
	SSE, Algorithm, KeyMD5, KMSKeyID **string
	BucketKey                        **bool
}

func (e *encryption) fill(f sseFields) {
	var enc encryption
	if e != nil {
		enc = *e
	}
	set := func(dst **string, v string) {
		if dst != nil && v != "" {
			*dst = awsapi.String(v)
		}
	}
	if enc.CustomerAlgorithm != "" {
		set(f.Algorithm, enc.CustomerAlgorithm)
		set(f.KeyMD5, enc.CustomerKeyMD5)
		return
	}
	if enc.SSE == "" {
		set(f.SSE, sseS3)
		return
	}
	set(f.SSE, enc.SSE)
	set(f.KMSKeyID, enc.KMSKeyID)
	if enc.BucketKey && f.BucketKey != nil {
		*f.BucketKey = awsapi.Bool(true)
	}
}

// sseRequest is what a write asks for.
type sseRequest struct {
	SSE, KMSKeyID          *string
	BucketKey              *bool
	Algorithm, Key, KeyMD5 *string
}

// customerKey checks the SSE-C headers (algorithm, base64 key, its base64
// MD5) and returns the key's MD5, or "" when none of them is given.
func customerKey(alg, key, keyMD5 *string, prefix string) (string, error) {
	if alg == nil && key == nil && keyMD5 == nil {
		return "", nil
	}
	if awsapi.ToString(alg) != sseS3 {
		if alg == nil {
			return "", invalidArgument("Requests specifying Server Side Encryption with Customer provided keys must provide a valid encryption algorithm.",
				prefix+"x-amz-server-side-encryption-customer-algorithm", "null")
		}
		return "", invalidArgument("The requested encryption algorithm is not valid, must be AES256.",
			prefix+"x-amz-server-side-encryption-customer-algorithm", *alg)
	}
	if key == nil {
		return "", invalidArgument("Requests specifying Server Side Encryption with Customer provided keys must provide an appropriate secret key.",
			prefix+"x-amz-server-side-encryption-customer-key", "null")
	}
	raw, err := base64.StdEncoding.DecodeString(*key)
	if err != nil || len(raw) != 32 {
		return "", invalidArgument("The secret key was invalid for the specified algorithm.", prefix+"x-amz-server-side-encryption-customer-key", "")
	}
	// The key's MD5 is required, not derived: it is how S3 knows the key
	// arrived intact (PutObject docs, x-amz-server-side-encryption-customer-key-MD5).
	if keyMD5 == nil {
		return "", invalidArgument("Requests specifying Server Side Encryption with Customer provided keys must provide the client calculated MD5 of the secret key.",
			prefix+"x-amz-server-side-encryption-customer-key-MD5", "null")
	}
	sum := md5.Sum(raw)
	got := base64.StdEncoding.EncodeToString(sum[:])
	if *keyMD5 != got {
		return "", invalidArgument("The calculated MD5 hash of the key did not match the hash that was provided.",
			prefix+"x-amz-server-side-encryption-customer-key-MD5", "")
	}
	return got, nil
}

// newEncryption decides how a new object is encrypted from what the request
// asks (PutObject docs, x-amz-server-side-encryption and SSE-C headers).
// A request that asks for none gets the bucket's default encryption
// (PutBucketEncryption docs).
func (s *Service) newEncryption(ctx context.Context, bucket string, r sseRequest) (*encryption, error) {
	return s.encryptionFor(ctx, r, func() *encryption { return s.bucketDefaultEncryption(ctx, bucket) })
}

// encryptionFor is newEncryption with the bucket's default encryption
// given as a function, called only when the request names none.
func (s *Service) encryptionFor(ctx context.Context, r sseRequest, bucketDefault func() *encryption) (*encryption, error) {
	keyMD5, err := customerKey(r.Algorithm, r.Key, r.KeyMD5, "")
	if err != nil {
		return nil, err
	}
	sse := awsapi.ToString(r.SSE)
	if keyMD5 != "" {
		if r.SSE != nil || r.KMSKeyID != nil {
			return nil, invalidArgument("Server Side Encryption with Customer provided key is incompatible with the encryption method specified",
				"x-amz-server-side-encryption", sse)
		}
		return &encryption{CustomerAlgorithm: sseS3, CustomerKeyMD5: keyMD5}, nil
	}
	switch sse {
	case "", sseS3:
		if r.KMSKeyID != nil {
			return nil, invalidArgument("Server Side Encryption with AWS KMS managed key requires HTTP header x-amz-server-side-encryption : aws:kms",
				"x-amz-server-side-encryption-aws-kms-key-id", *r.KMSKeyID)
		}
		if r.SSE == nil && r.BucketKey == nil {
			return bucketDefault(), nil
		}
		return &encryption{}, nil
	case "aws:kms", "aws:kms:dsse":
		id := awsapi.ToString(r.KMSKeyID)
		if id == "" {
			id = s.managedKMSKey(ctx)
		}
		return &encryption{SSE: sse, KMSKeyID: id, BucketKey: awsapi.ToBool(r.BucketKey)}, nil
	}
	return nil, invalidArgument("The encryption method specified is not supported", "x-amz-server-side-encryption", sse)
}

// bucketDefaultEncryption is how a bucket encrypts objects whose request
// names no encryption: SSE-S3 unless its configuration says SSE-KMS. A
// bucket that cannot be read gets SSE-S3 here; the operation reports why.
func (s *Service) bucketDefaultEncryption(ctx context.Context, name string) *encryption {
	b, err := s.viewBucket(ctx, name)
	if err != nil {
		return &encryption{}
	}
	return s.defaultEncryptionOf(ctx, b)
}

// defaultEncryptionOf is bucketDefaultEncryption for a bucket already read.
func (s *Service) defaultEncryptionOf(ctx context.Context, b *bucket) *encryption {
	if b.Encryption == nil || len(b.Encryption.Rules) == 0 {
		return &encryption{}
	}
	r := b.Encryption.Rules[0]
	d := r.ApplyServerSideEncryptionByDefault
	if d == nil {
		return &encryption{}
	}
	switch alg := awsapi.ToString(d.SSEAlgorithm); alg {
	case "aws:kms", "aws:kms:dsse":
		id := awsapi.ToString(d.KMSMasterKeyID)
		if id == "" {
			id = s.managedKMSKey(ctx)
		}
		return &encryption{SSE: alg, KMSKeyID: id, BucketKey: awsapi.ToBool(r.BucketKeyEnabled)}
	}
	return &encryption{}
}

// managedKMSKey is the ARN of the account's AWS managed key for S3
// (aws/s3), which SSE-KMS uses when the request names no key.
func (s *Service) managedKMSKey(ctx context.Context) string {
	acct := caller(ctx).Account
	sum := sha256.Sum256([]byte("wharf-aws/s3-key/" + acct))
	h := hex.EncodeToString(sum[:16])
	return fmt.Sprintf("arn:aws:kms:%s:%s:key/%s-%s-%s-%s-%s", s.regionOf(ctx), acct, h[:8], h[8:12], h[12:16], h[16:20], h[20:32])
}

// checkKey enforces SSE-C on a read (or a part upload, or a copy source,
// with prefix "x-amz-copy-source-"): an object stored with a customer key is
// read only with that key, and the key headers are refused for other objects
// (GetObject docs, "Server-side encryption with customer-provided keys").
func (e *encryption) checkKey(alg, key, keyMD5 *string, prefix string) error {
	given, err := customerKey(alg, key, keyMD5, prefix)
	if err != nil {
		return err
	}
	stored := ""
	if e != nil {
		stored = e.CustomerKeyMD5
	}
	switch {
	case stored == "" && given != "":
		return invalidRequest("The encryption parameters are not applicable to this object.")
	case stored != "" && given == "":
		return invalidRequest("The object was stored using a form of Server Side Encryption. The correct parameters must be provided to retrieve the object.")
	case stored != given:
		return s3api.ErrAccessDenied("Requests specifying Server Side Encryption with Customer provided keys must provide the correct secret key.")
	}
	return nil
}

// checkPartKey is checkKey for a part of an SSE-C upload: a part must carry
// the key the upload began with, and another key is a bad request, not a
// denied read (UploadPart docs: "identical encryption information").
func (e *encryption) checkPartKey(alg, key, keyMD5 *string) error {
	err := e.checkKey(alg, key, keyMD5, "")
	if ae := apierr.As(err); ae != nil && ae.Code == "AccessDenied" {
		return invalidRequest("The provided encryption parameters did not match the ones used originally.")
	}
	return err
}
