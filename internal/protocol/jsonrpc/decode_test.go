package jsonrpc

import (
	"bytes"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/wharf-dev/wharf/internal/awsapi"
	"github.com/wharf-dev/wharf/internal/awsapi/dynamodb"
	"github.com/wharf-dev/wharf/internal/awsapi/ecs"
	"github.com/wharf-dev/wharf/internal/awsapi/events"
	"github.com/wharf-dev/wharf/internal/awsapi/sqs"
)

type directInner struct {
	Name  *string     `aws:"Name"`
	Inner *directLeaf `aws:"Inner"`
}

type directLeaf struct {
	N *int64 `aws:"N"`
}

// directInput has a member of every kind the decoders handle.
type directInput struct {
	Str     *string                `aws:"Str"`
	I32     *int32                 `aws:"I32"`
	U8      *uint8                 `aws:"U8"`
	F64     *float64               `aws:"F64"`
	F32     *float32               `aws:"F32"`
	Bool    *bool                  `aws:"Bool"`
	Blob    []byte                 `aws:"Blob"`
	Blobs   [][]byte               `aws:"Blobs"`
	Time    *time.Time             `aws:"Time" timestampFormat:"iso8601"`
	Times   []time.Time            `aws:"Times"`
	List    []string               `aws:"List"`
	Structs []directInner          `aws:"Structs"`
	Map     map[string]directInner `aws:"Map"`
	Nested  *directInner           `aws:"Nested"`
	Value   directInner            `aws:"Value"`
	Doc     any                    `aws:"Doc"`
	MapList map[string][]int64     `aws:"MapList"`
	Renamed *string                `aws:"Renamed" jsonName:"renamed"`
}

var directSeeds = []string{
	`{"TableName":"bench","Item":{"pk":{"S":"id-1"},"n":{"N":"42.5"},"nest":{"M":{"list":{"L":[{"NULL":true},{"SS":["a","b"]},{"BS":["AA==",""]}]}}}}}`,
	`{"Entries":[{"Detail":"{\"w\":0,\"order\":\"o-1\"}","DetailType":"Bench","Source":"bench","Time":1700000000.5,"Resources":[]}]}`,
	`{"QueueUrl":"u","Entries":[{"Id":"0","MessageBody":"a\"b"},{"Id":"1","MessageBody":null,"MessageGroupId":"g"},{"Id":"1","QueueUrl":"x"}],"QueueUrl":"v"}`,
	`{"QueueUrl":"http://127.0.0.1:4566/000000000000/jobs","MessageBody":"h\u00e9\ud83d\ude00\n","DelaySeconds":5,"MessageAttributes":{"bin":{"DataType":"Binary","BinaryValue":"AAEC/w=="}}}`,
	`{"family":"web","containerDefinitions":[{"name":"app","image":"scratch","memory":128,"portMappings":[{"containerPort":80}],"environment":[{"name":"A","value":"1"}]}]}`,
	`{"Str":"s","I32":-5,"U8":255,"F64":"NaN","F32":1.5e3,"Bool":false,"Blob":"aGk=","Blobs":["",null],"Time":"2024-01-02T03:04:05Z","Times":[1,2.5],"List":[],"Structs":[{"Name":"a","Inner":{"N":1}},{}],"Map":{"k":{"Name":null}},"Nested":null,"Value":{"Name":"x"},"Doc":{"a":[1,"b",null,{"c":1e2}]},"MapList":{"x":[1,2]},"renamed":"r","Renamed":"R","unknown":{"x":[1,{"y":"\u0041"}]}}`,
	`{"Str":"a","Str":"b","Value":{"Name":"x"},"Value":{"Inner":{"N":2}},"Value":null,"Map":{"k":{},"k":{"Name":"again"}}}`,
	`{"Item":{"a":{"S":"x","S":"y","N":"1"},"b":{"L":[{"M":{"c":{"BS":["AA==",""]}}},{"NULL":true},{}]},"c":{"SS":[]},"d":{"L":[]},"e":{"M":{}},"f":{"BOOL":false,"x":[1,{"y":null}]}},"Expected":{"a":{"Value":{"S":"x"},"AttributeValueList":[{"N":"1"},{"B":"AA=="}]}}}`,
	`{"Item":{"a":{"SS":["a" "b"]}}}`, `{"Item":{"a":{"L":[{"S":"x"},]}}}`, `{"Item":{"a":{"BS":[null]}}}`, `{"Item":{"a":{"S":null}}}`, `{"Item":{"a":null}}`,
	`{"Item":{"a":{"NS":["1",]}}}`, `{"Item":{"a":{"L":[{"S":"x"}{"S":"y"}]}}}`, `{"Item":{"a":{"M":{"b":{"S":"x"}},"M":{"c":{"N":"2"}}}}}`,
	`{"I32":2147483648}`, `{"U8":-1}`, `{"F32":1e39}`, `{"Str":1}`, `{"Blob":"!"}`, `{"Time":"yesterday"}`, `{"Time":null}`,
	`{"Str":"\ud800"}`, `{"Str":"\udc00\ud800"}`, `{"Str":"a"} x`, `{"Str":"a",}`, `{"I32":01}`, `{"I32":1.}`, `{"F64":-}`, ` {"Str" : "a" } `,
	`{"x":` + strings.Repeat("[", 999) + strings.Repeat("]", 999) + `}`, `{"x":` + strings.Repeat("[", 1000) + strings.Repeat("]", 1000) + `}`,
	`{"Doc":` + strings.Repeat("[", 999) + strings.Repeat("]", 999) + `}`, `{}`, ``, `null`, `[]`, `{"Str":"\/\b\f\t\r\n\"\\"}`, "{\"Str\":\"\x01\"}", `{"Bool":tru}`,
}

