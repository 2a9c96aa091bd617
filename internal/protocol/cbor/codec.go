// Package cbor is the codec of Smithy RPC v2 CBOR (smithy-rpc-v2-cbor), the
// protocol newer SDKs use for CloudWatch: POST /service/<Service>/operation/<Op>
// with a CBOR map body, timestamps as tag 1 epoch seconds, blobs as byte strings,
// and errors as a map with __type.
//
// It decodes and encodes with github.com/fxamacker/cbor/v2 rather than by hand:
// that library checks well-formedness before it allocates, bounds nesting, array
// and map sizes, and handles every encoding SDKs send (indefinite lengths,
// half-precision floats), which a small hand-written decoder would have to get
// right under fuzzing. The model-driven part (tags → members) is ours.
package cbor

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"math/big"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"

	fxcbor "github.com/fxamacker/cbor/v2"

	"github.com/wharf-dev/wharf/internal/apierr"
	"github.com/wharf-dev/wharf/internal/awsapi"
	"github.com/wharf-dev/wharf/internal/protocol"
	"github.com/wharf-dev/wharf/internal/protocol/jsonrpc"
)

// ContentType is the media type of request and response bodies.
const ContentType = "application/cbor"

// Codec reads and writes rpcv2Cbor.
type Codec struct{}

var _ protocol.Codec = Codec{}

// New returns the rpcv2Cbor codec.
func New() Codec { return Codec{} }

var (
	decMode fxcbor.DecMode
	encMode fxcbor.EncMode
)

func init() {
	var err error
	decMode, err = fxcbor.DecOptions{
		MaxNestedLevels:  64,
		MaxArrayElements: 1 << 17,
		MaxMapPairs:      1 << 17,
		DefaultMapType:   reflect.TypeFor[map[string]any](),
		IndefLength:      fxcbor.IndefLengthAllowed,
		TagsMd:           fxcbor.TagsAllowed,
		TimeTagToAny:     fxcbor.TimeTagToTime,
	}.DecMode()
	if err != nil {
		panic(fmt.Sprintf("cbor: decode options: %v", err))
	}
	encMode, err = fxcbor.EncOptions{Time: fxcbor.TimeUnixDynamic, TimeTag: fxcbor.EncTagRequired}.EncMode()
	if err != nil {
		panic(fmt.Sprintf("cbor: encode options: %v", err))
	}
}

// Operation reads /service/<ServiceShapeName>/operation/<Operation>.
func (Codec) Operation(svc *awsapi.Service, r *http.Request) (*awsapi.Operation, error) {
	path := r.URL.Path
	i := strings.LastIndex(path, "/service/")
	if i < 0 {
		return nil, apierr.New("UnknownOperationException", http.StatusNotFound, "An rpcv2Cbor request must be a POST to /service/<service>/operation/<operation>, not %s.", path)
	}
	service, opName, ok := strings.Cut(path[i+len("/service/"):], "/operation/")
	if !ok || opName == "" || strings.Contains(opName, "/") {
		return nil, apierr.New("UnknownOperationException", http.StatusNotFound, "An rpcv2Cbor request must be a POST to /service/<service>/operation/<operation>, not %s.", path)
	}
	if svc.TargetPrefix != "" && service != svc.TargetPrefix {
		return nil, apierr.UnknownOperation(service + "." + opName)
	}
	op := svc.Operations()[opName]
	if op == nil {
		return nil, apierr.UnknownOperation(opName)
	}
	if r.Method != http.MethodPost {
		return nil, apierr.New("UnknownOperationException", http.StatusMethodNotAllowed, "rpcv2Cbor operations are called with POST, not %s.", r.Method)
	}
	return op, nil
}

// Decode reads the CBOR map body into in. An empty body is an empty input.
func (Codec) Decode(svc *awsapi.Service, op *awsapi.Operation, r *http.Request, in any) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = apierr.Serialization("The request could not be deserialized (%v).", p)
		}
	}()
	data, err := jsonrpc.ReadBody(r)
	if err != nil {
		return err
	}
	if err := Unmarshal(data, in); err != nil {
		return err
	}
	return protocol.CheckRequired(svc, in)
}

// Unmarshal fills v (a pointer to a generated struct) from a CBOR map. Unknown
// members are ignored; malformed CBOR or a member of the wrong type is a
// SerializationException.
func Unmarshal(data []byte, v any) error {
	if len(data) == 0 {
		return nil
	}
	var tree any
	if err := decMode.Unmarshal(data, &tree); err != nil {
		return apierr.Serialization("The request body is not valid CBOR: %s.", strings.TrimPrefix(err.Error(), "cbor: "))
	}
	if tree == nil {
		return nil
	}
	if _, ok := tree.(map[string]any); !ok {
		return apierr.Serialization("The request body must be a CBOR map, not %s.", kindOf(tree))
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return fmt.Errorf("cbor: Unmarshal into non-pointer %T", v)
	}
	return assign(rv.Elem(), tree, "")
}

