package s3

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/wharf-dev/wharf/internal/apierr"
	"github.com/wharf-dev/wharf/internal/awsapi"
	s3api "github.com/wharf-dev/wharf/internal/awsapi/s3"
	"github.com/wharf-dev/wharf/internal/store"
)

// maxPutSize is the largest single PUT S3 accepts (5 GiB, PutObject docs).
const maxPutSize = 5 << 30

// object is one stored version of an object (or a delete marker).
type object struct {
	Key string
	// VersionID is "null" for the null version: every object of a bucket
	// that never had versioning, and those written while it is suspended.
	VersionID          string
	Seq                uint64
	Blob               string            `json:",omitempty"`
	Size               int64             `json:",omitempty"`
	ETag               string            `json:",omitempty"`
	LastModified       time.Time         `json:""`
	ContentType        string            `json:",omitempty"`
	ContentEncoding    string            `json:",omitempty"`
	ContentDisposition string            `json:",omitempty"`
	ContentLanguage    string            `json:",omitempty"`
	CacheControl       string            `json:",omitempty"`
	Expires            string            `json:",omitempty"`
	WebsiteRedirect    string            `json:",omitempty"`
	StorageClass       string            `json:",omitempty"`
	Metadata           map[string]string `json:",omitempty"`
	Checksums          map[string]string `json:",omitempty"`
	ChecksumType       string            `json:",omitempty"`
	// PartSizes are the sizes of a multipart object's parts, for GET with
	// partNumber and for x-amz-mp-parts-count.
	PartSizes []int64 `json:",omitempty"`
	// PartChecksums are the parts' checksums in the upload's algorithm,
	// when the upload named one (GetObjectAttributes lists them).
	PartChecksums []string    `json:",omitempty"`
	Tags          []s3api.Tag `json:",omitempty"`
	DeleteMarker  bool        `json:",omitempty"`
	// UploadID is the multipart upload that made the object, so a retried
	// CompleteMultipartUpload of it answers as the first did.
	UploadID string `json:",omitempty"`
	// Enc is how the object is encrypted; nil is SSE-S3.
	Enc *encryption `json:",omitempty"`
	// Lock is the version's Object Lock retention and legal hold.
	Lock *objectLock `json:",omitempty"`
	// Owner is the account owning the object when it is not the bucket's
	// (another account wrote it to a bucket whose ACLs are enabled).
	Owner string `json:",omitempty"`
	// ACL is the object's ACL, nil for its owner's FULL_CONTROL alone (an
	// ACL may also grant nothing at all).
	ACL *[]grant `json:",omitempty"`

	// inline holds the bytes of a new small object until its commit writes
	// them to the store beside the metadata.
	inline []byte
}

func putJSON(tx store.Tx, k []byte, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return tx.Put(k, b)
}

func getObject(tx store.Tx, k []byte) (*object, error) {
	v, err := tx.Get(k)
	if err != nil || v == nil {
		return nil, err
	}
	return decodeObject(v)
}

// getObjectBlob reads only the blob id of the object record at k: a PUT
// over an object needs no more of the one it replaces, and decoding the
// whole record was a tenth of a small PUT's CPU.
func getObjectBlob(tx store.Tx, k []byte) (blob string, found bool, err error) {
	v, err := tx.Get(k)
	if err != nil || v == nil {
		return "", false, err
	}
	if len(v) > 0 && v[0] == objectRecordV1 {
		blob, err = recordBlob(v)
		return blob, err == nil, err
	}
	o, err := decodeObject(v) // a JSON record of an older wharf
	if err != nil {
		return "", false, err
	}
	return o.Blob, true, nil
}

func (o *object) storageClass() string {
	if o.StorageClass == "" {
		return "STANDARD"
	}
	return o.StorageClass
}

func (o *object) checksumAlgorithms() []string {
	var a []string
	for k := range o.Checksums {
		a = append(a, k)
	}
	sort.Strings(a)
	return a
}

// validKey applies S3's key rules: 1 to 1024 bytes of UTF-8. NUL is refused
// because it separates a key from its version in the store's keys.
func validKey(k string) error {
	if len(k) > 1024 {
		return s3api.ErrKeyTooLongError("Your key is too long").WithFields(map[string]any{"MaxSizeAllowed": "1024", "Size": strconv.Itoa(len(k))})
	}
	if k == "" || !utf8.ValidString(k) || strings.IndexByte(k, 0) >= 0 {
		return invalidArgument("Object key is not valid UTF-8 or contains characters S3 does not accept.", "key", k)
	}
	return nil
}

var storageClasses = map[string]bool{
	"STANDARD": true, "REDUCED_REDUNDANCY": true, "STANDARD_IA": true, "ONEZONE_IA": true,
	"INTELLIGENT_TIERING": true, "GLACIER": true, "DEEP_ARCHIVE": true, "OUTPOSTS": true,
	"GLACIER_IR": true, "SNOW": true, "EXPRESS_ONEZONE": true, "FSX_OPENZFS": true, "FSX_ONTAP": true,
}

func validStorageClass(c *string) error {
	if c != nil && !storageClasses[*c] {
		return s3api.ErrInvalidStorageClass("The storage class you specified is not valid").WithFields(map[string]any{"StorageClassRequested": *c})
	}
	return nil
}

// parseTagging reads the x-amz-tagging header: URL query encoded tags.
func parseTagging(h *string) ([]s3api.Tag, error) {
	if h == nil || *h == "" {
		return nil, nil
	}
	bad := invalidArgument("The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query parameters without tag name duplicates.", "x-amz-tagging", *h)
	q, err := url.ParseQuery(*h)
	if err != nil {
		return nil, bad
	}
	var tags []s3api.Tag
	for k, vs := range q {
		if len(vs) != 1 {
			return nil, bad
		}
		tags = append(tags, s3api.Tag{Key: awsapi.String(k), Value: awsapi.String(vs[0])})
	}
	sort.Slice(tags, func(i, j int) bool { return *tags[i].Key < *tags[j].Key })
	if err := validTags(tags, false); err != nil {
		return nil, err
	}
	return tags, nil
}

// etagMatches evaluates an If-Match / If-None-Match list against etag.
func etagMatches(list, etag string) bool {
	want := strings.Trim(etag, `"`)
	for _, c := range strings.Split(list, ",") {
		c = strings.TrimSpace(c)
		c = strings.TrimPrefix(c, "W/")
		if c == "*" || strings.Trim(c, `"`) == want {
			return true
		}
	}
	return false
}

