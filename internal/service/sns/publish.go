package sns

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/wharf-dev/wharf/internal/apierr"
	"github.com/wharf-dev/wharf/internal/awsapi"
	snsapi "github.com/wharf-dev/wharf/internal/awsapi/sns"
	sqsapi "github.com/wharf-dev/wharf/internal/awsapi/sqs"
	"github.com/wharf-dev/wharf/internal/jsonstring"
	"github.com/wharf-dev/wharf/internal/lazyregexp"
	"github.com/wharf-dev/wharf/internal/store"
	"github.com/wharf-dev/wharf/internal/timeline"
)

// msgAttr is a message attribute of a published message.
type msgAttr struct {
	DataType    string
	StringValue string `json:",omitempty"`
	BinaryValue []byte `json:",omitempty"`
}

// maxMessageBytes is the limit on a message with its attributes (Publish API reference).
const maxMessageBytes = 262144

// entry is one message to publish, from Publish, PublishBatch or another service.
type entry struct {
	Message   string
	Subject   string
	Structure map[string]string // per-protocol messages of MessageStructure json
	Attrs     map[string]msgAttr
	GroupID   string
	DedupID   string
}

// bodyFor is the message text a subscriber of protocol gets.
func (e *entry) bodyFor(protocol string) string {
	if e.Structure != nil {
		if m, ok := e.Structure[protocol]; ok {
			return m
		}
		return e.Structure["default"]
	}
	return e.Message
}

var attrNameRE = lazyregexp.New(`^[A-Za-z0-9_.-]{1,256}$`)

func attrError(format string, args ...any) error {
	return errInvalidParameter("MessageAttributes Reason: "+format, args...)
}

// checkAttrs validates message attributes as SNS does and returns their size.
func checkAttrs(in map[string]snsapi.MessageAttributeValue) (map[string]msgAttr, int, error) {
	if len(in) == 0 {
		return nil, 0, nil
	}
	if len(in) > 10 {
		return nil, 0, attrError("Number of message attributes [%d] exceeds the allowed maximum [10].", len(in))
	}
	out := make(map[string]msgAttr, len(in))
	size := 0
	for name, v := range in {
		lower := strings.ToLower(name)
		if !attrNameRE.MatchString(name) || strings.HasPrefix(lower, "aws.") || strings.HasPrefix(lower, "amazon.") ||
			strings.HasPrefix(name, ".") || strings.HasSuffix(name, ".") || strings.Contains(name, "..") {
			return nil, 0, attrError("Invalid message attribute name '%s'", name)
		}
		dt := awsapi.ToString(v.DataType)
		base, _, _ := strings.Cut(dt, ".")
		if dt == "" {
			return nil, 0, attrError("The message attribute '%s' must contain non-empty message attribute type.", name)
		}
		a := msgAttr{DataType: dt, StringValue: awsapi.ToString(v.StringValue), BinaryValue: v.BinaryValue}
		switch base {
		case "String", "Number":
			if a.StringValue == "" {
				return nil, 0, attrError("The message attribute '%s' must contain non-empty message attribute value for message attribute type '%s'.", name, base)
			}
			if base == "Number" {
				f, err := strconv.ParseFloat(a.StringValue, 64)
				if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
					return nil, 0, attrError("The message attribute '%s' has an invalid numeric value: '%s'.", name, a.StringValue)
				}
			}
			if dt == "String.Array" {
				var arr []any
				if json.Unmarshal([]byte(a.StringValue), &arr) != nil {
					return nil, 0, attrError("The message attribute '%s' with type 'String.Array' has an invalid value: %s.", name, a.StringValue)
				}
				for _, e := range arr {
					switch e.(type) {
					case map[string]any, []any:
						return nil, 0, attrError("The message attribute '%s' with type 'String.Array' has an invalid value: %s.", name, a.StringValue)
					}
				}
			}
			size += len(a.StringValue)
		case "Binary":
			if len(a.BinaryValue) == 0 {
				return nil, 0, attrError("The message attribute '%s' must contain non-empty message attribute value for message attribute type '%s'.", name, base)
			}
			size += len(a.BinaryValue)
		default:
			return nil, 0, attrError("The message attribute '%s' has an invalid message attribute type, the set of supported type prefixes is Binary, Number, and String.", name)
		}
		size += len(name) + len(dt)
		out[name] = a
	}
	return out, size, nil
}

