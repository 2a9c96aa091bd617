// Package images builds wharf's test images: each directory beside this file
// is a Go program, built static (CGO_ENABLED=0) and imported into a Docker
// engine as a single-file image FROM scratch, so tests need no registry.
package images

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
)

var (
	mu    sync.Mutex
	built = map[string]string{}
)

// Dir is the directory holding the image sources.
func Dir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Dir(file)
}

// Binary builds the program in directory name into a static executable in
// outDir and returns its path.
func Binary(name, outDir string) (string, error) {
	out := filepath.Join(outDir, name)
	cmd := exec.Command("go", "build", "-trimpath", "-o", out, "./"+name)
	cmd.Dir = Dir()
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go build %s: %v: %s", name, err, stderr.Bytes())
	}
	return out, nil
}

// Docker builds the program name and imports it into the engine the docker
// CLI talks to as image wharf-test/<name>:latest, whose entrypoint is the
// program. It builds once per process.
func Docker(name string) (string, error) {
	mu.Lock()
	defer mu.Unlock()
	if ref, ok := built[name]; ok {
		return ref, nil
	}
	dir, err := os.MkdirTemp("", "wharf-image-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	if _, err := Binary(name, dir); err != nil {
		return "", err
	}
	ref := "wharf-test/" + name + ":latest"
	cmd := exec.Command("sh", "-c", "tar -C \"$0\" -cf - "+name+" | docker import -c 'ENTRYPOINT [\"/"+name+"\"]' - "+ref, dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("docker import: %v: %s", err, out)
	}
	built[name] = ref
	return ref, nil
}
