package logs

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/wharf-dev/wharf/internal/apierr"
	"github.com/wharf-dev/wharf/internal/awsapi"
	logsapi "github.com/wharf-dev/wharf/internal/awsapi/logs"
	"github.com/wharf-dev/wharf/internal/clock"
	"github.com/wharf-dev/wharf/internal/store"
)

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func newTestService(t *testing.T) (*Service, context.Context) {
	t.Helper()
	s := New(Options{Store: store.OpenMemory(), Clock: clock.Func(func() time.Time { return t0 })})
	ctx := awsapi.WithCaller(context.Background(), &awsapi.Caller{Account: "111122223333", Region: "eu-west-1"})
	return s, ctx
}

func ms(d time.Duration) int64 { return t0.Add(d).UnixMilli() }

func mustGroupStream(t *testing.T, s *Service, ctx context.Context, g string, streams ...string) {
	t.Helper()
	if _, err := s.CreateLogGroup(ctx, &logsapi.CreateLogGroupInput{LogGroupName: &g}); err != nil {
		t.Fatal(err)
	}
	for _, st := range streams {
		if _, err := s.CreateLogStream(ctx, &logsapi.CreateLogStreamInput{LogGroupName: &g, LogStreamName: &st}); err != nil {
			t.Fatal(err)
		}
	}
}

func put(t *testing.T, s *Service, ctx context.Context, g, st string, evs ...logsapi.InputLogEvent) *logsapi.PutLogEventsOutput {
	t.Helper()
	out, err := s.PutLogEvents(ctx, &logsapi.PutLogEventsInput{LogGroupName: &g, LogStreamName: &st, LogEvents: evs})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func ev(ts int64, msg string) logsapi.InputLogEvent {
	return logsapi.InputLogEvent{Timestamp: &ts, Message: &msg}
}

func messages[T logsapi.OutputLogEvent | logsapi.FilteredLogEvent](evs []T) []string {
	out := []string{}
	for _, e := range evs {
		switch e := any(e).(type) {
		case logsapi.OutputLogEvent:
			out = append(out, *e.Message)
		case logsapi.FilteredLogEvent:
			out = append(out, *e.Message)
		}
	}
	return out
}

func code(err error) string {
	if e := apierr.As(err); e != nil {
		return e.Code
	}
	if err != nil {
		return err.Error()
	}
	return ""
}

func TestCreateLogGroupTwiceIsResourceAlreadyExists(t *testing.T) {
	s, ctx := newTestService(t)
	mustGroupStream(t, s, ctx, "/ecs/app")
	_, err := s.CreateLogGroup(ctx, &logsapi.CreateLogGroupInput{LogGroupName: awsapi.String("/ecs/app")})
	if code(err) != "ResourceAlreadyExistsException" {
		t.Fatalf("err = %v", err)
	}
	_, err = s.CreateLogGroup(ctx, &logsapi.CreateLogGroupInput{LogGroupName: awsapi.String("bad name")})
	if code(err) != "InvalidParameterException" {
		t.Fatalf("bad name: err = %v", err)
	}
}

func TestDescribeLogGroupsPrefixAndPagination(t *testing.T) {
	s, ctx := newTestService(t)
	for i := range 5 {
		mustGroupStream(t, s, ctx, fmt.Sprintf("/app/%d", i))
	}
	mustGroupStream(t, s, ctx, "/other")
	var names []string
	var token *string
	for pages := 0; ; pages++ {
		out, err := s.DescribeLogGroups(ctx, &logsapi.DescribeLogGroupsInput{LogGroupNamePrefix: awsapi.String("/app/"), Limit: awsapi.Int32(2), NextToken: token})
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range out.LogGroups {
			names = append(names, *g.LogGroupName)
			if *g.Arn != "arn:aws:logs:eu-west-1:111122223333:log-group:"+*g.LogGroupName+":*" {
				t.Errorf("arn = %s", *g.Arn)
			}
		}
		if token = out.NextToken; token == nil {
			break
		}
		if pages > 5 {
			t.Fatal("pagination does not end")
		}
	}
	want := []string{"/app/0", "/app/1", "/app/2", "/app/3", "/app/4"}
	if !reflect.DeepEqual(names, want) {
		t.Fatalf("names = %v", names)
	}
}

func TestDescribeLogStreamsOrdering(t *testing.T) {
	s, ctx := newTestService(t)
	mustGroupStream(t, s, ctx, "g", "a", "b", "c")
	put(t, s, ctx, "g", "a", ev(ms(-3*time.Minute), "x"))
	put(t, s, ctx, "g", "b", ev(ms(-1*time.Minute), "x"))
	put(t, s, ctx, "g", "c", ev(ms(-2*time.Minute), "x"))
	cases := []struct {
		name   string
		in     logsapi.DescribeLogStreamsInput
		want   []string
		errors string
	}{
		{"by name", logsapi.DescribeLogStreamsInput{}, []string{"a", "b", "c"}, ""},
		{"by name descending", logsapi.DescribeLogStreamsInput{Descending: awsapi.Bool(true)}, []string{"c", "b", "a"}, ""},
		{"by last event time", logsapi.DescribeLogStreamsInput{OrderBy: awsapi.String("LastEventTime")}, []string{"a", "c", "b"}, ""},
		{"newest first", logsapi.DescribeLogStreamsInput{OrderBy: awsapi.String("LastEventTime"), Descending: awsapi.Bool(true)}, []string{"b", "c", "a"}, ""},
		{"prefix", logsapi.DescribeLogStreamsInput{LogStreamNamePrefix: awsapi.String("b")}, []string{"b"}, ""},
		{"prefix with LastEventTime", logsapi.DescribeLogStreamsInput{OrderBy: awsapi.String("LastEventTime"), LogStreamNamePrefix: awsapi.String("b")}, nil, "InvalidParameterException"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.in.LogGroupName = awsapi.String("g")
			out, err := s.DescribeLogStreams(ctx, &c.in)
			if code(err) != c.errors {
				t.Fatalf("err = %v", err)
			}
			if err != nil {
				return
			}
			var got []string
			for _, st := range out.LogStreams {
				got = append(got, *st.LogStreamName)
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Fatalf("got %v, want %v", got, c.want)
			}
		})
	}
}

