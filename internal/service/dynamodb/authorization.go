package dynamodb

import (
	"strings"

	"github.com/wharf-dev/wharf/internal/apierr"
	"github.com/wharf-dev/wharf/internal/store"
)

// TableAuthorization returns, for the authorizer, the resource-based policy
// ("" when none) and the tags of the table that arn names: the table itself,
// one of its indexes (table/T/index/I) or its stream, which the table's
// policy also governs ("Using resource-based policies for DynamoDB").
// found is false when there is no such table.
func (s *Service) TableAuthorization(arn string) (policy string, tags map[string]string, found bool, err error) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[2] != "dynamodb" || !strings.HasPrefix(parts[5], "table/") {
		return "", nil, false, nil
	}
	name, _, _ := strings.Cut(strings.TrimPrefix(parts[5], "table/"), "/")
	err = s.st.View(func(tx store.Tx) error {
		t, err := loadTable(tx, parts[4], parts[3], name)
		if e := apierr.As(err); e != nil && e.Code == "ResourceNotFoundException" {
			return nil
		}
		if err != nil {
			return err
		}
		found, tags = true, t.Tags
		p, err := loadPolicy(tx, t)
		if err != nil || p == nil {
			return err
		}
		policy = p.Document
		return nil
	})
	return policy, tags, found, err
}
