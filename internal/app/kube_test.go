package app

import (
	"context"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wharf-dev/wharf/internal/config"
)

// TestKubernetesRuntimeWithoutAClusterRefusesToStart: --runtime kubernetes is
// asked for by name, so a cluster wharf cannot reach stops it at start with
// an error naming the API server, instead of every RunTask failing later.
func TestKubernetesRuntimeWithoutAClusterRefusesToStart(t *testing.T) {
	// A port that refuses: listen, note it, close.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	err = os.WriteFile(kubeconfig, []byte(`apiVersion: v1
kind: Config
clusters:
- name: none
  cluster:
    server: https://`+addr+`
    insecure-skip-tls-verify: true
users:
- name: none
  user:
    token: t
contexts:
- name: none
  context: {cluster: none, user: none}
current-context: none
`), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Parse([]string{"--ephemeral", "--runtime", "kubernetes", "--kubeconfig", kubeconfig, "--listen", "127.0.0.1:0"}, func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	w, err := Start(context.Background(), cfg, slog.New(slog.DiscardHandler), "test")
	if err == nil {
		t.Fatalf("wharf started on an unreachable cluster (%s)", w.addr)
	}
	if msg := err.Error(); !strings.Contains(msg, "--runtime kubernetes") || !strings.Contains(msg, addr) {
		t.Errorf("error %q: want it to say --runtime kubernetes and the API server %s", msg, addr)
	}
}
