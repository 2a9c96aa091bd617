package main

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/wharf-dev/wharf/internal/awsapi"
)

// documentedErrors are the error codes each service's API reference documents
// without a shape in its model (overlays/errors.json), by botocore service id.
type documentedErrors struct {
	Source string         `json:"source"`
	Codes  map[string]int `json:"codes"` // code → HTTP status
}

func loadDocumentedErrors() (map[string]documentedErrors, error) {
	raw, err := overlays.ReadFile("overlays/errors.json")
	if err != nil {
		return nil, err
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal(raw, &all); err != nil {
		return nil, fmt.Errorf("overlays/errors.json: %w", err)
	}
	delete(all, "_comment")
	out := map[string]documentedErrors{}
	for id, v := range all {
		var d documentedErrors
		if err := json.Unmarshal(v, &d); err != nil {
			return nil, fmt.Errorf("overlays/errors.json: %s: %w", id, err)
		}
		out[id] = d
	}
	return out, nil
}

// errorsFile is errors.go: one constructor per error the service can return,
// named Err<Code>, from the model's exception shapes and the documented codes.
// Services build their errors with these, so a code the model (or the API
// reference) does not have fails to compile.
func (g *pkgGen) errorsFile(doc documentedErrors) ([]byte, error) {
	var b bytes.Buffer
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	w("%s", g.header())
	w("package %s\n\nimport \"github.com/wharf-dev/wharf/internal/apierr\"\n\n", g.svc.Pkg)
	fn := func(code string, status int, receiver bool, what, note string) error {
		goName := "Err" + exported(code)
		if g.taken[goName] {
			return fmt.Errorf("error constructor %s collides with a generated name", goName)
		}
		g.taken[goName] = true
		if status == 0 {
			status = 400
		}
		fault := ""
		if receiver {
			fault = ", the service's fault"
		}
		w("// %s returns %s (HTTP %d%s).\n", goName, what, status, fault)
		if note != "" {
			w("// %s\n", note)
		}
		w("func %s(format string, args ...any) *apierr.Error {\n", goName)
		if !receiver {
			w("\treturn apierr.New(%q, %d, format, args...)\n}\n\n", code, status)
			return nil
		}
		w("\te := apierr.New(%q, %d, format, args...)\n", code, status)
		w("\te.Receiver = true\n\treturn e\n}\n\n")
		return nil
	}
	for _, n := range sortedKeys(g.m.Shapes) {
		s := g.m.Shapes[n]
		if !s.Exception {
			continue
		}
		status, receiver := 0, s.Fault
		if e := s.Error; e != nil {
			status = e.HTTPStatusCode
			receiver = receiver || (e.SenderFault != nil && !*e.SenderFault)
		}
		receiver = receiver || status >= 500
		if status == 0 && receiver {
			status = 500
		}
		if err := fn(n, status, receiver, "the model's "+n+" error", summary(s.Documentation)); err != nil {
			return nil, err
		}
	}
	for _, code := range sortedKeys(doc.Codes) {
		if s := g.m.Shapes[code]; s != nil && s.Exception {
			return nil, fmt.Errorf("overlays/errors.json lists %s, which the model now declares: remove it", code)
		}
		status := doc.Codes[code]
		if err := fn(code, status, status >= 500, code, "Not in the model; documented in "+doc.Source+"."); err != nil {
			return nil, err
		}
	}
	return gofmt(g.svc.Pkg+"/errors.go", b.Bytes())
}

// loadQuirks reads overlays/quirks.json: each service's awsapi.Quirks, by
// botocore service id. A field awsapi.Quirks does not have is an error.
func loadQuirks() (map[string]awsapi.Quirks, error) {
	raw, err := overlays.ReadFile("overlays/quirks.json")
	if err != nil {
		return nil, err
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal(raw, &all); err != nil {
		return nil, fmt.Errorf("overlays/quirks.json: %w", err)
	}
	delete(all, "_comment")
	out := map[string]awsapi.Quirks{}
	for id, v := range all {
		var q awsapi.Quirks
		dec := json.NewDecoder(bytes.NewReader(v))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&q); err != nil {
			return nil, fmt.Errorf("overlays/quirks.json: %s: %w", id, err)
		}
		out[id] = q
	}
	return out, nil
}
