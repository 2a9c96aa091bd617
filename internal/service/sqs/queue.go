package sqs

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/wharf-dev/wharf/internal/apierr"
	"github.com/wharf-dev/wharf/internal/awsapi"
	sqsapi "github.com/wharf-dev/wharf/internal/awsapi/sqs"
	"github.com/wharf-dev/wharf/internal/lazyregexp"
	"github.com/wharf-dev/wharf/internal/store"
)

// queue is a queue's metadata as stored.
type queue struct {
	// ID names this instance of the queue in every key of its messages
	// and in its receipt handles, so that a queue deleted and created
	// again does not see the old one's. It is 16 hex digits (64 random
	// bits), not 32: each message writes it in two keys, whose bytes the
	// store copies, compares and (on disk) logs. Older queues keep theirs.
	ID      string
	Name    string
	Account string
	Region  string
	// Attrs holds every settable attribute with its current value, defaults
	// included; computed attributes (counts, ARN, timestamps) are not here.
	Attrs     map[string]string
	Tags      map[string]string `json:",omitempty"`
	Created   int64             // unix seconds
	Modified  int64             // unix seconds
	LastPurge int64             `json:",omitempty"` // unix milliseconds
}

func (q *queue) fifo() bool { return q.Attrs["FifoQueue"] == "true" }

func (q *queue) arn() string { return queueARN(q.Region, q.Account, q.Name) }

// intAttr returns a numeric attribute; stored values were validated.
func (q *queue) intAttr(name string) int64 {
	n, _ := strconv.ParseInt(q.Attrs[name], 10, 64)
	return n
}

// redrivePolicy is the RedrivePolicy attribute (Amazon SQS dead-letter queues).
type redrivePolicy struct {
	DeadLetterTargetArn string `json:"deadLetterTargetArn"`
	MaxReceiveCount     int64  `json:"maxReceiveCount"`
}

func (q *queue) redrive() *redrivePolicy {
	raw := q.Attrs["RedrivePolicy"]
	if raw == "" {
		return nil
	}
	p, err := parseRedrivePolicy(raw)
	if err != nil {
		return nil
	}
	return p
}

// parseRedrivePolicy accepts maxReceiveCount as a number or a numeric string,
// as AWS does.
func parseRedrivePolicy(raw string) (*redrivePolicy, error) {
	var m map[string]any
	if err := json.Unmarshal([]byte(raw), &m); err != nil {
		return nil, errInvalidAttributeValue("RedrivePolicy", "Redrive policy is not a valid JSON map.")
	}
	p := &redrivePolicy{}
	arn, _ := m["deadLetterTargetArn"].(string)
	if arn == "" {
		return nil, errInvalidAttributeValue("RedrivePolicy", "Redrive policy does not contain mandatory attribute: deadLetterTargetArn.")
	}
	p.DeadLetterTargetArn = arn
	switch v := m["maxReceiveCount"].(type) {
	case float64:
		p.MaxReceiveCount = int64(v)
	case string:
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return nil, errInvalidAttributeValue("RedrivePolicy", "Invalid value for maxReceiveCount: "+v+", valid values are from 1 to 1000 both inclusive.")
		}
		p.MaxReceiveCount = n
	case nil:
		return nil, errInvalidAttributeValue("RedrivePolicy", "Redrive policy does not contain mandatory attribute: maxReceiveCount.")
	default:
		return nil, errInvalidAttributeValue("RedrivePolicy", "Redrive policy is not a valid JSON map.")
	}
	if p.MaxReceiveCount < 1 || p.MaxReceiveCount > 1000 {
		return nil, errInvalidAttributeValue("RedrivePolicy", fmt.Sprintf("Invalid value for maxReceiveCount: %d, valid values are from 1 to 1000 both inclusive.", p.MaxReceiveCount))
	}
	return p, nil
}

// Attribute limits, from the CreateQueue API reference.
var intLimits = map[string][2]int64{
	"DelaySeconds":                  {0, 900},
	"MaximumMessageSize":            {1024, 1048576},
	"MessageRetentionPeriod":        {60, 1209600},
	"ReceiveMessageWaitTimeSeconds": {0, 20},
	"VisibilityTimeout":             {0, 43200},
	"KmsDataKeyReusePeriodSeconds":  {60, 86400},
}

