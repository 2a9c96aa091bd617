package jsonrpc

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/wharf-dev/wharf/internal/apierr"
	"github.com/wharf-dev/wharf/internal/awsapi"
	"github.com/wharf-dev/wharf/internal/jsonlimit"
	"github.com/wharf-dev/wharf/internal/jsonstring"
	"github.com/wharf-dev/wharf/internal/protocol"
)

// Options say which dialect of AWS's JSON document encoding to use. awsJson and
// restJson share the encoding of values; they differ in which members live in the
// body and in the jsonName trait, which only restJson honours (Smithy's jsonName
// trait docs: "only used by protocols that opt in").
type Options struct {
	// JSONName uses a member's jsonName, when it has one, as its key.
	JSONName bool
	// BodyOnly skips members bound elsewhere (uri, querystring, header, headers,
	// statusCode), as restJson requires.
	BodyOnly bool
	// reflective leaves out the hand-written encoders, for tests that
	// check those against the reflective ones.
	reflective bool
}

// Timestamp formats, as the model's timestampFormat trait spells them.
const (
	FormatEpoch   = "unixTimestamp"
	FormatISO8601 = "iso8601"
	FormatRFC822  = "rfc822"
)

var (
	timeType   = reflect.TypeFor[time.Time]()
	bytesType  = reflect.TypeFor[[]byte]()
	readerType = reflect.TypeFor[io.Reader]()
)

