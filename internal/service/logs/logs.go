// Package logs is wharf's Amazon CloudWatch Logs: log groups, log streams and
// their events, kept in the durable store. ECS's awslogs driver and EventBridge's
// log-group target write through PutLogLines; clients read with GetLogEvents and
// FilterLogEvents (which is what `aws logs tail --follow` polls).
//
// # Key layout
//
//	logs/g/<account>/<region>/<group>                          group metadata (JSON)
//	logs/s/<account>/<region>/<group>\x00<stream>              stream metadata (JSON)
//	logs/e/<account>/<region>/<group>\x00<stream>\x00<ts><seq>  one event
//
// ts is the event's timestamp in milliseconds and seq a service-wide increasing
// number, both 8 bytes big-endian, so a stream's events are an ordered scan by
// time, a time range is a range scan, and (ts, seq) orders events across streams.
// Group and stream names cannot contain NUL, so \x00 separates them unambiguously.
package logs

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	logsapi "github.com/wharf-dev/wharf/internal/awsapi/logs"
	"github.com/wharf-dev/wharf/internal/clock"
	"github.com/wharf-dev/wharf/internal/store"
)

// Options configure a Service.
type Options struct {
	Store store.Store
	// Clock is the time the service reads; nil means clock.Real.
	Clock clock.Clock
	// Logger defaults to slog.Default.
	Logger *slog.Logger
}

// Service implements the CloudWatch Logs operations.
type Service struct {
	st   store.Store
	now  func() time.Time
	log  *slog.Logger
	mu   sync.Mutex
	last uint64

	metrics Metrics     // metric filters publish here (SetMetrics); nil: they only match
	filters filterCache // compiled metric filter patterns
}

// New returns a Service over opts.Store.
func New(opts Options) *Service {
	s := &Service{st: opts.Store, now: clock.Or(opts.Clock).Now, log: opts.Logger}
	if s.log == nil {
		s.log = slog.Default()
	}
	return s
}

// nextSeq returns a number larger than any returned before; it starts from the
// clock in nanoseconds so that it also grows across restarts.
func (s *Service) nextSeq() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := uint64(s.now().UnixNano())
	if n <= s.last {
		n = s.last + 1
	}
	s.last = n
	return n
}

// group is a log group's stored metadata.
type group struct {
	Name      string            `json:"name"`
	Created   int64             `json:"created"`
	Retention int32             `json:"retention,omitempty"`
	Class     string            `json:"class,omitempty"`
	KmsKeyID  string            `json:"kms,omitempty"`
	Tags      map[string]string `json:"tags,omitempty"`
	Bytes     int64             `json:"bytes"`
	DelProt   bool              `json:"delProt,omitempty"`
}

// stream is a log stream's stored metadata.
type stream struct {
	Name          string `json:"name"`
	Created       int64  `json:"created"`
	First         int64  `json:"first,omitempty"`
	Last          int64  `json:"last,omitempty"`
	LastIngestion int64  `json:"lastIngestion,omitempty"`
	Bytes         int64  `json:"bytes"`
	Events        int64  `json:"events"`
}

// event is one stored log event.
type event struct {
	Stream    string
	Timestamp int64
	Seq       uint64
	Ingestion int64
	Message   string
}

// scope is the account and region a request acts in.
type scope struct{ account, region string }

func groupPrefix(sc scope) []byte {
	return []byte("logs/g/" + sc.account + "/" + sc.region + "/")
}

func groupKey(sc scope, g string) []byte { return append(groupPrefix(sc), g...) }

func streamPrefix(sc scope, g string) []byte {
	return []byte("logs/s/" + sc.account + "/" + sc.region + "/" + g + "\x00")
}

func streamKey(sc scope, g, st string) []byte { return append(streamPrefix(sc, g), st...) }

func eventGroupPrefix(sc scope, g string) []byte {
	return []byte("logs/e/" + sc.account + "/" + sc.region + "/" + g + "\x00")
}

func eventPrefix(sc scope, g, st string) []byte {
	return append(eventGroupPrefix(sc, g), st+"\x00"...)
}

// pos is an event's place in time order: its timestamp, then its sequence.
type pos struct {
	ts  int64
	seq uint64
}

func (p pos) less(q pos) bool { return p.ts < q.ts || p.ts == q.ts && p.seq < q.seq }

