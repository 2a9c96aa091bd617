package jsonrpc

import (
	"bytes"
	"encoding/base64"
	"reflect"
	"slices"
	"unsafe"

	"github.com/wharf-dev/wharf/internal/awsapi/dynamodb"
	"github.com/wharf-dev/wharf/internal/ddbitem"
)

// DynamoDB's items are the one shape whose size grows with the data a
// request reads: a Query answers up to 1 MB of them. Their encoding is
// written out by hand here rather than walked by reflection; it writes
// exactly what the reflective encoder writes (members in the struct's
// order, nil ones left out, map keys sorted), which TestAttributeValueEncoding
// checks.

var (
	attributeValueType    = reflect.TypeFor[dynamodb.AttributeValue]()
	attributeValueMapType = reflect.TypeFor[map[string]dynamodb.AttributeValue]()
	storedItemType        = reflect.TypeFor[ddbitem.Raw]()
)

// handWrittenEncoder returns the hand-written encoder of t, or nil.
func handWrittenEncoder(t reflect.Type) encodeFunc {
	switch t {
	case attributeValueMapType:
		return func(b *bytes.Buffer, v reflect.Value) error {
			m, _ := reflect.TypeAssert[map[string]dynamodb.AttributeValue](v)
			writeAttributeMap(b, m)
			return nil
		}
	case attributeValueType:
		return func(b *bytes.Buffer, v reflect.Value) error {
			av, _ := reflect.TypeAssert[dynamodb.AttributeValue](v)
			writeAttributeValue(b, &av)
			return nil
		}
	case storedItemType:
		return func(b *bytes.Buffer, v reflect.Value) error {
			raw, _ := reflect.TypeAssert[ddbitem.Raw](v)
			return writeStoredItem(b, raw)
		}
	}
	return nil
}

// writeStoredItem writes an item in its stored form (package ddbitem) as
// writeAttributeMap writes the same item decoded: the stored form keeps
// names sorted, as writeAttributeMap sorts them, so the item is written in
// one pass over its bytes. Bytes that are not an item, or whose names are
// out of order, are an error.
func writeStoredItem(b *bytes.Buffer, raw ddbitem.Raw) error {
	r := ddbitem.NewReader(raw)
	writeStoredMap(b, &r)
	if r.Err() == nil && !r.Done() {
		r.Fail()
	}
	return r.Err()
}

// bytesString is p as a string without a copy, for writeString, which
// keeps nothing of it.
func bytesString(p []byte) string { return unsafe.String(unsafe.SliceData(p), len(p)) }

func writeStoredMap(b *bytes.Buffer, r *ddbitem.Reader) {
	n := r.Count()
	b.WriteByte('{')
	var prev []byte
	for i := 0; i < n && r.Err() == nil; i++ {
		k := r.Bytes()
		if i > 0 {
			if bytes.Compare(prev, k) >= 0 {
				r.Fail()
				return
			}
			b.WriteByte(',')
		}
		prev = k
		writeString(b, bytesString(k))
		b.WriteByte(':')
		writeStoredValue(b, r)
	}
	b.WriteByte('}')
}

func writeStoredStrings(b *bytes.Buffer, r *ddbitem.Reader) {
	b.WriteByte('[')
	n := r.Count()
	for i := 0; i < n && r.Err() == nil; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		writeString(b, bytesString(r.Bytes()))
	}
	b.WriteByte(']')
}

