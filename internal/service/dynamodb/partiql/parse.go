// Package partiql parses the subset of PartiQL that DynamoDB accepts
// ("PartiQL - a SQL-compatible query language for Amazon DynamoDB"): SELECT,
// INSERT, UPDATE and DELETE of one table, with ? parameters, and EXISTS for
// the condition checks of ExecuteTransaction.
//
// Conditions, paths and update actions are parsed into the trees of package
// expr, so that a statement's WHERE clause and SET/REMOVE actions are
// evaluated exactly as the equivalent expressions of the item API are.
// Parameters are bound while parsing: the trees hold their values.
package partiql

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/wharf-dev/wharf/internal/apierr"
	ddb "github.com/wharf-dev/wharf/internal/awsapi/dynamodb"
	"github.com/wharf-dev/wharf/internal/service/dynamodb/expr"
)

// Value is an attribute value.
type Value = ddb.AttributeValue

// Kind is what a statement does.
type Kind string

// The statements DynamoDB's PartiQL has.
const (
	Select Kind = "SELECT"
	Insert Kind = "INSERT"
	Update Kind = "UPDATE"
	Delete Kind = "DELETE"
	// Exists is EXISTS(SELECT ...), a condition check in ExecuteTransaction.
	Exists Kind = "EXISTS"
)

// Statement is one parsed statement.
type Statement struct {
	Kind  Kind
	Table string
	// Index is SELECT's FROM "table"."index", empty for the table.
	Index string
	// Projection is SELECT's list of paths; nil for *.
	Projection []expr.Path
	// Where is the WHERE clause, nil when there is none.
	Where   expr.Cond
	OrderBy []Order
	// Item is INSERT's VALUE.
	Item map[string]Value
	// Update is UPDATE's SET and REMOVE actions.
	Update *expr.Update
	// Returning is the RETURNING clause in ReturnValues' terms (ALL_OLD,
	// UPDATED_OLD, ALL_NEW, UPDATED_NEW), empty when there is none.
	Returning string
}

// Order is one ORDER BY term.
type Order struct {
	Name string
	Desc bool
}

// Statement limits: the model's bound on the statement's length, and the
// parser's on nesting (parentheses, NOT, and nested lists, maps and sets),
// which keeps recursion shallow whatever the input; DynamoDB nests items 32
// levels at most, so no valid statement comes near it.
const (
	MaxStatementLength = 8192
	maxNesting         = 64
)

// wellFormed is the prefix of DynamoDB's message for a statement it cannot
// parse.
const wellFormed = "Statement wasn't well formed, can't be processed: "

// Parse parses src and binds params to its ? placeholders in order.
func Parse(src string, params []Value) (st *Statement, err error) {
	if len(src) == 0 || len(src) > MaxStatementLength {
		return nil, apierr.Validation("1 validation error detected: Value at 'statement' failed to satisfy constraint: Member must have length less than or equal to %d and greater than or equal to 1", MaxStatementLength)
	}
	p := &parser{toks: lex(src), params: params}
	defer func() {
		if r := recover(); r != nil {
			f, ok := r.(failure)
			if !ok {
				panic(r)
			}
			st, err = nil, f.err
		}
	}()
	st = p.statement()
	if p.peek().kind != tEOF {
		p.unexpected()
	}
	if p.used != len(params) {
		return nil, apierr.Validation("Number of parameters in request and statement don't match.")
	}
	return st, nil
}

type parser struct {
	toks   []token
	pos    int
	params []Value
	used   int // parameters bound so far
	depth  int
}

// failure carries a parse error up through the recursion to Parse.
type failure struct{ err *apierr.Error }

func (p *parser) fail(format string, args ...any) {
	panic(failure{apierr.Validation(format, args...)})
}

func (p *parser) peek() token { return p.peekAt(0) }

// peekAt looks n tokens ahead; past the end it sees the EOF token.
func (p *parser) peekAt(n int) token {
	if i := p.pos + n; i < len(p.toks) {
		return p.toks[i]
	}
	return p.toks[len(p.toks)-1]
}

