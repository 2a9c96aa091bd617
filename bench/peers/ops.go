package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/wharf-dev/wharf/internal/sdkhttp"
)

// call is one measured operation by worker w (0 ≤ w < clients).
type call func(ctx context.Context, w int) error

// op is a measured operation: setup creates what it needs on a target and
// returns the call to time.
type op struct {
	name, title string
	setup       func(ctx context.Context, c *clients, workers int) (call, error)
}

var (
	s3Ops       = []string{"s3-put-1k", "s3-get-1k", "s3-put-64m", "s3-get-64m"}
	sqsQueryOps = []string{"sqs-send-query", "sqs-batch-query", "sqs-recvdel-query"}
	ddbOps      = []string{"ddb-put", "ddb-get", "ddb-query"}
)

// clients are SDK clients (aws-sdk-go-v2) for one target, plus a signer for
// the query-protocol SQS requests the current SDK no longer sends.
type clients struct {
	base  string
	creds aws.CredentialsProvider
	hc    *http.Client
	s3    *s3.Client
	sqs   *sqs.Client
	sns   *sns.Client
	ddb   *dynamodb.Client
	eb    *eventbridge.Client
	sts   *sts.Client
}

func newClients(base, key string) *clients {
	if key == "" {
		key = "test"
	}
	creds := credentials.NewStaticCredentialsProvider(key, key, "")
	hc := sdkhttp.Client(&http.Transport{MaxIdleConnsPerHost: 64, MaxIdleConns: 256})
	cfg := aws.Config{Region: "us-east-1", Credentials: creds, BaseEndpoint: aws.String(base), HTTPClient: hc, RetryMaxAttempts: 1}
	return &clients{
		base: base, hc: hc, creds: creds,
		s3: s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }),
		// The null server's canned answers carry no real MD5 of the body;
		// no target is asked to compute one for the client, for fairness.
		sqs: sqs.NewFromConfig(cfg, func(o *sqs.Options) { o.DisableMessageChecksumValidation = true }),
		sns: sns.NewFromConfig(cfg),
		ddb: dynamodb.NewFromConfig(cfg),
		eb:  eventbridge.NewFromConfig(cfg),
		sts: sts.NewFromConfig(cfg),
	}
}

var big = bytes.Repeat([]byte("wharf-64MiB-body"), 64<<20/16)
var small = bytes.Repeat([]byte("k"), 1024)

