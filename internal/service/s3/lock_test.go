package s3_test

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/wharf-dev/wharf/internal/clock"
	"github.com/wharf-dev/wharf/internal/store"
)

// wantErr fails unless err is the S3 error code with the HTTP status.
func wantErr(t *testing.T, what string, err error, code string, status int) {
	t.Helper()
	if errCode(err) != code || httpStatus(err) != status {
		t.Errorf("%s: want %s (%d), got %v", what, code, status, err)
	}
}

// Object Lock as the S3 user guide describes it ("Locking objects with Object
// Lock"): a bucket's lock needs versioning and keeps it on, a default
// retention applies to new versions, GOVERNANCE retention gives way only to
// x-amz-bypass-governance-retention, COMPLIANCE to nothing until its date
// passes, and a legal hold to nothing until it is turned off.
func TestObjectLock(t *testing.T) {
	start := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	clk := clock.NewManual(start)
	e := newEnvClock(t, store.OpenMemory(), t.TempDir(), clk)
	c := e.client
	body := func() *strings.Reader { return strings.NewReader("abc") }

	// A bucket without Object Lock refuses lock operations.
	plain := aws.String(e.bucket(t, "plain"))
	if _, err := c.PutObject(ctx(), &awss3.PutObjectInput{Bucket: plain, Key: aws.String("k"), Body: body()}); err != nil {
		t.Fatal(err)
	}
	conf := func(mode types.ObjectLockRetentionMode, days, years *int32) *types.ObjectLockConfiguration {
		return &types.ObjectLockConfiguration{ObjectLockEnabled: types.ObjectLockEnabledEnabled,
			Rule: &types.ObjectLockRule{DefaultRetention: &types.DefaultRetention{Mode: mode, Days: days, Years: years}}}
	}
	_, err := c.PutObjectLockConfiguration(ctx(), &awss3.PutObjectLockConfigurationInput{Bucket: plain,
		ObjectLockConfiguration: conf(types.ObjectLockRetentionModeGovernance, aws.Int32(1), nil)})
	wantErr(t, "PutObjectLockConfiguration on an unversioned bucket", err, "InvalidBucketState", 409)
	_, err = c.PutObjectRetention(ctx(), &awss3.PutObjectRetentionInput{Bucket: plain, Key: aws.String("k"),
		Retention: &types.ObjectLockRetention{Mode: types.ObjectLockRetentionModeGovernance, RetainUntilDate: aws.Time(start.Add(time.Hour))}})
	wantErr(t, "PutObjectRetention without Object Lock", err, "InvalidRequest", 400)
	_, err = c.GetObjectRetention(ctx(), &awss3.GetObjectRetentionInput{Bucket: plain, Key: aws.String("k")})
	wantErr(t, "GetObjectRetention without Object Lock", err, "InvalidRequest", 400)
	_, err = c.PutObjectLegalHold(ctx(), &awss3.PutObjectLegalHoldInput{Bucket: plain, Key: aws.String("k"),
		LegalHold: &types.ObjectLockLegalHold{Status: types.ObjectLockLegalHoldStatusOn}})
	wantErr(t, "PutObjectLegalHold without Object Lock", err, "InvalidRequest", 400)
	_, err = c.PutObject(ctx(), &awss3.PutObjectInput{Bucket: plain, Key: aws.String("k"), Body: body(),
		ObjectLockLegalHoldStatus: types.ObjectLockLegalHoldStatusOn})
	wantErr(t, "PutObject with a legal hold without Object Lock", err, "InvalidRequest", 400)

	// Object Lock can be turned on for a bucket once its versioning is
	// enabled, and versioning cannot be suspended after.
	if _, err := c.PutBucketVersioning(ctx(), &awss3.PutBucketVersioningInput{Bucket: plain,
		VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutObjectLockConfiguration(ctx(), &awss3.PutObjectLockConfigurationInput{Bucket: plain,
		ObjectLockConfiguration: &types.ObjectLockConfiguration{ObjectLockEnabled: types.ObjectLockEnabledEnabled}}); err != nil {
		t.Fatalf("PutObjectLockConfiguration on a versioned bucket: %v", err)
	}
	_, err = c.PutBucketVersioning(ctx(), &awss3.PutBucketVersioningInput{Bucket: plain,
		VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusSuspended}})
	wantErr(t, "suspending versioning under Object Lock", err, "InvalidBucketState", 409)

	// The default retention rule is validated and returned as set.
	if _, err := c.CreateBucket(ctx(), &awss3.CreateBucketInput{Bucket: aws.String("locked"), ObjectLockEnabledForBucket: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	b := aws.String("locked")
	for _, tc := range []struct {
		what   string
		conf   *types.ObjectLockConfiguration
		code   string
		status int
	}{
		{"Days and Years", conf(types.ObjectLockRetentionModeGovernance, aws.Int32(1), aws.Int32(1)), "MalformedXML", 400},
		{"Days 0", conf(types.ObjectLockRetentionModeGovernance, aws.Int32(0), nil), "InvalidRetentionPeriod", 400},
		{"Years -1", conf(types.ObjectLockRetentionModeGovernance, nil, aws.Int32(-1)), "InvalidRetentionPeriod", 400},
		{"lower-case mode", conf("governance", aws.Int32(1), nil), "MalformedXML", 400},
		{"Disabled", &types.ObjectLockConfiguration{ObjectLockEnabled: "Disabled"}, "MalformedXML", 400},
	} {
		_, err := c.PutObjectLockConfiguration(ctx(), &awss3.PutObjectLockConfigurationInput{Bucket: b, ObjectLockConfiguration: tc.conf})
		wantErr(t, "PutObjectLockConfiguration with "+tc.what, err, tc.code, tc.status)
	}
	if _, err := c.PutObjectLockConfiguration(ctx(), &awss3.PutObjectLockConfigurationInput{Bucket: b,
		ObjectLockConfiguration: conf(types.ObjectLockRetentionModeGovernance, aws.Int32(2), nil)}); err != nil {
		t.Fatal(err)
	}
	got, err := c.GetObjectLockConfiguration(ctx(), &awss3.GetObjectLockConfigurationInput{Bucket: b})
	if err != nil {
		t.Fatal(err)
	}
	if r := got.ObjectLockConfiguration.Rule; r == nil || r.DefaultRetention.Mode != types.ObjectLockRetentionModeGovernance ||
		aws.ToInt32(r.DefaultRetention.Days) != 2 || r.DefaultRetention.Years != nil {
		t.Errorf("GetObjectLockConfiguration rule = %+v", r)
	}

	// A new version takes the default retention: deleting it needs the
	// bypass; deleting the key only adds a delete marker.
	put, err := c.PutObject(ctx(), &awss3.PutObjectInput{Bucket: b, Key: aws.String("doc"), Body: body()})
	if err != nil {
		t.Fatal(err)
	}
	head, err := c.HeadObject(ctx(), &awss3.HeadObjectInput{Bucket: b, Key: aws.String("doc")})
	if err != nil {
		t.Fatal(err)
	}
	if head.ObjectLockMode != types.ObjectLockModeGovernance || !aws.ToTime(head.ObjectLockRetainUntilDate).Equal(start.AddDate(0, 0, 2)) {
		t.Errorf("HeadObject lock = %q until %v, want GOVERNANCE until %v", head.ObjectLockMode, head.ObjectLockRetainUntilDate, start.AddDate(0, 0, 2))
	}
	_, err = c.DeleteObject(ctx(), &awss3.DeleteObjectInput{Bucket: b, Key: aws.String("doc"), VersionId: put.VersionId})
	wantErr(t, "deleting a version under GOVERNANCE retention", err, "AccessDenied", 403)
	del, err := c.DeleteObject(ctx(), &awss3.DeleteObjectInput{Bucket: b, Key: aws.String("doc")})
	if err != nil || !aws.ToBool(del.DeleteMarker) {
		t.Errorf("DeleteObject without a version = %+v, %v; want a delete marker", del, err)
	}

	// Retention: lengthened freely, shortened only with the bypass.
	retain := func(mode types.ObjectLockRetentionMode, until time.Time, bypass bool) error {
		_, err := c.PutObjectRetention(ctx(), &awss3.PutObjectRetentionInput{Bucket: b, Key: aws.String("doc"), VersionId: put.VersionId,
			Retention: &types.ObjectLockRetention{Mode: mode, RetainUntilDate: aws.Time(until)}, BypassGovernanceRetention: aws.Bool(bypass)})
		return err
	}
	if err := retain(types.ObjectLockRetentionModeGovernance, start.AddDate(0, 0, 10), false); err != nil {
		t.Errorf("lengthening GOVERNANCE retention: %v", err)
	}
	wantErr(t, "shortening GOVERNANCE retention without bypass", retain(types.ObjectLockRetentionModeGovernance, start.AddDate(0, 0, 5), false), "AccessDenied", 403)
	wantErr(t, "a retain-until date in the past", retain(types.ObjectLockRetentionModeGovernance, start.Add(-time.Hour), true), "InvalidArgument", 400)
	_, err = c.PutObjectRetention(ctx(), &awss3.PutObjectRetentionInput{Bucket: b, Key: aws.String("doc"), VersionId: put.VersionId,
		Retention: &types.ObjectLockRetention{Mode: "governance", RetainUntilDate: aws.Time(start.AddDate(0, 0, 20))}})
	wantErr(t, "a lower-case retention mode", err, "MalformedXML", 400)
	if err := retain(types.ObjectLockRetentionModeGovernance, start.AddDate(0, 0, 5), true); err != nil {
		t.Errorf("shortening GOVERNANCE retention with bypass: %v", err)
	}
	wantErr(t, "GOVERNANCE to COMPLIANCE without bypass", retain(types.ObjectLockRetentionModeCompliance, start.AddDate(0, 0, 5), false), "AccessDenied", 403)
	if err := retain(types.ObjectLockRetentionModeCompliance, start.AddDate(0, 0, 5), true); err != nil {
		t.Errorf("GOVERNANCE to COMPLIANCE with bypass: %v", err)
	}
	r, err := c.GetObjectRetention(ctx(), &awss3.GetObjectRetentionInput{Bucket: b, Key: aws.String("doc"), VersionId: put.VersionId})
	if err != nil || r.Retention.Mode != types.ObjectLockRetentionModeCompliance || !aws.ToTime(r.Retention.RetainUntilDate).Equal(start.AddDate(0, 0, 5)) {
		t.Errorf("GetObjectRetention = %+v, %v", r, err)
	}
	// COMPLIANCE gives way to nothing until its date passes.
	wantErr(t, "shortening COMPLIANCE retention with bypass", retain(types.ObjectLockRetentionModeCompliance, start.AddDate(0, 0, 3), true), "AccessDenied", 403)
	wantErr(t, "COMPLIANCE to GOVERNANCE with bypass", retain(types.ObjectLockRetentionModeGovernance, start.AddDate(0, 0, 6), true), "AccessDenied", 403)
	_, err = c.DeleteObject(ctx(), &awss3.DeleteObjectInput{Bucket: b, Key: aws.String("doc"), VersionId: put.VersionId, BypassGovernanceRetention: aws.Bool(true)})
	wantErr(t, "deleting a COMPLIANCE version with bypass", err, "AccessDenied", 403)
	clk.Advance(5*24*time.Hour + time.Second)
	if _, err := c.DeleteObject(ctx(), &awss3.DeleteObjectInput{Bucket: b, Key: aws.String("doc"), VersionId: put.VersionId}); err != nil {
		t.Errorf("deleting a version whose retention has passed: %v", err)
	}
	now := clk.Now()

	// A legal hold holds even against the bypass, until it is turned off.
	if _, err := c.PutObjectLockConfiguration(ctx(), &awss3.PutObjectLockConfigurationInput{Bucket: b,
		ObjectLockConfiguration: &types.ObjectLockConfiguration{ObjectLockEnabled: types.ObjectLockEnabledEnabled}}); err != nil {
		t.Fatal(err)
	}
	held, err := c.PutObject(ctx(), &awss3.PutObjectInput{Bucket: b, Key: aws.String("held"), Body: body()})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.GetObjectLegalHold(ctx(), &awss3.GetObjectLegalHoldInput{Bucket: b, Key: aws.String("held")})
	wantErr(t, "GetObjectLegalHold never set", err, "NoSuchObjectLockConfiguration", 404)
	_, err = c.GetObjectRetention(ctx(), &awss3.GetObjectRetentionInput{Bucket: b, Key: aws.String("held")})
	wantErr(t, "GetObjectRetention without retention (the default rule was removed)", err, "NoSuchObjectLockConfiguration", 404)
	_, err = c.PutObjectLegalHold(ctx(), &awss3.PutObjectLegalHoldInput{Bucket: b, Key: aws.String("held"), LegalHold: &types.ObjectLockLegalHold{Status: "on"}})
	wantErr(t, "a legal hold status of 'on'", err, "MalformedXML", 400)
	hold := func(st types.ObjectLockLegalHoldStatus) {
		t.Helper()
		if _, err := c.PutObjectLegalHold(ctx(), &awss3.PutObjectLegalHoldInput{Bucket: b, Key: aws.String("held"),
			LegalHold: &types.ObjectLockLegalHold{Status: st}}); err != nil {
			t.Fatal(err)
		}
		lh, err := c.GetObjectLegalHold(ctx(), &awss3.GetObjectLegalHoldInput{Bucket: b, Key: aws.String("held")})
		if err != nil || lh.LegalHold.Status != st {
			t.Errorf("GetObjectLegalHold = %+v, %v; want %s", lh, err, st)
		}
	}
	hold(types.ObjectLockLegalHoldStatusOn)
	d, err := c.DeleteObjects(ctx(), &awss3.DeleteObjectsInput{Bucket: b, BypassGovernanceRetention: aws.Bool(true),
		Delete: &types.Delete{Objects: []types.ObjectIdentifier{{Key: aws.String("held"), VersionId: held.VersionId}}}})
	if err != nil || len(d.Errors) != 1 || aws.ToString(d.Errors[0].Code) != "AccessDenied" ||
		aws.ToString(d.Errors[0].VersionId) != aws.ToString(held.VersionId) || len(d.Deleted) != 0 {
		t.Errorf("DeleteObjects of a held version = %+v, %v; want one AccessDenied", d, err)
	}
	hold(types.ObjectLockLegalHoldStatusOff)
	if _, err := c.DeleteObject(ctx(), &awss3.DeleteObjectInput{Bucket: b, Key: aws.String("held"), VersionId: held.VersionId}); err != nil {
		t.Errorf("deleting a version whose hold is off: %v", err)
	}

	// The lock headers of a write: both mode and date, a future date, and
	// a multipart upload's lock lands on the object it makes.
	_, err = c.PutObject(ctx(), &awss3.PutObjectInput{Bucket: b, Key: aws.String("x"), Body: body(), ObjectLockMode: types.ObjectLockModeGovernance})
	wantErr(t, "PutObject with a lock mode and no date", err, "InvalidArgument", 400)
	_, err = c.PutObject(ctx(), &awss3.PutObjectInput{Bucket: b, Key: aws.String("x"), Body: body(),
		ObjectLockMode: types.ObjectLockModeGovernance, ObjectLockRetainUntilDate: aws.Time(now.Add(-time.Minute))})
	wantErr(t, "PutObject with a past retain-until date", err, "InvalidArgument", 400)
	until := now.Add(time.Hour)
	mp, err := c.CreateMultipartUpload(ctx(), &awss3.CreateMultipartUploadInput{Bucket: b, Key: aws.String("mp"),
		ObjectLockMode: types.ObjectLockModeCompliance, ObjectLockRetainUntilDate: aws.Time(until), ObjectLockLegalHoldStatus: types.ObjectLockLegalHoldStatusOn})
	if err != nil {
		t.Fatal(err)
	}
	part, err := c.UploadPart(ctx(), &awss3.UploadPartInput{Bucket: b, Key: aws.String("mp"), UploadId: mp.UploadId, PartNumber: aws.Int32(1), Body: body()})
	if err != nil {
		t.Fatal(err)
	}
	done, err := c.CompleteMultipartUpload(ctx(), &awss3.CompleteMultipartUploadInput{Bucket: b, Key: aws.String("mp"), UploadId: mp.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{{ETag: part.ETag, PartNumber: aws.Int32(1)}}}})
	if err != nil {
		t.Fatal(err)
	}
	g, err := c.GetObject(ctx(), &awss3.GetObjectInput{Bucket: b, Key: aws.String("mp"), VersionId: done.VersionId})
	if err != nil {
		t.Fatal(err)
	}
	g.Body.Close()
	if g.ObjectLockMode != types.ObjectLockModeCompliance || !aws.ToTime(g.ObjectLockRetainUntilDate).Equal(until) ||
		g.ObjectLockLegalHoldStatus != types.ObjectLockLegalHoldStatusOn {
		t.Errorf("GetObject of a locked multipart object: mode %q until %v hold %q", g.ObjectLockMode, g.ObjectLockRetainUntilDate, g.ObjectLockLegalHoldStatus)
	}
	_, err = c.DeleteObject(ctx(), &awss3.DeleteObjectInput{Bucket: b, Key: aws.String("mp"), VersionId: done.VersionId, BypassGovernanceRetention: aws.Bool(true)})
	wantErr(t, "deleting a held COMPLIANCE multipart object", err, "AccessDenied", 403)
}
