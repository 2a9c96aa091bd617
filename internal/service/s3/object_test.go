package s3_test

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

func md5hex(b []byte) string {
	s := md5.Sum(b)
	return `"` + hex.EncodeToString(s[:]) + `"`
}

func get(t *testing.T, e *env, bucket, key string) ([]byte, *awss3.GetObjectOutput) {
	t.Helper()
	out, err := e.client.GetObject(ctx(), &awss3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("GetObject %s: %v", key, err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b, out
}

func TestPutGetHeadRoundTripsBytesMetadataAndHeaders(t *testing.T) {
	e := newEnv(t)
	b := e.bucket(t, "objects")
	body := []byte("hello, wharf")
	put, err := e.client.PutObject(ctx(), &awss3.PutObjectInput{
		Bucket: aws.String(b), Key: aws.String("dir/hello.txt"), Body: bytes.NewReader(body),
		ContentType: aws.String("text/plain"), ContentEncoding: aws.String("identity"), ContentDisposition: aws.String("inline"),
		ContentLanguage: aws.String("en"), CacheControl: aws.String("max-age=60"),
		Metadata: map[string]string{"Owner": "me", "purpose": "test"}, Tagging: aws.String("a=1&b=2"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(put.ETag) != md5hex(body) {
		t.Errorf("ETag = %s, want %s", aws.ToString(put.ETag), md5hex(body))
	}
	got, out := get(t, e, b, "dir/hello.txt")
	if !bytes.Equal(got, body) {
		t.Errorf("body = %q", got)
	}
	if aws.ToString(out.ContentType) != "text/plain" || aws.ToString(out.ContentEncoding) != "identity" ||
		aws.ToString(out.ContentDisposition) != "inline" || aws.ToString(out.ContentLanguage) != "en" ||
		aws.ToString(out.CacheControl) != "max-age=60" || aws.ToInt64(out.ContentLength) != int64(len(body)) ||
		aws.ToString(out.ETag) != md5hex(body) || out.LastModified == nil || aws.ToInt32(out.TagCount) != 2 {
		t.Errorf("GetObject headers = %+v", out)
	}
	if out.Metadata["owner"] != "me" || out.Metadata["purpose"] != "test" {
		t.Errorf("metadata = %v", out.Metadata)
	}
	head, err := e.client.HeadObject(ctx(), &awss3.HeadObjectInput{Bucket: aws.String(b), Key: aws.String("dir/hello.txt")})
	if err != nil || aws.ToInt64(head.ContentLength) != int64(len(body)) || aws.ToString(head.ETag) != md5hex(body) {
		t.Errorf("HeadObject = %+v, %v", head, err)
	}
	_, err = e.client.GetObject(ctx(), &awss3.GetObjectInput{Bucket: aws.String(b), Key: aws.String("nope")})
	if errCode(err) != "NoSuchKey" || httpStatus(err) != 404 {
		t.Errorf("GetObject missing = %v", err)
	}
	_, err = e.client.HeadObject(ctx(), &awss3.HeadObjectInput{Bucket: aws.String(b), Key: aws.String("nope")})
	if httpStatus(err) != 404 {
		t.Errorf("HeadObject missing = %v", err)
	}
	// Overwrite replaces the bytes.
	if _, err := e.client.PutObject(ctx(), &awss3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("dir/hello.txt"), Body: strings.NewReader("v2")}); err != nil {
		t.Fatal(err)
	}
	if got, _ := get(t, e, b, "dir/hello.txt"); string(got) != "v2" {
		t.Errorf("after overwrite = %q", got)
	}
}

func TestKeysS3AllowsAreStoredAndListedExactly(t *testing.T) {
	e := newEnv(t)
	b := e.bucket(t, "keys")
	keys := []string{"../../etc/passwd", "a b/c%20d", "ünïcødé/日本語", "with+plus", "trailing/", "q?x=1&y", strings.Repeat("k", 1024), "./dot", "a//b"}
	for _, k := range keys {
		if _, err := e.client.PutObject(ctx(), &awss3.PutObjectInput{Bucket: aws.String(b), Key: aws.String(k), Body: strings.NewReader(k)}); err != nil {
			t.Fatalf("PutObject %q: %v", k, err)
		}
	}
	for _, k := range keys {
		if got, _ := get(t, e, b, k); string(got) != k {
			t.Errorf("GetObject %q = %q", k, got)
		}
	}
	list, err := e.client.ListObjectsV2(ctx(), &awss3.ListObjectsV2Input{Bucket: aws.String(b)})
	if err != nil || len(list.Contents) != len(keys) {
		t.Fatalf("ListObjectsV2 = %d objects, %v", len(list.Contents), err)
	}
	seen := map[string]bool{}
	for _, o := range list.Contents {
		seen[aws.ToString(o.Key)] = true
	}
	for _, k := range keys {
		if !seen[k] {
			t.Errorf("key %q not listed", k)
		}
	}
	_, err = e.client.PutObject(ctx(), &awss3.PutObjectInput{Bucket: aws.String(b), Key: aws.String(strings.Repeat("k", 1025)), Body: strings.NewReader("x")})
	if errCode(err) != "KeyTooLongError" {
		t.Errorf("1025-byte key = %v", err)
	}
}

func TestRangeReads(t *testing.T) {
	e := newEnv(t)
	b := e.bucket(t, "ranges")
	body := []byte("0123456789")
	if _, err := e.client.PutObject(ctx(), &awss3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("r"), Body: bytes.NewReader(body)}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		rng, want, contentRange string
	}{
		{"bytes=2-4", "234", "bytes 2-4/10"},
		{"bytes=7-", "789", "bytes 7-9/10"},
		{"bytes=-3", "789", "bytes 7-9/10"},
		{"bytes=8-100", "89", "bytes 8-9/10"},
		{"bytes=-100", "0123456789", "bytes 0-9/10"},
		{"bytes=5-2", "0123456789", ""}, // unreadable: whole object
		{"lines=1-2", "0123456789", ""},
	} {
		out, err := e.client.GetObject(ctx(), &awss3.GetObjectInput{Bucket: aws.String(b), Key: aws.String("r"), Range: aws.String(tc.rng)})
		if err != nil {
			t.Errorf("%s: %v", tc.rng, err)
			continue
		}
		got, _ := io.ReadAll(out.Body)
		out.Body.Close()
		if string(got) != tc.want || aws.ToString(out.ContentRange) != tc.contentRange || aws.ToInt64(out.ContentLength) != int64(len(tc.want)) {
			t.Errorf("%s = %q (%s, %d), want %q (%s)", tc.rng, got, aws.ToString(out.ContentRange), aws.ToInt64(out.ContentLength), tc.want, tc.contentRange)
		}
	}
	for _, rng := range []string{"bytes=10-", "bytes=20-30"} {
		_, err := e.client.GetObject(ctx(), &awss3.GetObjectInput{Bucket: aws.String(b), Key: aws.String("r"), Range: aws.String(rng)})
		if errCode(err) != "InvalidRange" || httpStatus(err) != 416 {
			t.Errorf("%s = %v, want InvalidRange 416", rng, err)
		}
	}
}

func TestConditionalReadsAndWrites(t *testing.T) {
	e := newEnv(t)
	b := e.bucket(t, "conditions")
	put, err := e.client.PutObject(ctx(), &awss3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("c"), Body: strings.NewReader("x")})
	if err != nil {
		t.Fatal(err)
	}
	etag := aws.ToString(put.ETag)
	past, future := time.Now().Add(-time.Hour), time.Now().Add(time.Hour)
	for _, tc := range []struct {
		name   string
		in     awss3.GetObjectInput
		status int
	}{
		{"If-Match matching", awss3.GetObjectInput{IfMatch: aws.String(etag)}, 200},
		{"If-Match other", awss3.GetObjectInput{IfMatch: aws.String(`"abc"`)}, 412},
		{"If-None-Match matching", awss3.GetObjectInput{IfNoneMatch: aws.String(etag)}, 304},
		{"If-None-Match other", awss3.GetObjectInput{IfNoneMatch: aws.String(`"abc"`)}, 200},
		{"If-Modified-Since past", awss3.GetObjectInput{IfModifiedSince: &past}, 200},
		{"If-Modified-Since future", awss3.GetObjectInput{IfModifiedSince: &future}, 304},
		{"If-Unmodified-Since past", awss3.GetObjectInput{IfUnmodifiedSince: &past}, 412},
		{"If-Unmodified-Since future", awss3.GetObjectInput{IfUnmodifiedSince: &future}, 200},
		{"If-Match wins over If-Unmodified-Since", awss3.GetObjectInput{IfMatch: aws.String(etag), IfUnmodifiedSince: &past}, 200},
	} {
		in := tc.in
		in.Bucket, in.Key = aws.String(b), aws.String("c")
		out, err := e.client.GetObject(ctx(), &in)
		status := 200
		if err != nil {
			status = httpStatus(err)
		} else {
			out.Body.Close()
		}
		if status != tc.status {
			t.Errorf("%s: status %d (%v), want %d", tc.name, status, err, tc.status)
		}
	}
	// Conditional writes ("Conditional writes" in the S3 user guide).
	_, err = e.client.PutObject(ctx(), &awss3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("c"), Body: strings.NewReader("y"), IfNoneMatch: aws.String("*")})
	if errCode(err) != "PreconditionFailed" || httpStatus(err) != 412 {
		t.Errorf("If-None-Match * on existing = %v", err)
	}
	if _, err := e.client.PutObject(ctx(), &awss3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("new"), Body: strings.NewReader("y"), IfNoneMatch: aws.String("*")}); err != nil {
		t.Errorf("If-None-Match * on new: %v", err)
	}
	_, err = e.client.PutObject(ctx(), &awss3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("c"), Body: strings.NewReader("y"), IfMatch: aws.String(`"0000"`)})
	if errCode(err) != "PreconditionFailed" {
		t.Errorf("If-Match stale = %v", err)
	}
	if _, err := e.client.PutObject(ctx(), &awss3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("c"), Body: strings.NewReader("y"), IfMatch: aws.String(etag)}); err != nil {
		t.Errorf("If-Match current: %v", err)
	}
	if got, _ := get(t, e, b, "c"); string(got) != "y" {
		t.Errorf("after conditional write = %q", got)
	}
}

