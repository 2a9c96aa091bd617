package integration

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/wharf-dev/wharf/internal/wharftest"
)

// TestInitHooksRunOnceInNameOrder: the real binary with --init-dir runs its
// *.sh files in name order once it is ready, with AWS_ENDPOINT_URL, region
// and credentials set (the hook creates a queue with the aws CLI); a restart
// on the same data directory runs only a hook added since; a failing hook
// stops the ones after it and runs again at the next start.
func TestInitHooksRunOnceInNameOrder(t *testing.T) {
	bin := wharftest.Binary(t)
	data, hooks, runs := filepath.Join(t.TempDir(), "data"), t.TempDir(), filepath.Join(t.TempDir(), "runs")
	cli := "/usr/bin/aws"
	if _, err := os.Stat(cli); err != nil {
		t.Fatalf("the aws CLI v2 at %s is needed (CI installs it): %v", cli, err)
	}
	hook := func(name, body string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(hooks, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// aws CLI v2 before 2.13 ignores AWS_ENDPOINT_URL: pass it explicitly.
	hook("10-queue.sh", `set -e
echo "10 $AWS_DEFAULT_REGION" >> `+runs+`
`+cli+` --endpoint-url "$AWS_ENDPOINT_URL" sqs create-queue --queue-name from-hook
`)
	hook("20-second.sh", "echo 20 >> "+runs+"\n")
	hook("notes.txt", "echo never >> "+runs+"\n") // not a hook

	ranLines := func(want int) []string {
		t.Helper()
		var lines []string
		for deadline := time.Now().Add(60 * time.Second); ; {
			b, _ := os.ReadFile(runs)
			lines = strings.Fields(strings.ReplaceAll(strings.TrimSpace(string(b)), " ", "_"))
			if len(lines) >= want || time.Now().After(deadline) {
				return lines
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	p := wharftest.Serve(t, bin, "127.0.0.1:0", "--data-dir", data, "--init-dir", hooks)
	if got := ranLines(2); strings.Join(got, " ") != "10_us-east-1 20" {
		t.Fatalf("hooks ran %q, want 10 (seeing region us-east-1) then 20", got)
	}
	c := sqs.NewFromConfig(p.Config())
	waitQueue := func() {
		t.Helper()
		for deadline := time.Now().Add(30 * time.Second); ; {
			if _, err := c.GetQueueUrl(context.Background(), &sqs.GetQueueUrlInput{QueueName: aws.String("from-hook")}); err == nil {
				return
			} else if time.Now().After(deadline) {
				t.Fatalf("the hook's queue: %v", err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	waitQueue()
	p.Kill()

	// Restart: only what has not run yet runs; a failure stops the rest.
	hook("15-new.sh", "echo 15 >> "+runs+"\n")
	hook("17-fails.sh", "echo 17 >> "+runs+"\nexit 4\n")
	hook("18-after.sh", "echo 18 >> "+runs+"\n")
	p = wharftest.Serve(t, bin, "127.0.0.1:0", "--data-dir", data, "--init-dir", hooks)
	if got := ranLines(4); strings.Join(got, " ") != "10_us-east-1 20 15 17" {
		t.Fatalf("after a restart hooks ran %q, want only 15 and 17 (which fails) added", got)
	}
	p.Kill() // had 18 run after the failure, the last check would see it twice

	os.WriteFile(filepath.Join(hooks, "17-fails.sh"), []byte("echo 17 >> "+runs+"\n"), 0o644)
	wharftest.Serve(t, bin, "127.0.0.1:0", "--data-dir", data, "--init-dir", hooks)
	if got := ranLines(6); strings.Join(got, " ") != "10_us-east-1 20 15 17 17 18" {
		t.Fatalf("after fixing the failed hook, hooks ran %q, want 17 again then 18", got)
	}
}
