package s3

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"hash"
	"hash/crc32"
	"hash/crc64"
	"io"
	"strings"
	"sync"

	s3api "github.com/wharf-dev/wharf/internal/awsapi/s3"
)

// Checksum algorithms S3 supports for object integrity ("Checking object
// integrity" in the S3 user guide), by the names the API uses.
const (
	algCRC32     = "CRC32"
	algCRC32C    = "CRC32C"
	algCRC64NVME = "CRC64NVME"
	algSHA1      = "SHA1"
	algSHA256    = "SHA256"
)

// crc64NVME is CRC-64/NVME: the reflected polynomial 0x9a6c9329ac4bc9b5. The
// tables (16 KiB, computed at each MakeTable, and 64 KiB for slicing by 8)
// are made on first use.
var crc64NVME = sync.OnceValue(func() *[8]crc64.Table {
	var t [8]crc64.Table
	t[0] = *crc64.MakeTable(0x9a6c9329ac4bc9b5)
	for i := range 256 {
		crc := t[0][i]
		for j := 1; j < 8; j++ {
			crc = t[0][crc&0xff] ^ crc>>8
			t[j][i] = crc
		}
	}
	return &t
})

// crc64nvme is hash/crc64's digest for CRC-64/NVME, eight bytes at a time:
// hash/crc64 slices by 8 only for its own two polynomials (and, for another
// table, builds the 16 KiB tables again on every Write of 2 KiB or more), so
// every PUT without a checksum of its own, which S3 gives a CRC-64/NVME,
// hashed its body a byte at a time.
type crc64nvme struct{ crc uint64 }

func (d *crc64nvme) Size() int      { return crc64.Size }
func (d *crc64nvme) BlockSize() int { return 1 }
func (d *crc64nvme) Reset()         { d.crc = 0 }
func (d *crc64nvme) Sum64() uint64  { return d.crc }
func (d *crc64nvme) Sum(in []byte) []byte {
	return binary.BigEndian.AppendUint64(in, d.crc)
}

func (d *crc64nvme) Write(p []byte) (int, error) {
	t := crc64NVME()
	crc := ^d.crc
	n := len(p)
	for len(p) >= 8 {
		crc ^= binary.LittleEndian.Uint64(p)
		crc = t[7][crc&0xff] ^ t[6][crc>>8&0xff] ^ t[5][crc>>16&0xff] ^ t[4][crc>>24&0xff] ^
			t[3][crc>>32&0xff] ^ t[2][crc>>40&0xff] ^ t[1][crc>>48&0xff] ^ t[0][crc>>56]
		p = p[8:]
	}
	for _, b := range p {
		crc = t[0][byte(crc)^b] ^ crc>>8
	}
	d.crc = ^crc
	return n, nil
}

// crc32c is made on first use, as crc64NVME: most requests carry no checksum.
var crc32c = sync.OnceValue(func() *crc32.Table { return crc32.MakeTable(crc32.Castagnoli) })

func newHash(alg string) hash.Hash {
	switch alg {
	case algCRC32:
		return crc32.NewIEEE()
	case algCRC32C:
		return crc32.New(crc32c())
	case algCRC64NVME:
		return &crc64nvme{}
	case algSHA1:
		return sha1.New()
	case algSHA256:
		return sha256.New()
	}
	return nil
}

// validAlgorithm normalises a checksum algorithm name, or reports it unknown.
func validAlgorithm(alg string) (string, error) {
	a := strings.ToUpper(alg)
	if newHash(a) == nil {
		return "", invalidRequest("Checksum algorithm provided is unsupported. Please try again with any of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]")
	}
	return a, nil
}

// digests hashes a body as it streams: always MD5 (the ETag), and the
// checksum algorithms the request names.
type digests struct {
	md5  hash.Hash
	sums map[string]hash.Hash
}

func newDigests(algs ...string) *digests {
	d := &digests{md5: md5.New(), sums: map[string]hash.Hash{}}
	for _, a := range algs {
		if h := newHash(a); h != nil {
			d.sums[a] = h
		}
	}
	return d
}

func (d *digests) Write(p []byte) (int, error) {
	d.md5.Write(p)
	for _, h := range d.sums {
		h.Write(p)
	}
	return len(p), nil
}

