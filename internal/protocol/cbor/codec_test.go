package cbor_test

import (
	"bytes"
	"math"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	fxcbor "github.com/fxamacker/cbor/v2"

	"github.com/wharf-dev/wharf/internal/apierr"
	"github.com/wharf-dev/wharf/internal/awsapi"
	"github.com/wharf-dev/wharf/internal/protocol/cbor"
)

type datum struct {
	Name   *string            `aws:"Name"`
	When   *time.Time         `aws:"When"`
	Value  *float64           `aws:"Value"`
	Small  *float32           `aws:"Small"`
	Count  *int32             `aws:"Count"`
	Big    *int64             `aws:"Big"`
	On     *bool              `aws:"On"`
	Blob   []byte             `aws:"Blob"`
	Values []float64          `aws:"Values"`
	Dims   map[string]string  `aws:"Dims"`
	Kids   []datum            `aws:"Kids"`
	ByName map[string]*datum  `aws:"ByName"`
	Times  []time.Time        `aws:"Times"`
	Empty  []string           `aws:"Empty"`
	Nested map[string][]int32 `aws:"Nested"`
}

type fault struct {
	Message *string `aws:"message"`
}

var testService = &awsapi.Service{
	ID: "metrics", Package: "metrics", Protocols: []string{awsapi.ProtocolCBOR}, JSONVersion: "1.0",
	TargetPrefix: "MetricsService_2020", ServiceID: "Metrics", QueryCompatible: true,
	OperationList: []awsapi.Operation{
		{Name: "Put", Method: "POST", RequestURI: "/", NewInput: func() any { return new(datum) }, NewOutput: func() any { return new(datum) }},
	},
	ErrorList: []awsapi.ErrorShape{
		{Name: "NotFound", Code: "ResourceNotFound", Status: 404, NewStruct: func() any { return new(fault) }},
	},
}

func TestOperationFromPath(t *testing.T) {
	for _, tc := range []struct {
		name, method, path string
		wantStatus         int
	}{
		{"operation", "POST", "/service/MetricsService_2020/operation/Put", 0},
		{"under a path prefix", "POST", "/prefix/service/MetricsService_2020/operation/Put", 0},
		{"wrong service", "POST", "/service/Other/operation/Put", 400},
		{"unknown operation", "POST", "/service/MetricsService_2020/operation/Get", 400},
		{"not an rpcv2 path", "POST", "/", 404},
		{"trailing segments", "POST", "/service/MetricsService_2020/operation/Put/x", 404},
		{"GET", "GET", "/service/MetricsService_2020/operation/Put", 405},
	} {
		t.Run(tc.name, func(t *testing.T) {
			op, err := cbor.New().Operation(testService, httptest.NewRequest(tc.method, tc.path, nil))
			if tc.wantStatus != 0 {
				e := apierr.As(err)
				if e == nil || e.Code != "UnknownOperationException" || e.Status != tc.wantStatus {
					t.Fatalf("err = %v, want UnknownOperationException %d", err, tc.wantStatus)
				}
				return
			}
			if err != nil || op.Name != "Put" {
				t.Fatalf("op = %v, %v", op, err)
			}
		})
	}
}

