package expr

import (
	_ "embed"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/wharf-dev/wharf/internal/apierr"
)

// reservedWords is the list on the "Reserved words in DynamoDB" page of the
// developer guide, one word a line; it is not case-sensitive.
//
//go:embed reserved_words.txt
var reservedWords string

// reserved is the set of reserved words, built on first use rather than at
// init (573 words: a start-up cost for a service a user may never call).
var reserved = sync.OnceValue(func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(reservedWords) {
		m[strings.ToUpper(w)] = true
	}
	return m
})

// IsReserved reports whether w is a DynamoDB reserved word.
func IsReserved(w string) bool { return reserved()[strings.ToUpper(w)] }

// Env resolves #names and :values for one request's expressions and records
// which ones they used.
type Env struct {
	Names      map[string]string
	Values     map[string]Value
	usedNames  map[string]bool
	usedValues map[string]bool
}

// NewEnv returns an Env over a request's ExpressionAttributeNames and
// ExpressionAttributeValues (either may be nil).
func NewEnv(names map[string]string, values map[string]Value) *Env {
	return &Env{Names: names, Values: values, usedNames: map[string]bool{}, usedValues: map[string]bool{}}
}

// CheckUnused returns DynamoDB's ValidationException when a name or value was
// given but no expression of the request used it.
func (e *Env) CheckUnused() error {
	if k := unused(e.Names, e.usedNames); k != "" {
		return apierr.Validation("Value provided in ExpressionAttributeNames unused in expressions: keys: {%s}", k)
	}
	if k := unusedValues(e.Values, e.usedValues); k != "" {
		return apierr.Validation("Value provided in ExpressionAttributeValues unused in expressions: keys: {%s}", k)
	}
	return nil
}

func unused(m map[string]string, used map[string]bool) string {
	var ks []string
	for k := range m {
		if !used[k] {
			ks = append(ks, k)
		}
	}
	sort.Strings(ks)
	return strings.Join(ks, ", ")
}

func unusedValues(m map[string]Value, used map[string]bool) string {
	var ks []string
	for k := range m {
		if !used[k] {
			ks = append(ks, k)
		}
	}
	sort.Strings(ks)
	return strings.Join(ks, ", ")
}

// Kinds of expression, as DynamoDB names them in error messages.
const (
	KindCondition    = "ConditionExpression"
	KindFilter       = "FilterExpression"
	KindKeyCondition = "KeyConditionExpression"
	KindUpdate       = "UpdateExpression"
	KindProjection   = "ProjectionExpression"
)

// Token kinds.
const (
	tEOF = iota
	tIdent
	tName  // #name
	tValue // :value
	tNumber
	tPunct
	tIllegal
)

type token struct {
	kind       int
	text       string
	start, end int
}

func lex(src string) []token {
	var toks []token
	i := 0
	for i < len(src) {
		c := src[i]
		if c == ' ' || c == '\t' || c == '\n' || c == '\r' {
			i++
			continue
		}
		start := i
		switch {
		case isIdentStart(c):
			for i < len(src) && isIdentChar(src[i]) {
				i++
			}
			toks = append(toks, token{tIdent, src[start:i], start, i})
		case c == '#' || c == ':':
			i++
			for i < len(src) && isIdentChar(src[i]) {
				i++
			}
			kind := tName
			if c == ':' {
				kind = tValue
			}
			if i == start+1 {
				kind = tIllegal
			}
			toks = append(toks, token{kind, src[start:i], start, i})
		case c >= '0' && c <= '9':
			for i < len(src) && src[i] >= '0' && src[i] <= '9' {
				i++
			}
			toks = append(toks, token{tNumber, src[start:i], start, i})
		case c == '<' && i+1 < len(src) && (src[i+1] == '=' || src[i+1] == '>'),
			c == '>' && i+1 < len(src) && src[i+1] == '=':
			i += 2
			toks = append(toks, token{tPunct, src[start:i], start, i})
		case strings.IndexByte("()[],.=<>+-", c) >= 0:
			i++
			toks = append(toks, token{tPunct, src[start:i], start, i})
		default:
			// One illegal character (or UTF-8 sequence) is its own token.
			i++
			for i < len(src) && src[i]&0xc0 == 0x80 {
				i++
			}
			toks = append(toks, token{tIllegal, src[start:i], start, i})
		}
	}
	return append(toks, token{tEOF, "<EOF>", len(src), len(src)})
}