func TestChecksumsAreComputedVerifiedAndReturned(t *testing.T) {
	e := newEnv(t)
	b := e.bucket(t, "checksums")
	for _, alg := range []types.ChecksumAlgorithm{types.ChecksumAlgorithmCrc32, types.ChecksumAlgorithmCrc32c,
		types.ChecksumAlgorithmSha1, types.ChecksumAlgorithmSha256, types.ChecksumAlgorithmCrc64nvme} {
		key := "obj-" + string(alg)
		put, err := e.client.PutObject(ctx(), &awss3.PutObjectInput{Bucket: aws.String(b), Key: aws.String(key),
			Body: strings.NewReader("checksum me"), ChecksumAlgorithm: alg})
		if err != nil {
			t.Fatalf("%s: %v", alg, err)
		}
		out, err := e.client.GetObject(ctx(), &awss3.GetObjectInput{Bucket: aws.String(b), Key: aws.String(key), ChecksumMode: types.ChecksumModeEnabled})
		if err != nil {
			t.Fatalf("%s get: %v", alg, err)
		}
		// The SDK validates the returned checksum while reading: a wrong one fails here.
		if _, err := io.ReadAll(out.Body); err != nil {
			t.Errorf("%s: read with validation: %v", alg, err)
		}
		out.Body.Close()
		sent := map[types.ChecksumAlgorithm]*string{types.ChecksumAlgorithmCrc32: put.ChecksumCRC32, types.ChecksumAlgorithmCrc32c: put.ChecksumCRC32C,
			types.ChecksumAlgorithmSha1: put.ChecksumSHA1, types.ChecksumAlgorithmSha256: put.ChecksumSHA256, types.ChecksumAlgorithmCrc64nvme: put.ChecksumCRC64NVME}[alg]
		got := map[types.ChecksumAlgorithm]*string{types.ChecksumAlgorithmCrc32: out.ChecksumCRC32, types.ChecksumAlgorithmCrc32c: out.ChecksumCRC32C,
			types.ChecksumAlgorithmSha1: out.ChecksumSHA1, types.ChecksumAlgorithmSha256: out.ChecksumSHA256, types.ChecksumAlgorithmCrc64nvme: out.ChecksumCRC64NVME}[alg]
		if sent == nil || got == nil || *sent != *got {
			t.Errorf("%s: put checksum %v, get checksum %v", alg, aws.ToString(sent), aws.ToString(got))
		}
	}
	_, err := e.client.PutObject(ctx(), &awss3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("bad"),
		Body: strings.NewReader("data"), ChecksumSHA256: aws.String("n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=")})
	if errCode(err) == "" {
		t.Errorf("wrong SHA256 accepted")
	}
	_, err = e.client.PutObject(ctx(), &awss3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("bad"),
		Body: strings.NewReader("data"), ContentMD5: aws.String("1B2M2Y8AsgTpgAmY7PhCfg==")})
	if errCode(err) != "BadDigest" {
		t.Errorf("wrong Content-MD5 = %v", err)
	}
}

