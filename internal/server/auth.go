package server

import (
	"context"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/wharf-dev/wharf/internal/accountid"
	"github.com/wharf-dev/wharf/internal/apierr"
	"github.com/wharf-dev/wharf/internal/awsapi"
	"github.com/wharf-dev/wharf/internal/config"
	"github.com/wharf-dev/wharf/internal/protocol"
	"github.com/wharf-dev/wharf/internal/sigv4"
)

// rootKey knows only the configured root credentials of the default account.
type rootKey struct{ cfg *config.Config }

func (k rootKey) LookupKey(_ context.Context, accessKey string) (awsapi.Key, bool) {
	if accessKey != k.cfg.AccessKey {
		return awsapi.Key{}, false
	}
	return awsapi.Key{Secret: k.cfg.SecretKey, Account: k.cfg.Account, ARN: rootARN(k.cfg.Account)}, true
}

func rootARN(account string) string { return "arn:aws:iam::" + account + ":root" }

func parseCredential(r *http.Request) (*sigv4.Credential, error) {
	return sigv4.Parse(r)
}

// authenticate decides who r is from and which account it acts in.
//
// In --auth any mode (the default, what local tooling expects) every access key is
// accepted: a key wharf knows (IAM user, STS session) acts as its principal, a
// 12-digit key acts in that account, any other key in the default account;
// signatures are not checked, but a presigned URL's expiry is.
// In --auth strict mode the key must be known and the signature must verify.
// Either way an aws-chunked body is decoded (and, in strict mode, its chunk
// signatures checked) before the codec reads it.
func (s *Server) authenticate(r *http.Request, svc *awsapi.Service, cred *sigv4.Credential) (*awsapi.Caller, error) {
	c := &awsapi.Caller{Account: s.cfg.Account, Region: s.cfg.Region}
	if cred == nil {
		if s.cfg.Auth == config.AuthStrict {
			// S3 serves an unsigned request where a bucket policy grants
			// everyone; under --iam enforce the authorizer decides that as
			// AWS does. Without it nothing would, so it is refused. A
			// browser POST upload is signed in its form, which formAuth
			// reads once the codec has.
			if svc != nil && svc.Quirks.S3AuthErrors && (s.anonymousAllowed() || isFormPost(r)) {
				c.Account, c.Anonymous = "", true
				return c, decodeBody(r, nil, "")
			}
			return nil, missingAuth(svc)
		}
		// Under --auth any an unsigned request acts as the default
		// account's root, what local tooling expects; but --iam enforce
		// refuses what AWS would, and AWS serves an unsigned S3 request
		// only where a bucket policy or ACL grants everyone. A browser POST
		// upload keeps acting as the root: its form's key is not checked
		// under --auth any.
		if svc != nil && svc.Quirks.S3AuthErrors && s.anonymousAllowed() && !isFormPost(r) {
			c.Account, c.Anonymous = "", true
			return c, decodeBody(r, nil, "")
		}
		c.ARN = rootARN(c.Account)
		return c, decodeBody(r, nil, "")
	}
	if cred.Region != "" {
		c.Region = cred.Region
	}
	c.AccessKey = cred.AccessKey
	key, known := s.keys.LookupKey(r.Context(), cred.AccessKey)
	switch {
	case !known && key.Refused != "":
		return nil, refusedKey(svc, key.Refused, cred.AccessKey)
	case known:
		c.Account, c.ARN = key.Account, key.ARN
		c.Temporary, c.TokenIssued = key.SessionToken != "", key.Issued
	case s.cfg.Auth == config.AuthStrict:
		return nil, unknownKey(svc, cred.AccessKey)
	case accountid.Valid(cred.AccessKey):
		c.Account, c.ARN = cred.AccessKey, rootARN(cred.AccessKey)
	default:
		c.ARN = rootARN(c.Account)
	}
	secret := ""
	if s.cfg.Auth == config.AuthStrict {
		secret = key.Secret
		if key.SessionToken != "" && cred.SecurityToken != key.SessionToken {
			if svc != nil && svc.Quirks.S3AuthErrors {
				return nil, sigv4.InvalidClientTokenID()
			}
			return nil, invalidToken(svc)
		}
		if err := sigv4.Verify(r, cred, secret, s.now()); err != nil {
			return nil, err
		}
	} else if err := sigv4.CheckExpiry(cred, s.now()); err != nil {
		// A presigned URL expires as on AWS even when signatures are not
		// verified: code that hands out URLs is tested against it.
		return nil, err
	}
	return c, decodeBody(r, cred, secret)
}

