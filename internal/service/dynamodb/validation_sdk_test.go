package dynamodb_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdk "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Constants in a request that an operator cannot take are the request's
// error, found before any item is read; the same types met in an item only
// make the condition false.
func TestSDKConstantsOfTheWrongTypeAreValidationErrors(t *testing.T) {
	c := startWharf(t)
	ctx := context.Background()
	createTable(t, c, &sdk.CreateTableInput{TableName: aws.String("vtab")}, "p:S")
	key := item{"p": str("k")}
	if _, err := c.PutItem(ctx, &sdk.PutItemInput{TableName: aws.String("vtab"), Item: item{"p": str("k"), "a": str("hello"), "l": list(num("1"))}}); err != nil {
		t.Fatal(err)
	}
	update := func(cond string, values item) error {
		values[":new"] = num("1")
		_, err := c.UpdateItem(ctx, &sdk.UpdateItemInput{TableName: aws.String("vtab"), Key: key, UpdateExpression: aws.String("SET z = :new"),
			ConditionExpression: aws.String(cond), ExpressionAttributeValues: values})
		return err
	}
	for _, tc := range []struct {
		cond   string
		values item
		want   string
	}{
		{"a < :v", item{":v": list(num("1"))}, "Invalid ConditionExpression: Incorrect operand type for operator or function; operator or function: <, operand type: L"},
		{"a BETWEEN :lo AND :hi", item{":lo": num("1"), ":hi": str("x")}, "The BETWEEN operator requires same data type for lower and upper bounds"},
		{"size(:v) > :n", item{":v": num("3"), ":n": num("1")}, "operator or function: size, operand type: N"},
		{"size(size(a)) > :n", item{":n": num("1")}, "operator or function: size, operand type: N"},
		{"if_not_exists(a, a) = :n", item{":n": num("1")}, "The function is not allowed to be used this way in an expression; function: if_not_exists"},
	} {
		wantValidation(t, update(tc.cond, tc.values), tc.want)
	}
	// An item's list compared with < is merely false.
	if err := update("l < :v", item{":v": num("1")}); apiCode(err) != "ConditionalCheckFailedException" {
		t.Fatalf("list attribute < number: %v", err)
	}
	// size() of a constant, and begins_with with the constant first, work.
	if err := update("size(:v) = :three AND begins_with(:str, a)", item{":v": str("abc"), ":three": num("3"), ":str": str("hello world")}); err != nil {
		t.Fatal(err)
	}
}