// checkWrite evaluates a conditional write ("Conditional writes" in the S3
// user guide) against the current object, inside the committing transaction.
func checkWrite(cur *object, key string, ifMatch, ifNoneMatch *string) error {
	if ifNoneMatch != nil {
		if strings.TrimSpace(*ifNoneMatch) != "*" {
			return &apierr.Error{Code: "NotImplemented", Status: 501, Message: "A header you provided implies functionality that is not implemented",
				Fields: map[string]any{"Header": "If-None-Match"}}
		}
		if cur != nil {
			return preconditionFailed("If-None-Match")
		}
	}
	if ifMatch != nil {
		if cur == nil {
			return noSuchKey(key)
		}
		if !etagMatches(*ifMatch, cur.ETag) {
			return preconditionFailed("If-Match")
		}
	}
	return nil
}

// checkRead evaluates GET/HEAD conditions in the order RFC 7232 and the
// GetObject docs give: If-Match before If-Unmodified-Since, If-None-Match
// before If-Modified-Since.
func checkRead(o *object, ifMatch, ifNoneMatch *string, ifMod, ifUnmod *time.Time) error {
	lm := o.LastModified.Truncate(time.Second)
	if ifMatch != nil {
		if !etagMatches(*ifMatch, o.ETag) {
			return preconditionFailed("If-Match")
		}
	} else if ifUnmod != nil && lm.After(*ifUnmod) {
		return preconditionFailed("If-Unmodified-Since")
	}
	nm := false
	if ifNoneMatch != nil {
		nm = etagMatches(*ifNoneMatch, o.ETag)
	} else if ifMod != nil {
		nm = !lm.After(*ifMod)
	}
	if nm {
		e := notModified().(*apierr.Error)
		e.Header = http.Header{"Etag": {o.ETag}, "Last-Modified": {o.LastModified.UTC().Format(http.TimeFormat)}}
		return e
	}
	return nil
}

// byteRange is an inclusive range of an object's bytes.
type byteRange struct{ start, end int64 }

// parseRange reads a Range header as S3 does: one "bytes=" range; a header
// it cannot read (or several ranges) is ignored and the whole object sent; a
// range starting past the end is InvalidRange (416).
func parseRange(h string, size int64) (*byteRange, error) {
	spec, ok := strings.CutPrefix(strings.TrimSpace(h), "bytes=")
	if !ok || strings.Contains(spec, ",") {
		return nil, nil
	}
	first, last, ok := strings.Cut(strings.TrimSpace(spec), "-")
	if !ok {
		return nil, nil
	}
	invalid := s3api.ErrInvalidRange("The requested range is not satisfiable").WithFields(map[string]any{"RangeRequested": h, "ActualObjectSize": strconv.FormatInt(size, 10)})
	if first == "" {
		n, err := strconv.ParseInt(last, 10, 64)
		if err != nil || n < 0 {
			return nil, nil
		}
		if n == 0 || size == 0 {
			return nil, invalid
		}
		if n > size {
			n = size
		}
		return &byteRange{size - n, size - 1}, nil
	}
	a, err := strconv.ParseInt(first, 10, 64)
	if err != nil || a < 0 {
		return nil, nil
	}
	b := size - 1
	if last != "" {
		b, err = strconv.ParseInt(last, 10, 64)
		if err != nil || b < a {
			return nil, nil
		}
	}
	if a >= size {
		return nil, invalid
	}
	if b >= size {
		b = size - 1
	}
	return &byteRange{a, b}, nil
}

// lookup finds the object (version) a read names. A delete marker is
// NoSuchKey when it is current and MethodNotAllowed when named by version.
func lookup(tx store.Tx, b *bucket, key, versionID string) (*object, error) {
	if versionID == "" {
		o, err := getObject(tx, objectKey(b.Name, key))
		if err != nil || o != nil {
			return o, err
		}
		e := noSuchKey(key).(*apierr.Error)
		if b.versioned() {
			if dm, err := newestVersion(tx, b.Name, key); err == nil && dm != nil && dm.DeleteMarker {
				e.Header = http.Header{"X-Amz-Delete-Marker": {"true"}, "X-Amz-Version-Id": {dm.VersionID}}
			}
		}
		return nil, e
	}
	o, err := findVersion(tx, b, key, versionID)
	if err != nil {
		return nil, err
	}
	if o == nil {
		return nil, noSuchVersion(key, versionID)
	}
	if o.DeleteMarker {
		return nil, &apierr.Error{Code: "MethodNotAllowed", Status: 405, Message: "The specified method is not allowed against this resource.",
			Fields: map[string]any{"ResourceType": "DeleteMarker"},
			// Only DELETE applies to a delete marker (S3 sends Allow: DELETE).
			Header: http.Header{"X-Amz-Delete-Marker": {"true"}, "X-Amz-Version-Id": {o.VersionID},
				"Last-Modified": {o.LastModified.UTC().Format(http.TimeFormat)}, "Allow": {"DELETE"}}}
	}
	return o, nil
}

func badVersionID(v string) error {
	return invalidArgument("Invalid version id specified", "versionId", v)
}

// versionSeq recovers the sequence number a version id starts with.
func versionSeq(v string) (uint64, bool) {
	if len(v) != 32 {
		return 0, false
	}
	n, err := strconv.ParseUint(v[:16], 16, 64)
	return n, err == nil
}

// findVersion returns the version versionID of key, or nil.
func findVersion(tx store.Tx, b *bucket, key, versionID string) (*object, error) {
	if versionID == "null" {
		if !b.versioned() {
			return getObject(tx, objectKey(b.Name, key))
		}
		var found *object
		err := tx.Scan(versionKeyPrefix(b.Name, key), nil, func(k, v []byte) (bool, error) {
			o, err := decodeObject(v)
			if err != nil {
				return false, err
			}
			if o.VersionID == "null" {
				found = o
				return false, nil
			}
			return true, nil
		})
		return found, err
	}
	seq, ok := versionSeq(versionID)
	if !ok {
		return nil, badVersionID(versionID)
	}
	if !b.versioned() {
		return nil, nil
	}
	o, err := getObject(tx, versionKey(b.Name, key, seq))
	if err != nil || o == nil || o.VersionID != versionID {
		return nil, err
	}
	return o, nil
}

func newestVersion(tx store.Tx, bucket, key string) (*object, error) {
	var found *object
	err := tx.Scan(versionKeyPrefix(bucket, key), nil, func(k, v []byte) (bool, error) {
		o, err := decodeObject(v)
		found = o
		return false, err
	})
	return found, err
}

// refreshCurrent points s3/o/ at the newest version of key, or removes it
// when the newest is a delete marker or there is none.
func refreshCurrent(tx store.Tx, bucket, key string) error {
	o, err := newestVersion(tx, bucket, key)
	if err != nil {
		return err
	}
	if o == nil || o.DeleteMarker {
		return tx.Delete(objectKey(bucket, key))
	}
	return putObject(tx, objectKey(bucket, key), o)
}

