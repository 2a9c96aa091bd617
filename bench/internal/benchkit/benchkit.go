// Package benchkit holds what every program under bench/ needs to run wharf beside
// its peer: a free loopback port and a fresh wharf binary.
package benchkit

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
)

// FreePort returns a loopback TCP port that was free a moment ago.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// BuildWharf builds ./cmd/wharf (run from the module root) into a new temporary
// directory and returns the binary's path; the caller removes its directory.
func BuildWharf() (string, error) {
	dir, err := os.MkdirTemp("", "wharf-bench")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "wharf")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/wharf")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	return bin, cmd.Run()
}
