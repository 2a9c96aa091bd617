package integration

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// TestIAMEnforceLeadingKeysLimitItemsToTheCallersPartition: with AWS's
// fine-grained access control policy (ForAllValues:StringEquals on
// dynamodb:LeadingKeys), bob reads and writes the items whose partition key
// is his user name, or his team tag, and no others, whatever operation
// carries the key.
func TestIAMEnforceLeadingKeysLimitItemsToTheCallersPartition(t *testing.T) {
	w := newIAMWorld(t, "enforce")
	ctx := callTimeout(t)
	rootDDB := dynamodb.NewFromConfig(w.root)
	if _, err := rootDDB.CreateTable(ctx, &dynamodb.CreateTableInput{TableName: aws.String("teams"),
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("team"), AttributeType: ddbtypes.ScalarAttributeTypeS},
			{AttributeName: aws.String("n"), AttributeType: ddbtypes.ScalarAttributeTypeN}},
		KeySchema: []ddbtypes.KeySchemaElement{{AttributeName: aws.String("team"), KeyType: ddbtypes.KeyTypeHash},
			{AttributeName: aws.String("n"), KeyType: ddbtypes.KeyTypeRange}},
		BillingMode: ddbtypes.BillingModePayPerRequest}); err != nil {
		t.Fatal(err)
	}
	if _, err := iam.NewFromConfig(w.root).TagUser(ctx, &iam.TagUserInput{UserName: aws.String("bob"),
		Tags: []iamtypes.Tag{{Key: aws.String("team"), Value: aws.String("blue")}}}); err != nil {
		t.Fatal(err)
	}
	w.putBobPolicy("own-items", `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":["dynamodb:GetItem","dynamodb:PutItem","dynamodb:Query","dynamodb:BatchWriteItem"],
		 "Resource":"arn:aws:dynamodb:us-east-1:000000000000:table/results",
		 "Condition":{"ForAllValues:StringEquals":{"dynamodb:LeadingKeys":["${aws:username}"]}}},
		{"Effect":"Allow","Action":["dynamodb:PutItem","dynamodb:Query"],
		 "Resource":"arn:aws:dynamodb:us-east-1:000000000000:table/teams",
		 "Condition":{"ForAllValues:StringEquals":{"dynamodb:LeadingKeys":["${aws:PrincipalTag/team}"]}}}]}`)
	ddb := dynamodb.NewFromConfig(w.bob)
	s := func(v string) ddbtypes.AttributeValue { return &ddbtypes.AttributeValueMemberS{Value: v} }
	n := func(v string) ddbtypes.AttributeValue { return &ddbtypes.AttributeValueMemberN{Value: v} }
	const results = "arn:aws:dynamodb:us-east-1:000000000000:table/results"
	denied := func(action, table string) string {
		return "User: " + bobARN + " is not authorized to perform: " + action + " on resource: " + table +
			" because no identity-based policy allows the " + action + " action"
	}

	put := func(id string) error {
		_, err := ddb.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("results"), Item: map[string]ddbtypes.AttributeValue{"id": s(id)}})
		return err
	}
	if err := put("bob"); err != nil {
		t.Fatalf("PutItem of bob's own partition: %v", err)
	}
	wantDenied(t, put("alice"), "AccessDeniedException", 400, denied("dynamodb:PutItem", results))
	if _, err := ddb.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("results"), Key: map[string]ddbtypes.AttributeValue{"id": s("bob")}}); err != nil {
		t.Fatalf("GetItem of bob's own partition: %v", err)
	}
	_, err := ddb.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("results"), Key: map[string]ddbtypes.AttributeValue{"id": s("alice")}})
	wantDenied(t, err, "AccessDeniedException", 400, denied("dynamodb:GetItem", results))

	query := func(id string) error {
		_, err := ddb.Query(ctx, &dynamodb.QueryInput{TableName: aws.String("results"), KeyConditionExpression: aws.String("#k = :v"),
			ExpressionAttributeNames: map[string]string{"#k": "id"}, ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":v": s(id)}})
		return err
	}
	if err := query("bob"); err != nil {
		t.Fatalf("Query of bob's own partition: %v", err)
	}
	wantDenied(t, query("alice"), "AccessDeniedException", 400, denied("dynamodb:Query", results))

	// A batch with one item of another partition is refused as a whole.
	batch := func(ids ...string) error {
		var reqs []ddbtypes.WriteRequest
		for _, id := range ids {
			reqs = append(reqs, ddbtypes.WriteRequest{PutRequest: &ddbtypes.PutRequest{Item: map[string]ddbtypes.AttributeValue{"id": s(id)}}})
		}
		_, err := ddb.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]ddbtypes.WriteRequest{"results": reqs}})
		return err
	}
	if err := batch("bob"); err != nil {
		t.Fatalf("BatchWriteItem of bob's own partition: %v", err)
	}
	wantDenied(t, batch("bob", "alice"), "AccessDeniedException", 400, denied("dynamodb:BatchWriteItem", results))

	// The partition may be the caller's tag, and the sort key is free.
	const teams = "arn:aws:dynamodb:us-east-1:000000000000:table/teams"
	putTeam := func(team string) error {
		_, err := ddb.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("teams"), Item: map[string]ddbtypes.AttributeValue{"team": s(team), "n": n("7")}})
		return err
	}
	if err := putTeam("blue"); err != nil {
		t.Fatalf("PutItem of bob's team's partition: %v", err)
	}
	wantDenied(t, putTeam("red"), "AccessDeniedException", 400, denied("dynamodb:PutItem", teams))
	queryTeam := func(team string) error {
		_, err := ddb.Query(ctx, &dynamodb.QueryInput{TableName: aws.String("teams"), KeyConditionExpression: aws.String("team = :t AND n > :n"),
			ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":t": s(team), ":n": n("1")}})
		return err
	}
	if err := queryTeam("blue"); err != nil {
		t.Fatalf("Query of bob's team's partition with a sort key range: %v", err)
	}
	wantDenied(t, queryTeam("red"), "AccessDeniedException", 400, denied("dynamodb:Query", teams))
}

