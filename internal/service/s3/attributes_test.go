package s3_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

var allAttributes = []types.ObjectAttributes{types.ObjectAttributesEtag, types.ObjectAttributesChecksum,
	types.ObjectAttributesObjectParts, types.ObjectAttributesStorageClass, types.ObjectAttributesObjectSize}

// GetObjectAttributes as the S3 API reference describes it: the ETag
// unquoted, size, storage class and checksum of an object, and for a
// multipart object its parts, a page at a time, with each part's checksum.
func TestGetObjectAttributes(t *testing.T) {
	e := newEnv(t)
	c := e.client
	b := aws.String(e.bucket(t, "attrs"))

	sum := sha256.Sum256([]byte("hello"))
	want := base64.StdEncoding.EncodeToString(sum[:])
	put, err := c.PutObject(ctx(), &awss3.PutObjectInput{Bucket: b, Key: aws.String("one"), Body: strings.NewReader("hello"),
		ChecksumAlgorithm: types.ChecksumAlgorithmSha256})
	if err != nil {
		t.Fatal(err)
	}
	a, err := c.GetObjectAttributes(ctx(), &awss3.GetObjectAttributesInput{Bucket: b, Key: aws.String("one"), ObjectAttributes: allAttributes})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(a.ETag) != strings.Trim(aws.ToString(put.ETag), `"`) || aws.ToInt64(a.ObjectSize) != 5 ||
		a.StorageClass != types.StorageClassStandard || a.Checksum == nil || aws.ToString(a.Checksum.ChecksumSHA256) != want ||
		a.ObjectParts != nil || a.VersionId != nil || a.LastModified == nil {
		t.Errorf("GetObjectAttributes = ETag %q size %v class %q checksum %+v parts %+v version %v", aws.ToString(a.ETag),
			aws.ToInt64(a.ObjectSize), a.StorageClass, a.Checksum, a.ObjectParts, a.VersionId)
	}
	only, err := c.GetObjectAttributes(ctx(), &awss3.GetObjectAttributesInput{Bucket: b, Key: aws.String("one"),
		ObjectAttributes: []types.ObjectAttributes{types.ObjectAttributesObjectSize}})
	if err != nil || only.ETag != nil || only.Checksum != nil || aws.ToInt64(only.ObjectSize) != 5 {
		t.Errorf("GetObjectAttributes of ObjectSize only = %+v, %v", only, err)
	}
	_, err = c.GetObjectAttributes(ctx(), &awss3.GetObjectAttributesInput{Bucket: b, Key: aws.String("one"),
		ObjectAttributes: []types.ObjectAttributes{"Colour"}})
	wantErr(t, "an unknown attribute", err, "InvalidArgument", 400)
	_, err = c.GetObjectAttributes(ctx(), &awss3.GetObjectAttributesInput{Bucket: b, Key: aws.String("none"), ObjectAttributes: allAttributes})
	wantErr(t, "a missing key", err, "NoSuchKey", 404)

	// A two-part upload with SHA-256 checksums.
	mp, err := c.CreateMultipartUpload(ctx(), &awss3.CreateMultipartUploadInput{Bucket: b, Key: aws.String("mp"),
		ChecksumAlgorithm: types.ChecksumAlgorithmSha256})
	if err != nil {
		t.Fatal(err)
	}
	sizes := []int{5 << 20, 1000}
	var parts []types.CompletedPart
	for i, n := range sizes {
		p, err := c.UploadPart(ctx(), &awss3.UploadPartInput{Bucket: b, Key: aws.String("mp"), UploadId: mp.UploadId,
			PartNumber: aws.Int32(int32(i + 1)), Body: bytes.NewReader(bytes.Repeat([]byte{'a' + byte(i)}, n)),
			ChecksumAlgorithm: types.ChecksumAlgorithmSha256})
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, types.CompletedPart{PartNumber: aws.Int32(int32(i + 1)), ETag: p.ETag, ChecksumSHA256: p.ChecksumSHA256})
	}
	// A complete whose whole-object checksum is not the computed one is
	// refused, and the upload can still be completed.
	_, err = c.CompleteMultipartUpload(ctx(), &awss3.CompleteMultipartUploadInput{Bucket: b, Key: aws.String("mp"), UploadId: mp.UploadId,
		ChecksumSHA256: aws.String(want + "-2"), MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}})
	wantErr(t, "CompleteMultipartUpload with a wrong checksum", err, "BadDigest", 400)
	done, err := c.CompleteMultipartUpload(ctx(), &awss3.CompleteMultipartUploadInput{Bucket: b, Key: aws.String("mp"), UploadId: mp.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}})
	if err != nil {
		t.Fatal(err)
	}
	page := func(max, marker int32) *types.GetObjectAttributesParts {
		t.Helper()
		a, err := c.GetObjectAttributes(ctx(), &awss3.GetObjectAttributesInput{Bucket: b, Key: aws.String("mp"), ObjectAttributes: allAttributes,
			MaxParts: aws.Int32(max), PartNumberMarker: aws.String(strconv.Itoa(int(marker)))})
		if err != nil {
			t.Fatal(err)
		}
		if aws.ToString(a.Checksum.ChecksumSHA256) != aws.ToString(done.ChecksumSHA256) || aws.ToInt64(a.ObjectSize) != int64(sizes[0]+sizes[1]) {
			t.Errorf("multipart GetObjectAttributes checksum %q size %d, want %q", aws.ToString(a.Checksum.ChecksumSHA256), aws.ToInt64(a.ObjectSize),
				aws.ToString(done.ChecksumSHA256))
		}
		return a.ObjectParts
	}
	first := page(1, 0)
	if aws.ToInt32(first.TotalPartsCount) != 2 || !aws.ToBool(first.IsTruncated) || aws.ToString(first.NextPartNumberMarker) != "1" ||
		len(first.Parts) != 1 || aws.ToInt32(first.Parts[0].PartNumber) != 1 || aws.ToInt64(first.Parts[0].Size) != int64(sizes[0]) ||
		aws.ToString(first.Parts[0].ChecksumSHA256) != aws.ToString(parts[0].ChecksumSHA256) {
		t.Errorf("first page of parts = %+v", first)
	}
	second := page(10, 1)
	if aws.ToBool(second.IsTruncated) || aws.ToString(second.PartNumberMarker) != "1" || aws.ToInt32(second.MaxParts) != 10 ||
		len(second.Parts) != 1 || aws.ToInt32(second.Parts[0].PartNumber) != 2 || aws.ToInt64(second.Parts[0].Size) != int64(sizes[1]) ||
		aws.ToString(second.Parts[0].ChecksumSHA256) != aws.ToString(parts[1].ChecksumSHA256) {
		t.Errorf("second page of parts = %+v", second)
	}

	// A read of one part, with checksum mode on, answers with that part's
	// checksum and the object's checksum type; a whole read with the
	// object's.
	for i := range sizes {
		g, err := c.HeadObject(ctx(), &awss3.HeadObjectInput{Bucket: b, Key: aws.String("mp"), PartNumber: aws.Int32(int32(i + 1)),
			ChecksumMode: types.ChecksumModeEnabled})
		if err != nil || aws.ToString(g.ChecksumSHA256) != aws.ToString(parts[i].ChecksumSHA256) || g.ChecksumType != types.ChecksumTypeComposite {
			t.Errorf("HeadObject of part %d with checksum mode: %v, checksum %q type %q, want %q COMPOSITE", i+1, err,
				aws.ToString(g.ChecksumSHA256), g.ChecksumType, aws.ToString(parts[i].ChecksumSHA256))
		}
	}
	if g, err := c.HeadObject(ctx(), &awss3.HeadObjectInput{Bucket: b, Key: aws.String("mp"), ChecksumMode: types.ChecksumModeEnabled}); err != nil ||
		aws.ToString(g.ChecksumSHA256) != aws.ToString(done.ChecksumSHA256) {
		t.Errorf("HeadObject of the whole object: %v, checksum %q, want %q", err, aws.ToString(g.ChecksumSHA256), aws.ToString(done.ChecksumSHA256))
	}

	// A versioned bucket reports the version, and an older version on request.
	v := aws.String(e.bucket(t, "attrs-versioned"))
	if _, err := c.PutBucketVersioning(ctx(), &awss3.PutBucketVersioningInput{Bucket: v,
		VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled}}); err != nil {
		t.Fatal(err)
	}
	v1, err := c.PutObject(ctx(), &awss3.PutObjectInput{Bucket: v, Key: aws.String("k"), Body: strings.NewReader("first")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutObject(ctx(), &awss3.PutObjectInput{Bucket: v, Key: aws.String("k"), Body: strings.NewReader("second!")}); err != nil {
		t.Fatal(err)
	}
	old, err := c.GetObjectAttributes(ctx(), &awss3.GetObjectAttributesInput{Bucket: v, Key: aws.String("k"), VersionId: v1.VersionId,
		ObjectAttributes: allAttributes})
	if err != nil || aws.ToString(old.VersionId) != aws.ToString(v1.VersionId) || aws.ToInt64(old.ObjectSize) != 5 {
		t.Errorf("GetObjectAttributes of an older version = %+v, %v", old, err)
	}
}
