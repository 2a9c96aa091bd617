package iam

import (
	"fmt"
	"regexp"
	"testing"

	"github.com/wharf-dev/wharf/internal/awsapi"
	api "github.com/wharf-dev/wharf/internal/awsapi/iam"
)

var (
	userIDPattern    = regexp.MustCompile(`^AIDA[A-Z2-7]{17}$`)
	accessKeyPattern = regexp.MustCompile(`^AKIA[A-Z2-7]{16}$`)
	secretPattern    = regexp.MustCompile(`^[A-Za-z0-9+/]{40}$`)
)

func TestCreateUser(t *testing.T) {
	tests := []struct {
		name     string
		in       api.CreateUserInput
		wantCode string
		wantARN  string
	}{
		{"default path", api.CreateUserInput{UserName: awsapi.String("alice")}, "", "arn:aws:iam::123456789012:user/alice"},
		{"with path", api.CreateUserInput{UserName: awsapi.String("bob"), Path: awsapi.String("/team/")}, "", "arn:aws:iam::123456789012:user/team/bob"},
		{"duplicate differing only in case", api.CreateUserInput{UserName: awsapi.String("ALICE")}, "EntityAlreadyExists", ""},
		{"name with a space", api.CreateUserInput{UserName: awsapi.String("a b")}, "ValidationError", ""},
		{"empty name", api.CreateUserInput{UserName: awsapi.String("")}, "ValidationError", ""},
		{"path without trailing slash", api.CreateUserInput{UserName: awsapi.String("carol"), Path: awsapi.String("/team")}, "ValidationError", ""},
		{"duplicate tag keys", api.CreateUserInput{UserName: awsapi.String("dave"), Tags: []api.Tag{
			{Key: awsapi.String("k"), Value: awsapi.String("1")}, {Key: awsapi.String("k"), Value: awsapi.String("2")}}}, "InvalidInput", ""},
	}
	f := newFixture(t)
	ctx := f.root(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := f.CreateUser(ctx, &tt.in)
			wantCode(t, err, tt.wantCode)
			if tt.wantCode != "" {
				return
			}
			u := out.User
			if *u.Arn != tt.wantARN || !userIDPattern.MatchString(*u.UserId) || !u.CreateDate.Equal(t0) {
				t.Fatalf("user = %s %s %v", *u.Arn, *u.UserId, u.CreateDate)
			}
			got := must[*api.GetUserOutput](t)(f.GetUser(ctx, &api.GetUserInput{UserName: tt.in.UserName}))
			if *got.User.UserId != *u.UserId || *got.User.Arn != tt.wantARN {
				t.Fatalf("GetUser = %s %s, want %s %s", *got.User.UserId, *got.User.Arn, *u.UserId, tt.wantARN)
			}
		})
	}
}

func TestGetUserOfMissingUserIsNoSuchEntity(t *testing.T) {
	f := newFixture(t)
	_, err := f.GetUser(f.root(t), &api.GetUserInput{UserName: awsapi.String("ghost")})
	wantCode(t, err, "NoSuchEntity")
	if got := err.Error(); got != "NoSuchEntity: The user with name ghost cannot be found." {
		t.Fatalf("message = %q", got)
	}
}

func TestListUsersPaginatesInNameOrderAndFiltersByPath(t *testing.T) {
	f := newFixture(t)
	ctx := f.root(t)
	for i, n := range []string{"erin", "Bob", "dave", "alice", "carol"} {
		path := "/a/"
		if i%2 == 1 {
			path = "/b/"
		}
		must[*api.CreateUserOutput](t)(f.CreateUser(ctx, &api.CreateUserInput{UserName: awsapi.String(n), Path: awsapi.String(path)}))
	}
	tests := []struct {
		name   string
		prefix *string
		max    int32
		want   []string
		pages  int
	}{
		{"all in pages of two", nil, 2, []string{"alice", "Bob", "carol", "dave", "erin"}, 3},
		{"all in one page", nil, 100, []string{"alice", "Bob", "carol", "dave", "erin"}, 1},
		{"path prefix", awsapi.String("/b/"), 1, []string{"alice", "Bob"}, 2},
		{"no match", awsapi.String("/c/"), 10, nil, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			var marker *string
			pages := 0
			for {
				out := must[*api.ListUsersOutput](t)(f.ListUsers(ctx, &api.ListUsersInput{PathPrefix: tt.prefix, MaxItems: &tt.max, Marker: marker}))
				pages++
				for _, u := range out.Users {
					got = append(got, *u.UserName)
				}
				if !*out.IsTruncated {
					if out.Marker != nil {
						t.Fatalf("last page has a marker")
					}
					break
				}
				marker = out.Marker
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) || pages != tt.pages {
				t.Fatalf("got %v in %d pages, want %v in %d", got, pages, tt.want, tt.pages)
			}
		})
	}
	_, err := f.ListUsers(ctx, &api.ListUsersInput{MaxItems: awsapi.Int32(0)})
	wantCode(t, err, "ValidationError")
	_, err = f.ListUsers(ctx, &api.ListUsersInput{Marker: awsapi.String("!!not base64")})
	wantCode(t, err, "InvalidInput")
}

