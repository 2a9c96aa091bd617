package jsonstring

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// encodingJSON is s as encoding/json writes it with HTML escaping off.
func encodingJSON(t testing.TB, s string) []byte {
	var b bytes.Buffer
	e := json.NewEncoder(&b)
	e.SetEscapeHTML(false)
	if err := e.Encode(s); err != nil {
		t.Fatal(err)
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

// marshal is s as json.Marshal writes it, HTML-safe.
func marshal(t testing.TB, s string) []byte {
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// cases need every kind of escaping, at the start, middle and end of a
// string, and around the eight-byte words the scan reads.
var cases = []string{
	"", "plain", "arn:aws:sqs:us-east-1:123456789012:a-queue-name",
	`"`, `\`, "a\"b\\c\n\r\t\b\f\x00\x01\x1f\x7f end",
	"<tag> & </tag>", "é ü 日本 \U0001F600", "\u2028\u2029", "x\u2028y\u2029z",
	"\xff", "bad \xff\xfe utf-8 \xc3", "\xe2\x80", "\xe2\x80\xa8\xe2\x80",
	"1234567\"", "12345678\"", "123456789\n", "12345678123456781234567\x00",
	strings.Repeat("x", 100) + "\x7f", strings.Repeat("abcdefgh", 8) + "é",
	" !#$%&'()*+,-./0123456789:;<=>?@AZ[]^_`az{|}~",
}

func TestAppendWritesWhatEncodingJSONWrites(t *testing.T) {
	for _, s := range cases {
		if got, want := Append(nil, s), encodingJSON(t, s); !bytes.Equal(got, want) {
			t.Errorf("Append(%q) = %s, want %s", s, got, want)
		}
		if got, want := AppendHTMLSafe(nil, s), marshal(t, s); !bytes.Equal(got, want) {
			t.Errorf("AppendHTMLSafe(%q) = %s, want %s", s, got, want)
		}
	}
}

// TestAppendEscapesEveryByteAsEncodingJSON covers each byte value alone and
// inside runs of safe bytes either side, so the word-at-a-time scan meets
// it at every offset.
func TestAppendEscapesEveryByteAsEncodingJSON(t *testing.T) {
	for c := range 256 {
		for pad := range 17 {
			s := strings.Repeat("a", pad) + string([]byte{byte(c)}) + strings.Repeat("b", 16-pad)
			if got, want := Append(nil, s), encodingJSON(t, s); !bytes.Equal(got, want) {
				t.Fatalf("Append(%q) = %s, want %s", s, got, want)
			}
			if got, want := AppendHTMLSafe(nil, s), marshal(t, s); !bytes.Equal(got, want) {
				t.Fatalf("AppendHTMLSafe(%q) = %s, want %s", s, got, want)
			}
		}
	}
}

func TestAppendKeepsWhatDstHolds(t *testing.T) {
	dst := make([]byte, 0, 64)
	dst = append(dst, `{"k":`...)
	got := append(Append(dst, "v\n"), '}')
	if want := `{"k":"v\n"}`; string(got) != want {
		t.Fatalf("got %s, want %s", got, want)
	}
}

// FuzzAppendMatchesEncodingJSON checks both writers against encoding/json:
// Append against an Encoder with HTML escaping off, AppendHTMLSafe against
// json.Marshal, each after bytes already in dst.
func FuzzAppendMatchesEncodingJSON(f *testing.F) {
	for _, s := range cases {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, w := range []struct {
			name   string
			append func([]byte, string) []byte
			want   []byte
		}{
			{"Append", Append, encodingJSON(t, s)},
			{"AppendHTMLSafe", AppendHTMLSafe, marshal(t, s)},
		} {
			got, ok := bytes.CutPrefix(w.append([]byte("prefix"), s), []byte("prefix"))
			if !ok || !bytes.Equal(got, w.want) {
				t.Fatalf("%s(%q) = %s, encoding/json %s", w.name, s, got, w.want)
			}
		}
	})
}

// benchStrings are what wharf writes most (names, IDs, ARNs), a message
// body, and text that needs escaping.
var benchStrings = []struct{ name, s string }{
	{"key", "QueueUrl"},
	{"arn", "arn:aws:sqs:us-east-1:123456789012:a-queue-name"},
	{"body1k", strings.Repeat(`a message body of printable ASCII, `, 30)},
	{"utf8", "é ü 日本 message with some non-ASCII text ü é"},
	{"escapes", "{\"order\":\"o-1\",\n\t\"amount\":150}"},
}

func BenchmarkAppend(b *testing.B) {
	for _, c := range benchStrings {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(c.s)))
			buf := make([]byte, 0, 6*len(c.s)+2)
			for b.Loop() {
				buf = Append(buf[:0], c.s)
			}
		})
	}
}

func BenchmarkAppendHTMLSafe(b *testing.B) {
	for _, c := range benchStrings {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(c.s)))
			buf := make([]byte, 0, 6*len(c.s)+2)
			for b.Loop() {
				buf = AppendHTMLSafe(buf[:0], c.s)
			}
		})
	}
}

// BenchmarkEncodingJSON is what an Encoder with HTML escaping off costs for
// the same strings, the reference Append replaces.
func BenchmarkEncodingJSON(b *testing.B) {
	for _, c := range benchStrings {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(c.s)))
			var buf bytes.Buffer
			e := json.NewEncoder(&buf)
			e.SetEscapeHTML(false)
			for b.Loop() {
				buf.Reset()
				e.Encode(c.s)
			}
		})
	}
}
