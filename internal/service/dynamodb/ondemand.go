package dynamodb

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/wharf-dev/wharf/internal/apierr"
	"github.com/wharf-dev/wharf/internal/awsapi"
	ddb "github.com/wharf-dev/wharf/internal/awsapi/dynamodb"
	"github.com/wharf-dev/wharf/internal/store"
)

// On-demand backups: CreateBackup copies the table's items, as stored, under
// the backup's own prefix, so the backup is independent of the live table
// (later writes, or deleting the table, leave it as it was).
//
//	ddb/bm/<backup arn>          the backup's metadata (JSON)
//	ddb/bi/<backup id>/<key>     a copy of an item's stored bytes
//
// Resource policies live beside the table, keyed by its id:
//
//	ddb/p/<tid>                  the table's resource policy (JSON)

type backup struct {
	Arn     string
	ID      string
	Name    string
	Created time.Time
	Size    int64
	Count   int64
	Table   table // the source table's metadata when the backup was made
}

func backupMetaKey(arn string) []byte   { return []byte("ddb/bm/" + arn) }
func backupItemPrefix(id string) []byte { return []byte("ddb/bi/" + id + "/") }

func loadBackup(tx store.Tx, arn *string) (*backup, error) {
	if arn == nil || *arn == "" {
		return nil, apierr.Validation("1 validation error detected: Value null at 'backupArn' failed to satisfy constraint: Member must not be null")
	}
	raw, err := tx.Get(backupMetaKey(*arn))
	if err != nil {
		return nil, err
	}
	if raw == nil {
		return nil, ddb.ErrBackupNotFoundException("Backup not found: %s", *arn)
	}
	b := &backup{}
	if err := json.Unmarshal(raw, b); err != nil {
		return nil, fmt.Errorf("decode backup %s: %w", *arn, err)
	}
	return b, nil
}

func (b *backup) details(status string) *ddb.BackupDetails {
	created := b.Created
	return &ddb.BackupDetails{
		BackupArn: awsapi.String(b.Arn), BackupName: awsapi.String(b.Name),
		BackupSizeBytes: awsapi.Int64(b.Size), BackupStatus: awsapi.String(status),
		BackupType: awsapi.String("USER"), BackupCreationDateTime: &created,
	}
}

func (s *Service) backupDescription(b *backup, status string) *ddb.BackupDescription {
	t := &b.Table
	created := t.Created
	td := s.describe(nil, t, "ACTIVE")
	d := &ddb.BackupDescription{
		BackupDetails: b.details(status),
		SourceTableDetails: &ddb.SourceTableDetails{
			TableName: awsapi.String(t.Name), TableId: awsapi.String(uuidFromID(t.ID)), TableArn: awsapi.String(t.arn()),
			TableSizeBytes: awsapi.Int64(b.Size), ItemCount: awsapi.Int64(b.Count), KeySchema: schema(t.Hash, t.Range),
			TableCreationDateTime: &created, BillingMode: awsapi.String(t.Billing),
			ProvisionedThroughput: &ddb.ProvisionedThroughput{ReadCapacityUnits: awsapi.Int64(t.RCU), WriteCapacityUnits: awsapi.Int64(t.WCU)},
		},
		SourceTableFeatureDetails: &ddb.SourceTableFeatureDetails{SSEDescription: td.SSEDescription},
	}
	f := d.SourceTableFeatureDetails
	for _, g := range td.GlobalSecondaryIndexes {
		f.GlobalSecondaryIndexes = append(f.GlobalSecondaryIndexes, ddb.GlobalSecondaryIndexInfo{IndexName: g.IndexName, KeySchema: g.KeySchema, Projection: g.Projection})
	}
	for _, l := range td.LocalSecondaryIndexes {
		f.LocalSecondaryIndexes = append(f.LocalSecondaryIndexes, ddb.LocalSecondaryIndexInfo{IndexName: l.IndexName, KeySchema: l.KeySchema, Projection: l.Projection})
	}
	if t.StreamEnabled {
		f.StreamDescription = &ddb.StreamSpecification{StreamEnabled: awsapi.Bool(true), StreamViewType: awsapi.String(t.StreamViewType)}
	}
	if t.TTLAttr != "" {
		st := "DISABLED"
		if t.TTLEnabled {
			st = "ENABLED"
		}
		f.TimeToLiveDescription = &ddb.TimeToLiveDescription{AttributeName: awsapi.String(t.TTLAttr), TimeToLiveStatus: awsapi.String(st)}
	}
	return d
}

