package xmlshape

import (
	"bytes"
	"encoding/xml"
	"testing"
)

func TestWriteFieldsSortsEscapesAndSkipsNil(t *testing.T) {
	var buf bytes.Buffer
	name := "a<b"
	(&Options{}).WriteFields(&buf, map[string]any{"Key": &name, "BucketName": "x&y", "Gone": nil, "Count": 3})
	want := `<BucketName>x&amp;y</BucketName><Count>3</Count><Key>a&lt;b</Key>`
	if buf.String() != want {
		t.Fatalf("got %s\nwant %s", buf.String(), want)
	}
}

func TestEscapeWritesWhatEncodingXMLWrites(t *testing.T) {
	for _, s := range []string{"", "plain-id_0123", "a&b", "<tag>", `"q" 'a'`, "tab\tnl\ncr\r", "ctl\x01\x1f", "del\x7f",
		"é日本", "bad \xff utf-8", "\uFFFE", "mix & \"é\" <\x00>"} {
		var got, want bytes.Buffer
		Escape(&got, s)
		xml.EscapeText(&want, []byte(s))
		if got.String() != want.String() {
			t.Errorf("Escape(%q) = %q, want %q", s, got.String(), want.String())
		}
	}
}
