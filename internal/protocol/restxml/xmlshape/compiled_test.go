package xmlshape

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wharf-dev/wharf/internal/awsapi"
	"github.com/wharf-dev/wharf/internal/awsapi/cloudwatch"
	"github.com/wharf-dev/wharf/internal/awsapi/iam"
	"github.com/wharf-dev/wharf/internal/awsapi/s3"
	"github.com/wharf-dev/wharf/internal/awsapi/sns"
	"github.com/wharf-dev/wharf/internal/awsapi/sqs"
	"github.com/wharf-dev/wharf/internal/awsapi/sts"
)

// TestEncodersMatchReflection writes random outputs (and inputs) of every
// operation of the services written as XML, with the encoders built per
// type and with the reflective writer, and wants the same bytes.
func TestEncodersMatchReflection(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	compiled := &Options{TimeLayout: "2006-01-02T15:04:05.999Z"}
	reflective := &Options{TimeLayout: compiled.TimeLayout, reflective: true}
	n := 0
	for _, svc := range []*awsapi.Service{sqs.Service, sns.Service, sts.Service, iam.Service, cloudwatch.Service, s3.Service} {
		for name, op := range svc.Operations() {
			news := []func() any{op.NewInput}
			if op.NewOutput != nil {
				news = append(news, op.NewOutput)
			}
			for _, newValue := range news {
				for i := range 8 {
					v := newValue()
					fill(r, reflect.ValueOf(v).Elem(), 0, i == 0)
					var got, want bytes.Buffer
					compiled.WriteMembers(&got, reflect.ValueOf(v))
					reflective.WriteMembers(&want, reflect.ValueOf(v))
					if got.String() != want.String() {
						t.Fatalf("%s %s %T:\nbuilt per type %s\nreflective     %s", svc.ID, name, v, got.String(), want.String())
					}
					got.Reset()
					want.Reset()
					f := &awsapi.Field{Flattened: i%2 == 0, MemberName: "m", KeyName: "k", ValueName: "v", TimestampFormat: []string{"", "rfc822", "unixTimestamp"}[i%3]}
					compiled.WriteElement(&got, "E", ` xmlns="x"`, f, reflect.ValueOf(v))
					reflective.WriteElement(&want, "E", ` xmlns="x"`, f, reflect.ValueOf(v))
					if got.String() != want.String() {
						t.Fatalf("%s %s %T as an element:\nbuilt per type %s\nreflective     %s", svc.ID, name, v, got.String(), want.String())
					}
					n++
				}
			}
		}
	}
	// Values no model has, which WriteElement and WriteFields are given.
	for _, v := range []any{[]any{"a", 1, nil, []string{"x"}}, map[string]any{"b": 2.5, "a": true}, math.NaN(), math.Inf(-1), float32(1.5),
		uint8(7), []byte(nil), []byte{0, 1}, map[string][]int{"z": {1}, "a": nil}, time.Unix(1e9, 5e6), &[]*string{nil}, struct{ X chan int }{}} {
		for _, flat := range []bool{false, true} {
			f := &awsapi.Field{Flattened: flat, MemberName: "member", KeyName: "key", ValueName: "value"}
			var got, want bytes.Buffer
			compiled.WriteElement(&got, "E", "", f, reflect.ValueOf(v))
			reflective.WriteElement(&want, "E", "", f, reflect.ValueOf(v))
			if got.String() != want.String() {
				t.Fatalf("%#v:\nbuilt per type %s\nreflective     %s", v, got.String(), want.String())
			}
		}
	}
	t.Logf("%d values compared", n)
}

// fill sets v to random values: nil or empty collections and pointers
// sometimes, strings that need escaping sometimes. all sets every member.
func fill(r *rand.Rand, v reflect.Value, depth int, all bool) {
	if depth > 6 {
		return
	}
	t := v.Type()
	switch {
	case t == reflect.TypeFor[time.Time]():
		v.Set(reflect.ValueOf(time.Unix(r.Int64N(4e9), r.Int64N(1e9)*int64(r.IntN(2)))))
		return
	case t.Kind() == reflect.Interface:
		if t.NumMethod() == 0 && r.IntN(2) == 0 { // not an io.Reader body
			v.Set(reflect.ValueOf("any<&>"))
		}
		return
	}
	switch t.Kind() {
	case reflect.Pointer:
		if !all && r.IntN(3) == 0 {
			return
		}
		p := reflect.New(t.Elem())
		fill(r, p.Elem(), depth+1, all)
		v.Set(p)
	case reflect.Struct:
		for i := 0; i < t.NumField(); i++ {
			if t.Field(i).IsExported() && t.Field(i).Name != "_" {
				fill(r, v.Field(i), depth+1, all)
			}
		}
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			if all || r.IntN(3) > 0 {
				b := make([]byte, r.IntN(5))
				for i := range b {
					b[i] = byte(r.IntN(256))
				}
				v.SetBytes(b)
			}
			return
		}
		if !all && r.IntN(3) == 0 {
			return
		}
		s := reflect.MakeSlice(t, r.IntN(3), r.IntN(3)+3)
		for i := 0; i < s.Len(); i++ {
			fill(r, s.Index(i), depth+1, all)
		}
		v.Set(s)
	case reflect.Map:
		if !all && r.IntN(3) == 0 {
			return
		}
		m := reflect.MakeMap(t)
		for range r.IntN(4) {
			k := reflect.New(t.Key()).Elem()
			fill(r, k, depth+1, true)
			e := reflect.New(t.Elem()).Elem()
			fill(r, e, depth+1, all)
			m.SetMapIndex(k, e)
		}
		v.Set(m)
	case reflect.String:
		v.SetString([]string{"", "plain", "a&b<c>", "é\x01", "\"q\" 'a'"}[r.IntN(5)])
	case reflect.Bool:
		v.SetBool(r.IntN(2) == 0)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(r.Int64N(2000) - 1000)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(r.Uint64N(1000))
	case reflect.Float32, reflect.Float64:
		v.SetFloat([]float64{0, 1.5, -2.25e10, math.NaN(), math.Inf(1), 1e-7}[r.IntN(6)])
	}
}

