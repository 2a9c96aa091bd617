package sqs

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/wharf-dev/wharf/internal/apierr"
	"github.com/wharf-dev/wharf/internal/awsapi"
	sqsapi "github.com/wharf-dev/wharf/internal/awsapi/sqs"
	"github.com/wharf-dev/wharf/internal/lazyregexp"
	"github.com/wharf-dev/wharf/internal/store"
	"github.com/wharf-dev/wharf/internal/timeline"
)

// message is a message as stored.
type message struct {
	ID           string
	Seq          uint64
	Body         string
	Attrs        map[string]msgAttr `json:",omitempty"`
	SysAttrs     map[string]msgAttr `json:",omitempty"`
	MD5Body      string
	Sent         int64  // unix ms
	VisibleAt    int64  // unix ms; in the future while delayed or in flight
	Received     int64  // receive count
	FirstReceive int64  `json:",omitempty"` // unix ms
	Token        string `json:",omitempty"` // of the latest receipt handle
	SenderID     string
	GroupID      string `json:",omitempty"`
	DedupID      string `json:",omitempty"`
	SourceArn    string `json:",omitempty"` // the queue a dead-letter queue got it from

	// size is the length of the message's record as stored, set when it
	// is read or stored: it decides where the message's receive state is
	// kept (see stateRecordMin).
	size int
	// vis is the flag of m's visibility index entry plus one, set when m
	// is read whole (with its receive state) or stored: every stored
	// message has one entry, at (VisibleAt, Seq), flagged visReceived once
	// it was received, so removing it needs no read. Zero when unknown.
	vis byte
}

// visFlag is the visibility index flag of a message received n times.
func visFlag(n int64) byte {
	if n > 0 {
		return visReceived
	}
	return visFresh
}

// Visibility index values: whether a message not visible now is delayed
// (never received) or in flight.
const (
	visFresh    = 0
	visReceived = 1
)

func putMessage(tx store.Tx, qid string, m *message) error { return storeMessage(tx, qid, m, false) }

// putNewMessage is putMessage for a message of a Seq never stored before,
// which no visibility index entry can name yet: it does not look for one.
func putNewMessage(tx store.Tx, qid string, m *message) error { return storeMessage(tx, qid, m, true) }

func storeMessage(tx store.Tx, qid string, m *message, fresh bool) error {
	var rec []byte
	if t, ok := tx.(*txn); ok {
		t.rec = encodeMessage(t.rec[:0], m) // Put copies it
		rec = t.rec
	} else {
		rec = encodeMessage(nil, m)
	}
	if err := tx.Put(msgKeyIn(tx, qid, m.Seq), rec); err != nil {
		return err
	}
	m.size = len(rec)
	if err := indexGroup(tx, qid, m); err != nil {
		return err
	}
	flag := visFlag(m.Received)
	m.vis = 1 + flag
	if fresh {
		return addVis(tx, qid, m.VisibleAt, m.Seq, flag)
	}
	return putVis(tx, qid, m.VisibleAt, m.Seq, flag)
}

func getMessage(tx store.Tx, qid string, seq uint64) (*message, error) {
	m := &message{}
	if ok, err := readMessageInto(tx, qid, seq, decodeMessage, m); !ok {
		return nil, err
	}
	return m, nil
}

// readMessageInto reads the message seq of queue qid into m, which it
// clears first, with decode (decodeMessage, or decodeMessageHead when the
// body is not needed), and its receive state; ok is false when the message
// is not there or on an error.
func readMessageInto(tx store.Tx, qid string, seq uint64, decode func([]byte, *message) error, m *message) (ok bool, err error) {
	return readInto(tx, qid, seq, decode, m, true)
}

// readInto is readMessageInto, which reads the state record only when
// received is true: a message whose visibility index entry is visFresh
// was never received and has none.
func readInto(tx store.Tx, qid string, seq uint64, decode func([]byte, *message) error, m *message, received bool) (ok bool, err error) {
	v, err := tx.Get(msgKeyIn(tx, qid, seq))
	if err != nil || v == nil {
		return false, err
	}
	*m = message{} // an older JSON record leaves out what it omitted
	if err := decode(v, m); err != nil {
		return false, fmt.Errorf("decode message: %w", err)
	}
	m.size = len(v)
	if received {
		if err := readState(tx, qid, m); err != nil {
			return false, err
		}
	}
	// A message read without its state record was never received (see
	// readInto's callers): its record's count is its state.
	m.vis = 1 + visFlag(m.Received)
	return true, nil
}

// readState sets m's receive state from its state record, when it has one.
func readState(tx store.Tx, qid string, m *message) error {
	if m.size <= stateRecordMin {
		return nil
	}
	v, err := tx.Get(stateKeyIn(tx, qid, m.Seq))
	if err != nil || v == nil {
		return err
	}
	if err := decodeState(v, m); err != nil {
		return fmt.Errorf("decode message state: %w", err)
	}
	return nil
}

// removeMessage deletes m, its state record and its index entries.
func removeMessage(tx store.Tx, qid string, m *message) error {
	if err := tx.Delete(msgKeyIn(tx, qid, m.Seq)); err != nil {
		return err
	}
	if m.Received > 0 && m.size > stateRecordMin { // only those have a state record
		if err := tx.Delete(stateKeyIn(tx, qid, m.Seq)); err != nil {
			return err
		}
	}
	if err := unindexGroup(tx, qid, m); err != nil {
		return err
	}
	if err := dropVis(tx, qid, m); err != nil {
		return err
	}
	return addCount(tx, qid, -1)
}

