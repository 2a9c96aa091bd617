//go:build unix

package events

import (
	"context"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/wharf-dev/wharf/internal/awsapi"
	eventsapi "github.com/wharf-dev/wharf/internal/awsapi/events"
	sqsapi "github.com/wharf-dev/wharf/internal/awsapi/sqs"
	"github.com/wharf-dev/wharf/internal/service/sqs"
	"github.com/wharf-dev/wharf/internal/store"
)

// BenchmarkPutEvents runs PutEvents from 8 goroutines with the dispatcher
// running, on a durable store, in memory and in memory with Volatile set (as
// --ephemeral runs it), for an event a rule matches and one that matches
// nothing, and (sqs) for an event a rule delivers to an SQS queue, as
// bench/peers' events-put does: its CPU time counts the deliveries too.
// Profile it to see where a durable event's cost goes (go test -bench
// PutEvents -cpuprofile).
func BenchmarkPutEvents(b *testing.B) {
	for _, mode := range []string{"memory", "volatile", "durable"} {
		durable := mode == "durable"
		for _, kind := range []string{"matched", "unmatched", "sqs"} {
			detail := `{"amount":150}`
			if kind == "unmatched" {
				detail = `{"amount":5}`
			}
			b.Run(mode+"/"+kind, func(b *testing.B) {
				st := store.OpenMemory()
				if durable {
					var err error
					if st, err = store.Open(b.TempDir()); err != nil {
						b.Fatal(err)
					}
				}
				defer st.Close()
				q := sqs.New(sqs.Options{Store: st})
				s := New(Options{Store: st, Account: "123456789012", Region: "us-east-1", Volatile: mode == "volatile",
					Targets: func(string) Target { return SQSTarget{Queues: q} }})
				ctx, cancel := context.WithCancel(awsapi.WithCaller(context.Background(), &awsapi.Caller{Account: "123456789012", Region: "us-east-1"}))
				done := make(chan struct{})
				go func() { s.Run(ctx); close(done) }()
				defer func() { cancel(); <-done }()
				name, pat := "big", `{"detail":{"amount":[{"numeric":[">",100]}]}}`
				if _, err := s.PutRule(ctx, &eventsapi.PutRuleInput{Name: &name, EventPattern: &pat}); err != nil {
					b.Fatal(err)
				}
				queueURL := "https://sqs.us-east-1.amazonaws.com/123456789012/bench"
				if kind == "sqs" {
					if _, err := q.CreateQueue(ctx, &sqsapi.CreateQueueInput{QueueName: awsapi.String("bench")}); err != nil {
						b.Fatal(err)
					}
					_, err := s.PutTargets(ctx, &eventsapi.PutTargetsInput{Rule: &name,
						Targets: []eventsapi.Target{{Id: awsapi.String("q"), Arn: awsapi.String("arn:aws:sqs:us-east-1:123456789012:bench")}}})
					if err != nil {
						b.Fatal(err)
					}
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
				if kind == "sqs" {
					// Until every event is in the queue.
					for {
						out, err := q.GetQueueAttributes(ctx, &sqsapi.GetQueueAttributesInput{QueueUrl: &queueURL,
							AttributeNames: []string{"ApproximateNumberOfMessages"}})
						if err != nil {
							b.Fatal(err)
						}
						if out.Attributes["ApproximateNumberOfMessages"] == strconv.Itoa(b.N) {
							break
						}
						time.Sleep(time.Millisecond)
					}
				}
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
