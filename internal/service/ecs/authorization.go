package ecs

import (
	"strings"

	"github.com/wharf-dev/wharf/internal/apierr"
	ecsapi "github.com/wharf-dev/wharf/internal/awsapi/ecs"
	"github.com/wharf-dev/wharf/internal/store"
)

// ResourceTags returns the tags of the cluster, capacity provider, task
// definition or task arn names, for the authorizer's aws:ResourceTag and
// ecs:ResourceTag keys; nil when there is no such resource (the operation
// reports that itself). A task definition named by its family alone is its
// latest ACTIVE revision, the one ECS resolves it to before authorizing
// ("RunTask": the revision is resolved before authorization since March
// 2024).
func (s *Service) ResourceTags(arn string) (map[string]string, error) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[2] != "ecs" {
		return nil, nil
	}
	sc := scope{account: parts[4], region: parts[3]}
	var tags []ecsapi.Tag
	err := s.st.View(func(tx store.Tx) error {
		if id, ok := strings.CutPrefix(parts[5], "task-definition/"); ok {
			rec, _, err := s.findTaskDef(tx, sc, id)
			if apierr.As(err) != nil {
				return nil
			}
			if err != nil {
				return err
			}
			tags = rec.Tags
			return nil
		}
		key, err := s.resourceKey(tx, sc, arn)
		if err != nil {
			return nil // not a resource ECS tags
		}
		v, tp := taggedRecord(key)
		found, err := getJSON(tx, key, v)
		if found {
			tags = *tp
		}
		return err
	})
	return tagMap(tags), err
}

// tagMap is tags as a map, nil when there are none.
func tagMap(tags []ecsapi.Tag) map[string]string {
	if len(tags) == 0 {
		return nil
	}
	m := make(map[string]string, len(tags))
	for _, t := range tags {
		if t.Key != nil {
			m[*t.Key] = ""
			if t.Value != nil {
				m[*t.Key] = *t.Value
			}
		}
	}
	return m
}
