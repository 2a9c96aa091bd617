// Package wharfproc runs the real wharf binary as a child process for the tests
// under test/ that need a process to kill, stop or restart: it builds cmd/wharf
// once per test binary, starts `wharf serve` on a data directory and a free
// loopback port, and kills or stops it.
package wharfproc

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"
)

var built struct {
	once sync.Once
	dir  string
	bin  string
	err  error
}

// Build builds cmd/wharf into a temporary directory, once per test binary;
// Cleanup removes it.
func Build(t testing.TB) string {
	t.Helper()
	built.once.Do(func() {
		if built.dir, built.err = os.MkdirTemp("", "wharfproc"); built.err != nil {
			return
		}
		built.bin = filepath.Join(built.dir, "wharf")
		out, err := exec.Command("go", "build", "-o", built.bin, "github.com/wharf-dev/wharf/cmd/wharf").CombinedOutput()
		if err != nil {
			built.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if built.err != nil {
		t.Fatal(built.err)
	}
	return built.bin
}

// Cleanup removes the binary Build made; call it from TestMain.
func Cleanup() {
	if built.dir != "" {
		os.RemoveAll(built.dir)
	}
}

// Proc is a running `wharf serve`.
type Proc struct {
	Addr string
	cmd  *exec.Cmd
	done chan struct{}
}

// Start runs `wharf serve` on dataDir with extra flags and waits until its
// health endpoint answers. The process is killed when the test ends.
func Start(t testing.TB, bin, dataDir string, flags ...string) *Proc {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	args := append([]string{"serve", "--data-dir", dataDir, "--listen", addr, "--log-level", "warn"}, flags...)
	cmd := exec.Command(bin, args...)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &Proc{Addr: addr, cmd: cmd, done: make(chan struct{})}
	go func() { cmd.Wait(); close(p.done) }()
	t.Cleanup(p.Kill)
	for deadline := time.Now().Add(60 * time.Second); ; {
		if _, err := p.Health(); err == nil {
			return p
		}
		select {
		case <-p.done:
			t.Fatalf("wharf exited before it was ready: %v", cmd.ProcessState)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("wharf did not become ready")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Endpoint is the base URL clients use.
func (p *Proc) Endpoint() string { return "http://" + p.Addr }

// Health is what GET /_wharf/health answered.
type Health struct {
	Status string `json:"status"`
	Reason string `json:"reason"`
}

// Health asks the health endpoint.
func (p *Proc) Health() (Health, error) {
	var h Health
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(p.Endpoint() + "/_wharf/health")
	if err != nil {
		return h, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return h, fmt.Errorf("health: %s", resp.Status)
	}
	return h, json.NewDecoder(resp.Body).Decode(&h)
}

// Kill sends SIGKILL and waits for the process to be gone.
func (p *Proc) Kill() {
	p.cmd.Process.Kill()
	<-p.done
}

// Stop sends SIGTERM and returns the exit code, or an error if the process
// is still running after timeout (it is then killed).
func (p *Proc) Stop(timeout time.Duration) (int, error) {
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return 0, err
	}
	select {
	case <-p.done:
		return p.cmd.ProcessState.ExitCode(), nil
	case <-time.After(timeout):
		p.Kill()
		return 0, errors.New("wharf did not stop after SIGTERM")
	}
}