func mustCBOR(t *testing.T, v any) []byte {
	t.Helper()
	b, err := fxcbor.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func decode(body []byte) (*datum, error) {
	r := httptest.NewRequest("POST", "/service/MetricsService_2020/operation/Put", bytes.NewReader(body))
	in := new(datum)
	return in, cbor.New().Decode(testService, testService.Operations()["Put"], r, in)
}

func TestDecodeAcceptsWhatSDKsSend(t *testing.T) {
	ts := time.Date(2024, 3, 4, 5, 6, 7, 250e6, time.UTC)
	for _, tc := range []struct {
		name  string
		body  any
		check func(*datum) bool
	}{
		{"empty body", nil, func(d *datum) bool { return d.Name == nil }},
		{"float timestamp tag 1", map[string]any{"When": fxcbor.Tag{Number: 1, Content: 1709528767.25}}, func(d *datum) bool { return d.When.Equal(ts) }},
		{"integer timestamp tag 1", map[string]any{"When": fxcbor.Tag{Number: 1, Content: 1709528767}}, func(d *datum) bool { return d.When.Equal(ts.Truncate(time.Second)) }},
		{"integers", map[string]any{"Count": -5, "Big": uint64(math.MaxInt64)}, func(d *datum) bool { return *d.Count == -5 && *d.Big == math.MaxInt64 }},
		{"floats of every width", map[string]any{"Value": float32(1.5), "Small": 2.25, "Values": []any{1, -2, 3.5}}, func(d *datum) bool {
			return *d.Value == 1.5 && *d.Small == 2.25 && d.Values[1] == -2
		}},
		{"NaN", map[string]any{"Value": math.NaN()}, func(d *datum) bool { return math.IsNaN(*d.Value) }},
		{"byte string blob", map[string]any{"Blob": []byte{0, 0xff}}, func(d *datum) bool { return bytes.Equal(d.Blob, []byte{0, 0xff}) }},
		{"nested structures", map[string]any{"Kids": []any{map[string]any{"Name": "k"}}, "ByName": map[string]any{"a": map[string]any{"On": true}, "nil": nil}}, func(d *datum) bool {
			return *d.Kids[0].Name == "k" && *d.ByName["a"].On && d.ByName["nil"] == nil
		}},
		{"unknown members ignored", map[string]any{"Other": []any{1, 2}, "Name": "n"}, func(d *datum) bool { return *d.Name == "n" }},
		{"null member", map[string]any{"Name": nil}, func(d *datum) bool { return d.Name == nil }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var body []byte
			if tc.body != nil {
				body = mustCBOR(t, tc.body)
			}
			d, err := decode(body)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if !tc.check(d) {
				t.Errorf("got %+v", d)
			}
		})
	}
}

func TestDecodeIndefiniteLengthMapsAsTheSDKWritesThem(t *testing.T) {
	// {_ "Name": "n", "Values": [_ 1.5]} with indefinite-length map and array.
	body := []byte{0xbf, 0x64, 'N', 'a', 'm', 'e', 0x61, 'n', 0x66, 'V', 'a', 'l', 'u', 'e', 's', 0x9f, 0xf9, 0x3e, 0x00, 0xff, 0xff}
	d, err := decode(body)
	if err != nil {
		t.Fatal(err)
	}
	if awsapi.ToString(d.Name) != "n" || len(d.Values) != 1 || d.Values[0] != 1.5 {
		t.Errorf("got %+v", d)
	}
}

func TestDecodeRejectsMalformedInput(t *testing.T) {
	for _, tc := range []struct {
		name, mention string
		body          []byte
	}{
		{"truncated", "not valid CBOR", []byte{0xa1, 0x64, 'N', 'a'}},
		{"not a map", "must be a CBOR map", []byte{0x83, 1, 2, 3}},
		{"trailing bytes", "not valid CBOR", []byte{0xa0, 0x00}},
		{"huge declared length", "not valid CBOR", []byte{0x5b, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}},
		{"deep nesting", "not valid CBOR", append(bytes.Repeat([]byte{0x81}, 10000), 0x00)},
		{"text for int", "Count", mustCBOR(t, map[string]any{"Count": "5"})},
		{"int32 overflow", "Count", mustCBOR(t, map[string]any{"Count": int64(math.MaxInt32) + 1})},
		{"float for int", "Count", mustCBOR(t, map[string]any{"Count": 1.5})},
		{"uint64 beyond int64", "Big", mustCBOR(t, map[string]any{"Big": uint64(math.MaxUint64)})},
		{"text for blob", "Blob", mustCBOR(t, map[string]any{"Blob": "AA=="})},
		{"text for timestamp", "When", mustCBOR(t, map[string]any{"When": "2024-01-01"})},
		{"infinite timestamp", "When", mustCBOR(t, map[string]any{"When": math.Inf(1)})},
		{"wrong type deep inside", "ByName.a.Count", mustCBOR(t, map[string]any{"ByName": map[string]any{"a": map[string]any{"Count": true}}})},
		{"non-text map key", "not valid CBOR", mustCBOR(t, map[any]any{1: "x"})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := decode(tc.body)
			e := apierr.As(err)
			if e == nil || e.Code != "SerializationException" || e.Status != 400 || !strings.Contains(e.Message, tc.mention) {
				t.Fatalf("err = %v, want SerializationException mentioning %q", err, tc.mention)
			}
		})
	}
}

