package query

import (
	"errors"
	"reflect"
	"strconv"
	"strings"

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
}

// maxPrefixes bounds how many dotted prefixes of one parameter name are
// indexed. Indexing every prefix costs the name's length for each dot, so a
// hostile name with millions of dots would take hours; no query shape nests
// nearly this deep (CloudWatch's Metrics.member.1.MetricStat.Metric.
// Dimensions.member.1.Name has 8 dots), so deeper prefixes could only belong
// to parameters every shape ignores.
const maxPrefixes = 32

func newParams(form map[string][]string) *params {
	p := &params{values: make(map[string]string, len(form)), prefixes: map[string]bool{}}
	for k, vs := range form {
		if len(vs) > 0 {
			p.values[k] = vs[0]
		}
		n := 0
		for i := 0; i < len(k) && n < maxPrefixes; i++ {
			if k[i] == '.' {
				p.prefixes[k[:i]] = true
				n++
			}
		}
		p.prefixes[k] = true
	}
	return p
}

func (p *params) has(prefix string) bool { return p.prefixes[prefix] }

type decoder struct {
	p    *params
	opts *xmlshape.Options
}

// decodeStruct fills the struct v (settable, struct kind) from parameters under prefix.
func (d *decoder) decodeStruct(prefix string, v reflect.Value) error {
	shape := awsapi.ShapeOf(v.Type())
	for i := range shape.Fields {
		f := &shape.Fields[i]
		name := f.WireName()
		if prefix != "" {
			name = prefix + "." + name
		}
		if err := d.decodeValue(name, f, v.Field(f.Index)); err != nil {
			return err
		}
	}
	return nil
}

// decodeValue fills v from parameters named name (or under it).
func (d *decoder) decodeValue(name string, f *awsapi.Field, v reflect.Value) error {
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
	text, ok := d.p.values[name]
	if !ok {
		return nil
	}
	return d.setScalar(name, f, v, text)
}

func (d *decoder) setScalar(name string, f *awsapi.Field, v reflect.Value, text string) error {
	err := d.opts.SetScalar(f, v, text, "iso8601")
	var ve *xmlshape.ValueError
	if errors.As(err, &ve) {
		// AWS's query front end rejects values that do not parse as the member's
		// type with InvalidParameterValue ("Common Errors" in the API references).
		return &apierr.Error{Code: "InvalidParameterValue", Status: 400,
			Message: "Value (" + strconv.Quote(short(text)) + ") for parameter " + name + " is invalid. Expected: " + ve.Type + "."}
	}
	return err
}

func short(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}

// listPrefix is where a list's items live: Name.member.N, or for a flattened list
// Name.N with Name's last part replaced by the member's name when the model gives one.
func listPrefixes(name string, f *awsapi.Field) []string {
	flat := name
	if f.MemberName != "" && f.MemberName != "member" {
		if i := strings.LastIndexByte(name, '.'); i >= 0 {
			flat = name[:i+1] + f.MemberName
		} else {
			flat = f.MemberName
		}
	}
	wrapped := name + "." + f.MemberName
	// Clients differ on whether a list is flattened (older and newer models of the
	// same service disagree), so both forms are read, the model's own first.
	if f.Flattened {
		return []string{flat, wrapped, name}
	}
	return []string{wrapped, flat, name}
}

func (d *decoder) decodeList(name string, f *awsapi.Field, v reflect.Value) error {
	ef := xmlshape.ElemField(v.Type().Elem())
	for _, lp := range listPrefixes(name, f) {
		if !d.p.has(lp + ".1") {
			continue
		}
		s := reflect.MakeSlice(v.Type(), 0, 1)
		for i := 1; i <= maxItems; i++ {
			item := lp + "." + strconv.Itoa(i)
			if !d.p.has(item) {
				break
			}
			e := reflect.New(v.Type().Elem()).Elem()
			if err := d.decodeValue(item, ef, e); err != nil {
				return err
			}
			s = reflect.Append(s, e)
		}
		v.Set(s)
		return nil
	}
	// botocore sends "Name=" for an empty list.
	if text, ok := d.p.values[name]; ok && text == "" {
		v.Set(reflect.MakeSlice(v.Type(), 0, 0))
	}
	return nil
}

func (d *decoder) decodeMap(name string, f *awsapi.Field, v reflect.Value) error {
	if v.Type().Key().Kind() != reflect.String {
		return nil
	}
	ef := xmlshape.ElemField(v.Type().Elem())
	for _, ep := range []string{name + ".entry", name} {
		if !d.p.has(ep + ".1") {
			continue
		}
		m := reflect.MakeMap(v.Type())
		for i := 1; i <= maxItems; i++ {
			entry := ep + "." + strconv.Itoa(i)
			if !d.p.has(entry) {
				break
			}
			key, ok := d.p.values[entry+"."+f.KeyName]
			if !ok {
				// SQS: "MissingParameter: The request must contain the parameter Attribute.1.Name."
				return &apierr.Error{Code: "MissingParameter", Status: 400,
					Message: "The request must contain the parameter " + entry + "." + f.KeyName + "."}
			}
			e := reflect.New(v.Type().Elem()).Elem()
			if err := d.decodeValue(entry+"."+f.ValueName, ef, e); err != nil {
				return err
			}
			m.SetMapIndex(reflect.ValueOf(key).Convert(v.Type().Key()), e)
		}
		v.Set(m)
		return nil
	}
	return nil
}
