package sns

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/mail"
	"strconv"
	"strings"
	"time"

	"github.com/wharf-dev/wharf/internal/apierr"
	"github.com/wharf-dev/wharf/internal/awsapi"
	snsapi "github.com/wharf-dev/wharf/internal/awsapi/sns"
	"github.com/wharf-dev/wharf/internal/lazyregexp"
	"github.com/wharf-dev/wharf/internal/store"
)

// subscription is a subscription as stored.
type subscription struct {
	ARN      string
	TopicARN string
	Owner    string
	Protocol string
	Endpoint string
	Attrs    map[string]string `json:",omitempty"`
	// Pending is true until the endpoint's owner confirms with Token.
	Pending       bool   `json:",omitempty"`
	Token         string `json:",omitempty"`
	TokenExpires  int64  `json:",omitempty"` // unix ms
	Authenticated bool   `json:",omitempty"` // ConfirmationWasAuthenticated
}

func (s *subscription) raw() bool { return s.Attrs["RawMessageDelivery"] == "true" }

// pendingARN is what Subscribe and the List operations show for an
// unconfirmed subscription's ARN.
const (
	pendingSubscribe = "pending confirmation"
	pendingList      = "PendingConfirmation"
)

// tokenLifetime: a confirmation token is valid for three days (Subscribe API reference).
const tokenLifetime = 3 * 24 * time.Hour

// subAttrs are the attributes Subscribe and SetSubscriptionAttributes accept.
var subAttrs = map[string]bool{
	"DeliveryPolicy": true, "FilterPolicy": true, "FilterPolicyScope": true,
	"RawMessageDelivery": true, "RedrivePolicy": true, "SubscriptionRoleArn": true,
	"ReplayPolicy": true,
}

// protocols are the subscription protocols SNS has; those wharf does not
// deliver to (lambda, application, firehose, sms) are accepted and recorded.
var protocols = map[string]bool{
	"http": true, "https": true, "email": true, "email-json": true, "sms": true,
	"sqs": true, "application": true, "lambda": true, "firehose": true,
}

// needsConfirmation: endpoints outside the account prove they want messages
// (Subscribe API reference).
func needsConfirmation(protocol string) bool {
	switch protocol {
	case "http", "https", "email", "email-json":
		return true
	}
	return false
}

var phoneRE = lazyregexp.New(`^\+?[0-9]{1,15}$`)

func checkEndpoint(protocol, endpoint string) error {
	switch protocol {
	case "http", "https":
		if !strings.HasPrefix(strings.ToLower(endpoint), protocol+"://") || len(endpoint) <= len(protocol)+3 {
			return errInvalidParameter("Endpoint must match the specified protocol")
		}
	case "email", "email-json":
		if _, err := mail.ParseAddress(endpoint); err != nil || !strings.Contains(endpoint, "@") {
			return errInvalidParameter("Email address")
		}
	case "sqs":
		p := strings.Split(endpoint, ":")
		if len(p) != 6 || p[0] != "arn" || p[2] != "sqs" || p[5] == "" {
			return errInvalidParameter("SQS endpoint ARN")
		}
	case "lambda":
		if !strings.HasPrefix(endpoint, "arn:") || !strings.Contains(endpoint, ":lambda:") {
			return errInvalidParameter("Lambda endpoint ARN")
		}
	case "firehose":
		if !strings.HasPrefix(endpoint, "arn:") || !strings.Contains(endpoint, ":firehose:") {
			return errInvalidParameter("Firehose endpoint ARN")
		}
	case "application":
		if !strings.HasPrefix(endpoint, "arn:") {
			return errInvalidParameter("Application endpoint ARN")
		}
	case "sms":
		if !phoneRE.MatchString(strings.ReplaceAll(endpoint, "-", "")) {
			return errInvalidParameter("Invalid SMS endpoint: %s", endpoint)
		}
	}
	return nil
}

// subTarget is what a subscription attribute is judged against: the
// subscription's protocol, topic and endpoint.
type subTarget struct{ protocol, topic, endpoint string }

