package sns

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"sort"
	"strconv"
	"strings"

	"github.com/wharf-dev/wharf/internal/apierr"
	"github.com/wharf-dev/wharf/internal/awsapi"
	snsapi "github.com/wharf-dev/wharf/internal/awsapi/sns"
	"github.com/wharf-dev/wharf/internal/lazyregexp"
	"github.com/wharf-dev/wharf/internal/store"
)

// topic is a topic as stored.
type topic struct {
	ARN     string
	Name    string
	Account string
	Region  string
	Attrs   map[string]string `json:",omitempty"` // the attributes set by the owner
	Tags    map[string]string `json:",omitempty"`
	// Deleted counts the subscriptions removed (SubscriptionsDeleted).
	Deleted int64 `json:",omitempty"`
}

func (t *topic) fifo() bool { return t.Attrs["FifoTopic"] == "true" }

// topicAttrs are the attributes CreateTopic and SetTopicAttributes accept
// (CreateTopic, SetTopicAttributes API reference).
var topicAttrs = map[string]bool{
	"DeliveryPolicy": true, "DisplayName": true, "FifoTopic": true, "Policy": true,
	"SignatureVersion": true, "TracingConfig": true, "KmsMasterKeyId": true,
	"ContentBasedDeduplication": true, "ArchivePolicy": true, "FifoThroughputScope": true,
	"DataProtectionPolicy": true,
	// Per-protocol delivery status logging attributes.
	"HTTPSuccessFeedbackRoleArn": true, "HTTPFailureFeedbackRoleArn": true, "HTTPSuccessFeedbackSampleRate": true,
	"SQSSuccessFeedbackRoleArn": true, "SQSFailureFeedbackRoleArn": true, "SQSSuccessFeedbackSampleRate": true,
	"LambdaSuccessFeedbackRoleArn": true, "LambdaFailureFeedbackRoleArn": true, "LambdaSuccessFeedbackSampleRate": true,
	"FirehoseSuccessFeedbackRoleArn": true, "FirehoseFailureFeedbackRoleArn": true, "FirehoseSuccessFeedbackSampleRate": true,
	"ApplicationSuccessFeedbackRoleArn": true, "ApplicationFailureFeedbackRoleArn": true, "ApplicationSuccessFeedbackSampleRate": true,
}

var topicNameRE = lazyregexp.New(`^[A-Za-z0-9_-]{1,256}$`)

// validTopicName: 1 to 256 letters, digits, hyphens and underscores; a FIFO
// topic's name ends in ".fifo" (CreateTopic API reference).
func validTopicName(name string, fifo bool) bool {
	if fifo {
		if !strings.HasSuffix(name, ".fifo") || len(name) > 256 {
			return false
		}
		name = strings.TrimSuffix(name, ".fifo")
	}
	return topicNameRE.MatchString(name)
}

// checkTopicAttr validates one attribute value and returns it normalized.
func checkTopicAttr(name, value string, creating bool) (string, error) {
	if !topicAttrs[name] {
		if creating {
			return "", errInvalidParameter("Attributes Reason: Unknown attribute %s", name)
		}
		return "", errInvalidParameter("AttributeName")
	}
	switch name {
	case "FifoTopic", "ContentBasedDeduplication":
		b, err := strconv.ParseBool(value)
		if err != nil {
			return "", errInvalidParameter("Attributes Reason: %s: Invalid value [%s] for %s", name, value, name)
		}
		return strconv.FormatBool(b), nil
	case "Policy", "DeliveryPolicy", "ArchivePolicy", "DataProtectionPolicy":
		if value != "" && !json.Valid([]byte(value)) {
			return "", errInvalidParameter("Attributes Reason: %s: failed to parse JSON.", name)
		}
	case "SignatureVersion":
		if value != "1" && value != "2" {
			return "", errInvalidParameter("Attributes Reason: SignatureVersion: Invalid value [%s]. Valid values are 1, 2.", value)
		}
	case "TracingConfig":
		if value != "PassThrough" && value != "Active" {
			return "", errInvalidParameter("Attributes Reason: TracingConfig: Invalid value [%s]. Valid values are PassThrough, Active.", value)
		}
	case "DisplayName":
		if len(value) > 100 {
			return "", errInvalidParameter("DisplayName")
		}
	}
	return value, nil
}

func tagsMap(tags []snsapi.Tag) (map[string]string, error) {
	if len(tags) == 0 {
		return nil, nil
	}
	m := make(map[string]string, len(tags))
	for _, t := range tags {
		k := awsapi.ToString(t.Key)
		if k == "" || len(k) > 128 {
			return nil, errInvalidParameter("Tags Reason: Tag key must be between 1 and 128 characters")
		}
		if t.Value == nil || len(*t.Value) > 256 {
			return nil, errInvalidParameter("Tags Reason: Tag value must be between 0 and 256 characters")
		}
		if _, dup := m[k]; dup {
			return nil, errInvalidParameter("Duplicated keys are not allowed.")
		}
		m[k] = *t.Value
	}
	return m, nil
}

