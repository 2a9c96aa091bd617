package query

import (
	"bytes"
	"errors"
	"reflect"
	"strconv"
	"unicode/utf8"

	"github.com/wharf-dev/wharf/internal/apierr"
	"github.com/wharf-dev/wharf/internal/awsapi"
	"github.com/wharf-dev/wharf/internal/protocol/restxml/xmlshape"
)

// maxItems bounds the 1-based index of list and map entries, so a request cannot
// make the decoder allocate more than the parameters it sent.
const maxItems = 100000

// params is a request's query parameters with an index of every dotted prefix,
// so the decoder can ask "is anything under Foo.member.3?" in one map read.
type params struct {
	values   map[string]string
	prefixes map[string]bool
	// invalid is a parameter name whose name or value is not valid UTF-8,
	// when hasInvalid.
	invalid    string
	hasInvalid bool
}

// maxPrefixes bounds how many dotted prefixes of one parameter name are
// indexed. Indexing every prefix costs the name's length for each dot, so a
// hostile name with millions of dots would take hours; no query shape nests
// nearly this deep (CloudWatch's Metrics.member.1.MetricStat.Metric.
// Dimensions.member.1.Name has 8 dots), so deeper prefixes could only belong
// to parameters every shape ignores.
const maxPrefixes = 32

// newParams indexes a form net/http has parsed (url.Values).
func newParams(form map[string][]string) *params {
	p := &params{values: make(map[string]string, len(form)), prefixes: map[string]bool{}}
	for k, vs := range form {
		for _, v := range vs {
			if !p.hasInvalid && !(utf8.ValidString(k) && utf8.ValidString(v)) {
				p.invalid, p.hasInvalid = k, true
			}
		}
		if len(vs) > 0 {
			p.set(k, vs[0])
		} else {
			p.prefixes[k] = true
			for i, n := 0, 0; i < len(k) && n < maxPrefixes; i++ {
				if k[i] == '.' {
					p.prefixes[k[:i]] = true
					n++
				}
			}
		}
	}
	return p
}

// has reports whether a parameter is named name or starts with name and a dot.
// The map read of string(name) does not allocate.
func (p *params) has(name []byte) bool { return p.prefixes[string(name)] }

func (p *params) value(name []byte) (string, bool) {
	v, ok := p.values[string(name)]
	return v, ok
}

// decoder fills an input struct from params. Parameter names are built in
// one buffer, each level of the shape appending its part after its parent's
// name, so looking up a member allocates nothing.
type decoder struct {
	p    *params
	opts *xmlshape.Options
}

// decodeStruct fills the struct v (settable, struct kind) from parameters under
// prefix (empty at the top).
func (d *decoder) decodeStruct(prefix []byte, v reflect.Value) error {
	shape := awsapi.ShapeOf(v.Type())
	for i := range shape.Fields {
		f := &shape.Fields[i]
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
		if !d.p.has(name) {
			return nil
		}
		if t.Kind() == reflect.Pointer {
			v.Set(reflect.New(t.Elem()))
			v = v.Elem()
		}
		return d.decodeStruct(name, v)
	}
	text, ok := d.p.value(name)
	if !ok {
		return nil
	}
	return d.setScalar(name, f, v, text)
}

func (d *decoder) setScalar(name []byte, f *awsapi.Field, v reflect.Value, text string) error {
	err := d.opts.SetScalar(f, v, text, "iso8601")
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
// (name[:len(name)] is kept) and returned.
func listPrefixes(name []byte, f *awsapi.Field, i int) []byte {
	flat := func() []byte {
		if f.MemberName != "" && f.MemberName != "member" {
			// A copy, with room for what the items' names append: name's
			// own bytes must stay as they are for the next form.
			j := bytes.LastIndexByte(name, '.') + 1
			b := make([]byte, 0, j+len(f.MemberName)+64)
			return append(append(b, name[:j]...), f.MemberName...)
		}
		return name
	}
	wrapped := func() []byte { return append(append(name, '.'), f.MemberName...) }
	switch {
	case i == 2:
		return name
	case (i == 0) == f.Flattened:
		return flat()
	default:
		return wrapped()
	}
}

func (d *decoder) decodeList(name []byte, f *awsapi.Field, v reflect.Value) error {
	ef := xmlshape.ElemField(v.Type().Elem())
	for form := 0; form < 3; form++ {
		lp := listPrefixes(name, f, form)
		n := 0
		for n < maxItems && d.p.has(strconv.AppendInt(append(lp, '.'), int64(n+1), 10)) {
			n++
		}
		if n == 0 {
			continue
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
	if text, ok := d.p.value(name); ok && text == "" {
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
		if !d.p.has(append(ep, ".1"...)) {
			continue
		}
		m := reflect.MakeMap(v.Type())
		for i := 1; i <= maxItems; i++ {
			entry := strconv.AppendInt(append(ep, '.'), int64(i), 10)
			if !d.p.has(entry) {
				break
			}
			key, ok := d.p.value(append(append(entry, '.'), f.KeyName...))
			if !ok {
				// SQS: "MissingParameter: The request must contain the parameter Attribute.1.Name."
				return &apierr.Error{Code: "MissingParameter", Status: 400,
					Message: "The request must contain the parameter " + string(entry) + "." + f.KeyName + "."}
			}
			e := reflect.New(v.Type().Elem()).Elem()
			if err := d.decodeValue(append(append(entry, '.'), f.ValueName...), ef, e); err != nil {
				return err
			}
			m.SetMapIndex(reflect.ValueOf(key).Convert(v.Type().Key()), e)
		}
		v.Set(m)
		return nil
	}
	return nil
}
