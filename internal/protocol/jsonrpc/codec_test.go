package jsonrpc_test

import (
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wharf-dev/wharf/internal/apierr"
	"github.com/wharf-dev/wharf/internal/awsapi"
	"github.com/wharf-dev/wharf/internal/protocol/jsonrpc"
)

// Hand-written shapes with the generator's tags, so the edge cases do not depend
// on any one service's model.
type inner struct {
	Name  *string    `aws:"Name"`
	Count *int32     `aws:"Count"`
	When  *time.Time `aws:"When" timestampFormat:"iso8601"`
}

type testInput struct {
	Str     *string            `aws:"Str"`
	I32     *int32             `aws:"I32"`
	I64     *int64             `aws:"I64"`
	F64     *float64           `aws:"F64"`
	F32     *float32           `aws:"F32"`
	Bool    *bool              `aws:"Bool"`
	Blob    []byte             `aws:"Blob"`
	Time    *time.Time         `aws:"Time"`
	List    []string           `aws:"List"`
	Structs []inner            `aws:"Structs"`
	Map     map[string]inner   `aws:"Map"`
	Nested  *inner             `aws:"Nested"`
	Doc     any                `aws:"Doc"`
	Times   []time.Time        `aws:"Times"`
	MapList map[string][]int64 `aws:"MapList"`
	Renamed *string            `aws:"Renamed" jsonName:"renamed"`
}

type testError struct {
	Message *string `aws:"Message"`
	Reason  *string `aws:"Reason"`
}

var testService = widgets()

func widgets() *awsapi.Service {
	return &awsapi.Service{
		ID: "widgets", Package: "widgets", Protocols: []string{awsapi.ProtocolJSON}, JSONVersion: "1.1",
		TargetPrefix: "Widgets_2020", ServiceID: "Widgets",
		OperationList: []awsapi.Operation{
			{Name: "Make", Method: "POST", RequestURI: "/",
				NewInput: func() any { return new(testInput) }, NewOutput: func() any { return new(testInput) }},
		},
		ErrorList: []awsapi.ErrorShape{
			{Name: "WidgetMissing", Code: "Widget.Missing", Status: 404, NewStruct: func() any { return new(testError) }},
			{Name: "WidgetBroken", Code: "WidgetBroken", Status: 503, Receiver: true},
		},
	}
}

func queryCompatible() *awsapi.Service {
	s := widgets()
	s.QueryCompatible = true
	s.JSONVersion = "1.0"
	return s
}

func TestOperationFromTarget(t *testing.T) {
	for _, tc := range []struct {
		name, target, wantOp, wantCode string
	}{
		{"known operation", "Widgets_2020.Make", "Make", ""},
		{"missing header", "", "", "UnknownOperationException"},
		{"wrong prefix", "Gadgets_2020.Make", "", "UnknownOperationException"},
		{"unknown operation", "Widgets_2020.Break", "", "UnknownOperationException"},
		{"no dot", "Widgets_2020Make", "", "UnknownOperationException"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/", nil)
			if tc.target != "" {
				r.Header.Set("X-Amz-Target", tc.target)
			}
			op, err := jsonrpc.New().Operation(testService, r)
			if tc.wantCode != "" {
				e := apierr.As(err)
				if e == nil || e.Code != tc.wantCode || e.Status != 400 {
					t.Fatalf("err = %v, want %s 400", err, tc.wantCode)
				}
				return
			}
			if err != nil || op.Name != tc.wantOp {
				t.Fatalf("op = %v, %v", op, err)
			}
		})
	}
}

func decode(t *testing.T, body string) (*testInput, error) {
	t.Helper()
	r := httptest.NewRequest("POST", "/", strings.NewReader(body))
	in := new(testInput)
	err := jsonrpc.New().Decode(testService, testService.Operations()["Make"], r, in)
	return in, err
}

