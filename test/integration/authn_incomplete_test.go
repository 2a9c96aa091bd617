package integration

import (
	"context"
	"errors"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/scheduler"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/fxamacker/cbor/v2"
)

// withoutSignedHeaders is an Authorization header whose credential scope
// names service but which lacks SignedHeaders, and its X-Amz-Date.
func withoutSignedHeaders(service string) (auth, date string) {
	now := time.Now().UTC()
	return "AWS4-HMAC-SHA256 Credential=test/" + now.Format("20060102") + "/us-east-1/" + service + "/aws4_request, Signature=00",
		now.Format("20060102T150405Z")
}

// presignedWithoutCredential is a presigned URL's query without its
// X-Amz-Credential: nothing in it names a service.
func presignedWithoutCredential() string {
	return "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=" + time.Now().UTC().Format("20060102T150405Z") +
		"&X-Amz-SignedHeaders=host&X-Amz-Signature=00&X-Amz-Expires=60"
}

// TestIncompleteSignatureIsAnsweredInTheServicesProtocol: a signature the
// front door cannot read (an Authorization header without SignedHeaders, a
// presigned URL without X-Amz-Credential) is refused by the service it was
// meant for, in that service's protocol, as AWS answers it: the JSON
// services with IncompleteSignatureException (awsJson: 400 and __type;
// restJson, Scheduler: 403 and x-amzn-ErrorType, no __type), the query
// services with an XML IncompleteSignature, S3 with its XML
// AuthorizationQueryParametersError. Scheduler answered XML before.
// --auth any: the signature is parsed whether or not it is then verified.
func TestIncompleteSignatureIsAnsweredInTheServicesProtocol(t *testing.T) {
	t.Parallel()
	ep := start(t)
	const presignMsg = "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters."
	headerCase := func(name, service, method, path string, h map[string]string, body string) (errorShape, string) {
		auth, date := withoutSignedHeaders(service)
		hh := map[string]string{"Authorization": auth, "X-Amz-Date": date}
		for k, v := range h {
			hh[k] = v
		}
		return errorShape{name: name, method: method, path: path, header: hh, body: body},
			"Authorization header requires 'SignedHeaders' parameter. Authorization=" + auth
	}
	var cases []errorShape
	add := func(c errorShape, msg string, status int, errType, jsonType, messageKey, queryError, xmlFault, xmlCode string) {
		c.message, c.status, c.errType, c.jsonType, c.messageKey, c.queryError, c.xmlFault, c.xmlCode = msg, status, errType, jsonType, messageKey, queryError, xmlFault, xmlCode
		cases = append(cases, c)
	}
	// restJson: Scheduler.
	c, msg := headerCase("scheduler: no SignedHeaders", "scheduler", "GET", "/schedules", nil, "")
	add(c, msg, 403, "IncompleteSignatureException", "", "message", "", "", "")
	c, msg = headerCase("scheduler: no SignedHeaders, create", "scheduler", "POST", "/schedules/nightly", map[string]string{"Content-Type": "application/json"}, `{}`)
	add(c, msg, 403, "IncompleteSignatureException", "", "message", "", "", "")
	add(errorShape{name: "scheduler: presigned without credential", method: "GET", path: "/schedule-groups?" + presignedWithoutCredential()},
		presignMsg, 403, "IncompleteSignatureException", "", "message", "", "", "")
	// awsJson 1.0 and 1.1.
	c, msg = headerCase("dynamodb: no SignedHeaders", "dynamodb", "POST", "/", jsonCall("1.0", "DynamoDB_20120810.ListTables"), `{}`)
	add(c, msg, 400, "IncompleteSignatureException", "com.amazon.coral.service#IncompleteSignatureException", "message", "", "", "")
	add(errorShape{name: "ecs: presigned without credential", method: "POST", path: "/?" + presignedWithoutCredential(),
		header: jsonCall("1.1", "AmazonEC2ContainerServiceV20141113.ListClusters"), body: `{}`},
		presignMsg, 400, "IncompleteSignatureException", "IncompleteSignatureException", "message", "", "", "")
	c, msg = headerCase("logs: no SignedHeaders", "logs", "POST", "/", jsonCall("1.1", "Logs_20140328.DescribeLogGroups"), `{}`)
	add(c, msg, 400, "IncompleteSignatureException", "IncompleteSignatureException", "message", "", "", "")
	// SQS over JSON keeps its query codes (awsQueryCompatible).
	c, msg = headerCase("sqs json: no SignedHeaders", "sqs", "POST", "/", jsonCall("1.0", "AmazonSQS.ListQueues"), `{}`)
	add(c, msg, 400, "IncompleteSignature", "com.amazon.coral.service#IncompleteSignature", "message", "IncompleteSignature;Sender", "", "")
	// query.
	c, msg = headerCase("sqs query: no SignedHeaders", "sqs", "POST", "/", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, "Action=ListQueues&Version=2012-11-05")
	add(c, msg, 400, "", "", "", "", "Sender", "IncompleteSignature")
	add(errorShape{name: "sns query: presigned without credential", method: "GET", path: "/?Action=ListTopics&Version=2010-03-31&" + presignedWithoutCredential()},
		presignMsg, 400, "", "", "", "", "Sender", "IncompleteSignature")
	c, msg = headerCase("sts query: no SignedHeaders", "sts", "POST", "/", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, "Action=GetCallerIdentity&Version=2011-06-15")
	add(c, msg, 400, "", "", "", "", "Sender", "IncompleteSignature")
	checkErrorShapes(t, ep, cases)

	// rest-xml: S3 keeps its own error.
	status, _, body := rawCall(t, "GET", ep+"/some-bucket?"+presignedWithoutCredential(), nil, "")
	if status != 400 || !strings.Contains(body, "<Code>AuthorizationQueryParametersError</Code>") {
		t.Errorf("s3 presigned without credential: %d %s", status, body)
	}

	// smithy-rpc-v2-cbor: CloudWatch answers in CBOR (its query codes, as
	// it speaks query too).
	auth, date := withoutSignedHeaders("monitoring")
	status, h, body := rawCall(t, "POST", ep+"/service/GraniteServiceVersion20100801/operation/ListMetrics",
		map[string]string{"Authorization": auth, "X-Amz-Date": date, "Smithy-Protocol": "rpc-v2-cbor", "Content-Type": "application/cbor", "Accept": "application/cbor"}, "\xa0")
	var m map[string]any
	if err := cbor.Unmarshal([]byte(body), &m); err != nil || status != 400 || h.Get("Smithy-Protocol") != "rpc-v2-cbor" ||
		!strings.HasSuffix(toString(m["__type"]), "IncompleteSignature") || m["message"] != "Authorization header requires 'SignedHeaders' parameter. Authorization="+auth {
		t.Errorf("cloudwatch cbor: %d %v %v (%v)", status, h, m, err)
	}
}

