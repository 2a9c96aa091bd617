package dynamodb

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/wharf-dev/wharf/internal/apierr"
	"github.com/wharf-dev/wharf/internal/awsapi"
	ddb "github.com/wharf-dev/wharf/internal/awsapi/dynamodb"
	dst "github.com/wharf-dev/wharf/internal/awsapi/dynamodbstreams"
	"github.com/wharf-dev/wharf/internal/service/dynamodb/expr"
	"github.com/wharf-dev/wharf/internal/store"
)

// DynamoDB Streams: every write to a table with a stream enabled appends a
// record, in the write's own transaction, under
//
//	ddb/r/<tid>/<label>/<sequence number>
//
// A stream has one shard, so the sequence numbers (21 decimal digits, from
// the clock's nanoseconds and never repeated) order the records of the whole
// stream, as a shard orders its own. Records live 24 hours ("Change data
// capture for DynamoDB Streams"); a disabled stream stays readable as long.

const (
	streamRetention = 24 * time.Hour
	seqDigits       = 21
)

// stream is one stream a table has had; the last is the current one.
type stream struct {
	Label    string // "2026-12-06T03:04:05.678"
	ViewType string
	Created  time.Time
	Disabled bool `json:",omitempty"`
}

func (t *table) currentStream() *stream {
	if len(t.Streams) == 0 {
		return nil
	}
	st := &t.Streams[len(t.Streams)-1]
	if st.Disabled {
		return nil
	}
	return st
}

func (t *table) streamARN(label string) string { return t.arn() + "/stream/" + label }

func (t *table) shardID(st *stream) string {
	return fmt.Sprintf("shardId-%020d-%s", st.Created.UnixMilli(), t.ID[:8])
}

func (t *table) recordPrefix(label string) []byte {
	return []byte("ddb/r/" + t.ID + "/" + label + "/")
}

// setStream applies a StreamSpecification to t, as CreateTable and
// UpdateTable do.
func (t *table) setStream(spec *ddb.StreamSpecification, now time.Time) error {
	enabled := awsapi.ToBool(spec.StreamEnabled)
	cur := t.currentStream()
	if !enabled {
		if cur == nil {
			return apierr.Validation("Table %s does not have a stream to disable", t.Name)
		}
		cur.Disabled = true
		t.StreamEnabled, t.StreamViewType = false, ""
		return nil
	}
	view := awsapi.ToString(spec.StreamViewType)
	switch view {
	case "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES", "KEYS_ONLY":
	case "":
		return apierr.Validation("One or more parameter values were invalid: StreamViewType must be specified when StreamEnabled is true")
	default:
		return apierr.Validation("1 validation error detected: Value '%s' at 'streamSpecification.streamViewType' failed to satisfy constraint: Member must satisfy enum value set: [NEW_IMAGE, OLD_IMAGE, NEW_AND_OLD_IMAGES, KEYS_ONLY]", view)
	}
	if cur != nil {
		return apierr.Validation("Table %s already has an enabled stream: %s", t.Name, t.streamARN(cur.Label))
	}
	created := now.UTC().Truncate(time.Millisecond)
	if n := len(t.Streams); n > 0 && !created.After(t.Streams[n-1].Created) {
		created = t.Streams[n-1].Created.Add(time.Millisecond)
	}
	t.Streams = append(t.Streams, stream{Label: created.Format("2006-01-02T15:04:05.000"), ViewType: view, Created: created})
	t.StreamEnabled, t.StreamViewType = true, view
	return nil
}

// sequencer hands out increasing sequence numbers: the clock's nanoseconds,
// or one more than the last when the clock has not moved.
type sequencer struct {
	mu   sync.Mutex
	last int64
}

func (q *sequencer) next(now time.Time) string {
	q.mu.Lock()
	n := max(now.UnixNano(), q.last+1)
	q.last = n
	q.mu.Unlock()
	return fmt.Sprintf("%0*d", seqDigits, n)
}

// Record kinds and flags, as stored.
const (
	recInsert byte = 1 + iota
	recModify
	recRemove
)

const (
	recTTL byte = 1 << iota // deleted by TTL: userIdentity is DynamoDB's
	recOld
	recNew
)

