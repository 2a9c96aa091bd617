package main

import (
	"bytes"
	"fmt"
	"go/format"
	"html"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode"

	"github.com/wharf-dev/wharf/internal/awsapi"
)

// reserved are the package-level names every generated package declares itself.
var reserved = map[string]bool{"Service": true, "Bind": true, "OperationNames": true}

// pkgGen generates one service package.
type pkgGen struct {
	svc     service
	version string
	m       *model
	types   map[string]string // structure shape name → Go type name
	taken   map[string]bool   // Go names declared in the package
	inName  map[string]string // operation → Go type of its input
	outName map[string]string // operation → Go type of its output
	imports map[string]bool   // imports types.go needs
	quirks  awsapi.Quirks     // from overlays/quirks.json
}

func genPackage(s service, version string, m *model, doc documentedErrors, quirks awsapi.Quirks) (map[string][]byte, error) {
	g := &pkgGen{svc: s, version: version, m: m, quirks: quirks,
		types: map[string]string{}, taken: map[string]bool{},
		inName: map[string]string{}, outName: map[string]string{}, imports: map[string]bool{}}
	for n := range reserved {
		g.taken[n] = true
	}
	g.nameTypes()
	types, err := g.typesFile()
	if err != nil {
		return nil, err
	}
	svc, err := g.serviceFile()
	if err != nil {
		return nil, err
	}
	errs, err := g.errorsFile(doc)
	if err != nil {
		return nil, err
	}
	return map[string][]byte{"types.go": types, "service.go": svc, "errors.go": errs}, nil
}

// sortedKeys returns m's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// isStruct reports whether shape n becomes a Go struct (documents become any).
func (g *pkgGen) isStruct(n string) bool {
	s := g.m.Shapes[n]
	return s != nil && s.Type == "structure" && !s.Document
}

// nameTypes gives every structure shape a Go type name, and every operation its
// input and output type names (aliases where the shape's name differs).
func (g *pkgGen) nameTypes() {
	// Shapes whose names are free keep them; only then are the clashing ones
	// (ECS's Service, against the package's Service) renamed, so a rename never
	// steals the name of another shape.
	var clashed []string
	for _, n := range sortedKeys(g.m.Shapes) {
		if !g.isStruct(n) {
			continue
		}
		if name := exported(n); !g.taken[name] {
			g.types[n] = g.claim(name, "")
		} else {
			clashed = append(clashed, n)
		}
	}
	for _, n := range clashed {
		g.types[n] = g.claim(exported(n), "Shape")
	}
	for _, op := range sortedKeys(g.m.Operations) {
		o := g.m.Operations[op]
		g.inName[op] = g.ioName(op, "Input", o.Input)
		g.outName[op] = g.ioName(op, "Output", o.Output)
	}
}

// ioName returns the Go type used for an operation's input or output: op+suffix
// when that name is free (declared as an alias, or as an empty struct when the
// operation has no such shape), else the shape's own type.
func (g *pkgGen) ioName(op, suffix string, ref *opRef) string {
	want := exported(op) + suffix
	if ref != nil && g.types[ref.Shape] == want {
		return want
	}
	if g.taken[want] {
		if ref != nil {
			return g.types[ref.Shape]
		}
		return g.claim(want, "_")
	}
	g.taken[want] = true
	return want
}

// claim reserves name, adding suffix until it is free.
func (g *pkgGen) claim(name, suffix string) string {
	for g.taken[name] {
		name += suffix
	}
	g.taken[name] = true
	return name
}

// exported turns a model name into an exported Go identifier: characters Go does
// not allow are dropped (the next letter capitalized), the first letter is
// capitalized, and a name starting with a digit gets an X in front.
func exported(s string) string {
	var b strings.Builder
	upper := true
	for _, r := range s {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '_' {
			upper = true
			continue
		}
		if upper {
			r = unicode.ToUpper(r)
			upper = false
		}
		b.WriteRune(r)
	}
	out := b.String()
	if out == "" || out == "_" {
		return "X" + out
	}
	if unicode.IsDigit([]rune(out)[0]) {
		out = "X" + out
	}
	// Go names starting with a non-ASCII letter (ǅ) may not be exportable.
	if r := []rune(out)[0]; !unicode.IsUpper(r) {
		out = "X" + out
	}
	return out
}