// isIdentStart: a name in an expression starts with a letter; "_abc" is a
// syntax error at "_", as DynamoDB's lexer has it.
func isIdentStart(c byte) bool {
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

func isIdentChar(c byte) bool { return c == '_' || isIdentStart(c) || (c >= '0' && c <= '9') }

// DynamoDB's limits on one expression ("Expression parameters" in the
// DynamoDB developer guide's Constraints page).
const (
	// MaxExpressionSize is the longest expression string, in bytes, as sent
	// (names and values are not substituted before counting).
	MaxExpressionSize = 4096
	// MaxOperators is the most operators and functions one expression may
	// hold; IN counts once whatever its number of operands.
	MaxOperators = 300
	// maxNesting bounds the parser's recursion (parentheses, NOT and nested
	// function calls). An expression within MaxExpressionSize cannot reach
	// it, since every level takes at least one byte; it is there so that no
	// caller that skips the size check can exhaust the goroutine's stack.
	maxNesting = MaxExpressionSize
)

// parser is a recursive descent parser over the tokens of one expression.
type parser struct {
	src   string
	kind  string
	toks  []token
	pos   int
	env   *Env
	depth int // current nesting, bounded by maxNesting
	// parenthesized marks the conditions written in parentheses.
	parenthesized map[Cond]bool
	ops           int // operators and functions seen, bounded by MaxOperators
}

// failure carries a parse error up through the recursion; parse functions
// recover it at the top, so each rule reads as the grammar does.
type failure struct{ err *apierr.Error }

// newParser checks the expression's size before lexing it, so that an
// oversized expression costs nothing but the check.
func newParser(env *Env, kind, src string) (*parser, error) {
	if len(src) > MaxExpressionSize {
		return nil, apierr.Validation("Invalid %s: Expression size has exceeded the maximum allowed size; expression size: %d", kind, len(src))
	}
	return newUncheckedParser(env, kind, src), nil
}

// newUncheckedParser skips the size check; only tests of the parser's own
// nesting bound use it directly.
func newUncheckedParser(env *Env, kind, src string) *parser {
	if env == nil {
		env = NewEnv(nil, nil)
	}
	return &parser{src: src, kind: kind, toks: lex(src), env: env}
}

// enter records one more level of nesting and fails past maxNesting; every
// recursive rule calls it, and leave on its way out.
func (p *parser) enter() {
	p.depth++
	if p.depth > maxNesting {
		p.fail("Invalid %s: The expression has too many nesting levels; nesting levels: %d", p.kind, p.depth)
	}
}

func (p *parser) leave() { p.depth-- }

// operator counts one operator or function against MaxOperators.
func (p *parser) operator() {
	p.ops++
	if p.ops > MaxOperators {
		p.fail("Invalid %s: The expression contains too many operators; operator count: %d", p.kind, p.ops)
	}
}

func (p *parser) run(fn func()) (err error) {
	defer func() {
		if r := recover(); r != nil {
			f, ok := r.(failure)
			if !ok {
				panic(r)
			}
			err = f.err
		}
	}()
	if strings.TrimSpace(p.src) == "" {
		p.fail("Invalid %s: The expression can not be empty;", p.kind)
	}
	fn()
	if p.peek().kind != tEOF {
		p.syntax()
	}
	return nil
}

func (p *parser) fail(format string, args ...any) {
	panic(failure{apierr.Validation(format, args...)})
}

func (p *parser) peek() token { return p.toks[p.pos] }

func (p *parser) peekAt(n int) token {
	if p.pos+n < len(p.toks) {
		return p.toks[p.pos+n]
	}
	return p.toks[len(p.toks)-1]
}

func (p *parser) next() token {
	t := p.toks[p.pos]
	if t.kind != tEOF {
		p.pos++
	}
	return t
}

// syntax reports the current token as DynamoDB does: the token, and the text
// near it (from the previous token to this one).
func (p *parser) syntax() {
	t := p.peek()
	near := ""
	if p.pos > 0 {
		prev := p.toks[p.pos-1]
		near = p.src[prev.start:t.end]
	} else {
		near = p.src[t.start:t.end]
	}
	p.fail("Invalid %s: Syntax error; token: \"%s\", near: \"%s\"", p.kind, t.text, strings.TrimSpace(near))
}

func (p *parser) isPunct(s string) bool {
	t := p.peek()
	return t.kind == tPunct && t.text == s
}

func (p *parser) expect(s string) {
	if !p.isPunct(s) {
		p.syntax()
	}
	p.next()
}

func (p *parser) isKeyword(w string) bool {
	t := p.peek()
	return t.kind == tIdent && strings.EqualFold(t.text, w)
}

// ---- conditions ----

// ParseCondition parses a condition or filter expression.
func ParseCondition(env *Env, kind, src string) (Cond, error) {
	p, err := newParser(env, kind, src)
	if err != nil {
		return nil, err
	}
	var c Cond
	err = p.run(func() { c = p.or() })
	return c, err
}

func (p *parser) or() Cond {
	p.enter()
	defer p.leave()
	c := p.and()
	for p.isKeyword("OR") {
		p.next()
		p.operator()
		c = &Or{c, p.and()}
	}
	return c
}

func (p *parser) and() Cond {
	c := p.not()
	for p.isKeyword("AND") {
		p.next()
		p.operator()
		c = &And{c, p.not()}
	}
	return c
}

func (p *parser) not() Cond {
	if p.isKeyword("NOT") {
		p.next()
		p.operator()
		p.enter()
		defer p.leave()
		return &Not{p.not()}
	}
	return p.primary()
}

var boolFuncs = map[string]int{ // name → number of operands
	"attribute_exists":     1,
	"attribute_not_exists": 1,
	"attribute_type":       2,
	"begins_with":          2,
	"contains":             2,
}

func (p *parser) primary() Cond {
	if p.isPunct("(") {
		p.next()
		c := p.or()
		p.expect(")")
		// One pair of parentheses too many is allowed; a pair around a pair
		// is DynamoDB's "redundant parentheses".
		if p.parenthesized[c] {
			p.fail("Invalid %s: The expression has redundant parentheses;", p.kind)
		}
		if p.parenthesized == nil {
			p.parenthesized = map[Cond]bool{}
		}
		p.parenthesized[c] = true
		return c
	}
	t := p.peek()
	if t.kind == tIdent && p.peekAt(1).kind == tPunct && p.peekAt(1).text == "(" {
		if _, ok := boolFuncs[t.text]; ok {
			return p.boolFunc()
		}
		if t.text == "if_not_exists" || t.text == "list_append" {
			p.fail("Invalid %s: The function is not allowed to be used this way in an expression; function: %s", p.kind, t.text)
		}
		if t.text != "size" {
			p.fail("Invalid %s: Invalid function name; function: %s", p.kind, t.text)
		}
	}
	x := p.operand()
	switch {
	case p.peek().kind == tPunct && isComparator(p.peek().text):
		op := p.next().text
		p.operator()
		y := p.operand()
		if op != "=" && op != "<>" {
			p.checkComparable(op, x)
			p.checkComparable(op, y)
		}
		return &Compare{op, x, y}
	case p.isKeyword("BETWEEN"):
		p.next()
		p.operator()
		lo := p.operand()
		if !p.isKeyword("AND") {
			p.syntax()
		}
		p.next()
		hi := p.operand()
		for _, o := range []Operand{x, lo, hi} {
			p.checkComparable("BETWEEN", o)
		}
		p.checkBounds(lo, hi)
		return &Between{x, lo, hi}
	case p.isKeyword("IN"):
		p.next()
		p.operator()
		p.expect("(")
		list := []Operand{p.operand()}
		for p.isPunct(",") {
			p.next()
			list = append(list, p.operand())
		}
		p.expect(")")
		if len(list) > 100 {
			p.fail("Invalid %s: The IN operator is provided with too many operands; number of operands: %d", p.kind, len(list))
		}
		return &In{x, list}
	}
	if _, ok := x.(*Size); ok {
		p.fail("Invalid %s: The function is not allowed to be used this way in an expression; function: size", p.kind)
	}
	p.syntax()
	return nil
}

func isComparator(s string) bool {
	switch s {
	case "=", "<>", "<", "<=", ">", ">=":
		return true
	}
	return false
}

// checkComparable rejects an ordering comparison of a constant that is not
// a string, number or binary. DynamoDB refuses such a request before
// reading any item; the same comparison against an item's attribute of
// another type is merely false.
func (p *parser) checkComparable(op string, o Operand) {
	v, ok := o.(*ValueOperand)
	if !ok {
		return
	}
	switch t := TypeOf(v.Value); t {
	case "S", "N", "B":
	default:
		p.fail("Invalid %s: Incorrect operand type for operator or function; operator or function: %s, operand type: %s", p.kind, op, t)
	}
}

// checkBounds rejects BETWEEN with constant bounds of different types or in
// the wrong order, as DynamoDB does before reading any item.
func (p *parser) checkBounds(lo, hi Operand) {
	l, ok1 := lo.(*ValueOperand)
	h, ok2 := hi.(*ValueOperand)
	if !ok1 || !ok2 {
		return
	}
	if TypeOf(l.Value) != TypeOf(h.Value) {
		p.fail("Invalid %s: The BETWEEN operator requires same data type for lower and upper bounds; lower bound operand: %s, upper bound operand: %s", p.kind, describe(l.Value), describe(h.Value))
	}
	if c, ok := compareValues(l.Value, h.Value); ok && c > 0 {
		p.fail("Invalid %s: The BETWEEN operator requires upper bound to be greater than or equal to lower bound; lower bound: %s, upper bound: %s", p.kind, describe(l.Value), describe(h.Value))
	}
}

func (p *parser) boolFunc() Cond {
	name := p.next().text
	args := p.args()
	if n := boolFuncs[name]; len(args) != n {
		p.fail("Invalid %s: Incorrect number of operands for operator or function; operator or function: %s, number of operands: %d", p.kind, name, len(args))
	}
	// Only the existence functions need a path: attribute_type, begins_with
	// and contains take any operand first, as DynamoDB does whatever its
	// documentation suggests.
	if _, ok := args[0].(*PathOperand); !ok && (name == "attribute_exists" || name == "attribute_not_exists") {
		p.fail("Invalid %s: Operator or function requires a document path; operator or function: %s", p.kind, name)
	}
	if name == "attribute_type" {
		v, ok := args[1].(*ValueOperand)
		if !ok {
			p.fail("Invalid %s: Incorrect operand type for operator or function; operator or function: attribute_type, operand type: %s", p.kind, operandType(args[1]))
		}
		if v.Value.S == nil {
			p.fail("Invalid %s: Incorrect operand type for operator or function; operator or function: attribute_type, operand type: %s", p.kind, TypeOf(v.Value))
		}
		if !validTypeName(*v.Value.S) {
			p.fail("Invalid %s: Invalid attribute type name found; type: %s, valid types: {B,NULL,SS,BOOL,L,BS,N,NS,S,M}", p.kind, *v.Value.S)
		}
	}
	if name == "begins_with" {
		if v, ok := args[1].(*ValueOperand); ok && v.Value.S == nil && v.Value.B == nil {
			p.fail("Invalid %s: Incorrect operand type for operator or function; operator or function: begins_with, operand type: %s", p.kind, TypeOf(v.Value))
		}
	}
	return &Func{name, args}
}

func operandType(o Operand) string {
	if v, ok := o.(*ValueOperand); ok {
		return TypeOf(v.Value)
	}
	return "PATH"
}

func validTypeName(s string) bool {
	switch s {
	case "S", "N", "B", "SS", "NS", "BS", "BOOL", "NULL", "L", "M":
		return true
	}
	return false
}

// args parses "(operand, operand...)" of a function call; the call counts as
// one operator.
func (p *parser) args() []Operand {
	p.operator()
	p.enter()
	defer p.leave()
	p.expect("(")
	var args []Operand
	if !p.isPunct(")") {
		args = append(args, p.anyOperand())
		for p.isPunct(",") {
			p.next()
			args = append(args, p.anyOperand())
		}
	}
	p.expect(")")
	return args
}

// anyOperand is an operand of a condition: a path, a value, or size(path).
// In SET actions, setOperand takes its place.
func (p *parser) anyOperand() Operand {
	if p.kind == KindUpdate {
		return p.setOperand()
	}
	return p.operand()
}

func (p *parser) operand() Operand {
	t := p.peek()
	switch t.kind {
	case tValue:
		return p.value()
	case tIdent:
		if p.peekAt(1).kind == tPunct && p.peekAt(1).text == "(" {
			if t.text == "size" {
				p.next()
				args := p.args()
				if len(args) != 1 {
					p.fail("Invalid %s: Incorrect number of operands for operator or function; operator or function: size, number of operands: %d", p.kind, len(args))
				}
				switch a := args[0].(type) {
				case *PathOperand:
					return &Size{a.Path}
				case *ValueOperand:
					// size() of a constant is computed once, here; a
					// constant without a size is the request's error.
					n, ok := sizeOf(a.Value)
					if !ok {
						p.fail("Invalid %s: Incorrect operand type for operator or function; operator or function: size, operand type: %s", p.kind, TypeOf(a.Value))
					}
					s := strconv.Itoa(n)
					return &ValueOperand{Name: a.Name, Value: Value{N: &s}}
				case *Size:
					p.fail("Invalid %s: Incorrect operand type for operator or function; operator or function: size, operand type: N", p.kind)
				}
				p.fail("Invalid %s: Operator or function requires a document path; operator or function: size", p.kind)
			}
			if _, ok := boolFuncs[t.text]; ok || t.text == "if_not_exists" || t.text == "list_append" {
				p.fail("Invalid %s: The function is not allowed to be used this way in an expression; function: %s", p.kind, t.text)
			}
			p.fail("Invalid %s: Invalid function name; function: %s", p.kind, t.text)
		}
		return &PathOperand{p.path()}
	case tName:
		return &PathOperand{p.path()}
	}
	p.syntax()
	return nil
}

func (p *parser) value() *ValueOperand {
	t := p.next()
	v, ok := p.env.Values[t.text]
	if !ok {
		p.fail("Invalid %s: An expression attribute value used in expression is not defined; attribute value: %s", p.kind, t.text)
	}
	p.env.usedValues[t.text] = true
	return &ValueOperand{t.text, v}
}

// path parses name ( '.' name | '[' n ']' )*.
func (p *parser) path() Path {
	path := Path{{Name: p.pathName()}}
	for {
		switch {
		case p.isPunct("."):
			p.next()
			path = append(path, Step{Name: p.pathName()})
		case p.isPunct("["):
			p.next()
			t := p.peek()
			if t.kind != tNumber {
				p.syntax()
			}
			p.next()
			n, err := strconv.ParseInt(t.text, 10, 32)
			if err != nil {
				p.fail("Invalid %s: List index is not within the allowable range; index: [%s]", p.kind, t.text)
			}
			p.expect("]")
			path = append(path, Step{Index: int(n), IsIndex: true})
		default:
			if len(path) > 32 {
				p.fail("Invalid %s: The document path has too many nesting levels; nesting levels: %d", p.kind, len(path))
			}
			return path
		}
	}
}

func (p *parser) pathName() string {
	t := p.peek()
	switch t.kind {
	case tIdent:
		if IsReserved(t.text) {
			p.fail("Invalid %s: Attribute name is a reserved keyword; reserved keyword: %s", p.kind, t.text)
		}
		p.next()
		return t.text
	case tName:
		p.next()
		n, ok := p.env.Names[t.text]
		if !ok {
			p.fail("Invalid %s: An expression attribute name used in the document path is not defined; attribute name: %s", p.kind, t.text)
		}
		p.env.usedNames[t.text] = true
		return n
	}
	p.syntax()
	return ""
}

// ---- projections ----

// ParseProjection parses a projection expression: paths separated by commas.
func ParseProjection(env *Env, src string) ([]Path, error) {
	p, err := newParser(env, KindProjection, src)
	if err != nil {
		return nil, err
	}
	var paths []Path
	err = p.run(func() {
		paths = append(paths, p.path())
		for p.isPunct(",") {
			p.next()
			paths = append(paths, p.path())
		}
		p.checkOverlap(paths)
	})
	return paths, err
}

// checkOverlap rejects two paths where one is a prefix of (or equal to) the
// other: they would read or write the same document twice.
func (p *parser) checkOverlap(paths []Path) {
	for i := range paths {
		for j := i + 1; j < len(paths); j++ {
			a, b := paths[i], paths[j]
			n := min(len(a), len(b))
			if slicesEqual(a[:n], b[:n]) {
				p.fail("Invalid %s: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: %s, path two: %s", p.kind, a, b)
			}
			// Where they part, one reading a map key and the other a list
			// index, no document has both.
			k := 0
			for k < n && a[k] == b[k] {
				k++
			}
			if a[k].IsIndex != b[k].IsIndex {
				p.fail("Invalid %s: Two document paths conflict with each other; must remove or rewrite one of these paths; path one: %s, path two: %s", p.kind, a, b)
			}
		}
	}
}

func slicesEqual(a, b Path) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// ---- updates ----

// ParseUpdate parses an update expression: SET, REMOVE, ADD and DELETE clauses,
// each at most once, in any order.
func ParseUpdate(env *Env, src string) (*Update, error) {
	p, err := newParser(env, KindUpdate, src)
	if err != nil {
		return nil, err
	}
	u := &Update{}
	err = p.run(func() {
		seen := map[string]bool{}
		for p.peek().kind != tEOF {
			t := p.peek()
			if t.kind != tIdent {
				p.syntax()
			}
			clause := strings.ToUpper(t.text)
			switch clause {
			case "SET", "REMOVE", "ADD", "DELETE":
			default:
				p.syntax()
			}
			if seen[clause] {
				p.fail("Invalid %s: The \"%s\" section can only be used once in an update expression;", p.kind, clause)
			}
			seen[clause] = true
			p.next()
			for {
				switch clause {
				case "SET":
					path := p.path()
					p.expect("=")
					u.Set = append(u.Set, SetAction{path, p.setValue()})
				case "REMOVE":
					u.Remove = append(u.Remove, p.path())
				case "ADD", "DELETE":
					path := p.path()
					if p.peek().kind != tValue {
						p.syntax()
					}
					v := p.value()
					p.checkAddDelete(clause, v.Value)
					a := SetAction{path, v}
					if clause == "ADD" {
						u.Add = append(u.Add, a)
					} else {
						u.Delete = append(u.Delete, a)
					}
				}
				if !p.isPunct(",") {
					break
				}
				p.next()
			}
		}
		var all []Path
		for _, a := range u.Set {
			all = append(all, a.Path)
		}
		all = append(all, u.Remove...)
		for _, a := range u.Add {
			all = append(all, a.Path)
		}
		for _, a := range u.Delete {
			all = append(all, a.Path)
		}
		p.checkOverlap(all)
	})
	return u, err
}

func (p *parser) checkAddDelete(clause string, v Value) {
	t := TypeOf(v)
	ok := t == "SS" || t == "NS" || t == "BS" || (clause == "ADD" && t == "N")
	if !ok {
		p.fail("Invalid %s: Incorrect operand type for operator or function; operator: %s, operand type: %s", p.kind, clause, longTypeName(t))
	}
}

// longTypeName spells a type as DynamoDB's update errors do.
func longTypeName(t string) string {
	switch t {
	case "S":
		return "STRING"
	case "N":
		return "NUMBER"
	case "B":
		return "BINARY"
	case "BOOL":
		return "BOOLEAN"
	case "L":
		return "LIST"
	case "M":
		return "MAP"
	case "SS":
		return "STRING SET"
	case "NS":
		return "NUMBER SET"
	case "BS":
		return "BINARY SET"
	}
	return t
}

// setValue is operand [ ('+' | '-') operand ].
func (p *parser) setValue() Operand {
	a := p.setOperand()
	if p.isPunct("+") || p.isPunct("-") {
		op := p.next().text[0]
		p.operator()
		return &Arith{op, a, p.setOperand()}
	}
	return a
}

func (p *parser) setOperand() Operand {
	t := p.peek()
	if t.kind == tIdent && p.peekAt(1).kind == tPunct && p.peekAt(1).text == "(" {
		switch t.text {
		case "if_not_exists":
			p.next()
			args := p.args()
			if len(args) != 2 {
				p.fail("Invalid %s: Incorrect number of operands for operator or function; operator or function: if_not_exists, number of operands: %d", p.kind, len(args))
			}
			po, ok := args[0].(*PathOperand)
			if !ok {
				p.fail("Invalid %s: Operator or function requires a document path; operator or function: if_not_exists", p.kind)
			}
			return &IfNotExists{po.Path, args[1]}
		case "list_append":
			p.next()
			args := p.args()
			if len(args) != 2 {
				p.fail("Invalid %s: Incorrect number of operands for operator or function; operator or function: list_append, number of operands: %d", p.kind, len(args))
			}
			for _, a := range args {
				if v, ok := a.(*ValueOperand); ok && v.Value.L == nil {
					p.fail("Invalid %s: Incorrect operand type for operator or function; operator or function: list_append, operand type: %s", p.kind, TypeOf(v.Value))
				}
			}
			return &ListAppend{args[0], args[1]}
		}
		if _, ok := boolFuncs[t.text]; ok || t.text == "size" {
			p.fail("Invalid %s: The function is not allowed in an update expression; function: %s", p.kind, t.text)
		}
		p.fail("Invalid %s: Invalid function name; function: %s", p.kind, t.text)
	}
	switch t.kind {
	case tValue:
		return p.value()
	case tIdent, tName:
		return &PathOperand{p.path()}
	}
	p.syntax()
	return nil
}

// describe renders a value as DynamoDB's messages do: "AttributeValue: {N:5}".
func describe(v Value) string {
	t := TypeOf(v)
	switch t {
	case "S":
		return fmt.Sprintf("AttributeValue: {S:%s}", *v.S)
	case "N":
		return fmt.Sprintf("AttributeValue: {N:%s}", *v.N)
	}
	return "AttributeValue: {" + t + "}"
}
