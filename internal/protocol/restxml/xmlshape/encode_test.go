package xmlshape

import (
	"bytes"
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