// checkSubject: ASCII text without line breaks, at most 100 characters.
func checkSubject(p *string) (string, error) {
	if p == nil {
		return "", nil
	}
	s := *p
	if s == "" || len(s) > 100 {
		return "", errInvalidParameter("Subject")
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return "", errInvalidParameter("Subject")
		}
	}
	return s, nil
}

// makeEntry validates the parts of one message common to Publish and PublishBatch.
func makeEntry(message, subject, structure *string, attrs map[string]snsapi.MessageAttributeValue, group, dedup *string) (*entry, error) {
	e := &entry{Message: awsapi.ToString(message), GroupID: awsapi.ToString(group), DedupID: awsapi.ToString(dedup)}
	if e.Message == "" {
		return nil, errInvalidParameter("Empty message")
	}
	var err error
	if e.Subject, err = checkSubject(subject); err != nil {
		return nil, err
	}
	var size int
	if e.Attrs, size, err = checkAttrs(attrs); err != nil {
		return nil, err
	}
	if len(e.Message)+size > maxMessageBytes {
		return nil, errInvalidParameter("Message too long")
	}
	switch awsapi.ToString(structure) {
	case "":
	case "json":
		var m map[string]any
		if json.Unmarshal([]byte(e.Message), &m) != nil {
			return nil, errInvalidParameter("Message Structure - JSON message body failed to parse")
		}
		e.Structure = make(map[string]string, len(m))
		for k, v := range m {
			str, ok := v.(string)
			if !ok {
				return nil, errInvalidParameter("Message Structure - JSON message body failed to parse")
			}
			e.Structure[k] = str
		}
		if _, ok := e.Structure["default"]; !ok {
			return nil, errInvalidParameter("Message Structure - No default entry in JSON message body")
		}
	default:
		return nil, errInvalidParameter("MessageStructure")
	}
	if len(e.GroupID) > 128 {
		return nil, errInvalidParameter("MessageGroupId Reason: MessageGroupId can be up to 128 characters long.")
	}
	if len(e.DedupID) > 128 {
		return nil, errInvalidParameter("MessageDeduplicationId Reason: MessageDeduplicationId can be up to 128 characters long.")
	}
	return e, nil
}

// forTopic applies the rules of the topic's type to e.
func forTopic(t *topic, e *entry) error {
	if !t.fifo() {
		if e.DedupID != "" {
			return errInvalidParameter("MessageDeduplicationId Reason: The request includes MessageDeduplicationId parameter that is not valid for this topic type")
		}
		return nil
	}
	if e.GroupID == "" {
		return errInvalidParameter("The MessageGroupId parameter is required for FIFO topics")
	}
	if e.DedupID == "" {
		if t.Attrs["ContentBasedDeduplication"] != "true" {
			return errInvalidParameter("The topic should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly")
		}
		sum := sha256.Sum256([]byte(e.Message))
		e.DedupID = hex.EncodeToString(sum[:])
	}
	return nil
}

// Publish sends a message to a topic's subscribers (or records one sent to a
// phone number). Deliveries to queues are done, and deliveries to HTTP and
// email endpoints are in the durable outbox, when Publish returns.
func (s *Service) Publish(ctx context.Context, in *snsapi.PublishInput) (*snsapi.PublishOutput, error) {
	targets := 0
	for _, p := range []*string{in.TopicArn, in.TargetArn, in.PhoneNumber} {
		if awsapi.ToString(p) != "" {
			targets++
		}
	}
	if targets == 0 {
		return nil, errInvalidParameter("TopicArn or TargetArn Reason: no value for required parameter")
	}
	if targets > 1 {
		return nil, errInvalidParameter("TopicArn Reason: Only one of TopicArn, TargetArn or PhoneNumber may be specified")
	}
	e, err := makeEntry(in.Message, in.Subject, in.MessageStructure, in.MessageAttributes, in.MessageGroupId, in.MessageDeduplicationId)
	if err != nil {
		return nil, err
	}
	if phone := awsapi.ToString(in.PhoneNumber); phone != "" {
		return s.publishSMS(ctx, phone, e)
	}
	arn := awsapi.ToString(in.TopicArn)
	if arn == "" {
		arn = awsapi.ToString(in.TargetArn)
		if parts := strings.SplitN(arn, ":", 6); len(parts) == 6 && strings.HasPrefix(parts[5], "endpoint/") {
			// Mobile push endpoints (platform applications) are not built,
			// so none exists; SNS says so in these words.
			return nil, errInvalidParameter("TargetArn Reason: No endpoint found for the target arn specified")
		}
		if _, _, _, ok := parseTopicARN(arn); !ok {
			return nil, snsapi.ErrNotFoundException("Endpoint does not exist")
		}
	} else if _, _, _, ok := parseTopicARN(arn); !ok {
		return nil, errBadARN("TopicArn", arn)
	}
	id, seq, err := s.publish(ctx, arn, e)
	if err != nil {
		return nil, err
	}
	out := &snsapi.PublishOutput{MessageId: &id}
	if seq != "" {
		out.SequenceNumber = &seq
	}
	return out, nil
}

