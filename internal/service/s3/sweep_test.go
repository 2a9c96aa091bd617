package s3_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/wharf-dev/wharf/internal/store"
)

// blobFiles lists the object files under an S3 data directory.
func blobFiles(t *testing.T, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "blobs", "*", "*"))
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func TestSweepRemovesFilesACrashLeftAndKeepsReferencedOnes(t *testing.T) {
	dir := t.TempDir()
	s3dir := filepath.Join(dir, "s3")
	st, err := store.Open(filepath.Join(dir, "store"))
	if err != nil {
		t.Fatal(err)
	}
	e := newEnvWith(t, st, s3dir)
	b := e.bucket(t, "sweep")
	large := randomBytes(100<<10, 1)
	if _, err := e.client.PutObject(ctx(), &awss3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("kept"), Body: bytes.NewReader(large)}); err != nil {
		t.Fatal(err)
	}
	// A part in a file, of an upload still in progress, is referenced too.
	up, err := e.client.CreateMultipartUpload(ctx(), &awss3.CreateMultipartUploadInput{Bucket: aws.String(b), Key: aws.String("mp")})
	if err != nil {
		t.Fatal(err)
	}
	pt, err := e.client.UploadPart(ctx(), &awss3.UploadPartInput{Bucket: aws.String(b), Key: aws.String("mp"), UploadId: up.UploadId,
		PartNumber: aws.Int32(1), Body: bytes.NewReader(large)})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(blobFiles(t, s3dir)); n != 2 {
		t.Fatalf("%d blob files before the crash, want 2", n)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	// What a crash leaves: a file placed whose metadata never committed, and
	// a temporary file never placed.
	orphan := filepath.Join(s3dir, "blobs", "ab", "ab0123456789abcdef0123456789abcd")
	if err := os.MkdirAll(filepath.Dir(orphan), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(orphan, []byte("never committed"), 0o644); err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(s3dir, "tmp", "cd0123456789abcdef0123456789abcd")
	if err := os.WriteFile(tmp, []byte("half written"), 0o644); err != nil {
		t.Fatal(err)
	}

	st2, err := store.Open(filepath.Join(dir, "store"))
	if err != nil {
		t.Fatal(err)
	}
	defer st2.Close()
	e2 := newEnvWith(t, st2, s3dir)
	if _, err := os.Stat(tmp); !os.IsNotExist(err) {
		t.Errorf("temporary file survived a restart: %v", err)
	}
	// A file placed by this process (a PUT not yet committed) is no candidate.
	inflight := filepath.Join(s3dir, "blobs", "ef", "ef0123456789abcdef0123456789abcd")
	if err := os.MkdirAll(filepath.Dir(inflight), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(inflight, []byte("being committed"), 0o644); err != nil {
		t.Fatal(err)
	}
	n, err := e2.svc.SweepOrphans(ctx())
	if err != nil || n != 1 {
		t.Fatalf("SweepOrphans = %d, %v; want 1 file removed", n, err)
	}
	if _, err := os.Stat(orphan); !os.IsNotExist(err) {
		t.Errorf("orphan file survived the sweep: %v", err)
	}
	if _, err := os.Stat(inflight); err != nil {
		t.Errorf("a file written after start was swept: %v", err)
	}
	if got, _ := get(t, e2, b, "kept"); !bytes.Equal(got, large) {
		t.Error("referenced object differs after the sweep")
	}
	if _, err := e2.client.CompleteMultipartUpload(ctx(), &awss3.CompleteMultipartUploadInput{Bucket: aws.String(b), Key: aws.String("mp"), UploadId: up.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{{PartNumber: aws.Int32(1), ETag: pt.ETag}}}}); err != nil {
		t.Fatalf("completing an upload whose part survived the sweep: %v", err)
	}
	if got, _ := get(t, e2, b, "mp"); !bytes.Equal(got, large) {
		t.Error("multipart object differs after the sweep")
	}
	if n, err := e2.svc.SweepOrphans(ctx()); n != 0 || err != nil {
		t.Errorf("second sweep = %d, %v; want nothing to do", n, err)
	}
}
