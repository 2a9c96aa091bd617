package query

import (
	"net/http/httptest"
	"net/url"
	"slices"
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
		if !slices.Equal(p.list, wp.list) || p.hasInvalid != wp.hasInvalid {
			t.Fatalf("params %v %v, ParseForm's %v %v", p.list, p.hasInvalid, wp.list, wp.hasInvalid)
		}
		checkAgainstMaps(t, p, want.Form)
		again, err := requestParams(r)
		if err != nil || again != p {
			t.Fatalf("second read: %p %v, first %p", again, err, p)
		}
	})
}

// mapIndex is how parameters were indexed before the sorted list: a map of
// values, and a map of every name and each of its prefixes up to
// maxPrefixes dots.
type mapIndex struct {
	values   map[string]string
	prefixes map[string]bool
}

func newMapIndex(form map[string][]string) mapIndex {
	m := mapIndex{values: map[string]string{}, prefixes: map[string]bool{}}
	for k, vs := range form {
		if len(vs) > 0 {
			m.values[k] = vs[0]
		}
		for i, n := 0, 0; i < len(k) && n < maxPrefixes; i++ {
			if k[i] == '.' {
				m.prefixes[k[:i]] = true
				n++
			}
		}
		m.prefixes[k] = true
	}
	return m
}

// checkAgainstMaps asks p and the map index of form the decoder's two
// questions about every name, every prefix of one, and names near them.
func checkAgainstMaps(t *testing.T, p *params, form map[string][]string) {
	t.Helper()
	m := newMapIndex(form)
	probe := func(name string) {
		if got, want := p.has([]byte(name)), m.prefixes[name]; got != want {
			t.Fatalf("has(%q) = %v, maps say %v", name, got, want)
		}
		v, ok := p.value([]byte(name))
		if wv, wok := m.values[name]; v != wv || ok != wok {
			t.Fatalf("value(%q) = %q %v, maps say %q %v", name, v, ok, wv, wok)
		}
	}
	probe("")
	for k := range form {
		for _, extra := range []string{"", ".", "-", "x", ".1", "/"} {
			probe(k + extra)
		}
		for i := 0; i < len(k); i++ {
			probe(k[:i])
		}
	}
}

// TestParamsAnswerAsTheMapsDid checks the sorted list on names chosen to
// sit between a name and the names under it ('-' and ',' sort before '.',
// '/' and digits after).
func TestParamsAnswerAsTheMapsDid(t *testing.T) {
	form := url.Values{
		"A": {"1"}, "A-b": {"2"}, "A,c": {"3"}, "A.1": {"4"}, "A.1.x": {"5"}, "A.10": {"6"}, "A/": {"7"},
		"B-1": {"8"}, "B.2.y": {"9"}, "C": {}, "D..E": {"x"}, ".F": {"y"}, "": {"z"},
		strings.Repeat("d.", 40) + "e": {"deep"},
	}
	for _, body := range []string{form.Encode(), "A=1&A=2&B.1=x&B.1=y&C&D=%41&" + form.Encode()} {
		r := httptest.NewRequest("POST", "/", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		p, err := requestParams(r)
		if err != nil {
			t.Fatal(err)
		}
		want := httptest.NewRequest("POST", "/", strings.NewReader(body))
		want.Header = r.Header.Clone()
		if err := want.ParseForm(); err != nil {
			t.Fatal(err)
		}
		checkAgainstMaps(t, p, want.Form)
	}
	p := newParams(form)
	checkAgainstMaps(t, p, form)
	if !p.has([]byte("C")) {
		t.Fatal("a name without values is not there")
	}
	if _, ok := p.value([]byte("C")); ok {
		t.Fatal("a name without values has one")
	}
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
