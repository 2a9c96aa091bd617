package s3

import (
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/wharf-dev/wharf/internal/awsapi"
	s3api "github.com/wharf-dev/wharf/internal/awsapi/s3"
	"github.com/wharf-dev/wharf/internal/store"
)

// minPartSize is the smallest part but the last (5 MiB, "Amazon S3
// multipart upload limits" in the S3 user guide).
const minPartSize = 5 << 20

// upload is a multipart upload in progress, with what the object will carry.
type upload struct {
	ID                 string
	Key                string
	Initiated          time.Time
	ContentType        string            `json:",omitempty"`
	ContentEncoding    string            `json:",omitempty"`
	ContentDisposition string            `json:",omitempty"`
	ContentLanguage    string            `json:",omitempty"`
	CacheControl       string            `json:",omitempty"`
	Expires            string            `json:",omitempty"`
	WebsiteRedirect    string            `json:",omitempty"`
	StorageClass       string            `json:",omitempty"`
	Metadata           map[string]string `json:",omitempty"`
	Tags               []s3api.Tag       `json:",omitempty"`
	ChecksumAlgorithm  string            `json:",omitempty"`
	ChecksumType       string            `json:",omitempty"`
	Enc                *encryption       `json:",omitempty"`
	Lock               *objectLock       `json:",omitempty"`
	// Owner and ACL are the object's (object.Owner, object.ACL).
	Owner string   `json:",omitempty"`
	ACL   *[]grant `json:",omitempty"`
	// Initiator is the account that started the upload, when it is not
	// the bucket owner.
	Initiator string `json:",omitempty"`
}

// part is an uploaded part.
type part struct {
	Number       int32
	Blob         string
	Size         int64
	ETag         string
	LastModified time.Time
	Checksums    map[string]string `json:",omitempty"`

	inline []byte // bytes of a small part, until its commit
}

func getUpload(tx store.Tx, bucket, key, id string) (*upload, error) {
	v, err := tx.Get(uploadKey(bucket, key, id))
	if err != nil {
		return nil, err
	}
	if v == nil {
		return nil, noSuchUpload(id)
	}
	u := &upload{}
	if err := json.Unmarshal(v, u); err != nil {
		return nil, fmt.Errorf("s3: upload: %w", err)
	}
	return u, nil
}

func listParts(tx store.Tx, id string) ([]*part, error) {
	var parts []*part
	err := tx.Scan(partPrefix(id), nil, func(k, v []byte) (bool, error) {
		p := &part{}
		if err := json.Unmarshal(v, p); err != nil {
			return false, err
		}
		parts = append(parts, p)
		return true, nil
	})
	return parts, err
}

