package sqs

import (
	"syscall"
	"testing"
	"time"

	sqsapi "github.com/wharf-dev/wharf/internal/awsapi/sqs"
	"github.com/wharf-dev/wharf/internal/clock"
	"github.com/wharf-dev/wharf/internal/store"
)

// BenchmarkSendMessage is SendMessage from 8 goroutines (bench/peers'
// sqs-send-query at 8 clients, without HTTP and decoding) on the memory
// and on the disk store. Besides wall time it reports the process's CPU
// time per send (cpu-ns/op), the figure to compare on a loaded machine.
func BenchmarkSendMessage(b *testing.B) {
	for _, tc := range []struct {
		name string
		open func(b *testing.B) store.Store
	}{
		{"memory", func(*testing.B) store.Store { return store.OpenMemory() }},
		{"durable", func(b *testing.B) store.Store {
			st, err := store.Open(b.TempDir())
			if err != nil {
				b.Fatal(err)
			}
			return st
		}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			st := tc.open(b)
			defer st.Close()
			f := newFixtureOn(b, st, newFakeClock())
			f.svc.clock = clock.Real
			url := f.createQueue("bench", nil)
			body := "hello from the benchmark"
			b.SetParallelism(4) // 4 x GOMAXPROCS(2) = 8 senders on the bench machine
			cpu0 := cpuTime()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := f.svc.SendMessage(f.ctx, &sqsapi.SendMessageInput{QueueUrl: &url, MessageBody: &body}); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.StopTimer()
			b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
		})
	}
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
