package events

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/wharf-dev/wharf/internal/awsapi"
	eventsapi "github.com/wharf-dev/wharf/internal/awsapi/events"
)

const (
	acct       = "123456789012"
	defaultArn = "arn:aws:events:us-east-1:" + acct + ":event-bus/default"
)

func (f *fixture) createArchive(t *testing.T, name, pat string) {
	t.Helper()
	in := &eventsapi.CreateArchiveInput{ArchiveName: &name, EventSourceArn: awsapi.String(defaultArn)}
	if pat != "" {
		in.EventPattern = &pat
	}
	if _, err := f.s.CreateArchive(f.ctx, in); err != nil {
		t.Fatalf("CreateArchive: %v", err)
	}
}

func (f *fixture) replay(t *testing.T, name string, from, to time.Time, filter ...string) {
	t.Helper()
	_, err := f.s.StartReplay(f.ctx, &eventsapi.StartReplayInput{ReplayName: &name,
		EventSourceArn: awsapi.String("arn:aws:events:us-east-1:" + acct + ":archive/all"),
		EventStartTime: &from, EventEndTime: &to,
		Destination: &eventsapi.ReplayDestination{Arn: awsapi.String(defaultArn), FilterArns: filter}})
	if err != nil {
		t.Fatalf("StartReplay: %v", err)
	}
	if err := f.s.RunReplays(f.ctx); err != nil {
		t.Fatal(err)
	}
	if err := f.s.Dispatch(f.ctx); err != nil {
		t.Fatal(err)
	}
}

func TestArchiveKeepsMatchingEventsAndReplayRedeliversThemWithReplayName(t *testing.T) {
	f := newFixture(t)
	rec := &recorder{}
	f.tgt["sqs"] = rec
	f.putRule(t, "r", `{"source":["app"]}`)
	f.putTarget(t, "r", eventsapi.Target{Id: awsapi.String("q"), Arn: awsapi.String("arn:aws:sqs:us-east-1:" + acct + ":q")})
	f.createArchive(t, "all", "")
	f.createArchive(t, "big", `{"detail":{"n":[{"numeric":[">",1]}]}}`)

	start := f.clk.t
	f.putEvent(t, "app", "t", `{"n":1}`)
	f.clk.t = f.clk.t.Add(time.Minute)
	f.putEvent(t, "app", "t", `{"n":2}`)
	f.clk.t = f.clk.t.Add(time.Minute)
	f.putEvent(t, "other", "t", `{"n":3}`) // archived, though no rule matches

	for name, want := range map[string]int64{"all": 3, "big": 2} {
		out, err := f.s.DescribeArchive(f.ctx, &eventsapi.DescribeArchiveInput{ArchiveName: awsapi.String(name)})
		if err != nil {
			t.Fatal(err)
		}
		if *out.EventCount != want || *out.SizeBytes == 0 || *out.State != "ENABLED" || *out.EventSourceArn != defaultArn {
			t.Errorf("archive %s: %d events, %d bytes, state %s", name, *out.EventCount, *out.SizeBytes, *out.State)
		}
	}
	if n := len(rec.deliveries()); n != 2 {
		t.Fatalf("%d deliveries before the replay", n)
	}

	f.clk.t = f.clk.t.Add(time.Hour)
	// Only the first two minutes: the third event (and nothing after) is left out.
	f.replay(t, "again", start, start.Add(2*time.Minute))
	got := rec.deliveries()
	if len(got) != 4 {
		t.Fatalf("%d deliveries after the replay, want 4", len(got))
	}
	for _, d := range got[2:] {
		var env map[string]any
		if err := json.Unmarshal(d.Input, &env); err != nil {
			t.Fatal(err)
		}
		if env["replay-name"] != "again" || env["source"] != "app" {
			t.Errorf("replayed event %s", d.Input)
		}
	}
	out, err := f.s.DescribeReplay(f.ctx, &eventsapi.DescribeReplayInput{ReplayName: awsapi.String("again")})
	if err != nil {
		t.Fatal(err)
	}
	if *out.State != "COMPLETED" || !out.EventLastReplayedTime.Equal(start.Add(time.Minute)) || out.ReplayEndTime == nil {
		t.Errorf("replay %s, last replayed %v", *out.State, out.EventLastReplayedTime)
	}
	// Replayed events are not archived again.
	a, _ := f.s.DescribeArchive(f.ctx, &eventsapi.DescribeArchiveInput{ArchiveName: awsapi.String("all")})
	if *a.EventCount != 3 {
		t.Errorf("archive holds %d events after a replay, want 3", *a.EventCount)
	}
	if _, err := f.s.CancelReplay(f.ctx, &eventsapi.CancelReplayInput{ReplayName: awsapi.String("again")}); code(err) != "IllegalStatusException" {
		t.Errorf("cancel of a completed replay: %v", err)
	}
}