func TestPutLogEventsRules(t *testing.T) {
	cases := []struct {
		name     string
		events   []logsapi.InputLogEvent
		err      string
		rejected *logsapi.RejectedLogEventsInfo
		stored   []string
	}{
		{"in order", []logsapi.InputLogEvent{ev(ms(-time.Second), "a"), ev(ms(0*time.Millisecond), "b")}, "", nil, []string{"a", "b"}},
		{"same timestamp", []logsapi.InputLogEvent{ev(ms(0*time.Millisecond), "a"), ev(ms(0*time.Millisecond), "b")}, "", nil, []string{"a", "b"}},
		{"out of order", []logsapi.InputLogEvent{ev(ms(0*time.Millisecond), "a"), ev(ms(-time.Second), "b")}, "InvalidParameterException", nil, nil},
		{"empty batch", nil, "InvalidParameterException", nil, nil},
		{"spans more than a day", []logsapi.InputLogEvent{ev(ms(-25*time.Hour), "a"), ev(ms(0*time.Millisecond), "b")}, "InvalidParameterException", nil, nil},
		{"too new rejected, rest stored", []logsapi.InputLogEvent{ev(ms(0*time.Millisecond), "a"), ev(ms(3*time.Hour), "b")}, "",
			&logsapi.RejectedLogEventsInfo{TooNewLogEventStartIndex: awsapi.Int32(1)}, []string{"a"}},
		{"too old rejected, rest stored", []logsapi.InputLogEvent{ev(ms(-15*24*time.Hour), "a"), ev(ms(-15*24*time.Hour), "b"), ev(ms(0*time.Millisecond), "c")}, "",
			&logsapi.RejectedLogEventsInfo{TooOldLogEventEndIndex: awsapi.Int32(1)}, []string{"c"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, ctx := newTestService(t)
			mustGroupStream(t, s, ctx, "g", "s")
			out, err := s.PutLogEvents(ctx, &logsapi.PutLogEventsInput{LogGroupName: awsapi.String("g"), LogStreamName: awsapi.String("s"), LogEvents: c.events})
			if code(err) != c.err {
				t.Fatalf("err = %v, want %s", err, c.err)
			}
			if err == nil && !reflect.DeepEqual(out.RejectedLogEventsInfo, c.rejected) {
				t.Fatalf("rejected = %+v, want %+v", out.RejectedLogEventsInfo, c.rejected)
			}
			got, err := s.GetLogEvents(ctx, &logsapi.GetLogEventsInput{LogGroupName: awsapi.String("g"), LogStreamName: awsapi.String("s"), StartFromHead: awsapi.Bool(true)})
			if err != nil {
				t.Fatal(err)
			}
			if m := messages(got.Events); len(m) != len(c.stored) || len(m) > 0 && !reflect.DeepEqual(m, c.stored) {
				t.Fatalf("stored %v, want %v", m, c.stored)
			}
		})
	}
}

