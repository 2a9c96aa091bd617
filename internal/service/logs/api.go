package logs

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/wharf-dev/wharf/internal/apierr"
	"github.com/wharf-dev/wharf/internal/awsapi"
	logsapi "github.com/wharf-dev/wharf/internal/awsapi/logs"
	"github.com/wharf-dev/wharf/internal/lazyregexp"
	"github.com/wharf-dev/wharf/internal/store"
)

func scopeOf(ctx context.Context) scope {
	c := awsapi.CallerFrom(ctx)
	sc := scope{c.Account, c.Region}
	if sc.account == "" {
		sc.account = "000000000000"
	}
	if sc.region == "" {
		sc.region = "us-east-1"
	}
	return sc
}

var groupNameRE = lazyregexp.New(`^[\.\-_/#A-Za-z0-9]{1,512}$`)

func checkGroupName(field, name string) error {
	if len(name) > 512 {
		return errNameTooLong()
	}
	if !groupNameRE.MatchString(name) {
		return invalidParam("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\.\\-_/#A-Za-z0-9]+", name, field)
	}
	return nil
}

// errNameTooLong is CloudWatch Logs' answer to a log group or stream name
// longer than 512 characters, whichever it is.
func errNameTooLong() error {
	return invalidParam("Invalid LogGroup or LogStream, both must have length less than or equal to 512.")
}

func checkStreamName(name string) error {
	if len(name) > 512 {
		return errNameTooLong()
	}
	if name == "" || strings.ContainsAny(name, ":*\x00") {
		return invalidParam("1 validation error detected: Value '%s' at 'logStreamName' failed to satisfy constraint: Member must satisfy regular expression pattern: [^:*]*", name)
	}
	return nil
}

// groupName resolves a log group given by name or by identifier: a name, or
// an ARN arn:<partition>:logs:<region>:<account>:log-group:<name> (with or
// without the trailing ":*" DescribeLogGroups' arn carries). An ARN of
// another account or region names a group the caller cannot reach (wharf has
// no cross-account observability links): it does not exist for them.
func groupName(sc scope, name, identifier *string) (string, error) {
	n := awsapi.ToString(name)
	id := awsapi.ToString(identifier)
	switch {
	case n != "" && id != "":
		// A ValidationException, although the operations' models list only
		// InvalidParameterException (as CloudWatch Logs answers, recorded in
		// localstack's AWS-validated snapshots).
		return "", logsapi.ErrValidationException("LogGroup name and LogGroup ARN are mutually exclusive parameters.")
	case n != "":
		return n, checkGroupName("logGroupName", n)
	case id != "":
		if !strings.HasPrefix(id, "arn:") {
			return id, checkGroupName("logGroupIdentifier", id)
		}
		parts := strings.SplitN(id, ":", 7)
		if len(parts) != 7 || parts[1] == "" || parts[2] != "logs" || parts[5] != "log-group" || parts[6] == "" {
			return "", invalidParam("Invalid log group ARN: %s", id)
		}
		g := strings.TrimSuffix(parts[6], ":*")
		if err := checkGroupName("logGroupIdentifier", g); err != nil {
			return "", err
		}
		if parts[3] != sc.region || parts[4] != sc.account {
			return "", errGroupNotFound()
		}
		return g, nil
	}
	return "", invalidParam("Either logGroupName or logGroupIdentifier must be specified.")
}

