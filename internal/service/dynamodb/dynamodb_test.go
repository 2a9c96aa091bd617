package dynamodb

import (
	"bytes"
	"context"
	"regexp"
	"sort"
	"testing"
	"time"

	"github.com/wharf-dev/wharf/internal/apierr"
	"github.com/wharf-dev/wharf/internal/awsapi"
	ddb "github.com/wharf-dev/wharf/internal/awsapi/dynamodb"
	"github.com/wharf-dev/wharf/internal/clock"
	"github.com/wharf-dev/wharf/internal/protocol/jsonrpc"
	"github.com/wharf-dev/wharf/internal/store"
)

func sv(v string) Value { return Value{S: &v} }
func nv(v string) Value { return Value{N: &v} }

type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

func newTestService(t *testing.T) (*Service, *fakeClock) {
	t.Helper()
	fc := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	return New(Options{Store: store.OpenMemory(), Clock: clock.Func(fc.now)}), fc
}

func createTable(t *testing.T, s *Service, name, hash, hashType, rng, rngType string) {
	t.Helper()
	in := &ddb.CreateTableInput{
		TableName:            &name,
		BillingMode:          awsapi.String("PAY_PER_REQUEST"),
		AttributeDefinitions: []ddb.AttributeDefinition{{AttributeName: &hash, AttributeType: &hashType}},
		KeySchema:            []ddb.KeySchemaElement{{AttributeName: &hash, KeyType: awsapi.String("HASH")}},
	}
	if rng != "" {
		in.AttributeDefinitions = append(in.AttributeDefinitions, ddb.AttributeDefinition{AttributeName: &rng, AttributeType: &rngType})
		in.KeySchema = append(in.KeySchema, ddb.KeySchemaElement{AttributeName: &rng, KeyType: awsapi.String("RANGE")})
	}
	if _, err := s.CreateTable(context.Background(), in); err != nil {
		t.Fatal(err)
	}
}

func TestKeyPartsSortAsDynamoDBSortsKeys(t *testing.T) {
	cases := []struct {
		name    string
		ordered []Value
	}{
		{"strings by UTF-8 bytes", []Value{sv("A"), sv("B"), sv("a"), sv("a\x00"), sv("a\x00b"), sv("a\x01"), sv("ab"), sv("é"), sv("中")}},
		{"numbers numerically", []Value{nv("-1000"), nv("-2.5"), nv("-2"), nv("-0.001"), nv("0"), nv("0.001"), nv("2"), nv("2.5"), nv("10"), nv("1000")}},
		{"binary bytewise", []Value{{B: []byte{}}, {B: []byte{0}}, {B: []byte{0, 0}}, {B: []byte{0, 1}}, {B: []byte{1}}, {B: []byte{0xff}}, {B: []byte{0xff, 0xff}}}},
	}
	for _, c := range cases {
		for i := 1; i < len(c.ordered); i++ {
			a := appendKeyPart(nil, c.ordered[i-1])
			b := appendKeyPart(nil, c.ordered[i])
			if bytes.Compare(a, b) >= 0 {
				t.Errorf("%s: %x !< %x", c.name, a, b)
			}
			// Prefix-free: a key part followed by anything still sorts by the part.
			if bytes.Compare(append(a, 0xff, 0xff), b) >= 0 {
				t.Errorf("%s: encoding of %d is not prefix-free", c.name, i-1)
			}
		}
	}
}

func TestItemEncodingRoundTrips(t *testing.T) {
	tr, fa := true, false
	item := Item{
		"s": sv("héllo"), "n": nv("-1.5"), "b": {B: []byte{0, 1, 2}}, "empty": sv(""),
		"ss": {SS: []string{"x", "y"}}, "ns": {NS: []string{"1", "2"}}, "bs": {BS: [][]byte{{1}, {2}}},
		"m": {M: map[string]Value{"inner": {L: []Value{sv("a"), {BOOL: &fa}, {NULL: &tr}}}}}, "l": {L: []Value{}},
	}
	got, err := decodeItem(encodeItem(item))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(encodeItem(got), encodeItem(item)) || len(got) != len(item) || *got["m"].M["inner"].L[2].NULL != true {
		t.Fatalf("round trip: %+v", got)
	}
	for _, bad := range [][]byte{{5}, {1, 1, 'a', 99}, {1, 1, 'a', tagS, 50}} {
		if _, err := decodeItem(bad); err == nil {
			t.Errorf("decodeItem(%x) accepted corrupt data", bad)
		}
	}
}

