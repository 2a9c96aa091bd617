package integration

import (
	"encoding/json"
	"encoding/xml"
	"strings"
	"testing"
	"time"
)

// errorShape is how one AWS service renders one error on the wire.
type errorShape struct {
	name    string
	method  string
	path    string
	header  map[string]string
	body    string
	status  int
	errType string // x-amzn-ErrorType ("" where AWS sends none)
	// JSON protocols: the body's __type and the key its message is under.
	jsonType   string
	messageKey string
	queryError string // x-amzn-query-error (awsQueryCompatible services)
	// XML protocols: the Error's Type and Code.
	xmlFault, xmlCode string
	message           string // the message, exactly
}

// jsonCall is a JSON-protocol request's headers for an X-Amz-Target.
func jsonCall(version, target string) map[string]string {
	return map[string]string{"X-Amz-Target": target, "Content-Type": "application/x-amz-json-" + version}
}

// queryCall is a query-protocol request's headers, its credential scope
// naming the service (as a signed request's does).
func queryCall(service string) map[string]string {
	h := scoped(service)
	h["Content-Type"] = "application/x-www-form-urlencoded"
	return h
}

// scoped is an Authorization header whose credential scope names the service
// (wharf's default --auth any does not check the signature).
func scoped(service string) map[string]string {
	now := time.Now().UTC()
	return map[string]string{"X-Amz-Date": now.Format("20060102T150405Z"),
		"Authorization": "AWS4-HMAC-SHA256 Credential=test/" + now.Format("20060102") + "/us-east-1/" + service + "/aws4_request, SignedHeaders=host;x-amz-date, Signature=00"}
}

