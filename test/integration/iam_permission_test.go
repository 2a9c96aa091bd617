package integration

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// policyStatements decodes a Policy attribute, failing the test when it is
// not a policy document.
func policyStatements(t *testing.T, policy string) (version, id string, sts []map[string]any) {
	t.Helper()
	var d struct {
		Version, Id string
		Statement   []map[string]any
	}
	if err := json.Unmarshal([]byte(policy), &d); err != nil {
		t.Fatalf("policy %q: %v", policy, err)
	}
	return d.Version, d.Id, d.Statement
}

func TestIAMEnforceSQSAddPermissionGrantsAnotherAccountUntilRemoved(t *testing.T) {
	w := newIAMWorld(t, "enforce")
	ctx := callTimeout(t)
	const otherRoot = "arn:aws:iam::222222222222:root"
	const queueARN = "arn:aws:sqs:us-east-1:000000000000:jobs"
	rootSQS, otherSQS := sqs.NewFromConfig(w.root), sqs.NewFromConfig(w.other())
	send := func() error {
		_, err := otherSQS.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &w.queueURL, MessageBody: aws.String("x")})
		return err
	}
	denied := "User: " + otherRoot + " is not authorized to perform: sqs:SendMessage on resource: " + queueARN + " because no resource-based policy allows the sqs:SendMessage action"
	wantDenied(t, send(), "AccessDenied", 403, denied)

	if _, err := rootSQS.AddPermission(ctx, &sqs.AddPermissionInput{QueueUrl: &w.queueURL, Label: aws.String("PartnerSend"),
		AWSAccountIds: []string{"222222222222"}, Actions: []string{"SendMessage"}}); err != nil {
		t.Fatal(err)
	}
	policy := func() string {
		out, err := rootSQS.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: &w.queueURL,
			AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNamePolicy}})
		if err != nil {
			t.Fatal(err)
		}
		return out.Attributes["Policy"]
	}
	version, id, sts := policyStatements(t, policy())
	if version != "2012-10-17" || id != queueARN+"/SQSDefaultPolicy" || len(sts) != 1 {
		t.Fatalf("policy: version %q id %q statements %v", version, id, sts)
	}
	st := sts[0]
	principal, _ := st["Principal"].(map[string]any)
	if st["Sid"] != "PartnerSend" || st["Effect"] != "Allow" || principal["AWS"] != otherRoot ||
		st["Action"] != "SQS:SendMessage" || st["Resource"] != queueARN {
		t.Fatalf("statement %v", st)
	}
	if err := send(); err != nil {
		t.Fatalf("granted by AddPermission: %v", err)
	}
	// Only the granted action.
	_, err := otherSQS.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &w.queueURL})
	wantDenied(t, err, "AccessDenied", 403, "User: "+otherRoot+" is not authorized to perform: sqs:ReceiveMessage on resource: "+queueARN+" because no resource-based policy allows the sqs:ReceiveMessage action")

	// A second label adds a statement with several principals and actions.
	if _, err := rootSQS.AddPermission(ctx, &sqs.AddPermissionInput{QueueUrl: &w.queueURL, Label: aws.String("Readers"),
		AWSAccountIds: []string{"222222222222", "333333333333"}, Actions: []string{"ReceiveMessage", "DeleteMessage"}}); err != nil {
		t.Fatal(err)
	}
	_, _, sts = policyStatements(t, policy())
	if len(sts) != 2 || sts[1]["Sid"] != "Readers" {
		t.Fatalf("statements %v", sts)
	}
	if acts, _ := sts[1]["Action"].([]any); len(acts) != 2 || acts[0] != "SQS:ReceiveMessage" || acts[1] != "SQS:DeleteMessage" {
		t.Fatalf("actions %v", sts[1]["Action"])
	}

	_, err = rootSQS.AddPermission(ctx, &sqs.AddPermissionInput{QueueUrl: &w.queueURL, Label: aws.String("PartnerSend"),
		AWSAccountIds: []string{"222222222222"}, Actions: []string{"SendMessage"}})
	wantDenied(t, err, "InvalidParameterValue", 400, "Value PartnerSend for parameter Label is invalid. Reason: Already exists.")
	_, err = rootSQS.AddPermission(ctx, &sqs.AddPermissionInput{QueueUrl: &w.queueURL, Label: aws.String("bad label!"),
		AWSAccountIds: []string{"222222222222"}, Actions: []string{"SendMessage"}})
	wantDenied(t, err, "InvalidParameterValue", 400, "Value bad label! for parameter Label is invalid. Reason: Must be between 1 and 80 characters long and may contain only alphanumeric characters, hyphens (-), and underscores (_).")
	_, err = rootSQS.AddPermission(ctx, &sqs.AddPermissionInput{QueueUrl: &w.queueURL, Label: aws.String("Owner"),
		AWSAccountIds: []string{"222222222222"}, Actions: []string{"SetQueueAttributes"}})
	wantDenied(t, err, "InvalidParameterValue", 400, "Value SQS:SetQueueAttributes for parameter ActionName is invalid. Reason: Please refer to the appropriate WSDL for a list of valid actions.")

	if _, err := rootSQS.RemovePermission(ctx, &sqs.RemovePermissionInput{QueueUrl: &w.queueURL, Label: aws.String("PartnerSend")}); err != nil {
		t.Fatal(err)
	}
	wantDenied(t, send(), "AccessDenied", 403, denied)
	_, err = rootSQS.RemovePermission(ctx, &sqs.RemovePermissionInput{QueueUrl: &w.queueURL, Label: aws.String("PartnerSend")})
	wantDenied(t, err, "InvalidParameterValue", 400, "Value PartnerSend for parameter Label is invalid. Reason: can't find label on existing policy.")
	// Removing the last statement removes the policy.
	if _, err := rootSQS.RemovePermission(ctx, &sqs.RemovePermissionInput{QueueUrl: &w.queueURL, Label: aws.String("Readers")}); err != nil {
		t.Fatal(err)
	}
	if p := policy(); p != "" {
		t.Fatalf("policy left after its last statement was removed: %q", p)
	}
}

