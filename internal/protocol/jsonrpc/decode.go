package jsonrpc

import (
	"bytes"
	"io"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/wharf-dev/wharf/internal/awsapi/dynamodb"
)

// decodeDirect fills v (a struct) from data in one pass, without the tree of
// maps and slices parseDocument builds. It takes only the common case: a
// well-formed object whose members all have the types v expects. On anything
// else (bad syntax or UTF-8, a type mismatch, a lone surrogate escape,
// nesting past MaxDepth) it returns false, having possibly changed v, and the caller undoes
// that and takes the tree path, which decides what to answer: so errors, and
// which of several errors is reported, stay exactly as they were.
//
// What it does decode, it decodes as the tree path does: unknown members are
// skipped (after being checked for syntax), a member given twice takes its
// last value, null leaves pointers, slices and maps nil, numbers are parsed
// with the same functions from the same text.
func decodeDirect(data []byte, v reflect.Value, opt Options) bool {
	if !utf8.Valid(data) {
		return false
	}
	d := directDecoder{data: data, opt: opt}
	d.skipSpace()
	if d.i >= len(d.data) || d.data[d.i] != '{' {
		return false
	}
	if !d.object(v, 0) {
		return false
	}
	d.skipSpace()
	return d.i == len(d.data)
}

type directDecoder struct {
	data []byte
	i    int
	opt  Options
	buf  []byte // scratch for strings with escapes
	// strs is the slab *string members point into, a chunk at a time,
	// instead of a reflect.New each: most members of AWS inputs are
	// *string, a batch's entries two or more each.
	strs []string
}

// stringPtrType is the type of most members of AWS inputs.
var stringPtrType = reflect.TypeFor[*string]()

// newString returns a pointer to an empty string of d's slab.
func (d *directDecoder) newString() *string {
	if len(d.strs) == cap(d.strs) {
		// A first chunk for the few members of most inputs, then bigger.
		d.strs = make([]string, 0, min(4+4*cap(d.strs), 32))
	}
	d.strs = d.strs[:len(d.strs)+1]
	return &d.strs[len(d.strs)-1]
}