// Marshal returns v (a pointer to a generated struct, or any value made of the
// generated types) as a JSON document. Nil pointers, slices and maps are omitted
// from structures; empty non-nil ones are written.
func Marshal(v any, opt Options) ([]byte, error) {
	var b bytes.Buffer
	if err := encodeValue(&b, reflect.ValueOf(v), "", opt); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func encodeValue(b *bytes.Buffer, v reflect.Value, tsFormat string, opt Options) error {
	if !v.IsValid() {
		b.WriteString("null")
		return nil
	}
	return encoderFor(v.Type(), tsFormat, opt)(b, v)
}

// An encodeFunc writes a value of the one type it was built for. Building it
// once per type (and timestamp format and dialect) keeps the per-value work
// to what the value holds: struct members' keys are quoted once, and nothing
// asks the type what kind it is again.
type encodeFunc func(b *bytes.Buffer, v reflect.Value) error

type encoderKey struct {
	t        reflect.Type
	tsFormat string
	opt      Options
}

var encoders sync.Map // encoderKey → encodeFunc

// encoderFor returns the encodeFunc of t, building it on first use. A
// recursive type (DynamoDB's AttributeValue holds itself) finds its own
// entry while being built: a stand-in that waits for and calls the real one.
func encoderFor(t reflect.Type, tsFormat string, opt Options) encodeFunc {
	k := encoderKey{t, tsFormat, opt}
	if f, ok := encoders.Load(k); ok {
		return f.(encodeFunc)
	}
	var (
		wg sync.WaitGroup
		f  encodeFunc
	)
	wg.Add(1)
	stand, loaded := encoders.LoadOrStore(k, encodeFunc(func(b *bytes.Buffer, v reflect.Value) error {
		wg.Wait()
		return f(b, v)
	}))
	if loaded {
		return stand.(encodeFunc)
	}
	f = newEncoder(t, tsFormat, opt)
	wg.Done()
	encoders.Store(k, f)
	return f
}

func newEncoder(t reflect.Type, tsFormat string, opt Options) encodeFunc {
	if f := handWrittenEncoder(t); f != nil && !opt.reflective {
		return f
	}
	if t == timeType {
		return func(b *bytes.Buffer, v reflect.Value) error {
			tm, _ := reflect.TypeAssert[time.Time](v)
			writeTime(b, tm, tsFormat)
			return nil
		}
	}
	switch t.Kind() {
	case reflect.Pointer:
		elem := encoderFor(t.Elem(), tsFormat, opt)
		return func(b *bytes.Buffer, v reflect.Value) error {
			if v.IsNil() {
				b.WriteString("null")
				return nil
			}
			return elem(b, v.Elem())
		}
	case reflect.Interface:
		if t.NumMethod() == 0 {
			// A document: any JSON value, written as encoding/json would.
			return func(b *bytes.Buffer, v reflect.Value) error {
				if v.IsNil() {
					b.WriteString("null")
					return nil
				}
				raw, err := json.Marshal(v.Interface())
				if err != nil {
					return fmt.Errorf("marshal document: %w", err)
				}
				b.Write(raw)
				return nil
			}
		}
		return func(b *bytes.Buffer, v reflect.Value) error {
			if v.IsNil() {
				b.WriteString("null")
				return nil
			}
			return encodeValue(b, v.Elem(), tsFormat, opt)
		}
	case reflect.Struct:
		return structEncoder(t, opt)
	case reflect.Slice:
		if t == bytesType {
			return func(b *bytes.Buffer, v reflect.Value) error {
				b.WriteByte('"')
				b.Write(base64.StdEncoding.AppendEncode(b.AvailableBuffer(), v.Bytes()))
				b.WriteByte('"')
				return nil
			}
		}
		elem := encoderFor(t.Elem(), tsFormat, opt)
		return func(b *bytes.Buffer, v reflect.Value) error {
			b.WriteByte('[')
			for i := 0; i < v.Len(); i++ {
				if i > 0 {
					b.WriteByte(',')
				}
				if err := elem(b, v.Index(i)); err != nil {
					return err
				}
			}
			b.WriteByte(']')
			return nil
		}
	case reflect.Map:
		if t.Key().Kind() != reflect.String {
			return func(*bytes.Buffer, reflect.Value) error {
				return fmt.Errorf("map key %s is not a string", t.Key())
			}
		}
		return mapEncoder(t, encoderFor(t.Elem(), tsFormat, opt))
	case reflect.String:
		return func(b *bytes.Buffer, v reflect.Value) error {
			writeString(b, v.String())
			return nil
		}
	case reflect.Bool:
		return func(b *bytes.Buffer, v reflect.Value) error {
			b.Write(strconv.AppendBool(b.AvailableBuffer(), v.Bool()))
			return nil
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return func(b *bytes.Buffer, v reflect.Value) error {
			b.Write(strconv.AppendInt(b.AvailableBuffer(), v.Int(), 10))
			return nil
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return func(b *bytes.Buffer, v reflect.Value) error {
			b.Write(strconv.AppendUint(b.AvailableBuffer(), v.Uint(), 10))
			return nil
		}
	case reflect.Float32, reflect.Float64:
		bits := t.Bits()
		return func(b *bytes.Buffer, v reflect.Value) error {
			writeFloat(b, v.Float(), bits)
			return nil
		}
	}
	return func(*bytes.Buffer, reflect.Value) error {
		return fmt.Errorf("cannot encode %s as JSON", t)
	}
}

// fieldEncoder is one member of a structEncoder.
type fieldEncoder struct {
	index    int
	name     string // the model's member name, for errors
	key      []byte // `"Key":`, quoted once
	typ      reflect.Type
	tsFormat string
	absent   func(reflect.Value) bool
	enc      encodeFunc
}

func structEncoder(t reflect.Type, opt Options) encodeFunc {
	sh := awsapi.ShapeOf(t)
	var fields []fieldEncoder
	for i := range sh.Fields {
		f := &sh.Fields[i]
		if opt.BodyOnly && (f.Location != "" || f.Name == sh.Payload) {
			continue
		}
		if f.Type == readerType {
			continue // a streaming payload is never part of the JSON
		}
		var key bytes.Buffer
		writeString(&key, jsonKey(f, opt))
		key.WriteByte(':')
		fe := fieldEncoder{index: f.Index, name: f.Name, key: key.Bytes(), typ: f.Type, tsFormat: f.TimestampFormat}
		switch f.Type.Kind() {
		case reflect.Pointer, reflect.Slice, reflect.Map, reflect.Interface:
			fe.absent = reflect.Value.IsNil
		}
		fields = append(fields, fe)
	}
	// Members' encoders are looked up after the list is built, so that a
	// member of the struct's own type finds this struct's stand-in.
	for i := range fields {
		fields[i].enc = encoderFor(fields[i].typ, fields[i].tsFormat, opt)
	}
	return func(b *bytes.Buffer, v reflect.Value) error {
		b.WriteByte('{')
		first := true
		for i := range fields {
			f := &fields[i]
			fv := v.Field(f.index)
			if f.absent != nil && f.absent(fv) {
				continue
			}
			if !first {
				b.WriteByte(',')
			}
			first = false
			b.Write(f.key)
			if err := f.enc(b, fv); err != nil {
				return fmt.Errorf("%s: %w", f.name, err)
			}
		}
		b.WriteByte('}')
		return nil
	}
}

// mapEntry is a key of a map being written, and where its value was put.
type mapEntry struct {
	key string
	at  int
}

// mapEncoder writes a map with string keys, keys sorted. The values are
// copied out of the map once, into one slice, instead of being looked up
// (and copied) key by key.
func mapEncoder(t reflect.Type, elem encodeFunc) encodeFunc {
	sliceType := reflect.SliceOf(t.Elem())
	keyType := t.Key()
	return func(b *bytes.Buffer, v reflect.Value) error {
		n := v.Len()
		if n == 0 {
			b.WriteString("{}")
			return nil
		}
		var small [8]mapEntry
		entries := small[:0]
		if n > len(small) {
			entries = make([]mapEntry, 0, n)
		}
		vals := reflect.MakeSlice(sliceType, n, n)
		key := reflect.New(keyType).Elem()
		var it reflect.MapIter
		it.Reset(v)
		for i := 0; i < n && it.Next(); i++ {
			key.SetIterKey(&it)
			vals.Index(i).SetIterValue(&it)
			entries = append(entries, mapEntry{key.String(), i})
		}
		slices.SortFunc(entries, func(a, b mapEntry) int { return strings.Compare(a.key, b.key) })
		b.WriteByte('{')
		for i, e := range entries {
			if i > 0 {
				b.WriteByte(',')
			}
			writeString(b, e.key)
			b.WriteByte(':')
			if err := elem(b, vals.Index(e.at)); err != nil {
				return err
			}
		}
		b.WriteByte('}')
		return nil
	}
}

func jsonKey(f *awsapi.Field, opt Options) string {
	if opt.JSONName && f.JSONName != "" {
		return f.JSONName
	}
	return f.Name
}

// writeFloat writes f as a JSON number, or as the strings Smithy's JSON protocols
// use for the values JSON cannot express ("NaN", "Infinity", "-Infinity").
func writeFloat(b *bytes.Buffer, f float64, bits int) {
	switch {
	case math.IsNaN(f):
		b.WriteString(`"NaN"`)
	case math.IsInf(f, 1):
		b.WriteString(`"Infinity"`)
	case math.IsInf(f, -1):
		b.WriteString(`"-Infinity"`)
	default:
		b.WriteString(strconv.FormatFloat(f, 'g', -1, bits))
	}
}

func writeTime(b *bytes.Buffer, t time.Time, format string) {
	switch format {
	case FormatISO8601, FormatRFC822:
		writeString(b, FormatTime(t, format))
	default:
		b.WriteString(FormatTime(t, FormatEpoch))
	}
}

// FormatTime renders t in one of the model's timestamp formats; an empty or
// unknown format means epoch seconds (with milliseconds when there are any).
func FormatTime(t time.Time, format string) string {
	switch format {
	case FormatISO8601:
		return t.UTC().Format("2006-01-02T15:04:05.999Z07:00")
	case FormatRFC822:
		return t.UTC().Format(http.TimeFormat)
	}
	ms := t.UnixMilli()
	if ms%1000 == 0 {
		return strconv.FormatInt(ms/1000, 10)
	}
	return strconv.FormatFloat(float64(ms)/1000, 'f', -1, 64)
}

// ParseTime reads a timestamp in any of the model's formats. SDKs differ in what
// they send (epoch numbers in query strings, fractional or not, dates with or
// without zones), and AWS accepts them all, so the format is not enforced.
func ParseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		return EpochTime(f)
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", http.TimeFormat, time.RFC1123Z, time.RFC850, time.ANSIC} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a timestamp", s)
}

// EpochTime converts fractional epoch seconds to a time, at millisecond precision
// (AWS's), refusing values no timestamp can have.
func EpochTime(f float64) (time.Time, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > 253402300799 { // 9999-12-31T23:59:59Z
		return time.Time{}, fmt.Errorf("%v is not a timestamp", f)
	}
	return time.UnixMilli(int64(math.Round(f * 1000))).UTC(), nil
}

// writeString writes s to b as a JSON string, as jsonstring.Append does,
// appending in b's spare room rather than through a copy.
func writeString(b *bytes.Buffer, s string) {
	b.Grow(len(s) + 2)
	b.Write(jsonstring.Append(b.AvailableBuffer(), s))
}

// Unmarshal fills v (a pointer to a generated struct) from the JSON document data.
// Unknown members are ignored, as AWS ignores them. A document that is not JSON, or
// a member of the wrong type, yields a SerializationException naming the member.
func Unmarshal(data []byte, v any, opt Options) error {
	if rv := reflect.ValueOf(v); rv.Kind() == reflect.Pointer && !rv.IsNil() && rv.Elem().Kind() == reflect.Struct {
		// Most bodies are well-formed and of the right types: decoded in one
		// pass. Any other takes the tree path below, from v as it was, for
		// its answer.
		target := rv.Elem()
		var saved reflect.Value
		if !target.IsZero() {
			saved = reflect.New(target.Type()).Elem()
			saved.Set(target)
		}
		if decodeDirect(data, target, opt) {
			return nil
		}
		if saved.IsValid() {
			target.Set(saved)
		} else {
			target.SetZero()
		}
	}
	return unmarshalTree(data, v, opt)
}

// unmarshalTree is Unmarshal by way of a parsed tree: it checks the whole
// document first and then the types of its members, naming the first it
// finds wrong.
func unmarshalTree(data []byte, v any, opt Options) error {
	tree, err := parseDocument(data)
	if err != nil {
		return err
	}
	if tree == nil {
		return nil
	}
	if _, ok := tree.(map[string]any); !ok {
		return apierr.Serialization("The request body must be a JSON object, not %s.", kindOf(tree))
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return fmt.Errorf("jsonrpc: Unmarshal into non-pointer %T", v)
	}
	return assign(rv.Elem(), tree, "", nil, opt)
}

// MaxDepth bounds how deeply objects and arrays nest in a request body. AWS's
// JSON front ends refuse deeper documents (Jackson's default nesting limit is
// 1000) and no AWS shape needs more: a DynamoDB item at its 32-level limit is
// under 100. Checking it before decoding keeps a hostile body from costing
// more than a scan.
const MaxDepth = 1000

func parseDocument(data []byte) (any, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, nil
	}
	// encoding/json would replace invalid UTF-8 in strings with U+FFFD and
	// the service would store the altered text; AWS refuses such a body with
	// a SerializationException.
	if !utf8.Valid(data) {
		return nil, apierr.Serialization("The request body is not valid UTF-8.")
	}
	if jsonlimit.Depth(data, MaxDepth) > MaxDepth {
		return nil, apierr.Serialization("The request body is not valid JSON: it nests objects and arrays more than %d levels deep.", MaxDepth)
	}
	// An escaped UTF-16 surrogate without its pair ("\ud800") is valid JSON
	// but no Unicode character; encoding/json would store U+FFFD for it.
	if esc, ok := unpairedSurrogate(data); ok {
		return nil, apierr.Serialization("The request body is not valid JSON: the escape %s is half of a UTF-16 surrogate pair and not a character.", esc)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var tree any
	if err := dec.Decode(&tree); err != nil {
		return nil, apierr.Serialization("The request body is not valid JSON: %s.", cleanJSONError(err))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, apierr.Serialization("The request body is not valid JSON: unexpected data after the top-level value.")
	}
	return tree, nil
}

// unpairedSurrogate returns the first \uD800-\uDFFF escape in data's strings
// that is not a high surrogate followed by an escaped low one.
func unpairedSurrogate(data []byte) (string, bool) {
	if !bytes.Contains(data, []byte(`\u`)) {
		return "", false
	}
	inString := false
	for i := 0; i < len(data); i++ {
		c := data[i]
		if !inString {
			inString = c == '"'
			continue
		}
		switch c {
		case '"':
			inString = false
		case '\\':
			if i+1 < len(data) && data[i+1] == 'u' {
				r, ok := hex4(data[i+2:])
				switch {
				case ok && r >= 0xd800 && r < 0xdc00:
					if i+7 < len(data) && data[i+6] == '\\' && data[i+7] == 'u' {
						if lo, ok := hex4(data[i+8:]); ok && lo >= 0xdc00 && lo < 0xe000 {
							i += 11 // both escapes
							continue
						}
					}
					return string(data[i : i+6]), true
				case ok && r >= 0xdc00 && r < 0xe000:
					return string(data[i : i+6]), true
				}
			}
			i++ // the escaped character
		}
	}
	return "", false
}

func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}