// CreateMultipartUpload starts an upload.
func (s *Service) CreateMultipartUpload(ctx context.Context, in *s3api.CreateMultipartUploadInput) (*s3api.CreateMultipartUploadOutput, error) {
	name, key := awsapi.ToString(in.Bucket), awsapi.ToString(in.Key)
	if err := validKey(key); err != nil {
		return nil, err
	}
	if err := checkMetadataSize(in.Metadata); err != nil {
		return nil, err
	}
	if err := validStorageClass(in.StorageClass); err != nil {
		return nil, err
	}
	tags, err := parseTagging(in.Tagging)
	if err != nil {
		return nil, err
	}
	alg, ctype := "", strings.ToUpper(awsapi.ToString(in.ChecksumType))
	if in.ChecksumAlgorithm != nil {
		if alg, err = validAlgorithm(*in.ChecksumAlgorithm); err != nil {
			return nil, err
		}
	}
	// Multipart checksums ("Checking object integrity"): CRC64NVME is always
	// of the full object; SHA checksums are always composite; the CRC32s are
	// composite unless FULL_OBJECT is asked for.
	switch {
	case ctype != "" && ctype != "FULL_OBJECT" && ctype != "COMPOSITE":
		return nil, invalidArgument("Value for x-amz-checksum-type header is invalid.", "x-amz-checksum-type", ctype)
	case ctype != "" && alg == "":
		return nil, invalidRequest("The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm header.")
	case alg == "" || alg == algCRC64NVME:
		if ctype == "COMPOSITE" {
			return nil, invalidRequest("The COMPOSITE checksum type cannot be used with the crc64nvme checksum algorithm.")
		}
		ctype = "FULL_OBJECT"
	case alg == algSHA1 || alg == algSHA256:
		if ctype == "FULL_OBJECT" {
			return nil, invalidRequest("The FULL_OBJECT checksum type cannot be used with the " + strings.ToLower(alg) + " checksum algorithm.")
		}
		ctype = "COMPOSITE"
	case ctype == "":
		ctype = "COMPOSITE"
	}
	enc, err := s.newEncryption(ctx, name, sseRequest{in.ServerSideEncryption, in.SSEKMSKeyId, in.BucketKeyEnabled,
		in.SSECustomerAlgorithm, in.SSECustomerKey, in.SSECustomerKeyMD5})
	if err != nil {
		return nil, err
	}
	lock, err := s.lockHeaders(in.ObjectLockMode, in.ObjectLockRetainUntilDate, in.ObjectLockLegalHoldStatus)
	if err != nil {
		return nil, err
	}
	u := &upload{
		ID: s.versionID(s.nextSeq()), Key: key, Initiated: s.nowMillis(), Enc: enc, Lock: lock,
		ContentType: awsapi.ToString(in.ContentType), ContentEncoding: awsapi.ToString(in.ContentEncoding),
		ContentDisposition: awsapi.ToString(in.ContentDisposition), ContentLanguage: awsapi.ToString(in.ContentLanguage),
		CacheControl: awsapi.ToString(in.CacheControl), Expires: awsapi.ToString(in.Expires),
		WebsiteRedirect: awsapi.ToString(in.WebsiteRedirectLocation), StorageClass: storageClassOf(in.StorageClass),
		Metadata: in.Metadata, Tags: tags, ChecksumAlgorithm: alg, ChecksumType: ctype,
	}
	if u.ContentType == "" {
		u.ContentType = "binary/octet-stream"
	}
	acl := aclRequest{in.ACL, in.GrantFullControl, in.GrantRead, in.GrantReadACP, nil, in.GrantWriteACP, nil}
	err = s.st.Update(func(tx store.Tx) error {
		b, err := ownBucket(ctx, tx, name)
		if err != nil {
			return err
		}
		if err := checkLockWrite(b, lock); err != nil {
			return err
		}
		if u.Owner, u.ACL, err = newObjectACL(b, caller(ctx).Account, acl); err != nil {
			return err
		}
		if a := caller(ctx).Account; a != b.Account {
			u.Initiator = a
		}
		return putJSON(tx, uploadKey(name, key, u.ID), u)
	})
	if err != nil {
		return nil, err
	}
	out := &s3api.CreateMultipartUploadOutput{Bucket: awsapi.String(name), Key: awsapi.String(key), UploadId: awsapi.String(u.ID),
		ChecksumType: awsapi.String(ctype)}
	enc.fill(sseFields{&out.ServerSideEncryption, &out.SSECustomerAlgorithm, &out.SSECustomerKeyMD5, &out.SSEKMSKeyId, &out.BucketKeyEnabled})
	if alg != "" {
		out.ChecksumAlgorithm = awsapi.String(alg)
	}
	return out, nil
}

func validPartNumber(n *int32) error {
	if n == nil || *n < 1 || *n > 10000 {
		v := ""
		if n != nil {
			v = strconv.Itoa(int(*n))
		}
		return invalidArgument("Part number must be an integer between 1 and 10000, inclusive", "partNumber", v)
	}
	return nil
}

func (s *Service) viewUpload(ctx context.Context, name, key, id string) (*upload, error) {
	var u *upload
	err := s.st.View(func(tx store.Tx) error {
		if _, err := ownBucket(ctx, tx, name); err != nil {
			return err
		}
		var err error
		u, err = getUpload(tx, name, key, id)
		return err
	})
	return u, err
}