// bytes encodes p so that byte order is time order. Timestamps before 1970 are
// not accepted by PutLogEvents, so the sign bit is never set by stored events;
// flipping it anyway keeps negative query bounds ordered.
func (p pos) bytes() []byte {
	b := make([]byte, 16)
	binary.BigEndian.PutUint64(b, uint64(p.ts)^(1<<63))
	binary.BigEndian.PutUint64(b[8:], p.seq)
	return b
}

func posFrom(b []byte) pos {
	return pos{ts: int64(binary.BigEndian.Uint64(b) ^ (1 << 63)), seq: binary.BigEndian.Uint64(b[8:])}
}

func encodeEvent(ingestion int64, msg string) []byte {
	v := make([]byte, 8, 8+len(msg))
	binary.BigEndian.PutUint64(v, uint64(ingestion))
	return append(v, msg...)
}

func decodeEvent(st string, k, v []byte) event {
	p := posFrom(k[len(k)-16:])
	e := event{Stream: st, Timestamp: p.ts, Seq: p.seq}
	if len(v) >= 8 {
		e.Ingestion = int64(binary.BigEndian.Uint64(v))
		e.Message = string(v[8:])
	}
	return e
}

func getJSON(tx store.Tx, key []byte, v any) (bool, error) {
	b, err := tx.Get(key)
	if err != nil || b == nil {
		return false, err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return false, fmt.Errorf("decode %q: %w", key, err)
	}
	return true, nil
}

func putJSON(tx store.Tx, key []byte, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return tx.Put(key, b)
}

func errGroupNotFound() error {
	return logsapi.ErrResourceNotFoundException("The specified log group does not exist.")
}

func errStreamNotFound() error {
	return logsapi.ErrResourceNotFoundException("The specified log stream does not exist.")
}

func invalidParam(format string, args ...any) error {
	return logsapi.ErrInvalidParameterException(format, args...)
}

func groupARN(sc scope, name string) string {
	return "arn:aws:logs:" + sc.region + ":" + sc.account + ":log-group:" + name
}

// LogLine is one line of output written by another wharf service (a container's
// stdout through awslogs, an EventBridge event delivered to a log group).
type LogLine struct {
	Time    time.Time
	Message string
}

// PutLogLines appends lines to stream in group of account and region, creating
// the group and the stream when they do not exist yet: the awslogs driver's
// awslogs-create-group option and EventBridge's log target both do so on AWS.
// Unlike PutLogEvents, lines need not be in time order; each is stored at its time.
func (s *Service) PutLogLines(ctx context.Context, account, region, groupName, streamName string, lines []LogLine) error {
	if groupName == "" || streamName == "" {
		return errors.New("logs: empty group or stream name")
	}
	sc := scope{account, region}
	now := s.now().UnixMilli()
	seqs := make([]uint64, len(lines))
	for i := range lines {
		seqs[i] = s.nextSeq()
	}
	var filters []metricFilter
	err := s.st.Update(func(tx store.Tx) error {
		var g group
		ok, err := getJSON(tx, groupKey(sc, groupName), &g)
		if err != nil {
			return err
		}
		if !ok {
			g = group{Name: groupName, Created: now, Class: "STANDARD"}
		}
		var st stream
		ok, err = getJSON(tx, streamKey(sc, groupName, streamName), &st)
		if err != nil {
			return err
		}
		if !ok {
			st = stream{Name: streamName, Created: now}
		}
		prefix := eventPrefix(sc, groupName, streamName)
		for i, l := range lines {
			ts := l.Time.UnixMilli()
			if err := tx.Put(append(prefix[:len(prefix):len(prefix)], pos{ts, seqs[i]}.bytes()...), encodeEvent(now, l.Message)); err != nil {
				return err
			}
			st.note(ts, now, len(l.Message))
			g.Bytes += int64(len(l.Message))
		}
		if filters, err = s.groupFilters(tx, sc, groupName); err != nil {
			return err
		}
		if err := putJSON(tx, groupKey(sc, groupName), &g); err != nil {
			return err
		}
		return putJSON(tx, streamKey(sc, groupName, streamName), &st)
	})
	if err != nil || len(filters) == 0 {
		return err
	}
	events := make([]loggedEvent, len(lines))
	for i, l := range lines {
		events[i] = loggedEvent{l.Time.UnixMilli(), l.Message}
	}
	s.publishMetrics(ctx, sc, filters, events)
	return nil
}

// note accounts for one event of n bytes at ts, ingested at now.
func (st *stream) note(ts, now int64, n int) {
	if st.Events == 0 || ts < st.First {
		st.First = ts
	}
	if ts > st.Last {
		st.Last = ts
	}
	st.LastIngestion = now
	st.Bytes += int64(n)
	st.Events++
}
