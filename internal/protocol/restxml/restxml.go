// Package restxml implements the rest-xml protocol (S3): operations chosen by
// method and URI template, members bound to the URI, query string, headers and an
// XML or raw body, responses and errors in S3's XML.
package restxml

import (
	"bytes"
	"encoding/base64"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/wharf-dev/wharf/internal/apierr"
	"github.com/wharf-dev/wharf/internal/awsapi"
	"github.com/wharf-dev/wharf/internal/protocol"
	"github.com/wharf-dev/wharf/internal/protocol/restxml/xmlshape"
)

// S3Namespace is the namespace S3 puts on its response documents' root element.
const S3Namespace = "http://s3.amazonaws.com/doc/2006-03-01/"

// maxXMLBody bounds an XML request body; S3's largest (DeleteObjects with 1000 keys
// of 1024 bytes, or a lifecycle configuration) is far smaller.
const maxXMLBody = 8 << 20

// Codec is the rest-xml codec. The zero value is ready to use.
type Codec struct{}

var opts = &xmlshape.Options{TimeLayout: "2006-01-02T15:04:05.000Z"}

var (
	bytesType  = reflect.TypeOf([]byte(nil))
	readerType = reflect.TypeOf((*io.Reader)(nil)).Elem()
)

// Operation matches r against the service's URI templates.
func (Codec) Operation(svc *awsapi.Service, r *http.Request) (*awsapi.Operation, error) {
	if svc != nil && svc.Quirks.PostObject && isPostUpload(r) {
		if err := rewritePost(r); err != nil {
			return nil, err
		}
	}
	rt, err := find(svc, r)
	if err != nil {
		return nil, err
	}
	return rt.op, nil
}

func malformedXML() *apierr.Error {
	return &apierr.Error{Code: "MalformedXML", Status: 400,
		Message: "The XML you provided was not well-formed or did not validate against our published schema"}
}

func invalidArgument(msg, name, value string) *apierr.Error {
	return &apierr.Error{Code: "InvalidArgument", Status: 400, Message: msg,
		Fields: map[string]any{"ArgumentName": name, "ArgumentValue": value}}
}

// Decode fills in from r's URI labels, query, headers and body.
func (Codec) Decode(svc *awsapi.Service, op *awsapi.Operation, r *http.Request, in any) error {
	v := reflect.ValueOf(in)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return apierr.Internal()
	}
	v = v.Elem()
	rt := routeOf(svc, op)
	labels, _ := rt.match(r.URL.EscapedPath()) // nil when it does not match: no labels
	var q url.Values
	if r.URL.RawQuery != "" {
		q = r.URL.Query()
	}
	shape := awsapi.ShapeOf(v.Type())
	keys := headerKeysOf(shape)
	bound := rt.bound
	hasBody := false
	for i := range shape.Fields {
		f := &shape.Fields[i]
		fv := v.Field(f.Index)
		var err error
		switch f.Location {
		case "uri":
			if s, ok := labels[f.WireName()]; ok {
				err = setText(f, fv, s, "iso8601", "uri")
			}
		case "querystring":
			err = decodeQuery(f, fv, q, bound)
		case "header":
			// r.Header.Values(f.WireName()), without canonicalising the
			// name again on every request.
			if vals := r.Header[keys[i]]; len(vals) > 0 {
				err = decodeHeader(f, fv, vals)
			}
		case "headers":
			_, post := postUploads.Load(r)
			err = decodePrefixHeaders(f, fv, r.Header, post)
		case "statusCode":
		default:
			hasBody = true
		}
		if err != nil {
			return err
		}
	}
	if shape.Payload != "" {
		f := shape.Field(shape.Payload)
		if f == nil {
			return nil
		}
		return decodePayload(f, v.Field(f.Index), r)
	}
	if !hasBody || r.Body == nil {
		return nil
	}
	root, empty, err := parseBody(r)
	if err != nil || empty {
		return err
	}
	return fill(root, v)
}

