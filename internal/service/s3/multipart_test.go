package s3_test

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

func randomBytes(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, seed))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// multipartETag is S3's ETag of a multipart object: MD5 of the parts' MD5s, "-", count.
func multipartETag(parts ...[]byte) string {
	h := md5.New()
	for _, p := range parts {
		s := md5.Sum(p)
		h.Write(s[:])
	}
	return fmt.Sprintf(`"%s-%d"`, hex.EncodeToString(h.Sum(nil)), len(parts))
}

func TestMultipartUploadCompletesWithS3ETag(t *testing.T) {
	e := newEnv(t)
	b := e.bucket(t, "mpu")
	c := e.client
	cr, err := c.CreateMultipartUpload(ctx(), &awss3.CreateMultipartUploadInput{Bucket: aws.String(b), Key: aws.String("big"),
		ContentType: aws.String("application/x-test"), Metadata: map[string]string{"m": "1"}})
	if err != nil {
		t.Fatal(err)
	}
	id := cr.UploadId
	p1, p2, p3 := randomBytes(5<<20, 1), randomBytes(5<<20, 2), []byte("tail")
	var done []types.CompletedPart
	for i, p := range [][]byte{p1, p2, p3} {
		up, err := c.UploadPart(ctx(), &awss3.UploadPartInput{Bucket: aws.String(b), Key: aws.String("big"), UploadId: id,
			PartNumber: aws.Int32(int32(i + 1)), Body: bytes.NewReader(p)})
		if err != nil {
			t.Fatalf("UploadPart %d: %v", i+1, err)
		}
		done = append(done, types.CompletedPart{PartNumber: aws.Int32(int32(i + 1)), ETag: up.ETag, ChecksumCRC32: up.ChecksumCRC32})
	}
	lp, err := c.ListParts(ctx(), &awss3.ListPartsInput{Bucket: aws.String(b), Key: aws.String("big"), UploadId: id, MaxParts: aws.Int32(2)})
	if err != nil || len(lp.Parts) != 2 || !aws.ToBool(lp.IsTruncated) || aws.ToString(lp.NextPartNumberMarker) != "2" {
		t.Fatalf("ListParts = %+v, %v", lp, err)
	}
	lu, err := c.ListMultipartUploads(ctx(), &awss3.ListMultipartUploadsInput{Bucket: aws.String(b)})
	if err != nil || len(lu.Uploads) != 1 || aws.ToString(lu.Uploads[0].UploadId) != aws.ToString(id) {
		t.Fatalf("ListMultipartUploads = %+v, %v", lu, err)
	}
	// Out of order, unknown parts and small parts are refused.
	_, err = c.CompleteMultipartUpload(ctx(), &awss3.CompleteMultipartUploadInput{Bucket: aws.String(b), Key: aws.String("big"), UploadId: id,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{done[1], done[0]}}})
	if errCode(err) != "InvalidPartOrder" {
		t.Errorf("out of order = %v", err)
	}
	_, err = c.CompleteMultipartUpload(ctx(), &awss3.CompleteMultipartUploadInput{Bucket: aws.String(b), Key: aws.String("big"), UploadId: id,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{done[0], {PartNumber: aws.Int32(2), ETag: aws.String(`"0123"`)}}}})
	if errCode(err) != "InvalidPart" {
		t.Errorf("wrong etag = %v", err)
	}
	_, err = c.CompleteMultipartUpload(ctx(), &awss3.CompleteMultipartUploadInput{Bucket: aws.String(b), Key: aws.String("big"), UploadId: id,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{done[0], {PartNumber: aws.Int32(4), ETag: done[1].ETag}}}})
	if errCode(err) != "InvalidPart" {
		t.Errorf("missing part = %v", err)
	}

	comp, err := c.CompleteMultipartUpload(ctx(), &awss3.CompleteMultipartUploadInput{Bucket: aws.String(b), Key: aws.String("big"), UploadId: id,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: done}})
	if err != nil {
		t.Fatal(err)
	}
	if want := multipartETag(p1, p2, p3); aws.ToString(comp.ETag) != want {
		t.Errorf("ETag = %s, want %s", aws.ToString(comp.ETag), want)
	}
	got, out := get(t, e, b, "big")
	if !bytes.Equal(got, append(append(append([]byte(nil), p1...), p2...), p3...)) {
		t.Errorf("assembled object differs (%d bytes)", len(got))
	}
	if aws.ToString(out.ContentType) != "application/x-test" || out.Metadata["m"] != "1" {
		t.Errorf("object headers = %s %v", aws.ToString(out.ContentType), out.Metadata)
	}
	// Part 3 alone, by part number.
	pn, err := c.GetObject(ctx(), &awss3.GetObjectInput{Bucket: aws.String(b), Key: aws.String("big"), PartNumber: aws.Int32(3)})
	if err != nil {
		t.Fatal(err)
	}
	tail, _ := io.ReadAll(pn.Body)
	pn.Body.Close()
	if string(tail) != "tail" || aws.ToInt32(pn.PartsCount) != 3 {
		t.Errorf("part 3 = %q, parts count %d", tail, aws.ToInt32(pn.PartsCount))
	}
	_, err = c.UploadPart(ctx(), &awss3.UploadPartInput{Bucket: aws.String(b), Key: aws.String("big"), UploadId: id, PartNumber: aws.Int32(1), Body: bytes.NewReader(p3)})
	if errCode(err) != "NoSuchUpload" {
		t.Errorf("UploadPart after complete = %v", err)
	}
}