// dropNullVersion removes the null version of key from the version index,
// returning its blob.
func dropNullVersion(tx store.Tx, bucket, key string) (string, error) {
	var k []byte
	var blob string
	err := tx.Scan(versionKeyPrefix(bucket, key), nil, func(kk, v []byte) (bool, error) {
		o, err := decodeObject(v)
		if err != nil {
			return false, err
		}
		if o.VersionID == "null" {
			k, blob = append([]byte(nil), kk...), o.Blob
			return false, nil
		}
		return true, nil
	})
	if err != nil || k == nil {
		return "", err
	}
	return blob, tx.Delete(k)
}

// commitObject makes o the current version of its key, as the bucket's
// versioning state says: replacing the null version, or adding a version. It
// returns the blobs no longer referenced. o.Seq must be set.
func (s *Service) commitObject(tx store.Tx, b *bucket, o *object) ([]string, error) {
	var garbage []string
	applyDefaultRetention(b, o, s.now())
	switch b.Versioning {
	case "":
		o.VersionID = "null"
		old, found, err := getObjectBlob(tx, objectKey(b.Name, o.Key))
		if err != nil {
			return nil, err
		}
		if found {
			garbage = append(garbage, old)
		}
	case "Enabled":
		o.VersionID = s.versionID(o.Seq)
	default: // Suspended
		o.VersionID = "null"
		blob, err := dropNullVersion(tx, b.Name, o.Key)
		if err != nil {
			return nil, err
		}
		garbage = append(garbage, blob)
	}
	if o.inline != nil {
		if err := tx.Put(dataKey(o.Blob), o.inline); err != nil {
			return nil, err
		}
	}
	if b.versioned() {
		if err := putObject(tx, versionKey(b.Name, o.Key, o.Seq), o); err != nil {
			return nil, err
		}
	}
	if o.DeleteMarker {
		return garbage, tx.Delete(objectKey(b.Name, o.Key))
	}
	return garbage, putObject(tx, objectKey(b.Name, o.Key), o)
}

// receive streams body into a new blob, hashing it, and checks it against
// the checksums the request carries. The caller commits or drops the blob.
func (s *Service) receive(body io.Reader, ck checksumInput, contentMD5 string, limit int64, extra ...string) (blob string, size int64, d *digests, inline []byte, err error) {
	algs, err := ck.algorithms()
	if err != nil {
		return "", 0, nil, nil, err
	}
	for _, a := range extra {
		if a != "" && !contains(algs, a) {
			algs = append(algs, a)
		}
	}
	if len(algs) == 0 {
		// S3 gives every new object a CRC64NVME checksum when the client sends
		// none ("Checking object integrity" in the S3 user guide).
		algs = []string{algCRC64NVME}
	}
	// Refused before the first byte is read, so that a client waiting
	// with Expect: 100-continue gets the answer without sending the body.
	if err := s.blobs.full(); err != nil {
		return "", 0, nil, nil, err
	}
	d = newDigests(algs...)
	if body == nil {
		body = http.NoBody
	}
	// A body of up to inlineMax bytes is kept in the store, committed with
	// its metadata; a larger one spills to a file after its first bytes.
	// The first bytes go to a pooled buffer: a fresh 64 KiB slice per PUT
	// was most of a small PUT's allocation, and of its garbage collection.
	hp := headBuffers.Get().(*[]byte)
	defer headBuffers.Put(hp)
	head := *hp
	hn, err := io.ReadFull(body, head)
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		d.Write(head[:hn])
		if err := ck.verify(d, contentMD5); err != nil {
			return "", 0, nil, nil, err
		}
		return inlinePrefix + newBlobID(), int64(hn), d, bytes.Clone(head[:hn]), nil
	}
	if err != nil {
		if apierr.As(err) == nil {
			err = s3api.ErrIncompleteBody("The request body terminated unexpectedly")
		}
		return "", 0, nil, nil, err
	}
	w, err := s.blobs.create()
	if err != nil {
		return "", 0, nil, nil, err
	}
	d.Write(head)
	if _, err := w.Write(head); err != nil {
		w.abort()
		return "", 0, nil, nil, err
	}
	n, err := copyBuffered(d.teeWriter(w), io.LimitReader(body, limit+1-int64(len(head))))
	n += int64(len(head))
	if err == nil && n > limit {
		err = s3api.ErrEntityTooLarge("Your proposed upload exceeds the maximum allowed size").WithFields(map[string]any{"MaxSizeAllowed": strconv.FormatInt(limit, 10)})
	}
	if err == nil {
		err = ck.verify(d, contentMD5)
	}
	if err != nil {
		w.abort()
		// A full disk is not the client's fault: the error stays, to be
		// answered with S3's retryable SlowDown.
		if apierr.As(err) == nil && !store.IsNoSpace(err) {
			err = s3api.ErrIncompleteBody("The request body terminated unexpectedly")
		}
		return "", 0, nil, nil, err
	}
	id, err := w.commit()
	if err != nil {
		return "", 0, nil, nil, err
	}
	return id, n, d, nil, nil
}

// headBuffers hold the first inlineMax+1 bytes of a body being received.
var headBuffers = sync.Pool{New: func() any { b := make([]byte, inlineMax+1); return &b }}

