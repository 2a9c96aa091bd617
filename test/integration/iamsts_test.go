// Package integration drives a real wharf, started as the binary starts it, with
// aws-sdk-go-v2 clients over loopback HTTP.
package integration

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/wharf-dev/wharf/internal/sdkhttp"
	"github.com/wharf-dev/wharf/internal/wharftest"
)

// start runs wharf on a free loopback port with in-memory state and returns
// its endpoint; it is shut down when the test ends.
func start(t *testing.T, args ...string) string {
	t.Helper()
	return wharftest.Start(t, args...).URL
}

func awsConfig(endpoint, key, secret, token string) aws.Config {
	return aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider(key, secret, token),
		BaseEndpoint: aws.String(endpoint),
		// Fail fast: a retried request only hides what went wrong.
		RetryMaxAttempts: 1,
		HTTPClient:       sdkhttp.Client(nil),
	}
}

func clients(endpoint, key, secret, token string) (*sts.Client, *iam.Client) {
	cfg := awsConfig(endpoint, key, secret, token)
	return sts.NewFromConfig(cfg), iam.NewFromConfig(cfg)
}

const trustECSTasks = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}`

// callTimeout bounds a whole test's calls so a hung server fails the test
// instead of the package. It is a guard, not a measure: 60 s, because the
// package's tests run in parallel, and under CI's load one aws CLI start
// alone took over 10 s (TestGetAccountAuthorizationDetailsThroughTheCLI).
func callTimeout(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestGetCallerIdentityOfTheDefaultRoot(t *testing.T) {
	t.Parallel()
	for _, auth := range []string{"any", "strict"} {
		t.Run(auth, func(t *testing.T) {
			endpoint := start(t, "--auth", auth, "--account", "111122223333")
			stsc, _ := clients(endpoint, "test", "test", "")
			out, err := stsc.GetCallerIdentity(callTimeout(t), &sts.GetCallerIdentityInput{})
			if err != nil {
				t.Fatal(err)
			}
			if *out.Account != "111122223333" || *out.Arn != "arn:aws:iam::111122223333:root" || *out.UserId != "111122223333" {
				t.Fatalf("identity = %s %s %s", *out.Account, *out.Arn, *out.UserId)
			}
		})
	}
}

// TestAssumedRoleCredentialsActAsTheRole is the path an ECS task's SDK takes:
// assume the task role, then call AWS with the temporary credentials.
func TestAssumedRoleCredentialsActAsTheRole(t *testing.T) {
	t.Parallel()
	for _, auth := range []string{"any", "strict"} {
		t.Run(auth, func(t *testing.T) {
			ctx := callTimeout(t)
			endpoint := start(t, "--auth", auth)
			stsc, iamc := clients(endpoint, "test", "test", "")
			role, err := iamc.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("task-role"), Path: aws.String("/ecs/"),
				AssumeRolePolicyDocument: aws.String(trustECSTasks), MaxSessionDuration: aws.Int32(7200)})
			if err != nil {
				t.Fatal(err)
			}
			if *role.Role.Arn != "arn:aws:iam::000000000000:role/ecs/task-role" {
				t.Fatalf("role ARN = %s", *role.Role.Arn)
			}
			assumed, err := stsc.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: role.Role.Arn, RoleSessionName: aws.String("task-1"), DurationSeconds: aws.Int32(7200)})
			if err != nil {
				t.Fatal(err)
			}
			c := assumed.Credentials
			if *assumed.AssumedRoleUser.Arn != "arn:aws:sts::000000000000:assumed-role/task-role/task-1" ||
				*assumed.AssumedRoleUser.AssumedRoleId != *role.Role.RoleId+":task-1" || c.Expiration == nil {
				t.Fatalf("assumed = %+v", assumed.AssumedRoleUser)
			}

			asRole, asRoleIAM := clients(endpoint, *c.AccessKeyId, *c.SecretAccessKey, *c.SessionToken)
			id, err := asRole.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
			if err != nil {
				t.Fatal(err)
			}
			if *id.Arn != *assumed.AssumedRoleUser.Arn || *id.UserId != *assumed.AssumedRoleUser.AssumedRoleId || *id.Account != "000000000000" {
				t.Fatalf("identity with role credentials = %s %s %s", *id.Account, *id.Arn, *id.UserId)
			}
			// The role's credentials act in the role's account for other calls too.
			if _, err := asRoleIAM.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("task-role")}); err != nil {
				t.Fatal(err)
			}
			if auth == "strict" {
				// Without the session token the signature is fine but the request is not.
				noToken, _ := clients(endpoint, *c.AccessKeyId, *c.SecretAccessKey, "")
				_, err := noToken.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
				wantAPIError(t, err, "InvalidClientTokenId")
			}
		})
	}
}

func TestIAMUserAccessKeyActsAsTheUser(t *testing.T) {
	t.Parallel()
	ctx := callTimeout(t)
	endpoint := start(t, "--auth", "strict")
	_, iamc := clients(endpoint, "test", "test", "")
	user, err := iamc.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("deployer"), Path: aws.String("/ci/")})
	if err != nil {
		t.Fatal(err)
	}
	key, err := iamc.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("deployer")})
	if err != nil {
		t.Fatal(err)
	}
	asUser, _ := clients(endpoint, *key.AccessKey.AccessKeyId, *key.AccessKey.SecretAccessKey, "")
	id, err := asUser.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if *id.Arn != "arn:aws:iam::000000000000:user/ci/deployer" || *id.UserId != *user.User.UserId {
		t.Fatalf("identity = %s %s, want the user %s", *id.Arn, *id.UserId, *user.User.UserId)
	}
	// A deactivated key no longer authenticates.
	if _, err := iamc.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: aws.String("deployer"), AccessKeyId: key.AccessKey.AccessKeyId, Status: "Inactive"}); err != nil {
		t.Fatal(err)
	}
	_, err = asUser.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	wantAPIError(t, err, "InvalidClientTokenId")
}

func TestStrictAuthRejectsBadCredentials(t *testing.T) {
	t.Parallel()
	endpoint := start(t, "--auth", "strict")
	tests := []struct {
		name, key, secret, code string
	}{
		{"wrong secret", "test", "wrong", "SignatureDoesNotMatch"},
		{"unknown key", "AKIAUNKNOWNUNKNOWN00", "test", "InvalidClientTokenId"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stsc, _ := clients(endpoint, tt.key, tt.secret, "")
			_, err := stsc.GetCallerIdentity(callTimeout(t), &sts.GetCallerIdentityInput{})
			wantAPIError(t, err, tt.code)
		})
	}
}

// TestIAMErrorsReachTheSDKAsAWSErrors checks code, HTTP status and the SDK's
// typed exceptions for the errors IAM callers branch on.
func TestIAMErrorsReachTheSDKAsAWSErrors(t *testing.T) {
	t.Parallel()
	ctx := callTimeout(t)
	endpoint := start(t)
	stsc, iamc := clients(endpoint, "test", "test", "")
	if _, err := iamc.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("r"), AssumeRolePolicyDocument: aws.String(trustECSTasks)}); err != nil {
		t.Fatal(err)
	}
	_, err := iamc.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("r"), AssumeRolePolicyDocument: aws.String(trustECSTasks)})
	wantAPIError(t, err, "EntityAlreadyExists")
	_, err = iamc.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("ghost")})
	wantAPIError(t, err, "NoSuchEntity")
	_, err = iamc.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("bad"), AssumeRolePolicyDocument: aws.String("{")})
	wantAPIError(t, err, "MalformedPolicyDocument")
	_, err = stsc.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::000000000000:role/ghost"), RoleSessionName: aws.String("s1")})
	wantAPIError(t, err, "AccessDenied")

	// Paginators walk Marker/IsTruncated to the end.
	for i := range 5 {
		if _, err := iamc.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(string(rune('a'+i)) + "-user")}); err != nil {
			t.Fatal(err)
		}
	}
	var names []string
	p := iam.NewListUsersPaginator(iamc, &iam.ListUsersInput{MaxItems: aws.Int32(2)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range page.Users {
			names = append(names, *u.UserName)
		}
	}
	if len(names) != 5 || names[0] != "a-user" || names[4] != "e-user" {
		t.Fatalf("paginated users = %v", names)
	}
}

func wantAPIError(t *testing.T, err error, code string) {
	t.Helper()
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("error = %v, want API error %s", err, code)
	}
	if apiErr.ErrorCode() != code {
		t.Fatalf("error code = %s (%s), want %s", apiErr.ErrorCode(), apiErr.ErrorMessage(), code)
	}
}

// TestListGroupsForUser: a user is in no group (wharf has no IAM groups);
// a missing user is NoSuchEntity. Terraform reads this before deleting a user.
func TestListGroupsForUser(t *testing.T) {
	t.Parallel()
	ctx := callTimeout(t)
	_, iamc := clients(start(t), "test", "test", "")
	if _, err := iamc.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("auditor")}); err != nil {
		t.Fatal(err)
	}
	out, err := iamc.ListGroupsForUser(ctx, &iam.ListGroupsForUserInput{UserName: aws.String("auditor")})
	if err != nil || len(out.Groups) != 0 || out.IsTruncated {
		t.Fatalf("ListGroupsForUser = %+v, %v", out, err)
	}
	_, err = iamc.ListGroupsForUser(ctx, &iam.ListGroupsForUserInput{UserName: aws.String("ghost")})
	wantAPIError(t, err, "NoSuchEntity")
}