func TestCopyObjectHonoursMetadataDirective(t *testing.T) {
	e := newEnv(t)
	b := e.bucket(t, "copies")
	if _, err := e.client.PutObject(ctx(), &awss3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("src"), Body: strings.NewReader("payload"),
		ContentType: aws.String("text/plain"), Metadata: map[string]string{"k": "v"}}); err != nil {
		t.Fatal(err)
	}
	cp, err := e.client.CopyObject(ctx(), &awss3.CopyObjectInput{Bucket: aws.String(b), Key: aws.String("dst"), CopySource: aws.String(b + "/src")})
	if err != nil || aws.ToString(cp.CopyObjectResult.ETag) != md5hex([]byte("payload")) {
		t.Fatalf("CopyObject = %+v, %v", cp, err)
	}
	got, out := get(t, e, b, "dst")
	if string(got) != "payload" || out.Metadata["k"] != "v" || aws.ToString(out.ContentType) != "text/plain" {
		t.Errorf("copied = %q %v %s", got, out.Metadata, aws.ToString(out.ContentType))
	}
	if _, err := e.client.CopyObject(ctx(), &awss3.CopyObjectInput{Bucket: aws.String(b), Key: aws.String("dst2"), CopySource: aws.String("/" + b + "/src"),
		MetadataDirective: types.MetadataDirectiveReplace, Metadata: map[string]string{"new": "1"}, ContentType: aws.String("application/json")}); err != nil {
		t.Fatal(err)
	}
	_, out = get(t, e, b, "dst2")
	if out.Metadata["k"] != "" || out.Metadata["new"] != "1" || aws.ToString(out.ContentType) != "application/json" {
		t.Errorf("replaced = %v %s", out.Metadata, aws.ToString(out.ContentType))
	}
	_, err = e.client.CopyObject(ctx(), &awss3.CopyObjectInput{Bucket: aws.String(b), Key: aws.String("src"), CopySource: aws.String(b + "/src")})
	if errCode(err) != "InvalidRequest" {
		t.Errorf("copy onto itself without changes = %v", err)
	}
	_, err = e.client.CopyObject(ctx(), &awss3.CopyObjectInput{Bucket: aws.String(b), Key: aws.String("x"), CopySource: aws.String(b + "/missing")})
	if errCode(err) != "NoSuchKey" {
		t.Errorf("copy of missing = %v", err)
	}
	_, err = e.client.CopyObject(ctx(), &awss3.CopyObjectInput{Bucket: aws.String(b), Key: aws.String("x"), CopySource: aws.String(b + "/src"), CopySourceIfMatch: aws.String(`"nope"`)})
	if errCode(err) != "PreconditionFailed" {
		t.Errorf("copy-source-if-match stale = %v", err)
	}
	// Deleting the source leaves the copy intact (blobs are shared by link).
	if _, err := e.client.DeleteObject(ctx(), &awss3.DeleteObjectInput{Bucket: aws.String(b), Key: aws.String("src")}); err != nil {
		t.Fatal(err)
	}
	if got, _ := get(t, e, b, "dst"); string(got) != "payload" {
		t.Errorf("copy after source deleted = %q", got)
	}
}

