package xmlshape

import (
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/wharf-dev/wharf/internal/awsapi"
)

// Node is one parsed XML element.
type Node struct {
	Name     string // local name
	Attrs    []xml.Attr
	Children []*Node
	Text     string
}

// Child returns the first child element named name, or nil.
func (n *Node) Child(name string) *Node {
	for _, c := range n.Children {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// Limits on a request body's XML, so a hostile body cannot exhaust the stack or
// memory before validation.
const (
	maxDepth    = 64
	maxElements = 1 << 20
)

// Parse reads one XML document and returns its root element. It returns an error
// (not a panic) for anything that is not well-formed XML with a single root.
func Parse(r io.Reader) (*Node, error) {
	d := xml.NewDecoder(r)
	var stack []*Node
	// texts[i] collects the text of stack[i]: text interrupted by comments or
	// processing instructions arrives in many pieces, and appending each to a
	// string would copy the text so far every time (quadratic in the body).
	var texts [][]byte
	var root *Node
	count := 0
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			count++
			if len(stack) >= maxDepth || count > maxElements {
				return nil, errors.New("XML nested too deeply or too large")
			}
			n := &Node{Name: t.Name.Local, Attrs: t.Attr}
			if len(stack) == 0 {
				if root != nil {
					return nil, errors.New("more than one root element")
				}
				root = n
			} else {
				p := stack[len(stack)-1]
				p.Children = append(p.Children, n)
			}
			stack = append(stack, n)
			texts = append(texts, nil)
		case xml.EndElement:
			top := len(stack) - 1
			stack[top].Text = string(texts[top])
			stack, texts = stack[:top], texts[:top]
		case xml.CharData:
			if len(stack) > 0 {
				texts[len(texts)-1] = append(texts[len(texts)-1], t...)
			} else if strings.TrimSpace(string(t)) != "" {
				return nil, errors.New("text outside the root element")
			}
		}
	}
	if root == nil {
		return nil, io.ErrUnexpectedEOF
	}
	return root, nil
}

// Fill sets the body members of the struct v points to (or v itself, settable)
// from the children of n.
func (o *Options) Fill(n *Node, v reflect.Value) error {
	for v.Kind() == reflect.Pointer {
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return fmt.Errorf("cannot fill %s", v.Type())
	}
	shape := awsapi.ShapeOf(v.Type())
	for i := range shape.Fields {
		f := &shape.Fields[i]
		if f.Location != "" {
			continue
		}
		fv := v.Field(f.Index)
		if f.XMLAttribute {
			local := f.WireName()
			if i := strings.IndexByte(local, ':'); i >= 0 {
				local = local[i+1:]
			}
			for _, a := range n.Attrs {
				if a.Name.Local == local {
					if err := o.SetScalar(f, fv, a.Value, "iso8601"); err != nil {
						return err
					}
				}
			}
			continue
		}
		if isList(fv.Type()) && f.Flattened {
			name := FlatName(f)
			var items []*Node
			for _, c := range n.Children {
				if c.Name == name {
					items = append(items, c)
				}
			}
			if items != nil {
				if err := o.fillList(items, f, fv); err != nil {
					return err
				}
			}
			continue
		}
		if fv.Kind() == reflect.Map && f.Flattened {
			var entries []*Node
			for _, c := range n.Children {
				if c.Name == f.WireName() {
					entries = append(entries, c)
				}
			}
			if entries != nil {
				if err := o.fillMap(entries, f, fv); err != nil {
					return err
				}
			}
			continue
		}
		c := n.Child(f.WireName())
		if c == nil {
			continue
		}
		if err := o.FillValue(c, f, fv); err != nil {
			return err
		}
	}
	return nil
}

func isList(t reflect.Type) bool { return t.Kind() == reflect.Slice && t != bytesType }

// FillValue sets v (settable) from element n, described by f.
func (o *Options) FillValue(n *Node, f *awsapi.Field, v reflect.Value) error {
	t := v.Type()
	switch {
	case isList(t):
		return o.fillList(n.Children, f, v)
	case t.Kind() == reflect.Map:
		return o.fillMap(n.Children, f, v)
	case t.Kind() == reflect.Struct && t != timeType,
		t.Kind() == reflect.Pointer && t.Elem().Kind() == reflect.Struct && t.Elem() != timeType:
		return o.Fill(n, v)
	case t.Kind() == reflect.Interface && t != readerType:
		v.Set(reflect.ValueOf(n.Text))
		return nil
	}
	return o.SetScalar(f, v, n.Text, "iso8601")
}

func (o *Options) fillList(items []*Node, f *awsapi.Field, v reflect.Value) error {
	ef := ElemField(v.Type().Elem())
	s := reflect.MakeSlice(v.Type(), 0, len(items))
	for _, it := range items {
		e := reflect.New(v.Type().Elem()).Elem()
		if err := o.FillValue(it, ef, e); err != nil {
			return err
		}
		s = reflect.Append(s, e)
	}
	v.Set(s)
	return nil
}

