package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// commonCodes are the codes every service may return ("Common Errors" in each
// API reference), which apierr builds for all of them.
var commonCodes = map[string]bool{
	"AccessDeniedException": true, "IncompleteSignature": true, "InternalFailure": true,
	"InvalidAction": true, "InvalidClientTokenId": true, "NotAuthorized": true,
	"OptInRequired": true, "RequestExpired": true, "ServiceUnavailable": true,
	"ThrottlingException": true, "ValidationError": true, "ValidationException": true,
	"MissingParameter": true, "InvalidParameterValue": true, "InvalidParameterCombination": true,
	"InvalidQueryParameter": true, "MalformedQueryString": true, "MissingAction": true,
	"MissingAuthenticationToken": true, "SerializationException": true,
	"UnknownOperationException": true, "NotImplemented": true, "RequestTimeout": true,
	"IncompleteBody": true, "UnrecognizedClientException": true,
}

// serviceModel is the botocore model behind each package under internal/service.
var serviceModel = map[string]string{
	"autoscaling": "application-autoscaling", "cloudwatch": "cloudwatch", "dynamodb": "dynamodb",
	"ecs": "ecs", "ecsservice": "ecs", "events": "events", "iam": "iam", "logs": "logs",
	"s3": "s3", "scheduler": "scheduler", "sns": "sns", "sqs": "sqs",
}

// TestServiceCodesAreDeclared: an error code still spelt out in a service
// (apierr.New("X", ...) or apierr.Error{Code: "X"}) rather than built with
// its generated constructor must still be one the service's model declares,
// its API reference documents (overlays/errors.json), or a common error. A
// misspelt code reaches clients as an error no SDK can match.
func TestServiceCodesAreDeclared(t *testing.T) {
	botocore := botocoreForTest(t)
	docs, err := loadDocumentedErrors()
	if err != nil {
		t.Fatal(err)
	}
	declared := map[string]map[string]bool{}
	for dir, id := range serviceModel {
		v, err := newestModel(botocore, id)
		if err != nil {
			t.Fatal(err)
		}
		m, _, err := loadModel(filepath.Join(botocore, "data", id, v, "service-2.json.gz"), id)
		if err != nil {
			t.Fatal(err)
		}
		set := map[string]bool{}
		for n, s := range m.Shapes {
			if s.Exception {
				set[n] = true
				if s.Error != nil && s.Error.Code != "" {
					set[s.Error.Code] = true // the query protocol's code
				}
			}
		}
		for c := range docs[id].Codes {
			set[c] = true
		}
		declared[dir] = set
	}
	root := filepath.Join("..", "..", "service")
	checked := 0
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		set := declared[strings.SplitN(filepath.ToSlash(rel), "/", 2)[0]]
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		check := func(lit ast.Expr) {
			bl, ok := lit.(*ast.BasicLit)
			if !ok || bl.Kind != token.STRING {
				return
			}
			code, _ := strconv.Unquote(bl.Value)
			checked++
			if !set[code] && !commonCodes[code] {
				t.Errorf("%s: error code %q is neither in the service's model, nor documented in overlays/errors.json, nor a common error", fset.Position(bl.Pos()), code)
			}
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.CallExpr:
				if sel, ok := n.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "New" && isIdent(sel.X, "apierr") && len(n.Args) > 0 {
					check(n.Args[0])
				}
			case *ast.CompositeLit:
				if sel, ok := n.Type.(*ast.SelectorExpr); ok && sel.Sel.Name == "Error" && isIdent(sel.X, "apierr") {
					for _, el := range n.Elts {
						if kv, ok := el.(*ast.KeyValueExpr); ok && isIdent(kv.Key, "Code") {
							check(kv.Value)
						}
					}
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked == 0 {
		t.Fatal("found no error code spelt out in internal/service: the scan is broken")
	}
}

func isIdent(e ast.Expr, name string) bool {
	id, ok := e.(*ast.Ident)
	return ok && id.Name == name
}