// checkSubAttr validates one subscription attribute for a subscription, in
// SetSubscriptionAttributes' words (Subscribe's add "Attributes Reason: ",
// inSubscribe).
func checkSubAttr(st subTarget, name, value string, attrs map[string]string) (string, error) {
	protocol := st.protocol
	if !subAttrs[name] {
		return "", errInvalidParameter("AttributeName")
	}
	switch name {
	case "RawMessageDelivery":
		b, err := strconv.ParseBool(value)
		if err != nil {
			return "", errInvalidParameter("RawMessageDelivery: Invalid value [%s]. Must be true or false.", value)
		}
		switch protocol {
		case "sqs", "http", "https", "firehose":
		default:
			if b {
				return "", errInvalidParameter("Delivery protocol [%s] does not support raw message delivery.", protocol)
			}
		}
		return strconv.FormatBool(b), nil
	case "FilterPolicyScope":
		if value != scopeAttributes && value != scopeBody {
			return "", errInvalidParameter("FilterPolicyScope: Invalid value [%s]. Please use either MessageBody or MessageAttributes", value)
		}
	case "FilterPolicy":
		if value == "" {
			return "", nil
		}
		scope := attrs["FilterPolicyScope"]
		if _, err := compileFilter(value, scope); err != nil {
			return "", err
		}
	case "DeliveryPolicy", "RedrivePolicy", "ReplayPolicy":
		if value != "" && !json.Valid([]byte(value)) {
			return "", errInvalidParameter("%s: failed to parse JSON.", name)
		}
		if name == "RedrivePolicy" && value != "" {
			var rp struct {
				DeadLetterTargetArn string `json:"deadLetterTargetArn"`
			}
			_ = json.Unmarshal([]byte(value), &rp)
			parts := strings.SplitN(rp.DeadLetterTargetArn, ":", 6)
			if len(parts) != 6 || parts[0] != "arn" || parts[2] == "" || parts[5] == "" {
				return "", errInvalidParameter("RedrivePolicy: deadLetterTargetArn is an invalid arn")
			}
			if strings.HasSuffix(st.topic, ".fifo") && strings.HasSuffix(st.endpoint, ".fifo") && (parts[2] != "sqs" || !strings.HasSuffix(parts[5], ".fifo")) {
				return "", errInvalidParameter("RedrivePolicy: must use a FIFO queue as DLQ for a FIFO Subscription to a FIFO Topic.")
			}
		}
	}
	return value, nil
}

// inSubscribe words a subscription attribute's InvalidParameter as
// Subscribe does: "Invalid parameter: Attributes Reason: ..." where
// SetSubscriptionAttributes says "Invalid parameter: ..." (SNS's recorded
// answers to both).
func inSubscribe(err error) error {
	ae := apierr.As(err)
	if ae == nil {
		return err
	}
	rest, ok := strings.CutPrefix(ae.Message, "Invalid parameter: ")
	if !ok || strings.HasPrefix(rest, "Attributes Reason: ") {
		return err
	}
	c := *ae
	c.Message = "Invalid parameter: Attributes Reason: " + rest
	return &c
}