func parseBody(r *http.Request) (*xmlshape.Node, bool, error) {
	br := &peekReader{r: io.LimitReader(r.Body, maxXMLBody)}
	if br.empty() {
		// A body that failed to arrive (cut short, timed out) is its own
		// error, never an absent body.
		if e := apierr.As(br.err); e != nil {
			return nil, false, e
		}
		return nil, true, nil
	}
	root, err := xmlshape.Parse(br)
	if e := apierr.As(br.err); e != nil {
		return nil, false, e
	}
	if err != nil {
		return nil, false, malformedXML()
	}
	return root, false, nil
}

// peekReader lets the decoder tell an absent body (no payload) from a malformed one.
type peekReader struct {
	r   io.Reader
	buf []byte
	err error // the first error other than io.EOF from r
}

func (p *peekReader) empty() bool {
	b := make([]byte, 512)
	for {
		n, err := p.r.Read(b)
		if n > 0 {
			p.buf = append(p.buf, b[:n]...)
			if strings.TrimSpace(string(p.buf)) != "" {
				return false
			}
		}
		if err != nil {
			if err != io.EOF {
				p.err = err
			}
			return true
		}
	}
}

func (p *peekReader) Read(b []byte) (int, error) {
	if len(p.buf) > 0 {
		n := copy(b, p.buf)
		p.buf = p.buf[n:]
		return n, nil
	}
	n, err := p.r.Read(b)
	if err != nil && err != io.EOF && p.err == nil {
		p.err = err
	}
	return n, err
}

// fill sets v from the body's XML. A body that does not fit the shape (a value
// of the wrong type included) is MalformedXML to S3, like one that does not parse.
func fill(root *xmlshape.Node, v reflect.Value) error {
	if err := opts.Fill(root, v); err != nil {
		return malformedXML()
	}
	return nil
}

func decodePayload(f *awsapi.Field, v reflect.Value, r *http.Request) error {
	t := v.Type()
	switch {
	case t == readerType || t.Kind() == reflect.Interface && reflect.TypeOf(r.Body) != nil && reflect.TypeOf(r.Body).Implements(t):
		// Streaming bodies are handed over unread: objects must not be buffered.
		if r.Body != nil {
			v.Set(reflect.ValueOf(r.Body))
		} else {
			v.Set(reflect.ValueOf(io.Reader(http.NoBody)))
		}
		return nil
	case t == bytesType:
		if r.Body == nil {
			return nil
		}
		b, err := io.ReadAll(io.LimitReader(r.Body, maxXMLBody+1))
		if e := apierr.As(err); e != nil {
			return e
		}
		if err != nil || len(b) > maxXMLBody {
			return &apierr.Error{Code: "IncompleteBody", Status: 400, Message: "The request body could not be read."}
		}
		v.SetBytes(b)
		return nil
	case t.Kind() == reflect.Pointer && t.Elem().Kind() == reflect.String, t.Kind() == reflect.String:
		if r.Body == nil {
			return nil
		}
		b, err := io.ReadAll(io.LimitReader(r.Body, maxXMLBody+1))
		if e := apierr.As(err); e != nil {
			return e
		}
		if err != nil || len(b) > maxXMLBody {
			return &apierr.Error{Code: "IncompleteBody", Status: 400, Message: "The request body could not be read."}
		}
		if len(b) == 0 {
			return nil
		}
		return setText(f, v, string(b), "iso8601", "body")
	}
	if r.Body == nil {
		return nil
	}
	root, empty, err := parseBody(r)
	if err != nil || empty {
		return err
	}
	return fill(root, v)
}

func setText(f *awsapi.Field, v reflect.Value, text, defaultTime, where string) error {
	if f.JSONValue && where == "header" {
		b, err := base64.StdEncoding.DecodeString(text)
		if err != nil {
			return invalidArgument("Header "+f.WireName()+" is not valid base64-encoded JSON.", f.WireName(), text)
		}
		text = string(b)
	}
	err := opts.SetScalar(f, v, text, defaultTime)
	if err != nil {
		return invalidArgument(err.Error(), f.WireName(), text)
	}
	return nil
}