// CreateBackup copies an ACTIVE table's items into a new backup.
func (s *Service) CreateBackup(ctx context.Context, in *ddb.CreateBackupInput) (*ddb.CreateBackupOutput, error) {
	if in.BackupName == nil || *in.BackupName == "" {
		return nil, apierr.Validation("1 validation error detected: Value null at 'backupName' failed to satisfy constraint: Member must not be null")
	}
	if err := checkTableName(in.BackupName); err != nil {
		// BackupName has TableName's constraints (3 to 255 of [a-zA-Z0-9_.-]).
		if e := apierr.As(err); e != nil {
			return nil, apierr.Validation("%s", strings.Replace(e.Message, "'tableName'", "'backupName'", 1))
		}
		return nil, err
	}
	now := s.now().UTC()
	var b *backup
	err := s.st.Update(func(tx store.Tx) error {
		t, err := s.backupsTable(tx, ctx, in.TableName)
		if err != nil {
			return err
		}
		suffix := make([]byte, 4)
		s.random(suffix)
		b = &backup{ID: s.newID(), Name: *in.BackupName, Created: now, Table: *t}
		b.Table.raw = nil
		b.Arn = fmt.Sprintf("%s/backup/%017d-%s", t.arn(), now.UnixMilli(), hex.EncodeToString(suffix))
		prefix := t.itemPrefix()
		type kv struct{ k, v []byte }
		var copies []kv
		err = tx.Scan(prefix, nil, func(k, v []byte) (bool, error) {
			item, err := decodeItem(v)
			if err != nil {
				return false, err
			}
			if t.expired(item, now) {
				return true, nil
			}
			b.Count++
			b.Size += int64(itemSize(item))
			copies = append(copies, kv{append(backupItemPrefix(b.ID), k[len(prefix):]...), append([]byte(nil), v...)})
			return true, nil
		})
		if err != nil {
			return err
		}
		for _, c := range copies {
			if err := tx.Put(c.k, c.v); err != nil {
				return err
			}
		}
		raw, err := json.Marshal(b)
		if err != nil {
			return err
		}
		return tx.Put(backupMetaKey(b.Arn), raw)
	})
	if err != nil {
		return nil, err
	}
	return &ddb.CreateBackupOutput{BackupDetails: b.details("AVAILABLE")}, nil
}

