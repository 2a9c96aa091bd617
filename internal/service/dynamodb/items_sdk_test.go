package dynamodb_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdk "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

type item = map[string]types.AttributeValue

func list(vs ...types.AttributeValue) types.AttributeValue {
	return &types.AttributeValueMemberL{Value: vs}
}

// createTable makes a pay-per-request table; keys are "name:type" with the
// hash key first.
func createTable(t *testing.T, c *sdk.Client, in *sdk.CreateTableInput, keys ...string) {
	t.Helper()
	for i, k := range keys {
		name, typ, _ := strings.Cut(k, ":")
		kt := types.KeyTypeHash
		if i == 1 {
			kt = types.KeyTypeRange
		}
		in.KeySchema = append(in.KeySchema, types.KeySchemaElement{AttributeName: aws.String(name), KeyType: kt})
		in.AttributeDefinitions = append(in.AttributeDefinitions, types.AttributeDefinition{AttributeName: aws.String(name), AttributeType: types.ScalarAttributeType(typ)})
	}
	in.BillingMode = types.BillingModePayPerRequest
	if _, err := c.CreateTable(context.Background(), in); err != nil {
		t.Fatal(err)
	}
}

func def(name, typ string) types.AttributeDefinition {
	return types.AttributeDefinition{AttributeName: aws.String(name), AttributeType: types.ScalarAttributeType(typ)}
}

func keySchema(hash, rng string) []types.KeySchemaElement {
	ks := []types.KeySchemaElement{{AttributeName: aws.String(hash), KeyType: types.KeyTypeHash}}
	if rng != "" {
		ks = append(ks, types.KeySchemaElement{AttributeName: aws.String(rng), KeyType: types.KeyTypeRange})
	}
	return ks
}

func getItem(t *testing.T, c *sdk.Client, table string, key item) item {
	t.Helper()
	out, err := c.GetItem(context.Background(), &sdk.GetItemInput{TableName: aws.String(table), Key: key, ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	return out.Item
}

// wantValidation fails unless err is a ValidationException whose message
// contains want.
func wantValidation(t *testing.T, err error, want string) {
	t.Helper()
	if apiCode(err) != "ValidationException" || !strings.Contains(err.Error(), want) {
		t.Fatalf("got %v, want a ValidationException containing %q", err, want)
	}
}

func TestSDKIndexKeysHaveDynamoDBsSizeLimits(t *testing.T) {
	c := startWharf(t)
	ctx := context.Background()
	createTable(t, c, &sdk.CreateTableInput{
		TableName:            aws.String("limits"),
		AttributeDefinitions: []types.AttributeDefinition{def("x", "S"), def("y", "S")},
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{
			{IndexName: aws.String("by-x"), KeySchema: keySchema("x", ""), Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll}},
			{IndexName: aws.String("by-y-x"), KeySchema: keySchema("y", "x"), Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll}},
		},
	}, "p:S")
	put := func(it item) error {
		_, err := c.PutItem(ctx, &sdk.PutItemInput{TableName: aws.String("limits"), Item: it})
		return err
	}
	// 2048 bytes is a valid partition key of by-x; 1025 is not a valid sort
	// key of by-y-x, and 2049 is not a valid partition key.
	if err := put(item{"p": s("a"), "x": s(strings.Repeat("x", 2048))}); err != nil {
		t.Fatal(err)
	}
	wantValidation(t, put(item{"p": s("b"), "x": s(strings.Repeat("x", 2049))}),
		"Size limit exceeded for Index Key x Actual Size: 2049 bytes Max Size: 2048 bytes IndexName: by-x")
	wantValidation(t, put(item{"p": s("c"), "y": s("k"), "x": s(strings.Repeat("x", 1025))}),
		"Max Size: 1024 bytes IndexName: by-y-x")
	// Far over the limit is the same clean error, never an internal failure.
	wantValidation(t, put(item{"p": s("d"), "x": s(strings.Repeat("x", 70000))}), "Size limit exceeded for Index Key x")
	_, err := c.UpdateItem(ctx, &sdk.UpdateItemInput{
		TableName: aws.String("limits"), Key: item{"p": s("a")},
		UpdateExpression:          aws.String("SET x = :v"),
		ExpressionAttributeValues: item{":v": s(strings.Repeat("x", 2049))},
	})
	wantValidation(t, err, "Size limit exceeded for Index Key x")
	for _, p := range []string{"b", "c", "d"} {
		if got := getItem(t, c, "limits", item{"p": s(p)}); got != nil {
			t.Errorf("item %s was written despite the error: %v", p, got)
		}
	}
	q, err := c.Query(ctx, &sdk.QueryInput{
		TableName: aws.String("limits"), IndexName: aws.String("by-x"),
		KeyConditionExpression:    aws.String("x = :x"),
		ExpressionAttributeValues: item{":x": s(strings.Repeat("x", 2048))},
	})
	if err != nil || len(q.Items) != 1 {
		t.Fatalf("query of the 2048-byte key: %v, %d items", err, len(q.Items))
	}
	// The table's own keys: the hash key error as DynamoDB words it.
	wantValidation(t, put(item{"p": s(strings.Repeat("p", 2049))}), "Size of hashkey has exceeded the maximum size limit of2048 bytes")
}

