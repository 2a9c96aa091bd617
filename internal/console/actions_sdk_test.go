package console_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/wharf-dev/wharf/internal/wharftest"
)

type peeked struct {
	Messages []struct {
		MessageID, Body, GroupID string
		ReceiveCount             int64
	}
	Error, Code string
}

// TestSendAndPeekThroughTheConsole sends with the console's form and peeks
// (ReceiveMessage with a zero visibility timeout): the message is seen, its
// receive count goes up on each peek, and an SDK client still receives it.
func TestSendAndPeekThroughTheConsole(t *testing.T) {
	t.Parallel()
	srv := wharftest.Start(t)
	ctx := context.Background()
	sq := sqs.NewFromConfig(srv.Config())
	q, err := sq.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("jobs")})
	if err != nil {
		t.Fatal(err)
	}
	var sent struct{ MessageID, Error, Code string }
	if code := postJSON(t, srv.URL+"/_wharf/api/queues/send", map[string]string{"url": *q.QueueUrl, "body": "hello"}, &sent); code != http.StatusOK || sent.MessageID == "" {
		t.Fatalf("send: %d %+v", code, sent)
	}
	peekURL := srv.URL + "/_wharf/api/queues/peek?url=" + url.QueryEscape(*q.QueueUrl)
	for i := int64(1); i <= 2; i++ {
		var p peeked
		if code := postJSON(t, peekURL, nil, &p); code != http.StatusOK || len(p.Messages) != 1 ||
			p.Messages[0].Body != "hello" || p.Messages[0].MessageID != sent.MessageID || p.Messages[0].ReceiveCount != i {
			t.Fatalf("peek %d: %d %+v", i, code, p)
		}
	}
	rm, err := sq.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: q.QueueUrl, MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{"All"}})
	if err != nil || len(rm.Messages) != 1 || *rm.Messages[0].MessageId != sent.MessageID || rm.Messages[0].Attributes["ApproximateReceiveCount"] != "3" {
		t.Fatalf("after two peeks an SDK receive got %v %+v", err, rm)
	}

	// A FIFO queue: SQS's own checks answer the form.
	fifo, err := sq.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("orders.fifo"), Attributes: map[string]string{"FifoQueue": "true"}})
	if err != nil {
		t.Fatal(err)
	}
	var bad apiError
	if code := postJSON(t, srv.URL+"/_wharf/api/queues/send", map[string]string{"url": *fifo.QueueUrl, "body": "x"}, &bad); code != http.StatusBadRequest || bad.Code != "MissingParameter" {
		t.Errorf("a FIFO send without a group id: %d %+v", code, bad)
	}
	if code := postJSON(t, srv.URL+"/_wharf/api/queues/send", map[string]string{"url": *fifo.QueueUrl, "body": "order 1",
		"groupId": "g1", "deduplicationId": "d1"}, &sent); code != http.StatusOK || sent.MessageID == "" {
		t.Fatalf("a FIFO send: %d %+v", code, sent)
	}
	var p peeked
	if code := postJSON(t, srv.URL+"/_wharf/api/queues/peek?url="+url.QueryEscape(*fifo.QueueUrl), nil, &p); code != http.StatusOK ||
		len(p.Messages) != 1 || p.Messages[0].GroupID != "g1" || p.Messages[0].Body != "order 1" {
		t.Errorf("peek of the FIFO queue: %d %+v", code, p)
	}
	if code := postJSON(t, peekURL+"&max=11", nil, &bad); code != http.StatusBadRequest || bad.Error == "" {
		t.Errorf("a peek of 11: %d %+v", code, bad)
	}
	if code := postJSON(t, srv.URL+"/_wharf/api/queues/send", map[string]string{"url": *q.QueueUrl + "x", "body": "x"}, &bad); code != http.StatusBadRequest || bad.Code != "QueueDoesNotExist" {
		t.Errorf("a send to a queue that does not exist: %d %+v", code, bad)
	}
}

