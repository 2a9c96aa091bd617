package integration

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// iamWorld is a wharf under --iam MODE with a bucket, a table and a queue the
// root made, and a user bob with an access key and no policy.
type iamWorld struct {
	t        *testing.T
	endpoint string
	root     aws.Config
	bob      aws.Config
	queueURL string
}

func newIAMWorld(t *testing.T, mode string) *iamWorld {
	t.Helper()
	endpoint := start(t, "--iam", mode)
	w := &iamWorld{t: t, endpoint: endpoint, root: awsConfig(endpoint, "test", "test", "")}
	ctx := callTimeout(t)
	w.root.Credentials = awsConfig(endpoint, "test", "test", "").Credentials
	s3c := s3.NewFromConfig(w.root, func(o *s3.Options) { o.UsePathStyle = true })
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("data")}); err != nil {
		t.Fatal(err)
	}
	ddb := dynamodb.NewFromConfig(w.root)
	if _, err := ddb.CreateTable(ctx, &dynamodb.CreateTableInput{TableName: aws.String("results"),
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: ddbtypes.KeyTypeHash}},
		BillingMode:          ddbtypes.BillingModePayPerRequest}); err != nil {
		t.Fatal(err)
	}
	q, err := sqs.NewFromConfig(w.root).CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("jobs")})
	if err != nil {
		t.Fatal(err)
	}
	w.queueURL = *q.QueueUrl
	ic := iam.NewFromConfig(w.root)
	if _, err := ic.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("bob")}); err != nil {
		t.Fatal(err)
	}
	k, err := ic.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("bob")})
	if err != nil {
		t.Fatal(err)
	}
	w.bob = awsConfig(endpoint, *k.AccessKey.AccessKeyId, *k.AccessKey.SecretAccessKey, "")
	return w
}

func (w *iamWorld) putBobPolicy(name, doc string) {
	w.t.Helper()
	_, err := iam.NewFromConfig(w.root).PutUserPolicy(callTimeout(w.t), &iam.PutUserPolicyInput{
		UserName: aws.String("bob"), PolicyName: aws.String(name), PolicyDocument: aws.String(doc)})
	if err != nil {
		w.t.Fatal(err)
	}
}

func s3Client(cfg aws.Config) *s3.Client {
	return s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
}

// wantDenied checks err is the service's access denied error with AWS's message.
func wantDenied(t *testing.T, err error, code string, status int, message string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("err = %v, want %s", err, code)
	}
	if ae.ErrorCode() != code || ae.ErrorMessage() != message {
		t.Fatalf("error %s %q\nwant  %s %q", ae.ErrorCode(), ae.ErrorMessage(), code, message)
	}
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) && re.HTTPStatusCode() != status {
		t.Fatalf("status %d, want %d", re.HTTPStatusCode(), status)
	}
}

const bobARN = "arn:aws:iam::000000000000:user/bob"