// defaultAttrs are the settable attributes of a new queue.
func defaultAttrs(fifo bool) map[string]string {
	a := map[string]string{
		"DelaySeconds":                  "0",
		"MaximumMessageSize":            "1048576",
		"MessageRetentionPeriod":        "345600",
		"ReceiveMessageWaitTimeSeconds": "0",
		"VisibilityTimeout":             "30",
		"SqsManagedSseEnabled":          "true",
	}
	if fifo {
		a["FifoQueue"] = "true"
		a["ContentBasedDeduplication"] = "false"
		a["DeduplicationScope"] = "queue"
		a["FifoThroughputLimit"] = "perQueue"
	}
	return a
}

// computedAttrs are readable but not settable.
var computedAttrs = []string{
	"ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
	"ApproximateNumberOfMessagesDelayed", "CreatedTimestamp", "LastModifiedTimestamp", "QueueArn",
}

var fifoOnlyAttrs = map[string]bool{"ContentBasedDeduplication": true, "DeduplicationScope": true, "FifoThroughputLimit": true}

// normalizeAttr validates one settable attribute and returns its stored form.
// creating allows FifoQueue, which only CreateQueue may set.
func normalizeAttr(name, value string, fifo, creating bool) (string, error) {
	if lim, ok := intLimits[name]; ok {
		n, err := strconv.ParseInt(strings.TrimSpace(value), 10, 64)
		if err != nil || n < lim[0] || n > lim[1] {
			return "", errInvalidAttributeValue(name, "")
		}
		return strconv.FormatInt(n, 10), nil
	}
	switch name {
	case "FifoQueue":
		v := strings.ToLower(value)
		// Only a FIFO queue has the attribute: a standard queue's is
		// unknown, even FifoQueue=false at creation, and a FIFO queue takes
		// FifoQueue=true again but nothing else (SQS's recorded answers to
		// CreateQueue and SetQueueAttributes).
		if !fifo {
			return "", errInvalidAttributeName(name)
		}
		if !creating && v != "true" {
			return "", errInvalidAttributeValue(name, "Modifying queue type is not supported.")
		}
		if v != "true" {
			return "", errInvalidAttributeValue(name, "")
		}
		return v, nil
	case "ContentBasedDeduplication", "SqsManagedSseEnabled":
		if fifoOnlyAttrs[name] && !fifo {
			return "", errInvalidAttributeName(name)
		}
		v := strings.ToLower(value)
		if v != "true" && v != "false" {
			return "", errInvalidAttributeValue(name, "")
		}
		return v, nil
	case "DeduplicationScope":
		if !fifo {
			return "", sqsapi.ErrInvalidAttributeName("You can specify the %s only when FifoQueue is set to true.", name)
		}
		if value != "messageGroup" && value != "queue" {
			return "", errInvalidAttributeValue(name, "")
		}
		return value, nil
	case "FifoThroughputLimit":
		if !fifo {
			return "", sqsapi.ErrInvalidAttributeName("You can specify the %s only when FifoQueue is set to true.", name)
		}
		if value != "perQueue" && value != "perMessageGroupId" {
			return "", errInvalidAttributeValue(name, "")
		}
		return value, nil
	case "Policy":
		if value != "" && !json.Valid([]byte(value)) {
			return "", errInvalidAttributeValue(name, "")
		}
		return value, nil
	case "RedrivePolicy":
		if value == "" {
			return "", nil
		}
		p, err := parseRedrivePolicy(value)
		if err != nil {
			return "", err
		}
		b, _ := json.Marshal(p)
		return string(b), nil
	case "RedriveAllowPolicy":
		if value == "" {
			return "", nil
		}
		return normalizeRedriveAllow(value)
	case "KmsMasterKeyId":
		return value, nil
	}
	return "", errInvalidAttributeName(name)
}

type redriveAllowPolicy struct {
	RedrivePermission string   `json:"redrivePermission"`
	SourceQueueArns   []string `json:"sourceQueueArns,omitempty"`
}

func normalizeRedriveAllow(value string) (string, error) {
	var p redriveAllowPolicy
	if err := json.Unmarshal([]byte(value), &p); err != nil {
		return "", errInvalidAttributeValue("RedriveAllowPolicy", "Redrive allow policy is not a valid JSON map.")
	}
	switch p.RedrivePermission {
	case "allowAll", "denyAll":
		if len(p.SourceQueueArns) > 0 {
			return "", errInvalidAttributeValue("RedriveAllowPolicy", "Only byQueue permission allows sourceQueueArns.")
		}
	case "byQueue":
		if len(p.SourceQueueArns) < 1 || len(p.SourceQueueArns) > 10 {
			return "", errInvalidAttributeValue("RedriveAllowPolicy", "byQueue permission requires 1 to 10 sourceQueueArns.")
		}
	default:
		return "", errInvalidAttributeValue("RedriveAllowPolicy", "Invalid value for redrivePermission.")
	}
	b, _ := json.Marshal(p)
	return string(b), nil
}