func decodeQuery(f *awsapi.Field, v reflect.Value, q map[string][]string, bound map[string]bool) error {
	t := v.Type()
	if t.Kind() == reflect.Map {
		// A querystring map takes every parameter no other member binds.
		m := reflect.MakeMap(t)
		for k, vals := range q {
			if bound[k] || len(vals) == 0 {
				continue
			}
			if t.Elem().Kind() == reflect.Slice {
				m.SetMapIndex(reflect.ValueOf(k), reflect.ValueOf(vals))
			} else if t.Elem().Kind() == reflect.String {
				m.SetMapIndex(reflect.ValueOf(k), reflect.ValueOf(vals[0]))
			}
		}
		if m.Len() > 0 && t.Key().Kind() == reflect.String {
			v.Set(m)
		}
		return nil
	}
	vals, ok := q[f.WireName()]
	if !ok || len(vals) == 0 {
		return nil
	}
	if t.Kind() == reflect.Slice && t != bytesType {
		s := reflect.MakeSlice(t, len(vals), len(vals))
		for i, x := range vals {
			if err := setText(f, s.Index(i), x, "iso8601", "query"); err != nil {
				return err
			}
		}
		v.Set(s)
		return nil
	}
	return setText(f, v, vals[0], "iso8601", "query")
}

func decodeHeader(f *awsapi.Field, v reflect.Value, vals []string) error {
	t := v.Type()
	if t.Kind() == reflect.Slice && t != bytesType {
		var parts []string
		for _, x := range vals {
			for _, p := range strings.Split(x, ",") {
				if p = strings.TrimSpace(p); p != "" {
					parts = append(parts, p)
				}
			}
		}
		s := reflect.MakeSlice(t, len(parts), len(parts))
		for i, p := range parts {
			if err := setText(f, s.Index(i), p, "rfc822", "header"); err != nil {
				return err
			}
		}
		v.Set(s)
		return nil
	}
	return setText(f, v, strings.Join(vals, ","), "rfc822", "header")
}

// decodePrefixHeaders reads a map of prefixed headers (S3's x-amz-meta-*).
// isUTF8 says the values are UTF-8 already (a browser POST upload's form
// fields); header values are read as S3 reads them (metadataValue).
func decodePrefixHeaders(f *awsapi.Field, v reflect.Value, h http.Header, isUTF8 bool) error {
	t := v.Type()
	if t.Kind() != reflect.Map || t.Key().Kind() != reflect.String || t.Elem().Kind() != reflect.String {
		return nil
	}
	prefix := strings.ToLower(f.LocationName)
	m := reflect.MakeMap(t)
	for k, vals := range h {
		if len(vals) == 0 || !mayHavePrefix(k, prefix) {
			continue
		}
		lk := strings.ToLower(k)
		if !strings.HasPrefix(lk, prefix) {
			continue
		}
		// S3 stores user metadata names in lower case (UsingMetadata docs).
		val := strings.Join(vals, ",")
		if !isUTF8 {
			val = metadataValue(val)
		}
		m.SetMapIndex(reflect.ValueOf(lk[len(prefix):]).Convert(t.Key()), reflect.ValueOf(val).Convert(t.Elem()))
	}
	if m.Len() > 0 {
		v.Set(m)
	}
	return nil
}

