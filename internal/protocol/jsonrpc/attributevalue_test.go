package jsonrpc

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"

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

// FuzzWriteString checks that writeString, after what b already holds,
// writes what encoding/json writes with HTML escaping off, as AWS's JSON
// protocols write <, > and & as they are.
func FuzzWriteString(f *testing.F) {
	for _, s := range []string{"", "plain", "a\"b\\c\n\r\t\b\f\x00\x1f", "héllo \u2028\u2029 \xff\xfe <&>", strings.Repeat("x", 100) + "\x7f"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var got, want bytes.Buffer
		got.WriteString(`{"k":`)
		writeString(&got, s)
		want.WriteString(`{"k":`)
		e := json.NewEncoder(&want)
		e.SetEscapeHTML(false)
		if err := e.Encode(s); err != nil {
			t.Fatal(err)
		}
		if w := bytes.TrimSuffix(want.Bytes(), []byte("\n")); !bytes.Equal(got.Bytes(), w) {
			t.Fatalf("writeString(%q) = %s, want %s", s, got.Bytes(), w)
		}
	})
}