func allOps() []op {
	return []op{
		{"s3-put-1k", "S3 PutObject 1 KiB", func(ctx context.Context, c *clients, n int) (call, error) {
			if err := bucket(ctx, c, "bench-small"); err != nil {
				return nil, err
			}
			return func(ctx context.Context, w int) error {
				_, err := c.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bench-small"), Key: aws.String("put/" + strconv.Itoa(w)), Body: bytes.NewReader(small)})
				return err
			}, nil
		}},
		{"s3-get-1k", "S3 GetObject 1 KiB", func(ctx context.Context, c *clients, n int) (call, error) {
			if err := bucket(ctx, c, "bench-small"); err != nil {
				return nil, err
			}
			if _, err := c.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bench-small"), Key: aws.String("k1"), Body: bytes.NewReader(small)}); err != nil {
				return nil, err
			}
			return func(ctx context.Context, w int) error { return get(ctx, c, "bench-small", "k1", len(small)) }, nil
		}},
		{"s3-put-64m", "S3 PutObject 64 MiB", func(ctx context.Context, c *clients, n int) (call, error) {
			if err := bucket(ctx, c, "bench-big"); err != nil {
				return nil, err
			}
			return func(ctx context.Context, w int) error {
				_, err := c.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bench-big"), Key: aws.String("put/" + strconv.Itoa(w)), Body: bytes.NewReader(big)})
				return err
			}, nil
		}},
		{"s3-get-64m", "S3 GetObject 64 MiB", func(ctx context.Context, c *clients, n int) (call, error) {
			if err := bucket(ctx, c, "bench-big"); err != nil {
				return nil, err
			}
			if _, err := c.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bench-big"), Key: aws.String("k64"), Body: bytes.NewReader(big)}); err != nil {
				return nil, err
			}
			return func(ctx context.Context, w int) error { return get(ctx, c, "bench-big", "k64", len(big)) }, nil
		}},
		{"sqs-send-json", "SQS SendMessage (JSON)", func(ctx context.Context, c *clients, n int) (call, error) {
			u, err := queue(ctx, c, "bench-send-json")
			if err != nil {
				return nil, err
			}
			return func(ctx context.Context, w int) error {
				_, err := c.sqs.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &u, MessageBody: aws.String("hello from the benchmark")})
				return err
			}, nil
		}},
		{"sqs-batch-json", "SQS SendMessageBatch of 10 (JSON)", func(ctx context.Context, c *clients, n int) (call, error) {
			u, err := queue(ctx, c, "bench-batch-json")
			if err != nil {
				return nil, err
			}
			return func(ctx context.Context, w int) error { return sendBatchJSON(ctx, c, u) }, nil
		}},
		{"sqs-recvdel-json", "SQS SendMessageBatch 10 + ReceiveMessage 10 + DeleteMessageBatch (JSON)", func(ctx context.Context, c *clients, n int) (call, error) {
			u, err := queue(ctx, c, "bench-recv-json")
			if err != nil {
				return nil, err
			}
			return func(ctx context.Context, w int) error {
				if err := sendBatchJSON(ctx, c, u); err != nil {
					return err
				}
				out, err := c.sqs.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &u, MaxNumberOfMessages: 10})
				if err != nil {
					return err
				}
				if len(out.Messages) == 0 {
					return errors.New("received nothing")
				}
				var del []sqstypes.DeleteMessageBatchRequestEntry
				for i, m := range out.Messages {
					del = append(del, sqstypes.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: m.ReceiptHandle})
				}
				_, err = c.sqs.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: &u, Entries: del})
				return err
			}, nil
		}},
		{"sqs-send-query", "SQS SendMessage (query)", func(ctx context.Context, c *clients, n int) (call, error) {
			u, err := queueQuery(ctx, c, "bench-send-query")
			if err != nil {
				return nil, err
			}
			return func(ctx context.Context, w int) error {
				_, err := c.query(ctx, "sqs", url.Values{"Action": {"SendMessage"}, "QueueUrl": {u}, "MessageBody": {"hello from the benchmark"}})
				return err
			}, nil
		}},
		{"sqs-batch-query", "SQS SendMessageBatch of 10 (query)", func(ctx context.Context, c *clients, n int) (call, error) {
			u, err := queueQuery(ctx, c, "bench-batch-query")
			if err != nil {
				return nil, err
			}
			return func(ctx context.Context, w int) error { return sendBatchQuery(ctx, c, u) }, nil
		}},
		{"sqs-recvdel-query", "SQS SendMessageBatch 10 + ReceiveMessage 10 + DeleteMessageBatch (query)", func(ctx context.Context, c *clients, n int) (call, error) {
			u, err := queueQuery(ctx, c, "bench-recv-query")
			if err != nil {
				return nil, err
			}
			return func(ctx context.Context, w int) error {
				if err := sendBatchQuery(ctx, c, u); err != nil {
					return err
				}
				body, err := c.query(ctx, "sqs", url.Values{"Action": {"ReceiveMessage"}, "QueueUrl": {u}, "MaxNumberOfMessages": {"10"}})
				if err != nil {
					return err
				}
				var r struct {
					Handles []string `xml:"ReceiveMessageResult>Message>ReceiptHandle"`
				}
				if err := xml.Unmarshal(body, &r); err != nil {
					return err
				}
				if len(r.Handles) == 0 {
					return errors.New("received nothing")
				}
				v := url.Values{"Action": {"DeleteMessageBatch"}, "QueueUrl": {u}}
				for i, h := range r.Handles {
					p := "DeleteMessageBatchRequestEntry." + strconv.Itoa(i+1) + "."
					v.Set(p+"Id", strconv.Itoa(i))
					v.Set(p+"ReceiptHandle", h)
				}
				_, err = c.query(ctx, "sqs", v)
				return err
			}, nil
		}},
		{"sns-publish", "SNS Publish to a topic with an SQS subscriber", func(ctx context.Context, c *clients, n int) (call, error) {
			u, err := queue(ctx, c, "bench-sns-sub")
			if err != nil {
				u, err = queueQuery(ctx, c, "bench-sns-sub") // goaws speaks query only
				if err != nil {
					return nil, err
				}
			}
			arn := queueARN(ctx, c, u, "bench-sns-sub")
			t, err := c.sns.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("bench-topic")})
			if err != nil {
				return nil, err
			}
			if _, err := c.sns.Subscribe(ctx, &sns.SubscribeInput{TopicArn: t.TopicArn, Protocol: aws.String("sqs"), Endpoint: &arn}); err != nil {
				return nil, err
			}
			return func(ctx context.Context, w int) error {
				_, err := c.sns.Publish(ctx, &sns.PublishInput{TopicArn: t.TopicArn, Message: aws.String("hello from the benchmark")})
				return err
			}, nil
		}},
		{"sns-publish-fanout", "SNS Publish to a topic with three SQS subscribers", func(ctx context.Context, c *clients, n int) (call, error) {
			t, err := c.sns.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("bench-fanout")})
			if err != nil {
				return nil, err
			}
			for i := range 3 {
				name := fmt.Sprintf("bench-fanout-%d", i)
				u, err := queue(ctx, c, name)
				if err != nil {
					if u, err = queueQuery(ctx, c, name); err != nil { // goaws speaks query only
						return nil, err
					}
				}
				arn := queueARN(ctx, c, u, name)
				if _, err := c.sns.Subscribe(ctx, &sns.SubscribeInput{TopicArn: t.TopicArn, Protocol: aws.String("sqs"), Endpoint: &arn}); err != nil {
					return nil, err
				}
			}
			return func(ctx context.Context, w int) error {
				_, err := c.sns.Publish(ctx, &sns.PublishInput{TopicArn: t.TopicArn, Message: aws.String("hello from the benchmark")})
				return err
			}, nil
		}},
		{"ddb-put", "DynamoDB PutItem", func(ctx context.Context, c *clients, n int) (call, error) {
			if err := table(ctx, c); err != nil {
				return nil, err
			}
			return func(ctx context.Context, w int) error {
				_, err := c.ddb.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("bench"), Item: item("put", strconv.Itoa(w))})
				return err
			}, nil
		}},
		{"ddb-get", "DynamoDB GetItem", func(ctx context.Context, c *clients, n int) (call, error) {
			if err := table(ctx, c); err != nil {
				return nil, err
			}
			if _, err := c.ddb.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("bench"), Item: item("get", "1")}); err != nil {
				return nil, err
			}
			return func(ctx context.Context, w int) error {
				out, err := c.ddb.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("bench"), Key: map[string]ddbtypes.AttributeValue{
					"pk": &ddbtypes.AttributeValueMemberS{Value: "get"}, "sk": &ddbtypes.AttributeValueMemberS{Value: "1"}}})
				if err == nil && out.Item == nil {
					err = errors.New("no item")
				}
				return err
			}, nil
		}},
		{"ddb-query", "DynamoDB Query (40 items)", func(ctx context.Context, c *clients, n int) (call, error) {
			if err := table(ctx, c); err != nil {
				return nil, err
			}
			for i := 0; i < 40; i++ {
				if _, err := c.ddb.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("bench"), Item: item("query", fmt.Sprintf("%03d", i))}); err != nil {
					return nil, err
				}
			}
			return func(ctx context.Context, w int) error {
				out, err := c.ddb.Query(ctx, &dynamodb.QueryInput{TableName: aws.String("bench"), KeyConditionExpression: aws.String("pk = :p"),
					ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":p": &ddbtypes.AttributeValueMemberS{Value: "query"}}})
				if err == nil && out.Count != 40 {
					err = fmt.Errorf("query returned %d items", out.Count)
				}
				return err
			}, nil
		}},
		{"events-put", "EventBridge PutEvents (1 entry, matched by a rule → SQS)", func(ctx context.Context, c *clients, n int) (call, error) {
			if _, err := eventsToQueues(ctx, c, "bench-events", 1); err != nil {
				return nil, err
			}
			return func(ctx context.Context, w int) error { return putEvent(ctx, c, 0) }, nil
		}},
		{"events-sqs-latency", "PutEvents → rule → SQS, until ReceiveMessage has it", func(ctx context.Context, c *clients, n int) (call, error) {
			urls, err := eventsToQueues(ctx, c, "bench-latency", n)
			if err != nil {
				return nil, err
			}
			return func(ctx context.Context, w int) error {
				if err := putEvent(ctx, c, w); err != nil {
					return err
				}
				deadline := time.Now().Add(10 * time.Second)
				for time.Now().Before(deadline) {
					out, err := c.sqs.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &urls[w], MaxNumberOfMessages: 1, WaitTimeSeconds: 5})
					if err != nil {
						return err
					}
					if len(out.Messages) > 0 {
						_, err = c.sqs.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: &urls[w], ReceiptHandle: out.Messages[0].ReceiptHandle})
						return err
					}
				}
				return errors.New("event not delivered in 10s")
			}, nil
		}},
		{"sts", "STS GetCallerIdentity", func(ctx context.Context, c *clients, n int) (call, error) {
			return func(ctx context.Context, w int) error {
				_, err := c.sts.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
				return err
			}, nil
		}},
	}
}

