package s3_test

import (
	"io"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

func TestVersioningKeepsVersionsAndDeleteMarkers(t *testing.T) {
	e := newEnv(t)
	c := e.client
	b := e.bucket(t, "versions")
	// An object from before versioning becomes the "null" version.
	putKeys(t, e, b, "doc")
	gv, err := c.GetBucketVersioning(ctx(), &awss3.GetBucketVersioningInput{Bucket: aws.String(b)})
	if err != nil || gv.Status != "" {
		t.Fatalf("GetBucketVersioning before = %+v, %v", gv, err)
	}
	if _, err := c.PutBucketVersioning(ctx(), &awss3.PutBucketVersioningInput{Bucket: aws.String(b),
		VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled}}); err != nil {
		t.Fatal(err)
	}
	gv, err = c.GetBucketVersioning(ctx(), &awss3.GetBucketVersioningInput{Bucket: aws.String(b)})
	if err != nil || gv.Status != types.BucketVersioningStatusEnabled {
		t.Fatalf("GetBucketVersioning = %+v, %v", gv, err)
	}
	v1, err := c.PutObject(ctx(), &awss3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("doc"), Body: strings.NewReader("one")})
	if err != nil || aws.ToString(v1.VersionId) == "" || aws.ToString(v1.VersionId) == "null" {
		t.Fatalf("PutObject v1 = %+v, %v", v1, err)
	}
	v2, err := c.PutObject(ctx(), &awss3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("doc"), Body: strings.NewReader("two")})
	if err != nil {
		t.Fatal(err)
	}
	if got, out := get(t, e, b, "doc"); string(got) != "two" || aws.ToString(out.VersionId) != aws.ToString(v2.VersionId) {
		t.Errorf("current = %q %s", got, aws.ToString(out.VersionId))
	}
	old, err := c.GetObject(ctx(), &awss3.GetObjectInput{Bucket: aws.String(b), Key: aws.String("doc"), VersionId: v1.VersionId})
	if err != nil {
		t.Fatal(err)
	}
	oldBody := new(strings.Builder)
	copyAll(oldBody, old.Body)
	old.Body.Close()
	if oldBody.String() != "one" {
		t.Errorf("v1 = %q", oldBody.String())
	}

	del, err := c.DeleteObject(ctx(), &awss3.DeleteObjectInput{Bucket: aws.String(b), Key: aws.String("doc")})
	if err != nil || !aws.ToBool(del.DeleteMarker) || aws.ToString(del.VersionId) == "" {
		t.Fatalf("DeleteObject = %+v, %v", del, err)
	}
	_, err = c.GetObject(ctx(), &awss3.GetObjectInput{Bucket: aws.String(b), Key: aws.String("doc")})
	if errCode(err) != "NoSuchKey" {
		t.Errorf("GET after delete marker = %v", err)
	}
	_, err = c.GetObject(ctx(), &awss3.GetObjectInput{Bucket: aws.String(b), Key: aws.String("doc"), VersionId: del.VersionId})
	if httpStatus(err) != 405 {
		t.Errorf("GET of the delete marker = %v, want 405", err)
	}
	lv, err := c.ListObjectVersions(ctx(), &awss3.ListObjectVersionsInput{Bucket: aws.String(b)})
	if err != nil {
		t.Fatal(err)
	}
	if len(lv.Versions) != 3 || len(lv.DeleteMarkers) != 1 || !aws.ToBool(lv.DeleteMarkers[0].IsLatest) {
		t.Fatalf("ListObjectVersions = %d versions, %d markers: %+v", len(lv.Versions), len(lv.DeleteMarkers), lv)
	}
	wantOrder := []string{aws.ToString(v2.VersionId), aws.ToString(v1.VersionId), "null"}
	for i, v := range lv.Versions {
		if aws.ToString(v.VersionId) != wantOrder[i] || aws.ToBool(v.IsLatest) {
			t.Errorf("version %d = %s latest %v, want %s", i, aws.ToString(v.VersionId), aws.ToBool(v.IsLatest), wantOrder[i])
		}
	}
	// Removing the delete marker brings v2 back.
	if _, err := c.DeleteObject(ctx(), &awss3.DeleteObjectInput{Bucket: aws.String(b), Key: aws.String("doc"), VersionId: del.VersionId}); err != nil {
		t.Fatal(err)
	}
	if got, _ := get(t, e, b, "doc"); string(got) != "two" {
		t.Errorf("after removing marker = %q", got)
	}
	// Deleting v2 for good makes v1 current.
	if _, err := c.DeleteObject(ctx(), &awss3.DeleteObjectInput{Bucket: aws.String(b), Key: aws.String("doc"), VersionId: v2.VersionId}); err != nil {
		t.Fatal(err)
	}
	if got, _ := get(t, e, b, "doc"); string(got) != "one" {
		t.Errorf("after deleting v2 = %q", got)
	}
	if got, _ := getVersion(t, e, b, "doc", "null"); got != "doc" {
		t.Errorf("null version = %q", got)
	}
	_, err = c.DeleteBucket(ctx(), &awss3.DeleteBucketInput{Bucket: aws.String(b)})
	if errCode(err) != "BucketNotEmpty" {
		t.Errorf("DeleteBucket with versions = %v", err)
	}

	// Suspended: new writes replace the null version.
	if _, err := c.PutBucketVersioning(ctx(), &awss3.PutBucketVersioningInput{Bucket: aws.String(b),
		VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusSuspended}}); err != nil {
		t.Fatal(err)
	}
	s1, err := c.PutObject(ctx(), &awss3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("doc"), Body: strings.NewReader("suspended")})
	// S3 reports no version id for a write to a suspended bucket: it makes
	// the null version.
	if err != nil || s1.VersionId != nil {
		t.Fatalf("PutObject suspended = %+v, %v", s1, err)
	}
	if got, _ := getVersion(t, e, b, "doc", "null"); got != "suspended" {
		t.Errorf("null version after suspended put = %q", got)
	}
	lv, err = c.ListObjectVersions(ctx(), &awss3.ListObjectVersionsInput{Bucket: aws.String(b)})
	if err != nil || len(lv.Versions) != 2 {
		t.Errorf("versions after suspended put = %+v, %v", lv, err)
	}
}