// TestErrorShapesAreAWSs: each service's errors through the server, in the
// shape AWS sends for its protocol: status, x-amzn-ErrorType, __type (with
// the namespace awsQueryCompatible services and DynamoDB put there),
// x-amzn-query-error, the message's key ("message" or "Message", as the
// service's model spells it) and AWS's wording.
func TestErrorShapesAreAWSs(t *testing.T) {
	t.Parallel()
	ep := start(t)
	cases := []errorShape{
		{name: "sqs json: missing queue", method: "POST", header: jsonCall("1.0", "AmazonSQS.GetQueueUrl"), body: `{"QueueName":"nope"}`,
			status: 400, errType: "QueueDoesNotExist", jsonType: "com.amazonaws.sqs#QueueDoesNotExist", messageKey: "message",
			queryError: "AWS.SimpleQueueService.NonExistentQueue;Sender", message: "The specified queue does not exist."},
		// SQS's JSON names for the common query errors its model has no
		// shape for (botocore's QueryErrorCode in SQS's recorded answers).
		{name: "sqs json: missing parameter", method: "POST", header: jsonCall("1.0", "AmazonSQS.CreateQueue"), body: `{}`,
			status: 400, errType: "MissingRequiredParameterException", jsonType: "com.amazonaws.sqs#MissingRequiredParameterException", messageKey: "message",
			queryError: "MissingParameter;Sender", message: "The request must contain the parameter QueueName."},
		{name: "sqs json: invalid parameter value", method: "POST", header: jsonCall("1.0", "AmazonSQS.ReceiveMessage"),
			body:   `{"QueueUrl":"http://localhost/000000000000/exists","MaxNumberOfMessages":11}`,
			status: 400, errType: "InvalidParameterValueException", jsonType: "com.amazonaws.sqs#InvalidParameterValueException", messageKey: "message",
			queryError: "InvalidParameterValue;Sender", message: "Value 11 for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided."},
		{name: "sqs query: missing queue", method: "POST", header: queryCall("sqs"), body: "Action=GetQueueUrl&Version=2012-11-05&QueueName=nope",
			status: 400, xmlFault: "Sender", xmlCode: "AWS.SimpleQueueService.NonExistentQueue", message: "The specified queue does not exist."},
		{name: "sqs query: send to a missing queue", method: "POST", header: queryCall("sqs"),
			body:   "Action=SendMessage&Version=2012-11-05&QueueUrl=http://localhost/000000000000/nope&MessageBody=x",
			status: 400, xmlFault: "Sender", xmlCode: "AWS.SimpleQueueService.NonExistentQueue", message: "The specified queue does not exist."},
		{name: "sns: missing topic", method: "POST", header: queryCall("sns"), body: "Action=GetTopicAttributes&Version=2010-03-31&TopicArn=arn:aws:sns:us-east-1:000000000000:nope",
			status: 404, xmlFault: "Sender", xmlCode: "NotFound", message: "Topic does not exist"},
		{name: "sns: missing topic before a bad endpoint", method: "POST", header: queryCall("sns"),
			body:   "Action=Subscribe&Version=2010-03-31&TopicArn=arn:aws:sns:us-east-1:000000000000:nope&Protocol=sqs&Endpoint=not-an-arn",
			status: 404, xmlFault: "Sender", xmlCode: "NotFound", message: "Topic does not exist"},
		{name: "sns: bad endpoint of a topic that exists", method: "POST", header: queryCall("sns"),
			body:   "Action=Subscribe&Version=2010-03-31&TopicArn=arn:aws:sns:us-east-1:000000000000:exists&Protocol=sqs&Endpoint=not-an-arn",
			status: 400, xmlFault: "Sender", xmlCode: "InvalidParameter", message: "Invalid parameter: SQS endpoint ARN"},
		{name: "eventbridge: validation", method: "POST", header: jsonCall("1.1", "AWSEvents.PutRule"), body: `{"Name":"bad name!"}`,
			status: 400, errType: "ValidationException", jsonType: "ValidationException", messageKey: "message",
			message: `1 validation error detected: Value 'bad name!' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: [\.\-_A-Za-z0-9]+`},
		{name: "dynamodb: common validation error in Coral's namespace", method: "POST", header: jsonCall("1.0", "DynamoDB_20120810.DescribeTable"), body: `{"TableName":"a"}`,
			status: 400, errType: "ValidationException", jsonType: "com.amazon.coral.validate#ValidationException", messageKey: "message",
			message: "1 validation error detected: Value 'a' at 'tableName' failed to satisfy constraint: Member must have length greater than or equal to 3"},
		{name: "application auto scaling: validation under Message", method: "POST", header: jsonCall("1.1", "AnyScaleFrontendService.DescribeScalableTargets"),
			body: `{"ServiceNamespace":"nope"}`, status: 400, errType: "ValidationException", jsonType: "ValidationException", messageKey: "Message",
			message: "1 validation error detected: Value 'nope' at 'serviceNamespace' failed to satisfy constraint: Member must satisfy enum value set: " +
				"[ecs, elasticmapreduce, ec2, appstream, dynamodb, rds, sagemaker, custom-resource, comprehend, lambda, cassandra, kafka, elasticache, neptune, workspaces]"},
		{name: "eventbridge: missing rule", method: "POST", header: jsonCall("1.1", "AWSEvents.DescribeRule"), body: `{"Name":"nope"}`,
			status: 400, errType: "ResourceNotFoundException", jsonType: "ResourceNotFoundException", messageKey: "message",
			message: "Rule nope does not exist on EventBus default."},
		{name: "ecs: missing cluster", method: "POST", header: jsonCall("1.1", "AmazonEC2ContainerServiceV20141113.ListServices"), body: `{"cluster":"nope"}`,
			status: 400, errType: "ClusterNotFoundException", jsonType: "ClusterNotFoundException", messageKey: "message",
			message: "Cluster not found."},
		{name: "dynamodb: missing table", method: "POST", header: jsonCall("1.0", "DynamoDB_20120810.DescribeTable"), body: `{"TableName":"nope"}`,
			status: 400, errType: "ResourceNotFoundException", jsonType: "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException", messageKey: "message",
			message: "Requested resource not found: Table: nope not found"},
		{name: "application auto scaling: missing policy", method: "POST", header: jsonCall("1.1", "AnyScaleFrontendService.DeleteScalingPolicy"),
			body:   `{"PolicyName":"nope","ServiceNamespace":"ecs","ResourceId":"service/c/s","ScalableDimension":"ecs:service:DesiredCount"}`,
			status: 400, errType: "ObjectNotFoundException", jsonType: "ObjectNotFoundException", messageKey: "Message",
			message: "No scaling policy found for service namespace: ecs, resource ID: service/c/s, scalable dimension: ecs:service:DesiredCount, policy name: nope"},
		{name: "logs: missing log group", method: "POST", header: jsonCall("1.1", "Logs_20140328.DescribeLogStreams"), body: `{"logGroupName":"nope"}`,
			status: 400, errType: "ResourceNotFoundException", jsonType: "ResourceNotFoundException", messageKey: "message",
			message: "The specified log group does not exist."},
		// CloudWatch's recorded answers: no message, and the versioned
		// namespace in __type.
		{name: "cloudwatch query: missing alarm", method: "POST", header: queryCall("monitoring"),
			body:   "Action=SetAlarmState&Version=2010-08-01&AlarmName=nope&StateValue=OK&StateReason=x",
			status: 404, xmlFault: "Sender", xmlCode: "ResourceNotFound", message: ""},
		{name: "cloudwatch json: missing alarm", method: "POST", header: jsonCall("1.0", "GraniteServiceVersion20100801.SetAlarmState"),
			body:   `{"AlarmName":"nope","StateValue":"OK","StateReason":"x"}`,
			status: 404, errType: "ResourceNotFound", jsonType: "com.amazonaws.cloudwatch.v2010_08_01#ResourceNotFound", messageKey: "message",
			queryError: "ResourceNotFound;Sender", message: ""},
		{name: "iam: missing role", method: "POST", header: queryCall("iam"), body: "Action=GetRole&Version=2010-05-08&RoleName=nope",
			status: 404, xmlFault: "Sender", xmlCode: "NoSuchEntity", message: "The role with name nope cannot be found."},
		{name: "scheduler: missing schedule", method: "GET", path: "/schedules/nope",
			header: scoped("scheduler"),
			status: 404, errType: "ResourceNotFoundException", messageKey: "Message", message: "Schedule nope does not exist."},
	}
	if status, _, body := rawCall(t, "POST", ep, queryCall("sns"), "Action=CreateTopic&Version=2010-03-31&Name=exists"); status != 200 {
		t.Fatalf("CreateTopic: %d %s", status, body)
	}
	if status, _, body := rawCall(t, "POST", ep, queryCall("sqs"), "Action=CreateQueue&Version=2012-11-05&QueueName=exists"); status != 200 {
		t.Fatalf("CreateQueue: %d %s", status, body)
	}
	checkErrorShapes(t, ep, cases)
}

