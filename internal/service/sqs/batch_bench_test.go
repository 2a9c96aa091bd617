package sqs

import (
	"strconv"
	"testing"

	sqsapi "github.com/wharf-dev/wharf/internal/awsapi/sqs"
	"github.com/wharf-dev/wharf/internal/store"
)

// BenchmarkSendMessageBatch sends batches of ten messages (as bench/peers'
// sqs-batch ops do) through the service alone, in memory: the cost of the
// batch path without HTTP or a codec.
func BenchmarkSendMessageBatch(b *testing.B) {
	benchmarkSendMessageBatch(b, store.OpenMemory())
}

// BenchmarkSendMessageBatchDurable is BenchmarkSendMessageBatch on a disk
// store: every batch is one commit, logged and synced.
func BenchmarkSendMessageBatchDurable(b *testing.B) {
	st, err := store.Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	benchmarkSendMessageBatch(b, st)
}

func benchmarkSendMessageBatch(b *testing.B, st store.Store) {
	f := newFixtureOn(b, st, newFakeClock())
	url := f.createQueue("bench", nil)
	body := "hello from the benchmark"
	entries := make([]sqsapi.SendMessageBatchRequestEntry, 10)
	for i := range entries {
		id := strconv.Itoa(i)
		entries[i] = sqsapi.SendMessageBatchRequestEntry{Id: &id, MessageBody: &body}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		out, err := f.svc.SendMessageBatch(f.ctx, &sqsapi.SendMessageBatchInput{QueueUrl: &url, Entries: entries})
		if err != nil || len(out.Failed) > 0 {
			b.Fatal(err, out.Failed)
		}
	}
}
