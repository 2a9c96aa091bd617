package server

import "testing"

// sdkHead is the head of an SQS JSON request as aws-sdk-go-v2 sends it
// (bench/peers' sqs-recvdel-json): eleven header lines, all of them once.
const sdkHead = "POST / HTTP/1.1\r\nHost: 127.0.0.1:4566\r\nUser-Agent: aws-sdk-go-v2/1.36.3 ua/2.1 os/linux lang/go#1.26 md/GOOS#linux md/GOARCH#amd64 api/sqs#1.38.1 m/E\r\n" +
	"Content-Length: 612\r\nAccept-Encoding: identity\r\nAmz-Sdk-Invocation-Id: 5d4c2f0e-8a0b-4b59-9d0c-2f3b6a7e9c11\r\nAmz-Sdk-Request: attempt=1; max=3\r\n" +
	"Authorization: AWS4-HMAC-SHA256 Credential=test/20261207/us-east-1/sqs/aws4_request, SignedHeaders=accept-encoding;amz-sdk-invocation-id;amz-sdk-request;content-length;content-type;host;x-amz-date;x-amz-query-mode;x-amz-target, Signature=0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0\r\n" +
	"Content-Type: application/x-amz-json-1.0\r\nX-Amz-Date: 20261207T123000Z\r\nX-Amz-Query-Mode: true\r\nX-Amz-Target: AmazonSQS.ReceiveMessage\r\n\r\n"

// BenchmarkParseFastHead measures the fast path's parse of an SDK's head,
// which every plain request pays.
func BenchmarkParseFastHead(b *testing.B) {
	head := []byte(sdkHead)
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := parseFastHead(head); !ok {
			b.Fatal("not parsed")
		}
	}
}
