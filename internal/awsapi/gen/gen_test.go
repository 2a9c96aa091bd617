package main

import (
	"bytes"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

// botocoreForTest returns the botocore directory, or skips the test.
func botocoreForTest(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("WHARF_BOTOCORE")
	if dir == "" {
		var err error
		if dir, err = findBotocore(); err != nil {
			t.Skipf("botocore not installed (pip install botocore, or set WHARF_BOTOCORE): %v", err)
		}
	}
	return dir
}

// recordedVersion returns the botocore version models.txt records.
func recordedVersion(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../models.txt")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "botocore "); ok {
			return v
		}
	}
	t.Fatal("models.txt records no botocore version")
	return ""
}

func TestGeneratedFilesMatchTheGenerator(t *testing.T) {
	botocore := botocoreForTest(t)
	have, err := botocoreVersion(botocore)
	if err != nil {
		t.Fatal(err)
	}
	if want := recordedVersion(t); have != want {
		t.Skipf("botocore %s installed but models.txt records %s: run go generate ./internal/awsapi/... to move to %s", have, want, have)
	}
	out := t.TempDir()
	if err := run(botocore, out, ""); err != nil {
		t.Fatal(err)
	}
	n := 0
	err = filepath.WalkDir(out, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(out, p)
		want, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		got, err := os.ReadFile(filepath.Join("..", rel))
		if err != nil {
			t.Errorf("%s is generated but not committed: run go generate ./internal/awsapi/...", rel)
			return nil
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from the generator's output: run go generate ./internal/awsapi/... (never edit it by hand)", rel)
		}
		n++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := 3*len(services) + 1; n != want {
		t.Errorf("generated %d files, want %d (three per service and models.txt)", n, want)
	}
	// No stale files: every committed file in a generated package is still generated.
	for _, s := range services {
		ents, err := os.ReadDir(filepath.Join("..", s.Pkg))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ents {
			if strings.HasSuffix(e.Name(), "_test.go") {
				continue
			}
			if _, err := os.Stat(filepath.Join(out, s.Pkg, e.Name())); err != nil {
				t.Errorf("%s/%s is committed but no longer generated", s.Pkg, e.Name())
			}
		}
	}
}

func TestGenerationIsDeterministic(t *testing.T) {
	botocore := botocoreForTest(t)
	a, err := generate(botocore, "sqs,s3")
	if err != nil {
		t.Fatal(err)
	}
	b, err := generate(botocore, "sqs,s3")
	if err != nil {
		t.Fatal(err)
	}
	if len(a) != 6 || len(a) != len(b) {
		t.Fatalf("generated %d and %d files, want 6", len(a), len(b))
	}
	for n := range a {
		if !bytes.Equal(a[n], b[n]) {
			t.Errorf("%s differs between two runs", n)
		}
	}
}

func TestExportedMakesExportedIdentifiers(t *testing.T) {
	tests := []struct{ in, want string }{
		{"QueueUrl", "QueueUrl"},
		{"message", "Message"},
		{"jwtPayloadSizeExceededException", "JwtPayloadSizeExceededException"},
		{"x-amz-acl", "XAmzAcl"},
		{"SSE-KMS", "SSEKMS"},
		{"3DES", "X3DES"},
		{"a.b c", "ABC"},
		{"-", "X"},
		{"", "X"},
		{"_", "X_"},
		{"_private", "X_private"},
		{"ünïcode", "Ünïcode"},
	}
	for _, tt := range tests {
		if got := exported(tt.in); got != tt.want {
			t.Errorf("exported(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzExported(f *testing.F) {
	for _, s := range []string{"QueueUrl", "x-amz-meta-", "9lives", "", "_", "ǅemal", "type", "func"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := exported(s)
		if !token.IsIdentifier(got) || !token.IsExported(got) {
			t.Errorf("exported(%q) = %q, not an exported Go identifier", s, got)
		}
	})
}

func TestSummaryKeepsTheFirstSentenceAsPlainText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"<p>The specified queue doesn't exist.</p>", "The specified queue doesn't exist."},
		{"<p>Two entries have the same <code>Id</code>. More text.</p>", "Two entries have the same Id."},
		{"<p>A &amp; B &lt;tag&gt;</p>", "A & B <tag>"},
		{"<p>one</p><p>two</p>", "one two"},
		{strings.Repeat("word ", 40), strings.TrimSpace(strings.Repeat("word ", 20)) + "..."},
	}
	for _, tt := range tests {
		if got := summary(tt.in); got != tt.want {
			t.Errorf("summary(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzSummary(f *testing.F) {
	for _, s := range []string{"<p>x</p>", "a. b", strings.Repeat("é", 80), "<a href=\"x\">y</a>. z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := summary(s)
		if strings.ContainsAny(got, "\n\r") {
			t.Errorf("summary(%q) = %q spans lines", s, got)
		}
		if len(got) > 103 {
			t.Errorf("summary(%q) is %d bytes long", s, len(got))
		}
		if utf8.ValidString(s) && !utf8.ValidString(got) {
			t.Errorf("summary(%q) = %q cut a character", s, got)
		}
	})
}

func TestMergeRejectsAStaleOverlay(t *testing.T) {
	tree := map[string]any{"shapes": map[string]any{
		"Q": map[string]any{"type": "structure", "members": map[string]any{"A": map[string]any{"shape": "S"}}},
	}}
	if err := merge(tree, map[string]any{"shapes": map[string]any{"Gone": map[string]any{"x": 1.0}}}, "svc"); err == nil {
		t.Error("overlay of a missing shape was accepted")
	}
	if err := merge(tree, map[string]any{"shapes": map[string]any{"Q": map[string]any{"members": map[string]any{"Gone": map[string]any{}}}}}, "svc"); err == nil {
		t.Error("overlay of a missing member was accepted")
	}
	patch := map[string]any{"shapes": map[string]any{"Q": map[string]any{
		"error":   map[string]any{"code": "C"},
		"members": map[string]any{"A": map[string]any{"locationName": "a"}},
	}}}
	if err := merge(tree, patch, "svc"); err != nil {
		t.Fatal(err)
	}
	q := tree["shapes"].(map[string]any)["Q"].(map[string]any)
	if q["error"].(map[string]any)["code"] != "C" {
		t.Error("new trait not added")
	}
	a := q["members"].(map[string]any)["A"].(map[string]any)
	if a["locationName"] != "a" || a["shape"] != "S" {
		t.Errorf("member merged to %v, want shape S and locationName a", a)
	}
}

func TestProtocolsAddQueryForQueryCompatibleModels(t *testing.T) {
	tests := []struct {
		name string
		md   metadata
		want string
	}{
		{"protocols listed", metadata{Protocol: "json", Protocols: []string{"json"}}, "json"},
		{"only protocol", metadata{Protocol: "rest-json"}, "rest-json"},
		{"query compatible", metadata{Protocol: "json", Protocols: []string{"json"}, AWSQueryCompatible: []byte("{}")}, "json,query"},
		{"query already listed", metadata{Protocols: []string{"smithy-rpc-v2-cbor", "json", "query"}, AWSQueryCompatible: []byte("{}")}, "smithy-rpc-v2-cbor,json,query"},
	}
	for _, tt := range tests {
		g := &pkgGen{m: &model{Metadata: tt.md}}
		if got := strings.Join(g.protocols(), ","); got != tt.want {
			t.Errorf("%s: protocols = %s, want %s", tt.name, got, tt.want)
		}
	}
}

func TestTypeNamesAvoidPackageNames(t *testing.T) {
	m := &model{
		Shapes: map[string]*shape{
			"Service":      {Type: "structure"},
			"ServiceShape": {Type: "structure"},
			"GetRequest":   {Type: "structure"},
			"PingInput":    {Type: "structure"}, // not Ping's input
		},
		Operations: map[string]*operation{
			"Get":  {Input: &opRef{Shape: "GetRequest"}},
			"Ping": {Input: &opRef{Shape: "GetRequest"}},
		},
	}
	g := &pkgGen{m: m, types: map[string]string{}, taken: map[string]bool{"Service": true, "Bind": true, "OperationNames": true},
		inName: map[string]string{}, outName: map[string]string{}}
	g.nameTypes()
	if got := g.types["Service"]; got != "ServiceShapeShape" {
		t.Errorf("shape Service named %s, want ServiceShapeShape (Service and ServiceShape are taken)", got)
	}
	if got := g.types["ServiceShape"]; got != "ServiceShape" {
		t.Errorf("shape ServiceShape named %s, want its own name", got)
	}
	if got := g.inName["Get"]; got != "GetInput" {
		t.Errorf("Get input named %s, want the alias GetInput", got)
	}
	if got := g.inName["Ping"]; got != "GetRequest" {
		t.Errorf("Ping input named %s, want the shape's own type (PingInput is another shape)", got)
	}
	if got := g.outName["Get"]; got != "GetOutput" {
		t.Errorf("Get output named %s, want the empty GetOutput", got)
	}
}