// smsRecord is a message published to a phone number: wharf sends no SMS,
// but keeps what would have been sent.
type smsRecord struct {
	MessageID   string
	PhoneNumber string
	Message     string
	Timestamp   string
}

var e164RE = lazyregexp.New(`^\+[1-9][0-9]{1,14}$`)

func (s *Service) publishSMS(ctx context.Context, phone string, e *entry) (*snsapi.PublishOutput, error) {
	if !e164RE.MatchString(phone) {
		return nil, errInvalidParameter("PhoneNumber Reason: %s is not valid to publish to", phone)
	}
	c := awsapi.CallerFrom(ctx)
	id := s.newID()
	b, _ := json.Marshal(smsRecord{MessageID: id, PhoneNumber: phone, Message: e.bodyFor("sms"), Timestamp: s.clock.Now().UTC().Format(timestampFormat)})
	err := s.st.Update(func(tx store.Tx) error {
		return tx.Put([]byte("sns/sms/"+c.Account+"/"+c.Region+"/"+id), b)
	})
	if err != nil {
		return nil, err
	}
	s.log.Info("sns: SMS recorded, not sent", "phone", phone, "message_id", id)
	return &snsapi.PublishOutput{MessageId: &id}, nil
}

// PublishBatch publishes up to 10 messages to a topic; each entry succeeds or
// fails on its own.
func (s *Service) PublishBatch(ctx context.Context, in *snsapi.PublishBatchInput) (*snsapi.PublishBatchOutput, error) {
	arn := awsapi.ToString(in.TopicArn)
	if _, _, _, ok := parseTopicARN(arn); !ok {
		return nil, errBadARN("TopicArn", arn)
	}
	entries := in.PublishBatchRequestEntries
	switch {
	case len(entries) == 0:
		return nil, snsapi.ErrEmptyBatchRequestException("The batch request doesn't contain any entries.")
	case len(entries) > 10:
		return nil, snsapi.ErrTooManyEntriesInBatchRequestException("The batch request contains more entries than permissible.")
	}
	seen := map[string]bool{}
	total := 0
	for _, en := range entries {
		id := awsapi.ToString(en.Id)
		if !batchIDRE.MatchString(id) {
			// SNS's words, which name the id (its recorded answers).
			if len(id) > 80 {
				return nil, snsapi.ErrInvalidBatchEntryIdException("The Id of a batch entry in the batch request is too long: %s", id)
			}
			return nil, snsapi.ErrInvalidBatchEntryIdException("The Id of a batch entry in the batch request contains an impermissible character: %s", id)
		}
		if seen[id] {
			return nil, snsapi.ErrBatchEntryIdsNotDistinctException("Two or more batch entries in the request have the same Id.")
		}
		seen[id] = true
		total += len(awsapi.ToString(en.Message))
	}
	if total > maxMessageBytes {
		return nil, snsapi.ErrBatchRequestTooLongException("The length of all the messages put together is more than the limit.")
	}
	if _, err := s.view(arn); err != nil {
		return nil, err
	}
	out := &snsapi.PublishBatchOutput{Successful: []snsapi.PublishBatchResultEntry{}, Failed: []snsapi.BatchResultErrorEntry{}}
	for _, en := range entries {
		e, err := makeEntry(en.Message, en.Subject, en.MessageStructure, en.MessageAttributes, en.MessageGroupId, en.MessageDeduplicationId)
		var msgID, seq string
		if err == nil {
			msgID, seq, err = s.publish(ctx, arn, e)
		}
		if err != nil {
			ae := apierr.As(err)
			if ae == nil {
				return nil, err
			}
			code := ae.Code
			if sh := snsapi.Service.Errors()[code]; sh != nil {
				code = sh.Code
			}
			out.Failed = append(out.Failed, snsapi.BatchResultErrorEntry{Id: en.Id, Code: awsapi.String(code), Message: awsapi.String(ae.Message), SenderFault: awsapi.Bool(!ae.Receiver)})
			continue
		}
		r := snsapi.PublishBatchResultEntry{Id: en.Id, MessageId: awsapi.String(msgID)}
		if seq != "" {
			r.SequenceNumber = awsapi.String(seq)
		}
		out.Successful = append(out.Successful, r)
	}
	return out, nil
}

