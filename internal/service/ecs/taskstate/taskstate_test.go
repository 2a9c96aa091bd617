package taskstate

import "testing"

func TestLifecycleOrder(t *testing.T) {
	order := []Status{Provisioning, Pending, Activating, Running, Deactivating, Stopping, Deprovisioning, Stopped}
	for i, s := range order {
		if !s.Known() {
			t.Errorf("%s is not known", s)
		}
		for _, later := range order[i+1:] {
			if !s.Before(later) || later.Before(s) {
				t.Errorf("%s should come before %s", s, later)
			}
		}
		if got, want := s.Starting(), i < 3; got != want {
			t.Errorf("%s.Starting() = %v, want %v", s, got, want)
		}
		if got, want := s.Terminal(), s == Stopped; got != want {
			t.Errorf("%s.Terminal() = %v, want %v", s, got, want)
		}
	}
	if Status("BOGUS").Known() || Status("BOGUS").Starting() || !Status("").Before(Provisioning) {
		t.Error("an unknown status must be neither known nor starting, and come before every known one")
	}
}

func TestDesiredValid(t *testing.T) {
	for s, want := range map[Status]bool{Running: true, Pending: true, Stopped: true, Provisioning: false, Stopping: false, "": false} {
		if got := s.DesiredValid(); got != want {
			t.Errorf("%q.DesiredValid() = %v, want %v", s, got, want)
		}
	}
}

func TestFieldsRoundTrip(t *testing.T) {
	if Of(Running.Ptr()) != Running || Of(nil) != "" {
		t.Error("Of(Ptr()) must give the status back, and nil the zero status")
	}
	if CodeOf(UserInitiated.Ptr()) != UserInitiated || *Healthy.Ptr() != "HEALTHY" {
		t.Error("stop codes and health must be stored as AWS's words")
	}
}
