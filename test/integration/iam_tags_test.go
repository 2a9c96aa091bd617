package integration

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"
)

// abacPolicy lets its principal use only queues whose team tag is its own,
// and create only queues tagged with its own team.
const abacPolicy = `{"Version":"2012-10-17","Statement":[
	{"Effect":"Allow","Action":"sqs:*","Resource":"*","Condition":{"StringEquals":{"aws:ResourceTag/team":"${aws:PrincipalTag/team}"}}},
	{"Effect":"Allow","Action":"sqs:CreateQueue","Resource":"*","Condition":{"StringEquals":{"aws:RequestTag/team":"${aws:PrincipalTag/team}"}}}]}`

// TestIAMEnforceABACARoleTouchesOnlyItsTeamsQueues: a role tagged team=blue
// whose policy compares aws:ResourceTag/team with ${aws:PrincipalTag/team}
// sends to the blue queue, not the red one, until the red one is retagged;
// it creates only queues tagged blue (aws:RequestTag); session tags, which
// need sts:TagSession in the trust policy, replace the role's tag.
func TestIAMEnforceABACARoleTouchesOnlyItsTeamsQueues(t *testing.T) {
	w := newIAMWorld(t, "enforce")
	ctx := callTimeout(t)
	ic := iam.NewFromConfig(w.root)
	rootSQS := sqs.NewFromConfig(w.root)
	urls := map[string]string{}
	for _, team := range []string{"blue", "red"} {
		q, err := rootSQS.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(team + "-q"), Tags: map[string]string{"team": team}})
		if err != nil {
			t.Fatal(err)
		}
		urls[team] = *q.QueueUrl
	}
	trust := `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"` + bobARN + `"},"Action":"sts:AssumeRole"}}`
	if _, err := ic.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("worker"), AssumeRolePolicyDocument: aws.String(trust),
		Tags: []iamtypes.Tag{{Key: aws.String("team"), Value: aws.String("blue")}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := ic.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("worker"), PolicyName: aws.String("abac"), PolicyDocument: aws.String(abacPolicy)}); err != nil {
		t.Fatal(err)
	}
	w.putBobPolicy("assume", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":["sts:AssumeRole","sts:TagSession"],"Resource":"*"}}`)
	const roleARN = "arn:aws:iam::000000000000:role/worker"
	assume := func(tags ...ststypes.Tag) (*sqs.Client, error) {
		out, err := sts.NewFromConfig(w.bob).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleARN), RoleSessionName: aws.String("s1"), Tags: tags})
		if err != nil {
			return nil, err
		}
		c := out.Credentials
		return sqs.NewFromConfig(awsConfig(w.endpoint, *c.AccessKeyId, *c.SecretAccessKey, *c.SessionToken)), nil
	}
	worker, err := assume()
	if err != nil {
		t.Fatal(err)
	}
	send := func(c *sqs.Client, team string) error {
		_, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(urls[team]), MessageBody: aws.String("x")})
		return err
	}
	const session = "arn:aws:sts::000000000000:assumed-role/worker/s1"
	deniedOn := func(action, queue string) string {
		return "User: " + session + " is not authorized to perform: " + action + " on resource: arn:aws:sqs:us-east-1:000000000000:" + queue +
			" because no identity-based policy allows the " + action + " action"
	}
	if err := send(worker, "blue"); err != nil {
		t.Fatalf("the blue role sends to the blue queue: %v", err)
	}
	wantDenied(t, send(worker, "red"), "AccessDenied", 403, deniedOn("sqs:SendMessage", "red-q"))

	// aws:RequestTag on a create.
	_, err = worker.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("red-2"), Tags: map[string]string{"team": "red"}})
	wantDenied(t, err, "AccessDenied", 403, deniedOn("sqs:CreateQueue", "red-2"))
	_, err = worker.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("untagged")})
	wantDenied(t, err, "AccessDenied", 403, deniedOn("sqs:CreateQueue", "untagged"))
	if _, err := worker.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("blue-2"), Tags: map[string]string{"team": "blue"}}); err != nil {
		t.Fatalf("creating a queue tagged with the role's team: %v", err)
	}

	// The queue's tags are read at each request: retagged, it is the role's.
	if _, err := rootSQS.TagQueue(ctx, &sqs.TagQueueInput{QueueUrl: aws.String(urls["red"]), Tags: map[string]string{"team": "blue"}}); err != nil {
		t.Fatal(err)
	}
	if err := send(worker, "red"); err != nil {
		t.Fatalf("after retagging the red queue blue: %v", err)
	}
	if _, err := rootSQS.TagQueue(ctx, &sqs.TagQueueInput{QueueUrl: aws.String(urls["red"]), Tags: map[string]string{"team": "red"}}); err != nil {
		t.Fatal(err)
	}

	// Session tags need sts:TagSession in the trust policy ...
	red := ststypes.Tag{Key: aws.String("team"), Value: aws.String("red")}
	_, err = assume(red)
	wantDenied(t, err, "AccessDenied", 403, "User: "+bobARN+" is not authorized to perform: sts:TagSession on resource: "+roleARN+
		" because no resource-based policy allows the sts:TagSession action")
	if _, err := ic.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String("worker"), PolicyDocument: aws.String(
		`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"` + bobARN + `"},"Action":["sts:AssumeRole","sts:TagSession"]}}`)}); err != nil {
		t.Fatal(err)
	}
	// ... and then replace the role's tag of the same key for that session.
	redSession, err := assume(red)
	if err != nil {
		t.Fatalf("AssumeRole with session tags the trust policy allows: %v", err)
	}
	if err := send(redSession, "red"); err != nil {
		t.Fatalf("a session tagged team=red sends to the red queue: %v", err)
	}
	wantDenied(t, send(redSession, "blue"), "AccessDenied", 403, deniedOn("sqs:SendMessage", "blue-q"))
	// The untagged session still acts as the role's team.
	if err := send(worker, "blue"); err != nil {
		t.Fatalf("the untagged session: %v", err)
	}
}

