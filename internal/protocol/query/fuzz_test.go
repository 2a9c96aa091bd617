package query

import (
	"fmt"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/wharf-dev/wharf/internal/apierr"
	snsapi "github.com/wharf-dev/wharf/internal/awsapi/sns"
	sqsapi "github.com/wharf-dev/wharf/internal/awsapi/sqs"
	stsapi "github.com/wharf-dev/wharf/internal/awsapi/sts"
	"github.com/wharf-dev/wharf/internal/protocol"
)

// Seeds are bodies recorded from the aws CLI v1 (`aws --debug`) and, for SQS, from
// aws-sdk-go v1.44 (the last SDK release that called SQS with the query protocol).
var seedBodies = []string{
	"Action=GetCallerIdentity&Version=2011-06-15",
	"Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fr&RoleSessionName=s&DurationSeconds=900&Tags.member.1.Key=k&Tags.member.1.Value=v&PolicyArns.member.1.arn=arn%3Ap",
	"Action=SendMessage&MessageAttribute.1.Name=color&MessageAttribute.1.Value.DataType=String&MessageAttribute.1.Value.StringValue=red&MessageBody=hello&QueueUrl=http%3A%2F%2F127.0.0.1%2F000000000000%2Fq&Version=2012-11-05",
	"Action=ReceiveMessage&AttributeName.1=All&MaxNumberOfMessages=10&MessageAttributeName.1=All&QueueUrl=http%3A%2F%2F127.0.0.1%2F000000000000%2Fq&Version=2012-11-05&WaitTimeSeconds=1",
	"Action=CreateQueue&Attribute.1.Name=VisibilityTimeout&Attribute.1.Value=30&QueueName=q&Tag.1.Key=a&Tag.1.Value=b&Version=2012-11-05",
	// SNS: a list of structures with a map each, not flattened.
	"Action=PublishBatch&PublishBatchRequestEntries.member.1.Id=a&PublishBatchRequestEntries.member.1.Message=m&PublishBatchRequestEntries.member.1.MessageAttributes.entry.1.Name=k&PublishBatchRequestEntries.member.1.MessageAttributes.entry.1.Value.DataType=String&PublishBatchRequestEntries.member.1.MessageAttributes.entry.1.Value.StringValue=v&PublishBatchRequestEntries.member.2.Id=b&PublishBatchRequestEntries.member.2.Message=n&TopicArn=arn%3Aaws%3Asns%3Aus-east-1%3A000000000000%3At&Version=2010-03-31",
	"Action=SendMessageBatch&QueueUrl=q&SendMessageBatchRequestEntry.1.Id=1&SendMessageBatchRequestEntry.1.MessageBody=x&SendMessageBatchRequestEntry.1.MessageAttribute.1.Name=b&SendMessageBatchRequestEntry.1.MessageAttribute.1.Value.DataType=Binary&SendMessageBatchRequestEntry.1.MessageAttribute.1.Value.BinaryValue=aGk%3D&Version=2012-11-05",
}

func FuzzQueryDecode(f *testing.F) {
	for _, s := range seedBodies {
		f.Add(s)
	}
	// Hostile bodies: a name of many dots, invalid UTF-8, a truncated escape.
	f.Add("Action=CreateQueue&Version=2012-11-05&QueueName=q&" + strings.Repeat("Attribute.1.", 2000) + "Name=x")
	f.Add("Action=AssumeRole&Version=2011-06-15&RoleArn=a&RoleSessionName=%FF")
	f.Add("Action=SendMessage&Version=2012-11-05&QueueUrl=q&MessageBody=%E2%82")
	// More distinct names than decodeStruct's list of them holds.
	many := "Action=SendMessage&Version=2012-11-05&QueueUrl=q&MessageBody=x&DelaySeconds=1"
	for i := range 20 {
		many += fmt.Sprintf("&X%d=1", i)
	}
	f.Add(many)
	f.Fuzz(func(t *testing.T, body string) {
		for _, svc := range []*struct {
			name string
		}{{"sts"}, {"sqs"}, {"sns"}} {
			s := stsapi.Service
			switch svc.name {
			case "sqs":
				s = sqsapi.Service
			case "sns":
				s = snsapi.Service
			}
			r := httptest.NewRequest("POST", "/", strings.NewReader(body))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			var c Codec
			op, err := c.Operation(s, r)
			if err != nil {
				if apierr.As(err) == nil {
					t.Fatalf("Operation error %T %v", err, err)
				}
				continue
			}
			in := op.NewInput()
			err = c.Decode(s, op, r, in)
			if err != nil && apierr.As(err) == nil {
				t.Fatalf("Decode error %T %v", err, err)
			}
			// Each structure's members are searched for among the
			// parameters under its name, and only those some parameter
			// names: searching for every member among them all gives the
			// same input and the same error.
			p, perr := requestParams(r)
			if perr != nil {
				t.Fatalf("params: %v", perr)
			}
			wide := op.NewInput()
			d := &decoder{p: p, opts: decodeOptions, hi: len(p.list), wide: true}
			werr := d.decodeStruct(make([]byte, 0, 128), reflect.ValueOf(wide).Elem())
			if werr == nil && checkUTF8(s, p) == nil {
				werr = protocol.CheckRequired(s, wide)
			}
			if cerr := checkUTF8(s, p); cerr != nil {
				werr = cerr
			}
			if fmt.Sprint(err) != fmt.Sprint(werr) || (err == nil && !reflect.DeepEqual(in, wide)) {
				t.Fatalf("decoded %+v (%v), searching all parameters %+v (%v)", in, err, wide, werr)
			}
		}
	})
}
