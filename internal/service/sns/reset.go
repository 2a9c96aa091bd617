package sns

// Forget drops the topics and subscriptions cached for Publish: a reset
// (POST /_wharf/reset) has deleted their keys.
func (s *Service) Forget() {
	s.cacheMu.Lock()
	defer s.cacheMu.Unlock()
	s.gen++
	s.views = map[string]*topicView{}
}