func TestPutLogEventsToMissingStream(t *testing.T) {
	s, ctx := newTestService(t)
	_, err := s.PutLogEvents(ctx, &logsapi.PutLogEventsInput{LogGroupName: awsapi.String("g"), LogStreamName: awsapi.String("s"), LogEvents: []logsapi.InputLogEvent{ev(ms(0*time.Millisecond), "a")}})
	if e := apierr.As(err); e == nil || e.Message != "The specified log group does not exist." {
		t.Fatalf("err = %v", err)
	}
	mustGroupStream(t, s, ctx, "g")
	_, err = s.PutLogEvents(ctx, &logsapi.PutLogEventsInput{LogGroupName: awsapi.String("g"), LogStreamName: awsapi.String("s"), LogEvents: []logsapi.InputLogEvent{ev(ms(0*time.Millisecond), "a")}})
	if e := apierr.As(err); e == nil || e.Message != "The specified log stream does not exist." {
		t.Fatalf("err = %v", err)
	}
}

func TestGetLogEventsTokensWalkBothWays(t *testing.T) {
	s, ctx := newTestService(t)
	mustGroupStream(t, s, ctx, "g", "s")
	var evs []logsapi.InputLogEvent
	for i := range 7 {
		evs = append(evs, ev(ms(time.Duration(i)*time.Second-time.Hour), fmt.Sprint(i)))
	}
	put(t, s, ctx, "g", "s", evs...)
	get := func(in logsapi.GetLogEventsInput) *logsapi.GetLogEventsOutput {
		t.Helper()
		in.LogGroupName, in.LogStreamName, in.Limit = awsapi.String("g"), awsapi.String("s"), awsapi.Int32(3)
		out, err := s.GetLogEvents(ctx, &in)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	tail := get(logsapi.GetLogEventsInput{})
	if m := messages(tail.Events); !reflect.DeepEqual(m, []string{"4", "5", "6"}) {
		t.Fatalf("tail = %v", m)
	}
	back := get(logsapi.GetLogEventsInput{NextToken: tail.NextBackwardToken})
	if m := messages(back.Events); !reflect.DeepEqual(m, []string{"1", "2", "3"}) {
		t.Fatalf("back = %v", m)
	}
	back2 := get(logsapi.GetLogEventsInput{NextToken: back.NextBackwardToken})
	if m := messages(back2.Events); !reflect.DeepEqual(m, []string{"0"}) {
		t.Fatalf("back2 = %v", m)
	}
	head := get(logsapi.GetLogEventsInput{StartFromHead: awsapi.Bool(true)})
	if m := messages(head.Events); !reflect.DeepEqual(m, []string{"0", "1", "2"}) {
		t.Fatalf("head = %v", m)
	}
	fwd := get(logsapi.GetLogEventsInput{NextToken: head.NextForwardToken})
	if m := messages(fwd.Events); !reflect.DeepEqual(m, []string{"3", "4", "5"}) {
		t.Fatalf("fwd = %v", m)
	}
	fwd = get(logsapi.GetLogEventsInput{NextToken: fwd.NextForwardToken})
	end := get(logsapi.GetLogEventsInput{NextToken: fwd.NextForwardToken})
	if len(end.Events) != 0 || *end.NextForwardToken != *fwd.NextForwardToken {
		t.Fatalf("at the end: %d events, token %s, want the same token %s", len(end.Events), *end.NextForwardToken, *fwd.NextForwardToken)
	}
	put(t, s, ctx, "g", "s", ev(ms(0*time.Millisecond), "later"))
	if m := messages(get(logsapi.GetLogEventsInput{NextToken: end.NextForwardToken}).Events); !reflect.DeepEqual(m, []string{"later"}) {
		t.Fatalf("after new event = %v", m)
	}
	ranged := get(logsapi.GetLogEventsInput{StartTime: awsapi.Int64(ms(2*time.Second - time.Hour)), EndTime: awsapi.Int64(ms(4*time.Second - time.Hour)), StartFromHead: awsapi.Bool(true)})
	if m := messages(ranged.Events); !reflect.DeepEqual(m, []string{"2", "3"}) {
		t.Fatalf("range [2s,4s) = %v", m)
	}
}

func TestFilterLogEventsInterleavesStreamsAndPages(t *testing.T) {
	s, ctx := newTestService(t)
	mustGroupStream(t, s, ctx, "g", "web", "worker")
	put(t, s, ctx, "g", "web", ev(ms(1*time.Millisecond), "GET / 200"), ev(ms(3*time.Millisecond), "GET /x 500 ERROR"), ev(ms(5*time.Millisecond), "GET /y 200"))
	put(t, s, ctx, "g", "worker", ev(ms(2*time.Millisecond), "job ERROR timeout"), ev(ms(4*time.Millisecond), "job done"))
	var got []string
	var token *string
	for {
		out, err := s.FilterLogEvents(ctx, &logsapi.FilterLogEventsInput{LogGroupName: awsapi.String("g"), Limit: awsapi.Int32(2), NextToken: token})
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, messages(out.Events)...)
		if token = out.NextToken; token == nil {
			break
		}
	}
	want := []string{"GET / 200", "job ERROR timeout", "GET /x 500 ERROR", "job done", "GET /y 200"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v", got)
	}
	out, err := s.FilterLogEvents(ctx, &logsapi.FilterLogEventsInput{LogGroupName: awsapi.String("g"), FilterPattern: awsapi.String("ERROR"), LogStreamNamePrefix: awsapi.String("work")})
	if err != nil {
		t.Fatal(err)
	}
	if m := messages(out.Events); !reflect.DeepEqual(m, []string{"job ERROR timeout"}) {
		t.Fatalf("filtered = %v", m)
	}
	out, err = s.FilterLogEvents(ctx, &logsapi.FilterLogEventsInput{LogGroupName: awsapi.String("g"), StartTime: awsapi.Int64(ms(2 * time.Millisecond)), EndTime: awsapi.Int64(ms(4 * time.Millisecond))})
	if err != nil {
		t.Fatal(err)
	}
	if m := messages(out.Events); !reflect.DeepEqual(m, []string{"job ERROR timeout", "GET /x 500 ERROR", "job done"}) {
		t.Fatalf("time range [2,4] = %v", m)
	}
}

