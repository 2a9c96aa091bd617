package xmlshape

import (
	"bytes"
	"encoding/base64"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/wharf-dev/wharf/internal/awsapi"
)

// The encoders here write what WriteElement and WriteMembers write, but are
// built once per type (and, for an element, per member facts) instead of
// finding out on every value what its type is, what its shape's members are
// and what their names and namespace declarations are. Every query response
// (SQS, SNS, STS, IAM, CloudWatch) and every rest-xml body is written by
// them. What they do not handle (interface values, a struct whose element
// carries attributes or its own namespace) goes to the reflective writer.

// elemEncoder writes one value as the element name with attributes attrs.
type elemEncoder func(o *Options, buf *bytes.Buffer, name, attrs string, v reflect.Value)

// membersEncoder writes the body members of a struct value.
type membersEncoder func(o *Options, buf *bytes.Buffer, v reflect.Value)

// facts are what WriteElement reads of a member besides its value.
type facts struct {
	flattened                                       bool
	memberName, keyName, valueName, timestampFormat string
}

func factsOf(f *awsapi.Field) facts {
	return facts{f.Flattened, f.MemberName, f.KeyName, f.ValueName, f.TimestampFormat}
}

// elemFacts are ElemField's.
var elemFacts = facts{memberName: "member", keyName: "key", valueName: "value"}

func (fc facts) field(t reflect.Type) *awsapi.Field {
	return &awsapi.Field{Type: t, Flattened: fc.flattened, MemberName: fc.memberName, KeyName: fc.keyName,
		ValueName: fc.valueName, TimestampFormat: fc.timestampFormat}
}

type elemKey struct {
	t  reflect.Type
	fc facts
}

var (
	elemEncoders    sync.Map // elemKey → elemEncoder
	membersEncoders sync.Map // reflect.Type → membersEncoder
)

// encoderFor returns the encoder of values of type t for a member with facts fc.
func encoderFor(t reflect.Type, fc facts) elemEncoder {
	k := elemKey{t, fc}
	if e, ok := elemEncoders.Load(k); ok {
		return e.(elemEncoder)
	}
	// While it is built, the entry is a stand-in that waits for the
	// encoder and calls it: a request writing the type meanwhile waits
	// instead of calling a nil function, and a recursive type (none in the
	// models today) reaches itself through it.
	var (
		built sync.WaitGroup
		e     elemEncoder
	)
	built.Add(1)
	indirect := elemEncoder(func(o *Options, buf *bytes.Buffer, name, attrs string, v reflect.Value) {
		built.Wait()
		e(o, buf, name, attrs, v)
	})
	if prev, loaded := elemEncoders.LoadOrStore(k, indirect); loaded {
		return prev.(elemEncoder)
	}
	e = newElemEncoder(t, fc)
	built.Done()
	elemEncoders.Store(k, e)
	return e
}

func newElemEncoder(t reflect.Type, fc facts) elemEncoder {
	switch {
	case t.Kind() == reflect.Interface:
		f := fc.field(t)
		return func(o *Options, buf *bytes.Buffer, name, attrs string, v reflect.Value) {
			o.writeElement(buf, name, attrs, f, v)
		}
	case t.Kind() == reflect.Pointer:
		elem := encoderFor(t.Elem(), fc)
		return func(o *Options, buf *bytes.Buffer, name, attrs string, v reflect.Value) {
			if v.IsNil() {
				return
			}
			elem(o, buf, name, attrs, v.Elem())
		}
	case t == bytesType:
		return func(o *Options, buf *bytes.Buffer, name, attrs string, v reflect.Value) {
			if v.IsNil() {
				return
			}
			open(buf, name, attrs)
			Escape(buf, base64.StdEncoding.EncodeToString(v.Bytes()))
			closeTag(buf, name)
		}
	case t.Kind() == reflect.Slice:
		item := encoderFor(t.Elem(), elemFacts)
		if fc.flattened {
			// A flattened list repeats its items in place of a wrapper.
			return func(o *Options, buf *bytes.Buffer, name, attrs string, v reflect.Value) {
				for i := 0; i < v.Len(); i++ {
					item(o, buf, name, attrs, v.Index(i))
				}
			}
		}
		member := fc.memberName
		return func(o *Options, buf *bytes.Buffer, name, attrs string, v reflect.Value) {
			if v.IsNil() {
				return
			}
			open(buf, name, attrs)
			for i := 0; i < v.Len(); i++ {
				item(o, buf, member, "", v.Index(i))
			}
			closeTag(buf, name)
		}
	case t.Kind() == reflect.Map && t.Key().Kind() == reflect.String:
		value := encoderFor(t.Elem(), elemFacts)
		keyType, valuesType := t.Key(), reflect.SliceOf(t.Elem())
		return func(o *Options, buf *bytes.Buffer, name, attrs string, v reflect.Value) {
			if v.IsNil() {
				return
			}
			// The entries are copied out once, by iteration, and written in
			// key order: MapKeys and MapIndex copied every key and value
			// into an allocation of its own.
			n := v.Len()
			var kb [8]string
			var ob [8]int
			keys, order := kb[:0], ob[:0]
			values := reflect.MakeSlice(valuesType, n, n)
			kv := reflect.New(keyType).Elem()
			it := v.MapRange()
			for i := 0; it.Next() && i < n; i++ {
				kv.SetIterKey(it)
				keys = append(keys, kv.String())
				values.Index(i).SetIterValue(it)
				order = append(order, i)
			}
			slices.SortFunc(order, func(a, b int) int { return strings.Compare(keys[a], keys[b]) })
			if !fc.flattened {
				open(buf, name, attrs)
			}
			entry := "entry"
			if fc.flattened {
				entry = name
			}
			for _, i := range order {
				open(buf, entry, "")
				open(buf, fc.keyName, "")
				Escape(buf, keys[i])
				closeTag(buf, fc.keyName)
				value(o, buf, fc.valueName, "", values.Index(i))
				closeTag(buf, entry)
			}
			if !fc.flattened {
				closeTag(buf, name)
			}
		}
	case t.Kind() == reflect.Map:
		f := fc.field(t)
		return func(o *Options, buf *bytes.Buffer, name, attrs string, v reflect.Value) {
			o.writeElement(buf, name, attrs, f, v)
		}
	case t.Kind() == reflect.Struct && t != timeType:
		shape := awsapi.ShapeOf(t)
		plain, noNamespace := !hasAttributes(shape), shape.XMLNamespace == ""
		members := membersFor(t)
		return func(o *Options, buf *bytes.Buffer, name, attrs string, v reflect.Value) {
			if plain && (attrs != "" || noNamespace) {
				open(buf, name, attrs)
				members(o, buf, v)
				closeTag(buf, name)
				return
			}
			o.writeStruct(buf, name, attrs, v)
		}
	}
	return scalarEncoder(t, fc)
}

