// Package schedule parses the schedule expressions of EventBridge rules and
// EventBridge Scheduler: rate(value unit), AWS's six-field cron(minutes hours
// day-of-month month day-of-week year), and at(yyyy-mm-ddThh:mm:ss), and computes
// when a schedule next fires ("Schedule expressions for rules" in the EventBridge
// User Guide; "Schedule types on EventBridge Scheduler").
//
// Nothing here reads the clock: callers pass the instant to compute from, so
// schedules are tested without sleeping.
package schedule

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Schedule is a parsed schedule expression.
type Schedule interface {
	// Next returns the first firing time strictly after after, and false when
	// the schedule never fires again (an at() in the past, a cron whose years
	// have passed).
	Next(after time.Time) (time.Time, bool)
	// String is the expression as written.
	String() string
}

// Error is an expression that cannot be parsed; its message says why.
type Error struct {
	Expr   string
	Reason string
}

func (e *Error) Error() string {
	return "invalid schedule expression " + strconv.Quote(e.Expr) + ": " + e.Reason
}

// Parse parses a rate, cron or at expression evaluated in UTC, as EventBridge
// rules are.
func Parse(expr string) (Schedule, error) { return ParseIn(expr, time.UTC) }

// ParseIn parses an expression whose cron and at fields are wall-clock times in
// loc (Scheduler's ScheduleExpressionTimezone).
func ParseIn(expr string, loc *time.Location) (Schedule, error) {
	if loc == nil {
		loc = time.UTC
	}
	open := strings.IndexByte(expr, '(')
	if open < 0 || !strings.HasSuffix(expr, ")") {
		return nil, &Error{expr, "must be rate(...), cron(...) or at(...)"}
	}
	kind, body := expr[:open], expr[open+1:len(expr)-1]
	switch kind {
	case "rate":
		return parseRate(expr, body)
	case "cron":
		return parseCron(expr, body, loc)
	case "at":
		t, err := time.ParseInLocation("2006-01-02T15:04:05", body, loc)
		if err != nil {
			return nil, &Error{expr, "at() takes yyyy-mm-ddThh:mm:ss"}
		}
		return &At{expr: expr, When: t}, nil
	}
	return nil, &Error{expr, "must be rate(...), cron(...) or at(...)"}
}

// CheckSpacing refuses a rate expression whose value and unit are not
// separated by exactly one space with none around them: EventBridge's PutRule
// and Scheduler's CreateSchedule refuse rate( 10 minutes ) (their recorded
// answers). Parse itself still reads such an expression, so that one an older
// wharf accepted and stored keeps loading; only new input is checked.
func CheckSpacing(expr string) error {
	body, ok := strings.CutPrefix(expr, "rate(")
	if !ok {
		return nil
	}
	body = strings.TrimSuffix(body, ")")
	value, unit, ok := strings.Cut(body, " ")
	if !ok || value == "" || unit == "" || strings.ContainsAny(value, " \t") || strings.ContainsAny(unit, " \t") {
		return &Error{expr, "rate() takes a value and a unit separated by one space: rate(5 minutes)"}
	}
	return nil
}

// Rate fires every Every, counted from the previous firing.
type Rate struct {
	expr  string
	Every time.Duration
}

// Next is after + Every: a rate schedule fires one period after it last fired
// (or after it was created).
func (r *Rate) Next(after time.Time) (time.Time, bool) { return after.Add(r.Every), true }

func (r *Rate) String() string { return r.expr }

func parseRate(expr, body string) (*Rate, error) {
	// Spaces are read loosely here, as wharf took them before CheckSpacing:
	// a rule or schedule stored then must still load and fire.
	parts := strings.Fields(body)
	if len(parts) != 2 {
		return nil, &Error{expr, "rate() takes a value and a unit: rate(5 minutes)"}
	}
	n, err := strconv.Atoi(parts[0])
	if err != nil || n <= 0 || strconv.Itoa(n) != parts[0] {
		return nil, &Error{expr, "the rate value must be a positive whole number"}
	}
	units := map[string]time.Duration{"minute": time.Minute, "hour": time.Hour, "day": 24 * time.Hour}
	unit := parts[1]
	singular := strings.TrimSuffix(unit, "s")
	d, ok := units[singular]
	if !ok {
		return nil, &Error{expr, "the rate unit must be minute(s), hour(s) or day(s)"}
	}
	// AWS: "If the value is equal to 1, then the unit must be singular. If the
	// value is greater than 1, the unit must be plural."
	if (n == 1) != (unit == singular) {
		if n == 1 {
			return nil, &Error{expr, "a rate of 1 takes a singular unit: rate(1 " + singular + ")"}
		}
		return nil, &Error{expr, "a rate above 1 takes a plural unit: rate(" + parts[0] + " " + singular + "s)"}
	}
	return &Rate{expr: expr, Every: time.Duration(n) * d}, nil
}