// PutObject stores an object: bytes to a synced file, then the metadata.
func (s *Service) PutObject(ctx context.Context, in *s3api.PutObjectInput) (*s3api.PutObjectOutput, error) {
	name, key := awsapi.ToString(in.Bucket), awsapi.ToString(in.Key)
	if err := validKey(key); err != nil {
		return nil, err
	}
	if err := checkMetadataSize(in.Metadata); err != nil {
		return nil, err
	}
	if err := validStorageClass(in.StorageClass); err != nil {
		return nil, err
	}
	tags, err := parseTagging(in.Tagging)
	if err != nil {
		return nil, err
	}
	// The bucket is read once, for its default encryption and its lock;
	// an error reading it is answered where it always was, after the
	// encryption and lock headers are checked.
	b, bucketErr := s.viewBucket(ctx, name)
	enc, err := s.encryptionFor(ctx, sseRequest{in.ServerSideEncryption, in.SSEKMSKeyId, in.BucketKeyEnabled,
		in.SSECustomerAlgorithm, in.SSECustomerKey, in.SSECustomerKeyMD5}, func() *encryption {
		if bucketErr != nil {
			return &encryption{}
		}
		return s.defaultEncryptionOf(ctx, b)
	})
	if err != nil {
		return nil, err
	}
	lock, err := s.lockHeaders(in.ObjectLockMode, in.ObjectLockRetainUntilDate, in.ObjectLockLegalHoldStatus)
	if err != nil {
		return nil, err
	}
	if err := bucketErr; err != nil {
		return nil, err
	} else if err := checkLockWrite(b, lock); err != nil {
		return nil, err
	}
	objOwner, acl, err := newObjectACL(b, caller(ctx).Account, aclRequest{in.ACL, in.GrantFullControl, in.GrantRead, in.GrantReadACP, nil, in.GrantWriteACP, nil})
	if err != nil {
		return nil, err
	}
	ck := checksumInput{algorithm: awsapi.ToString(in.ChecksumAlgorithm),
		values: checksumValues(in.ChecksumCRC32, in.ChecksumCRC32C, in.ChecksumCRC64NVME, in.ChecksumSHA1, in.ChecksumSHA256)}
	if err := emptyContentMD5(in.ContentMD5); err != nil {
		return nil, err
	}
	blob, size, d, inline, err := s.receive(in.Body, ck, awsapi.ToString(in.ContentMD5), maxPutSize)
	if err != nil {
		return nil, err
	}
	o := &object{
		inline: inline,
		Key:    key, Seq: s.nextSeq(), Blob: blob, Size: size, ETag: d.etag(), LastModified: s.nowMillis(),
		ContentType: awsapi.ToString(in.ContentType), ContentEncoding: awsapi.ToString(in.ContentEncoding),
		ContentDisposition: awsapi.ToString(in.ContentDisposition), ContentLanguage: awsapi.ToString(in.ContentLanguage),
		CacheControl: awsapi.ToString(in.CacheControl), Expires: awsapi.ToString(in.Expires),
		WebsiteRedirect: awsapi.ToString(in.WebsiteRedirectLocation), StorageClass: storageClassOf(in.StorageClass),
		Metadata: in.Metadata, Checksums: d.checksums(), ChecksumType: "FULL_OBJECT", Tags: tags, Enc: enc, Lock: lock,
		Owner: objOwner, ACL: acl,
	}
	if o.ContentType == "" {
		o.ContentType = "binary/octet-stream"
	}
	b, err = s.commitPut(ctx, name, o, in.IfMatch, in.IfNoneMatch)
	if err != nil {
		return nil, err
	}
	s.objectCreated(ctx, b, o, "PutObject", "ObjectCreated:Put")
	out := &s3api.PutObjectOutput{ETag: awsapi.String(o.ETag), ChecksumType: awsapi.String(o.ChecksumType)}
	o.Enc.fill(sseFields{&out.ServerSideEncryption, &out.SSECustomerAlgorithm, &out.SSECustomerKeyMD5, &out.SSEKMSKeyId, &out.BucketKeyEnabled})
	checksumFields{&out.ChecksumCRC32, &out.ChecksumCRC32C, &out.ChecksumCRC64NVME, &out.ChecksumSHA1, &out.ChecksumSHA256}.set(o.Checksums)
	if b.Versioning == "Enabled" { // a write to a suspended bucket makes the null version, unreported
		out.VersionId = awsapi.String(o.VersionID)
	}
	return out, nil
}

func storageClassOf(c *string) string {
	if c == nil || *c == "STANDARD" {
		return ""
	}
	return *c
}

// commitPut commits a new object whose blob is written, checking the
// conditional-write headers in the same transaction. On failure the blob is
// removed.
func (s *Service) commitPut(ctx context.Context, name string, o *object, ifMatch, ifNoneMatch *string) (*bucket, error) {
	var b *bucket
	var garbage []string
	err := s.st.Update(func(tx store.Tx) error {
		var err error
		b, err = ownBucket(ctx, tx, name)
		if err != nil {
			return err
		}
		if ifMatch != nil || ifNoneMatch != nil {
			cur, err := getObject(tx, objectKey(name, o.Key))
			if err != nil {
				return err
			}
			if err := checkWrite(cur, o.Key, ifMatch, ifNoneMatch); err != nil {
				return err
			}
		}
		if garbage, err = s.commitObject(tx, b, o); err != nil {
			return err
		}
		return dropInline(tx, garbage)
	})
	if err != nil {
		s.dropBlobs([]string{o.Blob})
		return nil, err
	}
	s.dropBlobs(garbage)
	return b, nil
}

// openObject reads the object a GET or HEAD names and opens its bytes. An
// overwrite may remove the blob between the lookup and the open; the lookup
// is then repeated.
func (s *Service) openObject(ctx context.Context, name, key, versionID string, open bool) (*bucket, *object, blobReader, error) {
	for attempt := 0; ; attempt++ {
		var b *bucket
		var o *object
		var mem blobReader
		err := s.st.View(func(tx store.Tx) error {
			var err error
			if b, err = ownBucket(ctx, tx, name); err != nil {
				return err
			}
			if o, err = lookup(tx, b, key, versionID); err != nil || !open || !isInline(o.Blob) {
				return err
			}
			mem, err = readInline(tx, o.Blob)
			return err
		})
		if err != nil || !open {
			return b, o, nil, err
		}
		if mem != nil {
			return b, o, mem, nil
		}
		f, err := s.blobs.open(o.Blob)
		if err == nil {
			return b, o, f, nil
		}
		if !errors.Is(err, fs.ErrNotExist) || attempt == 3 {
			return nil, nil, nil, fmt.Errorf("s3: open blob of %s/%s: %w", name, key, err)
		}
	}
}

// readPlan is what a GET or HEAD sends: the whole object, a range, or a part.
type readPlan struct {
	rng        *byteRange
	partsCount *int32
	part       int32 // the part of a multipart object asked for, from 1; 0 for none
}

func planRead(o *object, rangeHeader *string, partNumber *int32) (readPlan, error) {
	var p readPlan
	if partNumber != nil {
		n := *partNumber
		count := int32(len(o.PartSizes))
		sizes := o.PartSizes
		if count == 0 {
			count, sizes = 1, []int64{o.Size}
		}
		if n < 1 || n > count {
			return p, s3api.ErrInvalidPartNumber("The requested partnumber is not satisfiable").WithFields(map[string]any{"PartNumberRequested": strconv.Itoa(int(n)), "ActualPartCount": strconv.Itoa(int(count))})
		}
		var start int64
		for _, sz := range sizes[:n-1] {
			start += sz
		}
		if len(o.PartSizes) > 0 {
			p.partsCount = awsapi.Int32(count)
			p.part = n
		}
		if sizes[n-1] > 0 {
			p.rng = &byteRange{start, start + sizes[n-1] - 1}
		}
		return p, nil
	}
	if rangeHeader != nil {
		r, err := parseRange(*rangeHeader, o.Size)
		if err != nil {
			return p, err
		}
		p.rng = r
	}
	return p, nil
}

// objectHeaders are the response headers GET and HEAD share.
type objectHeaders struct {
	ETag                                                    **string
	LastModified                                            **time.Time
	ContentLength                                           **int64
	ContentRange                                            **string
	ContentType, ContentEncoding, ContentDisposition        **string
	ContentLanguage, CacheControl, Expires, WebsiteRedirect **string
	StorageClass, VersionId, AcceptRanges, ChecksumType     **string
	Metadata                                                *map[string]string
	TagCount, PartsCount                                    **int32
	Checksums                                               checksumFields
}

