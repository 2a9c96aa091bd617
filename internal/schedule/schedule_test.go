package schedule

import (
	"strings"
	"testing"
	"time"
)

func utc(s string) time.Time {
	t, err := time.Parse("2006-01-02 15:04", s)
	if err != nil {
		panic(err)
	}
	return t
}

// TestCronDocumentedExamples walks the examples of "Schedule expressions for
// rules" (EventBridge User Guide) from Monday 2024-01-01 00:00 UTC.
func TestCronDocumentedExamples(t *testing.T) {
	cases := []struct {
		expr  string
		after string
		want  []string
	}{
		{"cron(0 10 * * ? *)", "2024-01-01 00:00", []string{"2024-01-01 10:00", "2024-01-02 10:00"}},
		{"cron(15 12 * * ? *)", "2024-01-01 12:15", []string{"2024-01-02 12:15", "2024-01-03 12:15"}},
		{"cron(0 18 ? * MON-FRI *)", "2024-01-05 18:00", []string{"2024-01-08 18:00", "2024-01-09 18:00"}},
		{"cron(0 8 1 * ? *)", "2024-01-01 08:00", []string{"2024-02-01 08:00", "2024-03-01 08:00"}},
		{"cron(0/15 * * * ? *)", "2024-01-01 00:00", []string{"2024-01-01 00:15", "2024-01-01 00:30", "2024-01-01 00:45", "2024-01-01 01:00"}},
		{"cron(0/10 * ? * MON-FRI *)", "2024-01-05 23:50", []string{"2024-01-08 00:00", "2024-01-08 00:10"}},
		{"cron(0/5 8-17 ? * MON-FRI *)", "2024-01-01 17:55", []string{"2024-01-02 08:00", "2024-01-02 08:05"}},
		{"cron(0 9 ? * 2#1 *)", "2024-01-01 09:00", []string{"2024-02-05 09:00", "2024-03-04 09:00"}},
		// L, W, # and years.
		{"cron(0 0 L * ? *)", "2024-01-01 00:00", []string{"2024-01-31 00:00", "2024-02-29 00:00", "2024-03-31 00:00"}},
		{"cron(0 0 LW * ? *)", "2024-03-01 00:00", []string{"2024-03-29 00:00", "2024-04-30 00:00"}},
		{"cron(0 0 15W * ? *)", "2024-06-01 00:00", []string{"2024-06-14 00:00", "2024-07-15 00:00"}}, // June 15 2024 is a Saturday
		{"cron(0 0 1W * ? *)", "2024-05-31 00:00", []string{"2024-06-03 00:00"}},                      // June 1 2024 is a Saturday: Monday the 3rd
		{"cron(0 0 ? * 6L *)", "2024-01-01 00:00", []string{"2024-01-26 00:00", "2024-02-23 00:00"}},  // last Friday
		{"cron(0 0 ? * L *)", "2024-01-01 00:00", []string{"2024-01-06 00:00", "2024-01-13 00:00"}},   // Saturdays
		{"cron(30 12 1 JAN ? 2025-2026)", "2024-01-01 00:00", []string{"2025-01-01 12:30", "2026-01-01 12:30"}},
		{"cron(0 22-2 * * ? *)", "2024-01-01 00:00", []string{"2024-01-01 01:00", "2024-01-01 02:00", "2024-01-01 22:00", "2024-01-01 23:00", "2024-01-02 00:00"}},
		{"cron(0 0 ? * FRI-MON *)", "2024-01-02 00:00", []string{"2024-01-05 00:00", "2024-01-06 00:00", "2024-01-07 00:00", "2024-01-08 00:00", "2024-01-12 00:00"}},
		{"cron(5,35 3 29 2 ? *)", "2024-03-01 00:00", []string{"2028-02-29 03:05", "2028-02-29 03:35"}},
	}
	for _, c := range cases {
		t.Run(c.expr, func(t *testing.T) {
			s, err := Parse(c.expr)
			if err != nil {
				t.Fatal(err)
			}
			at := utc(c.after)
			for _, w := range c.want {
				next, ok := s.Next(at)
				if !ok || !next.Equal(utc(w)) {
					t.Fatalf("Next(%s) = %s, %v; want %s", at.Format(time.RFC3339), next.Format(time.RFC3339), ok, w)
				}
				at = next
			}
		})
	}
}

func TestCronEndsWithItsYears(t *testing.T) {
	s, _ := Parse("cron(0 0 1 1 ? 2020)")
	if next, ok := s.Next(utc("2024-01-01 00:00")); ok {
		t.Errorf("past year fired at %s", next)
	}
	s, _ = Parse("cron(0 0 30 2 ? *)")
	if next, ok := s.Next(utc("2024-01-01 00:00")); ok {
		t.Errorf("February 30th fired at %s", next)
	}
}

func TestCronInTimeZone(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skip("no tzdata")
	}
	s, err := ParseIn("cron(0 9 * * ? *)", ny)
	if err != nil {
		t.Fatal(err)
	}
	next, _ := s.Next(utc("2024-07-01 00:00"))
	if want := utc("2024-07-01 13:00"); !next.Equal(want) { // EDT is UTC-4
		t.Errorf("9:00 New York = %s, want %s", next.UTC(), want)
	}
	next, _ = s.Next(utc("2024-12-01 00:00"))
	if want := utc("2024-12-01 14:00"); !next.Equal(want) { // EST is UTC-5
		t.Errorf("9:00 New York = %s, want %s", next.UTC(), want)
	}
}