func TestIAMEnforceAUserWithNoPolicyIsDeniedUntilAPolicyAllows(t *testing.T) {
	w := newIAMWorld(t, "enforce")
	ctx := callTimeout(t)
	bobS3 := s3Client(w.bob)

	_, err := bobS3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("data")})
	wantDenied(t, err, "AccessDenied", 403, "User: "+bobARN+" is not authorized to perform: s3:ListBucket on resource: arn:aws:s3:::data because no identity-based policy allows the s3:ListBucket action")

	_, err = dynamodb.NewFromConfig(w.bob).PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("results"),
		Item: map[string]ddbtypes.AttributeValue{"id": &ddbtypes.AttributeValueMemberS{Value: "1"}}})
	wantDenied(t, err, "AccessDeniedException", 400, "User: "+bobARN+" is not authorized to perform: dynamodb:PutItem on resource: arn:aws:dynamodb:us-east-1:000000000000:table/results because no identity-based policy allows the dynamodb:PutItem action")

	_, err = sqs.NewFromConfig(w.bob).SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &w.queueURL, MessageBody: aws.String("x")})
	wantDenied(t, err, "AccessDenied", 403, "User: "+bobARN+" is not authorized to perform: sqs:SendMessage on resource: arn:aws:sqs:us-east-1:000000000000:jobs because no identity-based policy allows the sqs:SendMessage action")

	_, err = iam.NewFromConfig(w.bob).CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("eve")})
	wantDenied(t, err, "AccessDenied", 403, "User: "+bobARN+" is not authorized to perform: iam:CreateUser on resource: arn:aws:iam::000000000000:user/eve because no identity-based policy allows the iam:CreateUser action")

	// The root user needs no policy.
	if _, err := s3Client(w.root).ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("data")}); err != nil {
		t.Fatalf("root: %v", err)
	}

	w.putBobPolicy("work", `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::data"},
		{"Effect":"Allow","Action":["dynamodb:PutItem","dynamodb:GetItem"],"Resource":"arn:aws:dynamodb:*:*:table/results"},
		{"Effect":"Allow","Action":"sqs:*","Resource":"*"}]}`)
	if _, err := bobS3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("data")}); err != nil {
		t.Fatalf("ListObjectsV2 allowed by policy: %v", err)
	}
	if _, err := dynamodb.NewFromConfig(w.bob).PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("results"),
		Item: map[string]ddbtypes.AttributeValue{"id": &ddbtypes.AttributeValueMemberS{Value: "1"}}}); err != nil {
		t.Fatalf("PutItem allowed by policy: %v", err)
	}
	if _, err := sqs.NewFromConfig(w.bob).SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &w.queueURL, MessageBody: aws.String("x")}); err != nil {
		t.Fatalf("SendMessage allowed by policy: %v", err)
	}
	// The policy names only ListBucket: reading an object is still denied.
	if _, err := s3Client(w.root).PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("data"), Key: aws.String("k"), Body: strings.NewReader("v")}); err != nil {
		t.Fatal(err)
	}
	_, err = bobS3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("data"), Key: aws.String("k")})
	wantDenied(t, err, "AccessDenied", 403, "User: "+bobARN+" is not authorized to perform: s3:GetObject on resource: arn:aws:s3:::data/k because no identity-based policy allows the s3:GetObject action")
}

func TestIAMEnforceAnExplicitDenyWins(t *testing.T) {
	w := newIAMWorld(t, "enforce")
	ctx := callTimeout(t)
	ic := iam.NewFromConfig(w.root)
	if _, err := ic.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("bob"),
		PolicyArn: aws.String("arn:aws:iam::aws:policy/AdministratorAccess")}); err != nil {
		t.Fatal(err)
	}
	bobS3 := s3Client(w.bob)
	if _, err := bobS3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("data"), Key: aws.String("k"), Body: strings.NewReader("v")}); err != nil {
		t.Fatalf("administrator PutObject: %v", err)
	}
	w.putBobPolicy("no-deletes", `{"Version":"2012-10-17","Statement":{"Sid":"NoDeletes","Effect":"Deny","Action":"s3:Delete*","Resource":"*"}}`)
	_, err := bobS3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("data"), Key: aws.String("k")})
	wantDenied(t, err, "AccessDenied", 403, "User: "+bobARN+" is not authorized to perform: s3:DeleteObject on resource: arn:aws:s3:::data/k with an explicit deny in an identity-based policy")
	if _, err := bobS3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("data"), Key: aws.String("k")}); err != nil {
		t.Fatalf("GetObject is not denied: %v", err)
	}

	// The denial is recorded, newest first, with the statement that denied.
	resp, err := http.Get(w.endpoint + "/_wharf/iam/denials")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got struct {
		Mode    string
		Denials []struct{ Principal, Action, Resource, Decision, Reason, Detail string }
	}
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		t.Fatal(err)
	}
	if got.Mode != "enforce" || len(got.Denials) == 0 {
		t.Fatalf("denials = %+v", got)
	}
	d := got.Denials[0]
	if d.Principal != bobARN || d.Action != "s3:DeleteObject" || d.Resource != "arn:aws:s3:::data/k" || d.Decision != "explicitDeny" ||
		d.Reason != "with an explicit deny in an identity-based policy" || !strings.Contains(d.Detail, `"NoDeletes"`) {
		t.Fatalf("newest denial = %+v", d)
	}
}