func TestFilterPatterns(t *testing.T) {
	cases := []struct {
		pattern, msg string
		want         bool
	}{
		{"", "anything", true},
		{"ERROR", "an ERROR here", true},
		{"ERROR", "an error here", false},
		{"ERROR Exception", "ERROR without", false},
		{"ERROR Exception", "ERROR with Exception", true},
		{`"Status Code: 500"`, "got Status Code: 500 back", true},
		{`"Status Code: 500"`, "Status Code 500", false},
		{"ERROR -Exiting", "ERROR Exiting now", false},
		{"ERROR -Exiting", "ERROR carry on", true},
		{"?ERROR ?WARN", "WARN disk", true},
		{"?ERROR ?WARN", "INFO ok", false},
		{"%user-[0-9]+%", "login user-42", true},
		{"%user-[0-9]+%", "login user-x", false},
		{`{ $.level = "error" }`, `{"level":"error","n":3}`, true},
		{`{ $.level = "error" }`, `{"level":"info"}`, false},
		{`{ $.level = "error" }`, `level=error`, false},
		{`{ $.latency > 100 && $.path = "/api/*" }`, `{"latency":150,"path":"/api/users"}`, true},
		{`{ $.latency > 100 && $.path = "/api/*" }`, `{"latency":50,"path":"/api/users"}`, false},
		{`{ ($.a = 1 || $.b = 2) && $.c != "x" }`, `{"b":2,"c":"y"}`, true},
		{`{ $.req.headers[0] = "gzip" }`, `{"req":{"headers":["gzip"]}}`, true},
		{`{ $.user IS NULL }`, `{"user":null}`, true},
		{`{ $.user NOT EXISTS }`, `{"other":1}`, true},
		{`{ $.ok IS TRUE }`, `{"ok":true}`, true},
	}
	for _, c := range cases {
		t.Run(c.pattern+"|"+c.msg, func(t *testing.T) {
			m, err := compileFilter(c.pattern)
			if err != nil {
				t.Fatal(err)
			}
			if got := m(c.msg); got != c.want {
				t.Fatalf("match = %v, want %v", got, c.want)
			}
		})
	}
}

func TestFilterPatternErrorsAreInvalidParameter(t *testing.T) {
	for _, p := range []string{`{ $.a = }`, `{ $.a = "x"`, `"unterminated`, `[ip, user]`, `{ a = 1 }`, `%[%`} {
		if _, err := compileFilter(p); code(err) != "InvalidParameterException" {
			t.Errorf("%q: err = %v", p, err)
		}
	}
}