func TestItemSizeCountsAsAWSDoes(t *testing.T) {
	tr := true
	cases := []struct {
		item Item
		want int
	}{
		{Item{"a": sv("xyz")}, 4},
		{Item{"num": nv("12345")}, 3 + 3 + 1},  // 5 digits: 3 bytes + 1
		{Item{"num": nv("1200")}, 3 + 1 + 1},   // trailing zeros do not count
		{Item{"b": {B: []byte{1, 2}}}, 3},      //
		{Item{"t": {BOOL: &tr}}, 2},            // 1 byte
		{Item{"l": {L: []Value{sv("ab")}}}, 7}, // 1 + 3 + (1 + 2)
		{Item{"m": {M: map[string]Value{"k": sv("v")}}}, 1 + 3 + 1 + 1 + 1},
	}
	for _, c := range cases {
		if got := itemSize(c.item); got != c.want {
			t.Errorf("itemSize(%v) = %d, want %d", c.item, got, c.want)
		}
	}
}

func TestNormalizeRejectsInvalidValues(t *testing.T) {
	tr, fa := true, false
	cases := []struct {
		v    Value
		want string
	}{
		{Value{}, "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes"},
		{Value{S: awsapi.String("a"), N: awsapi.String("1")}, "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes"},
		{Value{NULL: &fa}, "One or more parameter values were invalid: Null attribute value types must have the value of true"},
		{Value{SS: []string{}}, "One or more parameter values were invalid: An string set  may not be empty"},
		{Value{NS: []string{}}, "One or more parameter values were invalid: An number set  may not be empty"},
		{Value{BS: [][]byte{}}, "One or more parameter values were invalid: Binary sets should not be empty"},
		{Value{NS: []string{"1", "1.0"}}, "One or more parameter values were invalid: Input collection [1, 1.0] contains duplicates."},
		{Value{N: awsapi.String("1e")}, "The parameter cannot be converted to a numeric value: 1e"},
		{Value{L: []Value{{NULL: &tr}, {}}}, "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes"},
	}
	for _, c := range cases {
		_, err := normalizeValue(c.v, 0)
		if e := apierr.As(err); e == nil || e.Message != c.want {
			t.Errorf("normalizeValue(%+v) = %v, want %q", c.v, err, c.want)
		}
	}
	got, err := normalizeValue(Value{NS: []string{"1.50", "2E1"}}, 0)
	if err != nil || got.NS[0] != "1.5" || got.NS[1] != "20" {
		t.Errorf("numbers are stored canonically: %v %v", got.NS, err)
	}
}