// checkSubAttrs validates a Subscribe's attributes together, since the
// filter policy's scope decides how the policy is read.
func checkSubAttrs(st subTarget, in map[string]string) (map[string]string, error) {
	out := map[string]string{}
	if sc, ok := in["FilterPolicyScope"]; ok {
		v, err := checkSubAttr(st, "FilterPolicyScope", sc, in)
		if err != nil {
			return nil, inSubscribe(err)
		}
		out["FilterPolicyScope"] = v
	}
	for k, v := range in {
		if k == "FilterPolicyScope" {
			continue
		}
		nv, err := checkSubAttr(st, k, v, out)
		if err != nil {
			return nil, inSubscribe(err)
		}
		if nv != "" {
			out[k] = nv
		}
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

func getSub(tx store.Tx, arn string) (*subscription, error) {
	if _, _, ok := parseSubscriptionARN(arn); !ok {
		return nil, nil
	}
	v, err := tx.Get(subKey(arn))
	if err != nil || v == nil {
		return nil, err
	}
	sub := &subscription{}
	if err := json.Unmarshal(v, sub); err != nil {
		return nil, fmt.Errorf("decode subscription: %w", err)
	}
	return sub, nil
}

func putSub(tx store.Tx, sub *subscription) error {
	b, err := json.Marshal(sub)
	if err != nil {
		return err
	}
	return tx.Put(subKey(sub.ARN), b)
}

func deleteSub(tx store.Tx, sub *subscription) error {
	if sub.Token != "" {
		if err := tx.Delete(tokenKey(sub.Token)); err != nil {
			return err
		}
	}
	return tx.Delete(subKey(sub.ARN))
}

// scanSubs calls fn for each subscription under prefix from start, in key order.
func scanSubs(tx store.Tx, prefix, start []byte, fn func(*subscription) bool) error {
	return tx.Scan(prefix, start, func(k, v []byte) (bool, error) {
		sub := &subscription{}
		if err := json.Unmarshal(v, sub); err != nil {
			return false, fmt.Errorf("decode subscription: %w", err)
		}
		return fn(sub), nil
	})
}

// Subscribe subscribes an endpoint to a topic. SQS queues are confirmed at
// once; HTTP/HTTPS and email endpoints get a SubscriptionConfirmation message
// and stay pending until ConfirmSubscription. Subscribing the same endpoint
// again returns the existing subscription.
func (s *Service) Subscribe(ctx context.Context, in *snsapi.SubscribeInput) (*snsapi.SubscribeOutput, error) {
	c := awsapi.CallerFrom(ctx)
	tarn := awsapi.ToString(in.TopicArn)
	// SNS looks the topic up before it judges the protocol and endpoint: a
	// subscription of anything to a missing topic is NotFound.
	if _, err := s.viewTopic(tarn); err != nil {
		return nil, err
	}
	protocol := awsapi.ToString(in.Protocol)
	if !protocols[protocol] {
		return nil, errInvalidParameter("Amazon SNS does not support this protocol string: %s", protocol)
	}
	endpoint := awsapi.ToString(in.Endpoint)
	if err := checkEndpoint(protocol, endpoint); err != nil {
		return nil, err
	}
	attrs, err := checkSubAttrs(subTarget{protocol, tarn, endpoint}, in.Attributes)
	if err != nil {
		return nil, err
	}
	if protocol == "firehose" && attrs["SubscriptionRoleArn"] == "" {
		return nil, errInvalidParameter("Attributes Reason: SubscriptionRoleArn is required for firehose subscriptions")
	}
	sub := &subscription{
		ARN: tarn + ":" + s.newID(), TopicARN: tarn, Owner: c.Account,
		Protocol: protocol, Endpoint: endpoint, Attrs: attrs, Pending: needsConfirmation(protocol),
	}
	now := s.clock.Now()
	host := s.hostOf(ctx)
	queued := false
	err = s.update(func(tx store.Tx) error {
		t, err := getTopic(tx, tarn)
		if err != nil {
			return err
		}
		if t == nil {
			return errTopicNotFound()
		}
		if t.fifo() && protocol != "sqs" {
			return errInvalidParameter("Invalid protocol type: %s", protocol)
		}
		if !t.fifo() && protocol == "sqs" && strings.HasSuffix(endpoint, ".fifo") {
			// AWS's message repeats its prefix, and SDKs show it so.
			return errInvalidParameter("Invalid parameter: Endpoint Reason: FIFO SQS Queues can not be subscribed to standard SNS topics")
		}
		var existing *subscription
		if err := scanSubs(tx, subPrefix(tarn), nil, func(o *subscription) bool {
			if o.Protocol == protocol && o.Endpoint == endpoint {
				existing = o
				return false
			}
			return true
		}); err != nil {
			return err
		}
		if existing != nil {
			for k, v := range attrs {
				if existing.Attrs[k] != v {
					return errInvalidParameter("Attributes Reason: Subscription already exists with different attributes")
				}
			}
			sub = existing
			return nil
		}
		if sub.Pending {
			sub.Token = s.randomHex(64)
			sub.TokenExpires = now.Add(tokenLifetime).UnixMilli()
			if err := tx.Put(tokenKey(sub.Token), []byte(sub.ARN)); err != nil {
				return err
			}
			if err := s.enqueue(tx, s.confirmation(t, sub, host, now)); err != nil {
				return err
			}
			queued = true
		}
		return putSub(tx, sub)
	})
	if err != nil {
		return nil, err
	}
	if queued {
		s.kick()
	}
	arn := sub.ARN
	if sub.Pending && !awsapi.ToBool(in.ReturnSubscriptionArn) {
		arn = pendingSubscribe
	}
	return &snsapi.SubscribeOutput{SubscriptionArn: &arn}, nil
}

// ConfirmSubscription confirms a pending subscription with the token its
// endpoint received. Confirming again returns the same subscription.
func (s *Service) ConfirmSubscription(ctx context.Context, in *snsapi.ConfirmSubscriptionInput) (*snsapi.ConfirmSubscriptionOutput, error) {
	tarn := awsapi.ToString(in.TopicArn)
	if _, _, _, ok := parseTopicARN(tarn); !ok {
		return nil, errBadARN("TopicArn", tarn)
	}
	token := awsapi.ToString(in.Token)
	if token == "" {
		return nil, errInvalidParameter("Token")
	}
	now := s.clock.Now().UnixMilli()
	var arn string
	err := s.update(func(tx store.Tx) error {
		t, err := getTopic(tx, tarn)
		if err != nil {
			return err
		}
		if t == nil {
			return errTopicNotFound()
		}
		v, err := tx.Get(tokenKey(token))
		if err != nil {
			return err
		}
		if v == nil {
			return errInvalidParameter("Token")
		}
		sub, err := getSub(tx, string(v))
		if err != nil {
			return err
		}
		if sub == nil || sub.TopicARN != tarn {
			return errInvalidParameter("Token")
		}
		if sub.Pending && sub.TokenExpires < now {
			return errInvalidParameter("Token")
		}
		arn = sub.ARN
		if !sub.Pending {
			return nil
		}
		sub.Pending = false
		sub.Authenticated = strings.EqualFold(awsapi.ToString(in.AuthenticateOnUnsubscribe), "true")
		return putSub(tx, sub)
	})
	if err != nil {
		return nil, err
	}
	return &snsapi.ConfirmSubscriptionOutput{SubscriptionArn: &arn}, nil
}

// Unsubscribe deletes a subscription. A subscription that no longer exists
// is not an error, so that retries succeed.
func (s *Service) Unsubscribe(ctx context.Context, in *snsapi.UnsubscribeInput) (*snsapi.UnsubscribeOutput, error) {
	arn := awsapi.ToString(in.SubscriptionArn)
	tarn, _, ok := parseSubscriptionARN(arn)
	if !ok {
		return nil, errBadSubscriptionARN(arn)
	}
	err := s.update(func(tx store.Tx) error {
		sub, err := getSub(tx, arn)
		if err != nil || sub == nil {
			return err
		}
		if err := deleteSub(tx, sub); err != nil {
			return err
		}
		t, err := getTopic(tx, tarn)
		if err != nil || t == nil {
			return err
		}
		t.Deleted++
		return putTopic(tx, t)
	})
	if err != nil {
		return nil, err
	}
	return &snsapi.UnsubscribeOutput{}, nil
}

func listed(sub *subscription) snsapi.Subscription {
	arn := sub.ARN
	if sub.Pending {
		arn = pendingList
	}
	return snsapi.Subscription{
		SubscriptionArn: awsapi.String(arn), Owner: awsapi.String(sub.Owner),
		Protocol: awsapi.String(sub.Protocol), Endpoint: awsapi.String(sub.Endpoint),
		TopicArn: awsapi.String(sub.TopicARN),
	}
}

func (s *Service) listSubs(prefix []byte, token *string) ([]snsapi.Subscription, *string, error) {
	start, err := decodeToken(token, prefix)
	if err != nil {
		return nil, nil, err
	}
	subs := []snsapi.Subscription{}
	var next *string
	err = s.st.View(func(tx store.Tx) error {
		return scanSubs(tx, prefix, start, func(sub *subscription) bool {
			if len(subs) == listPage {
				next = awsapi.String(encodeToken(subKey(sub.ARN)))
				return false
			}
			subs = append(subs, listed(sub))
			return true
		})
	})
	return subs, next, err
}

// ListSubscriptions lists the subscriptions of the caller's topics in its
// region, 100 at a time.
func (s *Service) ListSubscriptions(ctx context.Context, in *snsapi.ListSubscriptionsInput) (*snsapi.ListSubscriptionsOutput, error) {
	c := awsapi.CallerFrom(ctx)
	subs, next, err := s.listSubs([]byte("sns/s/"+topicARN(c.Region, c.Account, "")), in.NextToken)
	if err != nil {
		return nil, err
	}
	return &snsapi.ListSubscriptionsOutput{Subscriptions: subs, NextToken: next}, nil
}

// ListSubscriptionsByTopic lists a topic's subscriptions, 100 at a time.
func (s *Service) ListSubscriptionsByTopic(ctx context.Context, in *snsapi.ListSubscriptionsByTopicInput) (*snsapi.ListSubscriptionsByTopicOutput, error) {
	tarn := awsapi.ToString(in.TopicArn)
	if _, err := s.viewTopic(tarn); err != nil {
		return nil, err
	}
	subs, next, err := s.listSubs(subPrefix(tarn), in.NextToken)
	if err != nil {
		return nil, err
	}
	return &snsapi.ListSubscriptionsByTopicOutput{Subscriptions: subs, NextToken: next}, nil
}

func (s *Service) viewSub(arn string) (*subscription, error) {
	if _, _, ok := parseSubscriptionARN(arn); !ok {
		return nil, errBadSubscriptionARN(arn)
	}
	var sub *subscription
	err := s.st.View(func(tx store.Tx) error {
		var err error
		sub, err = getSub(tx, arn)
		return err
	})
	if err == nil && sub == nil {
		err = errSubscriptionNotFound()
	}
	return sub, err
}

// GetSubscriptionAttributes returns a subscription's attributes, with the
// ones AWS computes.
func (s *Service) GetSubscriptionAttributes(ctx context.Context, in *snsapi.GetSubscriptionAttributesInput) (*snsapi.GetSubscriptionAttributesOutput, error) {
	sub, err := s.viewSub(awsapi.ToString(in.SubscriptionArn))
	if err != nil {
		return nil, err
	}
	a := map[string]string{
		"SubscriptionArn":              sub.ARN,
		"TopicArn":                     sub.TopicARN,
		"Owner":                        sub.Owner,
		"Protocol":                     sub.Protocol,
		"Endpoint":                     sub.Endpoint,
		"PendingConfirmation":          strconv.FormatBool(sub.Pending),
		"ConfirmationWasAuthenticated": strconv.FormatBool(sub.Authenticated || !needsConfirmation(sub.Protocol)),
		"RawMessageDelivery":           "false",
		"SubscriptionPrincipal":        "arn:aws:iam::" + sub.Owner + ":root",
	}
	if sub.Protocol == "http" || sub.Protocol == "https" {
		a["EffectiveDeliveryPolicy"] = `{"healthyRetryPolicy":{"minDelayTarget":20,"maxDelayTarget":20,"numRetries":3,"numMaxDelayRetries":0,"numNoDelayRetries":0,"numMinDelayRetries":0,"backoffFunction":"linear"},"sicklyRetryPolicy":null,"throttlePolicy":null,"guaranteed":false}`
	}
	maps.Copy(a, sub.Attrs)
	if a["FilterPolicy"] != "" && a["FilterPolicyScope"] == "" {
		a["FilterPolicyScope"] = scopeAttributes
	}
	return &snsapi.GetSubscriptionAttributesOutput{Attributes: a}, nil
}

// SetSubscriptionAttributes sets one attribute of a subscription; an empty
// FilterPolicy removes the policy.
func (s *Service) SetSubscriptionAttributes(ctx context.Context, in *snsapi.SetSubscriptionAttributesInput) (*snsapi.SetSubscriptionAttributesOutput, error) {
	arn := awsapi.ToString(in.SubscriptionArn)
	if _, _, ok := parseSubscriptionARN(arn); !ok {
		return nil, errBadSubscriptionARN(arn)
	}
	name, value := awsapi.ToString(in.AttributeName), awsapi.ToString(in.AttributeValue)
	err := s.update(func(tx store.Tx) error {
		sub, err := getSub(tx, arn)
		if err != nil {
			return err
		}
		if sub == nil {
			return errSubscriptionNotFound()
		}
		if sub.Attrs == nil {
			sub.Attrs = map[string]string{}
		}
		v, err := checkSubAttr(subTarget{sub.Protocol, sub.TopicARN, sub.Endpoint}, name, value, sub.Attrs)
		if err != nil {
			return err
		}
		if name == "FilterPolicyScope" && sub.Attrs["FilterPolicy"] != "" {
			// The existing policy must be valid in its new scope.
			if _, err := compileFilter(sub.Attrs["FilterPolicy"], v); err != nil {
				return err
			}
		}
		if v == "" {
			delete(sub.Attrs, name)
		} else {
			sub.Attrs[name] = v
		}
		return putSub(tx, sub)
	})
	if err != nil {
		return nil, err
	}
	return &snsapi.SetSubscriptionAttributesOutput{}, nil
}
