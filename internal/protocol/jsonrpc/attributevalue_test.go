package jsonrpc

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/wharf-dev/wharf/internal/awsapi/dynamodb"
)

// randomAttributeValue returns a value of every shape an AttributeValue can
// take on the wire, including empty and nil members and odd strings.
func randomAttributeValue(r *rand.Rand, depth int) dynamodb.AttributeValue {
	strs := []string{"", "a", "héllo", "quote\"back\\slash", "ctl\x01\n\t", "\u2028", "bad\xffutf8", "<&>"}
	str := func() string { return strs[r.IntN(len(strs))] }
	ptr := func(s string) *string { return &s }
	list := func() []string {
		if r.IntN(4) == 0 {
			return []string{}
		}
		return []string{str(), str()}
	}
	var v dynamodb.AttributeValue
	switch k := r.IntN(10); {
	case k == 0:
		v.S = ptr(str())
	case k == 1:
		v.N = ptr("-1.5e3")
	case k == 2:
		v.B = []byte(str())
	case k == 3:
		v.SS = list()
	case k == 4:
		v.NS = list()
	case k == 5:
		v.BS = [][]byte{nil, {}, []byte(str())}
	case k == 6 && depth < 3:
		v.M = map[string]dynamodb.AttributeValue{}
		for range r.IntN(20) {
			v.M[str()+string(rune('a'+r.IntN(26)))] = randomAttributeValue(r, depth+1)
		}
	case k == 7 && depth < 3:
		v.L = []dynamodb.AttributeValue{}
		for range r.IntN(4) {
			v.L = append(v.L, randomAttributeValue(r, depth+1))
		}
	case k == 8:
		t := r.IntN(2) == 0
		v.BOOL = &t
	default:
		t := true
		v.NULL = &t
	}
	if r.IntN(8) == 0 { // more than one member set: invalid, but still written
		v.S = ptr(str())
	}
	return v
}

func TestAttributeValueEncodingMatchesReflection(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 500 {
		out := &dynamodb.QueryOutput{Items: []map[string]dynamodb.AttributeValue{nil, {}}}
		for range 3 {
			out.Items = append(out.Items, randomAttributeValue(r, 0).M)
			out.Items = append(out.Items, map[string]dynamodb.AttributeValue{"k": randomAttributeValue(r, 0)})
		}
		got, err := Marshal(out, Options{})
		if err != nil {
			t.Fatal(err)
		}
		want, err := Marshal(out, Options{reflective: true})
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("case %d:\nhand-written %s\nreflective   %s", i, got, want)
		}
		upd := &dynamodb.UpdateItemInput{AttributeUpdates: map[string]dynamodb.AttributeValueUpdate{"a": {Value: &dynamodb.AttributeValue{S: out.Items[2]["k"].S, L: out.Items[3]["k"].L}}}}
		got, _ = Marshal(upd, Options{})
		want, _ = Marshal(upd, Options{reflective: true})
		if !bytes.Equal(got, want) {
			t.Fatalf("case %d:\nhand-written %s\nreflective   %s", i, got, want)
		}
	}
}

// writeStringBefore is writeString as it was before it wrote runs of
// unescaped bytes at once: the reference FuzzWriteString compares with.
func writeStringBefore(b *bytes.Buffer, s string) {
	const hex = "0123456789abcdef"
	b.WriteByte('"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b.WriteByte('\\')
				b.WriteByte(c)
			case c == '\n':
				b.WriteString(`\n`)
			case c == '\r':
				b.WriteString(`\r`)
			case c == '\t':
				b.WriteString(`\t`)
			case c < 0x20:
				b.WriteString(`\u00`)
				b.WriteByte(hex[c>>4])
				b.WriteByte(hex[c&0xf])
			default:
				b.WriteByte(c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b.WriteString(`\ufffd`)
		case r == '\u2028' || r == '\u2029':
			b.WriteString(`\u202`)
			b.WriteByte(hex[r&0xf])
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	b.WriteByte('"')
}

func FuzzWriteString(f *testing.F) {
	for _, s := range []string{"", "plain", "a\"b\\c\n\r\t\x00\x1f", "héllo \u2028\u2029 \xff\xfe", strings.Repeat("x", 100) + "\x7f"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var got, want bytes.Buffer
		writeString(&got, s)
		writeStringBefore(&want, s)
		if !bytes.Equal(got.Bytes(), want.Bytes()) {
			t.Fatalf("writeString(%q) = %s, want %s", s, got.Bytes(), want.Bytes())
		}
	})
}
