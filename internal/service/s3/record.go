package s3

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	s3api "github.com/wharf-dev/wharf/internal/awsapi/s3"
	"github.com/wharf-dev/wharf/internal/store"
)

// An object's metadata is stored as a compact binary record: every GET and
// PUT reads or writes one, and encoding/json's reflection over the object's
// two dozen fields was a tenth of a small request's CPU. The record is a
// version byte, the common fields in a fixed order (strings and lists
// length-prefixed, numbers as varints), then the rarely set ones (part
// checksums, tags, encryption, Object Lock, ACL) as one JSON object, empty
// when none is set. Records written as JSON before it start with '{' and
// are still read.
const objectRecordV1 = 1

// objectExtras are the object's rarely set fields, kept in JSON.
type objectExtras struct {
	PartChecksums []string    `json:",omitempty"`
	Tags          []s3api.Tag `json:",omitempty"`
	Enc           *encryption `json:",omitempty"`
	Lock          *objectLock `json:",omitempty"`
	ACL           *[]grant    `json:",omitempty"`
}

func (x *objectExtras) empty() bool {
	return x.PartChecksums == nil && x.Tags == nil && x.Enc == nil && x.Lock == nil && x.ACL == nil
}

// encodeObject returns o's record.
func encodeObject(o *object) ([]byte, error) {
	b := make([]byte, 0, 128+len(o.Key)+len(o.ContentType))
	b = append(b, objectRecordV1)
	b = appendRecordString(b, o.Key)
	b = appendRecordString(b, o.VersionID)
	b = binary.AppendUvarint(b, o.Seq)
	b = appendRecordString(b, o.Blob)
	b = binary.AppendVarint(b, o.Size)
	b = appendRecordString(b, o.ETag)
	b = appendRecordTime(b, o.LastModified)
	for _, s := range []string{o.ContentType, o.ContentEncoding, o.ContentDisposition, o.ContentLanguage,
		o.CacheControl, o.Expires, o.WebsiteRedirect, o.StorageClass} {
		b = appendRecordString(b, s)
	}
	b = appendRecordMap(b, o.Metadata)
	b = appendRecordMap(b, o.Checksums)
	b = appendRecordString(b, o.ChecksumType)
	b = binary.AppendUvarint(b, uint64(len(o.PartSizes)))
	for _, n := range o.PartSizes {
		b = binary.AppendVarint(b, n)
	}
	if o.DeleteMarker {
		b = append(b, 1)
	} else {
		b = append(b, 0)
	}
	b = appendRecordString(b, o.UploadID)
	b = appendRecordString(b, o.Owner)
	// SSE-S3, every object's encryption unless asked otherwise, is stored as
	// none (nil is SSE-S3, as the zero value is): a record with extras is
	// JSON to write and to read on every GET.
	enc := o.Enc
	if enc != nil && *enc == (encryption{}) {
		enc = nil
	}
	x := objectExtras{PartChecksums: o.PartChecksums, Tags: o.Tags, Enc: enc, Lock: o.Lock, ACL: o.ACL}
	if x.empty() {
		return appendRecordString(b, ""), nil
	}
	extra, err := json.Marshal(&x)
	if err != nil {
		return nil, err
	}
	return appendRecordString(b, string(extra)), nil
}

func appendRecordString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// appendRecordTime appends t as nanoseconds since the epoch, and a zero
// time as the flag 0 alone (its nanoseconds do not fit an int64).
func appendRecordTime(b []byte, t time.Time) []byte {
	if t.IsZero() {
		return append(b, 0)
	}
	b = append(b, 1)
	return binary.AppendVarint(b, t.UnixNano())
}

// appendRecordMap appends m's pairs in key order, so that equal objects
// make equal records.
func appendRecordMap(b []byte, m map[string]string) []byte {
	b = binary.AppendUvarint(b, uint64(len(m)))
	if len(m) == 0 {
		return b
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		b = appendRecordString(b, k)
		b = appendRecordString(b, m[k])
	}
	return b
}

