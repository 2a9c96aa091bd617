package sns

import "github.com/wharf-dev/wharf/internal/store"

// TopicPolicy returns the Policy attribute a topic's owner set (not the
// default policy, whose AWS:SourceOwner condition only ever admits the
// owner's account) and the owning account, for the authorizer; found is
// false when there is no such topic.
func (s *Service) TopicPolicy(arn string) (policy, account string, found bool, err error) {
	// Every request on a topic (every Publish) asks: the topic Publish
	// caches answers it, rather than a decode of the topic's record each time.
	v, err := s.cachedView(arn)
	if err != nil || v == nil {
		return "", "", false, err
	}
	return v.topic.Attrs["Policy"], v.topic.Account, true, nil
}

// TopicTags returns the tags of the topic arn, for the authorizer's
// aws:ResourceTag keys; nil when there is no such topic.
func (s *Service) TopicTags(arn string) (map[string]string, error) {
	var tags map[string]string
	err := s.st.View(func(tx store.Tx) error {
		t, err := getTopic(tx, arn)
		if err != nil || t == nil {
			return err
		}
		tags = t.Tags
		return nil
	})
	return tags, err
}
