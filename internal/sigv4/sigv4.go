// Package sigv4 parses and verifies AWS Signature Version 4 on incoming requests:
// the Authorization header, presigned URLs (X-Amz-* query parameters) and
// streaming aws-chunked payloads with their chunk signatures and trailing checksums.
//
// The server calls Parse to learn who a request claims to be (and which service and
// region its credential scope names), looks up the secret for the access key, calls
// Verify, and reads the payload through Body. Every error returned is an
// *apierr.Error carrying AWS's code and status, except transport errors from the
// underlying request body, which Body's reader passes through.
//
// The front door's sequence:
//
//	c, err := sigv4.Parse(r) // c == nil: unsigned (MissingAuthenticationToken when auth is enforced)
//	secret, ok := keys[c.AccessKey] // unknown: InvalidAccessKeyID (S3) or InvalidClientTokenID
//	err = sigv4.Verify(r, c, secret, now)
//	body, err := sigv4.Body(r, c, secret) // for every request: it also decodes unsigned aws-chunked bodies
//
// Body leaves headers alone: whoever stores an object's Content-Encoding drops
// "aws-chunked" from it, and takes the object's length from
// x-amz-decoded-content-length, as S3 does.
package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/wharf-dev/wharf/internal/apierr"
)

// Algorithm is the only signing algorithm wharf accepts.
const Algorithm = "AWS4-HMAC-SHA256"

// Special x-amz-content-sha256 values ("Authenticating Requests: Using the
// Authorization Header" and "Transferring Payload in Multiple Chunks" docs).
const (
	UnsignedPayload          = "UNSIGNED-PAYLOAD"
	StreamingPayload         = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
	StreamingPayloadTrailer  = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
	StreamingUnsignedTrailer = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
)

// MaxPresignExpires is the longest X-Amz-Expires AWS accepts: seven days.
const MaxPresignExpires = 7 * 24 * time.Hour

// MaxSkew is how far a header-signed request's time may be from the server's clock.
const MaxSkew = 15 * time.Minute

// timeFormat is the ISO 8601 basic format of X-Amz-Date.
const timeFormat = "20060102T150405Z"

// Credential is what a request claims: from the Authorization header, or the
// X-Amz-Credential query parameters of a presigned URL.
type Credential struct {
	AccessKey     string
	Date          string // YYYYMMDD from the credential scope
	Region        string
	Service       string // signing name: "s3", "sqs", "monitoring"
	SignedHeaders []string
	Signature     string // lowercase hex
	Presigned     bool
	Time          time.Time     // X-Amz-Date (or Date) of the request
	Expires       time.Duration // X-Amz-Expires of a presigned URL; zero for header auth
	// HasExpires is set when the URL carries X-Amz-Expires: 0 is a URL that
	// has already expired, not one without an expiry.
	HasExpires    bool
	SecurityToken string // X-Amz-Security-Token, header or query
	// V2 marks a Signature Version 2 credential (S3's "AWS key:signature"
	// header, or AWSAccessKeyId/Signature/Expires in a URL, which boto3
	// still presigns S3 URLs with): Verify checks it with verifyV2.
	V2 bool
	// V2Expires is the Expires of a SigV2 presigned URL.
	V2Expires time.Time
}

// scope is the credential scope: date/region/service/aws4_request.
func (c *Credential) scope() string {
	return c.Date + "/" + c.Region + "/" + c.Service + "/aws4_request"
}

// Parse returns the credential r claims, or (nil, nil) when r is not signed.
// An Authorization header of another scheme (a bearer token, say) is not a
// signature and yields (nil, nil); SigV2 yields the key it names (V2); an
// AWS scheme wharf does not speak (SigV4a) is an error.
func Parse(r *http.Request) (*Credential, error) {
	if auth := r.Header.Get("Authorization"); auth != "" {
		alg, rest, _ := strings.Cut(strings.TrimSpace(auth), " ")
		switch {
		case alg == Algorithm:
			return parseHeader(r, rest)
		case alg == "AWS":
			key, sig, ok := strings.Cut(rest, ":")
			if !ok || key == "" {
				return nil, apierr.New("InvalidArgument", 400, "AWS authorization header is invalid.  Expected AwsAccessKeyId:signature")
			}
			return &Credential{AccessKey: key, Signature: sig, V2: true, SecurityToken: r.Header.Get("X-Amz-Security-Token")}, nil
		case strings.HasPrefix(alg, "AWS4-"):
			return nil, apierr.New("IncompleteSignature", 400, "Unsupported AWS 'algorithm': '%s'. Use %s.", alg, Algorithm)
		}
	}
	q := r.URL.Query()
	if q.Has("X-Amz-Algorithm") || q.Has("X-Amz-Credential") || q.Has("X-Amz-Signature") {
		return parsePresigned(r, q)
	}
	if q.Has("AWSAccessKeyId") && q.Has("Signature") {
		c := &Credential{AccessKey: q.Get("AWSAccessKeyId"), Signature: q.Get("Signature"), V2: true, Presigned: true,
			SecurityToken: q.Get("x-amz-security-token")}
		if c.SecurityToken == "" {
			c.SecurityToken = r.Header.Get("X-Amz-Security-Token")
		}
		if e := q.Get("Expires"); e != "" {
			n, err := strconv.ParseInt(e, 10, 64)
			if err != nil {
				return nil, apierr.New("AccessDenied", 403, "Invalid date (should be seconds since epoch): %s", e)
			}
			c.V2Expires, c.HasExpires = time.Unix(n, 0), true
		}
		return c, nil
	}
	return nil, nil
}

