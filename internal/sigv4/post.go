package sigv4

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"time"

	"github.com/wharf-dev/wharf/internal/apierr"
)

// Browser-based uploads sign their policy document, not the request
// ("Browser-based uploads using POST" in the S3 API reference): with SigV4
// the x-amz-signature field is hex(HMAC-SHA256(signing key of
// x-amz-credential's scope, policy)); with SigV2 the signature field is
// Base64(HMAC-SHA1(secret, policy)). The policy itself (expiry,
// conditions) is checked by the codec that reads the form.

// PostCredential returns the credential a POST upload's form fields (by
// lower-case name) claim, or (nil, nil) when the form is not signed (it
// has no policy: an anonymous upload).
func PostCredential(fields map[string]string) (*Credential, error) {
	if fields["policy"] == "" {
		return nil, nil
	}
	if cred, ok := fields["x-amz-credential"]; ok {
		if alg := fields["x-amz-algorithm"]; alg != Algorithm {
			return nil, apierr.New("InvalidArgument", 400, "%s", "POST form x-amz-algorithm must be "+Algorithm)
		}
		c := &Credential{Service: "s3"}
		if err := c.parseScope(cred); err != nil {
			return nil, err
		}
		t, err := time.Parse(timeFormat, fields["x-amz-date"])
		if err != nil {
			return nil, apierr.New("InvalidArgument", 400, "%s", "POST form x-amz-date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"")
		}
		c.Time = t
		c.Signature = strings.ToLower(fields["x-amz-signature"])
		c.SecurityToken = fields["x-amz-security-token"]
		return c, nil
	}
	if key, ok := fields["awsaccesskeyid"]; ok {
		return &Credential{AccessKey: key, Signature: fields["signature"], V2: true, Service: "s3",
			SecurityToken: fields["x-amz-security-token"]}, nil
	}
	return nil, apierr.New("InvalidArgument", 400, "%s", "Bucket POST must contain a field named 'AWSAccessKeyId'.  If it is specified, please check the order of the fields.")
}

// VerifyPost checks that c's signature signs policy (the form's base64
// policy field) under secret.
func VerifyPost(c *Credential, policy, secret string) error {
	var ok bool
	if c.V2 {
		m := hmac.New(sha1.New, []byte(secret))
		m.Write([]byte(policy))
		want, err := base64.StdEncoding.DecodeString(c.Signature)
		ok = err == nil && hmac.Equal(m.Sum(nil), want)
	} else {
		key := signingKey(secret, c.Date, c.Region, c.Service)
		ok = hmac.Equal([]byte(hex.EncodeToString(hmacSHA256(key, policy))), []byte(c.Signature))
	}
	if ok {
		return nil
	}
	e := apierr.New("SignatureDoesNotMatch", 403, msgS3SignatureMismatch)
	e.Fields = map[string]any{"AWSAccessKeyId": c.AccessKey, "StringToSign": policy, "SignatureProvided": c.Signature}
	return e
}
