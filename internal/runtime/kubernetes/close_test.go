package kubernetes

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// After Close no connection to the API server is left open: not the idle
// ones Ping left, not the watch's. Before, idle connections lived for the
// transport's idle timeout (90 s) after the Runner was gone.
func TestCloseLeavesNoConnectionToTheAPIServer(t *testing.T) {
	var mu sync.Mutex
	open := map[net.Conn]bool{}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		switch {
		case req.URL.Path == "/version":
			writeJSON(w, 200, map[string]string{"gitVersion": "v1.33.0"})
		case req.URL.Query().Get("watch") == "true":
			w.WriteHeader(200)
			w.(http.Flusher).Flush()
			<-req.Context().Done()
		default:
			writeJSON(w, 200, PodList{Metadata: ListMeta{ResourceVersion: "1"}})
		}
	}))
	srv.Config.ConnState = func(c net.Conn, s http.ConnState) {
		mu.Lock()
		defer mu.Unlock()
		switch s {
		case http.StateNew:
			open[c] = true
		case http.StateClosed, http.StateHijacked:
			delete(open, c)
		}
	}
	srv.Start()
	defer srv.Close()
	openConns := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(open)
	}

	r := newRunner(newClient(&restConfig{Host: srv.URL, TLS: &tls.Config{}}), "ns")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := r.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	if err := r.watch(ctx); err != nil {
		t.Fatal(err)
	}
	// The watch holds a connection: this Ping opens another, idle after.
	if err := r.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	if n := openConns(); n < 2 {
		t.Fatalf("%d connections to the API server while watching and after a Ping, want 2", n)
	}
	r.Close()
	for deadline := time.Now().Add(10 * time.Second); openConns() > 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d connections to the API server still open 10 s after Close", openConns())
		}
	}
}
