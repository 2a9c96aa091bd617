package expr

import (
	"bytes"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/wharf-dev/wharf/internal/apierr"
	"github.com/wharf-dev/wharf/internal/service/dynamodb/number"
)

// TypeOf names v's type as DynamoDB does: S, N, B, SS, NS, BS, M, L, NULL,
// BOOL, or "" for an empty value.
func TypeOf(v Value) string {
	switch {
	case v.S != nil:
		return "S"
	case v.N != nil:
		return "N"
	case v.B != nil:
		return "B"
	case v.SS != nil:
		return "SS"
	case v.NS != nil:
		return "NS"
	case v.BS != nil:
		return "BS"
	case v.M != nil:
		return "M"
	case v.L != nil:
		return "L"
	case v.NULL != nil:
		return "NULL"
	case v.BOOL != nil:
		return "BOOL"
	}
	return ""
}

// compareValues orders two scalars of the same type (S and B bytewise, N
// numerically); ok is false for any other pair, which DynamoDB's <, <=, >, >=
// and BETWEEN treat as false.
func compareValues(a, b Value) (int, bool) {
	switch {
	case a.S != nil && b.S != nil:
		return strings.Compare(*a.S, *b.S), true
	case a.N != nil && b.N != nil:
		x, err1 := number.Parse(*a.N)
		y, err2 := number.Parse(*b.N)
		if err1 != nil || err2 != nil {
			return 0, false
		}
		return x.Cmp(y), true
	case a.B != nil && b.B != nil:
		return bytes.Compare(a.B, b.B), true
	}
	return 0, false
}

// Equal reports whether a and b are the same value: same type, numbers equal
// as numbers, sets equal as sets, lists element by element, maps key by key.
func Equal(a, b Value) bool {
	ta := TypeOf(a)
	if ta != TypeOf(b) {
		return false
	}
	switch ta {
	case "S", "N", "B":
		c, ok := compareValues(a, b)
		return ok && c == 0
	case "BOOL":
		return *a.BOOL == *b.BOOL
	case "NULL":
		return true
	case "SS":
		return sameSet(len(a.SS), len(b.SS), func(i int) Value { return Value{S: &a.SS[i]} }, func(j int) Value { return Value{S: &b.SS[j]} })
	case "NS":
		return sameSet(len(a.NS), len(b.NS), func(i int) Value { return Value{N: &a.NS[i]} }, func(j int) Value { return Value{N: &b.NS[j]} })
	case "BS":
		return sameSet(len(a.BS), len(b.BS), func(i int) Value { return Value{B: a.BS[i]} }, func(j int) Value { return Value{B: b.BS[j]} })
	case "L":
		if len(a.L) != len(b.L) {
			return false
		}
		for i := range a.L {
			if !Equal(a.L[i], b.L[i]) {
				return false
			}
		}
		return true
	case "M":
		if len(a.M) != len(b.M) {
			return false
		}
		for k, av := range a.M {
			bv, ok := b.M[k]
			if !ok || !Equal(av, bv) {
				return false
			}
		}
		return true
	}
	return false
}