// scalarEncoder writes what Scalar formats, numbers without a string made
// first.
func scalarEncoder(t reflect.Type, fc facts) elemEncoder {
	if t == timeType {
		format := fc.timestampFormat
		if format == "" {
			format = "iso8601"
		}
		return func(o *Options, buf *bytes.Buffer, name, attrs string, v reflect.Value) {
			open(buf, name, attrs)
			Escape(buf, o.FormatTime(v.Interface().(time.Time), format))
			closeTag(buf, name)
		}
	}
	switch t.Kind() {
	case reflect.String:
		return func(o *Options, buf *bytes.Buffer, name, attrs string, v reflect.Value) {
			open(buf, name, attrs)
			Escape(buf, v.String())
			closeTag(buf, name)
		}
	case reflect.Bool:
		return func(o *Options, buf *bytes.Buffer, name, attrs string, v reflect.Value) {
			open(buf, name, attrs)
			buf.WriteString(strconv.FormatBool(v.Bool()))
			closeTag(buf, name)
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return func(o *Options, buf *bytes.Buffer, name, attrs string, v reflect.Value) {
			open(buf, name, attrs)
			buf.Write(strconv.AppendInt(buf.AvailableBuffer(), v.Int(), 10))
			closeTag(buf, name)
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return func(o *Options, buf *bytes.Buffer, name, attrs string, v reflect.Value) {
			open(buf, name, attrs)
			buf.Write(strconv.AppendUint(buf.AvailableBuffer(), v.Uint(), 10))
			closeTag(buf, name)
		}
	case reflect.Float32, reflect.Float64:
		bits := t.Bits()
		return func(o *Options, buf *bytes.Buffer, name, attrs string, v reflect.Value) {
			open(buf, name, attrs)
			buf.WriteString(FormatFloat(v.Float(), bits))
			closeTag(buf, name)
		}
	}
	// No text form (a channel, a function): nothing, as Scalar says.
	return func(*Options, *bytes.Buffer, string, string, reflect.Value) {}
}

// member is one body member of a struct, as membersFor writes it.
type member struct {
	index       int
	name, attrs string
	enc         elemEncoder
}

// membersFor returns the encoder of struct type t's body members.
func membersFor(t reflect.Type) membersEncoder {
	if e, ok := membersEncoders.Load(t); ok {
		return e.(membersEncoder)
	}
	// A stand-in while it is built, as in encoderFor.
	var (
		built sync.WaitGroup
		e     membersEncoder
	)
	built.Add(1)
	indirect := membersEncoder(func(o *Options, buf *bytes.Buffer, v reflect.Value) {
		built.Wait()
		e(o, buf, v)
	})
	if prev, loaded := membersEncoders.LoadOrStore(t, indirect); loaded {
		return prev.(membersEncoder)
	}
	shape := awsapi.ShapeOf(t)
	var ms []member
	for i := range shape.Fields {
		f := &shape.Fields[i]
		if f.Location != "" || f.XMLAttribute {
			continue
		}
		ft := t.Field(f.Index).Type
		if ft.Kind() == reflect.Interface {
			// WriteField names it by the dynamic value's kind.
			fld := f
			ms = append(ms, member{index: f.Index, enc: func(o *Options, buf *bytes.Buffer, _, _ string, v reflect.Value) {
				o.writeField(buf, fld, v)
			}})
			continue
		}
		name := f.WireName()
		if f.Flattened && ft.Kind() == reflect.Slice && ft != bytesType {
			name = FlatName(f)
		}
		ms = append(ms, member{index: f.Index, name: name, attrs: NamespaceAttr(f.XMLPrefix, f.XMLNamespace), enc: encoderFor(ft, factsOf(f))})
	}
	e = func(o *Options, buf *bytes.Buffer, v reflect.Value) {
		for i := range ms {
			m := &ms[i]
			m.enc(o, buf, m.name, m.attrs, v.Field(m.index))
		}
	}
	built.Done()
	membersEncoders.Store(t, e)
	return e
}
