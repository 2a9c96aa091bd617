package integration

import (
	"bytes"
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"
)

func sessionConfig(endpoint string, c *ststypes.Credentials) aws.Config {
	return awsConfig(endpoint, *c.AccessKeyId, *c.SecretAccessKey, *c.SessionToken)
}

func callerARN(t *testing.T, cfg aws.Config) (string, error) {
	t.Helper()
	out, err := sts.NewFromConfig(cfg).GetCallerIdentity(callTimeout(t), &sts.GetCallerIdentityInput{})
	if err != nil {
		return "", err
	}
	return *out.Arn, nil
}

// TestCredentialsEndWithTheirUserOrRole, under --auth any (where an unknown
// key would act as the default account's root): a deactivated or deleted
// access key is refused with InvalidClientTokenId, while the temporary
// credentials issued with it live on, as AWS's do; temporary credentials of
// a deleted user or role are refused, also after a role of the same name is
// made again.
func TestCredentialsEndWithTheirUserOrRole(t *testing.T) {
	w := newIAMWorld(t, "enforce")
	ctx := callTimeout(t)
	ic := iam.NewFromConfig(w.root)
	tok, err := sts.NewFromConfig(w.bob).GetSessionToken(ctx, &sts.GetSessionTokenInput{})
	if err != nil {
		t.Fatal(err)
	}
	bobSession := sessionConfig(w.endpoint, tok.Credentials)
	if arn, err := callerARN(t, bobSession); err != nil || arn != bobARN {
		t.Fatalf("bob's session acts as %q, %v", arn, err)
	}
	keys, err := ic.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String("bob")})
	if err != nil || len(keys.AccessKeyMetadata) != 1 {
		t.Fatalf("ListAccessKeys = %+v, %v", keys, err)
	}
	keyID := keys.AccessKeyMetadata[0].AccessKeyId

	if _, err := ic.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: aws.String("bob"), AccessKeyId: keyID, Status: iamtypes.StatusTypeInactive}); err != nil {
		t.Fatal(err)
	}
	_, err = callerARN(t, w.bob)
	wantDenied(t, err, "InvalidClientTokenId", 403, "The security token included in the request is invalid.")
	_, err = s3Client(w.bob).ListBuckets(ctx, &s3.ListBucketsInput{})
	wantDenied(t, err, "InvalidAccessKeyId", 403, "The AWS Access Key Id you provided does not exist in our records.")
	if arn, err := callerARN(t, bobSession); err != nil || arn != bobARN {
		t.Fatalf("the session outlives its deactivated key on AWS; here %q, %v", arn, err)
	}
	if _, err := ic.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String("bob"), AccessKeyId: keyID}); err != nil {
		t.Fatal(err)
	}
	_, err = callerARN(t, w.bob)
	wantDenied(t, err, "InvalidClientTokenId", 403, "The security token included in the request is invalid.")
	if arn, err := callerARN(t, bobSession); err != nil || arn != bobARN {
		t.Fatalf("the session outlives its deleted key on AWS; here %q, %v", arn, err)
	}

	// A role's session, and then the role and the user deleted.
	trust := `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:root"},"Action":"sts:AssumeRole"}}`
	if _, err := ic.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("deployer"), AssumeRolePolicyDocument: aws.String(trust)}); err != nil {
		t.Fatal(err)
	}
	as, err := sts.NewFromConfig(w.root).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::000000000000:role/deployer"), RoleSessionName: aws.String("ci")})
	if err != nil {
		t.Fatal(err)
	}
	roleSession := sessionConfig(w.endpoint, as.Credentials)
	if _, err := callerARN(t, roleSession); err != nil {
		t.Fatalf("the role's session: %v", err)
	}
	if _, err := ic.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("deployer")}); err != nil {
		t.Fatal(err)
	}
	_, err = callerARN(t, roleSession)
	wantDenied(t, err, "InvalidClientTokenId", 403, "The security token included in the request is invalid.")
	if _, err := ic.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("deployer"), AssumeRolePolicyDocument: aws.String(trust)}); err != nil {
		t.Fatal(err)
	}
	_, err = sqs.NewFromConfig(roleSession).ListQueues(ctx, &sqs.ListQueuesInput{})
	wantDenied(t, err, "InvalidClientTokenId", 403, "The security token included in the request is invalid.")

	if _, err := ic.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("bob")}); err != nil {
		t.Fatal(err)
	}
	_, err = callerARN(t, bobSession)
	wantDenied(t, err, "InvalidClientTokenId", 403, "The security token included in the request is invalid.")
}

// TestExpiredCredentialsAreRefusedAsExpired: once wharf's clock passes their
// expiry, temporary credentials are refused with each service's
// ExpiredToken error, not taken for an unknown key.
func TestExpiredCredentialsAreRefusedAsExpired(t *testing.T) {
	w := newIAMWorld(t, "enforce")
	ctx := callTimeout(t)
	tok, err := sts.NewFromConfig(w.bob).GetSessionToken(ctx, &sts.GetSessionTokenInput{DurationSeconds: aws.Int32(900)})
	if err != nil {
		t.Fatal(err)
	}
	session := sessionConfig(w.endpoint, tok.Credentials)
	if _, err := callerARN(t, session); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(w.endpoint+"/_wharf/clock", "application/json", bytes.NewReader([]byte(`{"advance":"16m"}`)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST /_wharf/clock: %d", resp.StatusCode)
	}
	_, err = callerARN(t, session)
	wantDenied(t, err, "ExpiredToken", 403, "The security token included in the request is expired")
	_, err = s3Client(session).ListBuckets(ctx, &s3.ListBucketsInput{})
	wantDenied(t, err, "ExpiredToken", 400, "The provided token has expired.")
	_, err = dynamodb.NewFromConfig(session).ListTables(ctx, &dynamodb.ListTablesInput{})
	wantDenied(t, err, "ExpiredTokenException", 400, "The security token included in the request is expired")
}