// mayHavePrefix is a cheap test that strings.ToLower(k) may start with the
// lower-case ASCII prefix: every header of every request is looked at, and
// lowering each name allocated. It answers false only when k's first
// len(prefix) bytes are ASCII and differ from prefix in more than case, where
// the lowered name cannot have the prefix either.
func mayHavePrefix(k, prefix string) bool {
	if len(k) < len(prefix) {
		// Lowering keeps an ASCII name's length; a shorter name with
		// other bytes is left to strings.ToLower.
		for i := 0; i < len(k); i++ {
			if k[i] >= utf8.RuneSelf {
				return true
			}
		}
		return false
	}
	for i := 0; i < len(prefix); i++ {
		c := k[i]
		if c >= utf8.RuneSelf {
			return true
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != prefix[i] {
			return false
		}
	}
	return true
}

// headerKeys holds, by shape, each header-bound member's canonical header
// name (at its field's position; "" for other members).
var headerKeys sync.Map // *awsapi.Shape → []string

func headerKeysOf(shape *awsapi.Shape) []string {
	if k, ok := headerKeys.Load(shape); ok {
		return k.([]string)
	}
	keys := make([]string, len(shape.Fields))
	for i := range shape.Fields {
		if f := &shape.Fields[i]; f.Location == "header" {
			keys[i] = http.CanonicalHeaderKey(f.WireName())
		}
	}
	actual, _ := headerKeys.LoadOrStore(shape, keys)
	return actual.([]string)
}

// metadataValue is the Unicode string S3 stores for a user metadata header
// value: a value of US-ASCII only is kept as it is, and any other is read as
// ISO-8859-1, one character per byte, as HTTP header bytes are. The
// UsingMetadata docs' example shows it: "ÄMÄZÕÑ S3" sent as UTF-8 is returned
// as =?UTF-8?B?w4PChE3Dg8KEWsODwpXDg8KRIFMz?=, the UTF-8 of each byte read as
// a character ("Ã", U+0084, ...).
func metadataValue(s string) string {
	i := 0
	for i < len(s) && s[i] < 0x80 {
		i++
	}
	if i == len(s) {
		return s
	}
	b := make([]byte, 0, len(s)+len(s)-i)
	b = append(b, s[:i]...)
	for ; i < len(s); i++ {
		b = utf8.AppendRune(b, rune(s[i]))
	}
	return string(b)
}

// mailSafe is how S3 returns a user metadata value: as it is when it is
// US-ASCII, otherwise its UTF-8 as one RFC 2047 encoded-word
// (=?UTF-8?B?...?=), "to make them mail-safe before returning"
// (UsingMetadata docs).
func mailSafe(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return "=?UTF-8?B?" + base64.StdEncoding.EncodeToString([]byte(s)) + "?="
		}
	}
	return s
}

// noContent are the operations S3 answers with 204 although their model gives
// no status (PutBucketPolicy and PutBucketTagging docs: "HTTP/1.1 204 No
// Content").
var noContent = map[string]int{"PutBucketPolicy": http.StatusNoContent, "PutBucketTagging": http.StatusNoContent}