func TestDeleteObjectsReportsEachKey(t *testing.T) {
	e := newEnv(t)
	b := e.bucket(t, "multidelete")
	var ids []types.ObjectIdentifier
	for i := 0; i < 5; i++ {
		k := fmt.Sprintf("k%d", i)
		if _, err := e.client.PutObject(ctx(), &awss3.PutObjectInput{Bucket: aws.String(b), Key: aws.String(k), Body: strings.NewReader(k)}); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, types.ObjectIdentifier{Key: aws.String(k)})
	}
	ids = append(ids, types.ObjectIdentifier{Key: aws.String("never-existed")})
	out, err := e.client.DeleteObjects(ctx(), &awss3.DeleteObjectsInput{Bucket: aws.String(b), Delete: &types.Delete{Objects: ids}})
	if err != nil || len(out.Deleted) != 6 || len(out.Errors) != 0 {
		t.Fatalf("DeleteObjects = %+v, %v", out, err)
	}
	list, err := e.client.ListObjectsV2(ctx(), &awss3.ListObjectsV2Input{Bucket: aws.String(b)})
	if err != nil || len(list.Contents) != 0 {
		t.Errorf("after DeleteObjects: %d left, %v", len(list.Contents), err)
	}
	if _, err := e.client.DeleteObject(ctx(), &awss3.DeleteObjectInput{Bucket: aws.String(b), Key: aws.String("absent")}); err != nil {
		t.Errorf("DeleteObject of absent key: %v", err)
	}
}