// setVisibleAt moves m in the visibility index and stores its receive
// state: in its state record when m is a received message whose record is
// larger than stateRecordMin, leaving the message record as it is;
// otherwise by storing m whole. A message has one index entry, removed
// first, so the new one is added without looking for it: on disk, a lookup
// of a key the overlay does not have reads the bbolt file.
func setVisibleAt(tx store.Tx, qid string, m *message, at int64) error {
	if err := dropVis(tx, qid, m); err != nil {
		return err
	}
	m.VisibleAt = at
	if m.Received == 0 || m.size <= stateRecordMin {
		return storeMessage(tx, qid, m, true)
	}
	var rec []byte
	if t, ok := tx.(*txn); ok {
		t.rec = encodeState(t.rec[:0], m) // Put copies it
		rec = t.rec
	} else {
		rec = encodeState(nil, m)
	}
	if err := tx.Put(stateKeyIn(tx, qid, m.Seq), rec); err != nil {
		return err
	}
	if err := indexGroup(tx, qid, m); err != nil {
		return err
	}
	m.vis = 1 + visReceived
	return addVis(tx, qid, at, m.Seq, visReceived)
}

// Receipt handles name the queue instance, the message and its latest receive.

func receiptHandle(qid string, m *message) string {
	// qid:SEQ:TOKEN, built and encoded in buffers on the stack: every
	// received message gets one, and the concatenation, its []byte copy and
	// EncodeToString's own buffer were three allocations each.
	var raw [96]byte
	b := append(raw[:0], qid...)
	b = append(b, ':')
	b = strconv.AppendUint(b, m.Seq, 16)
	b = append(b, ':')
	b = append(b, m.Token...)
	var enc [128]byte
	out := enc[:0]
	if n := base64.RawURLEncoding.EncodedLen(len(b)); n > len(enc) {
		out = make([]byte, 0, n)
	}
	return string(base64.RawURLEncoding.AppendEncode(out, b))
}

// parseReceiptHandle splits a handle into its queue id, sequence number
// and token. The ids are the decoded handle's bytes, not strings of their
// own: every handle of a delete is parsed, and they are only compared.
func parseReceiptHandle(h string) (qid []byte, seq uint64, token []byte, ok bool) {
	b, err := base64.RawURLEncoding.DecodeString(h)
	if err != nil {
		return nil, 0, nil, false
	}
	// Exactly three parts, as strings.Split(s, ":") of length 3 would give.
	i := bytes.IndexByte(b, ':')
	if i < 0 {
		return nil, 0, nil, false
	}
	j := bytes.IndexByte(b[i+1:], ':')
	if j < 0 {
		return nil, 0, nil, false
	}
	j += i + 1
	if bytes.IndexByte(b[j+1:], ':') >= 0 {
		return nil, 0, nil, false
	}
	seq, err = strconv.ParseUint(string(b[i+1:j]), 16, 64)
	if err != nil {
		return nil, 0, nil, false
	}
	return b[:i], seq, b[j+1:], true
}

// sendEntry is one message to send.
type sendEntry struct {
	ID       string // batch entry id
	Body     *string
	Delay    *int32
	Attrs    map[string]msgAttr
	SysAttrs map[string]msgAttr
	GroupID  string
	DedupID  string
	// GroupGiven and DedupGiven mark ids the request carried, even empty:
	// an empty one is a bad value, not a missing one.
	GroupGiven, DedupGiven bool
	// Cause is the message's timeline cause when it is not the context's
	// (SendMessages: each message of the batch has its own).
	Cause string
}

// messageIDRE is what a MessageGroupId and a MessageDeduplicationId may be:
// alphanumeric and punctuation characters, 1 to 128 of them.
var messageIDRE = lazyregexp.New(`^[\x21-\x7E]{1,128}$`)

// sendResult is one sent message, or the error of its entry.
type sendResult struct {
	ID        string
	MessageID string
	MD5Body   string
	MD5Attrs  string
	MD5Sys    string
	SeqNumber string
	Err       error
}

var attrNameRE = lazyregexp.New(`^[A-Za-z0-9_.-]{1,256}$`)

