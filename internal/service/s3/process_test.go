package s3_test

// Tests that run the real wharf binary as a child process: what survives a
// kill -9, and how much memory the process uses moving a 1 GiB object.

import (
	"bufio"
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/wharf-dev/wharf/internal/wharftest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	wharftest.Cleanup()
	os.Exit(code)
}

// startWharf runs the wharf binary bin on dataDir, on a free loopback port.
func startWharf(t *testing.T, bin, dataDir string) *wharftest.Process {
	t.Helper()
	return wharftest.Serve(t, bin, "127.0.0.1:0", "--data-dir", dataDir)
}

// content is the body written to key: its size and bytes follow from the key
// alone, so a reader can check any object without the writer keeping it.
func content(key string) []byte {
	h := fnv.New64a()
	h.Write([]byte(key))
	seed := h.Sum64()
	r := rand.New(rand.NewPCG(seed, seed>>1))
	var size int
	switch seed % 10 {
	case 0, 1, 2, 3, 4, 5: // kept in the store
		size = 1 + r.IntN(8<<10)
	default: // in a file
		size = 64<<10 + 1 + r.IntN(256<<10)
	}
	b := make([]byte, size)
	var seed32 [32]byte
	copy(seed32[:], key)
	rand.NewChaCha8(seed32).Read(b)
	return b
}

// multipartContent is the body of a multipart key: a 5 MiB first part (the
// smallest S3 allows) and the rest as the second part.
func multipartContent(key string) (whole []byte, split int) {
	tail := content(key)
	first := make([]byte, 5<<20)
	var seed32 [32]byte
	copy(seed32[:], "first part of "+key)
	rand.NewChaCha8(seed32).Read(first)
	return append(first, tail...), len(first)
}

func bodyOf(key string) []byte {
	if strings.HasPrefix(key, "mp/") {
		b, _ := multipartContent(key)
		return b
	}
	return content(key)
}

func putMultipart(c *awss3.Client, bucket, key string) (string, error) {
	body, split := multipartContent(key)
	up, err := c.CreateMultipartUpload(ctx(), &awss3.CreateMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return "", err
	}
	var parts []types.CompletedPart
	for i, chunk := range [][]byte{body[:split], body[split:]} {
		n := int32(i + 1)
		p, err := c.UploadPart(ctx(), &awss3.UploadPartInput{Bucket: aws.String(bucket), Key: aws.String(key), UploadId: up.UploadId,
			PartNumber: aws.Int32(n), Body: bytes.NewReader(chunk)})
		if err != nil {
			return "", err
		}
		parts = append(parts, types.CompletedPart{PartNumber: aws.Int32(n), ETag: p.ETag})
	}
	out, err := c.CompleteMultipartUpload(ctx(), &awss3.CompleteMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(key),
		UploadId: up.UploadId, MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}})
	if err != nil {
		return "", err
	}
	return aws.ToString(out.ETag), nil
}

