package logs

import (
	"strings"

	"github.com/wharf-dev/wharf/internal/store"
)

// GroupTags returns the tags of the log group arn names, for the
// authorizer's aws:ResourceTag keys; nil when there is no such group. A log
// stream's ARN (…:log-group:G:log-stream:S) gives its group's tags: the
// Service Authorization Reference lists aws:ResourceTag for the log-stream
// resource type, and only the group can be tagged.
func (s *Service) GroupTags(arn string) (map[string]string, error) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[2] != "logs" {
		return nil, nil
	}
	name, ok := strings.CutPrefix(parts[5], "log-group:")
	if !ok {
		return nil, nil
	}
	if i := strings.Index(name, ":log-stream:"); i >= 0 {
		name = name[:i]
	}
	name = strings.TrimSuffix(name, ":*")
	var g group
	err := s.st.View(func(tx store.Tx) error {
		_, err := getJSON(tx, groupKey(scope{parts[4], parts[3]}, name), &g)
		return err
	})
	return g.Tags, err
}
