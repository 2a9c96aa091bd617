package timeline

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
	"time"
)

// TestSavedEntryReadsBackAsEncodingJSONWould checks the hand-written
// encoding of a saved entry: encoding/json reads it back to the same entry,
// and reads it exactly as it reads json.Marshal's encoding, for text with
// quotes, control characters, non-ASCII and invalid UTF-8; its bytes are
// an Encoder's with HTML escaping off.
func TestSavedEntryReadsBackAsEncodingJSONWould(t *testing.T) {
	entries := []Entry{
		{ID: "0000000000000001", Time: time.Date(2026, 12, 6, 9, 0, 0, 123456789, time.UTC), Service: "sqs", Kind: "MessageSent",
			Resource: "arn:aws:sqs:us-east-1:000000000000:q", Subject: "id-1", Detail: "message sent to queue q", Quiet: true},
		{ID: "00000000000000ff", Time: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Service: "events", Kind: "Invocation",
			Cause: "c", Outcome: Failed, Error: "bad \"quote\" \\ back\nslash\ttab\r\x00\x1f <tag> & é ü 日本 \u2028", Detail: "x"},
		{ID: "0000000000000002", Service: "s3", Kind: "ObjectCreated", Detail: "invalid \xff\xfe utf-8 \xc3"},
		{},
	}
	for _, e := range entries {
		got := appendJSON(nil, &e)
		var back, viaStd Entry
		if err := json.Unmarshal(got, &back); err != nil {
			t.Fatalf("%s does not parse: %v", got, err)
		}
		std, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(std, &viaStd); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(back, viaStd) {
			t.Errorf("appendJSON read back as\n %+v\nencoding/json's as\n %+v", back, viaStd)
		}
		var enc bytes.Buffer
		e2 := json.NewEncoder(&enc)
		e2.SetEscapeHTML(false)
		if err := e2.Encode(e); err != nil {
			t.Fatal(err)
		}
		if want := bytes.TrimSuffix(enc.Bytes(), []byte("\n")); !bytes.Equal(got, want) {
			t.Errorf("appendJSON wrote\n %s\nencoding/json (HTML escaping off)\n %s", got, want)
		}
		var m1, m2 map[string]any
		json.Unmarshal(got, &m1)
		json.Unmarshal(std, &m2)
		if !reflect.DeepEqual(m1, m2) {
			t.Errorf("members differ:\n %s\n %s", got, std)
		}
	}
}

func TestHexIDIsSixteenHexDigits(t *testing.T) {
	for _, n := range []uint64{0, 1, 0xff, 0xdeadbeef, 1<<64 - 1} {
		if got, want := hexID(n), fmt.Sprintf("%016x", n); got != want {
			t.Errorf("hexID(%d) = %s, want %s", n, got, want)
		}
	}
}
