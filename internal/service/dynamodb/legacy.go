package dynamodb

// The legacy conditional parameters (Expected, KeyConditions, QueryFilter,
// ScanFilter, AttributeUpdates) predate expressions; DynamoDB still accepts
// them. They are translated into the same trees the expression parser builds,
// so that one evaluator serves both ("Legacy conditional parameters" in the
// developer guide).

import (
	"slices"
	"sort"
	"strings"

	"github.com/wharf-dev/wharf/internal/apierr"
	"github.com/wharf-dev/wharf/internal/awsapi"
	ddb "github.com/wharf-dev/wharf/internal/awsapi/dynamodb"
	"github.com/wharf-dev/wharf/internal/service/dynamodb/expr"
)

func attr(name string) expr.Operand { return &expr.PathOperand{Path: expr.Path{{Name: name}}} }

// legacyCondition translates one Condition on attribute name.
func legacyCondition(name, op string, list []Value) (expr.Cond, error) {
	vals := make([]expr.Operand, len(list))
	for i, v := range list {
		n, err := normalizeValue(v, 0)
		if err != nil {
			return nil, err
		}
		vals[i] = &expr.ValueOperand{Value: n}
	}
	want := map[string]int{"EQ": 1, "NE": 1, "LE": 1, "LT": 1, "GE": 1, "GT": 1, "NOT_NULL": 0, "NULL": 0,
		"CONTAINS": 1, "NOT_CONTAINS": 1, "BEGINS_WITH": 1, "BETWEEN": 2}
	n, known := want[op]
	switch {
	case op == "IN":
		if len(vals) == 0 {
			return nil, invalid("Invalid number of argument(s) for the IN ComparisonOperator")
		}
	case !known:
		return nil, apierr.Validation("1 validation error detected: Value '%s' at 'comparisonOperator' failed to satisfy constraint: Member must satisfy enum value set: [%s]", op, strings.Join(comparisonOperators, ", "))
	case len(vals) != n:
		return nil, invalid("Invalid number of argument(s) for the %s ComparisonOperator", op)
	}
	if err := checkLegacyTypes(op, list); err != nil {
		return nil, err
	}
	a := attr(name)
	cmp := map[string]string{"EQ": "=", "NE": "<>", "LE": "<=", "LT": "<", "GE": ">=", "GT": ">"}
	switch op {
	case "NOT_NULL":
		return &expr.Func{Name: "attribute_exists", Args: []expr.Operand{a}}, nil
	case "NULL":
		return &expr.Func{Name: "attribute_not_exists", Args: []expr.Operand{a}}, nil
	case "CONTAINS":
		return &expr.Func{Name: "contains", Args: []expr.Operand{a, vals[0]}}, nil
	case "NOT_CONTAINS":
		return &expr.And{L: &expr.Func{Name: "attribute_exists", Args: []expr.Operand{a}}, R: &expr.Not{C: &expr.Func{Name: "contains", Args: []expr.Operand{a, vals[0]}}}}, nil
	case "BEGINS_WITH":
		return &expr.Func{Name: "begins_with", Args: []expr.Operand{a, vals[0]}}, nil
	case "BETWEEN":
		return &expr.Between{X: a, Lo: vals[0], Hi: vals[1]}, nil
	case "IN":
		return &expr.In{X: a, List: vals}, nil
	}
	return &expr.Compare{Op: cmp[op], L: a, R: vals[0]}, nil
}

// comparisonOperators is the ComparisonOperator enum, in the order
// DynamoDB's validation messages list it.
var comparisonOperators = []string{"IN", "NULL", "BETWEEN", "LT", "NOT_CONTAINS", "EQ", "GT", "NOT_NULL", "NE", "LE", "BEGINS_WITH", "GE", "CONTAINS"}