func TestRate(t *testing.T) {
	cases := map[string]time.Duration{
		"rate(1 minute)":  time.Minute,
		"rate(5 minutes)": 5 * time.Minute,
		"rate(1 hour)":    time.Hour,
		"rate(12 hours)":  12 * time.Hour,
		"rate(1 day)":     24 * time.Hour,
		"rate(7 days)":    7 * 24 * time.Hour,
	}
	start := utc("2024-01-01 00:00")
	for expr, every := range cases {
		s, err := Parse(expr)
		if err != nil {
			t.Fatalf("%s: %v", expr, err)
		}
		next, ok := s.Next(start)
		if !ok || next.Sub(start) != every {
			t.Errorf("%s: Next = %s", expr, next)
		}
		if s.String() != expr {
			t.Errorf("String() = %q", s.String())
		}
	}
}

func TestAtFiresOnceInItsTimeZone(t *testing.T) {
	s, err := Parse("at(2024-03-05T10:30:00)")
	if err != nil {
		t.Fatal(err)
	}
	next, ok := s.Next(utc("2024-01-01 00:00"))
	if !ok || !next.Equal(utc("2024-03-05 10:30")) {
		t.Errorf("Next = %s, %v", next, ok)
	}
	if _, ok := s.Next(next); ok {
		t.Error("at() fired twice")
	}
	tokyo := time.FixedZone("JST", 9*3600)
	s, _ = ParseIn("at(2024-03-05T10:30:00)", tokyo)
	next, _ = s.Next(utc("2024-01-01 00:00"))
	if !next.Equal(utc("2024-03-05 01:30")) {
		t.Errorf("10:30 JST = %s UTC", next.UTC())
	}
}

func TestInvalidExpressionsSayWhy(t *testing.T) {
	cases := map[string]string{
		"every 5 minutes":         "must be rate(...), cron(...) or at(...)",
		"rate(5 minute)":          "plural unit",
		"rate(1 minutes)":         "singular unit",
		"rate(0 minutes)":         "positive whole number",
		"rate(-1 minutes)":        "positive whole number",
		"rate(1.5 hours)":         "positive whole number",
		"rate(2 weeks)":           "minute(s), hour(s) or day(s)",
		"rate(5)":                 "a value and a unit",
		"cron(0 10 * * *)":        "six fields",
		"cron(0 10 * * * *)":      "exactly one of day-of-month and day-of-week must be ?",
		"cron(0 10 ? * ? *)":      "exactly one of day-of-month and day-of-week must be ?",
		"cron(60 10 * * ? *)":     "minutes: 60 is outside 0-59",
		"cron(0 24 * * ? *)":      "hours: 24 is outside 0-23",
		"cron(0 0 32 * ? *)":      "day-of-month: 32 is outside 1-31",
		"cron(0 0 * 13 ? *)":      "month: 13 is outside 1-12",
		"cron(0 0 ? * 8 *)":       "day-of-week: 8 is outside 1-7",
		"cron(0 0 ? * 2#6 *)":     "# takes a week 1-5",
		"cron(0 0 ? * XYZ *)":     `"XYZ" is not a number`,
		"cron(0/0 0 * * ? *)":     "bad step",
		"cron(0 0 * * ? 1969)":    "year: 1969 is outside 1970-2199",
		"at(2024-03-05 10:30:00)": "yyyy-mm-ddThh:mm:ss",
		"at(2024-13-05T10:30:00)": "yyyy-mm-ddThh:mm:ss",
	}
	for expr, want := range cases {
		_, err := Parse(expr)
		if err == nil {
			t.Errorf("Parse(%q) succeeded", expr)
			continue
		}
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Parse(%q) = %q, want it to say %q", expr, err, want)
		}
	}
}

// FuzzParse: any expression parses or fails cleanly, and Next always moves
// forward.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"rate(5 minutes)", "cron(0 10 * * ? *)", "cron(0/5 8-17 ? * MON-FRI *)",
		"cron(0 0 LW * ? *)", "cron(0 0 ? * 6L *)", "cron(0 9 ? * 2#1 2025)", "at(2024-03-05T10:30:00)", "cron(0 22-2 * * ? *)"} {
		f.Add(s)
	}
	from := utc("2024-01-01 00:00")
	f.Fuzz(func(t *testing.T, expr string) {
		s, err := Parse(expr)
		if err != nil {
			return
		}
		next, ok := s.Next(from)
		if ok && !next.After(from) {
			t.Fatalf("%s: Next(%s) = %s, not after", expr, from, next)
		}
	})
}

// TestLooseRateSpacingIsReadButRefusedAsNewInput: rate( 10 minutes ), which
// wharf took before CheckSpacing, still parses (a stored rule or schedule
// keeps loading and firing), while CheckSpacing refuses it as AWS refuses it
// in PutRule and CreateSchedule.
func TestLooseRateSpacingIsReadButRefusedAsNewInput(t *testing.T) {
	for _, expr := range []string{"rate( 10 minutes )", "rate(10  minutes)", "rate(10\tminutes)"} {
		s, err := Parse(expr)
		if err != nil {
			t.Errorf("Parse(%q): %v, want it read as a stored expression", expr, err)
		} else if r, ok := s.(*Rate); !ok || r.Every != 10*time.Minute {
			t.Errorf("Parse(%q) = %#v, want every 10 minutes", expr, s)
		}
		if CheckSpacing(expr) == nil {
			t.Errorf("CheckSpacing(%q) = nil, want it refused", expr)
		}
	}
	for _, expr := range []string{"rate(10 minutes)", "rate(1 hour)", "cron(0 12 * * ? *)", "at(2026-01-01T00:00:00)"} {
		if err := CheckSpacing(expr); err != nil {
			t.Errorf("CheckSpacing(%q): %v", expr, err)
		}
	}
}
