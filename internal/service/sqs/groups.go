package sqs

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"github.com/wharf-dev/wharf/internal/store"
)

// A FIFO receive may take a group's messages only up to the group's first
// message that is in flight or delayed. Finding them by reading the whole
// queue in send order made every receive cost as much as the queue is long,
// inside a store update that every other write waits for. Two indexes make
// it cost what it returns:
//
//   - the group order, sqs/d/<qid>/g/<group>\x00<seq> → visible-at (8 bytes):
//     each group's messages in send order;
//   - the heads, sqs/d/<qid>/h/<visible-at><seq> → group: the first message
//     of each group, by when it is visible. Every head visible now leads a
//     group that is not blocked; scanning stops at the first head in the
//     future.
//
// Both follow every write of a message with a group id (putMessage,
// removeMessage), so standard queues with group ids keep them too, unused.
// A queue's indexes are complete once its marker sqs/d/<qid>/gi exists; a
// FIFO queue stored before the indexes existed gets them, from one read of
// its messages, at its first receive.

func groupPrefix(qid, group string) []byte { return []byte("sqs/d/" + qid + "/g/" + group + "\x00") }

func groupKey(qid, group string, seq uint64) []byte {
	return binary.BigEndian.AppendUint64(groupPrefix(qid, group), seq)
}

func headPrefix(qid string) []byte { return []byte("sqs/d/" + qid + "/h/") }

func headKey(qid string, visibleAt int64, seq uint64) []byte {
	k := binary.BigEndian.AppendUint64(headPrefix(qid), uint64(visibleAt))
	return binary.BigEndian.AppendUint64(k, seq)
}

func groupsMarker(qid string) []byte { return []byte("sqs/d/" + qid + "/gi") }

type groupEntry struct {
	seq uint64
	at  int64
}

// groupFront returns up to the first two messages of a group, in send order.
func groupFront(tx store.Tx, qid, group string) ([]groupEntry, error) {
	p := groupPrefix(qid, group)
	var out []groupEntry
	err := tx.Scan(p, nil, func(k, v []byte) (bool, error) {
		if len(k) != len(p)+8 || len(v) != 8 {
			return false, fmt.Errorf("sqs: bad group index entry %q", k)
		}
		out = append(out, groupEntry{seq: binary.BigEndian.Uint64(k[len(p):]), at: int64(binary.BigEndian.Uint64(v))})
		return len(out) < 2, nil
	})
	return out, err
}

func atValue(at int64) []byte { return binary.BigEndian.AppendUint64(nil, uint64(at)) }

// indexGroup records m, as it is now stored, in its group's order, and in the
// heads when it leads its group.
func indexGroup(tx store.Tx, qid string, m *message) error {
	if m.GroupID == "" {
		return nil
	}
	gk := groupKey(qid, m.GroupID, m.Seq)
	old, err := tx.Get(gk)
	if err != nil {
		return err
	}
	hadOld, oldAt := old != nil, int64(0)
	if hadOld {
		if len(old) != 8 {
			return fmt.Errorf("sqs: bad group index value %q", gk)
		}
		oldAt = int64(binary.BigEndian.Uint64(old))
		if oldAt == m.VisibleAt {
			return nil
		}
	}
	if err := tx.Put(gk, atValue(m.VisibleAt)); err != nil {
		return err
	}
	front, err := groupFront(tx, qid, m.GroupID)
	if err != nil || len(front) == 0 || front[0].seq != m.Seq {
		return err
	}
	if hadOld {
		if err := tx.Delete(headKey(qid, oldAt, m.Seq)); err != nil {
			return err
		}
	}
	if len(front) > 1 {
		// m now leads a group another message led (a message placed ahead
		// of the group's others): that one is no longer its head.
		if err := tx.Delete(headKey(qid, front[1].at, front[1].seq)); err != nil {
			return err
		}
	}
	return tx.Put(headKey(qid, m.VisibleAt, m.Seq), []byte(m.GroupID))
}