func TestSDKNewIndexSkipsItemsWithInvalidKeys(t *testing.T) {
	c := startWharf(t)
	ctx := context.Background()
	createTable(t, c, &sdk.CreateTableInput{TableName: aws.String("backfill")}, "p:S")
	// Only "ok" can be in an index keyed on x (S): the others are empty,
	// over 2048 bytes, far over, or a number.
	items := []item{
		{"p": s("ok"), "x": s("hello")},
		{"p": s("empty"), "x": s("")},
		{"p": s("long"), "x": s(strings.Repeat("x", 2049))},
		{"p": s("huge"), "x": s(strings.Repeat("x", 66500))},
		{"p": s("number"), "x": n("1")},
		{"p": s("none")},
	}
	for _, it := range items {
		if _, err := c.PutItem(ctx, &sdk.PutItemInput{TableName: aws.String("backfill"), Item: it}); err != nil {
			t.Fatal(err)
		}
	}
	_, err := c.UpdateTable(ctx, &sdk.UpdateTableInput{
		TableName:            aws.String("backfill"),
		AttributeDefinitions: []types.AttributeDefinition{def("x", "S")},
		GlobalSecondaryIndexUpdates: []types.GlobalSecondaryIndexUpdate{{Create: &types.CreateGlobalSecondaryIndexAction{
			IndexName: aws.String("by-x"), KeySchema: keySchema("x", ""), Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll},
		}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.Scan(ctx, &sdk.ScanInput{TableName: aws.String("backfill"), IndexName: aws.String("by-x")})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Items) != 1 || !reflect.DeepEqual(out.Items[0]["p"], s("ok")) {
		t.Fatalf("index holds %v, want only the item \"ok\"", out.Items)
	}
}

func TestSDKRemovingFromAMissingItemCreatesNothing(t *testing.T) {
	c := startWharf(t)
	ctx := context.Background()
	createTable(t, c, &sdk.CreateTableInput{TableName: aws.String("removes")}, "p:S")
	update := func(p string, in *sdk.UpdateItemInput) *sdk.UpdateItemOutput {
		t.Helper()
		in.TableName, in.Key, in.ReturnValues = aws.String("removes"), item{"p": s(p)}, types.ReturnValueAllNew
		out, err := c.UpdateItem(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	for name, in := range map[string]*sdk.UpdateItemInput{
		"REMOVE":         {UpdateExpression: aws.String("REMOVE a, b.c")},
		"DELETE":         {UpdateExpression: aws.String("DELETE s :v"), ExpressionAttributeValues: item{":v": &types.AttributeValueMemberSS{Value: []string{"x"}}}},
		"legacy DELETE":  {AttributeUpdates: map[string]types.AttributeValueUpdate{"a": {Action: types.AttributeActionDelete}}},
		"legacy DELETE2": {AttributeUpdates: map[string]types.AttributeValueUpdate{"s": {Action: types.AttributeActionDelete, Value: &types.AttributeValueMemberNS{Value: []string{"4"}}}}},
	} {
		out := update(name, in)
		if out.Attributes != nil {
			t.Errorf("%s: returned %v", name, out.Attributes)
		}
		if got := getItem(t, c, "removes", item{"p": s(name)}); got != nil {
			t.Errorf("%s created %v", name, got)
		}
	}
	// Any other update creates the item, even one that writes nothing.
	if out := update("empty", &sdk.UpdateItemInput{AttributeUpdates: map[string]types.AttributeValueUpdate{}}); !reflect.DeepEqual(out.Attributes, item{"p": s("empty")}) {
		t.Errorf("empty AttributeUpdates returned %v", out.Attributes)
	}
	if out := update("set", &sdk.UpdateItemInput{UpdateExpression: aws.String("SET a = :a REMOVE b"), ExpressionAttributeValues: item{":a": n("1")}}); !reflect.DeepEqual(out.Attributes, item{"p": s("set"), "a": n("1")}) {
		t.Errorf("SET returned %v", out.Attributes)
	}
	// On an existing item, REMOVE removes.
	update("set", &sdk.UpdateItemInput{UpdateExpression: aws.String("REMOVE a")})
	if got := getItem(t, c, "removes", item{"p": s("set")}); !reflect.DeepEqual(got, item{"p": s("set")}) {
		t.Errorf("after REMOVE: %v", got)
	}
}

func TestSDKSetPastTheEndOfAListAppendsInIndexOrder(t *testing.T) {
	c := startWharf(t)
	ctx := context.Background()
	createTable(t, c, &sdk.CreateTableInput{TableName: aws.String("lists")}, "p:S")
	key := item{"p": s("k")}
	if _, err := c.PutItem(ctx, &sdk.PutItemInput{TableName: aws.String("lists"), Item: item{"p": s("k"), "a": list(s("one"), s("two"), s("three"))}}); err != nil {
		t.Fatal(err)
	}
	out, err := c.UpdateItem(ctx, &sdk.UpdateItemInput{
		TableName: aws.String("lists"), Key: key,
		UpdateExpression:          aws.String("SET a[9] = :x, a[1] = :z, a[7] = :y"),
		ExpressionAttributeValues: item{":x": s("x"), ":y": s("y"), ":z": s("z")},
		ReturnValues:              types.ReturnValueUpdatedNew,
	})
	if err != nil {
		t.Fatal(err)
	}
	want := list(s("one"), s("z"), s("three"), s("y"), s("x"))
	if got := getItem(t, c, "lists", key); !reflect.DeepEqual(got["a"], want) {
		t.Errorf("a = %v, want %v", got["a"], want)
	}
	// UPDATED_NEW projects the new item on the paths the update named, as
	// DynamoDB does: a[1] is there, a[7] and a[9] are not (they were
	// appended at 3 and 4).
	if want := (item{"a": list(s("z"))}); !reflect.DeepEqual(out.Attributes, want) {
		t.Errorf("UPDATED_NEW = %v, want %v", out.Attributes, want)
	}
}

func TestSDKProjectionReturnsListElementsInDocumentOrder(t *testing.T) {
	c := startWharf(t)
	ctx := context.Background()
	createTable(t, c, &sdk.CreateTableInput{TableName: aws.String("proj")}, "p:S")
	m := &types.AttributeValueMemberM{Value: item{"l": list(n("10"), n("11"), n("12")), "x": s("x")}}
	if _, err := c.PutItem(ctx, &sdk.PutItemInput{TableName: aws.String("proj"), Item: item{"p": s("k"), "a": list(n("0"), n("1"), n("2"), n("3")), "m": m}}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		proj string
		want item
	}{
		{"a[3], a[1]", item{"a": list(n("1"), n("3"))}},
		{"a[2], a[0], a[9]", item{"a": list(n("0"), n("2"))}},
		{"m.l[2], m.l[0], m.x", item{"m": &types.AttributeValueMemberM{Value: item{"l": list(n("10"), n("12")), "x": s("x")}}}},
		{"a[9]", item{}},
	} {
		out, err := c.GetItem(ctx, &sdk.GetItemInput{TableName: aws.String("proj"), Key: item{"p": s("k")}, ProjectionExpression: aws.String(tc.proj)})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(out.Item, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.proj, out.Item, tc.want)
		}
	}
}

func attrNames(items []item) []string {
	var out []string
	for _, it := range items {
		names := make([]string, 0, len(it))
		for k := range it {
			names = append(names, k)
		}
		sort.Strings(names)
		out = append(out, strings.Join(names, ","))
	}
	return out
}

func TestSDKIndexReadsReturnOnlyProjectedAttributes(t *testing.T) {
	c := startWharf(t)
	ctx := context.Background()
	createTable(t, c, &sdk.CreateTableInput{
		TableName:            aws.String("projected"),
		AttributeDefinitions: []types.AttributeDefinition{def("x", "S"), def("y", "S"), def("b", "S")},
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{
			{IndexName: aws.String("keys"), KeySchema: keySchema("x", ""), Projection: &types.Projection{ProjectionType: types.ProjectionTypeKeysOnly}},
			{IndexName: aws.String("include"), KeySchema: keySchema("y", ""), Projection: &types.Projection{ProjectionType: types.ProjectionTypeInclude, NonKeyAttributes: []string{"a"}}},
		},
		LocalSecondaryIndexes: []types.LocalSecondaryIndex{
			{IndexName: aws.String("local"), KeySchema: keySchema("p", "b"), Projection: &types.Projection{ProjectionType: types.ProjectionTypeKeysOnly}},
		},
	}, "p:S", "c:S")
	full := item{"p": s("p"), "c": s("c"), "x": s("x"), "y": s("y"), "b": s("b"), "a": s("a"), "z": s("z")}
	if _, err := c.PutItem(ctx, &sdk.PutItemInput{TableName: aws.String("projected"), Item: full}); err != nil {
		t.Fatal(err)
	}
	query := func(ix, keyAttr string, mod func(*sdk.QueryInput)) ([]item, error) {
		in := &sdk.QueryInput{
			TableName: aws.String("projected"), IndexName: aws.String(ix),
			KeyConditionExpression:    aws.String("#k = :v"),
			ExpressionAttributeNames:  map[string]string{"#k": keyAttr},
			ExpressionAttributeValues: item{":v": full[keyAttr]},
		}
		if mod != nil {
			mod(in)
		}
		out, err := c.Query(ctx, in)
		if err != nil {
			return nil, err
		}
		return out.Items, nil
	}
	for _, tc := range []struct {
		name, ix, key string
		mod           func(*sdk.QueryInput)
		want          string
	}{
		{"KEYS_ONLY global", "keys", "x", nil, "c,p,x"},
		{"INCLUDE global", "include", "y", nil, "a,c,p,y"},
		{"INCLUDE global, projected subset", "include", "y", func(in *sdk.QueryInput) { in.ProjectionExpression = aws.String("a") }, "a"},
		{"KEYS_ONLY local", "local", "p", nil, "b,c,p"},
		{"local, ALL_ATTRIBUTES", "local", "p", func(in *sdk.QueryInput) { in.Select = types.SelectAllAttributes }, "a,b,c,p,x,y,z"},
		{"local fetches from the table", "local", "p", func(in *sdk.QueryInput) { in.ProjectionExpression = aws.String("z") }, "z"},
	} {
		got, err := query(tc.ix, tc.key, tc.mod)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if names := attrNames(got); len(names) != 1 || names[0] != tc.want {
			t.Errorf("%s: attributes %v, want [%s]", tc.name, names, tc.want)
		}
	}
	sc, err := c.Scan(ctx, &sdk.ScanInput{TableName: aws.String("projected"), IndexName: aws.String("keys")})
	if err != nil {
		t.Fatal(err)
	}
	if names := attrNames(sc.Items); len(names) != 1 || names[0] != "c,p,x" {
		t.Errorf("Scan of KEYS_ONLY: attributes %v", names)
	}
	// A global index cannot fetch from the table: asking for more fails.
	_, err = query("include", "y", func(in *sdk.QueryInput) { in.ProjectionExpression = aws.String("a, z") })
	wantValidation(t, err, "Global secondary index include does not project [z]")
	_, err = query("keys", "x", func(in *sdk.QueryInput) { in.Select = types.SelectAllAttributes })
	wantValidation(t, err, "Select type ALL_ATTRIBUTES is not supported for global secondary index keys")
}

// rawCall sends body to a DynamoDB operation as a raw client would and
// returns the status and the decoded body (nil when empty).
func rawCall(t *testing.T, addr, op, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest("POST", "http://"+addr+"/", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Amz-Target", "DynamoDB_20120810."+op)
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if len(raw) == 0 {
		return resp.StatusCode, nil
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("%s answered %q: %v", op, raw, err)
	}
	return resp.StatusCode, m
}

func TestRawErrorsAreShapedAsDynamoDBSendsThem(t *testing.T) {
	c, addr := startWharfAddr(t)
	createTable(t, c, &sdk.CreateTableInput{TableName: aws.String("raw")}, "p:S")
	for _, tc := range []struct {
		name, op, body string
		status         int
		typ, message   string
	}{
		{"modelled exception in DynamoDB's namespace", "DescribeTable", `{"TableName":"nope"}`, 400,
			"com.amazonaws.dynamodb.v20120810#ResourceNotFoundException", "Requested resource not found: Table: nope not found"},
		{"common exception in Coral's", "PutItem", `{"TableName":"raw","Item":{"p":{"S":"a"},"n":{"N":"NaN"}}}`, 400,
			"com.amazon.coral.validate#ValidationException", "The parameter cannot be converted to a numeric value: NaN"},
		{"condition failure", "PutItem", `{"TableName":"raw","Item":{"p":{"S":"a"}},"ConditionExpression":"attribute_exists(p)"}`, 400,
			"com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException", "The conditional request failed"},
		{"empty write list", "BatchWriteItem", `{"RequestItems":{"raw":[]}}`, 400, "com.amazon.coral.validate#ValidationException", ""},
		{"unknown operation", "Frobnicate", `{}`, 400, "com.amazon.coral.service#UnknownOperationException", ""},
	} {
		status, m := rawCall(t, addr, tc.op, tc.body)
		if status != tc.status || m["__type"] != tc.typ {
			t.Errorf("%s: %d %v, want %d with __type %s", tc.name, status, m, tc.status, tc.typ)
		}
		// Raw clients split __type at '#' and read "message".
		if tc.message != "" && m["message"] != tc.message {
			t.Errorf("%s: message %v, want %q", tc.name, m["message"], tc.message)
		}
	}
	// An operation without output answers with an empty body, as DynamoDB's
	// TagResource does.
	d, err := c.DescribeTable(context.Background(), &sdk.DescribeTableInput{TableName: aws.String("raw")})
	if err != nil {
		t.Fatal(err)
	}
	status, m := rawCall(t, addr, "TagResource", `{"ResourceArn":"`+*d.Table.TableArn+`","Tags":[{"Key":"k","Value":"v"}]}`)
	if status != 200 || m != nil {
		t.Errorf("TagResource: %d %v, want 200 and no body", status, m)
	}
}

func TestRequestsOver16MBAre413(t *testing.T) {
	_, addr := startWharfAddr(t)
	body := `{"TableName":"big",` + strings.Repeat(" ", 16<<20) + `"Item":{"p":{"S":"x"}}}`
	status, m := rawCall(t, addr, "PutItem", body)
	if status != http.StatusRequestEntityTooLarge {
		t.Fatalf("17 MB PutItem: %d %v, want 413", status, m)
	}
}

func TestSDKValuesNestedDeeperThan32LevelsAreRefused(t *testing.T) {
	c := startWharf(t)
	ctx := context.Background()
	createTable(t, c, &sdk.CreateTableInput{TableName: aws.String("nest")}, "p:S")
	nested := func(wraps int) types.AttributeValue {
		v := types.AttributeValue(&types.AttributeValueMemberM{Value: item{}})
		for i := 1; i < wraps; i++ {
			v = &types.AttributeValueMemberM{Value: item{"a": v}}
		}
		return v
	}
	// The item, its attribute and 30 more maps are 32 levels: allowed.
	if _, err := c.PutItem(ctx, &sdk.PutItemInput{TableName: aws.String("nest"), Item: item{"p": s("a"), "n": nested(31)}}); err != nil {
		t.Fatalf("32 levels: %v", err)
	}
	_, err := c.PutItem(ctx, &sdk.PutItemInput{TableName: aws.String("nest"), Item: item{"p": s("b"), "n": nested(32)}})
	wantValidation(t, err, "Nesting Levels have exceeded supported limits: Attributes in the item have nested levels beyond supported limit")
}

func TestSDKReadValidationAsDynamoDB(t *testing.T) {
	c := startWharf(t)
	ctx := context.Background()
	createTable(t, c, &sdk.CreateTableInput{TableName: aws.String("reads")}, "p:S", "c:N")
	kc := func(in *sdk.QueryInput) *sdk.QueryInput {
		in.TableName, in.KeyConditionExpression = aws.String("reads"), aws.String("p = :p")
		if in.ExpressionAttributeValues == nil {
			in.ExpressionAttributeValues = item{}
		}
		in.ExpressionAttributeValues[":p"] = s("a")
		return in
	}
	_, err := c.Query(ctx, kc(&sdk.QueryInput{FilterExpression: aws.String("c > :c AND x = :c"), ExpressionAttributeValues: item{":c": n("1")}}))
	wantValidation(t, err, "Filter Expression can only contain non-primary key attributes: Primary key attribute: c")
	_, err = c.Query(ctx, &sdk.QueryInput{
		TableName:     aws.String("reads"),
		KeyConditions: map[string]types.Condition{"p": {ComparisonOperator: types.ComparisonOperatorEq, AttributeValueList: []types.AttributeValue{s("a")}}},
		QueryFilter:   map[string]types.Condition{"p": {ComparisonOperator: types.ComparisonOperatorEq, AttributeValueList: []types.AttributeValue{s("a")}}},
	})
	wantValidation(t, err, "QueryFilter can only contain non-primary key attributes: Primary key attribute: p")
	_, err = c.Query(ctx, kc(&sdk.QueryInput{ExclusiveStartKey: item{"p": s("a"), "c": n("1"), "x": s("spurious")}}))
	wantValidation(t, err, "The provided starting key is invalid")
	// A parallel scan resumes only inside its own segment.
	var other string
	for _, p := range []string{"a", "b", "c", "d", "e", "f", "g", "h"} {
		_, err := c.Scan(ctx, &sdk.ScanInput{TableName: aws.String("reads"), Segment: aws.Int32(0), TotalSegments: aws.Int32(2), ExclusiveStartKey: item{"p": s(p), "c": n("1")}})
		if err != nil {
			wantValidation(t, err, "The provided Exclusive start key does not map to the provided Segment: TotalSegments: 2 Segment: 0")
			other = p
		}
	}
	if other == "" {
		t.Error("no start key of eight fell outside segment 0 of 2")
	}
}

func TestSDKTableAdministrationAsDynamoDB(t *testing.T) {
	c := startWharf(t)
	ctx := context.Background()
	createTable(t, c, &sdk.CreateTableInput{
		TableName:              aws.String("admin"),
		AttributeDefinitions:   []types.AttributeDefinition{def("x", "S")},
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{{IndexName: aws.String("by-x"), KeySchema: keySchema("x", ""), Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll}}},
	}, "p:S")
	d, err := c.DescribeTable(ctx, &sdk.DescribeTableInput{TableName: aws.String("admin")})
	if err != nil {
		t.Fatal(err)
	}
	arn := d.Table.TableArn
	tag := func(k, v string) error {
		_, err := c.TagResource(ctx, &sdk.TagResourceInput{ResourceArn: arn, Tags: []types.Tag{{Key: aws.String(k), Value: aws.String(v)}}})
		return err
	}
	if err := tag(strings.Repeat("k", 128), "+-=._:/@ ok"); err != nil {
		t.Fatal(err)
	}
	wantValidation(t, tag(strings.Repeat("k", 129), "v"), "Member must have length less than or equal to 128")
	wantValidation(t, tag("k", strings.Repeat("v", 257)), "Member must have length less than or equal to 256")
	wantValidation(t, tag("", "v"), "Member must have length greater than or equal to 1")
	wantValidation(t, tag("hi!", "v"), "Member must satisfy regular expression pattern")
	_, err = c.TagResource(ctx, &sdk.TagResourceInput{ResourceArn: arn, Tags: []types.Tag{}})
	wantValidation(t, err, "at 'tags' failed to satisfy constraint: Member must have length greater than or equal to 1")
	_, err = c.ListTagsOfResource(ctx, &sdk.ListTagsOfResourceInput{ResourceArn: d.Table.GlobalSecondaryIndexes[0].IndexArn})
	wantValidation(t, err, "Invalid ResourceArn")
	_, err = c.UpdateTimeToLive(ctx, &sdk.UpdateTimeToLiveInput{TableName: aws.String("admin"), TimeToLiveSpecification: &types.TimeToLiveSpecification{AttributeName: aws.String(strings.Repeat("x", 256)), Enabled: aws.Bool(true)}})
	wantValidation(t, err, "Member must have length less than or equal to 255")
	// DeleteTable describes the table without its schema.
	del, err := c.DeleteTable(ctx, &sdk.DeleteTableInput{TableName: aws.String("admin")})
	if err != nil {
		t.Fatal(err)
	}
	got := del.TableDescription
	if got.TableStatus != types.TableStatusDeleting || got.TableArn == nil || got.ItemCount == nil ||
		got.CreationDateTime != nil || got.KeySchema != nil || got.AttributeDefinitions != nil || got.GlobalSecondaryIndexes != nil {
		t.Errorf("DeleteTable description: %+v", got)
	}
}

func TestSDKMultiAttributeGSIKeys(t *testing.T) {
	c := startWharf(t)
	ctx := context.Background()
	ks := []types.KeySchemaElement{
		{AttributeName: aws.String("h1"), KeyType: types.KeyTypeHash}, {AttributeName: aws.String("h2"), KeyType: types.KeyTypeHash},
		{AttributeName: aws.String("r1"), KeyType: types.KeyTypeRange}, {AttributeName: aws.String("r2"), KeyType: types.KeyTypeRange},
	}
	createTable(t, c, &sdk.CreateTableInput{
		TableName:              aws.String("multi"),
		AttributeDefinitions:   []types.AttributeDefinition{def("h1", "S"), def("h2", "N"), def("r1", "S"), def("r2", "N")},
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{{IndexName: aws.String("gsi"), KeySchema: ks, Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll}}},
	}, "p:S")
	for i, it := range []item{
		{"h1": s("a"), "h2": n("1"), "r1": s("x"), "r2": n("3")},
		{"h1": s("a"), "h2": n("1"), "r1": s("x"), "r2": n("1")},
		{"h1": s("a"), "h2": n("1"), "r1": s("y"), "r2": n("2")},
		{"h1": s("a"), "h2": n("2"), "r1": s("x"), "r2": n("2")}, // another partition
		{"h1": s("a"), "h2": n("1"), "r1": s("x")},               // lacks r2: not indexed
	} {
		it["p"] = s(strconv.Itoa(i))
		if _, err := c.PutItem(ctx, &sdk.PutItemInput{TableName: aws.String("multi"), Item: it}); err != nil {
			t.Fatal(err)
		}
	}
	query := func(cond string, vals item) ([]string, error) {
		out, err := c.Query(ctx, &sdk.QueryInput{TableName: aws.String("multi"), IndexName: aws.String("gsi"), KeyConditionExpression: aws.String(cond), ExpressionAttributeValues: vals})
		if err != nil {
			return nil, err
		}
		var ps []string
		for _, it := range out.Items {
			ps = append(ps, it["p"].(*types.AttributeValueMemberS).Value)
		}
		return ps, nil
	}
	for _, tc := range []struct {
		cond string
		vals item
		want string
	}{
		{"h1 = :a AND h2 = :one", item{":a": s("a"), ":one": n("1")}, "1,0,2"},
		{"h1 = :a AND h2 = :one AND r1 = :x", item{":a": s("a"), ":one": n("1"), ":x": s("x")}, "1,0"},
		{"h1 = :a AND h2 = :one AND r1 = :x AND r2 > :two", item{":a": s("a"), ":one": n("1"), ":x": s("x"), ":two": n("2")}, "0"},
		{"h2 = :two AND h1 = :a", item{":a": s("a"), ":two": n("2")}, "3"},
	} {
		got, err := query(tc.cond, tc.vals)
		if err != nil || strings.Join(got, ",") != tc.want {
			t.Errorf("%s: %v %v, want %s", tc.cond, got, err, tc.want)
		}
	}
	_, err := query("h1 = :a", item{":a": s("a")})
	wantValidation(t, err, "every HASH key attribute of index gsi must have an equality condition: h2")
	_, err = query("h1 = :a AND h2 = :one AND r2 = :one", item{":a": s("a"), ":one": n("1")})
	wantValidation(t, err, "the RANGE key attributes of index gsi must be constrained from the first on")
	_, err = c.Query(ctx, &sdk.QueryInput{TableName: aws.String("multi"), IndexName: aws.String("gsi"),
		KeyConditionExpression: aws.String("h1 = :a AND h2 = :one"), FilterExpression: aws.String("r2 > :one"),
		ExpressionAttributeValues: item{":a": s("a"), ":one": n("1")}})
	wantValidation(t, err, "Primary key attribute: r2")
	d, err := c.DescribeTable(ctx, &sdk.DescribeTableInput{TableName: aws.String("multi")})
	if err != nil || len(d.Table.GlobalSecondaryIndexes[0].KeySchema) != 4 || *d.Table.GlobalSecondaryIndexes[0].ItemCount != 4 {
		t.Errorf("DescribeTable: %v", err)
	}
	// At most 4 attributes per key, partition key attributes first.
	five := []types.KeySchemaElement{}
	for _, a := range []string{"a", "b", "c", "d", "e"} {
		five = append(five, types.KeySchemaElement{AttributeName: aws.String(a), KeyType: types.KeyTypeHash})
	}
	_, err = c.UpdateTable(ctx, &sdk.UpdateTableInput{TableName: aws.String("multi"),
		AttributeDefinitions:        []types.AttributeDefinition{def("a", "S"), def("b", "S"), def("c", "S"), def("d", "S"), def("e", "S")},
		GlobalSecondaryIndexUpdates: []types.GlobalSecondaryIndexUpdate{{Create: &types.CreateGlobalSecondaryIndexAction{IndexName: aws.String("five"), KeySchema: five, Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll}}}}})
	wantValidation(t, err, "at most 4 HASH key attributes")
}

func TestSDKBatchGetItemChargesEachItem(t *testing.T) {
	c := startWharf(t)
	ctx := context.Background()
	createTable(t, c, &sdk.CreateTableInput{TableName: aws.String("rcu")}, "p:S")
	keys := []item{}
	for _, p := range []string{"a", "b", "c"} {
		if _, err := c.PutItem(ctx, &sdk.PutItemInput{TableName: aws.String("rcu"), Item: item{"p": s(p), "v": s(strings.Repeat("v", 5000))}}); err != nil {
			t.Fatal(err)
		}
		keys = append(keys, item{"p": s(p)})
	}
	// Three 5 KB items: 2 units each when strongly consistent, half when not.
	for consistent, want := range map[bool]float64{true: 6, false: 3} {
		out, err := c.BatchGetItem(ctx, &sdk.BatchGetItemInput{
			RequestItems:           map[string]types.KeysAndAttributes{"rcu": {Keys: keys, ConsistentRead: aws.Bool(consistent)}},
			ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal,
		})
		if err != nil || len(out.ConsumedCapacity) != 1 || *out.ConsumedCapacity[0].CapacityUnits != want {
			t.Errorf("consistent=%v: %v %+v, want %v units", consistent, err, out, want)
		}
	}
}

func TestSDKRequestValidationAsDynamoDB(t *testing.T) {
	c := startWharf(t)
	ctx := context.Background()
	createTable(t, c, &sdk.CreateTableInput{TableName: aws.String("valid"), AttributeDefinitions: []types.AttributeDefinition{def("x", "S")},
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{{IndexName: aws.String("by-x"), KeySchema: keySchema("x", ""), Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll}}},
	}, "p:S")
	_, err := c.GetItem(ctx, &sdk.GetItemInput{TableName: aws.String("valid"), Key: item{"p": s("a")}, ReturnConsumedCapacity: "DUMMY"})
	wantValidation(t, err, "at 'returnConsumedCapacity' failed to satisfy constraint")
	var writes []types.WriteRequest
	for i := range 26 {
		writes = append(writes, types.WriteRequest{PutRequest: &types.PutRequest{Item: item{"p": s(strconv.Itoa(i))}}})
	}
	_, err = c.BatchWriteItem(ctx, &sdk.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{"valid": writes}})
	wantValidation(t, err, "Member must have length less than or equal to 25")
	newIndex := func(name, attr, typ string, defs bool) error {
		in := &sdk.UpdateTableInput{TableName: aws.String("valid"), GlobalSecondaryIndexUpdates: []types.GlobalSecondaryIndexUpdate{{Create: &types.CreateGlobalSecondaryIndexAction{
			IndexName: aws.String(name), KeySchema: keySchema(attr, ""), Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll}}}}}
		if defs {
			in.AttributeDefinitions = []types.AttributeDefinition{def(attr, typ)}
		}
		_, err := c.UpdateTable(ctx, in)
		return err
	}
	wantValidation(t, newIndex(strings.Repeat("n", 256), "y", "S", true), "Member must have length less than or equal to 255")
	wantValidation(t, newIndex("a@b", "y", "S", true), "Member must satisfy regular expression pattern")
	// The new index's key must be defined in the request, even if known.
	wantValidation(t, newIndex("again", "x", "S", false), "Some index key attributes are not defined in AttributeDefinitions")
	wantValidation(t, newIndex("other", "x", "N", true), "Attributes cannot be redefined")
	_, err = c.UpdateTable(ctx, &sdk.UpdateTableInput{TableName: aws.String("valid")})
	wantValidation(t, err, "UpdateTable needs at least one change")
	_, err = c.UpdateTable(ctx, &sdk.UpdateTableInput{TableName: aws.String("valid"), GlobalSecondaryIndexUpdates: []types.GlobalSecondaryIndexUpdate{{}}})
	wantValidation(t, err, "exactly one of Create, Update or Delete")
}

