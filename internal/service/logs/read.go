package logs

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/wharf-dev/wharf/internal/awsapi"
	logsapi "github.com/wharf-dev/wharf/internal/awsapi/logs"
	"github.com/wharf-dev/wharf/internal/store"
)

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

// maxResponseBytes bounds GetLogEvents and FilterLogEvents responses, as AWS
// does ("up to 1 MB (up to 10,000 log events)").
const maxResponseBytes = 1 << 20

// A token names a position between events: the raw 16 key bytes of the event it
// follows (forward) or precedes (backward), as two 20-digit decimals, so it looks
// like AWS's numeric tokens ("f/3712.../s").
func formatToken(dir string, raw []byte) string {
	return fmt.Sprintf("%s/%020d%020d/s", dir, binary.BigEndian.Uint64(raw), binary.BigEndian.Uint64(raw[8:]))
}

func parseToken(t string) (dir string, raw []byte, err error) {
	bad := invalidParam("The specified nextToken is invalid.")
	parts := strings.Split(t, "/")
	if len(parts) != 3 || (parts[0] != "f" && parts[0] != "b") || len(parts[1]) != 40 || parts[2] != "s" {
		return "", nil, bad
	}
	hi, err1 := strconv.ParseUint(parts[1][:20], 10, 64)
	lo, err2 := strconv.ParseUint(parts[1][20:], 10, 64)
	if err1 != nil || err2 != nil {
		return "", nil, bad
	}
	raw = make([]byte, 16)
	binary.BigEndian.PutUint64(raw, hi)
	binary.BigEndian.PutUint64(raw[8:], lo)
	return parts[0], raw, nil
}

// predecessor returns the largest 16-byte value below raw, or nil when raw is zero.
func predecessor(raw []byte) []byte {
	p := append([]byte(nil), raw...)
	for i := len(p) - 1; i >= 0; i-- {
		if p[i] > 0 {
			p[i]--
			return p
		}
		p[i] = 0xff
	}
	return nil
}

func cat(a, b []byte) []byte { return append(a[:len(a):len(a)], b...) }

