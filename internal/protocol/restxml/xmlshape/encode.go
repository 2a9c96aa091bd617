// Package xmlshape writes and reads the XML bodies of the query and rest-xml
// protocols for Go values described by awsapi tags: element names from
// locationName, lists wrapped in <member> unless flattened, maps as entry/key/value,
// XML attributes and namespaces. Both protocols' codecs share it because AWS uses
// one XML serialization for both.
package xmlshape

import (
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"io"
	"math"
	"net/http"
	"reflect"
	"sort"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/wharf-dev/wharf/internal/awsapi"
)

// Options adjust how a protocol maps shapes to XML.
type Options struct {
	// TimeLayout formats iso8601 timestamps; empty means "2006-01-02T15:04:05Z".
	TimeLayout string
	// reflective writes with the reflective writer alone, for tests that
	// check the encoders built per type against it.
	reflective bool
}

var (
	timeType   = reflect.TypeOf(time.Time{})
	bytesType  = reflect.TypeOf([]byte(nil))
	readerType = reflect.TypeOf((*io.Reader)(nil)).Elem()
)

// ElemField returns the pseudo-field describing the elements of a list or the
// values of a map: nested collections carry no tags, so they take the defaults.
func ElemField(t reflect.Type) *awsapi.Field {
	return &awsapi.Field{Type: t, MemberName: "member", KeyName: "key", ValueName: "value"}
}

// FlatName is the element name of a flattened list's items: the list member's
// own name when the model gives one, else the member's wire name (botocore's rule).
func FlatName(f *awsapi.Field) string {
	if f.MemberName != "" && f.MemberName != "member" {
		return f.MemberName
	}
	return f.WireName()
}

// WriteElement writes v as the element name (with extra attributes attrs, already
// formatted like ` xmlns="..."`), using f for list/map/timestamp facts. Nil
// pointers, slices and maps write nothing.
func (o *Options) WriteElement(buf *bytes.Buffer, name, attrs string, f *awsapi.Field, v reflect.Value) {
	if o.reflective || !v.IsValid() {
		o.writeElement(buf, name, attrs, f, v)
		return
	}
	encoderFor(v.Type(), factsOf(f))(o, buf, name, attrs, v)
}

// writeElement is WriteElement by reflection on each value: the reference
// the encoders built per type are checked against, and what they leave to
// it (interface values).
func (o *Options) writeElement(buf *bytes.Buffer, name, attrs string, f *awsapi.Field, v reflect.Value) {
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			return
		}
		if v.Type() == timeType {
			break
		}
		v = v.Elem()
	}
	switch {
	case v.Type() == bytesType:
		if v.IsNil() {
			return
		}
	case v.Kind() == reflect.Slice:
		if v.IsNil() {
			return
		}
		if f.Flattened {
			// A flattened list repeats its items in place of a wrapper.
			ef := ElemField(v.Type().Elem())
			for i := 0; i < v.Len(); i++ {
				o.writeElement(buf, name, attrs, ef, v.Index(i))
			}
			return
		}
		open(buf, name, attrs)
		ef := ElemField(v.Type().Elem())
		for i := 0; i < v.Len(); i++ {
			o.writeElement(buf, f.MemberName, "", ef, v.Index(i))
		}
		closeTag(buf, name)
		return
	case v.Kind() == reflect.Map:
		if v.IsNil() {
			return
		}
		keys := v.MapKeys()
		sort.Slice(keys, func(i, j int) bool { return keys[i].String() < keys[j].String() })
		ef := ElemField(v.Type().Elem())
		if !f.Flattened {
			open(buf, name, attrs)
		}
		for _, k := range keys {
			entry := "entry"
			if f.Flattened {
				entry = name
			}
			open(buf, entry, "")
			open(buf, f.KeyName, "")
			Escape(buf, k.String())
			closeTag(buf, f.KeyName)
			o.writeElement(buf, f.ValueName, "", ef, v.MapIndex(k))
			closeTag(buf, entry)
		}
		if !f.Flattened {
			closeTag(buf, name)
		}
		return
	case v.Kind() == reflect.Struct && v.Type() != timeType:
		o.writeStruct(buf, name, attrs, v)
		return
	}
	text, ok := o.Scalar(f, v, "iso8601")
	if !ok {
		return
	}
	open(buf, name, attrs)
	Escape(buf, text)
	closeTag(buf, name)
}

func (o *Options) writeStruct(buf *bytes.Buffer, name, attrs string, v reflect.Value) {
	shape := awsapi.ShapeOf(v.Type())
	if (attrs != "" || shape.XMLNamespace == "") && !hasAttributes(shape) {
		open(buf, name, attrs)
		o.members(buf, v)
		closeTag(buf, name)
		return
	}
	var ab bytes.Buffer
	ab.WriteString(attrs)
	if attrs == "" {
		// A shape's own namespace (S3's Grantee declares xsi for its xsi:type
		// attribute) goes on its element when the member did not declare one.
		ab.WriteString(NamespaceAttr(shape.XMLPrefix, shape.XMLNamespace))
	}
	for i := range shape.Fields {
		f := &shape.Fields[i]
		if !f.XMLAttribute || f.Location != "" {
			continue
		}
		text, ok := o.Scalar(f, v.Field(f.Index), "iso8601")
		if !ok {
			continue
		}
		ab.WriteByte(' ')
		ab.WriteString(f.WireName())
		ab.WriteString(`="`)
		xml.EscapeText(&ab, []byte(text))
		ab.WriteByte('"')
	}
	open(buf, name, ab.String())
	o.members(buf, v)
	closeTag(buf, name)
}

