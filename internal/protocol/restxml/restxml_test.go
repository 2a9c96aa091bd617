package restxml

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/wharf-dev/wharf/internal/apierr"
	s3api "github.com/wharf-dev/wharf/internal/awsapi/s3"
)

func TestRouteS3Operations(t *testing.T) {
	cases := []struct {
		method, target string
		header         map[string]string
		want           string
	}{
		{"GET", "/", nil, "ListBuckets"},
		{"PUT", "/bkt", nil, "CreateBucket"},
		{"PUT", "/bkt/", nil, "CreateBucket"},
		{"HEAD", "/bkt", nil, "HeadBucket"},
		{"GET", "/bkt", nil, "ListObjects"},
		{"GET", "/bkt?list-type=2&prefix=a", nil, "ListObjectsV2"},
		{"GET", "/bkt?location", nil, "GetBucketLocation"},
		{"GET", "/bkt?lifecycle", nil, "GetBucketLifecycleConfiguration"},
		{"GET", "/bkt?notification", nil, "GetBucketNotificationConfiguration"},
		{"GET", "/bkt?analytics", nil, "ListBucketAnalyticsConfigurations"},
		{"GET", "/bkt?analytics&id=x", nil, "GetBucketAnalyticsConfiguration"},
		{"GET", "/bkt?versions", nil, "ListObjectVersions"},
		{"POST", "/bkt?delete", nil, "DeleteObjects"},
		{"PUT", "/bkt/a/b/c.txt", nil, "PutObject"},
		{"PUT", "/bkt/a/b/c.txt?x-id=PutObject", nil, "PutObject"},
		{"PUT", "/bkt/k", map[string]string{"x-amz-copy-source": "/src/k"}, "CopyObject"},
		{"PUT", "/bkt/k?partNumber=1&uploadId=u", nil, "UploadPart"},
		{"PUT", "/bkt/k?partNumber=1&uploadId=u", map[string]string{"x-amz-copy-source": "/src/k"}, "UploadPartCopy"},
		{"PUT", "/bkt/k?tagging", nil, "PutObjectTagging"},
		{"GET", "/bkt/k", nil, "GetObject"},
		{"GET", "/bkt/k?uploadId=u", nil, "ListParts"},
		{"GET", "/bkt/k?versionId=v", nil, "GetObject"},
		{"HEAD", "/bkt/k", nil, "HeadObject"},
		{"DELETE", "/bkt/k", nil, "DeleteObject"},
		{"DELETE", "/bkt/k?uploadId=u", nil, "AbortMultipartUpload"},
		{"POST", "/bkt/k?uploads", nil, "CreateMultipartUpload"},
		{"POST", "/bkt/k?uploadId=u", nil, "CompleteMultipartUpload"},
		{"DELETE", "/bkt", nil, "DeleteBucket"},
	}
	var c Codec
	for _, tc := range cases {
		t.Run(tc.method+" "+tc.target, func(t *testing.T) {
			r := httptest.NewRequest(tc.method, tc.target, nil)
			for k, v := range tc.header {
				r.Header.Set(k, v)
			}
			op, err := c.Operation(s3api.Service, r)
			if err != nil {
				t.Fatal(err)
			}
			if op.Name != tc.want {
				t.Fatalf("got %s, want %s", op.Name, tc.want)
			}
		})
	}
}

func TestRouteFailuresAreS3Errors(t *testing.T) {
	cases := []struct {
		method, target, code string
		status               int
	}{
		{"PATCH", "/bkt/k", "MethodNotAllowed", 405},
		{"POST", "/", "MethodNotAllowed", 405},
	}
	for _, tc := range cases {
		r := httptest.NewRequest(tc.method, tc.target, nil)
		_, err := Codec{}.Operation(s3api.Service, r)
		e := apierr.As(err)
		if e == nil || e.Code != tc.code || e.Status != tc.status {
			t.Errorf("%s %s: got %v", tc.method, tc.target, err)
		}
	}
}

func TestDecodeLabelsAreDecodedAndGreedyKeepsSlashes(t *testing.T) {
	r := httptest.NewRequest("GET", "/my-bkt/dir%20one/sub/f%2Bx.txt?versionId=v1&partNumber=3", nil)
	r.Header.Set("Range", "bytes=0-9")
	r.Header.Set("If-Modified-Since", "Wed, 21 Oct 2015 07:28:00 GMT")
	var c Codec
	op, err := c.Operation(s3api.Service, r)
	if err != nil {
		t.Fatal(err)
	}
	var in s3api.GetObjectInput
	if err := c.Decode(s3api.Service, op, r, &in); err != nil {
		t.Fatal(err)
	}
	if *in.Bucket != "my-bkt" || *in.Key != "dir one/sub/f+x.txt" || *in.VersionId != "v1" || *in.PartNumber != 3 ||
		*in.Range != "bytes=0-9" || in.IfModifiedSince.Unix() != 1445412480 {
		t.Fatalf("decoded %+v", in)
	}
}