// allows reports whether q's RedriveAllowPolicy lets sourceARN use q as its
// dead-letter queue.
func (q *queue) allows(sourceARN string) bool {
	raw := q.Attrs["RedriveAllowPolicy"]
	if raw == "" {
		return true
	}
	var p redriveAllowPolicy
	if json.Unmarshal([]byte(raw), &p) != nil {
		return true
	}
	switch p.RedrivePermission {
	case "denyAll":
		return false
	case "byQueue":
		for _, a := range p.SourceQueueArns {
			if a == sourceARN {
				return true
			}
		}
		return false
	}
	return true
}

var queueNameRE = lazyregexp.New(`^[A-Za-z0-9_-]{1,80}$`)

func validQueueName(name string, fifo bool) bool {
	if fifo {
		base, ok := strings.CutSuffix(name, ".fifo")
		return ok && len(name) <= 80 && queueNameRE.MatchString(base)
	}
	return queueNameRE.MatchString(name)
}

// getQueue loads a queue's metadata. The decoded queue is cached beside the
// bytes it came from and reused while the stored bytes are unchanged, since
// decoding it dominated SendMessage; callers must not modify the result (see
// getQueueForUpdate).
func (s *Service) getQueue(tx store.Tx, account, region, name string) (*queue, error) {
	// The key in the update's buffer (the store keeps no key it is
	// given): a buffer on the stack went to the heap, as tx.Get may keep it.
	var k []byte
	if t, ok := tx.(*txn); ok {
		t.queue = appendQueueKey(t.queue[:0], account, region, name)
		k = t.queue
	} else {
		k = appendQueueKey(nil, account, region, name)
	}
	v, err := tx.Get(k)
	if err != nil {
		return nil, err
	}
	if v == nil {
		return nil, errQueueDoesNotExist()
	}
	s.queuesMu.RLock()
	c, ok := s.queues[string(k)]
	s.queuesMu.RUnlock()
	if ok && bytes.Equal(c.raw, v) {
		return c.q, nil
	}
	q := &queue{}
	if err := json.Unmarshal(v, q); err != nil {
		return nil, fmt.Errorf("decode queue %s: %w", name, err)
	}
	s.queuesMu.Lock()
	s.queues[string(k)] = &cachedQueue{raw: bytes.Clone(v), q: q}
	s.queuesMu.Unlock()
	return q, nil
}

type cachedQueue struct {
	raw []byte
	q   *queue
}

// getQueueForUpdate returns a private copy of a queue's metadata to modify.
func (s *Service) getQueueForUpdate(tx store.Tx, account, region, name string) (*queue, error) {
	v, err := tx.Get(queueKey(account, region, name))
	if err != nil {
		return nil, err
	}
	if v == nil {
		return nil, errQueueDoesNotExist()
	}
	q := &queue{}
	if err := json.Unmarshal(v, q); err != nil {
		return nil, fmt.Errorf("decode queue %s: %w", name, err)
	}
	return q, nil
}

func putQueue(tx store.Tx, q *queue) error {
	b, err := json.Marshal(q)
	if err != nil {
		return err
	}
	return tx.Put(queueKey(q.Account, q.Region, q.Name), b)
}

// queueRef is a queue named by a request.
type queueRef struct{ account, region, name string }

// key is queueKey as a string, built as one.
func (r queueRef) key() string { return "sqs/q/" + r.account + "/" + r.region + "/" + r.name }

func (s *Service) ref(ctx context.Context, queueURL *string) (queueRef, error) {
	c := awsapi.CallerFrom(ctx)
	raw := awsapi.ToString(queueURL)
	if raw == "" {
		return queueRef{}, errMissingParameter("QueueUrl")
	}
	account, name, err := parseQueueURL(raw, c.Account)
	if err != nil {
		return queueRef{}, err
	}
	return queueRef{account: account, region: c.Region, name: name}, nil
}

