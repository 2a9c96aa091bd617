package sqs

import (
	"bytes"
	"strings"
	"testing"
	"time"

	sqsapi "github.com/wharf-dev/wharf/internal/awsapi/sqs"
	"github.com/wharf-dev/wharf/internal/store"
)

// TestCachedQueueRecordFollowsEveryWrite: sends, receives, GetQueueUrl and
// ListQueueTags read a queue's record from the authorizer's cache
// (viewQueue), as do QueuePolicy and QueueTags. Each is read once before
// every write to the record, so that a cache the write does not clear
// would answer with the record as it was.
func TestCachedQueueRecordFollowsEveryWrite(t *testing.T) {
	st := store.OpenMemory()
	f := newFixtureOn(t, st, newFakeClock())
	url := f.createQueue("jobs", nil)
	name := "jobs"
	big := strings.Repeat("x", 2048)
	f.send(url, big)

	// SetQueueAttributes: the smaller limit refuses what was accepted.
	if _, err := f.svc.SetQueueAttributes(f.ctx, &sqsapi.SetQueueAttributesInput{QueueUrl: &url,
		Attributes: map[string]string{"MaximumMessageSize": "1024"}}); err != nil {
		t.Fatal(err)
	}
	_, err := f.svc.SendMessage(f.ctx, &sqsapi.SendMessageInput{QueueUrl: &url, MessageBody: &big})
	wantCode(t, err, "InvalidParameterValue")

	// TagQueue and UntagQueue.
	tags := func() map[string]string {
		t.Helper()
		out, err := f.svc.ListQueueTags(f.ctx, &sqsapi.ListQueueTagsInput{QueueUrl: &url})
		if err != nil {
			t.Fatal(err)
		}
		byAuthorizer, err := f.svc.QueueTags(testAccount, "us-east-1", name)
		if err != nil || len(byAuthorizer) != len(out.Tags) || byAuthorizer["team"] != out.Tags["team"] {
			t.Fatalf("QueueTags = %v, %v; ListQueueTags = %v", byAuthorizer, err, out.Tags)
		}
		return out.Tags
	}
	if got := tags(); len(got) != 0 {
		t.Fatalf("tags of a new queue = %v", got)
	}
	if _, err := f.svc.TagQueue(f.ctx, &sqsapi.TagQueueInput{QueueUrl: &url, Tags: map[string]string{"team": "a"}}); err != nil {
		t.Fatal(err)
	}
	if got := tags(); got["team"] != "a" {
		t.Fatalf("tags after TagQueue = %v", got)
	}
	if _, err := f.svc.UntagQueue(f.ctx, &sqsapi.UntagQueueInput{QueueUrl: &url, TagKeys: []string{"team"}}); err != nil {
		t.Fatal(err)
	}
	if got := tags(); len(got) != 0 {
		t.Fatalf("tags after UntagQueue = %v", got)
	}

	// AddPermission and RemovePermission.
	policy := func() string {
		t.Helper()
		p, found, err := f.svc.QueuePolicy(testAccount, "us-east-1", name)
		if err != nil || !found {
			t.Fatalf("QueuePolicy: %v, found %v", err, found)
		}
		return p
	}
	if p := policy(); p != "" {
		t.Fatalf("policy of a new queue = %q", p)
	}
	label := "consumers"
	if _, err := f.svc.AddPermission(f.ctx, &sqsapi.AddPermissionInput{QueueUrl: &url, Label: &label,
		AWSAccountIds: []string{"210987654321"}, Actions: []string{"ReceiveMessage"}}); err != nil {
		t.Fatal(err)
	}
	if p := policy(); !strings.Contains(p, "210987654321") {
		t.Fatalf("policy after AddPermission = %q", p)
	}
	if _, err := f.svc.RemovePermission(f.ctx, &sqsapi.RemovePermissionInput{QueueUrl: &url, Label: &label}); err != nil {
		t.Fatal(err)
	}
	if p := policy(); strings.Contains(p, "210987654321") {
		t.Fatalf("policy after RemovePermission = %q", p)
	}

	// DeleteQueue, then a queue of the same name: the new one's messages
	// go to it, not under the deleted one's id.
	if _, err := f.svc.DeleteQueue(f.ctx, &sqsapi.DeleteQueueInput{QueueUrl: &url}); err != nil {
		t.Fatal(err)
	}
	body := "after"
	_, err = f.svc.SendMessage(f.ctx, &sqsapi.SendMessageInput{QueueUrl: &url, MessageBody: &body})
	wantCode(t, err, "QueueDoesNotExist")
	_, err = f.svc.GetQueueUrl(f.ctx, &sqsapi.GetQueueUrlInput{QueueName: &name})
	wantCode(t, err, "QueueDoesNotExist")
	f.clock.Advance(61 * time.Second) // past SQS's minute between a delete and a create of a name
	if again := f.createQueue(name, nil); again != url {
		t.Fatalf("queue URL %s, then %s", url, again)
	}
	f.send(url, big) // the default limit again
	if got := bodies(f.receive(url, 10)); !equal(got, []string{big}) {
		t.Fatalf("the queue made again holds %d messages, want the one sent to it", len(got))
	}

	// A reset (POST /_wharf/reset) deletes the keys, then calls Forget.
	err = st.Update(func(tx store.Tx) error {
		var keys [][]byte
		if err := tx.Scan([]byte("sqs/"), nil, func(k, _ []byte) (bool, error) {
			keys = append(keys, bytes.Clone(k))
			return true, nil
		}); err != nil {
			return err
		}
		for _, k := range keys {
			if err := tx.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	f.svc.Forget()
	_, err = f.svc.SendMessage(f.ctx, &sqsapi.SendMessageInput{QueueUrl: &url, MessageBody: &body})
	wantCode(t, err, "QueueDoesNotExist")
	if _, found, err := f.svc.QueuePolicy(testAccount, "us-east-1", name); found || err != nil {
		t.Fatalf("QueuePolicy after a reset: found %v, %v", found, err)
	}
}