// CreateLogGroup creates a log group.
func (s *Service) CreateLogGroup(ctx context.Context, in *logsapi.CreateLogGroupInput) (*logsapi.CreateLogGroupOutput, error) {
	sc := scopeOf(ctx)
	name := awsapi.ToString(in.LogGroupName)
	if err := checkGroupName("logGroupName", name); err != nil {
		return nil, err
	}
	class := awsapi.ToString(in.LogGroupClass)
	switch class {
	case "":
		class = "STANDARD"
	case "STANDARD", "INFREQUENT_ACCESS", "DELIVERY":
	default:
		return nil, invalidParam("1 validation error detected: Value '%s' at 'logGroupClass' failed to satisfy constraint: Member must satisfy enum value set: [DELIVERY, STANDARD, INFREQUENT_ACCESS]", class)
	}
	g := group{Name: name, Created: s.now().UnixMilli(), Class: class, KmsKeyID: awsapi.ToString(in.KmsKeyId), Tags: in.Tags, DelProt: awsapi.ToBool(in.DeletionProtectionEnabled)}
	err := s.st.Update(func(tx store.Tx) error {
		old, err := tx.Get(groupKey(sc, name))
		if err != nil {
			return err
		}
		if old != nil {
			return logsapi.ErrResourceAlreadyExistsException("The specified log group already exists")
		}
		return putJSON(tx, groupKey(sc, name), &g)
	})
	if err != nil {
		return nil, err
	}
	return &logsapi.CreateLogGroupOutput{}, nil
}

// DeleteLogGroup deletes a log group with its streams and events.
func (s *Service) DeleteLogGroup(ctx context.Context, in *logsapi.DeleteLogGroupInput) (*logsapi.DeleteLogGroupOutput, error) {
	sc := scopeOf(ctx)
	name := awsapi.ToString(in.LogGroupName)
	if err := checkGroupName("logGroupName", name); err != nil {
		return nil, err
	}
	err := s.st.Update(func(tx store.Tx) error {
		var g group
		ok, err := getJSON(tx, groupKey(sc, name), &g)
		if err != nil {
			return err
		}
		if !ok {
			return errGroupNotFound()
		}
		if g.DelProt {
			return logsapi.ErrOperationAbortedException("Log group %s has deletion protection enabled.", name)
		}
		if err := tx.Delete(groupKey(sc, name)); err != nil {
			return err
		}
		if err := deletePrefix(tx, streamPrefix(sc, name)); err != nil {
			return err
		}
		if err := deletePrefix(tx, metricFilterPrefix(sc, name)); err != nil {
			return err
		}
		return deletePrefix(tx, eventGroupPrefix(sc, name))
	})
	if err != nil {
		return nil, err
	}
	return &logsapi.DeleteLogGroupOutput{}, nil
}

