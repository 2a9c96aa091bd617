package sqs

import (
	"encoding/binary"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wharf-dev/wharf/internal/awsapi"
	sqsapi "github.com/wharf-dev/wharf/internal/awsapi/sqs"
	"github.com/wharf-dev/wharf/internal/store"
)

// TestReceiveStateOfSmallAndLargeMessages follows a message whose record is
// rewritten whole on receive (small) and one whose receive state is kept in
// a state record (large) through every use of that state: receive counts
// and first-receive times, a stale handle, ChangeMessageVisibility, a
// restart, the receive that moves it to the dead-letter queue, and its
// deletion there, after which neither queue keeps any record of it.
func TestReceiveStateOfSmallAndLargeMessages(t *testing.T) {
	for _, size := range []int{10, stateRecordMin + 1} {
		name := "large"
		if size <= stateRecordMin {
			name = "small"
		}
		t.Run(name, func(t *testing.T) {
			f := newDiskFixture(t)
			dlq := f.createQueue("dlq", nil)
			src := f.createQueue("src", map[string]string{
				"VisibilityTimeout": "5",
				"RedrivePolicy":     `{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:123456789012:dlq","maxReceiveCount":"2"}`,
			})
			body := strings.Repeat("b", size)
			f.send(src, body)

			first := f.receive(src, 1)
			if len(first) != 1 || *first[0].Body != body || first[0].Attributes["ApproximateReceiveCount"] != "1" {
				t.Fatalf("first receive = %v", first)
			}
			firstAt := first[0].Attributes["ApproximateFirstReceiveTimestamp"]
			if _, err := f.svc.ChangeMessageVisibility(f.ctx, &sqsapi.ChangeMessageVisibilityInput{QueueUrl: &src, ReceiptHandle: first[0].ReceiptHandle, VisibilityTimeout: awsapi.Int32(0)}); err != nil {
				t.Fatal(err)
			}
			f.clock.Advance(time.Second)
			second := f.receive(src, 1)
			if len(second) != 1 || *second[0].Body != body || second[0].Attributes["ApproximateReceiveCount"] != "2" ||
				second[0].Attributes["ApproximateFirstReceiveTimestamp"] != firstAt {
				t.Fatalf("second receive = %v, first received at %s", second, firstAt)
			}
			// The first handle is stale: a standard queue succeeds and keeps
			// the message, and its visibility cannot be changed with it.
			if _, err := f.svc.DeleteMessage(f.ctx, &sqsapi.DeleteMessageInput{QueueUrl: &src, ReceiptHandle: first[0].ReceiptHandle}); err != nil {
				t.Fatal(err)
			}
			_, err := f.svc.ChangeMessageVisibility(f.ctx, &sqsapi.ChangeMessageVisibilityInput{QueueUrl: &src, ReceiptHandle: first[0].ReceiptHandle, VisibilityTimeout: awsapi.Int32(0)})
			wantCode(t, err, "InvalidParameterValue")
			if a := f.attrs(src); a["ApproximateNumberOfMessages"] != "0" || a["ApproximateNumberOfMessagesNotVisible"] != "1" {
				t.Fatalf("after a stale delete: %v", a)
			}
			// The current handle extends it past the queue's timeout.
			if _, err := f.svc.ChangeMessageVisibility(f.ctx, &sqsapi.ChangeMessageVisibilityInput{QueueUrl: &src, ReceiptHandle: second[0].ReceiptHandle, VisibilityTimeout: awsapi.Int32(60)}); err != nil {
				t.Fatal(err)
			}

			f.restart()
			f.clock.Advance(59 * time.Second)
			if got := f.receive(src, 1); len(got) != 0 {
				t.Fatalf("extended message visible early after a restart: %v", got)
			}
			f.clock.Advance(time.Second)
			if got := f.receive(src, 1); len(got) != 0 {
				t.Fatalf("third receive returned %v, want the message moved", got)
			}
			moved := f.receive(dlq, 1)
			if len(moved) != 1 || *moved[0].Body != body || moved[0].Attributes["ApproximateReceiveCount"] != "3" ||
				moved[0].Attributes["ApproximateFirstReceiveTimestamp"] != firstAt {
				t.Fatalf("dead-letter queue = %v", moved)
			}
			if _, err := f.svc.DeleteMessage(f.ctx, &sqsapi.DeleteMessageInput{QueueUrl: &dlq, ReceiptHandle: moved[0].ReceiptHandle}); err != nil {
				t.Fatal(err)
			}
			f.clock.Advance(time.Hour)
			if got := f.receive(dlq, 1); len(got) != 0 {
				t.Fatalf("deleted message came back: %v", got)
			}
			wantNoMessageRecords(t, f.st)
		})
	}
}