// checkLegacyTypes rejects an AttributeValueList whose types the operator
// cannot compare, before any item is read ("Legacy conditional parameters:
// Condition"): ordering operators, IN and CONTAINS take strings, numbers
// and binaries, BEGINS_WITH strings and binaries; IN's and BETWEEN's values
// must be of one type, and BETWEEN's bounds in order.
func checkLegacyTypes(op string, list []Value) error {
	var allowed string
	switch op {
	case "LE", "LT", "GE", "GT", "BETWEEN", "IN", "CONTAINS", "NOT_CONTAINS":
		allowed = " S N B "
	case "BEGINS_WITH":
		allowed = " S B "
	default:
		return nil
	}
	for _, v := range list {
		if t := expr.TypeOf(v); !strings.Contains(allowed, " "+t+" ") {
			return invalid("ComparisonOperator %s is not valid for %s AttributeValue type", op, t)
		}
	}
	if op == "IN" || op == "BETWEEN" {
		for _, v := range list[1:] {
			if expr.TypeOf(v) != expr.TypeOf(list[0]) {
				return invalid("AttributeValues inside AttributeValueList must be of same type")
			}
		}
	}
	if op == "BETWEEN" && !expr.Eval(&expr.Compare{Op: "<=", L: &expr.ValueOperand{Value: list[0]}, R: &expr.ValueOperand{Value: list[1]}}, nil) {
		return invalid("The BETWEEN condition was provided a range where the lower bound is greater than the upper bound")
	}
	return nil
}

