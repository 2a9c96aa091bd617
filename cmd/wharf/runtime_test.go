package main

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestRuntimeChoiceWithoutAnEngine runs the real binary where no container
// engine answers (DOCKER_HOST names a socket nobody listens on):
// --runtime docker refuses to start and says why; with no --runtime wharf
// starts on the process runtime and warns loudly, before its ready line,
// that tasks run as host processes.
func TestRuntimeChoiceWithoutAnEngine(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "wharf")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	noEngine := "unix://" + filepath.Join(dir, "no-engine.sock")
	env := append(os.Environ(), "DOCKER_HOST="+noEngine)

	t.Run("--runtime docker fails at start", func(t *testing.T) {
		cmd := exec.Command(bin, "serve", "--runtime", "docker", "--ephemeral", "--listen", "127.0.0.1:0")
		cmd.Env = env
		done := make(chan struct{})
		var out []byte
		var err error
		go func() { out, err = cmd.CombinedOutput(); close(done) }()
		select {
		case <-done:
		case <-time.After(60 * time.Second):
			cmd.Process.Kill()
			t.Fatal("wharf --runtime docker kept running without an engine")
		}
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
			t.Errorf("exit: %v, want status 1", err)
		}
		want := "wharf: --runtime docker: no container engine answers at " + noEngine
		if !strings.Contains(string(out), want) || strings.Contains(string(out), "wharf ready") {
			t.Errorf("output %q, want %q and no ready line", out, want)
		}
	})

	t.Run("default warns and runs processes", func(t *testing.T) {
		cmd := exec.Command(bin, "serve", "--ephemeral", "--listen", "127.0.0.1:0", "--log-format", "json")
		cmd.Env = env
		stderr, err := cmd.StderrPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		defer cmd.Process.Kill()
		var warning, ready map[string]any
		lines := bufio.NewScanner(stderr)
		for ready == nil && lines.Scan() {
			var rec map[string]any
			if json.Unmarshal(lines.Bytes(), &rec) != nil {
				continue
			}
			msg, _ := rec["msg"].(string)
			switch {
			case msg == "wharf ready":
				ready = rec
			case strings.Contains(msg, "NO CONTAINER ENGINE"):
				warning = rec
			}
		}
		if ready == nil {
			t.Fatal("no ready line")
		}
		if ready["runtime"] != "process" {
			t.Errorf("ready line runtime %v, want process", ready["runtime"])
		}
		if warning == nil || warning["level"] != "WARN" {
			t.Fatalf("no WARN line about the missing engine before the ready line (got %v)", warning)
		}
		msg := warning["msg"].(string)
		for _, s := range []string{noEngine, "HOST PROCESSES", "--process-images", "CannotPullContainerError"} {
			if !strings.Contains(msg, s) {
				t.Errorf("warning %q does not say %q", msg, s)
			}
		}
		cmd.Process.Signal(syscall.SIGTERM)
		for lines.Scan() {
		}
		cmd.Wait()
	})
}
