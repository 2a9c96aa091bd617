package query

import (
	"bytes"
	"errors"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/wharf-dev/wharf/internal/apierr"
	"github.com/wharf-dev/wharf/internal/awsapi"
	"github.com/wharf-dev/wharf/internal/protocol/restxml/xmlshape"
)

// maxItems bounds the 1-based index of list and map entries, so a request cannot
// make the decoder allocate more than the parameters it sent.
const maxItems = 100000

// params is a request's query parameters, sorted by name, so the decoder
// can ask "is anything under Foo.member.3?" with a binary search. A sorted
// slice replaced two maps (values, and every dotted prefix of every name):
// hashing each prefix of each name was most of what reading a batch's form
// cost.
type params struct {
	list []param // sorted by name, one per name: its first value
	// invalid is a parameter name whose name or value is not valid UTF-8,
	// when hasInvalid.
	invalid     string
	hasInvalid  bool
	invalidSpan span // where invalid lies while the form is being read
}

// param is one parameter. A name without a value (from a form whose name
// has an empty list of values) is there for has, not for value.
type param struct {
	k, v    string
	noValue bool
}

// maxPrefixes is how many dots of a name has looks through: a name is under
// prefix P only when P has fewer dots, as when every prefix was indexed
// (up to this many, since a hostile name of a million dots would have taken
// hours). No query shape nests nearly this deep (CloudWatch's
// Metrics.member.1.MetricStat.Metric.Dimensions.member.1.Name has 8 dots).
const maxPrefixes = 32

// sort orders the parameters by name, keeping each name's first value.
func (p *params) sort() {
	slices.SortStableFunc(p.list, func(a, b param) int { return strings.Compare(a.k, b.k) })
	p.list = slices.CompactFunc(p.list, func(a, b param) bool { return a.k == b.k })
}

// newParams indexes a form net/http has parsed (url.Values).
func newParams(form map[string][]string) *params {
	p := &params{list: make([]param, 0, len(form))}
	for k, vs := range form {
		for _, v := range vs {
			if !p.hasInvalid && !(utf8.ValidString(k) && utf8.ValidString(v)) {
				p.invalid, p.hasInvalid = k, true
			}
		}
		if len(vs) > 0 {
			p.list = append(p.list, param{k: k, v: vs[0]})
		} else {
			p.list = append(p.list, param{k: k, noValue: true})
		}
	}
	p.sort()
	return p
}

// before reports whether k sorts before name followed by sep.
func before(k string, name []byte, sep byte) bool {
	if len(k) <= len(name) {
		return k <= string(name) // k is before name+sep unless it is after name
	}
	if k[:len(name)] != string(name) {
		return k[:len(name)] < string(name)
	}
	return k[len(name)] < sep
}

// search returns the first index in [lo, hi) whose name does not sort
// before name followed by sep (sep 0: name itself).
func (p *params) search(lo, hi int, name []byte, sep byte) int {
	for lo < hi {
		h := int(uint(lo+hi) >> 1)
		var b bool
		if sep == 0 {
			b = p.list[h].k < string(name)
		} else {
			b = before(p.list[h].k, name, sep)
		}
		if b {
			lo = h + 1
		} else {
			hi = h
		}
	}
	return lo
}

// under returns the part of [lo, hi) that holds name and the names under
// name. (the names in between, name-x and name,x, sort before name. and
// after name, so they are in it too, and the part is one range).
func (p *params) under(lo, hi int, name []byte) (int, int) {
	lo = p.search(lo, hi, name, 0)
	return lo, p.search(lo, hi, name, '/') // '/' follows '.'
}

// find returns the index of name in [lo, hi), or -1.
func (p *params) find(lo, hi int, name []byte) int {
	i := p.search(lo, hi, name, 0)
	if i < hi && p.list[i].k == string(name) {
		return i
	}
	return -1
}

// hasIn reports whether a parameter in [lo, hi) is named name or starts
// with name and a dot.
func (p *params) hasIn(lo, hi int, name []byte) bool {
	i := p.search(lo, hi, name, 0)
	if i < hi && p.list[i].k == string(name) {
		return true
	}
	if bytes.Count(name, []byte(".")) >= maxPrefixes {
		return false
	}
	j := p.search(i, hi, name, '.')
	if j == hi {
		return false
	}
	k := p.list[j].k
	return len(k) > len(name) && k[len(name)] == '.' && k[:len(name)] == string(name)
}

// has reports whether a parameter is named name or starts with name and a dot.
func (p *params) has(name []byte) bool { return p.hasIn(0, len(p.list), name) }

func (p *params) valueIn(lo, hi int, name []byte) (string, bool) {
	i := p.find(lo, hi, name)
	if i < 0 || p.list[i].noValue {
		return "", false
	}
	return p.list[i].v, true
}

func (p *params) value(name []byte) (string, bool) { return p.valueIn(0, len(p.list), name) }

