package ecsservice

import (
	"strings"

	"github.com/wharf-dev/wharf/internal/store"
)

// ServiceTags returns the tags of the service arn names
// (arn:aws:ecs:REGION:ACCOUNT:service/CLUSTER/NAME), for the authorizer's
// aws:ResourceTag and ecs:ResourceTag keys; nil when there is no such
// service.
func (s *Service) ServiceTags(arn string) (map[string]string, error) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[2] != "ecs" {
		return nil, nil
	}
	cluster, name, ok := strings.Cut(strings.TrimPrefix(parts[5], "service/"), "/")
	if !ok || !strings.HasPrefix(parts[5], "service/") {
		return nil, nil
	}
	var tags map[string]string
	err := s.st.View(func(tx store.Tx) error {
		r, err := s.load(tx, scope{parts[4], parts[3]}.key(cluster, name))
		if err != nil || r == nil {
			return err
		}
		for _, t := range r.Svc.Tags {
			if t.Key == nil {
				continue
			}
			if tags == nil {
				tags = map[string]string{}
			}
			tags[*t.Key] = ""
			if t.Value != nil {
				tags[*t.Key] = *t.Value
			}
		}
		return nil
	})
	return tags, err
}