// next consumes a token; a rule that read one too many steps back with
// p.pos--, which is why next advances past the end too.
func (p *parser) next() token {
	t := p.peek()
	p.pos++
	return t
}

// isCall reports whether the tokens at hand are a name followed by "(".
func (p *parser) isCall() bool {
	n := p.peekAt(1)
	return p.peek().kind == tIdent && n.kind == tPunct && n.text == "("
}

// unexpected reports the token at hand as DynamoDB words it.
func (p *parser) unexpected() {
	t := p.peek()
	switch {
	case t.kind == tEOF:
		p.fail(wellFormed + "Unexpected end of statement")
	case t.kind == tIllegal:
		p.fail(wellFormed + "Unexpected token")
	case t.kind == tIdent && keywords[strings.ToUpper(t.text)]:
		p.fail(wellFormed + "Unexpected keyword")
	}
	p.fail(wellFormed + "Unexpected token")
}

// keywords are the words that cannot be a bare attribute or table name.
var keywords = map[string]bool{}

func init() {
	for _, w := range strings.Fields("SELECT FROM WHERE AND OR NOT IN BETWEEN IS MISSING NULL TRUE FALSE INSERT INTO VALUE VALUES UPDATE SET REMOVE DELETE RETURNING ORDER BY ASC DESC EXISTS") {
		keywords[w] = true
	}
}

func (p *parser) isKeyword(w string) bool {
	t := p.peek()
	return t.kind == tIdent && strings.EqualFold(t.text, w)
}

func (p *parser) keyword(w string) {
	if !p.isKeyword(w) {
		p.unexpected()
	}
	p.next()
}

func (p *parser) isPunct(s string) bool {
	t := p.peek()
	return t.kind == tPunct && t.text == s
}

func (p *parser) punct(s string) {
	if !p.isPunct(s) {
		p.unexpected()
	}
	p.next()
}

func (p *parser) enter() {
	p.depth++
	if p.depth > maxNesting {
		p.fail(wellFormed+"The statement has more than %d levels of nesting", maxNesting)
	}
}

func (p *parser) leave() { p.depth-- }

func (p *parser) statement() *Statement {
	switch {
	case p.isKeyword("SELECT"):
		return p.selectStatement()
	case p.isKeyword("INSERT"):
		return p.insertStatement()
	case p.isKeyword("UPDATE"):
		return p.updateStatement()
	case p.isKeyword("DELETE"):
		return p.deleteStatement()
	case p.isKeyword("EXISTS"):
		p.next()
		p.punct("(")
		st := p.selectStatement()
		p.punct(")")
		st.Kind = Exists
		return st
	}
	p.fail(wellFormed + "Expected data manipulation")
	return nil
}

// name reads a table, index or attribute name: a bare identifier that is
// not a keyword, or a double-quoted one.
func (p *parser) name() string {
	t := p.peek()
	switch {
	case t.kind == tQuoted && t.text != "":
		p.next()
		return t.text
	case t.kind == tIdent && !keywords[strings.ToUpper(t.text)]:
		p.next()
		return t.text
	}
	p.unexpected()
	return ""
}

func (p *parser) selectStatement() *Statement {
	p.keyword("SELECT")
	st := &Statement{Kind: Select}
	if p.isPunct("*") {
		p.next()
	} else {
		st.Projection = []expr.Path{p.path()}
		for p.isPunct(",") {
			p.next()
			st.Projection = append(st.Projection, p.path())
		}
	}
	p.keyword("FROM")
	st.Table = p.name()
	if p.isPunct(".") {
		p.next()
		st.Index = p.name()
	}
	if p.isKeyword("WHERE") {
		p.next()
		st.Where = p.or()
	}
	if p.isKeyword("ORDER") {
		p.next()
		p.keyword("BY")
		for {
			o := Order{Name: p.name()}
			if p.isKeyword("DESC") {
				p.next()
				o.Desc = true
			} else if p.isKeyword("ASC") {
				p.next()
			}
			st.OrderBy = append(st.OrderBy, o)
			if !p.isPunct(",") {
				break
			}
			p.next()
		}
	}
	return st
}