func bucket(ctx context.Context, c *clients, name string) error {
	_, err := c.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &name})
	if err != nil && (strings.Contains(err.Error(), "BucketAlreadyOwnedByYou") || strings.Contains(err.Error(), "BucketAlreadyExists")) {
		return nil
	}
	return err
}

func get(ctx context.Context, c *clients, b, k string, size int) error {
	out, err := c.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: &b, Key: &k})
	if err != nil {
		return err
	}
	defer out.Body.Close()
	n, err := io.Copy(io.Discard, out.Body)
	if err == nil && n != int64(size) {
		err = fmt.Errorf("GetObject read %d bytes, want %d", n, size)
	}
	return err
}

func queue(ctx context.Context, c *clients, name string) (string, error) {
	out, err := c.sqs.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: &name})
	if err != nil {
		return "", err
	}
	return *out.QueueUrl, nil
}

func queueQuery(ctx context.Context, c *clients, name string) (string, error) {
	body, err := c.query(ctx, "sqs", url.Values{"Action": {"CreateQueue"}, "QueueName": {name}})
	if err != nil {
		return "", err
	}
	var r struct {
		URL string `xml:"CreateQueueResult>QueueUrl"`
	}
	if err := xml.Unmarshal(body, &r); err != nil || r.URL == "" {
		return "", fmt.Errorf("CreateQueue (query): %v %.200s", err, body)
	}
	return r.URL, nil
}

