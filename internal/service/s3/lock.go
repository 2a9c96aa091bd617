package s3

import (
	"context"
	"time"

	"github.com/wharf-dev/wharf/internal/awsapi"
	s3api "github.com/wharf-dev/wharf/internal/awsapi/s3"
	"github.com/wharf-dev/wharf/internal/store"
)

// Object Lock ("Locking objects with Object Lock" in the S3 user guide): a
// version under retention or a legal hold cannot be deleted or overwritten
// in place. Retention in GOVERNANCE mode gives way to a request that sets
// x-amz-bypass-governance-retention; COMPLIANCE gives way to nothing until
// its date passes. A lock holds versions, not keys: deleting a key in a
// locked bucket adds a delete marker, which is always allowed.

const (
	lockGovernance = "GOVERNANCE"
	lockCompliance = "COMPLIANCE"
)

// objectLock is the lock state of one object version (or of an upload,
// for the object it will make).
type objectLock struct {
	Mode  string     `json:",omitempty"`
	Until *time.Time `json:",omitempty"`
	// LegalHold is "ON", "OFF", or "" when never set (GetObjectLegalHold
	// then answers NoSuchObjectLockConfiguration).
	LegalHold string `json:",omitempty"`
}

// defaultRetention is a bucket's default retention rule: Days or Years.
type defaultRetention struct {
	Mode  string
	Days  int32 `json:",omitempty"`
	Years int32 `json:",omitempty"`
}

// lockMissing is S3's answer to a lock operation on a bucket without Object
// Lock. S3 words it differently for the writes that carry lock headers
// (PutObject, CopyObject, CreateMultipartUpload) and for the lock operations.
func lockMissing(write bool) error {
	if write {
		return invalidRequest("Bucket is missing ObjectLockConfiguration")
	}
	return invalidRequest("Bucket is missing Object Lock Configuration")
}

func invalidBucketState(msg string) error {
	return s3api.ErrInvalidBucketState("%s", msg)
}

// lockedDenied is the refusal of a delete or retention change a lock forbids.
func lockedDenied() error {
	return s3api.ErrAccessDenied("Access Denied because object protected by object lock.")
}

func noSuchLockConfiguration() error {
	return s3api.ErrNoSuchObjectLockConfiguration("The specified object does not have a ObjectLock configuration")
}

// lockHeaders reads the x-amz-object-lock-* headers of a write. The bucket
// is checked later, once known.
func (s *Service) lockHeaders(mode *string, until *time.Time, hold *string) (*objectLock, error) {
	if mode == nil && until == nil && hold == nil {
		return nil, nil
	}
	l := &objectLock{}
	if mode != nil || until != nil {
		if mode == nil || until == nil {
			return nil, invalidArgument("x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must both be supplied",
				"x-amz-object-lock-retain-until-date", "")
		}
		if *mode != lockGovernance && *mode != lockCompliance {
			return nil, invalidArgument("Unknown wormMode directive.", "x-amz-object-lock-mode", *mode)
		}
		if !until.After(s.now()) {
			return nil, invalidArgument("The retain until date must be in the future!", "x-amz-object-lock-retain-until-date",
				until.UTC().Format(time.RFC3339))
		}
		t := until.UTC()
		l.Mode, l.Until = *mode, &t
	}
	if hold != nil {
		if *hold != "ON" && *hold != "OFF" {
			return nil, invalidArgument("Legal Hold must be either of 'ON' or 'OFF'", "x-amz-object-lock-legal-hold", *hold)
		}
		l.LegalHold = *hold
	}
	return l, nil
}

// checkLockWrite refuses lock headers on a bucket without Object Lock.
func checkLockWrite(b *bucket, l *objectLock) error {
	if l != nil && !b.ObjectLock {
		return lockMissing(true)
	}
	return nil
}

// applyDefaultRetention gives a new version the bucket's default retention
// when its request set none (PutObjectLockConfiguration docs).
func applyDefaultRetention(b *bucket, o *object, now time.Time) {
	r := b.LockDefault
	if !b.ObjectLock || r == nil || o.DeleteMarker || o.Lock != nil && o.Lock.Mode != "" {
		return
	}
	if o.Lock == nil {
		o.Lock = &objectLock{}
	}
	until := now.UTC().AddDate(int(r.Years), 0, int(r.Days))
	o.Lock.Mode, o.Lock.Until = r.Mode, &until
}

// retained reports whether o's retention is still in force.
func (l *objectLock) retained(now time.Time) bool {
	return l != nil && l.Mode != "" && l.Until != nil && l.Until.After(now)
}