func TestUpdateUserRenamesAndKeepsItsKeys(t *testing.T) {
	f := newFixture(t)
	ctx := f.root(t)
	must[*api.CreateUserOutput](t)(f.CreateUser(ctx, &api.CreateUserInput{UserName: awsapi.String("old")}))
	must[*api.CreateUserOutput](t)(f.CreateUser(ctx, &api.CreateUserInput{UserName: awsapi.String("taken")}))
	key := must[*api.CreateAccessKeyOutput](t)(f.CreateAccessKey(ctx, &api.CreateAccessKeyInput{UserName: awsapi.String("old")}))

	_, err := f.UpdateUser(ctx, &api.UpdateUserInput{UserName: awsapi.String("old"), NewUserName: awsapi.String("taken")})
	wantCode(t, err, "EntityAlreadyExists")
	_, err = f.UpdateUser(ctx, &api.UpdateUserInput{UserName: awsapi.String("ghost"), NewUserName: awsapi.String("x")})
	wantCode(t, err, "NoSuchEntity")
	must[*api.UpdateUserOutput](t)(f.UpdateUser(ctx, &api.UpdateUserInput{UserName: awsapi.String("old"), NewUserName: awsapi.String("new"), NewPath: awsapi.String("/p/")}))

	_, err = f.GetUser(ctx, &api.GetUserInput{UserName: awsapi.String("old")})
	wantCode(t, err, "NoSuchEntity")
	k, ok := f.LookupKey(ctx, *key.AccessKey.AccessKeyId)
	if !ok || k.ARN != "arn:aws:iam::123456789012:user/p/new" {
		t.Fatalf("LookupKey after rename = %+v, %v", k, ok)
	}
	keys := must[*api.ListAccessKeysOutput](t)(f.ListAccessKeys(ctx, &api.ListAccessKeysInput{UserName: awsapi.String("new")}))
	if len(keys.AccessKeyMetadata) != 1 || *keys.AccessKeyMetadata[0].UserName != "new" {
		t.Fatalf("keys after rename = %+v", keys.AccessKeyMetadata)
	}
}

func TestDeleteUserConflictsUntilKeysAndPoliciesAreGone(t *testing.T) {
	f := newFixture(t)
	ctx := f.root(t)
	name := awsapi.String("u")
	must[*api.CreateUserOutput](t)(f.CreateUser(ctx, &api.CreateUserInput{UserName: name}))
	key := must[*api.CreateAccessKeyOutput](t)(f.CreateAccessKey(ctx, &api.CreateAccessKeyInput{UserName: name}))
	must[*api.PutUserPolicyOutput](t)(f.PutUserPolicy(ctx, &api.PutUserPolicyInput{UserName: name, PolicyName: awsapi.String("p"), PolicyDocument: awsapi.String(allowAll)}))
	admin := awsapi.String("arn:aws:iam::aws:policy/AdministratorAccess")
	must[*api.AttachUserPolicyOutput](t)(f.AttachUserPolicy(ctx, &api.AttachUserPolicyInput{UserName: name, PolicyArn: admin}))

	steps := []struct {
		name    string
		cleanUp func() error
		want    string
	}{
		{"with keys, policies and attachments", func() error { return nil }, "DeleteConflict"},
		{"with policies and attachments", func() error {
			_, err := f.DeleteAccessKey(ctx, &api.DeleteAccessKeyInput{UserName: name, AccessKeyId: key.AccessKey.AccessKeyId})
			return err
		}, "DeleteConflict"},
		{"with attachments", func() error {
			_, err := f.DeleteUserPolicy(ctx, &api.DeleteUserPolicyInput{UserName: name, PolicyName: awsapi.String("p")})
			return err
		}, "DeleteConflict"},
		{"with nothing", func() error {
			_, err := f.DetachUserPolicy(ctx, &api.DetachUserPolicyInput{UserName: name, PolicyArn: admin})
			return err
		}, ""},
		{"already deleted", func() error { return nil }, "NoSuchEntity"},
	}
	for _, s := range steps {
		if err := s.cleanUp(); err != nil {
			t.Fatalf("%s: clean up: %v", s.name, err)
		}
		_, err := f.DeleteUser(ctx, &api.DeleteUserInput{UserName: name})
		t.Run(s.name, func(t *testing.T) { wantCode(t, err, s.want) })
	}
}

