package sigv4

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"hash/crc32"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// The example of "Signature Calculations for the Authorization Header:
// Transferring Payload in Multiple Chunks (Chunked Upload)" and of "Signature
// calculations for trailing headers (chunked uploads)" in the S3 API reference:
// 66560 bytes of 'a' sent as chunks of 65536, 1024 and 0 bytes.
const (
	docSecret        = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	docSeed          = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"
	docTrailerSeed   = "106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e"
	docTrailerSig    = "d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435"
	docTrailerCRC32C = "sOO8/Q=="
)

var (
	docChunkSigs        = [3]string{"ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648", "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497", "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9"}
	docTrailerChunkSigs = [3]string{"b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2", "1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7", "2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992"}
	docTime             = time.Date(2013, 5, 24, 0, 0, 0, 0, time.UTC)
	docData             = strings.Repeat("a", 66560)
)

func docBody(sigs [3]string, trailer string) string {
	return fmt.Sprintf("10000;chunk-signature=%s\r\n%s\r\n400;chunk-signature=%s\r\n%s\r\n0;chunk-signature=%s\r\n%s\r\n",
		sigs[0], docData[:65536], sigs[1], docData[65536:], sigs[2], trailer)
}

// docRequest is the documented request, as the server receives it.
func docRequest(trailer bool, body string) *http.Request {
	r := httptest.NewRequest("PUT", "http://s3.amazonaws.com/examplebucket/chunkObject.txt", strings.NewReader(body))
	r.Header.Set("X-Amz-Date", "20130524T000000Z")
	r.Header.Set("X-Amz-Storage-Class", "REDUCED_REDUNDANCY")
	r.Header.Set("Content-Encoding", "aws-chunked")
	r.Header.Set("X-Amz-Decoded-Content-Length", "66560")
	if trailer {
		r.Header.Set("X-Amz-Content-Sha256", StreamingPayloadTrailer)
		r.Header.Set("X-Amz-Trailer", "x-amz-checksum-crc32c")
		r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=content-encoding;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class;x-amz-trailer,Signature="+docTrailerSeed)
	} else {
		r.Header.Set("X-Amz-Content-Sha256", StreamingPayload)
		r.Header.Set("Content-Length", "66824")
		r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class,Signature="+docSeed)
	}
	return r
}

func readDoc(t *testing.T, r *http.Request, secret string) ([]byte, error) {
	t.Helper()
	c, err := Parse(r)
	if err != nil {
		t.Fatal(err)
	}
	if err := Verify(r, c, secret, docTime.Add(time.Minute)); err != nil {
		t.Fatalf("seed signature: %v", err)
	}
	body, err := Body(r, c, secret)
	if err != nil {
		t.Fatal(err)
	}
	defer body.Close()
	// Small reads cross chunk boundaries at every offset the reader handles.
	var out bytes.Buffer
	buf := make([]byte, 777)
	for {
		n, err := body.Read(buf)
		out.Write(buf[:n])
		if err == io.EOF {
			return out.Bytes(), nil
		}
		if err != nil {
			return out.Bytes(), err
		}
	}
}

func TestDocumentedChunkedUploadVerifies(t *testing.T) {
	r := docRequest(false, docBody(docChunkSigs, ""))
	if r.ContentLength != 66824 {
		t.Fatalf("documented body is %d bytes, the example says 66824", r.ContentLength)
	}
	got, err := readDoc(t, r, docSecret)
	wantCode(t, err, "")
	if string(got) != docData {
		t.Fatalf("decoded %d bytes, want 66560 'a'", len(got))
	}
}

func TestDocumentedChunkedUploadWithTrailerVerifies(t *testing.T) {
	r := docRequest(true, docBody(docTrailerChunkSigs, "x-amz-checksum-crc32c:"+docTrailerCRC32C+"\r\nx-amz-trailer-signature:"+docTrailerSig+"\r\n"))
	got, err := readDoc(t, r, docSecret)
	wantCode(t, err, "")
	if string(got) != docData {
		t.Fatalf("decoded %d bytes, want 66560 'a'", len(got))
	}
	if v := r.Trailer.Get("X-Amz-Checksum-Crc32c"); v != docTrailerCRC32C {
		t.Fatalf("trailer checksum = %q", v)
	}
}