func (p *parser) insertStatement() *Statement {
	p.keyword("INSERT")
	p.keyword("INTO")
	st := &Statement{Kind: Insert, Table: p.name()}
	p.keyword("VALUE")
	v := p.value()
	if v.M == nil {
		p.fail(wellFormed + "Insert value must be a tuple")
	}
	st.Item = v.M
	return st
}

func (p *parser) updateStatement() *Statement {
	p.keyword("UPDATE")
	st := &Statement{Kind: Update, Table: p.name(), Update: &expr.Update{}}
	for p.isKeyword("SET") || p.isKeyword("REMOVE") {
		if p.next().text[0]|0x20 == 's' {
			for {
				p.setAction(st.Update)
				if !p.isPunct(",") {
					break
				}
				p.next()
			}
			continue
		}
		for {
			st.Update.Remove = append(st.Update.Remove, p.path())
			if !p.isPunct(",") {
				break
			}
			p.next()
		}
	}
	if len(st.Update.Set)+len(st.Update.Remove)+len(st.Update.Add)+len(st.Update.Delete) == 0 {
		p.unexpected()
	}
	p.keyword("WHERE")
	st.Where = p.or()
	st.Returning = p.returning()
	return st
}

func (p *parser) deleteStatement() *Statement {
	p.keyword("DELETE")
	p.keyword("FROM")
	st := &Statement{Kind: Delete, Table: p.name()}
	p.keyword("WHERE")
	st.Where = p.or()
	st.Returning = p.returning()
	return st
}

// returning reads RETURNING (ALL|MODIFIED) (OLD|NEW) *.
func (p *parser) returning() string {
	if !p.isKeyword("RETURNING") {
		return ""
	}
	p.next()
	var which, when string
	switch {
	case p.isKeyword("ALL"):
		which = "ALL_"
	case p.isKeyword("MODIFIED"):
		which = "UPDATED_"
	default:
		p.unexpected()
	}
	p.next()
	switch {
	case p.isKeyword("OLD"):
		when = "OLD"
	case p.isKeyword("NEW"):
		when = "NEW"
	default:
		p.unexpected()
	}
	p.next()
	p.punct("*")
	return which + when
}

// setAction reads path = value, where value may be an arithmetic of two
// operands, list_append(a, b), set_add(path, set) or set_delete(path, set).
func (p *parser) setAction(u *expr.Update) {
	path := p.path()
	p.punct("=")
	if t := p.peek(); p.isCall() {
		switch strings.ToLower(t.text) {
		case "set_add", "set_delete":
			p.next()
			p.punct("(")
			target := p.path()
			if !slices.Equal(target, path) {
				p.fail("%s's first argument must be the path being set: %s", strings.ToLower(t.text), path)
			}
			p.punct(",")
			v := p.value()
			p.punct(")")
			if v.SS == nil && v.NS == nil && v.BS == nil {
				p.fail("%s's second argument must be a set", strings.ToLower(t.text))
			}
			a := expr.SetAction{Path: path, Value: &expr.ValueOperand{Value: v}}
			if strings.EqualFold(t.text, "set_add") {
				u.Add = append(u.Add, a)
			} else {
				u.Delete = append(u.Delete, a)
			}
			return
		case "list_append":
			p.next()
			p.punct("(")
			a := p.operand()
			p.punct(",")
			b := p.operand()
			p.punct(")")
			u.Set = append(u.Set, expr.SetAction{Path: path, Value: &expr.ListAppend{A: a, B: b}})
			return
		}
	}
	v := p.operand()
	if p.isPunct("+") || p.isPunct("-") {
		op := p.next().text[0]
		v = &expr.Arith{Op: op, A: v, B: p.operand()}
	}
	u.Set = append(u.Set, expr.SetAction{Path: path, Value: v})
}