// decodeObject reads an object's record, binary or JSON.
func decodeObject(v []byte) (*object, error) {
	o := &object{}
	if len(v) > 0 && v[0] == '{' {
		if err := json.Unmarshal(v, o); err != nil {
			return nil, fmt.Errorf("s3: object: %w", err)
		}
		return o, nil
	}
	if len(v) == 0 || v[0] != objectRecordV1 {
		return nil, errors.New("s3: object: not a record wharf wrote")
	}
	r := recordReader{b: v[1:]}
	o.Key = r.str()
	o.VersionID = r.str()
	o.Seq = r.uvarint()
	o.Blob = r.str()
	o.Size = r.varint()
	o.ETag = r.str()
	o.LastModified = r.time()
	for _, p := range []*string{&o.ContentType, &o.ContentEncoding, &o.ContentDisposition, &o.ContentLanguage,
		&o.CacheControl, &o.Expires, &o.WebsiteRedirect, &o.StorageClass} {
		*p = r.str()
	}
	o.Metadata = r.strMap()
	o.Checksums = r.strMap()
	o.ChecksumType = r.str()
	if n := r.count(); n > 0 {
		o.PartSizes = make([]int64, n)
		for i := range o.PartSizes {
			o.PartSizes[i] = r.varint()
		}
	}
	o.DeleteMarker = r.byte() == 1
	o.UploadID = r.str()
	o.Owner = r.str()
	extra := r.str()
	if r.err != nil {
		return nil, fmt.Errorf("s3: object: %w", r.err)
	}
	if len(r.b) != 0 {
		return nil, errors.New("s3: object: record has trailing bytes")
	}
	if extra != "" {
		var x objectExtras
		if err := json.Unmarshal([]byte(extra), &x); err != nil {
			return nil, fmt.Errorf("s3: object: %w", err)
		}
		o.PartChecksums, o.Tags, o.Enc, o.Lock, o.ACL = x.PartChecksums, x.Tags, x.Enc, x.Lock, x.ACL
	}
	return o, nil
}

// recordBlob reads only the blob id of an object's binary record.
func recordBlob(v []byte) (string, error) {
	r := recordReader{b: v[1:]}
	r.str() // Key
	r.str() // VersionID
	r.uvarint()
	blob := r.str()
	if r.err != nil {
		return "", fmt.Errorf("s3: object: %w", r.err)
	}
	return blob, nil
}

// recordReader reads a record's fields; the first malformed one sets err
// and every later read returns zero values.
type recordReader struct {
	b   []byte
	err error
}

var errShortRecord = errors.New("record cut short or malformed")

func (r *recordReader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = errShortRecord
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *recordReader) varint() int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.err = errShortRecord
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *recordReader) byte() byte {
	if r.err != nil {
		return 0
	}
	if len(r.b) == 0 {
		r.err = errShortRecord
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

// count reads a length, which cannot exceed the bytes left.
func (r *recordReader) count() int {
	n := r.uvarint()
	if n > uint64(len(r.b)) {
		r.err = errShortRecord
		return 0
	}
	return int(n)
}

func (r *recordReader) str() string {
	n := r.count()
	if r.err != nil {
		return ""
	}
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s
}

func (r *recordReader) time() time.Time {
	if r.byte() == 0 {
		return time.Time{}
	}
	return time.Unix(0, r.varint()).UTC()
}

func (r *recordReader) strMap() map[string]string {
	n := r.count()
	if n == 0 {
		return nil
	}
	m := make(map[string]string, n)
	for range n {
		k := r.str()
		m[k] = r.str()
	}
	return m
}

// putObject stores o's record under k.
func putObject(tx store.Tx, k []byte, o *object) error {
	b, err := encodeObject(o)
	if err != nil {
		return err
	}
	return tx.Put(k, b)
}
