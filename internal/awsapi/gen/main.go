// Command gen turns botocore's service models into the Go types and operation
// descriptors of the packages beside internal/awsapi (sts, sqs, s3, ...).
//
// It is run by `go generate ./internal/awsapi/...` from internal/awsapi. botocore is
// found with -botocore, else $WHARF_BOTOCORE, else by asking python3 where the
// installed botocore package lives. Output is deterministic: the same botocore
// version gives byte-identical files, and models.txt records which model versions
// (and their SHA-256) produced them.
//
// overlays/<service>.json holds traits botocore's model lacks, in botocore's own
// format, merged into the model before generation. SQS needs one: its model moved to
// the JSON protocol and lost the query protocol's error codes, result wrappers and
// XML names, which older SDKs still rely on. An overlay naming a shape, member or
// operation the model no longer has is an error, so a stale overlay is noticed.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// service maps a botocore directory to the Go package generated from it.
type service struct {
	ID  string // botocore data directory: "application-autoscaling"
	Pkg string // Go package: "applicationautoscaling"
}

// services are the models wharf serves, in the order models.txt lists them.
var services = []service{
	{"sts", "sts"},
	{"iam", "iam"},
	{"s3", "s3"},
	{"sqs", "sqs"},
	{"sns", "sns"},
	{"events", "events"},
	{"scheduler", "scheduler"},
	{"ecs", "ecs"},
	{"dynamodb", "dynamodb"},
	{"dynamodbstreams", "dynamodbstreams"},
	{"application-autoscaling", "applicationautoscaling"},
	{"cloudwatch", "cloudwatch"},
	{"logs", "logs"},
	{"s3control", "s3control"},
}

func main() {
	botocore := flag.String("botocore", os.Getenv("WHARF_BOTOCORE"), "botocore package directory (default: $WHARF_BOTOCORE, else found with python3)")
	out := flag.String("out", ".", "directory receiving models.txt and one package directory per service")
	only := flag.String("only", "", "comma-separated botocore service ids to generate (default: all)")
	flag.Parse()
	if err := run(*botocore, *out, *only); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(botocore, out, only string) error {
	if botocore == "" {
		dir, err := findBotocore()
		if err != nil {
			return err
		}
		botocore = dir
	}
	files, err := generate(botocore, only)
	if err != nil {
		return err
	}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		p := filepath.Join(out, filepath.FromSlash(n))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if old, err := os.ReadFile(p); err == nil && bytes.Equal(old, files[n]) {
			continue
		}
		if err := os.WriteFile(p, files[n], 0o644); err != nil {
			return err
		}
	}
	return nil
}

// findBotocore asks python3 where botocore is installed.
func findBotocore() (string, error) {
	cmd := exec.Command("python3", "-c", "import botocore,os;print(os.path.dirname(botocore.__file__))")
	b, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("botocore not found (set -botocore or WHARF_BOTOCORE): %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

var versionRE = regexp.MustCompile(`(?m)^__version__\s*=\s*['"]([^'"]+)['"]`)

// botocoreVersion reads __version__ from botocore's __init__.py.
func botocoreVersion(dir string) (string, error) {
	b, err := os.ReadFile(filepath.Join(dir, "__init__.py"))
	if err != nil {
		return "", fmt.Errorf("botocore version: %w", err)
	}
	m := versionRE.FindSubmatch(b)
	if m == nil {
		return "", fmt.Errorf("botocore version: no __version__ in %s", dir)
	}
	return string(m[1]), nil
}

// newestModel returns the newest version directory of a service's model: botocore
// names them by API date, so the greatest name is the newest.
func newestModel(botocore, id string) (string, error) {
	dir := filepath.Join(botocore, "data", id)
	ents, err := os.ReadDir(dir)
	if err != nil {
		return "", err
	}
	var best string
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		if _, err := os.Stat(filepath.Join(dir, e.Name(), "service-2.json.gz")); err != nil {
			continue
		}
		if e.Name() > best {
			best = e.Name()
		}
	}
	if best == "" {
		return "", fmt.Errorf("no service-2.json.gz under %s", dir)
	}
	return best, nil
}

// generate returns every generated file, by slash path relative to internal/awsapi.
func generate(botocore, only string) (map[string][]byte, error) {
	version, err := botocoreVersion(botocore)
	if err != nil {
		return nil, err
	}
	want := map[string]bool{}
	for _, s := range strings.Split(only, ",") {
		if s = strings.TrimSpace(s); s != "" {
			want[s] = true
		}
	}
	docErrs, err := loadDocumentedErrors()
	if err != nil {
		return nil, err
	}
	quirks, err := loadQuirks()
	if err != nil {
		return nil, err
	}
	files := map[string][]byte{}
	var rec strings.Builder
	fmt.Fprintf(&rec, "# Models behind the generated packages (go generate ./internal/awsapi/...).\n")
	fmt.Fprintf(&rec, "# service  model-version  sha256(service-2.json.gz)  [overlay sha256]\n")
	fmt.Fprintf(&rec, "botocore %s\n", version)
	for _, s := range services {
		if len(want) > 0 && !want[s.ID] {
			continue
		}
		v, err := newestModel(botocore, s.ID)
		if err != nil {
			return nil, err
		}
		path := filepath.Join(botocore, "data", s.ID, v, "service-2.json.gz")
		raw, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		m, overlay, err := loadModel(path, s.ID)
		if err != nil {
			return nil, err
		}
		line := fmt.Sprintf("%s %s %s", s.ID, v, sha256Hex(raw))
		if overlay != nil {
			line += " overlay " + sha256Hex(overlay)
		}
		rec.WriteString(line + "\n")
		pkgFiles, err := genPackage(s, version, m, docErrs[s.ID], quirks[s.ID])
		if err != nil {
			return nil, fmt.Errorf("%s: %w", s.ID, err)
		}
		for n, b := range pkgFiles {
			files[s.Pkg+"/"+n] = b
		}
	}
	if len(want) == 0 {
		files["models.txt"] = []byte(rec.String())
	}
	return files, nil
}