func cleanJSONError(err error) string {
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return "unexpected end of input"
	}
	return strings.TrimPrefix(err.Error(), "json: ")
}

// fieldIndex maps wire keys to fields, per struct type and dialect.
type fieldIndexKey struct {
	t   reflect.Type
	opt Options
}

var fieldIndexes sync.Map // fieldIndexKey → map[string]*awsapi.Field

func fieldsByKey(t reflect.Type, opt Options) map[string]*awsapi.Field {
	k := fieldIndexKey{t, opt}
	if m, ok := fieldIndexes.Load(k); ok {
		return m.(map[string]*awsapi.Field)
	}
	sh := awsapi.ShapeOf(t)
	m := map[string]*awsapi.Field{}
	for i := range sh.Fields {
		f := &sh.Fields[i]
		if opt.BodyOnly && (f.Location != "" || f.Name == sh.Payload) {
			continue
		}
		m[jsonKey(f, opt)] = f
	}
	actual, _ := fieldIndexes.LoadOrStore(k, m)
	return actual.(map[string]*awsapi.Field)
}

func mismatch(path *protocol.Path, want string, got any) error {
	where := "the request body"
	if path != nil {
		where = path.String()
	}
	return apierr.Serialization("Cannot deserialize %s: expected %s, got %s.", where, want, kindOf(got))
}