// checkErrorShapes sends each case's request to the server at ep and checks
// the error it answers.
func checkErrorShapes(t *testing.T, ep string, cases []errorShape) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, h, body := rawCall(t, c.method, ep+c.path, c.header, c.body)
			if status != c.status {
				t.Errorf("status %d, want %d", status, c.status)
			}
			if got := h.Get("X-Amzn-ErrorType"); got != c.errType {
				t.Errorf("x-amzn-ErrorType %q, want %q", got, c.errType)
			}
			if got := h.Get("X-Amzn-Query-Error"); got != c.queryError {
				t.Errorf("x-amzn-query-error %q, want %q", got, c.queryError)
			}
			if c.messageKey != "" {
				var m map[string]any
				if err := json.Unmarshal([]byte(body), &m); err != nil {
					t.Fatalf("body is not JSON: %s", body)
				}
				if c.jsonType != "" && m["__type"] != c.jsonType {
					t.Errorf("__type %v, want %s", m["__type"], c.jsonType)
				}
				if c.jsonType == "" && m["__type"] != nil {
					t.Errorf("__type %v in a restJson body", m["__type"])
				}
				other := map[string]string{"message": "Message", "Message": "message"}[c.messageKey]
				switch {
				case c.message == "" && (m[c.messageKey] != nil || m[other] != nil):
					t.Errorf("body %s, want no message, as AWS sends none", body)
				case c.message != "" && (m[c.messageKey] != c.message || m[other] != nil):
					t.Errorf("body %s, want %s %q only", body, c.messageKey, c.message)
				}
			} else {
				var e struct {
					Error struct {
						Type, Code, Message string
					}
				}
				if err := xml.Unmarshal([]byte(body), &e); err != nil {
					t.Fatalf("body is not XML: %s", body)
				}
				if e.Error.Type != c.xmlFault || e.Error.Code != c.xmlCode || e.Error.Message != c.message {
					t.Errorf("error %+v, want %s %s %q", e.Error, c.xmlFault, c.xmlCode, c.message)
				}
			}
			if t.Failed() {
				t.Logf("%d %v\n%s", status, h, strings.TrimSpace(body))
			}
		})
	}
}