// TestCompleteNamingAPartTwiceIsInvalidPartOrder: a part uploaded twice under
// one number and listed twice (the older ETag first, or the same ETag twice)
// is refused with InvalidPartOrder, as S3 refuses a list that is not in
// strictly ascending order; the upload is kept, and completes with the part
// named once by its current ETag.
func TestCompleteNamingAPartTwiceIsInvalidPartOrder(t *testing.T) {
	e := newEnv(t)
	b := e.bucket(t, "mpu-twice")
	c := e.client
	cr, err := c.CreateMultipartUpload(ctx(), &awss3.CreateMultipartUploadInput{Bucket: aws.String(b), Key: aws.String("k")})
	if err != nil {
		t.Fatal(err)
	}
	upload := func(body string) *string {
		up, err := c.UploadPart(ctx(), &awss3.UploadPartInput{Bucket: aws.String(b), Key: aws.String("k"), UploadId: cr.UploadId,
			PartNumber: aws.Int32(1), Body: bytes.NewReader([]byte(body))})
		if err != nil {
			t.Fatal(err)
		}
		return up.ETag
	}
	older, current := upload("BBBBBBBB"), upload("AAAAAAAA")
	for _, parts := range [][]*string{{older, current}, {current, current}} {
		_, err = c.CompleteMultipartUpload(ctx(), &awss3.CompleteMultipartUploadInput{Bucket: aws.String(b), Key: aws.String("k"), UploadId: cr.UploadId,
			MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{{PartNumber: aws.Int32(1), ETag: parts[0]}, {PartNumber: aws.Int32(1), ETag: parts[1]}}}})
		if errCode(err) != "InvalidPartOrder" {
			t.Errorf("part 1 listed twice (%s, %s): %v, want InvalidPartOrder", *parts[0], *parts[1], err)
		}
	}
	if _, err := c.CompleteMultipartUpload(ctx(), &awss3.CompleteMultipartUploadInput{Bucket: aws.String(b), Key: aws.String("k"), UploadId: cr.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{{PartNumber: aws.Int32(1), ETag: current}}}}); err != nil {
		t.Fatal(err)
	}
	got, err := c.GetObject(ctx(), &awss3.GetObjectInput{Bucket: aws.String(b), Key: aws.String("k")})
	if err != nil {
		t.Fatal(err)
	}
	defer got.Body.Close()
	if body, _ := io.ReadAll(got.Body); string(body) != "AAAAAAAA" {
		t.Errorf("object = %q, want the part uploaded last", body)
	}
}

