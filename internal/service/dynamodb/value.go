package dynamodb

import (
	"encoding/binary"
	"sort"
	"strings"

	"github.com/wharf-dev/wharf/internal/apierr"
	"github.com/wharf-dev/wharf/internal/ddbitem"
	"github.com/wharf-dev/wharf/internal/service/dynamodb/expr"
	"github.com/wharf-dev/wharf/internal/service/dynamodb/number"
)

// Value and Item are the generated AttributeValue and an item of them.
type (
	Value = expr.Value
	Item  = expr.Item
)

// Limits from "Service, account, and table quotas in Amazon DynamoDB".
const (
	maxItemSize     = 400 * 1024
	maxHashKeySize  = 2048
	maxRangeKeySize = 1024
	maxPageSize     = 1 << 20
	// maxDepth is the deepest a map or list may be below a top-level
	// attribute (depth 0): with the item and the attribute, 32 levels.
	maxDepth = 30
)

// checkAttrName applies DynamoDB's limits on an attribute's name: not
// empty, and under 64 KB ("Attribute names" in "Supported data types and
// naming rules"). It returns the reason a name is refused, for callers to
// frame, or "".
func checkAttrName(name string) string {
	switch {
	case name == "":
		return "Empty attribute name"
	case len(name) > 65535:
		return "Attribute name is too large, must be less than 65536 bytes"
	}
	return ""
}

func invalid(format string, args ...any) error {
	return apierr.Validation("One or more parameter values were invalid: "+format, args...)
}

// normalizeValue checks v as DynamoDB checks every AttributeValue it is sent
// (exactly one type, NULL true, numbers valid, sets non-empty and without
// duplicates) and returns it with numbers in canonical form.
func normalizeValue(v Value, depth int) (Value, error) {
	if depth > maxDepth && (v.M != nil || v.L != nil) {
		return Value{}, apierr.Validation("Nesting Levels have exceeded supported limits: Attributes in the item have nested levels beyond supported limit")
	}
	set := 0
	for _, b := range []bool{v.S != nil, v.N != nil, v.B != nil, v.SS != nil, v.NS != nil, v.BS != nil, v.M != nil, v.L != nil, v.NULL != nil, v.BOOL != nil} {
		if b {
			set++
		}
	}
	switch {
	case set == 0:
		return Value{}, apierr.Validation("Supplied AttributeValue is empty, must contain exactly one of the supported datatypes")
	case set > 1:
		return Value{}, apierr.Validation("Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes")
	}
	switch {
	case v.NULL != nil:
		if !*v.NULL {
			return Value{}, invalid("Null attribute value types must have the value of true")
		}
	case v.N != nil:
		d, err := number.Parse(*v.N)
		if err != nil {
			return Value{}, numberError(err, *v.N)
		}
		s := d.String()
		return Value{N: &s}, nil
	case v.SS != nil:
		if len(v.SS) == 0 {
			return Value{}, invalid("An string set  may not be empty")
		}
		seen := make(map[string]bool, len(v.SS))
		for _, s := range v.SS {
			if seen[s] {
				return Value{}, invalid("Input collection [%s] contains duplicates.", strings.Join(v.SS, ", "))
			}
			seen[s] = true
		}
	case v.NS != nil:
		if len(v.NS) == 0 {
			return Value{}, invalid("An number set  may not be empty")
		}
		out := make([]string, len(v.NS))
		seen := make(map[string]bool, len(v.NS))
		for i, s := range v.NS {
			d, err := number.Parse(s)
			if err != nil {
				return Value{}, numberError(err, s)
			}
			out[i] = d.String()
			if seen[out[i]] {
				return Value{}, invalid("Input collection [%s] contains duplicates.", strings.Join(v.NS, ", "))
			}
			seen[out[i]] = true
		}
		return Value{NS: out}, nil
	case v.BS != nil:
		if len(v.BS) == 0 {
			return Value{}, invalid("Binary sets should not be empty")
		}
		seen := make(map[string]bool, len(v.BS))
		for _, b := range v.BS {
			if seen[string(b)] {
				return Value{}, invalid("Input collection contains duplicates.")
			}
			seen[string(b)] = true
		}
	case v.L != nil:
		out := make([]Value, len(v.L))
		for i, e := range v.L {
			n, err := normalizeValue(e, depth+1)
			if err != nil {
				return Value{}, err
			}
			out[i] = n
		}
		return Value{L: out}, nil
	case v.M != nil:
		out := make(map[string]Value, len(v.M))
		for k, e := range v.M {
			n, err := normalizeValue(e, depth+1)
			if err != nil {
				return Value{}, err
			}
			out[k] = n
		}
		return Value{M: out}, nil
	}
	return v, nil
}

// numberError is the ValidationException for a number DynamoDB refuses; a
// syntax error names the value ("The parameter cannot be converted to a
// numeric value: NaN").
func numberError(err error, s string) error {
	if err == number.ErrSyntax {
		return apierr.Validation("%s: %s", err.Error(), s)
	}
	return apierr.Validation("%s", err.Error())
}

