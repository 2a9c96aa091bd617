package integration

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/fxamacker/cbor/v2"
)

// hostileRequest is one raw request; SDKs cannot send malformed bodies, so
// these are built by hand with SigV4-shaped headers (wharf's default --auth
// any accepts any signature, but routes by the credential scope as AWS does).
type hostileRequest struct {
	service string // the credential scope's service
	method  string
	path    string
	header  map[string]string
	body    []byte
}

// send returns the status, the AWS error code parsed from the protocol's
// error shape (JSON __type, XML Code, CBOR __type), and the body.
func (h hostileRequest) send(t *testing.T, ep string) (int, string, string) {
	t.Helper()
	req, err := http.NewRequest(h.method, ep+h.path, bytes.NewReader(h.body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Amz-Date", "20261206T000000Z")
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=test/20261206/us-east-1/"+h.service+"/aws4_request, SignedHeaders=host;x-amz-date, Signature=0000000000000000000000000000000000000000000000000000000000000000")
	for k, v := range h.header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	code := errorCode(resp.Header.Get("Content-Type"), b)
	if code == "" {
		// rest-json puts the error's type in a header, not the body.
		code = resp.Header.Get("X-Amzn-Errortype")
		code = code[:strings.IndexByte(code+":", ':')]
	}
	return resp.StatusCode, code, string(b)
}

func errorCode(contentType string, body []byte) string {
	switch {
	case strings.Contains(contentType, "cbor"):
		var e map[string]any
		if cbor.Unmarshal(body, &e) != nil {
			return ""
		}
		s, _ := e["__type"].(string)
		return s[strings.LastIndex(s, "#")+1:]
	case strings.Contains(contentType, "json"):
		var e struct {
			Type string `json:"__type"`
		}
		if json.Unmarshal(body, &e) != nil {
			return ""
		}
		return e.Type[strings.LastIndex(e.Type, "#")+1:]
	}
	var e struct {
		Code  string `xml:"Code"`
		Error struct {
			Code string `xml:"Code"`
		} `xml:"Error"`
	}
	if xml.Unmarshal(body, &e) != nil {
		return ""
	}
	return e.Code + e.Error.Code
}

// TestHostileBodiesGetTheirAWSErrorPerProtocol sends truncated, malformed,
// deeply nested, oversized, wrong-typed and invalid-UTF-8 bodies in each
// protocol wharf speaks (awsJson 1.0 and 1.1, restJson, awsQuery, restXml,
// rpcv2Cbor) and expects each to get its AWS error in the protocol's shape,
// never a 5xx, with the server serving afterwards.
func TestHostileBodiesGetTheirAWSErrorPerProtocol(t *testing.T) {
	ep := start(t)
	dynamo := func(op, body string) hostileRequest {
		return hostileRequest{"dynamodb", "POST", "/", map[string]string{"X-Amz-Target": "DynamoDB_20120810." + op, "Content-Type": "application/x-amz-json-1.0"}, []byte(body)}
	}
	logs := func(body string) hostileRequest {
		return hostileRequest{"logs", "POST", "/", map[string]string{"X-Amz-Target": "Logs_20140328.CreateLogGroup", "Content-Type": "application/x-amz-json-1.1"}, []byte(body)}
	}
	scheduler := func(body string) hostileRequest {
		return hostileRequest{"scheduler", "POST", "/schedules/s1", map[string]string{"Content-Type": "application/json"}, []byte(body)}
	}
	query := func(service, body string) hostileRequest {
		return hostileRequest{service, "POST", "/", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, []byte(body)}
	}
	tagging := func(body string) hostileRequest {
		return hostileRequest{"s3", "PUT", "/hostile?tagging", nil, []byte(body)}
	}
	cbor := func(body []byte) hostileRequest {
		return hostileRequest{"monitoring", "POST", "/service/GraniteServiceVersion20100801/operation/ListMetrics",
			map[string]string{"Smithy-Protocol": "rpc-v2-cbor", "Content-Type": "application/cbor", "Accept": "application/cbor"}, body}
	}
	// Setup through the same door: a table, a queue, a topic and a bucket.
	for _, r := range []hostileRequest{
		dynamo("CreateTable", `{"TableName":"tbl","AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"}],"KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}],"BillingMode":"PAY_PER_REQUEST"}`),
		query("sqs", "Action=CreateQueue&Version=2012-11-05&QueueName=q"),
		query("sns", "Action=CreateTopic&Version=2010-03-31&Name=t"),
		{"s3", "PUT", "/hostile", nil, nil},
	} {
		if status, code, body := r.send(t, ep); status != 200 {
			t.Fatalf("setup %s %s: %d %s %s", r.service, r.body, status, code, body)
		}
	}
	big := strings.Repeat("a", 33<<20) // over every codec's body limit
	nestedAV := func(d int) string { return strings.Repeat(`{"L":[`, d) + `{"S":"x"}` + strings.Repeat("]}", d) }
	cborText := func(s string) []byte { // a CBOR text string header, then s
		return append([]byte{0x7a, byte(len(s) >> 24), byte(len(s) >> 16), byte(len(s) >> 8), byte(len(s))}, s...)
	}
	namespace := []byte{0xa1, 0x69, 'N', 'a', 'm', 'e', 's', 'p', 'a', 'c', 'e'} // {"Namespace": ...
	const anyCode = "*"                                                          // oversized: the HTTP layer owns the limits and their codes
	cases := []struct {
		name   string
		req    hostileRequest
		status int
		code   string
	}{
		{"json truncated", dynamo("PutItem", `{"TableName":"tbl","Item":{"pk":{"S":"a`), 400, "SerializationException"},
		{"json malformed", dynamo("PutItem", `{"TableName":"tbl",,}`), 400, "SerializationException"},
		{"json nested past the codec's limit", dynamo("PutItem", `{"TableName":"tbl","Item":{"pk":{"S":"a"},"x":`+nestedAV(600)+`}}`), 400, "SerializationException"},
		{"json nested past DynamoDB's 32 levels", dynamo("PutItem", `{"TableName":"tbl","Item":{"pk":{"S":"a"},"x":`+nestedAV(33)+`}}`), 400, "ValidationException"},
		{"json oversized", dynamo("PutItem", `{"TableName":"tbl","Item":{"pk":{"S":"`+big+`"}}}`), 413, anyCode},
		{"json wrong type", dynamo("PutItem", `{"TableName":5}`), 400, "SerializationException"},
		{"json invalid UTF-8", dynamo("PutItem", "{\"TableName\":\"tbl\",\"Item\":{\"pk\":{\"S\":\"\xff\"}}}"), 400, "SerializationException"},
		{"json lone surrogate escape", dynamo("PutItem", `{"TableName":"tbl","Item":{"pk":{"S":"\ud800"}}}`), 400, "SerializationException"},
		{"json 1.1 invalid UTF-8", logs("{\"logGroupName\":\"a\xc3\"}"), 400, "SerializationException"},
		{"json 1.1 nested", logs(`{"logGroupName":"a","tags":` + strings.Repeat("[", 2000) + strings.Repeat("]", 2000) + `}`), 400, "SerializationException"},
		{"rest-json truncated", scheduler(`{"ScheduleExpression":"rate(1 hour)"`), 400, "SerializationException"},
		{"rest-json malformed", scheduler(`{"ScheduleExpression":]`), 400, "SerializationException"},
		{"rest-json nested", scheduler(strings.Repeat("[", 5000) + strings.Repeat("]", 5000)), 400, "SerializationException"},
		{"rest-json oversized", scheduler(`{"Description":"` + big + `"}`), 413, anyCode},
		{"rest-json wrong type", scheduler(`{"ScheduleExpression":7}`), 400, "SerializationException"},
		{"rest-json invalid UTF-8", scheduler("{\"ScheduleExpression\":\"rate(\xfe)\"}"), 400, "SerializationException"},
		{"query truncated escape", query("sqs", "Action=CreateQueue&Version=2012-11-05&QueueName=a%"), 400, "MalformedQueryString"},
		{"query malformed escape", query("sqs", "Action=CreateQueue&Version=2012-11-05&QueueName=%zz"), 400, "MalformedQueryString"},
		{"query nested names", query("sqs", "Action=CreateQueue&Version=2012-11-05&QueueName=q&"+strings.Repeat("Attribute.1.", 5000)+"Name=x"), 400, "MissingParameter"},
		{"query oversized", query("sns", "Action=Publish&Version=2010-03-31&TopicArn=arn:aws:sns:us-east-1:000000000000:t&Message="+big), 400, anyCode},
		{"query wrong type", query("iam", "Action=ListUsers&Version=2010-05-08&MaxItems=many"), 400, "InvalidParameterValue"},
		{"query invalid UTF-8, SQS message", query("sqs", "Action=SendMessage&Version=2012-11-05&QueueUrl=http://x/000000000000/q&MessageBody=%FF"), 400, "InvalidMessageContents"},
		{"query invalid UTF-8, SNS message", query("sns", "Action=Publish&Version=2010-03-31&TopicArn=arn:aws:sns:us-east-1:000000000000:t&Message=%FF"), 400, "InvalidParameter"},
		{"query invalid UTF-8, IAM description", query("iam", "Action=CreateRole&Version=2010-05-08&RoleName=r&AssumeRolePolicyDocument=%7B%22Statement%22%3A%5B%5D%7D&Description=%FF"), 400, "InvalidParameterValue"},
		{"query invalid UTF-8, CloudWatch metric", query("monitoring", "Action=PutMetricData&Version=2010-08-01&Namespace=n&MetricData.member.1.MetricName=%FF&MetricData.member.1.Value=1"), 400, "InvalidParameterValue"},
		{"IAM policy nested past encoding/json's limit", query("iam", "Action=CreateRole&Version=2010-05-08&RoleName=r2&AssumeRolePolicyDocument="+strings.Repeat("%5B", 10001)), 400, "MalformedPolicyDocument"},
		{"xml truncated", tagging(`<Tagging><TagSet><Tag><Key>a</Key>`), 400, "MalformedXML"},
		{"xml malformed", tagging(`<Tagging><TagSet></Tagging>`), 400, "MalformedXML"},
		{"xml nested", tagging(strings.Repeat("<a>", 5000) + strings.Repeat("</a>", 5000)), 400, "MalformedXML"},
		{"xml oversized", tagging("<Tagging><TagSet><Tag><Key>" + big + "</Key><Value>v</Value></Tag></TagSet></Tagging>"), 400, anyCode},
		{"xml wrong value", hostileRequest{"s3", "PUT", "/hostile?versioning", nil, []byte(`<VersioningConfiguration><Status>maybe</Status></VersioningConfiguration>`)}, 400, "MalformedXML"},
		{"xml invalid UTF-8", tagging("<Tagging><TagSet><Tag><Key>\xff</Key><Value>v</Value></Tag></TagSet></Tagging>"), 400, "MalformedXML"},
		{"cbor truncated", cbor([]byte{0xa1, 0x69}), 400, "SerializationException"},
		{"cbor malformed", cbor([]byte{0xff, 0xff}), 400, "SerializationException"},
		{"cbor nested", cbor(append(bytes.Repeat([]byte{0x81}, 100), 0x01)), 400, "SerializationException"},
		{"cbor oversized", cbor(append(namespace, cborText(big)...)), 413, anyCode},
		{"cbor wrong type", cbor(append(namespace, 0x05)), 400, "SerializationException"},
		{"cbor invalid UTF-8", cbor(append(namespace, 0x61, 0xff)), 400, "SerializationException"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, code, body := tc.req.send(t, ep)
			if len(body) > 300 {
				body = body[:300]
			}
			if status >= 500 || status != tc.status || code == "" || (tc.code != anyCode && code != tc.code) {
				t.Fatalf("got %d %q, want %d %q; body %q", status, code, tc.status, tc.code, body)
			}
		})
	}
	// Nothing above was stored, and the server still serves.
	status, code, body := dynamo("Scan", `{"TableName":"tbl"}`).send(t, ep)
	if status != 200 || !strings.Contains(body, `"Count":0`) {
		t.Fatalf("scan after the hostile requests: %d %s %s", status, code, body)
	}
}
