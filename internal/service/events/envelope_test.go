package events

import (
	"bytes"
	"encoding/json"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/wharf-dev/wharf/internal/pattern"
)

// envelopeCases are envelopes whose strings and details need every kind of
// escaping and compacting marshal does.
var envelopeCases = []envelope{
	{Version: "0", ID: "6a7e8feb-b491-4cf7-a9f1-bf3703467718", DetailType: "Order", Source: "com.example", Account: "123456789012",
		Time: "2024-01-01T00:00:00Z", Region: "us-east-1", Resources: []string{}, Detail: json.RawMessage(`{"amount":150}`)},
	{Version: "0", ID: "x", DetailType: "a \"quoted\" \\ <b>&amp;</b>", Source: "s\n\r\t\b\f\x00\x1f\x7f", Account: "1",
		Time: "t", Region: "r", Resources: []string{"arn:aws:s3:::b", "\u2028\u2029", "bad \xff utf-8 \xe2\x80"},
		Detail: json.RawMessage(" {\n \"a\" : [ 1 , 2.5e10 , \"x y\\n\" ] ,\t\"<&>\": {\"\u2028\": null} } ")},
	{Version: "0", ID: "", DetailType: "", Source: "", Account: "", Time: "", Region: "", Resources: nil, Detail: nil},
	{Version: "0", ID: "é日本\U0001F600", Resources: []string{""}, Detail: json.RawMessage(`{"s":"with \" and \\ inside, and spaces"}`)},
	{Version: "0", Detail: json.RawMessage(`{"a":`)},                      // not JSON
	{Version: "0", Detail: json.RawMessage(`{"a":1} {"b":2}`)},            // two values
	{Version: "0", Detail: json.RawMessage("{\"a\":\"\xff\"}")},           // invalid UTF-8 in a string
	{Version: "0", Detail: json.RawMessage(`{"a":"unterminated \"}`)},     // a string left open
	{Version: "0", Detail: json.RawMessage(`{"a" :"x\\\\" , "b":"\\""}`)}, // escaped backslashes before quotes
}

func TestEnvelopeEncodingMatchesMarshal(t *testing.T) {
	for _, env := range envelopeCases {
		checkEnvelope(t, env)
	}
}

func FuzzEnvelopeEncodingMatchesMarshal(f *testing.F) {
	for _, env := range envelopeCases {
		res := ""
		if len(env.Resources) > 0 {
			res = env.Resources[0]
		}
		f.Add(env.ID, env.DetailType, env.Source, res, []byte(env.Detail))
	}
	f.Fuzz(func(t *testing.T, id, detailType, source, resource string, detail []byte) {
		checkEnvelope(t, envelope{Version: "0", ID: id, DetailType: detailType, Source: source, Account: "123456789012",
			Time: "2024-01-01T00:00:00Z", Region: "us-east-1", Resources: []string{resource, source}, Detail: detail})
	})
}

// checkEnvelope fails unless env.encode gives marshal's bytes, or both fail.
func checkEnvelope(t *testing.T, env envelope) {
	t.Helper()
	want, wantErr := marshal(env)
	got, err := env.encode()
	if (err != nil) != (wantErr != nil) {
		t.Fatalf("%+v: encode error %v, marshal error %v", env, err, wantErr)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%+v:\nencode  %s\nmarshal %s", env, got, want)
	}
	// A detail its caller has checked (validDetail) is encoded the same.
	if json.Valid(env.Detail) {
		checked := env
		checked.validDetail = true
		if got2, err := checked.encode(); err != nil || !bytes.Equal(got2, got) {
			t.Fatalf("%+v: encode with the detail checked made %s (%v), without %s", env, got2, err, got)
		}
	}
	// An outbox entry copies an encoded envelope as it is (pending.compact):
	// it must be what compacting it makes.
	if err == nil {
		if c, cerr := appendCompact(nil, got); cerr != nil || !bytes.Equal(c, got) {
			t.Fatalf("%+v: encode made %s, which compacts to %s (%v)", env, got, c, cerr)
		}
	}
}

func FuzzEnvelopeEventMatchesParseEvent(f *testing.F) {
	for _, env := range envelopeCases {
		res := ""
		if len(env.Resources) > 0 {
			res = env.Resources[0]
		}
		f.Add(env.ID, env.DetailType, env.Source, res, []byte(env.Detail))
	}
	f.Fuzz(func(t *testing.T, id, detailType, source, resource string, detail []byte) {
		for _, res := range [][]string{{resource, source}, {}, nil} {
			checkEnvelopeEvent(t, envelope{Version: "0", ID: id, DetailType: detailType, Source: source, Account: "123456789012",
				Time: "2024-01-01T00:00:00Z", Region: "us-east-1", Resources: res, Detail: detail})
		}
	})
}

