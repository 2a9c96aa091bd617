package protocol

import (
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/wharf-dev/wharf/internal/apierr"
	"github.com/wharf-dev/wharf/internal/awsapi"
	sqsapi "github.com/wharf-dev/wharf/internal/awsapi/sqs"
)

type reqEntry struct {
	Id          *string `aws:"Id" required:"true"`
	MessageBody *string `aws:"MessageBody" required:"true"`
}

type reqInput struct {
	QueueName   *string              `aws:"QueueName" required:"true"`
	Token       *string              `aws:"Token" required:"true" idempotencyToken:"true"`
	Entries     []reqEntry           `aws:"Entries" locationName:"SendMessageBatchRequestEntry" flattened:"true" required:"true"`
	ByName      map[string]*reqEntry `aws:"ByName"`
	Optional    *string              `aws:"Optional"`
	Unflattened []reqEntry           `aws:"Unflattened"`
}

type noRequired struct {
	A *string               `aws:"A"`
	M map[string]noRequired `aws:"M"`
}

func svc(id string) *awsapi.Service { return &awsapi.Service{ID: id} }

func TestCheckRequired(t *testing.T) {
	full := func() *reqInput {
		return &reqInput{QueueName: awsapi.String("q"), Entries: []reqEntry{{Id: awsapi.String("1"), MessageBody: awsapi.String("b")}}}
	}
	for _, tc := range []struct {
		name string
		svc  *awsapi.Service
		in   func() *reqInput
		code string
		msg  string
	}{
		{"all present", svc("dynamodb"), full, "", ""},
		{"empty values are present", svc("dynamodb"), func() *reqInput {
			in := full()
			in.QueueName = awsapi.String("")
			in.Entries = []reqEntry{}
			return in
		}, "", ""},
		{"coral names one missing member in lower camel case", svc("dynamodb"), func() *reqInput { in := full(); in.QueueName = nil; return in },
			"ValidationException", "1 validation error detected: Value null at 'queueName' failed to satisfy constraint: Member must not be null"},
		{"coral lists every missing member, nested ones by item", svc("events"), func() *reqInput {
			return &reqInput{Entries: []reqEntry{{Id: awsapi.String("1")}}, Unflattened: []reqEntry{{MessageBody: awsapi.String("b")}}}
		}, "ValidationException", "3 validation errors detected: Value null at 'queueName' failed to satisfy constraint: Member must not be null; " +
			"Value null at 'entries.1.member.messageBody' failed to satisfy constraint: Member must not be null; " +
			"Value null at 'unflattened.1.member.id' failed to satisfy constraint: Member must not be null"},
		{"map values are walked", svc("ecs"), func() *reqInput {
			in := full()
			in.ByName = map[string]*reqEntry{"k": {Id: awsapi.String("x")}}
			return in
		},
			"ValidationException", "1 validation error detected: Value null at 'byName.k.messageBody' failed to satisfy constraint: Member must not be null"},
		{"logs calls it InvalidParameterException", svc("logs"), func() *reqInput { in := full(); in.QueueName = nil; return in },
			"InvalidParameterException", "1 validation error detected: Value null at 'queueName' failed to satisfy constraint: Member must not be null"},
		{"sqs names the first missing parameter", svc("sqs"), func() *reqInput { in := full(); in.QueueName = nil; in.Entries = nil; return in },
			"MissingParameter", "The request must contain the parameter QueueName."},
		{"sqs names nested parameters as query clients send them", svc("sqs"), func() *reqInput {
			in := full()
			in.Entries = append(in.Entries, reqEntry{Id: awsapi.String("2")})
			return in
		}, "MissingParameter", "The request must contain the parameter SendMessageBatchRequestEntry.2.MessageBody."},
		{"sqs wrapped lists use member", svc("cloudwatch"), func() *reqInput { in := full(); in.Unflattened = []reqEntry{{}}; return in },
			"MissingParameter", "The request must contain the parameter Unflattened.1.member.Id."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckRequired(tc.svc, tc.in())
			if tc.code == "" {
				if err != nil {
					t.Fatalf("got %v, want no error", err)
				}
				return
			}
			e := apierr.As(err)
			if e == nil || e.Code != tc.code || e.Message != tc.msg || e.Status != 400 {
				t.Fatalf("got %#v\nwant %s %q", err, tc.code, tc.msg)
			}
		})
	}
}

func TestCheckRequiredSkipsShapesWithoutRequiredMembers(t *testing.T) {
	if hasRequired(reflectTypeOf[noRequired]()) {
		t.Fatal("a recursive shape without required members reported one")
	}
	if !hasRequired(reflectTypeOf[map[string][]*reqInput]()) {
		t.Fatal("required members inside collections were not found")
	}
	if err := CheckRequired(svc("dynamodb"), &noRequired{M: map[string]noRequired{"a": {}}}); err != nil {
		t.Fatal(err)
	}
	if err := CheckRequired(nil, (*reqInput)(nil)); err != nil {
		t.Fatal(err)
	}
	if err := CheckRequired(nil, &reqInput{}); err == nil || !strings.Contains(err.Error(), "'queueName'") {
		t.Fatalf("nil service: %v", err)
	}
}

func reflectTypeOf[T any]() reflect.Type { return reflect.TypeFor[T]() }

// BenchmarkCheckRequiredBatch checks a complete SendMessageBatch of ten
// entries, as every valid batch request is checked.
func BenchmarkCheckRequiredBatch(b *testing.B) {
	svc := &awsapi.Service{ID: "sqs"}
	in := &sqsapi.SendMessageBatchInput{QueueUrl: awsapi.String("http://localhost/000000000000/q")}
	for i := range 10 {
		in.Entries = append(in.Entries, sqsapi.SendMessageBatchRequestEntry{Id: awsapi.String(strconv.Itoa(i)), MessageBody: awsapi.String("m"),
			MessageAttributes: map[string]sqsapi.MessageAttributeValue{"a": {DataType: awsapi.String("String"), StringValue: awsapi.String("v")}}})
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := CheckRequired(svc, in); err != nil {
			b.Fatal(err)
		}
	}
}