func TestAcknowledgedPutsSurviveKill9(t *testing.T) {
	bin := wharftest.Binary(t)
	data := t.TempDir()
	p := startWharf(t, bin, data)
	c := newClient(p.Addr, func(o *awss3.Options) { o.RetryMaxAttempts = 1 })
	const bucket = "crash"
	if _, err := c.CreateBucket(ctx(), &awss3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}

	// Writers PUT new keys until the server dies under them; every
	// acknowledged key and its ETag is recorded, and every attempted key.
	var (
		mu        sync.Mutex
		acked     = map[string]string{}
		attempted = map[string]bool{}
		nAcked    atomic.Int64
		wg        sync.WaitGroup
	)
	const writers, killAfter = 4, 120
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				key := fmt.Sprintf("w%d/%05d", w, i)
				if i%15 == 14 {
					key = "mp/" + key
				}
				mu.Lock()
				attempted[key] = true
				mu.Unlock()
				var etag string
				var err error
				if strings.HasPrefix(key, "mp/") {
					etag, err = putMultipart(c, bucket, key)
				} else {
					var out *awss3.PutObjectOutput
					out, err = c.PutObject(ctx(), &awss3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(content(key))})
					if err == nil {
						etag = aws.ToString(out.ETag)
					}
				}
				if err != nil {
					return // the server is gone
				}
				mu.Lock()
				acked[key] = etag
				mu.Unlock()
				nAcked.Add(1)
			}
		}()
	}
	for nAcked.Load() < killAfter {
		select {
		case <-p.Done():
			t.Fatal("wharf exited on its own")
		case <-time.After(time.Millisecond):
		}
	}
	p.Kill()
	wg.Wait()
	mp := 0
	for k := range acked {
		if strings.HasPrefix(k, "mp/") {
			mp++
		}
	}
	t.Logf("killed after %d acknowledged writes (%d multipart), %d attempted", len(acked), mp, len(attempted))
	if mp == 0 {
		t.Fatal("no multipart upload completed before the kill: the test checks too little")
	}

	p2 := startWharf(t, bin, data)
	c2 := newClient(p2.Addr)
	for key, etag := range acked {
		out, err := c2.GetObject(ctx(), &awss3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
		if err != nil {
			t.Errorf("acknowledged %s lost: %v", key, err)
			continue
		}
		got, err := io.ReadAll(out.Body)
		out.Body.Close()
		if err != nil || !bytes.Equal(got, bodyOf(key)) || aws.ToString(out.ETag) != etag {
			t.Errorf("acknowledged %s: %d bytes, ETag %s (acknowledged %s), err %v", key, len(got), aws.ToString(out.ETag), etag, err)
		}
	}
	// Whatever is listed was attempted and is whole: a write in flight at the
	// kill is either all there or not there at all.
	files := 0
	pg := awss3.NewListObjectsV2Paginator(c2, &awss3.ListObjectsV2Input{Bucket: aws.String(bucket)})
	listed := 0
	for pg.HasMorePages() {
		page, err := pg.NextPage(ctx())
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range page.Contents {
			listed++
			key := aws.ToString(o.Key)
			if !attempted[key] {
				t.Errorf("listed %s was never written", key)
				continue
			}
			if want := bodyOf(key); aws.ToInt64(o.Size) != int64(len(want)) {
				t.Errorf("listed %s has %d bytes, want %d", key, aws.ToInt64(o.Size), len(want))
			} else if got, _ := get(t, &env{client: c2}, bucket, key); !bytes.Equal(got, want) {
				t.Errorf("listed %s differs from what was written", key)
			}
			if aws.ToInt64(o.Size) > 64<<10 {
				files++
			}
		}
	}
	if listed < len(acked) {
		t.Errorf("%d objects listed, fewer than the %d acknowledged", listed, len(acked))
	}
	// Parts of uploads the kill interrupted keep their files until aborted.
	ups, err := c2.ListMultipartUploads(ctx(), &awss3.ListMultipartUploadsInput{Bucket: aws.String(bucket)})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range ups.Uploads {
		parts, err := c2.ListParts(ctx(), &awss3.ListPartsInput{Bucket: aws.String(bucket), Key: u.Key, UploadId: u.UploadId})
		if err != nil {
			t.Fatal(err)
		}
		for _, pt := range parts.Parts {
			if aws.ToInt64(pt.Size) > 64<<10 {
				files++
			}
		}
	}
	// The startup sweep runs in the background: once done, the only files
	// left are those of listed objects and of parts.
	var got int
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		matches, _ := filepath.Glob(filepath.Join(data, "s3", "blobs", "*", "*"))
		if got = len(matches); got == files || time.Now().After(deadline) {
			break
		}
	}
	if got != files {
		t.Errorf("%d blob files after restart, want %d (one per file-backed object and part)", got, files)
	}
	if tmp, _ := os.ReadDir(filepath.Join(data, "s3", "tmp")); len(tmp) != 0 {
		t.Errorf("%d temporary files left after restart", len(tmp))
	}
}