func TestChunkedUploadRejectsTampering(t *testing.T) {
	good := docBody(docChunkSigs, "")
	goodTrailer := docBody(docTrailerChunkSigs, "x-amz-checksum-crc32c:"+docTrailerCRC32C+"\r\nx-amz-trailer-signature:"+docTrailerSig+"\r\n")
	cases := []struct {
		name    string
		trailer bool
		body    string
		secret  string
		code    string
	}{
		{name: "a data byte changed", body: strings.Replace(good, "\r\naaaa", "\r\nbaaa", 1), code: "SignatureDoesNotMatch"},
		{name: "chunks reordered signatures", body: docBody([3]string{docChunkSigs[1], docChunkSigs[0], docChunkSigs[2]}, ""), code: "SignatureDoesNotMatch"},
		{name: "final chunk signature wrong", body: strings.Replace(good, docChunkSigs[2], docChunkSigs[1], 1), code: "SignatureDoesNotMatch"},
		{name: "body cut short", body: good[:60000], code: "IncompleteBody"},
		{name: "last chunk missing", body: good[:strings.Index(good, "0;chunk")], code: "IncompleteBody"},
		{name: "chunk longer than its size", body: strings.Replace(good, "400;", "3ff;", 1), code: "InvalidRequest"},
		{name: "trailer value changed", trailer: true, body: strings.Replace(goodTrailer, docTrailerCRC32C, "AAAAAA==", 1), code: "SignatureDoesNotMatch"},
		{name: "trailer signature missing", trailer: true, body: strings.Replace(goodTrailer, "x-amz-trailer-signature:"+docTrailerSig+"\r\n", "", 1), code: "SignatureDoesNotMatch"},
		{name: "no secret skips chunk signatures but not framing", body: strings.Replace(good, "\r\naaaa", "\r\nbaaa", 1), secret: "-"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := docRequest(tc.trailer, tc.body)
			c, err := Parse(r)
			if err != nil {
				t.Fatal(err)
			}
			secret := docSecret
			if tc.secret == "-" {
				secret = ""
			}
			body, err := Body(r, c, secret)
			if err != nil {
				t.Fatal(err)
			}
			_, err = io.ReadAll(body)
			wantCode(t, err, tc.code)
		})
	}
}

// unsignedTrailerBody frames data as aws-sdk-go-v2 does for
// STREAMING-UNSIGNED-PAYLOAD-TRAILER.
func unsignedTrailerBody(data string, chunk int, trailer string) string {
	var b strings.Builder
	for len(data) > 0 {
		n := min(chunk, len(data))
		fmt.Fprintf(&b, "%x\r\n%s\r\n", n, data[:n])
		data = data[n:]
	}
	b.WriteString("0\r\n" + trailer + "\r\n")
	return b.String()
}

func unsignedTrailerRequest(body, alg string, decoded int) *http.Request {
	r := httptest.NewRequest("PUT", "http://127.0.0.1/bucket/key", strings.NewReader(body))
	r.Header.Set("X-Amz-Content-Sha256", StreamingUnsignedTrailer)
	r.Header.Set("Content-Encoding", "aws-chunked")
	r.Header.Set("X-Amz-Trailer", "x-amz-checksum-"+alg)
	r.Header.Set("X-Amz-Decoded-Content-Length", fmt.Sprint(decoded))
	return r
}

func TestUnsignedTrailerChecksums(t *testing.T) {
	data := "The quick brown fox jumps over the lazy dog"
	sum := func(alg string) string {
		h := newChecksum(alg)
		h.Write([]byte(data))
		return base64.StdEncoding.EncodeToString(h.Sum(nil))
	}
	crc := make([]byte, 4)
	v := crc32.ChecksumIEEE([]byte(data))
	crc[0], crc[1], crc[2], crc[3] = byte(v>>24), byte(v>>16), byte(v>>8), byte(v)
	if sum("crc32") != base64.StdEncoding.EncodeToString(crc) {
		t.Fatal("crc32 is not sent big-endian")
	}
	cases := []struct {
		name, alg, trailer string
		decoded            int
		code               string
	}{
		{name: "crc32 matches", alg: "crc32", trailer: "x-amz-checksum-crc32:" + sum("crc32")},
		{name: "crc32c matches", alg: "crc32c", trailer: "x-amz-checksum-crc32c:" + sum("crc32c")},
		{name: "sha1 matches", alg: "sha1", trailer: "x-amz-checksum-sha1:" + sum("sha1")},
		{name: "sha256 matches", alg: "sha256", trailer: "x-amz-checksum-sha256:" + sum("sha256")},
		{name: "crc64nvme matches", alg: "crc64nvme", trailer: "x-amz-checksum-crc64nvme:" + sum("crc64nvme")},
		{name: "crc32 mismatch", alg: "crc32", trailer: "x-amz-checksum-crc32:" + sum("crc32c"), code: "BadDigest"},
		{name: "sha256 mismatch", alg: "sha256", trailer: "x-amz-checksum-sha256:" + sum("sha1"), code: "BadDigest"},
		{name: "announced checksum missing", alg: "crc32", trailer: "", code: "MalformedTrailerError"},
		{name: "unannounced checksum", alg: "crc32", trailer: "x-amz-checksum-sha1:" + sum("sha1"), code: "MalformedTrailerError"},
		{name: "decoded length wrong", alg: "crc32", trailer: "x-amz-checksum-crc32:" + sum("crc32"), decoded: 1, code: "IncompleteBody"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			trailer := tc.trailer
			if trailer != "" {
				trailer += "\r\n"
			}
			decoded := len(data)
			if tc.decoded != 0 {
				decoded = tc.decoded
			}
			r := unsignedTrailerRequest(unsignedTrailerBody(data, 10, trailer), tc.alg, decoded)
			body, err := Body(r, nil, "")
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(body)
			wantCode(t, err, tc.code)
			if tc.code == "" && string(got) != data {
				t.Fatalf("decoded %q", got)
			}
		})
	}
}

