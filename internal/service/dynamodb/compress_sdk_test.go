package dynamodb_test

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"context"
	"hash/crc32"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdk "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

func TestSDKCompressedRequestsAndResponsesAsDynamoDB(t *testing.T) {
	c, addr := startWharfAddr(t)
	ctx := context.Background()
	createTable(t, c, &sdk.CreateTableInput{TableName: aws.String("zip")}, "p:S")
	big := strings.Repeat("x", 10000)

	// The SDK asks for gzip, checks x-amz-crc32 against the compressed bytes
	// and decompresses.
	zc := sdk.New(c.Options(), func(o *sdk.Options) { o.EnableAcceptEncodingGzip = true })
	if _, err := zc.PutItem(ctx, &sdk.PutItemInput{TableName: aws.String("zip"), Item: item{"p": str("big"), "v": str(big)}}); err != nil {
		t.Fatal(err)
	}
	if v, ok := getItem(t, zc, "zip", item{"p": str("big")})["v"].(*types.AttributeValueMemberS); !ok || v.Value != big {
		t.Fatalf("GetItem through gzip lost the value")
	}

	send := func(op, encoding string, body []byte, accept string) *http.Response {
		t.Helper()
		req, err := http.NewRequest("POST", "http://"+addr+"/", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("X-Amz-Target", "DynamoDB_20120810."+op)
		req.Header.Set("Content-Type", "application/x-amz-json-1.0")
		if encoding != "" {
			req.Header.Set("Content-Encoding", encoding)
		}
		// Set explicitly, so that Go's transport neither adds gzip nor
		// decompresses behind the test's back.
		req.Header.Set("Accept-Encoding", accept)
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}
	put := func(p string) []byte {
		return []byte(`{"TableName":"zip","Item":{"p":{"S":"` + p + `"}}}`)
	}
	var gzBody, zBody bytes.Buffer
	gw := gzip.NewWriter(&gzBody)
	gw.Write(put("gz"))
	gw.Close()
	zw := zlib.NewWriter(&zBody)
	zw.Write(put("deflated"))
	zw.Close()
	for _, tc := range []struct {
		name, encoding string
		body           []byte
		status         int
		p              string
	}{
		{"gzip", "gzip", gzBody.Bytes(), 200, "gz"},
		{"deflate", "deflate", zBody.Bytes(), 200, "deflated"},
		{"unknown encoding", "garbage", put("garbage"), 500, "garbage"},
		{"not gzip", "gzip", put("notgz"), 500, "notgz"},
		{"empty deflate", "deflate", nil, 500, ""},
	} {
		if resp := send("PutItem", tc.encoding, tc.body, "identity"); resp.StatusCode != tc.status {
			t.Errorf("%s: status %d, want %d", tc.name, resp.StatusCode, tc.status)
		}
		if tc.p == "" {
			continue
		}
		if stored := getItem(t, c, "zip", item{"p": str(tc.p)}) != nil; stored != (tc.status == 200) {
			t.Errorf("%s: stored %v", tc.name, stored)
		}
	}

	// Responses over 4 KB are compressed as Accept-Encoding asks, and
	// x-amz-crc32 is of the bytes sent; small ones are not.
	get := []byte(`{"TableName":"zip","Key":{"p":{"S":"big"}}}`)
	resp := send("GetItem", "", get, "br, deflate;q=0.9, gzip;q=0.5")
	raw, _ := io.ReadAll(resp.Body)
	if resp.Header.Get("Content-Encoding") != "deflate" || resp.Header.Get("X-Amz-Crc32") != strconv.FormatUint(uint64(crc32.ChecksumIEEE(raw)), 10) {
		t.Fatalf("headers %v", resp.Header)
	}
	zr, err := zlib.NewReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	plain, err := io.ReadAll(zr)
	if err != nil || !bytes.Contains(plain, []byte(big)) {
		t.Fatalf("inflated body: %v", err)
	}
	if resp := send("GetItem", "", []byte(`{"TableName":"zip","Key":{"p":{"S":"gz"}}}`), "gzip"); resp.Header.Get("Content-Encoding") != "" {
		t.Fatalf("a small response was compressed")
	}
}