// get is value for a name known in advance (Action, Version).
func (p *params) get(name string) string {
	v, _ := p.value([]byte(name))
	return v
}

// decoder fills an input struct from params. Parameter names are built in
// one buffer, each level of the shape appending its part after its parent's
// name, so looking up a member allocates nothing.
type decoder struct {
	p    *params
	opts *xmlshape.Options
	// lo and hi are the parameters the structure being read can name:
	// those under its prefix, so that a batch entry's members are searched
	// for among that entry's parameters alone.
	lo, hi int
	// scratch is where a list's flattened name is built to see whether
	// it has items, before any is copied.
	scratch []byte
	// wide leaves the range whole, for tests that check the ranges
	// change nothing, and sets strings with SetScalar rather than from
	// strs, for tests that check the slab changes nothing either.
	wide bool
	// strs is where *string members point: most members are strings, and
	// one slab for many of them is one allocation instead of one each.
	strs []string
}

var stringPtrType = reflect.TypeFor[*string]()

// newString returns a pointer to a copy of text, from the decoder's slab.
func (d *decoder) newString(text string) *string {
	if len(d.strs) == cap(d.strs) {
		// Small at first (a SendMessage has a few strings), then growing
		// with the request; the slab stays alive while any member does.
		d.strs = make([]string, 0, min(max(2*cap(d.strs), 4), 64))
	}
	d.strs = append(d.strs, text)
	return &d.strs[len(d.strs)-1]
}

func (d *decoder) has(name []byte) bool { return d.p.hasIn(d.lo, d.hi, name) }

func (d *decoder) value(name []byte) (string, bool) { return d.p.valueIn(d.lo, d.hi, name) }

// decodeStruct fills the struct v (settable, struct kind) from parameters under
// prefix (empty at the top).
func (d *decoder) decodeStruct(prefix []byte, v reflect.Value) error {
	shape := awsapi.ShapeOf(v.Type())
	var buf [16]string
	sent, known := d.parts(prefix, buf[:0])
	for i := range shape.Fields {
		f := &shape.Fields[i]
		if known && !slices.Contains(sent, f.WireName()) && (f.MemberName == "" || !slices.Contains(sent, f.MemberName)) {
			continue // nothing names it: no search for each of its forms
		}
		name := prefix
		if len(prefix) > 0 {
			name = append(name, '.')
		}
		name = append(name, f.WireName()...)
		if err := d.decodeValue(name, f, v.Field(f.Index)); err != nil {
			return err
		}
	}
	return nil
}

// parts returns the distinct parts that follow prefix and a dot (up to the
// next dot) in the names of the parameters the structure at prefix can
// name, appended to buf, and whether it found them all (not when there were
// more than buf holds). A member is named only by its wire name or, in a
// flattened list, its member's name: a member neither of which is among
// them is not there, and decodeStruct skips the searches for it (a batch
// entry has a handful of members and sends two or three).
func (d *decoder) parts(prefix []byte, buf []string) ([]string, bool) {
	if d.wide {
		return nil, false // tests compare the decoding with every search made
	}
	for _, p := range d.p.list[d.lo:d.hi] {
		k := p.k
		if len(prefix) > 0 {
			if len(k) <= len(prefix) || k[len(prefix)] != '.' || k[:len(prefix)] != string(prefix) {
				continue
			}
			k = k[len(prefix)+1:]
		}
		if i := strings.IndexByte(k, '.'); i >= 0 {
			k = k[:i]
		}
		if len(buf) > 0 && buf[len(buf)-1] == k {
			continue
		}
		if len(buf) == cap(buf) {
			return nil, false
		}
		buf = append(buf, k)
	}
	return buf, true
}

// decodeValue fills v from parameters named name (or under it). name's
// bytes beyond its length may be overwritten.
func (d *decoder) decodeValue(name []byte, f *awsapi.Field, v reflect.Value) error {
	t := v.Type()
	switch {
	case t.Kind() == reflect.Slice && t.Elem().Kind() != reflect.Uint8:
		return d.decodeList(name, f, v)
	case t.Kind() == reflect.Map:
		return d.decodeMap(name, f, v)
	case t.Kind() == reflect.Pointer && t.Elem().Kind() == reflect.Struct && t.Elem() != reflect.TypeOf(timeZero),
		t.Kind() == reflect.Struct && t != reflect.TypeOf(timeZero):
		if !d.has(name) {
			return nil
		}
		if t.Kind() == reflect.Pointer {
			v.Set(reflect.New(t.Elem()))
			v = v.Elem()
		}
		lo, hi := d.lo, d.hi
		if !d.wide {
			d.lo, d.hi = d.p.under(lo, hi, name)
		}
		err := d.decodeStruct(name, v)
		d.lo, d.hi = lo, hi
		return err
	}
	text, ok := d.value(name)
	if !ok {
		return nil
	}
	return d.setScalar(name, f, v, text)
}