// viewQueue returns r's queue record as the last write to a queue record
// left it, from memory once read (queueAuth): a durable store would read it
// from bbolt on every request. What must be read in the same transaction as
// a write (the queue not deleted since) is read there again.
func (s *Service) viewQueue(r queueRef) (*queue, error) {
	a, found, err := s.queueAuth(r.account, r.region, r.name)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, errQueueDoesNotExist()
	}
	return a.q, nil
}

// createQueue creates a queue, or returns the existing one when every given
// attribute has the value the queue already has (CreateQueue is idempotent).
func (s *Service) createQueue(ctx context.Context, name string, attrs, tags map[string]string) (string, error) {
	c := awsapi.CallerFrom(ctx)
	if name == "" {
		return "", errMissingParameter("QueueName")
	}
	fifoWanted := false
	if v, ok := attrs["FifoQueue"]; ok {
		fifoWanted = strings.EqualFold(v, "true")
	}
	if !validQueueName(name, fifoWanted) {
		if fifoWanted || strings.HasSuffix(name, ".fifo") {
			return "", errInvalidParameter("The name of a FIFO queue can only include alphanumeric characters, hyphens, or underscores, must end with .fifo suffix and be 1 to 80 in length.")
		}
		return "", errInvalidParameter("Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length")
	}
	want := map[string]string{}
	for k, v := range attrs {
		nv, err := normalizeAttr(k, v, fifoWanted, true)
		if err != nil {
			return "", err
		}
		want[k] = nv
	}
	if len(tags) > 50 {
		return "", errInvalidParameter("Too many tags added for queue %s.", name)
	}
	now := s.clock.Now()
	err := s.updateQueue(func(tx store.Tx) error {
		old, err := s.getQueue(tx, c.Account, c.Region, name)
		if err == nil {
			for k, v := range want {
				if old.Attrs[k] != v {
					return sqsapi.ErrQueueNameExists("A queue already exists with the same name and a different value for attribute %s", k)
				}
			}
			return nil
		}
		if apierr.As(err) == nil {
			return err
		}
		q := &queue{
			ID:       s.randomToken(8),
			Name:     name,
			Account:  c.Account,
			Region:   c.Region,
			Attrs:    defaultAttrs(fifoWanted),
			Created:  now.Unix(),
			Modified: now.Unix(),
		}
		for k, v := range want {
			if k == "FifoQueue" {
				continue
			}
			if v == "" {
				delete(q.Attrs, k)
				continue
			}
			q.Attrs[k] = v
		}
		if err := s.checkRedriveTarget(tx, q); err != nil {
			return err
		}
		if len(tags) > 0 {
			q.Tags = map[string]string{}
			for k, v := range tags {
				q.Tags[k] = v
			}
		}
		// A new queue's group indexes and not-visible counts are complete:
		// it has no messages.
		if err := tx.Put(groupsMarker(q.ID), []byte{1}); err != nil {
			return err
		}
		if err := putNotVisible(tx, q.ID, notVisible{w: now.UnixMilli()}); err != nil {
			return err
		}
		return putQueue(tx, q)
	})
	if err != nil {
		return "", err
	}
	return s.queueURL(ctx, c.Account, name), nil
}

// checkRedriveTarget verifies that q's dead-letter queue exists, is of the same
// type, and allows q as a source.
func (s *Service) checkRedriveTarget(tx store.Tx, q *queue) error {
	p := q.redrive()
	if p == nil {
		return nil
	}
	region, account, name, ok := parseQueueARN(p.DeadLetterTargetArn)
	if !ok {
		return errInvalidAttributeValue("RedrivePolicy", "Dead-letter target ARN is not a valid queue ARN.")
	}
	dlq, err := s.getQueue(tx, account, region, name)
	if err != nil {
		if apierr.As(err) != nil {
			return errInvalidAttributeValue("RedrivePolicy", "Dead letter target does not exist.")
		}
		return err
	}
	if dlq.fifo() != q.fifo() {
		return errInvalidAttributeValue("RedrivePolicy", "Dead-letter queue must be same type of queue as the source.")
	}
	if !dlq.allows(q.arn()) {
		return errInvalidAttributeValue("RedrivePolicy", "Queue "+q.arn()+" is not allowed to use "+dlq.arn()+" as its dead-letter queue.")
	}
	return nil
}