func TestIAMEnforceAssumeRoleHonoursTrustPolicies(t *testing.T) {
	w := newIAMWorld(t, "enforce")
	ctx := callTimeout(t)
	ic := iam.NewFromConfig(w.root)
	w.putBobPolicy("assume", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}}`)
	for name, trust := range map[string]string{
		"task-only": trustECSTasks,
		"for-bob":   `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"` + bobARN + `"},"Action":"sts:AssumeRole"}}`,
	} {
		if _, err := ic.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(name), AssumeRolePolicyDocument: aws.String(trust)}); err != nil {
			t.Fatal(err)
		}
	}
	bobSTS := sts.NewFromConfig(w.bob)
	_, err := bobSTS.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::000000000000:role/task-only"), RoleSessionName: aws.String("s1")})
	wantDenied(t, err, "AccessDenied", 403, "User: "+bobARN+" is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::000000000000:role/task-only because no resource-based policy allows the sts:AssumeRole action")

	out, err := bobSTS.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::000000000000:role/for-bob"), RoleSessionName: aws.String("s1")})
	if err != nil {
		t.Fatalf("AssumeRole trusted by its trust policy: %v", err)
	}
	// The session acts as the role, which has no policy.
	c := out.Credentials
	sess := awsConfig(w.endpoint, *c.AccessKeyId, *c.SecretAccessKey, *c.SessionToken)
	_, err = s3Client(sess).ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("data")})
	wantDenied(t, err, "AccessDenied", 403, "User: arn:aws:sts::000000000000:assumed-role/for-bob/s1 is not authorized to perform: s3:ListBucket on resource: arn:aws:s3:::data because no identity-based policy allows the s3:ListBucket action")
	if _, err := ic.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("for-bob"), PolicyName: aws.String("read"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:List*","Resource":"*"}}`)}); err != nil {
		t.Fatal(err)
	}
	if _, err := s3Client(sess).ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("data")}); err != nil {
		t.Fatalf("role policy allows: %v", err)
	}
}

func TestIAMAuditLetsDenialsThroughAndRecordsThem(t *testing.T) {
	w := newIAMWorld(t, "audit")
	ctx := callTimeout(t)
	if _, err := s3Client(w.bob).ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("data")}); err != nil {
		t.Fatalf("audit mode refused: %v", err)
	}
	resp, err := http.Get(w.endpoint + "/_wharf/iam/denials")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got struct {
		Mode    string
		Denials []struct {
			Principal, Action, Decision, Reason string
			Refused                             bool
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		t.Fatal(err)
	}
	if got.Mode != "audit" || len(got.Denials) != 1 {
		t.Fatalf("denials = %+v", got)
	}
	if d := got.Denials[0]; d.Principal != bobARN || d.Action != "s3:ListBucket" || d.Decision != "implicitDeny" || d.Refused ||
		d.Reason != "because no identity-based policy allows the s3:ListBucket action" {
		t.Fatalf("denial = %+v", d)
	}
}

func TestIAMOffDecidesNothing(t *testing.T) {
	w := newIAMWorld(t, "off")
	if _, err := s3Client(w.bob).ListObjectsV2(callTimeout(t), &s3.ListObjectsV2Input{Bucket: aws.String("data")}); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(w.endpoint + "/_wharf/iam/denials")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got struct {
		Mode    string
		Denials []json.RawMessage
	}
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil || got.Mode != "off" || len(got.Denials) != 0 {
		t.Fatalf("denials = %+v, %v", got, err)
	}
}

// other is the root of account 222222222222: in --auth any mode a 12-digit
// access key acts in that account.
func (w *iamWorld) other() aws.Config { return awsConfig(w.endpoint, "222222222222", "x", "") }