func TestAccessKeys(t *testing.T) {
	f := newFixture(t)
	ctx := f.root(t)
	name := awsapi.String("u")
	must[*api.CreateUserOutput](t)(f.CreateUser(ctx, &api.CreateUserInput{UserName: name, Path: awsapi.String("/x/")}))
	k1 := must[*api.CreateAccessKeyOutput](t)(f.CreateAccessKey(ctx, &api.CreateAccessKeyInput{UserName: name})).AccessKey
	k2 := must[*api.CreateAccessKeyOutput](t)(f.CreateAccessKey(ctx, &api.CreateAccessKeyInput{UserName: name})).AccessKey
	if !accessKeyPattern.MatchString(*k1.AccessKeyId) || !secretPattern.MatchString(*k1.SecretAccessKey) || *k1.Status != "Active" {
		t.Fatalf("key = %s %s %s", *k1.AccessKeyId, *k1.SecretAccessKey, *k1.Status)
	}
	_, err := f.CreateAccessKey(ctx, &api.CreateAccessKeyInput{UserName: name})
	wantCode(t, err, "LimitExceeded")
	_, err = f.CreateAccessKey(ctx, &api.CreateAccessKeyInput{UserName: awsapi.String("ghost")})
	wantCode(t, err, "NoSuchEntity")

	got, ok := f.LookupKey(ctx, *k1.AccessKeyId)
	if !ok || got.Secret != *k1.SecretAccessKey || got.Account != testAccount || got.ARN != "arn:aws:iam::123456789012:user/x/u" {
		t.Fatalf("LookupKey = %+v, %v", got, ok)
	}
	// A user acting with its own key lists its keys without naming itself.
	own := must[*api.ListAccessKeysOutput](t)(f.ListAccessKeys(f.as(t, *k1.AccessKeyId), &api.ListAccessKeysInput{}))
	if len(own.AccessKeyMetadata) != 2 || *own.AccessKeyMetadata[0].AccessKeyId != *k1.AccessKeyId {
		t.Fatalf("own keys = %+v", own.AccessKeyMetadata)
	}

	tests := []struct {
		name   string
		status string
		key    *string
		want   string
		active bool
	}{
		{"deactivate", "Inactive", k1.AccessKeyId, "", false},
		{"reactivate", "Active", k1.AccessKeyId, "", true},
		{"bad status", "Disabled", k1.AccessKeyId, "ValidationError", true},
		{"unknown key", "Inactive", awsapi.String("AKIAAAAAAAAAAAAAAAAA"), "NoSuchEntity", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.UpdateAccessKey(ctx, &api.UpdateAccessKeyInput{UserName: name, AccessKeyId: tt.key, Status: &tt.status})
			wantCode(t, err, tt.want)
			if _, ok := f.LookupKey(ctx, *k1.AccessKeyId); ok != tt.active {
				t.Fatalf("key authenticates = %v, want %v", ok, tt.active)
			}
		})
	}

	must[*api.DeleteAccessKeyOutput](t)(f.DeleteAccessKey(ctx, &api.DeleteAccessKeyInput{UserName: name, AccessKeyId: k2.AccessKeyId}))
	if _, ok := f.LookupKey(ctx, *k2.AccessKeyId); ok {
		t.Fatal("deleted key still authenticates")
	}
	_, err = f.DeleteAccessKey(ctx, &api.DeleteAccessKeyInput{UserName: name, AccessKeyId: k2.AccessKeyId})
	wantCode(t, err, "NoSuchEntity")
}

func TestUserTags(t *testing.T) {
	f := newFixture(t)
	ctx := f.root(t)
	name := awsapi.String("u")
	must[*api.CreateUserOutput](t)(f.CreateUser(ctx, &api.CreateUserInput{UserName: name, Tags: []api.Tag{{Key: awsapi.String("a"), Value: awsapi.String("1")}}}))
	must[*api.TagUserOutput](t)(f.TagUser(ctx, &api.TagUserInput{UserName: name, Tags: []api.Tag{
		{Key: awsapi.String("b"), Value: awsapi.String("2")}, {Key: awsapi.String("a"), Value: awsapi.String("3")}}}))
	must[*api.UntagUserOutput](t)(f.UntagUser(ctx, &api.UntagUserInput{UserName: name, TagKeys: []string{"b", "absent"}}))
	out := must[*api.ListUserTagsOutput](t)(f.ListUserTags(ctx, &api.ListUserTagsInput{UserName: name}))
	if len(out.Tags) != 1 || *out.Tags[0].Key != "a" || *out.Tags[0].Value != "3" || *out.IsTruncated {
		t.Fatalf("tags = %+v", out.Tags)
	}
	_, err := f.TagUser(ctx, &api.TagUserInput{UserName: awsapi.String("ghost"), Tags: out.Tags})
	wantCode(t, err, "NoSuchEntity")
}

func TestGetUserWithoutNameDescribesTheCaller(t *testing.T) {
	f := newFixture(t)
	root := f.root(t)
	must[*api.CreateUserOutput](t)(f.CreateUser(root, &api.CreateUserInput{UserName: awsapi.String("me")}))
	key := must[*api.CreateAccessKeyOutput](t)(f.CreateAccessKey(root, &api.CreateAccessKeyInput{UserName: awsapi.String("me")})).AccessKey
	tests := []struct {
		name    string
		as      string
		wantARN string
	}{
		{"root", "test", "arn:aws:iam::123456789012:root"},
		{"user", *key.AccessKeyId, "arn:aws:iam::123456789012:user/me"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := must[*api.GetUserOutput](t)(f.GetUser(f.as(t, tt.as), &api.GetUserInput{}))
			if *out.User.Arn != tt.wantARN {
				t.Fatalf("Arn = %s, want %s", *out.User.Arn, tt.wantARN)
			}
		})
	}
}