func TestReplayGoesOnlyToFilterArnsRules(t *testing.T) {
	f := newFixture(t)
	one, two := &recorder{}, &recorder{}
	f.tgt["sqs"], f.tgt["sns"] = one, two
	for name, tgt := range map[string]string{"one": "arn:aws:sqs:us-east-1:" + acct + ":q", "two": "arn:aws:sns:us-east-1:" + acct + ":t"} {
		f.putRule(t, name, `{"source":["app"]}`)
		f.putTarget(t, name, eventsapi.Target{Id: awsapi.String("x"), Arn: awsapi.String(tgt)})
	}
	f.createArchive(t, "all", "")
	start := f.clk.t
	f.putEvent(t, "app", "t", `{}`)
	f.clk.t = f.clk.t.Add(time.Minute)
	f.replay(t, "only-two", start, f.clk.t, "arn:aws:events:us-east-1:"+acct+":rule/two")
	if len(one.deliveries()) != 1 || len(two.deliveries()) != 2 {
		t.Errorf("rule one got %d, rule two got %d; want 1 and 2", len(one.deliveries()), len(two.deliveries()))
	}
}

func TestReplayResumesFromItsCursorAfterARestart(t *testing.T) {
	f := newFixture(t)
	rec := &recorder{}
	f.tgt["sqs"] = rec
	f.putRule(t, "r", `{"source":["app"]}`)
	f.putTarget(t, "r", eventsapi.Target{Id: awsapi.String("q"), Arn: awsapi.String("arn:aws:sqs:us-east-1:" + acct + ":q")})
	f.createArchive(t, "all", "")
	start := f.clk.t
	for i := range replayBatch + 10 {
		f.putEvent(t, "app", "t", fmt.Sprintf(`{"i":%d}`, i))
	}
	f.clk.t = f.clk.t.Add(time.Minute)
	end := f.clk.t
	name := "big"
	if _, err := f.s.StartReplay(f.ctx, &eventsapi.StartReplayInput{ReplayName: &name,
		EventSourceArn: awsapi.String("arn:aws:events:us-east-1:" + acct + ":archive/all"), EventStartTime: &start, EventEndTime: &end,
		Destination: &eventsapi.ReplayDestination{Arn: awsapi.String(defaultArn)}}); err != nil {
		t.Fatal(err)
	}
	// One batch, then "crash": a new service over the same store.
	if done, err := f.s.replayStep(acct, "us-east-1", name, "default"); err != nil || done {
		t.Fatalf("first step: done %v, err %v", done, err)
	}
	f.s = f.service()
	if err := f.s.loadAll(); err != nil {
		t.Fatal(err)
	}
	if err := f.s.RunReplays(f.ctx); err != nil {
		t.Fatal(err)
	}
	f.s.Dispatch(f.ctx)
	if n := len(rec.deliveries()); n != 2*(replayBatch+10) {
		t.Errorf("%d deliveries, want each event once and replayed once: %d", n, 2*(replayBatch+10))
	}
}

