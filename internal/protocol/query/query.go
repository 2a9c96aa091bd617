// Package query implements the awsQuery protocol (STS, IAM, SNS, CloudWatch, and
// SQS as older SDKs and the aws CLI v1 call it): parameters as a form or URL query
// selecting an operation with Action, responses and errors as XML.
package query

import (
	"bytes"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/wharf-dev/wharf/internal/apierr"
	"github.com/wharf-dev/wharf/internal/awsapi"
	"github.com/wharf-dev/wharf/internal/protocol"
	"github.com/wharf-dev/wharf/internal/protocol/restxml/xmlshape"
)

var timeZero time.Time

// maxForm bounds a form body. SQS's largest request (a 1 MiB message, form-encoded)
// fits well within it.
const maxForm = 16 << 20

// Codec is the awsQuery codec. The zero value is ready to use.
type Codec struct{}

// Operation returns the operation named by the Action parameter.
func (Codec) Operation(svc *awsapi.Service, r *http.Request) (*awsapi.Operation, error) {
	p, err := requestParams(r)
	if err != nil {
		return nil, err
	}
	action := p.get("Action")
	if action == "" {
		return nil, &apierr.Error{Code: "MissingAction", Status: 400, Message: "Missing Action"}
	}
	op, ok := svc.Operations()[action]
	if !ok {
		return nil, &apierr.Error{Code: "InvalidAction", Status: 400,
			Message: "Could not find operation " + action + " for version " + p.get("Version")}
	}
	return op, nil
}

// Decode fills in from the request's parameters.
func (Codec) Decode(svc *awsapi.Service, op *awsapi.Operation, r *http.Request, in any) error {
	p, err := requestParams(r)
	if err != nil {
		return err
	}
	v := reflect.ValueOf(in)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return apierr.Internal()
	}
	if err := checkUTF8(svc, p); err != nil {
		return err
	}
	d := &decoder{p: p, opts: decodeOptions, hi: len(p.list)}
	if err := d.decodeStruct(make([]byte, 0, 128), v.Elem()); err != nil {
		return err
	}
	return protocol.CheckRequired(svc, in)
}

// decodeOptions are the options values are read with; SetScalar only
// reads them.
var decodeOptions = options()

// checkUTF8 refuses a parameter that is not valid UTF-8 (percent-encoded bytes
// such as %FF), which a service would otherwise store and later write into
// its XML responses. Each service answers in the words it uses for a bad
// parameter value; SQS is left to check its own parameters, since it reports
// invalid characters in a message as InvalidMessageContents (SendMessage docs).
func checkUTF8(svc *awsapi.Service, p *params) error {
	if svc != nil && svc.Quirks.OwnUTF8Check || !p.hasInvalid {
		return nil
	}
	k := strings.ToValidUTF8(p.invalid, "\uFFFD")
	id := ""
	if svc != nil {
		id = svc.ID
	}
	switch id {
	case "sns":
		return &apierr.Error{Code: "InvalidParameter", Status: 400, Message: "Invalid parameter: " + k + " is not valid UTF-8"}
	case "cloudwatch":
		return &apierr.Error{Code: "InvalidParameterValueException", Status: 400, Message: "The value for parameter " + k + " is not valid UTF-8."}
	}
	return &apierr.Error{Code: "InvalidParameterValue", Status: 400, Message: "The value for parameter " + k + " is not valid UTF-8."}
}

func options() *xmlshape.Options { return &xmlshape.Options{TimeLayout: timeLayout} }

// timeLayout is how query services write timestamps: IAM, STS and CloudWatch send
// whole seconds ("2019-11-09T13:34:41Z"), with milliseconds only when they exist.
const timeLayout = "2006-01-02T15:04:05.999Z"

func namespace(svc *awsapi.Service) string {
	if svc == nil {
		return ""
	}
	return svc.XMLNamespace
}

