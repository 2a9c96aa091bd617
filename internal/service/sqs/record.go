package sqs

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
)

// Messages are stored in a compact binary record, not JSON: every send,
// receive and delete encodes or decodes one, and encoding/json's
// reflection was the largest single cost of a receive and of a delete.
// Records written as JSON by earlier versions (they start with '{') are
// still read.
//
// A record is recordV1, then the message's fields in a fixed order:
// strings as a uvarint length and the bytes, integers as (zigzag) varints,
// attribute maps as a count and their entries.
const recordV1 = 0x01

var errBadRecord = errors.New("malformed message record")

// encodeMessage appends m's record to b.
func encodeMessage(b []byte, m *message) []byte {
	b = append(b, recordV1)
	b = appendString(b, m.ID)
	b = binary.AppendUvarint(b, m.Seq)
	b = appendString(b, m.Body)
	b = appendAttrs(b, m.Attrs)
	b = appendAttrs(b, m.SysAttrs)
	b = appendString(b, m.MD5Body)
	b = binary.AppendVarint(b, m.Sent)
	b = binary.AppendVarint(b, m.VisibleAt)
	b = binary.AppendVarint(b, m.Received)
	b = binary.AppendVarint(b, m.FirstReceive)
	b = appendString(b, m.Token)
	b = appendString(b, m.SenderID)
	b = appendString(b, m.GroupID)
	b = appendString(b, m.DedupID)
	return appendString(b, m.SourceArn)
}

// decodeMessage reads a record made by encodeMessage, or an older JSON one,
// into m.
func decodeMessage(v []byte, m *message) error { return decodeRecord(v, m, false) }

// decodeMessageHead is decodeMessage without the body, its attributes and
// its digest, which it skips without copying: what deleting a message needs.
func decodeMessageHead(v []byte, m *message) error { return decodeRecord(v, m, true) }

func decodeRecord(v []byte, m *message, head bool) error {
	if len(v) > 0 && v[0] == '{' {
		return json.Unmarshal(v, m)
	}
	if len(v) == 0 || v[0] != recordV1 {
		return errBadRecord
	}
	d := recordReader{b: v[1:]}
	// The id is a string of its own: it goes to the timeline, which keeps
	// it, and must not keep a whole record (a body of up to 256 KiB) alive.
	m.ID = d.string()
	m.Seq = d.uvarint()
	if head {
		d.take(d.uvarint()) // Body
		d.skipAttrs()
		d.skipAttrs()
		d.take(d.uvarint()) // MD5Body
		// The strings after the body (not it) in one allocation.
		d.cut()
	} else {
		// The body and every string after it in one allocation.
		d.cut()
		m.Body = d.string()
		m.Attrs = d.attrs()
		m.SysAttrs = d.attrs()
		m.MD5Body = d.string()
	}
	m.Sent = d.varint()
	m.VisibleAt = d.varint()
	m.Received = d.varint()
	m.FirstReceive = d.varint()
	m.Token = d.string()
	m.SenderID = d.string()
	m.GroupID = d.string()
	m.DedupID = d.string()
	m.SourceArn = d.string()
	if d.err != nil || len(d.b) != 0 {
		return errBadRecord
	}
	return nil
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// appendBytes writes p with its length plus one, so that a nil slice (0)
// and an empty one (1) read back as they were.
func appendBytes(b, p []byte) []byte {
	if p == nil {
		return binary.AppendUvarint(b, 0)
	}
	b = binary.AppendUvarint(b, uint64(len(p))+1)
	return append(b, p...)
}

// appendAttrs writes an attribute map; an empty map reads back as nil, as
// it did from JSON (omitempty).
func appendAttrs(b []byte, attrs map[string]msgAttr) []byte {
	b = binary.AppendUvarint(b, uint64(len(attrs)))
	for k, a := range attrs {
		b = appendString(b, k)
		b = appendString(b, a.DataType)
		if a.StringValue == nil {
			b = append(b, 0)
		} else {
			b = append(b, 1)
			b = appendString(b, *a.StringValue)
		}
		b = appendBytes(b, a.BinaryValue)
		b = binary.AppendUvarint(b, uint64(len(a.StringList)))
		for _, s := range a.StringList {
			b = appendString(b, s)
		}
		b = binary.AppendUvarint(b, uint64(len(a.BinaryList)))
		for _, p := range a.BinaryList {
			b = appendBytes(b, p)
		}
	}
	return b
}

// recordReader reads a record's fields; the first error sticks and every
// later read returns a zero value.
type recordReader struct {
	b   []byte
	err error
	// s, once cut sets it, holds the bytes b held then: strings are taken
	// from it (it ends where b ends), one allocation for all of them
	// instead of one each.
	s string
}

// cut copies the rest of the record into s.
func (d *recordReader) cut() { d.s = string(d.b) }

func (d *recordReader) fail() { d.err, d.b = errBadRecord, nil }

func (d *recordReader) uvarint() uint64 {
	x, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return x
}

func (d *recordReader) varint() int64 {
	x, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return x
}

// take returns the next n bytes (copied: a store's value is only valid
// during its transaction).
func (d *recordReader) take(n uint64) []byte {
	if n > uint64(len(d.b)) {
		d.fail()
		return nil
	}
	p := d.b[:n]
	d.b = d.b[n:]
	return p
}

func (d *recordReader) string() string {
	p := d.take(d.uvarint())
	if d.s == "" || d.err != nil {
		return string(p)
	}
	end := len(d.s) - len(d.b)
	return d.s[end-len(p) : end]
}

func (d *recordReader) bytes() []byte {
	n := d.uvarint()
	if n == 0 || d.err != nil {
		return nil
	}
	return append([]byte{}, d.take(n-1)...)
}

// count reads a collection's length, bounded by the bytes left (every
// element takes at least one), so a corrupt record cannot make it allocate.
func (d *recordReader) count() int {
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		d.fail()
		return 0
	}
	return int(n)
}

