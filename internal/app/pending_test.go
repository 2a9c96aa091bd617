package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/wharf-dev/wharf/internal/config"
)

// TestServesWhileTheDefaultRuntimeIsChosen: without --runtime, wharf asks
// Docker's engine whether it answers, and serves while it waits for the answer;
// Start returns once the runtime is chosen, naming it for the ready line. The
// engine here holds its answer until the test has been served, then fails it,
// so the process runtime is chosen.
func TestServesWhileTheDefaultRuntimeIsChosen(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "engine.sock")
	engine, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	asked, release := make(chan struct{}, 1), make(chan struct{})
	es := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case asked <- struct{}{}:
		default:
		}
		<-release
		http.Error(w, "not an engine", http.StatusInternalServerError)
	})}
	go es.Serve(engine)
	defer es.Close()
	defer func() {
		select {
		case <-release:
		default:
			close(release)
		}
	}()
	t.Setenv("DOCKER_HOST", "unix://"+sock)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cfg, err := config.Parse([]string{"--ephemeral", "--listen", addr}, func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	type started struct {
		w   *Wharf
		err error
	}
	done := make(chan started, 1)
	go func() {
		w, err := Start(ctx, cfg, slog.New(slog.DiscardHandler), "test")
		done <- started{w, err}
	}()

	select {
	case <-asked:
	case s := <-done:
		t.Fatalf("Start returned (%v) before asking the engine", s.err)
	case <-time.After(time.Minute):
		t.Fatal("the engine was never asked")
	}
	var health int
	for deadline := time.Now().Add(time.Minute); health != http.StatusOK && time.Now().Before(deadline); {
		resp, err := http.Get(fmt.Sprintf("http://%s/_wharf/health", addr))
		if err == nil {
			health = resp.StatusCode
			resp.Body.Close()
		} else {
			time.Sleep(5 * time.Millisecond)
		}
	}
	if health != http.StatusOK {
		t.Fatalf("/_wharf/health: %d while the engine had not answered, want 200", health)
	}
	select {
	case s := <-done:
		t.Fatalf("Start returned (%v) before the runtime was chosen", s.err)
	default:
	}

	close(release)
	s := <-done
	if s.err != nil {
		t.Fatal(s.err)
	}
	if got := s.w.Runtime(); got != "process" {
		t.Errorf("runtime %q, want process (the engine failed its ping)", got)
	}
	cancel()
	if err := s.w.Wait(); err != nil {
		t.Errorf("Wait: %v", err)
	}
}
