// Package wharftest starts wharf for tests, in the spirit of net/http/httptest:
// Start runs one in this process on a free loopback port, Binary builds
// cmd/wharf once and Serve runs it as a child process. Both give an
// aws-sdk-go-v2 configuration for the server and stop it when the test ends.
package wharftest

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/wharf-dev/wharf/internal/app"
	"github.com/wharf-dev/wharf/internal/config"
	"github.com/wharf-dev/wharf/internal/sdkhttp"
)

// Region is the region Config's clients call.
const Region = "us-east-1"

// Server is a wharf serving on a loopback address.
type Server struct {
	// Addr is host:port; URL is "http://" + Addr.
	Addr, URL string
	// Wharf is the in-process wharf (nil for a child process).
	Wharf *app.Wharf
}

// Start runs wharf in this process on 127.0.0.1:0 with in-memory state
// (--ephemeral) and args appended to its flags. It is shut down when the test
// ends, and a shutdown error fails the test.
func Start(t testing.TB, args ...string) *Server {
	t.Helper()
	return StartLogging(t, slog.New(slog.DiscardHandler), args...)
}

// StartLogging is Start with wharf's log going to log.
func StartLogging(t testing.TB, log *slog.Logger, args ...string) *Server {
	t.Helper()
	cfg, err := config.Parse(append([]string{"--listen", "127.0.0.1:0", "--ephemeral"}, args...), func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	w, err := app.Start(ctx, cfg, log, "test")
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		if err := w.Wait(); err != nil {
			t.Errorf("wharf shutdown: %v", err)
		}
	})
	return &Server{Addr: w.Addr(), URL: "http://" + w.Addr(), Wharf: w}
}

// Config is an SDK configuration for s in Region with the static key
// test/test (any key is accepted unless wharf runs with --auth strict) and
// the SDK's default retries.
func (s *Server) Config() aws.Config { return s.ConfigWith("test", "test", "") }

// ConfigWith is Config with the given credentials.
func (s *Server) ConfigWith(key, secret, token string) aws.Config {
	return aws.Config{
		Region:       Region,
		Credentials:  credentials.NewStaticCredentialsProvider(key, secret, token),
		BaseEndpoint: aws.String(s.URL),
		HTTPClient:   sdkhttp.Client(nil), // see sdkhttp: an SDK race, not wharf's
	}
}

var built struct {
	once sync.Once
	bin  string
	err  error
}

// Binary builds cmd/wharf once per test binary, into a new temporary
// directory, and returns its path. Call Cleanup from TestMain to remove it.
func Binary(t testing.TB) string {
	t.Helper()
	built.once.Do(func() {
		dir, err := os.MkdirTemp("", "wharftest-bin-")
		if err != nil {
			built.err = err
			return
		}
		built.bin = filepath.Join(dir, "wharf")
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

// Cleanup removes the binary Binary built, if any. Call it from TestMain
// after m.Run.
func Cleanup() {
	if built.bin != "" {
		os.RemoveAll(filepath.Dir(built.bin))
	}
}

// Process is `wharf serve` running as a child process.
type Process struct {
	Server
	Cmd  *exec.Cmd
	done chan struct{}
}

// Serve runs bin serve on addr with args, its stderr to the test's stderr, and
// waits until its health endpoint answers. addr is usually "127.0.0.1:0": the
// address wharf bound is read from its ready line (logged at info, which
// Serve asks for over WHARF_LOG_LEVEL; args must not set --log-level above
// it), and no other process can take the port between a pick and the bind. The process is killed (SIGKILL) when the test ends
// unless it has exited.
func Serve(t testing.TB, bin, addr string, args ...string) *Process {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"serve", "--listen", addr, "--log-level", "info"}, args...)...)
	// A pipe of Serve's own rather than cmd.StderrPipe: Wait does not wait
	// for it, and what wharf's children keep open of it holds up no one.
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = w
	err = cmd.Start()
	w.Close()
	if err != nil {
		r.Close()
		t.Fatal(err)
	}
	ready := make(chan string, 1)
	go func() {
		defer r.Close()
		lines := bufio.NewScanner(r)
		lines.Buffer(nil, 1<<20)
		for lines.Scan() {
			fmt.Fprintln(os.Stderr, lines.Text())
			if a, ok := readyAddr(lines.Text()); ok {
				select {
				case ready <- a:
				default:
				}
			}
		}
		io.Copy(os.Stderr, r) // after a line longer than the scanner takes
	}()
	p := &Process{Cmd: cmd, done: make(chan struct{})}
	go func() { cmd.Wait(); close(p.done) }()
	t.Cleanup(p.Kill)
	deadline := time.Now().Add(60 * time.Second)
	select {
	case a := <-ready:
		p.Server = Server{Addr: a, URL: "http://" + a}
	case <-p.done:
		t.Fatalf("wharf exited before it was ready: %v", cmd.ProcessState)
	case <-time.After(time.Until(deadline)):
		t.Fatal("wharf did not say it was ready in 60 s")
	}
	for {
		resp, err := http.Get(p.URL + "/_wharf/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p
			}
		}
		select {
		case <-p.done:
			t.Fatalf("wharf exited before it was ready: %v", cmd.ProcessState)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("wharf did not become ready in 60 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// readyAddr returns the address in wharf's ready line ("wharf ready", text
// or JSON), which is the one it bound.
func readyAddr(line string) (string, bool) {
	var rec struct{ Msg, Listen string }
	if json.Unmarshal([]byte(line), &rec) == nil {
		return rec.Listen, rec.Msg == "wharf ready" && rec.Listen != ""
	}
	if !strings.Contains(line, `msg="wharf ready" `) {
		return "", false
	}
	_, rest, _ := strings.Cut(line, " listen=")
	a, _, _ := strings.Cut(rest, " ")
	return a, a != ""
}

// Kill sends SIGKILL and waits until the process is gone.
func (p *Process) Kill() {
	p.Cmd.Process.Kill()
	<-p.done
}

// Done is closed when the process has exited.
func (p *Process) Done() <-chan struct{} { return p.done }
