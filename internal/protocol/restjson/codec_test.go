package restjson_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/wharf-dev/wharf/internal/apierr"
	"github.com/wharf-dev/wharf/internal/awsapi"
	"github.com/wharf-dev/wharf/internal/protocol/restjson"
)

// Hand-written shapes with the generator's tags, covering every binding.
type getObjectInput struct {
	Bucket   *string           `aws:"Bucket" location:"uri" locationName:"Bucket"`
	Key      *string           `aws:"Key" location:"uri" locationName:"Key"`
	Since    *time.Time        `aws:"Since" location:"header" locationName:"If-Modified-Since"`
	Policy   *string           `aws:"Policy" location:"header" locationName:"x-policy" jsonvalue:"true"`
	Meta     map[string]string `aws:"Meta" location:"headers" locationName:"x-meta-"`
	Tags     []string          `aws:"Tags" location:"querystring" locationName:"tag"`
	Limit    *int32            `aws:"Limit" location:"querystring" locationName:"limit"`
	Extra    map[string]string `aws:"Extra" location:"querystring"`
	Flags    []string          `aws:"Flags" location:"header" locationName:"x-flags"`
	Verbose  *bool             `aws:"Verbose" location:"querystring" locationName:"verbose"`
	Note     *string           `aws:"Note" jsonName:"note"`
	Document any               `aws:"Document"`
}

type putBlobInput struct {
	_    struct{}  `payload:"Body"`
	Name *string   `aws:"Name" location:"uri" locationName:"Name"`
	Body io.Reader `aws:"Body" streaming:"true"`
}

type putConfigInput struct {
	_      struct{} `payload:"Config"`
	Name   *string  `aws:"Name" location:"uri" locationName:"Name"`
	Config *config  `aws:"Config"`
}

type config struct {
	Size *int64 `aws:"Size" jsonName:"size"`
}

type listOutput struct {
	Status   *int32     `aws:"Status" location:"statusCode"`
	Modified *time.Time `aws:"Modified" location:"header" locationName:"Last-Modified"`
	Count    *int64     `aws:"Count" location:"header" locationName:"x-count"`
	Items    []string   `aws:"Items" jsonName:"items"`
	Next     *string    `aws:"Next"`
}

type blobOutput struct {
	_    struct{}  `payload:"Body"`
	Type *string   `aws:"Type" location:"header" locationName:"Content-Type"`
	Body io.Reader `aws:"Body" streaming:"true"`
}

type notFound struct {
	Message *string `aws:"Message"`
	Kind    *string `aws:"Kind"`
}

func op(name, method, uri string, in, out func() any) *awsapi.Operation {
	return &awsapi.Operation{Name: name, Method: method, RequestURI: uri, NewInput: in, NewOutput: out}
}

var testService = &awsapi.Service{
	ID: "things", Package: "things", Protocols: []string{awsapi.ProtocolRestJSON}, ServiceID: "Things",
	OperationList: []awsapi.Operation{
		*op("GetObject", "GET", "/{Bucket}/{Key+}", func() any { return new(getObjectInput) }, nil),
		*op("GetObjectAcl", "GET", "/{Bucket}/{Key+}?acl", func() any { return new(getObjectInput) }, nil),
		*op("ListBucket", "GET", "/{Bucket}", func() any { return new(getObjectInput) }, func() any { return new(listOutput) }),
		*op("ListAll", "GET", "/", func() any { return new(getObjectInput) }, func() any { return new(listOutput) }),
		*op("GetSpecial", "GET", "/special/{Key}", func() any { return new(getObjectInput) }, nil),
		*op("GetSpecialTagged", "GET", "/special/{Key}?x-id=Tagged", func() any { return new(getObjectInput) }, nil),
		*op("PutBlob", "PUT", "/blobs/{Name}", func() any { return new(putBlobInput) }, func() any { return new(blobOutput) }),
		*op("PutConfig", "PUT", "/configs/{Name}", func() any { return new(putConfigInput) }, nil),
		{Name: "Create", Method: "POST", RequestURI: "/things", SuccessCode: 201, NewInput: func() any { return new(getObjectInput) }},
	},
	ErrorList: []awsapi.ErrorShape{
		{Name: "ThingNotFound", Status: 404, NewStruct: func() any { return new(notFound) }},
	},
}

