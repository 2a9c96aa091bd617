package sqs

import (
	"context"
	"strconv"
	"strings"

	"github.com/wharf-dev/wharf/internal/apierr"
	"github.com/wharf-dev/wharf/internal/awsapi"
	sqsapi "github.com/wharf-dev/wharf/internal/awsapi/sqs"
	"github.com/wharf-dev/wharf/internal/store"
)

// CreateQueue creates a queue; with the same attributes as an existing queue it
// returns that queue's URL.
func (s *Service) CreateQueue(ctx context.Context, in *sqsapi.CreateQueueInput) (*sqsapi.CreateQueueOutput, error) {
	u, err := s.createQueue(ctx, awsapi.ToString(in.QueueName), in.Attributes, in.Tags)
	if err != nil {
		return nil, err
	}
	return &sqsapi.CreateQueueOutput{QueueUrl: &u}, nil
}

// DeleteQueue deletes a queue and its messages.
func (s *Service) DeleteQueue(ctx context.Context, in *sqsapi.DeleteQueueInput) (*sqsapi.DeleteQueueOutput, error) {
	r, err := s.ref(ctx, in.QueueUrl)
	if err != nil {
		return nil, err
	}
	return &sqsapi.DeleteQueueOutput{}, s.deleteQueue(r)
}

// GetQueueUrl returns the URL of a queue by name.
func (s *Service) GetQueueUrl(ctx context.Context, in *sqsapi.GetQueueUrlInput) (*sqsapi.GetQueueUrlOutput, error) {
	c := awsapi.CallerFrom(ctx)
	name := awsapi.ToString(in.QueueName)
	if name == "" {
		return nil, errMissingParameter("QueueName")
	}
	account := c.Account
	if o := awsapi.ToString(in.QueueOwnerAWSAccountId); o != "" {
		account = o
	}
	if _, err := s.viewQueue(queueRef{account: account, region: c.Region, name: name}); err != nil {
		return nil, err
	}
	u := s.queueURL(ctx, account, name)
	return &sqsapi.GetQueueUrlOutput{QueueUrl: &u}, nil
}

// ListQueues lists the caller's queues in the request's region.
func (s *Service) ListQueues(ctx context.Context, in *sqsapi.ListQueuesInput) (*sqsapi.ListQueuesOutput, error) {
	c := awsapi.CallerFrom(ctx)
	names, next, err := s.listQueues(ctx, awsapi.ToString(in.QueueNamePrefix), awsapi.ToString(in.NextToken), awsapi.ToInt32(in.MaxResults))
	if err != nil {
		return nil, err
	}
	out := &sqsapi.ListQueuesOutput{}
	for _, n := range names {
		out.QueueUrls = append(out.QueueUrls, s.queueURL(ctx, c.Account, n))
	}
	if next != "" {
		out.NextToken = &next
	}
	return out, nil
}

// GetQueueAttributes returns queue attributes.
func (s *Service) GetQueueAttributes(ctx context.Context, in *sqsapi.GetQueueAttributesInput) (*sqsapi.GetQueueAttributesOutput, error) {
	r, err := s.ref(ctx, in.QueueUrl)
	if err != nil {
		return nil, err
	}
	attrs, err := s.getAttributes(r, in.AttributeNames)
	if err != nil {
		return nil, err
	}
	out := &sqsapi.GetQueueAttributesOutput{}
	if len(attrs) > 0 {
		out.Attributes = attrs
	}
	return out, nil
}

// SetQueueAttributes changes queue attributes.
func (s *Service) SetQueueAttributes(ctx context.Context, in *sqsapi.SetQueueAttributesInput) (*sqsapi.SetQueueAttributesOutput, error) {
	r, err := s.ref(ctx, in.QueueUrl)
	if err != nil {
		return nil, err
	}
	return &sqsapi.SetQueueAttributesOutput{}, s.setAttributes(r, in.Attributes)
}

