package diag_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/wharf-dev/wharf/internal/config"
	"github.com/wharf-dev/wharf/internal/wharftest"
)

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

func TestDebugAddrServesProfilesAndCounters(t *testing.T) {
	for _, durable := range []bool{false, true} {
		name := "memory"
		args := []string{"--debug-addr", "127.0.0.1:0"}
		if durable {
			name = "disk"
			args = append(args, "--ephemeral=false", "--data-dir", t.TempDir())
		}
		t.Run(name, func(t *testing.T) {
			srv := wharftest.Start(t, args...)
			debug := srv.Wharf.DebugAddr()
			if debug == "" || debug == srv.Addr {
				t.Fatalf("debug address %q (service %s)", debug, srv.Addr)
			}
			// Two commits through the real server, on a connection the SDK keeps open.
			client := sqs.NewFromConfig(srv.Config())
			for _, q := range []string{"a", "b"} {
				if _, err := client.CreateQueue(context.Background(), &sqs.CreateQueueInput{QueueName: aws.String(q)}); err != nil {
					t.Fatal(err)
				}
			}

			// A connection of our own stays open on the service port while the
			// counters are read: the SDK's pooled connection is the client's to
			// close, and on a loaded machine it was sometimes gone by then.
			held, err := net.Dial("tcp", srv.Addr)
			if err != nil {
				t.Fatal(err)
			}
			defer held.Close()

			var code int
			var body string
			var vars struct {
				Wharf struct {
					Goroutines      int   `json:"goroutines"`
					OpenConnections int64 `json:"open_connections"`
					StoreCommit     struct {
						Commits int64            `json:"commits"`
						MeanMs  float64          `json:"mean_ms"`
						Buckets map[string]int64 `json:"buckets"`
					} `json:"store_commit"`
				} `json:"wharf"`
				Memstats map[string]any `json:"memstats"`
			}
			// The server counts the held connection once it has accepted it,
			// which may be a moment after Dial returns.
			for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
				if code, body = get(t, "http://"+debug+"/debug/vars"); code != 200 {
					t.Fatalf("/debug/vars: %d %s", code, body)
				}
				if err := json.Unmarshal([]byte(body), &vars); err != nil {
					t.Fatalf("/debug/vars is not JSON: %v\n%s", err, body)
				}
				if vars.Wharf.OpenConnections >= 1 || time.Now().After(deadline) {
					break
				}
			}
			w := vars.Wharf
			if w.Goroutines <= 0 || w.OpenConnections < 1 || w.StoreCommit.Commits < 2 || w.StoreCommit.MeanMs <= 0 || vars.Memstats == nil {
				t.Errorf("counters: %+v (memstats present: %v)\n%s", w, vars.Memstats != nil, body)
			}
			var inBuckets int64
			for _, n := range w.StoreCommit.Buckets {
				inBuckets += n
			}
			if inBuckets != w.StoreCommit.Commits {
				t.Errorf("histogram holds %d commits, count says %d", inBuckets, w.StoreCommit.Commits)
			}

			code, body = get(t, "http://"+debug+"/debug/pprof/")
			if code != 200 || !strings.Contains(body, "goroutine") || !strings.Contains(body, "heap") {
				t.Errorf("/debug/pprof/: %d %.300s", code, body)
			}
			code, body = get(t, "http://"+debug+"/debug/pprof/goroutine?debug=1")
			if code != 200 || !strings.Contains(body, "goroutine profile:") {
				t.Errorf("goroutine profile: %d %.300s", code, body)
			}
			// The service port does not serve them.
			if code, body = get(t, srv.URL+"/debug/pprof/"); code == 200 || strings.Contains(body, "goroutine") {
				t.Errorf("service port answered /debug/pprof/: %d %.300s", code, body)
			}
		})
	}
}

func TestDebugAddrIsOffByDefault(t *testing.T) {
	srv := wharftest.Start(t)
	if a := srv.Wharf.DebugAddr(); a != "" {
		t.Errorf("debug endpoint on %s without --debug-addr", a)
	}
}

func TestDebugAddrRefusesNonLoopback(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:6060", ":6060", "[::]:6060", "192.168.1.10:6060", "10.0.0.1:6060", "example.com:6060", "6060"} {
		if _, err := config.Parse([]string{"--debug-addr", addr}, func(string) string { return "" }, io.Discard); err == nil {
			t.Errorf("--debug-addr %s accepted", addr)
		}
		env := func(k string) string {
			if k == "WHARF_DEBUG_ADDR" {
				return addr
			}
			return ""
		}
		if _, err := config.Parse(nil, env, io.Discard); err == nil {
			t.Errorf("WHARF_DEBUG_ADDR=%s accepted", addr)
		}
	}
	for _, addr := range []string{"127.0.0.1:6060", "[::1]:6060", "localhost:6060"} {
		if _, err := config.Parse([]string{"--debug-addr", addr}, func(string) string { return "" }, io.Discard); err != nil {
			t.Errorf("--debug-addr %s refused: %v", addr, err)
		}
	}
}

// The profiles are served at net/http/pprof's paths in the formats go tool
// pprof reads: protobuf profiles are gzipped (magic 1f 8b).
func TestDebugAddrServesPprofFormats(t *testing.T) {
	srv := wharftest.Start(t, "--debug-addr", "127.0.0.1:0")
	base := "http://" + srv.Wharf.DebugAddr() + "/debug/pprof/"
	for _, path := range []string{"profile?seconds=0.2", "heap?gc=1", "allocs", "goroutine"} {
		code, body := get(t, base+path)
		if code != 200 || !strings.HasPrefix(body, "\x1f\x8b") {
			t.Errorf("%s: %d, %d bytes starting %q", path, code, len(body), body[:min(len(body), 8)])
		}
	}
	if code, body := get(t, base+"trace?seconds=0.1"); code != 200 || len(body) == 0 {
		t.Errorf("trace: %d, %d bytes", code, len(body))
	}
	if code, body := get(t, base+"cmdline"); code != 200 || body == "" {
		t.Errorf("cmdline: %d %q", code, body)
	}
	if code, body := get(t, base+"symbol"); code != 200 || !strings.HasPrefix(body, "num_symbols: 1") {
		t.Errorf("symbol: %d %q", code, body)
	}
	if code, _ := get(t, base+"nosuchprofile"); code != 404 {
		t.Errorf("unknown profile: %d, want 404", code)
	}
	// Every answer, found or not, tells a browser not to sniff its type.
	for _, path := range []string{"", "cmdline", "goroutine?debug=1", "nosuchprofile", "../vars"} {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := resp.Header.Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("%s: X-Content-Type-Options %q, want nosniff", path, got)
		}
	}
	// Delta profiles are refused, not answered with an absolute one.
	if code, _ := get(t, base+"heap?seconds=1"); code != 400 {
		t.Errorf("heap?seconds=1: %d, want 400", code)
	}
}