// BenchmarkWriteReceiveMessage writes a ReceiveMessage result of ten
// messages, each with two attributes and a message attribute.
func BenchmarkWriteReceiveMessage(b *testing.B) {
	s := func(v string) *string { return &v }
	out := &sqs.ReceiveMessageResult{}
	for range 10 {
		out.Messages = append(out.Messages, sqs.Message{MessageId: s("0d4b8c4e-8d2a-4c55-9d1b-0d2f3c1f2a7b"), ReceiptHandle: s("cXVldWUtaWQ6MTg3ZjAwMDAwMDAwMDAwMDowMDExMjIzMzQ0NTU2Njc3ODg5OWFhYmI"),
			MD5OfBody: s("5d41402abc4b2a76b9719d911017c592"), Body: s("hello from the benchmark"),
			Attributes:        map[string]string{"SentTimestamp": "1765000000000", "ApproximateReceiveCount": "1"},
			MessageAttributes: map[string]sqs.MessageAttributeValue{"color": {DataType: s("String"), StringValue: s("red")}}})
	}
	for _, reflective := range []bool{false, true} {
		name := "built-per-type"
		if reflective {
			name = "reflective"
		}
		b.Run(name, func(b *testing.B) {
			o := &Options{reflective: reflective}
			var buf bytes.Buffer
			b.ReportAllocs()
			for b.Loop() {
				buf.Reset()
				o.WriteMembers(&buf, reflect.ValueOf(out))
			}
		})
	}
}

// TestFirstUseOfATypeFromManyRequestsAtOnce: requests that write a type no
// request has written yet, all at once, each get its whole encoder. One
// builds it while the others wait, rather than calling the half-built one (a
// nil function: the first ReceiveMessage answers after a start, writing
// together, panicked into InternalFailure). Each round makes a new type, so
// each round is a first use.
func TestFirstUseOfATypeFromManyRequestsAtOnce(t *testing.T) {
	str := reflect.TypeFor[*string]()
	for round := range 200 {
		inner := reflect.StructOf([]reflect.StructField{
			{Name: "Body", Type: str, Tag: `aws:"Body"`},
			{Name: fmt.Sprintf("Round%d", round), Type: str, Tag: reflect.StructTag(fmt.Sprintf(`aws:"Round%d"`, round))},
		})
		outer := reflect.StructOf([]reflect.StructField{
			{Name: "Id", Type: str, Tag: `aws:"Id"`},
			{Name: "Messages", Type: reflect.SliceOf(inner), Tag: `aws:"Messages"`},
		})
		v := reflect.New(outer).Elem()
		body := "b"
		v.Field(0).Set(reflect.ValueOf(&body))
		msgs := reflect.MakeSlice(reflect.SliceOf(inner), 1, 1)
		msgs.Index(0).Field(0).Set(reflect.ValueOf(&body))
		v.Field(1).Set(msgs)

		const writers = 8
		var start, done sync.WaitGroup
		start.Add(1)
		out := make([]string, writers)
		panics := make([]any, writers)
		for i := range writers {
			done.Add(1)
			go func() {
				defer done.Done()
				defer func() { panics[i] = recover() }()
				start.Wait()
				var buf bytes.Buffer
				(&Options{}).WriteMembers(&buf, v)
				out[i] = buf.String()
			}()
		}
		start.Done()
		done.Wait()
		for i := range writers {
			if panics[i] != nil {
				t.Fatalf("round %d, writer %d panicked: %v", round, i, panics[i])
			}
			if out[i] != out[0] || !strings.Contains(out[i], "<Body>b</Body>") {
				t.Fatalf("round %d: writer %d wrote %q, writer 0 %q", round, i, out[i], out[0])
			}
		}
	}
}