func TestEnvelopeEventMatchesParseEvent(t *testing.T) {
	for _, env := range envelopeCases {
		checkEnvelopeEvent(t, env)
	}
}

// checkEnvelopeEvent fails unless env.event, when it builds an event,
// builds the one pattern.ParseEvent parses from env's encoding.
func checkEnvelopeEvent(t *testing.T, env envelope) {
	t.Helper()
	got, ok := env.event()
	raw, err := env.encode()
	if err != nil {
		if ok {
			t.Fatalf("%+v: event built from an envelope that does not encode (%v)", env, err)
		}
		return
	}
	want, err := pattern.ParseEvent(raw)
	if err != nil {
		t.Fatalf("%s: %v", raw, err)
	}
	if ok && !reflect.DeepEqual(got.Object(), want.Object()) {
		t.Fatalf("%s:\nbuilt  %#v\nparsed %#v", raw, got.Object(), want.Object())
	}
	if !ok && utf8.ValidString(env.ID+env.DetailType+env.Source+strings.Join(env.Resources, "")) && json.Valid(env.Detail) {
		t.Fatalf("%+v: no event built from valid members", env)
	}
}

func BenchmarkEnvelopeEncode(b *testing.B) {
	env := envelopeCases[0]
	b.Run("encode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			env.encode()
		}
	})
	b.Run("marshal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			marshal(env)
		}
	})
}

func TestEventIDsAreVersion4UUIDs(t *testing.T) {
	re := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	seen := map[string]bool{}
	for range 1000 {
		id := uuid()
		if !re.MatchString(id) {
			t.Fatalf("event id %q is not a version 4 UUID", id)
		}
		if seen[id] {
			t.Fatalf("event id %q given twice", id)
		}
		seen[id] = true
	}
}

var pendingCases = []pending{
	{Account: "123456789012", Region: "us-east-1", Bus: "default", Event: json.RawMessage(`{"id":"1","detail":{"a":"<&>"}}`),
		Ingested: time.Date(2024, 5, 1, 12, 0, 0, 123456789, time.UTC)},
	{Account: "1", Region: "r", Bus: "b\u2028\"", Event: json.RawMessage(` { "a" : [1, 2] } `), Rule: "tick", Hops: 3,
		Ingested: time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC), Replay: "rp", ReplayRules: []string{"arn:a", "arn:\xff"}},
	{Account: "1", Region: "r", Bus: "b", Ingested: time.Date(2024, 5, 1, 12, 0, 0, 0, time.FixedZone("x", 3600))},
	{Account: "1", Region: "r", Bus: "b", Event: json.RawMessage(`{`), Ingested: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)},
	{Account: "1", Region: "r", Bus: "b", Event: json.RawMessage(`{`)},
	{Account: "1", Region: "r", Direct: &Delivery{EventID: "e", Input: []byte(`{}`)}, Ingested: time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)},
}

func TestPendingEncodingMatchesMarshal(t *testing.T) {
	for _, p := range pendingCases {
		checkPending(t, p)
	}
}

func FuzzPendingEncodingMatchesMarshal(f *testing.F) {
	for _, p := range pendingCases {
		rule := ""
		if len(p.ReplayRules) > 0 {
			rule = p.ReplayRules[0]
		}
		f.Add(p.Bus, []byte(p.Event), p.Rule, int64(p.Hops), p.Ingested.UnixNano(), p.Replay, rule)
	}
	f.Fuzz(func(t *testing.T, bus string, event []byte, rule string, hops, ingested int64, replay, replayRule string) {
		p := pending{Account: "123456789012", Region: "us-east-1", Bus: bus, Event: event, Rule: rule, Hops: int(hops),
			Ingested: time.Unix(0, ingested).UTC(), Replay: replay}
		if replayRule != "" {
			p.ReplayRules = []string{replayRule, bus}
		}
		checkPending(t, p)
	})
}

// checkPending fails unless p.encode gives marshal's bytes, or both fail.
func checkPending(t *testing.T, p pending) {
	t.Helper()
	want, wantErr := marshal(p)
	got, err := p.encode()
	if (err != nil) != (wantErr != nil) {
		t.Fatalf("%+v: encode error %v, marshal error %v", p, err, wantErr)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%+v:\nencode  %s\nmarshal %s", p, got, want)
	}
}