// teeWriter writes each chunk to w and hashes it, with MD5 (the slowest
// hash, and always present) on another goroutine meanwhile: a large PUT's
// file write and other checksums then overlap with it instead of adding to
// it. Chunks are copy buffers (256 KiB), so the handoff costs little.
func (d *digests) teeWriter(w io.Writer) io.Writer { return &teeWriter{d: d, w: w} }

type teeWriter struct {
	d    *digests
	w    io.Writer
	done chan struct{}
}

func (t *teeWriter) Write(p []byte) (int, error) {
	if t.done == nil {
		t.done = make(chan struct{}, 1)
	}
	go func() {
		t.d.md5.Write(p)
		t.done <- struct{}{}
	}()
	n, err := t.w.Write(p)
	for _, h := range t.d.sums {
		h.Write(p[:n])
	}
	<-t.done
	if err == nil && n < len(p) {
		err = io.ErrShortWrite
	}
	return n, err
}

func (d *digests) etag() string { return `"` + hex.EncodeToString(d.md5.Sum(nil)) + `"` }

func (d *digests) checksums() map[string]string {
	if len(d.sums) == 0 {
		return nil
	}
	m := map[string]string{}
	for a, h := range d.sums {
		m[a] = base64.StdEncoding.EncodeToString(h.Sum(nil))
	}
	return m
}

// checksumInput is the checksum part of a request: the algorithm the SDK
// names and the values it sends in headers (a value sent in a trailer is
// checked by the server's aws-chunked decoder).
type checksumInput struct {
	algorithm string
	values    map[string]string
}

func (c checksumInput) algorithms() ([]string, error) {
	var algs []string
	if c.algorithm != "" {
		a, err := validAlgorithm(c.algorithm)
		if err != nil {
			return nil, err
		}
		algs = append(algs, a)
	}
	for a, v := range c.values {
		if v != "" && (len(algs) == 0 || algs[0] != a) {
			algs = append(algs, a)
		}
	}
	if len(algs) > 1 {
		return nil, invalidRequest("Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.")
	}
	return algs, nil
}

// emptyContentMD5 refuses a Content-MD5 header sent empty, which S3 answers
// as an invalid digest rather than as no digest.
func emptyContentMD5(v *string) error {
	if v != nil && *v == "" {
		return s3api.ErrInvalidDigest("The Content-MD5 you specified was invalid.").WithFields(map[string]any{"Content-MD5": ""})
	}
	return nil
}

// verify checks the values the client sent against what was computed, and
// the Content-MD5 header.
func (c checksumInput) verify(d *digests, contentMD5 string) error {
	if contentMD5 != "" {
		want, err := base64.StdEncoding.DecodeString(contentMD5)
		if err != nil || len(want) != md5.Size {
			return s3api.ErrInvalidDigest("The Content-MD5 you specified was invalid.").WithFields(map[string]any{"Content-MD5": contentMD5})
		}
		if string(want) != string(d.md5.Sum(nil)) {
			return s3api.ErrBadDigest("The Content-MD5 you specified did not match what we received.").WithFields(map[string]any{"ExpectedDigest": contentMD5, "CalculatedDigest": base64.StdEncoding.EncodeToString(d.md5.Sum(nil))})
		}
	}
	got := d.checksums()
	for a, v := range c.values {
		if v == "" {
			continue
		}
		if got[a] != v {
			return s3api.ErrBadDigest("The %s you specified did not match the calculated checksum.", a)
		}
	}
	return nil
}

func checksumValues(crc32, crc32c, crc64, sha1, sha256 *string) map[string]string {
	m := map[string]string{}
	add := func(a string, p *string) {
		if p != nil && *p != "" {
			m[a] = *p
		}
	}
	add(algCRC32, crc32)
	add(algCRC32C, crc32c)
	add(algCRC64NVME, crc64)
	add(algSHA1, sha1)
	add(algSHA256, sha256)
	return m
}

// checksumFields points the output's checksum members at the stored values.
type checksumFields struct {
	CRC32, CRC32C, CRC64NVME, SHA1, SHA256 **string
}

func (f checksumFields) set(sums map[string]string) {
	for a, v := range sums {
		v := v
		switch a {
		case algCRC32:
			*f.CRC32 = &v
		case algCRC32C:
			*f.CRC32C = &v
		case algCRC64NVME:
			*f.CRC64NVME = &v
		case algSHA1:
			*f.SHA1 = &v
		case algSHA256:
			*f.SHA256 = &v
		}
	}
}