// At fires once, at When.
type At struct {
	expr string
	When time.Time
}

// Next returns When if it is after after.
func (a *At) Next(after time.Time) (time.Time, bool) {
	if a.When.After(after) {
		return a.When, true
	}
	return time.Time{}, false
}

func (a *At) String() string { return a.expr }

// Cron is a six-field AWS cron expression.
type Cron struct {
	expr    string
	loc     *time.Location
	minutes [60]bool
	hours   [24]bool
	months  [13]bool // 1..12
	years   map[int]bool
	anyYear bool
	dom     domSpec
	dow     dowSpec
}

// domSpec is the day-of-month field.
type domSpec struct {
	any         bool // "?" (day-of-week decides)
	days        [32]bool
	last        bool // L
	lastWeekday bool // LW
	nearest     int  // nW: the weekday nearest day n
}

// dowSpec is the day-of-week field; weekdays are 1 (SUN) .. 7 (SAT).
type dowSpec struct {
	any      bool
	days     [8]bool
	lastOf   int // nL: the last day n of the month
	nth, nOf int // n#k: the k-th day n of the month (nth = k, nOf = n)
}

var monthNames = map[string]int{"JAN": 1, "FEB": 2, "MAR": 3, "APR": 4, "MAY": 5, "JUN": 6, "JUL": 7, "AUG": 8, "SEP": 9, "OCT": 10, "NOV": 11, "DEC": 12}
var dayNames = map[string]int{"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}

const minYear, maxYear = 1970, 2199

func parseCron(expr, body string, loc *time.Location) (*Cron, error) {
	f := strings.Fields(body)
	if len(f) != 6 {
		return nil, &Error{expr, "cron() takes six fields: minutes hours day-of-month month day-of-week year"}
	}
	c := &Cron{expr: expr, loc: loc}
	fail := func(field string, err error) (*Cron, error) {
		return nil, &Error{expr, field + ": " + err.Error()}
	}
	if err := setField(c.minutes[:], f[0], 0, 59, nil); err != nil {
		return fail("minutes", err)
	}
	if err := setField(c.hours[:], f[1], 0, 23, nil); err != nil {
		return fail("hours", err)
	}
	if err := setField(c.months[:], f[3], 1, 12, monthNames); err != nil {
		return fail("month", err)
	}
	if f[5] == "*" {
		c.anyYear = true
	} else {
		ys := make([]bool, maxYear+1)
		if err := setField(ys, f[5], minYear, maxYear, nil); err != nil {
			return fail("year", err)
		}
		c.years = map[int]bool{}
		for y := minYear; y <= maxYear; y++ {
			if ys[y] {
				c.years[y] = true
			}
		}
	}
	if (f[2] == "?") == (f[4] == "?") {
		return nil, &Error{expr, "exactly one of day-of-month and day-of-week must be ?"}
	}
	if err := c.dom.parse(f[2]); err != nil {
		return fail("day-of-month", err)
	}
	if err := c.dow.parse(f[4]); err != nil {
		return fail("day-of-week", err)
	}
	return c, nil
}

func (d *domSpec) parse(s string) error {
	switch {
	case s == "?":
		d.any = true
	case s == "L":
		d.last = true
	case s == "LW":
		d.lastWeekday = true
	case strings.HasSuffix(s, "W"):
		n, err := strconv.Atoi(strings.TrimSuffix(s, "W"))
		if err != nil || n < 1 || n > 31 {
			return fmt.Errorf("%q: W takes a day 1-31 (15W)", s)
		}
		d.nearest = n
	default:
		return setField(d.days[:], s, 1, 31, nil)
	}
	return nil
}

func (d *dowSpec) parse(s string) error {
	switch {
	case s == "?":
		d.any = true
	case s == "L":
		d.days[7] = true // L alone is the last day of the week, Saturday
	case strings.HasSuffix(s, "L"):
		n, err := dayValue(strings.TrimSuffix(s, "L"))
		if err != nil {
			return err
		}
		d.lastOf = n
	case strings.Contains(s, "#"):
		a, b, _ := strings.Cut(s, "#")
		n, err := dayValue(a)
		if err != nil {
			return err
		}
		k, err := strconv.Atoi(b)
		if err != nil || k < 1 || k > 5 {
			return fmt.Errorf("%q: # takes a week 1-5 (3#2 is the second Tuesday)", s)
		}
		d.nOf, d.nth = n, k
	default:
		return setField(d.days[:], s, 1, 7, dayNames)
	}
	return nil
}

func dayValue(s string) (int, error) {
	if n, ok := dayNames[strings.ToUpper(s)]; ok {
		return n, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 7 {
		return 0, fmt.Errorf("%q is not a day of the week (1-7 or SUN-SAT)", s)
	}
	return n, nil
}

// setField parses a list of *, values, ranges (a-b, wrapping when a > b) and steps
// (*/n, a/n, a-b/n) into set[min..max].
func setField(set []bool, s string, lo, hi int, names map[string]int) error {
	if s == "" {
		return fmt.Errorf("empty field")
	}
	for _, part := range strings.Split(s, ",") {
		rng, stepStr, hasStep := strings.Cut(part, "/")
		step := 1
		if hasStep {
			n, err := strconv.Atoi(stepStr)
			if err != nil || n <= 0 || n > hi-lo+1 {
				return fmt.Errorf("%q: bad step", part)
			}
			step = n
		}
		var from, to int
		switch {
		case rng == "*":
			from, to = lo, hi
		case strings.Contains(rng, "-"):
			a, b, _ := strings.Cut(rng, "-")
			var err error
			if from, err = value(a, lo, hi, names); err != nil {
				return err
			}
			if to, err = value(b, lo, hi, names); err != nil {
				return err
			}
		default:
			v, err := value(rng, lo, hi, names)
			if err != nil {
				return err
			}
			from, to = v, v
			if hasStep {
				to = hi // a/n: from a to the end, every n
			}
		}
		span := to - from
		if span < 0 {
			span += hi - lo + 1 // wrapping range: FRI-MON, 22-2
		}
		for i := 0; i <= span; i += step {
			v := from + i
			if v > hi {
				v -= hi - lo + 1
			}
			set[v] = true
		}
	}
	return nil
}

func value(s string, lo, hi int, names map[string]int) (int, error) {
	if n, ok := names[strings.ToUpper(s)]; ok {
		return n, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a number", s)
	}
	if n < lo || n > hi {
		return 0, fmt.Errorf("%d is outside %d-%d", n, lo, hi)
	}
	return n, nil
}

func (c *Cron) String() string { return c.expr }

// Next returns the first minute matching c strictly after after.
func (c *Cron) Next(after time.Time) (time.Time, bool) {
	t := after.In(c.loc).Truncate(time.Minute).Add(time.Minute)
	y, m, d := t.Date()
	startH, startM := t.Hour(), t.Minute()
	for y <= maxYear {
		if !c.anyYear && !c.years[y] {
			y, m, d, startH, startM = y+1, 1, 1, 0, 0
			continue
		}
		if !c.months[m] {
			if m == 12 {
				y, m = y+1, 1
			} else {
				m++
			}
			d, startH, startM = 1, 0, 0
			continue
		}
		if d > daysIn(y, m) {
			if m == 12 {
				y, m = y+1, 1
			} else {
				m++
			}
			d, startH, startM = 1, 0, 0
			continue
		}
		if c.dayMatches(y, m, d) {
			for h := startH; h < 24; h++ {
				if !c.hours[h] {
					continue
				}
				mm := 0
				if h == startH {
					mm = startM
				}
				for ; mm < 60; mm++ {
					if c.minutes[mm] {
						r := time.Date(y, m, d, h, mm, 0, 0, c.loc)
						if r.After(after) {
							return r, true
						}
					}
				}
			}
		}
		d, startH, startM = d+1, 0, 0
	}
	return time.Time{}, false
}

func daysIn(y int, m time.Month) int {
	return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

func (c *Cron) dayMatches(y int, m time.Month, d int) bool {
	if !c.dom.any {
		n := daysIn(y, m)
		switch {
		case c.dom.last:
			return d == n
		case c.dom.lastWeekday:
			return d == nearestWeekday(y, m, n)
		case c.dom.nearest > 0:
			if c.dom.nearest > n {
				return false
			}
			return d == nearestWeekday(y, m, c.dom.nearest)
		}
		return c.dom.days[d]
	}
	wd := int(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Weekday()) + 1 // 1 = SUN
	switch {
	case c.dow.lastOf > 0:
		return wd == c.dow.lastOf && d+7 > daysIn(y, m)
	case c.dow.nth > 0:
		return wd == c.dow.nOf && (d-1)/7+1 == c.dow.nth
	}
	return c.dow.days[wd]
}

// nearestWeekday is the Monday-to-Friday day nearest day d of the month, not
// leaving the month (Quartz's W: 1W on a Saturday is Monday the 3rd).
func nearestWeekday(y int, m time.Month, d int) int {
	n := daysIn(y, m)
	switch time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Weekday() {
	case time.Saturday:
		if d == 1 {
			return 3
		}
		return d - 1
	case time.Sunday:
		if d == n {
			return d - 2
		}
		return d + 1
	}
	return d
}
