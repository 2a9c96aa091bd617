package s3

import (
	"context"
	"encoding/base64"
	"net/url"
	"strings"

	"github.com/wharf-dev/wharf/internal/awsapi"
	s3api "github.com/wharf-dev/wharf/internal/awsapi/s3"
	"github.com/wharf-dev/wharf/internal/store"
)

// keyEnd returns the smallest byte string greater than every string that
// has k as a prefix (k's last byte incremented, carrying over 0xff).
func keyEnd(k []byte) []byte {
	for i := len(k) - 1; i >= 0; i-- {
		if k[i] != 0xff {
			e := append([]byte(nil), k[:i+1]...)
			e[i]++
			return e
		}
	}
	return nil
}

// walk visits the entries under base (a store prefix) whose object key has
// prefix, from store key start on, rolling keys that contain delim after the
// prefix up into common prefixes: visit is called once per common prefix
// (cp true, v nil) and once per other entry. The common prefix equal to
// after was listed on an earlier page and is skipped. keyOf extracts the
// object key from a store key.
func walk(tx store.Tx, base []byte, keyOf func([]byte) string, prefix, delim, after string, start []byte,
	visit func(key string, cp bool, v []byte) (bool, error)) error {
	scanPrefix := append(append([]byte(nil), base...), prefix...)
	for {
		var restart []byte
		stop := false
		err := tx.Scan(scanPrefix, start, func(k, v []byte) (bool, error) {
			key := keyOf(k)
			if delim != "" {
				if i := strings.Index(key[len(prefix):], delim); i >= 0 {
					cp := key[:len(prefix)+i+len(delim)]
					restart = keyEnd(append(append([]byte(nil), base...), cp...))
					if cp == after {
						return false, nil
					}
					more, err := visit(cp, true, nil)
					stop = !more
					return false, err
				}
			}
			more, err := visit(key, false, v)
			stop = !more
			return more, err
		})
		if err != nil || stop || restart == nil {
			return err
		}
		start = restart
	}
}

func currentKeyOf(bucket string) func([]byte) string {
	n := len(objectPrefix(bucket))
	return func(k []byte) string { return string(k[n:]) }
}

func versionKeyOf(bucket string) func([]byte) string {
	n := len(versionPrefix(bucket))
	return func(k []byte) string { return string(k[n : len(k)-9]) }
}

// urlEncode applies encoding-type=url to a key or prefix, as S3 does:
// form encoding (a space is "+", a "+" is %2B) that leaves "/" alone.
// botocore decodes these with unquote_plus, and a listing measured on S3
// returned "a b.txt" as a+b.txt.
func urlEncode(enc bool, s string) string {
	if !enc {
		return s
	}
	return strings.ReplaceAll(url.QueryEscape(s), "%2F", "/")
}

func encPtr(enc bool, p *string) *string {
	if p == nil {
		return nil
	}
	return awsapi.String(urlEncode(enc, *p))
}

func maxKeys(p *int32) (int, error) {
	if p == nil {
		return 1000, nil
	}
	if *p < 0 {
		return 0, invalidArgument("Argument maxKeys must be an integer between 0 and 2147483647", "maxKeys", "")
	}
	if *p > 1000 {
		return 1000, nil
	}
	return int(*p), nil
}

func validEncoding(p *string) (bool, error) {
	if p == nil {
		return false, nil
	}
	if *p != "url" {
		return false, invalidArgument("Invalid Encoding Method specified in Request", "encoding-type", *p)
	}
	return true, nil
}

// listPage is one page of current objects and common prefixes.
type listPage struct {
	objects   []*object
	prefixes  []string
	truncated bool
	last      string // the last key or common prefix listed
}

func (s *Service) listCurrent(ctx context.Context, name, prefix, delim, after string, max int) (*bucket, *listPage, error) {
	var b *bucket
	p := &listPage{}
	err := s.st.View(func(tx store.Tx) error {
		var err error
		if b, err = ownBucket(ctx, tx, name); err != nil {
			return err
		}
		var start []byte
		if after != "" {
			start = append(objectKey(name, after), 0)
		}
		return walk(tx, objectPrefix(name), currentKeyOf(name), prefix, delim, after, start, func(key string, cp bool, v []byte) (bool, error) {
			if len(p.objects)+len(p.prefixes) >= max {
				p.truncated = max > 0
				return false, nil
			}
			p.last = key
			if cp {
				p.prefixes = append(p.prefixes, key)
				return true, nil
			}
			o, err := decodeObject(v)
			if err != nil {
				return false, err
			}
			p.objects = append(p.objects, o)
			return true, nil
		})
	})
	return b, p, err
}

