package sqs

import (
	"encoding/binary"

	"github.com/wharf-dev/wharf/internal/store"
)

// GetQueueAttributes' in-flight and delayed counts are the visibility index
// entries whose time is still ahead. Counting them by scanning made its
// cost, and the metrics publisher's, grow with the messages in flight. A
// queue keeps instead a watermark W and the number of entries after W, by
// kind (received: in flight; fresh: delayed). Every index write after W
// adjusts them; a count at now subtracts the entries of (W, now], which
// became visible since; a send or a receive moves W to now. So a count reads
// what turned visible since the last send or receive, not the queue.
//
// The counters share a record with the queue's message count, under
// sqs/d/<qid>/n (see counterRecord): every send, receive and delete changes
// both, and one record is one store write, one log entry and one key of a
// checkpoint instead of two. Earlier versions kept the counters in a record
// of their own under sqs/d/<qid>/nv (notVisibleKey): it is still read while
// the count record has none, and deleted when the count record is next
// written.
//
// A queue without counters (stored by an older wharf, or just purged) is
// counted by a scan until its next send or receive sets them up.

// notVisibleKey is the key of the counters' record of earlier versions.
func notVisibleKey(qid string) []byte { return []byte("sqs/d/" + qid + "/nv") }

type notVisible struct {
	w               int64
	received, fresh uint64
}

// A counter record is the message count as 8 big-endian bytes, followed,
// when the queue has not-visible counters, by W, received and fresh as 8
// bytes each. A record of 8 bytes is also what earlier versions wrote.
const (
	countOnlyLen   = 8
	countAndNVLen  = 8 + 24
	legacyNVRecLen = 24
)

// counterRecord is a queue's counter record as read.
type counterRecord struct {
	n    uint64
	nv   notVisible
	nvOK bool // the queue has not-visible counters
	// legacy is true when the counters came from, or a record is under,
	// the old notVisibleKey: the next write of the record deletes it.
	legacy bool
}

// readCounters reads the counter record under nKey and, when it holds no
// not-visible counters, the old record under nvKey.
func readCounters(get func([]byte) ([]byte, error), nKey, nvKey []byte) (c counterRecord, err error) {
	v, err := get(nKey)
	if err != nil {
		return c, err
	}
	switch len(v) {
	case countAndNVLen:
		c.n = binary.BigEndian.Uint64(v)
		c.nv, c.nvOK = decodeNotVisible(v[8:])
		return c, nil
	case countOnlyLen:
		c.n = binary.BigEndian.Uint64(v)
	}
	old, err := get(nvKey)
	if err != nil || old == nil {
		return c, err
	}
	c.legacy = true
	c.nv, c.nvOK = decodeNotVisible(old)
	return c, nil
}

// appendCounters appends the counter record of c to b.
func appendCounters(b []byte, c counterRecord) []byte {
	b = binary.BigEndian.AppendUint64(b, c.n)
	if c.nvOK {
		b = appendNotVisible(b, c.nv)
	}
	return b
}

// writeCounters writes the counter record of c, and deletes the old
// counters' record when there is one.
func writeCounters(tx store.Tx, nKey, nvKey []byte, c *counterRecord, buf []byte) ([]byte, error) {
	buf = appendCounters(buf[:0], *c) // Put copies it
	if err := tx.Put(nKey, buf); err != nil {
		return buf, err
	}
	if c.legacy {
		if err := tx.Delete(nvKey); err != nil {
			return buf, err
		}
		c.legacy = false
	}
	return buf, nil
}

func getNotVisible(tx store.Tx, qid string) (nv notVisible, ok bool, err error) {
	if t, isTxn := tx.(*txn); isTxn {
		return t.notVisible(qid)
	}
	c, err := readCounters(tx.Get, countKey(qid), notVisibleKey(qid))
	return c.nv, c.nvOK, err
}

func decodeNotVisible(v []byte) (notVisible, bool) {
	if len(v) != legacyNVRecLen {
		return notVisible{}, false
	}
	return notVisible{int64(binary.BigEndian.Uint64(v)), binary.BigEndian.Uint64(v[8:]), binary.BigEndian.Uint64(v[16:])}, true
}

func putNotVisible(tx store.Tx, qid string, nv notVisible) error {
	if t, ok := tx.(*txn); ok {
		return t.putNotVisible(qid, nv)
	}
	nKey, nvKey := countKey(qid), notVisibleKey(qid)
	c, err := readCounters(tx.Get, nKey, nvKey)
	if err != nil {
		return err
	}
	c.nv, c.nvOK = nv, true
	_, err = writeCounters(tx, nKey, nvKey, &c, nil)
	return err
}