// queueARN asks for the queue's ARN (JSON, then query for goaws).
func queueARN(ctx context.Context, c *clients, u, name string) string {
	out, err := c.sqs.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: &u, AttributeNames: []sqstypes.QueueAttributeName{"QueueArn"}})
	if err == nil && out.Attributes["QueueArn"] != "" {
		return out.Attributes["QueueArn"]
	}
	body, err := c.query(ctx, "sqs", url.Values{"Action": {"GetQueueAttributes"}, "QueueUrl": {u}, "AttributeName.1": {"QueueArn"}})
	if err == nil {
		var r struct {
			Attrs []struct{ Name, Value string } `xml:"GetQueueAttributesResult>Attribute"`
		}
		if xml.Unmarshal(body, &r) == nil {
			for _, a := range r.Attrs {
				if a.Name == "QueueArn" {
					return a.Value
				}
			}
		}
	}
	return "arn:aws:sqs:us-east-1:000000000000:" + name
}

func sendBatchJSON(ctx context.Context, c *clients, u string) error {
	var e []sqstypes.SendMessageBatchRequestEntry
	for i := 0; i < 10; i++ {
		e = append(e, sqstypes.SendMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), MessageBody: aws.String("hello from the benchmark")})
	}
	out, err := c.sqs.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: &u, Entries: e})
	if err == nil && len(out.Failed) > 0 {
		err = fmt.Errorf("%d entries failed", len(out.Failed))
	}
	return err
}

func sendBatchQuery(ctx context.Context, c *clients, u string) error {
	v := url.Values{"Action": {"SendMessageBatch"}, "QueueUrl": {u}}
	for i := 0; i < 10; i++ {
		p := "SendMessageBatchRequestEntry." + strconv.Itoa(i+1) + "."
		v.Set(p+"Id", strconv.Itoa(i))
		v.Set(p+"MessageBody", "hello from the benchmark")
	}
	_, err := c.query(ctx, "sqs", v)
	return err
}

