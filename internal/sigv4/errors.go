package sigv4

import "github.com/wharf-dev/wharf/internal/apierr"

// Messages as AWS words them (S3's where S3 and the other services differ only in wording).
const (
	msgSignatureMismatch   = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
	msgS3SignatureMismatch = "The request signature we calculated does not match the signature you provided. Check your key and signing method."
)

// InvalidClientTokenID is the 403 InvalidClientTokenId that query and JSON
// services return for an access key they do not know.
func InvalidClientTokenID() *apierr.Error {
	return apierr.New("InvalidClientTokenId", 403, "The security token included in the request is invalid.")
}

// InvalidAccessKeyID is the 403 InvalidAccessKeyId that S3 returns for an access
// key it does not know.
func InvalidAccessKeyID(accessKey string) *apierr.Error {
	e := apierr.New("InvalidAccessKeyId", 403, "The AWS Access Key Id you provided does not exist in our records.")
	e.Fields = map[string]any{"AWSAccessKeyId": accessKey}
	return e
}

// MissingAuthenticationToken is the 403 returned for an unsigned request to a
// service that requires a signature.
func MissingAuthenticationToken() *apierr.Error {
	return apierr.New("MissingAuthenticationToken", 403, "Request is missing Authentication Token")
}

func incomplete(format string, args ...any) *apierr.Error {
	return apierr.New("IncompleteSignature", 400, format, args...)
}

func queryParamsError(format string, args ...any) *apierr.Error {
	return apierr.New("AuthorizationQueryParametersError", 400, format, args...)
}

// signatureMismatch carries what the server signed, as AWS does, so a client's
// author can diff it against their own canonical request.
func signatureMismatch(c *Credential, canonicalRequest, sts string) *apierr.Error {
	if c.Service == "s3" {
		e := apierr.New("SignatureDoesNotMatch", 403, msgS3SignatureMismatch)
		e.Fields = map[string]any{
			"AWSAccessKeyId":        c.AccessKey,
			"StringToSign":          sts,
			"SignatureProvided":     c.Signature,
			"StringToSignBytes":     spacedHex(sts),
			"CanonicalRequest":      canonicalRequest,
			"CanonicalRequestBytes": spacedHex(canonicalRequest),
		}
		return e
	}
	return apierr.New("SignatureDoesNotMatch", 403, "%s\n\nThe Canonical String for this request should have been\n'%s'\n\nThe String-to-Sign should have been\n'%s'\n", msgSignatureMismatch, canonicalRequest, sts)
}

func spacedHex(s string) string {
	const hexDigits = "0123456789abcdef"
	b := make([]byte, 0, len(s)*3)
	for i := 0; i < len(s); i++ {
		if i > 0 {
			b = append(b, ' ')
		}
		b = append(b, hexDigits[s[i]>>4], hexDigits[s[i]&15])
	}
	return string(b)
}
