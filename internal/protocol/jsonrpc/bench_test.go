package jsonrpc_test

import (
	"fmt"
	"testing"

	"github.com/wharf-dev/wharf/internal/awsapi/dynamodb"
	"github.com/wharf-dev/wharf/internal/awsapi/events"
	"github.com/wharf-dev/wharf/internal/awsapi/sqs"
	"github.com/wharf-dev/wharf/internal/protocol/jsonrpc"
)

// The bodies below are those bench/peers sends, as aws-sdk-go-v2 writes them.
const (
	putItemBody   = `{"Item":{"n":{"N":"42"},"name":{"S":"a benchmark item"},"pk":{"S":"put"},"sk":{"S":"3"},"tags":{"SS":["a","b"]}},"TableName":"bench"}`
	putEventsBody = `{"Entries":[{"Detail":"{\"w\":0,\"order\":\"o-1\"}","DetailType":"Bench","Source":"bench"}]}`
	queryBody     = `{"ExpressionAttributeValues":{":p":{"S":"query"}},"KeyConditionExpression":"pk = :p","TableName":"bench"}`
)

// sendBatchBody is bench/peers' sqs-batch-json request: ten entries.
var sendBatchBody = func() string {
	b := `{"Entries":[`
	for i := range 10 {
		if i > 0 {
			b += ","
		}
		b += fmt.Sprintf(`{"Id":"%d","MessageBody":"hello from the benchmark"}`, i)
	}
	return b + `],"QueueUrl":"http://127.0.0.1:4566/000000000000/bench-batch-json"}`
}()

func BenchmarkUnmarshalSendMessageBatch(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		var in sqs.SendMessageBatchInput
		if err := jsonrpc.Unmarshal([]byte(sendBatchBody), &in, jsonrpc.Options{}); err != nil || len(in.Entries) != 10 {
			b.Fatal(err)
		}
	}
}

func BenchmarkUnmarshalPutItem(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		var in dynamodb.PutItemInput
		if err := jsonrpc.Unmarshal([]byte(putItemBody), &in, jsonrpc.Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkUnmarshalPutEvents(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		var in events.PutEventsInput
		if err := jsonrpc.Unmarshal([]byte(putEventsBody), &in, jsonrpc.Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkUnmarshalQuery(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		var in dynamodb.QueryInput
		if err := jsonrpc.Unmarshal([]byte(queryBody), &in, jsonrpc.Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMarshalQuery40 encodes the answer of bench/peers' Query: 40 items.
func BenchmarkMarshalQuery40(b *testing.B) {
	s := func(v string) *string { return &v }
	out := &dynamodb.QueryOutput{Count: new(int32), ScannedCount: new(int32)}
	for i := range 40 {
		out.Items = append(out.Items, map[string]dynamodb.AttributeValue{
			"pk": {S: s("query")}, "sk": {S: s(fmt.Sprintf("%03d", i))}, "name": {S: s("a benchmark item")},
			"n": {N: s("42")}, "tags": {SS: []string{"a", "b"}},
		})
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := jsonrpc.Marshal(out, jsonrpc.Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