func TestIAMEnforceABucketPolicyGrantsAndDeniesAnotherAccount(t *testing.T) {
	w := newIAMWorld(t, "enforce")
	ctx := callTimeout(t)
	rootS3, otherS3 := s3Client(w.root), s3Client(w.other())
	for _, k := range []string{"shared/a", "private/b"} {
		if _, err := rootS3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("data"), Key: aws.String(k), Body: strings.NewReader("v")}); err != nil {
			t.Fatal(err)
		}
	}
	const otherRoot = "arn:aws:iam::222222222222:root"
	_, err := otherS3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("data"), Key: aws.String("shared/a")})
	wantDenied(t, err, "AccessDenied", 403, "User: "+otherRoot+" is not authorized to perform: s3:GetObject on resource: arn:aws:s3:::data/shared/a because no resource-based policy allows the s3:GetObject action")

	policy := `{"Version":"2012-10-17","Statement":[
		{"Sid":"ShareWithPartner","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::222222222222:root"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::data/shared/*"},
		{"Sid":"NoSecrets","Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::data/shared/secret*"}]}`
	if _, err := rootS3.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String("data"), Policy: aws.String(policy)}); err != nil {
		t.Fatal(err)
	}
	out, err := otherS3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("data"), Key: aws.String("shared/a")})
	if err != nil {
		t.Fatalf("granted by the bucket policy: %v", err)
	}
	out.Body.Close()
	// Only what the policy grants: not another prefix, not another action.
	_, err = otherS3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("data"), Key: aws.String("private/b")})
	wantDenied(t, err, "AccessDenied", 403, "User: "+otherRoot+" is not authorized to perform: s3:GetObject on resource: arn:aws:s3:::data/private/b because no resource-based policy allows the s3:GetObject action")
	_, err = otherS3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("data"), Key: aws.String("shared/c"), Body: strings.NewReader("v")})
	wantDenied(t, err, "AccessDenied", 403, "User: "+otherRoot+" is not authorized to perform: s3:PutObject on resource: arn:aws:s3:::data/shared/c because no resource-based policy allows the s3:PutObject action")
	// An explicit deny in the bucket policy binds even the owner's root.
	if _, err := rootS3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("data"), Key: aws.String("shared/secret1"), Body: strings.NewReader("v")}); err != nil {
		t.Fatal(err)
	}
	_, err = rootS3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("data"), Key: aws.String("shared/secret1")})
	wantDenied(t, err, "AccessDenied", 403, "User: arn:aws:iam::000000000000:root is not authorized to perform: s3:GetObject on resource: arn:aws:s3:::data/shared/secret1 with an explicit deny in a resource-based policy")

	// Within the account, a bucket policy naming bob is enough.
	if _, err := rootS3.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String("data"), Policy: aws.String(
		`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"` + bobARN + `"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::data/*"}}`)}); err != nil {
		t.Fatal(err)
	}
	out, err = s3Client(w.bob).GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("data"), Key: aws.String("shared/a")})
	if err != nil {
		t.Fatalf("bob named by the bucket policy: %v", err)
	}
	out.Body.Close()
}

func TestIAMEnforceCrossAccountQueuesAndTopicsOnlyThroughTheirPolicies(t *testing.T) {
	w := newIAMWorld(t, "enforce")
	ctx := callTimeout(t)
	const otherRoot = "arn:aws:iam::222222222222:root"
	otherSQS := sqs.NewFromConfig(w.other())
	_, err := otherSQS.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &w.queueURL, MessageBody: aws.String("x")})
	wantDenied(t, err, "AccessDenied", 403, "User: "+otherRoot+" is not authorized to perform: sqs:SendMessage on resource: arn:aws:sqs:us-east-1:000000000000:jobs because no resource-based policy allows the sqs:SendMessage action")
	queuePolicy := `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"222222222222"},"Action":"sqs:SendMessage","Resource":"arn:aws:sqs:us-east-1:000000000000:jobs"}}`
	if _, err := sqs.NewFromConfig(w.root).SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: &w.queueURL,
		Attributes: map[string]string{"Policy": queuePolicy}}); err != nil {
		t.Fatal(err)
	}
	if _, err := otherSQS.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &w.queueURL, MessageBody: aws.String("x")}); err != nil {
		t.Fatalf("granted by the queue policy: %v", err)
	}
	_, err = otherSQS.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &w.queueURL})
	wantDenied(t, err, "AccessDenied", 403, "User: "+otherRoot+" is not authorized to perform: sqs:ReceiveMessage on resource: arn:aws:sqs:us-east-1:000000000000:jobs because no resource-based policy allows the sqs:ReceiveMessage action")

	rootSNS, otherSNS := sns.NewFromConfig(w.root), sns.NewFromConfig(w.other())
	topic, err := rootSNS.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("alerts")})
	if err != nil {
		t.Fatal(err)
	}
	_, err = otherSNS.Publish(ctx, &sns.PublishInput{TopicArn: topic.TopicArn, Message: aws.String("m")})
	wantDenied(t, err, "AuthorizationError", 403, "User: "+otherRoot+" is not authorized to perform: SNS:Publish on resource: "+*topic.TopicArn+" because no resource-based policy allows the SNS:Publish action")
	topicPolicy := `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::222222222222:root"},"Action":"sns:Publish","Resource":"` + *topic.TopicArn + `"}}`
	if _, err := rootSNS.SetTopicAttributes(ctx, &sns.SetTopicAttributesInput{TopicArn: topic.TopicArn,
		AttributeName: aws.String("Policy"), AttributeValue: aws.String(topicPolicy)}); err != nil {
		t.Fatal(err)
	}
	if _, err := otherSNS.Publish(ctx, &sns.PublishInput{TopicArn: topic.TopicArn, Message: aws.String("m")}); err != nil {
		t.Fatalf("granted by the topic policy: %v", err)
	}
}