func TestDecodeAcceptsWhatSDKsSend(t *testing.T) {
	for _, tc := range []struct {
		name  string
		body  string
		check func(*testInput) bool
	}{
		{"empty body is empty input", "", func(in *testInput) bool { return in.Str == nil }},
		{"null body is empty input", "null", func(in *testInput) bool { return in.Str == nil }},
		{"unknown members ignored", `{"Nope":[1,{"x":2}],"Str":"s"}`, func(in *testInput) bool { return *in.Str == "s" }},
		{"explicit zero kept", `{"I32":0,"Bool":false}`, func(in *testInput) bool { return in.I32 != nil && *in.I32 == 0 && in.Bool != nil && !*in.Bool }},
		{"int64 extremes", `{"I64":-9223372036854775808}`, func(in *testInput) bool { return *in.I64 == math.MinInt64 }},
		{"blob is base64", `{"Blob":"AAEC/w=="}`, func(in *testInput) bool { return string(in.Blob) == "\x00\x01\x02\xff" }},
		{"epoch seconds", `{"Time":1700000000}`, func(in *testInput) bool { return in.Time.Equal(time.Unix(1700000000, 0)) }},
		{"fractional epoch seconds", `{"Time":1700000000.123}`, func(in *testInput) bool { return in.Time.Equal(time.UnixMilli(1700000000123)) }},
		{"iso8601 member", `{"Nested":{"When":"2024-01-02T03:04:05.5Z"}}`, func(in *testInput) bool {
			return in.Nested.When.Equal(time.Date(2024, 1, 2, 3, 4, 5, 5e8, time.UTC))
		}},
		{"NaN and Infinity strings", `{"F64":"NaN","F32":"-Infinity"}`, func(in *testInput) bool { return math.IsNaN(*in.F64) && math.IsInf(float64(*in.F32), -1) }},
		{"exponent float", `{"F64":1.5e3}`, func(in *testInput) bool { return *in.F64 == 1500 }},
		{"list of structs and map of structs", `{"Structs":[{"Name":"a"},{"Count":2}],"Map":{"k":{"Name":"v"}}}`, func(in *testInput) bool {
			return len(in.Structs) == 2 && *in.Structs[1].Count == 2 && *in.Map["k"].Name == "v"
		}},
		{"empty list is non-nil", `{"List":[]}`, func(in *testInput) bool { return in.List != nil && len(in.List) == 0 }},
		{"document is raw JSON", `{"Doc":{"a":[1,"x",null,true]}}`, func(in *testInput) bool {
			m, ok := in.Doc.(map[string]any)
			return ok && m["a"].([]any)[0] == float64(1)
		}},
		{"map of lists", `{"MapList":{"a":[1,2]}}`, func(in *testInput) bool { return in.MapList["a"][1] == 2 }},
		{"awsJson ignores jsonName", `{"Renamed":"r","renamed":"x"}`, func(in *testInput) bool { return *in.Renamed == "r" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in, err := decode(t, tc.body)
			if err != nil {
				t.Fatalf("Decode(%s): %v", tc.body, err)
			}
			if !tc.check(in) {
				t.Errorf("Decode(%s) = %+v", tc.body, in)
			}
		})
	}
}

func TestDecodeRejectsMalformedInputWithSerializationException(t *testing.T) {
	for _, tc := range []struct {
		name, body, wantInMessage string
	}{
		{"not JSON", `{"Str":`, "not valid JSON"},
		{"trailing data", `{} {}`, "after the top-level value"},
		{"array body", `[1]`, "must be a JSON object"},
		{"string for int", `{"I32":"5"}`, "I32"},
		{"int overflow", `{"I32":2147483648}`, "I32"},
		{"fraction for int", `{"I64":1.5}`, "I64"},
		{"number for string", `{"Str":5}`, "Str"},
		{"bad base64", `{"Blob":"!!"}`, "Blob"},
		{"object for list", `{"List":{}}`, "List"},
		{"wrong type deep inside", `{"Map":{"k":{"Count":"x"}}}`, "Map.k.Count"},
		{"bool as string", `{"Bool":"true"}`, "Bool"},
		{"timestamp out of range", `{"Time":1e300}`, "Time"},
		{"timestamp garbage", `{"Time":"yesterday"}`, "Time"},
		{"deep nesting", strings.Repeat(`{"Doc":`, 20000) + "1" + strings.Repeat("}", 20000), "not valid JSON"},
		{"one level past the limit", `{"Doc":` + strings.Repeat("[", jsonrpc.MaxDepth) + strings.Repeat("]", jsonrpc.MaxDepth) + "}", "more than 1000 levels deep"},
		{"invalid UTF-8 in a string", "{\"Str\":\"caf\xe9\"}", "not valid UTF-8"},
		{"invalid UTF-8 in a key", "{\"\xff\":1}", "not valid UTF-8"},
		{"a lone high surrogate escape", `{"Str":"a\ud800b"}`, `half of a UTF-16 surrogate pair`},
		{"a lone low surrogate escape", `{"Str":"\uDC00"}`, `\uDC00 is half`},
		{"a high surrogate before a non-surrogate escape", `{"Str":"\ud83d\u0041"}`, `\ud83d is half`},
		{"a high surrogate at the end of the body", `{"Str":"\ud83d`, `half`},
		{"a truncated multi-byte sequence", "{\"Str\":\"\xe2\x82\"}", "not valid UTF-8"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := decode(t, tc.body)
			e := apierr.As(err)
			if e == nil || e.Code != "SerializationException" || e.Status != 400 {
				t.Fatalf("err = %v, want SerializationException", err)
			}
			if !strings.Contains(e.Message, tc.wantInMessage) {
				t.Errorf("message %q does not mention %q", e.Message, tc.wantInMessage)
			}
		})
	}
}

