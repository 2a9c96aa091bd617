package jsonrpc

import (
	"bytes"
	"encoding/base64"
	"reflect"
	"slices"

	"github.com/wharf-dev/wharf/internal/awsapi/dynamodb"
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
	}
	return nil
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
