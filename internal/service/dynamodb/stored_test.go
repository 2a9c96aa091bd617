package dynamodb

import (
	"bytes"
	"reflect"
	"testing"

	ddb "github.com/wharf-dev/wharf/internal/awsapi/dynamodb"
	"github.com/wharf-dev/wharf/internal/ddbitem"
	"github.com/wharf-dev/wharf/internal/protocol/jsonrpc"
	"github.com/wharf-dev/wharf/internal/service/dynamodb/number"
)

// TestStoredOutputsMirrorTheModel: each *StoredOutput has its generated
// output's members, in order, with the same tags and types, but for the
// items, which are ddbitem.Raw where the model has an AttributeValue map.
func TestStoredOutputsMirrorTheModel(t *testing.T) {
	itemType := reflect.TypeFor[map[string]ddb.AttributeValue]()
	rawType := reflect.TypeFor[ddbitem.Raw]()
	for _, c := range []struct{ stored, model any }{
		{GetItemStoredOutput{}, ddb.GetItemOutput{}},
		{QueryStoredOutput{}, ddb.QueryOutput{}},
		{ScanStoredOutput{}, ddb.ScanOutput{}},
	} {
		st, mt := reflect.TypeOf(c.stored), reflect.TypeOf(c.model)
		if st.NumField() != mt.NumField() {
			t.Fatalf("%s has %d members, %s %d", st, st.NumField(), mt, mt.NumField())
		}
		for i := range st.NumField() {
			sf, mf := st.Field(i), mt.Field(i)
			want := mf.Type
			switch {
			case mf.Name == "Item" && want == itemType:
				want = rawType
			case mf.Name == "Items" && want == reflect.SliceOf(itemType):
				want = reflect.SliceOf(rawType)
			}
			if sf.Name != mf.Name || sf.Tag != mf.Tag || sf.Type != want {
				t.Errorf("%s.%s %s `%s`, want %s %s `%s`", st, sf.Name, sf.Type, sf.Tag, mf.Name, want, mf.Tag)
			}
		}
	}
}

// storedItemCases are items of every type, nested, with names and strings
// that need escaping in JSON and names whose order differs by byte.
func storedItemCases() []Item {
	tr, fa := true, false
	return []Item{
		{},
		{"pk": sv("query"), "sk": sv("007"), "name": sv("a benchmark item"), "n": nv("42"), "tags": {SS: []string{"a", "b"}}},
		{"a\"b": sv("line\nbreak \u2028 é \x01"), "B": {B: []byte{0, 1, 2, 255}}, "empty": {B: []byte{}}, "a": nv("-1.5E+10"),
			"ns": {NS: []string{"1", "2.5"}}, "bs": {BS: [][]byte{{1}, {}}}, "Z": {NULL: &tr}, "z": {BOOL: &fa}, "y": {BOOL: &tr}},
		{"m": {M: map[string]Value{"inner": {L: []Value{sv("x"), {M: map[string]Value{}}, {L: []Value{}}, {NULL: &tr}}}, "b": nv("0")}}, "é": sv("")},
	}
}

// checkStored checks that the stored form raw, when storedSize takes it as
// it is, answers as the item decodeItem reads from it: the same JSON bytes
// in a Query and a GetItem answer, the same size, the same attributes.
func checkStored(t *testing.T, raw []byte) {
	t.Helper()
	item, decErr := decodeItem(raw)
	size, canonical, err := storedSize(raw)
	if (err == nil) != (decErr == nil) {
		t.Fatalf("storedSize(%x): %v; decodeItem: %v", raw, err, decErr)
	}
	if err != nil {
		return
	}
	if !canonical {
		if bytes.Equal(raw, encodeItem(item)) {
			t.Fatalf("storedSize(%x) says encodeItem's own output is not canonical", raw)
		}
		return // the service rewrites it with encodeItem first
	}
	if want := itemSize(item); size != want {
		t.Fatalf("storedSize(%x) = %d, itemSize %d", raw, size, want)
	}
	for name, v := range item {
		got, ok, err := storedAttr(raw, name)
		if err != nil || !ok || !bytes.Equal(encodeItem(Item{"v": got}), encodeItem(Item{"v": v})) {
			t.Fatalf("storedAttr(%x, %q) = %+v %v %v, want %+v", raw, name, got, ok, err, v)
		}
	}
	if _, ok, err := storedAttr(raw, "\x00absent"); ok || err != nil {
		t.Fatalf("storedAttr of a missing name: %v %v", ok, err)
	}
	two := int32(2)
	want, err := jsonrpc.Marshal(&ddb.QueryOutput{Items: []map[string]Value{item, item}, Count: &two, LastEvaluatedKey: item}, jsonrpc.Options{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := jsonrpc.Marshal(&QueryStoredOutput{Items: []ddbitem.Raw{raw, raw}, Count: &two, LastEvaluatedKey: item}, jsonrpc.Options{})
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("stored Query answer of %x:\n%s (%v)\nwant\n%s", raw, got, err, want)
	}
	want, _ = jsonrpc.Marshal(&ddb.GetItemOutput{Item: item}, jsonrpc.Options{})
	got, err = jsonrpc.Marshal(&GetItemStoredOutput{Item: raw}, jsonrpc.Options{})
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("stored GetItem answer of %x:\n%s (%v)\nwant\n%s", raw, got, err, want)
	}
}