func (p *listPage) contents(enc, withOwner bool, acct string) ([]s3api.Object, []s3api.CommonPrefix) {
	var objs []s3api.Object
	for _, o := range p.objects {
		lm := o.LastModified
		e := s3api.Object{Key: awsapi.String(urlEncode(enc, o.Key)), LastModified: &lm, ETag: awsapi.String(o.ETag),
			Size: awsapi.Int64(o.Size), StorageClass: awsapi.String(o.storageClass()), ChecksumAlgorithm: o.checksumAlgorithms()}
		if o.ChecksumType != "" {
			e.ChecksumType = awsapi.String(o.ChecksumType)
		}
		if withOwner {
			e.Owner = owner(ownerOr(o.Owner, acct))
		}
		objs = append(objs, e)
	}
	var cps []s3api.CommonPrefix
	for _, c := range p.prefixes {
		cps = append(cps, s3api.CommonPrefix{Prefix: awsapi.String(urlEncode(enc, c))})
	}
	return objs, cps
}

// ListObjectsV2 lists current objects in key order, a page at a time.
func (s *Service) ListObjectsV2(ctx context.Context, in *s3api.ListObjectsV2Input) (*s3api.ListObjectsV2Output, error) {
	max, err := maxKeys(in.MaxKeys)
	if err != nil {
		return nil, err
	}
	enc, err := validEncoding(in.EncodingType)
	if err != nil {
		return nil, err
	}
	after := awsapi.ToString(in.StartAfter)
	// An empty token starts at the beginning, and is echoed back as given.
	if t := in.ContinuationToken; t != nil && *t != "" {
		k, err := base64.RawURLEncoding.DecodeString(*t)
		if err != nil {
			return nil, invalidArgument("The continuation token provided is incorrect", "continuation-token", *t)
		}
		after = string(k)
	}
	prefix, delim := awsapi.ToString(in.Prefix), awsapi.ToString(in.Delimiter)
	b, p, err := s.listCurrent(ctx, awsapi.ToString(in.Bucket), prefix, delim, after, max)
	if err != nil {
		return nil, err
	}
	out := &s3api.ListObjectsV2Output{
		Name: awsapi.String(b.Name), Prefix: awsapi.String(urlEncode(enc, prefix)), MaxKeys: awsapi.Int32(int32(max)),
		IsTruncated: awsapi.Bool(p.truncated), KeyCount: awsapi.Int32(int32(len(p.objects) + len(p.prefixes))),
		ContinuationToken: in.ContinuationToken, StartAfter: encPtr(enc, in.StartAfter), EncodingType: in.EncodingType,
	}
	if delim != "" { // S3 leaves out an empty Delimiter
		out.Delimiter = encPtr(enc, in.Delimiter)
	}
	out.Contents, out.CommonPrefixes = p.contents(enc, awsapi.ToBool(in.FetchOwner), b.Account)
	if p.truncated {
		out.NextContinuationToken = awsapi.String(base64.RawURLEncoding.EncodeToString([]byte(p.last)))
	}
	return out, nil
}

// ListObjects is version 1 of the listing: a marker instead of a token, and
// NextMarker only when a delimiter is given (ListObjects docs).
func (s *Service) ListObjects(ctx context.Context, in *s3api.ListObjectsInput) (*s3api.ListObjectsOutput, error) {
	max, err := maxKeys(in.MaxKeys)
	if err != nil {
		return nil, err
	}
	enc, err := validEncoding(in.EncodingType)
	if err != nil {
		return nil, err
	}
	prefix, delim, marker := awsapi.ToString(in.Prefix), awsapi.ToString(in.Delimiter), awsapi.ToString(in.Marker)
	b, p, err := s.listCurrent(ctx, awsapi.ToString(in.Bucket), prefix, delim, marker, max)
	if err != nil {
		return nil, err
	}
	out := &s3api.ListObjectsOutput{
		// Version 1 returns Prefix as given, encoded or not (unlike V2).
		Name: awsapi.String(b.Name), Prefix: awsapi.String(prefix), MaxKeys: awsapi.Int32(int32(max)),
		IsTruncated: awsapi.Bool(p.truncated), Marker: awsapi.String(urlEncode(enc, marker)), EncodingType: in.EncodingType,
	}
	if delim != "" { // S3 leaves out an empty Delimiter
		out.Delimiter = encPtr(enc, in.Delimiter)
	}
	out.Contents, out.CommonPrefixes = p.contents(enc, true, b.Account)
	if p.truncated && delim != "" {
		out.NextMarker = awsapi.String(urlEncode(enc, p.last))
	}
	return out, nil
}

