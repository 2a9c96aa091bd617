package dynamodb

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/wharf-dev/wharf/internal/apierr"
	"github.com/wharf-dev/wharf/internal/awsapi"
	ddb "github.com/wharf-dev/wharf/internal/awsapi/dynamodb"
	"github.com/wharf-dev/wharf/internal/store"
)

// Continuous backups: every table has them (ContinuousBackupsStatus
// ENABLED); point-in-time recovery is off until UpdateContinuousBackups turns
// it on. wharf records the setting and reports it as DynamoDB does; it keeps
// no restorable history.
//
// The setting lives in its own record (ddb/b/<table id>) rather than in the
// table's, so that item writes, which read the table record, are unaffected.

// PITR recovery periods ("Point-in-time recovery for DynamoDB": 1 to 35
// days, 35 by default).
const (
	minRecoveryDays     = 1
	maxRecoveryDays     = 35
	defaultRecoveryDays = 35
	// latestRestorableLag is how far behind now the latest restorable time
	// is ("typically within 5 minutes of the current time").
	latestRestorableLag = 5 * time.Minute
)

type pitr struct {
	Enabled bool
	Days    int32     `json:",omitempty"`
	Since   time.Time `json:",omitempty"` // when it was last enabled
}

func pitrKey(tableID string) []byte { return []byte("ddb/b/" + tableID) }

func loadPITR(tx store.Tx, t *table) (pitr, error) {
	var p pitr
	raw, err := tx.Get(pitrKey(t.ID))
	if err != nil || raw == nil {
		return p, err
	}
	if err := json.Unmarshal(raw, &p); err != nil {
		return p, fmt.Errorf("decode backups of table %s: %w", t.Name, err)
	}
	return p, nil
}

// deleteBackups drops a table's backup settings and resource policy with
// the table (its on-demand backups outlive it, as in DynamoDB).
func deleteBackups(tx store.Tx, t *table) error {
	if err := tx.Delete(policyKey(t.ID)); err != nil {
		return err
	}
	return tx.Delete(pitrKey(t.ID))
}

// tableNotFoundForBackups is the error of the backup operations, which name
// a missing table differently from the table operations (the model's
// TableNotFoundException).
func tableNotFoundForBackups(name string) error {
	return ddb.ErrTableNotFoundException("Table not found: %s", name)
}

func (p pitr) describe(now time.Time) *ddb.ContinuousBackupsDescription {
	d := &ddb.ContinuousBackupsDescription{ContinuousBackupsStatus: awsapi.String("ENABLED"),
		PointInTimeRecoveryDescription: &ddb.PointInTimeRecoveryDescription{PointInTimeRecoveryStatus: awsapi.String("DISABLED")}}
	if p.Enabled {
		earliest := p.Since
		if floor := now.AddDate(0, 0, -int(p.Days)); earliest.Before(floor) {
			earliest = floor
		}
		latest := now.Add(-latestRestorableLag)
		if latest.Before(earliest) {
			latest = earliest
		}
		d.PointInTimeRecoveryDescription = &ddb.PointInTimeRecoveryDescription{
			PointInTimeRecoveryStatus:  awsapi.String("ENABLED"),
			RecoveryPeriodInDays:       awsapi.Int32(p.Days),
			EarliestRestorableDateTime: &earliest,
			LatestRestorableDateTime:   &latest,
		}
	}
	return d
}

func (s *Service) backupsTable(tx store.Tx, ctx context.Context, name *string) (*table, error) {
	if err := checkTableName(name); err != nil {
		return nil, err
	}
	account, region := caller(ctx)
	t, err := loadTable(tx, account, region, *name)
	if e := apierr.As(err); e != nil && e.Code == "ResourceNotFoundException" {
		return nil, tableNotFoundForBackups(*name)
	}
	return t, err
}

// DescribeContinuousBackups reports a table's backup and point-in-time
// recovery settings.
func (s *Service) DescribeContinuousBackups(ctx context.Context, in *ddb.DescribeContinuousBackupsInput) (*ddb.DescribeContinuousBackupsOutput, error) {
	var p pitr
	err := s.st.View(func(tx store.Tx) error {
		t, err := s.backupsTable(tx, ctx, in.TableName)
		if err != nil {
			return err
		}
		p, err = loadPITR(tx, t)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &ddb.DescribeContinuousBackupsOutput{ContinuousBackupsDescription: p.describe(s.now().UTC())}, nil
}

// UpdateContinuousBackups turns point-in-time recovery on or off, or
// changes its recovery period.
func (s *Service) UpdateContinuousBackups(ctx context.Context, in *ddb.UpdateContinuousBackupsInput) (*ddb.UpdateContinuousBackupsOutput, error) {
	spec := in.PointInTimeRecoverySpecification
	if spec == nil || spec.PointInTimeRecoveryEnabled == nil {
		return nil, apierr.Validation("1 validation error detected: Value null at 'pointInTimeRecoverySpecification' failed to satisfy constraint: Member must not be null")
	}
	enable := *spec.PointInTimeRecoveryEnabled
	days := int32(defaultRecoveryDays)
	if spec.RecoveryPeriodInDays != nil {
		days = *spec.RecoveryPeriodInDays
		if days < minRecoveryDays || days > maxRecoveryDays {
			return nil, apierr.Validation("1 validation error detected: Value '%d' at 'pointInTimeRecoverySpecification.recoveryPeriodInDays' failed to satisfy constraint: Member must have value between %d and %d", days, minRecoveryDays, maxRecoveryDays)
		}
		if !enable {
			return nil, apierr.Validation("Cannot set RecoveryPeriodInDays when PointInTimeRecoveryEnabled is false")
		}
	}
	now := s.now().UTC()
	var p pitr
	err := s.st.Update(func(tx store.Tx) error {
		t, err := s.backupsTable(tx, ctx, in.TableName)
		if err != nil {
			return err
		}
		old, err := loadPITR(tx, t)
		if err != nil {
			return err
		}
		p = pitr{Enabled: enable}
		if enable {
			p.Days, p.Since = days, old.Since
			if !old.Enabled {
				p.Since = now
			}
		}
		raw, err := json.Marshal(p)
		if err != nil {
			return err
		}
		return tx.Put(pitrKey(t.ID), raw)
	})
	if err != nil {
		return nil, err
	}
	return &ddb.UpdateContinuousBackupsOutput{ContinuousBackupsDescription: p.describe(now)}, nil
}
