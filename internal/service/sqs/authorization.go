package sqs

import (
	"github.com/wharf-dev/wharf/internal/apierr"
	"github.com/wharf-dev/wharf/internal/store"
)

// QueuePolicy returns the Policy attribute of a queue, for the authorizer;
// found is false when there is no such queue.
func (s *Service) QueuePolicy(account, region, name string) (policy string, found bool, err error) {
	err = s.st.View(func(tx store.Tx) error {
		q, err := s.getQueue(tx, account, region, name)
		if err != nil {
			if e := apierr.As(err); e != nil && e.Code == "QueueDoesNotExist" {
				return nil
			}
			return err
		}
		policy, found = q.Attrs["Policy"], true
		return nil
	})
	return policy, found, err
}

// QueueTags returns the tags of a queue, for the authorizer's
// aws:ResourceTag keys; nil when there is no such queue.
func (s *Service) QueueTags(account, region, name string) (map[string]string, error) {
	var tags map[string]string
	err := s.st.View(func(tx store.Tx) error {
		q, err := s.getQueue(tx, account, region, name)
		if err != nil {
			if e := apierr.As(err); e != nil && e.Code == "QueueDoesNotExist" {
				return nil
			}
			return err
		}
		tags = q.Tags
		return nil
	})
	return tags, err
}
