package integration

import (
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
)

// TestIAMEnforceATablesResourcePolicyGrantsAndDeniesAsAWS: another account
// reaches our table, named by its ARN, only for what the table's
// resource-based policy grants it; an explicit deny in that policy binds
// everyone, the table owner's root and administrators included; within the
// account, a table policy naming a user is enough on its own.
func TestIAMEnforceATablesResourcePolicyGrantsAndDeniesAsAWS(t *testing.T) {
	w := newIAMWorld(t, "enforce")
	ctx := callTimeout(t)
	const table = "arn:aws:dynamodb:us-east-1:000000000000:table/results"
	const otherRoot = "arn:aws:iam::222222222222:root"
	rootDDB, otherDDB := dynamodb.NewFromConfig(w.root), dynamodb.NewFromConfig(w.other())
	key := map[string]ddbtypes.AttributeValue{"id": &ddbtypes.AttributeValueMemberS{Value: "1"}}
	if _, err := rootDDB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("results"), Item: key}); err != nil {
		t.Fatal(err)
	}
	get := func(c *dynamodb.Client) error {
		_, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: key})
		return err
	}
	denied := func(who, action, why string) string {
		return "User: " + who + " is not authorized to perform: " + action + " on resource: " + table + " " + why
	}
	wantDenied(t, get(otherDDB), "AccessDeniedException", 400, denied(otherRoot, "dynamodb:GetItem", "because no resource-based policy allows the dynamodb:GetItem action"))
	// Its own table of that name is another table, which it does not have.
	_, err := otherDDB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("results"), Key: key})
	var rnf *ddbtypes.ResourceNotFoundException
	if !errors.As(err, &rnf) {
		t.Fatalf("the other account's own results table: %v", err)
	}

	policy := `{"Version":"2012-10-17","Statement":[
		{"Sid":"Partner","Effect":"Allow","Principal":{"AWS":"222222222222"},"Action":["dynamodb:GetItem","dynamodb:PutItem"],"Resource":"` + table + `"},
		{"Sid":"Bob","Effect":"Allow","Principal":{"AWS":"` + bobARN + `"},"Action":"dynamodb:GetItem","Resource":"` + table + `"},
		{"Sid":"NoDeletes","Effect":"Deny","Principal":"*","Action":"dynamodb:DeleteItem","Resource":"` + table + `"}]}`
	if _, err := rootDDB.PutResourcePolicy(ctx, &dynamodb.PutResourcePolicyInput{ResourceArn: aws.String(table), Policy: aws.String(policy)}); err != nil {
		t.Fatal(err)
	}
	if err := get(otherDDB); err != nil {
		t.Fatalf("GetItem the table's policy grants the other account: %v", err)
	}
	if _, err := otherDDB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table),
		Item: map[string]ddbtypes.AttributeValue{"id": &ddbtypes.AttributeValueMemberS{Value: "from-partner"}}}); err != nil {
		t.Fatalf("PutItem the table's policy grants the other account: %v", err)
	}
	got, err := rootDDB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("results"),
		Key: map[string]ddbtypes.AttributeValue{"id": &ddbtypes.AttributeValueMemberS{Value: "from-partner"}}})
	if err != nil || got.Item == nil {
		t.Fatalf("the partner's item in our table: %+v, %v", got, err)
	}
	_, err = otherDDB.Query(ctx, &dynamodb.QueryInput{TableName: aws.String(table), KeyConditionExpression: aws.String("id = :v"),
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":v": &ddbtypes.AttributeValueMemberS{Value: "1"}}})
	wantDenied(t, err, "AccessDeniedException", 400, denied(otherRoot, "dynamodb:Query", "because no resource-based policy allows the dynamodb:Query action"))

	// The explicit deny wins over the owner's root and an administrator.
	del := func(c *dynamodb.Client) error {
		_, err := c.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String("results"), Key: key})
		return err
	}
	wantDenied(t, del(rootDDB), "AccessDeniedException", 400, denied("arn:aws:iam::000000000000:root", "dynamodb:DeleteItem", "with an explicit deny in a resource-based policy"))
	if _, err := iam.NewFromConfig(w.root).AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("bob"),
		PolicyArn: aws.String("arn:aws:iam::aws:policy/AdministratorAccess")}); err != nil {
		t.Fatal(err)
	}
	bobDDB := dynamodb.NewFromConfig(w.bob)
	wantDenied(t, del(bobDDB), "AccessDeniedException", 400, denied(bobARN, "dynamodb:DeleteItem", "with an explicit deny in a resource-based policy"))
	if _, err := iam.NewFromConfig(w.root).DetachUserPolicy(ctx, &iam.DetachUserPolicyInput{UserName: aws.String("bob"),
		PolicyArn: aws.String("arn:aws:iam::aws:policy/AdministratorAccess")}); err != nil {
		t.Fatal(err)
	}
	// Bob has no policy of his own: the table's policy naming him suffices.
	if err := get(bobDDB); err != nil {
		t.Fatalf("GetItem the table's policy grants bob: %v", err)
	}
	_, err = bobDDB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("results"), Item: key})
	wantDenied(t, err, "AccessDeniedException", 400, denied(bobARN, "dynamodb:PutItem", "because no identity-based policy allows the dynamodb:PutItem action"))

	// Without the policy, the door is closed again.
	if _, err := rootDDB.DeleteResourcePolicy(ctx, &dynamodb.DeleteResourcePolicyInput{ResourceArn: aws.String(table)}); err != nil {
		t.Fatal(err)
	}
	wantDenied(t, get(otherDDB), "AccessDeniedException", 400, denied(otherRoot, "dynamodb:GetItem", "because no resource-based policy allows the dynamodb:GetItem action"))
}