func getTopic(tx store.Tx, arn string) (*topic, error) {
	k, ok := topicKeyOfARN(arn)
	if !ok {
		return nil, nil
	}
	v, err := tx.Get(k)
	if err != nil || v == nil {
		return nil, err
	}
	t := &topic{}
	if err := json.Unmarshal(v, t); err != nil {
		return nil, fmt.Errorf("decode topic: %w", err)
	}
	return t, nil
}

func putTopic(tx store.Tx, t *topic) error {
	b, err := json.Marshal(t)
	if err != nil {
		return err
	}
	return tx.Put(topicKey(t.Account, t.Region, t.Name), b)
}

// update runs fn in a store transaction and drops the publish cache after it,
// since fn may have changed a topic or its subscriptions.
func (s *Service) update(fn func(tx store.Tx) error) error {
	err := s.st.Update(fn)
	s.cacheMu.Lock()
	s.gen++
	clear(s.views)
	s.cacheMu.Unlock()
	return err
}

// CreateTopic creates a topic, or returns the ARN of the existing one when it
// has the same attributes and tags (CreateTopic is idempotent).
func (s *Service) CreateTopic(ctx context.Context, in *snsapi.CreateTopicInput) (*snsapi.CreateTopicOutput, error) {
	c := awsapi.CallerFrom(ctx)
	name := awsapi.ToString(in.Name)
	attrs := map[string]string{}
	for k, v := range in.Attributes {
		nv, err := checkTopicAttr(k, v, true)
		if err != nil {
			return nil, err
		}
		attrs[k] = nv
	}
	if in.DataProtectionPolicy != nil {
		attrs["DataProtectionPolicy"] = *in.DataProtectionPolicy
	}
	fifo := attrs["FifoTopic"] == "true"
	if attrs["FifoTopic"] == "false" {
		delete(attrs, "FifoTopic")
	}
	if fifo || strings.HasSuffix(name, ".fifo") {
		if !fifo || !validTopicName(name, true) {
			return nil, errInvalidParameter("Fifo Topic names must end with .fifo and must be made up of only uppercase and lowercase ASCII letters, numbers, underscores, and hyphens, and must be between 1 and 256 characters long.")
		}
	} else if !validTopicName(name, false) {
		return nil, errInvalidParameter("Topic Name")
	}
	if !fifo {
		if _, ok := attrs["ContentBasedDeduplication"]; ok {
			return nil, errInvalidParameter("Attributes Reason: ContentBasedDeduplication: Content based deduplication can only be set for FIFO topics")
		}
	}
	tags, err := tagsMap(in.Tags)
	if err != nil {
		return nil, err
	}
	if len(tags) > 50 {
		return nil, errTagLimit()
	}
	t := &topic{ARN: topicARN(c.Region, c.Account, name), Name: name, Account: c.Account, Region: c.Region, Attrs: attrs, Tags: tags}
	err = s.update(func(tx store.Tx) error {
		cur, err := getTopic(tx, t.ARN)
		if err != nil {
			return err
		}
		if cur != nil {
			for k, v := range attrs {
				if cur.Attrs[k] != v {
					return errInvalidParameter("Attributes Reason: Topic already exists with different attributes")
				}
			}
			for k, v := range tags {
				if cur.Tags[k] != v {
					return errInvalidParameter("Tags Reason: Topic already exists with different tags")
				}
			}
			return nil
		}
		return putTopic(tx, t)
	})
	if err != nil {
		return nil, err
	}
	return &snsapi.CreateTopicOutput{TopicArn: &t.ARN}, nil
}

// DeleteTopic deletes a topic and its subscriptions. Deleting a topic that
// does not exist is not an error (DeleteTopic API reference).
func (s *Service) DeleteTopic(ctx context.Context, in *snsapi.DeleteTopicInput) (*snsapi.DeleteTopicOutput, error) {
	arn := awsapi.ToString(in.TopicArn)
	k, ok := topicKeyOfARN(arn)
	if !ok {
		return nil, errBadARN("TopicArn", arn)
	}
	err := s.update(func(tx store.Tx) error {
		var subs []*subscription
		if err := scanSubs(tx, subPrefix(arn), nil, func(sub *subscription) bool {
			subs = append(subs, sub)
			return true
		}); err != nil {
			return err
		}
		for _, sub := range subs {
			if err := deleteSub(tx, sub); err != nil {
				return err
			}
		}
		return tx.Delete(k)
	})
	if err != nil {
		return nil, err
	}
	return &snsapi.DeleteTopicOutput{}, nil
}

