package iampolicy

import (
	"fmt"
	"testing"
)

// TestActionIndexFindsWhatAFullScanFinds decides every action against a
// policy whose statements name actions every way a policy can (literal,
// service wildcards, "*", NotAction, mixed lists, odd case) and checks the
// indexed lookup returns the same first statement as checking them all.
func TestActionIndexFindsWhatAFullScanFinds(t *testing.T) {
	doc := `{"Version":"2012-10-17","Statement":[
		{"Sid":"A","Effect":"Allow","Action":"s3:GetBucketTagging","Resource":"*"},
		{"Sid":"B","Effect":"Deny","Action":["sqs:SendMessage","S3:PutObject"],"Resource":"*"},
		{"Sid":"C","Effect":"Allow","Action":"s3:Get*","Resource":"*"},
		{"Sid":"D","Effect":"Allow","NotAction":"s3:*","Resource":"*"},
		{"Sid":"E","Effect":"Allow","Action":"*","Resource":"arn:aws:s3:::b/*"},
		{"Sid":"F","Effect":"Allow","Action":["dynamodb:GetItem","dynamodb:Get?tem","sqs:*"],"Resource":"*"},
		{"Sid":"G","Effect":"Deny","Action":"*:GetItem","Resource":"*"},
		{"Sid":"H","Effect":"Allow","Action":["sqs:SendMessage","sqs:sendmessage"],"Resource":"*"},
		{"Sid":"I","Effect":"Deny","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/k"}
	]}`
	pol, err := Parse(doc, Identity)
	if err != nil {
		t.Fatal(err)
	}
	if pol.ix == nil {
		t.Fatal("Parse built no index")
	}
	full := *pol
	full.ix = nil
	actions := []string{"s3:GetBucketTagging", "s3:getobject", "s3:PutObject", "s3:ListBucket", "sqs:SendMessage",
		"sqs:ReceiveMessage", "dynamodb:GetItem", "dynamodb:PutItem", "sns:Publish", "iam:GetUser", "s3x:GetObject"}
	for _, action := range actions {
		for _, res := range []string{"*", "arn:aws:s3:::b/k", "arn:aws:s3:::other"} {
			for _, eff := range []Effect{Allow, Deny} {
				r := &Request{Action: action, Resource: res, Context: Context{}}
				r2 := &Request{Action: action, Resource: res, Context: Context{}}
				got, want := pol.find(eff, r, nil, false), full.find(eff, r2, nil, false)
				if sid(got) != sid(want) {
					t.Errorf("%s %s on %s: indexed found %s, full scan %s", eff, action, res, sid(got), sid(want))
				}
			}
		}
	}
}

func sid(s *Statement) string {
	if s == nil {
		return "none"
	}
	return fmt.Sprintf("%q", s.Sid)
}
