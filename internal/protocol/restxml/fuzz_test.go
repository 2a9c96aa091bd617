package restxml

import (
	"bufio"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/wharf-dev/wharf/internal/apierr"
	s3api "github.com/wharf-dev/wharf/internal/awsapi/s3"
)

// Seeds are requests as aws-sdk-go-v2 and the aws CLI send them (path style).
var seedRequests = []string{
	"PUT /bkt HTTP/1.1\r\nHost: h\r\nContent-Length: 153\r\n\r\n<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><LocationConstraint>eu-west-1</LocationConstraint></CreateBucketConfiguration>\n\n\n\n\n\n\n\n\n\n\n",
	"PUT /bkt/a/1.txt?x-id=PutObject HTTP/1.1\r\nHost: h\r\nContent-Type: text/plain\r\nX-Amz-Meta-Owner: me\r\nContent-Length: 5\r\n\r\nhello",
	"GET /bkt/a/1.txt?x-id=GetObject HTTP/1.1\r\nHost: h\r\nRange: bytes=10-14\r\n\r\n",
	"GET /bkt?list-type=2&prefix=a%2F&delimiter=%2F&max-keys=10 HTTP/1.1\r\nHost: h\r\n\r\n",
	"HEAD /bkt/b/3.txt HTTP/1.1\r\nHost: h\r\nIf-Modified-Since: Wed, 21 Oct 2015 07:28:00 GMT\r\n\r\n",
	"POST /bkt?delete HTTP/1.1\r\nHost: h\r\nContent-Length: 116\r\n\r\n<Delete xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Object><Key>a/1.txt</Key></Object><Quiet>true</Quiet></Delete>",
	"PUT /bkt/k?partNumber=1&uploadId=u HTTP/1.1\r\nHost: h\r\nx-amz-copy-source: /src/k\r\n\r\n",
	"PUT /bkt?tagging HTTP/1.1\r\nHost: h\r\nContent-Length: 80\r\n\r\n<Tagging><TagSet><Tag><Key>k</Key><Value>v</Value></Tag></TagSet></Tagging>\n\n\n\n",
}

// hostileSeeds are bodies no SDK sends: nested past the parser's bound, text
// in many pieces, invalid UTF-8.
func hostileSeeds() []string {
	body := func(b string) string {
		return "PUT /bkt?tagging HTTP/1.1\r\nHost: h\r\nContent-Length: " + strconv.Itoa(len(b)) + "\r\n\r\n" + b
	}
	return []string{
		body(strings.Repeat("<a>", 100) + strings.Repeat("</a>", 100)),
		body("<Tagging><TagSet><Tag><Key>" + strings.Repeat("k<!---->", 1000) + "</Key><Value>v</Value></Tag></TagSet></Tagging>"),
		body("<Tagging><TagSet><Tag><Key>\xff</Key><Value>v</Value></Tag></TagSet></Tagging>"),
	}
}

func parseRequest(raw string) *http.Request {
	r, err := http.ReadRequest(bufio.NewReader(strings.NewReader(raw)))
	if err != nil {
		return nil
	}
	return r
}

func FuzzRestXMLRoute(f *testing.F) {
	for _, s := range seedRequests {
		r := parseRequest(s)
		f.Add(r.Method, r.URL.RequestURI(), r.Header.Get("x-amz-copy-source"))
	}
	f.Fuzz(func(t *testing.T, method, uri, copySource string) {
		r, err := http.NewRequest(method, "http://h"+uri, nil)
		if err != nil || r.URL.Host != "h" {
			return
		}
		if copySource != "" {
			r.Header.Set("x-amz-copy-source", copySource)
		}
		op, err := Codec{}.Operation(s3api.Service, r)
		if err != nil && apierr.As(err) == nil {
			t.Fatalf("error %T %v is not an *apierr.Error", err, err)
		}
		if err == nil && op == nil {
			t.Fatal("nil operation without error")
		}
	})
}

func FuzzRestXMLDecode(f *testing.F) {
	for _, s := range append(hostileSeeds(), seedRequests...) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		r := parseRequest(raw)
		if r == nil {
			return
		}
		var c Codec
		op, err := c.Operation(s3api.Service, r)
		if err != nil {
			if apierr.As(err) == nil {
				t.Fatalf("Operation error %T %v", err, err)
			}
			return
		}
		in := op.NewInput()
		if err := c.Decode(s3api.Service, op, r, in); err != nil && apierr.As(err) == nil {
			t.Fatalf("Decode error %T %v", err, err)
		}
		_, _ = io.Copy(io.Discard, r.Body)
	})
}
