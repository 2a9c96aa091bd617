package dynamodb_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	sdk "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
)

// TestSDKHostileExpressionsAreRefusedAndServerKeepsServing sends, through
// the real server, the 1.1 MB expression nested 550,000 levels deep that used
// to overflow the parser's stack and kill wharf, and the deepest nesting that
// fits in DynamoDB's 4 KB expression limit. Each gets a clean 400
// ValidationException (or, when within limits, is evaluated), and the server
// answers the next request.
func TestSDKHostileExpressionsAreRefusedAndServerKeepsServing(t *testing.T) {
	c := startWharf(t)
	ctx := context.Background()
	createOrders(t, c)
	item := map[string]types.AttributeValue{"pk": s("a"), "sk": n("1")}
	if _, err := c.PutItem(ctx, &sdk.PutItemInput{TableName: aws.String("orders"), Item: item}); err != nil {
		t.Fatal(err)
	}
	nested := func(depth int) string {
		return strings.Repeat("(", depth) + "pk = :v" + strings.Repeat(")", depth)
	}
	values := map[string]types.AttributeValue{":v": s("a")}
	deepest := (4096 - len("pk = :v")) / 2
	cases := []struct {
		name string
		call func() error
		msg  string // "" when the call must succeed
	}{
		{"1.1 MB nested condition", func() error {
			_, err := c.PutItem(ctx, &sdk.PutItemInput{TableName: aws.String("orders"), Item: item,
				ConditionExpression: aws.String(nested(550_000)), ExpressionAttributeValues: values})
			return err
		}, "Invalid ConditionExpression: Expression size has exceeded the maximum allowed size; expression size: 1100007"},
		{"1.1 MB nested filter", func() error {
			_, err := c.Scan(ctx, &sdk.ScanInput{TableName: aws.String("orders"),
				FilterExpression: aws.String(nested(550_000)), ExpressionAttributeValues: values})
			return err
		}, "Invalid FilterExpression: Expression size has exceeded the maximum allowed size; expression size: 1100007"},
		{"oversized update", func() error {
			_, err := c.UpdateItem(ctx, &sdk.UpdateItemInput{TableName: aws.String("orders"), Key: item,
				UpdateExpression: aws.String("SET x = :v" + strings.Repeat(" ", 5000)), ExpressionAttributeValues: values})
			return err
		}, "Invalid UpdateExpression: Expression size has exceeded the maximum allowed size; expression size: 5010"},
		{"oversized projection", func() error {
			_, err := c.GetItem(ctx, &sdk.GetItemInput{TableName: aws.String("orders"), Key: item,
				ProjectionExpression: aws.String(strings.Repeat("x", 4097))})
			return err
		}, "Invalid ProjectionExpression: Expression size has exceeded the maximum allowed size; expression size: 4097"},
		{"301 operators", func() error {
			_, err := c.Scan(ctx, &sdk.ScanInput{TableName: aws.String("orders"),
				FilterExpression:          aws.String(strings.Repeat("pk = :v OR ", 150) + "pk = :v"),
				ExpressionAttributeValues: values})
			return err
		}, "Invalid FilterExpression: The expression contains too many operators; operator count: 301"},
		{"deepest nesting within 4 KB is parsed and refused as redundant parentheses", func() error {
			_, err := c.Scan(ctx, &sdk.ScanInput{TableName: aws.String("orders"),
				FilterExpression: aws.String(nested(deepest)), ExpressionAttributeValues: values})
			return err
		}, "Invalid FilterExpression: The expression has redundant parentheses;"},
		{"one pair of parentheses is evaluated", func() error {
			out, err := c.Scan(ctx, &sdk.ScanInput{TableName: aws.String("orders"),
				FilterExpression: aws.String(nested(1)), ExpressionAttributeValues: values})
			if err == nil && out.Count != 1 {
				return errors.New("the item did not match")
			}
			return err
		}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			if tc.msg == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var ae smithy.APIError
			var re *awshttp.ResponseError
			if !errors.As(err, &ae) || !errors.As(err, &re) {
				t.Fatalf("error %v, want an API error", err)
			}
			if ae.ErrorCode() != "ValidationException" || ae.ErrorMessage() != tc.msg || re.HTTPStatusCode() != 400 {
				t.Fatalf("got %d %s %q, want 400 ValidationException %q", re.HTTPStatusCode(), ae.ErrorCode(), ae.ErrorMessage(), tc.msg)
			}
			// The server is still there and serving.
			out, err := c.GetItem(ctx, &sdk.GetItemInput{TableName: aws.String("orders"), Key: item})
			if err != nil || out.Item == nil {
				t.Fatalf("after the hostile request: %v, %v", out, err)
			}
		})
	}
}
