package integration

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/wharf-dev/wharf/internal/wharftest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	wharftest.Cleanup()
	os.Exit(code)
}

// TestSecondWharfOnADataDirectoryNamesTheFirst starts two wharfs on one data
// directory: the second exits 1 saying which process holds it. The first
// keeps its data, objects included, private: files 0600 in 0700 directories.
func TestSecondWharfOnADataDirectoryNamesTheFirst(t *testing.T) {
	bin := wharftest.Binary(t)
	dir := filepath.Join(t.TempDir(), "data") // made by wharf
	first := wharftest.Serve(t, bin, "127.0.0.1:0", "--data-dir", dir)

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var stderr bytes.Buffer
	second := exec.CommandContext(ctx, bin, "serve", "--listen", "127.0.0.1:0", "--data-dir", dir)
	second.Stderr = &stderr
	err := second.Run()
	want := fmt.Sprintf("data directory %s is in use by another wharf (pid %d); use --data-dir or --ephemeral", dir, first.Cmd.Process.Pid)
	if second.ProcessState == nil || second.ProcessState.ExitCode() != 1 || !strings.Contains(stderr.String(), want) {
		t.Errorf("second wharf: %v, stderr %q; want exit 1 and %q", err, stderr.String(), want)
	}

	s3c := s3.NewFromConfig(first.Config(), func(o *s3.Options) { o.UsePathStyle = true })
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("private")}); err != nil {
		t.Fatal(err)
	}
	// Past the 64 KiB kept in the store, so the bytes land in a file.
	if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("private"), Key: aws.String("k"),
		Body: bytes.NewReader(make([]byte, 100<<10))}); err != nil {
		t.Fatal(err)
	}
	files := 0
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			t.Error(err)
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return nil // removed meanwhile (a temporary file)
		}
		if info.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s is %v: others may read it", path, info.Mode().Perm())
		}
		if !d.IsDir() {
			files++
		}
		return nil
	})
	if files < 2 {
		t.Errorf("only %d files under the data directory; the object's file is missing", files)
	}
}

// TestShutdownClosesStalledConnectionsAndExitsZero: SIGTERM with an idle
// connection, one that never finished its headers and one whose body stalled,
// while an upload is still arriving. The stalled ones are closed, the upload
// finishes (200, and the object is whole after a restart), and wharf exits 0.
func TestShutdownClosesStalledConnectionsAndExitsZero(t *testing.T) {
	bin := wharftest.Binary(t)
	dir := t.TempDir()
	p := wharftest.Serve(t, bin, "127.0.0.1:0", "--data-dir", dir)
	addr := p.Addr
	ctx := callTimeout(t)
	s3c := s3.NewFromConfig(p.Config(), func(o *s3.Options) { o.UsePathStyle = true })
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("shut")}); err != nil {
		t.Fatal(err)
	}

	idle := dial(t, addr)
	idle.send("GET /_wharf/health HTTP/1.1\r\nHost: x\r\n\r\n")
	if resp, _ := idle.response(); resp.StatusCode != http.StatusOK {
		t.Fatalf("health: %s", resp.Status)
	}
	slowHeaders := dial(t, addr)
	slowHeaders.send("PUT /shut/h HTTP/1.1\r\nHost: x\r\n")
	slowBody := dial(t, addr)
	slowBody.send("PUT /shut/b HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123")

	// An upload in flight: 20 pieces, one every 100 ms.
	const pieces, piece = 20, 1000
	upload := dial(t, addr)
	upload.send(fmt.Sprintf("PUT /shut/upload HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n", pieces*piece))
	sent := make(chan int)
	go func() {
		for i := 0; i < pieces; i++ {
			if _, err := io.WriteString(upload.c, strings.Repeat(string(rune('a'+i)), piece)); err != nil {
				break
			}
			sent <- i
			time.Sleep(100 * time.Millisecond)
		}
		close(sent)
	}()
	for i := range sent {
		if i == 4 {
			break
		}
	}
	if err := p.Cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	for range sent {
	}

	resp, body := upload.response()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("the upload in flight at SIGTERM: %s %s", resp.Status, body)
	}
	for name, rc := range map[string]*rawConn{"idle": idle, "slow headers": slowHeaders, "stalled body": slowBody} {
		io.Copy(io.Discard, rc.r) // a response, if any, then the close
		if !rc.closedByServer() {
			t.Errorf("the %s connection was not closed by shutdown", name)
		}
	}
	select {
	case <-p.Done():
	case <-time.After(60 * time.Second):
		t.Fatal("wharf did not exit after SIGTERM")
	}
	if code := p.Cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("exit code %d after SIGTERM, want 0", code)
	}

	again := wharftest.Serve(t, bin, "127.0.0.1:0", "--data-dir", dir)
	s3c = s3.NewFromConfig(again.Config(), func(o *s3.Options) { o.UsePathStyle = true })
	out, err := s3c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("shut"), Key: aws.String("upload")})
	if err != nil {
		t.Fatalf("the upload finished during shutdown is gone: %v", err)
	}
	got, _ := io.ReadAll(out.Body)
	if len(got) != pieces*piece || got[len(got)-1] != byte('a'+pieces-1) {
		t.Errorf("the object is %d bytes ending %q, want %d ending %q", len(got), got[len(got)-1:], pieces*piece, 'a'+pieces-1)
	}
}