// appendNotVisible appends nv's three counters to b.
func appendNotVisible(b []byte, nv notVisible) []byte {
	b = binary.BigEndian.AppendUint64(b, uint64(nv.w))
	b = binary.BigEndian.AppendUint64(b, nv.received)
	return binary.BigEndian.AppendUint64(b, nv.fresh)
}

func (nv *notVisible) add(flag byte, delta int) {
	c := &nv.fresh
	if flag == visReceived {
		c = &nv.received
	}
	if delta < 0 && *c == 0 {
		return
	}
	*c = uint64(int64(*c) + int64(delta))
}

// noteVis records that a visibility entry at time at with flag was added
// (delta 1) or removed (delta -1).
func noteVis(tx store.Tx, qid string, at int64, flag byte, delta int) error {
	nv, ok, err := getNotVisible(tx, qid)
	if err != nil || !ok || at <= nv.w {
		return err
	}
	nv.add(flag, delta)
	return putNotVisible(tx, qid, nv)
}

// deleteVis removes a visibility entry, noting it when it was there.
func deleteVis(tx store.Tx, qid string, at int64, seq uint64) error {
	k := visKeyIn(tx, qid, at, seq)
	v, err := tx.Get(k)
	if err != nil || v == nil {
		return err
	}
	flag := byte(visFresh)
	if len(v) > 0 {
		flag = v[0]
	}
	if err := tx.Delete(k); err != nil {
		return err
	}
	return noteVis(tx, qid, at, flag, -1)
}

// dropVis removes m's visibility entry and notes it, with the flag m.vis
// knows it has (without reading the entry), or as deleteVis when it does
// not know.
func dropVis(tx store.Tx, qid string, m *message) error {
	if m.vis == 0 {
		return deleteVis(tx, qid, m.VisibleAt, m.Seq)
	}
	if err := tx.Delete(visKeyIn(tx, qid, m.VisibleAt, m.Seq)); err != nil {
		return err
	}
	return noteVis(tx, qid, m.VisibleAt, m.vis-1, -1)
}

// putVis adds a visibility entry, noting it unless it was there already.
func putVis(tx store.Tx, qid string, at int64, seq uint64, flag byte) error {
	k := visKeyIn(tx, qid, at, seq)
	old, err := tx.Get(k)
	if err != nil {
		return err
	}
	if old != nil {
		if len(old) > 0 && old[0] == flag {
			return nil
		}
		if err := deleteVis(tx, qid, at, seq); err != nil {
			return err
		}
	}
	return addVis(tx, qid, at, seq, flag)
}

// addVis adds a visibility entry the index does not have, and notes it.
func addVis(tx store.Tx, qid string, at int64, seq uint64, flag byte) error {
	if err := tx.Put(visKeyIn(tx, qid, at, seq), visValues[flag]); err != nil {
		return err
	}
	return noteVis(tx, qid, at, flag, 1)
}

// visValues are the visibility index's values by flag (Put copies them).
var visValues = [2][]byte{{visFresh}, {visReceived}}

// settleVis moves the queue's watermark to now, setting it up from a scan
// when the queue has none.
func settleVis(tx store.Tx, qid string, now int64) error {
	nv, ok, err := getNotVisible(tx, qid)
	if err != nil {
		return err
	}
	if !ok {
		nv = notVisible{w: now}
		p := visPrefix(qid)
		err := tx.ScanReverse(p, nil, func(k, v []byte) (bool, error) {
			if int64(binary.BigEndian.Uint64(k[len(p):])) <= now {
				return false, nil
			}
			nv.add(flagOf(v), 1)
			return true, nil
		})
		if err != nil {
			return err
		}
		return putNotVisible(tx, qid, nv)
	}
	if now <= nv.w {
		return nil
	}
	if err := nv.since(tx, qid, now); err != nil {
		return err
	}
	nv.w = now
	return putNotVisible(tx, qid, nv)
}

// since subtracts the entries of (nv.w, now], which are visible at now.
func (nv *notVisible) since(tx store.Tx, qid string, now int64) error {
	p := visPrefix(qid)
	start := binary.BigEndian.AppendUint64(p, uint64(nv.w+1))
	return tx.Scan(p, start, func(k, v []byte) (bool, error) {
		if int64(binary.BigEndian.Uint64(k[len(p):])) > now {
			return false, nil
		}
		nv.add(flagOf(v), -1)
		return true, nil
	})
}

func flagOf(v []byte) byte {
	if len(v) > 0 {
		return v[0]
	}
	return visFresh
}