func getVersion(t *testing.T, e *env, bucket, key, version string) (string, error) {
	t.Helper()
	out, err := e.client.GetObject(ctx(), &awss3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), VersionId: aws.String(version)})
	if err != nil {
		t.Fatalf("GetObject %s@%s: %v", key, version, err)
	}
	defer out.Body.Close()
	b := new(strings.Builder)
	_, err = copyAll(b, out.Body)
	return b.String(), err
}

func TestListObjectVersionsPages(t *testing.T) {
	e := newEnv(t)
	c := e.client
	b := e.bucket(t, "version-pages")
	if _, err := c.PutBucketVersioning(ctx(), &awss3.PutBucketVersioningInput{Bucket: aws.String(b),
		VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled}}); err != nil {
		t.Fatal(err)
	}
	putKeys(t, e, b, "a", "a", "a", "b", "b")
	var seen []string
	in := &awss3.ListObjectVersionsInput{Bucket: aws.String(b), MaxKeys: aws.Int32(2)}
	for i := 0; i < 10; i++ {
		out, err := c.ListObjectVersions(ctx(), in)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range out.Versions {
			seen = append(seen, aws.ToString(v.Key))
		}
		if !aws.ToBool(out.IsTruncated) {
			break
		}
		in.KeyMarker, in.VersionIdMarker = out.NextKeyMarker, out.NextVersionIdMarker
	}
	if strings.Join(seen, "") != "aaabb" {
		t.Errorf("paged versions = %v", seen)
	}
}

func copyAll(w io.Writer, r io.Reader) (int64, error) { return io.Copy(w, r) }