var batchIDRE = lazyregexp.New(`^[A-Za-z0-9_-]{1,80}$`)

// PublishToTopic publishes message to the topic topicARN names, with string
// message attributes, on behalf of another service (EventBridge targets, S3
// notifications, CloudWatch alarms). It returns the message id.
func (s *Service) PublishToTopic(ctx context.Context, topicARN, subject, message string, attrs map[string]string) (string, error) {
	var in map[string]snsapi.MessageAttributeValue
	if len(attrs) > 0 {
		in = make(map[string]snsapi.MessageAttributeValue, len(attrs))
		for k, v := range attrs {
			in[k] = snsapi.MessageAttributeValue{DataType: awsapi.String("String"), StringValue: awsapi.String(v)}
		}
	}
	var subj *string
	if subject != "" {
		subj = &subject
	}
	e, err := makeEntry(&message, subj, nil, in, nil, nil)
	if err != nil {
		return "", err
	}
	if _, _, _, ok := parseTopicARN(topicARN); !ok {
		return "", errBadARN("TopicArn", topicARN)
	}
	id, _, err := s.publish(ctx, topicARN, e)
	return id, err
}

// topicView is a topic with its confirmed subscriptions' compiled filters,
// cached for Publish until the next write.
type topicView struct {
	topic *topic
	subs  []subView
}

type subView struct {
	sub    *subscription
	filter *filter // nil: every message
	// unsubscribe is sub's UnsubscribeURL after the host (unsubscribePath),
	// and delivered the timeline's detail of a delivery to it: every
	// publish puts them in each subscriber's copy.
	unsubscribe, delivered string
}

func (s *Service) view(arn string) (*topicView, error) {
	v, err := s.cachedView(arn)
	if err == nil && v == nil {
		return nil, errTopicNotFound()
	}
	return v, err
}

// cachedView is view, with nil for a topic that does not exist.
func (s *Service) cachedView(arn string) (*topicView, error) {
	s.cacheMu.Lock()
	v, ok := s.views[arn]
	gen := s.gen
	s.cacheMu.Unlock()
	if ok {
		return v, nil
	}
	v = &topicView{}
	err := s.st.View(func(tx store.Tx) error {
		t, err := getTopic(tx, arn)
		if err != nil || t == nil {
			return err
		}
		v.topic = t
		return scanSubs(tx, subPrefix(arn), nil, func(sub *subscription) bool {
			if sub.Pending {
				return true
			}
			sv := subView{sub: sub, unsubscribe: unsubscribePath(sub.ARN), delivered: "delivered to " + sub.Endpoint}
			if fp := sub.Attrs["FilterPolicy"]; fp != "" {
				f, err := compileFilter(fp, sub.Attrs["FilterPolicyScope"])
				if err != nil {
					// Policies are checked when set; one that no longer
					// compiles filters out everything rather than nothing.
					s.log.Error("sns: stored filter policy", "subscription", sub.ARN, "err", err)
					return true
				}
				sv.filter = f
			}
			v.subs = append(v.subs, sv)
			return true
		})
	})
	if err != nil {
		return nil, err
	}
	if v.topic == nil {
		return nil, nil
	}
	s.cacheMu.Lock()
	if s.gen == gen {
		s.views[arn] = v
	}
	s.cacheMu.Unlock()
	return v, nil
}

// dedupRecord remembers a FIFO message for the 5-minute deduplication interval.
type dedupRecord struct {
	Expires   int64 // unix ms
	MessageID string
	Seq       string
}

const dedupInterval = 5 * time.Minute