func TestOperationRouting(t *testing.T) {
	for _, tc := range []struct {
		method, target, wantOp string
		wantStatus             int
	}{
		{"GET", "/b/k", "GetObject", 0},
		{"GET", "/b/a/b/c.txt", "GetObject", 0},
		{"GET", "/b/a/b?acl", "GetObjectAcl", 0},
		{"GET", "/b/a/b?acl=", "GetObjectAcl", 0},
		{"GET", "/b", "ListBucket", 0},
		{"GET", "/b/", "ListBucket", 0},
		{"GET", "/", "ListAll", 0},
		{"GET", "/special/x", "GetSpecial", 0},
		{"GET", "/special/x?x-id=Tagged", "GetSpecialTagged", 0},
		{"GET", "/special/x?x-id=Other", "GetSpecial", 0},
		{"GET", "/special/a%2Fb", "GetSpecial", 0},
		{"PUT", "/blobs/n", "PutBlob", 0},
		{"DELETE", "/blobs/n", "", 405},
		{"PUT", "/nothing/here/at/all", "", 405}, // the greedy GET route matches the path
		{"PUT", "/blobs/a/b", "", 405},
	} {
		t.Run(tc.method+" "+tc.target, func(t *testing.T) {
			got, err := restjson.New().Operation(testService, httptest.NewRequest(tc.method, tc.target, nil))
			if tc.wantStatus != 0 {
				e := apierr.As(err)
				if e == nil || e.Code != "UnknownOperationException" || e.Status != tc.wantStatus {
					t.Fatalf("err = %v, want UnknownOperationException %d", err, tc.wantStatus)
				}
				return
			}
			if err != nil || got.Name != tc.wantOp {
				t.Fatalf("op = %v, %v; want %s", got, err, tc.wantOp)
			}
		})
	}
}

func decode(t *testing.T, r *http.Request) (any, error) {
	t.Helper()
	c := restjson.New()
	o, err := c.Operation(testService, r)
	if err != nil {
		t.Fatalf("Operation: %v", err)
	}
	in := o.NewInput()
	return in, c.Decode(testService, o, r, in)
}

func TestDecodeBindsEveryLocation(t *testing.T) {
	r := httptest.NewRequest("GET", "/my-bucket/dir/a%20b%2Bc.txt?tag=x&tag=y&limit=5&verbose=true&other=1&other=2&solo=s", strings.NewReader(`{"note":"n","Note":"ignored","Document":{"k":[1]}}`))
	r.Header.Set("If-Modified-Since", "Wed, 21 Oct 2015 07:28:00 GMT")
	r.Header.Set("x-policy", "eyJhIjoxfQ==") // {"a":1}
	r.Header.Set("X-Meta-Color", "blue")
	r.Header.Add("x-flags", "a, b")
	r.Header.Add("x-flags", `"c,d"`)
	v, err := decode(t, r)
	if err != nil {
		t.Fatal(err)
	}
	in := v.(*getObjectInput)
	check := func(what string, ok bool) {
		t.Helper()
		if !ok {
			t.Errorf("%s: %+v", what, in)
		}
	}
	check("uri label", awsapi.ToString(in.Bucket) == "my-bucket")
	check("greedy label percent-decoded", awsapi.ToString(in.Key) == "dir/a b+c.txt")
	check("http-date header", in.Since != nil && in.Since.Equal(time.Date(2015, 10, 21, 7, 28, 0, 0, time.UTC)))
	check("jsonvalue header", awsapi.ToString(in.Policy) == `{"a":1}`)
	check("prefix headers", in.Meta["color"] == "blue")
	check("header list", strings.Join(in.Flags, "|") == "a|b|c,d")
	check("repeated query list", strings.Join(in.Tags, "|") == "x|y")
	check("query int", awsapi.ToInt32(in.Limit) == 5)
	check("query bool", awsapi.ToBool(in.Verbose))
	check("query map takes unbound keys", in.Extra["other"] == "1" && in.Extra["solo"] == "s" && in.Extra["tag"] == "")
	check("jsonName in body", awsapi.ToString(in.Note) == "n")
	check("document", in.Document.(map[string]any)["k"] != nil)
}

func TestDecodeStreamingPayloadIsNotBuffered(t *testing.T) {
	body := io.NopCloser(strings.NewReader("raw bytes"))
	r := httptest.NewRequest("PUT", "/blobs/n", nil)
	r.Body = body
	v, err := decode(t, r)
	if err != nil {
		t.Fatal(err)
	}
	in := v.(*putBlobInput)
	if in.Body != body {
		t.Fatalf("payload reader is %T, want the request body itself", in.Body)
	}
	if b, _ := io.ReadAll(in.Body); string(b) != "raw bytes" {
		t.Errorf("payload = %q", b)
	}
}

func TestDecodeStructurePayload(t *testing.T) {
	v, err := decode(t, httptest.NewRequest("PUT", "/configs/c", strings.NewReader(`{"size":7}`)))
	if err != nil {
		t.Fatal(err)
	}
	if in := v.(*putConfigInput); in.Config == nil || awsapi.ToInt64(in.Config.Size) != 7 || awsapi.ToString(in.Name) != "c" {
		t.Errorf("got %+v", in)
	}
	v, err = decode(t, httptest.NewRequest("PUT", "/configs/c", nil))
	if err != nil || v.(*putConfigInput).Config != nil {
		t.Errorf("empty payload: %+v, %v", v, err)
	}
}

