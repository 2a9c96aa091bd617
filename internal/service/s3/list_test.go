package s3_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

func putKeys(t *testing.T, e *env, bucket string, keys ...string) {
	t.Helper()
	for _, k := range keys {
		if _, err := e.client.PutObject(ctx(), &awss3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(k), Body: strings.NewReader(k)}); err != nil {
			t.Fatalf("PutObject %q: %v", k, err)
		}
	}
}

func keysOf(objs []types.Object) string {
	var ks []string
	for _, o := range objs {
		ks = append(ks, aws.ToString(o.Key))
	}
	return strings.Join(ks, ",")
}

func prefixesOf(cps []types.CommonPrefix) string {
	var ps []string
	for _, p := range cps {
		ps = append(ps, aws.ToString(p.Prefix))
	}
	return strings.Join(ps, ",")
}

func TestListObjectsV2PrefixDelimiterStartAfterAndPages(t *testing.T) {
	e := newEnv(t)
	b := e.bucket(t, "listing")
	putKeys(t, e, b, "a.txt", "photos/2024/jan.jpg", "photos/2024/feb.jpg", "photos/2025/mar.jpg", "photos/cover.jpg", "z.txt")

	for _, tc := range []struct {
		name           string
		in             awss3.ListObjectsV2Input
		keys, prefixes string
		truncated      bool
	}{
		{"all", awss3.ListObjectsV2Input{}, "a.txt,photos/2024/feb.jpg,photos/2024/jan.jpg,photos/2025/mar.jpg,photos/cover.jpg,z.txt", "", false},
		{"delimiter at root", awss3.ListObjectsV2Input{Delimiter: aws.String("/")}, "a.txt,z.txt", "photos/", false},
		{"prefix and delimiter", awss3.ListObjectsV2Input{Prefix: aws.String("photos/"), Delimiter: aws.String("/")}, "photos/cover.jpg", "photos/2024/,photos/2025/", false},
		{"prefix only", awss3.ListObjectsV2Input{Prefix: aws.String("photos/2024/")}, "photos/2024/feb.jpg,photos/2024/jan.jpg", "", false},
		{"start-after", awss3.ListObjectsV2Input{StartAfter: aws.String("photos/2025/mar.jpg")}, "photos/cover.jpg,z.txt", "", false},
		{"max-keys", awss3.ListObjectsV2Input{MaxKeys: aws.Int32(2)}, "a.txt,photos/2024/feb.jpg", "", true},
		{"max-keys counts prefixes", awss3.ListObjectsV2Input{Delimiter: aws.String("/"), MaxKeys: aws.Int32(2)}, "a.txt", "photos/", true},
		{"no match", awss3.ListObjectsV2Input{Prefix: aws.String("nothing")}, "", "", false},
	} {
		in := tc.in
		in.Bucket = aws.String(b)
		out, err := e.client.ListObjectsV2(ctx(), &in)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if keysOf(out.Contents) != tc.keys || prefixesOf(out.CommonPrefixes) != tc.prefixes || aws.ToBool(out.IsTruncated) != tc.truncated {
			t.Errorf("%s: keys %q prefixes %q truncated %v; want %q %q %v", tc.name, keysOf(out.Contents), prefixesOf(out.CommonPrefixes),
				aws.ToBool(out.IsTruncated), tc.keys, tc.prefixes, tc.truncated)
		}
		if int(aws.ToInt32(out.KeyCount)) != len(out.Contents)+len(out.CommonPrefixes) {
			t.Errorf("%s: KeyCount %d", tc.name, aws.ToInt32(out.KeyCount))
		}
	}

	// Paging with a delimiter visits every key and prefix once.
	var all []string
	p := awss3.NewListObjectsV2Paginator(e.client, &awss3.ListObjectsV2Input{Bucket: aws.String(b), Delimiter: aws.String("/"), Prefix: aws.String("photos/"), MaxKeys: aws.Int32(1)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx())
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range out.Contents {
			all = append(all, aws.ToString(o.Key))
		}
		for _, c := range out.CommonPrefixes {
			all = append(all, aws.ToString(c.Prefix))
		}
	}
	if got := strings.Join(all, ","); got != "photos/2024/,photos/2025/,photos/cover.jpg" {
		t.Errorf("paged = %s", got)
	}
}

func TestListObjectsV1MarkersAndURLEncoding(t *testing.T) {
	e := newEnv(t)
	b := e.bucket(t, "listing-v1")
	putKeys(t, e, b, "a/1", "a/2", "b", "c d+e")
	out, err := e.client.ListObjects(ctx(), &awss3.ListObjectsInput{Bucket: aws.String(b), Delimiter: aws.String("/"), MaxKeys: aws.Int32(1)})
	if err != nil || prefixesOf(out.CommonPrefixes) != "a/" || aws.ToString(out.NextMarker) != "a/" || !aws.ToBool(out.IsTruncated) {
		t.Fatalf("page 1 = %+v, %v", out, err)
	}
	out, err = e.client.ListObjects(ctx(), &awss3.ListObjectsInput{Bucket: aws.String(b), Delimiter: aws.String("/"), Marker: out.NextMarker})
	if err != nil || keysOf(out.Contents) != "b,c d+e" || out.CommonPrefixes != nil {
		t.Fatalf("page 2 = %q %q, %v", keysOf(out.Contents), prefixesOf(out.CommonPrefixes), err)
	}
	for _, o := range out.Contents {
		if o.Owner == nil || o.StorageClass != types.ObjectStorageClassStandard {
			t.Errorf("V1 entry %+v lacks owner or storage class", o)
		}
	}
	// encoding-type=url: the raw XML carries encoded keys.
	resp, err := http.Get("http://" + e.addr + "/" + b + "?list-type=2&encoding-type=url&prefix=c")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(raw), "<Key>c+d%2Be</Key>") || !strings.Contains(string(raw), "<EncodingType>url</EncodingType>") {
		t.Errorf("encoded listing = %s", raw)
	}
}

func TestListObjectsOfManyKeysPagesThroughAll(t *testing.T) {
	e := newEnv(t)
	b := e.bucket(t, "many")
	var want []string
	for i := 0; i < 250; i++ {
		want = append(want, fmt.Sprintf("k%04d", i))
	}
	putKeys(t, e, b, want...)
	var got []string
	p := awss3.NewListObjectsV2Paginator(e.client, &awss3.ListObjectsV2Input{Bucket: aws.String(b), MaxKeys: aws.Int32(100)})
	pages := 0
	for p.HasMorePages() {
		out, err := p.NextPage(ctx())
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, o := range out.Contents {
			got = append(got, aws.ToString(o.Key))
		}
	}
	if pages != 3 || strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("%d pages, %d keys", pages, len(got))
	}
}