// vmRSS reads the resident set size of process pid from /proc.
func vmRSS(pid int) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10, err
		}
	}
	return 0, errors.New("no VmRSS in /proc status")
}

// rssWatch samples a process's RSS until stopped and keeps the largest.
type rssWatch struct {
	stop chan struct{}
	done chan struct{}
	max  int64
	err  error
}

func watchRSS(pid int) *rssWatch {
	w := &rssWatch{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			n, err := vmRSS(pid)
			if err != nil {
				w.err = err
				return
			}
			w.max = max(w.max, n)
			select {
			case <-w.stop:
				return
			case <-tick.C:
			}
		}
	}()
	return w
}

func (w *rssWatch) peak() (int64, error) {
	close(w.stop)
	<-w.done
	return w.max, w.err
}

// generated yields n pseudo-random bytes without holding them.
type generated struct {
	r *rand.ChaCha8
	n int64
}

func (g *generated) Read(p []byte) (int, error) {
	if g.n == 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > g.n {
		p = p[:g.n]
	}
	g.r.Read(p)
	g.n -= int64(len(p))
	return len(p), nil
}

func TestOneGiBObjectStreamsInAndOutInBoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("moves 1 GiB through the real binary")
	}
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("needs /proc to read the server's RSS")
	}
	const size = 1 << 30
	const maxGrowth = 128 << 20
	bin := wharftest.Binary(t)
	p := startWharf(t, bin, t.TempDir())
	base := "http://" + p.Addr + "/big"
	for _, req := range []*http.Request{mustRequest(t, http.MethodPut, base, nil)} {
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("CreateBucket: %v %v", resp, err)
		}
		resp.Body.Close()
	}
	pid := p.Cmd.Process.Pid
	before, err := vmRSS(pid)
	if err != nil {
		t.Fatal(err)
	}

	// PUT: the bytes are generated as they are sent and hashed on the way.
	sent := md5.New()
	w := watchRSS(pid)
	req := mustRequest(t, http.MethodPut, base+"/object", io.TeeReader(&generated{r: rand.NewChaCha8([32]byte{1}), n: size}, sent))
	req.ContentLength = size
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	putPeak, err := w.peak()
	if err != nil {
		t.Fatal(err)
	}
	want := `"` + hex.EncodeToString(sent.Sum(nil)) + `"`
	if resp.StatusCode != 200 || resp.Header.Get("ETag") != want {
		t.Fatalf("PUT = %d, ETag %s, want %s", resp.StatusCode, resp.Header.Get("ETag"), want)
	}

	// GET: the body is hashed as it arrives and compared with what was sent.
	w = watchRSS(pid)
	resp, err = http.Get(base + "/object")
	if err != nil {
		t.Fatal(err)
	}
	got := md5.New()
	n, err := io.Copy(got, resp.Body)
	resp.Body.Close()
	getPeak, perr := w.peak()
	if perr != nil {
		t.Fatal(perr)
	}
	if err != nil || n != size || `"`+hex.EncodeToString(got.Sum(nil))+`"` != want {
		t.Fatalf("GET = %d bytes (want %d), md5 %x, err %v", n, int64(size), got.Sum(nil), err)
	}
	t.Logf("server RSS %d MiB at rest, peak %d MiB during PUT, %d MiB during GET", before>>20, putPeak>>20, getPeak>>20)
	for op, peak := range map[string]int64{"PUT": putPeak, "GET": getPeak} {
		if peak-before > maxGrowth {
			t.Errorf("server RSS grew by %d MiB during the 1 GiB %s (limit %d MiB)", (peak-before)>>20, op, maxGrowth>>20)
		}
	}
}

func mustRequest(t *testing.T, method, url string, body io.Reader) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	return req
}
