package sqs

import (
	"sync"
	"testing"

	sqsapi "github.com/wharf-dev/wharf/internal/awsapi/sqs"
	"github.com/wharf-dev/wharf/internal/store"
)

// holdingStore holds the first Update made after hold is called until
// release is closed, and says on held when it is holding it.
type holdingStore struct {
	store.Store
	mu      sync.Mutex
	armed   bool
	held    chan struct{}
	release chan struct{}
}

func (s *holdingStore) hold() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.armed, s.held, s.release = true, make(chan struct{}), make(chan struct{})
}

func (s *holdingStore) Update(fn func(store.Tx) error) error {
	s.mu.Lock()
	armed := s.armed
	s.armed = false
	s.mu.Unlock()
	if armed {
		close(s.held)
		<-s.release
	}
	return s.Store.Update(fn)
}

// TestAFIFOMessageStoredLaterDoesNotOvertakeItsGroupsMessageInFlight: two
// sends to one message group race; the one stored second must come after
// the first in the group, whichever began first. Sequence numbers drawn
// before the store update made the later-stored message the group's head
// while the other was in flight, and a receive handed it out: two messages
// of one group in flight at once.
func TestAFIFOMessageStoredLaterDoesNotOvertakeItsGroupsMessageInFlight(t *testing.T) {
	st := &holdingStore{Store: store.OpenMemory()}
	f := newFixtureOn(t, st, newFakeClock())
	url := f.createQueue("orders.fifo", map[string]string{"FifoQueue": "true", "ContentBasedDeduplication": "true"})

	st.hold()
	first := make(chan string)
	go func() {
		body, group := "begun first, stored second", "g"
		out, err := f.svc.SendMessage(f.ctx, &sqsapi.SendMessageInput{QueueUrl: &url, MessageBody: &body, MessageGroupId: &group})
		if err != nil {
			t.Error(err)
			first <- ""
			return
		}
		first <- *out.SequenceNumber
	}()
	<-st.held
	second := f.sendGroup(url, "begun second, stored first", "g", "")
	got := f.receive(url, 10)
	if len(got) != 1 || *got[0].Body != "begun second, stored first" {
		t.Fatalf("first receive = %v, want the one message stored", bodies(got))
	}
	close(st.release)
	firstSeq := <-first
	if firstSeq == "" {
		t.FailNow()
	}
	if got := f.receive(url, 10); len(got) != 0 {
		t.Fatalf("a receive while the group's first message is in flight got %v", bodies(got))
	}
	if !(*second.SequenceNumber < firstSeq) {
		t.Errorf("sequence numbers: stored first %s, stored second %s; want them in the order stored", *second.SequenceNumber, firstSeq)
	}
}