// validBody reports whether body has only the characters SQS allows:
// #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF.
func validBody(body string) bool {
	for i := 0; i < len(body); {
		// ASCII, most bodies, a byte at a time: a rune decode per byte was
		// a tenth of an SNS fan-out's delivery to each queue.
		if c := body[i]; c < utf8.RuneSelf {
			if c < 0x20 && c != 0x9 && c != 0xA && c != 0xD {
				return false
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(body[i:])
		if r == utf8.RuneError && size <= 1 {
			return false
		}
		switch {
		case r <= 0xD7FF: // (r >= 0x80 here)
		case r >= 0xE000 && r <= 0xFFFD:
		case r >= 0x10000 && r <= 0x10FFFF:
		default:
			return false
		}
		i += size
	}
	return true
}

func validateAttrs(attrs map[string]msgAttr, system bool) (int, error) {
	if len(attrs) > 10 {
		return 0, errInvalidParameter("Number of message attributes [%d] exceeds the allowed maximum [10].", len(attrs))
	}
	size := 0
	for name, a := range attrs {
		if system {
			if name != "AWSTraceHeader" {
				return 0, errInvalidParameter("Message system attribute name '%s' is invalid.", name)
			}
		} else if !attrNameRE.MatchString(name) || strings.HasPrefix(strings.ToLower(name), "aws.") ||
			strings.HasPrefix(strings.ToLower(name), "amazon.") || strings.HasPrefix(name, ".") ||
			strings.HasSuffix(name, ".") || strings.Contains(name, "..") {
			return 0, errInvalidParameter("Message (user) attribute name '%s' is invalid.", name)
		}
		base, _, _ := strings.Cut(a.DataType, ".")
		if a.DataType == "" {
			return 0, errInvalidParameter("The message attribute '%s' must contain a non-empty attribute type.", name)
		}
		if base != "String" && base != "Number" && base != "Binary" {
			return 0, errInvalidParameter("The type of message (user) attribute '%s' is invalid. You must use only the following supported type prefixes: Binary, Number, String.", name)
		}
		switch base {
		case "String", "Number":
			if a.StringValue == nil || *a.StringValue == "" {
				// SQS's recorded words for an empty value.
				return 0, errInvalidParameter("Message (user) attribute '%s' must contain a non-empty value of type '%s'.", name, base)
			}
			if base == "Number" {
				if _, err := strconv.ParseFloat(*a.StringValue, 64); err != nil {
					return 0, errInvalidParameter("Can't cast the value of message (user) attribute '%s' to a number.", name)
				}
			}
			if !validBody(*a.StringValue) {
				return 0, sqsapi.ErrInvalidMessageContents("Invalid characters found. Valid unicode characters are #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF")
			}
			size += len(*a.StringValue)
		case "Binary":
			if len(a.BinaryValue) == 0 {
				return 0, errInvalidParameter("The message attribute '%s' must contain a non-empty message attribute value for message attribute type '%s'.", name, base)
			}
			size += len(a.BinaryValue)
		}
		size += len(name) + len(a.DataType)
	}
	return size, nil
}

// checkFIFOBatch refuses a whole SendMessageBatch to a FIFO queue with an
// entry that has no MessageGroupId, or no MessageDeduplicationId where the
// queue does not deduplicate by content: SQS answers those for the batch, not
// the entry (its recorded answers). Batch entries have ids; SendMessage's
// one entry has none.
func checkFIFOBatch(q *queue, entries []*sendEntry) error {
	if !q.fifo() || len(entries) == 0 || entries[0].ID == "" {
		return nil
	}
	for _, e := range entries {
		if !e.GroupGiven {
			return errInvalidParameter("The request must contain the parameter MessageGroupId.")
		}
	}
	if q.Attrs["ContentBasedDeduplication"] != "true" {
		for _, e := range entries {
			if !e.DedupGiven {
				return errInvalidParameter("The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly")
			}
		}
	}
	return nil
}

// prepareInto validates e for q and builds its message in m, without its
// id, Seq, times and MD5Body: sendTo makes those for all its messages at
// once.
func (s *Service) prepareInto(q *queue, e *sendEntry, sender string, m *message) error {
	body := awsapi.ToString(e.Body)
	if e.Body == nil || body == "" {
		return errMissingParameter("MessageBody")
	}
	if !validBody(body) {
		return sqsapi.ErrInvalidMessageContents("Invalid characters found. Valid unicode characters are #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF")
	}
	size, err := validateAttrs(e.Attrs, false)
	if err != nil {
		return err
	}
	if _, err := validateAttrs(e.SysAttrs, true); err != nil {
		return err
	}
	max := q.intAttr("MaximumMessageSize")
	if int64(len(body)+size) > max {
		return errInvalidParameter("One or more parameters are invalid. Reason: Message must be shorter than %d bytes.", max)
	}
	if e.Delay != nil {
		if *e.Delay < 0 || *e.Delay > 900 {
			return errInvalidParameter("Value %d for parameter DelaySeconds is invalid. Reason: DelaySeconds must be >= 0 and <= 900.", *e.Delay)
		}
		// A FIFO queue takes no per-message delay, but SQS accepts 0, the
		// value SDKs and frameworks send when none is asked for.
		if q.fifo() && *e.Delay != 0 {
			return errInvalidParameter("Value %d for parameter DelaySeconds is invalid. Reason: The request include parameter that is not valid for this queue type.", *e.Delay)
		}
	}
	if e.GroupGiven && !messageIDRE.MatchString(e.GroupID) {
		return errInvalidParameter("Value %s for parameter MessageGroupId is invalid. Reason: MessageGroupId can only include alphanumeric and punctuation characters. 1 to 128 in length.", e.GroupID)
	}
	if e.DedupGiven && q.fifo() && !messageIDRE.MatchString(e.DedupID) {
		return errInvalidParameter("Value %s for parameter MessageDeduplicationId is invalid. Reason: MessageDeduplicationId can only include alphanumeric and punctuation characters. 1 to 128 in length.", e.DedupID)
	}
	*m = message{Body: body, Attrs: e.Attrs, SysAttrs: e.SysAttrs, SenderID: sender, GroupID: e.GroupID}
	if q.fifo() {
		if e.GroupID == "" {
			return errMissingParameter("MessageGroupId")
		}
		m.DedupID = e.DedupID
		if m.DedupID == "" {
			if q.Attrs["ContentBasedDeduplication"] != "true" {
				return errInvalidParameter("The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly")
			}
			sum := sha256.Sum256([]byte(body))
			m.DedupID = hex.EncodeToString(sum[:])
		}
	} else if e.DedupID != "" {
		return errInvalidParameter("Value %s for parameter MessageDeduplicationId is invalid. Reason: The request includes a parameter that is not valid for this queue type.", e.DedupID)
	}
	return nil
}

// dedupRecord remembers a FIFO message for the 5-minute deduplication interval.
type dedupRecord struct {
	Expires   int64 // unix ms
	MessageID string
	Seq       uint64
}

const dedupInterval = 5 * time.Minute

// queueSend is what one call sends to one queue, and what became of it.
// The caller sets r, entries and, to find its own inputs again, at; sendTo
// sets the rest.
type queueSend struct {
	r       queueRef
	entries []*sendEntry
	at      []int // the caller's index of each entry, when it needs one
	// err refuses every entry (the queue does not exist, a FIFO batch
	// rule); otherwise results has each entry's message, or its error.
	err     error
	results []sendResult

	q            *queue
	msgs         []*message
	added, bytes int64
	ids          []string
}

// add appends e, the caller's input i, to the send of sends to r, and
// returns sends with a new send for r when it had none: one store
// transaction's messages for a queue are put together.
func add(sends []queueSend, r queueRef, e *sendEntry, i int) []queueSend {
	return addLists(sends, r, []*sendEntry{e}, []int{i})
}

// addLists is add for the entry e[0], the caller's input i[0], whose
// one-element slices (of the caller's arrays, full to their capacity, so
// that appending to them copies) become the lists of a new send.
func addLists(sends []queueSend, r queueRef, e []*sendEntry, i []int) []queueSend {
	for j := range sends {
		if sends[j].r == r {
			sends[j].entries = append(sends[j].entries, e[0])
			sends[j].at = append(sends[j].at, i[0])
			return sends
		}
	}
	return append(sends, queueSend{r: r, entries: e, at: i})
}

// sendTo is the one way messages are sent: SendMessage, SendMessageBatch,
// DeliverToQueue(s) and SendMessages differ only in how they build the
// sends and report their results. Every entry is validated and prepared as
// SendMessage's, and the messages of every send are stored in one store
// update (on a durable store one commit and one sync). An entry that fails
// gets its error in its result, a queue that refuses them all its send's
// err, and neither stops the others. The error returned is the store's,
// and fails every send.
func (s *Service) sendTo(ctx context.Context, sends []queueSend) error {
	return s.sendToWith(ctx, sends, nil, nil)
}

// sendToWith is sendTo that, when it stores messages, also makes the
// writes of also (if not nil) in their update, and sets *ran: the error
// returned is then also's too.
func (s *Service) sendToWith(ctx context.Context, sends []queueSend, also func(store.Tx) error, ran *bool) error {
	// SQS reports the sender's account id for root credentials
	// (SenderId); a delivering service acts for the queue's owner when no
	// caller is known.
	caller := awsapi.CallerFrom(ctx).Account
	n := 0
	for i := range sends {
		qs := &sends[i]
		qs.q, qs.err = s.viewQueue(qs.r)
		if qs.err == nil {
			qs.err = checkFIFOBatch(qs.q, qs.entries)
		}
		if qs.err == nil {
			n += len(qs.entries)
		}
	}
	// Every send's results and messages, in one allocation each, or all
	// three in one for a single message (SendMessage, a delivery). And
	// room for the ids each stores (putMessages appends them), capped per
	// send, rather than each grown from nothing.
	var results []sendResult
	var msgs []*message
	var backing []message
	var stored []string
	if n == 1 {
		one := new(struct {
			results [1]sendResult
			msgs    [1]*message
			backing [1]message
			stored  [1]string
		})
		results, msgs, backing, stored = one.results[:], one.msgs[:], one.backing[:], one.stored[:]
	} else {
		results, msgs, backing, stored = make([]sendResult, n), make([]*message, n), make([]message, n), make([]string, n)
	}
	all := msgs
	valid := 0
	for i := range sends {
		qs := &sends[i]
		if qs.err != nil {
			continue
		}
		k := len(qs.entries)
		qs.results, qs.msgs, qs.ids = results[:k:k], msgs[:k:k], stored[:0:k]
		results, msgs, stored = results[k:], msgs[k:], stored[k:]
		sender := caller
		if sender == "" {
			sender = qs.r.account
		}
		for j, e := range qs.entries {
			qs.results[j].ID = e.ID
			m := &backing[valid]
			if err := s.prepareInto(qs.q, e, sender, m); err != nil {
				qs.results[j].Err = err
				continue
			}
			qs.msgs[j] = m
			valid++
		}
	}
	if valid == 0 {
		return nil
	}
	// The ids and body digests of the valid entries, each kind made for all
	// of them at once.
	ids := make([]string, valid)
	s.newIDs(ids)
	digests := md5Hexes(all, valid)
	j := 0
	for i := range sends {
		qs := &sends[i]
		for k, m := range qs.msgs {
			if m == nil {
				continue
			}
			m.ID, m.MD5Body = ids[j], digests[32*j:32*j+32]
			j++
			res := &qs.results[k]
			res.MessageID, res.MD5Body = m.ID, m.MD5Body
		}
	}
	now := s.clock.Now().UnixMilli()
	if also != nil {
		*ran = true // in this update, whatever becomes of it
	}
	err := s.update(func(tx *txn) error {
		// Sequence numbers are drawn here, where updates take turns, so
		// that they follow the order messages are stored in: a message
		// stored after another of its FIFO group was received must not go
		// ahead of it in the group, where it would be received while that
		// one is still in flight.
		numberMessages(sends, s.nextSeqs(valid))
		for i := range sends {
			qs := &sends[i]
			if qs.err != nil {
				continue
			}
			var err error
			qs.added, qs.bytes, qs.ids, err = s.putMessages(tx, qs.r, qs.q, qs.entries, qs.msgs, qs.results, now, qs.ids[:0])
			if err != nil {
				if apierr.As(err) == nil {
					return err
				}
				// The queue is gone: putMessages wrote nothing for it.
				qs.err, qs.added = err, 0
			}
		}
		if also != nil {
			if err := also(tx); err != nil {
				return err
			}
		}
		for i := range sends {
			if qs := &sends[i]; qs.err == nil {
				s.recordSent(ctx, qs.r, qs.added, qs.ids, addedCauses(qs.entries, qs.msgs, qs.results), &tx.late)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for i := range sends {
		qs := &sends[i]
		if qs.err == nil {
			s.stored(qs.r, qs.added, qs.bytes)
		}
	}
	return nil
}

// numberMessages gives the prepared messages of sends consecutive
// sequence numbers from seq, and FIFO queues' results theirs.
func numberMessages(sends []queueSend, seq uint64) {
	for i := range sends {
		qs := &sends[i]
		fifo := qs.err == nil && qs.q.fifo()
		for k, m := range qs.msgs {
			if m == nil {
				continue
			}
			m.Seq = seq
			seq++
			if fifo {
				qs.results[k].SeqNumber = padSeq(m.Seq)
			}
		}
	}
}

// send sends entries to the queue r names with sendTo, and gives each
// successful entry the MD5 digests of its attributes that SendMessage and
// SendMessageBatch answer with. A queue that refuses them all is the error.
func (s *Service) send(ctx context.Context, r queueRef, entries []*sendEntry) ([]sendResult, error) {
	sends := []queueSend{{r: r, entries: entries}}
	if err := s.sendTo(ctx, sends); err != nil {
		return nil, err
	}
	qs := &sends[0]
	if qs.err != nil {
		return nil, qs.err
	}
	for i := range qs.results {
		if res := &qs.results[i]; res.Err == nil {
			res.MD5Attrs = md5OfAttributes(entries[i].Attrs)
			res.MD5Sys = md5OfAttributes(entries[i].SysAttrs)
		}
	}
	return qs.results, nil
}

// putMessages is send's part inside the store update: it stores the prepared
// messages msgs of entries (nil for an entry that failed validation) in q,
// which r names, appending the ids stored to ids. A queue deleted (or
// deleted and created again) since q was read is QueueDoesNotExist, before
// anything is written. A FIFO duplicate gets the original's id in results.
func (s *Service) putMessages(tx *txn, r queueRef, q *queue, entries []*sendEntry, msgs []*message, results []sendResult, now int64, ids []string) (added, addedBytes int64, _ []string, err error) {
	cur, err := s.getQueue(tx, r.account, r.region, r.name)
	if err != nil {
		return 0, 0, ids, err
	}
	if cur.ID != q.ID {
		return 0, 0, ids, errQueueDoesNotExist()
	}
	// A queue only sent to must not leave its count to read every
	// message sent since its last receive.
	if err := settleVis(tx, q.ID, now); err != nil {
		return 0, 0, ids, err
	}
	delay, fifo := q.intAttr("DelaySeconds"), q.fifo()
	for i, m := range msgs {
		if m == nil {
			continue
		}
		if fifo {
			dk := m.DedupID
			if q.Attrs["DeduplicationScope"] == "messageGroup" {
				dk = m.GroupID + "\x00" + dk
			}
			v, err := tx.Get(dedupKey(q.ID, dk))
			if err != nil {
				return 0, 0, ids, err
			}
			var rec dedupRecord
			if v != nil && json.Unmarshal(v, &rec) == nil && rec.Expires > now {
				// A duplicate is accepted but not delivered again (FIFO
				// exactly-once processing): the original's id comes back.
				results[i].MessageID = rec.MessageID
				results[i].SeqNumber = padSeq(rec.Seq)
				continue
			}
			rb, _ := json.Marshal(dedupRecord{Expires: now + dedupInterval.Milliseconds(), MessageID: m.ID, Seq: m.Seq})
			if err := tx.Put(dedupKey(q.ID, dk), rb); err != nil {
				return 0, 0, ids, err
			}
		}
		d := delay
		if entries[i].Delay != nil {
			d = int64(*entries[i].Delay)
		}
		mm := *m
		mm.Sent = now
		mm.VisibleAt = now + d*1000
		if err := putNewMessage(tx, q.ID, &mm); err != nil {
			return 0, 0, ids, err
		}
		added++
		addedBytes += int64(len(m.Body))
		ids = append(ids, m.ID)
	}
	return added, addedBytes, ids, addCount(tx, q.ID, added)
}

// addedCauses returns the causes of the entries whose messages send added,
// in order, or nil when no entry has its own (SendMessages' entries do).
func addedCauses(entries []*sendEntry, msgs []*message, results []sendResult) []string {
	if !slices.ContainsFunc(entries, func(e *sendEntry) bool { return e.Cause != "" }) {
		return nil
	}
	var causes []string
	for i, m := range msgs {
		// A deduplicated message answers with the original's id.
		if m != nil && results[i].Err == nil && results[i].MessageID == m.ID {
			causes = append(causes, entries[i].Cause)
		}
	}
	return causes
}

// recordSent records on the timeline the messages putMessages added. It
// runs last in their update, so that a receive, which can only see them
// once the update is over, is recorded after them: recorded after the
// update, a send could come after the receive of its message in the
// queue's timeline and in the message's trace. Their log lines, which
// may wait on the log's writer, are left in *unlogged, the txn's, which
// Service.update logs once the update is committed (or follows with a
// failure, see unsent, when the store refused it). causes[i], when
// causes is not nil, is the timeline cause of ids[i].
func (s *Service) recordSent(ctx context.Context, r queueRef, added int64, ids, causes []string, unlogged *[]timeline.Entry) {
	if added == 0 {
		return
	}
	n := s.counters(r.key()).namesOf(r)
	s.sent(ctx, n.arn, n.sentDetail, ids, causes, unlogged)
}

// stored tells the queue's receivers and counters of the messages
// putMessages added, once they are committed.
func (s *Service) stored(r queueRef, added, addedBytes int64) {
	if added == 0 {
		return
	}
	qk := r.key()
	s.notify(qk)
	c := s.counters(qk)
	c.sent.Add(added)
	c.sentBytes.Add(addedBytes)
}

// received is a message handed to a consumer.
type received struct {
	msg    *message
	handle string
	fifo   bool
}

// receive returns up to n visible messages, making them invisible for vt
// seconds (the queue's VisibilityTimeout when nil). With wait > 0 it long
// polls: it returns as soon as a message is available, or after wait.
func (s *Service) receive(ctx context.Context, r queueRef, n int, vt *int32, wait *int32) (got []received, err error) {
	q, err := s.viewQueue(r)
	if err != nil {
		return nil, err
	}
	w := q.intAttr("ReceiveMessageWaitTimeSeconds")
	if wait != nil {
		w = int64(*wait)
	}
	deadline := s.clock.Now().Add(time.Duration(w) * time.Second)
	qk := r.key()
	defer func() {
		if err == nil {
			c := s.counters(qk)
			if len(got) == 0 {
				c.emptyReceives.Add(1)
			} else {
				c.received.Add(int64(len(got)))
			}
		}
	}()
	for {
		// Before looking, so a send in between wakes us; a receive that
		// does not wait makes no channel for the next send to close.
		var ch <-chan struct{}
		if w > 0 {
			ch = s.waitChan(qk)
		}
		var next int64
		got, next, err = s.receiveOnce(r, n, vt)
		if err != nil || len(got) > 0 || w <= 0 {
			return got, err
		}
		now := s.clock.Now()
		left := deadline.Sub(now)
		if left <= 0 {
			return nil, nil
		}
		if next > 0 {
			if d := time.UnixMilli(next).Sub(now); d < left {
				left = max(d, time.Millisecond)
			}
		}
		select {
		case <-ctx.Done():
			return nil, nil
		case <-ch:
		case <-s.clock.After(left):
		}
	}
}

// receiveOnce receives without waiting. next is the earliest time (unix ms)
// at which another message becomes visible, 0 when unknown.
func (s *Service) receiveOnce(r queueRef, max int, vt *int32) (out []received, next int64, err error) {
	now := s.clock.Now().UnixMilli()
	var notifyKeys []string
	var moved []timeline.Entry
	err = s.update(func(tx *txn) error {
		out, next, notifyKeys, moved = nil, 0, nil, nil
		q, err := s.getQueue(tx, r.account, r.region, r.name)
		if err != nil {
			return err
		}
		timeout := q.intAttr("VisibilityTimeout")
		if vt != nil {
			timeout = int64(*vt)
		}
		retention := q.intAttr("MessageRetentionPeriod") * 1000
		rp := q.redrive()
		var dlq *queue
		if rp != nil {
			if region, account, name, ok := parseQueueARN(rp.DeadLetterTargetArn); ok {
				dlq, err = s.getQueue(tx, account, region, name)
				if err != nil && apierr.As(err) == nil {
					return err
				}
			}
		}
		if q.fifo() {
			if err := ensureGroups(tx, q.ID); err != nil {
				return err
			}
		}
		if err := settleVis(tx, q.ID, now); err != nil {
			return err
		}
		var after []byte // resume point of the next scan round
		// The messages handled in this call: at most max (10), so a slice
		// searched in place is cheaper than a map.
		var seenBuf [16]uint64
		seen := seenBuf[:0]
		// Receipt handle tokens, drawn for the messages this call may
		// still receive at once: one call to the random source and one
		// string for them all, not two allocations each.
		var tokens string
		for len(out) < max {
			var cands []*message
			if q.fifo() {
				cands, after, err = fifoCandidates(tx, q.ID, now, max-len(out), after)
			} else {
				cands, after, next, err = standardCandidates(tx, q.ID, now, max-len(out), after)
			}
			if err != nil {
				return err
			}
			if len(cands) == 0 {
				break
			}
			for _, m := range cands {
				if slices.Contains(seen, m.Seq) {
					continue // received with a zero timeout earlier in this call
				}
				seen = append(seen, m.Seq)
				switch {
				case now-m.Sent > retention:
					if err := removeMessage(tx, q.ID, m); err != nil {
						return err
					}
				case dlq != nil && m.Received >= rp.MaxReceiveCount:
					// The receive that would exceed maxReceiveCount moves the
					// message to the dead-letter queue instead.
					if err := removeMessage(tx, q.ID, m); err != nil {
						return err
					}
					m.Seq = s.nextSeq()
					m.VisibleAt = now
					m.SourceArn = q.arn()
					if err := putMessage(tx, dlq.ID, m); err != nil {
						return err
					}
					if err := addCount(tx, dlq.ID, 1); err != nil {
						return err
					}
					notifyKeys = append(notifyKeys, string(queueKey(dlq.Account, dlq.Region, dlq.Name)))
					moved = append(moved, timeline.Entry{Kind: "MovedToDeadLetterQueue", Resource: dlq.arn(), Subject: m.ID,
						Detail: fmt.Sprintf("message received %d times from %s moved to dead-letter queue %s", m.Received, q.Name, dlq.Name)})
				default:
					m.Received++
					if m.FirstReceive == 0 {
						m.FirstReceive = now
					}
					if tokens == "" {
						tokens = s.randomToken(12 * (max - len(out)))
					}
					m.Token, tokens = tokens[:24], tokens[24:]
					if err := setVisibleAt(tx, q.ID, m, now+timeout*1000); err != nil {
						return err
					}
					out = append(out, received{msg: m, handle: receiptHandle(q.ID, m), fifo: q.fifo()})
				}
			}
			if after == nil {
				break
			}
		}
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	for _, k := range notifyKeys {
		s.notify(k)
	}
	for _, e := range moved {
		s.hop(context.Background(), e)
	}
	arn := queueARN(r.region, r.account, r.name)
	for _, m := range out {
		s.hop(context.Background(), timeline.Entry{Kind: "MessageReceived", Resource: arn, Subject: m.msg.ID, Quiet: true,
			Detail: "message received from " + r.name + " (receive " + strconv.FormatInt(m.msg.Received, 10) + ")"})
	}
	return out, next, nil
}

// standardCandidates scans the visibility index from after for up to n
// messages visible at now. It returns where the next round should resume (nil
// when the scan reached invisible messages or the end) and the earliest time
// an invisible message becomes visible.
func standardCandidates(tx store.Tx, qid string, now int64, n int, after []byte) (cands []*message, resume []byte, next int64, err error) {
	p := visPrefix(qid)
	var seqBuf [16]uint64
	seqs := seqBuf[:0]
	var receivedBuf [16]bool
	received := receivedBuf[:0]
	var last []byte
	err = tx.Scan(p, after, func(k, v []byte) (bool, error) {
		at := int64(binary.BigEndian.Uint64(k[len(p):]))
		if at > now {
			next = at
			return false, nil
		}
		if len(seqs) == n {
			resume = append(last, 0)
			return false, nil
		}
		seqs = append(seqs, binary.BigEndian.Uint64(k[len(p)+8:]))
		received = append(received, flagOf(v) == visReceived)
		// The key is copied (Scan's k is the store's) into one buffer
		// reused for each, not cloned per key.
		last = append(last[:0], k...)
		return true, nil
	})
	if err != nil {
		return nil, nil, 0, err
	}
	// The candidates in one allocation, not one each.
	msgs := make([]message, len(seqs))
	cands = make([]*message, 0, len(seqs))
	for i, seq := range seqs {
		ok, err := readInto(tx, qid, seq, decodeMessage, &msgs[i], received[i])
		if err != nil {
			return nil, nil, 0, err
		}
		if ok {
			cands = append(cands, &msgs[i])
		}
	}
	if resume == nil && len(seqs) == n {
		resume = append(last, 0)
	}
	return cands, resume, next, nil
}

// resolveHandle finds the message a receipt handle names, decoded into m
// by decode (decodeMessage, or decodeMessageHead when its body is not
// needed); found is false when it is no longer there.
func resolveHandle(tx store.Tx, q *queue, h string, decode func([]byte, *message) error, m *message) (found bool, token []byte, err error) {
	qid, seq, token, ok := parseReceiptHandle(h)
	if !ok || string(qid) != q.ID {
		return false, nil, errReceiptHandleInvalid(h)
	}
	found, err = readMessageInto(tx, q.ID, seq, decode, m)
	return found, token, err
}

// deleteMessages deletes the messages of handles; errs[i] is the error of handles[i].
func (s *Service) deleteMessages(r queueRef, handles []string) ([]error, error) {
	now := s.clock.Now().UnixMilli()
	errs := make([]error, len(handles))
	deleted := int64(0)
	deletedIDs := make([]string, 0, len(handles))
	err := s.update(func(tx *txn) error {
		clear(errs)
		deleted, deletedIDs = 0, deletedIDs[:0]
		q, err := s.getQueue(tx, r.account, r.region, r.name)
		if err != nil {
			return err
		}
		// One message read into for every handle: nothing of it is kept
		// past its turn but its id, a string of its own.
		m := &message{}
		for i, h := range handles {
			found, token, err := resolveHandle(tx, q, h, decodeMessageHead, m)
			if err != nil {
				if apierr.As(err) == nil {
					return err
				}
				errs[i] = err
				continue
			}
			if !found {
				continue // already deleted: SQS succeeds
			}
			if m.Token != string(token) {
				if q.fifo() {
					errs[i] = sqsapi.ErrReceiptHandleIsInvalid("The receipt handle has expired.")
				}
				// Standard queues: "the request succeeds, but the message will
				// not be deleted" unless the latest handle is used (DeleteMessage docs).
				continue
			}
			if q.fifo() && m.VisibleAt <= now {
				errs[i] = sqsapi.ErrReceiptHandleIsInvalid("The receipt handle has expired.")
				continue
			}
			if err := removeMessage(tx, q.ID, m); err != nil {
				return err
			}
			deleted++
			deletedIDs = append(deletedIDs, m.ID)
		}
		return nil
	})
	if err == nil && deleted > 0 {
		s.counters(r.key()).deleted.Add(deleted)
		arn, detail := queueARN(r.region, r.account, r.name), "message deleted from "+r.name
		for _, id := range deletedIDs {
			s.hop(context.Background(), timeline.Entry{Kind: "MessageDeleted", Resource: arn, Subject: id, Quiet: true, Detail: detail})
		}
	}
	return errs, err
}

type visibilityChange struct {
	Handle  string
	Timeout *int32
}

// changeVisibility sets the visibility timeouts of in-flight messages.
func (s *Service) changeVisibility(r queueRef, changes []visibilityChange) ([]error, error) {
	now := s.clock.Now().UnixMilli()
	errs := make([]error, len(changes))
	woke := false
	err := s.update(func(tx *txn) error {
		clear(errs)
		woke = false
		q, err := s.getQueue(tx, r.account, r.region, r.name)
		if err != nil {
			return err
		}
		for i, c := range changes {
			if c.Timeout == nil {
				errs[i] = errMissingParameter("VisibilityTimeout")
				continue
			}
			if *c.Timeout < 0 || *c.Timeout > 43200 {
				errs[i] = errInvalidParameter("Value %d for parameter VisibilityTimeout is invalid. Reason: Must be between 0 and 43200, if provided.", *c.Timeout)
				continue
			}
			m := &message{}
			found, token, err := resolveHandle(tx, q, c.Handle, decodeMessage, m)
			if err != nil {
				if apierr.As(err) == nil {
					return err
				}
				errs[i] = err
				continue
			}
			if !found || m.Token != string(token) {
				errs[i] = errInvalidParameter("Value %s for parameter ReceiptHandle is invalid. Reason: Message does not exist or is not available for visibility timeout change.", c.Handle)
				continue
			}
			if m.VisibleAt <= now {
				errs[i] = sqsapi.ErrMessageNotInflight("Message not inflight.")
				continue
			}
			at := now + int64(*c.Timeout)*1000
			if err := setVisibleAt(tx, q.ID, m, at); err != nil {
				return err
			}
			if at <= now {
				woke = true
			}
		}
		return nil
	})
	if woke {
		s.notify(r.key())
	}
	return errs, err
}

// purge deletes every message of a queue; SQS allows one purge a minute.
func (s *Service) purge(r queueRef) error {
	now := s.clock.Now().UnixMilli()
	return s.updateQueue(func(tx store.Tx) error {
		q, err := s.getQueueForUpdate(tx, r.account, r.region, r.name)
		if err != nil {
			return err
		}
		if q.LastPurge != 0 && now-q.LastPurge < 60_000 {
			return sqsapi.ErrPurgeQueueInProgress("Only one PurgeQueue operation on %s is allowed every 60 seconds.", q.Name)
		}
		for _, p := range [][]byte{msgPrefix(q.ID), statePrefix(q.ID), visPrefix(q.ID), []byte("sqs/d/" + q.ID + "/g/"), headPrefix(q.ID)} {
			if err := deletePrefix(tx, p); err != nil {
				return err
			}
		}
		for _, k := range [][]byte{countKey(q.ID), notVisibleKey(q.ID)} {
			if err := tx.Delete(k); err != nil {
				return err
			}
		}
		q.LastPurge = now
		return putQueue(tx, q)
	})
}

// Sweep deletes the messages past their queue's retention period and the
// expired FIFO deduplication records of every queue.
func (s *Service) Sweep() error {
	var queues []*queue
	err := s.st.View(func(tx store.Tx) error {
		return tx.Scan([]byte("sqs/q/"), nil, func(_, v []byte) (bool, error) {
			q := &queue{}
			if err := json.Unmarshal(v, q); err != nil {
				return false, err
			}
			queues = append(queues, q)
			return true, nil
		})
	})
	if err != nil {
		return err
	}
	for _, q := range queues {
		if err := s.sweepQueue(q); err != nil {
			return err
		}
	}
	return nil
}

func (s *Service) sweepQueue(q *queue) error {
	now := s.clock.Now().UnixMilli()
	retention := q.intAttr("MessageRetentionPeriod") * 1000
	return s.st.Update(func(tx store.Tx) error {
		var expired []*message
		err := tx.Scan(msgPrefix(q.ID), nil, func(_, v []byte) (bool, error) {
			m := &message{}
			if err := decodeMessageOrErr(v, m); err != nil {
				return false, err
			}
			if now-m.Sent <= retention {
				return false, nil // seq order is send order: the rest are younger
			}
			m.size = len(v)
			expired = append(expired, m)
			return len(expired) < 10000, nil
		})
		if err != nil {
			return err
		}
		for _, m := range expired {
			if err := readState(tx, q.ID, m); err != nil {
				return err
			}
			if err := removeMessage(tx, q.ID, m); err != nil {
				return err
			}
		}
		var stale [][]byte
		err = tx.Scan(dedupPrefix(q.ID), nil, func(k, v []byte) (bool, error) {
			var rec dedupRecord
			if json.Unmarshal(v, &rec) != nil || rec.Expires <= now {
				stale = append(stale, bytes.Clone(k))
			}
			return true, nil
		})
		if err != nil {
			return err
		}
		for _, k := range stale {
			if err := tx.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
}
