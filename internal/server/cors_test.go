package server

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/wharf-dev/wharf/internal/apierr"
	"github.com/wharf-dev/wharf/internal/awsapi"
	"github.com/wharf-dev/wharf/internal/config"
	"github.com/wharf-dev/wharf/internal/protocol"
)

// plainCodec answers every request with the one operation GetObject and
// renders errors as "<status> <code>", enough to see what the server did.
type plainCodec struct{}

func (plainCodec) Operation(svc *awsapi.Service, r *http.Request) (*awsapi.Operation, error) {
	return svc.Operations()["GetObject"], nil
}

func (plainCodec) Decode(*awsapi.Service, *awsapi.Operation, *http.Request, any) error { return nil }

func (plainCodec) Encode(w http.ResponseWriter, _ *http.Request, _ *awsapi.Service, _ *awsapi.Operation, out any, _ string) error {
	_, err := io.WriteString(w, out.(string))
	return err
}

func (plainCodec) EncodeError(w http.ResponseWriter, _ *http.Request, _ *awsapi.Service, e *apierr.Error, _ string) {
	w.WriteHeader(e.Status)
	io.WriteString(w, e.Code)
}

func TestCORSHookAnswersPreflightAndDecoratesOtherRequests(t *testing.T) {
	allow := func(r *http.Request, h http.Header) error {
		if r.Header.Get("Origin") != "https://app.example" {
			return apierr.New("AccessForbidden", 403, "CORSResponse: This CORS request is not allowed.")
		}
		h.Set("Access-Control-Allow-Origin", r.Header.Get("Origin"))
		return nil
	}
	for _, tc := range []struct {
		name, auth, method, origin string
		withCORS                   bool
		status                     int
		body, allowOrigin          string
	}{
		{"preflight allowed is answered without the operation", config.AuthAny, http.MethodOptions, "https://app.example", true, 200, "", "https://app.example"},
		{"preflight refused is rendered by the codec", config.AuthAny, http.MethodOptions, "https://evil.example", true, 403, "AccessForbidden", ""},
		{"preflight needs no signature", config.AuthStrict, http.MethodOptions, "https://app.example", true, 200, "", "https://app.example"},
		{"request with an allowed Origin gets the headers", config.AuthAny, http.MethodGet, "https://app.example", true, 200, "object", "https://app.example"},
		{"request with a refused Origin goes on without them", config.AuthAny, http.MethodGet, "https://evil.example", true, 200, "object", ""},
		{"request without Origin gets none", config.AuthAny, http.MethodGet, "", true, 200, "object", ""},
		{"an unsigned request in strict mode still fails auth", config.AuthStrict, http.MethodGet, "https://app.example", true, 403, "", "https://app.example"},
		{"services without the hook see OPTIONS as any request", config.AuthAny, http.MethodOptions, "https://app.example", false, 200, "object", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := config.Parse([]string{"--auth", tc.auth, "--ephemeral"}, func(string) string { return "" }, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			desc := &awsapi.Service{ID: "s3", SigningName: "s3", EndpointPrefix: "s3", Protocols: []string{awsapi.ProtocolRestXML},
				Quirks:        awsapi.Quirks{S3AuthErrors: true, VirtualHostedBuckets: true},
				OperationList: []awsapi.Operation{{Name: "GetObject", NewInput: func() any { return new(struct{}) }}}}
			reg := Registration{Desc: desc, Handlers: map[string]awsapi.Handler{
				"GetObject": func(context.Context, any) (any, error) { return "object", nil },
			}}
			if tc.withCORS {
				reg.CORS = allow
			}
			srv := New(Options{Config: cfg, Services: []Registration{reg},
				Codecs: map[string]protocol.Codec{awsapi.ProtocolRestXML: plainCodec{}}})
			req := httptest.NewRequest(tc.method, "/bucket/key", nil)
			if tc.origin != "" {
				req.Header.Set("Origin", tc.origin)
			}
			rec := httptest.NewRecorder()
			srv.ServeHTTP(rec, req)
			if rec.Code != tc.status {
				t.Errorf("status %d, want %d (%s)", rec.Code, tc.status, rec.Body)
			}
			if tc.body != "" && rec.Body.String() != tc.body {
				t.Errorf("body %q, want %q", rec.Body, tc.body)
			}
			if got := rec.Header().Get("Access-Control-Allow-Origin"); got != tc.allowOrigin {
				t.Errorf("Access-Control-Allow-Origin %q, want %q", got, tc.allowOrigin)
			}
		})
	}
}