// appendRecord records a change of t's item at key (old or item nil for an
// insert or a removal) in t's current stream, inside tx.
func (s *Service) appendRecord(tx store.Tx, t *table, old, item Item, ttl bool) error {
	st := t.currentStream()
	if st == nil || (old == nil && item == nil) {
		return nil
	}
	if old != nil && item != nil && expr.Equal(Value{M: old}, Value{M: item}) {
		return nil // DynamoDB records only writes that change the item
	}
	now := s.now()
	kind := recModify
	switch {
	case old == nil:
		kind = recInsert
	case item == nil:
		kind = recRemove
	}
	var flags byte
	if ttl {
		flags |= recTTL
	}
	keys := t.keyAttrs(item)
	if item == nil {
		keys = t.keyAttrs(old)
	}
	withOld := old != nil && (st.ViewType == "OLD_IMAGE" || st.ViewType == "NEW_AND_OLD_IMAGES")
	withNew := item != nil && (st.ViewType == "NEW_IMAGE" || st.ViewType == "NEW_AND_OLD_IMAGES")
	if withOld {
		flags |= recOld
	}
	if withNew {
		flags |= recNew
	}
	b := []byte{kind, flags}
	b = binary.AppendVarint(b, now.UnixMilli())
	b = appendBytes(b, encodeItem(keys))
	if withOld {
		b = appendBytes(b, encodeItem(old))
	}
	if withNew {
		b = appendBytes(b, encodeItem(item))
	}
	return tx.Put(append(t.recordPrefix(st.Label), s.seq.next(now)...), b)
}

// decodeRecord renders a stored record in the Streams API's shape.
func decodeRecord(t *table, st *stream, seq string, b []byte) (dst.Record, error) {
	if len(b) < 2 {
		return dst.Record{}, errCorrupt
	}
	kind, flags := b[0], b[1]
	ms, n := binary.Varint(b[2:])
	if n <= 0 {
		return dst.Record{}, errCorrupt
	}
	r := &reader{b: b[2+n:]}
	// The event id is unique per record without costing the write a random
	// read: a digest of the table and the sequence number.
	sum := md5.Sum([]byte(t.ID + "/" + seq))
	id := hex.EncodeToString(sum[:])
	item := func() map[string]dst.AttributeValue {
		raw := r.bytes()
		if r.err != nil {
			return nil
		}
		it, err := decodeItem(raw)
		if err != nil {
			r.err = err
		}
		return toStreamItem(it)
	}
	created := time.UnixMilli(ms).UTC()
	sr := &dst.StreamRecord{
		ApproximateCreationDateTime: &created,
		Keys:                        item(),
		SequenceNumber:              awsapi.String(seq),
		StreamViewType:              awsapi.String(st.ViewType),
	}
	if flags&recOld != 0 {
		sr.OldImage = item()
	}
	if flags&recNew != 0 {
		sr.NewImage = item()
	}
	if r.err != nil {
		return dst.Record{}, r.err
	}
	sr.SizeBytes = awsapi.Int64(int64(len(b) - 2 - n))
	rec := dst.Record{
		EventID:      awsapi.String(id),
		EventName:    awsapi.String([...]string{"", "INSERT", "MODIFY", "REMOVE"}[min(int(kind), 3)]),
		EventVersion: awsapi.String("1.1"),
		EventSource:  awsapi.String("aws:dynamodb"),
		AwsRegion:    awsapi.String(t.Region),
		Dynamodb:     sr,
	}
	if flags&recTTL != 0 {
		// TTL deletions are DynamoDB's own ("Streams and Time to Live").
		rec.UserIdentity = &dst.Identity{PrincipalId: awsapi.String("dynamodb.amazonaws.com"), Type: awsapi.String("Service")}
	}
	return rec, nil
}

func toStreamItem(it Item) map[string]dst.AttributeValue {
	out := make(map[string]dst.AttributeValue, len(it))
	for k, v := range it {
		out[k] = toStreamValue(v)
	}
	return out
}

func toStreamValue(v Value) dst.AttributeValue {
	out := dst.AttributeValue{S: v.S, N: v.N, B: v.B, SS: v.SS, NS: v.NS, BS: v.BS, NULL: v.NULL, BOOL: v.BOOL}
	if v.M != nil {
		out.M = toStreamItem(v.M)
	}
	if v.L != nil {
		out.L = make([]dst.AttributeValue, len(v.L))
		for i, e := range v.L {
			out.L[i] = toStreamValue(e)
		}
	}
	return out
}