// TagQueue adds or replaces tags of a queue.
func (s *Service) TagQueue(ctx context.Context, in *sqsapi.TagQueueInput) (*sqsapi.TagQueueOutput, error) {
	r, err := s.ref(ctx, in.QueueUrl)
	if err != nil {
		return nil, err
	}
	if len(in.Tags) == 0 {
		return nil, errMissingParameter("Tags")
	}
	return &sqsapi.TagQueueOutput{}, s.tagQueue(r, in.Tags, nil)
}

// UntagQueue removes tags of a queue.
func (s *Service) UntagQueue(ctx context.Context, in *sqsapi.UntagQueueInput) (*sqsapi.UntagQueueOutput, error) {
	r, err := s.ref(ctx, in.QueueUrl)
	if err != nil {
		return nil, err
	}
	if len(in.TagKeys) == 0 {
		return nil, errMissingParameter("TagKeys")
	}
	return &sqsapi.UntagQueueOutput{}, s.tagQueue(r, nil, in.TagKeys)
}

// ListQueueTags returns the tags of a queue.
func (s *Service) ListQueueTags(ctx context.Context, in *sqsapi.ListQueueTagsInput) (*sqsapi.ListQueueTagsOutput, error) {
	r, err := s.ref(ctx, in.QueueUrl)
	if err != nil {
		return nil, err
	}
	q, err := s.viewQueue(r)
	if err != nil {
		return nil, err
	}
	out := &sqsapi.ListQueueTagsOutput{}
	if len(q.Tags) > 0 {
		out.Tags = q.Tags
	}
	return out, nil
}

// ListDeadLetterSourceQueues lists the queues that use a queue as their
// dead-letter queue.
func (s *Service) ListDeadLetterSourceQueues(ctx context.Context, in *sqsapi.ListDeadLetterSourceQueuesInput) (*sqsapi.ListDeadLetterSourceQueuesOutput, error) {
	r, err := s.ref(ctx, in.QueueUrl)
	if err != nil {
		return nil, err
	}
	names, next, err := s.deadLetterSources(r, awsapi.ToString(in.NextToken), awsapi.ToInt32(in.MaxResults))
	if err != nil {
		return nil, err
	}
	out := &sqsapi.ListDeadLetterSourceQueuesOutput{QueueUrls: []string{}}
	for _, n := range names {
		out.QueueUrls = append(out.QueueUrls, s.queueURL(ctx, r.account, n))
	}
	if next != "" {
		out.NextToken = &next
	}
	return out, nil
}

// PurgeQueue deletes every message of a queue.
func (s *Service) PurgeQueue(ctx context.Context, in *sqsapi.PurgeQueueInput) (*sqsapi.PurgeQueueOutput, error) {
	r, err := s.ref(ctx, in.QueueUrl)
	if err != nil {
		return nil, err
	}
	return &sqsapi.PurgeQueueOutput{}, s.purge(r)
}

func toAttrs(in map[string]sqsapi.MessageAttributeValue) map[string]msgAttr {
	if len(in) == 0 {
		return nil
	}
	out := make(map[string]msgAttr, len(in))
	for k, v := range in {
		out[k] = msgAttr{DataType: awsapi.ToString(v.DataType), StringValue: v.StringValue, BinaryValue: v.BinaryValue, StringList: v.StringListValues, BinaryList: v.BinaryListValues}
	}
	return out
}

func toSysAttrs(in map[string]sqsapi.MessageSystemAttributeValue) map[string]msgAttr {
	if len(in) == 0 {
		return nil
	}
	out := make(map[string]msgAttr, len(in))
	for k, v := range in {
		out[k] = msgAttr{DataType: awsapi.ToString(v.DataType), StringValue: v.StringValue, BinaryValue: v.BinaryValue, StringList: v.StringListValues, BinaryList: v.BinaryListValues}
	}
	return out
}

// optional returns a pointer to a copy of s, or nil for "". The copy is
// made only then: returning &s would move s to the heap on every call.
func optional(s string) *string {
	if s == "" {
		return nil
	}
	p := new(string)
	*p = s
	return p
}

