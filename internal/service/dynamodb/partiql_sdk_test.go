package dynamodb_test

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdk "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

func str(s string) types.AttributeValue { return &types.AttributeValueMemberS{Value: s} }
func num(s string) types.AttributeValue { return &types.AttributeValueMemberN{Value: s} }

func execute(t *testing.T, c *sdk.Client, stmt string, params ...types.AttributeValue) *sdk.ExecuteStatementOutput {
	t.Helper()
	out, err := c.ExecuteStatement(context.Background(), &sdk.ExecuteStatementInput{Statement: aws.String(stmt), Parameters: params})
	if err != nil {
		t.Fatalf("%s: %v", stmt, err)
	}
	return out
}

func TestSDKPartiQLStatements(t *testing.T) {
	c := startWharf(t)
	ctx := context.Background()
	createTable(t, c, &sdk.CreateTableInput{TableName: aws.String("music")}, "artist:S", "song:N")

	for i := 1; i <= 5; i++ {
		execute(t, c, `INSERT INTO "music" VALUE {'artist': ?, 'song': ?, 'plays': 0, 'tags': <<'a'>>, 'info': {'year': 1990}}`, str("acme"), num(string(rune('0'+i))))
	}
	execute(t, c, `INSERT INTO music VALUE {'artist': 'other', 'song': 1}`)

	// INSERT never replaces.
	_, err := c.ExecuteStatement(ctx, &sdk.ExecuteStatementInput{Statement: aws.String(`INSERT INTO music VALUE {'artist': 'acme', 'song': 1}`)})
	var dup *types.DuplicateItemException
	if !errors.As(err, &dup) || dup.ErrorMessage() != "Duplicate primary key exists in table" {
		t.Fatalf("duplicate insert: %v", err)
	}

	// A SELECT with the partition key is a query, in sort key order, either way.
	out := execute(t, c, `SELECT song, info.year FROM music WHERE artist = ? AND song >= 2 ORDER BY song DESC`, str("acme"))
	if len(out.Items) != 4 || out.Items[0]["song"].(*types.AttributeValueMemberN).Value != "5" || out.Items[0]["year"].(*types.AttributeValueMemberN).Value != "1990" || len(out.Items[0]) != 2 {
		t.Fatalf("query: %+v", out.Items)
	}
	// A SELECT without it scans; Limit and NextToken page through.
	var all int
	var token *string
	for pages := 0; ; pages++ {
		out, err := c.ExecuteStatement(ctx, &sdk.ExecuteStatementInput{Statement: aws.String(`SELECT * FROM music WHERE plays = 0 OR artist = 'other'`), Limit: aws.Int32(2), NextToken: token})
		if err != nil {
			t.Fatal(err)
		}
		all += len(out.Items)
		if token = out.NextToken; token == nil {
			break
		}
		if pages > 5 {
			t.Fatal("pagination does not end")
		}
	}
	if all != 6 {
		t.Fatalf("scan returned %d items, want 6", all)
	}

	// UPDATE with arithmetic, set_add and REMOVE, returning what changed.
	out = execute(t, c, `UPDATE music SET plays = plays + 3 SET tags = set_add(tags, <<'b'>>) REMOVE info WHERE artist = 'acme' AND song = 1 RETURNING MODIFIED NEW *`)
	if len(out.Items) != 1 || out.Items[0]["plays"].(*types.AttributeValueMemberN).Value != "3" || len(out.Items[0]["tags"].(*types.AttributeValueMemberSS).Value) != 2 {
		t.Fatalf("update returning: %+v", out.Items)
	}
	if got := getItem(t, c, "music", item{"artist": str("acme"), "song": num("1")}); got["info"] != nil || got["plays"].(*types.AttributeValueMemberN).Value != "3" {
		t.Fatalf("after update: %+v", got)
	}
	// UPDATE never creates an item, and its WHERE clause is a condition.
	for _, stmt := range []string{
		`UPDATE music SET plays = 1 WHERE artist = 'nobody' AND song = 1`,
		`UPDATE music SET plays = 1 WHERE artist = 'acme' AND song = 1 AND plays = 99`,
	} {
		_, err = c.ExecuteStatement(ctx, &sdk.ExecuteStatementInput{Statement: aws.String(stmt)})
		var ccf *types.ConditionalCheckFailedException
		if !errors.As(err, &ccf) {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	if getItem(t, c, "music", item{"artist": str("nobody"), "song": num("1")}) != nil {
		t.Fatal("UPDATE created an item")
	}
	// UPDATE and DELETE must name the whole key.
	_, err = c.ExecuteStatement(ctx, &sdk.ExecuteStatementInput{Statement: aws.String(`DELETE FROM music WHERE artist = 'acme'`)})
	wantValidation(t, err, "Where clause does not contain a mandatory equality on all key attributes")

	out = execute(t, c, `DELETE FROM music WHERE artist = 'acme' AND song = 2 RETURNING ALL OLD *`)
	if len(out.Items) != 1 || out.Items[0]["song"].(*types.AttributeValueMemberN).Value != "2" {
		t.Fatalf("delete returning: %+v", out.Items)
	}
	if getItem(t, c, "music", item{"artist": str("acme"), "song": num("2")}) != nil {
		t.Fatal("DELETE left the item")
	}

	// Errors AWS gives.
	for _, c2 := range []struct {
		stmt   string
		params []types.AttributeValue
		want   string
	}{
		{`UPSERT INTO music VALUE {'a': 1}`, nil, "Statement wasn't well formed, can't be processed: Expected data manipulation"},
		{`SELECT * FROM music WHERE artist = ?`, nil, "Number of parameters in request and statement don't match."},
		{`SELECT * FROM music WHERE`, nil, "Statement wasn't well formed, can't be processed"},
		{`INSERT INTO music VALUE {'artist': 'x'}`, nil, "One or more parameter values were invalid: Missing the key song in the item"},
	} {
		_, err = c.ExecuteStatement(ctx, &sdk.ExecuteStatementInput{Statement: aws.String(c2.stmt), Parameters: c2.params})
		wantValidation(t, err, c2.want)
	}
	_, err = c.ExecuteStatement(ctx, &sdk.ExecuteStatementInput{Statement: aws.String(`SELECT * FROM nosuchtable`)})
	if apiCode(err) != "ResourceNotFoundException" {
		t.Fatalf("missing table: %v", err)
	}
}

func TestSDKPartiQLBatchAndTransaction(t *testing.T) {
	c := startWharf(t)
	ctx := context.Background()
	createTable(t, c, &sdk.CreateTableInput{TableName: aws.String("acct")}, "id:S")
	execute(t, c, `INSERT INTO acct VALUE {'id': 'a', 'balance': 10}`)
	execute(t, c, `INSERT INTO acct VALUE {'id': 'open'}`)

	// A batch runs each statement on its own and reports each failure.
	bout, err := c.BatchExecuteStatement(ctx, &sdk.BatchExecuteStatementInput{Statements: []types.BatchStatementRequest{
		{Statement: aws.String(`INSERT INTO acct VALUE {'id': 'b', 'balance': 5}`)},
		{Statement: aws.String(`INSERT INTO acct VALUE {'id': 'a', 'balance': 0}`)},
		{Statement: aws.String(`UPDATE acct SET balance = 1 WHERE id = 'zzz'`)},
		{Statement: aws.String(`DELETE FROM nosuch WHERE id = 'a'`)},
	}})
	if err != nil {
		t.Fatal(err)
	}
	codes := []types.BatchStatementErrorCodeEnum{"", "DuplicateItem", "ConditionalCheckFailed", "ResourceNotFound"}
	for i, r := range bout.Responses {
		var got types.BatchStatementErrorCodeEnum
		if r.Error != nil {
			got = r.Error.Code
		}
		if got != codes[i] {
			t.Errorf("statement %d: code %q, want %q", i, got, codes[i])
		}
	}
	bout, err = c.BatchExecuteStatement(ctx, &sdk.BatchExecuteStatementInput{Statements: []types.BatchStatementRequest{
		{Statement: aws.String(`SELECT * FROM acct WHERE id = ?`), Parameters: []types.AttributeValue{str("b")}},
		{Statement: aws.String(`SELECT * FROM acct WHERE id = 'none'`)},
	}})
	if err != nil || bout.Responses[0].Item["balance"].(*types.AttributeValueMemberN).Value != "5" || bout.Responses[1].Item != nil || bout.Responses[1].Error != nil {
		t.Fatalf("batch read: %+v %v", bout, err)
	}

	// A transaction moves money all or nothing: a failed check cancels it,
	// with a reason per statement.
	transfer := func(amount string, check string) error {
		_, err := c.ExecuteTransaction(ctx, &sdk.ExecuteTransactionInput{TransactStatements: []types.ParameterizedStatement{
			{Statement: aws.String(`UPDATE acct SET balance = balance - ? WHERE id = 'a' AND balance >= ?`), Parameters: []types.AttributeValue{num(amount), num(amount)}},
			{Statement: aws.String(`UPDATE acct SET balance = balance + ? WHERE id = 'b'`), Parameters: []types.AttributeValue{num(amount)}},
			{Statement: aws.String(`EXISTS(SELECT * FROM acct WHERE id = ?)`), Parameters: []types.AttributeValue{str(check)}},
		}})
		return err
	}
	if err := transfer("4", "open"); err != nil {
		t.Fatal(err)
	}
	err = transfer("100", "open")
	var tce *types.TransactionCanceledException
	if !errors.As(err, &tce) || len(tce.CancellationReasons) != 3 || aws.ToString(tce.CancellationReasons[0].Code) != "ConditionalCheckFailed" || aws.ToString(tce.CancellationReasons[1].Code) != "None" {
		t.Fatalf("overdraft: %v", err)
	}
	if err := transfer("1", "nobody"); !errors.As(err, &tce) || aws.ToString(tce.CancellationReasons[2].Code) != "ConditionalCheckFailed" {
		t.Fatalf("failed EXISTS: %v", err)
	}
	tout, err := c.ExecuteTransaction(ctx, &sdk.ExecuteTransactionInput{TransactStatements: []types.ParameterizedStatement{
		{Statement: aws.String(`SELECT balance FROM acct WHERE id = 'a'`)},
		{Statement: aws.String(`SELECT balance FROM acct WHERE id = 'b'`)},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if a, b := tout.Responses[0].Item["balance"].(*types.AttributeValueMemberN).Value, tout.Responses[1].Item["balance"].(*types.AttributeValueMemberN).Value; a != "6" || b != "9" {
		t.Fatalf("balances after one transfer: a=%s b=%s, want 6 and 9", a, b)
	}
	// Reads and writes do not mix.
	_, err = c.ExecuteTransaction(ctx, &sdk.ExecuteTransactionInput{TransactStatements: []types.ParameterizedStatement{
		{Statement: aws.String(`SELECT * FROM acct WHERE id = 'a'`)},
		{Statement: aws.String(`DELETE FROM acct WHERE id = 'b'`)},
	}})
	if apiCode(err) != "ValidationException" {
		t.Fatalf("mixed transaction: %v", err)
	}
}