// unindexGroup removes m from its group's order and, when it led the group,
// makes the next message the head.
func unindexGroup(tx store.Tx, qid string, m *message) error {
	if m.GroupID == "" {
		return nil
	}
	front, err := groupFront(tx, qid, m.GroupID)
	if err != nil {
		return err
	}
	if err := tx.Delete(groupKey(qid, m.GroupID, m.Seq)); err != nil {
		return err
	}
	if len(front) == 0 || front[0].seq != m.Seq {
		return nil
	}
	if err := tx.Delete(headKey(qid, front[0].at, m.Seq)); err != nil {
		return err
	}
	if len(front) > 1 {
		return tx.Put(headKey(qid, front[1].at, front[1].seq), []byte(m.GroupID))
	}
	return nil
}

// ensureGroups builds the queue's indexes from its messages unless they are
// complete already.
func ensureGroups(tx store.Tx, qid string) error {
	if v, err := tx.Get(groupsMarker(qid)); err != nil || v != nil {
		return err
	}
	for _, p := range [][]byte{[]byte("sqs/d/" + qid + "/g/"), headPrefix(qid)} {
		if err := deletePrefix(tx, p); err != nil {
			return err
		}
	}
	type entry struct {
		group string
		seq   uint64
		at    int64
		size  int
	}
	var all []entry
	err := tx.Scan(msgPrefix(qid), nil, func(_, v []byte) (bool, error) {
		var m message
		if err := decodeMessageOrErr(v, &m); err != nil {
			return false, err
		}
		if m.GroupID != "" {
			all = append(all, entry{m.GroupID, m.Seq, m.VisibleAt, len(v)})
		}
		return true, nil
	})
	if err != nil {
		return err
	}
	for i := range all { // a received message's time may be in its state record
		m := message{Seq: all[i].seq, VisibleAt: all[i].at, size: all[i].size}
		if err := readState(tx, qid, &m); err != nil {
			return err
		}
		all[i].at = m.VisibleAt
	}
	led := map[string]bool{}
	for _, e := range all { // in send order: a group's first is its head
		if err := tx.Put(groupKey(qid, e.group, e.seq), atValue(e.at)); err != nil {
			return err
		}
		if !led[e.group] {
			led[e.group] = true
			if err := tx.Put(headKey(qid, e.at, e.seq), []byte(e.group)); err != nil {
				return err
			}
		}
	}
	return tx.Put(groupsMarker(qid), []byte{1})
}

// fifoCandidates returns up to n messages visible at now whose group has no
// earlier message in flight or delayed: the groups whose head is visible,
// earliest visible first (from after, where an earlier round stopped), each
// with its messages in send order up to its first one not visible. resume is
// where the next round starts, nil when every visible head was read.
func fifoCandidates(tx store.Tx, qid string, now int64, n int, after []byte) (cands []*message, resume []byte, err error) {
	hp := headPrefix(qid)
	var groups []string
	var last []byte
	err = tx.Scan(hp, after, func(k, v []byte) (bool, error) {
		if len(k) != len(hp)+16 {
			return false, fmt.Errorf("sqs: bad head index entry %q", k)
		}
		if int64(binary.BigEndian.Uint64(k[len(hp):])) > now {
			return false, nil
		}
		if len(groups) == n {
			resume = last
			return false, nil
		}
		groups = append(groups, string(v))
		last = append(bytes.Clone(k), 0)
		return true, nil
	})
	if err != nil {
		return nil, nil, err
	}
	for _, g := range groups {
		if len(cands) >= n {
			break
		}
		p := groupPrefix(qid, g)
		var seqs []uint64
		err := tx.Scan(p, nil, func(k, v []byte) (bool, error) {
			if len(k) != len(p)+8 || len(v) != 8 {
				return false, fmt.Errorf("sqs: bad group index entry %q", k)
			}
			if int64(binary.BigEndian.Uint64(v)) > now || len(cands)+len(seqs) == n {
				return false, nil
			}
			seqs = append(seqs, binary.BigEndian.Uint64(k[len(p):]))
			return true, nil
		})
		if err != nil {
			return nil, nil, err
		}
		for _, seq := range seqs {
			m, err := getMessage(tx, qid, seq)
			if err != nil {
				return nil, nil, err
			}
			if m != nil {
				cands = append(cands, m)
			}
		}
	}
	if resume == nil && len(groups) == n {
		resume = last
	}
	return cands, resume, nil
}