// topicLock serializes the publishes to one FIFO topic, so that subscribers
// get each message group in publish order.
func (s *Service) topicLock(arn string) *sync.Mutex {
	s.fifoMu.Lock()
	defer s.fifoMu.Unlock()
	m, ok := s.fifoLock[arn]
	if !ok {
		m = &sync.Mutex{}
		s.fifoLock[arn] = m
	}
	return m
}

// publish delivers e to the topic's subscribers and returns the message id and,
// for a FIFO topic, its sequence number.
func (s *Service) publish(ctx context.Context, arn string, e *entry) (string, string, error) {
	v, err := s.view(arn)
	if err != nil {
		return "", "", err
	}
	t := v.topic
	if err := forTopic(t, e); err != nil {
		return "", "", err
	}
	now := s.clock.Now()
	id := s.newID()
	var seq string
	if t.fifo() {
		l := s.topicLock(arn)
		l.Lock()
		defer l.Unlock()
		var rec dedupRecord
		err := s.st.View(func(tx store.Tx) error {
			b, err := tx.Get(dedupKey(arn, e.DedupID))
			if err != nil || b == nil {
				return err
			}
			return json.Unmarshal(b, &rec)
		})
		if err != nil {
			return "", "", err
		}
		if rec.Expires > now.UnixMilli() {
			// A duplicate is accepted but not delivered again.
			return rec.MessageID, rec.Seq, nil
		}
		seq = fmt.Sprintf("%020d", s.nextSeq())
	}
	n := &notification{entry: e, id: id, seq: seq, topic: t, time: now, host: s.hostOf(ctx)}
	var outbox []*delivery
	var queues []*subView
	// Deliveries outlive the request: a client that hangs up after Publish
	// was accepted must not cancel them half-way.
	dctx := s.published(context.WithoutCancel(ctx), n, len(v.subs))
	for i := range v.subs {
		sv := &v.subs[i]
		sub := sv.sub
		if sv.filter != nil && !sv.filter.matches(e.bodyFor(sub.Protocol), e.Attrs) {
			s.countTopic(t.Account, t.Region, t.Name, "NumberOfNotificationsFilteredOut")
			continue
		}
		switch sub.Protocol {
		case "sqs":
			queues = append(queues, sv)
		case "http", "https", "email", "email-json":
			outbox = append(outbox, s.notificationDelivery(n, sub))
		default:
			s.log.Info("sns: protocol not delivered by wharf", "protocol", sub.Protocol, "subscription", sub.ARN, "message_id", id)
		}
	}
	// The publish's own records: its HTTP and email deliveries' outbox
	// entries and a FIFO topic's deduplication record, stored in the
	// commit of its queue deliveries when there are any.
	var writes func(tx store.Tx) error
	if len(outbox) > 0 || t.fifo() {
		writes = func(tx store.Tx) error {
			for _, d := range outbox {
				if err := s.enqueue(tx, d); err != nil {
					return err
				}
			}
			if t.fifo() {
				b, _ := json.Marshal(dedupRecord{Expires: now.Add(dedupInterval).UnixMilli(), MessageID: id, Seq: seq})
				return tx.Put(dedupKey(arn, e.DedupID), b)
			}
			return nil
		}
	}
	wrote, err := s.toQueues(dctx, n, queues, writes)
	if err != nil {
		return "", "", err
	}
	if writes != nil && !wrote {
		if err := s.st.Update(writes); err != nil {
			return "", "", err
		}
	}
	if len(outbox) > 0 {
		s.kick()
	}
	return id, seq, nil
}

// queueCommitter is a QueueSender on the store the service was given
// (Options.Store) that can make a publish's own writes in the commit of
// its deliveries: then a publish to queues and to HTTP or email
// endpoints, or to a FIFO topic, is one commit, all of it or none,
// instead of two synced one after the other. The SQS adapter wharf
// connects is one.
type queueCommitter interface {
	DeliverToQueuesWith(ctx context.Context, msgs []QueueMessage, also func(store.Tx) error) ([]error, error)
}

