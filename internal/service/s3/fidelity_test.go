package s3_test

import (
	"bytes"
	"crypto/md5"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// send makes an unsigned request (accepted in --auth any) and returns the
// response with its body read.
func send(t *testing.T, method, url string, body string, header map[string]string) (*http.Response, string) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := mustRequest(t, method, url, rd)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

func TestHeadObjectWithRangeAnswers206(t *testing.T) {
	e := newEnv(t)
	b := e.bucket(t, "head-range")
	if _, err := e.client.PutObject(ctx(), &awss3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("k"), Body: strings.NewReader("0123456789")}); err != nil {
		t.Fatal(err)
	}
	resp, _ := send(t, http.MethodHead, "http://"+e.addr+"/"+b+"/k", "", map[string]string{"Range": "bytes=2-5"})
	if resp.StatusCode != http.StatusPartialContent || resp.Header.Get("Content-Range") != "bytes 2-5/10" || resp.Header.Get("Content-Length") != "4" {
		t.Fatalf("HEAD with Range: %d Content-Range %q Content-Length %q, want 206 bytes 2-5/10 and 4",
			resp.StatusCode, resp.Header.Get("Content-Range"), resp.Header.Get("Content-Length"))
	}
	out, err := e.client.HeadObject(ctx(), &awss3.HeadObjectInput{Bucket: aws.String(b), Key: aws.String("k"), Range: aws.String("bytes=-3")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(out.ContentRange) != "bytes 7-9/10" || aws.ToInt64(out.ContentLength) != 3 {
		t.Fatalf("SDK HeadObject range: %q %d", aws.ToString(out.ContentRange), aws.ToInt64(out.ContentLength))
	}
	resp, _ = send(t, http.MethodHead, "http://"+e.addr+"/"+b+"/k", "", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("HEAD without Range: %d, want 200", resp.StatusCode)
	}
}

func TestCompleteMultipartUploadRetryAnswersAsTheFirst(t *testing.T) {
	e := newEnv(t)
	b := e.bucket(t, "mpu-retry")
	up, err := e.client.CreateMultipartUpload(ctx(), &awss3.CreateMultipartUploadInput{Bucket: aws.String(b), Key: aws.String("k")})
	if err != nil {
		t.Fatal(err)
	}
	part, err := e.client.UploadPart(ctx(), &awss3.UploadPartInput{Bucket: aws.String(b), Key: aws.String("k"), UploadId: up.UploadId,
		PartNumber: aws.Int32(1), Body: strings.NewReader("only part")})
	if err != nil {
		t.Fatal(err)
	}
	complete := &awss3.CompleteMultipartUploadInput{Bucket: aws.String(b), Key: aws.String("k"), UploadId: up.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{{PartNumber: aws.Int32(1), ETag: part.ETag}}}}
	first, err := e.client.CompleteMultipartUpload(ctx(), complete)
	if err != nil {
		t.Fatal(err)
	}
	again, err := e.client.CompleteMultipartUpload(ctx(), complete)
	if err != nil {
		t.Fatalf("retried CompleteMultipartUpload: %v", err)
	}
	if aws.ToString(again.ETag) != aws.ToString(first.ETag) || aws.ToString(again.Key) != "k" {
		t.Fatalf("retry answered ETag %s key %s, first ETag %s", aws.ToString(again.ETag), aws.ToString(again.Key), aws.ToString(first.ETag))
	}
	// Once another write replaces the object, the upload is gone for good.
	if _, err := e.client.PutObject(ctx(), &awss3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("k"), Body: strings.NewReader("new")}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.CompleteMultipartUpload(ctx(), complete); errCode(err) != "NoSuchUpload" {
		t.Fatalf("complete after overwrite: %v, want NoSuchUpload", err)
	}
}

func TestCreateBucketInAnotherRegionFromUSEast1(t *testing.T) {
	e := newEnv(t)
	if _, err := e.client.CreateBucket(ctx(), &awss3.CreateBucketInput{Bucket: aws.String("in-west"),
		CreateBucketConfiguration: &types.CreateBucketConfiguration{LocationConstraint: types.BucketLocationConstraintUsWest2}}); err != nil {
		t.Fatalf("CreateBucket us-west-2 from us-east-1: %v", err)
	}
	loc, err := e.client.GetBucketLocation(ctx(), &awss3.GetBucketLocationInput{Bucket: aws.String("in-west")})
	if err != nil {
		t.Fatal(err)
	}
	if loc.LocationConstraint != types.BucketLocationConstraintUsWest2 {
		t.Fatalf("location %q, want us-west-2", loc.LocationConstraint)
	}
	for _, c := range []string{"us-east-1", "moon-base-1"} {
		_, err := e.client.CreateBucket(ctx(), &awss3.CreateBucketInput{Bucket: aws.String("bad-constraint"),
			CreateBucketConfiguration: &types.CreateBucketConfiguration{LocationConstraint: types.BucketLocationConstraint(c)}})
		if errCode(err) != "InvalidLocationConstraint" {
			t.Errorf("constraint %s: %v, want InvalidLocationConstraint", c, err)
		}
	}
	west := newClient(e.addr, func(o *awss3.Options) { o.Region = "us-west-2" })
	_, err = west.CreateBucket(ctx(), &awss3.CreateBucketInput{Bucket: aws.String("wrong-endpoint"),
		CreateBucketConfiguration: &types.CreateBucketConfiguration{LocationConstraint: types.BucketLocationConstraintEuWest1}})
	if errCode(err) != "IllegalLocationConstraintException" {
		t.Fatalf("eu-west-1 constraint at the us-west-2 endpoint: %v, want IllegalLocationConstraintException", err)
	}
}

func TestCopyObjectOntoItself(t *testing.T) {
	e := newEnv(t)
	b := e.bucket(t, "self-copy")
	put := func(body string) string {
		out, err := e.client.PutObject(ctx(), &awss3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("k"), Body: strings.NewReader(body)})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.VersionId)
	}
	put("v1")
	_, err := e.client.CopyObject(ctx(), &awss3.CopyObjectInput{Bucket: aws.String(b), Key: aws.String("k"), CopySource: aws.String(b + "/k")})
	if errCode(err) != "InvalidRequest" {
		t.Fatalf("unchanged copy onto itself: %v, want InvalidRequest", err)
	}
	if _, err := e.client.PutBucketVersioning(ctx(), &awss3.PutBucketVersioningInput{Bucket: aws.String(b),
		VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled}}); err != nil {
		t.Fatal(err)
	}
	old := put("old")
	put("new")
	// Restoring a previous version: copy it, by version id, onto its key.
	out, err := e.client.CopyObject(ctx(), &awss3.CopyObjectInput{Bucket: aws.String(b), Key: aws.String("k"), CopySource: aws.String(b + "/k?versionId=" + old)})
	if err != nil {
		t.Fatalf("copy of a previous version onto its key: %v", err)
	}
	if aws.ToString(out.CopySourceVersionId) != old || aws.ToString(out.VersionId) == "" || aws.ToString(out.VersionId) == old {
		t.Fatalf("copy answered source version %q new version %q (old %q)", aws.ToString(out.CopySourceVersionId), aws.ToString(out.VersionId), old)
	}
	if body, _ := get(t, e, b, "k"); string(body) != "old" {
		t.Fatalf("current object %q after restoring, want old", body)
	}
}

