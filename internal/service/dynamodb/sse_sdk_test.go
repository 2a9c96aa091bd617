package dynamodb_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdk "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// TestSDKTableEncryptionIsReportedAsSet: a table created with SSE enabled
// reports it in DescribeTable as DynamoDB does (ENABLED, KMS, the account's
// AWS managed key), a named customer key is reported as given, turning SSE off
// removes the description (the AWS owned key), and a table made without SSE
// has none. Terraform's aws_dynamodb_table reads exactly this.
func TestSDKTableEncryptionIsReportedAsSet(t *testing.T) {
	c := startWharf(t)
	ctx := context.Background()
	create := func(name string, spec *types.SSESpecification) error {
		_, err := c.CreateTable(ctx, &sdk.CreateTableInput{
			TableName:            aws.String(name),
			AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
			KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
			BillingMode:          types.BillingModePayPerRequest,
			SSESpecification:     spec,
		})
		return err
	}
	describe := func(name string) *types.SSEDescription {
		t.Helper()
		d, err := c.DescribeTable(ctx, &sdk.DescribeTableInput{TableName: aws.String(name)})
		if err != nil {
			t.Fatal(err)
		}
		return d.Table.SSEDescription
	}

	if err := create("plain", nil); err != nil {
		t.Fatal(err)
	}
	if d := describe("plain"); d != nil {
		t.Errorf("a table without SSE reports %+v, want no SSEDescription", d)
	}

	if err := create("managed", &types.SSESpecification{Enabled: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	d := describe("managed")
	if d == nil || d.Status != types.SSEStatusEnabled || d.SSEType != types.SSETypeKms ||
		!strings.HasPrefix(aws.ToString(d.KMSMasterKeyArn), "arn:aws:kms:us-east-1:000000000000:key/") {
		t.Fatalf("SSE enabled reports %+v", d)
	}
	managed := aws.ToString(d.KMSMasterKeyArn)
	if err := create("managed2", &types.SSESpecification{Enabled: aws.Bool(true), SSEType: types.SSETypeKms}); err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(describe("managed2").KMSMasterKeyArn); got != managed {
		t.Errorf("a second table's AWS managed key is %s, want the account's one key %s", got, managed)
	}

	key := "arn:aws:kms:us-east-1:000000000000:key/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
	if err := create("customer", &types.SSESpecification{Enabled: aws.Bool(true), SSEType: types.SSETypeKms, KMSMasterKeyId: aws.String(key)}); err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(describe("customer").KMSMasterKeyArn); got != key {
		t.Errorf("customer key reported as %s, want %s", got, key)
	}

	if _, err := c.UpdateTable(ctx, &sdk.UpdateTableInput{TableName: aws.String("customer"),
		SSESpecification: &types.SSESpecification{Enabled: aws.Bool(false)}}); err != nil {
		t.Fatal(err)
	}
	if d := describe("customer"); d != nil {
		t.Errorf("after disabling SSE: %+v, want no SSEDescription", d)
	}
	if _, err := c.UpdateTable(ctx, &sdk.UpdateTableInput{TableName: aws.String("plain"),
		SSESpecification: &types.SSESpecification{Enabled: aws.Bool(true)}}); err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(describe("plain").KMSMasterKeyArn); got != managed {
		t.Errorf("after enabling SSE: key %s, want %s", got, managed)
	}

	err := create("bad", &types.SSESpecification{Enabled: aws.Bool(false), KMSMasterKeyId: aws.String(key)})
	if apiCode(err) != "ValidationException" {
		t.Errorf("a key with SSE disabled: %v, want ValidationException", err)
	}
}