// ClaimedService is the service a request's credential scope names
// ("AKID/date/region/<service>/aws4_request", from the Authorization header's
// Credential parameter or the X-Amz-Credential query parameter), read
// leniently: the front door asks it only when Parse refused the signature,
// so that the error is answered by the service the request was signed for,
// in its protocol. It is "" when the request names none.
func ClaimedService(r *http.Request) string {
	scope := ""
	if auth := r.Header.Get("Authorization"); auth != "" {
		_, params, _ := strings.Cut(strings.TrimSpace(auth), " ")
		for rest := params; rest != "" && scope == ""; {
			var p string
			p, rest, _ = strings.Cut(rest, ",")
			if k, v, ok := strings.Cut(strings.TrimSpace(p), "="); ok && strings.TrimSpace(k) == "Credential" {
				scope = v
			}
		}
	}
	if scope == "" {
		scope = r.URL.Query().Get("X-Amz-Credential")
	}
	parts := strings.Split(strings.TrimSpace(scope), "/")
	if len(parts) != 5 || parts[4] != "aws4_request" {
		return ""
	}
	return parts[3]
}

func parseHeader(r *http.Request, params string) (*Credential, error) {
	c := &Credential{}
	var have struct{ cred, signed, sig bool }
	// Every request carries this header: walk it without splitting it into
	// a slice first.
	for rest := params; rest != ""; {
		var p string
		p, rest, _ = strings.Cut(rest, ",")
		k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
		if !ok {
			continue
		}
		switch strings.TrimSpace(k) {
		case "Credential":
			have.cred = true
			if err := c.parseScope(v); err != nil {
				return nil, err
			}
		case "SignedHeaders":
			have.signed = true
			c.SignedHeaders = splitSignedHeaders(v)
		case "Signature":
			have.sig = true
			c.Signature = strings.ToLower(strings.TrimSpace(v))
		}
	}
	var missing []string
	if !have.cred {
		missing = append(missing, "Authorization header requires 'Credential' parameter.")
	}
	if !have.sig {
		missing = append(missing, "Authorization header requires 'Signature' parameter.")
	}
	if !have.signed {
		missing = append(missing, "Authorization header requires 'SignedHeaders' parameter.")
	}
	if d := r.Header.Get("X-Amz-Date"); d != "" {
		t, err := parseBasicTime(d)
		if err != nil {
			return nil, incomplete("Date must be in ISO-8601 'basic format'. Got '%s'. See http://en.wikipedia.org/wiki/ISO_8601", d)
		}
		c.Time = t
	} else if d := r.Header.Get("Date"); d != "" {
		t, err := http.ParseTime(d)
		if err != nil {
			// botocore signs a request that carries a Date header with that
			// header instead of X-Amz-Date, formatted with a numeric zone
			// ("-0000", email.utils.formatdate), which S3 takes.
			if t, err = time.Parse(time.RFC1123Z, d); err != nil {
				return nil, incomplete("Date must be in RFC 1123 format. Got '%s'.", d)
			}
		}
		c.Time = t.UTC()
	} else {
		missing = append(missing, "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
	}
	if len(missing) > 0 {
		return nil, incomplete("%s Authorization=%s", strings.Join(missing, " "), Algorithm+" "+params)
	}
	c.SecurityToken = r.Header.Get("X-Amz-Security-Token")
	return c, nil
}

func parsePresigned(r *http.Request, q map[string][]string) (*Credential, error) {
	get := func(k string) string {
		if v := q[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	for _, k := range []string{"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature", "X-Amz-Date", "X-Amz-SignedHeaders"} {
		if get(k) == "" {
			return nil, queryParamsError("Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.")
		}
	}
	if alg := get("X-Amz-Algorithm"); alg != Algorithm {
		return nil, queryParamsError("X-Amz-Algorithm only supports \"%s\"", Algorithm)
	}
	c := &Credential{Presigned: true}
	if err := c.parseScope(get("X-Amz-Credential")); err != nil {
		return nil, err
	}
	t, err := time.Parse(timeFormat, get("X-Amz-Date"))
	if err != nil {
		return nil, queryParamsError("X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"")
	}
	c.Time = t
	// Presigned URLs of services other than S3 may omit X-Amz-Expires; Verify then
	// applies the header rule (MaxSkew) instead.
	if e := get("X-Amz-Expires"); e != "" {
		n, err := strconv.ParseInt(e, 10, 64)
		if err != nil || n < 0 {
			return nil, queryParamsError("X-Amz-Expires should be a number")
		}
		if n > int64(MaxPresignExpires/time.Second) {
			return nil, queryParamsError("X-Amz-Expires must be less than a week (in seconds) that is; 604800 seconds")
		}
		c.Expires = time.Duration(n) * time.Second
		c.HasExpires = true
	}
	c.SignedHeaders = splitSignedHeaders(get("X-Amz-SignedHeaders"))
	c.Signature = strings.ToLower(get("X-Amz-Signature"))
	c.SecurityToken = get("X-Amz-Security-Token")
	if c.SecurityToken == "" {
		c.SecurityToken = r.Header.Get("X-Amz-Security-Token")
	}
	return c, nil
}

// parseScope reads "AKID/YYYYMMDD/region/service/aws4_request".
func (c *Credential) parseScope(v string) error {
	var parts [5]string
	scope := strings.TrimSpace(v)
	n, rest := 0, scope
	for ; n < 5 && rest != ""; n++ {
		parts[n], rest, _ = strings.Cut(rest, "/")
	}
	if n != 5 || rest != "" || strings.HasSuffix(scope, "/") || parts[0] == "" || len(parts[1]) != 8 || parts[2] == "" || parts[3] == "" || parts[4] != "aws4_request" {
		return incomplete("Credential should be scoped to a valid region, service and date, as in <AccessKey>/YYYYMMDD/<region>/<service>/aws4_request. Got '%s'.", v)
	}
	if _, err := parseBasicDate(parts[1]); err != nil {
		return incomplete("Credential should be scoped to a valid date (YYYYMMDD). Got '%s'.", parts[1])
	}
	c.AccessKey, c.Date, c.Region, c.Service = parts[0], parts[1], parts[2], parts[3]
	return nil
}

func splitSignedHeaders(v string) []string {
	out := make([]string, 0, strings.Count(v, ";")+1)
	for rest := v; rest != ""; {
		var h string
		h, rest, _ = strings.Cut(rest, ";")
		if h = strings.ToLower(strings.TrimSpace(h)); h != "" {
			out = append(out, h)
		}
	}
	return out
}

// Verify checks that c's signature is r's signature under secret, and that r's
// time is acceptable at now: within MaxSkew for header auth, before expiry for a
// presigned URL. When the payload hash is the body's own sha256 (no
// x-amz-content-sha256 header), Verify reads the body and restores r.Body.
func Verify(r *http.Request, c *Credential, secret string, now time.Time) error {
	if c == nil {
		return MissingAuthenticationToken()
	}
	if c.V2 {
		return verifyV2(r, c, secret, now)
	}
	if err := checkTime(c, now); err != nil {
		return err
	}
	if c.Date != c.Time.UTC().Format("20060102") {
		return apierr.New("SignatureDoesNotMatch", 403, "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '%s' != '%s', from '%s'.", c.Date, c.Time.UTC().Format("20060102"), c.Time.UTC().Format(timeFormat))
	}
	hashes, err := payloadHashes(r, c)
	if err != nil {
		return err
	}
	key := signingKey(secret, c.Date, c.Region, c.Service)
	first := ""
	for _, uri := range canonicalURIs(r, c.Service) {
		for _, h := range hashes {
			ph, err := h()
			if err != nil {
				return err
			}
			cr := buildCanonical(r, c, uri, ph)
			if first == "" {
				first = cr
			}
			sts := stringToSign(c, cr)
			if hmac.Equal([]byte(hex.EncodeToString(hmacSHA256(key, sts))), []byte(c.Signature)) {
				return nil
			}
		}
	}
	return signatureMismatch(c, first, stringToSign(c, first))
}

// CheckExpiry refuses a presigned URL whose X-Amz-Expires has passed, or
// that is dated too far ahead: the check of Verify that needs no secret.
func CheckExpiry(c *Credential, now time.Time) error {
	if !c.Presigned || !c.HasExpires {
		return nil
	}
	if c.V2 {
		if now.After(c.V2Expires) {
			e := apierr.New("AccessDenied", 403, "Request has expired")
			e.Fields = map[string]any{"Expires": c.V2Expires.UTC().Format(time.RFC3339), "ServerTime": now.UTC().Format(time.RFC3339)}
			return e
		}
		return nil
	}
	return checkTime(c, now)
}

func checkTime(c *Credential, now time.Time) error {
	if c.Presigned && c.HasExpires {
		if now.After(c.Time.Add(c.Expires)) {
			e := apierr.New("AccessDenied", 403, "Request has expired")
			e.Fields = map[string]any{
				"X-Amz-Expires": strconv.Itoa(int(c.Expires / time.Second)),
				"Expires":       c.Time.Add(c.Expires).UTC().Format(time.RFC3339),
				"ServerTime":    now.UTC().Format(time.RFC3339),
			}
			return e
		}
		if c.Time.After(now.Add(MaxSkew)) {
			return apierr.New("AccessDenied", 403, "Request is not yet valid")
		}
		return nil
	}
	if d := now.Sub(c.Time); d > MaxSkew || d < -MaxSkew {
		e := apierr.New("RequestTimeTooSkewed", 403, "The difference between the request time and the current time is too large.")
		e.Fields = map[string]any{
			"RequestTime":                c.Time.UTC().Format(timeFormat),
			"ServerTime":                 now.UTC().Format(time.RFC3339),
			"MaxAllowedSkewMilliseconds": strconv.Itoa(int(MaxSkew / time.Millisecond)),
		}
		return e
	}
	return nil
}

func signingKey(secret, date, region, service string) []byte {
	k := hmacSHA256([]byte("AWS4"+secret), date)
	k = hmacSHA256(k, region)
	k = hmacSHA256(k, service)
	return hmacSHA256(k, "aws4_request")
}

func hmacSHA256(key []byte, msg string) []byte {
	m := hmac.New(sha256.New, key)
	io.WriteString(m, msg)
	return m.Sum(nil)
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func stringToSign(c *Credential, canonicalRequest string) string {
	return Algorithm + "\n" + c.Time.UTC().Format(timeFormat) + "\n" + c.scope() + "\n" + sha256Hex([]byte(canonicalRequest))
}

// parseBasicTime reads X-Amz-Date as time.Parse(timeFormat, v) does. Every
// signed request carries one: its usual form (16 digits and letters in
// place) is read directly, anything else by time.Parse.
func parseBasicTime(v string) (time.Time, error) {
	if len(v) == len(timeFormat) && v[8] == 'T' && v[15] == 'Z' {
		if t, ok := fixedTime(v[:8], v[9:15]); ok {
			return t, nil
		}
	}
	return time.Parse(timeFormat, v)
}

// parseBasicDate reads a credential scope's YYYYMMDD as
// time.Parse("20060102", v) does.
func parseBasicDate(v string) (time.Time, error) {
	if len(v) == 8 {
		if t, ok := fixedTime(v, "000000"); ok {
			return t, nil
		}
	}
	return time.Parse("20060102", v)
}

// fixedTime is the UTC time of date YYYYMMDD and clock hhmmss, all digits;
// false when a field is not digits or out of its range (time.Parse then
// gives the error).
func fixedTime(date, clock string) (time.Time, bool) {
	n := func(s string) (int, bool) {
		x := 0
		for i := 0; i < len(s); i++ {
			if s[i] < '0' || s[i] > '9' {
				return 0, false
			}
			x = x*10 + int(s[i]-'0')
		}
		return x, true
	}
	y, ok1 := n(date[:4])
	mo, ok2 := n(date[4:6])
	d, ok3 := n(date[6:8])
	h, ok4 := n(clock[:2])
	mi, ok5 := n(clock[2:4])
	sec, ok6 := n(clock[4:6])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || sec > 59 {
		return time.Time{}, false
	}
	t := time.Date(y, time.Month(mo), d, h, mi, sec, 0, time.UTC)
	if t.Day() != d { // past the month's last day
		return time.Time{}, false
	}
	return t, true
}