func TestTagLimitsAndReservedKeys(t *testing.T) {
	e := newEnv(t)
	b := e.bucket(t, "tag-limits")
	if _, err := e.client.PutObject(ctx(), &awss3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("k"), Body: strings.NewReader("x")}); err != nil {
		t.Fatal(err)
	}
	tags := func(n int, first string) []types.Tag {
		ts := []types.Tag{{Key: aws.String(first), Value: aws.String("v")}}
		for i := 1; i < n; i++ {
			ts = append(ts, types.Tag{Key: aws.String(strings.Repeat("k", i)), Value: aws.String("v")})
		}
		return ts
	}
	check := func(what string, err error, code, msg string) {
		t.Helper()
		var ae smithy.APIError
		if err == nil || !asAPIError(err, &ae) || ae.ErrorCode() != code || ae.ErrorMessage() != msg || httpStatus(err) != 400 {
			t.Errorf("%s: %v, want 400 %s %q", what, err, code, msg)
		}
	}
	_, err := e.client.PutObjectTagging(ctx(), &awss3.PutObjectTaggingInput{Bucket: aws.String(b), Key: aws.String("k"),
		Tagging: &types.Tagging{TagSet: tags(1, "aws:owner")}})
	check("object tag aws:owner", err, "InvalidTag", "Your TagKey cannot be prefixed with aws:")
	_, err = e.client.PutObject(ctx(), &awss3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("h"), Body: strings.NewReader("x"),
		Tagging: aws.String("AWS:x=1")})
	check("x-amz-tagging AWS:x", err, "InvalidTag", "Your TagKey cannot be prefixed with aws:")
	_, err = e.client.PutObjectTagging(ctx(), &awss3.PutObjectTaggingInput{Bucket: aws.String(b), Key: aws.String("k"),
		Tagging: &types.Tagging{TagSet: tags(11, "a")}})
	check("11 object tags", err, "BadRequest", "Object tags cannot be greater than 10")
	_, err = e.client.PutBucketTagging(ctx(), &awss3.PutBucketTaggingInput{Bucket: aws.String(b),
		Tagging: &types.Tagging{TagSet: tags(1, "aws:cloudformation:stack-name")}})
	check("bucket tag aws:", err, "InvalidTag", "System tags cannot be added/updated by requester")
	_, err = e.client.PutBucketTagging(ctx(), &awss3.PutBucketTaggingInput{Bucket: aws.String(b),
		Tagging: &types.Tagging{TagSet: tags(51, "a")}})
	check("51 bucket tags", err, "BadRequest", "Bucket tag count cannot be greater than 50")
	if _, err := e.client.PutBucketTagging(ctx(), &awss3.PutBucketTaggingInput{Bucket: aws.String(b),
		Tagging: &types.Tagging{TagSet: tags(50, "a")}}); err != nil {
		t.Errorf("50 bucket tags: %v", err)
	}
}

