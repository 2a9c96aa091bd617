package app

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// BenchmarkGetCallerIdentity is bench/foundation's STS load without the
// network: a signed query-protocol GetCallerIdentity, as the Go SDK sends
// it, through the server's whole request path, in memory.
func BenchmarkGetCallerIdentity(b *testing.B) {
	_, srv := benchServer(b)
	body := "Action=GetCallerIdentity&Version=2011-06-15"
	req := httptest.NewRequest(http.MethodPost, "http://127.0.0.1:4566/", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("User-Agent", "aws-sdk-go-v2/1.36.3 ua/2.1 os/linux lang/go#1.26 md/GOOS#linux md/GOARCH#amd64 api/sts#1.33.19 m/E")
	req.Header.Set("Amz-Sdk-Invocation-Id", "2f3f8e5e-5b9e-4d0a-9a55-7e1ad2d0e1f0")
	req.Header.Set("Amz-Sdk-Request", "attempt=1; max=3")
	serveSigned(b, srv, req, body, "sts")
}