// Encode writes out's headers, status and body.
func (Codec) Encode(w http.ResponseWriter, r *http.Request, svc *awsapi.Service, op *awsapi.Operation, out any, requestID string) error {
	h := w.Header()
	setRequestID(h, requestID)
	status := op.SuccessCode
	if status == 0 {
		status = noContent[op.Name]
	}
	if status == 0 {
		status = http.StatusOK
	}
	v := reflect.ValueOf(out)
	if out == nil || v.Kind() == reflect.Pointer && v.IsNil() {
		w.WriteHeader(status)
		return nil
	}
	v = reflect.Indirect(v)
	shape := awsapi.ShapeOf(v.Type())
	keys := headerKeysOf(shape)
	hasBody := false
	for i := range shape.Fields {
		f := &shape.Fields[i]
		fv := v.Field(f.Index)
		switch f.Location {
		case "header":
			encodeHeader(h, keys[i], f, fv)
		case "headers":
			if fv.Kind() == reflect.Map {
				for _, k := range fv.MapKeys() {
					// S3 sends user metadata names in lower case, and botocore
					// hands them to users as sent: keep them out of Go's
					// canonical Header-Case.
					h[strings.ToLower(f.LocationName+k.String())] = []string{mailSafe(fmtValue(fv.MapIndex(k)))}
				}
			}
		case "statusCode":
			if fv.Kind() == reflect.Pointer && !fv.IsNil() {
				fv = fv.Elem()
			}
			if fv.CanInt() && fv.Int() >= 100 && fv.Int() <= 999 {
				status = int(fv.Int())
			}
		case "":
			if f.Name != shape.Payload {
				hasBody = true
			}
		}
	}
	if up, ok := postUploads.LoadAndDelete(r); ok {
		writePostAnswer(w, r, up.(*postUpload))
		return nil
	}
	// A ranged GetObject or HeadObject answers 206 Partial Content; the model
	// does not say so (GetObject docs: "Range"; HeadObject docs: "Range").
	if (op.Name == "GetObject" || op.Name == "HeadObject") && status == http.StatusOK && h.Get("Content-Range") != "" {
		status = http.StatusPartialContent
	}
	head := r != nil && r.Method == http.MethodHead
	if shape.Payload != "" {
		f := shape.Field(shape.Payload)
		if f != nil {
			return writePayload(w, h, f, v.Field(f.Index), status, head)
		}
	}
	if !hasBody {
		// HeadBucket has no body, yet S3 types its answer as XML.
		if op.Name == "HeadBucket" {
			h.Set("Content-Type", "application/xml")
		}
		w.WriteHeader(status)
		return nil
	}
	var buf bytes.Buffer
	name := shape.XMLName
	if name == "" {
		name = op.Name + "Result"
	}
	buf.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	if member, ok := textRoots[op.Name]; ok {
		if f := shape.Field(member); f != nil {
			text, _ := opts.Scalar(f, v.Field(f.Index), "iso8601")
			buf.WriteString("<" + name + xmlshape.NamespaceAttr("", namespace(shape.XMLNamespace, svc)) + ">")
			xmlshape.Escape(&buf, text)
			buf.WriteString("</" + name + ">")
			return writeXML(w, h, status, buf.Bytes(), head)
		}
	}
	opts.WriteElement(&buf, name, xmlshape.NamespaceAttr(shape.XMLPrefix, namespace(shape.XMLNamespace, svc)), xmlshape.ElemField(v.Type()), v)
	return writeXML(w, h, status, buf.Bytes(), head)
}

func namespace(ns string, svc *awsapi.Service) string {
	if ns != "" {
		return ns
	}
	if svc != nil && svc.XMLNamespace != "" {
		return svc.XMLNamespace
	}
	return S3Namespace
}

