package scheduler

// Forget drops the schedules and groups kept in memory beside the store: a
// reset (POST /_wharf/reset) has deleted their keys. An account's state is
// loaded again, empty, when next used.
func (s *Service) Forget() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.regions = map[string]*region{}
}