// TestQueryAndItemsThroughTheConsole queries a table by its partition key
// and a sort key condition, and lists its items.
func TestQueryAndItemsThroughTheConsole(t *testing.T) {
	t.Parallel()
	srv := wharftest.Start(t)
	ctx := context.Background()
	ddb := dynamodb.NewFromConfig(srv.Config())
	must := mustOK(t)
	must(ddb.CreateTable(ctx, &dynamodb.CreateTableInput{TableName: aws.String("events"), BillingMode: ddbtypes.BillingModePayPerRequest,
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("user"), AttributeType: ddbtypes.ScalarAttributeTypeS},
			{AttributeName: aws.String("seq"), AttributeType: ddbtypes.ScalarAttributeTypeN}},
		KeySchema: []ddbtypes.KeySchemaElement{{AttributeName: aws.String("user"), KeyType: ddbtypes.KeyTypeHash},
			{AttributeName: aws.String("seq"), KeyType: ddbtypes.KeyTypeRange}}}))
	for _, it := range [][2]string{{"ann", "1"}, {"ann", "2"}, {"ann", "3"}, {"bob", "1"}} {
		must(ddb.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("events"), Item: map[string]ddbtypes.AttributeValue{
			"user": &ddbtypes.AttributeValueMemberS{Value: it[0]}, "seq": &ddbtypes.AttributeValueMemberN{Value: it[1]},
			"tags": &ddbtypes.AttributeValueMemberL{Value: []ddbtypes.AttributeValue{&ddbtypes.AttributeValueMemberBOOL{Value: true}}}}}))
	}
	type item map[string]map[string]any
	var res struct {
		Items       []item
		Count       int
		More        bool
		Error, Code string
	}
	query := func(body map[string]string) int {
		res.Items = nil
		return postJSON(t, srv.URL+"/_wharf/api/tables/query", body, &res)
	}
	if code := query(map[string]string{"table": "events", "partition": "ann"}); code != http.StatusOK || res.Count != 3 || len(res.Items) != 3 || res.More {
		t.Fatalf("query ann: %d %+v", code, res)
	}
	for i, it := range res.Items {
		if it["user"]["S"] != "ann" || it["seq"]["N"] != string(rune('1'+i)) {
			t.Errorf("query ann, item %d: %v", i, it)
		}
	}
	if tags, _ := res.Items[0]["tags"]["L"].([]any); len(tags) != 1 {
		t.Errorf("an item's list in DynamoDB JSON: %v", res.Items[0])
	}
	if code := query(map[string]string{"table": "events", "partition": "ann", "sortOp": ">=", "sort": "2"}); code != http.StatusOK || res.Count != 2 || res.Items[0]["seq"]["N"] != "2" {
		t.Errorf("query ann seq >= 2: %d %+v", code, res)
	}
	if code := query(map[string]string{"table": "events", "partition": "ann", "sortOp": "between", "sort": "1", "sort2": "2"}); code != http.StatusOK || res.Count != 2 {
		t.Errorf("query ann seq between 1 and 2: %d %+v", code, res)
	}
	if code := query(map[string]string{"table": "events", "partition": "ann", "sortOp": ">=", "sort": "two"}); code != http.StatusBadRequest || res.Code != "ValidationException" {
		t.Errorf("a sort key that is not a number: %d %+v", code, res)
	}
	if code := query(map[string]string{"table": "events", "partition": "ann", "sortOp": "like", "sort": "1"}); code != http.StatusBadRequest || res.Code != "ValidationException" {
		t.Errorf("an unknown operator: %d %+v", code, res)
	}
	if code := query(map[string]string{"table": "nosuch", "partition": "ann"}); code != http.StatusBadRequest || res.Code != "ResourceNotFoundException" {
		t.Errorf("a table that does not exist: %d %+v", code, res)
	}
	var view struct{ Items []item }
	if code := getJSON(t, srv.URL+"/_wharf/api/resources/items?table=events", &view); code != http.StatusOK || len(view.Items) != 4 {
		t.Errorf("the items view: %d %+v", code, view)
	}
}