// ListObjectVersions lists every version and delete marker, keys in order
// and each key's versions newest first.
func (s *Service) ListObjectVersions(ctx context.Context, in *s3api.ListObjectVersionsInput) (*s3api.ListObjectVersionsOutput, error) {
	max, err := maxKeys(in.MaxKeys)
	if err != nil {
		return nil, err
	}
	enc, err := validEncoding(in.EncodingType)
	if err != nil {
		return nil, err
	}
	name := awsapi.ToString(in.Bucket)
	prefix, delim := awsapi.ToString(in.Prefix), awsapi.ToString(in.Delimiter)
	keyMarker, vidMarker := awsapi.ToString(in.KeyMarker), awsapi.ToString(in.VersionIdMarker)
	if vidMarker != "" && keyMarker == "" {
		return nil, invalidArgument("A version-id marker cannot be specified without a key marker.", "version-id-marker", vidMarker)
	}
	out := &s3api.ListObjectVersionsOutput{
		Name: awsapi.String(name), Prefix: awsapi.String(urlEncode(enc, prefix)), MaxKeys: awsapi.Int32(int32(max)),
		KeyMarker: awsapi.String(urlEncode(enc, keyMarker)), VersionIdMarker: awsapi.String(vidMarker), EncodingType: in.EncodingType,
	}
	if delim != "" { // S3 leaves out an empty Delimiter
		out.Delimiter = encPtr(enc, in.Delimiter)
	}
	truncated := false
	var lastKey, lastVersion string
	err = s.st.View(func(tx store.Tx) error {
		b, err := ownBucket(ctx, tx, name)
		if err != nil {
			return err
		}
		base, keyOf := objectPrefix(name), currentKeyOf(name)
		var start []byte
		if b.versioned() {
			base, keyOf = versionPrefix(name), versionKeyOf(name)
			if keyMarker != "" {
				start = keyEnd(versionKeyPrefix(name, keyMarker))
				if vidMarker != "" {
					o, err := findVersion(tx, b, keyMarker, vidMarker)
					if err != nil {
						return err
					}
					if o != nil {
						start = append(versionKey(name, keyMarker, o.Seq), 0)
					}
				}
			}
		} else if keyMarker != "" {
			start = append(objectKey(name, keyMarker), 0)
		}
		count := 0
		prevKey := ""
		if vidMarker != "" {
			prevKey = keyMarker // the rest of this key's versions are not the latest
		}
		acct := b.Account
		return walk(tx, base, keyOf, prefix, delim, keyMarker, start, func(key string, cp bool, v []byte) (bool, error) {
			if count >= max {
				truncated = max > 0
				return false, nil
			}
			count++
			lastKey, lastVersion = key, ""
			if cp {
				out.CommonPrefixes = append(out.CommonPrefixes, s3api.CommonPrefix{Prefix: awsapi.String(urlEncode(enc, key))})
				return true, nil
			}
			o, err := decodeObject(v)
			if err != nil {
				return false, err
			}
			latest := key != prevKey
			prevKey = key
			lastVersion = o.VersionID
			lm := o.LastModified
			if o.DeleteMarker {
				out.DeleteMarkers = append(out.DeleteMarkers, s3api.DeleteMarkerEntry{Key: awsapi.String(urlEncode(enc, key)),
					VersionId: awsapi.String(o.VersionID), IsLatest: awsapi.Bool(latest), LastModified: &lm, Owner: owner(ownerOr(o.Owner, acct))})
				return true, nil
			}
			out.Versions = append(out.Versions, s3api.ObjectVersion{Key: awsapi.String(urlEncode(enc, key)),
				VersionId: awsapi.String(o.VersionID), IsLatest: awsapi.Bool(latest), LastModified: &lm,
				ETag: awsapi.String(o.ETag), Size: awsapi.Int64(o.Size), StorageClass: awsapi.String(o.storageClass()),
				Owner: owner(ownerOr(o.Owner, acct)), ChecksumAlgorithm: o.checksumAlgorithms(), ChecksumType: optString(o.ChecksumType)})
			return true, nil
		})
	})
	if err != nil {
		return nil, err
	}
	out.IsTruncated = awsapi.Bool(truncated)
	if truncated {
		out.NextKeyMarker = awsapi.String(urlEncode(enc, lastKey))
		if lastVersion != "" {
			out.NextVersionIdMarker = awsapi.String(lastVersion)
		}
	}
	return out, nil
}

func optString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
