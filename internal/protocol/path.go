package protocol

import (
	"strconv"
	"strings"
)

// Path names a value inside a decoded request body ("Item.a.M.b[2]"), for the
// messages of decoding errors. It is a list from the value back to the root,
// rendered only when an error needs it: building the dotted string at every
// level would make decoding a deeply nested body quadratic in its depth. The
// nil *Path is the body itself.
type Path struct {
	parent *Path
	name   string
	index  int // -1 for a member, else the list index
	depth  int
}

// Member is the path of member name inside p.
func (p *Path) Member(name string) *Path {
	return &Path{parent: p, name: name, index: -1, depth: p.Depth() + 1}
}

// Index is the path of item i of the list at p.
func (p *Path) Index(i int) *Path {
	return &Path{parent: p, index: i, depth: p.Depth() + 1}
}

// Depth is how many members and items p is below the body.
func (p *Path) Depth() int {
	if p == nil {
		return 0
	}
	return p.depth
}

// String renders p as members joined by dots and list items in brackets; the
// body itself is "".
func (p *Path) String() string {
	if p == nil {
		return ""
	}
	parts := make([]*Path, 0, p.depth)
	for q := p; q != nil; q = q.parent {
		parts = append(parts, q)
	}
	var b strings.Builder
	for i := len(parts) - 1; i >= 0; i-- {
		q := parts[i]
		if q.index >= 0 {
			b.WriteByte('[')
			b.WriteString(strconv.Itoa(q.index))
			b.WriteByte(']')
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(q.name)
	}
	return b.String()
}
