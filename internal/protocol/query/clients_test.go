package query

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"
	"github.com/aws/smithy-go"

	"github.com/wharf-dev/wharf/internal/apierr"
	"github.com/wharf-dev/wharf/internal/sdkhttp"
)

func v2Config(endpoint string) aws.Config {
	return aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
		BaseEndpoint: aws.String(endpoint),
		HTTPClient:   sdkhttp.Client(nil),
	}
}

func TestSDKv2STSGetCallerIdentityAndAssumeRole(t *testing.T) {
	exp := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	var gotIn *assumeRoleInput
	srv := newServer(t, stsService(), map[string]handlerFunc{
		"GetCallerIdentity": func(ctx context.Context, in any) (any, error) {
			return &getCallerIdentityOutput{UserId: aws.String("AIDAEXAMPLE"), Account: aws.String("123456789012"),
				Arn: aws.String("arn:aws:iam::123456789012:user/dev")}, nil
		},
		"AssumeRole": func(ctx context.Context, in any) (any, error) {
			gotIn = in.(*assumeRoleInput)
			if *gotIn.RoleArn == "bad" {
				return nil, &apierr.Error{Code: "MalformedPolicyDocumentException", Message: "bad policy"}
			}
			return &assumeRoleOutput{
				Credentials: &stsCredentials{AccessKeyId: aws.String("ASIA1"), SecretAccessKey: aws.String("s"),
					SessionToken: aws.String("tok"), Expiration: &exp},
				AssumedRoleUser: &assumedRoleUser{AssumedRoleId: aws.String("AROA1:sess"), Arn: aws.String("arn:aws:sts::123456789012:assumed-role/r/sess")},
			}, nil
		},
	})
	client := sts.NewFromConfig(v2Config(srv.URL))
	ctx := context.Background()

	id, err := client.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(id.Account) != "123456789012" || aws.ToString(id.Arn) != "arn:aws:iam::123456789012:user/dev" {
		t.Fatalf("identity %+v", id)
	}

	out, err := client.AssumeRole(ctx, &sts.AssumeRoleInput{
		RoleArn: aws.String("arn:aws:iam::123456789012:role/r"), RoleSessionName: aws.String("sess"),
		DurationSeconds: aws.Int32(3600),
		Tags:            []ststypes.Tag{{Key: aws.String("team"), Value: aws.String("a b&c")}},
		PolicyArns:      []ststypes.PolicyDescriptorType{{Arn: aws.String("arn:p1")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !out.Credentials.Expiration.Equal(exp) || aws.ToString(out.Credentials.SessionToken) != "tok" ||
		aws.ToString(out.AssumedRoleUser.AssumedRoleId) != "AROA1:sess" {
		t.Fatalf("output %+v %+v", out.Credentials, out.AssumedRoleUser)
	}
	if aws.ToInt32(gotIn.DurationSeconds) != 3600 || len(gotIn.Tags) != 1 || aws.ToString(gotIn.Tags[0].Value) != "a b&c" ||
		len(gotIn.PolicyArns) != 1 || aws.ToString(gotIn.PolicyArns[0].Arn) != "arn:p1" {
		t.Fatalf("decoded input %+v", gotIn)
	}

	_, err = client.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("bad"), RoleSessionName: aws.String("s")})
	var mp *ststypes.MalformedPolicyDocumentException
	if !errors.As(err, &mp) {
		t.Fatalf("error %T %v, want *types.MalformedPolicyDocumentException", err, err)
	}
}

func TestSDKv2IAMListUsersPaginatesWithNestedLists(t *testing.T) {
	var users []iamUser
	for i := 0; i < 5; i++ {
		users = append(users, iamUser{UserName: aws.String(fmt.Sprintf("user%d", i)), Path: aws.String("/"),
			Arn: aws.String(fmt.Sprintf("arn:aws:iam::123456789012:user/user%d", i)), UserId: aws.String("AIDA"),
			CreateDate: ptr(time.Date(2024, 1, 1, 0, 0, i, 0, time.UTC)),
			Tags:       []tag{{Key: aws.String("n"), Value: aws.String(fmt.Sprint(i))}}})
	}
	srv := newServer(t, iamService(), map[string]handlerFunc{
		"ListUsers": func(ctx context.Context, in any) (any, error) {
			req := in.(*listUsersInput)
			start := 0
			if req.Marker != nil {
				fmt.Sscan(*req.Marker, &start)
			}
			end := min(start+int(aws.ToInt32(req.MaxItems)), len(users))
			out := &listUsersOutput{Users: users[start:end], IsTruncated: aws.Bool(end < len(users))}
			if end < len(users) {
				out.Marker = aws.String(fmt.Sprint(end))
			}
			return out, nil
		},
		"DeleteUser": func(ctx context.Context, in any) (any, error) {
			return nil, &apierr.Error{Code: "NoSuchEntityException", Message: "The user with name " + *in.(*deleteUserInput).UserName + " cannot be found."}
		},
	})
	client := iam.NewFromConfig(v2Config(srv.URL))
	p := iam.NewListUsersPaginator(client, &iam.ListUsersInput{MaxItems: aws.Int32(2)})
	var names []string
	pages := 0
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, u := range page.Users {
			names = append(names, aws.ToString(u.UserName))
			if u.CreateDate == nil || u.CreateDate.Second() != len(names)-1 {
				t.Errorf("CreateDate %v", u.CreateDate)
			}
		}
	}
	if pages != 3 || strings.Join(names, ",") != "user0,user1,user2,user3,user4" {
		t.Fatalf("pages %d names %v", pages, names)
	}
	_, err := client.DeleteUser(context.Background(), &iam.DeleteUserInput{UserName: aws.String("bob")})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "NoSuchEntity" || !strings.Contains(ae.ErrorMessage(), "bob") {
		t.Fatalf("error %v", err)
	}
}
