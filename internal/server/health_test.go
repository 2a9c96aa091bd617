package server

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/wharf-dev/wharf/internal/awsapi"
)

// jsonHealth is the health answer as encoding/json's Encoder writes it, the
// shape healthBody must reproduce byte for byte.
func jsonHealth(t *testing.T, services []*service, version, reason string) []byte {
	t.Helper()
	type svcHealth struct {
		State       string `json:"state"`
		Operations  int    `json:"operations"`
		Implemented int    `json:"implemented"`
	}
	m := map[string]svcHealth{}
	for _, sv := range services {
		state := "running"
		if len(sv.handlers) == 0 {
			state = "not_implemented"
		}
		m[sv.desc.ID] = svcHealth{State: state, Operations: len(sv.desc.Operations()), Implemented: len(sv.handlers)}
	}
	body := map[string]any{"status": "running", "version": version, "services": m}
	if reason != "" {
		body["status"], body["reason"] = "degraded", reason
	}
	var b bytes.Buffer
	if err := json.NewEncoder(&b).Encode(body); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestHealthBodyIsWhatEncodingJSONWrites: the hand-written health answer is
// byte for byte encoding/json's, whatever the strings hold (a degraded
// reason is an error's text: quotes, HTML, control characters, line
// separators, invalid UTF-8).
func TestHealthBodyIsWhatEncodingJSONWrites(t *testing.T) {
	ops := func(n int) []awsapi.Operation {
		l := make([]awsapi.Operation, n)
		for i := range l {
			l[i].Name = strings.Repeat("x", i+1)
		}
		return l
	}
	h := func(n int) map[string]awsapi.Handler {
		m := map[string]awsapi.Handler{}
		for i := range n {
			m[strings.Repeat("x", i+1)] = nil
		}
		return m
	}
	services := []*service{
		{desc: &awsapi.Service{ID: "sqs", OperationList: ops(23)}, handlers: h(23)},
		{desc: &awsapi.Service{ID: "s3", OperationList: ops(107)}, handlers: h(90)},
		{desc: &awsapi.Service{ID: "s3control", OperationList: ops(12)}},
		{desc: &awsapi.Service{ID: "dynamodb", OperationList: ops(5)}, handlers: h(4)},
		{desc: &awsapi.Service{ID: "sqs", OperationList: ops(2)}}, // a later one of the same id wins, as in a map
	}
	for _, tc := range []struct{ version, reason string }{
		{"v1.2.3", ""},
		{"", ""},
		{"dev (abc123, dirty)", "disk full: write /data/wharf.db: no space left on device"},
		{`"quoted" \ back`, "<b>&amp;</b>\n\r\t\b\f\x00\x1f\x7f"},
		{"caf\u00e9 \u2028 \u2029 \U0001F600", "bad \xff\xfe utf-8 \xe2\x80"},
	} {
		got := healthBody(services, tc.version, tc.reason)
		want := jsonHealth(t, services, tc.version, tc.reason)
		if !bytes.Equal(got, want) {
			t.Errorf("version %q reason %q:\n got %s\nwant %s", tc.version, tc.reason, got, want)
		}
	}
	if got, want := healthBody(nil, "v", ""), jsonHealth(t, nil, "v", ""); !bytes.Equal(got, want) {
		t.Errorf("no services:\n got %s\nwant %s", got, want)
	}
}