func (h objectHeaders) fill(b *bucket, o *object, p readPlan, checksums bool) {
	set := func(dst **string, v string) {
		if v != "" {
			*dst = awsapi.String(v)
		}
	}
	set(h.ETag, o.ETag)
	lm := o.LastModified
	*h.LastModified = &lm
	set(h.ContentType, o.ContentType)
	set(h.ContentEncoding, o.ContentEncoding)
	set(h.ContentDisposition, o.ContentDisposition)
	set(h.ContentLanguage, o.ContentLanguage)
	set(h.CacheControl, o.CacheControl)
	set(h.Expires, o.Expires)
	set(h.WebsiteRedirect, o.WebsiteRedirect)
	set(h.StorageClass, o.StorageClass)
	set(h.AcceptRanges, "bytes")
	if b.versioned() {
		set(h.VersionId, o.VersionID)
	}
	if len(o.Metadata) > 0 {
		*h.Metadata = o.Metadata
	}
	if len(o.Tags) > 0 {
		*h.TagCount = awsapi.Int32(int32(len(o.Tags)))
	}
	*h.PartsCount = p.partsCount
	n := o.Size
	if p.rng != nil {
		n = p.rng.end - p.rng.start + 1
		*h.ContentRange = awsapi.String(fmt.Sprintf("bytes %d-%d/%d", p.rng.start, p.rng.end, o.Size))
	}
	*h.ContentLength = awsapi.Int64(n)
	// Checksums describe the whole object, so S3 sends them only for whole
	// reads (GetObject docs, ChecksumMode); a read of one part of a
	// multipart object gets that part's checksum, as the part was uploaded.
	if checksums && p.part > 0 {
		if i := int(p.part) - 1; i < len(o.PartChecksums) && o.PartChecksums[i] != "" {
			for alg := range o.Checksums {
				h.Checksums.set(map[string]string{alg: o.PartChecksums[i]})
			}
			set(h.ChecksumType, o.ChecksumType)
		}
		return
	}
	if checksums && (p.rng == nil || p.partsCount == nil && len(o.PartSizes) == 0 && p.rng.start == 0 && p.rng.end == o.Size-1) {
		h.Checksums.set(o.Checksums)
		set(h.ChecksumType, o.ChecksumType)
	}
}

// GetObject streams an object, a range of it, or one of its parts.
func (s *Service) GetObject(ctx context.Context, in *s3api.GetObjectInput) (*s3api.GetObjectOutput, error) {
	name, key := awsapi.ToString(in.Bucket), awsapi.ToString(in.Key)
	b, o, f, err := s.openObject(ctx, name, key, awsapi.ToString(in.VersionId), true)
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*s3api.GetObjectOutput, error) {
		f.Close()
		return nil, err
	}
	if err := objectOwnerGrants(ctx, b, o, permRead); err != nil {
		return fail(err)
	}
	if err := o.Enc.checkKey(in.SSECustomerAlgorithm, in.SSECustomerKey, in.SSECustomerKeyMD5, ""); err != nil {
		return fail(err)
	}
	if err := checkRead(o, in.IfMatch, in.IfNoneMatch, in.IfModifiedSince, in.IfUnmodifiedSince); err != nil {
		return fail(err)
	}
	p, err := planRead(o, in.Range, in.PartNumber)
	if err != nil {
		return fail(err)
	}
	out := &s3api.GetObjectOutput{}
	objectHeaders{&out.ETag, &out.LastModified, &out.ContentLength, &out.ContentRange, &out.ContentType, &out.ContentEncoding,
		&out.ContentDisposition, &out.ContentLanguage, &out.CacheControl, &out.Expires, &out.WebsiteRedirectLocation,
		&out.StorageClass, &out.VersionId, &out.AcceptRanges, &out.ChecksumType, &out.Metadata, &out.TagCount, &out.PartsCount,
		checksumFields{&out.ChecksumCRC32, &out.ChecksumCRC32C, &out.ChecksumCRC64NVME, &out.ChecksumSHA1, &out.ChecksumSHA256},
	}.fill(b, o, p, strings.EqualFold(awsapi.ToString(in.ChecksumMode), "ENABLED"))
	o.Enc.fill(sseFields{&out.ServerSideEncryption, &out.SSECustomerAlgorithm, &out.SSECustomerKeyMD5, &out.SSEKMSKeyId, &out.BucketKeyEnabled})
	o.Lock.fill(&out.ObjectLockMode, &out.ObjectLockRetainUntilDate, &out.ObjectLockLegalHoldStatus)
	// Response header overrides (GetObject docs: response-content-type, ...).
	override := func(dst **string, v *string) {
		if v != nil {
			*dst = v
		}
	}
	override(&out.ContentType, in.ResponseContentType)
	override(&out.ContentEncoding, in.ResponseContentEncoding)
	override(&out.ContentDisposition, in.ResponseContentDisposition)
	override(&out.ContentLanguage, in.ResponseContentLanguage)
	override(&out.CacheControl, in.ResponseCacheControl)
	if in.ResponseExpires != nil {
		out.Expires = awsapi.String(in.ResponseExpires.UTC().Format(http.TimeFormat))
	}
	if p.rng != nil {
		out.Body = readCloser{io.NewSectionReader(f, p.rng.start, p.rng.end-p.rng.start+1), f}
	} else {
		out.Body = f
	}
	return out, nil
}

// HeadObject returns an object's metadata.
func (s *Service) HeadObject(ctx context.Context, in *s3api.HeadObjectInput) (*s3api.HeadObjectOutput, error) {
	name, key := awsapi.ToString(in.Bucket), awsapi.ToString(in.Key)
	b, o, _, err := s.openObject(ctx, name, key, awsapi.ToString(in.VersionId), false)
	if err != nil {
		return nil, err
	}
	if err := objectOwnerGrants(ctx, b, o, permRead); err != nil {
		return nil, err
	}
	if err := o.Enc.checkKey(in.SSECustomerAlgorithm, in.SSECustomerKey, in.SSECustomerKeyMD5, ""); err != nil {
		return nil, err
	}
	if err := checkRead(o, in.IfMatch, in.IfNoneMatch, in.IfModifiedSince, in.IfUnmodifiedSince); err != nil {
		return nil, err
	}
	p, err := planRead(o, in.Range, in.PartNumber)
	if err != nil {
		return nil, err
	}
	out := &s3api.HeadObjectOutput{}
	objectHeaders{&out.ETag, &out.LastModified, &out.ContentLength, &out.ContentRange, &out.ContentType, &out.ContentEncoding,
		&out.ContentDisposition, &out.ContentLanguage, &out.CacheControl, &out.Expires, &out.WebsiteRedirectLocation,
		&out.StorageClass, &out.VersionId, &out.AcceptRanges, &out.ChecksumType, &out.Metadata, &out.TagCount, &out.PartsCount,
		checksumFields{&out.ChecksumCRC32, &out.ChecksumCRC32C, &out.ChecksumCRC64NVME, &out.ChecksumSHA1, &out.ChecksumSHA256},
	}.fill(b, o, p, strings.EqualFold(awsapi.ToString(in.ChecksumMode), "ENABLED"))
	o.Enc.fill(sseFields{&out.ServerSideEncryption, &out.SSECustomerAlgorithm, &out.SSECustomerKeyMD5, &out.SSEKMSKeyId, &out.BucketKeyEnabled})
	o.Lock.fill(&out.ObjectLockMode, &out.ObjectLockRetainUntilDate, &out.ObjectLockLegalHoldStatus)
	return out, nil
}

