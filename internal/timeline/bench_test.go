package timeline

import (
	"context"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// cpuTime is the process's user and system CPU time so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkRecord records a SendMessage's hop from 8 goroutines, with the
// entries kept in memory only or saved to files, flushed every 1024 entries
// (a 200 ms batch at 5,000 hops a second); cpu-ns/op counts the process's
// CPU time, the flushes' included.
func BenchmarkRecord(b *testing.B) {
	for _, saved := range []bool{false, true} {
		name := "memory"
		if saved {
			name = "files"
		}
		b.Run(name, func(b *testing.B) {
			opts := Options{}
			if saved {
				opts.Dir = b.TempDir()
			}
			l, err := Open(opts)
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			var recorded atomic.Int64
			const arn = "arn:aws:sqs:us-east-1:000000000000:bench-queue"
			ids := make([]string, 1024)
			for i := range ids {
				ids[i] = hexID(uint64(i)*7919) + "-0000-4000-8000-" + hexID(uint64(i))[:12]
			}
			b.ReportAllocs()
			b.SetParallelism(4)
			b.ResetTimer()
			cpu := cpuTime(b)
			b.RunParallel(func(pb *testing.PB) {
				i := 0
				for pb.Next() {
					l.Record(ctx, Entry{Service: "sqs", Kind: "MessageSent", Resource: arn, Subject: ids[i&1023], Quiet: true, Detail: "message sent to queue bench-queue"})
					i++
					if saved && recorded.Add(1)%1024 == 0 {
						l.flush()
					}
				}
			})
			b.StopTimer()
			l.flush()
			b.ReportMetric(float64(cpuTime(b)-cpu)/float64(b.N), "cpu-ns/op")
		})
	}
}

// BenchmarkListByResource lists the newest 50 entries about a queue that has
// none, from a full log of 10,000 sends to another queue: the console's
// queue page on a busy wharf, reading every entry.
func BenchmarkListByResource(b *testing.B) {
	l, err := Open(Options{})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	for i := range DefaultLimit {
		l.Record(ctx, Entry{Service: "sqs", Kind: "MessageSent", Resource: "arn:aws:sqs:us-east-1:000000000000:busy", Subject: hexID(uint64(i)), Quiet: true, Detail: "message sent"})
	}
	b.ReportAllocs()
	for b.Loop() {
		if got := l.List(Filter{Resource: "arn:aws:sqs:us-east-1:000000000000:watched", Limit: 50}); len(got) != 0 {
			b.Fatalf("listed %d entries of a queue with none", len(got))
		}
	}
}