// commitPart records a part whose blob is written, replacing an earlier
// upload of the same number.
func (s *Service) commitPart(ctx context.Context, name, key, id string, p *part) error {
	var garbage []string
	err := s.st.Update(func(tx store.Tx) error {
		garbage = nil
		if _, err := ownBucket(ctx, tx, name); err != nil {
			return err
		}
		if _, err := getUpload(tx, name, key, id); err != nil {
			return err
		}
		if v, err := tx.Get(partKey(id, p.Number)); err != nil {
			return err
		} else if v != nil {
			var old part
			if json.Unmarshal(v, &old) == nil {
				garbage = append(garbage, old.Blob)
			}
		}
		if p.inline != nil {
			if err := tx.Put(dataKey(p.Blob), p.inline); err != nil {
				return err
			}
		}
		if err := putJSON(tx, partKey(id, p.Number), p); err != nil {
			return err
		}
		return dropInline(tx, garbage)
	})
	if err != nil {
		s.dropBlobs([]string{p.Blob})
		return err
	}
	s.dropBlobs(garbage)
	return nil
}

// UploadPart stores one part.
func (s *Service) UploadPart(ctx context.Context, in *s3api.UploadPartInput) (*s3api.UploadPartOutput, error) {
	name, key, id := awsapi.ToString(in.Bucket), awsapi.ToString(in.Key), awsapi.ToString(in.UploadId)
	if err := validPartNumber(in.PartNumber); err != nil {
		return nil, err
	}
	u, err := s.viewUpload(ctx, name, key, id)
	if err != nil {
		return nil, err
	}
	// Each part of an SSE-C upload carries the upload's key (UploadPart docs).
	if err := u.Enc.checkPartKey(in.SSECustomerAlgorithm, in.SSECustomerKey, in.SSECustomerKeyMD5); err != nil {
		return nil, err
	}
	ck := checksumInput{algorithm: awsapi.ToString(in.ChecksumAlgorithm),
		values: checksumValues(in.ChecksumCRC32, in.ChecksumCRC32C, in.ChecksumCRC64NVME, in.ChecksumSHA1, in.ChecksumSHA256)}
	if err := emptyContentMD5(in.ContentMD5); err != nil {
		return nil, err
	}
	blob, size, d, inline, err := s.receive(in.Body, ck, awsapi.ToString(in.ContentMD5), maxPutSize, u.ChecksumAlgorithm)
	if err != nil {
		return nil, err
	}
	p := &part{Number: *in.PartNumber, Blob: blob, Size: size, ETag: d.etag(), LastModified: s.nowMillis(), Checksums: d.checksums(), inline: inline}
	if err := s.commitPart(ctx, name, key, id, p); err != nil {
		return nil, err
	}
	out := &s3api.UploadPartOutput{ETag: awsapi.String(p.ETag)}
	u.Enc.fill(sseFields{&out.ServerSideEncryption, &out.SSECustomerAlgorithm, &out.SSECustomerKeyMD5, &out.SSEKMSKeyId, &out.BucketKeyEnabled})
	checksumFields{&out.ChecksumCRC32, &out.ChecksumCRC32C, &out.ChecksumCRC64NVME, &out.ChecksumSHA1, &out.ChecksumSHA256}.set(
		partChecksums(p, u.ChecksumAlgorithm, ck))
	return out, nil
}

// partChecksums are the checksums a part response reports: the upload's
// algorithm's and the one the request named.
func partChecksums(p *part, uploadAlg string, ck checksumInput) map[string]string {
	m := map[string]string{}
	for a, v := range p.Checksums {
		if a == uploadAlg || strings.EqualFold(a, ck.algorithm) || ck.values[a] != "" {
			m[a] = v
		}
	}
	return m
}

// parseCopyRange reads x-amz-copy-source-range: "bytes=first-last", both required.
func parseCopyRange(h string, size int64) (*byteRange, error) {
	spec, ok := strings.CutPrefix(h, "bytes=")
	a, b, ok2 := strings.Cut(spec, "-")
	first, err1 := strconv.ParseInt(a, 10, 64)
	last, err2 := strconv.ParseInt(b, 10, 64)
	if !ok || !ok2 || err1 != nil || err2 != nil || first < 0 || last < first {
		return nil, invalidArgument("The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy",
			"x-amz-copy-source-range", h)
	}
	if last >= size {
		return nil, s3api.ErrInvalidRange("The requested range is not satisfiable").WithFields(map[string]any{"RangeRequested": h, "ActualObjectSize": strconv.FormatInt(size, 10)})
	}
	return &byteRange{first, last}, nil
}

