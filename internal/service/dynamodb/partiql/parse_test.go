package partiql

import (
	"strings"
	"testing"

	"github.com/wharf-dev/wharf/internal/apierr"
	"github.com/wharf-dev/wharf/internal/service/dynamodb/expr"
)

func TestParseStatements(t *testing.T) {
	n := func(s string) Value { return Value{N: &s} }
	item := expr.Item{"pk": str("a"), "sk": n("2"), "tags": {SS: []string{"x", "y"}}, "m": {M: map[string]Value{"in": {L: []Value{n("1"), str("z")}}}}, "nul": {NULL: new(bool)}}
	*item["nul"].NULL = true
	cases := []struct {
		src    string
		params []Value
		check  func(t *testing.T, st *Statement)
	}{
		{`SELECT * FROM "T" WHERE pk = 'a' AND sk >= 1`, nil, func(t *testing.T, st *Statement) {
			if st.Kind != Select || st.Table != "T" || st.Projection != nil || !expr.Eval(st.Where, item) {
				t.Fatalf("%+v", st)
			}
		}},
		{`select pk, m."in"[1], "tags" from t."idx" where pk = ? and sk between ? and ? order by sk desc`, []Value{str("a"), n("1"), n("3")}, func(t *testing.T, st *Statement) {
			if st.Index != "idx" || len(st.Projection) != 3 || st.Projection[1].String() != "[m, in, [1]]" || !st.OrderBy[0].Desc || !expr.Eval(st.Where, item) {
				t.Fatalf("%+v", st)
			}
		}},
		{`SELECT * FROM t WHERE pk IN ['b', 'a'] AND NOT (sk < 0 OR sk > 5) AND tags IS NOT MISSING AND nope IS MISSING AND nul IS NULL AND begins_with(pk, 'a') AND contains(tags, 'y') AND attribute_type(m, 'M') AND size(tags) = 2 AND m['in'][0] <> 2`, nil, func(t *testing.T, st *Statement) {
			if !expr.Eval(st.Where, item) {
				t.Fatalf("where is false")
			}
		}},
		{`INSERT INTO "T" VALUE {'pk': 'a', 'n': -1.5e3, 'b': true, 'z': null, 'l': [1, 'two', [3]], 's': <<'x', 'y'>>, 'ns': <<1, 2>>, 'p': ?, 'q': 'it''s'}`, []Value{str("param")}, func(t *testing.T, st *Statement) {
			if st.Kind != Insert || *st.Item["n"].N != "-1.5e3" || !*st.Item["b"].BOOL || len(st.Item["l"].L) != 3 || len(st.Item["s"].SS) != 2 || len(st.Item["ns"].NS) != 2 || *st.Item["p"].S != "param" || *st.Item["q"].S != "it's" {
				t.Fatalf("%+v", st.Item)
			}
		}},
		{`UPDATE T SET a = 1, b = b + 2 SET c = list_append(c, [1]) SET tags = set_add(tags, <<'z'>>) REMOVE d, e[1] WHERE pk = 'a' RETURNING MODIFIED NEW *`, nil, func(t *testing.T, st *Statement) {
			u := st.Update
			if st.Kind != Update || len(u.Set) != 3 || len(u.Add) != 1 || len(u.Remove) != 2 || st.Returning != "UPDATED_NEW" {
				t.Fatalf("%+v", u)
			}
		}},
		{`DELETE FROM "T" WHERE pk = 'a' AND sk = 2 RETURNING ALL OLD *`, nil, func(t *testing.T, st *Statement) {
			if st.Kind != Delete || st.Returning != "ALL_OLD" || !expr.Eval(st.Where, item) {
				t.Fatalf("%+v", st)
			}
		}},
		{`EXISTS(SELECT * FROM "T" WHERE pk = 'a')`, nil, func(t *testing.T, st *Statement) {
			if st.Kind != Exists || st.Table != "T" {
				t.Fatalf("%+v", st)
			}
		}},
	}
	for _, c := range cases {
		st, err := Parse(c.src, c.params)
		if err != nil {
			t.Fatalf("%s: %v", c.src, err)
		}
		c.check(t, st)
	}
}

func TestParseErrors(t *testing.T) {
	cases := []struct{ src, msg string }{
		{`UPSERT INTO t VALUE {'a': 1}`, "Statement wasn't well formed, can't be processed: Expected data manipulation"},
		{`SELECT * FROM t WHERE`, "Statement wasn't well formed, can't be processed: Unexpected end of statement"},
		{`SELECT * FROM t WHERE a = 'unterminated`, "Statement wasn't well formed, can't be processed: Unexpected token"},
		{`SELECT * FROM select`, "Statement wasn't well formed, can't be processed: Unexpected keyword"},
		{`SELECT * FROM t WHERE a = ?`, "Number of parameters in request and statement don't match."},
		{`INSERT INTO t VALUE {'a': <<'x', 1>>}`, "A set must hold strings, numbers or binaries, all of one type"},
		{`SELECT * FROM t WHERE ` + strings.Repeat("(", 100) + "a = 1" + strings.Repeat(")", 100), "Statement wasn't well formed, can't be processed: The statement has more than 64 levels of nesting"},
		{`INSERT INTO t VALUE {'a': ` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `}`, "Statement wasn't well formed, can't be processed: The statement has more than 64 levels of nesting"},
		{strings.Repeat(" ", MaxStatementLength+1), "Member must have length less than or equal to 8192"},
	}
	for _, c := range cases {
		_, err := Parse(c.src, nil)
		e := apierr.As(err)
		if e == nil || e.Code != "ValidationException" || !strings.Contains(e.Message, c.msg) {
			t.Errorf("%.60s: got %v, want %q", c.src, err, c.msg)
		}
	}
	// Too many parameters is the same error as too few.
	if _, err := Parse(`SELECT * FROM t`, []Value{str("x")}); err == nil || !strings.Contains(err.Error(), "don't match") {
		t.Errorf("extra parameter: %v", err)
	}
}

// FuzzParse checks that any statement either parses or fails with a
// ValidationException, never panics, whatever its nesting or bytes.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`SELECT * FROM "T" WHERE pk = ? AND sk BETWEEN 1 AND 2 ORDER BY sk DESC`,
		`INSERT INTO t VALUE {'a': [1, {'b': <<'x'>>}], 'c': ?}`,
		`UPDATE t SET a = a + 1 SET s = set_delete(s, <<1>>) REMOVE b[0] WHERE pk = 'x' RETURNING ALL NEW *`,
		`DELETE FROM t WHERE pk = 'x' AND (a IS NOT MISSING OR NOT b IN [1, 2])`,
		`EXISTS(SELECT * FROM t WHERE pk = 'x' AND size(a) > 2)`,
		`SELECT a.b[1]['c'] FROM t.i WHERE begins_with(a, 'x') -- comment`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		st, err := Parse(src, []Value{str("p")})
		if err != nil {
			if e := apierr.As(err); e == nil || e.Code != "ValidationException" {
				t.Fatalf("%q: %v is not a ValidationException", src, err)
			}
			return
		}
		if st.Table == "" {
			t.Fatalf("%q parsed without a table", src)
		}
	})
}