// goType returns the Go type of a reference to shape n. Struct members are
// pointers so that absent and zero differ; list elements and map values are values
// (absence there is not a thing), except that nested structures stay values too.
func (g *pkgGen) goType(ref *shapeRef, member bool) (string, error) {
	s := g.m.Shapes[ref.Shape]
	if s == nil {
		return "", fmt.Errorf("unknown shape %q", ref.Shape)
	}
	ptr := ""
	if member {
		ptr = "*"
	}
	switch s.Type {
	case "structure":
		if s.Document {
			return "any", nil
		}
		return ptr + g.types[ref.Shape], nil
	case "list":
		t, err := g.goType(s.Member, false)
		return "[]" + t, err
	case "map":
		t, err := g.goType(s.Value, false)
		return "map[string]" + t, err
	case "string":
		return ptr + "string", nil
	case "integer":
		return ptr + "int32", nil
	case "long":
		return ptr + "int64", nil
	case "float":
		return ptr + "float32", nil
	case "double":
		return ptr + "float64", nil
	case "boolean":
		return ptr + "bool", nil
	case "timestamp":
		g.imports["time"] = true
		return ptr + "time.Time", nil
	case "blob":
		if ref.Streaming || s.Streaming {
			g.imports["io"] = true
			return "io.Reader", nil
		}
		return "[]byte", nil
	case "document":
		return "any", nil
	}
	return "", fmt.Errorf("shape %s: unknown type %q", ref.Shape, s.Type)
}

// tag is an ordered struct tag under construction.
type tag []string

func (t *tag) add(k, v string) {
	if v != "" {
		*t = append(*t, k+":"+strconv.Quote(v))
	}
}

func (t *tag) flag(k string, v bool) {
	if v {
		*t = append(*t, k+`:"true"`)
	}
}

// fieldTag returns the tag of member name of a structure. Traits of the member win;
// the target shape supplies what the member does not say (botocore merges a
// shape's serialization traits into every reference to it the same way).
func (g *pkgGen) fieldTag(name string, ref *shapeRef, required bool) string {
	s := g.m.Shapes[ref.Shape]
	var t tag
	t.add("aws", name)
	t.add("location", ref.Location)
	t.add("locationName", or(ref.LocationName, s.LocationName))
	t.add("jsonName", ref.JSONName)
	t.add("queryName", ref.QueryName)
	t.add("timestampFormat", or(ref.TimestampFormat, s.TimestampFormat))
	t.flag("flattened", ref.Flattened || s.Flattened)
	switch s.Type {
	case "list":
		t.add("memberName", g.refName(s.Member))
	case "map":
		t.add("keyName", g.refName(s.Key))
		t.add("valueName", g.refName(s.Value))
	}
	t.flag("xmlAttribute", ref.XMLAttribute)
	ns := ref.XMLNamespace
	if ns == nil {
		ns = s.XMLNamespace
	}
	if ns != nil {
		t.add("xmlNamespace", ns.URI)
		t.add("xmlPrefix", ns.Prefix)
	}
	t.flag("jsonvalue", ref.JSONValue || s.JSONValue)
	t.flag("streaming", ref.Streaming || (s.Type == "blob" && s.Streaming))
	t.flag("idempotencyToken", ref.IdempotencyToken)
	t.flag("required", required)
	t.flag("hostLabel", ref.HostLabel)
	return strings.Join(t, " ")
}