func TestDecodeBadValuesAreInvalidArgument(t *testing.T) {
	cases := []struct{ target, header, value, code string }{
		{"/b/k?partNumber=x", "", "", "InvalidArgument"},
		{"/b/k", "If-Modified-Since", "yesterday", "InvalidArgument"},
	}
	for _, tc := range cases {
		r := httptest.NewRequest("GET", tc.target, nil)
		if tc.header != "" {
			r.Header.Set(tc.header, tc.value)
		}
		var in s3api.GetObjectInput
		err := Codec{}.Decode(s3api.Service, s3api.Service.Operations()["GetObject"], r, &in)
		if e := apierr.As(err); e == nil || e.Code != tc.code {
			t.Errorf("%s: got %v", tc.target, err)
		}
	}
}

func TestDecodeMalformedXMLBody(t *testing.T) {
	for _, body := range []string{"<Delete><Object>", "not xml", "<Delete><Quiet>maybe</Quiet></Delete>", "<a/><b/>"} {
		r := httptest.NewRequest("POST", "/b?delete", strings.NewReader(body))
		var in s3api.DeleteObjectsInput
		err := Codec{}.Decode(s3api.Service, s3api.Service.Operations()["DeleteObjects"], r, &in)
		if e := apierr.As(err); e == nil || e.Code != "MalformedXML" {
			t.Errorf("%q: got %v", body, err)
		}
	}
}

func TestErrorShapeAndHeadHasNoBody(t *testing.T) {
	e := &apierr.Error{Code: "NoSuchBucket", Message: "The specified bucket does not exist", Fields: map[string]any{"BucketName": "b"}}
	w := httptest.NewRecorder()
	Codec{}.EncodeError(w, httptest.NewRequest("GET", "/b", nil), s3api.Service, e, "RID")
	want := `<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<Error><Code>NoSuchBucket</Code><Message>The specified bucket does not exist</Message>` +
		`<BucketName>b</BucketName><RequestId>RID</RequestId><HostId>` + hostID("RID") + `</HostId></Error>`
	if w.Code != 404 || w.Body.String() != want || w.Header().Get("x-amz-request-id") != "RID" || w.Header().Get("x-amz-id-2") == "" {
		t.Fatalf("got %d %s %v", w.Code, w.Body.String(), w.Header())
	}
	w = httptest.NewRecorder()
	Codec{}.EncodeError(w, httptest.NewRequest("HEAD", "/b", nil), s3api.Service, e, "RID")
	if w.Code != 404 || w.Body.Len() != 0 {
		t.Fatalf("HEAD error: %d %q", w.Code, w.Body.String())
	}
}

func TestEncodeListObjectsV2IsFlattenedWithNamespace(t *testing.T) {
	out := &s3api.ListObjectsV2Output{Name: strPtr("b"), Contents: []s3api.Object{{Key: strPtr("k1")}, {Key: strPtr("k2")}},
		CommonPrefixes: []s3api.CommonPrefix{{Prefix: strPtr("p/")}}}
	w := httptest.NewRecorder()
	r := httptest.NewRequest("GET", "/b?list-type=2", nil)
	if err := (Codec{}).Encode(w, r, s3api.Service, s3api.Service.Operations()["ListObjectsV2"], out, "RID"); err != nil {
		t.Fatal(err)
	}
	want := `<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Contents><Key>k1</Key></Contents><Contents><Key>k2</Key></Contents>` +
		`<Name>b</Name><CommonPrefixes><Prefix>p/</Prefix></CommonPrefixes></ListBucketResult>`
	if !strings.HasSuffix(w.Body.String(), want) {
		t.Fatalf("got %s", w.Body.String())
	}
}

func TestEncodeGranteeCarriesXSINamespace(t *testing.T) {
	out := &s3api.GetBucketAclOutput{Grants: []s3api.Grant{{Grantee: &s3api.Grantee{Type: strPtr("CanonicalUser"), ID: strPtr("id")}, Permission: strPtr("FULL_CONTROL")}}}
	w := httptest.NewRecorder()
	if err := (Codec{}).Encode(w, httptest.NewRequest("GET", "/b?acl", nil), s3api.Service, s3api.Service.Operations()["GetBucketAcl"], out, "RID"); err != nil {
		t.Fatal(err)
	}
	want := `<Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="CanonicalUser"><ID>id</ID></Grantee>`
	if !strings.Contains(w.Body.String(), want) {
		t.Fatalf("got %s", w.Body.String())
	}
}

func strPtr(s string) *string { return &s }