func TestSDKLegacyConditionsCheckTheirTypes(t *testing.T) {
	c := startWharf(t)
	ctx := context.Background()
	createTable(t, c, &sdk.CreateTableInput{TableName: aws.String("legacy")}, "p:S", "c:N")
	key := item{"p": str("k"), "c": num("1")}
	put := types.AttributeValueUpdate{Value: num("1"), Action: types.AttributeActionPut}
	for _, tc := range []struct {
		expected map[string]types.ExpectedAttributeValue
		condOp   types.ConditionalOperator
		want     string
	}{
		{map[string]types.ExpectedAttributeValue{"a": {ComparisonOperator: types.ComparisonOperatorLe, AttributeValueList: []types.AttributeValue{list(num("1"))}}}, "",
			"One or more parameter values were invalid: ComparisonOperator LE is not valid for L AttributeValue type"},
		{map[string]types.ExpectedAttributeValue{"a": {ComparisonOperator: types.ComparisonOperatorIn, AttributeValueList: []types.AttributeValue{num("3"), str("dog")}}}, "",
			"One or more parameter values were invalid: AttributeValues inside AttributeValueList must be of same type"},
		{map[string]types.ExpectedAttributeValue{"a": {ComparisonOperator: types.ComparisonOperatorBetween, AttributeValueList: []types.AttributeValue{num("3"), num("1")}}}, "",
			"The BETWEEN condition was provided a range where the lower bound is greater than the upper bound"},
		{map[string]types.ExpectedAttributeValue{"a": {Exists: aws.Bool(false), ComparisonOperator: types.ComparisonOperatorEq, AttributeValueList: []types.AttributeValue{num("3")}}}, "",
			"Exists and ComparisonOperator cannot be used together for Attribute: a"},
		{nil, types.ConditionalOperatorOr, "ConditionalOperator can only be used when Filter or Expected has two or more elements"},
	} {
		_, err := c.UpdateItem(ctx, &sdk.UpdateItemInput{TableName: aws.String("legacy"), Key: key, AttributeUpdates: map[string]types.AttributeValueUpdate{"z": put},
			Expected: tc.expected, ConditionalOperator: tc.condOp})
		wantValidation(t, err, tc.want)
	}
	query := func(in *sdk.QueryInput) error {
		in.TableName = aws.String("legacy")
		_, err := c.Query(ctx, in)
		return err
	}
	eq := types.Condition{ComparisonOperator: types.ComparisonOperatorEq, AttributeValueList: []types.AttributeValue{str("k")}}
	wantValidation(t, query(&sdk.QueryInput{KeyConditions: map[string]types.Condition{"p": eq, "c": {ComparisonOperator: "DOG", AttributeValueList: []types.AttributeValue{num("1")}}}}),
		"Value 'DOG' at 'keyConditions.c.member.comparisonOperator' failed to satisfy constraint")
	wantValidation(t, query(&sdk.QueryInput{KeyConditions: map[string]types.Condition{"p": eq, "c": {ComparisonOperator: types.ComparisonOperatorBeginsWith, AttributeValueList: []types.AttributeValue{num("1")}}}}),
		"ComparisonOperator BEGINS_WITH is not valid for N AttributeValue type")
	wantValidation(t, query(&sdk.QueryInput{KeyConditions: map[string]types.Condition{"p": eq}, QueryFilter: map[string]types.Condition{"x": eq}, ProjectionExpression: aws.String("y")}),
		"Non-expression parameters: {QueryFilter} Expression parameters: {ProjectionExpression}")
	wantValidation(t, query(&sdk.QueryInput{KeyConditionExpression: aws.String("p = :p"), FilterExpression: aws.String("x = :p"), AttributesToGet: []string{"y"},
		ExpressionAttributeValues: item{":p": str("k")}}),
		"Non-expression parameters: {AttributesToGet} Expression parameters: {FilterExpression, KeyConditionExpression}")
}

func TestSDKUpdateExpressionPathsAndNames(t *testing.T) {
	c := startWharf(t)
	ctx := context.Background()
	createTable(t, c, &sdk.CreateTableInput{TableName: aws.String("utab")}, "p:S")
	update := func(expr string) error {
		_, err := c.UpdateItem(ctx, &sdk.UpdateItemInput{TableName: aws.String("utab"), Key: item{"p": str("k")}, UpdateExpression: aws.String(expr),
			ExpressionAttributeValues: item{":v": num("1")}})
		return err
	}
	wantValidation(t, update("SET a.b = :v, a[1] = :v"), "Two document paths conflict with each other; must remove or rewrite one of these paths; path one: [a, b], path two: [a, [1]]")
	wantValidation(t, update("SET _abc = :v"), "Invalid UpdateExpression: Syntax error; token: \"_\"")
	if err := update("SET a_1 = :v"); err != nil {
		t.Fatal(err)
	}
}

