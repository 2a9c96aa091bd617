package sqs

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
)

func recordCases() []message {
	s, empty := "v", ""
	return []message{
		{},
		{ID: "id", Seq: 1<<63 + 5, Body: "body with \xff bytes and é", MD5Body: "md5", Sent: 1765000000000, VisibleAt: -3,
			Received: 2, FirstReceive: 1765000000001, Token: "tok", SenderID: "000000000000", GroupID: "g", DedupID: "d", SourceArn: "arn"},
		{ID: "attrs", Body: "b",
			Attrs: map[string]msgAttr{
				"s":     {DataType: "String", StringValue: &s},
				"empty": {DataType: "String", StringValue: &empty},
				"bin":   {DataType: "Binary", BinaryValue: []byte{0, 1, 2}},
				"lists": {DataType: "String", StringList: []string{"a", ""}, BinaryList: [][]byte{{9}, {}, nil}},
			},
			SysAttrs: map[string]msgAttr{"AWSTraceHeader": {DataType: "String", StringValue: &s}},
		},
		{ID: "empty collections", Attrs: map[string]msgAttr{"x": {DataType: "Binary", BinaryValue: []byte{}, StringList: []string{}, BinaryList: [][]byte{}}},
			SysAttrs: map[string]msgAttr{}},
	}
}

// TestMessageRecordReadsBackAsJSONDid checks the binary message record: a
// message reads back as it did when records were JSON (empty collections
// dropped as omitempty dropped them), and records JSON wrote are still read.
func TestMessageRecordReadsBackAsJSONDid(t *testing.T) {
	for _, m := range recordCases() {
		var viaJSON, viaRecord, oldRecord message
		j, err := json.Marshal(&m)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(j, &viaJSON); err != nil {
			t.Fatal(err)
		}
		if err := decodeMessage(encodeMessage(nil, &m), &viaRecord); err != nil {
			t.Fatalf("%s: %v", m.ID, err)
		}
		if err := decodeMessage(j, &oldRecord); err != nil {
			t.Fatalf("%s: JSON record: %v", m.ID, err)
		}
		// JSON turns invalid UTF-8 into U+FFFD; the record keeps the bytes.
		viaJSON.Body = m.Body
		if !reflect.DeepEqual(viaRecord, viaJSON) {
			t.Errorf("%s: record read back as\n %+v\nJSON as\n %+v", m.ID, viaRecord, viaJSON)
		}
		oldRecord.Body = m.Body
		if !reflect.DeepEqual(oldRecord, viaJSON) {
			t.Errorf("%s: a JSON record read back as %+v", m.ID, oldRecord)
		}
	}
}

func TestMalformedMessageRecordIsAnError(t *testing.T) {
	good := encodeMessage(nil, &recordCases()[2])
	for n := 0; n < len(good); n++ {
		var m message
		if err := decodeMessage(good[:n], &m); err == nil {
			t.Fatalf("a record cut to %d of %d bytes decoded", n, len(good))
		}
	}
	var m message
	if err := decodeMessage(append(good, 0), &m); err == nil {
		t.Fatal("a record with a trailing byte decoded")
	}
	if err := decodeMessage([]byte{recordV1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, &m); err == nil {
		t.Fatal("a record with a huge length decoded")
	}
}

func FuzzMessageRecord(f *testing.F) {
	for _, m := range recordCases() {
		f.Add(encodeMessage(nil, &m))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var m message
		if decodeMessage(b, &m) != nil || len(b) == 0 || b[0] != recordV1 {
			return
		}
		// What decodes encodes back to something that decodes the same.
		var again message
		if err := decodeMessage(encodeMessage(nil, &m), &again); err != nil || !reflect.DeepEqual(m, again) {
			t.Fatalf("re-encoded record: %v\n%+v\n%+v", err, m, again)
		}
		checkHead(t, b, m)
		// What decodes is a copy: the store's value is only valid
		// during its transaction, and a reused buffer must not change it.
		var head message
		if err := decodeMessageHead(b, &head); err != nil {
			t.Fatal(err)
		}
		orig := bytes.Clone(b)
		for i := range b {
			b[i] ^= 0xff
		}
		var m2, head2 message
		if decodeMessage(orig, &m2) != nil || decodeMessageHead(orig, &head2) != nil ||
			!reflect.DeepEqual(m, m2) || !reflect.DeepEqual(head, head2) {
			t.Fatalf("decoded messages changed with the record's bytes:\n%+v\n%+v", m, m2)
		}
	})
}

// checkHead checks that decodeMessageHead reads record b as decodeMessage
// read it into m, the body, its attributes and its digest aside.
func checkHead(t *testing.T, b []byte, m message) {
	t.Helper()
	var head message
	if err := decodeMessageHead(b, &head); err != nil {
		t.Fatalf("decodeMessageHead: %v", err)
	}
	m.Body, m.Attrs, m.SysAttrs, m.MD5Body = "", nil, nil, ""
	if !reflect.DeepEqual(head, m) {
		t.Fatalf("head\n%+v\nwant\n%+v", head, m)
	}
}

// TestMessageHeadSkipsTheBody checks decodeMessageHead on every record case.
func TestMessageHeadSkipsTheBody(t *testing.T) {
	for _, m := range recordCases() {
		b := encodeMessage(nil, &m)
		var full message
		if err := decodeMessage(b, &full); err != nil {
			t.Fatal(err)
		}
		checkHead(t, b, full)
	}
}