var directTargets = []func() any{
	func() any { return new(directInput) },
	func() any { return new(dynamodb.PutItemInput) },
	func() any { return new(events.PutEventsInput) },
	func() any { return new(sqs.SendMessageInput) },
	func() any { return new(sqs.SendMessageBatchInput) },
	func() any { return new(ecs.RegisterTaskDefinitionInput) },
}

// checkDirect decodes body into a fresh value of each target in one pass;
// when that succeeds, the tree path must succeed too, with the same value.
func checkDirect(t *testing.T, body []byte, opt Options) {
	for _, newTarget := range directTargets {
		direct, tree := newTarget(), newTarget()
		if !decodeDirect(body, reflect.ValueOf(direct).Elem(), opt) {
			continue
		}
		if err := unmarshalTree(body, tree, opt); err != nil {
			t.Fatalf("%q into %T: decoded in one pass, but the tree path says %v", body, tree, err)
		}
		if reflect.DeepEqual(direct, tree) {
			continue
		}
		// NaN is not equal to itself: compare the encodings then.
		a, errA := Marshal(direct, Options{})
		b, errB := Marshal(tree, Options{})
		if errA != nil || errB != nil || !bytes.Equal(a, b) || !bytes.Contains(body, []byte("NaN")) {
			t.Fatalf("%q into %T:\none pass %s\ntree     %s", body, tree, a, b)
		}
	}
}

func FuzzDecodeDirectMatchesTree(f *testing.F) {
	for _, s := range directSeeds {
		f.Add([]byte(s), false)
	}
	f.Fuzz(func(t *testing.T, body []byte, jsonName bool) {
		checkDirect(t, body, Options{JSONName: jsonName})
	})
}

func TestDecodeDirectTakesTheCommonCase(t *testing.T) {
	for _, s := range directSeeds {
		checkDirect(t, []byte(s), Options{})
		checkDirect(t, []byte(s), Options{JSONName: true})
	}
	// The one pass must actually take well-formed bodies, or the fuzz test
	// above checks nothing.
	for _, s := range directSeeds[:6] {
		ok := false
		for _, newTarget := range directTargets {
			ok = ok || decodeDirect([]byte(s), reflect.ValueOf(newTarget()).Elem(), Options{})
		}
		if !ok {
			t.Errorf("%.60q: not decoded in one pass into any target", s)
		}
	}
	for _, s := range directSeeds[6:] {
		if decodeDirect([]byte(s), reflect.ValueOf(new(directInput)).Elem(), Options{}) && strings.Contains(s, `"x":`+strings.Repeat("[", 1000)) {
			t.Errorf("%.60q: decoded in one pass past MaxDepth", s)
		}
	}
}

// TestUnmarshalAfterFailedOnePassKeepsEarlierMembers: restJson sets members
// from the URI and headers before the body; a body the one pass gives up on
// must not lose them.
func TestUnmarshalAfterFailedOnePassKeepsEarlierMembers(t *testing.T) {
	s := "kept"
	in := &directInput{Renamed: &s}
	err := Unmarshal([]byte(`{"Str":"a","I32":"not a number"}`), in, Options{})
	if err == nil || in.Renamed == nil || *in.Renamed != "kept" {
		t.Fatalf("err %v, input %+v", err, in)
	}
}