// UploadPartCopy makes a part from (a range of) an existing object.
func (s *Service) UploadPartCopy(ctx context.Context, in *s3api.UploadPartCopyInput) (*s3api.UploadPartCopyOutput, error) {
	name, key, id := awsapi.ToString(in.Bucket), awsapi.ToString(in.Key), awsapi.ToString(in.UploadId)
	if err := validPartNumber(in.PartNumber); err != nil {
		return nil, err
	}
	u, err := s.viewUpload(ctx, name, key, id)
	if err != nil {
		return nil, err
	}
	if err := u.Enc.checkPartKey(in.SSECustomerAlgorithm, in.SSECustomerKey, in.SSECustomerKeyMD5); err != nil {
		return nil, err
	}
	sb, src, err := s.readSource(ctx, awsapi.ToString(in.CopySource))
	if err != nil {
		return nil, err
	}
	if err := src.Enc.checkKey(in.CopySourceSSECustomerAlgorithm, in.CopySourceSSECustomerKey, in.CopySourceSSECustomerKeyMD5, "x-amz-copy-source-"); err != nil {
		return nil, err
	}
	if err := checkCopySource(src, in.CopySourceIfMatch, in.CopySourceIfNoneMatch, in.CopySourceIfModifiedSince, in.CopySourceIfUnmodifiedSince); err != nil {
		return nil, err
	}
	rng := &byteRange{0, src.Size - 1}
	if in.CopySourceRange != nil {
		if rng, err = parseCopyRange(*in.CopySourceRange, src.Size); err != nil {
			return nil, err
		}
	}
	f, err := s.openBlob(src.Blob)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var r io.Reader = http.NoBody
	if rng.end >= rng.start {
		r = io.NewSectionReader(f, rng.start, rng.end-rng.start+1)
	}
	blob, size, d, inline, err := s.receive(r, checksumInput{algorithm: u.ChecksumAlgorithm}, "", maxPutSize)
	if err != nil {
		return nil, err
	}
	p := &part{Number: *in.PartNumber, Blob: blob, Size: size, ETag: d.etag(), LastModified: s.nowMillis(), Checksums: d.checksums(), inline: inline}
	if err := s.commitPart(ctx, name, key, id, p); err != nil {
		return nil, err
	}
	lm := p.LastModified
	res := &s3api.CopyPartResult{ETag: awsapi.String(p.ETag), LastModified: &lm}
	if u.ChecksumAlgorithm != "" {
		checksumFields{&res.ChecksumCRC32, &res.ChecksumCRC32C, &res.ChecksumCRC64NVME, &res.ChecksumSHA1, &res.ChecksumSHA256}.set(
			map[string]string{u.ChecksumAlgorithm: p.Checksums[u.ChecksumAlgorithm]})
	}
	out := &s3api.UploadPartCopyOutput{CopyPartResult: res}
	u.Enc.fill(sseFields{&out.ServerSideEncryption, &out.SSECustomerAlgorithm, &out.SSECustomerKeyMD5, &out.SSEKMSKeyId, &out.BucketKeyEnabled})
	if sb.versioned() {
		out.CopySourceVersionId = awsapi.String(src.VersionID)
	}
	return out, nil
}

func invalidPart(n int32, etag string) error {
	return s3api.ErrInvalidPart("One or more of the specified parts could not be found.  The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.").WithFields(map[string]any{"PartNumber": strconv.Itoa(int(n)), "ETag": etag})
}