func TestIAMSimulatePoliciesWithTheSameEvaluator(t *testing.T) {
	w := newIAMWorld(t, "enforce")
	ctx := callTimeout(t)
	ic := iam.NewFromConfig(w.root)
	out, err := ic.SimulateCustomPolicy(ctx, &iam.SimulateCustomPolicyInput{
		PolicyInputList: []string{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"},{"Effect":"Deny","Action":"s3:DeleteObject","Resource":"*"}]}`},
		ActionNames:     []string{"s3:GetObject", "s3:DeleteObject", "sqs:SendMessage"},
		ResourceArns:    []string{"arn:aws:s3:::data/k"},
	})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, r := range out.EvaluationResults {
		got[*r.EvalActionName] = string(r.EvalDecision)
	}
	if got["s3:GetObject"] != "allowed" || got["s3:DeleteObject"] != "explicitDeny" || got["sqs:SendMessage"] != "implicitDeny" {
		t.Fatalf("SimulateCustomPolicy = %v", got)
	}
	w.putBobPolicy("read", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::data/*"}}`)
	sp, err := ic.SimulatePrincipalPolicy(ctx, &iam.SimulatePrincipalPolicyInput{PolicySourceArn: aws.String(bobARN),
		ActionNames: []string{"s3:GetObject", "s3:PutObject"}, ResourceArns: []string{"arn:aws:s3:::data/k"}})
	if err != nil {
		t.Fatal(err)
	}
	got = map[string]string{}
	for _, r := range sp.EvaluationResults {
		got[*r.EvalActionName] = string(r.EvalDecision)
	}
	if got["s3:GetObject"] != "allowed" || got["s3:PutObject"] != "implicitDeny" {
		t.Fatalf("SimulatePrincipalPolicy = %v", got)
	}
	// What the simulator says is what enforce does.
	bobS3 := s3Client(w.bob)
	_, err = bobS3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("data"), Key: aws.String("k"), Body: strings.NewReader("v")})
	wantDenied(t, err, "AccessDenied", 403, "User: "+bobARN+" is not authorized to perform: s3:PutObject on resource: arn:aws:s3:::data/k because no identity-based policy allows the s3:PutObject action")
	_, err = ic.SimulateCustomPolicy(ctx, &iam.SimulateCustomPolicyInput{PolicyInputList: []string{`{"Statement":{"Effect":"Allow"}}`}, ActionNames: []string{"s3:GetObject"}})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "MalformedPolicyDocument" {
		t.Fatalf("malformed policy input: %v", err)
	}
}

func TestIAMEnforceEventBridgeDeliversToAQueueOnlyIfItsPolicyLetsItIn(t *testing.T) {
	w := newIAMWorld(t, "enforce")
	ctx := callTimeout(t)
	sq := sqs.NewFromConfig(w.root)
	eb := eventbridge.NewFromConfig(w.root)
	rule, err := eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("orders"), EventPattern: aws.String(`{"source":["shop"]}`)})
	if err != nil {
		t.Fatal(err)
	}
	open, err := sq.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("open"), Attributes: map[string]string{"Policy": `{"Version":"2012-10-17","Statement":{
		"Effect":"Allow","Principal":{"Service":"events.amazonaws.com"},"Action":"sqs:SendMessage","Resource":"arn:aws:sqs:us-east-1:000000000000:open",
		"Condition":{"ArnEquals":{"aws:SourceArn":"` + *rule.RuleArn + `"}}}}`}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := eb.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String("orders"), Targets: []ebtypes.Target{
		{Id: aws.String("open"), Arn: aws.String("arn:aws:sqs:us-east-1:000000000000:open")},
		{Id: aws.String("closed"), Arn: aws.String("arn:aws:sqs:us-east-1:000000000000:jobs")}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := eb.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{
		{Source: aws.String("shop"), DetailType: aws.String("order"), Detail: aws.String(`{"id":1}`)}}}); err != nil {
		t.Fatal(err)
	}
	got, err := sq.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: open.QueueUrl, WaitTimeSeconds: 5})
	if err != nil || len(got.Messages) != 1 {
		t.Fatalf("the queue whose policy lets EventBridge in got %v, %v", got, err)
	}
	// The queue without a policy gets nothing, and the denial says why.
	got, err = sq.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &w.queueURL, WaitTimeSeconds: 1})
	if err != nil || len(got.Messages) != 0 {
		t.Fatalf("the queue without a policy got %v, %v", got.Messages, err)
	}
	resp, err := http.Get(w.endpoint + "/_wharf/iam/denials")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var den struct {
		Denials []struct{ Principal, Action, Resource, Reason string }
	}
	if err := json.NewDecoder(resp.Body).Decode(&den); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, d := range den.Denials {
		if d.Principal == "events.amazonaws.com" && d.Action == "sqs:SendMessage" && d.Resource == "arn:aws:sqs:us-east-1:000000000000:jobs" &&
			d.Reason == "because no resource-based policy allows the sqs:SendMessage action" {
			found = true
		}
	}
	if !found {
		t.Fatalf("no denial of events.amazonaws.com on the queue without a policy: %+v", den.Denials)
	}
}

// TestIAMEnforceAnotherAccountPutsEventsOnlyThroughTheBusPolicy: another
// account's PutEvents on our default bus (named by ARN) is refused until
// PutPermission grants that account events:PutEvents; the event then reaches
// our rule's target; RemovePermission closes the door again.
func TestIAMEnforceAnotherAccountPutsEventsOnlyThroughTheBusPolicy(t *testing.T) {
	w := newIAMWorld(t, "enforce")
	ctx := callTimeout(t)
	eb, otherEB := eventbridge.NewFromConfig(w.root), eventbridge.NewFromConfig(w.other())
	sq := sqs.NewFromConfig(w.root)
	rule, err := eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("partner"), EventPattern: aws.String(`{"source":["partner"]}`)})
	if err != nil {
		t.Fatal(err)
	}
	q, err := sq.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("inbox"), Attributes: map[string]string{"Policy": `{"Version":"2012-10-17","Statement":{
		"Effect":"Allow","Principal":{"Service":"events.amazonaws.com"},"Action":"sqs:SendMessage","Resource":"arn:aws:sqs:us-east-1:000000000000:inbox",
		"Condition":{"ArnEquals":{"aws:SourceArn":"` + *rule.RuleArn + `"}}}}`}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := eb.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String("partner"), Targets: []ebtypes.Target{
		{Id: aws.String("inbox"), Arn: aws.String("arn:aws:sqs:us-east-1:000000000000:inbox")}}}); err != nil {
		t.Fatal(err)
	}
	const bus = "arn:aws:events:us-east-1:000000000000:event-bus/default"
	put := func() error {
		_, err := otherEB.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{
			{EventBusName: aws.String(bus), Source: aws.String("partner"), DetailType: aws.String("order"), Detail: aws.String(`{"id":7}`)}}})
		return err
	}
	denied := "User: arn:aws:iam::222222222222:root is not authorized to perform: events:PutEvents on resource: " + bus +
		" because no resource-based policy allows the events:PutEvents action"
	wantDenied(t, put(), "AccessDeniedException", 400, denied)

	if _, err := eb.PutPermission(ctx, &eventbridge.PutPermissionInput{Action: aws.String("events:PutEvents"),
		Principal: aws.String("222222222222"), StatementId: aws.String("partner")}); err != nil {
		t.Fatal(err)
	}
	_, err = eb.PutPermission(ctx, &eventbridge.PutPermissionInput{Action: aws.String("events:PutEvents"),
		Principal: aws.String("222222222222"), StatementId: aws.String("partner")})
	wantDenied(t, err, "ResourceAlreadyExistsException", 400, "Statement with the provided id already exists.")
	d, err := eb.DescribeEventBus(ctx, &eventbridge.DescribeEventBusInput{})
	if err != nil {
		t.Fatal(err)
	}
	var pol struct {
		Statement []struct {
			Sid, Effect, Action, Resource string
			Principal                     struct{ AWS string }
		}
	}
	if d.Policy == nil || json.Unmarshal([]byte(*d.Policy), &pol) != nil || len(pol.Statement) != 1 ||
		pol.Statement[0].Sid != "partner" || pol.Statement[0].Principal.AWS != "arn:aws:iam::222222222222:root" ||
		pol.Statement[0].Action != "events:PutEvents" || pol.Statement[0].Resource != bus {
		t.Fatalf("bus policy %v", aws.ToString(d.Policy))
	}
	if err := put(); err != nil {
		t.Fatalf("PutEvents the bus policy allows: %v", err)
	}
	got, err := sq.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: q.QueueUrl, WaitTimeSeconds: 5})
	if err != nil || len(got.Messages) != 1 || !strings.Contains(*got.Messages[0].Body, `"source":"partner"`) {
		t.Fatalf("the partner's event reached %v, %v", got, err)
	}

	if _, err := eb.RemovePermission(ctx, &eventbridge.RemovePermissionInput{StatementId: aws.String("partner")}); err != nil {
		t.Fatal(err)
	}
	wantDenied(t, put(), "AccessDeniedException", 400, denied)
	_, err = eb.RemovePermission(ctx, &eventbridge.RemovePermissionInput{StatementId: aws.String("partner")})
	wantDenied(t, err, "ResourceNotFoundException", 400, "Statement with the provided id does not exist.")
}

// TestIAMEnforcePartiQLIsAuthorizedPerStatementKind: a PartiQL statement
// needs dynamodb:PartiQLSelect, PartiQLInsert, PartiQLUpdate or
// PartiQLDelete on its table, whatever operation carries it.
func TestIAMEnforcePartiQLIsAuthorizedPerStatementKind(t *testing.T) {
	w := newIAMWorld(t, "enforce")
	ctx := callTimeout(t)
	w.putBobPolicy("read", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"dynamodb:PartiQLSelect","Resource":"arn:aws:dynamodb:us-east-1:000000000000:table/results"}]}`)
	ddb := dynamodb.NewFromConfig(w.bob)
	if _, err := ddb.ExecuteStatement(ctx, &dynamodb.ExecuteStatementInput{Statement: aws.String(`SELECT * FROM "results" WHERE id = ?`),
		Parameters: []ddbtypes.AttributeValue{&ddbtypes.AttributeValueMemberS{Value: "1"}}}); err != nil {
		t.Fatalf("SELECT allowed by PartiQLSelect: %v", err)
	}
	_, err := ddb.ExecuteStatement(ctx, &dynamodb.ExecuteStatementInput{Statement: aws.String(`INSERT INTO "results" VALUE {'id': '2'}`)})
	wantDenied(t, err, "AccessDeniedException", 400, "User: "+bobARN+" is not authorized to perform: dynamodb:PartiQLInsert on resource: arn:aws:dynamodb:us-east-1:000000000000:table/results because no identity-based policy allows the dynamodb:PartiQLInsert action")
	_, err = ddb.ExecuteTransaction(ctx, &dynamodb.ExecuteTransactionInput{TransactStatements: []ddbtypes.ParameterizedStatement{
		{Statement: aws.String(`DELETE FROM "results" WHERE id = '1'`)}}})
	wantDenied(t, err, "AccessDeniedException", 400, "User: "+bobARN+" is not authorized to perform: dynamodb:PartiQLDelete on resource: arn:aws:dynamodb:us-east-1:000000000000:table/results because no identity-based policy allows the dynamodb:PartiQLDelete action")
}

// TestIAMEnforceSourceIpIsTheClientsAddress: aws:SourceIp is the address the
// request came from (127.0.0.1 here), so an allow limited to another network
// does not apply and one naming the loopback network does.
func TestIAMEnforceSourceIpIsTheClientsAddress(t *testing.T) {
	w := newIAMWorld(t, "enforce")
	ctx := callTimeout(t)
	allowFrom := func(cidr string) {
		w.putBobPolicy("net", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sqs:SendMessage","Resource":"*",
			"Condition":{"IpAddress":{"aws:SourceIp":"`+cidr+`"}}}]}`)
	}
	send := func() error {
		_, err := sqs.NewFromConfig(w.bob).SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &w.queueURL, MessageBody: aws.String("x")})
		return err
	}
	allowFrom("203.0.113.0/24")
	wantDenied(t, send(), "AccessDenied", 403, "User: "+bobARN+" is not authorized to perform: sqs:SendMessage on resource: arn:aws:sqs:us-east-1:000000000000:jobs because no identity-based policy allows the sqs:SendMessage action")
	allowFrom("127.0.0.0/8")
	if err := send(); err != nil {
		t.Fatalf("SendMessage from 127.0.0.1 with an allow for 127.0.0.0/8: %v", err)
	}
}