func (d *directDecoder) skipSpace() {
	for d.i < len(d.data) {
		switch d.data[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

// peek returns the next non-space byte, or 0 at the end.
func (d *directDecoder) peek() byte {
	d.skipSpace()
	if d.i >= len(d.data) {
		return 0
	}
	return d.data[d.i]
}

// literal consumes word (true, false, null) if it comes next.
func (d *directDecoder) literal(word string) bool {
	if !bytes.HasPrefix(d.data[d.i:], []byte(word)) {
		return false
	}
	d.i += len(word)
	return true
}

// str reads a string token. The bytes returned are either data's own (no
// escapes) or d.buf's: valid until the next call, so callers copy them.
func (d *directDecoder) str() ([]byte, bool) {
	if d.peek() != '"' {
		return nil, false
	}
	d.i++
	start := d.i
	for d.i < len(d.data) {
		c := d.data[d.i]
		switch {
		case c == '"':
			s := d.data[start:d.i]
			d.i++
			return s, true
		case c == '\\':
			return d.escaped(start)
		case c < 0x20:
			return nil, false
		}
		d.i++
	}
	return nil, false
}

// escaped finishes a string with escapes, begun at start, into d.buf.
func (d *directDecoder) escaped(start int) ([]byte, bool) {
	b := append(d.buf[:0], d.data[start:d.i]...)
	for d.i < len(d.data) {
		c := d.data[d.i]
		switch {
		case c == '"':
			d.i++
			d.buf = b
			return b, true
		case c < 0x20:
			return nil, false
		case c != '\\':
			b = append(b, c)
			d.i++
			continue
		}
		if d.i+1 >= len(d.data) {
			return nil, false
		}
		switch e := d.data[d.i+1]; e {
		case '"', '\\', '/':
			b = append(b, e)
		case 'b':
			b = append(b, '\b')
		case 'f':
			b = append(b, '\f')
		case 'n':
			b = append(b, '\n')
		case 'r':
			b = append(b, '\r')
		case 't':
			b = append(b, '\t')
		case 'u':
			r, ok := hex4(d.data[d.i+2:])
			if !ok {
				return nil, false
			}
			d.i += 6
			if utf16.IsSurrogate(r) {
				// Only a high surrogate followed by an escaped low one is a
				// character; the tree path refuses the rest.
				if r >= 0xdc00 || d.i+1 >= len(d.data) || d.data[d.i] != '\\' || d.data[d.i+1] != 'u' {
					return nil, false
				}
				lo, ok := hex4(d.data[d.i+2:])
				if !ok || lo < 0xdc00 || lo >= 0xe000 {
					return nil, false
				}
				d.i += 6
				r = utf16.DecodeRune(r, lo)
			}
			b = utf8.AppendRune(b, r)
			continue
		default:
			return nil, false
		}
		d.i += 2
	}
	return nil, false
}

// number reads a number token, checked against JSON's grammar.
func (d *directDecoder) number() (string, bool) {
	d.skipSpace()
	start := d.i
	p := d.data
	i := d.i
	if i < len(p) && p[i] == '-' {
		i++
	}
	switch {
	case i < len(p) && p[i] == '0':
		i++
	case i < len(p) && p[i] >= '1' && p[i] <= '9':
		for i < len(p) && p[i] >= '0' && p[i] <= '9' {
			i++
		}
	default:
		return "", false
	}
	if i < len(p) && p[i] == '.' {
		i++
		if i >= len(p) || p[i] < '0' || p[i] > '9' {
			return "", false
		}
		for i < len(p) && p[i] >= '0' && p[i] <= '9' {
			i++
		}
	}
	if i < len(p) && (p[i] == 'e' || p[i] == 'E') {
		i++
		if i < len(p) && (p[i] == '+' || p[i] == '-') {
			i++
		}
		if i >= len(p) || p[i] < '0' || p[i] > '9' {
			return "", false
		}
		for i < len(p) && p[i] >= '0' && p[i] <= '9' {
			i++
		}
	}
	d.i = i
	return string(p[start:i]), true
}

// skip reads past one value of any type, checking its syntax.
func (d *directDecoder) skip(depth int) bool {
	switch c := d.peek(); {
	case c == '{':
		if depth >= MaxDepth {
			return false
		}
		d.i++
		if d.peek() == '}' {
			d.i++
			return true
		}
		for {
			if _, ok := d.str(); !ok || d.peek() != ':' {
				return false
			}
			d.i++
			if !d.skip(depth + 1) {
				return false
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
	case c == '[':
		if depth >= MaxDepth {
			return false
		}
		d.i++
		if d.peek() == ']' {
			d.i++
			return true
		}
		for {
			if !d.skip(depth + 1) {
				return false
			}
			switch d.peek() {
			case ',':
				d.i++
			case ']':
				d.i++
				return true
			default:
				return false
			}
		}
	case c == '"':
		_, ok := d.str()
		return ok
	case c == 't':
		return d.literal("true")
	case c == 'f':
		return d.literal("false")
	case c == 'n':
		return d.literal("null")
	default:
		_, ok := d.number()
		return ok
	}
}

// object decodes a JSON object into the struct v; depth counts the objects
// and arrays it is inside of.
func (d *directDecoder) object(v reflect.Value, depth int) bool {
	if depth >= MaxDepth {
		return false
	}
	d.i++ // '{'
	if d.peek() == '}' {
		d.i++
		return true
	}
	idx := fieldsByKey(v.Type(), d.opt)
	for {
		key, ok := d.str()
		if !ok || d.peek() != ':' {
			return false
		}
		d.i++
		f := idx[string(key)]
		if f == nil {
			// AWS ignores members it does not know.
			if !d.skip(depth + 1) {
				return false
			}
		} else if !d.value(v.Field(f.Index), f.TimestampFormat, depth+1) {
			return false
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

// value decodes the next value into v as assign would decode its tree.
func (d *directDecoder) value(v reflect.Value, tsFormat string, depth int) bool {
	c := d.peek()
	t := v.Type()
	if t == timeType {
		var tm time.Time
		switch {
		case c == '"':
			s, ok := d.str()
			if !ok {
				return false
			}
			var err error
			if tm, err = ParseTime(string(s)); err != nil {
				return false
			}
		default:
			n, ok := d.number()
			if !ok {
				return false
			}
			f, err := strconv.ParseFloat(n, 64)
			if err != nil {
				return false
			}
			if tm, err = EpochTime(f); err != nil {
				return false
			}
		}
		v.Set(reflect.ValueOf(tm))
		return true
	}
	if c == 'n' {
		// null: nothing for pointers, slices, maps and interfaces, and a
		// struct left as it was before any earlier member of the same name
		// (zero); any other type refuses it.
		switch t.Kind() {
		case reflect.Pointer, reflect.Interface, reflect.Slice, reflect.Map, reflect.Struct:
			v.SetZero()
		default:
			return false
		}
		return d.literal("null")
	}
	switch {
	case t == attributeValueMapType && c == '{':
		m, ok := d.attributeMap(depth)
		if !ok {
			return false
		}
		v.Set(reflect.ValueOf(m))
		return true
	case t == attributeValueType && c == '{' && v.CanAddr():
		av := v.Addr().Interface().(*dynamodb.AttributeValue)
		*av = dynamodb.AttributeValue{} // the last of repeated members wins
		return d.attributeValue(av, depth)
	}
	switch t.Kind() {
	case reflect.Pointer:
		if t == stringPtrType {
			s, ok := d.str()
			if !ok {
				return false
			}
			p := d.newString()
			*p = string(s)
			v.Set(reflect.ValueOf(p))
			return true
		}
		p := reflect.New(t.Elem())
		if !d.value(p.Elem(), tsFormat, depth) {
			return false
		}
		v.Set(p)
		return true
	case reflect.Interface:
		if t.NumMethod() == 0 {
			// A document: decoded by the tree path's own rules.
			start := d.i
			if !d.skip(depth) {
				return false
			}
			tree, err := parseDocument(d.data[start:d.i])
			if err != nil {
				return false
			}
			v.Set(reflect.ValueOf(documentValue(tree)))
			return true
		}
		if t != readerType || c != '"' {
			return false
		}
		s, ok := d.str()
		if !ok {
			return false
		}
		v.Set(reflect.ValueOf(io.Reader(strings.NewReader(string(s)))))
		return true
	case reflect.Struct:
		if c != '{' {
			return false
		}
		// The tree path fills a struct from the last of repeated members.
		v.SetZero()
		return d.object(v, depth)
	case reflect.Slice:
		if t == bytesType {
			raw, ok := d.base64()
			if !ok {
				return false
			}
			v.SetBytes(raw)
			return true
		}
		return d.array(v, tsFormat, depth)
	case reflect.Map:
		if c != '{' || t.Key().Kind() != reflect.String {
			return false
		}
		return d.mapValue(v, tsFormat, depth)
	case reflect.String:
		s, ok := d.str()
		if !ok {
			return false
		}
		v.SetString(string(s))
		return true
	case reflect.Bool:
		switch c {
		case 't':
			v.SetBool(true)
			return d.literal("true")
		case 'f':
			v.SetBool(false)
			return d.literal("false")
		}
		return false
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, ok := d.number()
		if !ok {
			return false
		}
		i, err := strconv.ParseInt(n, 10, t.Bits())
		if err != nil {
			return false
		}
		v.SetInt(i)
		return true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		n, ok := d.number()
		if !ok {
			return false
		}
		u, err := strconv.ParseUint(n, 10, t.Bits())
		if err != nil {
			return false
		}
		v.SetUint(u)
		return true
	case reflect.Float32, reflect.Float64:
		var f float64
		if c == '"' {
			s, ok := d.str()
			if !ok {
				return false
			}
			switch string(s) {
			case "NaN":
				f = math.NaN()
			case "Infinity":
				f = math.Inf(1)
			case "-Infinity":
				f = math.Inf(-1)
			default:
				return false
			}
		} else {
			n, ok := d.number()
			if !ok {
				return false
			}
			var err error
			if f, err = strconv.ParseFloat(n, t.Bits()); err != nil {
				return false
			}
		}
		v.SetFloat(f)
		return true
	}
	return false
}

func (d *directDecoder) array(v reflect.Value, tsFormat string, depth int) bool {
	if d.peek() != '[' || depth >= MaxDepth {
		return false
	}
	d.i++
	if d.peek() == ']' {
		d.i++
		v.Set(reflect.MakeSlice(v.Type(), 0, 0))
		return true
	}
	// Each element is decoded in place, into v grown as it fills (4, 8,
	// 16, ...): reflect.Append would allocate a slice header each time, and
	// grow from one element through every power of two.
	v.SetZero()
	for n := 0; ; n++ {
		if n == v.Cap() {
			v.Grow(4)
		}
		v.SetLen(n + 1)
		if !d.value(v.Index(n), tsFormat, depth+1) {
			return false
		}
		switch d.peek() {
		case ',':
			d.i++
		case ']':
			d.i++
			return true
		default:
			return false
		}
	}
}

func (d *directDecoder) mapValue(v reflect.Value, tsFormat string, depth int) bool {
	if depth >= MaxDepth {
		return false
	}
	d.i++ // '{'
	t := v.Type()
	m := reflect.MakeMap(t)
	if d.peek() == '}' {
		d.i++
		v.Set(m)
		return true
	}
	key := reflect.New(t.Key()).Elem()
	el := reflect.New(t.Elem()).Elem()
	for {
		k, ok := d.str()
		if !ok || d.peek() != ':' {
			return false
		}
		key.SetString(string(k))
		d.i++
		el.SetZero()
		if !d.value(el, tsFormat, depth+1) {
			return false
		}
		m.SetMapIndex(key, el)
		switch d.peek() {
		case ',':
			d.i++
		case '}':
			d.i++
			v.Set(m)
			return true
		default:
			return false
		}
	}
}