// TestIAMEnforceS3PrefixLimitsListingToTheCallersFolder: AWS's home folder
// policy (s3:ListBucket with StringLike on s3:prefix) lets bob list under
// home/bob/ and nowhere else, not even the bucket's top level.
func TestIAMEnforceS3PrefixLimitsListingToTheCallersFolder(t *testing.T) {
	w := newIAMWorld(t, "enforce")
	ctx := callTimeout(t)
	for _, k := range []string{"home/bob/a", "home/alice/b", "top"} {
		if _, err := s3Client(w.root).PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("data"), Key: aws.String(k), Body: strings.NewReader("v")}); err != nil {
			t.Fatal(err)
		}
	}
	w.putBobPolicy("home", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::data",
		"Condition":{"StringLike":{"s3:prefix":["home/${aws:username}/*","home/${aws:username}/"]}}}}`)
	list := func(prefix *string) (*s3.ListObjectsV2Output, error) {
		return s3Client(w.bob).ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("data"), Prefix: prefix})
	}
	out, err := list(aws.String("home/bob/"))
	if err != nil {
		t.Fatalf("listing home/bob/: %v", err)
	}
	if len(out.Contents) != 1 || *out.Contents[0].Key != "home/bob/a" {
		t.Fatalf("home/bob/ lists %+v", out.Contents)
	}
	if _, err := list(aws.String("home/bob/sub")); err != nil {
		t.Fatalf("listing under home/bob/: %v", err)
	}
	const denied = "User: " + bobARN + " is not authorized to perform: s3:ListBucket on resource: arn:aws:s3:::data because no identity-based policy allows the s3:ListBucket action"
	_, err = list(aws.String("home/alice/"))
	wantDenied(t, err, "AccessDenied", 403, denied)
	_, err = list(aws.String("home/"))
	wantDenied(t, err, "AccessDenied", 403, denied)
	_, err = list(nil)
	wantDenied(t, err, "AccessDenied", 403, denied)
}