func (o *Options) fillMap(entries []*Node, f *awsapi.Field, v reflect.Value) error {
	if v.Type().Key().Kind() != reflect.String {
		return fmt.Errorf("map key type %s", v.Type().Key())
	}
	m := reflect.MakeMapWithSize(v.Type(), len(entries))
	ef := ElemField(v.Type().Elem())
	for _, e := range entries {
		k := e.Child(f.KeyName)
		if k == nil {
			continue
		}
		val := reflect.New(v.Type().Elem()).Elem()
		if c := e.Child(f.ValueName); c != nil {
			if err := o.FillValue(c, ef, val); err != nil {
				return err
			}
		}
		m.SetMapIndex(reflect.ValueOf(k.Text).Convert(v.Type().Key()), val)
	}
	v.Set(m)
	return nil
}

// ValueError reports text that does not parse as the member's type.
type ValueError struct {
	Member string
	Value  string
	Type   string
}

func (e *ValueError) Error() string {
	return fmt.Sprintf("value %q for %s is not a valid %s", truncate(e.Value), e.Member, e.Type)
}

func truncate(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}

// SetScalar parses text into v (settable; a pointer is allocated), by v's type.
// defaultTime is the protocol's timestamp format at this location.
func (o *Options) SetScalar(f *awsapi.Field, v reflect.Value, text, defaultTime string) error {
	t := v.Type()
	if t.Kind() == reflect.Pointer {
		p := reflect.New(t.Elem())
		if err := o.SetScalar(f, p.Elem(), text, defaultTime); err != nil {
			return err
		}
		v.Set(p)
		return nil
	}
	bad := func(typ string) error { return &ValueError{Member: f.Name, Value: text, Type: typ} }
	if t == timeType {
		format := f.TimestampFormat
		if format == "" {
			format = defaultTime
		}
		tm, err := ParseTime(text, format)
		if err != nil {
			return bad("timestamp")
		}
		v.Set(reflect.ValueOf(tm))
		return nil
	}
	if t == bytesType {
		b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(text))
		if err != nil {
			return bad("base64 blob")
		}
		v.SetBytes(b)
		return nil
	}
	switch t.Kind() {
	case reflect.String:
		v.SetString(text)
	case reflect.Bool:
		// AWS reads booleans without regard to case: boto3 sends Python's
		// "True" in x-amz-bypass-governance-retention, and S3 honours it.
		switch b := strings.TrimSpace(text); {
		case strings.EqualFold(b, "true"):
			v.SetBool(true)
		case strings.EqualFold(b, "false"):
			v.SetBool(false)
		default:
			return bad("boolean")
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, err := strconv.ParseInt(strings.TrimSpace(text), 10, t.Bits())
		if err != nil {
			return bad("integer")
		}
		v.SetInt(n)
	case reflect.Float32, reflect.Float64:
		x, err := ParseFloat(text, t.Bits())
		if err != nil {
			return bad("number")
		}
		v.SetFloat(x)
	case reflect.Interface:
		v.Set(reflect.ValueOf(text))
	default:
		return bad(t.String())
	}
	return nil
}

// ParseFloat reads a float including AWS's special values.
func ParseFloat(text string, bits int) (float64, error) {
	switch strings.TrimSpace(text) {
	case "NaN":
		return math.NaN(), nil
	case "Infinity":
		return math.Inf(1), nil
	case "-Infinity":
		return math.Inf(-1), nil
	}
	return strconv.ParseFloat(strings.TrimSpace(text), bits)
}

// ParseTime reads a timestamp. It accepts every format AWS clients send for the
// given one (ISO 8601 with or without fraction or offset; HTTP dates; epoch
// seconds), because SDKs differ in the exact layout.
func ParseTime(text, format string) (time.Time, error) {
	text = strings.TrimSpace(text)
	switch format {
	case "rfc822":
		if t, err := http.ParseTime(text); err == nil {
			return t.UTC(), nil
		}
	case "unixTimestamp":
		if x, err := strconv.ParseFloat(text, 64); err == nil && !math.IsInf(x, 0) && !math.IsNaN(x) && math.Abs(x) < 1e12 {
			sec, frac := math.Modf(x)
			return time.Unix(int64(sec), int64(math.Round(frac*1e9))).UTC(), nil
		}
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04:05.999999999", "2006-01-02T15:04Z07:00", "2006-01-02"} {
		if t, err := time.Parse(layout, text); err == nil {
			return t.UTC(), nil
		}
	}
	if t, err := http.ParseTime(text); err == nil {
		return t.UTC(), nil
	}
	if x, err := strconv.ParseFloat(text, 64); err == nil && !math.IsInf(x, 0) && !math.IsNaN(x) && math.Abs(x) < 1e12 {
		sec, frac := math.Modf(x)
		return time.Unix(int64(sec), int64(math.Round(frac*1e9))).UTC(), nil
	}
	return time.Time{}, errors.New("bad timestamp")
}