func (s *Service) deleteQueue(r queueRef) error {
	err := s.updateQueue(func(tx store.Tx) error {
		q, err := s.getQueue(tx, r.account, r.region, r.name)
		if err != nil {
			return err
		}
		if err := deletePrefix(tx, dataPrefix(q.ID)); err != nil {
			return err
		}
		return tx.Delete(queueKey(r.account, r.region, r.name))
	})
	if err == nil {
		s.queuesMu.Lock()
		delete(s.queues, r.key())
		s.queuesMu.Unlock()
		s.notify(r.key()) // long polls on a deleted queue return
	}
	return err
}

// deletePrefix deletes every key with prefix p.
func deletePrefix(tx store.Tx, p []byte) error {
	var keys [][]byte
	err := tx.Scan(p, nil, func(k, _ []byte) (bool, error) {
		keys = append(keys, bytes.Clone(k))
		return true, nil
	})
	if err != nil {
		return err
	}
	for _, k := range keys {
		if err := tx.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// listQueues lists the caller's queue names with prefix, after the name in
// token, at most max (0 means 1000 without a NextToken).
func (s *Service) listQueues(ctx context.Context, prefix, token string, max int32) (names []string, next string, err error) {
	c := awsapi.CallerFrom(ctx)
	paged := max > 0 || token != ""
	if max < 0 || max > 1000 {
		return nil, "", errInvalidParameter("Value %d for parameter MaxResults is invalid. Reason: MaxResults must be an integer between 1 and 1000.", max)
	}
	if max == 0 {
		max = 1000
	}
	var after string
	if token != "" {
		b, derr := base64.RawURLEncoding.DecodeString(token)
		if derr != nil {
			return nil, "", errInvalidParameter("Invalid NextToken value.")
		}
		after = string(b)
	}
	base := queuePrefix(c.Account, c.Region)
	var start []byte
	if after != "" {
		start = append(append(bytes.Clone(base), after...), 0)
	}
	more := false
	err = s.st.View(func(tx store.Tx) error {
		return tx.Scan(append(bytes.Clone(base), prefix...), start, func(k, _ []byte) (bool, error) {
			if int32(len(names)) == max {
				more = true
				return false, nil
			}
			names = append(names, string(k[len(base):]))
			return true, nil
		})
	})
	if err != nil {
		return nil, "", err
	}
	if more && paged {
		next = base64.RawURLEncoding.EncodeToString([]byte(names[len(names)-1]))
	}
	return names, next, nil
}

// getAttributes returns the named attributes of a queue ("All" for every one).
func (s *Service) getAttributes(r queueRef, names []string) (map[string]string, error) {
	all := false
	want := map[string]bool{}
	for _, n := range names {
		if n == "All" {
			all = true
			continue
		}
		want[n] = true
	}
	var out map[string]string
	err := s.st.View(func(tx store.Tx) error {
		q, err := s.getQueue(tx, r.account, r.region, r.name)
		if err != nil {
			return err
		}
		for n := range want {
			if _, ok := q.Attrs[n]; ok {
				continue
			}
			if n == "Policy" || n == "RedrivePolicy" || n == "RedriveAllowPolicy" || n == "KmsMasterKeyId" || n == "KmsDataKeyReusePeriodSeconds" {
				continue // valid but unset: not returned
			}
			if fifoOnlyAttrs[n] || n == "FifoQueue" {
				continue
			}
			if !contains(computedAttrs, n) {
				return errInvalidAttributeName(n)
			}
		}
		out = map[string]string{}
		for k, v := range q.Attrs {
			if all || want[k] {
				out[k] = v
			}
		}
		needCounts := all || want["ApproximateNumberOfMessages"] || want["ApproximateNumberOfMessagesNotVisible"] || want["ApproximateNumberOfMessagesDelayed"]
		if needCounts {
			visible, notVisible, delayed, err := counts(tx, q.ID, s.clock.Now().UnixMilli())
			if err != nil {
				return err
			}
			set := func(k string, v uint64) {
				if all || want[k] {
					out[k] = strconv.FormatUint(v, 10)
				}
			}
			set("ApproximateNumberOfMessages", visible)
			set("ApproximateNumberOfMessagesNotVisible", notVisible)
			set("ApproximateNumberOfMessagesDelayed", delayed)
		}
		if all || want["CreatedTimestamp"] {
			out["CreatedTimestamp"] = strconv.FormatInt(q.Created, 10)
		}
		if all || want["LastModifiedTimestamp"] {
			out["LastModifiedTimestamp"] = strconv.FormatInt(q.Modified, 10)
		}
		if all || want["QueueArn"] {
			out["QueueArn"] = q.arn()
		}
		return nil
	})
	return out, err
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// counts returns the visible, in-flight and delayed message counts: a reverse
// scan of the visibility index visits only the messages not visible now.
func counts(tx store.Tx, qid string, nowMs int64) (visible, notVisible, delayed uint64, err error) {
	total, err := getCount(tx, qid)
	if err != nil {
		return 0, 0, 0, err
	}
	if nv, ok, err := getNotVisible(tx, qid); err != nil {
		return 0, 0, 0, err
	} else if ok && nowMs >= nv.w {
		if err := nv.since(tx, qid, nowMs); err != nil {
			return 0, 0, 0, err
		}
		notVisible, delayed = nv.received, nv.fresh
		if n := notVisible + delayed; n < total {
			visible = total - n
		}
		return visible, notVisible, delayed, nil
	}
	p := visPrefix(qid)
	err = tx.ScanReverse(p, nil, func(k, v []byte) (bool, error) {
		if int64(binary.BigEndian.Uint64(k[len(p):])) <= nowMs {
			return false, nil
		}
		if len(v) > 0 && v[0] == visReceived {
			notVisible++
		} else {
			delayed++
		}
		return true, nil
	})
	if err != nil {
		return 0, 0, 0, err
	}
	if nv := notVisible + delayed; nv < total {
		visible = total - nv
	}
	return visible, notVisible, delayed, nil
}

func (s *Service) setAttributes(r queueRef, attrs map[string]string) error {
	now := s.clock.Now()
	return s.updateQueue(func(tx store.Tx) error {
		q, err := s.getQueueForUpdate(tx, r.account, r.region, r.name)
		if err != nil {
			return err
		}
		for k, v := range attrs {
			nv, err := normalizeAttr(k, v, q.fifo(), false)
			if err != nil {
				return err
			}
			if nv == "" && (k == "RedrivePolicy" || k == "RedriveAllowPolicy" || k == "Policy" || k == "KmsMasterKeyId") {
				delete(q.Attrs, k)
				continue
			}
			q.Attrs[k] = nv
		}
		if _, ok := attrs["RedrivePolicy"]; ok {
			if err := s.checkRedriveTarget(tx, q); err != nil {
				return err
			}
		}
		q.Modified = now.Unix()
		return putQueue(tx, q)
	})
}

func (s *Service) tagQueue(r queueRef, set map[string]string, remove []string) error {
	return s.updateQueue(func(tx store.Tx) error {
		q, err := s.getQueueForUpdate(tx, r.account, r.region, r.name)
		if err != nil {
			return err
		}
		if q.Tags == nil {
			q.Tags = map[string]string{}
		}
		for k, v := range set {
			q.Tags[k] = v
		}
		for _, k := range remove {
			delete(q.Tags, k)
		}
		if len(q.Tags) > 50 {
			return errInvalidParameter("Too many tags added for queue %s.", q.Name)
		}
		return putQueue(tx, q)
	})
}

// deadLetterSources lists the names of the queues whose RedrivePolicy targets r.
func (s *Service) deadLetterSources(r queueRef, token string, max int32) (names []string, next string, err error) {
	if max < 0 || max > 1000 {
		return nil, "", errInvalidParameter("Value %d for parameter MaxResults is invalid. Reason: MaxResults must be an integer between 1 and 1000.", max)
	}
	paged := max > 0 || token != ""
	if max == 0 {
		max = 1000
	}
	var after string
	if token != "" {
		b, derr := base64.RawURLEncoding.DecodeString(token)
		if derr != nil {
			return nil, "", errInvalidParameter("Invalid NextToken value.")
		}
		after = string(b)
	}
	more := false
	err = s.st.View(func(tx store.Tx) error {
		target, err := s.getQueue(tx, r.account, r.region, r.name)
		if err != nil {
			return err
		}
		arn := target.arn()
		return tx.Scan(queuePrefix(r.account, r.region), nil, func(k, v []byte) (bool, error) {
			var q queue
			if err := json.Unmarshal(v, &q); err != nil {
				return false, err
			}
			if q.Name <= after && after != "" {
				return true, nil
			}
			if p := q.redrive(); p != nil && p.DeadLetterTargetArn == arn {
				if int32(len(names)) == max {
					more = true
					return false, nil
				}
				names = append(names, q.Name)
			}
			return true, nil
		})
	})
	if more && paged {
		next = base64.RawURLEncoding.EncodeToString([]byte(names[len(names)-1]))
	}
	sort.Strings(names)
	return names, next, err
}
