package cloudwatch

import (
	"strings"

	"github.com/wharf-dev/wharf/internal/store"
)

// AlarmTags returns the tags of the alarm arn names, for the authorizer's
// aws:ResourceTag keys; nil when there is no such alarm.
func (s *Service) AlarmTags(arn string) (map[string]string, error) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[2] != "cloudwatch" {
		return nil, nil
	}
	name, ok := strings.CutPrefix(parts[5], "alarm:")
	if !ok || name == "*" {
		return nil, nil
	}
	var tags map[string]string
	err := s.st.View(func(tx store.Tx) error {
		a, err := s.readAlarm(tx, scope{parts[4], parts[3]}, name)
		if err != nil || a == nil {
			return err
		}
		tags = a.Tags
		return nil
	})
	return tags, err
}
