package dynamodb

import (
	"context"
	"testing"
	"time"

	"github.com/wharf-dev/wharf/internal/apierr"
	"github.com/wharf-dev/wharf/internal/awsapi"
	ddb "github.com/wharf-dev/wharf/internal/awsapi/dynamodb"
)

func errCode(err error) string {
	if e := apierr.As(err); e != nil {
		return e.Code
	}
	if err != nil {
		return err.Error()
	}
	return ""
}

// Every table has continuous backups; point-in-time recovery is off until
// turned on, reports its recovery window once on, and goes with the table.
func TestPointInTimeRecoveryIsOffUntilEnabledAndGoesWithTheTable(t *testing.T) {
	s, clock := newTestService(t)
	ctx := context.Background()
	createTable(t, s, "orders", "id", "S", "", "")
	name := awsapi.String("orders")

	d, err := s.DescribeContinuousBackups(ctx, &ddb.DescribeContinuousBackupsInput{TableName: name})
	if err != nil || *d.ContinuousBackupsDescription.ContinuousBackupsStatus != "ENABLED" ||
		*d.ContinuousBackupsDescription.PointInTimeRecoveryDescription.PointInTimeRecoveryStatus != "DISABLED" {
		t.Fatalf("DescribeContinuousBackups of a new table = %+v, %v", d, err)
	}
	enabledAt := clock.t
	u, err := s.UpdateContinuousBackups(ctx, &ddb.UpdateContinuousBackupsInput{TableName: name,
		PointInTimeRecoverySpecification: &ddb.PointInTimeRecoverySpecification{PointInTimeRecoveryEnabled: awsapi.Bool(true)}})
	if err != nil || *u.ContinuousBackupsDescription.PointInTimeRecoveryDescription.PointInTimeRecoveryStatus != "ENABLED" {
		t.Fatalf("UpdateContinuousBackups = %+v, %v", u, err)
	}
	clock.t = clock.t.Add(time.Hour)
	d, err = s.DescribeContinuousBackups(ctx, &ddb.DescribeContinuousBackupsInput{TableName: name})
	p := d.ContinuousBackupsDescription.PointInTimeRecoveryDescription
	if err != nil || *p.PointInTimeRecoveryStatus != "ENABLED" || *p.RecoveryPeriodInDays != 35 ||
		!p.EarliestRestorableDateTime.Equal(enabledAt) || !p.LatestRestorableDateTime.Equal(clock.t.Add(-5*time.Minute)) {
		t.Fatalf("PITR after an hour = %+v, %v", p, err)
	}

	for _, tc := range []struct {
		name string
		spec *ddb.PointInTimeRecoverySpecification
		want string
	}{
		{"period too long", &ddb.PointInTimeRecoverySpecification{PointInTimeRecoveryEnabled: awsapi.Bool(true), RecoveryPeriodInDays: awsapi.Int32(36)}, "ValidationException"},
		{"period while disabling", &ddb.PointInTimeRecoverySpecification{PointInTimeRecoveryEnabled: awsapi.Bool(false), RecoveryPeriodInDays: awsapi.Int32(7)}, "ValidationException"},
		{"no specification", nil, "ValidationException"},
	} {
		_, err := s.UpdateContinuousBackups(ctx, &ddb.UpdateContinuousBackupsInput{TableName: name, PointInTimeRecoverySpecification: tc.spec})
		if errCode(err) != tc.want {
			t.Errorf("%s: %v, want %s", tc.name, err, tc.want)
		}
	}
	_, err = s.DescribeContinuousBackups(ctx, &ddb.DescribeContinuousBackupsInput{TableName: awsapi.String("missing")})
	if errCode(err) != "TableNotFoundException" {
		t.Errorf("DescribeContinuousBackups of a missing table = %v", err)
	}

	if _, err := s.UpdateContinuousBackups(ctx, &ddb.UpdateContinuousBackupsInput{TableName: name,
		PointInTimeRecoverySpecification: &ddb.PointInTimeRecoverySpecification{PointInTimeRecoveryEnabled: awsapi.Bool(false)}}); err != nil {
		t.Fatal(err)
	}
	d, _ = s.DescribeContinuousBackups(ctx, &ddb.DescribeContinuousBackupsInput{TableName: name})
	if *d.ContinuousBackupsDescription.PointInTimeRecoveryDescription.PointInTimeRecoveryStatus != "DISABLED" {
		t.Errorf("after disabling: %+v", d.ContinuousBackupsDescription.PointInTimeRecoveryDescription)
	}
	s.UpdateContinuousBackups(ctx, &ddb.UpdateContinuousBackupsInput{TableName: name,
		PointInTimeRecoverySpecification: &ddb.PointInTimeRecoverySpecification{PointInTimeRecoveryEnabled: awsapi.Bool(true), RecoveryPeriodInDays: awsapi.Int32(7)}})
	if _, err := s.DeleteTable(ctx, &ddb.DeleteTableInput{TableName: name}); err != nil {
		t.Fatal(err)
	}
	createTable(t, s, "orders", "id", "S", "", "")
	d, _ = s.DescribeContinuousBackups(ctx, &ddb.DescribeContinuousBackupsInput{TableName: name})
	if *d.ContinuousBackupsDescription.PointInTimeRecoveryDescription.PointInTimeRecoveryStatus != "DISABLED" {
		t.Errorf("a re-created table inherited PITR: %+v", d.ContinuousBackupsDescription.PointInTimeRecoveryDescription)
	}
}
