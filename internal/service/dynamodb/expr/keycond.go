package expr

import (
	"slices"

	"github.com/wharf-dev/wharf/internal/apierr"
)

// KeyCondition is a Query's key condition: equality on the partition key, and
// at most one condition on the sort key.
type KeyCondition struct {
	HashName string
	Hash     Value
	Range    *RangeCondition // nil when the sort key is not constrained
}

// RangeCondition constrains the sort key: Op is one of = < <= > >= BETWEEN
// begins_with; Hi is set only for BETWEEN.
type RangeCondition struct {
	Name   string
	Op     string
	Lo, Hi Value
}

// Match reports whether sort key value v satisfies r.
func (r *RangeCondition) Match(v Value) bool {
	name := "k"
	item := Item{name: v}
	p := &PathOperand{Path{{Name: name}}}
	switch r.Op {
	case "BETWEEN":
		return Eval(&Between{p, &ValueOperand{Value: r.Lo}, &ValueOperand{Value: r.Hi}}, item)
	case "begins_with":
		return Eval(&Func{"begins_with", []Operand{p, &ValueOperand{Value: r.Lo}}}, item)
	}
	return Eval(&Compare{r.Op, p, &ValueOperand{Value: r.Lo}}, item)
}

// ParseKeyCondition parses a KeyConditionExpression for a table or index whose
// partition key is hashName and sort key rangeName ("" when it has none).
func ParseKeyCondition(env *Env, src, hashName, rangeName string) (*KeyCondition, error) {
	leaves, err := keyLeaves(env, src)
	if err != nil {
		return nil, err
	}
	if len(leaves) > 2 {
		return nil, apierr.Validation("Conditions can be of length 1 or 2 only")
	}
	kc := &KeyCondition{HashName: hashName}
	hashSeen := false
	unsupported := apierr.Validation("Query key condition not supported")
	onePerKey := apierr.Validation("KeyConditionExpressions must only contain one condition per key")
	for _, l := range leaves {
		if nestedLeaf(l) {
			return nil, apierr.Validation("KeyConditionExpressions cannot have conditions on nested attributes")
		}
		name, rc, ok := keyLeaf(l)
		if !ok {
			return nil, unsupported
		}
		switch name {
		case hashName:
			if hashSeen {
				return nil, onePerKey
			}
			if rc.Op != "=" {
				return nil, unsupported
			}
			hashSeen = true
			kc.Hash = rc.Lo
		case rangeName:
			if kc.Range != nil {
				return nil, onePerKey
			}
			rc.Name = name
			kc.Range = rc
		default:
			if !hashSeen && len(leaves) == 1 {
				return nil, apierr.Validation("Query condition missed key schema element: %s", hashName)
			}
			return nil, unsupported
		}
	}
	if !hashSeen {
		return nil, apierr.Validation("Query condition missed key schema element: %s", hashName)
	}
	return kc, nil
}

// CompositeKeyCondition is a key condition on a global index whose keys
// have several attributes: equality on every partition key attribute, then
// conditions on the sort key attributes from the first on, each an
// equality but the last ("Multi-attribute keys").
type CompositeKeyCondition struct {
	Hash    []Value         // one per partition key attribute, in schema order
	RangeEq []Value         // equalities on the first sort key attributes
	Range   *RangeCondition // the condition on the next one; nil for none
}