func TestDecodeRejectsBadBindings(t *testing.T) {
	for _, tc := range []struct {
		name   string
		req    func() *http.Request
		member string
	}{
		{"query int", func() *http.Request { return httptest.NewRequest("GET", "/b?limit=many", nil) }, "Limit"},
		{"query int overflow", func() *http.Request { return httptest.NewRequest("GET", "/b?limit=99999999999", nil) }, "Limit"},
		{"query bool", func() *http.Request { return httptest.NewRequest("GET", "/b?verbose=yes", nil) }, "Verbose"},
		{"header date", func() *http.Request {
			r := httptest.NewRequest("GET", "/b", nil)
			r.Header.Set("If-Modified-Since", "soon")
			return r
		}, "Since"},
		{"jsonvalue not base64", func() *http.Request {
			r := httptest.NewRequest("GET", "/b", nil)
			r.Header.Set("x-policy", "{not base64}")
			return r
		}, "Policy"},
		{"body wrong type", func() *http.Request { return httptest.NewRequest("GET", "/b", strings.NewReader(`{"note":1}`)) }, "Note"},
		{"body not JSON", func() *http.Request { return httptest.NewRequest("GET", "/b", strings.NewReader(`{`)) }, "JSON"},
		{"payload wrong type", func() *http.Request {
			return httptest.NewRequest("PUT", "/configs/c", strings.NewReader(`{"size":"big"}`))
		}, "Size"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := decode(t, tc.req())
			e := apierr.As(err)
			if e == nil || e.Code != "SerializationException" || !strings.Contains(e.Message, tc.member) {
				t.Errorf("err = %v, want SerializationException about %s", err, tc.member)
			}
		})
	}
}

func TestEncodeBindsHeadersStatusAndBody(t *testing.T) {
	mod := time.Date(2015, 10, 21, 7, 28, 0, 0, time.UTC)
	w := httptest.NewRecorder()
	out := &listOutput{Status: awsapi.Int32(206), Modified: &mod, Count: awsapi.Int64(3), Items: []string{}, Next: awsapi.String("t")}
	if err := restjson.New().Encode(w, httptest.NewRequest("GET", "/b", nil), testService, testService.Operations()["ListBucket"], out, "rid"); err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	if w.Code != 206 || w.Header().Get("Last-Modified") != "Wed, 21 Oct 2015 07:28:00 GMT" || w.Header().Get("X-Count") != "3" || w.Header().Get("X-Amzn-RequestId") != "rid" {
		t.Errorf("status/headers = %d %v", w.Code, w.Header())
	}
	if len(m) != 2 || m["Next"] != "t" || m["items"] == nil {
		t.Errorf("body = %s (header and status members must not be in it)", w.Body)
	}
}

func TestEncodeSuccessCodeAndNoOutput(t *testing.T) {
	w := httptest.NewRecorder()
	if err := restjson.New().Encode(w, httptest.NewRequest("POST", "/things", nil), testService, testService.Operations()["Create"], nil, "rid"); err != nil {
		t.Fatal(err)
	}
	if w.Code != 201 || w.Body.String() != "{}" {
		t.Errorf("got %d %q", w.Code, w.Body)
	}
}

type closeRecorder struct {
	io.Reader
	closed bool
}

func (c *closeRecorder) Close() error { c.closed = true; return nil }

func TestEncodeStreamingPayloadCopiesAndCloses(t *testing.T) {
	body := &closeRecorder{Reader: bytes.NewReader(bytes.Repeat([]byte("x"), 1<<20))}
	w := httptest.NewRecorder()
	out := &blobOutput{Type: awsapi.String("image/png"), Body: body}
	if err := restjson.New().Encode(w, httptest.NewRequest("PUT", "/blobs/n", nil), testService, testService.Operations()["PutBlob"], out, "rid"); err != nil {
		t.Fatal(err)
	}
	if w.Body.Len() != 1<<20 || !body.closed || w.Header().Get("Content-Type") != "image/png" {
		t.Errorf("len=%d closed=%v type=%q", w.Body.Len(), body.closed, w.Header().Get("Content-Type"))
	}
}

func TestEncodeError(t *testing.T) {
	w := httptest.NewRecorder()
	e := &apierr.Error{Code: "ThingNotFound", Message: "no thing", Fields: map[string]any{"Kind": "widget"}}
	restjson.New().EncodeError(w, httptest.NewRequest("GET", "/", nil), testService, e, "rid")
	var m map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	if w.Code != 404 || w.Header().Get("X-Amzn-ErrorType") != "ThingNotFound" || m["Message"] != "no thing" || m["Kind"] != "widget" || w.Header().Get("Content-Type") != "application/json" {
		t.Errorf("got %d %v %s", w.Code, w.Header(), w.Body)
	}
}

type createInput struct {
	Name   *string `aws:"Name" required:"true" jsonName:"name"`
	Target *config `aws:"Target"`
}

func TestDecodeRejectsAMissingRequiredMember(t *testing.T) {
	r := httptest.NewRequest("POST", "/things", strings.NewReader(`{"Target":{"size":1}}`))
	err := restjson.New().Decode(testService, testService.Operations()["Create"], r, new(createInput))
	if e := apierr.As(err); e == nil || e.Code != "ValidationException" ||
		e.Message != "1 validation error detected: Value null at 'name' failed to satisfy constraint: Member must not be null" {
		t.Fatalf("got %v", err)
	}
}