// Encode writes <OpResponse><OpResult>…</OpResult><ResponseMetadata>…</OpResponse>.
func (Codec) Encode(w http.ResponseWriter, r *http.Request, svc *awsapi.Service, op *awsapi.Operation, out any, requestID string) error {
	buf := getBuffer()
	defer putBuffer(buf)
	buf.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n<")
	buf.WriteString(op.Name)
	buf.WriteString("Response")
	buf.WriteString(namespaceAttr(svc))
	buf.WriteByte('>')
	v := reflect.ValueOf(out)
	if out != nil && !(v.Kind() == reflect.Pointer && v.IsNil()) {
		// Models that are not query models (SQS's JSON model) carry no
		// resultWrapper; AWS's query responses use OpResult.
		wrapper, suffix := op.ResultWrapper, ""
		if wrapper == "" {
			wrapper, suffix = op.Name, "Result"
		}
		// Write the wrapper, then the members; take the wrapper back out
		// if there were none and the model names no wrapper.
		mark := buf.Len()
		buf.WriteByte('<')
		buf.WriteString(wrapper)
		buf.WriteString(suffix)
		buf.WriteByte('>')
		body := buf.Len()
		encodeOptions.WriteMembers(buf, v)
		if buf.Len() > body || op.ResultWrapper != "" {
			buf.WriteString("</")
			buf.WriteString(wrapper)
			buf.WriteString(suffix)
			buf.WriteByte('>')
		} else {
			buf.Truncate(mark)
		}
	}
	buf.WriteString("<ResponseMetadata><RequestId>")
	xmlshape.Escape(buf, requestID)
	buf.WriteString("</RequestId></ResponseMetadata></")
	buf.WriteString(op.Name)
	buf.WriteString("Response>")
	h := w.Header()
	// Canonical keys set directly: Header.Set would canonicalise (and
	// allocate) x-amzn-RequestId on every response.
	h["Content-Type"] = textXML
	// Both values in one allocation.
	vals := [...]string{strconv.Itoa(buf.Len()), requestID}
	hv := vals[:]
	h["Content-Length"] = hv[0:1:1]
	h["X-Amzn-Requestid"] = hv[1:2:2]
	w.WriteHeader(http.StatusOK)
	_, err := w.Write(buf.Bytes())
	return err
}

// namespaceAttrs holds each service's xmlns attribute by namespace, so a
// response does not build it again.
var namespaceAttrs sync.Map // string → string

// namespaceAttr is the xmlns attribute of svc's responses, "" for none.
func namespaceAttr(svc *awsapi.Service) string {
	ns := namespace(svc)
	if ns == "" {
		return ""
	}
	if a, ok := namespaceAttrs.Load(ns); ok {
		return a.(string)
	}
	a := xmlshape.NamespaceAttr("", ns)
	namespaceAttrs.Store(ns, a)
	return a
}

// textXML is every response's Content-Type; net/http only reads it.
var textXML = []string{"text/xml"}

// encodeOptions are the options responses are written with; WriteMembers
// only reads them.
var encodeOptions = options()

// buffers holds response buffers between requests: a response is built
// whole (its Content-Length goes first), and a fresh buffer per request
// was a good part of what encoding cost.
var buffers sync.Pool

func getBuffer() *bytes.Buffer {
	if b, ok := buffers.Get().(*bytes.Buffer); ok {
		return b
	}
	return new(bytes.Buffer)
}

// putBuffer returns b to the pool unless it grew large (a big
// ReceiveMessage), which would keep that memory alive for small responses.
func putBuffer(b *bytes.Buffer) {
	if b.Cap() > 64<<10 {
		return
	}
	b.Reset()
	buffers.Put(b)
}

// queryCodes are the query protocol's names for the common errors apierr names
// after the JSON protocols ("Common Errors" of IAM, STS, SNS).
var queryCodes = map[string]string{
	"ValidationException":       "ValidationError",
	"AccessDeniedException":     "AccessDenied",
	"UnknownOperationException": "InvalidAction",
	"SerializationException":    "MalformedQueryString",
	"ThrottlingException":       "Throttling",
}

// EncodeError writes <ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/></ErrorResponse>.
func (Codec) EncodeError(w http.ResponseWriter, r *http.Request, svc *awsapi.Service, e *apierr.Error, requestID string) {
	res := protocol.Resolve(svc, e)
	code := res.Code
	if q, ok := queryCodes[code]; ok {
		code = q
	}
	var buf bytes.Buffer
	buf.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	buf.WriteString("<ErrorResponse" + xmlshape.NamespaceAttr("", namespace(svc)) + "><Error><Type>" + res.Fault() + "</Type><Code>")
	xmlshape.Escape(&buf, code)
	buf.WriteString("</Code>")
	if e.Message != "" {
		buf.WriteString("<Message>")
		xmlshape.Escape(&buf, e.Message)
		buf.WriteString("</Message>")
	}
	options().WriteFields(&buf, e.Fields)
	buf.WriteString("</Error><RequestId>")
	xmlshape.Escape(&buf, requestID)
	buf.WriteString("</RequestId></ErrorResponse>")
	h := w.Header()
	for k, vs := range e.Header {
		h[k] = vs
	}
	h.Set("Content-Type", "text/xml")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	h.Set("x-amzn-RequestId", requestID)
	w.WriteHeader(res.Status)
	if r == nil || r.Method != http.MethodHead {
		_, _ = w.Write(buf.Bytes())
	}
}