// CompleteMultipartUpload joins the listed parts into the object. The ETag
// is S3's: the MD5 of the parts' MD5s, a dash, and the number of parts.
func (s *Service) CompleteMultipartUpload(ctx context.Context, in *s3api.CompleteMultipartUploadInput) (*s3api.CompleteMultipartUploadOutput, error) {
	name, key, id := awsapi.ToString(in.Bucket), awsapi.ToString(in.Key), awsapi.ToString(in.UploadId)
	if in.MultipartUpload == nil || len(in.MultipartUpload.Parts) == 0 {
		return nil, s3api.ErrMalformedXML("The XML you provided was not well-formed or did not validate against our published schema")
	}
	var u *upload
	var stored []*part
	var done *object
	var b *bucket
	err := s.st.View(func(tx store.Tx) error {
		var err error
		if b, err = ownBucket(ctx, tx, name); err != nil {
			return err
		}
		if u, err = getUpload(tx, name, key, id); err != nil {
			// A retried complete of an upload that already completed answers
			// as the first did, while the object it made is still current
			// (CompleteMultipartUpload docs: retries of a completed upload
			// succeed).
			if cur, gerr := getObject(tx, objectKey(name, key)); gerr == nil && cur != nil && cur.UploadID == id && !cur.DeleteMarker {
				done = cur
				return nil
			}
			return err
		}
		stored, err = listParts(tx, id)
		return err
	})
	if err != nil {
		return nil, err
	}
	if done != nil {
		return s.completed(ctx, b, done), nil
	}
	byNum := map[int32]*part{}
	for _, p := range stored {
		byNum[p.Number] = p
	}
	listed := in.MultipartUpload.Parts
	// The list must be in strictly ascending order, a part number named
	// twice included, whatever the parts (CompleteMultipartUpload docs,
	// InvalidPartOrder; S3 refuses a list naming a part twice with it, as
	// clients that re-sent a part and listed both found): the order is the
	// list's own, checked before any part is looked up.
	for i := 1; i < len(listed); i++ {
		if awsapi.ToInt32(listed[i].PartNumber) <= awsapi.ToInt32(listed[i-1].PartNumber) {
			return nil, s3api.ErrInvalidPartOrder("The list of parts was not in ascending order. The parts list must be specified in order by part number.")
		}
	}
	var chosen []*part
	for i, lp := range listed {
		n := awsapi.ToInt32(lp.PartNumber)
		p := byNum[n]
		if p == nil || lp.ETag == nil || strings.Trim(*lp.ETag, `"`) != strings.Trim(p.ETag, `"`) {
			return nil, invalidPart(n, awsapi.ToString(lp.ETag))
		}
		if i < len(listed)-1 && p.Size < minPartSize {
			return nil, s3api.ErrEntityTooSmall("Your proposed upload is smaller than the minimum allowed object size.").WithFields(map[string]any{"ProposedSize": strconv.FormatInt(p.Size, 10), "MinSizeAllowed": strconv.Itoa(minPartSize),
				"PartNumber": strconv.Itoa(int(n)), "ETag": p.ETag})
		}
		chosen = append(chosen, p)
	}
	o, err := s.assemble(u, chosen)
	if err != nil {
		return nil, err
	}
	// The checksum of the whole object a complete request carries must be
	// the one computed (CompleteMultipartUpload docs, x-amz-checksum-*).
	for a, v := range checksumValues(in.ChecksumCRC32, in.ChecksumCRC32C, in.ChecksumCRC64NVME, in.ChecksumSHA1, in.ChecksumSHA256) {
		// A composite checksum may be given with or without its -N suffix.
		if got := o.Checksums[a]; v != "" && got != "" && strings.Split(v, "-")[0] != strings.Split(got, "-")[0] {
			s.dropBlobs([]string{o.Blob})
			return nil, s3api.ErrBadDigest("The %s you specified did not match the calculated checksum.", strings.ToLower(a))
		}
	}
	if want := in.MpuObjectSize; want != nil && *want != o.Size {
		s.dropBlobs([]string{o.Blob})
		return nil, invalidRequest(fmt.Sprintf("The provided 'x-amz-mp-object-size' header value %d does not match what was computed: %d", *want, o.Size))
	}
	var garbage []string
	err = s.st.Update(func(tx store.Tx) error {
		garbage = nil
		var err error
		if b, err = ownBucket(ctx, tx, name); err != nil {
			return err
		}
		if _, err := getUpload(tx, name, key, id); err != nil {
			return err
		}
		if in.IfMatch != nil || in.IfNoneMatch != nil {
			cur, err := getObject(tx, objectKey(name, key))
			if err != nil {
				return err
			}
			if err := checkWrite(cur, key, in.IfMatch, in.IfNoneMatch); err != nil {
				return err
			}
		}
		parts, err := listParts(tx, id)
		if err != nil {
			return err
		}
		for _, p := range parts {
			garbage = append(garbage, p.Blob)
		}
		if err := deletePrefix(tx, partPrefix(id)); err != nil {
			return err
		}
		if err := tx.Delete(uploadKey(name, key, id)); err != nil {
			return err
		}
		g, err := s.commitObject(tx, b, o)
		if err != nil {
			return err
		}
		garbage = append(garbage, g...)
		return dropInline(tx, garbage)
	})
	if err != nil {
		s.dropBlobs([]string{o.Blob})
		return nil, err
	}
	s.dropBlobs(garbage)
	s.objectCreated(ctx, b, o, "CompleteMultipartUpload", "ObjectCreated:CompleteMultipartUpload")
	return s.completed(ctx, b, o), nil
}

