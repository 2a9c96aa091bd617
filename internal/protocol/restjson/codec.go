// Package restjson is the codec of AWS's restJson1 protocol (EventBridge Scheduler,
// ...): the operation is picked by method and request URI template, members are
// bound to the URI, query string, headers and status code as the model says, and
// the rest travel as a JSON body (or as the raw body, for a blob payload).
package restjson

import (
	"encoding/base64"
	"fmt"
	"io"
	"math"
	"net/http"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/wharf-dev/wharf/internal/apierr"
	"github.com/wharf-dev/wharf/internal/awsapi"
	"github.com/wharf-dev/wharf/internal/protocol"
	"github.com/wharf-dev/wharf/internal/protocol/jsonrpc"
)

// Codec reads and writes restJson1.
type Codec struct{}

var _ protocol.Codec = Codec{}

// New returns the restJson codec.
func New() Codec { return Codec{} }

var (
	timeType   = reflect.TypeFor[time.Time]()
	bytesType  = reflect.TypeFor[[]byte]()
	readerType = reflect.TypeFor[io.Reader]()
	bodyOpts   = jsonrpc.Options{JSONName: true, BodyOnly: true}
	payloadOpt = jsonrpc.Options{JSONName: true}
)

// Operation matches r's method and path against every operation's URI template,
// preferring the most specific.
func (Codec) Operation(svc *awsapi.Service, r *http.Request) (*awsapi.Operation, error) {
	rt, _, pathMatched := find(svc, r)
	if rt != nil {
		return rt.op, nil
	}
	if pathMatched {
		return nil, apierr.New("UnknownOperationException", http.StatusMethodNotAllowed, "%s does not support %s %s.", svc.ServiceID, r.Method, r.URL.Path)
	}
	return nil, apierr.New("UnknownOperationException", http.StatusNotFound, "No %s operation matches %s %s.", svc.ServiceID, r.Method, r.URL.Path)
}

// Matches reports whether r's method and path are one of svc's operations,
// for the front door, which routes a request by its path only when nothing
// else names its service.
func (Codec) Matches(svc *awsapi.Service, r *http.Request) bool {
	rt, _, _ := find(svc, r)
	return rt != nil
}

// Decode binds in's members from the URI labels, query string, headers and body.
func (Codec) Decode(svc *awsapi.Service, op *awsapi.Operation, r *http.Request, in any) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = apierr.Serialization("The request could not be deserialized (%v).", p)
		}
	}()
	if err := decode(svc, op, r, in); err != nil {
		return err
	}
	return protocol.CheckRequired(svc, in)
}

// decode is Decode without its last-line recover, so fuzzing sees any panic.
func decode(svc *awsapi.Service, op *awsapi.Operation, r *http.Request, in any) error {
	rv := reflect.ValueOf(in)
	if rv.Kind() != reflect.Pointer || rv.IsNil() || rv.Elem().Kind() != reflect.Struct {
		return fmt.Errorf("restjson: Decode into %T", in)
	}
	v := rv.Elem()
	sh := awsapi.ShapeOf(v.Type())
	rt := routeOf(svc, op)
	labels, _ := rt.match(splitPath(r.URL.EscapedPath()), r.URL.Query())
	q := r.URL.Query()
	bound := map[string]bool{}
	for _, ql := range rt.query {
		bound[ql.key] = true
	}
	for i := range sh.Fields {
		f := &sh.Fields[i]
		if f.Location == "querystring" && f.Type.Kind() != reflect.Map {
			bound[f.WireName()] = true
		}
	}
	for i := range sh.Fields {
		f := &sh.Fields[i]
		fv := v.Field(f.Index)
		switch f.Location {
		case "uri":
			s, ok := labels[f.WireName()]
			if !ok {
				continue
			}
			if err := setString(fv, s, f, jsonrpc.FormatISO8601); err != nil {
				return err
			}
		case "querystring":
			if f.Type.Kind() == reflect.Map {
				if err := setQueryMap(fv, q, bound, f); err != nil {
					return err
				}
				continue
			}
			vs := q[f.WireName()]
			if len(vs) == 0 {
				continue
			}
			if err := setStrings(fv, vs, f, jsonrpc.FormatISO8601); err != nil {
				return err
			}
		case "header":
			vs := r.Header.Values(f.WireName())
			if len(vs) == 0 {
				continue
			}
			if f.Type.Kind() == reflect.Slice && f.Type != bytesType {
				vs = splitHeaderList(vs)
			} else {
				vs = vs[:1]
			}
			if err := setStrings(fv, vs, f, jsonrpc.FormatRFC822); err != nil {
				return err
			}
		case "headers":
			if err := setHeaderMap(fv, r.Header, f); err != nil {
				return err
			}
		}
	}
	if sh.Payload != "" {
		if pf := sh.Field(sh.Payload); pf != nil {
			return decodePayload(v.Field(pf.Index), pf, r)
		}
	}
	data, err := jsonrpc.ReadBody(r)
	if err != nil {
		return err
	}
	return jsonrpc.Unmarshal(data, in, bodyOpts)
}

