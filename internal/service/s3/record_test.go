package s3

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	s3api "github.com/wharf-dev/wharf/internal/awsapi/s3"
)

func fullObject() *object {
	until := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	acl := []grant{{ID: "abc", Permission: "READ"}}
	k, v := "k", "v"
	return &object{
		Key: "dir/ké y", VersionID: "3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY", Seq: 1 << 40, Blob: "b123", Size: 1 << 33, ETag: `"abc"`,
		LastModified: time.Date(2026, 12, 6, 12, 0, 0, 123000000, time.UTC), ContentType: "text/plain", ContentEncoding: "gzip",
		ContentDisposition: "attachment", ContentLanguage: "en", CacheControl: "no-cache", Expires: "Thu, 01 Dec 1994 16:00:00 GMT",
		WebsiteRedirect: "/other", StorageClass: "STANDARD_IA", Metadata: map[string]string{"a": "1", "b": ""},
		Checksums: map[string]string{"CRC32": "AAAAAA=="}, ChecksumType: "COMPOSITE", PartSizes: []int64{5 << 20, 1},
		PartChecksums: []string{"x", "y"}, Tags: []s3api.Tag{{Key: &k, Value: &v}}, DeleteMarker: true, UploadID: "up",
		Enc: &encryption{SSE: "aws:kms", KMSKeyID: "key", BucketKey: true}, Lock: &objectLock{Mode: "GOVERNANCE", Until: &until, LegalHold: "ON"},
		Owner: "111111111111", ACL: &acl,
	}
}

// TestObjectRecordRoundTrips: an object's binary record reads back as the
// object, with every field set and with none, and an ACL that grants
// nothing stays one.
func TestObjectRecordRoundTrips(t *testing.T) {
	// A field added to object but not to the record would be lost on
	// every write: fullObject sets them all.
	full := reflect.ValueOf(fullObject()).Elem()
	for i := range full.NumField() {
		if f := full.Type().Field(i); f.IsExported() && full.Field(i).IsZero() {
			t.Fatalf("fullObject leaves %s unset: add it to the record and to fullObject", f.Name)
		}
	}
	none := []grant{}
	for _, o := range []*object{fullObject(), {Key: "k", VersionID: "null"}, {Key: "k", ACL: &none, Metadata: map[string]string{}}} {
		b, err := encodeObject(o)
		if err != nil {
			t.Fatal(err)
		}
		got, err := decodeObject(b)
		if err != nil {
			t.Fatal(err)
		}
		want := *o
		if len(want.Metadata) == 0 {
			want.Metadata = nil // an empty map is stored as none, as JSON's omitempty did
		}
		if !reflect.DeepEqual(got, &want) {
			t.Errorf("read back\n%+v\nwant\n%+v", got, &want)
		}
		if blob, err := recordBlob(b); err != nil || blob != o.Blob {
			t.Errorf("recordBlob = %q, %v; want %q", blob, err, o.Blob)
		}
	}
}

// TestObjectRecordKeepsSSES3AsNone: SSE-S3 (the zero encryption) is stored
// as no encryption, which reads as SSE-S3, so the common record has no JSON.
func TestObjectRecordKeepsSSES3AsNone(t *testing.T) {
	b, err := encodeObject(&object{Key: "k", VersionID: "null", Enc: &encryption{}})
	if err != nil {
		t.Fatal(err)
	}
	if b[len(b)-1] != 0 {
		t.Errorf("record ends %q: want an empty extras string", b[len(b)-8:])
	}
	got, err := decodeObject(b)
	if err != nil {
		t.Fatal(err)
	}
	var sse *string
	got.Enc.fill(sseFields{SSE: &sse})
	if got.Enc != nil || sse == nil || *sse != sseS3 {
		t.Errorf("read back Enc %+v, reported as %v; want nil, reported as AES256", got.Enc, sse)
	}
}

// TestObjectRecordReadsBackAsJSONDid: records stored as JSON before the
// binary record are still read.
func TestObjectRecordReadsBackAsJSONDid(t *testing.T) {
	o := fullObject()
	b, err := json.Marshal(o)
	if err != nil {
		t.Fatal(err)
	}
	got, err := decodeObject(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, o) {
		t.Errorf("read back\n%+v\nwant\n%+v", got, o)
	}
}

// TestObjectRecordRefusesMalformedRecords: a cut or unknown record is an
// error, never a panic or a half-read object.
func TestObjectRecordRefusesMalformedRecords(t *testing.T) {
	b, err := encodeObject(fullObject())
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range [][]byte{nil, {}, {7}, b[:len(b)-1], append(append([]byte{}, b...), 0), b[:10]} {
		if o, err := decodeObject(bad); err == nil {
			t.Errorf("decodeObject(%q) = %+v, want an error", bad, o)
		}
	}
}

func FuzzObjectRecord(f *testing.F) {
	b, _ := encodeObject(fullObject())
	f.Add(b)
	b, _ = encodeObject(&object{Key: "k"})
	f.Add(b)
	f.Fuzz(func(t *testing.T, data []byte) {
		o, err := decodeObject(data)
		if err != nil || data[0] != objectRecordV1 {
			return
		}
		again, err := encodeObject(o)
		if err != nil {
			t.Fatal(err)
		}
		o2, err := decodeObject(again)
		if err != nil || !reflect.DeepEqual(o, o2) {
			t.Fatalf("a record read back does not round-trip: %v", err)
		}
	})
}

// BenchmarkObjectRecord writes and reads back a small object's record, as
// a PUT and a GET do.
func BenchmarkObjectRecord(b *testing.B) {
	o := &object{Key: "put/1", VersionID: "null", Seq: 12345, Blob: "", Size: 1024, ETag: `"0f343b0931126a20f133d67c2b018a3b"`,
		LastModified: time.Now().UTC(), Checksums: map[string]string{"CRC32": "AAAAAA=="}, ChecksumType: "FULL_OBJECT"}
	b.ReportAllocs()
	for b.Loop() {
		rec, err := encodeObject(o)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := decodeObject(rec); err != nil {
			b.Fatal(err)
		}
	}
}