func TestTTLHidesExpiredItemsAndTheSweepDeletesThem(t *testing.T) {
	s, clock := newTestService(t)
	ctx := context.Background()
	createTable(t, s, "sessions", "id", "S", "", "")
	if _, err := s.UpdateTimeToLive(ctx, &ddb.UpdateTimeToLiveInput{TableName: awsapi.String("sessions"), TimeToLiveSpecification: &ddb.TimeToLiveSpecification{AttributeName: awsapi.String("exp"), Enabled: awsapi.Bool(true)}}); err != nil {
		t.Fatal(err)
	}
	now := clock.t.Unix()
	for id, exp := range map[string]int64{"old": now - 10, "soon": now + 60, "none": 0} {
		item := map[string]Value{"id": sv(id)}
		if exp != 0 {
			item["exp"] = nv(itoa(exp))
		}
		if _, err := s.PutItem(ctx, &ddb.PutItemInput{TableName: awsapi.String("sessions"), Item: item}); err != nil {
			t.Fatal(err)
		}
	}
	visible := func() []string {
		out, err := s.Scan(ctx, &ddb.ScanInput{TableName: awsapi.String("sessions")})
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, it := range out.Items {
			ids = append(ids, *it["id"].S)
		}
		sort.Strings(ids)
		return ids
	}
	if got := visible(); len(got) != 2 || got[0] != "none" || got[1] != "soon" {
		t.Fatalf("before expiry: %v", got)
	}
	clock.t = clock.t.Add(2 * time.Minute)
	if got := visible(); len(got) != 1 || got[0] != "none" {
		t.Fatalf("after expiry: %v", got)
	}
	g, _ := s.GetItem(ctx, &ddb.GetItemInput{TableName: awsapi.String("sessions"), Key: map[string]Value{"id": sv("soon")}})
	if g.Item != nil {
		t.Fatal("GetItem returned an expired item")
	}
	n, err := s.SweepExpired()
	if err != nil || n != 2 {
		t.Fatalf("SweepExpired = %d, %v; want 2", n, err)
	}
	var raw int
	s.st.View(func(tx store.Tx) error {
		return tx.Scan([]byte("ddb/i/"), nil, func(k, v []byte) (bool, error) { raw++; return true, nil })
	})
	if raw != 1 {
		t.Fatalf("%d items left in the store, want 1", raw)
	}
}

func itoa(n int64) string {
	d := []byte{}
	for n > 0 {
		d = append([]byte{byte('0' + n%10)}, d...)
		n /= 10
	}
	return string(d)
}

func TestLegacyParameters(t *testing.T) {
	s, _ := newTestService(t)
	ctx := context.Background()
	createTable(t, s, "legacy", "pk", "S", "sk", "N")
	for i := 1; i <= 5; i++ {
		_, err := s.PutItem(ctx, &ddb.PutItemInput{TableName: awsapi.String("legacy"), Item: map[string]Value{"pk": sv("p"), "sk": nv(itoa(int64(i))), "color": sv([]string{"", "red", "blue"}[i%3])}})
		if err != nil {
			t.Fatal(err)
		}
	}
	q, err := s.Query(ctx, &ddb.QueryInput{TableName: awsapi.String("legacy"),
		KeyConditions: map[string]ddb.Condition{
			"pk": {ComparisonOperator: awsapi.String("EQ"), AttributeValueList: []Value{sv("p")}},
			"sk": {ComparisonOperator: awsapi.String("BETWEEN"), AttributeValueList: []Value{nv("2"), nv("5")}},
		},
		QueryFilter: map[string]ddb.Condition{"color": {ComparisonOperator: awsapi.String("EQ"), AttributeValueList: []Value{sv("red")}}},
	})
	if err != nil || *q.Count != 1 || *q.ScannedCount != 4 || *q.Items[0]["sk"].N != "4" {
		t.Fatalf("legacy query: %+v %v", q, err)
	}
	key := map[string]Value{"pk": sv("p"), "sk": nv("1")}
	_, err = s.PutItem(ctx, &ddb.PutItemInput{TableName: awsapi.String("legacy"), Item: key, Expected: map[string]ddb.ExpectedAttributeValue{"pk": {Exists: awsapi.Bool(false)}}})
	if e := apierr.As(err); e == nil || e.Code != "ConditionalCheckFailedException" {
		t.Fatalf("Expected Exists=false on an existing item: %v", err)
	}
	u, err := s.UpdateItem(ctx, &ddb.UpdateItemInput{TableName: awsapi.String("legacy"), Key: key, ReturnValues: awsapi.String("ALL_NEW"),
		AttributeUpdates: map[string]ddb.AttributeValueUpdate{
			"n":     {Action: awsapi.String("ADD"), Value: &Value{N: awsapi.String("5")}},
			"color": {Action: awsapi.String("DELETE")},
			"tag":   {Value: &Value{S: awsapi.String("x")}},
		},
		Expected: map[string]ddb.ExpectedAttributeValue{"color": {Value: &Value{S: awsapi.String("red")}}},
	})
	if err != nil || *u.Attributes["n"].N != "5" || u.Attributes["color"].S != nil || *u.Attributes["tag"].S != "x" {
		t.Fatalf("AttributeUpdates: %+v %v", u, err)
	}
	sc, err := s.Scan(ctx, &ddb.ScanInput{TableName: awsapi.String("legacy"), ScanFilter: map[string]ddb.Condition{"color": {ComparisonOperator: awsapi.String("NULL")}}, AttributesToGet: []string{"sk"}})
	if err != nil || *sc.Count != 1 || len(sc.Items[0]) != 1 {
		t.Fatalf("ScanFilter NULL: %+v %v", sc, err)
	}
}