// anonymousAllowed reports whether unsigned S3 requests are served under
// --auth strict: only when an authorizer refuses what AWS would.
func (s *Server) anonymousAllowed() bool {
	return s.cfg.IAM == config.IAMEnforce && s.authz != nil
}

// isFormPost reports whether r may be a browser POST upload (a
// multipart/form-data POST), which carries its signature in its form.
func isFormPost(r *http.Request) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return r.Method == http.MethodPost && err == nil && mt == "multipart/form-data"
}

// formAuther is a codec that reads signatures from a request's form (S3's
// browser POST uploads).
type formAuther interface {
	FormAuth(r *http.Request) (map[string]string, bool)
}

// formAuth decides who an unsigned request is from under --auth strict once
// the codec has read it: a POST upload signed in its form acts as the key
// that signed it (its signature verified); anything else stays anonymous,
// served only when anonymousAllowed.
func (s *Server) formAuth(r *http.Request, codec protocol.Codec, svc *awsapi.Service, c *awsapi.Caller) error {
	var fields map[string]string
	if fa, ok := codec.(formAuther); ok {
		fields, _ = fa.FormAuth(r)
	}
	cred, err := sigv4.PostCredential(fields)
	if err != nil {
		return err
	}
	if cred == nil {
		if !s.anonymousAllowed() {
			return missingAuth(svc)
		}
		return nil
	}
	key, known := s.keys.LookupKey(r.Context(), cred.AccessKey)
	if !known && key.Refused != "" {
		return refusedKey(svc, key.Refused, cred.AccessKey)
	}
	if !known {
		return unknownKey(svc, cred.AccessKey)
	}
	if key.SessionToken != "" && cred.SecurityToken != key.SessionToken {
		return apierr.New("InvalidToken", 400, "The provided token is malformed or otherwise invalid.")
	}
	if err := sigv4.VerifyPost(cred, fields["policy"], key.Secret); err != nil {
		return err
	}
	c.Anonymous, c.Account, c.ARN, c.AccessKey = false, key.Account, key.ARN, cred.AccessKey
	c.Temporary, c.TokenIssued = key.SessionToken != "", key.Issued
	if cred.Region != "" {
		c.Region = cred.Region
	}
	return nil
}

// decodeBody replaces r's body with its decoded payload: aws-chunked bodies (sent
// signed or unsigned by current SDKs) become their plain bytes, so codecs and
// services see one form. As S3 does, "aws-chunked" is dropped from
// Content-Encoding and the length becomes x-amz-decoded-content-length.
func decodeBody(r *http.Request, cred *sigv4.Credential, secret string) error {
	body, err := sigv4.Body(r, cred, secret)
	if err != nil {
		return err
	}
	r.Body = body
	if ce := r.Header.Get("Content-Encoding"); strings.Contains(ce, "aws-chunked") {
		var kept []string
		for _, enc := range strings.Split(ce, ",") {
			if enc = strings.TrimSpace(enc); enc != "" && enc != "aws-chunked" {
				kept = append(kept, enc)
			}
		}
		if len(kept) == 0 {
			r.Header.Del("Content-Encoding")
		} else {
			r.Header.Set("Content-Encoding", strings.Join(kept, ","))
		}
		if n, err := strconv.ParseInt(r.Header.Get("X-Amz-Decoded-Content-Length"), 10, 64); err == nil {
			r.ContentLength = n
			r.Header.Set("Content-Length", strconv.FormatInt(n, 10))
		}
	}
	return nil
}