func TestIAMEnforceSNSAddPermissionGrantsAnotherAccountUntilRemoved(t *testing.T) {
	w := newIAMWorld(t, "enforce")
	ctx := callTimeout(t)
	const otherRoot = "arn:aws:iam::222222222222:root"
	rootSNS, otherSNS := sns.NewFromConfig(w.root), sns.NewFromConfig(w.other())
	topic, err := rootSNS.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("alerts")})
	if err != nil {
		t.Fatal(err)
	}
	publish := func() error {
		_, err := otherSNS.Publish(ctx, &sns.PublishInput{TopicArn: topic.TopicArn, Message: aws.String("m")})
		return err
	}
	denied := "User: " + otherRoot + " is not authorized to perform: SNS:Publish on resource: " + *topic.TopicArn + " because no resource-based policy allows the SNS:Publish action"
	wantDenied(t, publish(), "AuthorizationError", 403, denied)

	if _, err := rootSNS.AddPermission(ctx, &sns.AddPermissionInput{TopicArn: topic.TopicArn, Label: aws.String("PartnerPublish"),
		AWSAccountId: []string{"222222222222"}, ActionName: []string{"Publish"}}); err != nil {
		t.Fatal(err)
	}
	attrs, err := rootSNS.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: topic.TopicArn})
	if err != nil {
		t.Fatal(err)
	}
	_, _, sts := policyStatements(t, attrs.Attributes["Policy"])
	// The grant joins the topic's default statement.
	if len(sts) != 2 || sts[0]["Sid"] != "__default_statement_ID" {
		t.Fatalf("statements %v", sts)
	}
	st := sts[1]
	principal, _ := st["Principal"].(map[string]any)
	if st["Sid"] != "PartnerPublish" || st["Effect"] != "Allow" || principal["AWS"] != otherRoot ||
		st["Action"] != "SNS:Publish" || st["Resource"] != *topic.TopicArn {
		t.Fatalf("statement %v", st)
	}
	if err := publish(); err != nil {
		t.Fatalf("granted by AddPermission: %v", err)
	}

	_, err = rootSNS.AddPermission(ctx, &sns.AddPermissionInput{TopicArn: topic.TopicArn, Label: aws.String("PartnerPublish"),
		AWSAccountId: []string{"222222222222"}, ActionName: []string{"Publish"}})
	wantDenied(t, err, "InvalidParameter", 400, "Invalid parameter: Statement already exists")
	_, err = rootSNS.AddPermission(ctx, &sns.AddPermissionInput{TopicArn: topic.TopicArn, Label: aws.String("Other"),
		AWSAccountId: []string{"222222222222"}, ActionName: []string{"CreateTopic"}})
	wantDenied(t, err, "InvalidParameter", 400, "Invalid parameter: Policy statement action out of service scope!")

	if _, err := rootSNS.RemovePermission(ctx, &sns.RemovePermissionInput{TopicArn: topic.TopicArn, Label: aws.String("PartnerPublish")}); err != nil {
		t.Fatal(err)
	}
	wantDenied(t, publish(), "AuthorizationError", 403, denied)
	attrs, err = rootSNS.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: topic.TopicArn})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, sts = policyStatements(t, attrs.Attributes["Policy"]); len(sts) != 1 || sts[0]["Sid"] != "__default_statement_ID" {
		t.Fatalf("statements after RemovePermission %v", sts)
	}
	// SNS answers success for a label no statement has.
	if _, err := rootSNS.RemovePermission(ctx, &sns.RemovePermissionInput{TopicArn: topic.TopicArn, Label: aws.String("PartnerPublish")}); err != nil {
		t.Fatal(err)
	}
	_, err = rootSNS.RemovePermission(ctx, &sns.RemovePermissionInput{TopicArn: aws.String("arn:aws:sns:us-east-1:000000000000:missing"), Label: aws.String("x")})
	wantDenied(t, err, "NotFound", 404, "Topic does not exist")
}