func decodePayload(v reflect.Value, f *awsapi.Field, r *http.Request) error {
	if v.Type() == readerType {
		// A streaming payload is handed over unread: it may be larger than memory.
		body := io.Reader(http.NoBody)
		if r.Body != nil {
			body = r.Body
		}
		v.Set(reflect.ValueOf(body))
		return nil
	}
	data, err := jsonrpc.ReadBody(r)
	if err != nil {
		return err
	}
	switch {
	case v.Type() == bytesType:
		if len(data) > 0 {
			v.SetBytes(data)
		}
		return nil
	case v.Kind() == reflect.Pointer && v.Type().Elem().Kind() == reflect.String:
		if len(data) > 0 {
			s := string(data)
			v.Set(reflect.ValueOf(&s).Convert(v.Type()))
		}
		return nil
	}
	if len(strings.TrimSpace(string(data))) == 0 {
		return nil
	}
	// A structure or document payload is the whole JSON body.
	if v.Kind() == reflect.Pointer && v.Type().Elem().Kind() == reflect.Struct {
		p := reflect.New(v.Type().Elem())
		if err := jsonrpc.Unmarshal(data, p.Interface(), payloadOpt); err != nil {
			return err
		}
		v.Set(p)
		return nil
	}
	var doc struct {
		P any `aws:"P"`
	}
	wrapped := append(append([]byte(`{"P":`), data...), '}')
	if err := jsonrpc.Unmarshal(wrapped, &doc, payloadOpt); err != nil {
		return err
	}
	if doc.P != nil {
		v.Set(reflect.ValueOf(doc.P))
	}
	return nil
}

// splitHeaderList splits comma-separated header list values, honouring quoted
// items (which may hold commas). Lists of HTTP dates, whose items contain a comma
// themselves, are not supported; no model we serve has one.
func splitHeaderList(vs []string) []string {
	var out []string
	for _, v := range vs {
		for len(v) > 0 {
			v = strings.TrimLeft(v, " \t")
			var item string
			if strings.HasPrefix(v, `"`) {
				// A quoted item may hold commas; \" and \\ are its escapes.
				var b strings.Builder
				i := 1
				for ; i < len(v) && v[i] != '"'; i++ {
					if v[i] == '\\' && i+1 < len(v) {
						i++
					}
					b.WriteByte(v[i])
				}
				item = b.String()
				v = v[min(i+1, len(v)):]
				if j := strings.IndexByte(v, ','); j >= 0 {
					v = v[j+1:]
				} else {
					v = ""
				}
			} else if j := strings.IndexByte(v, ','); j >= 0 {
				item, v = strings.TrimSpace(v[:j]), v[j+1:]
			} else {
				item, v = strings.TrimSpace(v), ""
			}
			out = append(out, item)
		}
	}
	return out
}

func setQueryMap(v reflect.Value, q map[string][]string, bound map[string]bool, f *awsapi.Field) error {
	t := v.Type()
	if t.Key().Kind() != reflect.String {
		return fmt.Errorf("restjson: query map key %s", t.Key())
	}
	var m reflect.Value
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if bound[k] {
			continue // members bound by name take precedence over the map (restJson1 httpQueryParams)
		}
		ev := reflect.New(t.Elem()).Elem()
		if err := setStrings(ev, q[k], f, jsonrpc.FormatISO8601); err != nil {
			return err
		}
		if !m.IsValid() {
			m = reflect.MakeMap(t)
		}
		m.SetMapIndex(reflect.ValueOf(k).Convert(t.Key()), ev)
	}
	if m.IsValid() {
		v.Set(m)
	}
	return nil
}

func setHeaderMap(v reflect.Value, h http.Header, f *awsapi.Field) error {
	t := v.Type()
	if t.Kind() != reflect.Map || t.Key().Kind() != reflect.String {
		return fmt.Errorf("restjson: headers member %s is %s", f.Name, t)
	}
	prefix := strings.ToLower(f.LocationName)
	var m reflect.Value
	for k, vs := range h {
		lk := strings.ToLower(k)
		if !strings.HasPrefix(lk, prefix) || len(vs) == 0 {
			continue
		}
		ev := reflect.New(t.Elem()).Elem()
		if err := setStrings(ev, vs[:1], f, jsonrpc.FormatRFC822); err != nil {
			return err
		}
		if !m.IsValid() {
			m = reflect.MakeMap(t)
		}
		m.SetMapIndex(reflect.ValueOf(lk[len(prefix):]).Convert(t.Key()), ev)
	}
	if m.IsValid() {
		v.Set(m)
	}
	return nil
}