// deletion is the outcome of deleting one key or version.
type deletion struct {
	key          string
	versionID    string // version removed or delete marker created; "" when none
	deleteMarker bool
	// removed is the object or marker whose removal is announced; nil when
	// nothing existed.
	removed *object
	// markerCreated is set when the delete created a delete marker.
	markerCreated bool
	seq           uint64 // when the delete happened, in write order
}

// deleteOne deletes key (or one version of it) inside tx, returning the
// blobs no longer referenced.
// bypass is x-amz-bypass-governance-retention.
func (s *Service) deleteOne(tx store.Tx, b *bucket, key, versionID string, ifMatch *string, bypass bool) (deletion, []string, error) {
	d := deletion{key: key, seq: s.nextSeq()}
	if err := validKey(key); err != nil {
		return d, nil, err
	}
	if versionID == "" || versionID == "null" && !b.versioned() {
		cur, err := getObject(tx, objectKey(b.Name, key))
		if err != nil {
			return d, nil, err
		}
		if ifMatch != nil && (cur == nil || !etagMatches(*ifMatch, cur.ETag)) {
			if cur == nil {
				return d, nil, noSuchKey(key)
			}
			return d, nil, preconditionFailed("If-Match")
		}
		if !b.versioned() {
			if versionID != "" {
				d.versionID = "null"
			}
			if cur == nil {
				return d, nil, nil
			}
			d.removed = cur
			return d, []string{cur.Blob}, tx.Delete(objectKey(b.Name, key))
		}
		m := &object{Key: key, Seq: d.seq, LastModified: s.nowMillis(), DeleteMarker: true}
		garbage, err := s.commitObject(tx, b, m)
		if err != nil {
			return d, nil, err
		}
		d.versionID, d.deleteMarker, d.removed, d.markerCreated = m.VersionID, true, m, true
		return d, garbage, nil
	}
	o, err := findVersion(tx, b, key, versionID)
	if err != nil {
		return d, nil, err
	}
	d.versionID = versionID
	if o == nil {
		return d, nil, nil // S3 answers 204 for a version that does not exist
	}
	if err := o.checkDelete(s.now(), bypass); err != nil {
		return d, nil, err
	}
	d.deleteMarker, d.removed = o.DeleteMarker, o
	if err := tx.Delete(versionKey(b.Name, key, o.Seq)); err != nil {
		return d, nil, err
	}
	return d, []string{o.Blob}, refreshCurrent(tx, b.Name, key)
}

// DeleteObject deletes an object, or creates a delete marker in a versioned
// bucket. S3 answers 204 for a key that does not exist (DeleteObject docs).
func (s *Service) DeleteObject(ctx context.Context, in *s3api.DeleteObjectInput) (*s3api.DeleteObjectOutput, error) {
	name, key := awsapi.ToString(in.Bucket), awsapi.ToString(in.Key)
	var b *bucket
	var d deletion
	var garbage []string
	err := s.st.Update(func(tx store.Tx) error {
		var err error
		if b, err = ownBucket(ctx, tx, name); err != nil {
			return err
		}
		if d, garbage, err = s.deleteOne(tx, b, key, awsapi.ToString(in.VersionId), in.IfMatch, awsapi.ToBool(in.BypassGovernanceRetention)); err != nil {
			return err
		}
		return dropInline(tx, garbage)
	})
	if err != nil {
		return nil, err
	}
	s.dropBlobs(garbage)
	s.objectDeleted(ctx, b, d, "DeleteObject")
	out := &s3api.DeleteObjectOutput{}
	if d.versionID != "" {
		out.VersionId = awsapi.String(d.versionID)
	}
	if d.deleteMarker {
		out.DeleteMarker = awsapi.Bool(true)
	}
	return out, nil
}

// DeleteObjects deletes up to 1000 keys in one request, reporting each.
func (s *Service) DeleteObjects(ctx context.Context, in *s3api.DeleteObjectsInput) (*s3api.DeleteObjectsOutput, error) {
	if in.Delete == nil || len(in.Delete.Objects) == 0 || len(in.Delete.Objects) > 1000 {
		return nil, malformedXML()
	}
	name := awsapi.ToString(in.Bucket)
	var b *bucket
	var out *s3api.DeleteObjectsOutput
	var done []deletion
	var garbage []string
	err := s.st.Update(func(tx store.Tx) error {
		out, done, garbage = &s3api.DeleteObjectsOutput{}, nil, nil
		var err error
		if b, err = ownBucket(ctx, tx, name); err != nil {
			return err
		}
		for _, id := range in.Delete.Objects {
			key, vid := awsapi.ToString(id.Key), awsapi.ToString(id.VersionId)
			d, g, err := s.deleteOne(tx, b, key, vid, id.ETag, awsapi.ToBool(in.BypassGovernanceRetention))
			if e := apierr.As(err); e != nil {
				out.Errors = append(out.Errors, s3api.Error{Key: id.Key, VersionId: id.VersionId,
					Code: awsapi.String(e.Code), Message: awsapi.String(e.Message)})
				continue
			}
			if err != nil {
				return err
			}
			garbage = append(garbage, g...)
			done = append(done, d)
			if awsapi.ToBool(in.Delete.Quiet) {
				continue
			}
			del := s3api.DeletedObject{Key: id.Key}
			if d.versionID != "" && !d.markerCreated {
				del.VersionId = awsapi.String(d.versionID)
			}
			if d.deleteMarker {
				del.DeleteMarker = awsapi.Bool(true)
				if d.markerCreated || vid != "" {
					del.DeleteMarkerVersionId = awsapi.String(d.versionID)
				}
			}
			out.Deleted = append(out.Deleted, del)
		}
		return dropInline(tx, garbage)
	})
	if err != nil {
		return nil, err
	}
	s.dropBlobs(garbage)
	for _, d := range done {
		s.objectDeleted(ctx, b, d, "DeleteObjects")
	}
	return out, nil
}

