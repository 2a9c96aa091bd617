package integration

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// TestIAMEnforceAGroupsPoliciesApplyToItsMembers: a user with no policy of
// its own is denied, allowed once it joins a group whose policy allows, and
// denied again when it leaves; a managed policy attached to the group counts
// the same, and a group's explicit deny wins over the user's own allow.
func TestIAMEnforceAGroupsPoliciesApplyToItsMembers(t *testing.T) {
	w := newIAMWorld(t, "enforce")
	ctx := callTimeout(t)
	ic := iam.NewFromConfig(w.root)
	send := func() error {
		_, err := sqs.NewFromConfig(w.bob).SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &w.queueURL, MessageBody: aws.String("x")})
		return err
	}
	const denied = "User: " + bobARN + " is not authorized to perform: sqs:SendMessage on resource: arn:aws:sqs:us-east-1:000000000000:jobs because no identity-based policy allows the sqs:SendMessage action"
	wantDenied(t, send(), "AccessDenied", 403, denied)

	if _, err := ic.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("senders")}); err != nil {
		t.Fatal(err)
	}
	if _, err := ic.PutGroupPolicy(ctx, &iam.PutGroupPolicyInput{GroupName: aws.String("senders"), PolicyName: aws.String("send"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"sqs:SendMessage","Resource":"arn:aws:sqs:*:*:jobs"}}`)}); err != nil {
		t.Fatal(err)
	}
	// A group's policy is nobody's until a user joins.
	wantDenied(t, send(), "AccessDenied", 403, denied)
	if _, err := ic.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String("senders"), UserName: aws.String("bob")}); err != nil {
		t.Fatal(err)
	}
	if err := send(); err != nil {
		t.Fatalf("bob in a group whose policy allows: %v", err)
	}
	groups, err := ic.ListGroupsForUser(ctx, &iam.ListGroupsForUserInput{UserName: aws.String("bob")})
	if err != nil || len(groups.Groups) != 1 || *groups.Groups[0].GroupName != "senders" ||
		*groups.Groups[0].Arn != "arn:aws:iam::000000000000:group/senders" {
		t.Fatalf("ListGroupsForUser = %+v, %v", groups, err)
	}
	if _, err := ic.RemoveUserFromGroup(ctx, &iam.RemoveUserFromGroupInput{GroupName: aws.String("senders"), UserName: aws.String("bob")}); err != nil {
		t.Fatal(err)
	}
	wantDenied(t, send(), "AccessDenied", 403, denied)

	// A managed policy attached to a group, and a group's explicit deny.
	if _, err := ic.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("admins")}); err != nil {
		t.Fatal(err)
	}
	if _, err := ic.AttachGroupPolicy(ctx, &iam.AttachGroupPolicyInput{GroupName: aws.String("admins"),
		PolicyArn: aws.String("arn:aws:iam::aws:policy/AmazonSQSFullAccess")}); err != nil {
		t.Fatal(err)
	}
	if _, err := ic.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String("admins"), UserName: aws.String("bob")}); err != nil {
		t.Fatal(err)
	}
	if err := send(); err != nil {
		t.Fatalf("bob in a group with AmazonSQSFullAccess: %v", err)
	}
	if _, err := ic.PutGroupPolicy(ctx, &iam.PutGroupPolicyInput{GroupName: aws.String("admins"), PolicyName: aws.String("quiet"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"sqs:SendMessage","Resource":"*"}}`)}); err != nil {
		t.Fatal(err)
	}
	wantDenied(t, send(), "AccessDenied", 403, "User: "+bobARN+" is not authorized to perform: sqs:SendMessage on resource: arn:aws:sqs:us-east-1:000000000000:jobs with an explicit deny in an identity-based policy")

	// A member cannot be deleted; a group with members or policies cannot be either.
	_, err = ic.DeleteGroup(ctx, &iam.DeleteGroupInput{GroupName: aws.String("admins")})
	wantDenied(t, err, "DeleteConflict", 409, "Cannot delete entity, must remove users from group first.")
	_, err = ic.DeleteGroup(ctx, &iam.DeleteGroupInput{GroupName: aws.String("senders")})
	wantDenied(t, err, "DeleteConflict", 409, "Cannot delete entity, must delete policies first.")
}
