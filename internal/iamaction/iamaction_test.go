package iamaction_test

import (
	"context"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/wharf-dev/wharf/internal/app"
	"github.com/wharf-dev/wharf/internal/awsapi"
	dynamodbapi "github.com/wharf-dev/wharf/internal/awsapi/dynamodb"
	ecsapi "github.com/wharf-dev/wharf/internal/awsapi/ecs"
	eventsapi "github.com/wharf-dev/wharf/internal/awsapi/events"
	s3api "github.com/wharf-dev/wharf/internal/awsapi/s3"
	schedapi "github.com/wharf-dev/wharf/internal/awsapi/scheduler"
	snsapi "github.com/wharf-dev/wharf/internal/awsapi/sns"
	sqsapi "github.com/wharf-dev/wharf/internal/awsapi/sqs"
	"github.com/wharf-dev/wharf/internal/iamaction"
)

// TestEveryImplementedOperationHasAnEntry fails when an operation gains a
// handler but not its IAM action: it would otherwise be authorized as nothing.
func TestEveryImplementedOperationHasAnEntry(t *testing.T) {
	n := 0
	for _, so := range app.Operations() {
		for _, op := range so.Implemented {
			n++
			if !iamaction.Known(so.ID, op) {
				t.Errorf("%s %s: no entry in actions.txt", so.ID, op)
			}
		}
	}
	if n < 200 {
		t.Fatalf("only %d implemented operations found", n)
	}
}

var env = iamaction.Env{Region: "us-east-1", Account: "111111111111", Lookup: func(_ context.Context, name string, _ any) []string {
	if name == "taskdef-roles" {
		return []string{"arn:aws:iam::111111111111:role/task", "arn:aws:iam::111111111111:role/exec"}
	}
	return nil
}}

