package sqs

import (
	"context"
	"errors"

	"github.com/wharf-dev/wharf/internal/accountid"
	"github.com/wharf-dev/wharf/internal/awsapi"
	sqsapi "github.com/wharf-dev/wharf/internal/awsapi/sqs"
	"github.com/wharf-dev/wharf/internal/grant"
	"github.com/wharf-dev/wharf/internal/store"
)

// permissionActions are the action names AddPermission accepts (AddPermission
// API reference: "the name of any action or *"; the owner-only actions that
// manage the queue itself cannot be shared this way).
var permissionActions = map[string]bool{
	"*": true, "ChangeMessageVisibility": true, "DeleteMessage": true, "GetQueueAttributes": true,
	"GetQueueUrl": true, "ListDeadLetterSourceQueues": true, "ListQueueTags": true,
	"PurgeQueue": true, "ReceiveMessage": true, "SendMessage": true,
}

// AddPermission adds to the queue's Policy a statement, with the label as its
// Sid, allowing the accounts the actions on the queue.
func (s *Service) AddPermission(ctx context.Context, in *sqsapi.AddPermissionInput) (*sqsapi.AddPermissionOutput, error) {
	r, err := s.ref(ctx, in.QueueUrl)
	if err != nil {
		return nil, err
	}
	label := awsapi.ToString(in.Label)
	if label == "" {
		return nil, errMissingParameter("Label")
	}
	if !grant.ValidLabel(label) {
		return nil, errInvalidParameter("Value %s for parameter Label is invalid. Reason: Must be between 1 and 80 characters long and may contain only alphanumeric characters, hyphens (-), and underscores (_).", label)
	}
	if len(in.AWSAccountIds) == 0 {
		return nil, errMissingParameter("AWSAccountIds")
	}
	if len(in.Actions) == 0 {
		return nil, errMissingParameter("Actions")
	}
	// An SQS policy statement holds at most seven actions (AddPermission API reference).
	if len(in.Actions) > 7 {
		return nil, sqsapi.ErrOverLimit("%d Actions were found, maximum allowed is 7.", len(in.Actions))
	}
	st := grant.Statement{Sid: label}
	for _, a := range in.AWSAccountIds {
		if !accountid.Valid(a) {
			return nil, errInvalidParameter("Value %s for parameter PrincipalId is invalid. Reason: Unable to verify principal.", a)
		}
		st.Principals = append(st.Principals, "arn:aws:iam::"+a+":root")
	}
	for _, a := range in.Actions {
		if !permissionActions[a] {
			return nil, errInvalidParameter("Value SQS:%s for parameter ActionName is invalid. Reason: Please refer to the appropriate WSDL for a list of valid actions.", a)
		}
		st.Actions = append(st.Actions, "SQS:"+a)
	}
	err = s.updateQueue(func(tx store.Tx) error {
		q, err := s.getQueueForUpdate(tx, r.account, r.region, r.name)
		if err != nil {
			return err
		}
		st.Resource = q.arn()
		p, err := grant.Add(q.Attrs["Policy"], "2012-10-17", q.arn()+"/SQSDefaultPolicy", st)
		if errors.Is(err, grant.ErrExists) {
			return errInvalidParameter("Value %s for parameter Label is invalid. Reason: Already exists.", label)
		}
		if err != nil {
			return errInvalidAttributeValue("Policy", "The queue's policy is not a valid JSON object.")
		}
		q.Attrs["Policy"] = p
		q.Modified = s.clock.Now().Unix()
		return putQueue(tx, q)
	})
	if err != nil {
		return nil, err
	}
	return &sqsapi.AddPermissionOutput{}, nil
}

// RemovePermission removes the statement labelled Label from the queue's
// Policy, and the Policy itself when no statement is left.
func (s *Service) RemovePermission(ctx context.Context, in *sqsapi.RemovePermissionInput) (*sqsapi.RemovePermissionOutput, error) {
	r, err := s.ref(ctx, in.QueueUrl)
	if err != nil {
		return nil, err
	}
	label := awsapi.ToString(in.Label)
	if label == "" {
		return nil, errMissingParameter("Label")
	}
	err = s.updateQueue(func(tx store.Tx) error {
		q, err := s.getQueueForUpdate(tx, r.account, r.region, r.name)
		if err != nil {
			return err
		}
		p, empty, err := grant.Remove(q.Attrs["Policy"], label)
		if errors.Is(err, grant.ErrNotFound) || errors.Is(err, grant.ErrBadPolicy) {
			return errInvalidParameter("Value %s for parameter Label is invalid. Reason: can't find label on existing policy.", label)
		}
		if err != nil {
			return err
		}
		if empty {
			delete(q.Attrs, "Policy")
		} else {
			q.Attrs["Policy"] = p
		}
		q.Modified = s.clock.Now().Unix()
		return putQueue(tx, q)
	})
	if err != nil {
		return nil, err
	}
	return &sqsapi.RemovePermissionOutput{}, nil
}
