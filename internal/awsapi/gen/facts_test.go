package main

import (
	"context"
	"errors"
	"io"
	"reflect"
	"slices"
	"sort"
	"testing"
	"time"

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

// generated are the generated packages' descriptors and operation lists.
var generated = []struct {
	svc   *awsapi.Service
	names []string
}{
	{sts.Service, sts.OperationNames},
	{iam.Service, iam.OperationNames},
	{s3.Service, s3.OperationNames},
	{sqs.Service, sqs.OperationNames},
	{sns.Service, sns.OperationNames},
	{events.Service, events.OperationNames},
	{scheduler.Service, scheduler.OperationNames},
	{ecs.Service, ecs.OperationNames},
	{dynamodb.Service, dynamodb.OperationNames},
	{applicationautoscaling.Service, applicationautoscaling.OperationNames},
	{cloudwatch.Service, cloudwatch.OperationNames},
	{logs.Service, logs.OperationNames},
}

func field(t *testing.T, v any, name string) *awsapi.Field {
	t.Helper()
	f := awsapi.ShapeOf(reflect.TypeOf(v)).Field(name)
	if f == nil {
		t.Fatalf("%T has no member %s", v, name)
	}
	return f
}

func TestS3PutObjectBindsBucketToTheURIAndStreamsTheBody(t *testing.T) {
	in := &s3.PutObjectInput{}
	shape := awsapi.ShapeOf(reflect.TypeOf(in))
	if shape.Payload != "Body" {
		t.Errorf("payload = %q, want Body", shape.Payload)
	}
	b := field(t, in, "Bucket")
	if b.Location != "uri" || b.LocationName != "Bucket" || !b.Required {
		t.Errorf("Bucket: location %q locationName %q required %v, want uri, Bucket, true", b.Location, b.LocationName, b.Required)
	}
	body := field(t, in, "Body")
	if !body.Streaming || body.Type != reflect.TypeFor[io.Reader]() {
		t.Errorf("Body: streaming %v type %v, want a streaming io.Reader", body.Streaming, body.Type)
	}
	acl := field(t, in, "ACL")
	if acl.Location != "header" || acl.LocationName != "x-amz-acl" || acl.Type != reflect.TypeFor[*string]() {
		t.Errorf("ACL: %q %q %v, want header x-amz-acl *string", acl.Location, acl.LocationName, acl.Type)
	}
	meta := field(t, in, "Metadata")
	if meta.Location != "headers" || meta.LocationName != "x-amz-meta-" {
		t.Errorf("Metadata: %q %q, want headers x-amz-meta-", meta.Location, meta.LocationName)
	}
}

func TestS3XMLTraits(t *testing.T) {
	g := awsapi.ShapeOf(reflect.TypeFor[s3.Grantee]())
	if g.XMLNamespace != "http://www.w3.org/2001/XMLSchema-instance" || g.XMLPrefix != "xsi" {
		t.Errorf("Grantee namespace %q prefix %q", g.XMLNamespace, g.XMLPrefix)
	}
	typ := g.Field("Type")
	if !typ.XMLAttribute || typ.LocationName != "xsi:type" {
		t.Errorf("Grantee.Type: attribute %v locationName %q, want an xsi:type attribute", typ.XMLAttribute, typ.LocationName)
	}
	tags := field(t, &s3.Tagging{}, "TagSet")
	if tags.MemberName != "Tag" || tags.Flattened {
		t.Errorf("Tagging.TagSet: memberName %q flattened %v, want Tag, false", tags.MemberName, tags.Flattened)
	}
	sel := awsapi.ShapeOf(reflect.TypeFor[s3.SelectObjectContentInput]())
	if sel.XMLName != "SelectObjectContentRequest" || sel.XMLNamespace != "http://s3.amazonaws.com/doc/2006-03-01/" {
		t.Errorf("SelectObjectContent input element %q ns %q: the operation's locationName belongs to the shape", sel.XMLName, sel.XMLNamespace)
	}
	ts := field(t, &s3.GetObjectOutput{}, "LastModified")
	if ts.Type != reflect.TypeFor[*time.Time]() || ts.Location != "header" {
		t.Errorf("LastModified: type %v location %q, want a *time.Time header", ts.Type, ts.Location)
	}
	if op := s3.Service.Operations()["CreateBucket"]; op.Method != "PUT" || op.RequestURI != "/{Bucket}" {
		t.Errorf("CreateBucket: %s %s, want PUT /{Bucket}", op.Method, op.RequestURI)
	}
	if op := s3.Service.Operations()["DeleteObject"]; op.SuccessCode != 204 {
		t.Errorf("DeleteObject success code %d, want 204", op.SuccessCode)
	}
}

func TestSQSKeepsItsQueryProtocolTraits(t *testing.T) {
	msgs := field(t, &sqs.ReceiveMessageOutput{}, "Messages")
	if !msgs.Flattened || msgs.MemberName != "Message" {
		t.Errorf("ReceiveMessageResult.Messages: flattened %v memberName %q, want flattened Message", msgs.Flattened, msgs.MemberName)
	}
	attrs := field(t, &sqs.Message{}, "MessageAttributes")
	if attrs.LocationName != "MessageAttribute" || attrs.KeyName != "Name" || attrs.ValueName != "Value" || !attrs.Flattened {
		t.Errorf("Message.MessageAttributes: %+v", attrs)
	}
	// QueueAttributeMap's locationName is on the map shape, not the member.
	qa := field(t, &sqs.GetQueueAttributesOutput{}, "Attributes")
	if qa.LocationName != "Attribute" {
		t.Errorf("GetQueueAttributesResult.Attributes locationName %q, want Attribute (from the map shape)", qa.LocationName)
	}
	if got := sqs.Service.Operations()["ReceiveMessage"].ResultWrapper; got != "ReceiveMessageResult" {
		t.Errorf("ReceiveMessage result wrapper %q", got)
	}
	if !sqs.Service.Speaks(awsapi.ProtocolQuery) || !sqs.Service.Speaks(awsapi.ProtocolJSON) || sqs.Service.Protocols[0] != awsapi.ProtocolJSON {
		t.Errorf("protocols %v, want json first, then query", sqs.Service.Protocols)
	}
	if !sqs.Service.QueryCompatible || sqs.Service.XMLNamespace != "http://queue.amazonaws.com/doc/2012-11-05/" {
		t.Errorf("query compatible %v, namespace %q", sqs.Service.QueryCompatible, sqs.Service.XMLNamespace)
	}
	tests := []struct {
		shape, code string
		status      int
	}{
		{"QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue", 400},
		{"QueueNameExists", "QueueAlreadyExists", 400},
		{"OverLimit", "OverLimit", 403},
		{"KmsAccessDenied", "KMS.AccessDeniedException", 400},
		{"ReceiptHandleIsInvalid", "ReceiptHandleIsInvalid", 404},
		{"InvalidAttributeName", "InvalidAttributeName", 0},
	}
	for _, tt := range tests {
		e := sqs.Service.Errors()[tt.shape]
		if e == nil {
			t.Errorf("no error %s", tt.shape)
			continue
		}
		if e.Code != tt.code || e.Status != tt.status || e.Receiver {
			t.Errorf("%s: code %q status %d receiver %v, want %q %d sender", tt.shape, e.Code, e.Status, e.Receiver, tt.code, tt.status)
		}
		if _, ok := e.NewStruct().(*sqs.QueueDoesNotExist); ok != (tt.shape == "QueueDoesNotExist") {
			t.Errorf("%s: NewStruct gives %T", tt.shape, e.NewStruct())
		}
	}
}

func TestCloudWatchSpeaksCBORJSONAndQuery(t *testing.T) {
	want := []string{awsapi.ProtocolCBOR, awsapi.ProtocolJSON, awsapi.ProtocolQuery}
	if !slices.Equal(cloudwatch.Service.Protocols, want) {
		t.Errorf("protocols %v, want %v", cloudwatch.Service.Protocols, want)
	}
	if cloudwatch.Service.SigningName != "monitoring" || cloudwatch.Service.TargetPrefix != "GraniteServiceVersion20100801" {
		t.Errorf("signing name %q target prefix %q", cloudwatch.Service.SigningName, cloudwatch.Service.TargetPrefix)
	}
	e := cloudwatch.Service.Errors()["InternalServiceFault"]
	if e.Code != "InternalServiceError" || e.Status != 500 || !e.Receiver {
		t.Errorf("InternalServiceFault: %+v, want code InternalServiceError, 500, receiver", e)
	}
	if got := cloudwatch.Service.Operations()["GetMetricData"].ResultWrapper; got != "GetMetricDataResult" {
		t.Errorf("GetMetricData result wrapper %q", got)
	}
	// MetricAlarm's xmlOrder differs from its member order; fields follow xmlOrder.
	alarm := awsapi.ShapeOf(reflect.TypeFor[cloudwatch.MetricAlarm]())
	if alarm.Field("ExtendedStatistic").Index < alarm.Field("ComparisonOperator").Index {
		t.Error("MetricAlarm fields do not follow the model's xmlOrder")
	}
}

func TestJSONServicesDescribeTheirTarget(t *testing.T) {
	tests := []struct {
		svc                        *awsapi.Service
		protocol, jsonVersion, tgt string
	}{
		{dynamodb.Service, "json", "1.0", "DynamoDB_20120810"},
		{events.Service, "json", "1.1", "AWSEvents"},
		{ecs.Service, "json", "1.1", "AmazonEC2ContainerServiceV20141113"},
		{logs.Service, "json", "1.1", "Logs_20140328"},
		{applicationautoscaling.Service, "json", "1.1", "AnyScaleFrontendService"},
		{scheduler.Service, "rest-json", "1.1", ""},
	}
	for _, tt := range tests {
		s := tt.svc
		if s.Protocols[0] != tt.protocol || s.JSONVersion != tt.jsonVersion || s.TargetPrefix != tt.tgt {
			t.Errorf("%s: %v %q %q, want %s %s %q", s.ID, s.Protocols, s.JSONVersion, s.TargetPrefix, tt.protocol, tt.jsonVersion, tt.tgt)
		}
	}
	if events.Service.APIVersion != "2015-10-07" || dynamodb.Service.APIVersion != "2012-08-10" {
		t.Error("the newest model version was not used")
	}
}

func TestECSServiceShapeDoesNotClashWithTheDescriptor(t *testing.T) {
	f := field(t, &ecs.CreateServiceOutput{}, "service")
	if f.Type != reflect.TypeFor[*ecs.ServiceShape]() {
		t.Errorf("CreateServiceResponse.service type %v, want *ecs.ServiceShape", f.Type)
	}
	if f.GoName != "Service" {
		t.Errorf("Go field name %q, want Service", f.GoName)
	}
}

func TestDynamoDBAttributeValueIsRecursive(t *testing.T) {
	m := field(t, &dynamodb.AttributeValue{}, "M")
	if m.Type != reflect.TypeFor[map[string]dynamodb.AttributeValue]() {
		t.Errorf("AttributeValue.M type %v", m.Type)
	}
	l := field(t, &dynamodb.AttributeValue{}, "L")
	if l.Type != reflect.TypeFor[[]dynamodb.AttributeValue]() {
		t.Errorf("AttributeValue.L type %v", l.Type)
	}
	b := field(t, &dynamodb.AttributeValue{}, "B")
	if b.Type != reflect.TypeFor[[]byte]() {
		t.Errorf("AttributeValue.B type %v", b.Type)
	}
}

func TestEveryDescriptorIsConsistent(t *testing.T) {
	for _, g := range generated {
		s := g.svc
		if len(s.Operations()) == 0 || len(s.Protocols) == 0 || s.SigningName == "" || s.APIVersion == "" {
			t.Errorf("%s: incomplete descriptor", s.ID)
		}
		var names []string
		for n, op := range s.Operations() {
			names = append(names, n)
			if op.Name != n || op.Method == "" || op.RequestURI == "" {
				t.Errorf("%s.%s: name %q method %q uri %q", s.ID, n, op.Name, op.Method, op.RequestURI)
			}
			if in := op.NewInput(); reflect.TypeOf(in).Kind() != reflect.Pointer || reflect.TypeOf(in).Elem().Kind() != reflect.Struct {
				t.Errorf("%s.%s: NewInput gives %T", s.ID, n, in)
			}
			if op.NewOutput != nil {
				if out := op.NewOutput(); reflect.TypeOf(out).Elem().Kind() != reflect.Struct {
					t.Errorf("%s.%s: NewOutput gives %T", s.ID, n, out)
				}
			}
			for _, e := range op.Errors {
				if s.Errors()[e] == nil {
					t.Errorf("%s.%s: error %s is not in Errors", s.ID, n, e)
				}
			}
		}
		sort.Strings(names)
		if !slices.Equal(names, g.names) {
			t.Errorf("%s: OperationNames differs from the operations", s.ID)
		}
		for n, e := range s.Errors() {
			if e.Name != n || e.Code == "" || e.NewStruct == nil {
				t.Errorf("%s: error %s: %+v", s.ID, n, e)
			}
		}
	}
}

// fakeQueues implements two SQS operations, one of them without output.
type fakeQueues struct{ deleted string }

func (f *fakeQueues) CreateQueue(_ context.Context, in *sqs.CreateQueueInput) (*sqs.CreateQueueOutput, error) {
	if awsapi.ToString(in.QueueName) == "" {
		return nil, errors.New("no name")
	}
	return &sqs.CreateQueueOutput{QueueUrl: awsapi.String("http://q/" + *in.QueueName)}, nil
}

func (f *fakeQueues) DeleteQueue(_ context.Context, in *sqs.DeleteQueueInput) (*sqs.DeleteQueueOutput, error) {
	f.deleted = awsapi.ToString(in.QueueUrl)
	return &sqs.DeleteQueueOutput{}, nil
}

// NotAnOperation has the right form but no operation of that name.
func (f *fakeQueues) NotAnOperation(context.Context, *sqs.CreateQueueInput) (*sqs.CreateQueueOutput, error) {
	return nil, nil
}

func TestBindYieldsExactlyTheImplementedOperations(t *testing.T) {
	impl := &fakeQueues{}
	h := sqs.Bind(impl)
	var got []string
	for n := range h {
		got = append(got, n)
	}
	sort.Strings(got)
	if want := []string{"CreateQueue", "DeleteQueue"}; !slices.Equal(got, want) {
		t.Fatalf("Bind gave %v, want %v", got, want)
	}
	ctx := context.Background()

	out, err := h["CreateQueue"](ctx, sqs.Service.Operations()["CreateQueue"].NewInput())
	if err == nil || out != nil {
		t.Errorf("failed CreateQueue gave (%v, %v), want (nil, error): a nil *Output must be a nil any", out, err)
	}
	out, err = h["CreateQueue"](ctx, &sqs.CreateQueueInput{QueueName: awsapi.String("a")})
	if err != nil || awsapi.ToString(out.(*sqs.CreateQueueOutput).QueueUrl) != "http://q/a" {
		t.Errorf("CreateQueue gave (%v, %v)", out, err)
	}

	out, err = h["DeleteQueue"](ctx, &sqs.DeleteQueueInput{QueueUrl: awsapi.String("u")})
	if err != nil || out != nil || impl.deleted != "u" {
		t.Errorf("DeleteQueue gave (%v, %v), deleted %q: want no output, since the operation has none", out, err, impl.deleted)
	}

	if _, err := h["DeleteQueue"](ctx, &sqs.CreateQueueInput{}); err == nil {
		t.Error("a handler accepted another operation's input")
	}
	if len(sqs.Bind(struct{}{})) != 0 {
		t.Error("Bind of a type without methods gave handlers")
	}
}

// S3's response roots come from overlays/s3.json: botocore does not name them.
func TestS3OutputShapesNameTheRootElementS3Sends(t *testing.T) {
	for _, tc := range []struct {
		out  any
		root string
	}{
		{&s3.ListBucketsOutput{}, "ListAllMyBucketsResult"},
		{&s3.ListObjectsV2Output{}, "ListBucketResult"},
		{&s3.CreateMultipartUploadOutput{}, "InitiateMultipartUploadResult"},
		{&s3.DeleteObjectsOutput{}, "DeleteResult"},
		{&s3.GetBucketLocationOutput{}, "LocationConstraint"},
	} {
		if got := awsapi.ShapeOf(reflect.TypeOf(tc.out)).XMLName; got != tc.root {
			t.Errorf("%T root = %q, want %q", tc.out, got, tc.root)
		}
	}
}