// setStrings sets v from one or more string values: a list takes them all, a
// scalar the first.
func setStrings(v reflect.Value, vs []string, f *awsapi.Field, defaultTS string) error {
	t := v.Type()
	if t.Kind() == reflect.Slice && t != bytesType {
		s := reflect.MakeSlice(t, len(vs), len(vs))
		for i, x := range vs {
			if err := setString(s.Index(i), x, f, defaultTS); err != nil {
				return err
			}
		}
		v.Set(s)
		return nil
	}
	return setString(v, vs[0], f, defaultTS)
}

// setString sets a scalar member bound outside the body from its text.
func setString(v reflect.Value, s string, f *awsapi.Field, defaultTS string) error {
	t := v.Type()
	bad := func(want string) error {
		return apierr.Serialization("Cannot deserialize %s: %q is not %s.", f.Name, truncate(s), want)
	}
	if t == timeType {
		tm, err := jsonrpc.ParseTime(s)
		if err != nil {
			return bad("a timestamp")
		}
		v.Set(reflect.ValueOf(tm))
		return nil
	}
	if t == bytesType {
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return bad("base64")
		}
		v.SetBytes(b)
		return nil
	}
	switch t.Kind() {
	case reflect.Pointer:
		p := reflect.New(t.Elem())
		if err := setString(p.Elem(), s, f, defaultTS); err != nil {
			return err
		}
		v.Set(p)
	case reflect.String:
		if f.JSONValue && f.Location == "header" {
			// jsonvalue headers carry their JSON base64-encoded.
			b, err := base64.StdEncoding.DecodeString(s)
			if err != nil {
				return bad("base64-encoded JSON")
			}
			s = string(b)
		}
		v.SetString(s)
	case reflect.Bool:
		switch s {
		case "true":
			v.SetBool(true)
		case "false":
			v.SetBool(false)
		default:
			return bad("a boolean")
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, err := strconv.ParseInt(s, 10, t.Bits())
		if err != nil {
			return bad("an integer")
		}
		v.SetInt(n)
	case reflect.Float32, reflect.Float64:
		var x float64
		switch s {
		case "NaN":
			x = math.NaN()
		case "Infinity":
			x = math.Inf(1)
		case "-Infinity":
			x = math.Inf(-1)
		default:
			var err error
			if x, err = strconv.ParseFloat(s, t.Bits()); err != nil {
				return bad("a number")
			}
		}
		v.SetFloat(x)
	case reflect.Interface:
		if t.NumMethod() == 0 {
			v.Set(reflect.ValueOf(s))
			return nil
		}
		return fmt.Errorf("restjson: cannot bind %s to %s", f.Name, t)
	default:
		return fmt.Errorf("restjson: cannot bind %s to %s", f.Name, t)
	}
	return nil
}

func truncate(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}

// Encode writes out: header members as headers, a statusCode member as the status
// (else the operation's success code), and the payload or remaining members as
// the body.
func (Codec) Encode(w http.ResponseWriter, r *http.Request, svc *awsapi.Service, op *awsapi.Operation, out any, requestID string) error {
	status := op.SuccessCode
	if status == 0 {
		status = http.StatusOK
	}
	h := w.Header()
	h.Set(jsonrpc.RequestIDHeader, requestID)
	rv := reflect.ValueOf(out)
	if out == nil || (rv.Kind() == reflect.Pointer && rv.IsNil()) {
		return writeJSON(w, status, []byte("{}"))
	}
	v := reflect.Indirect(rv)
	if v.Kind() != reflect.Struct {
		return fmt.Errorf("restjson: output %T is not a struct", out)
	}
	sh := awsapi.ShapeOf(v.Type())
	for i := range sh.Fields {
		f := &sh.Fields[i]
		fv := v.Field(f.Index)
		if isAbsent(fv) {
			continue
		}
		switch f.Location {
		case "header":
			h.Set(f.WireName(), headerValue(fv, f))
		case "headers":
			iter := fv.MapRange()
			for iter.Next() {
				h.Set(f.LocationName+iter.Key().String(), headerValue(iter.Value(), f))
			}
		case "statusCode":
			if n := reflect.Indirect(fv); n.CanInt() && n.Int() >= 100 && n.Int() <= 999 {
				status = int(n.Int())
			}
		}
	}
	if sh.Payload != "" {
		if pf := sh.Field(sh.Payload); pf != nil {
			return encodePayload(w, status, v.Field(pf.Index))
		}
	}
	body, err := jsonrpc.Marshal(out, bodyOpts)
	if err != nil {
		Codec{}.EncodeError(w, r, svc, apierr.Internal(), requestID)
		return fmt.Errorf("encode %s output: %w", op.Name, err)
	}
	return writeJSON(w, status, body)
}

