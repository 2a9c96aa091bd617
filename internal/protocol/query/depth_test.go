package query

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/wharf-dev/wharf/internal/awsapi"
	"github.com/wharf-dev/wharf/internal/awsapi/cloudwatch"
	"github.com/wharf-dev/wharf/internal/awsapi/iam"
	"github.com/wharf-dev/wharf/internal/awsapi/sns"
	"github.com/wharf-dev/wharf/internal/awsapi/sqs"
	"github.com/wharf-dev/wharf/internal/awsapi/sts"
)

// dots is how many dots the longest parameter name of a value of type t has:
// a member adds one, a list item two (member.N), a map entry three
// (entry.N.value). A recursive shape would never end; the query services have
// none, and depth guards that.
func dots(t reflect.Type, depth int) int {
	if depth > 100 {
		return depth
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == reflect.TypeFor[time.Time]() || t == reflect.TypeFor[[]byte]():
		return 0
	case t.Kind() == reflect.Slice:
		return 2 + dots(t.Elem(), depth+2)
	case t.Kind() == reflect.Map:
		return 3 + dots(t.Elem(), depth+3)
	case t.Kind() == reflect.Struct:
		most := 0
		for _, f := range awsapi.ShapeOf(t).Fields {
			most = max(most, 1+dots(t.Field(f.Index).Type, depth+1))
		}
		return most
	}
	return 0
}

// TestEveryQueryParameterNameIsIndexed checks that maxPrefixes, which keeps a
// hostile parameter name from costing quadratic time, is deeper than any
// parameter name of any operation of the services that speak query.
func TestEveryQueryParameterNameIsIndexed(t *testing.T) {
	deepest, where := 0, ""
	for _, svc := range []*awsapi.Service{iam.Service, sns.Service, sts.Service, cloudwatch.Service, sqs.Service} {
		for name, op := range svc.Operations() {
			if d := dots(reflect.TypeOf(op.NewInput()), 0) - 1; d > deepest {
				deepest, where = d, svc.ID+" "+name
			}
		}
	}
	if deepest == 0 || deepest >= maxPrefixes {
		t.Fatalf("the deepest parameter name (%s) has %d dots; maxPrefixes is %d", where, deepest, maxPrefixes)
	}
	t.Logf("deepest: %s, %d dots", where, deepest)
}

// TestHostileParameterNameIsIndexedToMaxPrefixes reads a name of a million
// dots: has looks under a prefix of fewer than maxPrefixes dots only, as
// when prefixes were indexed up to that many.
func TestHostileParameterNameIsIndexedToMaxPrefixes(t *testing.T) {
	name := strings.Repeat("a.", 1_000_000) + "Name"
	p := newParams(map[string][]string{name: {"x"}, "QueueName": {"q"}})
	if !p.has([]byte("a")) || !p.has([]byte("QueueName")) || !p.has([]byte(name)) {
		t.Fatal("a name or its prefix is not there")
	}
	if v, _ := p.value([]byte(name)); v != "x" {
		t.Fatalf("value %q", v)
	}
	if deep := strings.Repeat("a.", maxPrefixes-1) + "a"; !p.has([]byte(deep)) {
		t.Fatalf("prefix of %d dots not there", maxPrefixes-1)
	}
	if deeper := strings.Repeat("a.", maxPrefixes) + "a"; p.has([]byte(deeper)) {
		t.Fatalf("prefix of %d dots there", maxPrefixes)
	}
}