var (
	timeType   = reflect.TypeFor[time.Time]()
	bytesType  = reflect.TypeFor[[]byte]()
	readerType = reflect.TypeFor[io.Reader]()
)

func kindOf(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case uint64, int64, *big.Int, big.Int:
		return "an integer"
	case float64, float32:
		return "a float"
	case string:
		return "a text string"
	case []byte:
		return "a byte string"
	case []any:
		return "an array"
	case map[string]any:
		return "a map"
	case time.Time:
		return "a timestamp"
	case fxcbor.Tag, fxcbor.RawTag:
		return "a tagged value"
	}
	return fmt.Sprintf("%T", v)
}

func mismatch(path, want string, got any) error {
	if path == "" {
		path = "the request body"
	}
	return apierr.Serialization("Cannot deserialize %s: expected %s, got %s.", path, want, kindOf(got))
}

func memberPath(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// assign stores the decoded CBOR tree into v, checking its type against v's.
func assign(v reflect.Value, tree any, path string) error {
	t := v.Type()
	if t == timeType {
		var tm time.Time
		switch x := tree.(type) {
		case time.Time:
			tm = x.UTC()
		case uint64, int64, float64, float32:
			f, _ := number(x)
			var err error
			if tm, err = jsonrpc.EpochTime(f); err != nil {
				return apierr.Serialization("Cannot deserialize %s: %s.", path, err)
			}
		default:
			return mismatch(path, "a timestamp (tag 1)", tree)
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
		if err := assign(p.Elem(), tree, path); err != nil {
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
			v.Set(reflect.ValueOf(tree))
			return nil
		}
		if t == readerType {
			b, ok := tree.([]byte)
			if !ok {
				return mismatch(path, "a byte string", tree)
			}
			v.Set(reflect.ValueOf(io.Reader(bytes.NewReader(b))))
			return nil
		}
		return fmt.Errorf("cbor: cannot decode into %s", t)
	case reflect.Struct:
		m, ok := tree.(map[string]any)
		if !ok {
			return mismatch(path, "a map", tree)
		}
		sh := awsapi.ShapeOf(t)
		for k, val := range m {
			f := sh.Field(k)
			if f == nil {
				continue // unknown members are ignored, as by AWS
			}
			if err := assign(v.Field(f.Index), val, memberPath(path, f.Name)); err != nil {
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
			b, ok := tree.([]byte)
			if !ok {
				return mismatch(path, "a byte string", tree)
			}
			v.SetBytes(b)
			return nil
		}
		arr, ok := tree.([]any)
		if !ok {
			return mismatch(path, "an array", tree)
		}
		s := reflect.MakeSlice(t, len(arr), len(arr))
		for i, el := range arr {
			if err := assign(s.Index(i), el, fmt.Sprintf("%s[%d]", path, i)); err != nil {
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
		m, ok := tree.(map[string]any)
		if !ok {
			return mismatch(path, "a map", tree)
		}
		if t.Key().Kind() != reflect.String {
			return fmt.Errorf("cbor: map key %s is not a string", t.Key())
		}
		out := reflect.MakeMapWithSize(t, len(m))
		for k, val := range m {
			ev := reflect.New(t.Elem()).Elem()
			if err := assign(ev, val, memberPath(path, k)); err != nil {
				return err
			}
			out.SetMapIndex(reflect.ValueOf(k).Convert(t.Key()), ev)
		}
		v.Set(out)
		return nil
	case reflect.String:
		s, ok := tree.(string)
		if !ok {
			return mismatch(path, "a text string", tree)
		}
		v.SetString(s)
		return nil
	case reflect.Bool:
		b, ok := tree.(bool)
		if !ok {
			return mismatch(path, "a boolean", tree)
		}
		v.SetBool(b)
		return nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		var n int64
		switch x := tree.(type) {
		case uint64:
			if x > math.MaxInt64 {
				return apierr.Serialization("Cannot deserialize %s: %d is out of range.", path, x)
			}
			n = int64(x)
		case int64:
			n = x
		default:
			return mismatch(path, "an integer", tree)
		}
		if v.OverflowInt(n) {
			return apierr.Serialization("Cannot deserialize %s: %d is out of range.", path, n)
		}
		v.SetInt(n)
		return nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		x, ok := tree.(uint64)
		if !ok {
			return mismatch(path, "an unsigned integer", tree)
		}
		if v.OverflowUint(x) {
			return apierr.Serialization("Cannot deserialize %s: %d is out of range.", path, x)
		}
		v.SetUint(x)
		return nil
	case reflect.Float32, reflect.Float64:
		f, ok := number(tree)
		if !ok {
			return mismatch(path, "a number", tree)
		}
		v.SetFloat(f)
		return nil
	}
	return fmt.Errorf("cbor: cannot decode into %s", t)
}

func number(v any) (float64, bool) {
	switch x := v.(type) {
	case uint64:
		return float64(x), true
	case int64:
		return float64(x), true
	case float64:
		return x, true
	case float32:
		return float64(x), true
	}
	return 0, false
}

// Marshal returns v (a pointer to a generated struct, or a value made of the
// generated types) as CBOR.
func Marshal(v any) ([]byte, error) {
	tree, err := toTree(reflect.ValueOf(v))
	if err != nil {
		return nil, err
	}
	return encMode.Marshal(tree)
}

// toTree turns a generated value into what the CBOR encoder writes: maps with text
// keys, tag 1 epoch seconds (float, millisecond precision, as AWS sends), byte
// strings, and integers as integers (SDKs refuse floats for integer members).
func toTree(v reflect.Value) (any, error) {
	if !v.IsValid() {
		return nil, nil
	}
	if v.Type() == timeType {
		ms := v.Interface().(time.Time).UnixMilli()
		return fxcbor.Tag{Number: 1, Content: float64(ms) / 1000}, nil
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil, nil
		}
		return toTree(v.Elem())
	case reflect.Struct:
		sh := awsapi.ShapeOf(v.Type())
		m := make(map[string]any, len(sh.Fields))
		for i := range sh.Fields {
			f := &sh.Fields[i]
			fv := v.Field(f.Index)
			switch fv.Kind() {
			case reflect.Pointer, reflect.Slice, reflect.Map, reflect.Interface:
				if fv.IsNil() {
					continue
				}
			}
			if fv.Type() == readerType {
				continue
			}
			x, err := toTree(fv)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", f.Name, err)
			}
			m[f.Name] = x
		}
		return m, nil
	case reflect.Slice:
		if v.Type() == bytesType {
			return v.Bytes(), nil
		}
		out := make([]any, v.Len())
		for i := range out {
			x, err := toTree(v.Index(i))
			if err != nil {
				return nil, err
			}
			out[i] = x
		}
		return out, nil
	case reflect.Map:
		if v.Type().Key().Kind() != reflect.String {
			return nil, fmt.Errorf("map key %s is not a string", v.Type().Key())
		}
		out := make(map[string]any, v.Len())
		iter := v.MapRange()
		for iter.Next() {
			x, err := toTree(iter.Value())
			if err != nil {
				return nil, err
			}
			out[iter.Key().String()] = x
		}
		return out, nil
	case reflect.String:
		return v.String(), nil
	case reflect.Bool:
		return v.Bool(), nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return v.Int(), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return v.Uint(), nil
	case reflect.Float32:
		return float32(v.Float()), nil
	case reflect.Float64:
		return v.Float(), nil
	}
	return nil, fmt.Errorf("cannot encode %s as CBOR", v.Type())
}

func setHeaders(h http.Header, requestID string) {
	h.Set("Smithy-Protocol", "rpc-v2-cbor")
	h.Set(jsonrpc.RequestIDHeader, requestID)
}

// Encode writes out as a CBOR map; an operation without output answers with an
// empty body, which SDKs read as "no output".
func (Codec) Encode(w http.ResponseWriter, r *http.Request, svc *awsapi.Service, op *awsapi.Operation, out any, requestID string) error {
	h := w.Header()
	setHeaders(h, requestID)
	rv := reflect.ValueOf(out)
	if out == nil || (rv.Kind() == reflect.Pointer && rv.IsNil()) {
		h.Set("Content-Length", "0")
		w.WriteHeader(http.StatusOK)
		return nil
	}
	body, err := Marshal(out)
	if err != nil {
		Codec{}.EncodeError(w, r, svc, apierr.Internal(), requestID)
		return fmt.Errorf("encode %s output: %w", op.Name, err)
	}
	h.Set("Content-Type", ContentType)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	_, err = w.Write(body)
	return err
}

// EncodeError writes e as a CBOR map with __type and message, the error's status,
// and for awsQueryCompatible services (CloudWatch) the query code in
// x-amzn-query-error, which the SDKs read for the error code.
func (Codec) EncodeError(w http.ResponseWriter, r *http.Request, svc *awsapi.Service, e *apierr.Error, requestID string) {
	info := jsonrpc.ResolveError(svc, e)
	keys, values := info.Members(e)
	m := map[string]any{"__type": info.Type}
	for _, k := range keys {
		x, err := toTree(reflect.ValueOf(values[k]))
		if err != nil {
			continue // a field the codec cannot render must not hide the error itself
		}
		m[k] = x
	}
	body, err := encMode.Marshal(m)
	if err != nil {
		body, _ = encMode.Marshal(map[string]any{"__type": info.Type, "message": e.Message})
	}
	h := w.Header()
	for k, vs := range e.Header {
		h[k] = vs
	}
	setHeaders(h, requestID)
	h.Set("Content-Type", ContentType)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	if info.QueryError != "" {
		h.Set("X-Amzn-Query-Error", info.QueryError)
	}
	w.WriteHeader(info.Status)
	_, _ = w.Write(body)
}