// normalizeItem checks every attribute of item; nil stays nil.
func normalizeItem(item Item) (Item, error) {
	if item == nil {
		return nil, nil
	}
	out := make(Item, len(item))
	for k, v := range item {
		if why := checkAttrName(k); why != "" {
			return nil, invalid("%s", why)
		}
		n, err := normalizeValue(v, 0)
		if err != nil {
			return nil, err
		}
		out[k] = n
	}
	return out, nil
}

// itemSize counts an item as DynamoDB bills and limits it ("Item sizes and
// formats"): attribute names plus values; numbers take one byte per two
// significant digits plus one; lists and maps add 3 bytes plus 1 per element.
func itemSize(item Item) int {
	n := 0
	for k, v := range item {
		n += len(k) + valueSize(v)
	}
	return n
}

func valueSize(v Value) int {
	switch {
	case v.S != nil:
		return len(*v.S)
	case v.N != nil:
		return numberSize(*v.N)
	case v.B != nil:
		return len(v.B)
	case v.SS != nil:
		n := 0
		for _, s := range v.SS {
			n += len(s)
		}
		return n
	case v.NS != nil:
		n := 0
		for _, s := range v.NS {
			n += numberSize(s)
		}
		return n
	case v.BS != nil:
		n := 0
		for _, b := range v.BS {
			n += len(b)
		}
		return n
	case v.L != nil:
		n := 3
		for _, e := range v.L {
			n += 1 + valueSize(e)
		}
		return n
	case v.M != nil:
		n := 3
		for k, e := range v.M {
			n += 1 + len(k) + valueSize(e)
		}
		return n
	}
	return 1 // NULL, BOOL
}

func numberSize(s string) int {
	if n, ok := integerDigits(s); ok {
		return (n+1)/2 + 1
	}
	d, err := number.Parse(s)
	if err != nil {
		return len(s)
	}
	return (d.Digits()+1)/2 + 1
}

// integerDigits is number.Parse(s).Digits() for an integer within
// DynamoDB's limits written with digits only (and a sign), the common
// number, without the allocations of a parse; ok is false for any other s.
func integerDigits(s string) (int, bool) {
	i := 0
	if i < len(s) && (s[i] == '-' || s[i] == '+') {
		i++
	}
	if i == len(s) || len(s)-i > number.MaxDigits {
		return 0, false // not a number, or maybe past the limits: Parse decides
	}
	for i < len(s) && s[i] == '0' {
		i++ // leading zeros are not significant
	}
	end := len(s)
	for j := i; j < end; j++ {
		if s[j] < '0' || s[j] > '9' {
			return 0, false
		}
	}
	for end > i && s[end-1] == '0' {
		end-- // nor are trailing ones: they go into the exponent
	}
	return end - i, true
}

// ---- item encoding in the store ----

const (
	tagS    = ddbitem.TagS
	tagN    = ddbitem.TagN
	tagB    = ddbitem.TagB
	tagSS   = ddbitem.TagSS
	tagNS   = ddbitem.TagNS
	tagBS   = ddbitem.TagBS
	tagM    = ddbitem.TagM
	tagL    = ddbitem.TagL
	tagNULL = ddbitem.TagNULL
	tagBOOL = ddbitem.TagBOOL
)

// encodeItem is the compact binary form items take in the store (package
// ddbitem); attribute names are written sorted so that equal items encode
// equally, and so that the JSON codec writes an item's stored form as it
// writes the item.
func encodeItem(item Item) []byte {
	b := make([]byte, 0, 64)
	return appendMap(b, item)
}

func appendMap(b []byte, m map[string]Value) []byte {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	b = binary.AppendUvarint(b, uint64(len(keys)))
	for _, k := range keys {
		b = appendBytes(b, []byte(k))
		b = appendValue(b, m[k])
	}
	return b
}