func TestPutLogLinesCreatesGroupAndStream(t *testing.T) {
	s, ctx := newTestService(t)
	err := s.PutLogLines(ctx, "111122223333", "eu-west-1", "/ecs/web", "ecs/web/abc", []LogLine{{t0, "first"}, {t0.Add(-time.Second), "earlier"}})
	if err != nil {
		t.Fatal(err)
	}
	out, err := s.GetLogEvents(ctx, &logsapi.GetLogEventsInput{LogGroupName: awsapi.String("/ecs/web"), LogStreamName: awsapi.String("ecs/web/abc")})
	if err != nil {
		t.Fatal(err)
	}
	if m := messages(out.Events); !reflect.DeepEqual(m, []string{"earlier", "first"}) {
		t.Fatalf("events = %v", m)
	}
	if err := s.PutLogLines(ctx, "111122223333", "eu-west-1", "/ecs/web", "ecs/web/abc", []LogLine{{t0, "again"}}); err != nil {
		t.Fatal(err)
	}
}

func TestRetentionAndTags(t *testing.T) {
	s, ctx := newTestService(t)
	mustGroupStream(t, s, ctx, "g")
	if _, err := s.PutRetentionPolicy(ctx, &logsapi.PutRetentionPolicyInput{LogGroupName: awsapi.String("g"), RetentionInDays: awsapi.Int32(2)}); code(err) != "InvalidParameterException" {
		t.Fatalf("2 days: %v", err)
	}
	if _, err := s.PutRetentionPolicy(ctx, &logsapi.PutRetentionPolicyInput{LogGroupName: awsapi.String("g"), RetentionInDays: awsapi.Int32(7)}); err != nil {
		t.Fatal(err)
	}
	arn := "arn:aws:logs:eu-west-1:111122223333:log-group:g"
	if _, err := s.TagResource(ctx, &logsapi.TagResourceInput{ResourceArn: &arn, Tags: map[string]string{"team": "a", "env": "dev"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UntagResource(ctx, &logsapi.UntagResourceInput{ResourceArn: &arn, TagKeys: []string{"env"}}); err != nil {
		t.Fatal(err)
	}
	tags, err := s.ListTagsForResource(ctx, &logsapi.ListTagsForResourceInput{ResourceArn: &arn})
	if err != nil || !reflect.DeepEqual(tags.Tags, map[string]string{"team": "a"}) {
		t.Fatalf("tags = %v %v", tags, err)
	}
	out, _ := s.DescribeLogGroups(ctx, &logsapi.DescribeLogGroupsInput{})
	if awsapi.ToInt32(out.LogGroups[0].RetentionInDays) != 7 {
		t.Fatalf("retention = %v", out.LogGroups[0].RetentionInDays)
	}
	// Events older than the retention period are reported as expired.
	if _, err := s.CreateLogStream(ctx, &logsapi.CreateLogStreamInput{LogGroupName: awsapi.String("g"), LogStreamName: awsapi.String("s")}); err != nil {
		t.Fatal(err)
	}
	res := put(t, s, ctx, "g", "s", ev(ms(-7*24*time.Hour-time.Hour), "old"), ev(ms(-7*24*time.Hour+time.Hour), "new"))
	if !reflect.DeepEqual(res.RejectedLogEventsInfo, &logsapi.RejectedLogEventsInfo{ExpiredLogEventEndIndex: awsapi.Int32(0)}) {
		t.Fatalf("rejected = %+v", res.RejectedLogEventsInfo)
	}
}

func FuzzCompileFilter(f *testing.F) {
	for _, p := range []string{"", "ERROR", `"a b" -c ?d`, `{ $.a.b[0] = "x*" && ($.n >= 3 || $.m NOT EXISTS) }`, "%a+%", `{ $.x IS NULL }`} {
		f.Add(p, `{"a":{"b":["xy"]},"n":3}`)
	}
	f.Fuzz(func(t *testing.T, p, msg string) {
		m, err := compileFilter(p)
		if err == nil {
			m(msg)
		}
	})
}

func FuzzParseToken(f *testing.F) {
	f.Add("f/0000000000000000000000000000000000000000/s")
	f.Add("b/1234/s")
	f.Fuzz(func(t *testing.T, tok string) {
		dir, raw, err := parseToken(tok)
		if err == nil && formatToken(dir, raw) != tok {
			t.Fatalf("round trip %q → %q", tok, formatToken(dir, raw))
		}
	})
}