// copySource parses x-amz-copy-source: "[/]bucket/key[?versionId=id]", URL-encoded.
func copySource(src string) (bucket, key, version string, err error) {
	bad := invalidArgument("Invalid copy source object key", "x-amz-copy-source", src)
	path, query, _ := strings.Cut(src, "?")
	if query != "" {
		q, perr := url.ParseQuery(query)
		if perr != nil {
			return "", "", "", bad
		}
		version = q.Get("versionId")
	}
	path, perr := url.PathUnescape(path)
	if perr != nil {
		return "", "", "", bad
	}
	bucket, key, ok := strings.Cut(strings.TrimPrefix(path, "/"), "/")
	if !ok || bucket == "" || key == "" {
		return "", "", "", bad
	}
	return bucket, key, version, nil
}

// checkCopySource evaluates the x-amz-copy-source-if-* conditions (CopyObject
// docs): a failed one is 412.
func checkCopySource(o *object, ifMatch, ifNoneMatch *string, ifMod, ifUnmod *time.Time) error {
	lm := o.LastModified.Truncate(time.Second)
	if ifMatch != nil {
		if !etagMatches(*ifMatch, o.ETag) {
			return preconditionFailed("x-amz-copy-source-If-Match")
		}
	} else if ifUnmod != nil && lm.After(*ifUnmod) {
		return preconditionFailed("x-amz-copy-source-If-Unmodified-Since")
	}
	if ifNoneMatch != nil {
		if etagMatches(*ifNoneMatch, o.ETag) {
			return preconditionFailed("x-amz-copy-source-If-None-Match")
		}
	} else if ifMod != nil && !lm.After(*ifMod) {
		return preconditionFailed("x-amz-copy-source-If-Modified-Since")
	}
	return nil
}

// readSource finds a copy source the caller may read.
func (s *Service) readSource(ctx context.Context, src string) (*bucket, *object, error) {
	sb, sk, sv, err := copySource(src)
	if err != nil {
		return nil, nil, err
	}
	var b *bucket
	var o *object
	err = s.st.View(func(tx store.Tx) error {
		var err error
		if b, err = ownBucket(ctx, tx, sb); err != nil {
			return err
		}
		o, err = lookup(tx, b, sk, sv)
		return err
	})
	if e := apierr.As(err); e != nil && e.Code == "MethodNotAllowed" {
		// A delete marker cannot be a copy source (CopyObject docs).
		return nil, nil, invalidRequest("The source of a copy request may not specifically refer to a delete marker by version id.")
	}
	return b, o, err
}

// copyBlob makes the destination's bytes: a link to the source's when its
// ETag and checksums carry over, else a copy hashed on the way.
func (s *Service) copyBlob(src *object, rng *byteRange, alg string) (blob string, size int64, d *digests, inline []byte, err error) {
	algs := src.checksumAlgorithms()
	if alg != "" {
		algs = []string{alg}
	}
	whole := rng == nil
	if whole && len(src.PartSizes) == 0 && (alg == "" || src.Checksums[alg] != "") && !isInline(src.Blob) {
		id, err := s.blobs.link(src.Blob)
		return id, src.Size, nil, nil, err
	}
	f, err := s.openBlob(src.Blob)
	if err != nil {
		return "", 0, nil, nil, err
	}
	defer f.Close()
	var r io.Reader = f
	if rng != nil {
		r = io.NewSectionReader(f, rng.start, rng.end-rng.start+1)
	}
	if len(algs) == 0 {
		algs = []string{algCRC64NVME}
	}
	return s.receive(r, checksumInput{algorithm: algs[0]}, "", maxPutSize)
}