// unknownKey is the error for an access key wharf does not know: S3 names it
// InvalidAccessKeyId, the JSON services (DynamoDB, ECS, Logs, EventBridge,
// Application Auto Scaling; Scheduler with 403) a 400
// UnrecognizedClientException, and the query
// services, and those that speak JSON for query's sake (SQS, CloudWatch),
// a 403 InvalidClientTokenId.
func unknownKey(svc *awsapi.Service, accessKey string) error {
	if svc != nil && svc.Quirks.S3AuthErrors {
		return sigv4.InvalidAccessKeyID(accessKey)
	}
	return invalidToken(svc)
}

// invalidToken is the error for credentials a service does not recognise:
// an unknown key, or temporary credentials sent without their token.
func invalidToken(svc *awsapi.Service) error {
	if jsonAuth(svc) {
		return apierr.New("UnrecognizedClientException", jsonAuthStatus(svc), "The security token included in the request is invalid.")
	}
	return sigv4.InvalidClientTokenID()
}

// jsonAuth reports whether svc speaks only the JSON family of protocols
// (awsJson, restJson) and not query: its authentication errors are the JSON
// services' own (UnrecognizedClientException, IncompleteSignatureException,
// ...), not query's (InvalidClientTokenId, IncompleteSignature, ...).
func jsonAuth(svc *awsapi.Service) bool {
	return svc != nil && !svc.Quirks.S3AuthErrors && !svc.Speaks(awsapi.ProtocolQuery) &&
		(svc.Speaks(awsapi.ProtocolJSON) || svc.Speaks(awsapi.ProtocolRestJSON))
}

// jsonAuthStatus is the status of a JSON service's authentication errors:
// the awsJson services (DynamoDB, ECS, ...) answer 400, the restJson ones
// (Scheduler, as Lambda) 403.
func jsonAuthStatus(svc *awsapi.Service) int {
	if svc.Speaks(awsapi.ProtocolJSON) {
		return http.StatusBadRequest
	}
	return http.StatusForbidden
}

// jsonAuthCodes are the JSON services' names for the signature errors that
// package sigv4 returns in S3's and the query services' words.
var jsonAuthCodes = map[string]string{
	"IncompleteSignature":        "IncompleteSignatureException",
	"SignatureDoesNotMatch":      "InvalidSignatureException",
	"MissingAuthenticationToken": "MissingAuthenticationTokenException",
}

// authError is a signature error as svc answers it. Package sigv4 words
// them as S3 and the query services do; the JSON services name them their
// own way (IncompleteSignatureException, InvalidSignatureException,
// MissingAuthenticationTokenException), and only S3 has
// AuthorizationQueryParametersError: the others call a presigned URL that
// lacks a parameter an incomplete signature. The codec then renders the
// error in the protocol the request spoke.
func authError(svc *awsapi.Service, err error) error {
	e := apierr.As(err)
	if e == nil || svc == nil || svc.Quirks.S3AuthErrors {
		return err
	}
	code, status := e.Code, e.Status
	if code == "AuthorizationQueryParametersError" {
		code = "IncompleteSignature"
	}
	if jsonAuth(svc) {
		if c, ok := jsonAuthCodes[code]; ok {
			code, status = c, jsonAuthStatus(svc)
		}
	}
	if code == e.Code && status == e.Status {
		return err
	}
	out := *e
	out.Code, out.Status = code, status
	return &out
}

// refusedKey is the error for a key that was issued but no longer
// authenticates (awsapi.Key.Refused): expired temporary credentials are
// ExpiredToken (S3: "The provided token has expired."; the JSON services
// ExpiredTokenException), anything else is an unknown key.
func refusedKey(svc *awsapi.Service, reason, accessKey string) error {
	if reason != awsapi.KeyExpired {
		return unknownKey(svc, accessKey)
	}
	switch {
	case svc != nil && svc.Quirks.S3AuthErrors:
		return apierr.New("ExpiredToken", 400, "The provided token has expired.")
	case jsonAuth(svc):
		return apierr.New("ExpiredTokenException", jsonAuthStatus(svc), "The security token included in the request is expired")
	}
	return apierr.New("ExpiredToken", 403, "The security token included in the request is expired")
}

func missingAuth(svc *awsapi.Service) error {
	if svc != nil && svc.Quirks.S3AuthErrors {
		return apierr.New("AccessDenied", 403, "Access Denied")
	}
	return sigv4.MissingAuthenticationToken()
}
