package main

import (
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// serveNull answers every request the ops send with a valid canned response
// and does nothing else: the ceiling for a Go HTTP server on this machine.
// It reads each request body whole, as a real server must.
func serveNull(addr string) error {
	return http.ListenAndServe(addr, http.HandlerFunc(nullHandler))
}

const xmlNS = `<?xml version="1.0"?>`

var (
	receiveJSON, receiveQuery, queryItems string
	bigBody                               = big
)

func init() {
	var j, q strings.Builder
	j.WriteString(`{"Messages":[`)
	q.WriteString(xmlNS + `<ReceiveMessageResponse><ReceiveMessageResult>`)
	for i := 0; i < 10; i++ {
		if i > 0 {
			j.WriteString(",")
		}
		n := strconv.Itoa(i)
		j.WriteString(`{"MessageId":"m-` + n + `","ReceiptHandle":"r-` + n + `","MD5OfBody":"x","Body":"hello from the benchmark"}`)
		q.WriteString(`<Message><MessageId>m-` + n + `</MessageId><ReceiptHandle>r-` + n + `</ReceiptHandle><MD5OfBody>x</MD5OfBody><Body>hello from the benchmark</Body></Message>`)
	}
	j.WriteString(`]}`)
	q.WriteString(`</ReceiveMessageResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></ReceiveMessageResponse>`)
	receiveJSON, receiveQuery = j.String(), q.String()
	var it strings.Builder
	it.WriteString(`{"Count":40,"ScannedCount":40,"Items":[`)
	for i := 0; i < 40; i++ {
		if i > 0 {
			it.WriteString(",")
		}
		it.WriteString(`{"pk":{"S":"query"},"sk":{"S":"` + strconv.Itoa(100+i) + `"},"name":{"S":"a benchmark item"},"n":{"N":"42"},"tags":{"SS":["a","b"]}}`)
	}
	it.WriteString(`]}`)
	queryItems = it.String()
}

var batchJSON, batchQuery = batchOK()

func batchOK() (string, string) {
	var j, q strings.Builder
	j.WriteString(`{"Successful":[`)
	for i := 0; i < 10; i++ {
		if i > 0 {
			j.WriteString(",")
		}
		n := strconv.Itoa(i)
		j.WriteString(`{"Id":"` + n + `","MessageId":"m-` + n + `","MD5OfMessageBody":"x"}`)
		q.WriteString(`<SendMessageBatchResultEntry><Id>` + n + `</Id><MessageId>m-` + n + `</MessageId><MD5OfMessageBody>x</MD5OfMessageBody></SendMessageBatchResultEntry>`)
	}
	j.WriteString(`],"Failed":[]}`)
	return j.String(), q.String()
}

func nullHandler(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	h := w.Header()
	h.Set("X-Amzn-Requestid", "1")
	if t := r.Header.Get("X-Amz-Target"); t != "" {
		_, action, _ := strings.Cut(t, ".")
		h.Set("Content-Type", "application/x-amz-json-1.0")
		io.WriteString(w, jsonAnswer(action))
		return
	}
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		v, _ := url.ParseQuery(string(body))
		h.Set("Content-Type", "text/xml")
		a := v.Get("Action")
		io.WriteString(w, xmlNS+"<"+a+"Response><"+a+"Result>"+queryAnswer(a)+"</"+a+"Result><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></"+a+"Response>")
		return
	}
	// S3, path style.
	switch r.Method {
	case http.MethodPut:
		h.Set("ETag", `"0123456789abcdef0123456789abcdef"`)
	case http.MethodGet, http.MethodHead:
		b := small
		if strings.HasSuffix(r.URL.Path, "/k64") {
			b = bigBody
		}
		h.Set("Content-Length", strconv.Itoa(len(b)))
		h.Set("ETag", `"0123456789abcdef0123456789abcdef"`)
		h.Set("Content-Type", "application/octet-stream")
		if r.Method == http.MethodGet {
			w.Write(b)
		}
	}
}

func jsonAnswer(action string) string {
	switch action {
	case "CreateQueue":
		return `{"QueueUrl":"http://127.0.0.1/000000000000/q"}`
	case "GetQueueAttributes":
		return `{"Attributes":{"QueueArn":"arn:aws:sqs:us-east-1:000000000000:q"}}`
	case "SendMessage":
		return `{"MessageId":"m-1","MD5OfMessageBody":"x"}`
	case "SendMessageBatch":
		return batchJSON
	case "ReceiveMessage":
		return receiveJSON
	case "DeleteMessageBatch":
		return `{"Successful":[{"Id":"0"},{"Id":"1"},{"Id":"2"},{"Id":"3"},{"Id":"4"},{"Id":"5"},{"Id":"6"},{"Id":"7"},{"Id":"8"},{"Id":"9"}],"Failed":[]}`
	case "DescribeTable":
		return `{"Table":{"TableName":"bench","TableStatus":"ACTIVE"}}`
	case "GetItem":
		return `{"Item":{"pk":{"S":"get"},"sk":{"S":"1"},"name":{"S":"a benchmark item"},"n":{"N":"42"},"tags":{"SS":["a","b"]}}}`
	case "Query":
		return queryItems
	case "PutEvents":
		return `{"FailedEntryCount":0,"Entries":[{"EventId":"e-1"}]}`
	case "PutRule":
		return `{"RuleArn":"arn:aws:events:us-east-1:000000000000:rule/r"}`
	case "PutTargets":
		return `{"FailedEntryCount":0,"FailedEntries":[]}`
	}
	return `{}`
}

func queryAnswer(action string) string {
	switch action {
	case "CreateQueue":
		return `<QueueUrl>http://127.0.0.1/000000000000/q</QueueUrl>`
	case "GetQueueAttributes":
		return `<Attribute><Name>QueueArn</Name><Value>arn:aws:sqs:us-east-1:000000000000:q</Value></Attribute>`
	case "SendMessage":
		return `<MessageId>m-1</MessageId><MD5OfMessageBody>x</MD5OfMessageBody>`
	case "SendMessageBatch":
		return batchQuery
	case "ReceiveMessage":
		return receiveQuery[len(xmlNS+`<ReceiveMessageResponse><ReceiveMessageResult>`) : len(receiveQuery)-len(`</ReceiveMessageResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></ReceiveMessageResponse>`)]
	case "CreateTopic":
		return `<TopicArn>arn:aws:sns:us-east-1:000000000000:bench-topic</TopicArn>`
	case "Subscribe":
		return `<SubscriptionArn>arn:aws:sns:us-east-1:000000000000:bench-topic:1</SubscriptionArn>`
	case "Publish":
		return `<MessageId>m-1</MessageId>`
	case "GetCallerIdentity":
		return `<Arn>arn:aws:iam::000000000000:root</Arn><UserId>000000000000</UserId><Account>000000000000</Account>`
	}
	return ""
}
