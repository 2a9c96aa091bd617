package expr

// TopNames returns the top-level attribute names c reads, each once, in the
// order they first appear.
func TopNames(c Cond) []string {
	var names []string
	seen := map[string]bool{}
	add := func(p Path) {
		if len(p) > 0 && !seen[p[0].Name] {
			seen[p[0].Name] = true
			names = append(names, p[0].Name)
		}
	}
	var operand func(o Operand)
	operand = func(o Operand) {
		switch o := o.(type) {
		case *PathOperand:
			add(o.Path)
		case *Size:
			add(o.Path)
		case *IfNotExists:
			add(o.Path)
			operand(o.Default)
		case *ListAppend:
			operand(o.A)
			operand(o.B)
		case *Arith:
			operand(o.A)
			operand(o.B)
		}
	}
	var walk func(c Cond)
	walk = func(c Cond) {
		switch c := c.(type) {
		case *And:
			walk(c.L)
			walk(c.R)
		case *Or:
			walk(c.L)
			walk(c.R)
		case *Not:
			walk(c.C)
		case *Compare:
			operand(c.L)
			operand(c.R)
		case *Between:
			operand(c.X)
			operand(c.Lo)
			operand(c.Hi)
		case *In:
			operand(c.X)
			for _, o := range c.List {
				operand(o)
			}
		case *Func:
			for _, o := range c.Args {
				operand(o)
			}
		}
	}
	walk(c)
	return names
}