// GetLogEvents reads one stream's events in time order: from the end by default,
// from the start with startFromHead, or onward from a forward (f/) or backward
// (b/) token. At the end of the stream it returns the token it was given, which
// is how clients know to stop (GetLogEvents API reference).
func (s *Service) GetLogEvents(ctx context.Context, in *logsapi.GetLogEventsInput) (*logsapi.GetLogEventsOutput, error) {
	sc := scopeOf(ctx)
	g, err := groupName(sc, in.LogGroupName, in.LogGroupIdentifier)
	if err != nil {
		return nil, err
	}
	stName := awsapi.ToString(in.LogStreamName)
	limit, err := limitOf(in.Limit, 10000, 10000, "limit")
	if err != nil {
		return nil, err
	}
	forward := awsapi.ToBool(in.StartFromHead)
	var tokenRaw []byte
	if in.NextToken != nil {
		dir, raw, err := parseToken(*in.NextToken)
		if err != nil {
			return nil, err
		}
		forward, tokenRaw = dir == "f", raw
	}
	lo := make([]byte, 16) // the smallest position
	if in.StartTime != nil {
		lo = pos{ts: *in.StartTime}.bytes()
	}
	var hi []byte // exclusive
	if in.EndTime != nil {
		hi = pos{ts: *in.EndTime}.bytes()
	}
	prefix := eventPrefix(sc, g, stName)
	var evs []event
	err = s.st.View(func(tx store.Tx) error {
		if v, err := tx.Get(groupKey(sc, g)); err != nil || v == nil {
			if err != nil {
				return err
			}
			return errGroupNotFound()
		}
		if v, err := tx.Get(streamKey(sc, g, stName)); err != nil || v == nil {
			if err != nil {
				return err
			}
			return errStreamNotFound()
		}
		size := 0
		visit := func(k, v []byte) (bool, error) {
			raw := k[len(prefix):]
			if forward && hi != nil && string(raw) >= string(hi) || !forward && string(raw) < string(lo) {
				return false, nil
			}
			e := decodeEvent(stName, k, v)
			size += len(e.Message) + eventOverhead
			if len(evs) == limit || size > maxResponseBytes && len(evs) > 0 {
				return false, nil
			}
			evs = append(evs, e)
			return true, nil
		}
		if forward {
			start := cat(prefix, lo)
			if tokenRaw != nil && string(tokenRaw) >= string(lo) {
				start = append(cat(prefix, tokenRaw), 0)
			}
			return tx.Scan(prefix, start, visit)
		}
		var start []byte // inclusive upper bound
		if hi != nil {
			if p := predecessor(hi); p != nil {
				start = cat(prefix, p)
			} else {
				return nil
			}
		}
		if tokenRaw != nil {
			p := predecessor(tokenRaw)
			if p == nil {
				return nil
			}
			if start == nil || string(p) < string(start[len(prefix):]) {
				start = cat(prefix, p)
			}
		}
		if start == nil {
			start = cat(prefix, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
		}
		err := tx.ScanReverse(prefix, start, visit)
		for i, j := 0, len(evs)-1; i < j; i, j = i+1, j-1 {
			evs[i], evs[j] = evs[j], evs[i]
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	out := &logsapi.GetLogEventsOutput{Events: make([]logsapi.OutputLogEvent, 0, len(evs))}
	for _, e := range evs {
		out.Events = append(out.Events, logsapi.OutputLogEvent{Timestamp: awsapi.Int64(e.Timestamp), Message: awsapi.String(e.Message), IngestionTime: awsapi.Int64(e.Ingestion)})
	}
	switch {
	case len(evs) > 0:
		out.NextForwardToken = awsapi.String(formatToken("f", pos{evs[len(evs)-1].Timestamp, evs[len(evs)-1].Seq}.bytes()))
		out.NextBackwardToken = awsapi.String(formatToken("b", pos{evs[0].Timestamp, evs[0].Seq}.bytes()))
	case tokenRaw != nil:
		out.NextForwardToken = awsapi.String(formatToken("f", tokenRaw))
		out.NextBackwardToken = awsapi.String(formatToken("b", tokenRaw))
	default:
		// An empty read: forward from the start of time (so events written later
		// are read), backward from the start too (nothing precedes it).
		zero := make([]byte, 16)
		out.NextForwardToken = awsapi.String(formatToken("f", zero))
		out.NextBackwardToken = awsapi.String(formatToken("b", zero))
	}
	return out, nil
}

// FilterLogEvents searches a group's streams (all, the named ones, or those with
// a prefix) for events in a time range that match a filter pattern, merged in
// time order across streams. `aws logs tail` polls it.
func (s *Service) FilterLogEvents(ctx context.Context, in *logsapi.FilterLogEventsInput) (*logsapi.FilterLogEventsOutput, error) {
	sc := scopeOf(ctx)
	g, err := groupName(sc, in.LogGroupName, in.LogGroupIdentifier)
	if err != nil {
		return nil, err
	}
	limit, err := limitOf(in.Limit, 10000, 10000, "limit")
	if err != nil {
		return nil, err
	}
	if len(in.LogStreamNames) > 0 && in.LogStreamNamePrefix != nil {
		return nil, invalidParam("logStreamNames and logStreamNamePrefix are mutually exclusive parameters.")
	}
	if len(in.LogStreamNames) > 100 {
		return nil, invalidParam("1 validation error detected: Value at 'logStreamNames' failed to satisfy constraint: Member must have length less than or equal to 100")
	}
	match, err := compileFilter(awsapi.ToString(in.FilterPattern))
	if err != nil {
		return nil, err
	}
	lo := make([]byte, 16)
	if in.StartTime != nil {
		lo = pos{ts: *in.StartTime}.bytes()
	}
	if in.NextToken != nil {
		_, raw, err := parseToken(*in.NextToken)
		if err != nil {
			return nil, err
		}
		if string(raw) >= string(lo) {
			lo = append(raw, 0)
		}
	}
	var hi []byte // inclusive: events after endTime are not returned
	if in.EndTime != nil {
		hi = pos{ts: *in.EndTime + 1}.bytes()
	}
	var streams []string
	var evs []event
	err = s.st.View(func(tx store.Tx) error {
		if v, err := tx.Get(groupKey(sc, g)); err != nil || v == nil {
			if err != nil {
				return err
			}
			return errGroupNotFound()
		}
		if len(in.LogStreamNames) > 0 {
			for _, n := range in.LogStreamNames {
				if v, err := tx.Get(streamKey(sc, g, n)); err != nil {
					return err
				} else if v != nil {
					streams = append(streams, n)
				}
			}
		} else {
			base := streamPrefix(sc, g)
			err := tx.Scan(append(base, awsapi.ToString(in.LogStreamNamePrefix)...), nil, func(k, _ []byte) (bool, error) {
				streams = append(streams, string(k[len(base):]))
				return true, nil
			})
			if err != nil {
				return err
			}
		}
		// The first limit+1 events overall are among the first limit+1 matching
		// events of each stream.
		for _, st := range streams {
			prefix := eventPrefix(sc, g, st)
			n := 0
			err := tx.Scan(prefix, cat(prefix, lo), func(k, v []byte) (bool, error) {
				if hi != nil && string(k[len(prefix):]) >= string(hi) {
					return false, nil
				}
				e := decodeEvent(st, k, v)
				if !match(e.Message) {
					return true, nil
				}
				evs = append(evs, e)
				n++
				return n <= limit, nil
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(evs, func(i, j int) bool { return pos{evs[i].Timestamp, evs[i].Seq}.less(pos{evs[j].Timestamp, evs[j].Seq}) })
	out := &logsapi.FilterLogEventsOutput{Events: []logsapi.FilteredLogEvent{}, SearchedLogStreams: []logsapi.SearchedLogStream{}}
	size := 0
	for i, e := range evs {
		size += len(e.Message) + eventOverhead
		if i == limit || size > maxResponseBytes && i > 0 {
			last := evs[i-1]
			out.NextToken = awsapi.String(formatToken("f", pos{last.Timestamp, last.Seq}.bytes()))
			break
		}
		out.Events = append(out.Events, logsapi.FilteredLogEvent{
			LogStreamName: awsapi.String(e.Stream),
			Timestamp:     awsapi.Int64(e.Timestamp),
			Message:       awsapi.String(e.Message),
			IngestionTime: awsapi.Int64(e.Ingestion),
			EventId:       awsapi.String(eventID(e)),
		})
	}
	for _, st := range streams {
		out.SearchedLogStreams = append(out.SearchedLogStreams, logsapi.SearchedLogStream{LogStreamName: awsapi.String(st), SearchedCompletely: awsapi.Bool(out.NextToken == nil)})
	}
	return out, nil
}

// eventID is a 56-digit decimal like AWS's, unique because seq is.
func eventID(e event) string {
	return fmt.Sprintf("%020d%036d", binary.BigEndian.Uint64(pos{e.Timestamp, 0}.bytes()), e.Seq)
}
