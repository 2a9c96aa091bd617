package integration

import (
	"bytes"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// TestRevokingOlderSessionsByTokenIssueTime is IAM's "Revoke active
// sessions" for a role under --iam enforce: a deny on aws:TokenIssueTime
// before a moment refuses the role's sessions issued before it, while a
// session issued after it works.
func TestRevokingOlderSessionsByTokenIssueTime(t *testing.T) {
	w := newIAMWorld(t, "enforce")
	ctx := callTimeout(t)
	ic := iam.NewFromConfig(w.root)
	trust := `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:root"},"Action":"sts:AssumeRole"}}`
	if _, err := ic.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("worker"), AssumeRolePolicyDocument: aws.String(trust)}); err != nil {
		t.Fatal(err)
	}
	if _, err := ic.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("worker"), PolicyName: aws.String("send"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"sqs:SendMessage","Resource":"*"}}`)}); err != nil {
		t.Fatal(err)
	}
	assume := func(name string) (aws.Config, time.Time) {
		t.Helper()
		out, err := sts.NewFromConfig(w.root).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::000000000000:role/worker"),
			RoleSessionName: aws.String(name), DurationSeconds: aws.Int32(3600)})
		if err != nil {
			t.Fatal(err)
		}
		return sessionConfig(w.endpoint, out.Credentials), out.Credentials.Expiration.Add(-time.Hour)
	}
	send := func(cfg aws.Config) error {
		_, err := sqs.NewFromConfig(cfg).SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &w.queueURL, MessageBody: aws.String("x")})
		return err
	}
	old, issued := assume("old")
	if err := send(old); err != nil {
		t.Fatalf("a fresh session: %v", err)
	}
	resp, err := http.Post(w.endpoint+"/_wharf/clock", "application/json", bytes.NewReader([]byte(`{"advance":"10m"}`)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	cutoff := issued.Add(5 * time.Minute).UTC().Format(time.RFC3339)
	if _, err := ic.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("worker"), PolicyName: aws.String("AWSRevokeOlderSessions"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"DateLessThan":{"aws:TokenIssueTime":"` + cutoff + `"}}}}`)}); err != nil {
		t.Fatal(err)
	}
	wantDenied(t, send(old), "AccessDenied", 403, "User: arn:aws:sts::000000000000:assumed-role/worker/old is not authorized to perform: sqs:SendMessage on resource: arn:aws:sqs:us-east-1:000000000000:jobs with an explicit deny in an identity-based policy")
	fresh, _ := assume("fresh")
	if err := send(fresh); err != nil {
		t.Fatalf("a session issued after the cutoff: %v", err)
	}
}

// TestMultiFactorAuthPresentOnlyForTemporaryCredentials: temporary
// credentials issued without MFA carry aws:MultiFactorAuthPresent false, so a
// deny on Bool false refuses them; a long-term access key's requests carry no
// such key, so the same deny does not match them, as AWS documents.
func TestMultiFactorAuthPresentOnlyForTemporaryCredentials(t *testing.T) {
	w := newIAMWorld(t, "enforce")
	ctx := callTimeout(t)
	w.putBobPolicy("send", `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":"sqs:SendMessage","Resource":"*"},
		{"Effect":"Deny","Action":"sqs:SendMessage","Resource":"*","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"false"}}}]}`)
	send := func(cfg aws.Config) error {
		_, err := sqs.NewFromConfig(cfg).SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &w.queueURL, MessageBody: aws.String("x")})
		return err
	}
	if err := send(w.bob); err != nil {
		t.Fatalf("bob's access key: %v", err)
	}
	tok, err := sts.NewFromConfig(w.bob).GetSessionToken(ctx, &sts.GetSessionTokenInput{})
	if err != nil {
		t.Fatal(err)
	}
	wantDenied(t, send(sessionConfig(w.endpoint, tok.Credentials)), "AccessDenied", 403, "User: "+bobARN+" is not authorized to perform: sqs:SendMessage on resource: arn:aws:sqs:us-east-1:000000000000:jobs with an explicit deny in an identity-based policy")

	// A Null check tells the two apart the other way: only temporary
	// credentials have an issue time.
	w.putBobPolicy("send", `{"Version":"2012-10-17","Statement":
		{"Effect":"Allow","Action":"sqs:SendMessage","Resource":"*","Condition":{"Null":{"aws:TokenIssueTime":"false"}}}}`)
	if err := send(sessionConfig(w.endpoint, tok.Credentials)); err != nil {
		t.Fatalf("bob's session, allowed when it has an issue time: %v", err)
	}
	wantDenied(t, send(w.bob), "AccessDenied", 403, "User: "+bobARN+" is not authorized to perform: sqs:SendMessage on resource: arn:aws:sqs:us-east-1:000000000000:jobs because no identity-based policy allows the sqs:SendMessage action")
}
