package s3_test

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/wharf-dev/wharf/internal/store"
)

func TestPresignedGetAndPutWorkWithPlainHTTP(t *testing.T) {
	for _, auth := range []string{"any", "strict"} {
		t.Run(auth, func(t *testing.T) {
			e := newEnvWith(t, store.OpenMemory(), t.TempDir(), "--auth", auth)
			b := e.bucket(t, "presigned")
			ps := awss3.NewPresignClient(e.client)
			put, err := ps.PresignPutObject(ctx(), &awss3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("up load.txt")})
			if err != nil {
				t.Fatal(err)
			}
			req, _ := http.NewRequest(http.MethodPut, put.URL, strings.NewReader("via presigned PUT"))
			for k, vs := range put.SignedHeader {
				if k != "Host" {
					req.Header[k] = vs
				}
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			msg, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Fatalf("presigned PUT = %d %s", resp.StatusCode, msg)
			}
			g, err := ps.PresignGetObject(ctx(), &awss3.GetObjectInput{Bucket: aws.String(b), Key: aws.String("up load.txt")}, awss3.WithPresignExpires(time.Minute))
			if err != nil {
				t.Fatal(err)
			}
			resp, err = http.Get(g.URL)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || string(body) != "via presigned PUT" {
				t.Errorf("presigned GET = %d %q", resp.StatusCode, body)
			}
			if auth == "strict" {
				resp, err = http.Get(strings.Replace(g.URL, "X-Amz-Signature=", "X-Amz-Signature=0", 1))
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != 403 {
					t.Errorf("tampered presigned GET = %d, want 403", resp.StatusCode)
				}
			}
		})
	}
}

func TestObjectsSurviveRestartWithDiskStore(t *testing.T) {
	dir := t.TempDir()
	st, err := store.Open(filepath.Join(dir, "store"))
	if err != nil {
		t.Fatal(err)
	}
	e := newEnvWith(t, st, filepath.Join(dir, "s3"))
	b := e.bucket(t, "durable")
	putKeys(t, e, b, "one", "two/three")
	if _, err := e.client.DeleteObject(ctx(), &awss3.DeleteObjectInput{Bucket: aws.String(b), Key: aws.String("one")}); err != nil {
		t.Fatal(err)
	}
	putKeys(t, e, b, "one")
	// Objects over 64 KiB live in files: write one twice.
	large := randomBytes(100<<10, 9)
	for i := 0; i < 2; i++ {
		if _, err := e.client.PutObject(ctx(), &awss3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("large"), Body: bytes.NewReader(large)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	st2, err := store.Open(filepath.Join(dir, "store"))
	if err != nil {
		t.Fatal(err)
	}
	defer st2.Close()
	e2 := newEnvWith(t, st2, filepath.Join(dir, "s3"))
	for _, k := range []string{"one", "two/three"} {
		if got, _ := get(t, e2, b, k); string(got) != k {
			t.Errorf("after restart %s = %q", k, got)
		}
	}
	if got, _ := get(t, e2, b, "large"); !bytes.Equal(got, large) {
		t.Errorf("large object differs after restart")
	}
	list, err := e2.client.ListObjectsV2(ctx(), &awss3.ListObjectsV2Input{Bucket: aws.String(b)})
	if err != nil || len(list.Contents) != 3 {
		t.Errorf("list after restart = %+v, %v", list, err)
	}
	// The file of the overwritten large object was removed; small objects
	// live in the store.
	blobs, _ := filepath.Glob(filepath.Join(dir, "s3", "blobs", "*", "*"))
	if len(blobs) != 1 {
		t.Errorf("%d blob files, want 1: %v", len(blobs), blobs)
	}
}

// zeroReader yields n zero bytes without holding them.
type zeroReader struct{ n int64 }

func (z *zeroReader) Read(p []byte) (int, error) {
	if z.n == 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > z.n {
		p = p[:z.n]
	}
	clear(p)
	z.n -= int64(len(p))
	return len(p), nil
}

func TestLargeObjectStreamsThroughWithoutBuffering(t *testing.T) {
	if testing.Short() {
		t.Skip("large object")
	}
	const size = 64 << 20
	e := newEnv(t)
	b := e.bucket(t, "large")
	h := md5.New()
	io.Copy(h, &zeroReader{n: size})
	want := `"` + hex.EncodeToString(h.Sum(nil)) + `"`

	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	// A plain HTTP PUT (no SDK buffering) so the server's memory is what grows.
	req, _ := http.NewRequest(http.MethodPut, "http://"+e.addr+"/"+b+"/big", &zeroReader{n: size})
	req.ContentLength = size
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("ETag") != want {
		t.Fatalf("PUT = %d etag %s, want %s", resp.StatusCode, resp.Header.Get("ETag"), want)
	}
	resp, err = http.Get("http://" + e.addr + "/" + b + "/big")
	if err != nil {
		t.Fatal(err)
	}
	g := md5.New()
	n, err := io.Copy(g, resp.Body)
	resp.Body.Close()
	if err != nil || n != size || `"`+hex.EncodeToString(g.Sum(nil))+`"` != want {
		t.Fatalf("GET = %d bytes, %v", n, err)
	}
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	// Total bytes allocated while 128 MiB went through the server (in this
	// process) stay far below the object size: nothing held it whole.
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > size/2 {
		t.Errorf("allocated %d MiB moving a %d MiB object through", alloc>>20, size>>20)
	}
}

func TestObjectsEitherSideOfTheInlineLimitRoundTrip(t *testing.T) {
	e := newEnv(t)
	b := e.bucket(t, "inline-limit")
	for _, n := range []int{0, 1, 64<<10 - 1, 64 << 10, 64<<10 + 1, 200 << 10} {
		body := randomBytes(n, uint64(n))
		key := fmt.Sprintf("obj-%d", n)
		put, err := e.client.PutObject(ctx(), &awss3.PutObjectInput{Bucket: aws.String(b), Key: aws.String(key), Body: bytes.NewReader(body)})
		if err != nil {
			t.Fatalf("%d: %v", n, err)
		}
		if aws.ToString(put.ETag) != md5hex(body) {
			t.Errorf("%d: ETag %s", n, aws.ToString(put.ETag))
		}
		if got, _ := get(t, e, b, key); !bytes.Equal(got, body) {
			t.Errorf("%d: body differs", n)
		}
		if _, err := e.client.CopyObject(ctx(), &awss3.CopyObjectInput{Bucket: aws.String(b), Key: aws.String(key + "-copy"), CopySource: aws.String(b + "/" + key)}); err != nil {
			t.Fatalf("%d copy: %v", n, err)
		}
		if _, err := e.client.DeleteObject(ctx(), &awss3.DeleteObjectInput{Bucket: aws.String(b), Key: aws.String(key)}); err != nil {
			t.Fatal(err)
		}
		if got, _ := get(t, e, b, key+"-copy"); !bytes.Equal(got, body) {
			t.Errorf("%d: copy differs after the source is deleted", n)
		}
		if n > 10 {
			out, err := e.client.GetObject(ctx(), &awss3.GetObjectInput{Bucket: aws.String(b), Key: aws.String(key + "-copy"), Range: aws.String("bytes=5-9")})
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(out.Body)
			out.Body.Close()
			if !bytes.Equal(got, body[5:10]) {
				t.Errorf("%d: range differs", n)
			}
		}
	}
}
