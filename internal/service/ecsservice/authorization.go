package ecsservice

import (
	"strings"

	"github.com/wharf-dev/wharf/internal/awsapi"
	ecsapi "github.com/wharf-dev/wharf/internal/awsapi/ecs"
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

// UpdateServiceTags lets fn change the tags of the service arn names, for
// ECS's TagResource, UntagResource and ListTagsForResource (whose other
// resources live in the ecs package); fn nil only reads them. found is
// false when there is no such service in account and region.
func (s *Service) UpdateServiceTags(account, region, arn string, fn func(*[]ecsapi.Tag)) (tags []ecsapi.Tag, found bool, err error) {
	sc := scope{account, region}
	rest, ok := strings.CutPrefix(arn, sc.arn("service/"))
	cluster, name, long := strings.Cut(rest, "/")
	if !ok || !long {
		return nil, false, nil
	}
	key := sc.key(cluster, name)
	defer s.lock(key)()
	err = s.st.Update(func(tx store.Tx) error {
		r, err := s.load(tx, key)
		if err != nil || r == nil || awsapi.ToString(r.Svc.Status) == "INACTIVE" {
			return err
		}
		found = true
		if fn == nil {
			tags = r.Svc.Tags
			return nil
		}
		fn(&r.Svc.Tags)
		tags = r.Svc.Tags
		return save(tx, r)
	})
	return tags, found, err
}