// toQueues delivers n to its SQS subscribers, in one call to the
// QueueSender: one store commit (and on a durable store one sync) for all
// of them, instead of one per queue, with the writes of the publish (if
// not nil) when the QueueSender can make them (wrote is then true). A
// queue that is gone or refuses the message loses it, as on AWS without a
// redrive policy (with one, the message goes to the dead-letter queue); a
// failure of the store fails the Publish. Every delivery is made; their
// errors are returned together.
func (s *Service) toQueues(ctx context.Context, n *notification, subs []*subView, writes func(store.Tx) error) (wrote bool, err error) {
	if len(subs) == 0 {
		return false, nil
	}
	if s.queues == nil {
		for _, sv := range subs {
			s.log.Warn("sns: no SQS to deliver to", "subscription", sv.sub.ARN)
		}
		return false, nil
	}
	msgs := make([]QueueMessage, len(subs))
	for i, sv := range subs {
		sub, m := sv.sub, &msgs[i]
		m.QueueARN = sub.Endpoint
		if sub.raw() {
			m.Body, m.Attrs = n.entry.bodyFor("sqs"), n.rawAttrs()
		} else {
			m.Body = n.envelopeTo(sv.unsubscribe, "sqs")
		}
		if strings.HasSuffix(sub.Endpoint, ".fifo") {
			m.GroupID, m.DedupID = n.entry.GroupID, n.entry.DedupID
		}
	}
	// SNS delivers as sns.amazonaws.com for the topic: the queue's policy
	// must let it in (aws:SourceArn).
	ctx = awsapi.WithSource(ctx, awsapi.Source{ARN: n.topic.ARN, Account: n.topic.Account})
	var errs []error
	var werr error // the publish's records were not stored
	if c, ok := s.queues.(queueCommitter); ok && writes != nil {
		errs, werr = c.DeliverToQueuesWith(ctx, msgs, writes)
		wrote = true
	} else {
		errs = s.queues.DeliverToQueues(ctx, msgs)
	}
	var failed []error
	var deadSubs []*subscription
	var dead []QueueMessage
	ok := 0
	for i, sv := range subs {
		sub, err := sv.sub, errs[i]
		if err == nil {
			// delivered's entry, with its detail made once per subscription
			// and the deliveries counted together below.
			ok++
			s.hop(ctx, timeline.Entry{Kind: "Delivery", Resource: sub.ARN, Subject: n.id, Outcome: timeline.OK, Detail: sv.delivered})
			continue
		}
		s.delivered(ctx, n.id, sub.ARN, sub.Endpoint, err, "", false)
		if apierr.As(err) == nil {
			failed = append(failed, fmt.Errorf("deliver to %s: %w", sub.Endpoint, err))
			continue
		}
		// The queue is gone or refuses SNS: a client-side error, which SNS
		// does not retry. The message goes to the subscription's
		// dead-letter queue, if it has one, or is lost; the timeline says
		// why.
		if dlq := sub.deadLetterQueue(); dlq != "" {
			m := msgs[i]
			m.QueueARN = dlq
			deadSubs, dead = append(deadSubs, sub), append(dead, m)
		}
	}
	s.countTopicN(n.topic.Account, n.topic.Region, n.topic.Name, "NumberOfNotificationsDelivered", ok)
	if err := s.redrive(ctx, n.id, deadSubs, dead); err != nil {
		failed = append(failed, err)
	}
	if werr != nil && len(failed) == 0 {
		// Every delivery was refused, and the update of the publish's
		// records alone failed.
		failed = append(failed, werr)
	}
	return wrote, errors.Join(failed...)
}

// rawAttrs are n's message attributes as a raw delivery to a queue carries
// them, built once for all of n's raw subscribers (nil without attributes).
func (n *notification) rawAttrs() map[string]sqsapi.MessageAttributeValue {
	if len(n.entry.Attrs) == 0 || n.sqsAttrs != nil {
		return n.sqsAttrs
	}
	n.sqsAttrs = make(map[string]sqsapi.MessageAttributeValue, len(n.entry.Attrs))
	for k, a := range n.entry.Attrs {
		av := sqsapi.MessageAttributeValue{DataType: awsapi.String(a.DataType), BinaryValue: a.BinaryValue}
		if a.StringValue != "" {
			av.StringValue = awsapi.String(a.StringValue)
		}
		n.sqsAttrs[k] = av
	}
	return n.sqsAttrs
}

