package integration

import (
	"bytes"
	"fmt"
	"net/url"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/wharf-dev/wharf/internal/awsapi"
	"github.com/wharf-dev/wharf/internal/awsapi/applicationautoscaling"
	"github.com/wharf-dev/wharf/internal/awsapi/cloudwatch"
	"github.com/wharf-dev/wharf/internal/awsapi/dynamodb"
	"github.com/wharf-dev/wharf/internal/awsapi/ecs"
	"github.com/wharf-dev/wharf/internal/awsapi/events"
	"github.com/wharf-dev/wharf/internal/awsapi/iam"
	"github.com/wharf-dev/wharf/internal/awsapi/logs"
	"github.com/wharf-dev/wharf/internal/awsapi/s3"
	"github.com/wharf-dev/wharf/internal/awsapi/scheduler"
	"github.com/wharf-dev/wharf/internal/awsapi/sns"
	"github.com/wharf-dev/wharf/internal/awsapi/sqs"
	"github.com/wharf-dev/wharf/internal/awsapi/sts"
)

// TestEveryOperationSurvivesHostileBodies sends every operation of every
// JSON and query service bodies no SDK would: empty, truncated, each member
// wrong-typed as a deeply nested array, and each member as invalid UTF-8.
// Whatever the operation, the answer is an AWS error or a success, never a
// 5xx (501 NotImplemented aside, which is wharf saying so).
func TestEveryOperationSurvivesHostileBodies(t *testing.T) {
	ep := start(t, "--runtime", "process")
	deep := strings.Repeat("[", 900) + strings.Repeat("]", 900)
	var failures []string
	sent := 0
	check := func(what string, r hostileRequest) {
		sent++
		status, code, body := r.send(t, ep)
		if status >= 500 && !(status == 501 && code == "NotImplemented") {
			if len(body) > 200 {
				body = body[:200]
			}
			failures = append(failures, what+": "+body)
		}
	}
	members := func(op *awsapi.Operation) []string {
		var names []string
		for _, f := range awsapi.ShapeOf(reflect.TypeOf(op.NewInput()).Elem()).Fields {
			if f.Location == "" {
				names = append(names, f.Name)
			}
		}
		return names
	}
	sorted := func(svc *awsapi.Service) []*awsapi.Operation {
		var ops []*awsapi.Operation
		for _, op := range svc.Operations() {
			ops = append(ops, op)
		}
		sort.Slice(ops, func(i, j int) bool { return ops[i].Name < ops[j].Name })
		return ops
	}
	for _, svc := range []*awsapi.Service{dynamodb.Service, sqs.Service, ecs.Service, events.Service, logs.Service, applicationautoscaling.Service, cloudwatch.Service} {
		version := svc.JSONVersion
		if version == "" {
			version = "1.0"
		}
		for _, op := range sorted(svc) {
			send := func(body string) hostileRequest {
				return hostileRequest{svc.SigningName, "POST", "/", map[string]string{
					"X-Amz-Target": svc.TargetPrefix + "." + op.Name, "Content-Type": "application/x-amz-json-" + version}, []byte(body)}
			}
			name := svc.ID + " " + op.Name
			check(name+" {}", send(`{}`))
			check(name+" truncated", send(`{"`))
			for _, m := range members(op) {
				check(name+" "+m+" deep", send(`{"`+m+`":`+deep+`}`))
				check(name+" "+m+" invalid UTF-8", send(`{"`+m+"\":\"\xff\"}"))
			}
			// Well-typed but extreme values, with every required string
			// member present so that they reach the service itself.
			base, ok := requiredStrings(op)
			if !ok {
				continue
			}
			for _, f := range awsapi.ShapeOf(reflect.TypeOf(op.NewInput()).Elem()).Fields {
				for i, v := range extremes(f.Type) {
					check(fmt.Sprintf("%s %s extreme %d", name, f.Name, i), send(`{`+base+`"`+f.Name+`":`+v+`}`))
				}
			}
		}
	}
	// rpcv2Cbor (CloudWatch): an empty map, each member as arrays nested 60
	// deep (under the decoder's 64) and as a text string of invalid UTF-8.
	nested := append(bytes.Repeat([]byte{0x81}, 60), 0x01)
	for _, op := range sorted(cloudwatch.Service) {
		send := func(body []byte) hostileRequest {
			return hostileRequest{"monitoring", "POST", "/service/GraniteServiceVersion20100801/operation/" + op.Name,
				map[string]string{"Smithy-Protocol": "rpc-v2-cbor", "Content-Type": "application/cbor", "Accept": "application/cbor"}, body}
		}
		name := "cloudwatch cbor " + op.Name
		check(name+" {}", send([]byte{0xa0}))
		for _, m := range members(op) {
			key := append([]byte{0xa1, 0x78, byte(len(m))}, m...)
			check(name+" "+m+" deep", send(append(append([]byte{}, key...), nested...)))
			check(name+" "+m+" invalid UTF-8", send(append(append([]byte{}, key...), 0x61, 0xff)))
		}
	}
	// REST protocols (S3's rest-xml, Scheduler's rest-json): every route, its
	// labels filled in, with bodies truncated, nested, not UTF-8, or empty.
	if status, _, body := (hostileRequest{"s3", "PUT", "/sweep", nil, nil}).send(t, ep); status != 200 {
		t.Fatalf("create bucket: %d %s", status, body)
	}
	labels := strings.NewReplacer("{Bucket}", "sweep", "{Key+}", "k/1", "{Name}", "s", "{ResourceArn}", "arn:aws:scheduler:us-east-1:000000000000:schedule/default/s")
	for _, rest := range []struct {
		svc    *awsapi.Service
		scope  string
		bodies []string
	}{
		{s3.Service, "s3", []string{"", "<a><b>", strings.Repeat("<a>", 100) + strings.Repeat("</a>", 100), "<a>\xff</a>"}},
		{scheduler.Service, "scheduler", []string{"", `{"`, strings.Repeat("[", 1001) + strings.Repeat("]", 1001), "{\"Description\":\"\xff\"}"}},
	} {
		for _, op := range sorted(rest.svc) {
			uri := labels.Replace(op.RequestURI)
			if strings.Contains(uri, "{") {
				t.Fatalf("%s %s: label left in %s", rest.svc.ID, op.Name, uri)
			}
			for i, body := range rest.bodies {
				check(fmt.Sprintf("%s %s body %d", rest.svc.ID, op.Name, i), hostileRequest{rest.scope, op.Method, uri, nil, []byte(body)})
			}
		}
	}
	for _, svc := range []*awsapi.Service{iam.Service, sns.Service, sts.Service} {
		for _, op := range sorted(svc) {
			send := func(params string) hostileRequest {
				return hostileRequest{svc.SigningName, "POST", "/", map[string]string{"Content-Type": "application/x-www-form-urlencoded"},
					[]byte("Action=" + op.Name + "&Version=" + svc.APIVersion + params)}
			}
			name := svc.ID + " " + op.Name
			check(name+" no parameters", send(""))
			for _, m := range members(op) {
				check(name+" "+m+" invalid UTF-8", send("&"+url.QueryEscape(m)+"=%FF"))
				check(name+" "+m+" deep", send("&"+strings.Repeat(m+".member.1.", 40)+"x=1"))
			}
			base, ok := requiredStrings(op)
			if !ok {
				continue
			}
			form := strings.NewReplacer(`":"x",`, "=x&", `"`, "").Replace(base)
			for _, f := range awsapi.ShapeOf(reflect.TypeOf(op.NewInput()).Elem()).Fields {
				for i, v := range extremes(f.Type) {
					if strings.HasPrefix(v, "[") {
						continue // lists are Name.member.N in query
					}
					check(fmt.Sprintf("%s %s extreme %d", name, f.Name, i), send("&"+form+f.WireName()+"="+url.QueryEscape(strings.Trim(v, `"`))))
				}
			}
		}
	}
	t.Logf("%d hostile requests", sent)
	if sent < 1000 {
		t.Fatalf("only %d requests: the services' operations were not all swept", sent)
	}
	if len(failures) > 0 {
		t.Fatalf("%d hostile requests got a 5xx:\n%s", len(failures), strings.Join(failures, "\n"))
	}
}