// trimStreams deletes records older than the retention, and every record of
// tables that no longer exist.
func (s *Service) trimStreams() error {
	cutoff := fmt.Sprintf("%0*d", seqDigits, s.now().Add(-streamRetention).UnixNano())
	return s.st.Update(func(tx store.Tx) error {
		live := map[string]bool{}
		err := tx.Scan([]byte("ddb/t/"), nil, func(k, v []byte) (bool, error) {
			t := &table{}
			if err := json.Unmarshal(v, t); err == nil {
				live[t.ID] = true
			}
			return true, nil
		})
		if err != nil {
			return err
		}
		var dead [][]byte
		err = tx.Scan([]byte("ddb/r/"), nil, func(k, v []byte) (bool, error) {
			parts := strings.SplitN(string(k), "/", 5) // ddb r tid label seq
			if len(parts) == 5 && (!live[parts[2]] || parts[4] < cutoff) {
				dead = append(dead, bytes.Clone(k))
			}
			return len(dead) < 10000, nil
		})
		if err != nil {
			return err
		}
		for _, k := range dead {
			if err := tx.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
}

// Streams serves the DynamoDB Streams API over the service's tables.
type Streams struct{ s *Service }

// Streams returns the DynamoDB Streams API of s.
func (s *Service) Streams() *Streams { return &Streams{s: s} }

// streamRef is a stream found by its ARN.
type streamRef struct {
	t  *table
	st *stream
}

// findStream resolves a stream ARN in the caller's account and region.
func (x *Streams) findStream(ctx context.Context, arn string) (*streamRef, error) {
	account, region := caller(ctx)
	prefix := fmt.Sprintf("arn:aws:dynamodb:%s:%s:table/", region, account)
	rest, ok := strings.CutPrefix(arn, prefix)
	name, label, ok2 := strings.Cut(rest, "/stream/")
	if !ok || !ok2 {
		if strings.HasPrefix(arn, "arn:") && strings.Contains(arn, "/stream/") {
			return nil, ddb.ErrResourceNotFoundException("Requested resource not found: Stream: %s not found", arn)
		}
		return nil, apierr.Validation("Invalid StreamArn: %s", arn)
	}
	t, err := x.s.getTable(ctx, &name)
	if err != nil {
		return nil, ddb.ErrResourceNotFoundException("Requested resource not found: Stream: %s not found", arn)
	}
	for i := range t.Streams {
		if t.Streams[i].Label == label {
			return &streamRef{t: t, st: &t.Streams[i]}, nil
		}
	}
	return nil, ddb.ErrResourceNotFoundException("Requested resource not found: Stream: %s not found", arn)
}

// ListStreams lists the streams of the caller's tables, or of one table, in
// table order.
func (x *Streams) ListStreams(ctx context.Context, in *dst.ListStreamsInput) (*dst.ListStreamsOutput, error) {
	limit := 100
	if in.Limit != nil {
		if *in.Limit < 1 || *in.Limit > 100 {
			return nil, apierr.Validation("1 validation error detected: Value '%d' at 'limit' failed to satisfy constraint: Member must have value between 1 and 100", *in.Limit)
		}
		limit = int(*in.Limit)
	}
	account, region := caller(ctx)
	// Streams are listed by table name, then label: a page resumes after
	// the ARN it ended with, even when that table is gone since.
	var afterName, afterLabel string
	if a := in.ExclusiveStartStreamArn; a != nil {
		rest, ok := strings.CutPrefix(*a, fmt.Sprintf("arn:aws:dynamodb:%s:%s:table/", region, account))
		name, label, ok2 := strings.Cut(rest, "/stream/")
		if !ok || !ok2 {
			return nil, apierr.Validation("Invalid ExclusiveStartStreamArn: %s", *a)
		}
		afterName, afterLabel = name, label
	}
	out := &dst.ListStreamsOutput{Streams: []dst.Stream{}}
	var all []dst.Stream
	err := x.s.st.View(func(tx store.Tx) error {
		return tx.Scan(tablePrefix(account, region), nil, func(k, v []byte) (bool, error) {
			t := &table{}
			if err := json.Unmarshal(v, t); err != nil {
				return false, err
			}
			if in.TableName != nil && *in.TableName != t.Name {
				return true, nil
			}
			for _, st := range t.Streams {
				if afterName != "" && (t.Name < afterName || (t.Name == afterName && st.Label <= afterLabel)) {
					continue
				}
				all = append(all, dst.Stream{StreamArn: awsapi.String(t.streamARN(st.Label)), TableName: awsapi.String(t.Name), StreamLabel: awsapi.String(st.Label)})
			}
			return true, nil
		})
	})
	if err != nil {
		return nil, err
	}
	if in.TableName != nil && len(all) == 0 {
		if _, err := x.s.getTable(ctx, in.TableName); err != nil {
			return nil, err
		}
	}
	if len(all) > limit {
		all = all[:limit]
		out.LastEvaluatedStreamArn = all[limit-1].StreamArn
	}
	out.Streams = append(out.Streams, all...)
	return out, nil
}

// DescribeStream describes a stream and its one shard.
func (x *Streams) DescribeStream(ctx context.Context, in *dst.DescribeStreamInput) (*dst.DescribeStreamOutput, error) {
	if in.Limit != nil && (*in.Limit < 1 || *in.Limit > 100) {
		return nil, apierr.Validation("1 validation error detected: Value '%d' at 'limit' failed to satisfy constraint: Member must have value between 1 and 100", *in.Limit)
	}
	ref, err := x.findStream(ctx, awsapi.ToString(in.StreamArn))
	if err != nil {
		return nil, err
	}
	t, st := ref.t, ref.st
	status := "ENABLED"
	if st.Disabled {
		status = "DISABLED"
	}
	created := st.Created
	d := &dst.StreamDescription{
		StreamArn: awsapi.String(t.streamARN(st.Label)), StreamLabel: awsapi.String(st.Label),
		StreamStatus: awsapi.String(status), StreamViewType: awsapi.String(st.ViewType),
		CreationRequestDateTime: &created, TableName: awsapi.String(t.Name),
		Shards: []dst.Shard{},
	}
	for _, k := range schema(t.Hash, t.Range) {
		d.KeySchema = append(d.KeySchema, dst.KeySchemaElement{AttributeName: k.AttributeName, KeyType: k.KeyType})
	}
	shard := t.shardID(st)
	if in.ExclusiveStartShardId == nil || *in.ExclusiveStartShardId < shard {
		rng := &dst.SequenceNumberRange{StartingSequenceNumber: awsapi.String(fmt.Sprintf("%0*d", seqDigits, st.Created.UnixNano()))}
		if st.Disabled {
			last, err := x.lastSeq(t, st)
			if err != nil {
				return nil, err
			}
			if last == "" {
				last = *rng.StartingSequenceNumber
			}
			rng.EndingSequenceNumber = awsapi.String(last)
		}
		d.Shards = append(d.Shards, dst.Shard{ShardId: awsapi.String(shard), SequenceNumberRange: rng})
	}
	return &dst.DescribeStreamOutput{StreamDescription: d}, nil
}

// lastSeq is the sequence number of the newest record of a stream, or "".
func (x *Streams) lastSeq(t *table, st *stream) (string, error) {
	var last string
	prefix := t.recordPrefix(st.Label)
	err := x.s.st.View(func(tx store.Tx) error {
		return tx.ScanReverse(prefix, nil, func(k, v []byte) (bool, error) {
			last = string(k[len(prefix):])
			return false, nil
		})
	})
	return last, err
}

// iterator is a position in a shard: the records after Seq (or at it).
type iterator struct {
	ARN, Shard, Seq string
	At              bool
}

func (it iterator) encode() string {
	at := "a"
	if it.At {
		at = "t"
	}
	return base64.RawURLEncoding.EncodeToString([]byte(it.ARN + "|" + it.Shard + "|" + at + "|" + it.Seq))
}

func decodeIterator(s string) (iterator, bool) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return iterator{}, false
	}
	p := strings.Split(string(b), "|")
	if len(p) != 4 || (p[2] != "a" && p[2] != "t") {
		return iterator{}, false
	}
	return iterator{ARN: p[0], Shard: p[1], At: p[2] == "t", Seq: p[3]}, true
}

// GetShardIterator returns a position in a shard to read records from.
func (x *Streams) GetShardIterator(ctx context.Context, in *dst.GetShardIteratorInput) (*dst.GetShardIteratorOutput, error) {
	typ := awsapi.ToString(in.ShardIteratorType)
	switch typ {
	case "TRIM_HORIZON", "LATEST", "AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER":
	default:
		return nil, apierr.Validation("1 validation error detected: Value '%s' at 'shardIteratorType' failed to satisfy constraint: Member must satisfy enum value set: [AT_SEQUENCE_NUMBER, TRIM_HORIZON, LATEST, AFTER_SEQUENCE_NUMBER]", typ)
	}
	ref, err := x.findStream(ctx, awsapi.ToString(in.StreamArn))
	if err != nil {
		return nil, err
	}
	shard := ref.t.shardID(ref.st)
	if awsapi.ToString(in.ShardId) != shard {
		return nil, ddb.ErrResourceNotFoundException("Requested resource not found: Shard does not exist")
	}
	it := iterator{ARN: ref.t.streamARN(ref.st.Label), Shard: shard}
	if (typ == "LATEST" || typ == "TRIM_HORIZON") && in.SequenceNumber != nil {
		return nil, apierr.Validation("Cannot specify a sequence number for iterator type %s", typ)
	}
	switch typ {
	case "LATEST":
		if it.Seq, err = x.lastSeq(ref.t, ref.st); err != nil {
			return nil, err
		}
	case "AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER":
		seq := awsapi.ToString(in.SequenceNumber)
		if _, err := strconv.ParseUint(seq, 10, 64); err != nil || len(seq) > seqDigits {
			if seq == "" {
				return nil, apierr.Validation("Must specify a sequence number for iterator type %s", typ)
			}
			return nil, apierr.Validation("Invalid SequenceNumber: %s", seq)
		}
		it.Seq, it.At = fmt.Sprintf("%0*s", seqDigits, seq), typ == "AT_SEQUENCE_NUMBER"
	}
	return &dst.GetShardIteratorOutput{ShardIterator: awsapi.String(it.encode())}, nil
}

// GetRecords reads up to Limit (1000) records from an iterator's position.
// The next iterator is left out once a closed shard has been read to its end.
func (x *Streams) GetRecords(ctx context.Context, in *dst.GetRecordsInput) (*dst.GetRecordsOutput, error) {
	limit := 1000
	if in.Limit != nil {
		if *in.Limit < 1 || *in.Limit > 1000 {
			return nil, apierr.Validation("1 validation error detected: Value '%d' at 'limit' failed to satisfy constraint: Member must have value between 1 and 1000", *in.Limit)
		}
		limit = int(*in.Limit)
	}
	it, ok := decodeIterator(awsapi.ToString(in.ShardIterator))
	if !ok {
		return nil, apierr.Validation("Invalid ShardIterator")
	}
	ref, err := x.findStream(ctx, it.ARN)
	if err != nil {
		return nil, err
	}
	t, st := ref.t, ref.st
	prefix := t.recordPrefix(st.Label)
	out := &dst.GetRecordsOutput{Records: []dst.Record{}}
	next := it
	reachedEnd := true
	err = x.s.st.View(func(tx store.Tx) error {
		start := append(bytes.Clone(prefix), it.Seq...)
		return tx.Scan(prefix, start, func(k, v []byte) (bool, error) {
			seq := string(k[len(prefix):])
			if !it.At && seq == it.Seq {
				return true, nil
			}
			if len(out.Records) == limit {
				reachedEnd = false
				return false, nil
			}
			rec, err := decodeRecord(t, st, seq, v)
			if err != nil {
				return false, err
			}
			out.Records = append(out.Records, rec)
			next = iterator{ARN: it.ARN, Shard: it.Shard, Seq: seq}
			return true, nil
		})
	})
	if err != nil {
		return nil, err
	}
	if !(st.Disabled && reachedEnd) {
		out.NextShardIterator = awsapi.String(next.encode())
	}
	return out, nil
}