// TestStateRecordReadsBack checks the state record's encoding.
func TestStateRecordReadsBack(t *testing.T) {
	for _, m := range recordCases() {
		var got message
		if err := decodeState(encodeState(nil, &m), &got); err != nil {
			t.Fatalf("%s: %v", m.ID, err)
		}
		if got.VisibleAt != m.VisibleAt || got.Received != m.Received || got.FirstReceive != m.FirstReceive || got.Token != m.Token {
			t.Errorf("%s: read back as %+v", m.ID, got)
		}
		b := encodeState(nil, &m)
		for n := range len(b) {
			if decodeState(b[:n], &got) == nil {
				t.Errorf("%s: a record cut to %d bytes decoded", m.ID, n)
			}
		}
	}
}

// TestLargeMessageReceivedBeforeStateRecords checks a large message that an
// older wharf received, whose receive state is in its message record and
// which has no state record: its handle still changes its visibility and,
// once received again, it counts that receive and is deleted whole.
func TestLargeMessageReceivedBeforeStateRecords(t *testing.T) {
	f := newFixture(t)
	url := f.createQueue("q", nil)
	f.send(url, strings.Repeat("b", stateRecordMin+1))
	r, err := f.svc.ref(f.ctx, &url)
	if err != nil {
		t.Fatal(err)
	}
	now := f.clock.Now().UnixMilli()
	var handle string
	err = f.svc.st.Update(func(tx store.Tx) error { // as an older wharf received it
		q, err := f.svc.getQueue(tx, r.account, r.region, r.name)
		if err != nil {
			return err
		}
		var seq uint64
		err = tx.Scan(msgPrefix(q.ID), nil, func(k, _ []byte) (bool, error) {
			seq = binary.BigEndian.Uint64(k[len(k)-8:])
			return false, nil
		})
		if err != nil {
			return err
		}
		m, err := getMessage(tx, q.ID, seq)
		if err != nil || m == nil {
			return err
		}
		if err := deleteVis(tx, q.ID, m.VisibleAt, m.Seq); err != nil {
			return err
		}
		m.Received, m.FirstReceive, m.Token, m.VisibleAt = 1, now, "old", now+30_000
		handle = receiptHandle(q.ID, m)
		return storeMessage(tx, q.ID, m, true)
	})
	if err != nil || handle == "" {
		t.Fatalf("storing an old record: %v", err)
	}
	if a := f.attrs(url); a["ApproximateNumberOfMessagesNotVisible"] != "1" {
		t.Fatalf("counts: %v", a)
	}
	if _, err := f.svc.ChangeMessageVisibility(f.ctx, &sqsapi.ChangeMessageVisibilityInput{QueueUrl: &url, ReceiptHandle: &handle, VisibilityTimeout: awsapi.Int32(0)}); err != nil {
		t.Fatal(err)
	}
	got := f.receive(url, 1)
	if len(got) != 1 || got[0].Attributes["ApproximateReceiveCount"] != "2" ||
		got[0].Attributes["ApproximateFirstReceiveTimestamp"] != strconv.FormatInt(now, 10) {
		t.Fatalf("receive = %v", got)
	}
	if _, err := f.svc.DeleteMessage(f.ctx, &sqsapi.DeleteMessageInput{QueueUrl: &url, ReceiptHandle: got[0].ReceiptHandle}); err != nil {
		t.Fatal(err)
	}
	wantNoMessageRecords(t, f.svc.st)
}

// wantNoMessageRecords fails t if st holds any message, receive-state or
// visibility record.
func wantNoMessageRecords(t *testing.T, st store.Store) {
	t.Helper()
	var left []string
	err := st.View(func(tx store.Tx) error {
		return tx.Scan([]byte("sqs/d/"), nil, func(k, _ []byte) (bool, error) {
			if s := string(k); strings.Contains(s, "/m/") || strings.Contains(s, "/r/") || strings.Contains(s, "/v/") {
				left = append(left, s)
			}
			return true, nil
		})
	})
	if err != nil || len(left) != 0 {
		t.Fatalf("records left: %q %v", left, err)
	}
}