// completed is CompleteMultipartUpload's answer for o, the object it made.
func (s *Service) completed(ctx context.Context, b *bucket, o *object) *s3api.CompleteMultipartUploadOutput {
	name, key := b.Name, o.Key
	host := caller(ctx).Host
	if host == "" {
		host = "localhost"
	}
	out := &s3api.CompleteMultipartUploadOutput{
		Location: awsapi.String("http://" + host + "/" + name + "/" + key), Bucket: awsapi.String(name), Key: awsapi.String(key),
		ETag: awsapi.String(o.ETag), ChecksumType: awsapi.String(o.ChecksumType),
	}
	checksumFields{&out.ChecksumCRC32, &out.ChecksumCRC32C, &out.ChecksumCRC64NVME, &out.ChecksumSHA1, &out.ChecksumSHA256}.set(o.Checksums)
	o.Enc.fill(sseFields{SSE: &out.ServerSideEncryption, KMSKeyID: &out.SSEKMSKeyId, BucketKey: &out.BucketKeyEnabled})
	if b.Versioning == "Enabled" { // a write to a suspended bucket makes the null version, unreported
		out.VersionId = awsapi.String(o.VersionID)
	}
	return out
}

// assemble writes the parts, in order, into one new blob and describes the
// object it holds.
func (s *Service) assemble(u *upload, parts []*part) (*object, error) {
	alg := u.ChecksumAlgorithm
	if alg == "" {
		alg = algCRC64NVME
	}
	full := u.ChecksumType == "FULL_OBJECT"
	var fullHash *digests
	w, err := s.blobs.create()
	if err != nil {
		return nil, err
	}
	var dst io.Writer = w
	if full {
		fullHash = newDigests(alg)
		dst = io.MultiWriter(w, fullHash)
	}
	etags := md5.New()
	composite := newHash(alg)
	var size int64
	sizes := make([]int64, 0, len(parts))
	var sums []string
	for _, p := range parts {
		f, err := s.openBlob(p.Blob)
		if err != nil {
			w.abort()
			return nil, fmt.Errorf("s3: open part %d: %w", p.Number, err)
		}
		n, err := copyBuffered(dst, f)
		f.Close()
		if err != nil {
			w.abort()
			return nil, fmt.Errorf("s3: assemble part %d: %w", p.Number, err)
		}
		size += n
		sizes = append(sizes, n)
		if u.ChecksumAlgorithm != "" {
			sums = append(sums, p.Checksums[alg])
		}
		raw, _ := hex.DecodeString(strings.Trim(p.ETag, `"`))
		etags.Write(raw)
		if !full {
			sum, err := base64.StdEncoding.DecodeString(p.Checksums[alg])
			if err != nil || len(sum) == 0 {
				w.abort()
				return nil, invalidRequest(fmt.Sprintf("The upload was created using a %s checksum. The complete request must include the checksum for each part. It was missing for part %d in the request.", strings.ToLower(alg), p.Number))
			}
			composite.Write(sum)
		}
	}
	blob, err := w.commit()
	if err != nil {
		return nil, err
	}
	o := &object{
		Key: u.Key, Seq: s.nextSeq(), Blob: blob, Size: size, LastModified: s.nowMillis(),
		ETag:        fmt.Sprintf(`"%s-%d"`, hex.EncodeToString(etags.Sum(nil)), len(parts)),
		ContentType: u.ContentType, ContentEncoding: u.ContentEncoding, ContentDisposition: u.ContentDisposition,
		ContentLanguage: u.ContentLanguage, CacheControl: u.CacheControl, Expires: u.Expires,
		WebsiteRedirect: u.WebsiteRedirect, StorageClass: u.StorageClass, Metadata: u.Metadata, Tags: u.Tags,
		ChecksumType: u.ChecksumType, PartSizes: sizes, PartChecksums: sums, UploadID: u.ID, Enc: u.Enc, Lock: u.Lock,
		Owner: u.Owner, ACL: u.ACL,
	}
	if full {
		o.Checksums = fullHash.checksums()
	} else {
		o.Checksums = map[string]string{alg: fmt.Sprintf("%s-%d", base64.StdEncoding.EncodeToString(composite.Sum(nil)), len(parts))}
	}
	return o, nil
}

