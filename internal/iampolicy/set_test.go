package iampolicy

import (
	"fmt"
	"testing"
)

// TestSetDecidesAsItsPolicies: a Set of policies mixing exact actions,
// service wildcards, NotAction, 2008-10-17 documents (whose ${} is literal
// text) and denies in later policies decides every request as the same
// policies given as a list, naming the same policy and statement.
func TestSetDecidesAsItsPolicies(t *testing.T) {
	docs := []string{
		`{"Version":"2012-10-17","Statement":[{"Sid":"Get","Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/${aws:username}/*"}]}`,
		`{"Version":"2008-10-17","Statement":[{"Sid":"Old","Effect":"Allow","Action":"s3:PutObject","Resource":"arn:aws:s3:::b/${aws:username}/*"}]}`,
		`{"Version":"2012-10-17","Statement":[{"Sid":"Sqs","Effect":"Allow","Action":"sqs:*","Resource":"*"},
			{"Sid":"NoPurge","Effect":"Deny","Action":"sqs:Purge*","Resource":"*"}]}`,
		`{"Version":"2012-10-17","Statement":[{"Sid":"NotIam","Effect":"Allow","NotAction":["iam:*","s3:*"],"Resource":"*",
			"Condition":{"StringEquals":{"aws:RequestedRegion":"us-east-1"}}}]}`,
		`{"Version":"2012-10-17","Statement":[{"Sid":"NoDelete","Effect":"Deny","Action":"*:Delete*","Resource":"*"}]}`,
	}
	var named []Named
	for i, d := range docs {
		p, err := Parse(d, Identity)
		if err != nil {
			t.Fatal(err)
		}
		named = append(named, Named{Name: fmt.Sprint("p", i), Policy: p})
	}
	set := Policies{Identity: named, IdentitySet: NewSet(named)}
	list := Policies{Identity: named}
	for _, action := range []string{"s3:GetObject", "S3:getobject", "s3:PutObject", "sqs:SendMessage", "sqs:PurgeQueue",
		"dynamodb:PutItem", "dynamodb:DeleteItem", "iam:CreateUser", "sqs:DeleteQueue"} {
		for _, res := range []string{"arn:aws:s3:::b/bob/k", "arn:aws:s3:::b/${aws:username}/k", "*"} {
			for _, region := range []string{"us-east-1", "eu-west-1"} {
				req := func() *Request {
					return &Request{Principal: Principal{ARN: "arn:aws:iam::111111111111:user/bob", Account: "111111111111"},
						Action: action, Resource: res, Context: Context{"aws:username": {"bob"}, "aws:requestedregion": {region}}}
				}
				for range 2 {
					if got, want := Evaluate(req(), set), Evaluate(req(), list); got != want {
						t.Errorf("%s on %s in %s: Set decides %+v, the list %+v", action, res, region, got, want)
					}
				}
			}
		}
	}
	if !set.Reads("AWS:RequestedRegion") || set.Reads("aws:SourceIp") {
		t.Error("the Set does not read the keys its policies read")
	}
}