func checks(t *testing.T, svc, op string, in any) []string {
	t.Helper()
	cs, ok := iamaction.For(svc, op, in, env)
	if !ok {
		t.Fatalf("%s %s: no entry", svc, op)
	}
	var out []string
	for _, c := range cs {
		s := c.Action + " " + c.Resource
		var keys []string
		for k, v := range c.Context {
			keys = append(keys, k+"="+strings.Join(v, ","))
		}
		for _, lk := range c.Lazy {
			if v := lk.Values(); len(v) > 0 {
				keys = append(keys, lk.Key+"="+strings.Join(v, ","))
			}
		}
		sort.Strings(keys)
		if len(keys) > 0 {
			s += " " + strings.Join(keys, " ")
		}
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

func TestOperationsMapToTheirIAMActions(t *testing.T) {
	s := awsapi.String
	for _, c := range []struct {
		svc, op string
		in      any
		want    []string
	}{
		{"s3", "ListObjectsV2", &s3api.ListObjectsV2Input{Bucket: s("b"), Prefix: s("home/")},
			[]string{"s3:ListBucket arn:aws:s3:::b s3:delimiter= s3:max-keys=1000 s3:prefix=home/"}},
		{"s3", "HeadObject", &s3api.HeadObjectInput{Bucket: s("b"), Key: s("a/b.txt")},
			[]string{"s3:GetObject arn:aws:s3:::b/a/b.txt"}},
		{"s3", "CopyObject", &s3api.CopyObjectInput{Bucket: s("dst"), Key: s("k2"), CopySource: s("/src/dir%2Fk1?versionId=3")},
			[]string{"s3:GetObject arn:aws:s3:::src/dir/k1", "s3:PutObject arn:aws:s3:::dst/k2 s3:x-amz-copy-source=src/dir/k1"}},
		{"s3", "PutObject", &s3api.PutObjectInput{Bucket: s("b"), Key: s("k"), ServerSideEncryption: s("AES256"), Tagging: s("team=data&stage=a%20b")},
			[]string{"s3:PutObject arn:aws:s3:::b/k s3:RequestObjectTag/stage=a b s3:RequestObjectTag/team=data s3:x-amz-server-side-encryption=AES256"}},
		{"s3", "DeleteObjects", &s3api.DeleteObjectsInput{Bucket: s("b"), Delete: &s3api.Delete{Objects: []s3api.ObjectIdentifier{{Key: s("x")}, {Key: s("y")}}}},
			[]string{"s3:DeleteObject arn:aws:s3:::b/x", "s3:DeleteObject arn:aws:s3:::b/y"}},
		{"dynamodb", "BatchWriteItem", &dynamodbapi.BatchWriteItemInput{RequestItems: map[string][]dynamodbapi.WriteRequest{"a": nil, "arn:aws:dynamodb:us-east-1:111111111111:table/b": nil}},
			[]string{"dynamodb:BatchWriteItem arn:aws:dynamodb:us-east-1:111111111111:table/a", "dynamodb:BatchWriteItem arn:aws:dynamodb:us-east-1:111111111111:table/b"}},
		{"dynamodb", "TransactWriteItems", &dynamodbapi.TransactWriteItemsInput{TransactItems: []dynamodbapi.TransactWriteItem{
			{Put: &dynamodbapi.Put{TableName: s("a")}}, {Delete: &dynamodbapi.Delete{TableName: s("b")}},
			{Update: &dynamodbapi.Update{TableName: s("c")}}, {ConditionCheck: &dynamodbapi.ConditionCheck{TableName: s("d")}}}},
			[]string{"dynamodb:ConditionCheckItem arn:aws:dynamodb:us-east-1:111111111111:table/d", "dynamodb:DeleteItem arn:aws:dynamodb:us-east-1:111111111111:table/b",
				"dynamodb:PutItem arn:aws:dynamodb:us-east-1:111111111111:table/a", "dynamodb:UpdateItem arn:aws:dynamodb:us-east-1:111111111111:table/c"}},
		{"dynamodb", "Query", &dynamodbapi.QueryInput{TableName: s("t"), IndexName: s("gsi")},
			[]string{"dynamodb:Query arn:aws:dynamodb:us-east-1:111111111111:table/t/index/gsi"}},
		{"ecs", "RunTask", &ecsapi.RunTaskInput{TaskDefinition: s("job:3"), Cluster: s("arn:aws:ecs:us-east-1:111111111111:cluster/work")},
			[]string{"ecs:RunTask arn:aws:ecs:us-east-1:111111111111:task-definition/job:3 ecs:cluster=arn:aws:ecs:us-east-1:111111111111:cluster/work",
				"iam:PassRole arn:aws:iam::111111111111:role/exec iam:PassedToService=ecs-tasks.amazonaws.com",
				"iam:PassRole arn:aws:iam::111111111111:role/task iam:PassedToService=ecs-tasks.amazonaws.com"}},
		// Tag-on-create: ecs:TagResource is checked only when the create carries tags.
		{"ecs", "CreateCluster", &ecsapi.CreateClusterInput{ClusterName: s("work")},
			[]string{"ecs:CreateCluster arn:aws:ecs:us-east-1:111111111111:cluster/work"}},
		{"ecs", "CreateCluster", &ecsapi.CreateClusterInput{ClusterName: s("work"), Tags: []ecsapi.Tag{{Key: s("team"), Value: s("blue")}}},
			[]string{"ecs:CreateCluster arn:aws:ecs:us-east-1:111111111111:cluster/work aws:RequestTag/team=blue aws:TagKeys=team",
				"ecs:TagResource arn:aws:ecs:us-east-1:111111111111:cluster/work aws:RequestTag/team=blue aws:TagKeys=team ecs:CreateAction=CreateCluster"}},
		{"ecs", "RunTask", &ecsapi.RunTaskInput{TaskDefinition: s("job:3"), Cluster: s("work"), Tags: []ecsapi.Tag{{Key: s("team"), Value: s("blue")}}},
			[]string{"ecs:RunTask arn:aws:ecs:us-east-1:111111111111:task-definition/job:3 aws:RequestTag/team=blue aws:TagKeys=team ecs:cluster=arn:aws:ecs:us-east-1:111111111111:cluster/work",
				"ecs:TagResource arn:aws:ecs:us-east-1:111111111111:task/work/* aws:RequestTag/team=blue aws:TagKeys=team ecs:CreateAction=RunTask",
				"iam:PassRole arn:aws:iam::111111111111:role/exec iam:PassedToService=ecs-tasks.amazonaws.com",
				"iam:PassRole arn:aws:iam::111111111111:role/task iam:PassedToService=ecs-tasks.amazonaws.com"}},
		{"events", "PutTargets", &eventsapi.PutTargetsInput{Rule: s("r"), EventBusName: s("orders"), Targets: []eventsapi.Target{{Id: s("1"), RoleArn: s("arn:aws:iam::111111111111:role/run")}, {Id: s("2")}}},
			[]string{"events:PutTargets arn:aws:events:us-east-1:111111111111:rule/orders/r",
				"iam:PassRole arn:aws:iam::111111111111:role/run iam:PassedToService=events.amazonaws.com"}},
		{"events", "PutRule", &eventsapi.PutRuleInput{Name: s("r"), EventBusName: s("default")},
			[]string{"events:PutRule arn:aws:events:us-east-1:111111111111:rule/r"}},
		{"scheduler", "CreateSchedule", &schedapi.CreateScheduleInput{Name: s("nightly"), Target: &schedapi.Target{RoleArn: s("arn:aws:iam::111111111111:role/sched")}},
			[]string{"iam:PassRole arn:aws:iam::111111111111:role/sched iam:PassedToService=scheduler.amazonaws.com",
				"scheduler:CreateSchedule arn:aws:scheduler:us-east-1:111111111111:schedule/default/nightly"}},
		{"sqs", "SendMessageBatch", &sqsapi.SendMessageBatchInput{QueueUrl: s("http://127.0.0.1:4566/222222222222/jobs")},
			[]string{"sqs:SendMessage arn:aws:sqs:us-east-1:222222222222:jobs"}},
		{"sqs", "GetQueueUrl", &sqsapi.GetQueueUrlInput{QueueName: s("jobs")},
			[]string{"sqs:GetQueueUrl arn:aws:sqs:us-east-1:111111111111:jobs"}},
		{"sqs", "CreateQueue", &sqsapi.CreateQueueInput{QueueName: s("jobs"), Tags: map[string]string{"team": "blue", "env": "prod"}},
			[]string{"sqs:CreateQueue arn:aws:sqs:us-east-1:111111111111:jobs aws:RequestTag/env=prod aws:RequestTag/team=blue aws:TagKeys=env,team"}},
		{"sns", "CreateTopic", &snsapi.CreateTopicInput{Name: s("alerts"), Tags: []snsapi.Tag{{Key: s("team"), Value: s("blue")}}},
			[]string{"sns:CreateTopic arn:aws:sns:us-east-1:111111111111:alerts aws:RequestTag/team=blue aws:TagKeys=team"}},
		{"dynamodb", "UntagResource", &dynamodbapi.UntagResourceInput{ResourceArn: s("arn:aws:dynamodb:us-east-1:111111111111:table/t"), TagKeys: []string{"team", "env"}},
			[]string{"dynamodb:UntagResource arn:aws:dynamodb:us-east-1:111111111111:table/t aws:TagKeys=team,env"}},
		{"sts", "GetCallerIdentity", nil, nil},
	} {
		t.Run(c.svc+"/"+c.op, func(t *testing.T) {
			if got := checks(t, c.svc, c.op, c.in); !reflect.DeepEqual(got, c.want) {
				t.Errorf("checks\n got %q\nwant %q", got, c.want)
			}
		})
	}
}

func TestAbsentOptionalResourceIsCheckedOnStar(t *testing.T) {
	got := checks(t, "ecs", "DescribeClusters", &ecsapi.DescribeClustersInput{})
	if want := []string{"ecs:DescribeClusters *"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
}

// BenchmarkResources is the authorizer's per-request work for the account
// root's S3 PutObject and DynamoDB PutItem.
func BenchmarkResources(b *testing.B) {
	s := awsapi.String
	put := &s3api.PutObjectInput{Bucket: s("bench"), Key: s("objects/1"), ContentType: s("text/plain")}
	item := &dynamodbapi.PutItemInput{TableName: s("bench"), Item: map[string]dynamodbapi.AttributeValue{"pk": {S: s("put")}}}
	b.ReportAllocs()
	for b.Loop() {
		if cs, ok := iamaction.Resources("s3", "PutObject", put, env); !ok || len(cs) != 1 {
			b.Fatal(cs)
		}
		if cs, ok := iamaction.Resources("dynamodb", "PutItem", item, env); !ok || len(cs) != 1 {
			b.Fatal(cs)
		}
	}
}