func TestObjectTagging(t *testing.T) {
	e := newEnv(t)
	b := e.bucket(t, "otags")
	if _, err := e.client.PutObject(ctx(), &awss3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("o"), Body: strings.NewReader("x")}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.PutObjectTagging(ctx(), &awss3.PutObjectTaggingInput{Bucket: aws.String(b), Key: aws.String("o"),
		Tagging: &types.Tagging{TagSet: []types.Tag{{Key: aws.String("env"), Value: aws.String("dev")}}}}); err != nil {
		t.Fatal(err)
	}
	tg, err := e.client.GetObjectTagging(ctx(), &awss3.GetObjectTaggingInput{Bucket: aws.String(b), Key: aws.String("o")})
	if err != nil || len(tg.TagSet) != 1 || aws.ToString(tg.TagSet[0].Key) != "env" {
		t.Errorf("GetObjectTagging = %+v, %v", tg, err)
	}
	if _, err := e.client.DeleteObjectTagging(ctx(), &awss3.DeleteObjectTaggingInput{Bucket: aws.String(b), Key: aws.String("o")}); err != nil {
		t.Fatal(err)
	}
	tg, err = e.client.GetObjectTagging(ctx(), &awss3.GetObjectTaggingInput{Bucket: aws.String(b), Key: aws.String("o")})
	if err != nil || len(tg.TagSet) != 0 {
		t.Errorf("after delete = %+v, %v", tg, err)
	}
}

// TestKeyNotUTF8IsInvalidURI: a key whose percent-decoding is not UTF-8 (the
// SDK sends a Go string's bytes as they are: %AE%8A-) is 400 InvalidURI
// "Couldn't parse the specified URI.", as S3 answers it, for a read and a
// write; the same characters as UTF-8 (what botocore sends for the Python
// string '\xae\x8a-') are a key like any other, missing here: 404 NoSuchKey.
func TestKeyNotUTF8IsInvalidURI(t *testing.T) {
	e := newEnv(t)
	b := e.bucket(t, "keys-utf8")
	c := e.client
	_, err := c.GetObject(ctx(), &awss3.GetObjectInput{Bucket: aws.String(b), Key: aws.String("\xae\x8a-")})
	if errCode(err) != "InvalidURI" || httpStatus(err) != 400 || !strings.Contains(err.Error(), "Couldn't parse the specified URI.") {
		t.Errorf("GetObject of a key not UTF-8: %v, want 400 InvalidURI", err)
	}
	_, err = c.PutObject(ctx(), &awss3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("a/\xff"), Body: strings.NewReader("x")})
	if errCode(err) != "InvalidURI" {
		t.Errorf("PutObject of a key not UTF-8: %v, want InvalidURI", err)
	}
	_, err = c.GetObject(ctx(), &awss3.GetObjectInput{Bucket: aws.String(b), Key: aws.String("\u00ae\u008a-")})
	if errCode(err) != "NoSuchKey" {
		t.Errorf("GetObject of a missing UTF-8 key: %v, want NoSuchKey", err)
	}
	list, err := c.ListObjectsV2(ctx(), &awss3.ListObjectsV2Input{Bucket: aws.String(b)})
	if err != nil || len(list.Contents) != 0 {
		t.Errorf("after the refused writes the bucket lists %+v (%v), want nothing", list, err)
	}
}