// FuzzAttributeValueDecoding feeds PutItem request bodies through the codec
// and the item checks: nothing may panic, and an accepted item must survive the
// store encoding unchanged.
func FuzzAttributeValueDecoding(f *testing.F) {
	for _, s := range []string{
		`{"TableName":"t","Item":{"pk":{"S":"a"},"n":{"N":"1.50"},"m":{"M":{"l":{"L":[{"NULL":true},{"BOOL":false},{"B":"AAE="}]}}}}}`,
		`{"TableName":"t","Item":{"pk":{"S":"a"},"ss":{"SS":["x","x"]}}}`,
		`{"TableName":"t","Item":{"pk":{"S":"a"},"ns":{"NS":["1","1e2"]},"bs":{"BS":["AA=="]}}}`,
		`{"TableName":"t","Item":{"pk":{"S":"a","N":"1"}}}`,
		`{"TableName":"t","Item":{"pk":{}}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var in ddb.PutItemInput
		if err := jsonrpc.Unmarshal(body, &in, jsonrpc.Options{}); err != nil {
			return
		}
		item, err := normalizeItem(in.Item)
		if err != nil || item == nil {
			return
		}
		again, err := decodeItem(encodeItem(item))
		if err != nil || !bytes.Equal(encodeItem(again), encodeItem(item)) {
			t.Fatalf("store round trip changed %v: %v", item, err)
		}
		itemSize(item)
	})
}

// BenchmarkDecodeItem decodes the item bench/peers' Query returns 40 of.
func BenchmarkDecodeItem(b *testing.B) {
	raw := encodeItem(Item{"pk": sv("query"), "sk": sv("007"), "name": sv("a benchmark item"), "n": nv("42"), "tags": {SS: []string{"a", "b"}}})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := decodeItem(raw); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzNameCharsMatchesThePattern: nameChars accepts exactly what the
// model's pattern for table and index names does.
func FuzzNameCharsMatchesThePattern(f *testing.F) {
	re := regexp.MustCompile(`^[a-zA-Z0-9_.-]+$`)
	for _, s := range []string{"", "bench", "Table_1.x-y", "a b", "é", "t\n", "a/b", "\x00", "Z9"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := nameChars(s), re.MatchString(s); got != want {
			t.Fatalf("nameChars(%q) = %v, the pattern says %v", s, got, want)
		}
	})
}

// BenchmarkPutItemOver is bench/peers' ddb-put in the service alone: a
// PutItem over an item of the same key, in memory (the service's own CPU,
// without the codec and the HTTP server).
func BenchmarkPutItemOver(b *testing.B) {
	fc := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	s := New(Options{Store: store.OpenMemory(), Clock: clock.Func(fc.now)})
	t := &testing.T{}
	createTable(t, s, "bench", "pk", "S", "sk", "S")
	in := &ddb.PutItemInput{TableName: awsapi.String("bench"), Item: map[string]Value{
		"pk": sv("put"), "sk": sv("3"), "name": sv("a benchmark item"), "n": nv("42"), "tags": {SS: []string{"a", "b"}}}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.PutItem(context.Background(), in); err != nil {
			b.Fatal(err)
		}
	}
}
