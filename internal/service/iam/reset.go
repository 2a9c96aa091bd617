package iam

// Forget counts a reset (POST /_wharf/reset, which deleted IAM's keys) as a
// write, so that decisions cached on an older generation are not reused.
func (s *Service) Forget() {
	s.policies.Clear()
	s.keys.Clear()
	s.gen.Add(1)
}