func TestMultipartPartsSmallerThan5MiBAreRefusedButTheLast(t *testing.T) {
	e := newEnv(t)
	b := e.bucket(t, "mpu-small")
	c := e.client
	cr, err := c.CreateMultipartUpload(ctx(), &awss3.CreateMultipartUploadInput{Bucket: aws.String(b), Key: aws.String("k")})
	if err != nil {
		t.Fatal(err)
	}
	var parts []types.CompletedPart
	for i := 1; i <= 2; i++ {
		up, err := c.UploadPart(ctx(), &awss3.UploadPartInput{Bucket: aws.String(b), Key: aws.String("k"), UploadId: cr.UploadId,
			PartNumber: aws.Int32(int32(i)), Body: bytes.NewReader([]byte("small"))})
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, types.CompletedPart{PartNumber: aws.Int32(int32(i)), ETag: up.ETag})
	}
	_, err = c.CompleteMultipartUpload(ctx(), &awss3.CompleteMultipartUploadInput{Bucket: aws.String(b), Key: aws.String("k"), UploadId: cr.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}})
	if errCode(err) != "EntityTooSmall" {
		t.Errorf("small parts = %v", err)
	}
	// A single small part is the last part: allowed.
	if _, err := c.CompleteMultipartUpload(ctx(), &awss3.CompleteMultipartUploadInput{Bucket: aws.String(b), Key: aws.String("k"), UploadId: cr.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts[:1]}}); err != nil {
		t.Errorf("one small part: %v", err)
	}
}

func TestAbortMultipartUploadAndUploadPartCopy(t *testing.T) {
	e := newEnv(t)
	b := e.bucket(t, "mpu-abort")
	c := e.client
	src := randomBytes(6<<20, 3)
	if _, err := c.PutObject(ctx(), &awss3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("src"), Body: bytes.NewReader(src)}); err != nil {
		t.Fatal(err)
	}
	cr, err := c.CreateMultipartUpload(ctx(), &awss3.CreateMultipartUploadInput{Bucket: aws.String(b), Key: aws.String("dst")})
	if err != nil {
		t.Fatal(err)
	}
	cp1, err := c.UploadPartCopy(ctx(), &awss3.UploadPartCopyInput{Bucket: aws.String(b), Key: aws.String("dst"), UploadId: cr.UploadId,
		PartNumber: aws.Int32(1), CopySource: aws.String(b + "/src")})
	if err != nil {
		t.Fatal(err)
	}
	cp2, err := c.UploadPartCopy(ctx(), &awss3.UploadPartCopyInput{Bucket: aws.String(b), Key: aws.String("dst"), UploadId: cr.UploadId,
		PartNumber: aws.Int32(2), CopySource: aws.String(b + "/src"), CopySourceRange: aws.String("bytes=0-9")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CompleteMultipartUpload(ctx(), &awss3.CompleteMultipartUploadInput{Bucket: aws.String(b), Key: aws.String("dst"), UploadId: cr.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{
			{PartNumber: aws.Int32(1), ETag: cp1.CopyPartResult.ETag}, {PartNumber: aws.Int32(2), ETag: cp2.CopyPartResult.ETag}}}}); err != nil {
		t.Fatal(err)
	}
	got, _ := get(t, e, b, "dst")
	if !bytes.Equal(got, append(append([]byte(nil), src...), src[:10]...)) {
		t.Errorf("copied parts differ")
	}

	ab, err := c.CreateMultipartUpload(ctx(), &awss3.CreateMultipartUploadInput{Bucket: aws.String(b), Key: aws.String("gone")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.AbortMultipartUpload(ctx(), &awss3.AbortMultipartUploadInput{Bucket: aws.String(b), Key: aws.String("gone"), UploadId: ab.UploadId}); err != nil {
		t.Fatal(err)
	}
	_, err = c.ListParts(ctx(), &awss3.ListPartsInput{Bucket: aws.String(b), Key: aws.String("gone"), UploadId: ab.UploadId})
	if errCode(err) != "NoSuchUpload" {
		t.Errorf("ListParts after abort = %v", err)
	}
	_, err = c.AbortMultipartUpload(ctx(), &awss3.AbortMultipartUploadInput{Bucket: aws.String(b), Key: aws.String("gone"), UploadId: ab.UploadId})
	if errCode(err) != "NoSuchUpload" {
		t.Errorf("abort twice = %v", err)
	}
}
