package jsonrpc_test

import (
	"fmt"
	"testing"

	"github.com/wharf-dev/wharf/internal/awsapi/dynamodb"
	"github.com/wharf-dev/wharf/internal/awsapi/events"
	"github.com/wharf-dev/wharf/internal/protocol/jsonrpc"
)

// The bodies below are those bench/peers sends, as aws-sdk-go-v2 writes them.
const (
	putItemBody   = `{"Item":{"n":{"N":"42"},"name":{"S":"a benchmark item"},"pk":{"S":"put"},"sk":{"S":"3"},"tags":{"SS":["a","b"]}},"TableName":"bench"}`
	putEventsBody = `{"Entries":[{"Detail":"{\"w\":0,\"order\":\"o-1\"}","DetailType":"Bench","Source":"bench"}]}`
	queryBody     = `{"ExpressionAttributeValues":{":p":{"S":"query"}},"KeyConditionExpression":"pk = :p","TableName":"bench"}`
)

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