func TestEncodeWritesTagsBytesAndIntegers(t *testing.T) {
	ts := time.Date(2024, 3, 4, 5, 6, 7, 250e6, time.UTC)
	w := httptest.NewRecorder()
	out := &datum{Name: awsapi.String("n"), When: &ts, Count: awsapi.Int32(7), Blob: []byte{1}, Empty: []string{}, Times: []time.Time{ts}}
	if err := cbor.New().Encode(w, httptest.NewRequest("POST", "/", nil), testService, testService.Operations()["Put"], out, "rid"); err != nil {
		t.Fatal(err)
	}
	if w.Header().Get("Smithy-Protocol") != "rpc-v2-cbor" || w.Header().Get("Content-Type") != "application/cbor" || w.Header().Get("X-Amzn-RequestId") != "rid" {
		t.Errorf("headers = %v", w.Header())
	}
	var m map[string]fxcbor.RawMessage
	if err := fxcbor.Unmarshal(w.Body.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	want := map[string][]byte{
		"Name":  {0x61, 'n'},
		"Count": {0x07},
		"Blob":  {0x41, 0x01},
		"Empty": {0x80},
		"When":  append([]byte{0xc1, 0xfb}, f64(1709528767.25)...),
	}
	for k, v := range want {
		if !bytes.Equal(m[k], v) {
			t.Errorf("%s = % x, want % x", k, []byte(m[k]), v)
		}
	}
	for _, absent := range []string{"Value", "Kids", "Dims", "On"} {
		if _, ok := m[absent]; ok {
			t.Errorf("nil member %s was written", absent)
		}
	}
}

func f64(f float64) []byte {
	b := mustCBORNoT(f)
	return b[1:]
}

func mustCBORNoT(v float64) []byte {
	em, _ := fxcbor.EncOptions{ShortestFloat: fxcbor.ShortestFloatNone}.EncMode()
	b, _ := em.Marshal(v)
	return b
}

func TestEncodeNoOutputIsEmptyBody(t *testing.T) {
	w := httptest.NewRecorder()
	if err := cbor.New().Encode(w, httptest.NewRequest("POST", "/", nil), testService, testService.Operations()["Put"], nil, "rid"); err != nil {
		t.Fatal(err)
	}
	if w.Code != 200 || w.Body.Len() != 0 || w.Header().Get("Smithy-Protocol") != "rpc-v2-cbor" {
		t.Errorf("got %d %x %v", w.Code, w.Body.Bytes(), w.Header())
	}
}

func TestEncodeError(t *testing.T) {
	w := httptest.NewRecorder()
	cbor.New().EncodeError(w, httptest.NewRequest("POST", "/", nil), testService, &apierr.Error{Code: "NotFound", Message: "gone"}, "rid")
	var m map[string]any
	if err := fxcbor.Unmarshal(w.Body.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	if w.Code != 404 || m["__type"] != "com.amazonaws.metrics#NotFound" || m["message"] != "gone" || w.Header().Get("X-Amzn-Query-Error") != "ResourceNotFound;Sender" {
		t.Errorf("got %d %v %v", w.Code, m, w.Header())
	}
}

type requiredDatum struct {
	MetricName *string `aws:"MetricName" required:"true"`
}

func TestDecodeRejectsAMissingRequiredMember(t *testing.T) {
	body, _ := fxcbor.Marshal(map[string]any{"Other": 1})
	r := httptest.NewRequest("POST", "/service/MetricsService_2020/operation/Put", bytes.NewReader(body))
	err := cbor.New().Decode(testService, testService.Operations()["Put"], r, new(requiredDatum))
	if e := apierr.As(err); e == nil || e.Code != "ValidationException" || !strings.Contains(e.Message, "Value null at 'metricName'") {
		t.Fatalf("got %v", err)
	}
}