// CopyObject copies an object (or a version of one), keeping or replacing
// its metadata and tags as the directives say.
func (s *Service) CopyObject(ctx context.Context, in *s3api.CopyObjectInput) (*s3api.CopyObjectOutput, error) {
	name, key := awsapi.ToString(in.Bucket), awsapi.ToString(in.Key)
	if err := validKey(key); err != nil {
		return nil, err
	}
	if err := validStorageClass(in.StorageClass); err != nil {
		return nil, err
	}
	mdir, tdir := strings.ToUpper(awsapi.ToString(in.MetadataDirective)), strings.ToUpper(awsapi.ToString(in.TaggingDirective))
	if mdir != "" && mdir != "COPY" && mdir != "REPLACE" {
		return nil, invalidArgument("Unknown metadata directive.", "x-amz-metadata-directive", mdir)
	}
	if tdir != "" && tdir != "COPY" && tdir != "REPLACE" {
		return nil, invalidArgument("Unknown tagging directive.", "x-amz-tagging-directive", tdir)
	}
	// Metadata sent with COPY is not the copy's, so only REPLACE's is
	// measured (CopyObject docs: COPY ignores the request's metadata).
	if mdir == "REPLACE" {
		if err := checkMetadataSize(in.Metadata); err != nil {
			return nil, err
		}
	}
	alg := ""
	if in.ChecksumAlgorithm != nil {
		a, err := validAlgorithm(*in.ChecksumAlgorithm)
		if err != nil {
			return nil, err
		}
		alg = a
	}
	// The copy is encrypted as its request asks, not as its source was
	// (CopyObject docs, "Server-side encryption").
	enc, err := s.newEncryption(ctx, name, sseRequest{in.ServerSideEncryption, in.SSEKMSKeyId, in.BucketKeyEnabled,
		in.SSECustomerAlgorithm, in.SSECustomerKey, in.SSECustomerKeyMD5})
	if err != nil {
		return nil, err
	}
	lock, err := s.lockHeaders(in.ObjectLockMode, in.ObjectLockRetainUntilDate, in.ObjectLockLegalHoldStatus)
	if err != nil {
		return nil, err
	}
	sb, src, err := s.readSource(ctx, awsapi.ToString(in.CopySource))
	if err != nil {
		return nil, err
	}
	if err := src.Enc.checkKey(in.CopySourceSSECustomerAlgorithm, in.CopySourceSSECustomerKey, in.CopySourceSSECustomerKeyMD5, "x-amz-copy-source-"); err != nil {
		return nil, err
	}
	if err := checkCopySource(src, in.CopySourceIfMatch, in.CopySourceIfNoneMatch, in.CopySourceIfModifiedSince, in.CopySourceIfUnmodifiedSince); err != nil {
		return nil, err
	}
	db, err := s.viewBucket(ctx, name)
	if err != nil {
		return nil, err
	} else if err := checkLockWrite(db, lock); err != nil {
		return nil, err
	}
	// The copy gets the request's ACL, never the source's (CopyObject docs).
	objOwner, acl, err := newObjectACL(db, caller(ctx).Account, aclRequest{in.ACL, in.GrantFullControl, in.GrantRead, in.GrantReadACP, nil, in.GrantWriteACP, nil})
	if err != nil {
		return nil, err
	}
	// A copy that names a source version may land on its own key: that is
	// how a previous version is restored ("Restoring previous versions" in
	// the S3 user guide).
	_, _, srcVersion, _ := copySource(awsapi.ToString(in.CopySource))
	if sb.Name == name && src.Key == key && srcVersion == "" && mdir != "REPLACE" && in.StorageClass == nil && in.WebsiteRedirectLocation == nil &&
		in.ServerSideEncryption == nil && in.SSECustomerAlgorithm == nil && alg == "" {
		return nil, invalidRequest("This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.")
	}
	o := *src
	// The copy's lock is the request's, never the source's (CopyObject docs).
	o.Key, o.Seq, o.LastModified, o.PartSizes, o.PartChecksums, o.UploadID, o.Enc, o.Lock = key, s.nextSeq(), s.nowMillis(), nil, nil, "", enc, lock
	o.Owner, o.ACL = objOwner, acl
	if mdir == "REPLACE" {
		o.ContentType, o.ContentEncoding = awsapi.ToString(in.ContentType), awsapi.ToString(in.ContentEncoding)
		o.ContentDisposition, o.ContentLanguage = awsapi.ToString(in.ContentDisposition), awsapi.ToString(in.ContentLanguage)
		o.CacheControl, o.Expires = awsapi.ToString(in.CacheControl), awsapi.ToString(in.Expires)
		o.Metadata = in.Metadata
		if o.ContentType == "" {
			o.ContentType = "binary/octet-stream"
		}
	}
	if in.WebsiteRedirectLocation != nil {
		o.WebsiteRedirect = *in.WebsiteRedirectLocation
	}
	if in.StorageClass != nil {
		o.StorageClass = storageClassOf(in.StorageClass)
	}
	if tdir == "REPLACE" {
		if o.Tags, err = parseTagging(in.Tagging); err != nil {
			return nil, err
		}
	}
	blob, size, d, inline, err := s.copyBlob(src, nil, alg)
	if err != nil {
		return nil, err
	}
	o.Blob, o.Size, o.inline = blob, size, inline
	if d != nil {
		o.ETag, o.Checksums, o.ChecksumType = d.etag(), d.checksums(), "FULL_OBJECT"
	}
	b, err := s.commitPut(ctx, name, &o, in.IfMatch, in.IfNoneMatch)
	if err != nil {
		return nil, err
	}
	s.objectCreated(ctx, b, &o, "CopyObject", "ObjectCreated:Copy")
	lm := o.LastModified
	res := &s3api.CopyObjectResult{ETag: awsapi.String(o.ETag), LastModified: &lm}
	if len(o.Checksums) > 0 {
		res.ChecksumType = awsapi.String(o.ChecksumType)
		checksumFields{&res.ChecksumCRC32, &res.ChecksumCRC32C, &res.ChecksumCRC64NVME, &res.ChecksumSHA1, &res.ChecksumSHA256}.set(o.Checksums)
	}
	out := &s3api.CopyObjectOutput{CopyObjectResult: res}
	o.Enc.fill(sseFields{&out.ServerSideEncryption, &out.SSECustomerAlgorithm, &out.SSECustomerKeyMD5, &out.SSEKMSKeyId, &out.BucketKeyEnabled})
	if b.Versioning == "Enabled" { // a write to a suspended bucket makes the null version, unreported
		out.VersionId = awsapi.String(o.VersionID)
	}
	if sb.versioned() {
		out.CopySourceVersionId = awsapi.String(src.VersionID)
	}
	return out, nil
}

// Object tagging.

func (s *Service) updateObject(ctx context.Context, name, key, versionID string, fn func(o *object)) (*bucket, *object, error) {
	var b *bucket
	var o *object
	err := s.st.Update(func(tx store.Tx) error {
		var err error
		if b, err = ownBucket(ctx, tx, name); err != nil {
			return err
		}
		if o, err = lookup(tx, b, key, versionID); err != nil {
			return err
		}
		fn(o)
		return s.rewriteVersion(tx, b, o)
	})
	return b, o, err
}

// rewriteVersion stores o, an existing version whose metadata changed, in
// the version index and, when it is the current version, as the object.
func (s *Service) rewriteVersion(tx store.Tx, b *bucket, o *object) error {
	if b.versioned() {
		if err := putObject(tx, versionKey(b.Name, o.Key, o.Seq), o); err != nil {
			return err
		}
	}
	cur, err := getObject(tx, objectKey(b.Name, o.Key))
	if err != nil {
		return err
	}
	if cur != nil && cur.Seq == o.Seq {
		return putObject(tx, objectKey(b.Name, o.Key), o)
	}
	return nil
}

// PutObjectTagging replaces an object's tags.
func (s *Service) PutObjectTagging(ctx context.Context, in *s3api.PutObjectTaggingInput) (*s3api.PutObjectTaggingOutput, error) {
	if in.Tagging == nil {
		return nil, malformedXML()
	}
	if err := validTags(in.Tagging.TagSet, false); err != nil {
		return nil, err
	}
	b, o, err := s.updateObject(ctx, awsapi.ToString(in.Bucket), awsapi.ToString(in.Key), awsapi.ToString(in.VersionId),
		func(o *object) { o.Tags = in.Tagging.TagSet })
	if err != nil {
		return nil, err
	}
	out := &s3api.PutObjectTaggingOutput{}
	if b.versioned() {
		out.VersionId = awsapi.String(o.VersionID)
	}
	return out, nil
}

// GetObjectTagging returns an object's tags.
func (s *Service) GetObjectTagging(ctx context.Context, in *s3api.GetObjectTaggingInput) (*s3api.GetObjectTaggingOutput, error) {
	b, o, _, err := s.openObject(ctx, awsapi.ToString(in.Bucket), awsapi.ToString(in.Key), awsapi.ToString(in.VersionId), false)
	if err != nil {
		return nil, err
	}
	out := &s3api.GetObjectTaggingOutput{TagSet: o.Tags}
	if out.TagSet == nil {
		out.TagSet = []s3api.Tag{}
	}
	if b.versioned() {
		out.VersionId = awsapi.String(o.VersionID)
	}
	return out, nil
}

// DeleteObjectTagging removes an object's tags.
func (s *Service) DeleteObjectTagging(ctx context.Context, in *s3api.DeleteObjectTaggingInput) (*s3api.DeleteObjectTaggingOutput, error) {
	b, o, err := s.updateObject(ctx, awsapi.ToString(in.Bucket), awsapi.ToString(in.Key), awsapi.ToString(in.VersionId),
		func(o *object) { o.Tags = nil })
	if err != nil {
		return nil, err
	}
	out := &s3api.DeleteObjectTaggingOutput{}
	if b.versioned() {
		out.VersionId = awsapi.String(o.VersionID)
	}
	return out, nil
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