// ParseCompositeKeyCondition parses a KeyConditionExpression for index,
// whose partition key attributes are hashNames and sort key attributes
// rangeNames.
func ParseCompositeKeyCondition(env *Env, src, index string, hashNames, rangeNames []string) (*CompositeKeyCondition, error) {
	leaves, err := keyLeaves(env, src)
	if err != nil {
		return nil, err
	}
	conds := map[string]*RangeCondition{}
	unsupported := apierr.Validation("Query key condition not supported")
	for _, l := range leaves {
		name, rc, ok := keyLeaf(l)
		if !ok || conds[name] != nil {
			return nil, unsupported
		}
		rc.Name = name
		conds[name] = rc
	}
	kc := &CompositeKeyCondition{}
	for _, name := range hashNames {
		rc := conds[name]
		if rc == nil || rc.Op != "=" {
			return nil, apierr.Validation("Query key condition not supported: every HASH key attribute of index %s must have an equality condition: %s", index, name)
		}
		kc.Hash = append(kc.Hash, rc.Lo)
		delete(conds, name)
	}
	badRange := apierr.Validation("Query key condition not supported: the RANGE key attributes of index %s must be constrained from the first on, each by an equality condition except the last", index)
	for _, name := range rangeNames {
		rc := conds[name]
		if rc == nil {
			break
		}
		delete(conds, name)
		if kc.Range != nil {
			return nil, badRange // a condition after an inequality
		}
		if rc.Op == "=" {
			kc.RangeEq = append(kc.RangeEq, rc.Lo)
		} else {
			kc.Range = rc
		}
	}
	for name := range conds {
		if slices.Contains(rangeNames, name) {
			return nil, badRange // a sort key attribute skipped
		}
		return nil, unsupported
	}
	return kc, nil
}

// keyLeaves parses a KeyConditionExpression into its ANDed conditions.
func keyLeaves(env *Env, src string) ([]Cond, error) {
	c, err := ParseCondition(env, KindKeyCondition, src)
	if err != nil {
		return nil, err
	}
	var leaves []Cond
	var flatten func(Cond) error
	flatten = func(c Cond) error {
		switch c := c.(type) {
		case *And:
			if err := flatten(c.L); err != nil {
				return err
			}
			return flatten(c.R)
		case *Or:
			return apierr.Validation("Invalid operator used in KeyConditionExpression: OR")
		case *Not:
			return apierr.Validation("Invalid operator used in KeyConditionExpression: NOT")
		case *In:
			return apierr.Validation("Invalid operator used in KeyConditionExpression: IN")
		case *Func:
			if c.Name != "begins_with" {
				return apierr.Validation("Invalid operator used in KeyConditionExpression: %s", c.Name)
			}
		case *Compare:
			if c.Op == "<>" {
				return apierr.Validation("Invalid operator used in KeyConditionExpression: <>")
			}
		}
		leaves = append(leaves, c)
		return nil
	}
	if err := flatten(c); err != nil {
		return nil, err
	}
	return leaves, nil
}

// nestedLeaf reports whether a key condition reads a nested attribute.
func nestedLeaf(c Cond) bool {
	nested := func(ops ...Operand) bool {
		for _, o := range ops {
			if p, ok := o.(*PathOperand); ok && len(p.Path) > 1 {
				return true
			}
		}
		return false
	}
	switch c := c.(type) {
	case *Compare:
		return nested(c.L, c.R)
	case *Between:
		return nested(c.X, c.Lo, c.Hi)
	case *Func:
		return nested(c.Args...)
	}
	return false
}

// keyLeaf reads one condition on a top-level attribute against values.
func keyLeaf(c Cond) (string, *RangeCondition, bool) {
	attr := func(o Operand) (string, bool) {
		p, ok := o.(*PathOperand)
		if !ok || len(p.Path) != 1 {
			return "", false
		}
		return p.Path[0].Name, true
	}
	val := func(o Operand) (Value, bool) {
		v, ok := o.(*ValueOperand)
		if !ok {
			return Value{}, false
		}
		return v.Value, true
	}
	switch c := c.(type) {
	case *Compare:
		if name, ok := attr(c.L); ok {
			v, ok := val(c.R)
			return name, &RangeCondition{Op: c.Op, Lo: v}, ok
		}
		// :v < k is k > :v.
		name, ok := attr(c.R)
		if !ok {
			return "", nil, false
		}
		v, ok := val(c.L)
		flip := map[string]string{"=": "=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}
		return name, &RangeCondition{Op: flip[c.Op], Lo: v}, ok
	case *Between:
		name, ok1 := attr(c.X)
		lo, ok2 := val(c.Lo)
		hi, ok3 := val(c.Hi)
		return name, &RangeCondition{Op: "BETWEEN", Lo: lo, Hi: hi}, ok1 && ok2 && ok3
	case *Func:
		name, ok1 := attr(c.Args[0])
		v, ok2 := val(c.Args[1])
		return name, &RangeCondition{Op: "begins_with", Lo: v}, ok1 && ok2
	}
	return "", nil, false
}
