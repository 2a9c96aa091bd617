package app

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/wharf-dev/wharf/internal/awsapi"
	sqsapi "github.com/wharf-dev/wharf/internal/awsapi/sqs"
	"github.com/wharf-dev/wharf/internal/server"
)

// BenchmarkRecvDelJSON is bench/peers' sqs-recvdel-json without the network
// and at one client: a signed JSON SendMessageBatch of ten, a ReceiveMessage
// of up to ten and a DeleteMessageBatch of what it received, through the
// server's whole request path, in memory. Signing the delete (its receipt
// handles change every time) is left out of the measure.
func BenchmarkRecvDelJSON(b *testing.B) {
	sys, srv := benchServer(b)
	ctx := awsapi.WithCaller(context.Background(), &awsapi.Caller{Account: "000000000000", Region: "us-east-1", Host: "localhost:4566"})
	const queue = "bench-recv-json"
	if _, err := sys.SQS.CreateQueue(ctx, &sqsapi.CreateQueueInput{QueueName: awsapi.String(queue)}); err != nil {
		b.Fatal(err)
	}
	u := "http://localhost:4566/000000000000/" + queue
	var send strings.Builder
	send.WriteString(`{"QueueUrl":"` + u + `","Entries":[`)
	for i := 0; i < 10; i++ {
		if i > 0 {
			send.WriteByte(',')
		}
		send.WriteString(`{"Id":"` + strconv.Itoa(i) + `","MessageBody":"hello from the benchmark"}`)
	}
	send.WriteString(`]}`)
	sendReq := signedJSON(b, "SendMessageBatch", send.String())
	recvReq := signedJSON(b, "ReceiveMessage", `{"QueueUrl":"`+u+`","MaxNumberOfMessages":10}`)
	var received struct {
		Messages []struct{ ReceiptHandle string }
	}
	b.ReportAllocs()
	for b.Loop() {
		serveJSON(b, srv, sendReq)
		w := serveJSON(b, srv, recvReq)
		b.StopTimer()
		received.Messages = received.Messages[:0]
		if err := json.Unmarshal(w.Body.Bytes(), &received); err != nil || len(received.Messages) == 0 {
			b.Fatalf("received nothing (%v): %s", err, w.Body)
		}
		var del strings.Builder
		del.WriteString(`{"QueueUrl":"` + u + `","Entries":[`)
		for i, m := range received.Messages {
			if i > 0 {
				del.WriteByte(',')
			}
			del.WriteString(`{"Id":"` + strconv.Itoa(i) + `","ReceiptHandle":"` + m.ReceiptHandle + `"}`)
		}
		del.WriteString(`]}`)
		delReq := signedJSON(b, "DeleteMessageBatch", del.String())
		b.StartTimer()
		w = serveJSON(b, srv, delReq)
		if strings.Contains(w.Body.String(), `"Failed":[{`) {
			b.Fatalf("delete failed: %s", w.Body)
		}
	}
}

// jsonRequest is a signed request and its body, to be served again and again.
type jsonRequest struct {
	req  *http.Request
	body string
}

// signedJSON is the SQS JSON request for op with body, signed with the
// default root key.
func signedJSON(b *testing.B, op, body string) jsonRequest {
	req := httptest.NewRequest(http.MethodPost, "http://localhost:4566/", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	req.Header.Set("X-Amz-Target", "AmazonSQS."+op)
	signRequest(b, req, body, "sqs")
	return jsonRequest{req, body}
}

// serveJSON has srv serve r, failing at an answer other than 200.
func serveJSON(b *testing.B, srv *server.Server, r jsonRequest) *httptest.ResponseRecorder {
	return serveOnce(b, srv, r.req, r.body)
}