// TestDecodeDeepestAllowedNesting decodes a body at exactly MaxDepth, and
// strings that only look like brackets do not count.
func TestDecodeDeepestAllowedNesting(t *testing.T) {
	body := `{"Str":"` + strings.Repeat("[{", 5000) + `\"","Doc":` + strings.Repeat("[", jsonrpc.MaxDepth-1) + strings.Repeat("]", jsonrpc.MaxDepth-1) + "}"
	in, err := decode(t, body)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(*in.Str, "[{[{") {
		t.Errorf("Str = %.10q", *in.Str)
	}
}

// TestDecodeKeepsSurrogatePairs decodes an escaped pair as its character, and
// does not mistake an escaped backslash followed by "ud800" for an escape.
func TestDecodeKeepsSurrogatePairs(t *testing.T) {
	in, err := decode(t, `{"Str":"\ud83d\ude00 \\ud800"}`)
	if err != nil {
		t.Fatal(err)
	}
	if *in.Str != "\U0001F600 \\ud800" {
		t.Errorf("Str = %q", *in.Str)
	}
}

func TestDecodeGzipBody(t *testing.T) {
	r := httptest.NewRequest("POST", "/", strings.NewReader("not gzip"))
	r.Header.Set("Content-Encoding", "gzip")
	err := jsonrpc.New().Decode(testService, testService.Operations()["Make"], r, new(testInput))
	if e := apierr.As(err); e == nil || e.Code != "SerializationException" {
		t.Errorf("err = %v, want SerializationException", err)
	}
}

func encode(t *testing.T, svc *awsapi.Service, out any) (*httptest.ResponseRecorder, map[string]any) {
	t.Helper()
	w := httptest.NewRecorder()
	if err := jsonrpc.New().Encode(w, httptest.NewRequest("POST", "/", nil), svc, svc.Operations()["Make"], out, "rid-7"); err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &m); err != nil {
		t.Fatalf("body %q: %v", w.Body.String(), err)
	}
	return w, m
}

func TestEncodeOmitsNilAndKeepsEmpty(t *testing.T) {
	when := time.Date(2024, 1, 2, 3, 4, 5, 678e6, time.UTC)
	w, m := encode(t, testService, &testInput{
		Str: awsapi.String("a\"b\n\u2028<"), List: []string{}, Map: map[string]inner{}, I32: awsapi.Int32(0),
		Time: &when, Nested: &inner{When: &when}, F64: ptr(math.Inf(1)), Blob: []byte{0xff},
	})
	if ct := w.Header().Get("Content-Type"); ct != "application/x-amz-json-1.1" {
		t.Errorf("Content-Type = %q", ct)
	}
	if id := w.Header().Get("X-Amzn-RequestId"); id != "rid-7" {
		t.Errorf("request id = %q", id)
	}
	if n := w.Header().Get("Content-Length"); n != strconv.Itoa(w.Body.Len()) {
		t.Errorf("Content-Length = %q for %d bytes", n, w.Body.Len())
	}
	// The three values share one array: adding to one leaves the others.
	w.Header().Add("Content-Type", "x")
	if got := w.Header().Values("Content-Length"); len(got) != 1 || got[0] != strconv.Itoa(w.Body.Len()) {
		t.Errorf("Content-Length after an Add to Content-Type = %q", got)
	}
	for _, absent := range []string{"I64", "Structs", "Doc", "Bool", "Times"} {
		if _, ok := m[absent]; ok {
			t.Errorf("nil member %s was written", absent)
		}
	}
	if l, ok := m["List"].([]any); !ok || len(l) != 0 {
		t.Errorf("empty list = %#v", m["List"])
	}
	if mm, ok := m["Map"].(map[string]any); !ok || len(mm) != 0 {
		t.Errorf("empty map = %#v", m["Map"])
	}
	if m["I32"] != float64(0) || m["Str"] != "a\"b\n\u2028<" || m["F64"] != "Infinity" || m["Blob"] != "/w==" {
		t.Errorf("scalars = %v", m)
	}
	if m["Time"] != 1704164645.678 {
		t.Errorf("Time = %v, want epoch seconds 1704164645.678", m["Time"])
	}
	if n := m["Nested"].(map[string]any); n["When"] != "2024-01-02T03:04:05.678Z" {
		t.Errorf("iso8601 member = %v", n["When"])
	}
}

func TestEncodeNoOutputIsEmptyObject(t *testing.T) {
	w, m := encode(t, queryCompatible(), nil)
	if len(m) != 0 || w.Code != 200 || w.Header().Get("Content-Type") != "application/x-amz-json-1.0" {
		t.Errorf("got %d %q %v", w.Code, w.Header().Get("Content-Type"), m)
	}
}

