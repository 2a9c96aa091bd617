package dynamodb_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	sdk "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/wharf-dev/wharf/internal/wharftest"
)

type atomicInt struct{ v atomic.Int64 }

func (a *atomicInt) add() int64 { return a.v.Add(1) }

// startWharf runs the real server, as the binary does, on a free loopback port.
func startWharf(t *testing.T) *sdk.Client { return startWharfB(t) }

func startWharfB(t testing.TB) *sdk.Client {
	t.Helper()
	c, _ := startWharfAddr(t)
	return c
}

// startWharfAddr is startWharfB that also returns the server's address, for
// tests that send raw HTTP.
func startWharfAddr(t testing.TB) (*sdk.Client, string) {
	t.Helper()
	w := wharftest.Start(t)
	return sdk.NewFromConfig(w.Config()), w.Addr
}

func s(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
func n(v string) types.AttributeValue { return &types.AttributeValueMemberN{Value: v} }

// apiCode returns the API error code of err, or "".
func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func createOrders(t *testing.T, c *sdk.Client) {
	t.Helper()
	_, err := c.CreateTable(context.Background(), &sdk.CreateTableInput{
		TableName: aws.String("orders"),
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String("sk"), AttributeType: types.ScalarAttributeTypeN},
			{AttributeName: aws.String("status"), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String("total"), AttributeType: types.ScalarAttributeTypeN},
		},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String("sk"), KeyType: types.KeyTypeRange},
		},
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{{
			IndexName:  aws.String("by-status"),
			KeySchema:  []types.KeySchemaElement{{AttributeName: aws.String("status"), KeyType: types.KeyTypeHash}, {AttributeName: aws.String("total"), KeyType: types.KeyTypeRange}},
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeKeysOnly},
		}},
		LocalSecondaryIndexes: []types.LocalSecondaryIndex{{
			IndexName:  aws.String("by-total"),
			KeySchema:  []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}, {AttributeName: aws.String("total"), KeyType: types.KeyTypeRange}},
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll},
		}},
		BillingMode: types.BillingModePayPerRequest,
		Tags:        []types.Tag{{Key: aws.String("team"), Value: aws.String("core")}},
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestSDKTablesLifecycle(t *testing.T) {
	c := startWharf(t)
	ctx := context.Background()
	createOrders(t, c)
	_, err := c.CreateTable(ctx, &sdk.CreateTableInput{
		TableName:            aws.String("orders"),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
	})
	var inUse *types.ResourceInUseException
	if !errors.As(err, &inUse) {
		t.Fatalf("second CreateTable: %v", err)
	}
	w := sdk.NewTableExistsWaiter(c)
	if err := w.Wait(ctx, &sdk.DescribeTableInput{TableName: aws.String("orders")}, 5e9); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		_, err := c.CreateTable(ctx, &sdk.CreateTableInput{
			TableName:             aws.String(fmt.Sprintf("t%d-extra", i)),
			AttributeDefinitions:  []types.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: types.ScalarAttributeTypeB}},
			KeySchema:             []types.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: types.KeyTypeHash}},
			ProvisionedThroughput: &types.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(5), WriteCapacityUnits: aws.Int64(5)},
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	var names []string
	p := sdk.NewListTablesPaginator(c, &sdk.ListTablesInput{Limit: aws.Int32(2)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, page.TableNames...)
	}
	if strings.Join(names, ",") != "orders,t0-extra,t1-extra,t2-extra" {
		t.Fatalf("ListTables = %v", names)
	}
	d, err := c.DescribeTable(ctx, &sdk.DescribeTableInput{TableName: aws.String("orders")})
	if err != nil {
		t.Fatal(err)
	}
	tb := d.Table
	if tb.TableStatus != types.TableStatusActive || *tb.TableArn != "arn:aws:dynamodb:us-east-1:000000000000:table/orders" ||
		len(tb.GlobalSecondaryIndexes) != 1 || tb.GlobalSecondaryIndexes[0].IndexStatus != types.IndexStatusActive ||
		len(tb.LocalSecondaryIndexes) != 1 || tb.BillingModeSummary.BillingMode != types.BillingModePayPerRequest {
		t.Fatalf("DescribeTable = %+v", tb)
	}
	tags, err := c.ListTagsOfResource(ctx, &sdk.ListTagsOfResourceInput{ResourceArn: tb.TableArn})
	if err != nil || len(tags.Tags) != 1 || *tags.Tags[0].Value != "core" {
		t.Fatalf("tags = %+v, %v", tags, err)
	}
	if _, err := c.UntagResource(ctx, &sdk.UntagResourceInput{ResourceArn: tb.TableArn, TagKeys: []string{"team"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.UpdateTimeToLive(ctx, &sdk.UpdateTimeToLiveInput{TableName: aws.String("orders"), TimeToLiveSpecification: &types.TimeToLiveSpecification{AttributeName: aws.String("exp"), Enabled: aws.Bool(true)}}); err != nil {
		t.Fatal(err)
	}
	ttl, err := c.DescribeTimeToLive(ctx, &sdk.DescribeTimeToLiveInput{TableName: aws.String("orders")})
	if err != nil || ttl.TimeToLiveDescription.TimeToLiveStatus != types.TimeToLiveStatusEnabled || *ttl.TimeToLiveDescription.AttributeName != "exp" {
		t.Fatalf("ttl = %+v, %v", ttl, err)
	}
	if _, err := c.DescribeLimits(ctx, &sdk.DescribeLimitsInput{}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteTable(ctx, &sdk.DeleteTableInput{TableName: aws.String("t0-extra")}); err != nil {
		t.Fatal(err)
	}
	_, err = c.DescribeTable(ctx, &sdk.DescribeTableInput{TableName: aws.String("t0-extra")})
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) {
		t.Fatalf("DescribeTable after delete: %v", err)
	}
}

type order struct {
	PK     string   `dynamodbav:"pk"`
	SK     int      `dynamodbav:"sk"`
	Status string   `dynamodbav:"status"`
	Total  float64  `dynamodbav:"total"`
	Tags   []string `dynamodbav:"tags,stringset,omitempty"`
	Note   string   `dynamodbav:"note,omitempty"`
}

func TestSDKItemsConditionsAndReturnValues(t *testing.T) {
	c := startWharf(t)
	ctx := context.Background()
	createOrders(t, c)
	o := order{PK: "cust#1", SK: 1, Status: "open", Total: 12.5, Tags: []string{"a", "b"}}
	av, err := attributevalue.MarshalMap(o)
	if err != nil {
		t.Fatal(err)
	}
	cond, _ := expression.NewBuilder().WithCondition(expression.AttributeNotExists(expression.Name("pk"))).Build()
	put := &sdk.PutItemInput{TableName: aws.String("orders"), Item: av, ConditionExpression: cond.Condition(), ExpressionAttributeNames: cond.Names()}
	if _, err := c.PutItem(ctx, put); err != nil {
		t.Fatal(err)
	}
	put.ReturnValuesOnConditionCheckFailure = types.ReturnValuesOnConditionCheckFailureAllOld
	_, err = c.PutItem(ctx, put)
	var ccf *types.ConditionalCheckFailedException
	if !errors.As(err, &ccf) || ccf.Item["status"].(*types.AttributeValueMemberS).Value != "open" {
		t.Fatalf("conditional put: %v", err)
	}
	got, err := c.GetItem(ctx, &sdk.GetItemInput{TableName: aws.String("orders"), Key: map[string]types.AttributeValue{"pk": s("cust#1"), "sk": n("1")}, ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	var back order
	if err := attributevalue.UnmarshalMap(got.Item, &back); err != nil || back.Total != 12.5 || len(back.Tags) != 2 {
		t.Fatalf("round trip: %+v %v", back, err)
	}
	upd, _ := expression.NewBuilder().WithUpdate(
		expression.Set(expression.Name("total"), expression.Name("total").Plus(expression.Value(0.25))).
			Set(expression.Name("note"), expression.IfNotExists(expression.Name("note"), expression.Value("first"))).
			Add(expression.Name("tags"), expression.Value(&types.AttributeValueMemberSS{Value: []string{"c"}})),
	).WithCondition(expression.Name("status").Equal(expression.Value("open"))).Build()
	res, err := c.UpdateItem(ctx, &sdk.UpdateItemInput{
		TableName: aws.String("orders"), Key: map[string]types.AttributeValue{"pk": s("cust#1"), "sk": n("1")},
		UpdateExpression: upd.Update(), ConditionExpression: upd.Condition(),
		ExpressionAttributeNames: upd.Names(), ExpressionAttributeValues: upd.Values(),
		ReturnValues: types.ReturnValueUpdatedNew, ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Attributes["total"].(*types.AttributeValueMemberN).Value != "12.75" || len(res.Attributes["tags"].(*types.AttributeValueMemberSS).Value) != 3 || res.Attributes["status"] != nil {
		t.Fatalf("UPDATED_NEW = %#v", res.Attributes)
	}
	// One unit on the table, and two on each index, whose sort key (total)
	// changed: a delete and a put, as DynamoDB counts index writes.
	if res.ConsumedCapacity == nil || *res.ConsumedCapacity.CapacityUnits != 5 {
		t.Fatalf("ConsumedCapacity = %v", aws.ToFloat64(res.ConsumedCapacity.CapacityUnits))
	}
	// Exact decimals: 0.1 + 0.2 is 0.3, and 38 digits survive.
	_, err = c.UpdateItem(ctx, &sdk.UpdateItemInput{
		TableName: aws.String("orders"), Key: map[string]types.AttributeValue{"pk": s("cust#1"), "sk": n("2")},
		UpdateExpression:          aws.String("SET big = :big ADD frac :a, frac2 :b"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":big": n("12345678901234567890123456789012345678"), ":a": n("0.1"), ":b": n("0.2")},
	})
	if err != nil {
		t.Fatal(err)
	}
	res, err = c.UpdateItem(ctx, &sdk.UpdateItemInput{
		TableName: aws.String("orders"), Key: map[string]types.AttributeValue{"pk": s("cust#1"), "sk": n("2")},
		UpdateExpression: aws.String("SET frac = frac + frac2"), ReturnValues: types.ReturnValueAllNew,
	})
	if err != nil || res.Attributes["frac"].(*types.AttributeValueMemberN).Value != "0.3" || res.Attributes["big"].(*types.AttributeValueMemberN).Value != "12345678901234567890123456789012345678" {
		t.Fatalf("decimals: %#v %v", res, err)
	}
	del, err := c.DeleteItem(ctx, &sdk.DeleteItemInput{TableName: aws.String("orders"), Key: map[string]types.AttributeValue{"pk": s("cust#1"), "sk": n("2")}, ReturnValues: types.ReturnValueAllOld})
	if err != nil || del.Attributes["frac"] == nil {
		t.Fatalf("DeleteItem ALL_OLD: %#v %v", del, err)
	}
}

func TestSDKValidationErrors(t *testing.T) {
	c := startWharf(t)
	ctx := context.Background()
	createOrders(t, c)
	key := map[string]types.AttributeValue{"pk": s("k"), "sk": n("1")}
	cases := []struct {
		name string
		call func() error
		want string
	}{
		{"reserved word", func() error {
			_, err := c.UpdateItem(ctx, &sdk.UpdateItemInput{TableName: aws.String("orders"), Key: key, UpdateExpression: aws.String("SET status = :v"), ExpressionAttributeValues: map[string]types.AttributeValue{":v": s("x")}})
			return err
		}, "Invalid UpdateExpression: Attribute name is a reserved keyword; reserved keyword: status"},
		{"unused value", func() error {
			_, err := c.UpdateItem(ctx, &sdk.UpdateItemInput{TableName: aws.String("orders"), Key: key, UpdateExpression: aws.String("SET a = :v"), ExpressionAttributeValues: map[string]types.AttributeValue{":v": s("x"), ":w": s("y")}})
			return err
		}, "Value provided in ExpressionAttributeValues unused in expressions: keys: {:w}"},
		{"syntax", func() error {
			_, err := c.UpdateItem(ctx, &sdk.UpdateItemInput{TableName: aws.String("orders"), Key: key, UpdateExpression: aws.String("SET a =")})
			return err
		}, `Invalid UpdateExpression: Syntax error; token: "<EOF>", near: "="`},
		{"empty set", func() error {
			_, err := c.PutItem(ctx, &sdk.PutItemInput{TableName: aws.String("orders"), Item: map[string]types.AttributeValue{"pk": s("k"), "sk": n("1"), "ss": &types.AttributeValueMemberSS{Value: []string{}}}})
			return err
		}, "One or more parameter values were invalid: An string set  may not be empty"},
		{"duplicate set values", func() error {
			_, err := c.PutItem(ctx, &sdk.PutItemInput{TableName: aws.String("orders"), Item: map[string]types.AttributeValue{"pk": s("k"), "sk": n("1"), "ss": &types.AttributeValueMemberSS{Value: []string{"a", "a"}}}})
			return err
		}, "One or more parameter values were invalid: Input collection [a, a] contains duplicates."},
		{"key type", func() error {
			_, err := c.PutItem(ctx, &sdk.PutItemInput{TableName: aws.String("orders"), Item: map[string]types.AttributeValue{"pk": s("k"), "sk": s("1")}})
			return err
		}, "One or more parameter values were invalid: Type mismatch for key sk expected: N actual: S"},
		{"wrong key", func() error {
			_, err := c.GetItem(ctx, &sdk.GetItemInput{TableName: aws.String("orders"), Key: map[string]types.AttributeValue{"pk": s("k")}})
			return err
		}, "The provided key element does not match the schema"},
		{"too large", func() error {
			_, err := c.PutItem(ctx, &sdk.PutItemInput{TableName: aws.String("orders"), Item: map[string]types.AttributeValue{"pk": s("k"), "sk": n("1"), "blob": &types.AttributeValueMemberB{Value: make([]byte, 400*1024)}}})
			return err
		}, "Item size has exceeded the maximum allowed size"},
		{"number", func() error {
			_, err := c.PutItem(ctx, &sdk.PutItemInput{TableName: aws.String("orders"), Item: map[string]types.AttributeValue{"pk": s("k"), "sk": n("1E+126")}})
			return err
		}, "Number overflow. Attempting to store a number with magnitude larger than supported range"},
		{"update key", func() error {
			_, err := c.UpdateItem(ctx, &sdk.UpdateItemInput{TableName: aws.String("orders"), Key: key, UpdateExpression: aws.String("SET pk = :v"), ExpressionAttributeValues: map[string]types.AttributeValue{":v": s("x")}})
			return err
		}, "One or more parameter values were invalid: Cannot update attribute pk. This attribute is part of the key"},
	}
	for _, tc := range cases {
		err := tc.call()
		var ae smithy.APIError
		if !errors.As(err, &ae) || ae.ErrorCode() != "ValidationException" || ae.ErrorMessage() != tc.want {
			t.Errorf("%s: %v\nwant ValidationException: %s", tc.name, err, tc.want)
		}
	}
	_, err := c.GetItem(ctx, &sdk.GetItemInput{TableName: aws.String("nope"), Key: key})
	if apiCode(err) != "ResourceNotFoundException" {
		t.Errorf("missing table: %v", err)
	}
}

func putOrders(t *testing.T, c *sdk.Client, pk string, count int) {
	t.Helper()
	ctx := context.Background()
	for start := 0; start < count; start += 25 {
		var reqs []types.WriteRequest
		for i := start; i < min(start+25, count); i++ {
			status := "open"
			if i%3 == 0 {
				status = "closed"
			}
			av, _ := attributevalue.MarshalMap(order{PK: pk, SK: i - count/2, Status: status, Total: float64(i) * 1.5})
			reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: av}})
		}
		out, err := c.BatchWriteItem(ctx, &sdk.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{"orders": reqs}})
		if err != nil || len(out.UnprocessedItems) != 0 {
			t.Fatalf("BatchWriteItem: %v %v", out, err)
		}
	}
}

func TestSDKQueryOrdersNumbersAndPaginates(t *testing.T) {
	c := startWharf(t)
	ctx := context.Background()
	createOrders(t, c)
	putOrders(t, c, "a", 40)
	putOrders(t, c, "b", 5)
	kc, _ := expression.NewBuilder().WithKeyCondition(expression.Key("pk").Equal(expression.Value("a"))).Build()
	var sks []int
	p := sdk.NewQueryPaginator(c, &sdk.QueryInput{TableName: aws.String("orders"), KeyConditionExpression: kc.KeyCondition(), ExpressionAttributeNames: kc.Names(), ExpressionAttributeValues: kc.Values(), Limit: aws.Int32(7)})
	pages := 0
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, it := range page.Items {
			var o order
			attributevalue.UnmarshalMap(it, &o)
			sks = append(sks, o.SK)
		}
	}
	if len(sks) != 40 || sks[0] != -20 || sks[39] != 19 || pages < 6 {
		t.Fatalf("query: %d items in %d pages: %v", len(sks), pages, sks)
	}
	for i := 1; i < len(sks); i++ {
		if sks[i] <= sks[i-1] {
			t.Fatalf("not in numeric order: %v", sks)
		}
	}
	// Sort key conditions, descending.
	q := func(expr string, vals map[string]types.AttributeValue, forward bool) []string {
		t.Helper()
		vals[":pk"] = s("a")
		out, err := c.Query(ctx, &sdk.QueryInput{TableName: aws.String("orders"), KeyConditionExpression: aws.String("pk = :pk AND " + expr), ExpressionAttributeValues: vals, ScanIndexForward: aws.Bool(forward)})
		if err != nil {
			t.Fatalf("%s: %v", expr, err)
		}
		var got []string
		for _, it := range out.Items {
			got = append(got, it["sk"].(*types.AttributeValueMemberN).Value)
		}
		return got
	}
	if got := strings.Join(q("sk BETWEEN :a AND :b", map[string]types.AttributeValue{":a": n("-2"), ":b": n("1.5")}, false), ","); got != "1,0,-1,-2" {
		t.Errorf("BETWEEN desc = %s", got)
	}
	if got := strings.Join(q("sk < :a", map[string]types.AttributeValue{":a": n("-18")}, true), ","); got != "-20,-19" {
		t.Errorf("< asc = %s", got)
	}
	if got := strings.Join(q("sk >= :a", map[string]types.AttributeValue{":a": n("18")}, false), ","); got != "19,18" {
		t.Errorf(">= desc = %s", got)
	}
	if got := strings.Join(q("sk = :a", map[string]types.AttributeValue{":a": n("3")}, false), ","); got != "3" {
		t.Errorf("= desc = %s", got)
	}
	// A global index (KEYS_ONLY), with a filter and a count.
	out, err := c.Query(ctx, &sdk.QueryInput{TableName: aws.String("orders"), IndexName: aws.String("by-status"),
		KeyConditionExpression:    aws.String("#s = :s AND #t > :t"),
		FilterExpression:          aws.String("pk = :pk"),
		ExpressionAttributeNames:  map[string]string{"#s": "status", "#t": "total"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":s": s("closed"), ":t": n("30"), ":pk": s("a")},
	})
	if err != nil {
		t.Fatal(err)
	}
	// closed: i%3==0 with total = 1.5i > 30 → i in 21..39 step 3 → 21,24,...,39 = 7 items (all in "a").
	if out.Count != 7 || len(out.Items) != 7 || out.Items[0]["note"] != nil || out.Items[0]["total"].(*types.AttributeValueMemberN).Value != "31.5" {
		t.Fatalf("GSI query: count %d, %#v", out.Count, out.Items)
	}
	// begins_with on a string sort key via the LSI? LSI sorts by number: use Select COUNT.
	cnt, err := c.Query(ctx, &sdk.QueryInput{TableName: aws.String("orders"), IndexName: aws.String("by-total"), Select: types.SelectCount,
		KeyConditionExpression: aws.String("pk = :pk AND #t <= :t"), ExpressionAttributeNames: map[string]string{"#t": "total"}, ExpressionAttributeValues: map[string]types.AttributeValue{":pk": s("b"), ":t": n("3")}})
	if err != nil || cnt.Count != 3 || cnt.Items != nil {
		t.Fatalf("LSI count: %+v %v", cnt, err)
	}
	// Parallel scan: segments partition the table.
	total := 0
	for seg := int32(0); seg < 3; seg++ {
		sp := sdk.NewScanPaginator(c, &sdk.ScanInput{TableName: aws.String("orders"), Segment: aws.Int32(seg), TotalSegments: aws.Int32(3), Limit: aws.Int32(4)})
		for sp.HasMorePages() {
			page, err := sp.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			total += len(page.Items)
		}
	}
	if total != 45 {
		t.Fatalf("parallel scan saw %d items, want 45", total)
	}
	filt, _ := expression.NewBuilder().WithFilter(expression.Name("total").GreaterThan(expression.Value(50)).And(expression.Name("status").In(expression.Value("open")))).
		WithProjection(expression.NamesList(expression.Name("sk"))).Build()
	sc, err := c.Scan(ctx, &sdk.ScanInput{TableName: aws.String("orders"), FilterExpression: filt.Filter(), ProjectionExpression: filt.Projection(), ExpressionAttributeNames: filt.Names(), ExpressionAttributeValues: filt.Values()})
	if err != nil {
		t.Fatal(err)
	}
	// open with 1.5i > 50 → i in 34..39 not divisible by 3: 34,35,37,38.
	if sc.Count != 4 || sc.ScannedCount != 45 || len(sc.Items[0]) != 1 {
		t.Fatalf("filtered scan: %d of %d, %v", sc.Count, sc.ScannedCount, sc.Items)
	}
}

func TestSDKBatchGetAndTransactions(t *testing.T) {
	c := startWharf(t)
	ctx := context.Background()
	createOrders(t, c)
	putOrders(t, c, "a", 3) // sk -1, 0, 1
	bg, err := c.BatchGetItem(ctx, &sdk.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{"orders": {
		Keys:                 []map[string]types.AttributeValue{{"pk": s("a"), "sk": n("-1")}, {"pk": s("a"), "sk": n("1")}, {"pk": s("a"), "sk": n("99")}},
		ProjectionExpression: aws.String("sk"),
	}}})
	if err != nil || len(bg.Responses["orders"]) != 2 || len(bg.Responses["orders"][0]) != 1 {
		t.Fatalf("BatchGetItem: %+v %v", bg, err)
	}
	tx := func(token string, cond string) error {
		_, err := c.TransactWriteItems(ctx, &sdk.TransactWriteItemsInput{
			ClientRequestToken: aws.String(token),
			TransactItems: []types.TransactWriteItem{
				{Put: &types.Put{TableName: aws.String("orders"), Item: map[string]types.AttributeValue{"pk": s("t"), "sk": n("1"), "v": s(token)}}},
				{Update: &types.Update{TableName: aws.String("orders"), Key: map[string]types.AttributeValue{"pk": s("a"), "sk": n("0")}, UpdateExpression: aws.String("ADD hits :one"), ExpressionAttributeValues: map[string]types.AttributeValue{":one": n("1")}}},
				{ConditionCheck: &types.ConditionCheck{TableName: aws.String("orders"), Key: map[string]types.AttributeValue{"pk": s("a"), "sk": n("1")}, ConditionExpression: aws.String(cond), ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld}},
				{Delete: &types.Delete{TableName: aws.String("orders"), Key: map[string]types.AttributeValue{"pk": s("a"), "sk": n("-1")}}},
			},
		})
		return err
	}
	err = tx("tok-fail", "attribute_not_exists(pk)")
	var tce *types.TransactionCanceledException
	if !errors.As(err, &tce) || len(tce.CancellationReasons) != 4 || *tce.CancellationReasons[2].Code != "ConditionalCheckFailed" || *tce.CancellationReasons[0].Code != "None" || tce.CancellationReasons[2].Item == nil {
		t.Fatalf("failed transaction: %v", err)
	}
	// Nothing was applied.
	g, _ := c.GetItem(ctx, &sdk.GetItemInput{TableName: aws.String("orders"), Key: map[string]types.AttributeValue{"pk": s("t"), "sk": n("1")}})
	if g.Item != nil {
		t.Fatal("a cancelled transaction wrote an item")
	}
	for i := 0; i < 2; i++ { // the same token twice applies once
		if err := tx("tok-ok", "attribute_exists(pk)"); err != nil {
			t.Fatal(err)
		}
	}
	tg, err := c.TransactGetItems(ctx, &sdk.TransactGetItemsInput{TransactItems: []types.TransactGetItem{
		{Get: &types.Get{TableName: aws.String("orders"), Key: map[string]types.AttributeValue{"pk": s("a"), "sk": n("0")}}},
		{Get: &types.Get{TableName: aws.String("orders"), Key: map[string]types.AttributeValue{"pk": s("a"), "sk": n("-1")}}},
	}})
	if err != nil || tg.Responses[0].Item["hits"].(*types.AttributeValueMemberN).Value != "1" || tg.Responses[1].Item != nil {
		t.Fatalf("TransactGetItems: %+v %v", tg, err)
	}
	if err := tx("tok-ok", "attribute_not_exists(pk)"); apiCode(err) != "IdempotentParameterMismatchException" {
		t.Fatalf("reused token with other parameters: %v", err)
	}
	_, err = c.TransactWriteItems(ctx, &sdk.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Delete: &types.Delete{TableName: aws.String("orders"), Key: map[string]types.AttributeValue{"pk": s("a"), "sk": n("0")}}},
		{Delete: &types.Delete{TableName: aws.String("orders"), Key: map[string]types.AttributeValue{"pk": s("a"), "sk": n("0")}}},
	}})
	if apiCode(err) != "ValidationException" {
		t.Fatalf("two operations on one item: %v", err)
	}
}

// BenchmarkSDKPutItem drives PutItem through the whole server (codec, service,
// store) from 8 goroutines, for profiling; bench/dynamodb compares with moto.
func BenchmarkSDKPutItem(b *testing.B) {
	t := &testing.T{}
	c := startWharfB(b)
	createOrders(t, c)
	var seq atomicInt
	b.SetParallelism(8)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := seq.add()
			_, err := c.PutItem(context.Background(), &sdk.PutItemInput{TableName: aws.String("orders"), Item: map[string]types.AttributeValue{
				"pk": s("p"), "sk": n(fmt.Sprint(i)), "payload": s("a modest item payload of about one hundred bytes, like a typical task result row"), "count": n("42"),
			}})
			if err != nil {
				b.Error(err)
				return
			}
		}
	})
}