func writeStoredValue(b *bytes.Buffer, r *ddbitem.Reader) {
	switch r.Byte() {
	case ddbitem.TagS:
		b.WriteString(`{"S":`)
		writeString(b, bytesString(r.Bytes()))
	case ddbitem.TagN:
		b.WriteString(`{"N":`)
		writeString(b, bytesString(r.Bytes()))
	case ddbitem.TagB:
		b.WriteString(`{"B":`)
		writeBase64(b, r.Bytes())
	case ddbitem.TagSS:
		b.WriteString(`{"SS":`)
		writeStoredStrings(b, r)
	case ddbitem.TagNS:
		b.WriteString(`{"NS":`)
		writeStoredStrings(b, r)
	case ddbitem.TagBS:
		b.WriteString(`{"BS":[`)
		n := r.Count()
		for i := 0; i < n && r.Err() == nil; i++ {
			if i > 0 {
				b.WriteByte(',')
			}
			writeBase64(b, r.Bytes())
		}
		b.WriteByte(']')
	case ddbitem.TagM:
		b.WriteString(`{"M":`)
		writeStoredMap(b, r)
	case ddbitem.TagL:
		b.WriteString(`{"L":[`)
		n := r.Count()
		for i := 0; i < n && r.Err() == nil; i++ {
			if i > 0 {
				b.WriteByte(',')
			}
			writeStoredValue(b, r)
		}
		b.WriteByte(']')
	case ddbitem.TagNULL:
		b.WriteString(`{"NULL":true`)
	case ddbitem.TagBOOL:
		if r.Byte() == 1 {
			b.WriteString(`{"BOOL":true`)
		} else {
			b.WriteString(`{"BOOL":false`)
		}
	default:
		r.Fail()
		return
	}
	b.WriteByte('}')
}

func writeAttributeMap(b *bytes.Buffer, m map[string]dynamodb.AttributeValue) {
	var small [16]string
	keys := small[:0]
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		writeString(b, k)
		b.WriteByte(':')
		v := m[k]
		writeAttributeValue(b, &v)
	}
	b.WriteByte('}')
}

func writeAttributeValue(b *bytes.Buffer, v *dynamodb.AttributeValue) {
	b.WriteByte('{')
	comma := false
	key := func(k string) {
		if comma {
			b.WriteByte(',')
		}
		comma = true
		b.WriteString(k)
	}
	if v.S != nil {
		key(`"S":`)
		writeString(b, *v.S)
	}
	if v.N != nil {
		key(`"N":`)
		writeString(b, *v.N)
	}
	if v.B != nil {
		key(`"B":`)
		writeBase64(b, v.B)
	}
	if v.SS != nil {
		key(`"SS":`)
		writeStrings(b, v.SS)
	}
	if v.NS != nil {
		key(`"NS":`)
		writeStrings(b, v.NS)
	}
	if v.BS != nil {
		key(`"BS":`)
		b.WriteByte('[')
		for i, x := range v.BS {
			if i > 0 {
				b.WriteByte(',')
			}
			writeBase64(b, x)
		}
		b.WriteByte(']')
	}
	if v.M != nil {
		key(`"M":`)
		writeAttributeMap(b, v.M)
	}
	if v.L != nil {
		key(`"L":`)
		b.WriteByte('[')
		for i := range v.L {
			if i > 0 {
				b.WriteByte(',')
			}
			writeAttributeValue(b, &v.L[i])
		}
		b.WriteByte(']')
	}
	if v.NULL != nil {
		key(`"NULL":`)
		writeBool(b, *v.NULL)
	}
	if v.BOOL != nil {
		key(`"BOOL":`)
		writeBool(b, *v.BOOL)
	}
	b.WriteByte('}')
}

func writeStrings(b *bytes.Buffer, ss []string) {
	b.WriteByte('[')
	for i, s := range ss {
		if i > 0 {
			b.WriteByte(',')
		}
		writeString(b, s)
	}
	b.WriteByte(']')
}

func writeBase64(b *bytes.Buffer, p []byte) {
	b.WriteByte('"')
	b.Write(base64.StdEncoding.AppendEncode(b.AvailableBuffer(), p))
	b.WriteByte('"')
}

func writeBool(b *bytes.Buffer, x bool) {
	if x {
		b.WriteString("true")
	} else {
		b.WriteString("false")
	}
}

// attributeMap decodes an item (a JSON object of AttributeValues, d at its
// '{') as directDecoder.mapValue would, for the common case only: it
// returns false on anything else (a null value, a type mismatch) and the
// body goes the tree path's way.
func (d *directDecoder) attributeMap(depth int) (map[string]dynamodb.AttributeValue, bool) {
	if depth >= MaxDepth {
		return nil, false
	}
	d.i++ // '{'
	m := map[string]dynamodb.AttributeValue{}
	if d.peek() == '}' {
		d.i++
		return m, true
	}
	for {
		k, ok := d.str()
		if !ok || d.peek() != ':' {
			return nil, false
		}
		key := string(k)
		d.i++
		var av dynamodb.AttributeValue
		if d.peek() != '{' || !d.attributeValue(&av, depth+1) {
			return nil, false
		}
		m[key] = av
		switch d.peek() {
		case ',':
			d.i++
		case '}':
			d.i++
			return m, true
		default:
			return nil, false
		}
	}
}