// checkDelete refuses the removal of a version its lock protects.
func (o *object) checkDelete(now time.Time, bypass bool) error {
	l := o.Lock
	if l == nil {
		return nil
	}
	if l.LegalHold == "ON" {
		return lockedDenied()
	}
	if l.retained(now) && (l.Mode == lockCompliance || !bypass) {
		return lockedDenied()
	}
	return nil
}

// fill sets the x-amz-object-lock-* headers of a GET or HEAD.
func (l *objectLock) fill(mode **string, until **time.Time, hold **string) {
	if l == nil {
		return
	}
	if l.Mode != "" {
		*mode = awsapi.String(l.Mode)
		t := *l.Until
		*until = &t
	}
	if l.LegalHold != "" {
		*hold = awsapi.String(l.LegalHold)
	}
}

// PutObjectLockConfiguration sets a bucket's default retention, and turns
// Object Lock on for a bucket with versioning enabled (S3 allows enabling it
// on existing buckets since November 2023).
func (s *Service) PutObjectLockConfiguration(ctx context.Context, in *s3api.PutObjectLockConfigurationInput) (*s3api.PutObjectLockConfigurationOutput, error) {
	c := in.ObjectLockConfiguration
	if c == nil || awsapi.ToString(c.ObjectLockEnabled) != "Enabled" {
		return nil, malformedXML()
	}
	var rule *defaultRetention
	if c.Rule != nil {
		d := c.Rule.DefaultRetention
		if d == nil || (d.Days == nil) == (d.Years == nil) {
			return nil, malformedXML()
		}
		mode := awsapi.ToString(d.Mode)
		if mode != lockGovernance && mode != lockCompliance {
			return nil, malformedXML()
		}
		rule = &defaultRetention{Mode: mode, Days: awsapi.ToInt32(d.Days), Years: awsapi.ToInt32(d.Years)}
		if rule.Days < 0 || rule.Years < 0 || d.Days != nil && rule.Days == 0 || d.Years != nil && rule.Years == 0 {
			return nil, s3api.ErrInvalidRetentionPeriod("Default retention period must be a positive integer value.")
		}
		if rule.Days > 36500 || rule.Years > 100 {
			return nil, s3api.ErrInvalidRetentionPeriod("Default retention period is too large.")
		}
	}
	err := s.updateBucket(ctx, awsapi.ToString(in.Bucket), func(b *bucket) error {
		if !b.ObjectLock && b.Versioning != "Enabled" {
			return invalidBucketState("Versioning must be 'Enabled' on the bucket to apply a Object Lock configuration")
		}
		b.ObjectLock, b.LockDefault = true, rule
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &s3api.PutObjectLockConfigurationOutput{}, nil
}

// GetObjectLockConfiguration returns a bucket's Object Lock state and its
// default retention.
func (s *Service) GetObjectLockConfiguration(ctx context.Context, in *s3api.GetObjectLockConfigurationInput) (*s3api.GetObjectLockConfigurationOutput, error) {
	b, err := s.viewBucket(ctx, awsapi.ToString(in.Bucket))
	if err != nil {
		return nil, err
	}
	if !b.ObjectLock {
		return nil, s3api.ErrObjectLockConfigurationNotFoundError("Object Lock configuration does not exist for this bucket").WithFields(map[string]any{"BucketName": b.Name})
	}
	c := &s3api.ObjectLockConfiguration{ObjectLockEnabled: awsapi.String("Enabled")}
	if r := b.LockDefault; r != nil {
		d := &s3api.DefaultRetention{Mode: awsapi.String(r.Mode)}
		if r.Days > 0 {
			d.Days = awsapi.Int32(r.Days)
		} else {
			d.Years = awsapi.Int32(r.Years)
		}
		c.Rule = &s3api.ObjectLockRule{DefaultRetention: d}
	}
	return &s3api.GetObjectLockConfigurationOutput{ObjectLockConfiguration: c}, nil
}

// lockObject changes the lock of one version of an object in a bucket with
// Object Lock; fn may refuse.
func (s *Service) lockObject(ctx context.Context, name, key, versionID string, fn func(l *objectLock) error) (*bucket, *object, error) {
	var b *bucket
	var o *object
	err := s.st.Update(func(tx store.Tx) error {
		var err error
		if b, err = ownBucket(ctx, tx, name); err != nil {
			return err
		}
		if !b.ObjectLock {
			return lockMissing(false)
		}
		if o, err = lookup(tx, b, key, versionID); err != nil {
			return err
		}
		l := objectLock{}
		if o.Lock != nil {
			l = *o.Lock
		}
		if err := fn(&l); err != nil {
			return err
		}
		o.Lock = &l
		return s.rewriteVersion(tx, b, o)
	})
	return b, o, err
}

// viewLock returns one version's lock in a bucket with Object Lock.
func (s *Service) viewLock(ctx context.Context, name, key, versionID string) (*objectLock, error) {
	var l *objectLock
	err := s.st.View(func(tx store.Tx) error {
		b, err := ownBucket(ctx, tx, name)
		if err != nil {
			return err
		}
		if !b.ObjectLock {
			return lockMissing(false)
		}
		o, err := lookup(tx, b, key, versionID)
		if err != nil {
			return err
		}
		l = o.Lock
		return nil
	})
	return l, err
}

// PutObjectRetention sets a version's retention. Retention may always be
// lengthened in its mode; shortening it, removing it or changing its mode
// needs x-amz-bypass-governance-retention in GOVERNANCE mode and is refused
// in COMPLIANCE mode until the date passes.
func (s *Service) PutObjectRetention(ctx context.Context, in *s3api.PutObjectRetentionInput) (*s3api.PutObjectRetentionOutput, error) {
	r := in.Retention
	if r == nil {
		return nil, malformedXML()
	}
	mode := awsapi.ToString(r.Mode)
	clear := mode == "" && r.RetainUntilDate == nil
	if !clear {
		if mode != lockGovernance && mode != lockCompliance || r.RetainUntilDate == nil {
			return nil, malformedXML()
		}
		if !r.RetainUntilDate.After(s.now()) {
			return nil, invalidArgument("The retain until date must be in the future!", "RetainUntilDate",
				r.RetainUntilDate.UTC().Format(time.RFC3339))
		}
	}
	bypass := awsapi.ToBool(in.BypassGovernanceRetention)
	now := s.now()
	_, _, err := s.lockObject(ctx, awsapi.ToString(in.Bucket), awsapi.ToString(in.Key), awsapi.ToString(in.VersionId), func(l *objectLock) error {
		if l.retained(now) {
			weaker := clear || mode != l.Mode || r.RetainUntilDate.Before(*l.Until)
			if weaker && (l.Mode == lockCompliance || !bypass) {
				return lockedDenied()
			}
		}
		if clear {
			l.Mode, l.Until = "", nil
			return nil
		}
		t := r.RetainUntilDate.UTC()
		l.Mode, l.Until = mode, &t
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &s3api.PutObjectRetentionOutput{}, nil
}

// GetObjectRetention returns a version's retention.
func (s *Service) GetObjectRetention(ctx context.Context, in *s3api.GetObjectRetentionInput) (*s3api.GetObjectRetentionOutput, error) {
	l, err := s.viewLock(ctx, awsapi.ToString(in.Bucket), awsapi.ToString(in.Key), awsapi.ToString(in.VersionId))
	if err != nil {
		return nil, err
	}
	if l == nil || l.Mode == "" {
		return nil, noSuchLockConfiguration()
	}
	t := *l.Until
	return &s3api.GetObjectRetentionOutput{Retention: &s3api.ObjectLockRetention{Mode: awsapi.String(l.Mode), RetainUntilDate: &t}}, nil
}

// PutObjectLegalHold turns a version's legal hold on or off.
func (s *Service) PutObjectLegalHold(ctx context.Context, in *s3api.PutObjectLegalHoldInput) (*s3api.PutObjectLegalHoldOutput, error) {
	h := in.LegalHold
	if h == nil {
		return nil, malformedXML()
	}
	st := awsapi.ToString(h.Status)
	if st != "ON" && st != "OFF" {
		return nil, malformedXML()
	}
	_, _, err := s.lockObject(ctx, awsapi.ToString(in.Bucket), awsapi.ToString(in.Key), awsapi.ToString(in.VersionId), func(l *objectLock) error {
		l.LegalHold = st
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &s3api.PutObjectLegalHoldOutput{}, nil
}

// GetObjectLegalHold returns a version's legal hold.
func (s *Service) GetObjectLegalHold(ctx context.Context, in *s3api.GetObjectLegalHoldInput) (*s3api.GetObjectLegalHoldOutput, error) {
	l, err := s.viewLock(ctx, awsapi.ToString(in.Bucket), awsapi.ToString(in.Key), awsapi.ToString(in.VersionId))
	if err != nil {
		return nil, err
	}
	if l == nil || l.LegalHold == "" {
		return nil, noSuchLockConfiguration()
	}
	return &s3api.GetObjectLegalHoldOutput{LegalHold: &s3api.ObjectLockLegalHold{Status: awsapi.String(l.LegalHold)}}, nil
}
