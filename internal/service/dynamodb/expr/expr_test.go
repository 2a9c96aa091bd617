package expr

import (
	"strings"
	"testing"

	"github.com/wharf-dev/wharf/internal/apierr"
)

func s(v string) Value       { return Value{S: &v} }
func n(v string) Value       { return Value{N: &v} }
func b(v string) Value       { return Value{B: []byte(v)} }
func boolean(x bool) Value   { return Value{BOOL: &x} }
func null() Value            { t := true; return Value{NULL: &t} }
func list(vs ...Value) Value { return Value{L: append([]Value{}, vs...)} }
func m(kv ...any) Value {
	out := map[string]Value{}
	for i := 0; i < len(kv); i += 2 {
		out[kv[i].(string)] = kv[i+1].(Value)
	}
	return Value{M: out}
}

var sampleItem = Item{
	"pk":     s("user#1"),
	"age":    n("42"),
	"score":  n("1.50"),
	"name":   s("Ada Lovelace"),
	"tags":   Value{SS: []string{"x", "y"}},
	"nums":   Value{NS: []string{"1", "2.0"}},
	"bin":    b("\x01\x02\x03"),
	"ok":     boolean(true),
	"nil":    null(),
	"addr":   m("city", s("London"), "zip", s("N1"), "geo", list(n("51.5"), n("-0.12"))),
	"lst":    list(s("a"), n("7"), m("deep", s("yes"))),
	"Status": s("active"),
}

var sampleValues = map[string]Value{
	":pk": s("user#1"), ":42": n("42.0"), ":40": n("40"), ":50": n("50"), ":ada": s("Ada"),
	":london": s("London"), ":x": s("x"), ":two": n("2"), ":S": s("S"), ":SS": s("SS"), ":M": s("M"),
	":bin": b("\x01"), ":one": n("1"), ":active": s("active"), ":z": s("z"),
}

var sampleNames = map[string]string{"#s": "Status", "#a": "addr", "#n": "name"}