// refName is the XML name of a list member, map key or map value: its own
// locationName, else that of the shape it refers to.
func (g *pkgGen) refName(ref *shapeRef) string {
	if ref.LocationName != "" {
		return ref.LocationName
	}
	if s := g.m.Shapes[ref.Shape]; s != nil {
		return s.LocationName
	}
	return ""
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// shapeTag returns the blank field's tag describing structure n itself, or "".
func (g *pkgGen) shapeTag(n string) string {
	s := g.m.Shapes[n]
	loc, ns := s.LocationName, s.XMLNamespace
	// rest-xml operations may name the input's element on the operation
	// (S3 SelectObjectContent); the element belongs to the shape.
	for _, op := range sortedKeys(g.m.Operations) {
		if in := g.m.Operations[op].Input; in != nil && in.Shape == n {
			loc = or(loc, in.LocationName)
			if ns == nil {
				ns = in.XMLNamespace
			}
		}
	}
	var t tag
	t.add("payload", s.Payload)
	t.add("locationName", loc)
	if ns != nil {
		t.add("xmlNamespace", ns.URI)
		t.add("xmlPrefix", ns.Prefix)
	}
	return strings.Join(t, " ")
}

var (
	tagRE   = regexp.MustCompile(`<[^>]*>`)
	spaceRE = regexp.MustCompile(`\s+`)
	punctRE = regexp.MustCompile(`\s+([.,;:)])`)
)

// summary returns the first sentence of an HTML doc string as plain text, cut to
// about 100 characters: the full docs are a click away, and the generated files
// stay small.
func summary(doc string) string {
	s := html.UnescapeString(tagRE.ReplaceAllString(doc, " "))
	s = strings.TrimSpace(spaceRE.ReplaceAllString(s, " "))
	s = punctRE.ReplaceAllString(s, "$1") // "<code>Id</code>." became "Id ."
	if i := strings.Index(s, ". "); i >= 0 {
		s = s[:i+1]
	}
	const max = 100
	if len(s) > max {
		cut := strings.LastIndex(s[:max], " ")
		if cut < max/2 {
			cut = max
		}
		for cut > 0 && !utf8Start(s[cut]) {
			cut--
		}
		s = strings.TrimRight(s[:cut], " ,;:") + "..."
	}
	return s
}

func utf8Start(b byte) bool { return b&0xC0 != 0x80 }

// header is the first line of every generated file.
func (g *pkgGen) header() string {
	return fmt.Sprintf("// Code generated by internal/awsapi/gen from botocore %s models. DO NOT EDIT.\n\n", g.version)
}

func (g *pkgGen) typesFile() ([]byte, error) {
	var body bytes.Buffer
	for _, n := range sortedKeys(g.types) {
		s := g.m.Shapes[n]
		name := g.types[n]
		fmt.Fprintf(&body, "// %s is the %s shape of the %s model.", name, n, g.svc.ID)
		if sum := summary(s.Documentation); sum != "" {
			fmt.Fprintf(&body, " %s", sum)
		}
		fmt.Fprintf(&body, "\ntype %s struct {\n", name)
		if st := g.shapeTag(n); st != "" {
			fmt.Fprintf(&body, "_ struct{} `%s`\n", st)
		}
		req := map[string]bool{}
		for _, r := range s.Required {
			req[r] = true
		}
		fields := map[string]bool{}
		for _, mn := range s.memberNames() {
			ref := s.Members[mn]
			typ, err := g.goType(ref, true)
			if err != nil {
				return nil, fmt.Errorf("%s.%s: %w", n, mn, err)
			}
			fn := exported(mn)
			for fields[fn] {
				fn += "_"
			}
			fields[fn] = true
			fmt.Fprintf(&body, "%s %s `%s`\n", fn, typ, g.fieldTag(mn, ref, req[mn]))
		}
		body.WriteString("}\n\n")
	}
	// Operations without an input or output shape still get a type, so that every
	// service method has the same form.
	for _, op := range sortedKeys(g.m.Operations) {
		o := g.m.Operations[op]
		if o.Input == nil {
			fmt.Fprintf(&body, "// %s is the (empty) input of %s.\ntype %s struct{}\n\n", g.inName[op], op, g.inName[op])
		}
		if o.Output == nil {
			fmt.Fprintf(&body, "// %s is the (empty) output of %s, which returns no body.\ntype %s struct{}\n\n", g.outName[op], op, g.outName[op])
		}
	}
	var f bytes.Buffer
	f.WriteString(g.header())
	fmt.Fprintf(&f, "package %s\n\n", g.svc.Pkg)
	if len(g.imports) > 0 {
		f.WriteString("import (\n")
		for _, imp := range sortedKeys(g.imports) {
			fmt.Fprintf(&f, "%q\n", imp)
		}
		f.WriteString(")\n\n")
	}
	f.Write(body.Bytes())
	return gofmt("types.go", f.Bytes())
}

func gofmt(name string, src []byte) ([]byte, error) {
	out, err := format.Source(src)
	if err != nil {
		return nil, fmt.Errorf("%s: gofmt: %w", name, err)
	}
	return out, nil
}

// protocols lists every protocol the service speaks. SQS and CloudWatch were query
// services; awsQueryCompatible models still serve query clients, so query is
// added when the model does not list it.
func (g *pkgGen) protocols() []string {
	md := g.m.Metadata
	ps := append([]string(nil), md.Protocols...)
	if len(ps) == 0 {
		ps = []string{md.Protocol}
	}
	if md.AWSQueryCompatible != nil {
		has := false
		for _, p := range ps {
			has = has || p == "query"
		}
		if !has {
			ps = append(ps, "query")
		}
	}
	return ps
}

func (g *pkgGen) serviceFile() ([]byte, error) {
	md := g.m.Metadata
	var f bytes.Buffer
	w := func(format string, args ...any) { fmt.Fprintf(&f, format, args...) }
	w("%s", g.header())
	w("// Package %s holds the types and operations of %s\n", g.svc.Pkg, md.ServiceFullName)
	w("// (API %s), generated from botocore's %q model. A service implements\n", md.APIVersion, g.svc.ID)
	w("// any subset of the operations as methods and exposes them with Bind.\n")
	w("package %s\n\nimport (\n\"context\"\n\"fmt\"\n\n\"github.com/wharf-dev/wharf/internal/awsapi\"\n)\n\n", g.svc.Pkg)

	ops := sortedKeys(g.m.Operations)
	var aliases bytes.Buffer
	for _, op := range ops {
		o := g.m.Operations[op]
		if o.Input != nil && g.inName[op] != g.types[o.Input.Shape] {
			fmt.Fprintf(&aliases, "// %s is the input of %s.\n%s = %s\n", g.inName[op], op, g.inName[op], g.types[o.Input.Shape])
		}
		if o.Output != nil && g.outName[op] != g.types[o.Output.Shape] {
			fmt.Fprintf(&aliases, "// %s is the output of %s.\n%s = %s\n", g.outName[op], op, g.outName[op], g.types[o.Output.Shape])
		}
	}
	if aliases.Len() > 0 {
		w("type (\n%s)\n\n", aliases.String())
	}

	w("// operations and errorShapes are static data (no init code, pages touched only\n// when read); Service indexes them once.\n")
	w("var operations = [...]awsapi.Operation{\n")
	for _, op := range ops {
		o := g.m.Operations[op]
		w("{Name: %q", op)
		str2 := func(k, v string) {
			if v != "" {
				w(", %s: %q", k, v)
			}
		}
		str2("Method", o.HTTP.Method)
		str2("RequestURI", o.HTTP.RequestURI)
		if o.HTTP.ResponseCode != 0 {
			w(", SuccessCode: %d", o.HTTP.ResponseCode)
		}
		if o.Output != nil {
			str2("ResultWrapper", o.Output.ResultWrapper)
		}
		w(",\nNewInput: func() any { return new(%s) }", g.inName[op])
		if o.Output != nil {
			w(",\nNewOutput: func() any { return new(%s) }", g.outName[op])
		}
		if len(o.Errors) > 0 {
			names := make([]string, len(o.Errors))
			for i, e := range o.Errors {
				names[i] = e.Shape
			}
			w(",\nErrors: %#v", names)
		}
		w("},\n")
	}
	w("}\n\n")
	w("var errorShapes = [...]awsapi.ErrorShape{\n")
	for _, n := range sortedKeys(g.types) {
		s := g.m.Shapes[n]
		if !s.Exception {
			continue
		}
		code, status, receiver := n, 0, s.Fault
		if e := s.Error; e != nil {
			code = or(e.Code, n)
			status = e.HTTPStatusCode
			receiver = receiver || (e.SenderFault != nil && !*e.SenderFault)
		}
		// A 5xx error is the service's fault even when the model does not say so
		// (CloudWatch's InternalServiceFault).
		receiver = receiver || status >= 500
		w("{Name: %q, Code: %q", n, code)
		if status != 0 {
			w(", Status: %d", status)
		}
		if receiver {
			w(", Receiver: true")
		}
		w(", NewStruct: func() any { return new(%s) }},\n", g.types[n])
	}
	w("}\n\n")

	w("// Service describes %s to the codecs and the server.\n", md.ServiceFullName)
	w("var Service = &awsapi.Service{\n")
	w("ID: %q,\nPackage: %q,\nAPIVersion: %q,\n", g.svc.ID, g.svc.Pkg, md.APIVersion)
	w("Protocols: %#v,\n", g.protocols())
	str := func(k, v string) {
		if v != "" {
			w("%s: %q,\n", k, v)
		}
	}
	str("JSONVersion", md.JSONVersion)
	str("TargetPrefix", md.TargetPrefix)
	str("SigningName", or(md.SigningName, md.EndpointPrefix))
	str("EndpointPrefix", md.EndpointPrefix)
	str("XMLNamespace", md.XMLNamespace)
	str("ServiceID", md.ServiceID)
	if md.AWSQueryCompatible != nil {
		w("QueryCompatible: true,\n")
	}
	if g.quirks != (awsapi.Quirks{}) {
		w("Quirks: awsapi.Quirks{\n")
		v := reflect.ValueOf(g.quirks)
		for i := range v.NumField() {
			if f := v.Field(i); !f.IsZero() {
				w("%s: %#v,\n", v.Type().Field(i).Name, f.Interface())
			}
		}
		w("},\n")
	}
	w("OperationList: operations[:],\nErrorList: errorShapes[:],\n}\n\n")
	w("// OperationNames lists the operations of %s, sorted.\n", md.ServiceFullName)
	w("var OperationNames = []string{\n")
	for _, op := range ops {
		w("%q,\n", op)
	}
	w("}\n\n")

	w("// Bind returns a handler for each operation impl implements, keyed by operation\n")
	w("// name: impl has a method %s(ctx, *%sInput) (*%sOutput, error) for each.\n", "Op", "Op", "Op")
	w("// A service may implement only some operations; the others are absent.\n")
	w("func Bind(impl any) map[string]awsapi.Handler {\nh := map[string]awsapi.Handler{}\n")
	for _, op := range ops {
		o := g.m.Operations[op]
		wrap := "handle"
		if o.Output == nil {
			wrap = "handleNoOutput"
		}
		m := exported(op)
		w("if m, ok := impl.(interface{ %s(context.Context, *%s) (*%s, error) }); ok {\nh[%q] = %s(m.%s)\n}\n",
			m, g.inName[op], g.outName[op], op, wrap, m)
	}
	w("return h\n}\n\n")
	w(`// handle adapts a typed operation method to an awsapi.Handler.
func handle[I, O any](f func(context.Context, *I) (*O, error)) awsapi.Handler {
	return func(ctx context.Context, in any) (any, error) {
		i, ok := in.(*I)
		if !ok {
			return nil, fmt.Errorf("%s: input is %%T, want %%T", in, i)
		}
		out, err := f(ctx, i)
		if out == nil {
			return nil, err // a nil *O must not become a non-nil any
		}
		return out, err
	}
}

// handleNoOutput adapts a method of an operation without output: the codecs are
// given a nil output, as the operation's NewOutput is nil.
func handleNoOutput[I, O any](f func(context.Context, *I) (*O, error)) awsapi.Handler {
	h := handle(f)
	return func(ctx context.Context, in any) (any, error) {
		_, err := h(ctx, in)
		return nil, err
	}
}
`, g.svc.Pkg)
	return gofmt("service.go", f.Bytes())
}