func TestArchiveAndReplayErrors(t *testing.T) {
	f := newFixture(t)
	f.createArchive(t, "all", "")
	now := f.clk.t
	past := now.Add(-time.Hour)
	tests := []struct {
		name string
		call func() error
		code string
	}{
		{"duplicate archive", func() error {
			_, err := f.s.CreateArchive(f.ctx, &eventsapi.CreateArchiveInput{ArchiveName: awsapi.String("all"), EventSourceArn: awsapi.String(defaultArn)})
			return err
		}, "ResourceAlreadyExistsException"},
		{"archive of a missing bus", func() error {
			_, err := f.s.CreateArchive(f.ctx, &eventsapi.CreateArchiveInput{ArchiveName: awsapi.String("x"), EventSourceArn: awsapi.String("arn:aws:events:us-east-1:" + acct + ":event-bus/nope")})
			return err
		}, "ResourceNotFoundException"},
		{"invalid pattern", func() error {
			_, err := f.s.CreateArchive(f.ctx, &eventsapi.CreateArchiveInput{ArchiveName: awsapi.String("x"), EventSourceArn: awsapi.String(defaultArn), EventPattern: awsapi.String(`{"source":"a"}`)})
			return err
		}, "InvalidEventPatternException"},
		{"missing archive", func() error {
			_, err := f.s.DescribeArchive(f.ctx, &eventsapi.DescribeArchiveInput{ArchiveName: awsapi.String("nope")})
			return err
		}, "ResourceNotFoundException"},
		{"two list filters", func() error {
			_, err := f.s.ListArchives(f.ctx, &eventsapi.ListArchivesInput{NamePrefix: awsapi.String("a"), State: awsapi.String("ENABLED")})
			return err
		}, "ValidationException"},
		{"replay of a missing archive", func() error {
			_, err := f.s.StartReplay(f.ctx, &eventsapi.StartReplayInput{ReplayName: awsapi.String("r"), EventSourceArn: awsapi.String("arn:aws:events:us-east-1:" + acct + ":archive/nope"),
				EventStartTime: &past, EventEndTime: &now, Destination: &eventsapi.ReplayDestination{Arn: awsapi.String(defaultArn)}})
			return err
		}, "ValidationException"},
		{"replay ending before it starts", func() error {
			_, err := f.s.StartReplay(f.ctx, &eventsapi.StartReplayInput{ReplayName: awsapi.String("r"), EventSourceArn: awsapi.String("arn:aws:events:us-east-1:" + acct + ":archive/all"),
				EventStartTime: &now, EventEndTime: &past, Destination: &eventsapi.ReplayDestination{Arn: awsapi.String(defaultArn)}})
			return err
		}, "ValidationException"},
		{"replay to another bus", func() error {
			_, err := f.s.StartReplay(f.ctx, &eventsapi.StartReplayInput{ReplayName: awsapi.String("r"), EventSourceArn: awsapi.String("arn:aws:events:us-east-1:" + acct + ":archive/all"),
				EventStartTime: &past, EventEndTime: &now, Destination: &eventsapi.ReplayDestination{Arn: awsapi.String("arn:aws:events:us-east-1:" + acct + ":event-bus/other")}})
			return err
		}, "ValidationException"},
		{"missing replay", func() error {
			_, err := f.s.DescribeReplay(f.ctx, &eventsapi.DescribeReplayInput{ReplayName: awsapi.String("nope")})
			return err
		}, "ResourceNotFoundException"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := code(tc.call()); got != tc.code {
				t.Errorf("got %s, want %s", got, tc.code)
			}
		})
	}
}

func TestCancelReplayStopsIt(t *testing.T) {
	f := newFixture(t)
	f.createArchive(t, "all", "")
	from, to := f.clk.t.Add(-time.Hour), f.clk.t
	if _, err := f.s.StartReplay(f.ctx, &eventsapi.StartReplayInput{ReplayName: awsapi.String("r"), EventSourceArn: awsapi.String("arn:aws:events:us-east-1:" + acct + ":archive/all"),
		EventStartTime: &from, EventEndTime: &to, Destination: &eventsapi.ReplayDestination{Arn: awsapi.String(defaultArn)}}); err != nil {
		t.Fatal(err)
	}
	out, err := f.s.CancelReplay(f.ctx, &eventsapi.CancelReplayInput{ReplayName: awsapi.String("r")})
	if err != nil || *out.State != "CANCELLING" {
		t.Fatalf("cancel: %v %+v", err, out)
	}
	f.s.RunReplays(f.ctx)
	d, _ := f.s.DescribeReplay(f.ctx, &eventsapi.DescribeReplayInput{ReplayName: awsapi.String("r")})
	if *d.State != "CANCELLED" {
		t.Errorf("state %s after cancel", *d.State)
	}
	l, _ := f.s.ListReplays(f.ctx, &eventsapi.ListReplaysInput{State: awsapi.String("CANCELLED")})
	if len(l.Replays) != 1 {
		t.Errorf("ListReplays(CANCELLED) = %d", len(l.Replays))
	}
}

