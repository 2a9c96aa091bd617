package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/wharf-dev/wharf/internal/config"
	"github.com/wharf-dev/wharf/internal/server"
)

// BenchmarkGetCallerIdentity is bench/foundation's STS load without the
// network: a signed query-protocol GetCallerIdentity, as the Go SDK sends
// it, through the server's whole request path, in memory.
func BenchmarkGetCallerIdentity(b *testing.B) {
	sys := testSystem(b)
	cfg, err := config.Parse([]string{"--ephemeral", "--listen", "127.0.0.1:0"}, func(string) string { return "" }, io.Discard)
	if err != nil {
		b.Fatal(err)
	}
	srv := server.New(server.Options{Authorize: sys.Authz.Authorize, Config: cfg, Services: sys.registrations(), Codecs: codecs(), Keys: sys.Keys()})
	body := "Action=GetCallerIdentity&Version=2011-06-15"
	req := httptest.NewRequest(http.MethodPost, "http://127.0.0.1:4566/", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("User-Agent", "aws-sdk-go-v2/1.36.3 ua/2.1 os/linux lang/go#1.26 md/GOOS#linux md/GOARCH#amd64 api/sts#1.33.19 m/E")
	req.Header.Set("Amz-Sdk-Invocation-Id", "2f3f8e5e-5b9e-4d0a-9a55-7e1ad2d0e1f0")
	req.Header.Set("Amz-Sdk-Request", "attempt=1; max=3")
	sum := sha256.Sum256([]byte(body))
	if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: "test", SecretAccessKey: "test"}, req, hex.EncodeToString(sum[:]), "sts", "us-east-1", time.Now()); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		r := req.Clone(context.Background())
		r.Body = readCloser{strings.NewReader(body)}
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, r)
		if w.Code != http.StatusOK {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
}