// listPage is the number of items ListTopics and ListSubscriptions return at once.
const listPage = 100

// ListTopics lists the caller's topics in its region, 100 at a time.
func (s *Service) ListTopics(ctx context.Context, in *snsapi.ListTopicsInput) (*snsapi.ListTopicsOutput, error) {
	c := awsapi.CallerFrom(ctx)
	prefix := topicPrefix(c.Account, c.Region)
	start, err := decodeToken(in.NextToken, prefix)
	if err != nil {
		return nil, err
	}
	out := &snsapi.ListTopicsOutput{Topics: []snsapi.Topic{}}
	err = s.st.View(func(tx store.Tx) error {
		return tx.Scan(prefix, start, func(k, v []byte) (bool, error) {
			if len(out.Topics) == listPage {
				out.NextToken = awsapi.String(encodeToken(k))
				return false, nil
			}
			t := &topic{}
			if err := json.Unmarshal(v, t); err != nil {
				return false, err
			}
			out.Topics = append(out.Topics, snsapi.Topic{TopicArn: awsapi.String(t.ARN)})
			return true, nil
		})
	})
	return out, err
}

// NextToken is the key to resume at, opaque to clients.
func encodeToken(k []byte) string { return base64.RawURLEncoding.EncodeToString(k) }

func decodeToken(tok *string, prefix []byte) ([]byte, error) {
	if tok == nil || *tok == "" {
		return nil, nil
	}
	k, err := base64.RawURLEncoding.DecodeString(*tok)
	if err != nil || !strings.HasPrefix(string(k), string(prefix)) {
		return nil, errInvalidParameter("NextToken")
	}
	return k, nil
}

func (s *Service) viewTopic(arn string) (*topic, error) {
	if _, _, _, ok := parseTopicARN(arn); !ok {
		return nil, errBadARN("TopicArn", arn)
	}
	var t *topic
	err := s.st.View(func(tx store.Tx) error {
		var err error
		t, err = getTopic(tx, arn)
		return err
	})
	if err == nil && t == nil {
		err = errTopicNotFound()
	}
	return t, err
}

// defaultPolicy is the access policy AWS gives a new topic: its owner's
// account may do everything.
func defaultPolicy(t *topic) string {
	return `{"Version":"2008-10-17","Id":"__default_policy_ID","Statement":[{"Sid":"__default_statement_ID","Effect":"Allow","Principal":{"AWS":"*"},"Action":["SNS:GetTopicAttributes","SNS:SetTopicAttributes","SNS:AddPermission","SNS:RemovePermission","SNS:DeleteTopic","SNS:Subscribe","SNS:ListSubscriptionsByTopic","SNS:Publish"],"Resource":"` +
		t.ARN + `","Condition":{"StringEquals":{"AWS:SourceOwner":"` + t.Account + `"}}}]}`
}

// defaultDeliveryPolicy is AWS's EffectiveDeliveryPolicy of a topic with none set.
const defaultDeliveryPolicy = `{"http":{"defaultHealthyRetryPolicy":{"minDelayTarget":20,"maxDelayTarget":20,"numRetries":3,"numMaxDelayRetries":0,"numNoDelayRetries":0,"numMinDelayRetries":0,"backoffFunction":"linear"},"disableSubscriptionOverrides":false,"defaultRequestPolicy":{"headerContentType":"text/plain; charset=UTF-8"}}}`

// GetTopicAttributes returns a topic's attributes, with the ones AWS computes.
func (s *Service) GetTopicAttributes(ctx context.Context, in *snsapi.GetTopicAttributesInput) (*snsapi.GetTopicAttributesOutput, error) {
	arn := awsapi.ToString(in.TopicArn)
	if _, _, _, ok := parseTopicARN(arn); !ok {
		return nil, errBadARN("TopicArn", arn)
	}
	var t *topic
	var pending, confirmed int
	err := s.st.View(func(tx store.Tx) error {
		var err error
		if t, err = getTopic(tx, arn); err != nil || t == nil {
			return err
		}
		return scanSubs(tx, subPrefix(arn), nil, func(sub *subscription) bool {
			if sub.Pending {
				pending++
			} else {
				confirmed++
			}
			return true
		})
	})
	if err != nil {
		return nil, err
	}
	if t == nil {
		return nil, errTopicNotFound()
	}
	a := map[string]string{
		"TopicArn":                t.ARN,
		"Owner":                   t.Account,
		"Policy":                  defaultPolicy(t),
		"DisplayName":             "",
		"SubscriptionsPending":    strconv.Itoa(pending),
		"SubscriptionsConfirmed":  strconv.Itoa(confirmed),
		"SubscriptionsDeleted":    strconv.FormatInt(t.Deleted, 10),
		"EffectiveDeliveryPolicy": defaultDeliveryPolicy,
	}
	if t.fifo() {
		a["FifoTopic"] = "true"
		a["ContentBasedDeduplication"] = "false"
	}
	maps.Copy(a, t.Attrs)
	if dp := t.Attrs["DeliveryPolicy"]; dp != "" {
		a["EffectiveDeliveryPolicy"] = dp
	}
	return &snsapi.GetTopicAttributesOutput{Attributes: a}, nil
}