// path reads name(.name | [index] | ['name'])*.
func (p *parser) path() expr.Path {
	path := expr.Path{{Name: p.name()}}
	for {
		switch {
		case p.isPunct("."):
			p.next()
			path = append(path, expr.Step{Name: p.name()})
		case p.isPunct("["):
			p.next()
			t := p.next()
			switch t.kind {
			case tNumber:
				n, err := strconv.Atoi(t.text)
				if err != nil || n < 0 {
					p.fail(wellFormed+"Invalid list index: %s", t.text)
				}
				path = append(path, expr.Step{Index: n, IsIndex: true})
			case tString:
				path = append(path, expr.Step{Name: t.text})
			default:
				p.pos--
				p.unexpected()
			}
			p.punct("]")
		default:
			return path
		}
	}
}

// or, and, not and predicate are the WHERE clause, lowest precedence first.
func (p *parser) or() expr.Cond {
	p.enter()
	defer p.leave()
	c := p.and()
	for p.isKeyword("OR") {
		p.next()
		c = &expr.Or{L: c, R: p.and()}
	}
	return c
}

func (p *parser) and() expr.Cond {
	c := p.not()
	for p.isKeyword("AND") {
		p.next()
		c = &expr.And{L: c, R: p.not()}
	}
	return c
}

func (p *parser) not() expr.Cond {
	if p.isKeyword("NOT") {
		p.next()
		p.enter()
		defer p.leave()
		return &expr.Not{C: p.not()}
	}
	return p.predicate()
}

func (p *parser) predicate() expr.Cond {
	if p.isPunct("(") {
		p.next()
		c := p.or()
		p.punct(")")
		return c
	}
	if t := p.peek(); p.isCall() {
		switch name := strings.ToLower(t.text); name {
		case "begins_with", "contains", "attribute_type":
			p.next()
			p.punct("(")
			path := p.path()
			p.punct(",")
			v := p.operand()
			p.punct(")")
			if name == "attribute_type" {
				vo, ok := v.(*expr.ValueOperand)
				if !ok || vo.Value.S == nil || !validType(*vo.Value.S) {
					p.fail("Invalid attribute type name found in attribute_type function")
				}
			}
			return &expr.Func{Name: name, Args: []expr.Operand{&expr.PathOperand{Path: path}, v}}
		}
	}
	x := p.operand()
	switch {
	case p.isKeyword("IS"):
		p.next()
		negate := false
		if p.isKeyword("NOT") {
			p.next()
			negate = true
		}
		path, ok := x.(*expr.PathOperand)
		if !ok {
			p.unexpected()
		}
		var c expr.Cond
		switch {
		case p.isKeyword("MISSING"):
			c = &expr.Func{Name: "attribute_not_exists", Args: []expr.Operand{path}}
		case p.isKeyword("NULL"):
			// In PartiQL a missing attribute IS NULL too.
			c = &expr.Or{
				L: &expr.Func{Name: "attribute_not_exists", Args: []expr.Operand{path}},
				R: &expr.Func{Name: "attribute_type", Args: []expr.Operand{path, &expr.ValueOperand{Value: str("NULL")}}},
			}
		default:
			p.unexpected()
		}
		p.next()
		if negate {
			c = &expr.Not{C: c}
		}
		return c
	case p.isKeyword("BETWEEN"):
		p.next()
		lo := p.operand()
		p.keyword("AND")
		return &expr.Between{X: x, Lo: lo, Hi: p.operand()}
	case p.isKeyword("IN"):
		p.next()
		closer := "]"
		if p.isPunct("(") {
			closer = ")"
			p.next()
		} else {
			p.punct("[")
		}
		in := &expr.In{X: x}
		for {
			in.List = append(in.List, p.operand())
			if !p.isPunct(",") {
				break
			}
			p.next()
		}
		p.punct(closer)
		if len(in.List) > 100 {
			p.fail("Too many values in IN clause: %d; the most is 100", len(in.List))
		}
		return in
	}
	if t := p.peek(); t.kind == tPunct {
		op := t.text
		switch op {
		case "=", "<>", "!=", "<", "<=", ">", ">=":
			p.next()
			if op == "!=" {
				op = "<>"
			}
			return &expr.Compare{Op: op, L: x, R: p.operand()}
		}
	}
	p.unexpected()
	return nil
}