func TestSDKAttributeAndTableNamesAreCheckedFirst(t *testing.T) {
	c := startWharf(t)
	ctx := context.Background()
	createTable(t, c, &sdk.CreateTableInput{TableName: aws.String("names")}, "p:S")
	key := item{"p": str("k")}
	long := strings.Repeat("n", 65536)
	_, err := c.PutItem(ctx, &sdk.PutItemInput{TableName: aws.String("names"), Item: item{"p": str("k"), long: num("1")}})
	wantValidation(t, err, "One or more parameter values were invalid: Attribute name is too large, must be less than 65536 bytes")
	_, err = c.PutItem(ctx, &sdk.PutItemInput{TableName: aws.String("names"), Item: item{"p": str("k"), "": num("1")}})
	wantValidation(t, err, "One or more parameter values were invalid: Empty attribute name")
	_, err = c.GetItem(ctx, &sdk.GetItemInput{TableName: aws.String("names"), Key: key, ProjectionExpression: aws.String("#n"), ExpressionAttributeNames: map[string]string{"#n": ""}})
	wantValidation(t, err, "ExpressionAttributeNames contains invalid value: Empty attribute name for key #n")
	_, err = c.GetItem(ctx, &sdk.GetItemInput{TableName: aws.String("names"), Key: key, AttributesToGet: []string{"a", "a"}})
	wantValidation(t, err, "Duplicate value in attribute name: a")
	_, err = c.UpdateItem(ctx, &sdk.UpdateItemInput{TableName: aws.String("names"), Key: key,
		AttributeUpdates:         map[string]types.AttributeValueUpdate{"a": {Value: num("1"), Action: types.AttributeActionPut}},
		ExpressionAttributeNames: map[string]string{"#n": "x"}})
	wantValidation(t, err, "ExpressionAttributeNames can only be specified when using expressions")

	// A bad table name is refused before any lookup: not ResourceNotFound.
	_, err = c.PutItem(ctx, &sdk.PutItemInput{TableName: aws.String("no!such!table"), Item: key})
	wantValidation(t, err, "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+")

	// Key attribute names are at most 255 bytes, checked before the schema's coherence.
	longKey := strings.Repeat("k", 256)
	_, err = c.CreateTable(ctx, &sdk.CreateTableInput{TableName: aws.String("longkey"), BillingMode: types.BillingModePayPerRequest,
		KeySchema:            keySchema(longKey, ""),
		AttributeDefinitions: []types.AttributeDefinition{def("other", "S")}})
	wantValidation(t, err, "at 'keySchema.1.member.attributeName' failed to satisfy constraint: Member must have length less than or equal to 255")
}

func TestSDKExpressionsAsDynamoDBParsesThem(t *testing.T) {
	c := startWharf(t)
	ctx := context.Background()
	createTable(t, c, &sdk.CreateTableInput{TableName: aws.String("exprs")}, "p:S", "c:N")
	for i, a := range []string{"x", "y"} {
		if _, err := c.PutItem(ctx, &sdk.PutItemInput{TableName: aws.String("exprs"), Item: item{"p": str("k"), "c": num(strconv.Itoa(i)), "a": str(a), "l": list(num("7")), "s": str("text")}}); err != nil {
			t.Fatal(err)
		}
	}
	key := item{"p": str("k"), "c": num("0")}
	query := func(in *sdk.QueryInput) (*sdk.QueryOutput, error) {
		in.TableName = aws.String("exprs")
		return c.Query(ctx, in)
	}

	// KeyConditions take a FilterExpression.
	out, err := query(&sdk.QueryInput{KeyConditions: map[string]types.Condition{"p": {ComparisonOperator: types.ComparisonOperatorEq, AttributeValueList: []types.AttributeValue{str("k")}}},
		FilterExpression: aws.String("#a = :y"), ExpressionAttributeNames: map[string]string{"#a": "a"}, ExpressionAttributeValues: item{":y": str("y")}})
	if err != nil || out.Count != 1 {
		t.Fatalf("KeyConditions with FilterExpression: %v, %v", out, err)
	}
	// Key condition errors.
	_, err = query(&sdk.QueryInput{KeyConditionExpression: aws.String("p = :p AND p = :p"), ExpressionAttributeValues: item{":p": str("k")}})
	wantValidation(t, err, "KeyConditionExpressions must only contain one condition per key")
	_, err = query(&sdk.QueryInput{KeyConditionExpression: aws.String("p = :p AND c.d < :p"), ExpressionAttributeValues: item{":p": str("k")}})
	wantValidation(t, err, "KeyConditionExpressions cannot have conditions on nested attributes")

	// One pair of parentheses too many is fine, a pair around a pair is not.
	update := func(expr, cond string) error {
		in := &sdk.UpdateItemInput{TableName: aws.String("exprs"), Key: key, UpdateExpression: aws.String(expr)}
		if cond != "" {
			in.ConditionExpression = aws.String(cond)
			in.ExpressionAttributeValues = item{":x": str("x")}
		}
		_, err := c.UpdateItem(ctx, in)
		return err
	}
	if err := update("SET b = a", "(a = :x)"); err != nil {
		t.Fatal(err)
	}
	wantValidation(t, update("SET b = a", "((a = :x))"), "Invalid ConditionExpression: The expression has redundant parentheses;")

	// REMOVE through a missing or mistyped step is an invalid path; a
	// missing last step removes nothing.
	wantValidation(t, update("REMOVE s.x", ""), "The document path provided in the update expression is invalid for update")
	wantValidation(t, update("REMOVE nothere.x", ""), "The document path provided in the update expression is invalid for update")
	if err := update("REMOVE l[5]", ""); err != nil {
		t.Fatal(err)
	}

	// A list index past int32 is out of range, not silently missing.
	_, err = c.GetItem(ctx, &sdk.GetItemInput{TableName: aws.String("exprs"), Key: key, ProjectionExpression: aws.String("l[99999999999999]")})
	wantValidation(t, err, "Invalid ProjectionExpression: List index is not within the allowable range; index: [99999999999999]")
}

