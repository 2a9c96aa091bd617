package sigv4

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/wharf-dev/wharf/internal/apierr"
)

// Signature Version 2, S3's older scheme ("Signing and authenticating REST
// requests (AWS signature version 2)" in the S3 API reference):
//
//	Signature = Base64(HMAC-SHA1(secret, StringToSign))
//	StringToSign = Verb \n Content-MD5 \n Content-Type \n Date \n
//	               CanonicalizedAmzHeaders CanonicalizedResource
//
// Date is the Date header, empty when x-amz-date is sent, and a presigned
// URL's Expires; CanonicalizedAmzHeaders are the x-amz-* headers, lower
// case, sorted, repeated values joined by commas, each followed by a
// newline; CanonicalizedResource is the bucket and key path as sent, plus
// the sub-resources among the query parameters, sorted.

// v2SubResources are the query parameters the CanonicalizedResource keeps:
// the S3 documentation's list, the response header overrides, and the
// sub-resources added since that botocore (the most used SigV2 signer today)
// signs.
var v2SubResources = map[string]bool{
	"acl": true, "accelerate": true, "analytics": true, "cors": true, "defaultObjectAcl": true, "delete": true,
	"inventory": true, "lifecycle": true, "location": true, "logging": true, "metrics": true, "notification": true,
	"object-lock": true, "partNumber": true, "policy": true, "replication": true, "requestPayment": true,
	"response-cache-control": true, "response-content-disposition": true, "response-content-encoding": true,
	"response-content-language": true, "response-content-type": true, "response-expires": true,
	"restore": true, "select": true, "select-type": true, "storageClass": true, "tagging": true, "torrent": true,
	"uploadId": true, "uploads": true, "versionId": true, "versioning": true, "versions": true, "website": true,
}

// v2NewerSubResources are sub-resources S3 added after botocore's list was
// written; a signer that knows them includes them, botocore does not, so a
// request is checked both ways.
var v2NewerSubResources = map[string]bool{
	"encryption": true, "legal-hold": true, "retention": true, "ownershipControls": true,
	"publicAccessBlock": true, "policyStatus": true, "intelligent-tiering": true, "attributes": true,
}

// v2DateError is S3's answer to a SigV2 request without a usable date.
func v2DateError() *apierr.Error {
	return apierr.New("AccessDenied", 403, "AWS authentication requires a valid Date or x-amz-date header")
}

// v2Time is the time a SigV2 header-signed request claims: x-amz-date when
// sent (even empty, which is then invalid), else Date.
func v2Time(r *http.Request) (time.Time, string, error) {
	d, amz := r.Header["X-Amz-Date"]
	v := ""
	if amz {
		v = strings.TrimSpace(d[0])
	} else {
		v = strings.TrimSpace(r.Header.Get("Date"))
	}
	if v == "" {
		return time.Time{}, v, v2DateError()
	}
	t, err := http.ParseTime(v)
	if err != nil {
		// Some signers send the date with a numeric zone (the S3 docs'
		// own example does: "+0000").
		if t, err = time.Parse(time.RFC1123Z, v); err != nil {
			return time.Time{}, v, v2DateError()
		}
	}
	if t.Year() < 1970 {
		return time.Time{}, v, v2DateError()
	}
	return t.UTC(), v, nil
}