// DescribeBackup describes a backup and the table it was made from.
func (s *Service) DescribeBackup(ctx context.Context, in *ddb.DescribeBackupInput) (*ddb.DescribeBackupOutput, error) {
	var b *backup
	err := s.st.View(func(tx store.Tx) (err error) {
		b, err = loadBackup(tx, in.BackupArn)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &ddb.DescribeBackupOutput{BackupDescription: s.backupDescription(b, "AVAILABLE")}, nil
}

// DeleteBackup drops a backup and its items.
func (s *Service) DeleteBackup(ctx context.Context, in *ddb.DeleteBackupInput) (*ddb.DeleteBackupOutput, error) {
	var b *backup
	err := s.st.Update(func(tx store.Tx) (err error) {
		if b, err = loadBackup(tx, in.BackupArn); err != nil {
			return err
		}
		if err := deletePrefix(tx, backupItemPrefix(b.ID)); err != nil {
			return err
		}
		return tx.Delete(backupMetaKey(b.Arn))
	})
	if err != nil {
		return nil, err
	}
	return &ddb.DeleteBackupOutput{BackupDescription: s.backupDescription(b, "DELETED")}, nil
}

// ListBackups lists the caller's backups in creation order, optionally of
// one table, in a time range, from an exclusive start.
func (s *Service) ListBackups(ctx context.Context, in *ddb.ListBackupsInput) (*ddb.ListBackupsOutput, error) {
	limit := 100
	if in.Limit != nil {
		if *in.Limit < 1 || *in.Limit > 100 {
			return nil, apierr.Validation("1 validation error detected: Value '%d' at 'limit' failed to satisfy constraint: Member must have value between 1 and 100", *in.Limit)
		}
		limit = int(*in.Limit)
	}
	if bt := awsapi.ToString(in.BackupType); bt != "" && bt != "USER" && bt != "SYSTEM" && bt != "AWS_BACKUP" && bt != "ALL" {
		return nil, apierr.Validation("1 validation error detected: Value '%s' at 'backupType' failed to satisfy constraint: Member must satisfy enum value set: [USER, SYSTEM, AWS_BACKUP, ALL]", bt)
	}
	account, region := caller(ctx)
	prefix := backupMetaKey(fmt.Sprintf("arn:aws:dynamodb:%s:%s:table/", region, account))
	var all []*backup
	err := s.st.View(func(tx store.Tx) error {
		return tx.Scan(prefix, nil, func(k, v []byte) (bool, error) {
			b := &backup{}
			if err := json.Unmarshal(v, b); err != nil {
				return false, err
			}
			all = append(all, b)
			return true, nil
		})
	})
	if err != nil {
		return nil, err
	}
	sort.SliceStable(all, func(i, j int) bool {
		return all[i].Arn[strings.LastIndex(all[i].Arn, "/"):] < all[j].Arn[strings.LastIndex(all[j].Arn, "/"):]
	})
	out := &ddb.ListBackupsOutput{BackupSummaries: []ddb.BackupSummary{}}
	started := in.ExclusiveStartBackupArn == nil
	bt := awsapi.ToString(in.BackupType)
	for _, b := range all {
		if !started {
			started = b.Arn == *in.ExclusiveStartBackupArn
			continue
		}
		if (in.TableName != nil && b.Table.Name != *in.TableName) || (bt == "SYSTEM" || bt == "AWS_BACKUP") ||
			(in.TimeRangeLowerBound != nil && b.Created.Before(*in.TimeRangeLowerBound)) ||
			(in.TimeRangeUpperBound != nil && !b.Created.Before(*in.TimeRangeUpperBound)) {
			continue
		}
		if len(out.BackupSummaries) == limit {
			out.LastEvaluatedBackupArn = out.BackupSummaries[limit-1].BackupArn
			break
		}
		created := b.Created
		t := &b.Table
		out.BackupSummaries = append(out.BackupSummaries, ddb.BackupSummary{
			TableName: awsapi.String(t.Name), TableId: awsapi.String(uuidFromID(t.ID)), TableArn: awsapi.String(t.arn()),
			BackupArn: awsapi.String(b.Arn), BackupName: awsapi.String(b.Name), BackupCreationDateTime: &created,
			BackupStatus: awsapi.String("AVAILABLE"), BackupType: awsapi.String("USER"), BackupSizeBytes: awsapi.Int64(b.Size),
		})
	}
	return out, nil
}

// RestoreTableFromBackup creates a new table with the backup's schema,
// indexes and items.
func (s *Service) RestoreTableFromBackup(ctx context.Context, in *ddb.RestoreTableFromBackupInput) (*ddb.RestoreTableFromBackupOutput, error) {
	if err := checkTableName(in.TargetTableName); err != nil {
		return nil, err
	}
	account, region := caller(ctx)
	now := s.now().UTC()
	var t *table
	err := s.st.Update(func(tx store.Tx) error {
		b, err := loadBackup(tx, in.BackupArn)
		if err != nil {
			return err
		}
		if raw, err := tx.Get(tableKey(account, region, *in.TargetTableName)); err != nil {
			return err
		} else if raw != nil {
			return ddb.ErrTableAlreadyExistsException("Table already exists: %s", *in.TargetTableName)
		}
		nt := b.Table
		t = &nt
		t.Name, t.ID, t.Account, t.Region, t.Created = *in.TargetTableName, s.newID(), account, region, now
		t.Tags, t.DeletionProtection = map[string]string{}, false
		t.StreamEnabled, t.StreamViewType, t.Streams = false, "", nil
		if bm := awsapi.ToString(in.BillingModeOverride); bm != "" {
			if bm != "PROVISIONED" && bm != "PAY_PER_REQUEST" {
				return apierr.Validation("1 validation error detected: Value '%s' at 'billingModeOverride' failed to satisfy constraint: Member must satisfy enum value set: [PROVISIONED, PAY_PER_REQUEST]", bm)
			}
			t.Billing = bm
		}
		if in.ProvisionedThroughputOverride != nil || in.BillingModeOverride != nil {
			if t.RCU, t.WCU, err = throughput(t.Billing, in.ProvisionedThroughputOverride); err != nil {
				return err
			}
		}
		if err := saveTable(tx, t); err != nil {
			return err
		}
		prefix := backupItemPrefix(b.ID)
		type kv struct{ k, v []byte }
		var items []kv
		err = tx.Scan(prefix, nil, func(k, v []byte) (bool, error) {
			items = append(items, kv{append([]byte(nil), k[len(prefix):]...), append([]byte(nil), v...)})
			return true, nil
		})
		if err != nil {
			return err
		}
		for _, it := range items {
			item, err := decodeItem(it.v)
			if err != nil {
				return err
			}
			if err := s.writeItem(tx, t, it.k, nil, item, false); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	d := s.describe(nil, t, "CREATING")
	return &ddb.RestoreTableFromBackupOutput{TableDescription: d}, nil
}

// policy is a table's resource-based policy.
type policy struct {
	Document string
	Revision string
}

// policyPrefix starts the key of every table's resource-based policy.
const policyPrefix = "ddb/p/"

func policyKey(tableID string) []byte { return []byte(policyPrefix + tableID) }

// policyTable finds the table a resource ARN names.
func (s *Service) policyTable(tx store.Tx, ctx context.Context, arn *string) (*table, error) {
	if arn == nil || *arn == "" {
		return nil, apierr.Validation("1 validation error detected: Value null at 'resourceArn' failed to satisfy constraint: Member must not be null")
	}
	parts := strings.SplitN(*arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "dynamodb" || !strings.HasPrefix(parts[5], "table/") {
		return nil, apierr.Validation("Invalid resource ARN: %s", *arn)
	}
	name := strings.TrimPrefix(parts[5], "table/")
	if strings.Contains(name, "/") {
		return nil, apierr.Validation("Resource-based policies are supported only on tables and streams: %s", *arn)
	}
	t, err := loadTable(tx, parts[4], parts[3], name)
	if e := apierr.As(err); e != nil && e.Code == "ResourceNotFoundException" {
		return nil, ddb.ErrResourceNotFoundException("Requested resource not found: %s", *arn)
	}
	return t, err
}

func loadPolicy(tx store.Tx, t *table) (*policy, error) {
	raw, err := tx.Get(policyKey(t.ID))
	if err != nil || raw == nil {
		return nil, err
	}
	p := &policy{}
	if err := json.Unmarshal(raw, p); err != nil {
		return nil, fmt.Errorf("decode policy of table %s: %w", t.Name, err)
	}
	return p, nil
}

func policyNotFound(arn string) error {
	return ddb.ErrPolicyNotFoundException("Resource-based policy not found for the provided ResourceArn: %s", arn)
}

// checkPolicyDocument refuses a resource-based policy that is missing, is
// not a JSON object or is over DynamoDB's 20 KB; member names the request
// member in the message ("policy" for PutResourcePolicy, "resourcePolicy"
// for CreateTable).
func checkPolicyDocument(doc, member string) error {
	if doc == "" {
		return apierr.Validation("1 validation error detected: Value null at '%s' failed to satisfy constraint: Member must not be null", member)
	}
	var obj map[string]any
	if err := json.Unmarshal([]byte(doc), &obj); err != nil {
		return apierr.Validation("Invalid policy document: %v", err)
	}
	if len(doc) > 20*1024 {
		return apierr.Validation("Policy document size exceeds the maximum allowed size of 20 KB")
	}
	return nil
}

// putPolicy stores doc as t's policy, replacing old (nil for none), and
// returns its revision: old's when doc is old's document (PutResourcePolicy
// is idempotent: the same document keeps its revision), else a new one,
// which always moves forward.
func (s *Service) putPolicy(tx store.Tx, t *table, doc string, old *policy) (string, error) {
	if old != nil && old.Document == doc {
		return old.Revision, nil
	}
	rev := strconv.FormatInt(s.now().UnixNano(), 10)
	if old != nil && old.Revision >= rev {
		n, _ := strconv.ParseInt(old.Revision, 10, 64)
		rev = strconv.FormatInt(n+1, 10)
	}
	raw, err := json.Marshal(policy{Document: doc, Revision: rev})
	if err != nil {
		return "", err
	}
	return rev, tx.Put(policyKey(t.ID), raw)
}

// PutResourcePolicy attaches or replaces a table's resource-based policy,
// which the authorizer evaluates with the caller's policies (--iam).
func (s *Service) PutResourcePolicy(ctx context.Context, in *ddb.PutResourcePolicyInput) (*ddb.PutResourcePolicyOutput, error) {
	doc := awsapi.ToString(in.Policy)
	if err := checkPolicyDocument(doc, "policy"); err != nil {
		return nil, err
	}
	var rev string
	// Before the write commits: an authorization that follows this answer
	// must read the policy (mayHavePolicies).
	s.policies.Store(policiesMaybe)
	err := s.st.Update(func(tx store.Tx) error {
		t, err := s.policyTable(tx, ctx, in.ResourceArn)
		if err != nil {
			return err
		}
		old, err := loadPolicy(tx, t)
		if err != nil {
			return err
		}
		if in.ExpectedRevisionId != nil && (old == nil || old.Revision != *in.ExpectedRevisionId) {
			return policyNotFound(*in.ResourceArn)
		}
		rev, err = s.putPolicy(tx, t, doc, old)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &ddb.PutResourcePolicyOutput{RevisionId: awsapi.String(rev)}, nil
}

// GetResourcePolicy returns a table's resource-based policy.
func (s *Service) GetResourcePolicy(ctx context.Context, in *ddb.GetResourcePolicyInput) (*ddb.GetResourcePolicyOutput, error) {
	var p *policy
	err := s.st.View(func(tx store.Tx) error {
		t, err := s.policyTable(tx, ctx, in.ResourceArn)
		if err != nil {
			return err
		}
		if p, err = loadPolicy(tx, t); err == nil && p == nil {
			return policyNotFound(*in.ResourceArn)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return &ddb.GetResourcePolicyOutput{Policy: awsapi.String(p.Document), RevisionId: awsapi.String(p.Revision)}, nil
}

// DeleteResourcePolicy removes a table's resource-based policy.
func (s *Service) DeleteResourcePolicy(ctx context.Context, in *ddb.DeleteResourcePolicyInput) (*ddb.DeleteResourcePolicyOutput, error) {
	var rev string
	err := s.st.Update(func(tx store.Tx) error {
		t, err := s.policyTable(tx, ctx, in.ResourceArn)
		if err != nil {
			return err
		}
		p, err := loadPolicy(tx, t)
		if err != nil {
			return err
		}
		if p == nil || (in.ExpectedRevisionId != nil && p.Revision != *in.ExpectedRevisionId) {
			return policyNotFound(*in.ResourceArn)
		}
		rev = p.Revision
		return tx.Delete(policyKey(t.ID))
	})
	if err != nil {
		return nil, err
	}
	return &ddb.DeleteResourcePolicyOutput{RevisionId: awsapi.String(rev)}, nil
}
