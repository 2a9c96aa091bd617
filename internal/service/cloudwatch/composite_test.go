package cloudwatch

import (
	"strings"
	"testing"

	"github.com/wharf-dev/wharf/internal/awsapi"
	cwapi "github.com/wharf-dev/wharf/internal/awsapi/cloudwatch"
)

// A composite alarm follows its rule over the states of the alarms it
// names: ALARM while the rule is true, OK once it is false, with its actions
// run on each change.
func TestCompositeAlarmFollowsItsRule(t *testing.T) {
	s, clk, ctx, _ := newTestService(t)
	sns := &fakeSNS{}
	s.SetTopicPublisher(sns)
	putAlarm(t, s, ctx, func(in *cwapi.PutMetricAlarmInput) { in.AlarmActions, in.OKActions = nil, nil })
	putAlarm(t, s, ctx, func(in *cwapi.PutMetricAlarmInput) {
		in.AlarmName, in.AlarmActions, in.OKActions = awsapi.String("errors"), nil, nil
	})
	rule := `ALARM("backlog-high") AND NOT OK(errors)`
	_, err := s.PutCompositeAlarm(ctx, &cwapi.PutCompositeAlarmInput{AlarmName: awsapi.String("unhealthy"), AlarmRule: awsapi.String(rule),
		AlarmActions: []string{topic}, OKActions: []string{topic}})
	if err != nil {
		t.Fatal(err)
	}
	describe := func() cwapi.CompositeAlarm {
		t.Helper()
		out, err := s.DescribeAlarms(ctx, &cwapi.DescribeAlarmsInput{AlarmNames: []string{"unhealthy"}, AlarmTypes: []string{"CompositeAlarm"}})
		if err != nil || len(out.CompositeAlarms) != 1 || len(out.MetricAlarms) != 0 {
			t.Fatalf("DescribeAlarms = %+v, %v", out, err)
		}
		return out.CompositeAlarms[0]
	}
	if c := describe(); *c.StateValue != "INSUFFICIENT_DATA" || *c.AlarmRule != rule {
		t.Fatalf("new composite = %+v", c)
	}
	// Without AlarmTypes, DescribeAlarms lists metric alarms only.
	if out, _ := s.DescribeAlarms(ctx, &cwapi.DescribeAlarmsInput{}); len(out.MetricAlarms) != 2 || len(out.CompositeAlarms) != 0 {
		t.Errorf("DescribeAlarms without AlarmTypes = %d metric, %d composite", len(out.MetricAlarms), len(out.CompositeAlarms))
	}

	set := func(name, state string) {
		t.Helper()
		if _, err := s.SetAlarmState(ctx, &cwapi.SetAlarmStateInput{AlarmName: awsapi.String(name), StateValue: awsapi.String(state), StateReason: awsapi.String("test")}); err != nil {
			t.Fatal(err)
		}
		// Only the composites: evaluating the metric alarms would put them
		// back to what their (missing) data says.
		if err := s.evaluateComposites(ctx, clk.Now()); err != nil {
			t.Fatal(err)
		}
	}
	set("backlog-high", "ALARM")
	set("errors", "OK")
	if c := describe(); *c.StateValue != "OK" {
		t.Fatalf("with errors OK: %s", *c.StateValue)
	}
	set("errors", "ALARM")
	c := describe()
	if *c.StateValue != "ALARM" || !strings.Contains(*c.StateReason, ":alarm:backlog-high transitioned to ALARM") {
		t.Fatalf("rule true: %s (%s)", *c.StateValue, *c.StateReason)
	}
	set("backlog-high", "OK")
	if c := describe(); *c.StateValue != "OK" {
		t.Fatalf("rule false again: %s", *c.StateValue)
	}
	var subjects []string
	for _, p := range sns.sent {
		subjects = append(subjects, p.subject)
	}
	// ALARM as soon as backlog-high is (errors, INSUFFICIENT_DATA, is not OK),
	// OK, ALARM, OK.
	if len(subjects) != 4 || !strings.HasPrefix(subjects[0], `ALARM: "unhealthy"`) || !strings.HasPrefix(subjects[3], `OK: "unhealthy"`) {
		t.Errorf("notifications = %q", subjects)
	}

	for _, tc := range []struct{ name, rule, want string }{
		{"unknown alarm", `ALARM("nope")`, "ValidationError"},
		{"syntax", `ALARM("errors") AND`, "InvalidParameterValueException"},
		{"itself", `ALARM("unhealthy")`, "InvalidParameterValueException"},
	} {
		_, err := s.PutCompositeAlarm(ctx, &cwapi.PutCompositeAlarmInput{AlarmName: awsapi.String("unhealthy"), AlarmRule: awsapi.String(tc.rule)})
		if code(err) != tc.want {
			t.Errorf("%s: %v, want %s", tc.name, err, tc.want)
		}
	}
	_, err = s.PutCompositeAlarm(ctx, &cwapi.PutCompositeAlarmInput{AlarmName: awsapi.String("errors"), AlarmRule: awsapi.String("TRUE")})
	if code(err) != "InvalidParameterValueException" {
		t.Errorf("a composite replacing a metric alarm: %v", err)
	}
	if _, err := s.DeleteAlarms(ctx, &cwapi.DeleteAlarmsInput{AlarmNames: []string{"unhealthy"}}); err != nil {
		t.Fatal(err)
	}
	if out, _ := s.DescribeAlarms(ctx, &cwapi.DescribeAlarmsInput{AlarmTypes: []string{"CompositeAlarm", "MetricAlarm"}}); len(out.CompositeAlarms) != 0 || len(out.MetricAlarms) != 2 {
		t.Errorf("after delete: %+v", out)
	}
}

