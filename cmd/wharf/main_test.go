package main

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestVersionPrintsAVersion(t *testing.T) {
	var out strings.Builder
	if code := run([]string{"version"}, os.Getenv, &out, io.Discard); code != 0 {
		t.Fatalf("exit %d", code)
	}
	if !regexp.MustCompile(`^wharf \S+\n$`).MatchString(out.String()) {
		t.Errorf("version output %q", out.String())
	}
}

func TestUnknownCommandFails(t *testing.T) {
	var errOut strings.Builder
	if code := run([]string{"frobnicate"}, os.Getenv, io.Discard, &errOut); code != 2 {
		t.Errorf("exit %d, want 2", code)
	}
	if !strings.Contains(errOut.String(), "unknown command") {
		t.Errorf("stderr %q", errOut.String())
	}
}

// TestServeIsReadyHealthyAndStopsOnSIGTERM runs the real binary: it logs one ready
// line naming its address, answers the health endpoint with every service, and on
// SIGTERM shuts down cleanly (exit 0, store closed) with its data on disk.
func TestServeIsReadyHealthyAndStopsOnSIGTERM(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "wharf")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	data := filepath.Join(dir, "data")
	cmd := exec.Command(bin, "serve", "--listen", "127.0.0.1:0", "--log-format", "json")
	cmd.Env = append(os.Environ(), "WHARF_DATA_DIR="+data)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()

	lines := bufio.NewScanner(stderr)
	var ready map[string]any
	for lines.Scan() {
		var rec map[string]any
		if json.Unmarshal(lines.Bytes(), &rec) == nil && rec["msg"] == "wharf ready" {
			ready = rec
			break
		}
	}
	if ready == nil {
		t.Fatal("no ready line")
	}
	addr, _ := ready["listen"].(string)
	if !strings.HasPrefix(addr, "127.0.0.1:") || ready["storage"] != data || ready["iam"] != "audit" {
		t.Fatalf("ready line %v", ready)
	}

	resp, err := http.Get("http://" + addr + "/_wharf/health")
	if err != nil {
		t.Fatal(err)
	}
	var health struct {
		Status   string
		Services map[string]struct{ State string }
	}
	err = json.NewDecoder(resp.Body).Decode(&health)
	resp.Body.Close()
	if err != nil || health.Status != "running" {
		t.Fatalf("health %+v, %v", health, err)
	}
	for _, id := range []string{"sts", "iam", "s3", "sqs", "sns", "events", "scheduler", "ecs", "dynamodb", "application-autoscaling", "cloudwatch", "logs"} {
		if _, ok := health.Services[id]; !ok {
			t.Errorf("health lacks service %s", id)
		}
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	var stopped bool
	for lines.Scan() {
		stopped = stopped || strings.Contains(lines.Text(), `"wharf stopped"`)
	}
	waitErr := make(chan error, 1)
	go func() { waitErr <- cmd.Wait() }()
	select {
	case err := <-waitErr:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("did not stop after SIGTERM")
	}
	if !stopped {
		t.Error("no stopped line")
	}
	if entries, err := os.ReadDir(data); err != nil || len(entries) == 0 {
		t.Errorf("data dir %s empty after run: %v", data, err)
	}
}