// The authorizer answers from the queue's policy kept in memory: every write
// to the queue must reach the very next request (SetQueueAttributes setting
// and clearing the Policy, DeleteQueue and CreateQueue of the same name).
func TestIAMEnforceSQSPolicyChangeTakesEffectOnTheNextRequest(t *testing.T) {
	w := newIAMWorld(t, "enforce")
	ctx := callTimeout(t)
	const queueARN = "arn:aws:sqs:us-east-1:000000000000:jobs"
	rootSQS, otherSQS := sqs.NewFromConfig(w.root), sqs.NewFromConfig(w.other())
	send := func() error {
		_, err := otherSQS.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &w.queueURL, MessageBody: aws.String("x")})
		return err
	}
	denied := "User: arn:aws:iam::222222222222:root is not authorized to perform: sqs:SendMessage on resource: " + queueARN + " because no resource-based policy allows the sqs:SendMessage action"
	setPolicy := func(p string) {
		t.Helper()
		if _, err := rootSQS.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: &w.queueURL,
			Attributes: map[string]string{"Policy": p}}); err != nil {
			t.Fatal(err)
		}
	}
	grant := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"222222222222"},"Action":"sqs:SendMessage","Resource":"` + queueARN + `"}]}`
	for round := 0; round < 2; round++ {
		// Twice each way: the second refusal and grant come from what the
		// first request left in memory.
		wantDenied(t, send(), "AccessDenied", 403, denied)
		wantDenied(t, send(), "AccessDenied", 403, denied)
		setPolicy(grant)
		for i := 0; i < 2; i++ {
			if err := send(); err != nil {
				t.Fatalf("round %d: granted by SetQueueAttributes Policy: %v", round, err)
			}
		}
		setPolicy("")
	}
	wantDenied(t, send(), "AccessDenied", 403, denied)

	// A queue deleted and made again under the same name has no policy.
	setPolicy(grant)
	if err := send(); err != nil {
		t.Fatalf("granted: %v", err)
	}
	if _, err := rootSQS.DeleteQueue(ctx, &sqs.DeleteQueueInput{QueueUrl: &w.queueURL}); err != nil {
		t.Fatal(err)
	}
	if _, err := rootSQS.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("jobs")}); err != nil {
		t.Fatal(err)
	}
	wantDenied(t, send(), "AccessDenied", 403, denied)

	// Nor does one made again after a reset of SQS deleted the first.
	setPolicy(grant)
	if err := send(); err != nil {
		t.Fatalf("granted: %v", err)
	}
	resp, err := http.Post(w.endpoint+"/_wharf/reset?service=sqs", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST /_wharf/reset?service=sqs: %s", resp.Status)
	}
	// The grant went with the queue the reset deleted: refused, not let through to the missing queue.
	wantDenied(t, send(), "AccessDenied", 403, denied)
	if _, err := rootSQS.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("jobs")}); err != nil {
		t.Fatal(err)
	}
	wantDenied(t, send(), "AccessDenied", 403, denied)
}