// TestDecodeDirectListsOfEveryLength decodes lists of lengths on either side
// of each step the one pass grows a list by (4, 8, 16, ...), nested in lists
// of structs and in maps, with null and empty elements: the one pass must
// take them and agree with the tree path, and no two lists may share an
// array (an element decoded in place before a grow must not be written
// through by the next).
func TestDecodeDirectListsOfEveryLength(t *testing.T) {
	for _, n := range []int{1, 3, 4, 5, 8, 9, 16, 17, 33, 100} {
		var b strings.Builder
		b.WriteString(`{"family":"f","containerDefinitions":[`)
		for i := range n {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"name":"c%d","portMappings":[`, i)
			for j := range i % 11 {
				if j > 0 {
					b.WriteByte(',')
				}
				if j == 2 {
					b.WriteString(`null`)
					continue
				}
				fmt.Fprintf(&b, `{"containerPort":%d}`, 1000*i+j)
			}
			b.WriteString(`],"command":[`)
			for j := range n - i {
				if j > 0 {
					b.WriteByte(',')
				}
				fmt.Fprintf(&b, `"%d-%d"`, i, j)
			}
			b.WriteString(`]`)
			if i%3 == 0 {
				b.WriteString(`,"environment":null`)
			}
			b.WriteString(`}`)
		}
		b.WriteString(`]}`)
		body := []byte(b.String())
		checkDirect(t, body, Options{})
		in := new(ecs.RegisterTaskDefinitionInput)
		if !decodeDirect(body, reflect.ValueOf(in).Elem(), Options{}) {
			t.Fatalf("%d containers: not decoded in one pass", n)
		}
		if len(in.ContainerDefinitions) != n {
			t.Fatalf("%d containers decoded as %d", n, len(in.ContainerDefinitions))
		}
		// Write every element of every list, then read them back.
		for i := range in.ContainerDefinitions {
			c := &in.ContainerDefinitions[i]
			if len(c.Command) != n-i || len(c.PortMappings) != i%11 || c.Environment != nil {
				t.Fatalf("%d containers: container %d has %d commands, %d port mappings, environment %v",
					n, i, len(c.Command), len(c.PortMappings), c.Environment)
			}
			for j := range c.Command {
				c.Command[j] = fmt.Sprint(i, "/", j)
			}
			for j := range c.PortMappings {
				c.PortMappings[j].HostPort = awsapi.Int32(int32(i))
			}
		}
		for i, c := range in.ContainerDefinitions {
			for j, s := range c.Command {
				if s != fmt.Sprint(i, "/", j) {
					t.Fatalf("%d containers: command %d of %d is %q: written through another list", n, j, i, s)
				}
			}
			for j, pm := range c.PortMappings {
				if *pm.HostPort != int32(i) {
					t.Fatalf("%d containers: port mapping %d of %d has host port %d", n, j, i, *pm.HostPort)
				}
			}
		}
	}
	// Maps of lists: each value a list of its own.
	body := []byte(`{"MapList":{"a":[1,2,3,4,5],"b":[],"c":null,"d":[6,7,8,9,10,11,12,13,14]}}`)
	checkDirect(t, body, Options{})
	in := new(directInput)
	if !decodeDirect(body, reflect.ValueOf(in).Elem(), Options{}) {
		t.Fatal("map of lists: not decoded in one pass")
	}
	a, d := in.MapList["a"], in.MapList["d"]
	clear(a)
	if !reflect.DeepEqual(d, []int64{6, 7, 8, 9, 10, 11, 12, 13, 14}) || in.MapList["b"] == nil || in.MapList["c"] != nil {
		t.Fatalf("map of lists: %v", in.MapList)
	}
}

// TestUnmarshalLeavesTheTargetsListArray: a target's list set before the
// body (restJson sets members from the URI) may share its array with its
// caller; decoding the body's list in place must make one of its own, on
// success as on a failed one pass the tree path then takes.
func TestUnmarshalLeavesTheTargetsListArray(t *testing.T) {
	for _, body := range []string{`{"List":["a","b","c"]}`, `{"List":["a","b",1]}`} {
		shared := []string{"keep", "keep", "keep", "keep"}
		in := &directInput{List: shared[:0]}
		err := Unmarshal([]byte(body), in, Options{})
		if !reflect.DeepEqual(shared, []string{"keep", "keep", "keep", "keep"}) {
			t.Errorf("%s: the caller's array became %q (err %v)", body, shared, err)
		}
	}
}