func deletePrefix(tx store.Tx, prefix []byte) error {
	var keys [][]byte
	err := tx.Scan(prefix, nil, func(k, _ []byte) (bool, error) {
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

func encodeToken(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func decodeToken(t string) (string, error) {
	b, err := base64.RawURLEncoding.DecodeString(t)
	if err != nil {
		return "", invalidParam("The specified nextToken is invalid.")
	}
	return string(b), nil
}

func limitOf(p *int32, def, max int32, field string) (int, error) {
	if p == nil {
		return int(def), nil
	}
	if *p < 1 || *p > max {
		return 0, invalidParam("1 validation error detected: Value '%d' at '%s' failed to satisfy constraint: Member must have value between 1 and %d", *p, field, max)
	}
	return int(*p), nil
}

// api is the group as DescribeLogGroups shows it, with its number of metric
// filters.
func (g *group) api(sc scope, filters int) logsapi.LogGroup {
	arn := groupARN(sc, g.Name)
	out := logsapi.LogGroup{
		LogGroupName:      awsapi.String(g.Name),
		CreationTime:      awsapi.Int64(g.Created),
		MetricFilterCount: awsapi.Int32(int32(filters)),
		Arn:               awsapi.String(arn + ":*"),
		LogGroupArn:       awsapi.String(arn),
		StoredBytes:       awsapi.Int64(g.Bytes),
		LogGroupClass:     awsapi.String(g.Class),
	}
	if g.Retention > 0 {
		out.RetentionInDays = awsapi.Int32(g.Retention)
	}
	if g.KmsKeyID != "" {
		out.KmsKeyId = awsapi.String(g.KmsKeyID)
	}
	// CloudWatch Logs reports deletion protection off as false, not by
	// leaving it out.
	out.DeletionProtectionEnabled = awsapi.Bool(g.DelProt)
	return out
}

// DescribeLogGroups lists log groups in name order.
func (s *Service) DescribeLogGroups(ctx context.Context, in *logsapi.DescribeLogGroupsInput) (*logsapi.DescribeLogGroupsOutput, error) {
	sc := scopeOf(ctx)
	limit, err := limitOf(in.Limit, 50, 50, "limit")
	if err != nil {
		return nil, err
	}
	prefix := awsapi.ToString(in.LogGroupNamePrefix)
	pattern := strings.ToLower(awsapi.ToString(in.LogGroupNamePattern))
	if prefix != "" && pattern != "" {
		return nil, invalidParam("LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters.")
	}
	var ids map[string]bool
	if len(in.LogGroupIdentifiers) > 0 {
		ids = map[string]bool{}
		for _, id := range in.LogGroupIdentifiers {
			n, err := groupName(sc, nil, &id)
			if ae := apierr.As(err); ae != nil && ae.Code == "ResourceNotFoundException" {
				continue // another account's or region's group: not listed
			}
			if err != nil {
				return nil, err
			}
			ids[n] = true
		}
	}
	var start []byte
	if in.NextToken != nil {
		after, err := decodeToken(*in.NextToken)
		if err != nil {
			return nil, err
		}
		start = append(groupKey(sc, after), 0)
	}
	base := groupPrefix(sc)
	out := &logsapi.DescribeLogGroupsOutput{LogGroups: []logsapi.LogGroup{}}
	err = s.st.View(func(tx store.Tx) error {
		return tx.Scan(append(base, prefix...), start, func(k, v []byte) (bool, error) {
			name := string(k[len(base):])
			if pattern != "" && !strings.Contains(strings.ToLower(name), pattern) || ids != nil && !ids[name] {
				return true, nil
			}
			var g group
			if err := jsonUnmarshal(v, &g); err != nil {
				return false, err
			}
			if in.LogGroupClass != nil && g.Class != *in.LogGroupClass {
				return true, nil
			}
			if len(out.LogGroups) == limit {
				out.NextToken = awsapi.String(encodeToken(*out.LogGroups[limit-1].LogGroupName))
				return false, nil
			}
			filters := 0
			if err := tx.Scan(metricFilterPrefix(sc, name), nil, func(_, _ []byte) (bool, error) { filters++; return true, nil }); err != nil {
				return false, err
			}
			out.LogGroups = append(out.LogGroups, g.api(sc, filters))
			return true, nil
		})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// CreateLogStream creates a log stream in an existing group.
func (s *Service) CreateLogStream(ctx context.Context, in *logsapi.CreateLogStreamInput) (*logsapi.CreateLogStreamOutput, error) {
	sc := scopeOf(ctx)
	g, st := awsapi.ToString(in.LogGroupName), awsapi.ToString(in.LogStreamName)
	if err := checkGroupName("logGroupName", g); err != nil {
		return nil, err
	}
	if err := checkStreamName(st); err != nil {
		return nil, err
	}
	err := s.st.Update(func(tx store.Tx) error {
		if v, err := tx.Get(groupKey(sc, g)); err != nil || v == nil {
			if err != nil {
				return err
			}
			return errGroupNotFound()
		}
		if v, err := tx.Get(streamKey(sc, g, st)); err != nil || v != nil {
			if err != nil {
				return err
			}
			return logsapi.ErrResourceAlreadyExistsException("The specified log stream already exists")
		}
		return putJSON(tx, streamKey(sc, g, st), &stream{Name: st, Created: s.now().UnixMilli()})
	})
	if err != nil {
		return nil, err
	}
	return &logsapi.CreateLogStreamOutput{}, nil
}

// DeleteLogStream deletes a log stream and its events.
func (s *Service) DeleteLogStream(ctx context.Context, in *logsapi.DeleteLogStreamInput) (*logsapi.DeleteLogStreamOutput, error) {
	sc := scopeOf(ctx)
	g, st := awsapi.ToString(in.LogGroupName), awsapi.ToString(in.LogStreamName)
	if err := checkGroupName("logGroupName", g); err != nil {
		return nil, err
	}
	err := s.st.Update(func(tx store.Tx) error {
		if v, err := tx.Get(groupKey(sc, g)); err != nil || v == nil {
			if err != nil {
				return err
			}
			return errGroupNotFound()
		}
		if v, err := tx.Get(streamKey(sc, g, st)); err != nil || v == nil {
			if err != nil {
				return err
			}
			return errStreamNotFound()
		}
		if err := tx.Delete(streamKey(sc, g, st)); err != nil {
			return err
		}
		return deletePrefix(tx, eventPrefix(sc, g, st))
	})
	if err != nil {
		return nil, err
	}
	return &logsapi.DeleteLogStreamOutput{}, nil
}

func (st *stream) api(sc scope, g string) logsapi.LogStream {
	out := logsapi.LogStream{
		LogStreamName: awsapi.String(st.Name),
		CreationTime:  awsapi.Int64(st.Created),
		Arn:           awsapi.String(groupARN(sc, g) + ":log-stream:" + st.Name),
		StoredBytes:   awsapi.Int64(st.Bytes),
	}
	if st.Events > 0 {
		out.FirstEventTimestamp = awsapi.Int64(st.First)
		out.LastEventTimestamp = awsapi.Int64(st.Last)
		out.LastIngestionTime = awsapi.Int64(st.LastIngestion)
		out.UploadSequenceToken = awsapi.String(strconv.FormatInt(st.Events, 10))
	}
	return out
}

// DescribeLogStreams lists a group's streams by name or by last event time.
func (s *Service) DescribeLogStreams(ctx context.Context, in *logsapi.DescribeLogStreamsInput) (*logsapi.DescribeLogStreamsOutput, error) {
	sc := scopeOf(ctx)
	g, err := groupName(sc, in.LogGroupName, in.LogGroupIdentifier)
	if err != nil {
		return nil, err
	}
	limit, err := limitOf(in.Limit, 50, 50, "limit")
	if err != nil {
		return nil, err
	}
	order := awsapi.ToString(in.OrderBy)
	switch order {
	case "", "LogStreamName":
		order = "LogStreamName"
	case "LastEventTime":
		if in.LogStreamNamePrefix != nil {
			return nil, invalidParam("Cannot order by LastEventTime with a logStreamNamePrefix.")
		}
	default:
		return nil, invalidParam("1 validation error detected: Value '%s' at 'orderBy' failed to satisfy constraint: Member must satisfy enum value set: [LogStreamName, LastEventTime]", order)
	}
	offset := 0
	if in.NextToken != nil {
		t, err := decodeToken(*in.NextToken)
		if err != nil {
			return nil, err
		}
		if offset, err = strconv.Atoi(t); err != nil || offset < 0 {
			return nil, invalidParam("The specified nextToken is invalid.")
		}
	}
	var streams []stream
	err = s.st.View(func(tx store.Tx) error {
		if v, err := tx.Get(groupKey(sc, g)); err != nil || v == nil {
			if err != nil {
				return err
			}
			return errGroupNotFound()
		}
		base := streamPrefix(sc, g)
		return tx.Scan(append(base, awsapi.ToString(in.LogStreamNamePrefix)...), nil, func(k, v []byte) (bool, error) {
			var st stream
			if err := jsonUnmarshal(v, &st); err != nil {
				return false, err
			}
			streams = append(streams, st)
			return true, nil
		})
	})
	if err != nil {
		return nil, err
	}
	if order == "LastEventTime" {
		// Streams without events sort as if their last event were at time 0.
		sort.SliceStable(streams, func(i, j int) bool { return streams[i].Last < streams[j].Last })
	}
	if awsapi.ToBool(in.Descending) {
		for i, j := 0, len(streams)-1; i < j; i, j = i+1, j-1 {
			streams[i], streams[j] = streams[j], streams[i]
		}
	}
	out := &logsapi.DescribeLogStreamsOutput{LogStreams: []logsapi.LogStream{}}
	for i := offset; i < len(streams) && len(out.LogStreams) < limit; i++ {
		out.LogStreams = append(out.LogStreams, streams[i].api(sc, g))
	}
	if offset+limit < len(streams) {
		out.NextToken = awsapi.String(encodeToken(strconv.Itoa(offset + limit)))
	}
	return out, nil
}

// PutLogEvents limits (PutLogEvents API reference).
const (
	maxBatchBytes  = 1_048_576
	eventOverhead  = 26
	maxBatchEvents = 10_000
	maxEventBytes  = 1_048_576
	tooNewAfter    = 2 * 3600 * 1000       // ms in the future
	tooOldBefore   = 14 * 24 * 3600 * 1000 // ms in the past
	maxBatchSpan   = 24 * 3600 * 1000
)

// PutLogEvents appends a batch of events to a stream. As on AWS, the sequence
// token is ignored; events too far in the future or past are rejected while the
// rest are stored, and reported in rejectedLogEventsInfo.
func (s *Service) PutLogEvents(ctx context.Context, in *logsapi.PutLogEventsInput) (*logsapi.PutLogEventsOutput, error) {
	sc := scopeOf(ctx)
	g, stName := awsapi.ToString(in.LogGroupName), awsapi.ToString(in.LogStreamName)
	if err := checkGroupName("logGroupName", g); err != nil {
		return nil, err
	}
	if err := checkStreamName(stName); err != nil {
		return nil, err
	}
	evs := in.LogEvents
	if len(evs) == 0 {
		return nil, invalidParam("1 validation error detected: Value '[]' at 'logEvents' failed to satisfy constraint: Member must have length greater than or equal to 1")
	}
	if len(evs) > maxBatchEvents {
		return nil, invalidParam("1 validation error detected: Value at 'logEvents' failed to satisfy constraint: Member must have length less than or equal to 10000")
	}
	size := 0
	for i, e := range evs {
		if e.Timestamp == nil || e.Message == nil {
			return nil, invalidParam("1 validation error detected: Value null at 'logEvents.%d.member.%s' failed to satisfy constraint: Member must not be null", i+1, map[bool]string{true: "timestamp", false: "message"}[e.Timestamp == nil])
		}
		n := len(*e.Message)
		if n == 0 {
			return nil, invalidParam("1 validation error detected: Value '' at 'logEvents.%d.member.message' failed to satisfy constraint: Member must have length greater than or equal to 1", i+1)
		}
		if n+eventOverhead > maxEventBytes {
			return nil, invalidParam("Log event too large: %d bytes exceeds limit of %d", n+eventOverhead, maxEventBytes)
		}
		if !utf8.ValidString(*e.Message) {
			return nil, invalidParam("Log event message is not valid UTF-8.")
		}
		size += n + eventOverhead
		if i > 0 && *e.Timestamp < *evs[i-1].Timestamp {
			return nil, invalidParam("Log events in a single PutLogEvents request must be in chronological order.")
		}
	}
	if size > maxBatchBytes {
		return nil, invalidParam("Upload too large: %d bytes exceeds limit of %d", size, maxBatchBytes)
	}
	now := s.now().UnixMilli()
	seqs := make([]uint64, len(evs))
	for i := range evs {
		seqs[i] = s.nextSeq()
	}
	var out logsapi.PutLogEventsOutput
	var filters []metricFilter
	var stored []loggedEvent
	err := s.st.Update(func(tx store.Tx) error {
		var grp group
		ok, err := getJSON(tx, groupKey(sc, g), &grp)
		if err != nil {
			return err
		}
		if !ok {
			return errGroupNotFound()
		}
		var st stream
		ok, err = getJSON(tx, streamKey(sc, g, stName), &st)
		if err != nil {
			return err
		}
		if !ok {
			return errStreamNotFound()
		}
		// Events are in time order, so the rejected ones are a prefix (too old,
		// expired) and a suffix (too new) of the batch.
		oldest := now - tooOldBefore
		var expiredBefore int64 = -1 << 62
		if grp.Retention > 0 {
			expiredBefore = now - int64(grp.Retention)*24*3600*1000
		}
		tooOldEnd, expiredEnd, tooNewStart := -1, -1, len(evs)
		for i, e := range evs {
			switch ts := *e.Timestamp; {
			case ts < expiredBefore:
				expiredEnd = i
			case ts < oldest:
				tooOldEnd = i
			case ts > now+tooNewAfter:
				if tooNewStart == len(evs) {
					tooNewStart = i
				}
			}
		}
		first := max(tooOldEnd, expiredEnd) + 1
		if first < tooNewStart && *evs[tooNewStart-1].Timestamp-*evs[first].Timestamp > maxBatchSpan {
			return invalidParam("The batch of log events in a single PutLogEvents request cannot span more than 24 hours.")
		}
		prefix := eventPrefix(sc, g, stName)
		for i := first; i < tooNewStart; i++ {
			e := evs[i]
			key := append(prefix[:len(prefix):len(prefix)], pos{*e.Timestamp, seqs[i]}.bytes()...)
			if err := tx.Put(key, encodeEvent(now, *e.Message)); err != nil {
				return err
			}
			st.note(*e.Timestamp, now, len(*e.Message))
			grp.Bytes += int64(len(*e.Message))
		}
		if filters, err = s.groupFilters(tx, sc, g); err != nil {
			return err
		}
		if len(filters) > 0 {
			stored = stored[:0]
			for i := first; i < tooNewStart; i++ {
				stored = append(stored, loggedEvent{*evs[i].Timestamp, *evs[i].Message})
			}
		}
		if tooOldEnd >= 0 || expiredEnd >= 0 || tooNewStart < len(evs) {
			info := &logsapi.RejectedLogEventsInfo{}
			if tooOldEnd >= 0 {
				info.TooOldLogEventEndIndex = awsapi.Int32(int32(tooOldEnd))
			}
			if expiredEnd >= 0 {
				info.ExpiredLogEventEndIndex = awsapi.Int32(int32(expiredEnd))
			}
			if tooNewStart < len(evs) {
				info.TooNewLogEventStartIndex = awsapi.Int32(int32(tooNewStart))
			}
			out.RejectedLogEventsInfo = info
		}
		out.NextSequenceToken = awsapi.String(fmt.Sprintf("%056d", st.Events))
		if err := putJSON(tx, groupKey(sc, g), &grp); err != nil {
			return err
		}
		return putJSON(tx, streamKey(sc, g, stName), &st)
	})
	if err != nil {
		return nil, err
	}
	s.publishMetrics(ctx, sc, filters, stored)
	return &out, nil
}

// PutRetentionPolicy sets a group's retention in days.
func (s *Service) PutRetentionPolicy(ctx context.Context, in *logsapi.PutRetentionPolicyInput) (*logsapi.PutRetentionPolicyOutput, error) {
	days := awsapi.ToInt32(in.RetentionInDays)
	switch days {
	case 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653:
	default:
		return nil, invalidParam("1 validation error detected: Value '%d' at 'retentionInDays' failed to satisfy constraint: Member must satisfy enum value set: [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653]", days)
	}
	return &logsapi.PutRetentionPolicyOutput{}, s.updateGroup(ctx, awsapi.ToString(in.LogGroupName), func(g *group) error {
		g.Retention = days
		return nil
	})
}

// DeleteRetentionPolicy makes a group keep its events forever.
func (s *Service) DeleteRetentionPolicy(ctx context.Context, in *logsapi.DeleteRetentionPolicyInput) (*logsapi.DeleteRetentionPolicyOutput, error) {
	return &logsapi.DeleteRetentionPolicyOutput{}, s.updateGroup(ctx, awsapi.ToString(in.LogGroupName), func(g *group) error {
		g.Retention = 0
		return nil
	})
}

func (s *Service) updateGroup(ctx context.Context, name string, fn func(*group) error) error {
	sc := scopeOf(ctx)
	if err := checkGroupName("logGroupName", name); err != nil {
		return err
	}
	return s.st.Update(func(tx store.Tx) error {
		var g group
		ok, err := getJSON(tx, groupKey(sc, name), &g)
		if err != nil {
			return err
		}
		if !ok {
			return errGroupNotFound()
		}
		if err := fn(&g); err != nil {
			return err
		}
		return putJSON(tx, groupKey(sc, name), &g)
	})
}

func addTags(g *group, tags map[string]string) error {
	if g.Tags == nil {
		g.Tags = map[string]string{}
	}
	for k, v := range tags {
		g.Tags[k] = v
	}
	if len(g.Tags) > 50 {
		return logsapi.ErrTooManyTagsException("A resource can have no more than 50 tags.")
	}
	return nil
}

func removeTags(g *group, keys []string) {
	for _, k := range keys {
		delete(g.Tags, k)
	}
}

// TagLogGroup adds tags to a group (the older, name-based tagging API).
func (s *Service) TagLogGroup(ctx context.Context, in *logsapi.TagLogGroupInput) (*logsapi.TagLogGroupOutput, error) {
	return &logsapi.TagLogGroupOutput{}, s.updateGroup(ctx, awsapi.ToString(in.LogGroupName), func(g *group) error { return addTags(g, in.Tags) })
}

// UntagLogGroup removes tags from a group.
func (s *Service) UntagLogGroup(ctx context.Context, in *logsapi.UntagLogGroupInput) (*logsapi.UntagLogGroupOutput, error) {
	return &logsapi.UntagLogGroupOutput{}, s.updateGroup(ctx, awsapi.ToString(in.LogGroupName), func(g *group) error { removeTags(g, in.Tags); return nil })
}

// ListTagsLogGroup returns a group's tags.
func (s *Service) ListTagsLogGroup(ctx context.Context, in *logsapi.ListTagsLogGroupInput) (*logsapi.ListTagsLogGroupOutput, error) {
	g, err := s.readGroup(ctx, awsapi.ToString(in.LogGroupName))
	if err != nil {
		return nil, err
	}
	return &logsapi.ListTagsLogGroupOutput{Tags: nonNil(g.Tags)}, nil
}

func nonNil(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

func (s *Service) readGroup(ctx context.Context, name string) (*group, error) {
	sc := scopeOf(ctx)
	if err := checkGroupName("logGroupName", name); err != nil {
		return nil, err
	}
	var g group
	err := s.st.View(func(tx store.Tx) error {
		ok, err := getJSON(tx, groupKey(sc, name), &g)
		if err == nil && !ok {
			err = errGroupNotFound()
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return &g, nil
}

// groupOfARN returns the log group an ARN names; log streams and other
// resources cannot be tagged in wharf.
func groupOfARN(arn string) (string, error) {
	i := strings.Index(arn, ":log-group:")
	if !strings.HasPrefix(arn, "arn:") || i < 0 {
		return "", invalidParam("Invalid resource arn: %s", arn)
	}
	return strings.TrimSuffix(arn[i+len(":log-group:"):], ":*"), nil
}

// TagResource adds tags to a log group named by ARN.
func (s *Service) TagResource(ctx context.Context, in *logsapi.TagResourceInput) (*logsapi.TagResourceOutput, error) {
	name, err := groupOfARN(awsapi.ToString(in.ResourceArn))
	if err != nil {
		return nil, err
	}
	return &logsapi.TagResourceOutput{}, s.updateGroup(ctx, name, func(g *group) error { return addTags(g, in.Tags) })
}

// UntagResource removes tags from a log group named by ARN.
func (s *Service) UntagResource(ctx context.Context, in *logsapi.UntagResourceInput) (*logsapi.UntagResourceOutput, error) {
	name, err := groupOfARN(awsapi.ToString(in.ResourceArn))
	if err != nil {
		return nil, err
	}
	return &logsapi.UntagResourceOutput{}, s.updateGroup(ctx, name, func(g *group) error { removeTags(g, in.TagKeys); return nil })
}

// ListTagsForResource returns the tags of a log group named by ARN.
func (s *Service) ListTagsForResource(ctx context.Context, in *logsapi.ListTagsForResourceInput) (*logsapi.ListTagsForResourceOutput, error) {
	name, err := groupOfARN(awsapi.ToString(in.ResourceArn))
	if err != nil {
		return nil, err
	}
	g, err := s.readGroup(ctx, name)
	if err != nil {
		return nil, err
	}
	return &logsapi.ListTagsForResourceOutput{Tags: nonNil(g.Tags)}, nil
}
