package sigv4

import (
	"encoding/base64"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func FuzzParse(f *testing.F) {
	f.Add("AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class,Signature="+docSeed, "", "20130524T000000Z")
	f.Add("AWS4-HMAC-SHA256 Credential=AKID/20240305/eu-west-1/sqs/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc", "Action=ListQueues", "20240305T102030Z")
	f.Add("AWS4-HMAC-SHA256 Credential=/ / / /, SignedHeaders=;;, Signature=", "", "")
	f.Add("AWS4-HMAC-SHA256", "", "garbage")
	f.Add("AWS AKID:c2lnbmF0dXJl", "", "")
	f.Add("", "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKID%2F20240305%2Fus-west-2%2Fs3%2Faws4_request&X-Amz-Date=20240305T102030Z&X-Amz-Expires=3600&X-Amz-SignedHeaders=host&X-Amz-Signature=00", "")
	f.Add("", "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=a&X-Amz-Date=x&X-Amz-Expires=-1&X-Amz-SignedHeaders=&X-Amz-Signature=%zz", "")
	f.Add("", "X-Amz-Signature=1&X-Amz-Expires=99999999999999999999", "")
	f.Fuzz(func(t *testing.T, auth, query, date string) {
		r := &http.Request{Method: "GET", URL: &url.URL{Path: "/b/k", RawQuery: query}, Host: "127.0.0.1", Header: http.Header{}}
		if auth != "" {
			r.Header.Set("Authorization", auth)
		}
		if date != "" {
			r.Header.Set("X-Amz-Date", date)
		}
		c, err := Parse(r)
		if !isAPIErr(err) {
			t.Fatalf("Parse error is not an *apierr.Error: %v", err)
		}
		if c == nil {
			return
		}
		if err := Verify(r, c, testSecret, time.Date(2024, 3, 5, 10, 20, 30, 0, time.UTC)); !isAPIErr(err) {
			t.Fatalf("Verify error is not an *apierr.Error: %v", err)
		}
	})
}

// fuzzCRC32C is the CRC32C of "hello, world", base64.
var fuzzCRC32C = func() string {
	h := newChecksum("crc32c")
	h.Write([]byte("hello, world"))
	return base64.StdEncoding.EncodeToString(h.Sum(nil))
}()

var fuzzModes = []string{StreamingPayload, StreamingPayloadTrailer, StreamingUnsignedTrailer, UnsignedPayload, emptySHA256, "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD"}

func FuzzChunkedBody(f *testing.F) {
	// Small signed seeds keep the fuzzer fast; the documented 66 KiB bodies are
	// covered by the tests above.
	f.Add(uint8(0), signChunks(docSeed, "hello, world", 5, ""), "", "12")
	f.Add(uint8(1), signChunks(docTrailerSeed, "hello, world", 5, "x-amz-checksum-crc32c:"+fuzzCRC32C+"\r\n"), "x-amz-checksum-crc32c", "12")
	f.Add(uint8(2), unsignedTrailerBody("hello world", 4, "x-amz-checksum-crc32:DUoRhQ==\r\n"), "x-amz-checksum-crc32", "11")
	f.Add(uint8(2), "5\r\nhello\r\n0\r\n\r\n", "", "")
	f.Add(uint8(2), "ffffffffffffffff\r\nx", "x-amz-checksum-md5", "-1")
	f.Add(uint8(0), "1;chunk-signature=zz\r\na\r\n0;chunk-signature=\r\n", "", "")
	f.Add(uint8(1), "0;chunk-signature=00\r\nx-amz-checksum-sha256\r\n\r\n", "x-amz-checksum-sha256", "0")
	f.Add(uint8(4), "", "", "")
	f.Fuzz(func(t *testing.T, mode uint8, body, trailer, decoded string) {
		r := docRequest(false, body)
		r.Header.Set("X-Amz-Content-Sha256", fuzzModes[int(mode)%len(fuzzModes)])
		r.Header.Set("X-Amz-Trailer", trailer)
		r.Header.Set("X-Amz-Decoded-Content-Length", decoded)
		c, err := Parse(r)
		if err != nil {
			t.Fatal(err)
		}
		rc, err := Body(r, c, docSecret)
		if !isAPIErr(err) {
			t.Fatalf("Body error is not an *apierr.Error: %v", err)
		}
		if err != nil {
			return
		}
		got, err := io.ReadAll(rc)
		if !isAPIErr(err) {
			t.Fatalf("Read error is not an *apierr.Error: %v", err)
		}
		if err == nil && len(got) > len(body) {
			t.Fatalf("decoded %d bytes from a %d-byte body", len(got), len(body))
		}
		if err == nil && strings.HasPrefix(r.Header.Get("X-Amz-Content-Sha256"), "STREAMING-AWS4-HMAC") && len(got) > 0 && string(got) != "hello, world" {
			// Only the seeds' chunks carry valid signatures under docSecret.
			t.Fatalf("accepted %d bytes of signed chunks that are not the documented data", len(got))
		}
	})
}