// hasAttributes reports whether shape has a member written as an XML
// attribute of its element.
func hasAttributes(shape *awsapi.Shape) bool {
	for i := range shape.Fields {
		if f := &shape.Fields[i]; f.XMLAttribute && f.Location == "" {
			return true
		}
	}
	return false
}

// WriteMembers writes the body members of struct v (those without an HTTP
// location, and not XML attributes) as a sequence of elements.
func (o *Options) WriteMembers(buf *bytes.Buffer, v reflect.Value) {
	for v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return
		}
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return
	}
	o.members(buf, v)
}

// members writes the body members of v, a struct.
func (o *Options) members(buf *bytes.Buffer, v reflect.Value) {
	if !o.reflective {
		membersFor(v.Type())(o, buf, v)
		return
	}
	shape := awsapi.ShapeOf(v.Type())
	for i := range shape.Fields {
		f := &shape.Fields[i]
		if f.Location != "" || f.XMLAttribute {
			continue
		}
		o.writeField(buf, f, v.Field(f.Index))
	}
}

// writeField writes one member's element(s), with its namespace
// declaration, by reflection.
func (o *Options) writeField(buf *bytes.Buffer, f *awsapi.Field, v reflect.Value) {
	name := f.WireName()
	if f.Flattened && (v.Kind() == reflect.Slice && v.Type() != bytesType) {
		name = FlatName(f)
	}
	o.writeElement(buf, name, NamespaceAttr(f.XMLPrefix, f.XMLNamespace), f, v)
}

// NamespaceAttr formats an xmlns declaration, or "" when uri is empty.
func NamespaceAttr(prefix, uri string) string {
	if uri == "" {
		return ""
	}
	var b bytes.Buffer
	b.WriteString(" xmlns")
	if prefix != "" {
		b.WriteByte(':')
		b.WriteString(prefix)
	}
	b.WriteString(`="`)
	xml.EscapeText(&b, []byte(uri))
	b.WriteByte('"')
	return b.String()
}

// Scalar formats a scalar value as text; ok is false for nil, collections and
// values with no text form. defaultTime is the protocol's timestamp format for
// this location when the member sets none.
func (o *Options) Scalar(f *awsapi.Field, v reflect.Value, defaultTime string) (string, bool) {
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			return "", false
		}
		v = v.Elem()
	}
	if v.Type() == timeType {
		format := f.TimestampFormat
		if format == "" {
			format = defaultTime
		}
		return o.FormatTime(v.Interface().(time.Time), format), true
	}
	if v.Type() == bytesType {
		if v.IsNil() {
			return "", false
		}
		return base64.StdEncoding.EncodeToString(v.Bytes()), true
	}
	switch v.Kind() {
	case reflect.String:
		return v.String(), true
	case reflect.Bool:
		return strconv.FormatBool(v.Bool()), true
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.FormatInt(v.Int(), 10), true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return strconv.FormatUint(v.Uint(), 10), true
	case reflect.Float32, reflect.Float64:
		return FormatFloat(v.Float(), v.Type().Bits()), true
	}
	return "", false
}

// FormatFloat writes floats the way AWS's XML and query protocols do, including
// the special values.
func FormatFloat(x float64, bits int) string {
	switch {
	case math.IsNaN(x):
		return "NaN"
	case math.IsInf(x, 1):
		return "Infinity"
	case math.IsInf(x, -1):
		return "-Infinity"
	}
	return strconv.FormatFloat(x, 'f', -1, bits)
}

// FormatTime formats t in one of the model's timestamp formats.
func (o *Options) FormatTime(t time.Time, format string) string {
	t = t.UTC()
	switch format {
	case "rfc822":
		return t.Format(http.TimeFormat)
	case "unixTimestamp":
		return FormatFloat(float64(t.UnixNano())/1e9, 64)
	}
	layout := "2006-01-02T15:04:05Z"
	if o != nil && o.TimeLayout != "" {
		layout = o.TimeLayout
	}
	return t.Format(layout)
}

func open(buf *bytes.Buffer, name, attrs string) {
	buf.WriteByte('<')
	buf.WriteString(name)
	buf.WriteString(attrs)
	buf.WriteByte('>')
}

func closeTag(buf *bytes.Buffer, name string) {
	buf.WriteString("</")
	buf.WriteString(name)
	buf.WriteByte('>')
}

// Escape writes s as XML character data, as encoding/xml's EscapeText does.
func Escape(buf *bytes.Buffer, s string) {
	// Most values (ids, names, numbers) need no escaping: write them as
	// they are rather than copying each to a []byte for EscapeText.
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= utf8.RuneSelf, c < 0x20, c == '"', c == '\'', c == '&', c == '<', c == '>':
			_ = xml.EscapeText(buf, []byte(s)) // a bytes.Buffer does not fail
			return
		}
	}
	buf.WriteString(s)
}

// WriteFields writes an error's extra members (apierr.Error.Fields) as elements,
// in name order so responses are stable: inside <Error> for both query and
// rest-xml errors.
func (o *Options) WriteFields(buf *bytes.Buffer, fields map[string]any) {
	names := make([]string, 0, len(fields))
	for k, v := range fields {
		if v != nil {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	for _, k := range names {
		o.WriteElement(buf, k, "", ElemField(reflect.TypeOf(fields[k])), reflect.ValueOf(fields[k]))
	}
}