func writeXML(w http.ResponseWriter, h http.Header, status int, body []byte, head bool) error {
	h.Set("Content-Type", "application/xml")
	if head {
		w.WriteHeader(status)
		return nil
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, err := w.Write(body)
	return err
}

func writePayload(w http.ResponseWriter, h http.Header, f *awsapi.Field, v reflect.Value, status int, head bool) error {
	if v.Kind() == reflect.Interface {
		if v.IsNil() {
			w.WriteHeader(status)
			return nil
		}
		rd, ok := v.Interface().(io.Reader)
		if !ok {
			w.WriteHeader(status)
			return nil
		}
		if c, ok := rd.(io.Closer); ok {
			defer c.Close()
		}
		w.WriteHeader(status)
		if head {
			return nil
		}
		_, err := io.Copy(w, rd)
		return err
	}
	if v.Type() == bytesType {
		w.WriteHeader(status)
		if head {
			return nil
		}
		_, err := w.Write(v.Bytes())
		return err
	}
	if v.Kind() == reflect.Pointer && v.IsNil() {
		w.WriteHeader(status)
		return nil
	}
	ev := reflect.Indirect(v)
	if ev.Kind() != reflect.Struct {
		// A string payload (GetBucketPolicy's Policy) is the body itself.
		text, _ := opts.Scalar(f, v, "iso8601")
		w.WriteHeader(status)
		if head {
			return nil
		}
		_, err := io.WriteString(w, text)
		return err
	}
	ps := awsapi.ShapeOf(ev.Type())
	name := ps.XMLName
	if name == "" || f.LocationName != "" {
		name = f.WireName()
	}
	ns := f.XMLNamespace
	prefix := f.XMLPrefix
	if ns == "" {
		ns, prefix = namespace(ps.XMLNamespace, nil), ps.XMLPrefix
	}
	var buf bytes.Buffer
	buf.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	opts.WriteElement(&buf, name, xmlshape.NamespaceAttr(prefix, ns), xmlshape.ElemField(ev.Type()), ev)
	return writeXML(w, h, status, buf.Bytes(), head)
}

// encodeHeader sets the header named key (f's wire name, canonical) to v.
// Assigning the canonical key is what h.Set does, without canonicalising
// the name on every response.
func encodeHeader(h http.Header, key string, f *awsapi.Field, v reflect.Value) {
	if v.Kind() == reflect.Slice && v.Type() != bytesType {
		if v.Len() == 0 {
			return
		}
		parts := make([]string, v.Len())
		for i := range parts {
			parts[i], _ = opts.Scalar(f, v.Index(i), "rfc822")
		}
		h[key] = []string{strings.Join(parts, ",")}
		return
	}
	text, ok := opts.Scalar(f, v, "rfc822")
	if !ok {
		return
	}
	if f.JSONValue {
		text = base64.StdEncoding.EncodeToString([]byte(text))
	}
	h[key] = []string{text}
}

func fmtValue(v reflect.Value) string {
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			return ""
		}
		v = v.Elem()
	}
	if v.Kind() == reflect.String {
		return v.String()
	}
	return ""
}

func setRequestID(h http.Header, requestID string) {
	// The canonical names, as h.Set would make them.
	h["X-Amz-Request-Id"] = []string{requestID}
	// S3 sends an opaque extended request id beside the request id; SDKs surface
	// it as HostId. It is derived from the request id so that logs can join them.
	h["X-Amz-Id-2"] = []string{hostID(requestID)}
}

func hostID(requestID string) string {
	return base64.StdEncoding.EncodeToString([]byte("wharf/" + requestID))
}

// EncodeError writes <Error><Code/><Message/>(Fields)<RequestId/><HostId/></Error>,
// or for a service with WrappedXMLErrors (S3 Control)
// <ErrorResponse><Error><Code/><Message/></Error><RequestId/><HostId/></ErrorResponse>.
func (Codec) EncodeError(w http.ResponseWriter, r *http.Request, svc *awsapi.Service, e *apierr.Error, requestID string) {
	postUploads.Delete(r)
	res := protocol.Resolve(svc, e)
	code, status := res.Code, res.Status
	h := w.Header()
	for k, vs := range e.Header {
		h[k] = vs
	}
	setRequestID(h, requestID)
	wrapped := svc != nil && svc.Quirks.WrappedXMLErrors
	var buf bytes.Buffer
	buf.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	if wrapped {
		buf.WriteString("<ErrorResponse>")
	}
	buf.WriteString("<Error><Code>")
	xmlshape.Escape(&buf, code)
	buf.WriteString("</Code>")
	if e.Message != "" {
		buf.WriteString("<Message>")
		xmlshape.Escape(&buf, e.Message)
		buf.WriteString("</Message>")
	}
	opts.WriteFields(&buf, e.Fields)
	if wrapped {
		buf.WriteString("</Error>")
	}
	buf.WriteString("<RequestId>")
	xmlshape.Escape(&buf, requestID)
	buf.WriteString("</RequestId><HostId>")
	xmlshape.Escape(&buf, hostID(requestID))
	buf.WriteString("</HostId>")
	if wrapped {
		buf.WriteString("</ErrorResponse>")
	} else {
		buf.WriteString("</Error>")
	}
	// HEAD responses carry no body, so S3 clients read the error from the status.
	_ = writeXML(w, h, status, buf.Bytes(), r != nil && r.Method == http.MethodHead)
}