// TestIAMEnforceABACOnTopicsAndTables: a user's own tags are its
// aws:PrincipalTag keys, compared with an SNS topic's and a DynamoDB table's
// tags.
func TestIAMEnforceABACOnTopicsAndTables(t *testing.T) {
	w := newIAMWorld(t, "enforce")
	ctx := callTimeout(t)
	if _, err := iam.NewFromConfig(w.root).TagUser(ctx, &iam.TagUserInput{UserName: aws.String("bob"),
		Tags: []iamtypes.Tag{{Key: aws.String("team"), Value: aws.String("blue")}}}); err != nil {
		t.Fatal(err)
	}
	w.putBobPolicy("abac", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":["sns:Publish","dynamodb:PutItem"],"Resource":"*",
		"Condition":{"StringEquals":{"aws:ResourceTag/team":"${aws:PrincipalTag/team}"}}}}`)
	rootSNS, rootDDB := sns.NewFromConfig(w.root), dynamodb.NewFromConfig(w.root)
	topics := map[string]string{}
	for _, team := range []string{"blue", "red"} {
		tp, err := rootSNS.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(team + "-t"), Tags: []snstypes.Tag{{Key: aws.String("team"), Value: aws.String(team)}}})
		if err != nil {
			t.Fatal(err)
		}
		topics[team] = *tp.TopicArn
		if _, err := rootDDB.CreateTable(ctx, &dynamodb.CreateTableInput{TableName: aws.String(team + "-table"),
			AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
			KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: ddbtypes.KeyTypeHash}},
			BillingMode:          ddbtypes.BillingModePayPerRequest, Tags: []ddbtypes.Tag{{Key: aws.String("team"), Value: aws.String(team)}}}); err != nil {
			t.Fatal(err)
		}
	}
	bobSNS, bobDDB := sns.NewFromConfig(w.bob), dynamodb.NewFromConfig(w.bob)
	publish := func(team string) error {
		_, err := bobSNS.Publish(ctx, &sns.PublishInput{TopicArn: aws.String(topics[team]), Message: aws.String("m")})
		return err
	}
	put := func(team string) error {
		_, err := bobDDB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(team + "-table"),
			Item: map[string]ddbtypes.AttributeValue{"id": &ddbtypes.AttributeValueMemberS{Value: "1"}}})
		return err
	}
	if err := publish("blue"); err != nil {
		t.Fatalf("publish to the blue topic: %v", err)
	}
	wantDenied(t, publish("red"), "AuthorizationError", 403, "User: "+bobARN+" is not authorized to perform: SNS:Publish on resource: "+topics["red"]+
		" because no identity-based policy allows the SNS:Publish action")
	if err := put("blue"); err != nil {
		t.Fatalf("PutItem to the blue table: %v", err)
	}
	wantDenied(t, put("red"), "AccessDeniedException", 400, "User: "+bobARN+" is not authorized to perform: dynamodb:PutItem on resource: arn:aws:dynamodb:us-east-1:000000000000:table/red-table"+
		" because no identity-based policy allows the dynamodb:PutItem action")
}