func asAPIError(err error, ae *smithy.APIError) bool { return errors.As(err, ae) }

func TestStatusCodesAsAWSSendsThem(t *testing.T) {
	e := newEnv(t)
	b := e.bucket(t, "statuses")
	base := "http://" + e.addr + "/" + b
	tagging := `<Tagging><TagSet><Tag><Key>a</Key><Value>b</Value></Tag></TagSet></Tagging>`
	policy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"111111111111"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::statuses/*"}]}`
	for _, tc := range []struct {
		name, method, url, body string
		want                    int
	}{
		{"PutBucketTagging", http.MethodPut, base + "?tagging", tagging, http.StatusNoContent},
		{"PutBucketPolicy", http.MethodPut, base + "?policy", policy, http.StatusNoContent},
		{"DeleteBucketTagging", http.MethodDelete, base + "?tagging", "", http.StatusNoContent},
		{"PutObject", http.MethodPut, base + "/k", "x", http.StatusOK},
		{"DeleteObject", http.MethodDelete, base + "/k", "", http.StatusNoContent},
	} {
		if resp, body := send(t, tc.method, tc.url, tc.body, nil); resp.StatusCode != tc.want {
			t.Errorf("%s: %d %s, want %d", tc.name, resp.StatusCode, body, tc.want)
		}
	}
	resp, _ := send(t, http.MethodHead, base, "", nil)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/xml" {
		t.Errorf("HeadBucket: %d Content-Type %q, want 200 application/xml", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
}

func TestMethodNotAllowedNamesAllowedMethods(t *testing.T) {
	e := newEnv(t)
	b := e.bucket(t, "allow")
	resp, body := send(t, http.MethodPost, "http://"+e.addr+"/"+b+"?tagging", "", nil)
	if resp.StatusCode != http.StatusMethodNotAllowed || !strings.Contains(body, "<Code>MethodNotAllowed</Code>") {
		t.Fatalf("POST ?tagging: %d %s, want 405 MethodNotAllowed", resp.StatusCode, body)
	}
	if got := resp.Header.Get("Allow"); got != "DELETE, GET, HEAD, PUT" {
		t.Errorf("Allow %q, want DELETE, GET, HEAD, PUT", got)
	}
	// A delete marker named by version only takes DELETE.
	if _, err := e.client.PutBucketVersioning(ctx(), &awss3.PutBucketVersioningInput{Bucket: aws.String(b),
		VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled}}); err != nil {
		t.Fatal(err)
	}
	del, err := e.client.DeleteObject(ctx(), &awss3.DeleteObjectInput{Bucket: aws.String(b), Key: aws.String("gone")})
	if err != nil {
		t.Fatal(err)
	}
	resp, _ = send(t, http.MethodGet, "http://"+e.addr+"/"+b+"/gone?versionId="+aws.ToString(del.VersionId), "", nil)
	if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "DELETE" || resp.Header.Get("X-Amz-Delete-Marker") != "true" {
		t.Errorf("GET of a delete marker: %d Allow %q marker %q, want 405 DELETE true", resp.StatusCode, resp.Header.Get("Allow"), resp.Header.Get("X-Amz-Delete-Marker"))
	}
}

func TestListingEncodingAsAWS(t *testing.T) {
	e := newEnv(t)
	b := e.bucket(t, "encoding")
	for _, k := range []string{"dir one/a+b c", "plain"} {
		if _, err := e.client.PutObject(ctx(), &awss3.PutObjectInput{Bucket: aws.String(b), Key: aws.String(k), Body: bytes.NewReader(nil)}); err != nil {
			t.Fatal(err)
		}
	}
	base := "http://" + e.addr + "/" + b
	_, v2 := send(t, http.MethodGet, base+"?list-type=2&encoding-type=url&prefix=dir%20one", "", nil)
	for _, want := range []string{"<Key>dir+one/a%2Bb+c</Key>", "<Prefix>dir+one</Prefix>"} {
		if !strings.Contains(v2, want) {
			t.Errorf("ListObjectsV2 encoding-type=url: no %s in %s", want, v2)
		}
	}
	if strings.Contains(v2, "<Delimiter>") {
		t.Errorf("ListObjectsV2 without delimiter sent one: %s", v2)
	}
	_, v1 := send(t, http.MethodGet, base+"?encoding-type=url&prefix=dir%20one&delimiter=", "", nil)
	for _, want := range []string{"<Key>dir+one/a%2Bb+c</Key>", "<Prefix>dir one</Prefix>"} {
		if !strings.Contains(v1, want) {
			t.Errorf("ListObjects encoding-type=url: no %s in %s", want, v1)
		}
	}
	if strings.Contains(v1, "<Delimiter>") {
		t.Errorf("ListObjects with an empty delimiter sent it: %s", v1)
	}
	// An empty continuation token lists from the start.
	resp, empty := send(t, http.MethodGet, base+"?list-type=2&continuation-token=", "", nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(empty, "<Key>plain</Key>") || !strings.Contains(empty, "<ContinuationToken></ContinuationToken>") {
		t.Errorf("ListObjectsV2 with an empty continuation token: %d %s", resp.StatusCode, empty)
	}
}

func TestBooleanHeadersIgnoreCase(t *testing.T) {
	e := newEnv(t)
	b := e.bucket(t, "booleans")
	// boto3 sends Python's True in x-amz-bypass-governance-retention.
	resp, body := send(t, http.MethodPost, "http://"+e.addr+"/"+b+"?delete",
		`<Delete><Object><Key>k</Key></Object></Delete>`, map[string]string{"x-amz-bypass-governance-retention": "True"})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("DeleteObjects with bypass True: %d %s", resp.StatusCode, body)
	}
}

func TestServerSideEncryptionAsS3ReportsIt(t *testing.T) {
	e := newEnv(t)
	b := e.bucket(t, "sse")
	put, err := e.client.PutObject(ctx(), &awss3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("default"), Body: strings.NewReader("x")})
	if err != nil {
		t.Fatal(err)
	}
	if put.ServerSideEncryption != types.ServerSideEncryptionAes256 {
		t.Errorf("PutObject without SSE headers reported %q, want AES256 (S3 encrypts every new object)", put.ServerSideEncryption)
	}
	head, err := e.client.HeadObject(ctx(), &awss3.HeadObjectInput{Bucket: aws.String(b), Key: aws.String("default")})
	if err != nil || head.ServerSideEncryption != types.ServerSideEncryptionAes256 {
		t.Errorf("HeadObject: %v %q, want AES256", err, head.ServerSideEncryption)
	}
	kms, err := e.client.PutObject(ctx(), &awss3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("kms"), Body: strings.NewReader("x"),
		ServerSideEncryption: types.ServerSideEncryptionAwsKms, BucketKeyEnabled: aws.Bool(true)})
	if err != nil || kms.ServerSideEncryption != types.ServerSideEncryptionAwsKms || !strings.HasPrefix(aws.ToString(kms.SSEKMSKeyId), "arn:aws:kms:us-east-1:000000000000:key/") ||
		!aws.ToBool(kms.BucketKeyEnabled) {
		t.Errorf("SSE-KMS put: %v %q key %q bucket key %v", err, kms.ServerSideEncryption, aws.ToString(kms.SSEKMSKeyId), aws.ToBool(kms.BucketKeyEnabled))
	}
	_, err = e.client.PutObject(ctx(), &awss3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("bad"), Body: strings.NewReader("x"),
		ServerSideEncryption: "AES512"})
	if errCode(err) != "InvalidArgument" {
		t.Errorf("unknown SSE method: %v, want InvalidArgument", err)
	}

	// SSE-C: the key is needed to read, another key is refused, and S3
	// answers with the key's MD5.
	key := bytes.Repeat([]byte{7}, 32)
	other := bytes.Repeat([]byte{8}, 32)
	b64 := func(k []byte) *string { return aws.String(base64.StdEncoding.EncodeToString(k)) }
	md5b64 := func(k []byte) *string { s := md5.Sum(k); return aws.String(base64.StdEncoding.EncodeToString(s[:])) }
	sc, err := e.client.PutObject(ctx(), &awss3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("ssec"), Body: strings.NewReader("secret"),
		SSECustomerAlgorithm: aws.String("AES256"), SSECustomerKey: b64(key), SSECustomerKeyMD5: md5b64(key)})
	if err != nil || aws.ToString(sc.SSECustomerKeyMD5) != *md5b64(key) || sc.ServerSideEncryption != "" {
		t.Fatalf("SSE-C put: %v md5 %q sse %q", err, aws.ToString(sc.SSECustomerKeyMD5), sc.ServerSideEncryption)
	}
	if _, err := e.client.GetObject(ctx(), &awss3.GetObjectInput{Bucket: aws.String(b), Key: aws.String("ssec")}); errCode(err) != "InvalidRequest" || httpStatus(err) != 400 {
		t.Errorf("SSE-C read without the key: %v, want 400 InvalidRequest", err)
	}
	if _, err := e.client.GetObject(ctx(), &awss3.GetObjectInput{Bucket: aws.String(b), Key: aws.String("ssec"),
		SSECustomerAlgorithm: aws.String("AES256"), SSECustomerKey: b64(other), SSECustomerKeyMD5: md5b64(other)}); errCode(err) != "AccessDenied" || httpStatus(err) != 403 {
		t.Errorf("SSE-C read with another key: %v, want 403 AccessDenied", err)
	}
	if _, err := e.client.PutObject(ctx(), &awss3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("ssec2"), Body: strings.NewReader("x"),
		SSECustomerAlgorithm: aws.String("AES256"), SSECustomerKey: b64(key), SSECustomerKeyMD5: md5b64(other)}); errCode(err) != "InvalidArgument" {
		t.Errorf("SSE-C with a key MD5 that is not the key's: %v, want InvalidArgument", err)
	}
	got, err := e.client.GetObject(ctx(), &awss3.GetObjectInput{Bucket: aws.String(b), Key: aws.String("ssec"),
		SSECustomerAlgorithm: aws.String("AES256"), SSECustomerKey: b64(key), SSECustomerKeyMD5: md5b64(key)})
	if err != nil {
		t.Fatalf("SSE-C read with the key: %v", err)
	}
	body, _ := io.ReadAll(got.Body)
	got.Body.Close()
	if string(body) != "secret" || aws.ToString(got.SSECustomerAlgorithm) != "AES256" {
		t.Errorf("SSE-C read: %q alg %q", body, aws.ToString(got.SSECustomerAlgorithm))
	}
	// A copy is encrypted as its request says: the source needs its key.
	if _, err := e.client.CopyObject(ctx(), &awss3.CopyObjectInput{Bucket: aws.String(b), Key: aws.String("plain-copy"), CopySource: aws.String(b + "/ssec")}); errCode(err) != "InvalidRequest" {
		t.Errorf("copy of an SSE-C source without its key: %v, want InvalidRequest", err)
	}
	cp, err := e.client.CopyObject(ctx(), &awss3.CopyObjectInput{Bucket: aws.String(b), Key: aws.String("plain-copy"), CopySource: aws.String(b + "/ssec"),
		CopySourceSSECustomerAlgorithm: aws.String("AES256"), CopySourceSSECustomerKey: b64(key), CopySourceSSECustomerKeyMD5: md5b64(key)})
	if err != nil || cp.ServerSideEncryption != types.ServerSideEncryptionAes256 {
		t.Errorf("copy of an SSE-C source with its key: %v %q, want AES256", err, cp.ServerSideEncryption)
	}
	if body, _ := get(t, e, b, "plain-copy"); string(body) != "secret" {
		t.Errorf("copy holds %q", body)
	}
}

// postForm builds a browser upload form: fields in order, then the file.
func postForm(t *testing.T, fields [][2]string, file string) (string, *bytes.Buffer) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, f := range fields {
		if err := mw.WriteField(f[0], f[1]); err != nil {
			t.Fatal(err)
		}
	}
	fw, err := mw.CreateFormFile("file", "upload.txt")
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(fw, file)
	mw.Close()
	return mw.FormDataContentType(), &buf
}

func policyOf(t *testing.T, expires time.Time, conditions ...any) string {
	t.Helper()
	doc, err := json.Marshal(map[string]any{"expiration": expires.UTC().Format("2006-01-02T15:04:05Z"), "conditions": conditions})
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(doc)
}

func TestBrowserPostUploads(t *testing.T) {
	e := newEnv(t)
	b := e.bucket(t, "post-uploads")
	url := "http://" + e.addr + "/" + b
	later := time.Now().Add(time.Hour)
	policy := policyOf(t, later, map[string]string{"bucket": b}, []any{"starts-with", "$key", "in/"},
		[]any{"starts-with", "$Content-Type", "text/"}, []any{"content-length-range", 1, 10})
	post := func(fields [][2]string, file string) (*http.Response, string) {
		ct, body := postForm(t, fields, file)
		return send(t, http.MethodPost, url, body.String(), map[string]string{"Content-Type": ct})
	}
	base := [][2]string{{"key", "in/${filename}"}, {"AWSAccessKeyId", "test"}, {"policy", policy}, {"signature", "c2ln"}, {"Content-Type", "text/plain"}}

	resp, body := post(base, "hello")
	if resp.StatusCode != http.StatusNoContent || resp.Header.Get("ETag") != md5hex([]byte("hello")) {
		t.Fatalf("POST upload: %d ETag %q %s, want 204 with the ETag", resp.StatusCode, resp.Header.Get("ETag"), body)
	}
	got, out := get(t, e, b, "in/upload.txt")
	if string(got) != "hello" || aws.ToString(out.ContentType) != "text/plain" {
		t.Fatalf("uploaded object %q type %q", got, aws.ToString(out.ContentType))
	}

	// Without a policy (an anonymous form) no field needs a condition.
	resp, body = post([][2]string{{"key", "in/upload.txt"}, {"success_action_status", "201"}}, "again")
	if resp.StatusCode != http.StatusCreated || !strings.Contains(body, "<Key>in/upload.txt</Key>") || !strings.Contains(body, "<Bucket>post-uploads</Bucket>") {
		t.Fatalf("success_action_status 201: %d %s", resp.StatusCode, body)
	}

	for _, tc := range []struct {
		name   string
		fields [][2]string
		file   string
		status int
		code   string
	}{
		{"key outside the policy", [][2]string{{"key", "out/x"}, {"policy", policy}, {"signature", "c2ln"}, {"Content-Type", "text/plain"}}, "x", 403, "AccessDenied"},
		{"field the policy does not cover", append(base[:len(base):len(base)], [2]string{"x-amz-meta-extra", "1"}), "x", 403, "AccessDenied"},
		{"file over content-length-range", base, "01234567890", 400, "EntityTooLarge"},
		{"expired policy", [][2]string{{"key", "in/x"}, {"policy", policyOf(t, time.Now().Add(-time.Hour), map[string]string{"bucket": b})}, {"signature", "c2ln"}}, "x", 403, "AccessDenied"},
		{"policy without a signature", [][2]string{{"key", "in/x"}, {"policy", policy}, {"Content-Type", "text/plain"}}, "x", 400, "InvalidArgument"},
		{"no key", [][2]string{{"Content-Type", "text/plain"}}, "x", 400, "InvalidArgument"},
	} {
		resp, body := post(tc.fields, tc.file)
		if resp.StatusCode != tc.status || !strings.Contains(body, "<Code>"+tc.code+"</Code>") {
			t.Errorf("%s: %d %s, want %d %s", tc.name, resp.StatusCode, body, tc.status, tc.code)
		}
	}
}

func TestLifecycleRulesValidatedAndGivenIDs(t *testing.T) {
	e := newEnv(t)
	b := e.bucket(t, "lifecycle-ids")
	put := func(rules ...types.LifecycleRule) error {
		_, err := e.client.PutBucketLifecycleConfiguration(ctx(), &awss3.PutBucketLifecycleConfigurationInput{Bucket: aws.String(b),
			LifecycleConfiguration: &types.BucketLifecycleConfiguration{Rules: rules}})
		return err
	}
	rule := func(id string, days int32) types.LifecycleRule {
		r := types.LifecycleRule{Status: types.ExpirationStatusEnabled, Filter: &types.LifecycleRuleFilter{Prefix: aws.String("p/")},
			Expiration: &types.LifecycleExpiration{Days: aws.Int32(days)}}
		if id != "" {
			r.ID = aws.String(id)
		}
		return r
	}
	if err := put(rule("", 1)); err != nil {
		t.Fatal(err)
	}
	got, err := e.client.GetBucketLifecycleConfiguration(ctx(), &awss3.GetBucketLifecycleConfigurationInput{Bucket: aws.String(b)})
	if err != nil || len(got.Rules) != 1 || aws.ToString(got.Rules[0].ID) == "" {
		t.Fatalf("a rule without an ID: %v %+v, want a generated ID", err, got)
	}
	for name, err := range map[string]error{
		"ID over 255":   put(rule(strings.Repeat("a", 256), 1)),
		"same ID twice": put(rule("r", 1), rule("r", 2)),
		"expire 0 days": put(rule("r", 0)),
	} {
		if errCode(err) != "InvalidArgument" || httpStatus(err) != 400 {
			t.Errorf("%s: %v, want 400 InvalidArgument", name, err)
		}
	}
}

func TestSSECPartsCarryTheUploadsKey(t *testing.T) {
	e := newEnv(t)
	b := e.bucket(t, "ssec-parts")
	key, other := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32)
	b64 := func(k []byte) *string { return aws.String(base64.StdEncoding.EncodeToString(k)) }
	md5b64 := func(k []byte) *string { s := md5.Sum(k); return aws.String(base64.StdEncoding.EncodeToString(s[:])) }
	up, err := e.client.CreateMultipartUpload(ctx(), &awss3.CreateMultipartUploadInput{Bucket: aws.String(b), Key: aws.String("k"),
		SSECustomerAlgorithm: aws.String("AES256"), SSECustomerKey: b64(key), SSECustomerKeyMD5: md5b64(key)})
	if err != nil || aws.ToString(up.SSECustomerKeyMD5) != *md5b64(key) {
		t.Fatalf("CreateMultipartUpload SSE-C: %v %+v", err, up)
	}
	part := func(k []byte) error {
		in := &awss3.UploadPartInput{Bucket: aws.String(b), Key: aws.String("k"), UploadId: up.UploadId, PartNumber: aws.Int32(1), Body: strings.NewReader("p")}
		if k != nil {
			in.SSECustomerAlgorithm, in.SSECustomerKey, in.SSECustomerKeyMD5 = aws.String("AES256"), b64(k), md5b64(k)
		}
		_, err := e.client.UploadPart(ctx(), in)
		return err
	}
	if err := part(nil); httpStatus(err) != 400 {
		t.Errorf("part without the key: %v, want 400", err)
	}
	if err := part(other); errCode(err) != "InvalidRequest" || httpStatus(err) != 400 {
		t.Errorf("part with another key: %v, want 400 InvalidRequest", err)
	}
	if err := part(key); err != nil {
		t.Errorf("part with the upload's key: %v", err)
	}
}

// TestNonASCIIMetadataIsReturnedRFC2047Encoded: a user metadata value that is
// not US-ASCII is returned as S3 returns it, RFC 2047-encoded. A header's
// bytes are read one character per byte: the UsingMetadata docs' own example
// ("ÄMÄZÕÑ S3" sent as UTF-8) comes back exactly as the docs show it. A
// browser POST upload's form fields are UTF-8, and come back as such. ASCII
// values, even ones that look encoded, are returned as they are.
func TestNonASCIIMetadataIsReturnedRFC2047Encoded(t *testing.T) {
	e := newEnv(t)
	b := e.bucket(t, "meta-2047")
	_, err := e.client.PutObject(ctx(), &awss3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("k"), Body: strings.NewReader("x"),
		Metadata: map[string]string{"nonascii": "ÄMÄZÕÑ S3", "ascii": "AMAZONS3", "looks-encoded": "=?UTF-8?B?w6k=?="}})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"nonascii": "=?UTF-8?B?w4PChE3Dg8KEWsODwpXDg8KRIFMz?=", "ascii": "AMAZONS3", "looks-encoded": "=?UTF-8?B?w6k=?="}
	head, err := e.client.HeadObject(ctx(), &awss3.HeadObjectInput{Bucket: aws.String(b), Key: aws.String("k")})
	if err != nil || !reflect.DeepEqual(head.Metadata, want) {
		t.Errorf("HeadObject metadata = %q (%v), want %q", head.Metadata, err, want)
	}
	// A copy keeps what was stored, and a multipart upload reads its
	// metadata as PutObject does.
	if _, err := e.client.CopyObject(ctx(), &awss3.CopyObjectInput{Bucket: aws.String(b), Key: aws.String("copy"), CopySource: aws.String(b + "/k")}); err != nil {
		t.Fatal(err)
	}
	if _, out := get(t, e, b, "copy"); !reflect.DeepEqual(out.Metadata, want) {
		t.Errorf("copy's metadata = %q, want %q", out.Metadata, want)
	}
	cr, err := e.client.CreateMultipartUpload(ctx(), &awss3.CreateMultipartUploadInput{Bucket: aws.String(b), Key: aws.String("mpu"), Metadata: map[string]string{"meta1": "Hello World\u00e9"}})
	if err != nil {
		t.Fatal(err)
	}
	up, err := e.client.UploadPart(ctx(), &awss3.UploadPartInput{Bucket: aws.String(b), Key: aws.String("mpu"), UploadId: cr.UploadId, PartNumber: aws.Int32(1), Body: strings.NewReader("x")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.CompleteMultipartUpload(ctx(), &awss3.CompleteMultipartUploadInput{Bucket: aws.String(b), Key: aws.String("mpu"), UploadId: cr.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{{PartNumber: aws.Int32(1), ETag: up.ETag}}}}); err != nil {
		t.Fatal(err)
	}
	// "Hello Worldé" as UTF-8 bytes, each read as a character: "Hello WorldÃ©".
	if _, out := get(t, e, b, "mpu"); out.Metadata["meta1"] != "=?UTF-8?B?SGVsbG8gV29ybGTDg8Kp?=" {
		t.Errorf("multipart object's metadata = %q, want =?UTF-8?B?SGVsbG8gV29ybGTDg8Kp?=", out.Metadata["meta1"])
	}

	ct, body := postForm(t, [][2]string{{"key", "posted"}, {"x-amz-meta-name", "é"}}, "y")
	if resp, msg := send(t, http.MethodPost, "http://"+e.addr+"/"+b, body.String(), map[string]string{"Content-Type": ct}); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("POST upload: %d %s", resp.StatusCode, msg)
	}
	if _, out := get(t, e, b, "posted"); out.Metadata["name"] != "=?UTF-8?B?w6k=?=" {
		t.Errorf("POST upload's metadata = %q, want =?UTF-8?B?w6k=?= (the form field's UTF-8)", out.Metadata["name"])
	}
}