func (d *recordReader) attrs() map[string]msgAttr {
	n := d.count()
	if n == 0 {
		return nil
	}
	m := make(map[string]msgAttr, n)
	for range n {
		k := d.string()
		var a msgAttr
		a.DataType = d.string()
		if flag := d.take(1); len(flag) == 1 && flag[0] == 1 {
			s := d.string()
			a.StringValue = &s
		}
		a.BinaryValue = d.bytes()
		if a.BinaryValue != nil && len(a.BinaryValue) == 0 {
			a.BinaryValue = nil // JSON's omitempty dropped an empty value
		}
		if c := d.count(); c > 0 {
			a.StringList = make([]string, c)
			for i := range a.StringList {
				a.StringList[i] = d.string()
			}
		}
		if c := d.count(); c > 0 {
			a.BinaryList = make([][]byte, c)
			for i := range a.BinaryList {
				a.BinaryList[i] = d.bytes()
			}
		}
		if d.err != nil {
			return nil
		}
		m[k] = a
	}
	return m
}

// skipAttrs reads past an attribute map as attrs reads it, copying nothing.
func (d *recordReader) skipAttrs() {
	for range d.count() {
		d.take(d.uvarint()) // name
		d.take(d.uvarint()) // DataType
		if flag := d.take(1); len(flag) == 1 && flag[0] == 1 {
			d.take(d.uvarint())
		}
		if n := d.uvarint(); n > 0 {
			d.take(n - 1)
		}
		for range d.count() {
			d.take(d.uvarint())
		}
		for range d.count() {
			if n := d.uvarint(); n > 0 {
				d.take(n - 1)
			}
		}
		if d.err != nil {
			return
		}
	}
}

// decodeMessageOrErr wraps decodeMessage's error as the callers report it.
func decodeMessageOrErr(v []byte, m *message) error {
	if err := decodeMessage(v, m); err != nil {
		return fmt.Errorf("decode message: %w", err)
	}
	return nil
}

// A message's receive state (when it is visible next, how often and when
// first it was received, its latest receipt token) changes on every
// receive and ChangeMessageVisibility; the rest of the message never does.
// Rewriting the whole record for it made every receive of a large message
// write its body again (the store copies a value on every write, the log
// and the bbolt file take it again), so the receive state of a message
// whose record is larger than stateRecordMin is written alone, as a record
// of its own under sqs/d/<qid>/r/<seq>, which overrides the state fields of
// the message record while it exists. A small message is still rewritten
// whole: a state record is a key of its own, which the store inserts and
// deletes apart from the message's, and for a record of about a hundred
// bytes that costs more than the rewrite saves (a batch of ten 24-byte
// messages sent, received and deleted, BenchmarkReceiveDeleteBatch: 6%
// more CPU in memory with a state record for every message, none less on
// disk).
//
// Only a received message has a state record, so a message whose
// visibility index entry is visFresh has none. A message record still
// carries the state it was stored with (a dead-letter queue's copy, a
// record from before state records, a small message's), which counts until
// a state record exists.
//
// A state record is stateV1, then VisibleAt, Received and FirstReceive as
// zigzag varints and Token as a string.
const stateV1 = 0x01

// stateRecordMin is the length of a message record above which its receive
// state is kept in a state record: from about there on the store keeps a
// pair apart from its leaf (its inlineMax, 256 bytes of key and value), and
// copies it whole on every write.
var stateRecordMin = 256

// encodeState appends the state record of m to b.
func encodeState(b []byte, m *message) []byte {
	b = append(b, stateV1)
	b = binary.AppendVarint(b, m.VisibleAt)
	b = binary.AppendVarint(b, m.Received)
	b = binary.AppendVarint(b, m.FirstReceive)
	return appendString(b, m.Token)
}

// decodeState sets m's state fields from the state record v.
func decodeState(v []byte, m *message) error {
	if len(v) == 0 || v[0] != stateV1 {
		return errBadRecord
	}
	d := recordReader{b: v[1:]}
	visibleAt, received, first := d.varint(), d.varint(), d.varint()
	token := d.string()
	if d.err != nil || len(d.b) != 0 {
		return errBadRecord
	}
	m.VisibleAt, m.Received, m.FirstReceive, m.Token = visibleAt, received, first, token
	return nil
}
