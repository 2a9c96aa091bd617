package sns

import (
	"context"
	"errors"

	"github.com/wharf-dev/wharf/internal/awsapi"
	snsapi "github.com/wharf-dev/wharf/internal/awsapi/sns"
	"github.com/wharf-dev/wharf/internal/grant"
	"github.com/wharf-dev/wharf/internal/store"
)

// permissionActions are the topic actions AddPermission may grant: those of
// the default topic policy, plus Receive and *.
var permissionActions = map[string]bool{
	"*": true, "AddPermission": true, "DeleteTopic": true, "GetTopicAttributes": true,
	"ListSubscriptionsByTopic": true, "Publish": true, "Receive": true, "RemovePermission": true,
	"SetTopicAttributes": true, "Subscribe": true,
}

// updatePolicy applies change to the topic's access policy (its default one
// when none was set) and stores the result.
func (s *Service) updatePolicy(arn string, change func(t *topic, policy string) (string, error)) error {
	if _, _, _, ok := parseTopicARN(arn); !ok {
		return errBadARN("TopicArn", arn)
	}
	return s.update(func(tx store.Tx) error {
		t, err := getTopic(tx, arn)
		if err != nil {
			return err
		}
		if t == nil {
			return errTopicNotFound()
		}
		p := t.Attrs["Policy"]
		if p == "" {
			p = defaultPolicy(t)
		}
		p, err = change(t, p)
		if err != nil {
			return err
		}
		if t.Attrs == nil {
			t.Attrs = map[string]string{}
		}
		t.Attrs["Policy"] = p
		return putTopic(tx, t)
	})
}

// AddPermission adds to the topic's access policy a statement, with the label
// as its Sid, allowing the accounts the actions on the topic.
func (s *Service) AddPermission(ctx context.Context, in *snsapi.AddPermissionInput) (*snsapi.AddPermissionOutput, error) {
	label := awsapi.ToString(in.Label)
	if !grant.ValidLabel(label) {
		return nil, errInvalidParameter("Label Reason: Label must be 1 to 80 alphanumeric characters, hyphens or underscores")
	}
	if len(in.AWSAccountId) == 0 {
		return nil, errInvalidParameter("AWSAccountId")
	}
	if len(in.ActionName) == 0 {
		return nil, errInvalidParameter("ActionName")
	}
	st := grant.Statement{Sid: label}
	for _, a := range in.AWSAccountId {
		st.Principals = append(st.Principals, "arn:aws:iam::"+a+":root")
	}
	for _, a := range in.ActionName {
		if !permissionActions[a] {
			return nil, errInvalidParameter("Policy statement action out of service scope!")
		}
		st.Actions = append(st.Actions, "SNS:"+a)
	}
	err := s.updatePolicy(awsapi.ToString(in.TopicArn), func(t *topic, policy string) (string, error) {
		st.Resource = t.ARN
		p, err := grant.Add(policy, "2012-10-17", "__default_policy_ID", st)
		if errors.Is(err, grant.ErrExists) {
			return "", errInvalidParameter("Statement already exists")
		}
		if err != nil {
			return "", errInvalidParameter("Policy Reason: the topic's policy is not a JSON object")
		}
		return p, nil
	})
	if err != nil {
		return nil, err
	}
	return &snsapi.AddPermissionOutput{}, nil
}

// RemovePermission removes the statement labelled Label from the topic's
// access policy. SNS answers success for a label no statement has.
func (s *Service) RemovePermission(ctx context.Context, in *snsapi.RemovePermissionInput) (*snsapi.RemovePermissionOutput, error) {
	label := awsapi.ToString(in.Label)
	if label == "" {
		return nil, errInvalidParameter("Label")
	}
	err := s.updatePolicy(awsapi.ToString(in.TopicArn), func(t *topic, policy string) (string, error) {
		p, _, err := grant.Remove(policy, label)
		if errors.Is(err, grant.ErrNotFound) {
			return policy, nil
		}
		if err != nil {
			return "", errInvalidParameter("Policy Reason: the topic's policy is not a JSON object")
		}
		return p, nil
	})
	if err != nil {
		return nil, err
	}
	return &snsapi.RemovePermissionOutput{}, nil
}