// SetTopicAttributes sets one attribute of a topic. FifoTopic cannot change.
func (s *Service) SetTopicAttributes(ctx context.Context, in *snsapi.SetTopicAttributesInput) (*snsapi.SetTopicAttributesOutput, error) {
	arn := awsapi.ToString(in.TopicArn)
	if _, _, _, ok := parseTopicARN(arn); !ok {
		return nil, errBadARN("TopicArn", arn)
	}
	name := awsapi.ToString(in.AttributeName)
	value, err := checkTopicAttr(name, awsapi.ToString(in.AttributeValue), false)
	if err != nil {
		return nil, err
	}
	err = s.update(func(tx store.Tx) error {
		t, err := getTopic(tx, arn)
		if err != nil {
			return err
		}
		if t == nil {
			return errTopicNotFound()
		}
		switch {
		case name == "FifoTopic":
			return errInvalidParameter("AttributeName Reason: FifoTopic: Topic type cannot be changed")
		case name == "ContentBasedDeduplication" && !t.fifo():
			return errInvalidParameter("AttributeName Reason: ContentBasedDeduplication: Content based deduplication can only be set for FIFO topics")
		}
		if t.Attrs == nil {
			t.Attrs = map[string]string{}
		}
		if value == "" && name != "DisplayName" {
			delete(t.Attrs, name)
		} else {
			t.Attrs[name] = value
		}
		return putTopic(tx, t)
	})
	if err != nil {
		return nil, err
	}
	return &snsapi.SetTopicAttributesOutput{}, nil
}

func errTagLimit() error {
	return snsapi.ErrTagLimitExceededException("Could not complete request: tag quota of per resource exceeded")
}

// TagResource adds or replaces tags of a topic.
func (s *Service) TagResource(ctx context.Context, in *snsapi.TagResourceInput) (*snsapi.TagResourceOutput, error) {
	tags, err := tagsMap(in.Tags)
	if err != nil {
		return nil, err
	}
	err = s.retag(awsapi.ToString(in.ResourceArn), func(t *topic) error {
		if t.Tags == nil {
			t.Tags = map[string]string{}
		}
		maps.Copy(t.Tags, tags)
		if len(t.Tags) > 50 {
			return errTagLimit()
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &snsapi.TagResourceOutput{}, nil
}

// UntagResource removes tags from a topic.
func (s *Service) UntagResource(ctx context.Context, in *snsapi.UntagResourceInput) (*snsapi.UntagResourceOutput, error) {
	err := s.retag(awsapi.ToString(in.ResourceArn), func(t *topic) error {
		for _, k := range in.TagKeys {
			delete(t.Tags, k)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &snsapi.UntagResourceOutput{}, nil
}

func (s *Service) retag(arn string, fn func(*topic) error) error {
	if _, _, _, ok := parseTopicARN(arn); !ok {
		return errResourceNotFound()
	}
	return s.update(func(tx store.Tx) error {
		t, err := getTopic(tx, arn)
		if err != nil {
			return err
		}
		if t == nil {
			return errResourceNotFound()
		}
		if err := fn(t); err != nil {
			return err
		}
		return putTopic(tx, t)
	})
}

// ListTagsForResource lists a topic's tags, sorted by key.
func (s *Service) ListTagsForResource(ctx context.Context, in *snsapi.ListTagsForResourceInput) (*snsapi.ListTagsForResourceOutput, error) {
	arn := awsapi.ToString(in.ResourceArn)
	if _, _, _, ok := parseTopicARN(arn); !ok {
		return nil, errResourceNotFound()
	}
	t, err := s.viewTopic(arn)
	if err != nil {
		if e := apierr.As(err); e != nil && e.Code == "NotFoundException" {
			return nil, errResourceNotFound()
		}
		return nil, err
	}
	keys := make([]string, 0, len(t.Tags))
	for k := range t.Tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := &snsapi.ListTagsForResourceOutput{Tags: []snsapi.Tag{}}
	for _, k := range keys {
		out.Tags = append(out.Tags, snsapi.Tag{Key: awsapi.String(k), Value: awsapi.String(t.Tags[k])})
	}
	return out, nil
}