func toString(v any) string {
	s, _ := v.(string)
	return s
}

// dropSignedHeaders is a transport that removes SignedHeaders from the
// SDK's Authorization header, as a broken signer would send it.
type dropSignedHeaders struct{}

var signedHeadersParam = regexp.MustCompile(`,\s*SignedHeaders=[^,]*`)

func (dropSignedHeaders) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", signedHeadersParam.ReplaceAllString(r.Header.Get("Authorization"), ""))
	return http.DefaultTransport.RoundTrip(r)
}

// TestSDKsReadAnIncompleteSignatureError: the Go SDK's Scheduler (restJson)
// and DynamoDB (awsJson) clients decode the error as the service's
// IncompleteSignatureException, where Scheduler's client failed to read
// the XML body it got before.
func TestSDKsReadAnIncompleteSignatureError(t *testing.T) {
	t.Parallel()
	ep := start(t)
	cfg := awsConfig(ep, "test", "test", "")
	cfg.HTTPClient = &http.Client{Transport: dropSignedHeaders{}}
	check := func(name string, err error, status int) {
		t.Helper()
		var ae smithy.APIError
		var re *smithyhttp.ResponseError
		if !errors.As(err, &ae) || ae.ErrorCode() != "IncompleteSignatureException" ||
			!strings.HasPrefix(ae.ErrorMessage(), "Authorization header requires 'SignedHeaders' parameter.") ||
			!errors.As(err, &re) || re.HTTPStatusCode() != status {
			t.Errorf("%s: %v, want %d IncompleteSignatureException", name, err, status)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := scheduler.NewFromConfig(cfg).ListSchedules(ctx, &scheduler.ListSchedulesInput{})
	check("scheduler", err, 403)
	_, err = dynamodb.NewFromConfig(cfg).ListTables(ctx, &dynamodb.ListTablesInput{})
	check("dynamodb", err, 400)
}