func TestStoredItemsAnswerAsDecoded(t *testing.T) {
	for _, item := range storedItemCases() {
		checkStored(t, encodeItem(item))
	}
	// Out of order, repeated, or followed by more bytes: not what
	// encodeItem writes, so not canonical, and the codec refuses it.
	for _, raw := range [][]byte{
		{2, 1, 'b', tagNULL, 1, 'a', tagNULL},
		{2, 1, 'a', tagNULL, 1, 'a', tagNULL},
		{1, 1, 'a', tagNULL, 0},
		{1, 1, 'a', tagM, 2, 1, 'y', tagNULL, 1, 'x', tagNULL},
	} {
		checkStored(t, raw)
		if _, canonical, _ := storedSize(raw); canonical {
			t.Errorf("storedSize(%x) says canonical", raw)
		}
		if _, err := jsonrpc.Marshal(&GetItemStoredOutput{Item: raw}, jsonrpc.Options{}); err == nil {
			t.Errorf("the codec wrote non-canonical %x", raw)
		}
	}
	// Corrupt: both readers refuse it.
	for _, raw := range [][]byte{{5}, {1, 1, 'a', 99}, {1, 1, 'a', tagS, 50}, {1, 1, 'a', tagBOOL}, {}} {
		checkStored(t, raw)
	}
}

// FuzzStoredItemAnswersAsDecoded: for any bytes, storedSize fails where
// decodeItem does, and an item the codec is given in its stored form is
// answered with the bytes its decoded map is.
func FuzzStoredItemAnswersAsDecoded(f *testing.F) {
	for _, item := range storedItemCases() {
		f.Add(encodeItem(item))
	}
	f.Add([]byte{2, 1, 'b', tagNULL, 1, 'a', tagNULL})
	f.Fuzz(func(t *testing.T, raw []byte) {
		checkStored(t, raw)
	})
}

// BenchmarkStoredSize reads what Query needs of the item bench/peers' Query
// returns 40 of, where it decoded it (BenchmarkDecodeItem).
func BenchmarkStoredSize(b *testing.B) {
	raw := encodeItem(Item{"pk": sv("query"), "sk": sv("007"), "name": sv("a benchmark item"), "n": nv("42"), "tags": {SS: []string{"a", "b"}}})
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := storedSize(raw); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAnswerQuery40 is what a 40-item Query did per item before its
// answer was written (decode each item, size it, encode the maps) against
// what it does now (size each item from its stored bytes, copy them, write
// them): bench/peers' Query.
func BenchmarkAnswerQuery40(b *testing.B) {
	raws := make([][]byte, 40)
	for i := range raws {
		raws[i] = encodeItem(Item{"pk": sv("query"), "sk": sv(string(rune('a' + i))), "name": sv("a benchmark item"), "n": nv("42"), "tags": {SS: []string{"a", "b"}}})
	}
	count := int32(len(raws))
	b.Run("maps", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			out := &ddb.QueryOutput{Count: &count, ScannedCount: &count}
			for _, raw := range raws {
				item, err := decodeItem(raw)
				if err != nil {
					b.Fatal(err)
				}
				_ = itemSize(item)
				out.Items = append(out.Items, item)
			}
			if _, err := jsonrpc.Marshal(out, jsonrpc.Options{}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("stored", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var items storedItems
			for _, raw := range raws {
				if _, _, err := storedSize(raw); err != nil {
					b.Fatal(err)
				}
				items.add(raw)
			}
			out := &QueryStoredOutput{Items: items.raws(), Count: &count, ScannedCount: &count}
			if _, err := jsonrpc.Marshal(out, jsonrpc.Options{}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// FuzzIntegerDigitsMatchesParse: integerDigits counts what number.Parse
// counts wherever it answers.
func FuzzIntegerDigitsMatchesParse(f *testing.F) {
	for _, s := range []string{"42", "-0", "+100", "000120", "", "-", "1e3", "1.5", "12345678901234567890123456789012345678", "123456789012345678901234567890123456789", "0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, ok := integerDigits(s)
		if !ok {
			return
		}
		d, err := number.Parse(s)
		if err != nil || d.Digits() != n {
			t.Fatalf("integerDigits(%q) = %d; Parse: %d digits, %v", s, n, d.Digits(), err)
		}
	})
}