// TestAnotherAccountsTableIsOutOfReachWithoutIAM: with --iam off nothing
// grants another account's table, so naming it by ARN is refused.
func TestAnotherAccountsTableIsOutOfReachWithoutIAM(t *testing.T) {
	w := newIAMWorld(t, "off")
	ctx := callTimeout(t)
	_, err := dynamodb.NewFromConfig(w.other()).GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("arn:aws:dynamodb:us-east-1:000000000000:table/results"),
		Key: map[string]ddbtypes.AttributeValue{"id": &ddbtypes.AttributeValueMemberS{Value: "1"}}})
	wantDenied(t, err, "AccessDeniedException", 400, "User: arn:aws:iam::222222222222:root is not authorized to access table arn:aws:dynamodb:us-east-1:000000000000:table/results because no resource-based policy allows it")
	// The owner names its own table by ARN as well as by name.
	if _, err := dynamodb.NewFromConfig(w.root).GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("arn:aws:dynamodb:us-east-1:000000000000:table/results"),
		Key: map[string]ddbtypes.AttributeValue{"id": &ddbtypes.AttributeValueMemberS{Value: "1"}}}); err != nil {
		t.Fatalf("the owner's GetItem by ARN: %v", err)
	}
}

// TestIAMEnforceAPolicyGivenToCreateTableGrantsAtOnce: a table created with
// a ResourcePolicy is reachable from the account that policy names by its
// first answer, with no PutResourcePolicy, and only for the actions named.
func TestIAMEnforceAPolicyGivenToCreateTableGrantsAtOnce(t *testing.T) {
	w := newIAMWorld(t, "enforce")
	ctx := callTimeout(t)
	const table = "arn:aws:dynamodb:us-east-1:000000000000:table/partnered"
	policy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"222222222222"},"Action":"dynamodb:PutItem","Resource":"` + table + `"}]}`
	rootDDB, otherDDB := dynamodb.NewFromConfig(w.root), dynamodb.NewFromConfig(w.other())
	if _, err := rootDDB.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String("partnered"),
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: ddbtypes.KeyTypeHash}},
		BillingMode:          ddbtypes.BillingModePayPerRequest,
		ResourcePolicy:       aws.String(policy),
	}); err != nil {
		t.Fatal(err)
	}
	key := map[string]ddbtypes.AttributeValue{"id": &ddbtypes.AttributeValueMemberS{Value: "from-partner"}}
	if _, err := otherDDB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: key}); err != nil {
		t.Fatalf("PutItem the creation's policy grants the other account: %v", err)
	}
	_, err := otherDDB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: key})
	wantDenied(t, err, "AccessDeniedException", 400, "User: arn:aws:iam::222222222222:root is not authorized to perform: dynamodb:GetItem on resource: "+table+" because no resource-based policy allows the dynamodb:GetItem action")
	got, err := rootDDB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("partnered"), Key: key})
	if err != nil || got.Item == nil {
		t.Fatalf("the partner's item in our table: %+v, %v", got, err)
	}
}