func TestCRC64NVMECheckValue(t *testing.T) {
	// The CRC catalogue's check value of CRC-64/NVME over "123456789".
	h := newChecksum("crc64nvme")
	h.Write([]byte("123456789"))
	if got := hex.EncodeToString(h.Sum(nil)); got != "ae8b14860a799888" {
		t.Fatalf("crc64nvme(123456789) = %s", got)
	}
}

func TestBodyChecksContentSHA256(t *testing.T) {
	for _, tc := range []struct {
		name, body, header, code string
	}{
		{name: "matching digest", body: "abc", header: hexSum([]byte("abc"))},
		{name: "uppercase digest", body: "abc", header: strings.ToUpper(hexSum([]byte("abc")))},
		{name: "mismatching digest", body: "abd", header: hexSum([]byte("abc")), code: "XAmzContentSHA256Mismatch"},
		{name: "unsigned payload passes through", body: "abd", header: UnsignedPayload},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("PUT", "http://127.0.0.1/b/k", strings.NewReader(tc.body))
			r.Header.Set("X-Amz-Content-Sha256", tc.header)
			body, err := Body(r, nil, "")
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(body)
			wantCode(t, err, tc.code)
			if string(got) != tc.body {
				t.Fatalf("body = %q", got)
			}
		})
	}
}

// signChunks frames data in signed chunks of size n under the documented
// credential and seed, as an SDK does, with trailer lines (signed) when given.
// Its signing is checked against the documented example in
// TestSignChunksReproducesTheDocumentedExample.
func signChunks(seed, data string, n int, trailer string) string {
	key := signingKey(docSecret, "20130524", "us-east-1", "s3")
	head := "20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
	prev := seed
	var b strings.Builder
	for {
		c := data[:min(n, len(data))]
		data = data[len(c):]
		prev = hex.EncodeToString(hmacSHA256(key, "AWS4-HMAC-SHA256-PAYLOAD\n"+head+prev+"\n"+emptySHA256+"\n"+hexSum([]byte(c))))
		if len(c) == 0 {
			fmt.Fprintf(&b, "0;chunk-signature=%s\r\n", prev)
			break
		}
		fmt.Fprintf(&b, "%x;chunk-signature=%s\r\n%s\r\n", len(c), prev, c)
	}
	if trailer != "" {
		b.WriteString(trailer)
		sig := hex.EncodeToString(hmacSHA256(key, "AWS4-HMAC-SHA256-TRAILER\n"+head+prev+"\n"+hexSum([]byte(strings.ReplaceAll(trailer, "\r\n", "\n")))))
		b.WriteString("x-amz-trailer-signature:" + sig + "\r\n")
	}
	b.WriteString("\r\n")
	return b.String()
}

func TestSignChunksReproducesTheDocumentedExample(t *testing.T) {
	if signChunks(docSeed, docData, 65536, "") != docBody(docChunkSigs, "") {
		t.Fatal("signChunks differs from the documented chunked body")
	}
	trailer := "x-amz-checksum-crc32c:" + docTrailerCRC32C + "\r\n"
	if signChunks(docTrailerSeed, docData, 65536, trailer) != docBody(docTrailerChunkSigs, trailer+"x-amz-trailer-signature:"+docTrailerSig+"\r\n") {
		t.Fatal("signChunks differs from the documented chunked body with trailer")
	}
}

func TestSignedTrailerChecksumMismatchFails(t *testing.T) {
	// The trailer is validly signed, but the checksum it carries is not the data's.
	body := signChunks(docTrailerSeed, docData, 8192, "x-amz-checksum-crc32c:AAAAAA==\r\n")
	r := docRequest(true, body)
	c, err := Parse(r)
	if err != nil {
		t.Fatal(err)
	}
	rc, err := Body(r, c, docSecret)
	if err != nil {
		t.Fatal(err)
	}
	_, err = io.ReadAll(rc)
	wantCode(t, err, "BadDigest")
}