func TestEvalConditions(t *testing.T) {
	cases := []struct {
		expr string
		want bool
	}{
		{"pk = :pk", true},
		{"age = :42", true}, // numbers compare as numbers: 42 = 42.0
		{"age <> :42", false},
		{"age < :50 AND age > :40", true},
		{"age BETWEEN :40 AND :50", true},
		{"age BETWEEN :50 AND :50", false},
		{"age IN (:40, :42)", true},
		{"age IN (:40, :50)", false},
		{"attribute_exists(age)", true},
		{"attribute_not_exists(nope)", true},
		{"attribute_exists(nope)", false},
		{"nope <> :42", true}, // a nope attribute is not equal to anything
		{"nope = :42", false},
		{"nope < :42", false},
		{"begins_with(#n, :ada)", true},
		{"begins_with(bin, :bin)", true},
		{"contains(tags, :x)", true},
		{"contains(tags, :z)", false},
		{"contains(nums, :two)", true},
		{"contains(#n, :ada)", true},
		{"contains(lst, :one)", false},
		{"attribute_type(tags, :SS)", true},
		{"attribute_type(age, :S)", false},
		{"attribute_type(#a, :M)", true},
		{"#a.city = :london", true},
		{"addr.geo[0] > :50", true},
		{"lst[2].deep = :pk", false},
		{"size(tags) = :two", true},
		{"size(#n) > :two", true},
		{"size(nope) = :two", false},
		{"#s = :active", true},
		{"name = :ada OR #s = :active", false}, // name is reserved: see errors
		{"NOT age = :40", true},
		{"NOT (age = :42 OR age = :40)", false},
		{"age = :40 OR age = :42 AND #s = :active", true},
		{"(age = :40 OR age = :42) AND NOT #s = :active", false},
		{"age < :pk", false}, // different types: not ordered, false
		{"ok = :one", false},
	}
	for _, c := range cases {
		env := NewEnv(sampleNames, sampleValues)
		cond, err := ParseCondition(env, KindCondition, c.expr)
		if strings.Contains(c.expr, "name =") {
			if err == nil || !strings.Contains(err.Error(), "reserved keyword: name") {
				t.Errorf("%q: error %v, want the reserved keyword error", c.expr, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", c.expr, err)
			continue
		}
		if got := Eval(cond, sampleItem); got != c.want {
			t.Errorf("%q = %v, want %v", c.expr, got, c.want)
		}
	}
}

func TestParseErrorsUseDynamoDBsWords(t *testing.T) {
	cases := []struct {
		kind, expr, want string
	}{
		{KindCondition, "a =", `Invalid ConditionExpression: Syntax error; token: "<EOF>", near: "="`},
		{KindCondition, "a = :v :v", `Invalid ConditionExpression: Syntax error; token: ":v", near: ":v :v"`},
		{KindCondition, "", "Invalid ConditionExpression: The expression can not be empty;"},
		{KindCondition, "status = :v", "Invalid ConditionExpression: Attribute name is a reserved keyword; reserved keyword: status"},
		{KindCondition, "#nope = :v", "Invalid ConditionExpression: An expression attribute name used in the document path is not defined; attribute name: #nope"},
		{KindCondition, "a = :nope", "Invalid ConditionExpression: An expression attribute value used in expression is not defined; attribute value: :nope"},
		{KindCondition, "frobnicate(a)", "Invalid ConditionExpression: Invalid function name; function: frobnicate"},
		{KindCondition, "attribute_exists(a, b)", "Invalid ConditionExpression: Incorrect number of operands for operator or function; operator or function: attribute_exists, number of operands: 2"},
		{KindCondition, "size(a)", "Invalid ConditionExpression: The function is not allowed to be used this way in an expression; function: size"},
		{KindCondition, "a = attribute_exists(b)", "Invalid ConditionExpression: The function is not allowed to be used this way in an expression; function: attribute_exists"},
		{KindCondition, "attribute_type(a, :v)", "Invalid ConditionExpression: Invalid attribute type name found; type: x, valid types: {B,NULL,SS,BOOL,L,BS,N,NS,S,M}"},
		{KindCondition, "a BETWEEN :hi AND :lo", "Invalid ConditionExpression: The BETWEEN operator requires upper bound to be greater than or equal to lower bound; lower bound: AttributeValue: {N:9}, upper bound: AttributeValue: {N:1}"},
		{KindCondition, "a $ b", `Invalid ConditionExpression: Syntax error; token: "$", near: "a $"`},
		{KindFilter, "a[x] = :v", `Invalid FilterExpression: Syntax error; token: "x", near: "[x"`},
		{KindUpdate, "SET a = :v SET b = :v", `Invalid UpdateExpression: The "SET" section can only be used once in an update expression;`},
		{KindUpdate, "SET a = :v, a.b = :v", "Invalid UpdateExpression: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [a], path two: [a, b]"},
		{KindUpdate, "SET a = :v REMOVE a", "Invalid UpdateExpression: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [a], path two: [a]"},
		{KindUpdate, "ADD a :v", "Invalid UpdateExpression: Incorrect operand type for operator or function; operator: ADD, operand type: STRING"},
		{KindUpdate, "DELETE a :lo", "Invalid UpdateExpression: Incorrect operand type for operator or function; operator: DELETE, operand type: NUMBER"},
		{KindUpdate, "SET a = size(b)", "Invalid UpdateExpression: The function is not allowed in an update expression; function: size"},
		{KindUpdate, "UPSERT a = :v", `Invalid UpdateExpression: Syntax error; token: "UPSERT", near: "UPSERT"`},
		{KindUpdate, "SET a = :v +", `Invalid UpdateExpression: Syntax error; token: "<EOF>", near: "+"`},
		{KindProjection, "a, a.b", "Invalid ProjectionExpression: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [a], path two: [a, b]"},
		{KindProjection, "a,", `Invalid ProjectionExpression: Syntax error; token: "<EOF>", near: ","`},
	}
	values := map[string]Value{":v": s("x"), ":hi": n("9"), ":lo": n("1")}
	for _, c := range cases {
		env := NewEnv(nil, values)
		var err error
		switch c.kind {
		case KindUpdate:
			_, err = ParseUpdate(env, c.expr)
		case KindProjection:
			_, err = ParseProjection(env, c.expr)
		default:
			_, err = ParseCondition(env, c.kind, c.expr)
		}
		e := apierr.As(err)
		if e == nil || e.Code != "ValidationException" || e.Message != c.want {
			t.Errorf("%s %q:\n got %v\nwant %s", c.kind, c.expr, err, c.want)
		}
	}
}

func TestUnusedNamesAndValuesAreRejected(t *testing.T) {
	env := NewEnv(map[string]string{"#a": "a", "#b": "b"}, map[string]Value{":v": s("1"), ":w": s("2")})
	if _, err := ParseCondition(env, KindCondition, "#a = :v"); err != nil {
		t.Fatal(err)
	}
	err := env.CheckUnused()
	if e := apierr.As(err); e == nil || e.Message != "Value provided in ExpressionAttributeNames unused in expressions: keys: {#b}" {
		t.Errorf("unused names: %v", err)
	}
	if _, err := ParseUpdate(env, "SET #b = :v"); err != nil {
		t.Fatal(err)
	}
	err = env.CheckUnused()
	if e := apierr.As(err); e == nil || e.Message != "Value provided in ExpressionAttributeValues unused in expressions: keys: {:w}" {
		t.Errorf("unused values: %v", err)
	}
}

func TestApplyUpdates(t *testing.T) {
	base := Item{
		"pk":   s("k"),
		"cnt":  n("10"),
		"tags": Value{SS: []string{"a", "b"}},
		"l":    list(s("x"), s("y"), s("z")),
		"m":    m("inr", m("v", n("1"))),
		"gone": s("bye"),
	}
	values := map[string]Value{
		":one": n("1"), ":half": n("0.5"), ":s": s("new"), ":ab": Value{SS: []string{"b", "c"}},
		":a": Value{SS: []string{"a"}}, ":all": Value{SS: []string{"a", "b"}}, ":l": list(s("w")), ":zero": n("0"),
	}
	cases := []struct {
		expr  string
		check func(Item) bool
	}{
		{"SET cnt = cnt + :one", func(i Item) bool { return *i["cnt"].N == "11" }},
		{"SET cnt = cnt - :half", func(i Item) bool { return *i["cnt"].N == "9.5" }},
		{"SET fresh = if_not_exists(fresh, :zero) + :one", func(i Item) bool { return *i["fresh"].N == "1" }},
		{"SET cnt = if_not_exists(cnt, :zero)", func(i Item) bool { return *i["cnt"].N == "10" }},
		{"SET l = list_append(l, :l)", func(i Item) bool { return len(i["l"].L) == 4 && *i["l"].L[3].S == "w" }},
		{"SET l = list_append(:l, l)", func(i Item) bool { return *i["l"].L[0].S == "w" }},
		{"SET l[1] = :s", func(i Item) bool { return *i["l"].L[1].S == "new" }},
		{"SET l[99] = :s", func(i Item) bool { return len(i["l"].L) == 4 }},
		{"SET m.inr.w = :s", func(i Item) bool { return *i["m"].M["inr"].M["w"].S == "new" && i["m"].M["inr"].M["v"].N != nil }},
		{"SET a = cnt, cnt = a", nil}, // a does not exist: error checked below
		{"REMOVE gone, l[0], l[2]", func(i Item) bool {
			_, ok := i["gone"]
			return !ok && len(i["l"].L) == 1 && *i["l"].L[0].S == "y"
		}},
		{"REMOVE m.inr.v", func(i Item) bool { return len(i["m"].M["inr"].M) == 0 }},
		{"ADD cnt :one", func(i Item) bool { return *i["cnt"].N == "11" }},
		{"ADD newnum :one", func(i Item) bool { return *i["newnum"].N == "1" }},
		{"ADD tags :ab", func(i Item) bool { return len(i["tags"].SS) == 3 }},
		{"DELETE tags :a", func(i Item) bool { return len(i["tags"].SS) == 1 && i["tags"].SS[0] == "b" }},
		{"DELETE tags :all", func(i Item) bool { _, ok := i["tags"]; return !ok }},
		{"SET s = :s REMOVE gone ADD cnt :one DELETE tags :a", func(i Item) bool {
			return *i["s"].S == "new" && *i["cnt"].N == "11" && len(i["tags"].SS) == 1
		}},
	}
	for _, c := range cases {
		env := NewEnv(nil, values)
		u, err := ParseUpdate(env, c.expr)
		if err != nil {
			t.Errorf("%q: %v", c.expr, err)
			continue
		}
		got, err := Apply(u, base)
		if c.check == nil {
			if err == nil {
				t.Errorf("%q: applied, want an error", c.expr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", c.expr, err)
			continue
		}
		if !c.check(got) {
			t.Errorf("%q: unexpected result %+v", c.expr, got)
		}
		if *base["cnt"].N != "10" || len(base["l"].L) != 3 || len(base["tags"].SS) != 2 {
			t.Fatalf("%q modified the original item", c.expr)
		}
	}
}

func TestApplyRejectsWrongTypesAndPaths(t *testing.T) {
	base := Item{"s": s("str"), "n": n("1"), "tags": Value{SS: []string{"a"}}}
	values := map[string]Value{":one": n("1"), ":s": s("x"), ":ns": Value{NS: []string{"1"}}}
	for _, expr := range []string{
		"SET s = s + :one",
		"SET x = list_append(n, n)",
		"SET nope.child = :s",
		"SET s[0] = :s",
		"ADD s :one",
		"ADD tags :ns",
		"SET y = nope",
	} {
		u, err := ParseUpdate(NewEnv(nil, values), expr)
		if err != nil {
			t.Errorf("%q: parse: %v", expr, err)
			continue
		}
		if _, err := Apply(u, base); apierr.As(err) == nil {
			t.Errorf("%q: error %v, want a ValidationException", expr, err)
		}
	}
}

func TestProject(t *testing.T) {
	paths, err := ParseProjection(NewEnv(sampleNames, nil), "pk, #a.city, lst[2].deep, nope, addr.geo[1]")
	if err != nil {
		t.Fatal(err)
	}
	got := Project(sampleItem, paths)
	if len(got) != 3 || *got["pk"].S != "user#1" || *got["addr"].M["city"].S != "London" || *got["lst"].L[0].M["deep"].S != "yes" || *got["addr"].M["geo"].L[0].N != "-0.12" {
		t.Errorf("Project = %+v", got)
	}
}

func TestKeyConditions(t *testing.T) {
	values := map[string]Value{":h": s("h"), ":a": n("1"), ":b": n("5"), ":p": s("ab")}
	cases := []struct {
		expr, op, err string
	}{
		{"pk = :h", "", ""},
		{"pk = :h AND sk > :a", ">", ""},
		{":a <= sk AND pk = :h", ">=", ""},
		{"pk = :h AND sk BETWEEN :a AND :b", "BETWEEN", ""},
		{"pk = :h AND begins_with(sk, :p)", "begins_with", ""},
		{"sk = :a", "", "Query condition missed key schema element: pk"},
		{"pk = :h OR sk = :a", "", "Invalid operator used in KeyConditionExpression: OR"},
		{"pk = :h AND sk <> :a", "", "Invalid operator used in KeyConditionExpression: <>"},
		{"pk = :h AND attribute_exists(sk)", "", "Invalid operator used in KeyConditionExpression: attribute_exists"},
		{"pk = :h AND sk > :a AND sk < :b", "", "Conditions can be of length 1 or 2 only"},
		{"pk > :h", "", "Query key condition not supported"},
		{"pk = :h AND extra = :a", "", "Query key condition not supported"},
	}
	for _, c := range cases {
		kc, err := ParseKeyCondition(NewEnv(nil, values), c.expr, "pk", "sk")
		if c.err != "" {
			if e := apierr.As(err); e == nil || e.Message != c.err {
				t.Errorf("%q: error %v, want %q", c.expr, err, c.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", c.expr, err)
			continue
		}
		if *kc.Hash.S != "h" || (c.op == "" && kc.Range != nil) || (c.op != "" && (kc.Range == nil || kc.Range.Op != c.op)) {
			t.Errorf("%q: %+v", c.expr, kc)
		}
	}
	kc, _ := ParseKeyCondition(NewEnv(nil, values), "pk = :h AND sk BETWEEN :a AND :b", "pk", "sk")
	for v, want := range map[string]bool{"0": false, "1": true, "3.5": true, "5": true, "5.01": false} {
		if got := kc.Range.Match(n(v)); got != want {
			t.Errorf("BETWEEN 1 AND 5 matches %s = %v", v, got)
		}
	}
}

func TestReservedWordsListIsComplete(t *testing.T) {
	// The developer guide's list has 573 words, from ABORT to ZONE.
	if len(reserved()) != 573 || !IsReserved("abort") || !IsReserved("Zone") || !IsReserved("STATUS") || IsReserved("pk") {
		t.Errorf("reserved words: %d", len(reserved()))
	}
}

// Fuzz targets: the parsers must never panic, and what they accept must
// evaluate without panicking.

func FuzzParseCondition(f *testing.F) {
	for _, s := range []string{"a = :v", "NOT (a < :v OR b.c[1] >= :v) AND attribute_exists(#n)", "size(a) BETWEEN :v AND :v", "a IN (:v, :v)", "begins_with(a, :v)", "contains(#n.x, :v)", "((a = :v", "a = :v AND", "attribute_type(a, :v)", strings.Repeat("(", 3000) + "a = :v" + strings.Repeat(")", 3000), strings.Repeat("NOT ", 400) + "a = :v"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		env := NewEnv(map[string]string{"#n": "name"}, map[string]Value{":v": s("S")})
		c, err := ParseCondition(env, KindFilter, src)
		if err != nil {
			if apierr.As(err) == nil {
				t.Fatalf("non-API error %v", err)
			}
			return
		}
		Eval(c, sampleItem)
		Eval(c, nil)
	})
}

func FuzzParseUpdate(f *testing.F) {
	for _, s := range []string{"SET a = :n + :n, b = list_append(if_not_exists(b, :l), :l) REMOVE c[1] ADD d :n DELETE e :ss", "SET a.b[2] = :n", "REMOVE a, b", "ADD #n :ss"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		env := NewEnv(map[string]string{"#n": "name"}, map[string]Value{":n": n("1"), ":l": list(s("x")), ":ss": {SS: []string{"a"}}})
		u, err := ParseUpdate(env, src)
		if err != nil {
			if apierr.As(err) == nil {
				t.Fatalf("non-API error %v", err)
			}
			return
		}
		Apply(u, sampleItem)
		Apply(u, nil)
	})
}

func FuzzParseProjection(f *testing.F) {
	for _, s := range []string{"a, b.c, d[0].e", "#n", "a[1][2]"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		paths, err := ParseProjection(NewEnv(map[string]string{"#n": "name"}, nil), src)
		if err != nil {
			return
		}
		Project(sampleItem, paths)
	})
}

func FuzzParseKeyCondition(f *testing.F) {
	for _, s := range []string{"pk = :v AND begins_with(sk, :v)", "pk = :v AND sk BETWEEN :v AND :v", "sk < :v"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		kc, err := ParseKeyCondition(NewEnv(nil, map[string]Value{":v": s("x")}), src, "pk", "sk")
		if err == nil && kc.Range != nil {
			kc.Range.Match(s("xy"))
		}
	})
}