func kindOf(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case json.Number:
		return "a number"
	case string:
		return "a string"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

// assign stores the parsed JSON value tree into v, checking its type against v's.
func assign(v reflect.Value, tree any, tsFormat string, path *protocol.Path, opt Options) error {
	t := v.Type()
	if t == timeType {
		var (
			tm  time.Time
			err error
		)
		switch x := tree.(type) {
		case json.Number:
			var f float64
			f, err = strconv.ParseFloat(string(x), 64)
			if err == nil {
				tm, err = EpochTime(f)
			}
		case string:
			tm, err = ParseTime(x)
		default:
			return mismatch(path, "a timestamp", tree)
		}
		if err != nil {
			return apierr.Serialization("Cannot deserialize %v: %s.", path, err)
		}
		v.Set(reflect.ValueOf(tm))
		return nil
	}
	switch t.Kind() {
	case reflect.Pointer:
		if tree == nil {
			v.SetZero()
			return nil
		}
		p := reflect.New(t.Elem())
		if err := assign(p.Elem(), tree, tsFormat, path, opt); err != nil {
			return err
		}
		v.Set(p)
		return nil
	case reflect.Interface:
		if tree == nil {
			v.SetZero()
			return nil
		}
		if t.NumMethod() == 0 {
			v.Set(reflect.ValueOf(documentValue(tree)))
			return nil
		}
		if t == readerType {
			s, ok := tree.(string)
			if !ok {
				return mismatch(path, "a string", tree)
			}
			v.Set(reflect.ValueOf(io.Reader(strings.NewReader(s))))
			return nil
		}
		return fmt.Errorf("jsonrpc: cannot decode into %s", t)
	case reflect.Struct:
		obj, ok := tree.(map[string]any)
		if !ok {
			if tree == nil {
				return nil
			}
			return mismatch(path, "an object", tree)
		}
		idx := fieldsByKey(t, opt)
		for k, val := range obj {
			f := idx[k]
			if f == nil {
				continue // AWS ignores members it does not know.
			}
			if err := assign(v.Field(f.Index), val, f.TimestampFormat, path.Member(f.Name), opt); err != nil {
				return err
			}
		}
		return nil
	case reflect.Slice:
		if tree == nil {
			v.SetZero()
			return nil
		}
		if t == bytesType {
			s, ok := tree.(string)
			if !ok {
				return mismatch(path, "a base64-encoded string", tree)
			}
			raw, err := base64.StdEncoding.DecodeString(s)
			if err != nil {
				return apierr.Serialization("Cannot deserialize %v: the value is not valid base64.", path)
			}
			v.SetBytes(raw)
			return nil
		}
		arr, ok := tree.([]any)
		if !ok {
			return mismatch(path, "an array", tree)
		}
		s := reflect.MakeSlice(t, len(arr), len(arr))
		for i, el := range arr {
			if err := assign(s.Index(i), el, tsFormat, path.Index(i), opt); err != nil {
				return err
			}
		}
		v.Set(s)
		return nil
	case reflect.Map:
		if tree == nil {
			v.SetZero()
			return nil
		}
		obj, ok := tree.(map[string]any)
		if !ok {
			return mismatch(path, "an object", tree)
		}
		if t.Key().Kind() != reflect.String {
			return fmt.Errorf("jsonrpc: map key %s is not a string", t.Key())
		}
		m := reflect.MakeMapWithSize(t, len(obj))
		for k, val := range obj {
			ev := reflect.New(t.Elem()).Elem()
			if err := assign(ev, val, tsFormat, path.Member(k), opt); err != nil {
				return err
			}
			m.SetMapIndex(reflect.ValueOf(k).Convert(t.Key()), ev)
		}
		v.Set(m)
		return nil
	case reflect.String:
		s, ok := tree.(string)
		if !ok {
			return mismatch(path, "a string", tree)
		}
		v.SetString(s)
		return nil
	case reflect.Bool:
		bv, ok := tree.(bool)
		if !ok {
			return mismatch(path, "a boolean", tree)
		}
		v.SetBool(bv)
		return nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, ok := tree.(json.Number)
		if !ok {
			return mismatch(path, "an integer", tree)
		}
		i, err := strconv.ParseInt(string(n), 10, t.Bits())
		if err != nil {
			return apierr.Serialization("Cannot deserialize %v: %s is not an integer in range.", path, n)
		}
		v.SetInt(i)
		return nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		n, ok := tree.(json.Number)
		if !ok {
			return mismatch(path, "an integer", tree)
		}
		u, err := strconv.ParseUint(string(n), 10, t.Bits())
		if err != nil {
			return apierr.Serialization("Cannot deserialize %v: %s is not an integer in range.", path, n)
		}
		v.SetUint(u)
		return nil
	case reflect.Float32, reflect.Float64:
		var f float64
		switch x := tree.(type) {
		case json.Number:
			var err error
			f, err = strconv.ParseFloat(string(x), t.Bits())
			if err != nil {
				return apierr.Serialization("Cannot deserialize %v: %s is not a number in range.", path, x)
			}
		case string:
			switch x {
			case "NaN":
				f = math.NaN()
			case "Infinity":
				f = math.Inf(1)
			case "-Infinity":
				f = math.Inf(-1)
			default:
				return mismatch(path, "a number", tree)
			}
		default:
			return mismatch(path, "a number", tree)
		}
		v.SetFloat(f)
		return nil
	}
	return fmt.Errorf("jsonrpc: cannot decode into %s", t)
}

// documentValue turns a parsed tree into the values encoding/json produces for
// any, so services see float64 numbers in documents.
func documentValue(tree any) any {
	switch x := tree.(type) {
	case json.Number:
		f, err := x.Float64()
		if err != nil {
			return string(x)
		}
		return f
	case []any:
		for i := range x {
			x[i] = documentValue(x[i])
		}
		return x
	case map[string]any:
		for k := range x {
			x[k] = documentValue(x[k])
		}
		return x
	}
	return tree
}