// attributeValue decodes one AttributeValue object (d at its '{') into the
// zero value av, as directDecoder.object would.
func (d *directDecoder) attributeValue(av *dynamodb.AttributeValue, depth int) bool {
	if depth >= MaxDepth {
		return false
	}
	d.i++ // '{'
	if d.peek() == '}' {
		d.i++
		return true
	}
	for {
		k, ok := d.str()
		if !ok || d.peek() != ':' {
			return false
		}
		d.i++
		switch string(k) {
		case "S":
			s, ok := d.str()
			if !ok {
				return false
			}
			str := string(s)
			av.S = &str
		case "N":
			s, ok := d.str()
			if !ok {
				return false
			}
			str := string(s)
			av.N = &str
		case "B":
			if av.B, ok = d.base64(); !ok {
				return false
			}
		case "SS":
			if av.SS, ok = d.strings(depth + 1); !ok {
				return false
			}
		case "NS":
			if av.NS, ok = d.strings(depth + 1); !ok {
				return false
			}
		case "BS":
			if d.peek() != '[' || depth+1 >= MaxDepth {
				return false
			}
			d.i++
			av.BS = [][]byte{}
			for more := d.peek() != ']'; more; {
				b, ok := d.base64()
				if !ok {
					return false
				}
				av.BS = append(av.BS, b)
				if more, ok = d.more(']'); !ok {
					return false
				}
			}
			d.i++
		case "M":
			if d.peek() != '{' {
				return false
			}
			if av.M, ok = d.attributeMap(depth + 1); !ok {
				return false
			}
		case "L":
			if d.peek() != '[' || depth+1 >= MaxDepth {
				return false
			}
			d.i++
			av.L = []dynamodb.AttributeValue{}
			for more := d.peek() != ']'; more; {
				av.L = append(av.L, dynamodb.AttributeValue{})
				if d.peek() != '{' || !d.attributeValue(&av.L[len(av.L)-1], depth+2) {
					return false
				}
				if more, ok = d.more(']'); !ok {
					return false
				}
			}
			d.i++
		case "NULL":
			b, ok := d.boolean()
			if !ok {
				return false
			}
			av.NULL = &b
		case "BOOL":
			b, ok := d.boolean()
			if !ok {
				return false
			}
			av.BOOL = &b
		default:
			if !d.skip(depth + 1) {
				return false
			}
		}
		switch d.peek() {
		case ',':
			d.i++
		case '}':
			d.i++
			return true
		default:
			return false
		}
	}
}

// strings decodes an array of strings (SS, NS).
func (d *directDecoder) strings(depth int) ([]string, bool) {
	if d.peek() != '[' || depth >= MaxDepth {
		return nil, false
	}
	d.i++
	out := []string{}
	for more := d.peek() != ']'; more; {
		s, ok := d.str()
		if !ok {
			return nil, false
		}
		out = append(out, string(s))
		if more, ok = d.more(']'); !ok {
			return nil, false
		}
	}
	d.i++
	return out, true
}

// more reads the comma after an element of an array or object: more is
// true after a comma, false at the closing byte (left for the caller to
// read); ok is false on anything else.
func (d *directDecoder) more(closing byte) (more, ok bool) {
	switch d.peek() {
	case ',':
		d.i++
		return true, true
	case closing:
		return false, true
	}
	return false, false
}

// base64 decodes a base64 string member (B, a BS element), as the tree
// path does: base64.StdEncoding's DecodeString.
func (d *directDecoder) base64() ([]byte, bool) {
	s, ok := d.str()
	if !ok {
		return nil, false
	}
	raw := make([]byte, base64.StdEncoding.DecodedLen(len(s)))
	n, err := base64.StdEncoding.Decode(raw, s)
	if err != nil {
		return nil, false
	}
	return raw[:n], true
}

// boolean reads true or false.
func (d *directDecoder) boolean() (bool, bool) {
	switch d.peek() {
	case 't':
		return true, d.literal("true")
	case 'f':
		return false, d.literal("false")
	}
	return false, false
}