// join combines conditions with AND (the default) or OR, in attribute order.
func join(conds []expr.Cond, condOp *string) (expr.Cond, error) {
	or := false
	switch awsapi.ToString(condOp) {
	case "", "AND":
	case "OR":
		or = true
	default:
		return nil, apierr.Validation("1 validation error detected: Value '%s' at 'conditionalOperator' failed to satisfy constraint: Member must satisfy enum value set: [AND, OR]", *condOp)
	}
	var c expr.Cond
	for _, x := range conds {
		switch {
		case c == nil:
			c = x
		case or:
			c = &expr.Or{L: c, R: x}
		default:
			c = &expr.And{L: c, R: x}
		}
	}
	return c, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// legacyExpected translates a write's Expected map.
func legacyExpected(expected map[string]ddb.ExpectedAttributeValue, condOp *string) (expr.Cond, error) {
	if len(expected) == 0 {
		if condOp != nil {
			return nil, apierr.Validation("ConditionalOperator can only be used when Filter or Expected has two or more elements")
		}
		return nil, nil
	}
	var conds []expr.Cond
	for _, name := range sortedKeys(expected) {
		e := expected[name]
		var c expr.Cond
		var err error
		switch {
		case e.ComparisonOperator != nil:
			if e.Value != nil {
				return nil, invalid("Value and ComparisonOperator cannot be used together for Attribute: %s", name)
			}
			if e.Exists != nil {
				return nil, invalid("Exists and ComparisonOperator cannot be used together for Attribute: %s", name)
			}
			c, err = legacyCondition(name, *e.ComparisonOperator, e.AttributeValueList)
		case e.Exists != nil && !*e.Exists:
			if e.Value != nil {
				return nil, invalid("Value cannot be used when Exists is false for Attribute: %s", name)
			}
			c = &expr.Func{Name: "attribute_not_exists", Args: []expr.Operand{attr(name)}}
		case e.Value != nil:
			c, err = legacyCondition(name, "EQ", []Value{*e.Value})
		default:
			return nil, invalid("Value must be provided when Exists is true for Attribute: %s", name)
		}
		if err != nil {
			return nil, err
		}
		conds = append(conds, c)
	}
	return join(conds, condOp)
}

// legacyFilter translates a QueryFilter or ScanFilter.
func legacyFilter(filter map[string]ddb.Condition, condOp *string) (expr.Cond, error) {
	if filter == nil {
		return nil, nil
	}
	var conds []expr.Cond
	for _, name := range sortedKeys(filter) {
		c, err := legacyCondition(name, awsapi.ToString(filter[name].ComparisonOperator), filter[name].AttributeValueList)
		if err != nil {
			return nil, err
		}
		conds = append(conds, c)
	}
	return join(conds, condOp)
}

// legacyKeyConditions translates a Query's KeyConditions.
func legacyKeyConditions(kcs map[string]ddb.Condition, hash, rng string) (*expr.KeyCondition, error) {
	kc := &expr.KeyCondition{HashName: hash}
	seenHash := false
	for _, name := range sortedKeys(kcs) {
		c := kcs[name]
		op := awsapi.ToString(c.ComparisonOperator)
		list := make([]Value, len(c.AttributeValueList))
		for i, v := range c.AttributeValueList {
			n, err := normalizeValue(v, 0)
			if err != nil {
				return nil, err
			}
			list[i] = n
		}
		want := map[string]int{"EQ": 1, "LE": 1, "LT": 1, "GE": 1, "GT": 1, "BEGINS_WITH": 1, "BETWEEN": 2}
		n, ok := want[op]
		if !ok {
			if !slices.Contains(comparisonOperators, op) {
				return nil, apierr.Validation("1 validation error detected: Value '%s' at 'keyConditions.%s.member.comparisonOperator' failed to satisfy constraint: Member must satisfy enum value set: [%s]", op, name, strings.Join(comparisonOperators, ", "))
			}
			return nil, invalid("Attempted conditional constraint is not an indexable operation")
		}
		if len(list) != n {
			return nil, invalid("Invalid number of argument(s) for the %s ComparisonOperator", op)
		}
		if err := checkLegacyTypes(op, list); err != nil {
			return nil, err
		}
		switch name {
		case hash:
			if op != "EQ" {
				return nil, apierr.Validation("Query key condition not supported")
			}
			kc.Hash, seenHash = list[0], true
		case rng:
			r := &expr.RangeCondition{Name: name, Lo: list[0]}
			r.Op = map[string]string{"EQ": "=", "LE": "<=", "LT": "<", "GE": ">=", "GT": ">", "BEGINS_WITH": "begins_with", "BETWEEN": "BETWEEN"}[op]
			if op == "BETWEEN" {
				r.Hi = list[1]
			}
			kc.Range = r
		default:
			return nil, apierr.Validation("Query condition missed key schema element: %s", hash)
		}
	}
	if !seenHash {
		return nil, apierr.Validation("Query condition missed key schema element: %s", hash)
	}
	return kc, nil
}

// applyLegacyUpdates applies UpdateItem's AttributeUpdates to a copy of item.
func applyLegacyUpdates(updates map[string]ddb.AttributeValueUpdate, item Item) (Item, error) {
	u := &expr.Update{}
	for _, name := range sortedKeys(updates) {
		a := updates[name]
		path := expr.Path{{Name: name}}
		var v *expr.ValueOperand
		if a.Value != nil {
			n, err := normalizeValue(*a.Value, 0)
			if err != nil {
				return nil, err
			}
			v = &expr.ValueOperand{Value: n}
		}
		action := awsapi.ToString(a.Action)
		if v != nil && (action == "ADD" || action == "DELETE") {
			ok := false
			switch expr.TypeOf(v.Value) {
			case "SS", "NS", "BS":
				ok = true
			case "N", "L":
				ok = action == "ADD"
			}
			if !ok {
				return nil, invalid("Action %s is not supported for the type %s", action, expr.TypeOf(v.Value))
			}
			if cur, ok := item[name]; ok && expr.TypeOf(cur) != expr.TypeOf(v.Value) {
				return nil, invalid("Type mismatch for attribute to update")
			}
		}
		switch action {
		case "", "PUT":
			if v == nil {
				return nil, invalid("Only DELETE action is allowed when no attribute value is specified")
			}
			u.Set = append(u.Set, expr.SetAction{Path: path, Value: v})
		case "DELETE":
			if v == nil {
				u.Remove = append(u.Remove, path)
			} else {
				u.Delete = append(u.Delete, expr.SetAction{Path: path, Value: v})
			}
		case "ADD":
			if v == nil {
				return nil, invalid("Only DELETE action is allowed when no attribute value is specified")
			}
			if v.Value.L != nil {
				// ADD to a list appends (AttributeUpdates only).
				cur, ok := item[name]
				if ok && cur.L != nil {
					v = &expr.ValueOperand{Value: Value{L: append(append([]Value{}, cur.L...), v.Value.L...)}}
				}
				u.Set = append(u.Set, expr.SetAction{Path: path, Value: v})
				continue
			}
			u.Add = append(u.Add, expr.SetAction{Path: path, Value: v})
		default:
			return nil, apierr.Validation("1 validation error detected: Value '%s' at 'attributeUpdates.%s.member.action' failed to satisfy constraint: Member must satisfy enum value set: [ADD, PUT, DELETE]", action, name)
		}
	}
	return expr.Apply(u, item)
}