// notification is one published message on its way to subscribers.
type notification struct {
	entry *entry
	id    string
	seq   string
	topic *topic
	time  time.Time
	host  string
	// What every subscriber's copy shares, built on first use. A
	// notification is used by one goroutine at a time.
	sqsAttrs  map[string]sqsapi.MessageAttributeValue
	envelopes []envelopeParts
	origin    string // "http://" + host, as a JSON string's text
}

const timestampFormat = "2006-01-02T15:04:05.000Z"

// envelope is the JSON document SNS delivers (HTTP/HTTPS message and
// JSON formats, Amazon SNS Developer Guide); field order is AWS's.
type envelope struct {
	Type              string             `json:"Type"`
	MessageID         string             `json:"MessageId"`
	Token             string             `json:"Token,omitempty"`
	SequenceNumber    string             `json:"SequenceNumber,omitempty"`
	TopicArn          string             `json:"TopicArn"`
	Subject           string             `json:"Subject,omitempty"`
	Message           string             `json:"Message"`
	SubscribeURL      string             `json:"SubscribeURL,omitempty"`
	Timestamp         string             `json:"Timestamp"`
	SignatureVersion  string             `json:"SignatureVersion"`
	Signature         string             `json:"Signature"`
	SigningCertURL    string             `json:"SigningCertURL"`
	UnsubscribeURL    string             `json:"UnsubscribeURL,omitempty"`
	MessageAttributes map[string]envAttr `json:"MessageAttributes,omitempty"`
}

type envAttr struct {
	Type  string `json:"Type"`
	Value string `json:"Value"`
}

// sign fills the signature fields. wharf has no AWS signing certificate: the
// Signature is a digest of AWS's string to sign, present so that parsers find
// every field, and not verifiable against SigningCertURL.
func (en *envelope) sign(version, region string) {
	if version == "" {
		version = "1"
	}
	// The string to sign, on the stack unless the message is long.
	var buf [1024]byte
	b := buf[:0]
	add := func(k, v string) {
		b = append(b, k...)
		b = append(b, '\n')
		b = append(b, v...)
		b = append(b, '\n')
	}
	add("Message", en.Message)
	add("MessageId", en.MessageID)
	if en.SubscribeURL != "" {
		add("SubscribeURL", en.SubscribeURL)
	}
	if en.Subject != "" {
		add("Subject", en.Subject)
	}
	add("Timestamp", en.Timestamp)
	if en.Token != "" {
		add("Token", en.Token)
	}
	add("TopicArn", en.TopicArn)
	add("Type", en.Type)
	sum := sha256.Sum256(b)
	en.SignatureVersion = version
	en.Signature = base64.StdEncoding.EncodeToString(sum[:])
	en.SigningCertURL = "https://sns." + region + ".amazonaws.com/SimpleNotificationService-wharf.pem"
}

// appendField appends `,"name":` and v as a JSON string to b, or nothing
// for an empty v when omitEmpty (encoding/json's omitempty).
func appendField(b []byte, name, v string, omitEmpty bool) []byte {
	if omitEmpty && v == "" {
		return b
	}
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, '"', ':')
	return jsonstring.Append(b, v)
}

// encode is marshal(en), written by hand: a publish encodes an envelope for
// its subscribers, and encoding/json's reflection was most of its cost.
// TestEnvelopeEncodeIsMarshal compares the two.
func (en *envelope) encode() string {
	b := make([]byte, 0, 320+len(en.Message)+len(en.Subject))
	b = append(b, `{"Type":`...)
	b = jsonstring.Append(b, en.Type)
	b = appendField(b, "MessageId", en.MessageID, false)
	b = appendField(b, "Token", en.Token, true)
	b = appendField(b, "SequenceNumber", en.SequenceNumber, true)
	b = appendField(b, "TopicArn", en.TopicArn, false)
	b = appendField(b, "Subject", en.Subject, true)
	b = appendField(b, "Message", en.Message, false)
	b = appendField(b, "SubscribeURL", en.SubscribeURL, true)
	b = appendField(b, "Timestamp", en.Timestamp, false)
	b = appendField(b, "SignatureVersion", en.SignatureVersion, false)
	b = appendField(b, "Signature", en.Signature, false)
	b = appendField(b, "SigningCertURL", en.SigningCertURL, false)
	b = appendField(b, "UnsubscribeURL", en.UnsubscribeURL, true)
	if len(en.MessageAttributes) > 0 {
		b = append(b, `,"MessageAttributes":{`...)
		// encoding/json writes a map's keys sorted.
		for i, k := range slices.Sorted(maps.Keys(en.MessageAttributes)) {
			if i > 0 {
				b = append(b, ',')
			}
			a := en.MessageAttributes[k]
			b = jsonstring.Append(b, k)
			b = append(b, `:{"Type":`...)
			b = jsonstring.Append(b, a.Type)
			b = append(b, `,"Value":`...)
			b = jsonstring.Append(b, a.Value)
			b = append(b, '}')
		}
		b = append(b, '}')
	}
	b = append(b, '}')
	return string(b)
}