func (d *decoder) setScalar(name []byte, f *awsapi.Field, v reflect.Value, text string) error {
	if v.Type() == stringPtrType && !d.wide { // wide: tests compare the slab with SetScalar
		v.Set(reflect.ValueOf(d.newString(text)))
		return nil
	}
	err := d.opts.SetScalar(f, v, text, "iso8601")
	if err == nil {
		return nil // before errors.As, whose target would be allocated on every call
	}
	var ve *xmlshape.ValueError
	if errors.As(err, &ve) {
		// AWS's query front end rejects values that do not parse as the member's
		// type with InvalidParameterValue ("Common Errors" in the API references).
		return &apierr.Error{Code: "InvalidParameterValue", Status: 400,
			Message: "Value (" + strconv.Quote(short(text)) + ") for parameter " + string(name) + " is invalid. Expected: " + ve.Type + "."}
	}
	return err
}

func short(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}

// listPrefixes are where a list's items may live: Name.member.N, or for a
// flattened list Name.N with Name's last part replaced by the member's name
// when the model gives one. Clients differ on whether a list is flattened
// (older and newer models of the same service disagree), so both forms are
// read, the model's own first, then Name.N. Each is appended to name's bytes
// (name[:len(name)] is kept) and returned, except the form with the
// member's name, which is built in scratch (own reports which).
func listPrefixes(name, scratch []byte, f *awsapi.Field, i int) (prefix []byte, own bool) {
	flat := func() ([]byte, bool) {
		if f.MemberName != "" && f.MemberName != "member" {
			// Not in name's bytes, which must stay as they are for the
			// next form.
			j := bytes.LastIndexByte(name, '.') + 1
			return append(append(scratch[:0], name[:j]...), f.MemberName...), true
		}
		return name, false
	}
	wrapped := func() []byte { return append(append(name, '.'), f.MemberName...) }
	switch {
	case i == 2:
		return name, false
	case (i == 0) == f.Flattened:
		return flat()
	default:
		return wrapped(), false
	}
}

func (d *decoder) decodeList(name []byte, f *awsapi.Field, v reflect.Value) error {
	ef := xmlshape.ElemField(v.Type().Elem())
	for form := 0; form < 3; form++ {
		lp, own := listPrefixes(name, d.scratch, f, form)
		if own {
			d.scratch = lp[:0] // keep what it grew to
		}
		n := 0
		for n < maxItems && d.has(strconv.AppendInt(append(lp, '.'), int64(n+1), 10)) {
			n++
		}
		if n == 0 {
			continue
		}
		if own {
			// The items' names are built after it, and their decoding
			// may use scratch: a copy of its own, with room for them.
			lp = append(make([]byte, 0, len(lp)+64), lp...)
		}
		s := reflect.MakeSlice(v.Type(), n, n)
		for i := 0; i < n; i++ {
			item := strconv.AppendInt(append(lp, '.'), int64(i+1), 10)
			if err := d.decodeValue(item, ef, s.Index(i)); err != nil {
				return err
			}
		}
		v.Set(s)
		return nil
	}
	// botocore sends "Name=" for an empty list.
	if text, ok := d.value(name); ok && text == "" {
		v.Set(reflect.MakeSlice(v.Type(), 0, 0))
	}
	return nil
}

func (d *decoder) decodeMap(name []byte, f *awsapi.Field, v reflect.Value) error {
	if v.Type().Key().Kind() != reflect.String {
		return nil
	}
	ef := xmlshape.ElemField(v.Type().Elem())
	for form := 0; form < 2; form++ {
		ep := name
		if form == 0 {
			ep = append(ep, ".entry"...)
		}
		if !d.has(append(ep, ".1"...)) {
			continue
		}
		m := reflect.MakeMap(v.Type())
		// One key value, set to each entry's key: SetMapIndex copies it,
		// and a Value made per entry was an allocation each.
		kv := reflect.New(v.Type().Key()).Elem()
		for i := 1; i <= maxItems; i++ {
			entry := strconv.AppendInt(append(ep, '.'), int64(i), 10)
			if !d.has(entry) {
				break
			}
			key, ok := d.value(append(append(entry, '.'), f.KeyName...))
			if !ok {
				// SQS: "MissingParameter: The request must contain the parameter Attribute.1.Name."
				return &apierr.Error{Code: "MissingParameter", Status: 400,
					Message: "The request must contain the parameter " + string(entry) + "." + f.KeyName + "."}
			}
			e := reflect.New(v.Type().Elem()).Elem()
			if err := d.decodeValue(append(append(entry, '.'), f.ValueName...), ef, e); err != nil {
				return err
			}
			kv.SetString(key)
			m.SetMapIndex(kv, e)
		}
		v.Set(m)
		return nil
	}
	return nil
}
