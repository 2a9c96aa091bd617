package dynamodb_test

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdk "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// TestSDKBackupAndRestore: an on-demand backup is a copy of the items at the
// time of the call; after the table changes, a table restored from it has the
// old items, the key schema and the indexes (queried through the GSI). The
// backup is listed, described, survives nothing of the later writes, and is
// gone after DeleteBackup; unknown backups and existing targets are refused.
func TestSDKBackupAndRestore(t *testing.T) {
	c := startWharf(t)
	ctx := context.Background()
	createOrders(t, c)
	for _, it := range []map[string]types.AttributeValue{
		{"pk": s("a"), "sk": n("1"), "status": s("open"), "total": n("10")},
		{"pk": s("b"), "sk": n("2"), "status": s("open"), "total": n("20")},
	} {
		if _, err := c.PutItem(ctx, &sdk.PutItemInput{TableName: aws.String("orders"), Item: it}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.CreateBackup(ctx, &sdk.CreateBackupInput{TableName: aws.String("missing"), BackupName: aws.String("bk1")}); apiCode(err) != "TableNotFoundException" {
		t.Errorf("CreateBackup of a missing table = %v, want TableNotFoundException", err)
	}
	cb, err := c.CreateBackup(ctx, &sdk.CreateBackupInput{TableName: aws.String("orders"), BackupName: aws.String("nightly")})
	if err != nil {
		t.Fatal(err)
	}
	d := cb.BackupDetails
	arn := aws.ToString(d.BackupArn)
	if !regexp.MustCompile(`^arn:aws:dynamodb:us-east-1:000000000000:table/orders/backup/\d{17}-[0-9a-f]{8}$`).MatchString(arn) ||
		d.BackupStatus != types.BackupStatusAvailable || d.BackupType != types.BackupTypeUser ||
		aws.ToString(d.BackupName) != "nightly" || aws.ToInt64(d.BackupSizeBytes) <= 0 || d.BackupCreationDateTime == nil {
		t.Fatalf("CreateBackup = %+v", d)
	}

	// Change the table after the backup: the backup must not see it.
	if _, err := c.DeleteItem(ctx, &sdk.DeleteItemInput{TableName: aws.String("orders"), Key: map[string]types.AttributeValue{"pk": s("a"), "sk": n("1")}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutItem(ctx, &sdk.PutItemInput{TableName: aws.String("orders"), Item: map[string]types.AttributeValue{"pk": s("c"), "sk": n("3"), "status": s("open"), "total": n("30")}}); err != nil {
		t.Fatal(err)
	}

	desc, err := c.DescribeBackup(ctx, &sdk.DescribeBackupInput{BackupArn: aws.String(arn)})
	if err != nil {
		t.Fatal(err)
	}
	src := desc.BackupDescription.SourceTableDetails
	if aws.ToString(src.TableName) != "orders" || aws.ToInt64(src.ItemCount) != 2 || len(src.KeySchema) != 2 ||
		len(desc.BackupDescription.SourceTableFeatureDetails.GlobalSecondaryIndexes) != 1 ||
		len(desc.BackupDescription.SourceTableFeatureDetails.LocalSecondaryIndexes) != 1 {
		t.Errorf("DescribeBackup = %+v / %+v", src, desc.BackupDescription.SourceTableFeatureDetails)
	}

	restored, err := c.RestoreTableFromBackup(ctx, &sdk.RestoreTableFromBackupInput{TargetTableName: aws.String("orders-restored"), BackupArn: aws.String(arn)})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(restored.TableDescription.TableName) != "orders-restored" || len(restored.TableDescription.KeySchema) != 2 {
		t.Errorf("RestoreTableFromBackup = %+v", restored.TableDescription)
	}
	scan, err := c.Scan(ctx, &sdk.ScanInput{TableName: aws.String("orders-restored")})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, it := range scan.Items {
		got[it["pk"].(*types.AttributeValueMemberS).Value] = true
	}
	if len(got) != 2 || !got["a"] || !got["b"] {
		t.Errorf("restored table holds %v, want the backed-up items a and b", got)
	}
	q, err := c.Query(ctx, &sdk.QueryInput{TableName: aws.String("orders-restored"), IndexName: aws.String("by-status"),
		KeyConditionExpression: aws.String("#s = :o"), ExpressionAttributeNames: map[string]string{"#s": "status"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":o": s("open")}})
	if err != nil || len(q.Items) != 2 {
		t.Errorf("Query of the restored GSI = %v items, %v; want 2", len(q.Items), err)
	}
	live, err := c.Scan(ctx, &sdk.ScanInput{TableName: aws.String("orders")})
	if err != nil || len(live.Items) != 2 {
		t.Errorf("the source table has %d items, %v; want its own 2 (b, c)", len(live.Items), err)
	}

	if _, err := c.RestoreTableFromBackup(ctx, &sdk.RestoreTableFromBackupInput{TargetTableName: aws.String("orders"), BackupArn: aws.String(arn)}); apiCode(err) != "TableAlreadyExistsException" {
		t.Errorf("restore onto an existing table = %v, want TableAlreadyExistsException", err)
	}
	unknown := "arn:aws:dynamodb:us-east-1:000000000000:table/orders/backup/01700000000000000-deadbeef"
	if _, err := c.RestoreTableFromBackup(ctx, &sdk.RestoreTableFromBackupInput{TargetTableName: aws.String("xyz"), BackupArn: aws.String(unknown)}); apiCode(err) != "BackupNotFoundException" {
		t.Errorf("restore of an unknown backup = %v, want BackupNotFoundException", err)
	}

	// A second backup, of another table, to check the TableName filter.
	if _, err := c.CreateBackup(ctx, &sdk.CreateBackupInput{TableName: aws.String("orders-restored"), BackupName: aws.String("other")}); err != nil {
		t.Fatal(err)
	}
	all, err := c.ListBackups(ctx, &sdk.ListBackupsInput{})
	if err != nil || len(all.BackupSummaries) != 2 {
		t.Fatalf("ListBackups = %+v, %v; want 2", all, err)
	}
	one, err := c.ListBackups(ctx, &sdk.ListBackupsInput{TableName: aws.String("orders")})
	if err != nil || len(one.BackupSummaries) != 1 || aws.ToString(one.BackupSummaries[0].BackupArn) != arn ||
		one.BackupSummaries[0].BackupStatus != types.BackupStatusAvailable {
		t.Fatalf("ListBackups(orders) = %+v, %v", one, err)
	}

	del, err := c.DeleteBackup(ctx, &sdk.DeleteBackupInput{BackupArn: aws.String(arn)})
	if err != nil || del.BackupDescription.BackupDetails.BackupStatus != types.BackupStatusDeleted {
		t.Fatalf("DeleteBackup = %+v, %v", del, err)
	}
	if _, err := c.DescribeBackup(ctx, &sdk.DescribeBackupInput{BackupArn: aws.String(arn)}); apiCode(err) != "BackupNotFoundException" {
		t.Errorf("DescribeBackup after delete = %v, want BackupNotFoundException", err)
	}
	if _, err := c.DeleteBackup(ctx, &sdk.DeleteBackupInput{BackupArn: aws.String(arn)}); apiCode(err) != "BackupNotFoundException" {
		t.Errorf("second DeleteBackup = %v, want BackupNotFoundException", err)
	}
	one, err = c.ListBackups(ctx, &sdk.ListBackupsInput{TableName: aws.String("orders")})
	if err != nil || len(one.BackupSummaries) != 0 {
		t.Errorf("ListBackups(orders) after delete = %+v, %v; want none", one, err)
	}
}

// TestSDKResourcePolicy: a table's policy is put, read back with its
// revision, replaced only with the current ExpectedRevisionId, and deleted;
// a missing policy, a stale revision and invalid JSON are refused.
func TestSDKResourcePolicy(t *testing.T) {
	c := startWharf(t)
	ctx := context.Background()
	createOrders(t, c)
	arn := aws.String("arn:aws:dynamodb:us-east-1:000000000000:table/orders")
	doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:root"},"Action":"dynamodb:GetItem","Resource":"*"}]}`

	if _, err := c.GetResourcePolicy(ctx, &sdk.GetResourcePolicyInput{ResourceArn: arn}); apiCode(err) != "PolicyNotFoundException" {
		t.Errorf("GetResourcePolicy with none = %v, want PolicyNotFoundException", err)
	}
	if _, err := c.DeleteResourcePolicy(ctx, &sdk.DeleteResourcePolicyInput{ResourceArn: arn}); apiCode(err) != "PolicyNotFoundException" {
		t.Errorf("DeleteResourcePolicy with none = %v, want PolicyNotFoundException", err)
	}
	if _, err := c.PutResourcePolicy(ctx, &sdk.PutResourcePolicyInput{ResourceArn: arn, Policy: aws.String("{not json")}); apiCode(err) != "ValidationException" {
		t.Errorf("PutResourcePolicy of invalid JSON = %v, want ValidationException", err)
	}
	if _, err := c.PutResourcePolicy(ctx, &sdk.PutResourcePolicyInput{ResourceArn: aws.String("arn:aws:dynamodb:us-east-1:000000000000:table/missing"), Policy: aws.String(doc)}); apiCode(err) != "ResourceNotFoundException" {
		t.Errorf("PutResourcePolicy on a missing table = %v, want ResourceNotFoundException", err)
	}
	put, err := c.PutResourcePolicy(ctx, &sdk.PutResourcePolicyInput{ResourceArn: arn, Policy: aws.String(doc)})
	if err != nil || aws.ToString(put.RevisionId) == "" {
		t.Fatalf("PutResourcePolicy = %+v, %v", put, err)
	}
	rev1 := aws.ToString(put.RevisionId)
	got, err := c.GetResourcePolicy(ctx, &sdk.GetResourcePolicyInput{ResourceArn: arn})
	if err != nil || aws.ToString(got.Policy) != doc || aws.ToString(got.RevisionId) != rev1 {
		t.Fatalf("GetResourcePolicy = %+v, %v", got, err)
	}
	if _, err := c.PutResourcePolicy(ctx, &sdk.PutResourcePolicyInput{ResourceArn: arn, Policy: aws.String(doc), ExpectedRevisionId: aws.String("1")}); apiCode(err) != "PolicyNotFoundException" {
		t.Errorf("PutResourcePolicy with a stale revision = %v, want PolicyNotFoundException", err)
	}
	// The same document again keeps its revision (PutResourcePolicy is
	// idempotent); another one gets a new revision.
	same, err := c.PutResourcePolicy(ctx, &sdk.PutResourcePolicyInput{ResourceArn: arn, Policy: aws.String(doc), ExpectedRevisionId: aws.String(rev1)})
	if err != nil || aws.ToString(same.RevisionId) != rev1 {
		t.Fatalf("PutResourcePolicy of the same document = %+v, %v; want revision %s", same, err, rev1)
	}
	doc2 := strings.Replace(doc, "dynamodb:GetItem", "dynamodb:Query", 1)
	put2, err := c.PutResourcePolicy(ctx, &sdk.PutResourcePolicyInput{ResourceArn: arn, Policy: aws.String(doc2), ExpectedRevisionId: aws.String(rev1)})
	if err != nil || aws.ToString(put2.RevisionId) == rev1 {
		t.Fatalf("PutResourcePolicy of another document with the current revision = %+v, %v; want a new revision", put2, err)
	}
	if got, err := c.GetResourcePolicy(ctx, &sdk.GetResourcePolicyInput{ResourceArn: arn}); err != nil || aws.ToString(got.Policy) != doc2 {
		t.Fatalf("GetResourcePolicy after replacing the document = %+v, %v", got, err)
	}
	if _, err := c.DeleteResourcePolicy(ctx, &sdk.DeleteResourcePolicyInput{ResourceArn: arn, ExpectedRevisionId: aws.String(rev1)}); apiCode(err) != "PolicyNotFoundException" {
		t.Errorf("DeleteResourcePolicy with a stale revision = %v, want PolicyNotFoundException", err)
	}
	del, err := c.DeleteResourcePolicy(ctx, &sdk.DeleteResourcePolicyInput{ResourceArn: arn, ExpectedRevisionId: put2.RevisionId})
	if err != nil || aws.ToString(del.RevisionId) != aws.ToString(put2.RevisionId) {
		t.Fatalf("DeleteResourcePolicy = %+v, %v", del, err)
	}
	if _, err := c.GetResourcePolicy(ctx, &sdk.GetResourcePolicyInput{ResourceArn: arn}); apiCode(err) != "PolicyNotFoundException" {
		t.Errorf("GetResourcePolicy after delete = %v, want PolicyNotFoundException", err)
	}
}

// TestSDKCreateTableWithAResourcePolicy: CreateTable's ResourcePolicy is
// attached with the table, read back by GetResourcePolicy with a revision
// that PutResourcePolicy's ExpectedRevisionId accepts, and dropped with the
// table; a policy that is not JSON refuses the whole table.
func TestSDKCreateTableWithAResourcePolicy(t *testing.T) {
	c := startWharf(t)
	ctx := context.Background()
	doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"dynamodb:GetItem","Resource":"arn:aws:dynamodb:us-east-1:000000000000:table/shared"}]}`
	create := func(name, policy string) error {
		_, err := c.CreateTable(ctx, &sdk.CreateTableInput{
			TableName:            aws.String(name),
			AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: types.ScalarAttributeTypeS}},
			KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: types.KeyTypeHash}},
			BillingMode:          types.BillingModePayPerRequest,
			ResourcePolicy:       aws.String(policy),
		})
		return err
	}
	if err := create("broken", "{not json"); apiCode(err) != "ValidationException" {
		t.Errorf("CreateTable with a policy that is not JSON = %v, want ValidationException", err)
	}
	if _, err := c.DescribeTable(ctx, &sdk.DescribeTableInput{TableName: aws.String("broken")}); apiCode(err) != "ResourceNotFoundException" {
		t.Errorf("DescribeTable of the table refused for its policy = %v, want ResourceNotFoundException", err)
	}

	if err := create("shared", doc); err != nil {
		t.Fatal(err)
	}
	arn := aws.String("arn:aws:dynamodb:us-east-1:000000000000:table/shared")
	got, err := c.GetResourcePolicy(ctx, &sdk.GetResourcePolicyInput{ResourceArn: arn})
	if err != nil || aws.ToString(got.Policy) != doc || aws.ToString(got.RevisionId) == "" {
		t.Fatalf("GetResourcePolicy of a table created with a policy = %+v, %v", got, err)
	}
	put, err := c.PutResourcePolicy(ctx, &sdk.PutResourcePolicyInput{ResourceArn: arn, Policy: aws.String(strings.Replace(doc, "GetItem", "Query", 1)), ExpectedRevisionId: got.RevisionId})
	if err != nil || aws.ToString(put.RevisionId) == aws.ToString(got.RevisionId) {
		t.Fatalf("PutResourcePolicy of another document with the creation's revision = %+v, %v; want a new revision", put, err)
	}

	if _, err := c.DeleteTable(ctx, &sdk.DeleteTableInput{TableName: aws.String("shared")}); err != nil {
		t.Fatal(err)
	}
	if err := create("shared", ""); apiCode(err) != "ValidationException" {
		t.Errorf("CreateTable with an empty policy = %v, want ValidationException", err)
	}
	if _, err := c.CreateTable(ctx, &sdk.CreateTableInput{
		TableName:            aws.String("shared"),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetResourcePolicy(ctx, &sdk.GetResourcePolicyInput{ResourceArn: arn}); apiCode(err) != "PolicyNotFoundException" {
		t.Errorf("GetResourcePolicy of a table recreated without a policy = %v, want PolicyNotFoundException", err)
	}
}
