package sqs

import (
	"github.com/wharf-dev/wharf/internal/apierr"
	"github.com/wharf-dev/wharf/internal/store"
)

// queueAuth is what the authorizer asks of an existing queue on every
// request to it (and on every EventBridge or SNS delivery to it), and the
// record the request's operation then reads (viewQueue), kept in memory
// until the next write to any queue record rather than read from the store
// on each request.
type queueAuth struct {
	policy string
	tags   map[string]string // never modified: a write replaces the queue record
	q      *queue            // the whole record, for viewQueue; shared, never modified
}

// QueuePolicy returns the Policy attribute of a queue, for the authorizer;
// found is false when there is no such queue.
func (s *Service) QueuePolicy(account, region, name string) (policy string, found bool, err error) {
	a, found, err := s.queueAuth(account, region, name)
	return a.policy, found, err
}

// QueueTags returns the tags of a queue, for the authorizer's
// aws:ResourceTag keys; nil when there is no such queue.
func (s *Service) QueueTags(account, region, name string) (map[string]string, error) {
	a, _, err := s.queueAuth(account, region, name)
	return a.tags, err
}

func (s *Service) queueAuth(account, region, name string) (queueAuth, bool, error) {
	// queueKey, as one string; built in a buffer for the lookup, which
	// finds the queue on all but the first request (a map index by
	// string(b) does not allocate).
	var buf [128]byte
	kb := appendQueueKey(buf[:0], account, region, name)
	s.authMu.Lock()
	a, ok := s.auth[string(kb)]
	gen := s.authGen
	s.authMu.Unlock()
	if ok {
		return a, true, nil
	}
	return s.readQueueAuth(string(kb), gen, account, region, name)
}

// readQueueAuth is queueAuth for a queue not in memory: it reads the queue
// record and keeps what it found under k unless a write came since gen.
// Apart, so that what its transaction sets is not on the heap on every
// request, as it was inside queueAuth.
func (s *Service) readQueueAuth(k string, gen uint64, account, region, name string) (queueAuth, bool, error) {
	var a queueAuth
	found := false
	err := s.st.View(func(tx store.Tx) error {
		q, err := s.getQueue(tx, account, region, name)
		if err != nil {
			if e := apierr.As(err); e != nil && e.Code == "QueueDoesNotExist" {
				return nil
			}
			return err
		}
		a, found = queueAuth{policy: q.Attrs["Policy"], tags: q.Tags, q: q}, true
		return nil
	})
	if err != nil || !found {
		// A queue that does not exist is not remembered: requests naming
		// made-up queues must not grow the map.
		return queueAuth{}, false, err
	}
	s.authMu.Lock()
	// A write since gen may have committed after this read: keep nothing then.
	if s.authGen == gen {
		s.auth[k] = a
	}
	s.authMu.Unlock()
	return a, true, nil
}

// updateQueue runs fn in a store transaction that may write a queue record
// (its attributes, policy, tags, or the record's deletion), and then drops
// what the authorizer has cached, so that the next request sees the change.
func (s *Service) updateQueue(fn func(tx store.Tx) error) error {
	err := s.st.Update(fn)
	s.Forget()
	return err
}

// Forget drops the queues cached for the authorizer: a reset
// (POST /_wharf/reset) has deleted their keys, or a write has changed one.
func (s *Service) Forget() {
	s.authMu.Lock()
	s.authGen++
	clear(s.auth)
	s.authMu.Unlock()
}