func TestSDKTransactionLimitsAndItemReasons(t *testing.T) {
	c := startWharf(t)
	ctx := context.Background()
	createTable(t, c, &sdk.CreateTableInput{TableName: aws.String("txn")}, "p:S")
	put := func(it item, cond string) types.TransactWriteItem {
		p := &types.Put{TableName: aws.String("txn"), Item: it}
		if cond != "" {
			p.ConditionExpression = aws.String(cond)
		}
		return types.TransactWriteItem{Put: p}
	}
	// An item the table cannot take is the transaction's cancellation, with
	// that action's ValidationError and None for the others.
	_, err := c.TransactWriteItems(ctx, &sdk.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		put(item{"p": num("7")}, ""), put(item{"p": num("8")}, ""), put(item{"p": str("x")}, "attribute_exists(p)"),
	}})
	var tce *types.TransactionCanceledException
	if !errors.As(err, &tce) || len(tce.CancellationReasons) != 3 {
		t.Fatalf("got %v", err)
	}
	if r := tce.CancellationReasons; aws.ToString(r[0].Code) != "ValidationError" || r[0].Message == nil || aws.ToString(r[1].Code) != "None" || r[1].Message != nil || aws.ToString(r[2].Code) != "None" {
		t.Fatalf("reasons %+v", r)
	}
	// ClientRequestToken is at most 36 characters.
	_, err = c.TransactWriteItems(ctx, &sdk.TransactWriteItemsInput{ClientRequestToken: aws.String(strings.Repeat("t", 37)), TransactItems: []types.TransactWriteItem{put(item{"p": str("a")}, "")}})
	wantValidation(t, err, "at 'clientRequestToken' failed to satisfy constraint: Member must have length less than or equal to 36")
	// What a transaction writes is at most 4 MB.
	var big []types.TransactWriteItem
	for i := range 50 {
		big = append(big, put(item{"p": str(strconv.Itoa(i)), "x": str(strings.Repeat("x", 100000))}, ""))
	}
	_, err = c.TransactWriteItems(ctx, &sdk.TransactWriteItemsInput{TransactItems: big})
	wantValidation(t, err, "Transaction payload size cannot exceed 4 MB")
}

