// Package expr is DynamoDB's expression language: one lexer and one recursive
// descent parser for condition, filter, key condition, update and projection
// expressions, and the evaluation of the parsed trees against items.
//
// Names and values are resolved while parsing, from the request's
// ExpressionAttributeNames and ExpressionAttributeValues (an Env), so that the
// trees hold attribute names and values, and so that the Env knows which of
// them the request's expressions used: DynamoDB rejects unused ones.
//
// Precedence follows "Comparison operator and function reference" in the
// DynamoDB developer guide, highest first: comparators, IN, BETWEEN,
// functions, parentheses, NOT, AND, OR.
package expr

import (
	"strconv"
	"strings"

	ddb "github.com/wharf-dev/wharf/internal/awsapi/dynamodb"
)

// Value is an attribute value.
type Value = ddb.AttributeValue

// Item is a DynamoDB item: attribute names to values.
type Item = map[string]Value

// Step is one step of a document path: a map key (an attribute name) or a list
// index.
type Step struct {
	Name    string
	Index   int
	IsIndex bool
}

// Path is a document path: a.b[1].c is [a, b, [1], c].
type Path []Step

// String renders p as DynamoDB renders paths in its error messages: [a, b, [1]].
func (p Path) String() string {
	parts := make([]string, len(p))
	for i, s := range p {
		if s.IsIndex {
			parts[i] = "[" + strconv.Itoa(s.Index) + "]"
		} else {
			parts[i] = s.Name
		}
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// Operand is a value-producing node: *PathOperand, *ValueOperand, *Size, and in
// update expressions *IfNotExists, *ListAppend and *Arith.
type Operand interface{ operand() }

// PathOperand reads the attribute at Path.
type PathOperand struct{ Path Path }

// ValueOperand is an ExpressionAttributeValues entry.
type ValueOperand struct {
	Name  string // ":v"
	Value Value
}

// Size is size(path).
type Size struct{ Path Path }

// IfNotExists is if_not_exists(path, operand) in a SET action.
type IfNotExists struct {
	Path    Path
	Default Operand
}

// ListAppend is list_append(a, b) in a SET action.
type ListAppend struct{ A, B Operand }

// Arith is a + b or a - b in a SET action.
type Arith struct {
	Op   byte // '+' or '-'
	A, B Operand
}

func (*PathOperand) operand()  {}
func (*ValueOperand) operand() {}
func (*Size) operand()         {}
func (*IfNotExists) operand()  {}
func (*ListAppend) operand()   {}
func (*Arith) operand()        {}

// Cond is a boolean node: *And, *Or, *Not, *Compare, *Between, *In, *Func.
type Cond interface{ cond() }

// And is l AND r.
type And struct{ L, R Cond }

// Or is l OR r.
type Or struct{ L, R Cond }

// Not is NOT c.
type Not struct{ C Cond }

// Compare is l op r, op one of = <> < <= > >=.
type Compare struct {
	Op   string
	L, R Operand
}

// Between is x BETWEEN lo AND hi.
type Between struct{ X, Lo, Hi Operand }

// In is x IN (list...).
type In struct {
	X    Operand
	List []Operand
}

// Func is a boolean function: attribute_exists, attribute_not_exists,
// attribute_type, begins_with, contains.
type Func struct {
	Name string
	Args []Operand
}

func (*And) cond()     {}
func (*Or) cond()      {}
func (*Not) cond()     {}
func (*Compare) cond() {}
func (*Between) cond() {}
func (*In) cond()      {}
func (*Func) cond()    {}

// Update is a parsed update expression, its actions in the order written per
// clause.
type Update struct {
	Set    []SetAction
	Remove []Path
	Add    []SetAction // Value is a *ValueOperand
	Delete []SetAction // Value is a *ValueOperand
}

// SetAction assigns Value to Path (SET), or adds/deletes it (ADD, DELETE).
type SetAction struct {
	Path  Path
	Value Operand
}