// AbortMultipartUpload drops an upload and its parts.
func (s *Service) AbortMultipartUpload(ctx context.Context, in *s3api.AbortMultipartUploadInput) (*s3api.AbortMultipartUploadOutput, error) {
	name, key, id := awsapi.ToString(in.Bucket), awsapi.ToString(in.Key), awsapi.ToString(in.UploadId)
	var garbage []string
	err := s.st.Update(func(tx store.Tx) error {
		garbage = nil
		if _, err := ownBucket(ctx, tx, name); err != nil {
			return err
		}
		u, err := getUpload(tx, name, key, id)
		if err != nil {
			return err
		}
		if t := in.IfMatchInitiatedTime; t != nil && !u.Initiated.Truncate(time.Second).Equal(t.Truncate(time.Second)) {
			return preconditionFailed("x-amz-if-match-initiated-time")
		}
		parts, err := listParts(tx, id)
		if err != nil {
			return err
		}
		for _, p := range parts {
			garbage = append(garbage, p.Blob)
		}
		if err := deletePrefix(tx, partPrefix(id)); err != nil {
			return err
		}
		if err := dropInline(tx, garbage); err != nil {
			return err
		}
		return tx.Delete(uploadKey(name, key, id))
	})
	if err != nil {
		return nil, err
	}
	s.dropBlobs(garbage)
	return &s3api.AbortMultipartUploadOutput{}, nil
}

// ListParts lists an upload's parts in order, a page at a time.
func (s *Service) ListParts(ctx context.Context, in *s3api.ListPartsInput) (*s3api.ListPartsOutput, error) {
	name, key, id := awsapi.ToString(in.Bucket), awsapi.ToString(in.Key), awsapi.ToString(in.UploadId)
	max := 1000
	if in.MaxParts != nil && *in.MaxParts >= 0 && *in.MaxParts < 1000 {
		max = int(*in.MaxParts)
	}
	marker := awsapi.ToInt32(in.PartNumberMarker)
	var u *upload
	var parts []*part
	var b *bucket
	err := s.st.View(func(tx store.Tx) error {
		var err error
		if b, err = ownBucket(ctx, tx, name); err != nil {
			return err
		}
		if u, err = getUpload(tx, name, key, id); err != nil {
			return err
		}
		parts, err = listParts(tx, id)
		return err
	})
	if err != nil {
		return nil, err
	}
	out := &s3api.ListPartsOutput{Bucket: awsapi.String(name), Key: awsapi.String(key), UploadId: awsapi.String(id),
		MaxParts: awsapi.Int32(int32(max)), PartNumberMarker: awsapi.Int32(marker), IsTruncated: awsapi.Bool(false),
		Owner: owner(ownerOr(u.Owner, b.Account)), Initiator: initiator(ownerOr(u.Initiator, b.Account)),
		StorageClass: awsapi.String((&object{StorageClass: u.StorageClass}).storageClass()), ChecksumType: awsapi.String(u.ChecksumType)}
	if u.ChecksumAlgorithm != "" {
		out.ChecksumAlgorithm = awsapi.String(u.ChecksumAlgorithm)
	}
	for _, p := range parts {
		if p.Number <= marker {
			continue
		}
		if len(out.Parts) == max {
			out.IsTruncated = awsapi.Bool(true)
			break
		}
		lm := p.LastModified
		e := s3api.Part{PartNumber: awsapi.Int32(p.Number), LastModified: &lm, ETag: awsapi.String(p.ETag), Size: awsapi.Int64(p.Size)}
		if u.ChecksumAlgorithm != "" {
			checksumFields{&e.ChecksumCRC32, &e.ChecksumCRC32C, &e.ChecksumCRC64NVME, &e.ChecksumSHA1, &e.ChecksumSHA256}.set(
				map[string]string{u.ChecksumAlgorithm: p.Checksums[u.ChecksumAlgorithm]})
		}
		out.Parts = append(out.Parts, e)
	}
	if n := len(out.Parts); n > 0 {
		out.NextPartNumberMarker = out.Parts[n-1].PartNumber
	}
	return out, nil
}