// marshal encodes v without Go's HTML escaping, as AWS writes it.
func marshal(v any) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
	return strings.TrimSuffix(buf.String(), "\n")
}

func unsubscribeURL(host, subARN string) string {
	return "http://" + host + unsubscribePath(subARN)
}

// unsubscribePath is what follows the host in the UnsubscribeURL of the
// subscription subARN: printable ASCII without quotes or backslashes (a
// query-escaped ARN), the same inside a JSON string.
func unsubscribePath(subARN string) string {
	return "/?Action=Unsubscribe&SubscriptionArn=" + url.QueryEscape(subARN)
}

// envelopeParts is n's envelope for the subscribers of one protocol, in
// two parts: each subscriber's is head, its UnsubscribeURL (JSON-escaped),
// then tail. Only the UnsubscribeURL differs between subscribers, and it is
// not signed, so the rest is encoded and signed once per notification.
type envelopeParts struct {
	protocol   string
	head, tail string
}

// unsubscribeKey is where the UnsubscribeURL's value starts in an encoded
// envelope. Its first occurrence is the member: within a string value each
// quote is escaped, so the bytes `,"U` cannot occur there.
const unsubscribeKey = `,"UnsubscribeURL":"`

// envelope is n as the JSON document a subscriber of protocol gets.
func (n *notification) envelope(sub *subscription, protocol string) string {
	return n.envelopeTo(unsubscribePath(sub.ARN), protocol)
}

// envelopeTo is envelope for the subscriber whose UnsubscribeURL ends in
// unsubscribe (unsubscribePath).
func (n *notification) envelopeTo(unsubscribe, protocol string) string {
	var p *envelopeParts
	for i := range n.envelopes {
		if n.envelopes[i].protocol == protocol {
			p = &n.envelopes[i]
		}
	}
	if p == nil {
		n.envelopes = append(n.envelopes, n.encodeEnvelope(protocol))
		p = &n.envelopes[len(n.envelopes)-1]
	}
	if n.origin == "" {
		n.origin = jsonText("http://" + n.host)
	}
	// One allocation: the escaped host cannot end inside a character the
	// path's first byte (an ASCII '/') would change the escaping of.
	return p.head + n.origin + unsubscribe + p.tail
}

// encodeEnvelope encodes n's envelope for protocol with an UnsubscribeURL
// of one NUL character, and cuts it around that value.
func (n *notification) encodeEnvelope(protocol string) envelopeParts {
	en := envelope{
		Type: "Notification", MessageID: n.id, SequenceNumber: n.seq, TopicArn: n.topic.ARN,
		Subject: n.entry.Subject, Message: n.entry.bodyFor(protocol), Timestamp: n.time.UTC().Format(timestampFormat),
		UnsubscribeURL: "\x00",
	}
	if len(n.entry.Attrs) > 0 {
		en.MessageAttributes = make(map[string]envAttr, len(n.entry.Attrs))
		for k, a := range n.entry.Attrs {
			val := a.StringValue
			if a.BinaryValue != nil {
				val = base64.StdEncoding.EncodeToString(a.BinaryValue)
			}
			en.MessageAttributes[k] = envAttr{Type: a.DataType, Value: val}
		}
	}
	en.sign(n.topic.Attrs["SignatureVersion"], n.topic.Region)
	doc := en.encode()
	i := strings.Index(doc, unsubscribeKey) + len(unsubscribeKey)
	return envelopeParts{protocol: protocol, head: doc[:i], tail: doc[i+len(`\u0000`):]}
}

// jsonText is s as marshal writes it inside a JSON string. A URL is
// usually printable ASCII without quotes or backslashes, written as is.
func jsonText(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			q := marshal(s)
			return q[1 : len(q)-1]
		}
	}
	return s
}
