package query

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"os/exec"
	"strings"
	"testing"

	v1aws "github.com/aws/aws-sdk-go/aws"
	"github.com/aws/aws-sdk-go/aws/awserr"
	v1creds "github.com/aws/aws-sdk-go/aws/credentials"
	"github.com/aws/aws-sdk-go/aws/session"
	v1sqs "github.com/aws/aws-sdk-go/service/sqs"

	"github.com/wharf-dev/wharf/internal/apierr"
	sqsapi "github.com/wharf-dev/wharf/internal/awsapi/sqs"
)

func md5hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

// sqsHandlers is a one-queue SQS good enough to check what query clients send and
// parse. It returns MD5OfBody (the SDK checks it) but no MD5OfMessageAttributes,
// whose computation is the SQS service's business, not the codec's.
func sqsHandlers(sent *[]*sqsapi.SendMessageInput) map[string]handlerFunc {
	return map[string]handlerFunc{
		"SendMessage": func(ctx context.Context, in any) (any, error) {
			req := in.(*sqsapi.SendMessageInput)
			if !strings.HasSuffix(*req.QueueUrl, "/q") {
				return nil, &apierr.Error{Code: "QueueDoesNotExist", Message: "The specified queue does not exist."}
			}
			*sent = append(*sent, req)
			return &sqsapi.SendMessageOutput{MessageId: v1aws.String("m-1"), MD5OfMessageBody: v1aws.String(md5hex(*req.MessageBody))}, nil
		},
		"ReceiveMessage": func(ctx context.Context, in any) (any, error) {
			var out sqsapi.ReceiveMessageOutput
			for i, m := range *sent {
				out.Messages = append(out.Messages, sqsapi.Message{
					MessageId: v1aws.String("m-" + string(rune('1'+i))), ReceiptHandle: v1aws.String("rh"),
					Body: m.MessageBody, MD5OfBody: v1aws.String(md5hex(*m.MessageBody)),
					Attributes:        map[string]string{"SentTimestamp": "1700000000000", "ApproximateReceiveCount": "1"},
					MessageAttributes: m.MessageAttributes,
				})
			}
			return &out, nil
		},
	}
}

func TestSDKv1SQSQuerySendAndReceive(t *testing.T) {
	var sent []*sqsapi.SendMessageInput
	srv := newServer(t, sqsapi.Service, sqsHandlers(&sent))
	sess := session.Must(session.NewSession(&v1aws.Config{
		Region: v1aws.String("us-east-1"), Endpoint: v1aws.String(srv.URL),
		Credentials: v1creds.NewStaticCredentials("AKIDEXAMPLE", "secret", ""),
	}))
	client := v1sqs.New(sess)
	qurl := srv.URL + "/000000000000/q"
	out, err := client.SendMessage(&v1sqs.SendMessageInput{QueueUrl: v1aws.String(qurl), MessageBody: v1aws.String("hello <world> & co"),
		DelaySeconds: v1aws.Int64(0),
		MessageAttributes: map[string]*v1sqs.MessageAttributeValue{
			"color": {DataType: v1aws.String("String"), StringValue: v1aws.String("red")},
			"blob":  {DataType: v1aws.String("Binary"), BinaryValue: []byte{0, 1, 2}},
		}})
	if err != nil {
		t.Fatal(err)
	}
	if v1aws.StringValue(out.MessageId) != "m-1" || len(sent) != 1 {
		t.Fatalf("SendMessage %v, sent %d", out, len(sent))
	}
	got := sent[0]
	if *got.MessageBody != "hello <world> & co" || *got.MessageAttributes["color"].StringValue != "red" ||
		string(got.MessageAttributes["blob"].BinaryValue) != "\x00\x01\x02" || *got.DelaySeconds != 0 {
		t.Fatalf("decoded %+v", got)
	}
	recv, err := client.ReceiveMessage(&v1sqs.ReceiveMessageInput{QueueUrl: v1aws.String(qurl),
		AttributeNames: []*string{v1aws.String("All")}, MessageAttributeNames: []*string{v1aws.String("All")}})
	if err != nil {
		t.Fatal(err)
	}
	if len(recv.Messages) != 1 {
		t.Fatalf("received %v", recv)
	}
	m := recv.Messages[0]
	if *m.Body != "hello <world> & co" || *m.Attributes["SentTimestamp"] != "1700000000000" ||
		*m.MessageAttributes["color"].StringValue != "red" || string(m.MessageAttributes["blob"].BinaryValue) != "\x00\x01\x02" {
		t.Fatalf("message %v", m)
	}
	_, err = client.SendMessage(&v1sqs.SendMessageInput{QueueUrl: v1aws.String(srv.URL + "/000000000000/nope"), MessageBody: v1aws.String("x")})
	var ae awserr.RequestFailure
	if !errors.As(err, &ae) || ae.Code() != "AWS.SimpleQueueService.NonExistentQueue" || ae.StatusCode() != 400 {
		t.Fatalf("error %v", err)
	}
}

// TestCLIv1STSGetCallerIdentity runs the aws CLI v1 (botocore) against the codec.
func TestCLIv1STSGetCallerIdentity(t *testing.T) {
	aws, err := exec.LookPath("aws")
	if err != nil {
		t.Skip("aws CLI not on PATH")
	}
	srv := newServer(t, stsService(), map[string]handlerFunc{
		"GetCallerIdentity": func(ctx context.Context, in any) (any, error) {
			return &getCallerIdentityOutput{UserId: v1aws.String("AIDA"), Account: v1aws.String("123456789012"), Arn: v1aws.String("arn:aws:iam::123456789012:root")}, nil
		},
	})
	cmd := exec.Command(aws, "--endpoint-url", srv.URL, "--region", "us-east-1", "--output", "text",
		"sts", "get-caller-identity", "--query", "Account")
	cmd.Env = append(cmd.Environ(), "AWS_ACCESS_KEY_ID=AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY=secret", "AWS_CONFIG_FILE=/dev/null",
		"AWS_SHARED_CREDENTIALS_FILE=/dev/null")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("aws: %v\n%s", err, out)
	}
	if strings.TrimSpace(string(out)) != "123456789012" {
		t.Fatalf("aws printed %q", out)
	}
}