func appendBytes(b, s []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendValue(b []byte, v Value) []byte {
	switch {
	case v.S != nil:
		return appendBytes(append(b, tagS), []byte(*v.S))
	case v.N != nil:
		return appendBytes(append(b, tagN), []byte(*v.N))
	case v.B != nil:
		return appendBytes(append(b, tagB), v.B)
	case v.SS != nil:
		b = binary.AppendUvarint(append(b, tagSS), uint64(len(v.SS)))
		for _, s := range v.SS {
			b = appendBytes(b, []byte(s))
		}
	case v.NS != nil:
		b = binary.AppendUvarint(append(b, tagNS), uint64(len(v.NS)))
		for _, s := range v.NS {
			b = appendBytes(b, []byte(s))
		}
	case v.BS != nil:
		b = binary.AppendUvarint(append(b, tagBS), uint64(len(v.BS)))
		for _, s := range v.BS {
			b = appendBytes(b, s)
		}
	case v.M != nil:
		b = appendMap(append(b, tagM), v.M)
	case v.L != nil:
		b = binary.AppendUvarint(append(b, tagL), uint64(len(v.L)))
		for _, e := range v.L {
			b = appendValue(b, e)
		}
	case v.NULL != nil:
		b = append(b, tagNULL)
	case v.BOOL != nil:
		x := byte(0)
		if *v.BOOL {
			x = 1
		}
		b = append(b, tagBOOL, x)
	}
	return b
}

var errCorrupt = ddbitem.ErrCorrupt

type reader struct {
	b   []byte
	err error
	// text, when set, is the whole input (of length size) as one string:
	// decodeItem cuts every string it reads from it, one allocation per
	// item instead of two per string (Query decodes every item it returns).
	text string
	size int
	// strs holds the strings *string values point to, allocated a few
	// at a time rather than one by one.
	strs []string
}

func (r *reader) uvarint() int {
	if r.err != nil {
		return 0
	}
	n, k := binary.Uvarint(r.b)
	if k <= 0 || n > uint64(len(r.b)) {
		r.err = errCorrupt
		return 0
	}
	r.b = r.b[k:]
	return int(n)
}

func (r *reader) bytes() []byte {
	n := r.uvarint()
	if r.err != nil || n > len(r.b) {
		r.err = errCorrupt
		return nil
	}
	out := make([]byte, n)
	copy(out, r.b[:n])
	r.b = r.b[n:]
	return out
}

// str reads a length-prefixed string, cut from r.text when it is set.
func (r *reader) str() string {
	n := r.uvarint()
	if r.err != nil || n > len(r.b) {
		r.err = errCorrupt
		return ""
	}
	var s string
	if r.text != "" {
		off := r.size - len(r.b)
		s = r.text[off : off+n]
	} else {
		s = string(r.b[:n])
	}
	r.b = r.b[n:]
	return s
}

// strPtr returns a pointer to a copy of s, from a slab of a few strings.
func (r *reader) strPtr(s string) *string {
	if len(r.strs) == cap(r.strs) {
		r.strs = make([]string, 0, 8)
	}
	r.strs = append(r.strs, s)
	return &r.strs[len(r.strs)-1]
}

func (r *reader) byte() byte {
	if r.err != nil || len(r.b) == 0 {
		r.err = errCorrupt
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

// decodeItem reads an item written by encodeItem.
func decodeItem(b []byte) (Item, error) {
	r := &reader{b: b, text: string(b), size: len(b)}
	m := r.readMap()
	if r.err != nil {
		return nil, r.err
	}
	return m, nil
}

func (r *reader) readMap() map[string]Value {
	n := r.uvarint()
	m := make(map[string]Value, n)
	for i := 0; i < n && r.err == nil; i++ {
		k := r.str()
		m[k] = r.readValue()
	}
	return m
}

func (r *reader) readValue() Value {
	switch r.byte() {
	case tagS:
		return Value{S: r.strPtr(r.str())}
	case tagN:
		return Value{N: r.strPtr(r.str())}
	case tagB:
		return Value{B: r.bytes()}
	case tagSS:
		n := r.uvarint()
		out := make([]string, 0, n)
		for i := 0; i < n && r.err == nil; i++ {
			out = append(out, r.str())
		}
		return Value{SS: out}
	case tagNS:
		n := r.uvarint()
		out := make([]string, 0, n)
		for i := 0; i < n && r.err == nil; i++ {
			out = append(out, r.str())
		}
		return Value{NS: out}
	case tagBS:
		n := r.uvarint()
		out := make([][]byte, 0, n)
		for i := 0; i < n && r.err == nil; i++ {
			out = append(out, r.bytes())
		}
		return Value{BS: out}
	case tagM:
		return Value{M: r.readMap()}
	case tagL:
		n := r.uvarint()
		out := make([]Value, 0, n)
		for i := 0; i < n && r.err == nil; i++ {
			out = append(out, r.readValue())
		}
		return Value{L: out}
	case tagNULL:
		t := true
		return Value{NULL: &t}
	case tagBOOL:
		x := r.byte() == 1
		return Value{BOOL: &x}
	}
	r.err = errCorrupt
	return Value{}
}

// ---- key encoding ----

// appendKeyPart appends an order-preserving, prefix-free encoding of a key
// value: strings and binaries bytewise (0x00 escaped as 0x00 0xff, ended by
// 0x00 0x01), numbers numerically (package number). Store scans under a
// partition key therefore visit sort keys in DynamoDB's order.
func appendKeyPart(b []byte, v Value) []byte {
	switch {
	case v.N != nil:
		d, _ := number.Parse(*v.N)
		return d.AppendKey(b)
	case v.S != nil:
		return appendEscaped(b, []byte(*v.S), true)
	default:
		return appendEscaped(b, v.B, true)
	}
}

func appendEscaped(b, s []byte, terminate bool) []byte {
	for _, c := range s {
		if c == 0 {
			b = append(b, 0, 0xff)
		} else {
			b = append(b, c)
		}
	}
	if terminate {
		b = append(b, 0, 1)
	}
	return b
}

// beginsWithPrefix is the key prefix of every sort key value that begins with v.
func beginsWithPrefix(b []byte, v Value) []byte {
	if v.S != nil {
		return appendEscaped(b, []byte(*v.S), false)
	}
	return appendEscaped(b, v.B, false)
}

// keyValueSize is a key attribute's size for the key size limits.
func keyValueSize(v Value) int { return valueSize(v) }