// TestSDKPutItemChargesTheLargerOfOldAndNew: a PutItem's write units are
// the larger item's size in KB, the replaced one's included, whether the
// replaced item is decoded (ALL_OLD, a condition) or only sized; an expired
// item (TTL) counts as none.
func TestSDKPutItemChargesTheLargerOfOldAndNew(t *testing.T) {
	c := startWharf(t)
	ctx := context.Background()
	createTable(t, c, &sdk.CreateTableInput{TableName: aws.String("wcu")}, "p:S")
	put := func(in *sdk.PutItemInput) float64 {
		t.Helper()
		in.TableName, in.ReturnConsumedCapacity = aws.String("wcu"), types.ReturnConsumedCapacityTotal
		out, err := c.PutItem(ctx, in)
		if err != nil || out.ConsumedCapacity == nil {
			t.Fatalf("PutItem: %v %+v", err, out)
		}
		return *out.ConsumedCapacity.CapacityUnits
	}
	big := item{"p": s("a"), "v": s(strings.Repeat("v", 3000))}
	small := item{"p": s("a")}
	for _, tc := range []struct {
		name string
		in   func() *sdk.PutItemInput
	}{
		{"plain", func() *sdk.PutItemInput { return &sdk.PutItemInput{Item: small} }},
		{"ALL_OLD", func() *sdk.PutItemInput { return &sdk.PutItemInput{Item: small, ReturnValues: types.ReturnValueAllOld} }},
		{"condition", func() *sdk.PutItemInput {
			return &sdk.PutItemInput{Item: small, ConditionExpression: aws.String("attribute_exists(p)")}
		}},
	} {
		if got := put(&sdk.PutItemInput{Item: big}); got != 3 {
			t.Errorf("%s: the 3 KB item costs %v units, want 3", tc.name, got)
		}
		if got := put(tc.in()); got != 3 {
			t.Errorf("%s: a small item over the 3 KB one costs %v units, want 3", tc.name, got)
		}
		if got := put(tc.in()); got != 1 {
			t.Errorf("%s: a small item over a small one costs %v units, want 1", tc.name, got)
		}
	}
	if _, err := c.UpdateTimeToLive(ctx, &sdk.UpdateTimeToLiveInput{TableName: aws.String("wcu"),
		TimeToLiveSpecification: &types.TimeToLiveSpecification{AttributeName: aws.String("ttl"), Enabled: aws.Bool(true)}}); err != nil {
		t.Fatal(err)
	}
	expired := item{"p": s("a"), "v": s(strings.Repeat("v", 3000)), "ttl": &types.AttributeValueMemberN{Value: "1000"}}
	put(&sdk.PutItemInput{Item: expired})
	if got := put(&sdk.PutItemInput{Item: small}); got != 1 {
		t.Errorf("a small item over an expired 3 KB one costs %v units, want 1", got)
	}
}