func ptr[T any](v T) *T { return &v }

func TestEncodeError(t *testing.T) {
	for _, tc := range []struct {
		name       string
		svc        *awsapi.Service
		err        *apierr.Error
		status     int
		typ        string
		errorType  string
		queryError string
		body       map[string]any
	}{
		{"modelled error takes the model's status and message key",
			testService, &apierr.Error{Code: "WidgetMissing", Message: "gone", Fields: map[string]any{"Reason": awsapi.String("eaten")}},
			404, "WidgetMissing", "WidgetMissing", "", map[string]any{"Message": "gone", "Reason": "eaten"}},
		{"explicit status wins", testService, &apierr.Error{Code: "WidgetMissing", Status: 410}, 410, "WidgetMissing", "WidgetMissing", "", map[string]any{}},
		{"common error not in the model", testService, apierr.Validation("bad %s", "x"), 400, "ValidationException", "ValidationException", "", map[string]any{"message": "bad x"}},
		{"unknown service", nil, apierr.UnknownOperation("X"), 400, "UnknownOperationException", "UnknownOperationException", "", nil},
		{"query compatible: namespaced type and query code",
			queryCompatible(), &apierr.Error{Code: "WidgetMissing", Message: "gone"},
			404, "com.amazonaws.widgets#WidgetMissing", "WidgetMissing", "Widget.Missing;Sender", map[string]any{"Message": "gone"}},
		{"query compatible: query code given maps back to the shape",
			queryCompatible(), &apierr.Error{Code: "Widget.Missing"},
			404, "com.amazonaws.widgets#WidgetMissing", "WidgetMissing", "Widget.Missing;Sender", nil},
		{"query compatible: receiver fault from the model",
			queryCompatible(), &apierr.Error{Code: "WidgetBroken"},
			503, "com.amazonaws.widgets#WidgetBroken", "WidgetBroken", "WidgetBroken;Receiver", nil},
		{"query compatible: common error", queryCompatible(), apierr.Internal(),
			500, "com.amazon.coral.service#InternalFailure", "InternalFailure", "InternalFailure;Receiver", nil},
		{"query compatible: any 5xx is the receiver's fault", queryCompatible(), apierr.NotImplemented("Widgets", "Make"),
			501, "NotImplemented", "NotImplemented", "NotImplemented;Receiver", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			jsonrpc.New().EncodeError(w, httptest.NewRequest("POST", "/", nil), tc.svc, tc.err, "rid")
			var m map[string]any
			if err := json.Unmarshal(w.Body.Bytes(), &m); err != nil {
				t.Fatalf("body %q: %v", w.Body.String(), err)
			}
			if w.Code != tc.status || m["__type"] != tc.typ || w.Header().Get("X-Amzn-ErrorType") != tc.errorType || w.Header().Get("X-Amzn-Query-Error") != tc.queryError {
				t.Errorf("got %d type=%v header=%q query=%q, want %d %q %q %q", w.Code, m["__type"], w.Header().Get("X-Amzn-ErrorType"), w.Header().Get("X-Amzn-Query-Error"), tc.status, tc.typ, tc.errorType, tc.queryError)
			}
			for k, v := range tc.body {
				if m[k] != v {
					t.Errorf("body[%s] = %v, want %v (body %s)", k, m[k], v, w.Body)
				}
			}
			if w.Header().Get("X-Amzn-RequestId") != "rid" {
				t.Errorf("request id missing")
			}
		})
	}
}

func TestEncodeErrorCopiesExtraHeaders(t *testing.T) {
	w := httptest.NewRecorder()
	e := &apierr.Error{Code: "ThrottlingException", Header: http.Header{"Retry-After": {"3"}}}
	jsonrpc.New().EncodeError(w, httptest.NewRequest("POST", "/", nil), testService, e, "rid")
	if w.Header().Get("Retry-After") != "3" {
		t.Errorf("headers = %v", w.Header())
	}
}

type requiredInput struct {
	QueueName *string `aws:"QueueName" required:"true"`
}

func TestDecodeRejectsAMissingOrNullRequiredMember(t *testing.T) {
	for _, body := range []string{``, `{}`, `{"QueueName":null}`} {
		err := jsonrpc.New().Decode(testService, testService.Operations()["Make"], httptest.NewRequest("POST", "/", strings.NewReader(body)), new(requiredInput))
		if e := apierr.As(err); e == nil || e.Code != "ValidationException" || !strings.Contains(e.Message, "Value null at 'queueName'") {
			t.Errorf("%q: got %v", body, err)
		}
	}
	if err := jsonrpc.New().Decode(testService, testService.Operations()["Make"], httptest.NewRequest("POST", "/", strings.NewReader(`{"QueueName":""}`)), new(requiredInput)); err != nil {
		t.Errorf("present but empty: %v", err)
	}
}
