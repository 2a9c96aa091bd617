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
		for name, op := range svc.Operations {
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

// TestHostileParameterNameIsIndexedToMaxPrefixes indexes a name of a million
// dots (indexing every prefix would hash 10^12 bytes) only to maxPrefixes.
func TestHostileParameterNameIsIndexedToMaxPrefixes(t *testing.T) {
	name := strings.Repeat("a.", 1_000_000) + "Name"
	p := newParams(map[string][]string{name: {"x"}, "QueueName": {"q"}})
	if len(p.prefixes) != maxPrefixes+2 || !p.has([]byte("a")) || !p.has([]byte("QueueName")) || p.values[name] != "x" {
		t.Fatalf("%d prefixes", len(p.prefixes))
	}
}