// sameSet compares two sets without duplicates.
func sameSet(na, nb int, a, b func(int) Value) bool {
	if na != nb {
		return false
	}
	for i := 0; i < na; i++ {
		found := false
		for j := 0; j < nb; j++ {
			if Equal(a(i), b(j)) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// Get returns the value at path in item.
func Get(item Item, path Path) (Value, bool) {
	v, ok := item[path[0].Name]
	if !ok || path[0].IsIndex {
		return Value{}, false
	}
	for _, s := range path[1:] {
		if s.IsIndex {
			if v.L == nil || s.Index >= len(v.L) {
				return Value{}, false
			}
			v = v.L[s.Index]
		} else {
			if v.M == nil {
				return Value{}, false
			}
			if v, ok = v.M[s.Name]; !ok {
				return Value{}, false
			}
		}
	}
	return v, true
}

// operandValue evaluates a condition operand against item.
func operandValue(item Item, o Operand) (Value, bool) {
	switch o := o.(type) {
	case *PathOperand:
		return Get(item, o.Path)
	case *ValueOperand:
		return o.Value, true
	case *Size:
		v, ok := Get(item, o.Path)
		if !ok {
			return Value{}, false
		}
		n, ok := sizeOf(v)
		if !ok {
			return Value{}, false
		}
		s := strconv.Itoa(n)
		return Value{N: &s}, true
	}
	return Value{}, false
}

// sizeOf is size(): characters of a string, bytes of a binary, elements of a
// set, list or map.
func sizeOf(v Value) (int, bool) {
	switch TypeOf(v) {
	case "S":
		return utf8.RuneCountInString(*v.S), true
	case "B":
		return len(v.B), true
	case "SS":
		return len(v.SS), true
	case "NS":
		return len(v.NS), true
	case "BS":
		return len(v.BS), true
	case "L":
		return len(v.L), true
	case "M":
		return len(v.M), true
	}
	return 0, false
}

// Eval reports whether item satisfies c. A nil item is an absent item: every
// attribute is missing.
func Eval(c Cond, item Item) bool {
	switch c := c.(type) {
	case *And:
		return Eval(c.L, item) && Eval(c.R, item)
	case *Or:
		return Eval(c.L, item) || Eval(c.R, item)
	case *Not:
		return !Eval(c.C, item)
	case *Compare:
		l, lok := operandValue(item, c.L)
		r, rok := operandValue(item, c.R)
		if c.Op == "<>" {
			// A missing attribute is not equal to anything.
			return !lok || !rok || !Equal(l, r)
		}
		if !lok || !rok {
			return false
		}
		if c.Op == "=" {
			return Equal(l, r)
		}
		n, ok := compareValues(l, r)
		if !ok {
			return false
		}
		switch c.Op {
		case "<":
			return n < 0
		case "<=":
			return n <= 0
		case ">":
			return n > 0
		case ">=":
			return n >= 0
		}
	case *Between:
		x, ok1 := operandValue(item, c.X)
		lo, ok2 := operandValue(item, c.Lo)
		hi, ok3 := operandValue(item, c.Hi)
		if !ok1 || !ok2 || !ok3 {
			return false
		}
		a, oka := compareValues(x, lo)
		b, okb := compareValues(x, hi)
		return oka && okb && a >= 0 && b <= 0
	case *In:
		x, ok := operandValue(item, c.X)
		if !ok {
			return false
		}
		for _, o := range c.List {
			if v, ok := operandValue(item, o); ok && Equal(x, v) {
				return true
			}
		}
		return false
	case *Func:
		return evalFunc(c, item)
	}
	return false
}

func evalFunc(f *Func, item Item) bool {
	v, exists := operandValue(item, f.Args[0])
	switch f.Name {
	case "attribute_exists":
		return exists
	case "attribute_not_exists":
		return !exists
	}
	if !exists {
		return false
	}
	arg, ok := operandValue(item, f.Args[1])
	if !ok {
		return false
	}
	switch f.Name {
	case "attribute_type":
		return arg.S != nil && TypeOf(v) == *arg.S
	case "begins_with":
		switch {
		case v.S != nil && arg.S != nil:
			return strings.HasPrefix(*v.S, *arg.S)
		case v.B != nil && arg.B != nil:
			return bytes.HasPrefix(v.B, arg.B)
		}
		return false
	case "contains":
		switch {
		case v.S != nil && arg.S != nil:
			return strings.Contains(*v.S, *arg.S)
		case v.B != nil && arg.B != nil:
			return bytes.Contains(v.B, arg.B)
		case v.SS != nil && arg.S != nil:
			for _, s := range v.SS {
				if s == *arg.S {
					return true
				}
			}
		case v.NS != nil && arg.N != nil:
			for i := range v.NS {
				if Equal(Value{N: &v.NS[i]}, arg) {
					return true
				}
			}
		case v.BS != nil && arg.B != nil:
			for _, b := range v.BS {
				if bytes.Equal(b, arg.B) {
					return true
				}
			}
		case v.L != nil:
			for _, e := range v.L {
				if Equal(e, arg) {
					return true
				}
			}
		}
		return false
	}
	return false
}

// Project returns the parts of item the paths name, nested as in item. Like
// DynamoDB, it returns what it finds in document order, whatever the order
// of the paths: a[1], a[0] gives a as [a[0], a[1]].
func Project(item Item, paths []Path) Item {
	root := &projNode{}
	for _, p := range paths {
		root.add(p)
	}
	out := Item{}
	for name, n := range root.names {
		if v, ok := item[name]; ok {
			if pv, ok := n.project(v); ok {
				out[name] = pv
			}
		}
	}
	return out
}

// projNode is the tree of projected paths: a leaf takes the whole value
// below it, an inner node the map keys and list indexes it names.
type projNode struct {
	leaf    bool
	names   map[string]*projNode
	indexes map[int]*projNode
}

func (n *projNode) add(p Path) {
	for _, s := range p {
		if n.leaf {
			return
		}
		var next *projNode
		if s.IsIndex {
			if n.indexes == nil {
				n.indexes = map[int]*projNode{}
			}
			if next = n.indexes[s.Index]; next == nil {
				next = &projNode{}
				n.indexes[s.Index] = next
			}
		} else {
			if n.names == nil {
				n.names = map[string]*projNode{}
			}
			if next = n.names[s.Name]; next == nil {
				next = &projNode{}
				n.names[s.Name] = next
			}
		}
		n = next
	}
	n.leaf, n.names, n.indexes = true, nil, nil
}

// project returns the parts of v n selects; ok is false when none exist.
func (n *projNode) project(v Value) (Value, bool) {
	if n.leaf {
		return v, true
	}
	switch {
	case v.M != nil && n.names != nil:
		m := map[string]Value{}
		for name, c := range n.names {
			if e, ok := v.M[name]; ok {
				if pv, ok := c.project(e); ok {
					m[name] = pv
				}
			}
		}
		return Value{M: m}, len(m) > 0
	case v.L != nil && n.indexes != nil:
		idx := make([]int, 0, len(n.indexes))
		for i := range n.indexes {
			if i < len(v.L) {
				idx = append(idx, i)
			}
		}
		sort.Ints(idx)
		var l []Value
		for _, i := range idx {
			if pv, ok := n.indexes[i].project(v.L[i]); ok {
				l = append(l, pv)
			}
		}
		return Value{L: l}, len(l) > 0
	}
	return Value{}, false
}

// ---- updates ----

// UpdateError is the ValidationException of an update that cannot apply to
// the item (wrong operand types, invalid paths).
func updateError(format string, args ...any) error {
	return apierr.Validation("Invalid UpdateExpression: "+format, args...)
}

// Apply returns the item that results from applying u to item (which is not
// modified; nil means no item). Operands read the item as it was before the
// update, as DynamoDB evaluates them.
func Apply(u *Update, item Item) (Item, error) {
	out := cloneItem(item)
	type assign struct {
		path Path
		v    Value
	}
	var sets []assign
	for _, a := range u.Set {
		v, err := setValue(item, a.Value)
		if err != nil {
			return nil, err
		}
		sets = append(sets, assign{a.Path, v})
	}
	// "If you add multiple elements in a single SET operation, the elements
	// are sorted in order by element number" (UpdateExpression docs, SET):
	// the assignments to the elements of one list go in index order.
	groups := map[string][]int{}
	for i, s := range sets {
		if last := s.path[len(s.path)-1]; last.IsIndex {
			k := s.path[:len(s.path)-1].String()
			groups[k] = append(groups[k], i)
		}
	}
	for _, pos := range groups {
		g := make([]assign, len(pos))
		for j, i := range pos {
			g[j] = sets[i]
		}
		sort.SliceStable(g, func(a, b int) bool {
			return g[a].path[len(g[a].path)-1].Index < g[b].path[len(g[b].path)-1].Index
		})
		for j, i := range pos {
			sets[i] = g[j]
		}
	}
	for _, s := range sets {
		if err := put(out, s.path, s.v); err != nil {
			return nil, err
		}
	}
	// Remove list elements from the highest index down so that earlier removals
	// do not shift later ones.
	removes := append([]Path(nil), u.Remove...)
	sort.SliceStable(removes, func(i, j int) bool {
		a, b := removes[i], removes[j]
		if len(a) == len(b) && a[len(a)-1].IsIndex && b[len(b)-1].IsIndex && slicesEqual(a[:len(a)-1], b[:len(b)-1]) {
			return a[len(a)-1].Index > b[len(b)-1].Index
		}
		return false
	})
	for _, p := range removes {
		if err := remove(out, p); err != nil {
			return nil, err
		}
	}
	for _, a := range u.Add {
		arg := a.Value.(*ValueOperand).Value
		cur, exists := Get(out, a.Path)
		var nv Value
		switch {
		case !exists:
			nv = arg
		case TypeOf(arg) == "N" && cur.N != nil:
			x, _ := number.Parse(*cur.N)
			y, _ := number.Parse(*arg.N)
			sum, err := x.Add(y)
			if err != nil {
				return nil, arithError(err)
			}
			s := sum.String()
			nv = Value{N: &s}
		case TypeOf(arg) == TypeOf(cur):
			nv = setUnion(cur, arg)
		default:
			return nil, updateError("An operand in the update expression has an incorrect data type")
		}
		if err := put(out, a.Path, nv); err != nil {
			return nil, err
		}
	}
	for _, a := range u.Delete {
		arg := a.Value.(*ValueOperand).Value
		cur, exists := Get(out, a.Path)
		if !exists {
			continue
		}
		if TypeOf(cur) != TypeOf(arg) {
			return nil, updateError("An operand in the update expression has an incorrect data type")
		}
		nv := setDifference(cur, arg)
		if n, _ := sizeOf(nv); n == 0 {
			if err := remove(out, a.Path); err != nil {
				return nil, err
			}
			continue
		}
		if err := put(out, a.Path, nv); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// arithError is the ValidationException of an addition or subtraction
// whose result DynamoDB cannot store. A result with too many digits is
// reported as an overflow, as DynamoDB does (1e50 - 1).
func arithError(err error) error {
	if err == number.ErrDigits {
		err = number.ErrOverflow
	}
	return apierr.Validation("%s", err.Error())
}

func setValue(item Item, o Operand) (Value, error) {
	switch o := o.(type) {
	case *ValueOperand:
		return o.Value, nil
	case *PathOperand:
		v, ok := Get(item, o.Path)
		if !ok {
			return Value{}, apierr.Validation("The provided expression refers to an attribute that does not exist in the item")
		}
		return v, nil
	case *IfNotExists:
		if v, ok := Get(item, o.Path); ok {
			return v, nil
		}
		return setValue(item, o.Default)
	case *ListAppend:
		a, err := setValue(item, o.A)
		if err != nil {
			return Value{}, err
		}
		b, err := setValue(item, o.B)
		if err != nil {
			return Value{}, err
		}
		if a.L == nil || b.L == nil {
			return Value{}, updateError("An operand in the update expression has an incorrect data type")
		}
		l := make([]Value, 0, len(a.L)+len(b.L))
		return Value{L: append(append(l, a.L...), b.L...)}, nil
	case *Arith:
		a, err := setValue(item, o.A)
		if err != nil {
			return Value{}, err
		}
		b, err := setValue(item, o.B)
		if err != nil {
			return Value{}, err
		}
		if a.N == nil || b.N == nil {
			return Value{}, updateError("An operand in the update expression has an incorrect data type")
		}
		x, _ := number.Parse(*a.N)
		y, _ := number.Parse(*b.N)
		var r number.Decimal
		if o.Op == '+' {
			r, err = x.Add(y)
		} else {
			r, err = x.Sub(y)
		}
		if err != nil {
			return Value{}, arithError(err)
		}
		s := r.String()
		return Value{N: &s}, nil
	}
	return Value{}, apierr.Validation("Invalid UpdateExpression: unsupported operand")
}

// put stores v at path in item, whose parents must exist: a missing map key is
// created, a list index past the end appends.
func put(item Item, path Path, v Value) error {
	if len(path) == 1 {
		item[path[0].Name] = v
		return nil
	}
	parent, ok := item[path[0].Name]
	if !ok {
		return apierr.Validation("The document path provided in the update expression is invalid for update")
	}
	nv, err := putIn(parent, path[1:], v)
	if err != nil {
		return err
	}
	item[path[0].Name] = nv
	return nil
}

func putIn(container Value, path Path, v Value) (Value, error) {
	s := path[0]
	invalid := apierr.Validation("The document path provided in the update expression is invalid for update")
	if s.IsIndex {
		if container.L == nil {
			return Value{}, invalid
		}
		l := append([]Value(nil), container.L...)
		if len(path) == 1 {
			if s.Index >= len(l) {
				l = append(l, v)
			} else {
				l[s.Index] = v
			}
			return Value{L: l}, nil
		}
		if s.Index >= len(l) {
			return Value{}, invalid
		}
		child, err := putIn(l[s.Index], path[1:], v)
		if err != nil {
			return Value{}, err
		}
		l[s.Index] = child
		return Value{L: l}, nil
	}
	if container.M == nil {
		return Value{}, invalid
	}
	m := make(map[string]Value, len(container.M)+1)
	for k, x := range container.M {
		m[k] = x
	}
	if len(path) == 1 {
		m[s.Name] = v
		return Value{M: m}, nil
	}
	child, ok := m[s.Name]
	if !ok {
		return Value{}, invalid
	}
	child, err := putIn(child, path[1:], v)
	if err != nil {
		return Value{}, err
	}
	m[s.Name] = child
	return Value{M: m}, nil
}

// remove deletes the value at path; a missing path is not an error.
// remove deletes the attribute at path. A missing last step (a map key, or
// a list index past the end) removes nothing; a missing or mistyped step
// before it is DynamoDB's invalid document path.
func remove(item Item, path Path) error {
	if len(path) == 1 {
		delete(item, path[0].Name)
		return nil
	}
	parent, ok := item[path[0].Name]
	if !ok {
		return apierr.Validation("The document path provided in the update expression is invalid for update")
	}
	nv, changed, err := removeIn(parent, path[1:])
	if err != nil {
		return err
	}
	if changed {
		item[path[0].Name] = nv
	}
	return nil
}

func removeIn(container Value, path Path) (Value, bool, error) {
	invalid := apierr.Validation("The document path provided in the update expression is invalid for update")
	s := path[0]
	if s.IsIndex {
		if container.L == nil {
			return Value{}, false, invalid
		}
		if s.Index >= len(container.L) {
			if len(path) == 1 {
				return Value{}, false, nil
			}
			return Value{}, false, invalid
		}
		l := append([]Value(nil), container.L...)
		if len(path) == 1 {
			return Value{L: append(l[:s.Index], l[s.Index+1:]...)}, true, nil
		}
		child, changed, err := removeIn(l[s.Index], path[1:])
		if err != nil || !changed {
			return Value{}, false, err
		}
		l[s.Index] = child
		return Value{L: l}, true, nil
	}
	if container.M == nil {
		return Value{}, false, invalid
	}
	if _, ok := container.M[s.Name]; !ok {
		if len(path) == 1 {
			return Value{}, false, nil
		}
		return Value{}, false, invalid
	}
	m := make(map[string]Value, len(container.M))
	for k, x := range container.M {
		m[k] = x
	}
	if len(path) == 1 {
		delete(m, s.Name)
		return Value{M: m}, true, nil
	}
	child, changed, err := removeIn(m[s.Name], path[1:])
	if err != nil || !changed {
		return Value{}, false, err
	}
	m[s.Name] = child
	return Value{M: m}, true, nil
}

func setUnion(a, b Value) Value {
	switch {
	case a.SS != nil:
		out := append([]string(nil), a.SS...)
		for _, s := range b.SS {
			if !containsValue(a, Value{S: &s}) {
				out = append(out, s)
			}
		}
		return Value{SS: out}
	case a.NS != nil:
		out := append([]string(nil), a.NS...)
		for _, s := range b.NS {
			if !containsValue(a, Value{N: &s}) {
				out = append(out, s)
			}
		}
		return Value{NS: out}
	default:
		out := append([][]byte(nil), a.BS...)
		for _, s := range b.BS {
			if !containsValue(a, Value{B: s}) {
				out = append(out, s)
			}
		}
		return Value{BS: out}
	}
}

func setDifference(a, b Value) Value {
	switch {
	case a.SS != nil:
		out := []string{}
		for _, s := range a.SS {
			if !containsValue(b, Value{S: &s}) {
				out = append(out, s)
			}
		}
		return Value{SS: out}
	case a.NS != nil:
		out := []string{}
		for _, s := range a.NS {
			if !containsValue(b, Value{N: &s}) {
				out = append(out, s)
			}
		}
		return Value{NS: out}
	default:
		out := [][]byte{}
		for _, s := range a.BS {
			if !containsValue(b, Value{B: s}) {
				out = append(out, s)
			}
		}
		return Value{BS: out}
	}
}

// containsValue reports whether set holds element e.
func containsValue(set, e Value) bool {
	switch {
	case set.SS != nil && e.S != nil:
		for _, s := range set.SS {
			if s == *e.S {
				return true
			}
		}
	case set.NS != nil && e.N != nil:
		for i := range set.NS {
			if Equal(Value{N: &set.NS[i]}, e) {
				return true
			}
		}
	case set.BS != nil && e.B != nil:
		for _, b := range set.BS {
			if bytes.Equal(b, e.B) {
				return true
			}
		}
	}
	return false
}

func cloneItem(item Item) Item {
	out := make(Item, len(item)+2)
	for k, v := range item {
		out[k] = v
	}
	return out
}