func TestArchiveRetentionExpiresOldEvents(t *testing.T) {
	f := newFixture(t)
	name := "week"
	if _, err := f.s.CreateArchive(f.ctx, &eventsapi.CreateArchiveInput{ArchiveName: &name, EventSourceArn: awsapi.String(defaultArn), RetentionDays: awsapi.Int32(7)}); err != nil {
		t.Fatal(err)
	}
	f.putEvent(t, "app", "t", `{}`)
	f.clk.t = f.clk.t.Add(6 * 24 * time.Hour)
	f.putEvent(t, "app", "t", `{}`)
	f.clk.t = f.clk.t.Add(2 * 24 * time.Hour)
	if err := f.s.ExpireArchives(); err != nil {
		t.Fatal(err)
	}
	out, _ := f.s.DescribeArchive(f.ctx, &eventsapi.DescribeArchiveInput{ArchiveName: &name})
	if *out.EventCount != 1 {
		t.Errorf("%d events after 8 days with 7 days' retention, want 1", *out.EventCount)
	}
}

func TestWithReplayName(t *testing.T) {
	for in, want := range map[string]string{
		`{"a":1}`:   `{"a":1,"replay-name":"r\"1"}`,
		`{}`:        `{"replay-name":"r\"1"}`,
		`{"a":1} `:  `{"a":1,"replay-name":"r\"1"}`,
		`not json`:  `not json`,
		`[1,2,3]`:   `[1,2,3]`,
		`{"b":{}} `: `{"b":{},"replay-name":"r\"1"}`,
	} {
		if got := string(withReplayName([]byte(in), `r"1`)); got != want {
			t.Errorf("withReplayName(%s) = %s, want %s", in, got, want)
		}
	}
}

func TestSubmitDeliversThroughTheSameRetriesAndDeadLetters(t *testing.T) {
	f := newFixture(t)
	flaky, dlq := &recorder{fail: true}, &recorder{}
	f.tgt["sns"], f.tgt["sqs"] = flaky, dlq
	sched := "arn:aws:scheduler:us-east-1:" + acct + ":schedule/default/s"
	err := f.s.Submit(f.ctx, Delivery{Account: acct, Region: "us-east-1", ScheduleArn: sched, EventID: "e1", Input: []byte(`{"x":1}`),
		Target: eventsapi.Target{Arn: awsapi.String("arn:aws:sns:us-east-1:" + acct + ":t"),
			RetryPolicy:      &eventsapi.RetryPolicy{MaximumRetryAttempts: awsapi.Int32(1)},
			DeadLetterConfig: &eventsapi.DeadLetterConfig{Arn: awsapi.String("arn:aws:sqs:us-east-1:" + acct + ":dlq")}}})
	if err != nil {
		t.Fatal(err)
	}
	f.s.Dispatch(f.ctx)
	for range 2 {
		f.clk.t = f.clk.t.Add(time.Hour)
		f.s.Retry(f.ctx)
	}
	got := dlq.deliveries()
	if len(got) != 1 {
		t.Fatalf("%d dead letters", len(got))
	}
	a := got[0].Attributes
	if a["SCHEDULE_ARN"] != sched || a["RETRY_ATTEMPTS"] != "1" || a["EXHAUSTED_RETRY_CONDITION"] != "MaximumRetryAttempts" || a["RULE_ARN"] != "" || string(got[0].Input) != `{"x":1}` {
		t.Errorf("dead letter %+v", got[0])
	}
}

