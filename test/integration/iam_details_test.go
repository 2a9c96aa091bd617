package integration

import (
	"context"
	"encoding/json"
	"net/url"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
)

// authzDetailsWorld is an account with a user in a group, a role in an
// instance profile, customer managed policies (one with two versions, one a
// permissions boundary) and AWS managed policies attached.
func authzDetailsWorld(t *testing.T, ctx context.Context, ic *iam.Client) {
	t.Helper()
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	const (
		sendDoc   = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sqs:SendMessage","Resource":"*"}]}`
		readDoc   = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::data/*"}]}`
		appV1     = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"dynamodb:GetItem","Resource":"*"}]}`
		appV2     = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["dynamodb:GetItem","dynamodb:PutItem"],"Resource":"*"}]}`
		boundDoc  = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:*","sqs:*","dynamodb:*"],"Resource":"*"}]}`
		groupDocs = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"logs:PutLogEvents","Resource":"*"}]}`
	)
	app, err := ic.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("app"), Path: aws.String("/svc/"), Description: aws.String("the app's table"), PolicyDocument: aws.String(appV1)})
	if err != nil {
		t.Fatal(err)
	}
	must(ic.CreatePolicyVersion(ctx, &iam.CreatePolicyVersionInput{PolicyArn: app.Policy.Arn, PolicyDocument: aws.String(appV2), SetAsDefault: true}))
	bound, err := ic.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("bound"), PolicyDocument: aws.String(boundDoc)})
	if err != nil {
		t.Fatal(err)
	}
	must(ic.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("alice"), Path: aws.String("/eng/"),
		PermissionsBoundary: bound.Policy.Arn, Tags: []iamtypes.Tag{{Key: aws.String("team"), Value: aws.String("data")}}}))
	must(ic.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("alice"), PolicyName: aws.String("send"), PolicyDocument: aws.String(sendDoc)}))
	must(ic.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("alice"), PolicyArn: app.Policy.Arn}))
	must(ic.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("Devs")}))
	must(ic.PutGroupPolicy(ctx, &iam.PutGroupPolicyInput{GroupName: aws.String("Devs"), PolicyName: aws.String("logs"), PolicyDocument: aws.String(groupDocs)}))
	must(ic.AttachGroupPolicy(ctx, &iam.AttachGroupPolicyInput{GroupName: aws.String("Devs"), PolicyArn: aws.String("arn:aws:iam::aws:policy/AmazonSQSFullAccess")}))
	must(ic.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String("Devs"), UserName: aws.String("alice")}))
	must(ic.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("task"), AssumeRolePolicyDocument: aws.String(trustECSTasks),
		PermissionsBoundary: bound.Policy.Arn, Tags: []iamtypes.Tag{{Key: aws.String("app"), Value: aws.String("ingest")}}}))
	must(ic.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("task"), PolicyName: aws.String("read"), PolicyDocument: aws.String(readDoc)}))
	must(ic.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("task"), PolicyArn: aws.String("arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")}))
	must(ic.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("task"), PolicyArn: app.Policy.Arn}))
	must(ic.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String("web")}))
	must(ic.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String("web"), RoleName: aws.String("task")}))
	must(ic.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("idle"), AssumeRolePolicyDocument: aws.String(trustECSTasks)}))
}

// decoded URL-decodes a policy document as IAM encodes them.
func decoded(t *testing.T, doc *string) string {
	t.Helper()
	if doc == nil {
		t.Fatal("no document")
	}
	if strings.ContainsAny(*doc, `{}":`) {
		t.Fatalf("document %q is not URL-encoded", *doc)
	}
	s, err := url.QueryUnescape(*doc)
	if err != nil {
		t.Fatalf("document %q: %v", *doc, err)
	}
	return s
}

// TestGetAccountAuthorizationDetailsDescribesTheAccount: one call returns the
// users (inline and attached policies, groups, tags, boundary), groups, roles
// (URL-encoded trust policy, instance profiles, policies, tags, last use) and
// the managed policies in use with every version's document, the default one
// marked, and their attachment and boundary counts.
func TestGetAccountAuthorizationDetailsDescribesTheAccount(t *testing.T) {
	t.Parallel()
	ctx := callTimeout(t)
	ic := iam.NewFromConfig(awsConfig(start(t), "test", "test", ""))
	authzDetailsWorld(t, ctx, ic)

	out, err := ic.GetAccountAuthorizationDetails(ctx, &iam.GetAccountAuthorizationDetailsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if out.IsTruncated || out.Marker != nil {
		t.Fatalf("IsTruncated %v, Marker %v with the default MaxItems", out.IsTruncated, out.Marker)
	}
	if len(out.UserDetailList) != 1 || len(out.GroupDetailList) != 1 || len(out.RoleDetailList) != 2 {
		t.Fatalf("users %d, groups %d, roles %d; want 1, 1, 2", len(out.UserDetailList), len(out.GroupDetailList), len(out.RoleDetailList))
	}
	u := out.UserDetailList[0]
	if *u.UserName != "alice" || *u.Path != "/eng/" || *u.Arn != "arn:aws:iam::000000000000:user/eng/alice" || !strings.HasPrefix(*u.UserId, "AIDA") {
		t.Fatalf("user %s %s %s %s", *u.UserName, *u.Path, *u.Arn, *u.UserId)
	}
	if len(u.UserPolicyList) != 1 || *u.UserPolicyList[0].PolicyName != "send" || !strings.Contains(decoded(t, u.UserPolicyList[0].PolicyDocument), `"sqs:SendMessage"`) {
		t.Fatalf("UserPolicyList %+v", u.UserPolicyList)
	}
	if len(u.AttachedManagedPolicies) != 1 || *u.AttachedManagedPolicies[0].PolicyArn != "arn:aws:iam::000000000000:policy/svc/app" || *u.AttachedManagedPolicies[0].PolicyName != "app" {
		t.Fatalf("user's AttachedManagedPolicies %+v", u.AttachedManagedPolicies)
	}
	if !slices.Equal(u.GroupList, []string{"Devs"}) {
		t.Fatalf("GroupList %v", u.GroupList)
	}
	if len(u.Tags) != 1 || *u.Tags[0].Key != "team" || *u.Tags[0].Value != "data" {
		t.Fatalf("user's Tags %+v", u.Tags)
	}
	if u.PermissionsBoundary == nil || *u.PermissionsBoundary.PermissionsBoundaryArn != "arn:aws:iam::000000000000:policy/bound" ||
		u.PermissionsBoundary.PermissionsBoundaryType != iamtypes.PermissionsBoundaryAttachmentTypePolicy {
		t.Fatalf("user's PermissionsBoundary %+v", u.PermissionsBoundary)
	}

	g := out.GroupDetailList[0]
	if *g.GroupName != "Devs" || *g.Arn != "arn:aws:iam::000000000000:group/Devs" || len(g.GroupPolicyList) != 1 ||
		*g.GroupPolicyList[0].PolicyName != "logs" || !strings.Contains(decoded(t, g.GroupPolicyList[0].PolicyDocument), "logs:PutLogEvents") ||
		len(g.AttachedManagedPolicies) != 1 || *g.AttachedManagedPolicies[0].PolicyName != "AmazonSQSFullAccess" {
		t.Fatalf("group %+v", g)
	}

	idle, task := out.RoleDetailList[0], out.RoleDetailList[1]
	if *idle.RoleName != "idle" || *task.RoleName != "task" {
		t.Fatalf("roles %s, %s; want idle, task (by name)", *idle.RoleName, *task.RoleName)
	}
	if got := decoded(t, task.AssumeRolePolicyDocument); got != trustECSTasks {
		t.Fatalf("trust policy decodes to %s", got)
	}
	if len(task.InstanceProfileList) != 1 || *task.InstanceProfileList[0].InstanceProfileName != "web" ||
		len(task.InstanceProfileList[0].Roles) != 1 || *task.InstanceProfileList[0].Roles[0].RoleName != "task" {
		t.Fatalf("InstanceProfileList %+v", task.InstanceProfileList)
	}
	if len(idle.InstanceProfileList) != 0 || len(idle.RolePolicyList) != 0 || len(idle.AttachedManagedPolicies) != 0 || idle.PermissionsBoundary != nil {
		t.Fatalf("the idle role has %+v", idle)
	}
	if len(task.RolePolicyList) != 1 || *task.RolePolicyList[0].PolicyName != "read" || !strings.Contains(decoded(t, task.RolePolicyList[0].PolicyDocument), "arn:aws:s3:::data/*") {
		t.Fatalf("RolePolicyList %+v", task.RolePolicyList)
	}
	var attached []string
	for _, a := range task.AttachedManagedPolicies {
		attached = append(attached, *a.PolicyArn)
	}
	slices.Sort(attached)
	if !slices.Equal(attached, []string{"arn:aws:iam::000000000000:policy/svc/app", "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"}) {
		t.Fatalf("role's AttachedManagedPolicies %v", attached)
	}
	if len(task.Tags) != 1 || *task.Tags[0].Key != "app" || task.PermissionsBoundary == nil || task.RoleLastUsed == nil || task.RoleLastUsed.LastUsedDate != nil {
		t.Fatalf("role's Tags %+v, boundary %+v, RoleLastUsed %+v", task.Tags, task.PermissionsBoundary, task.RoleLastUsed)
	}

	policies := map[string]iamtypes.ManagedPolicyDetail{}
	for _, p := range out.Policies {
		policies[*p.Arn] = p
	}
	var arns []string
	for a := range policies {
		arns = append(arns, a)
	}
	slices.Sort(arns)
	// AWS managed policies nobody here uses (AdministratorAccess) are not listed.
	if !slices.Equal(arns, []string{"arn:aws:iam::000000000000:policy/bound", "arn:aws:iam::000000000000:policy/svc/app",
		"arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess", "arn:aws:iam::aws:policy/AmazonSQSFullAccess"}) {
		t.Fatalf("Policies %v", arns)
	}
	app := policies["arn:aws:iam::000000000000:policy/svc/app"]
	if *app.PolicyName != "app" || *app.Path != "/svc/" || *app.DefaultVersionId != "v2" || *app.AttachmentCount != 2 ||
		*app.PermissionsBoundaryUsageCount != 0 || !app.IsAttachable || *app.Description != "the app's table" || len(app.PolicyVersionList) != 2 {
		t.Fatalf("app policy %+v", app)
	}
	for _, v := range app.PolicyVersionList {
		doc := decoded(t, v.Document)
		switch *v.VersionId {
		case "v1":
			if v.IsDefaultVersion || strings.Contains(doc, "PutItem") {
				t.Fatalf("v1: default %v, %s", v.IsDefaultVersion, doc)
			}
		case "v2":
			if !v.IsDefaultVersion || !strings.Contains(doc, "dynamodb:PutItem") {
				t.Fatalf("v2: default %v, %s", v.IsDefaultVersion, doc)
			}
		default:
			t.Fatalf("version %s", *v.VersionId)
		}
	}
	if b := policies["arn:aws:iam::000000000000:policy/bound"]; *b.AttachmentCount != 0 || *b.PermissionsBoundaryUsageCount != 2 {
		t.Fatalf("bound policy: attachments %d, boundary uses %d", *b.AttachmentCount, *b.PermissionsBoundaryUsageCount)
	}
	if s := policies["arn:aws:iam::aws:policy/AmazonSQSFullAccess"]; *s.AttachmentCount != 1 || len(s.PolicyVersionList) != 1 ||
		!s.PolicyVersionList[0].IsDefaultVersion || !strings.Contains(decoded(t, s.PolicyVersionList[0].Document), "sqs:*") {
		t.Fatalf("AmazonSQSFullAccess %+v", s)
	}
}

// TestGetAccountAuthorizationDetailsFiltersAndPages: Filter keeps the kinds it
// names; MaxItems counts entities of every kind, and following Marker until
// IsTruncated is false gives the unfiltered answer, once each.
func TestGetAccountAuthorizationDetailsFiltersAndPages(t *testing.T) {
	t.Parallel()
	ctx := callTimeout(t)
	ic := iam.NewFromConfig(awsConfig(start(t), "test", "test", ""))
	authzDetailsWorld(t, ctx, ic)

	names := func(out *iam.GetAccountAuthorizationDetailsOutput) []string {
		var n []string
		for _, u := range out.UserDetailList {
			n = append(n, "user "+*u.UserName)
		}
		for _, g := range out.GroupDetailList {
			n = append(n, "group "+*g.GroupName)
		}
		for _, r := range out.RoleDetailList {
			n = append(n, "role "+*r.RoleName)
		}
		for _, p := range out.Policies {
			n = append(n, "policy "+*p.PolicyName)
		}
		return n
	}
	for _, tc := range []struct {
		filter []iamtypes.EntityType
		want   []string
	}{
		{[]iamtypes.EntityType{iamtypes.EntityTypeRole}, []string{"role idle", "role task"}},
		{[]iamtypes.EntityType{iamtypes.EntityTypeUser, iamtypes.EntityTypeGroup}, []string{"user alice", "group Devs"}},
		{[]iamtypes.EntityType{iamtypes.EntityTypeLocalManagedPolicy}, []string{"policy bound", "policy app"}},
		{[]iamtypes.EntityType{iamtypes.EntityTypeAWSManagedPolicy}, []string{"policy AmazonS3ReadOnlyAccess", "policy AmazonSQSFullAccess"}},
	} {
		out, err := ic.GetAccountAuthorizationDetails(ctx, &iam.GetAccountAuthorizationDetailsInput{Filter: tc.filter})
		if err != nil {
			t.Fatal(err)
		}
		if got := names(out); !slices.Equal(got, tc.want) {
			t.Errorf("Filter %v: %v, want %v", tc.filter, got, tc.want)
		}
	}

	all, err := ic.GetAccountAuthorizationDetails(ctx, &iam.GetAccountAuthorizationDetailsInput{})
	if err != nil {
		t.Fatal(err)
	}
	var paged []string
	var marker *string
	pages := 0
	for {
		out, err := ic.GetAccountAuthorizationDetails(ctx, &iam.GetAccountAuthorizationDetailsInput{MaxItems: aws.Int32(3), Marker: marker})
		if err != nil {
			t.Fatal(err)
		}
		pages++
		got := names(out)
		if len(got) > 3 || (out.IsTruncated && (len(got) != 3 || out.Marker == nil)) {
			t.Fatalf("page %d: %v, IsTruncated %v, Marker %v", pages, got, out.IsTruncated, out.Marker)
		}
		paged = append(paged, got...)
		if !out.IsTruncated {
			break
		}
		marker = out.Marker
	}
	if want := names(all); pages != 3 || !slices.Equal(paged, want) {
		t.Fatalf("%d pages of 3 gave %v, want %v (8 entities)", pages, paged, want)
	}
	// The SDK's paginator walks the same pages.
	p := iam.NewGetAccountAuthorizationDetailsPaginator(ic, &iam.GetAccountAuthorizationDetailsInput{MaxItems: aws.Int32(4)})
	var viaPaginator []string
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		viaPaginator = append(viaPaginator, names(out)...)
	}
	if !slices.Equal(viaPaginator, names(all)) {
		t.Fatalf("paginator gave %v", viaPaginator)
	}

	_, err = ic.GetAccountAuthorizationDetails(ctx, &iam.GetAccountAuthorizationDetailsInput{Filter: []iamtypes.EntityType{"Users"}})
	wantDenied(t, err, "ValidationError", 400, "1 validation error detected: Value '[Users]' at 'filter' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value set: [User, Role, Group, LocalManagedPolicy, AWSManagedPolicy]]")
	_, err = ic.GetAccountAuthorizationDetails(ctx, &iam.GetAccountAuthorizationDetailsInput{MaxItems: aws.Int32(0)})
	wantAPIError(t, err, "ValidationError")
}

// TestGetAccountAuthorizationDetailsUnderEnforce: a user needs
// iam:GetAccountAuthorizationDetails, and the answer is the caller's account's.
func TestGetAccountAuthorizationDetailsUnderEnforce(t *testing.T) {
	w := newIAMWorld(t, "enforce")
	ctx := callTimeout(t)
	_, err := iam.NewFromConfig(w.bob).GetAccountAuthorizationDetails(ctx, &iam.GetAccountAuthorizationDetailsInput{})
	wantDenied(t, err, "AccessDenied", 403, "User: "+bobARN+" is not authorized to perform: iam:GetAccountAuthorizationDetails on resource: * because no identity-based policy allows the iam:GetAccountAuthorizationDetails action")
	w.putBobPolicy("audit", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"iam:GetAccountAuthorizationDetails","Resource":"*"}}`)
	out, err := iam.NewFromConfig(w.bob).GetAccountAuthorizationDetails(ctx, &iam.GetAccountAuthorizationDetailsInput{Filter: []iamtypes.EntityType{iamtypes.EntityTypeUser}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.UserDetailList) != 1 || *out.UserDetailList[0].UserName != "bob" || len(out.UserDetailList[0].UserPolicyList) != 1 {
		t.Fatalf("UserDetailList %+v", out.UserDetailList)
	}
	other, err := iam.NewFromConfig(w.other()).GetAccountAuthorizationDetails(ctx, &iam.GetAccountAuthorizationDetailsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(other.UserDetailList)+len(other.RoleDetailList)+len(other.GroupDetailList)+len(other.Policies) != 0 {
		t.Fatalf("another account sees %+v", other)
	}
}

// TestGetAccountAuthorizationDetailsThroughTheCLI: the aws CLI decodes the
// URL-encoded documents into JSON, as it does against AWS, which it can only
// do when they are encoded as AWS encodes them.
func TestGetAccountAuthorizationDetailsThroughTheCLI(t *testing.T) {
	t.Parallel()
	ctx := callTimeout(t)
	endpoint := start(t)
	ic := iam.NewFromConfig(awsConfig(endpoint, "test", "test", ""))
	authzDetailsWorld(t, ctx, ic)
	cmd := exec.CommandContext(ctx, "/usr/bin/aws", "iam", "get-account-authorization-details", "--filter", "Role", "LocalManagedPolicy",
		"--endpoint-url", endpoint, "--region", "us-east-1", "--output", "json")
	cmd.Env = append(cmd.Environ(), "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_PAGER=", "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
	b, err := cmd.Output()
	if err != nil {
		t.Fatalf("aws iam get-account-authorization-details: %v", err)
	}
	var out struct {
		RoleDetailList []struct {
			RoleName                 string
			AssumeRolePolicyDocument struct {
				Statement []struct{ Principal map[string]string }
			}
			RolePolicyList []struct {
				PolicyDocument struct{ Statement []struct{ Resource string } }
			}
		}
		Policies []struct {
			PolicyName        string
			PolicyVersionList []struct {
				Document         struct{ Statement []struct{ Action any } }
				IsDefaultVersion bool
			}
		}
		UserDetailList []any
	}
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	if len(out.UserDetailList) != 0 || len(out.RoleDetailList) != 2 || len(out.Policies) != 2 {
		t.Fatalf("CLI output %s", b)
	}
	task := out.RoleDetailList[1]
	if task.RoleName != "task" || task.AssumeRolePolicyDocument.Statement[0].Principal["Service"] != "ecs-tasks.amazonaws.com" ||
		task.RolePolicyList[0].PolicyDocument.Statement[0].Resource != "arn:aws:s3:::data/*" {
		t.Fatalf("CLI's task role %+v", task)
	}
	if app := out.Policies[1]; app.PolicyName != "app" || len(app.PolicyVersionList) != 2 || app.PolicyVersionList[0].Document.Statement[0].Action == nil {
		t.Fatalf("CLI's app policy %+v", app)
	}
}
