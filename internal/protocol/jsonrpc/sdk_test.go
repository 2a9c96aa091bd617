package jsonrpc_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	sdkddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	sdkecs "github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	sdksqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"

	"github.com/wharf-dev/wharf/internal/apierr"
	"github.com/wharf-dev/wharf/internal/awsapi"
	"github.com/wharf-dev/wharf/internal/awsapi/dynamodb"
	"github.com/wharf-dev/wharf/internal/awsapi/ecs"
	"github.com/wharf-dev/wharf/internal/awsapi/sqs"
	"github.com/wharf-dev/wharf/internal/protocol"
	"github.com/wharf-dev/wharf/internal/protocol/jsonrpc"
	"github.com/wharf-dev/wharf/internal/sdkhttp"
)

// serve is the smallest server a codec needs: operation, decode, handler, encode.
func serve(t *testing.T, c protocol.Codec, svc *awsapi.Service, handlers map[string]awsapi.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		const rid = "req-1"
		fail := func(err error) {
			e := apierr.As(err)
			if e == nil {
				t.Errorf("codec returned a non-API error: %v", err)
				e = apierr.Internal()
			}
			c.EncodeError(w, r, svc, e, rid)
		}
		op, err := c.Operation(svc, r)
		if err != nil {
			fail(err)
			return
		}
		in := op.NewInput()
		if err := c.Decode(svc, op, r, in); err != nil {
			fail(err)
			return
		}
		h := handlers[op.Name]
		if h == nil {
			fail(apierr.NotImplemented(svc.ServiceID, op.Name))
			return
		}
		out, err := h(r.Context(), in)
		if err != nil {
			fail(err)
			return
		}
		if err := c.Encode(w, r, svc, op, out, rid); err != nil {
			t.Errorf("encode: %v", err)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func sdkConfig() aws.Config {
	return aws.Config{
		Region:           "us-east-1",
		Credentials:      credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
		RetryMaxAttempts: 1,
		HTTPClient:       sdkhttp.Client(nil),
	}
}

func md5Hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

func TestSQSRoundTripWithQueryCompatibleErrors(t *testing.T) {
	var gotAttr []byte
	srv := serve(t, jsonrpc.New(), sqs.Service, map[string]awsapi.Handler{
		"GetQueueUrl": func(ctx context.Context, in any) (any, error) {
			req := in.(*sqs.GetQueueUrlInput)
			if awsapi.ToString(req.QueueName) == "present" {
				return &sqs.GetQueueUrlOutput{QueueUrl: aws.String("http://q/present")}, nil
			}
			return nil, &apierr.Error{Code: "QueueDoesNotExist", Message: "The specified queue does not exist."}
		},
		"SendMessage": func(ctx context.Context, in any) (any, error) {
			req := in.(*sqs.SendMessageInput)
			gotAttr = req.MessageAttributes["bin"].BinaryValue
			return &sqs.SendMessageOutput{MessageId: aws.String("m-1"), MD5OfMessageBody: aws.String(md5Hex(*req.MessageBody))}, nil
		},
		"ReceiveMessage": func(ctx context.Context, in any) (any, error) {
			req := in.(*sqs.ReceiveMessageInput)
			if awsapi.ToInt32(req.MaxNumberOfMessages) != 3 {
				t.Errorf("MaxNumberOfMessages = %v, want 3", req.MaxNumberOfMessages)
			}
			return &sqs.ReceiveMessageOutput{Messages: []sqs.Message{{
				MessageId: aws.String("m-1"), Body: aws.String("hello"), MD5OfBody: aws.String(md5Hex("hello")),
				Attributes: map[string]string{"ApproximateReceiveCount": "1"},
			}}}, nil
		},
		"PurgeQueue": func(ctx context.Context, in any) (any, error) { return nil, nil },
	})
	client := sdksqs.NewFromConfig(sdkConfig(), func(o *sdksqs.Options) { o.BaseEndpoint = aws.String(srv.URL) })
	ctx := context.Background()

	got, err := client.GetQueueUrl(ctx, &sdksqs.GetQueueUrlInput{QueueName: aws.String("present")})
	if err != nil || aws.ToString(got.QueueUrl) != "http://q/present" {
		t.Fatalf("GetQueueUrl = %v, %v", got, err)
	}

	_, err = client.GetQueueUrl(ctx, &sdksqs.GetQueueUrlInput{QueueName: aws.String("missing")})
	var qdne *sqstypes.QueueDoesNotExist
	if !errors.As(err, &qdne) {
		t.Fatalf("GetQueueUrl error = %T %v, want *types.QueueDoesNotExist", err, err)
	}
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "AWS.SimpleQueueService.NonExistentQueue" || apiErr.ErrorMessage() != "The specified queue does not exist." {
		t.Errorf("error code/message = %q/%q", apiErr.ErrorCode(), apiErr.ErrorMessage())
	}

	bin := []byte{0, 1, 2, 0xff}
	if _, err := client.SendMessage(ctx, &sdksqs.SendMessageInput{
		QueueUrl: aws.String("http://q/present"), MessageBody: aws.String("hi"),
		MessageAttributes: map[string]sqstypes.MessageAttributeValue{"bin": {DataType: aws.String("Binary"), BinaryValue: bin}},
	}, func(o *sdksqs.Options) { o.DisableMessageChecksumValidation = true }); err != nil {
		t.Fatalf("SendMessage: %v", err)
	}
	if !bytes.Equal(gotAttr, bin) {
		t.Errorf("binary attribute = %v, want %v", gotAttr, bin)
	}

	rcv, err := client.ReceiveMessage(ctx, &sdksqs.ReceiveMessageInput{QueueUrl: aws.String("u"), MaxNumberOfMessages: 3})
	if err != nil {
		t.Fatalf("ReceiveMessage: %v", err)
	}
	if len(rcv.Messages) != 1 || aws.ToString(rcv.Messages[0].Body) != "hello" || rcv.Messages[0].Attributes["ApproximateReceiveCount"] != "1" {
		t.Errorf("ReceiveMessage = %+v", rcv.Messages)
	}

	if _, err := client.PurgeQueue(ctx, &sdksqs.PurgeQueueInput{QueueUrl: aws.String("u")}); err != nil {
		t.Errorf("PurgeQueue (no output): %v", err)
	}

	_, err = client.DeleteQueue(ctx, &sdksqs.DeleteQueueInput{QueueUrl: aws.String("u")})
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "NotImplemented" {
		t.Errorf("unimplemented operation error = %v", err)
	}
}

func TestECSRoundTripJSON11(t *testing.T) {
	created := time.Date(2024, 5, 6, 7, 8, 9, 123e6, time.UTC)
	srv := serve(t, jsonrpc.New(), ecs.Service, map[string]awsapi.Handler{
		"CreateCluster": func(ctx context.Context, in any) (any, error) {
			req := in.(*ecs.CreateClusterInput)
			if len(req.Tags) != 1 || awsapi.ToString(req.Tags[0].Value) != "v" {
				t.Errorf("tags = %+v", req.Tags)
			}
			return &ecs.CreateClusterOutput{Cluster: &ecs.Cluster{ClusterName: req.ClusterName, Status: aws.String("ACTIVE"), RunningTasksCount: aws.Int32(0)}}, nil
		},
		"DescribeTasks": func(ctx context.Context, in any) (any, error) {
			return &ecs.DescribeTasksOutput{Tasks: []ecs.Task{{TaskArn: aws.String("arn:task"), CreatedAt: &created}}, Failures: []ecs.Failure{}}, nil
		},
		"DeleteCluster": func(ctx context.Context, in any) (any, error) {
			return nil, &apierr.Error{Code: "ClusterNotFoundException", Message: "Cluster not found."}
		},
	})
	client := sdkecs.NewFromConfig(sdkConfig(), func(o *sdkecs.Options) { o.BaseEndpoint = aws.String(srv.URL) })
	ctx := context.Background()

	cc, err := client.CreateCluster(ctx, &sdkecs.CreateClusterInput{ClusterName: aws.String("c1"), Tags: []ecstypes.Tag{{Key: aws.String("k"), Value: aws.String("v")}}})
	if err != nil || aws.ToString(cc.Cluster.ClusterName) != "c1" || aws.ToString(cc.Cluster.Status) != "ACTIVE" {
		t.Fatalf("CreateCluster = %+v, %v", cc, err)
	}
	dt, err := client.DescribeTasks(ctx, &sdkecs.DescribeTasksInput{Tasks: []string{"t"}})
	if err != nil || len(dt.Tasks) != 1 || !aws.ToTime(dt.Tasks[0].CreatedAt).Equal(created) {
		t.Fatalf("DescribeTasks = %+v, %v (want createdAt %v)", dt, err, created)
	}
	_, err = client.DeleteCluster(ctx, &sdkecs.DeleteClusterInput{Cluster: aws.String("c1")})
	var nf *ecstypes.ClusterNotFoundException
	if !errors.As(err, &nf) || aws.ToString(nf.Message) != "Cluster not found." {
		t.Errorf("DeleteCluster error = %T %v", err, err)
	}
}

func TestDynamoDBRoundTripNestedAttributeValues(t *testing.T) {
	var stored map[string]dynamodb.AttributeValue
	srv := serve(t, jsonrpc.New(), dynamodb.Service, map[string]awsapi.Handler{
		"PutItem": func(ctx context.Context, in any) (any, error) {
			stored = in.(*dynamodb.PutItemInput).Item
			return &dynamodb.PutItemOutput{}, nil
		},
		"GetItem": func(ctx context.Context, in any) (any, error) {
			return &dynamodb.GetItemOutput{Item: stored}, nil
		},
	})
	client := sdkddb.NewFromConfig(sdkConfig(), func(o *sdkddb.Options) { o.BaseEndpoint = aws.String(srv.URL) })
	ctx := context.Background()
	item := map[string]ddbtypes.AttributeValue{
		"pk":   &ddbtypes.AttributeValueMemberS{Value: "id-1"},
		"n":    &ddbtypes.AttributeValueMemberN{Value: "42.5"},
		"bin":  &ddbtypes.AttributeValueMemberB{Value: []byte("\x00raw")},
		"flag": &ddbtypes.AttributeValueMemberBOOL{Value: true},
		"nest": &ddbtypes.AttributeValueMemberM{Value: map[string]ddbtypes.AttributeValue{
			"list": &ddbtypes.AttributeValueMemberL{Value: []ddbtypes.AttributeValue{&ddbtypes.AttributeValueMemberNULL{Value: true}, &ddbtypes.AttributeValueMemberSS{Value: []string{"a", "b"}}}},
		}},
	}
	if _, err := client.PutItem(ctx, &sdkddb.PutItemInput{TableName: aws.String("t"), Item: item}); err != nil {
		t.Fatalf("PutItem: %v", err)
	}
	if got := string(stored["bin"].B); got != "\x00raw" {
		t.Errorf("stored blob = %q", got)
	}
	out, err := client.GetItem(ctx, &sdkddb.GetItemInput{TableName: aws.String("t"), Key: map[string]ddbtypes.AttributeValue{"pk": &ddbtypes.AttributeValueMemberS{Value: "id-1"}}})
	if err != nil {
		t.Fatalf("GetItem: %v", err)
	}
	nest, ok := out.Item["nest"].(*ddbtypes.AttributeValueMemberM)
	if !ok {
		t.Fatalf("nest = %T", out.Item["nest"])
	}
	l := nest.Value["list"].(*ddbtypes.AttributeValueMemberL).Value
	if ss := l[1].(*ddbtypes.AttributeValueMemberSS).Value; len(ss) != 2 || ss[1] != "b" {
		t.Errorf("nested SS = %v", ss)
	}
	if b := out.Item["bin"].(*ddbtypes.AttributeValueMemberB).Value; string(b) != "\x00raw" {
		t.Errorf("blob = %q", b)
	}
	if n := out.Item["n"].(*ddbtypes.AttributeValueMemberN).Value; n != "42.5" {
		t.Errorf("N = %q", n)
	}
}
