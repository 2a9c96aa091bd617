package main

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/wharf-dev/wharf/bench/internal/benchkit"
)

// target is a server under measurement: a child process serving AWS APIs on
// a loopback port.
type target struct {
	name string
	// ops it serves, by op name; nil means every op.
	ops     map[string]bool
	command func(port int) *exec.Cmd
	ready   func(base string) bool
	// key is the access key (and secret) the peer accepts; "" is test.
	key string

	base string
	cmd  *exec.Cmd
	stop func()
}

func (t *target) serves(op string) bool { return t.ops == nil || t.ops[op] }

func opSet(names ...string) map[string]bool {
	m := map[string]bool{}
	for _, n := range names {
		m[n] = true
	}
	return m
}

// httpReady answers true once GET path returns below 500.
func httpReady(path string) func(string) bool {
	return func(base string) bool {
		resp, err := http.Get(base + path)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode < 500
	}
}

// tcpReady answers true once the port accepts connections.
func tcpReady(base string) bool {
	c, err := net.DialTimeout("tcp", strings.TrimPrefix(base, "http://"), time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// launch starts t on a free port and waits until it is ready.
func (t *target) launch() error {
	port, err := benchkit.FreePort()
	if err != nil {
		return err
	}
	t.cmd = t.command(port)
	t.cmd.Stdout, t.cmd.Stderr = nil, nil
	if os.Getenv("PEERS_VERBOSE") != "" {
		t.cmd.Stdout, t.cmd.Stderr = os.Stderr, os.Stderr
	}
	t.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := t.cmd.Start(); err != nil {
		return fmt.Errorf("%s: %w", t.name, err)
	}
	done := make(chan struct{})
	go func() { t.cmd.Wait(); close(done) }()
	t.stop = func() {
		syscall.Kill(-t.cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			syscall.Kill(-t.cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
	}
	t.base = "http://127.0.0.1:" + strconv.Itoa(port)
	t0 := time.Now()
	for !t.ready(t.base) {
		select {
		case <-done:
			return fmt.Errorf("%s exited before it was ready", t.name)
		default:
		}
		if time.Since(t0) > 90*time.Second {
			t.stop()
			return fmt.Errorf("%s did not become ready in 90s", t.name)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return nil
}

// cpu is the CPU time the target's process has used so far (each peer runs
// as one process, node and python launchers included).
func (t *target) cpu() time.Duration { return benchkit.ProcCPU(t.cmd.Process.Pid) }

// rss is the target's resident set in MiB.
func (t *target) rss() float64 { return benchkit.ProcRSS(t.cmd.Process.Pid) }

// peerDir is where the peers that install from npm and the Go module proxy
// are kept between runs.
func peerDir() string {
	if d := os.Getenv("WHARF_PEERS_DIR"); d != "" {
		return d
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, ".cache", "wharf", "peers")
}

// install runs the installs the wanted peers need once (idempotent): goaws built
// from the Go module proxy into peerDir/bin, dynalite and s3rver from npm
// into peerDir/node. A failed install only drops that peer from the run.
func install(log func(string, ...any), wanted func(target string) bool) {
	dir := peerDir()
	if _, err := os.Stat(filepath.Join(dir, "bin", "goaws")); err != nil && wanted("goaws") {
		log("installing goaws %s into %s", goawsVersion, dir)
		cmd := exec.Command("go", "install", "github.com/Admiral-Piett/goaws/app/cmd@"+goawsVersion)
		cmd.Env = append(os.Environ(), "GOBIN="+filepath.Join(dir, "gobuild"), "GOFLAGS=-mod=mod")
		cmd.Dir = os.TempDir() // a scratch dir: never this module
		if out, err := cmd.CombinedOutput(); err != nil {
			log("goaws install failed: %v\n%s", err, out)
		} else {
			os.MkdirAll(filepath.Join(dir, "bin"), 0o755)
			os.Rename(filepath.Join(dir, "gobuild", "cmd"), filepath.Join(dir, "bin", "goaws"))
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "node", "node_modules", "s3rver")); err != nil && (wanted("dynalite") || wanted("s3rver")) {
		log("installing dynalite %s and s3rver %s from npm into %s", dynaliteVersion, s3rverVersion, dir)
		cmd := exec.Command("npm", "install", "--no-audit", "--no-fund", "--prefix", filepath.Join(dir, "node"),
			"dynalite@"+dynaliteVersion, "s3rver@"+s3rverVersion)
		if out, err := cmd.CombinedOutput(); err != nil {
			log("npm install failed: %v\n%s", err, out)
		}
	}
}

const (
	goawsVersion    = "v0.4.5"
	dynaliteVersion = "4.0.0"
	s3rverVersion   = "3.7.1"
)

// goawsConfig is goaws's configuration: one port, a topic whose subscriber
// is a queue (SNS → SQS), and the queues the SQS ops use.
const goawsConfig = `Local:
  Host: 127.0.0.1
  Port: %d
  Region: us-east-1
  AccountId: "000000000000"
  LogToFile: false
  EnableDuplicates: false
  QueueAttributeDefaults:
    VisibilityTimeout: 30
    ReceiveMessageWaitTimeSeconds: 0
    MaximumMessageSize: 262144
  Queues: []
  Topics: []
`

// targets lists every server, in the order the tables print them. wharf is
// the binary built from this tree; workDir holds data directories and
// configuration files.
func targets(wharf, self, workDir string) []*target {
	dir := peerDir()
	node := filepath.Join(dir, "node", "node_modules")
	n := 0
	wharfCmd := func(durable bool, bin ...string) func(int) *exec.Cmd {
		return func(port int) *exec.Cmd {
			wharf := wharf
			if len(bin) > 0 {
				wharf = bin[0]
			}
			args := []string{"serve", "--listen", fmt.Sprintf("127.0.0.1:%d", port), "--log-level", "warn", "--iam", "audit"}
			if durable {
				n++
				args = append(args, "--data-dir", filepath.Join(workDir, fmt.Sprintf("wharf-%d", n)))
			} else {
				args = append(args, "--ephemeral")
			}
			if *debugAddr != "" && (!durable || *only == "wharf-durable") { // the durable one when it runs alone
				args = append(args, "--debug-addr", *debugAddr)
			}
			return exec.Command(wharf, args...)
		}
	}
	var base []*target
	if *baseline != "" {
		base = append(base, &target{name: "wharf-baseline", command: wharfCmd(false, *baseline), ready: httpReady("/_wharf/health")},
			&target{name: "wharf-baseline-durable", command: wharfCmd(true, *baseline), ready: httpReady("/_wharf/health")})
	}
	return append(base, []*target{
		{name: "wharf", command: wharfCmd(false), ready: httpReady("/_wharf/health")},
		{name: "wharf-durable", command: wharfCmd(true), ready: httpReady("/_wharf/health")},
		{name: "null", command: func(port int) *exec.Cmd {
			return exec.Command(self, "-serve-null", fmt.Sprintf("127.0.0.1:%d", port))
		}, ready: tcpReady},
		{name: "moto", command: func(port int) *exec.Cmd {
			return exec.Command("python3", "-m", "moto.server", "-H", "127.0.0.1", "-p", strconv.Itoa(port))
		}, ready: httpReady("/moto-api/")},
		{name: "goaws", ops: opSet(append(sqsQueryOps, "sns-publish")...), command: func(port int) *exec.Cmd {
			cfg := filepath.Join(workDir, "goaws.yaml")
			os.WriteFile(cfg, []byte(fmt.Sprintf(goawsConfig, port)), 0o644)
			return exec.Command(filepath.Join(dir, "bin", "goaws"), "-config", cfg)
		}, ready: tcpReady},
		{name: "dynalite", ops: opSet(ddbOps...), command: func(port int) *exec.Cmd {
			return exec.Command("node", filepath.Join(node, "dynalite", "cli.js"), "--port", strconv.Itoa(port), "--host", "127.0.0.1",
				"--createTableMs", "0", "--deleteTableMs", "0", "--updateTableMs", "0")
		}, ready: tcpReady},
		{name: "s3rver", ops: opSet(s3Ops...), key: "S3RVER", command: func(port int) *exec.Cmd {
			return exec.Command("node", filepath.Join(node, "s3rver", "bin", "s3rver.js"), "--address", "127.0.0.1", "--port", strconv.Itoa(port),
				"--directory", filepath.Join(workDir, "s3rver"), "--silent")
		}, ready: tcpReady},
	}...)
}