func TestSubmitToAnEventBusPutsAnEventWithTheGivenSourceAndDetailType(t *testing.T) {
	f := newFixture(t)
	rec := &recorder{}
	f.tgt["sqs"] = rec
	f.putRule(t, "r", `{"source":["my.scheduler"],"detail-type":["Tick"]}`)
	f.putTarget(t, "r", eventsapi.Target{Id: awsapi.String("q"), Arn: awsapi.String("arn:aws:sqs:us-east-1:" + acct + ":q")})
	sched := "arn:aws:scheduler:us-east-1:" + acct + ":schedule/default/s"
	if err := f.s.Submit(f.ctx, Delivery{Account: acct, Region: "us-east-1", ScheduleArn: sched, Input: []byte(`{"k":"v"}`),
		Source: "my.scheduler", DetailType: "Tick", Target: eventsapi.Target{Arn: awsapi.String(defaultArn)}}); err != nil {
		t.Fatal(err)
	}
	f.s.Dispatch(f.ctx)
	got := rec.deliveries()
	if len(got) != 1 {
		t.Fatalf("%d deliveries", len(got))
	}
	var env map[string]any
	json.Unmarshal(got[0].Input, &env)
	if fmt.Sprint(env["detail"]) != "map[k:v]" || fmt.Sprint(env["resources"]) != "["+sched+"]" {
		t.Errorf("event %s", got[0].Input)
	}
}

func TestScheduleRuleMissedWhileDownFiresOnceOnStart(t *testing.T) {
	f := newFixture(t)
	rec := &recorder{}
	f.tgt["sqs"] = rec
	name := "hourly"
	if _, err := f.s.PutRule(f.ctx, &eventsapi.PutRuleInput{Name: &name, ScheduleExpression: awsapi.String("rate(1 hour)")}); err != nil {
		t.Fatal(err)
	}
	f.putTarget(t, name, eventsapi.Target{Id: awsapi.String("q"), Arn: awsapi.String("arn:aws:sqs:us-east-1:" + acct + ":q")})
	f.clk.t = f.clk.t.Add(time.Hour)
	f.s.FireSchedules(f.ctx)
	f.s.Dispatch(f.ctx)
	if n := len(rec.deliveries()); n != 1 {
		t.Fatalf("%d firings after an hour", n)
	}
	// Down for three hours and a half, then started again.
	f.clk.t = f.clk.t.Add(3*time.Hour + 30*time.Minute)
	f.s = f.service()
	if err := f.s.loadAll(); err != nil {
		t.Fatal(err)
	}
	f.s.FireSchedules(f.ctx)
	f.s.Dispatch(f.ctx)
	if n := len(rec.deliveries()); n != 2 {
		t.Fatalf("%d firings after the restart, want 2 (missed periods fire once)", n)
	}
	// A restart right after a firing does not fire again.
	f.s = f.service()
	f.s.loadAll()
	f.s.FireSchedules(f.ctx)
	f.s.Dispatch(f.ctx)
	if n := len(rec.deliveries()); n != 2 {
		t.Errorf("%d firings after a second restart, want 2", n)
	}
	// The schedule keeps its phase: next at the start + 5h.
	f.clk.t = f.clk.t.Add(30 * time.Minute)
	f.s.FireSchedules(f.ctx)
	f.s.Dispatch(f.ctx)
	if n := len(rec.deliveries()); n != 3 {
		t.Errorf("%d firings at the next period, want 3", n)
	}
}

// FuzzWithReplayName: a JSON object stays a JSON object, gaining only
// "replay-name"; anything else is left alone.
func FuzzWithReplayName(f *testing.F) {
	for _, s := range []string{`{}`, `{"a":1}`, `{"a":{"b":[1,{}]}} `, `[]`, `"x"`, `{`, ``, `{"replay-name":"old"}`} {
		f.Add(s, "r")
	}
	f.Fuzz(func(t *testing.T, event, name string) {
		out := withReplayName([]byte(event), name)
		var obj map[string]any
		if json.Unmarshal([]byte(event), &obj) != nil || obj == nil {
			return
		}
		var got map[string]any
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("withReplayName(%q) = %q: %v", event, out, err)
		}
		if _, had := obj["replay-name"]; !had && len(got) != len(obj)+1 {
			t.Errorf("withReplayName(%q) = %q", event, out)
		}
	})
}