// verifyV2 checks a SigV2 header or presigned URL: its time first (as S3
// does, a bad date is refused before the signature is looked at), then the
// signature.
func verifyV2(r *http.Request, c *Credential, secret string, now time.Time) error {
	dates := []string{}
	if c.Presigned {
		if !c.HasExpires {
			return apierr.New("AccessDenied", 403, "Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters")
		}
		if err := CheckExpiry(c, now); err != nil {
			return err
		}
		dates = append(dates, r.URL.Query().Get("Expires"))
	} else {
		t, v, err := v2Time(r)
		if err != nil {
			return err
		}
		if d := now.Sub(t); d > MaxSkew || d < -MaxSkew {
			e := apierr.New("RequestTimeTooSkewed", 403, "The difference between the request time and the current time is too large.")
			e.Fields = map[string]any{
				"RequestTime":                v,
				"ServerTime":                 now.UTC().Format(time.RFC3339),
				"MaxAllowedSkewMilliseconds": strconv.Itoa(int(MaxSkew / time.Millisecond)),
			}
			return e
		}
		// With x-amz-date the Date line is empty (the S3 docs); botocore
		// signs the Date header there all the same, so both are accepted.
		dates = append(dates, r.Header.Get("Date"))
		if _, amz := r.Header["X-Amz-Date"]; amz {
			dates = append(dates, "")
		}
	}
	want, err := base64.StdEncoding.DecodeString(c.Signature)
	if err != nil {
		want = nil // compared below, so the answer is SignatureDoesNotMatch
	}
	amz := v2AmzHeaders(r)
	first := ""
	for _, newer := range []bool{false, true} {
		res := v2Resource(r, newer)
		for _, res := range v2BucketForms(res) {
			for _, d := range dates {
				sts := r.Method + "\n" + strings.TrimSpace(r.Header.Get("Content-MD5")) + "\n" +
					strings.TrimSpace(r.Header.Get("Content-Type")) + "\n" + d + "\n" + amz + res
				if first == "" {
					first = sts
				}
				m := hmac.New(sha1.New, []byte(secret))
				m.Write([]byte(sts))
				if want != nil && hmac.Equal(m.Sum(nil), want) {
					return nil
				}
			}
		}
	}
	e := apierr.New("SignatureDoesNotMatch", 403, msgS3SignatureMismatch)
	e.Fields = map[string]any{
		"AWSAccessKeyId":    c.AccessKey,
		"StringToSign":      first,
		"SignatureProvided": c.Signature,
		"StringToSignBytes": spacedHex(first),
	}
	return e
}

// v2BucketForms are the ways a request to a bucket itself is signed: the
// S3 docs' CanonicalizedResource of a bucket ends in a slash
// ("/awsexamplebucket1/"), which botocore signs also for a path-style
// request sent without one.
func v2BucketForms(res string) []string {
	path, sub, _ := strings.Cut(res, "?")
	if len(path) > 1 && !strings.Contains(path[1:], "/") {
		with := path + "/"
		if sub != "" {
			with += "?" + sub
		}
		return []string{res, with}
	}
	return []string{res}
}

// v2AmzHeaders is the CanonicalizedAmzHeaders of r.
func v2AmzHeaders(r *http.Request) string {
	var names []string
	for k := range r.Header {
		if lk := strings.ToLower(k); strings.HasPrefix(lk, "x-amz-") {
			names = append(names, k)
		}
	}
	sort.Slice(names, func(i, j int) bool { return strings.ToLower(names[i]) < strings.ToLower(names[j]) })
	var b strings.Builder
	for _, k := range names {
		vals := r.Header[k]
		b.WriteString(strings.ToLower(k))
		b.WriteByte(':')
		for i, v := range vals {
			if i > 0 {
				b.WriteByte(',')
			}
			// Folded and repeated whitespace becomes one space.
			b.WriteString(strings.Join(strings.Fields(v), " "))
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// v2Resource is the CanonicalizedResource of r: the path-style path as sent
// (a virtual-host request was rewritten to path style by the front door,
// which is the form SigV2 signs), then the sub-resources.
func v2Resource(r *http.Request, newer bool) string {
	path := r.URL.EscapedPath()
	// Keep the client's own encoding of the key; the front door's rewrite
	// of a virtual-host request only put "/bucket" in front of it.
	if w := wirePath(r); w != "" {
		if u, err := url.PathUnescape(w); err == nil && strings.HasSuffix(r.URL.Path, u) {
			path = r.URL.Path[:len(r.URL.Path)-len(u)] + w
		}
	}
	if path == "" {
		path = "/"
	}
	type kv struct{ k, v string }
	var subs []kv
	for _, part := range strings.Split(r.URL.RawQuery, "&") {
		if part == "" {
			continue
		}
		k, v, hasV := strings.Cut(part, "=")
		if uk, err := url.QueryUnescape(k); err == nil {
			k = uk
		}
		if !v2SubResources[k] && !(newer && v2NewerSubResources[k]) {
			continue
		}
		if uv, err := url.QueryUnescape(v); err == nil {
			v = uv
		}
		if !hasV {
			subs = append(subs, kv{k: k})
			continue
		}
		subs = append(subs, kv{k, "=" + v})
	}
	if len(subs) == 0 {
		return path
	}
	sort.SliceStable(subs, func(i, j int) bool { return subs[i].k < subs[j].k })
	var b strings.Builder
	b.WriteString(path)
	for i, s := range subs {
		if i == 0 {
			b.WriteByte('?')
		} else {
			b.WriteByte('&')
		}
		b.WriteString(s.k + s.v)
	}
	return b.String()
}