// SendMessage stores a message; it is durable when SendMessage returns.
func (s *Service) SendMessage(ctx context.Context, in *sqsapi.SendMessageInput) (*sqsapi.SendMessageOutput, error) {
	r, err := s.ref(ctx, in.QueueUrl)
	if err != nil {
		return nil, err
	}
	// The entry and the list of it in one allocation.
	one := new(struct {
		e    sendEntry
		list [1]*sendEntry
	})
	one.e = sendMessageEntry(in)
	one.list[0] = &one.e
	res, err := s.send(ctx, r, one.list[:])
	if err != nil {
		return nil, err
	}
	if res[0].Err != nil {
		return nil, res[0].Err
	}
	e := &res[0] // not a copy, which the pointers below would move to the heap
	return &sqsapi.SendMessageOutput{
		MessageId:                    &e.MessageID,
		MD5OfMessageBody:             &e.MD5Body,
		MD5OfMessageAttributes:       optional(e.MD5Attrs),
		MD5OfMessageSystemAttributes: optional(e.MD5Sys),
		SequenceNumber:               optional(e.SeqNumber),
	}, nil
}

// sendMessageEntry is the message a SendMessage call sends.
func sendMessageEntry(in *sqsapi.SendMessageInput) sendEntry {
	return sendEntry{
		Body: in.MessageBody, Delay: in.DelaySeconds,
		Attrs: toAttrs(in.MessageAttributes), SysAttrs: toSysAttrs(in.MessageSystemAttributes),
		GroupID: awsapi.ToString(in.MessageGroupId), DedupID: awsapi.ToString(in.MessageDeduplicationId),
		GroupGiven: in.MessageGroupId != nil, DedupGiven: in.MessageDeduplicationId != nil,
	}
}

// maxBatchBytes is the limit on the total payload of a batch (SendMessageBatch docs).
const maxBatchBytes = 1048576

// checkBatch applies the batch rules common to every *Batch operation.
func checkBatch(ids []*string, entryName string) error {
	if len(ids) == 0 {
		return sqsapi.ErrEmptyBatchRequest("There should be at least one %s in the request.", entryName)
	}
	if len(ids) > 10 {
		return sqsapi.ErrTooManyEntriesInBatchRequest("Maximum number of entries per request are 10. You have sent %s.", strconv.Itoa(len(ids)))
	}
	for i, p := range ids {
		id := awsapi.ToString(p)
		if !validBatchID(id) {
			return sqsapi.ErrInvalidBatchEntryId("A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.")
		}
		// At most ten ids: the earlier ones are compared, no set is built.
		for _, q := range ids[:i] {
			if awsapi.ToString(q) == id {
				return sqsapi.ErrBatchEntryIdsNotDistinct("Id %s repeated.", id)
			}
		}
	}
	return nil
}

