package events

// Forget drops what the service keeps in memory beside the store (buses,
// rules, archives, pending deliveries, schedule firings): a reset (POST
// /_wharf/reset) has deleted its keys. An account's state is loaded again,
// empty, when next used.
func (s *Service) Forget() {
	// Between dispatch rounds, so no round delivers what it read before.
	s.dispatching.Lock()
	defer s.dispatching.Unlock()
	s.mu.Lock()
	s.regions = map[regionKey]*region{}
	clear(s.lastFire)
	s.mu.Unlock()
	s.hotMu.Lock()
	s.hot = nil
	s.queue = nil
	s.hotMu.Unlock()
	s.takeDelivered() // the reset deleted them
}
