package app

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wharf-dev/wharf/internal/config"
)

var update = flag.Bool("update", false, "rewrite the generated documentation")

// TestDocsAreCurrent checks that the README's configuration reference and
// supported-operations table, and docs/operations.md, are what the code
// generates. Run with -update to regenerate them.
func TestDocsAreCurrent(t *testing.T) {
	root := filepath.Join("..", "..")
	sys := docsSystem()
	ops := sys.operations()
	readme := filepath.Join(root, "README.md")
	checkBlock(t, readme, "flags", config.Reference())
	checkBlock(t, readme, "operations", OperationsSummary(ops))
	checkFile(t, filepath.Join(root, "docs", "operations.md"), OperationsDetail(ops))
	checkFile(t, "operations_gen.go", string(sys.assertions()))
}

// TestEveryOperationMethodIsBound: a method named like one of its model's
// operations but with another signature is not bound, so the operation would
// answer NotImplemented; operations_gen.go catches a drift of a bound one.
func TestEveryOperationMethodIsBound(t *testing.T) {
	for _, b := range docsSystem().bindings() {
		for _, m := range b.unbound() {
			t.Errorf("%s has the name of a %s operation but not its generated signature", m, b.desc.ID)
		}
	}
}

func checkBlock(t *testing.T, path, name, want string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	begin, end := "<!-- "+name+":begin -->\n", "<!-- "+name+":end -->"
	s := string(b)
	i, j := strings.Index(s, begin), strings.Index(s, end)
	if i < 0 || j < i {
		t.Fatalf("%s lacks the %s and %s markers", path, strings.TrimSpace(begin), end)
	}
	got := s[i+len(begin) : j]
	if got == want {
		return
	}
	if *update {
		if err := os.WriteFile(path, []byte(s[:i+len(begin)]+want+s[j:]), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("%s: the %s block is stale; run go test ./internal/app -run TestDocsAreCurrent -update", path, name)
}

func checkFile(t *testing.T, path, want string) {
	t.Helper()
	b, _ := os.ReadFile(path)
	if string(b) == want {
		return
	}
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("%s is stale; run go test ./internal/app -run TestDocsAreCurrent -update", path)
}
