package sigv4

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/wharf-dev/wharf/internal/apierr"
)

const (
	testAccessKey = "AKIDEXAMPLE"
	testSecret    = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
)

// outcome is what the verifying server saw of one request.
type outcome struct {
	cred    *Credential
	err     error
	body    []byte
	mode    string // x-amz-content-sha256 as received
	trailer http.Header
}

// verifier starts a loopback server that parses, verifies and decodes every
// request the way wharf's front door does, with the given clock and secret,
// and reports each outcome on the returned channel.
func verifier(t *testing.T, now func() time.Time, secret string) (string, <-chan outcome) {
	t.Helper()
	srv, ch := startVerifier(t, now, secret, false)
	return srv.URL, ch
}

// tlsVerifier is verifier over TLS, which aws-sdk-go-v2 requires before it
// streams a payload with a trailing checksum; use the returned server's Client.
func tlsVerifier(t *testing.T, now func() time.Time, secret string) (*httptest.Server, <-chan outcome) {
	t.Helper()
	return startVerifier(t, now, secret, true)
}

func startVerifier(t *testing.T, now func() time.Time, secret string, useTLS bool) (*httptest.Server, <-chan outcome) {
	ch := make(chan outcome, 16)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o := outcome{mode: r.Header.Get("X-Amz-Content-Sha256")}
		o.cred, o.err = Parse(r)
		if o.err == nil && o.cred != nil {
			o.err = Verify(r, o.cred, secret, now())
		}
		if o.err == nil {
			var body io.ReadCloser
			body, o.err = Body(r, o.cred, secret)
			if o.err == nil {
				o.body, o.err = io.ReadAll(body)
				body.Close()
			}
		}
		o.trailer = r.Trailer
		ch <- o
		if e := apierr.As(o.err); e != nil {
			w.WriteHeader(e.Status)
			return
		}
		if o.err != nil {
			w.WriteHeader(500)
			return
		}
		w.Header().Set("ETag", `"etag"`)
	}))
	if useTLS {
		srv.StartTLS()
	} else {
		srv.Start()
	}
	t.Cleanup(srv.Close)
	return srv, ch
}

func receive(t *testing.T, ch <-chan outcome) outcome {
	t.Helper()
	select {
	case o := <-ch:
		return o
	case <-time.After(10 * time.Second):
		t.Fatal("the server saw no request")
		return outcome{}
	}
}

// wantCode fails t unless err is an *apierr.Error with code (or nil when code is "").
func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if code == "" {
		if err != nil {
			t.Fatalf("want success, got %v", err)
		}
		return
	}
	e := apierr.As(err)
	if e == nil {
		t.Fatalf("want %s, got %v", code, err)
	}
	if e.Code != code {
		t.Fatalf("want %s, got %s (%s)", code, e.Code, e.Message)
	}
}

func isAPIErr(err error) bool {
	var e *apierr.Error
	return err == nil || errors.As(err, &e)
}

func apierrOf(err error) *apierr.Error { return apierr.As(err) }
