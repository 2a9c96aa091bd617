//go:build unix

package events

import (
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/wharf-dev/wharf/internal/awsapi"
	eventsapi "github.com/wharf-dev/wharf/internal/awsapi/events"
	"github.com/wharf-dev/wharf/internal/store"
)

// BenchmarkPutEvents runs PutEvents from 8 goroutines with the dispatcher
// running, on a durable store, in memory and in memory with Volatile set (as
// --ephemeral runs it), for an event a rule matches and one that matches
// nothing. Profile it to see where a durable event's cost goes (go test
// -bench PutEvents -cpuprofile).
func BenchmarkPutEvents(b *testing.B) {
	for _, mode := range []string{"memory", "volatile", "durable"} {
		durable := mode == "durable"
		for _, detail := range []string{`{"amount":150}`, `{"amount":5}`} {
			name := mode
			if detail == `{"amount":5}` {
				name += "/unmatched"
			} else {
				name += "/matched"
			}
			b.Run(name, func(b *testing.B) {
				st := store.OpenMemory()
				if durable {
					var err error
					if st, err = store.Open(b.TempDir()); err != nil {
						b.Fatal(err)
					}
				}
				defer st.Close()
				s := New(Options{Store: st, Account: "123456789012", Region: "us-east-1", Volatile: mode == "volatile"})
				ctx, cancel := context.WithCancel(awsapi.WithCaller(context.Background(), &awsapi.Caller{Account: "123456789012", Region: "us-east-1"}))
				done := make(chan struct{})
				go func() { s.Run(ctx); close(done) }()
				defer func() { cancel(); <-done }()
				name, pat := "big", `{"detail":{"amount":[{"numeric":[">",100]}]}}`
				if _, err := s.PutRule(ctx, &eventsapi.PutRuleInput{Name: &name, EventPattern: &pat}); err != nil {
					b.Fatal(err)
				}
				src, dt := "com.example", "Order"
				in := &eventsapi.PutEventsInput{Entries: []eventsapi.PutEventsRequestEntry{{Source: &src, DetailType: &dt, Detail: &detail}}}
				b.SetParallelism(4) // 8 goroutines on 2 cores
				cpu0 := cpuTime()
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if out, err := s.PutEvents(ctx, in); err != nil || *out.FailedEntryCount != 0 {
							b.Error(err)
							return
						}
					}
				})
				b.StopTimer()
				// Wall time per op follows the machine's load and the
				// disk's fsync latency; CPU time per op is steadier.
				b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
			})
		}
	}
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