// validBatchID reports whether id is 1-80 of [A-Za-z0-9_-], byte by byte: every
// batch request checks each of its ids.
func validBatchID(id string) bool {
	if len(id) == 0 || len(id) > 80 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// errorEntry renders err as a batch result error entry, with the query error
// code the SQS model gives the exception (as SQS reports it in batch results).
func errorEntry(id string, err error) sqsapi.BatchResultErrorEntry {
	e := apierr.As(err)
	if e == nil && store.IsNoSpace(err) {
		e = apierr.Unavailable("sqs", "wharf's data directory is out of disk space")
	}
	if e == nil {
		e = apierr.Internal()
	}
	code := e.Code
	if shape, ok := sqsapi.Service.Errors()[code]; ok && shape.Code != "" {
		code = shape.Code
	}
	return sqsapi.BatchResultErrorEntry{Id: &id, Code: &code, Message: optional(e.Message), SenderFault: awsapi.Bool(!e.Receiver)}
}

// SendMessageBatch sends up to ten messages; each entry succeeds or fails alone.
func (s *Service) SendMessageBatch(ctx context.Context, in *sqsapi.SendMessageBatchInput) (*sqsapi.SendMessageBatchOutput, error) {
	r, err := s.ref(ctx, in.QueueUrl)
	if err != nil {
		return nil, err
	}
	ids := make([]*string, len(in.Entries))
	size := 0
	entries := make([]*sendEntry, len(in.Entries))
	backing := make([]sendEntry, len(in.Entries)) // one allocation for all
	for i, e := range in.Entries {
		ids[i] = e.Id
		entries[i] = &backing[i]
		backing[i] = sendEntry{
			ID: awsapi.ToString(e.Id), Body: e.MessageBody, Delay: e.DelaySeconds,
			Attrs: toAttrs(e.MessageAttributes), SysAttrs: toSysAttrs(e.MessageSystemAttributes),
			GroupID: awsapi.ToString(e.MessageGroupId), DedupID: awsapi.ToString(e.MessageDeduplicationId),
			GroupGiven: e.MessageGroupId != nil, DedupGiven: e.MessageDeduplicationId != nil,
		}
		size += len(awsapi.ToString(e.MessageBody))
		for k, v := range e.MessageAttributes {
			size += len(k) + len(awsapi.ToString(v.DataType)) + len(awsapi.ToString(v.StringValue)) + len(v.BinaryValue)
		}
	}
	if err := checkBatch(ids, "SendMessageBatchRequestEntry"); err != nil {
		return nil, err
	}
	if size > maxBatchBytes {
		return nil, sqsapi.ErrBatchRequestTooLong("Batch requests cannot be longer than %s bytes. You have sent %s bytes.", strconv.Itoa(maxBatchBytes), strconv.Itoa(size))
	}
	res, err := s.send(ctx, r, entries)
	if err != nil {
		return nil, err
	}
	out := &sqsapi.SendMessageBatchOutput{Successful: make([]sqsapi.SendMessageBatchResultEntry, 0, len(res)), Failed: []sqsapi.BatchResultErrorEntry{}}
	// The three strings of every successful entry, in one allocation.
	strs := make([]string, 3*len(res))
	for i, e := range res {
		if e.Err != nil {
			out.Failed = append(out.Failed, errorEntry(e.ID, e.Err))
			continue
		}
		s := strs[3*i : 3*i+3 : 3*i+3]
		s[0], s[1], s[2] = e.ID, e.MessageID, e.MD5Body
		out.Successful = append(out.Successful, sqsapi.SendMessageBatchResultEntry{
			Id: &s[0], MessageId: &s[1], MD5OfMessageBody: &s[2],
			MD5OfMessageAttributes: optional(e.MD5Attrs), MD5OfMessageSystemAttributes: optional(e.MD5Sys),
			SequenceNumber: optional(e.SeqNumber),
		})
	}
	return out, nil
}

// ReceiveMessage receives up to MaxNumberOfMessages messages, long polling for
// up to WaitTimeSeconds.
func (s *Service) ReceiveMessage(ctx context.Context, in *sqsapi.ReceiveMessageInput) (*sqsapi.ReceiveMessageOutput, error) {
	r, err := s.ref(ctx, in.QueueUrl)
	if err != nil {
		return nil, err
	}
	n := int32(1)
	if in.MaxNumberOfMessages != nil {
		n = *in.MaxNumberOfMessages
		if n < 1 || n > 10 {
			return nil, errInvalidParameter("Value %d for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided.", n)
		}
	}
	if v := in.VisibilityTimeout; v != nil && (*v < 0 || *v > 43200) {
		return nil, errInvalidParameter("Value %d for parameter VisibilityTimeout is invalid. Reason: Must be between 0 and 43200, if provided.", *v)
	}
	if w := in.WaitTimeSeconds; w != nil && (*w < 0 || *w > 20) {
		return nil, errInvalidParameter("Value %d for parameter WaitTimeSeconds is invalid. Reason: Must be >= 0 and <= 20, if provided.", *w)
	}
	got, err := s.receive(ctx, r, int(n), in.VisibilityTimeout, in.WaitTimeSeconds)
	if err != nil {
		return nil, err
	}
	var sysNames []string
	if len(in.AttributeNames)+len(in.MessageSystemAttributeNames) > 0 {
		sysNames = append(append([]string{}, in.AttributeNames...), in.MessageSystemAttributeNames...)
	}
	out := &sqsapi.ReceiveMessageOutput{}
	if len(got) > 0 {
		out.Messages = make([]sqsapi.Message, 0, len(got))
	}
	for _, g := range got {
		out.Messages = append(out.Messages, render(g, sysNames, in.MessageAttributeNames))
	}
	return out, nil
}

// render builds the Message a consumer sees, with the system attributes and
// message attributes it asked for.
func render(g received, sysNames, attrNames []string) sqsapi.Message {
	m := g.msg
	// The four strings every message has, in one allocation.
	strs := &[4]string{m.ID, g.handle, m.MD5Body, m.Body}
	out := sqsapi.Message{MessageId: &strs[0], ReceiptHandle: &strs[1], MD5OfBody: &strs[2], Body: &strs[3]}
	if len(sysNames) > 0 {
		if attrs := systemAttributes(g, sysNames); len(attrs) > 0 {
			out.Attributes = attrs
		}
	}
	if len(m.Attrs) == 0 {
		return out
	}
	sel := map[string]msgAttr{}
	for name, a := range m.Attrs {
		if wantAttr(name, attrNames) {
			sel[name] = a
		}
	}
	if len(sel) > 0 {
		out.MessageAttributes = map[string]sqsapi.MessageAttributeValue{}
		for name, a := range sel {
			out.MessageAttributes[name] = sqsapi.MessageAttributeValue{
				DataType: awsapi.String(a.DataType), StringValue: a.StringValue, BinaryValue: a.BinaryValue,
				StringListValues: a.StringList, BinaryListValues: a.BinaryList,
			}
		}
		out.MD5OfMessageAttributes = awsapi.String(md5OfAttributes(sel))
	}
	return out
}

// systemAttributes are the system attributes of g named in sysNames ("All"
// for every one).
func systemAttributes(g received, sysNames []string) map[string]string {
	m := g.msg
	sys := map[string]string{
		"SenderId":                         m.SenderID,
		"SentTimestamp":                    strconv.FormatInt(m.Sent, 10),
		"ApproximateReceiveCount":          strconv.FormatInt(m.Received, 10),
		"ApproximateFirstReceiveTimestamp": strconv.FormatInt(m.FirstReceive, 10),
	}
	if g.fifo {
		sys["SequenceNumber"] = padSeq(m.Seq)
		sys["MessageDeduplicationId"] = m.DedupID
	}
	if m.GroupID != "" {
		sys["MessageGroupId"] = m.GroupID
	}
	if th, ok := m.SysAttrs["AWSTraceHeader"]; ok && th.StringValue != nil {
		sys["AWSTraceHeader"] = *th.StringValue
	}
	if m.SourceArn != "" {
		sys["DeadLetterQueueSourceArn"] = m.SourceArn
	}
	attrs := map[string]string{}
	for _, n := range sysNames {
		if n == "All" {
			return sys
		}
		if v, ok := sys[n]; ok {
			attrs[n] = v
		}
	}
	return attrs
}

func padSeq(seq uint64) string {
	s := strconv.FormatUint(seq, 10)
	if len(s) < 20 {
		s = strings.Repeat("0", 20-len(s)) + s
	}
	return s
}

// wantAttr reports whether the MessageAttributeNames filter selects name:
// "All" and ".*" select every attribute, "prefix.*" those with the prefix.
func wantAttr(name string, filter []string) bool {
	for _, f := range filter {
		switch {
		case f == "All" || f == ".*":
			return true
		case strings.HasSuffix(f, ".*"):
			if strings.HasPrefix(name, strings.TrimSuffix(f, "*")) {
				return true
			}
		case f == name:
			return true
		}
	}
	return false
}

// DeleteMessage deletes a received message.
func (s *Service) DeleteMessage(ctx context.Context, in *sqsapi.DeleteMessageInput) (*sqsapi.DeleteMessageOutput, error) {
	r, err := s.ref(ctx, in.QueueUrl)
	if err != nil {
		return nil, err
	}
	h := awsapi.ToString(in.ReceiptHandle)
	if h == "" {
		return nil, errMissingParameter("ReceiptHandle")
	}
	errs, err := s.deleteMessages(r, []string{h})
	if err != nil {
		return nil, err
	}
	if errs[0] != nil {
		return nil, errs[0]
	}
	return &sqsapi.DeleteMessageOutput{}, nil
}

// DeleteMessageBatch deletes up to ten received messages.
func (s *Service) DeleteMessageBatch(ctx context.Context, in *sqsapi.DeleteMessageBatchInput) (*sqsapi.DeleteMessageBatchOutput, error) {
	r, err := s.ref(ctx, in.QueueUrl)
	if err != nil {
		return nil, err
	}
	ids := make([]*string, len(in.Entries))
	handles := make([]string, len(in.Entries))
	for i, e := range in.Entries {
		ids[i] = e.Id
		handles[i] = awsapi.ToString(e.ReceiptHandle)
	}
	if err := checkBatch(ids, "DeleteMessageBatchRequestEntry"); err != nil {
		return nil, err
	}
	errs, err := s.deleteMessages(r, handles)
	if err != nil {
		return nil, err
	}
	out := &sqsapi.DeleteMessageBatchOutput{Successful: make([]sqsapi.DeleteMessageBatchResultEntry, 0, len(errs)), Failed: []sqsapi.BatchResultErrorEntry{}}
	for i, e := range errs {
		if e != nil {
			out.Failed = append(out.Failed, errorEntry(*ids[i], e))
			continue
		}
		out.Successful = append(out.Successful, sqsapi.DeleteMessageBatchResultEntry{Id: ids[i]})
	}
	return out, nil
}

// ChangeMessageVisibility changes the visibility timeout of an in-flight message.
func (s *Service) ChangeMessageVisibility(ctx context.Context, in *sqsapi.ChangeMessageVisibilityInput) (*sqsapi.ChangeMessageVisibilityOutput, error) {
	r, err := s.ref(ctx, in.QueueUrl)
	if err != nil {
		return nil, err
	}
	h := awsapi.ToString(in.ReceiptHandle)
	if h == "" {
		return nil, errMissingParameter("ReceiptHandle")
	}
	errs, err := s.changeVisibility(r, []visibilityChange{{Handle: h, Timeout: in.VisibilityTimeout}})
	if err != nil {
		return nil, err
	}
	if errs[0] != nil {
		return nil, errs[0]
	}
	return &sqsapi.ChangeMessageVisibilityOutput{}, nil
}

// ChangeMessageVisibilityBatch changes the visibility timeouts of up to ten messages.
func (s *Service) ChangeMessageVisibilityBatch(ctx context.Context, in *sqsapi.ChangeMessageVisibilityBatchInput) (*sqsapi.ChangeMessageVisibilityBatchOutput, error) {
	r, err := s.ref(ctx, in.QueueUrl)
	if err != nil {
		return nil, err
	}
	ids := make([]*string, len(in.Entries))
	changes := make([]visibilityChange, len(in.Entries))
	for i, e := range in.Entries {
		ids[i] = e.Id
		changes[i] = visibilityChange{Handle: awsapi.ToString(e.ReceiptHandle), Timeout: e.VisibilityTimeout}
	}
	if err := checkBatch(ids, "ChangeMessageVisibilityBatchRequestEntry"); err != nil {
		return nil, err
	}
	errs, err := s.changeVisibility(r, changes)
	if err != nil {
		return nil, err
	}
	out := &sqsapi.ChangeMessageVisibilityBatchOutput{Successful: []sqsapi.ChangeMessageVisibilityBatchResultEntry{}, Failed: []sqsapi.BatchResultErrorEntry{}}
	for i, e := range errs {
		if e != nil {
			out.Failed = append(out.Failed, errorEntry(*ids[i], e))
			continue
		}
		out.Successful = append(out.Successful, sqsapi.ChangeMessageVisibilityBatchResultEntry{Id: ids[i]})
	}
	return out, nil
}