// query sends a SigV4-signed query-protocol request (form body) and returns
// the response body; a status of 300 or more is an error.
func (c *clients) query(ctx context.Context, service string, v url.Values) ([]byte, error) {
	if v.Get("Version") == "" {
		v.Set("Version", "2012-11-05")
	}
	body := v.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/", strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	sum := sha256.Sum256([]byte(body))
	cr, _ := c.creds.Retrieve(ctx)
	if err := v4.NewSigner().SignHTTP(ctx, cr, req, hex.EncodeToString(sum[:]), service, "us-east-1", time.Now()); err != nil {
		return nil, err
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode >= 300 {
		return nil, fmt.Errorf("%s: %d %.200s", v.Get("Action"), resp.StatusCode, b)
	}
	return b, nil
}

func table(ctx context.Context, c *clients) error {
	_, err := c.ddb.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName: aws.String("bench"), BillingMode: ddbtypes.BillingModePayPerRequest,
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: ddbtypes.ScalarAttributeTypeS}, {AttributeName: aws.String("sk"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: ddbtypes.KeyTypeHash}, {AttributeName: aws.String("sk"), KeyType: ddbtypes.KeyTypeRange}},
	})
	if err != nil && !strings.Contains(err.Error(), "ResourceInUse") {
		return err
	}
	for i := 0; i < 100; i++ { // dynalite and others may create tables asynchronously
		d, err := c.ddb.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("bench")})
		if err == nil && d.Table.TableStatus == ddbtypes.TableStatusActive {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return errors.New("table never became ACTIVE")
}

func item(pk, sk string) map[string]ddbtypes.AttributeValue {
	return map[string]ddbtypes.AttributeValue{
		"pk": &ddbtypes.AttributeValueMemberS{Value: pk}, "sk": &ddbtypes.AttributeValueMemberS{Value: sk},
		"name": &ddbtypes.AttributeValueMemberS{Value: "a benchmark item"}, "n": &ddbtypes.AttributeValueMemberN{Value: "42"},
		"tags": &ddbtypes.AttributeValueMemberSS{Value: []string{"a", "b"}},
	}
}

// eventsToQueues makes n queues, each the target of a rule on the default
// bus matching events whose detail.w is its index, with the queue policy
// AWS requires for EventBridge to send to it (without one, AWS does not
// deliver, and wharf's default --iam audit records a denial per event).
func eventsToQueues(ctx context.Context, c *clients, prefix string, n int) ([]string, error) {
	var urls []string
	for i := 0; i < n; i++ {
		name := prefix + "-" + strconv.Itoa(i)
		u, err := queue(ctx, c, name)
		if err != nil {
			return nil, err
		}
		arn := queueARN(ctx, c, u, name)
		rule, err := c.eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: &name, EventPattern: aws.String(fmt.Sprintf(`{"source":["bench"],"detail":{"w":[%d]}}`, i))})
		if err != nil {
			return nil, err
		}
		policy := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Sid":"events","Effect":"Allow","Principal":{"Service":"events.amazonaws.com"},`+
			`"Action":"sqs:SendMessage","Resource":%q,"Condition":{"ArnEquals":{"aws:SourceArn":%q}}}]}`, arn, aws.ToString(rule.RuleArn))
		if _, err := c.sqs.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: &u, Attributes: map[string]string{"Policy": policy}}); err != nil {
			return nil, err
		}
		if _, err := c.eb.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: &name, Targets: []ebtypes.Target{{Id: aws.String("q"), Arn: &arn}}}); err != nil {
			return nil, err
		}
		urls = append(urls, u)
	}
	return urls, nil
}

func putEvent(ctx context.Context, c *clients, w int) error {
	out, err := c.eb.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{{
		Source: aws.String("bench"), DetailType: aws.String("Bench"), Detail: aws.String(fmt.Sprintf(`{"w":%d,"order":"o-1"}`, w))}}})
	if err == nil && out.FailedEntryCount > 0 {
		err = errors.New("entry failed")
	}
	return err
}