func isAbsent(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Map, reflect.Interface:
		return v.IsNil()
	}
	return false
}

func bodyAllowed(status int) bool {
	return status != http.StatusNoContent && status != http.StatusNotModified && status >= 200
}

func writeJSON(w http.ResponseWriter, status int, body []byte) error {
	if !bodyAllowed(status) {
		w.WriteHeader(status)
		return nil
	}
	if w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", "application/json")
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, err := w.Write(body)
	return err
}

func encodePayload(w http.ResponseWriter, status int, v reflect.Value) error {
	h := w.Header()
	if isAbsent(v) {
		w.WriteHeader(status)
		return nil
	}
	switch {
	case v.Type() == readerType:
		rd := v.Interface().(io.Reader)
		if c, ok := rd.(io.Closer); ok {
			defer c.Close()
		}
		if h.Get("Content-Type") == "" {
			h.Set("Content-Type", "application/octet-stream")
		}
		w.WriteHeader(status)
		if !bodyAllowed(status) {
			return nil
		}
		_, err := io.Copy(w, rd)
		return err
	case v.Type() == bytesType:
		if h.Get("Content-Type") == "" {
			h.Set("Content-Type", "application/octet-stream")
		}
		h.Set("Content-Length", strconv.Itoa(v.Len()))
		w.WriteHeader(status)
		if !bodyAllowed(status) {
			return nil
		}
		_, err := w.Write(v.Bytes())
		return err
	case v.Kind() == reflect.Pointer && v.Type().Elem().Kind() == reflect.String:
		s := v.Elem().String()
		if h.Get("Content-Type") == "" {
			h.Set("Content-Type", "text/plain")
		}
		h.Set("Content-Length", strconv.Itoa(len(s)))
		w.WriteHeader(status)
		if !bodyAllowed(status) {
			return nil
		}
		_, err := io.WriteString(w, s)
		return err
	}
	body, err := jsonrpc.Marshal(v.Interface(), payloadOpt)
	if err != nil {
		return err
	}
	return writeJSON(w, status, body)
}

// headerValue renders a header member: timestamps as HTTP dates unless the model
// says otherwise, blobs and jsonvalue strings base64-encoded, lists comma-joined.
func headerValue(v reflect.Value, f *awsapi.Field) string {
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			return ""
		}
		v = v.Elem()
	}
	if v.Type() == timeType {
		format := f.TimestampFormat
		if format == "" {
			format = jsonrpc.FormatRFC822
		}
		return jsonrpc.FormatTime(v.Interface().(time.Time), format)
	}
	switch v.Kind() {
	case reflect.Slice:
		if v.Type() == bytesType {
			return base64.StdEncoding.EncodeToString(v.Bytes())
		}
		parts := make([]string, v.Len())
		for i := range parts {
			p := headerValue(v.Index(i), f)
			if strings.ContainsAny(p, `,"`) {
				p = strconv.Quote(p)
			}
			parts[i] = p
		}
		return strings.Join(parts, ", ")
	case reflect.String:
		if f.JSONValue {
			return base64.StdEncoding.EncodeToString([]byte(v.String()))
		}
		return v.String()
	case reflect.Bool:
		return strconv.FormatBool(v.Bool())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.FormatInt(v.Int(), 10)
	case reflect.Float32, reflect.Float64:
		x := v.Float()
		switch {
		case math.IsNaN(x):
			return "NaN"
		case math.IsInf(x, 1):
			return "Infinity"
		case math.IsInf(x, -1):
			return "-Infinity"
		}
		return strconv.FormatFloat(x, 'g', -1, v.Type().Bits())
	}
	return fmt.Sprint(v.Interface())
}

// EncodeError writes e as restJson does: the type in x-amzn-ErrorType and a JSON
// body with the message under the model's key and the shape's other members.
func (Codec) EncodeError(w http.ResponseWriter, r *http.Request, svc *awsapi.Service, e *apierr.Error, requestID string) {
	info := jsonrpc.ResolveError(svc, e)
	body := jsonrpc.ErrorBody(info, e, false)
	h := w.Header()
	for k, vs := range e.Header {
		h[k] = vs
	}
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set(jsonrpc.RequestIDHeader, requestID)
	h.Set("X-Amzn-ErrorType", info.Name)
	w.WriteHeader(info.Status)
	_, _ = w.Write(body)
}