// An alarm put without DatapointsToAlarm does not report one, as
// CloudWatch does (otherwise every such Terraform alarm drifts).
func TestDatapointsToAlarmIsReportedOnlyWhenPut(t *testing.T) {
	s, _, ctx, _ := newTestService(t)
	putAlarm(t, s, ctx, func(in *cwapi.PutMetricAlarmInput) { in.DatapointsToAlarm = nil })
	putAlarm(t, s, ctx, func(in *cwapi.PutMetricAlarmInput) { in.AlarmName = awsapi.String("explicit") })
	out, err := s.DescribeAlarms(ctx, &cwapi.DescribeAlarmsInput{})
	if err != nil || len(out.MetricAlarms) != 2 {
		t.Fatal(out, err)
	}
	if d := out.MetricAlarms[0].DatapointsToAlarm; d != nil {
		t.Errorf("alarm put without DatapointsToAlarm reports %d", *d)
	}
	if d := out.MetricAlarms[1].DatapointsToAlarm; d == nil || *d != 2 {
		t.Errorf("alarm put with DatapointsToAlarm 2 reports %v", d)
	}
}

// Dashboards are put, read back verbatim, listed by prefix and deleted
// all-or-nothing; a body without widgets is refused.
func TestDashboards(t *testing.T) {
	s, _, ctx, _ := newTestService(t)
	body := `{"widgets":[{"type":"text","x":0,"y":0,"width":6,"height":2,"properties":{"markdown":"hi"}}]}`
	for _, n := range []string{"ops-main", "ops-queues", "team"} {
		if _, err := s.PutDashboard(ctx, &cwapi.PutDashboardInput{DashboardName: awsapi.String(n), DashboardBody: awsapi.String(body)}); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct{ name, body, code string }{
		{"bad name!", body, "InvalidParameterValueException"}, {"x", `{"nope":1}`, "InvalidParameterInput"}, {"x", `{"widgets":{}}`, "InvalidParameterInput"},
		{"x", `{"widgets":[{"type":"chart"}]}`, "InvalidParameterInput"}, {"x", `[`, "InvalidParameterInput"},
	} {
		if _, err := s.PutDashboard(ctx, &cwapi.PutDashboardInput{DashboardName: awsapi.String(tc.name), DashboardBody: awsapi.String(tc.body)}); code(err) != tc.code {
			t.Errorf("PutDashboard(%q, %s) = %v, want %s", tc.name, tc.body, err, tc.code)
		}
	}
	got, err := s.GetDashboard(ctx, &cwapi.GetDashboardInput{DashboardName: awsapi.String("ops-main")})
	if err != nil || *got.DashboardBody != body || *got.DashboardArn != "arn:aws:cloudwatch::111122223333:dashboard/ops-main" {
		t.Fatalf("GetDashboard = %+v, %v", got, err)
	}
	list, err := s.ListDashboards(ctx, &cwapi.ListDashboardsInput{DashboardNamePrefix: awsapi.String("ops-")})
	if err != nil || len(list.DashboardEntries) != 2 || *list.DashboardEntries[1].DashboardName != "ops-queues" || *list.DashboardEntries[0].Size != int64(len(body)) {
		t.Fatalf("ListDashboards = %+v, %v", list, err)
	}
	if _, err := s.DeleteDashboards(ctx, &cwapi.DeleteDashboardsInput{DashboardNames: []string{"team", "missing"}}); code(err) != "ResourceNotFound" {
		t.Errorf("deleting a missing dashboard = %v", err)
	}
	if _, err := s.GetDashboard(ctx, &cwapi.GetDashboardInput{DashboardName: awsapi.String("team")}); err != nil {
		t.Errorf("a failed delete removed team: %v", err)
	}
	if _, err := s.DeleteDashboards(ctx, &cwapi.DeleteDashboardsInput{DashboardNames: []string{"team", "ops-main"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetDashboard(ctx, &cwapi.GetDashboardInput{DashboardName: awsapi.String("team")}); code(err) != "ResourceNotFound" {
		t.Errorf("GetDashboard after delete = %v", err)
	}
}