func TestSDKConsumedCapacityByIndex(t *testing.T) {
	c := startWharf(t)
	ctx := context.Background()
	createTable(t, c, &sdk.CreateTableInput{TableName: aws.String("cap"),
		AttributeDefinitions: []types.AttributeDefinition{def("x", "S")},
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{{IndexName: aws.String("gsi"), KeySchema: keySchema("x", ""),
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll}}},
	}, "p:S")
	out, err := c.PutItem(ctx, &sdk.PutItemInput{TableName: aws.String("cap"), Item: item{"p": str("a"), "x": str("b")}, ReturnConsumedCapacity: types.ReturnConsumedCapacityIndexes})
	if err != nil {
		t.Fatal(err)
	}
	cc := out.ConsumedCapacity
	if aws.ToFloat64(cc.CapacityUnits) != 2 || aws.ToFloat64(cc.Table.CapacityUnits) != 1 || aws.ToFloat64(cc.GlobalSecondaryIndexes["gsi"].CapacityUnits) != 1 {
		t.Fatalf("put into an indexed item: %+v", cc)
	}
	// An item the index does not hold costs the index nothing.
	out, err = c.PutItem(ctx, &sdk.PutItemInput{TableName: aws.String("cap"), Item: item{"p": str("n")}, ReturnConsumedCapacity: types.ReturnConsumedCapacityIndexes})
	if err != nil || aws.ToFloat64(out.ConsumedCapacity.CapacityUnits) != 1 || len(out.ConsumedCapacity.GlobalSecondaryIndexes) != 0 {
		t.Fatalf("put outside the index: %+v %v", out.ConsumedCapacity, err)
	}
	// A query of the index reads the index alone.
	q, err := c.Query(ctx, &sdk.QueryInput{TableName: aws.String("cap"), IndexName: aws.String("gsi"), KeyConditionExpression: aws.String("x = :x"),
		ExpressionAttributeValues: item{":x": str("b")}, ReturnConsumedCapacity: types.ReturnConsumedCapacityIndexes})
	if err != nil || q.ConsumedCapacity.Table != nil || aws.ToFloat64(q.ConsumedCapacity.GlobalSecondaryIndexes["gsi"].CapacityUnits) != 0.5 {
		t.Fatalf("index query: %+v %v", q.ConsumedCapacity, err)
	}
	// A missing item costs BatchGetItem a read, as it costs GetItem.
	b, err := c.BatchGetItem(ctx, &sdk.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{"cap": {Keys: []item{{"p": str("none")}}}},
		ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal})
	if err != nil || aws.ToFloat64(b.ConsumedCapacity[0].CapacityUnits) != 0.5 {
		t.Fatalf("batch get of a missing item: %+v %v", b, err)
	}
}

func TestSDKTableAndRequestShapeChecks(t *testing.T) {
	c, addr := startWharfAddr(t)
	ctx := context.Background()
	gsi := func(name string, p *types.Projection) types.GlobalSecondaryIndex {
		return types.GlobalSecondaryIndex{IndexName: aws.String(name), KeySchema: keySchema("x", ""), Projection: p}
	}
	create := func(p *types.Projection) error {
		_, err := c.CreateTable(ctx, &sdk.CreateTableInput{TableName: aws.String("proj"), BillingMode: types.BillingModePayPerRequest,
			KeySchema: keySchema("p", ""), AttributeDefinitions: []types.AttributeDefinition{def("p", "S"), def("x", "S")},
			GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{gsi("gsi", p)}})
		return err
	}
	wantValidation(t, create(&types.Projection{ProjectionType: types.ProjectionTypeInclude}), "ProjectionType is INCLUDE, but NonKeyAttributes is not specified")
	wantValidation(t, create(&types.Projection{ProjectionType: types.ProjectionTypeInclude, NonKeyAttributes: []string{"a", "a"}}), "Duplicate attribute names in NonKeyAttributes: a")

	// One index created or deleted per UpdateTable.
	createTable(t, c, &sdk.CreateTableInput{TableName: aws.String("two")}, "p:S")
	all := &types.Projection{ProjectionType: types.ProjectionTypeAll}
	_, err := c.UpdateTable(ctx, &sdk.UpdateTableInput{TableName: aws.String("two"), AttributeDefinitions: []types.AttributeDefinition{def("x", "S")},
		GlobalSecondaryIndexUpdates: []types.GlobalSecondaryIndexUpdate{
			{Create: &types.CreateGlobalSecondaryIndexAction{IndexName: aws.String("one"), KeySchema: keySchema("x", ""), Projection: all}},
			{Create: &types.CreateGlobalSecondaryIndexAction{IndexName: aws.String("other"), KeySchema: keySchema("x", ""), Projection: all}},
		}})
	if apiCode(err) != "LimitExceededException" {
		t.Fatalf("two index creations: %v", err)
	}

	// A JSON null is not a request; an empty body is.
	if status, m := rawCall(t, addr, "ListTables", "null"); status != 400 || !strings.HasSuffix(m["__type"].(string), "SerializationException") {
		t.Fatalf("null body: %d %v", status, m)
	}
	if status, m := rawCall(t, addr, "ListTables", ""); status != 200 || m["TableNames"] == nil {
		t.Fatalf("empty body: %d %v", status, m)
	}
}
