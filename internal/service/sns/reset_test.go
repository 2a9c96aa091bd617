package sns

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/wharf-dev/wharf/internal/awsapi"
	snsapi "github.com/wharf-dev/wharf/internal/awsapi/sns"
	"github.com/wharf-dev/wharf/internal/store"
	"github.com/wharf-dev/wharf/internal/store/storetest"
)

// TestADeliveryInFlightDuringAResetIsNotRetried: an HTTP delivery that
// fails after a reset (POST /_wharf/reset) deleted SNS's keys is not put
// back in the outbox. It was: its endpoint, the subscription's of before
// the reset, kept being sent the notification (or the confirmation) after
// it, as many times as the delivery policy retries.
func TestADeliveryInFlightDuringAResetIsNotRetried(t *testing.T) {
	entered, release := make(chan struct{}, 1), make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		entered <- struct{}{}
		<-release
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	st := store.OpenMemory()
	s := newTestService(st, &fakeClock{now: time.Unix(1e9, 0)}, srv.Client())
	topic := must(s.CreateTopic(caller, &snsapi.CreateTopicInput{Name: awsapi.String("t")})).TopicArn
	must(s.Subscribe(caller, &snsapi.SubscribeInput{TopicArn: topic, Protocol: awsapi.String("http"), Endpoint: awsapi.String(srv.URL)}))

	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		s.deliverNow(t) // the confirmation, which the endpoint fails
	}()
	<-entered
	// The reset: every key of SNS deleted, what it caches forgotten.
	storetest.DeletePrefix(t, st, "sns/")
	s.Forget()
	close(release)
	wg.Wait()

	if n, _ := s.outboxLen(t); n != 0 {
		t.Errorf("the delivery in flight during the reset was put back in the outbox: %d deliveries", n)
	}
}