// ListMultipartUploads lists uploads in progress by key, then by start.
func (s *Service) ListMultipartUploads(ctx context.Context, in *s3api.ListMultipartUploadsInput) (*s3api.ListMultipartUploadsOutput, error) {
	name := awsapi.ToString(in.Bucket)
	enc, err := validEncoding(in.EncodingType)
	if err != nil {
		return nil, err
	}
	max := 1000
	if in.MaxUploads != nil && *in.MaxUploads >= 0 && *in.MaxUploads < 1000 {
		max = int(*in.MaxUploads)
	}
	prefix, delim := awsapi.ToString(in.Prefix), awsapi.ToString(in.Delimiter)
	keyMarker, idMarker := awsapi.ToString(in.KeyMarker), awsapi.ToString(in.UploadIdMarker)
	out := &s3api.ListMultipartUploadsOutput{Bucket: awsapi.String(name), Prefix: awsapi.String(urlEncode(enc, prefix)),
		KeyMarker: awsapi.String(urlEncode(enc, keyMarker)), UploadIdMarker: awsapi.String(idMarker),
		MaxUploads: awsapi.Int32(int32(max)), IsTruncated: awsapi.Bool(false), EncodingType: in.EncodingType}
	if in.Delimiter != nil {
		out.Delimiter = encPtr(enc, in.Delimiter)
	}
	base := uploadPrefix(name)
	keyOf := func(k []byte) string {
		rest := string(k[len(base):])
		return rest[:strings.LastIndexByte(rest, 0)]
	}
	var lastKey, lastID string
	err = s.st.View(func(tx store.Tx) error {
		b, err := ownBucket(ctx, tx, name)
		if err != nil {
			return err
		}
		var start []byte
		if keyMarker != "" {
			start = keyEnd(append(append([]byte(nil), base...), keyMarker+"\x00"...))
			if idMarker != "" {
				start = append(uploadKey(name, keyMarker, idMarker), 0)
			}
		}
		count := 0
		return walk(tx, base, keyOf, prefix, delim, keyMarker, start, func(key string, cp bool, v []byte) (bool, error) {
			if count >= max {
				out.IsTruncated = awsapi.Bool(max > 0)
				return false, nil
			}
			count++
			lastKey, lastID = key, ""
			if cp {
				out.CommonPrefixes = append(out.CommonPrefixes, s3api.CommonPrefix{Prefix: awsapi.String(urlEncode(enc, key))})
				return true, nil
			}
			u := &upload{}
			if err := json.Unmarshal(v, u); err != nil {
				return false, err
			}
			lastID = u.ID
			t := u.Initiated
			e := s3api.MultipartUpload{UploadId: awsapi.String(u.ID), Key: awsapi.String(urlEncode(enc, key)), Initiated: &t,
				StorageClass: awsapi.String((&object{StorageClass: u.StorageClass}).storageClass()), Owner: owner(ownerOr(u.Owner, b.Account)),
				Initiator:    initiator(ownerOr(u.Initiator, b.Account)),
				ChecksumType: awsapi.String(u.ChecksumType)}
			if u.ChecksumAlgorithm != "" {
				e.ChecksumAlgorithm = awsapi.String(u.ChecksumAlgorithm)
			}
			out.Uploads = append(out.Uploads, e)
			return true, nil
		})
	})
	if err != nil {
		return nil, err
	}
	if awsapi.ToBool(out.IsTruncated) {
		out.NextKeyMarker = awsapi.String(urlEncode(enc, lastKey))
		if lastID != "" {
			out.NextUploadIdMarker = awsapi.String(lastID)
		}
	}
	return out, nil
}