// requiredStrings renders the op's required members as "x" ("Name":"x",),
// or reports false when one of them is not a string.
func requiredStrings(op *awsapi.Operation) (string, bool) {
	var b strings.Builder
	for _, f := range awsapi.ShapeOf(reflect.TypeOf(op.NewInput()).Elem()).Fields {
		if !f.Required {
			continue
		}
		if f.Type != reflect.TypeFor[*string]() || f.Location != "" {
			return "", false
		}
		b.WriteString(`"` + f.Name + `":"x",`)
	}
	return b.String(), true
}

// extremes are JSON values of type t at the edges AWS's models allow a client
// to send: huge and negative numbers, long strings, long lists.
func extremes(t reflect.Type) []string {
	long := `"` + strings.Repeat("a", 64<<10) + `"`
	switch t {
	case reflect.TypeFor[*string]():
		return []string{long, `""`}
	case reflect.TypeFor[*int32](), reflect.TypeFor[*int64]():
		return []string{"-1", "0", "2147483647", "-2147483648"}
	case reflect.TypeFor[[]string]():
		return []string{"[" + strings.TrimSuffix(strings.Repeat(`"a",`, 5000), ",") + "]", "[]", "[" + long + "]"}
	case reflect.TypeFor[*float64]():
		return []string{"1e308", "-1e308", `"NaN"`, `"Infinity"`}
	}
	return nil
}
