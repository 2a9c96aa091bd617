package query

import (
	"maps"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	sqsapi "github.com/wharf-dev/wharf/internal/awsapi/sqs"
)

// FuzzParamsMatchParseForm checks the codec's own form reading against
// net/http's ParseForm, which it replaced: the same parameters (the body's
// value of a name first, then the URL query's), the same prefixes, and an
// error exactly when ParseForm has one.
func FuzzParamsMatchParseForm(f *testing.F) {
	for _, s := range seedBodies {
		f.Add(s, "", "application/x-www-form-urlencoded")
	}
	f.Add("Action=SendMessage&MessageBody=a+b%20c%2B", "Action=Other&X=1", "application/x-www-form-urlencoded; charset=utf-8")
	f.Add("A=1;B=2", "", "application/x-www-form-urlencoded")
	f.Add("A=%zz&B=2&&=v&C", "D=%4", "Application/X-WWW-Form-Urlencoded ; charset=utf-8")
	f.Add("A=1", "A=2&B=%FF", "text/plain")
	f.Add("A=1", "", "")
	f.Add("A=1", "", "bad/type; =")
	f.Fuzz(func(t *testing.T, body, query, ct string) {
		r := httptest.NewRequest("POST", "/", strings.NewReader(body))
		r.URL.RawQuery = query
		if ct != "" {
			r.Header.Set("Content-Type", ct)
		}
		want := httptest.NewRequest("POST", "/", strings.NewReader(body))
		want.URL.RawQuery = query
		want.Header = r.Header.Clone()
		wantErr := want.ParseForm()

		p, err := requestParams(r)
		if (err != nil) != (wantErr != nil) {
			t.Fatalf("error %v, ParseForm's %v", err, wantErr)
		}
		if err != nil {
			return
		}
		wp := newParams(want.Form)
		if !maps.Equal(p.values, wp.values) || !maps.Equal(p.prefixes, wp.prefixes) || p.hasInvalid != wp.hasInvalid {
			t.Fatalf("params %v %v %v, ParseForm's %v %v %v", p.values, p.prefixes, p.hasInvalid, wp.values, wp.prefixes, wp.hasInvalid)
		}
		again, err := requestParams(r)
		if err != nil || again != p {
			t.Fatalf("second read: %p %v, first %p", again, err, p)
		}
	})
}

// BenchmarkDecodeSendMessageBatch reads a SendMessageBatch of ten messages,
// each with an attribute, as aws-sdk-go v1 sends it: Operation then Decode.
func BenchmarkDecodeSendMessageBatch(b *testing.B) {
	v := url.Values{"Action": {"SendMessageBatch"}, "Version": {"2012-11-05"}, "QueueUrl": {"http://127.0.0.1:4566/000000000000/q"}}
	for i := 1; i <= 10; i++ {
		p := "SendMessageBatchRequestEntry." + strconv.Itoa(i) + "."
		v.Set(p+"Id", strconv.Itoa(i))
		v.Set(p+"MessageBody", "hello from the benchmark")
		v.Set(p+"MessageAttribute.1.Name", "color")
		v.Set(p+"MessageAttribute.1.Value.DataType", "String")
		v.Set(p+"MessageAttribute.1.Value.StringValue", "red")
	}
	body := v.Encode()
	var c Codec
	b.ReportAllocs()
	for b.Loop() {
		r := httptest.NewRequest("POST", "/", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		op, err := c.Operation(sqsapi.Service, r)
		if err != nil {
			b.Fatal(err)
		}
		in := op.NewInput()
		if err := c.Decode(sqsapi.Service, op, r, in); err != nil {
			b.Fatal(err)
		}
		if got := len(in.(*sqsapi.SendMessageBatchInput).Entries); got != 10 {
			b.Fatalf("%d entries", got)
		}
	}
}
