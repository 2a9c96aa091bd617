package number

import (
	"bytes"
	"errors"
	"math/big"
	"strings"
	"testing"
)

func TestParseCanonicalForms(t *testing.T) {
	cases := []struct{ in, want string }{
		{"0", "0"},
		{"-0", "0"},
		{"0.000", "0"},
		{"+7", "7"},
		{"1.50", "1.5"},
		{"15E-1", "1.5"},
		{"1e3", "1000"},
		{"1E+3", "1000"},
		{".5", "0.5"},
		{"5.", "5"},
		{"-0.0012300", "-0.00123"},
		{"000123.4500", "123.45"},
		{"12345678901234567890123456789012345678", "12345678901234567890123456789012345678"},
		{"1" + strings.Repeat("0", 60), "1" + strings.Repeat("0", 60)},
		{"1E-130", "0." + strings.Repeat("0", 129) + "1"},
		{"9.9999999999999999999999999999999999999E+125", "99999999999999999999999999999999999999" + strings.Repeat("0", 88)},
	}
	for _, c := range cases {
		d, err := Parse(c.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", c.in, err)
			continue
		}
		if got := d.String(); got != c.want {
			t.Errorf("Parse(%q).String() = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestParseRejectsWhatDynamoDBRejects(t *testing.T) {
	cases := []struct {
		in   string
		want error
	}{
		{"", ErrSyntax},
		{"abc", ErrSyntax},
		{"1.2.3", ErrSyntax},
		{" 1", ErrSyntax},
		{"1 ", ErrSyntax},
		{"1e", ErrSyntax},
		{"e5", ErrSyntax},
		{"-", ErrSyntax},
		{".", ErrSyntax},
		{"NaN", ErrSyntax},
		{"Infinity", ErrSyntax},
		{"0x10", ErrSyntax},
		{"1e+-3", ErrSyntax},
		{"123456789012345678901234567890123456789", ErrDigits},
		{"1E126", ErrOverflow},
		{"-1E126", ErrOverflow},
		{"1E-131", ErrUnderflow},
		{"1e99999999999999999999", ErrOverflow},
		{"1e-99999999999999999999", ErrUnderflow},
	}
	for _, c := range cases {
		_, err := Parse(c.in)
		if !errors.Is(err, c.want) {
			t.Errorf("Parse(%q) error = %v, want %v", c.in, err, c.want)
		}
	}
}

func TestCmpOrdersNumerically(t *testing.T) {
	ordered := []string{"-1E125", "-100", "-1.23", "-1.2", "-1", "-0.5", "-1E-130", "0", "1E-130", "0.1", "0.5", "1", "1.2", "1.23", "2", "10", "100", "1E125"}
	for i, a := range ordered {
		for j, b := range ordered {
			da, db := mustParse(t, a), mustParse(t, b)
			want := 0
			switch {
			case i < j:
				want = -1
			case i > j:
				want = 1
			}
			if got := da.Cmp(db); got != want {
				t.Errorf("Cmp(%s, %s) = %d, want %d", a, b, got, want)
			}
			if got := bytes.Compare(da.AppendKey(nil), db.AppendKey(nil)); got != want {
				t.Errorf("key order (%s, %s) = %d, want %d", a, b, got, want)
			}
		}
	}
}

func TestAddIsExact(t *testing.T) {
	cases := []struct{ a, b, want string }{
		{"0.1", "0.2", "0.3"},
		{"1", "-1", "0"},
		{"99999999999999999999999999999999999999", "-1", "99999999999999999999999999999999999998"},
		{"1.5", "2.25", "3.75"},
		{"-5", "3", "-2"},
		{"1E+10", "1E-10", "10000000000.0000000001"},
		{"0", "-7", "-7"},
	}
	for _, c := range cases {
		got, err := mustParse(t, c.a).Add(mustParse(t, c.b))
		if err != nil {
			t.Errorf("%s + %s: %v", c.a, c.b, err)
			continue
		}
		if got.String() != c.want {
			t.Errorf("%s + %s = %s, want %s", c.a, c.b, got, c.want)
		}
	}
}

func TestAddRefusesResultsOutsideTheType(t *testing.T) {
	cases := []struct {
		a, b string
		want error
	}{
		{"99999999999999999999999999999999999999", "1", ErrDigits}, // 39 digits... 1E38 is 1 digit: fine
		{"9.9999999999999999999999999999999999999E+125", "1E+88", ErrOverflow},
		{"1E+30", "1E-30", ErrDigits},
	}
	// 99..9 (38 nines) + 1 = 1E38, one significant digit: that one fits.
	if got, err := mustParse(t, cases[0].a).Add(mustParse(t, cases[0].b)); err != nil || got.String() != "1"+strings.Repeat("0", 38) {
		t.Errorf("38 nines + 1 = %v, %v", got, err)
	}
	for _, c := range cases[1:] {
		if _, err := mustParse(t, c.a).Add(mustParse(t, c.b)); !errors.Is(err, c.want) {
			t.Errorf("%s + %s error = %v, want %v", c.a, c.b, err, c.want)
		}
	}
	if got, err := mustParse(t, "10").Sub(mustParse(t, "0.01")); err != nil || got.String() != "9.99" {
		t.Errorf("10 - 0.01 = %v, %v", got, err)
	}
}

func TestDecodeKeyInvertsAppendKey(t *testing.T) {
	for _, s := range []string{"0", "1", "-1", "123.456", "-0.000789", "1E125", "-1E-130"} {
		d := mustParse(t, s)
		k := append(d.AppendKey(nil), 'x')
		got, rest, ok := DecodeKey(k)
		if !ok || got.Cmp(d) != 0 || string(rest) != "x" {
			t.Errorf("DecodeKey(AppendKey(%s)) = %v, %q, %v", s, got, rest, ok)
		}
	}
	for _, bad := range [][]byte{nil, {0x01}, {keyPos}, {keyPos, 0, 0}, {keyPos, 0, 0, 0}, {keyNeg, 0, 0, 0x20, 0xff}} {
		if _, _, ok := DecodeKey(bad); ok {
			t.Errorf("DecodeKey(%x) accepted", bad)
		}
	}
}

func mustParse(t testing.TB, s string) Decimal {
	t.Helper()
	d, err := Parse(s)
	if err != nil {
		t.Fatalf("Parse(%q): %v", s, err)
	}
	return d
}

// FuzzParse checks, for any input, that Parse never panics and that an accepted
// number survives String and key round trips and agrees with big.Rat.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"0", "-1.5e3", ".5", "1E-130", "9.9E125", "abc", "1e", "00012.3400", "-0"} {
		f.Add(s, "1")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		da, err := Parse(a)
		if err != nil {
			return
		}
		again, err := Parse(da.String())
		if err != nil || again.Cmp(da) != 0 || again.String() != da.String() {
			t.Fatalf("round trip of %q: %q, %v", a, da.String(), err)
		}
		if r, ok := new(big.Rat).SetString(a); ok && r.Cmp(da.Rat()) != 0 {
			t.Fatalf("Parse(%q) = %s, big.Rat says %s", a, da, r.FloatString(10))
		}
		if k, rest, ok := DecodeKey(da.AppendKey(nil)); !ok || len(rest) != 0 || k.Cmp(da) != 0 {
			t.Fatalf("key round trip of %s", da)
		}
		db, err := Parse(b)
		if err != nil {
			return
		}
		if got, want := bytes.Compare(da.AppendKey(nil), db.AppendKey(nil)), da.Rat().Cmp(db.Rat()); got != want || da.Cmp(db) != want {
			t.Fatalf("order of %s and %s: key %d, Cmp %d, want %d", da, db, got, da.Cmp(db), want)
		}
		if sum, err := da.Add(db); err == nil {
			if want := new(big.Rat).Add(da.Rat(), db.Rat()); sum.Rat().Cmp(want) != 0 {
				t.Fatalf("%s + %s = %s", da, db, sum)
			}
		}
	})
}