func validType(s string) bool {
	switch s {
	case "S", "SS", "N", "NS", "B", "BS", "BOOL", "NULL", "L", "M":
		return true
	}
	return false
}

// operand reads a path, size(path) or a value.
func (p *parser) operand() expr.Operand {
	t := p.peek()
	if p.isCall() && strings.EqualFold(t.text, "size") {
		p.next()
		p.next()
		path := p.path()
		p.punct(")")
		return &expr.Size{Path: path}
	}
	if t.kind == tQuoted || t.kind == tIdent && !keywords[strings.ToUpper(t.text)] {
		return &expr.PathOperand{Path: p.path()}
	}
	return &expr.ValueOperand{Value: p.value()}
}

// value reads a literal or a parameter.
func (p *parser) value() Value {
	t := p.next()
	switch t.kind {
	case tParam:
		if p.used >= len(p.params) {
			panic(failure{apierr.Validation("Number of parameters in request and statement don't match.")})
		}
		p.used++
		return p.params[p.used-1]
	case tString:
		return str(t.text)
	case tNumber:
		return num(t.text)
	case tIdent:
		switch strings.ToUpper(t.text) {
		case "TRUE", "FALSE":
			b := strings.EqualFold(t.text, "TRUE")
			return Value{BOOL: &b}
		case "NULL":
			b := true
			return Value{NULL: &b}
		}
	case tPunct:
		switch t.text {
		case "-", "+":
			n := p.next()
			if n.kind != tNumber {
				p.pos--
				p.unexpected()
			}
			if t.text == "-" {
				return num("-" + n.text)
			}
			return num(n.text)
		case "[":
			p.enter()
			defer p.leave()
			l := []Value{}
			if !p.isPunct("]") {
				for {
					l = append(l, p.value())
					if !p.isPunct(",") {
						break
					}
					p.next()
				}
			}
			p.punct("]")
			return Value{L: l}
		case "{":
			p.enter()
			defer p.leave()
			m := map[string]Value{}
			if !p.isPunct("}") {
				for {
					k := p.next()
					if k.kind != tString && k.kind != tQuoted {
						p.pos--
						p.unexpected()
					}
					p.punct(":")
					if _, dup := m[k.text]; dup {
						p.fail("Duplicate field name: %s", k.text)
					}
					m[k.text] = p.value()
					if !p.isPunct(",") {
						break
					}
					p.next()
				}
			}
			p.punct("}")
			return Value{M: m}
		case "<<":
			return p.set()
		}
	}
	p.pos--
	p.unexpected()
	return Value{}
}

// set reads << v, ... >>: a string, number or binary set.
func (p *parser) set() Value {
	var elems []Value
	if !p.isPunct(">>") {
		for {
			elems = append(elems, p.value())
			if !p.isPunct(",") {
				break
			}
			p.next()
		}
	}
	p.punct(">>")
	var v Value
	for _, e := range elems {
		switch {
		case e.S != nil && v.NS == nil && v.BS == nil:
			v.SS = append(v.SS, *e.S)
		case e.N != nil && v.SS == nil && v.BS == nil:
			v.NS = append(v.NS, *e.N)
		case e.B != nil && v.SS == nil && v.NS == nil:
			v.BS = append(v.BS, e.B)
		default:
			p.fail("A set must hold strings, numbers or binaries, all of one type")
		}
	}
	if len(elems) == 0 {
		p.fail(wellFormed + "A set must not be empty")
	}
	return v
}

func str(s string) Value { return Value{S: &s} }

func num(s string) Value { return Value{N: &s} }

// String renders a statement's kind and table, for logs.
func (st *Statement) String() string { return fmt.Sprintf("%s %s", st.Kind, st.Table) }
