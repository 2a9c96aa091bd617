package events

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/wharf-dev/wharf/internal/jsonstring"
	"github.com/wharf-dev/wharf/internal/pattern"
)

// errDetailNotJSON is an envelope whose detail is not JSON; marshal fails on
// such a detail too (json.RawMessage's MarshalJSON).
var errDetailNotJSON = errors.New("events: detail is not JSON")

// encode returns the envelope as its targets receive it: the bytes
// marshal(env) makes (members in AWS's order, the detail compacted, <, > and
// & as they are), written by hand because every accepted event is encoded,
// and reflection was a visible part of PutEvents' cost.
// TestEnvelopeEncodingMatchesMarshal and FuzzEnvelopeEncodingMatchesMarshal
// compare the two.
func (env *envelope) encode() ([]byte, error) {
	n := 128 + len(env.ID) + len(env.DetailType) + len(env.Source) + len(env.Account) + len(env.Time) + len(env.Region) + len(env.Detail)
	for _, r := range env.Resources {
		n += len(r) + 3
	}
	b := make([]byte, 0, n)
	b = append(b, `{"version":`...)
	b = jsonstring.Append(b, env.Version)
	b = append(b, `,"id":`...)
	b = jsonstring.Append(b, env.ID)
	b = append(b, `,"detail-type":`...)
	b = jsonstring.Append(b, env.DetailType)
	b = append(b, `,"source":`...)
	b = jsonstring.Append(b, env.Source)
	b = append(b, `,"account":`...)
	b = jsonstring.Append(b, env.Account)
	b = append(b, `,"time":`...)
	b = jsonstring.Append(b, env.Time)
	b = append(b, `,"region":`...)
	b = jsonstring.Append(b, env.Region)
	b = append(b, `,"resources":`...)
	if env.Resources == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i, r := range env.Resources {
			if i > 0 {
				b = append(b, ',')
			}
			b = jsonstring.Append(b, r)
		}
		b = append(b, ']')
	}
	b = append(b, `,"detail":`...)
	if env.Detail == nil {
		b = append(b, "null"...)
	} else {
		var err error
		if env.validDetail && compact(env.Detail) {
			b = append(b, env.Detail...) // checked by the caller already
		} else if b, err = appendCompact(b, env.Detail); err != nil {
			return nil, err
		}
	}
	return append(b, '}'), nil
}

// appendCompact appends the JSON text src with insignificant space removed,
// as json.Compact does (and marshal does to a json.RawMessage), or fails
// when src is not JSON. A detail is usually compact already: then it is
// checked and copied as it is.
func appendCompact(b, src []byte) ([]byte, error) {
	if compact(src) {
		if !json.Valid(src) {
			return nil, errDetailNotJSON
		}
		return append(b, src...), nil
	}
	w := bytes.NewBuffer(b) // appends to b
	if err := json.Compact(w, src); err != nil {
		return nil, errDetailNotJSON
	}
	return w.Bytes(), nil
}

// compact reports whether src holds no space, tab, CR or LF outside its
// strings, so that compacting it would change nothing. It does not check
// that src is JSON.
func compact(src []byte) bool {
	in := false
	for i := 0; i < len(src); i++ {
		switch c := src[i]; {
		case in && c == '\\':
			i++
		case c == '"':
			in = !in
		case !in && (c == ' ' || c == '\t' || c == '\r' || c == '\n'):
			return false
		}
	}
	return true
}

// event is the envelope parsed for matching: what pattern.ParseEvent makes
// of env.encode()'s bytes, built from the envelope's members instead of
// encoding them and parsing them back (only the detail is parsed). ok is
// false when a member is not valid UTF-8 (encoding replaces its bad bytes)
// or the detail is not JSON: parse the encoding then.
// FuzzEnvelopeEventMatchesParseEvent compares the two.
func (env *envelope) event() (ev *pattern.Event, ok bool) {
	for _, s := range [...]string{env.Version, env.ID, env.DetailType, env.Source, env.Account, env.Time, env.Region} {
		if !utf8.ValidString(s) {
			return nil, false
		}
	}
	var res any
	if env.Resources != nil {
		rs := make([]any, len(env.Resources))
		for i, r := range env.Resources {
			if !utf8.ValidString(r) {
				return nil, false
			}
			rs[i] = r
		}
		res = rs
	}
	var detail any
	if env.Detail != nil {
		var err error
		if detail, err = pattern.ParseValue(env.Detail); err != nil {
			return nil, false
		}
	}
	return pattern.EventFromValue(map[string]any{
		"version": env.Version, "id": env.ID, "detail-type": env.DetailType, "source": env.Source,
		"account": env.Account, "time": env.Time, "region": env.Region, "resources": res, "detail": detail,
	}), true
}

// encode returns the outbox entry of p: the bytes marshal(p) makes, written
// by hand for an accepted event (every durable PutEvents entry is encoded
// once, and reflection was most of that). A direct delivery (Submit), and an
// ingestion time not in UTC or outside the years 0-9999 (where marshal may
// refuse it), go through marshal. TestPendingEncodingMatchesMarshal and
// FuzzPendingEncodingMatchesMarshal compare the two.
func (p *pending) encode() ([]byte, error) {
	if y := p.Ingested.Year(); p.Direct != nil || p.Ingested.Location() != time.UTC || y < 0 || y > 9999 {
		return marshal(p)
	}
	n := 128 + len(p.Account) + len(p.Region) + len(p.Bus) + len(p.Event) + len(p.Rule) + len(p.Replay)
	for _, r := range p.ReplayRules {
		n += len(r) + 3
	}
	b := make([]byte, 0, n)
	b = append(b, `{"Account":`...)
	b = jsonstring.Append(b, p.Account)
	b = append(b, `,"Region":`...)
	b = jsonstring.Append(b, p.Region)
	b = append(b, `,"Bus":`...)
	b = jsonstring.Append(b, p.Bus)
	b = append(b, `,"Event":`...)
	switch {
	case p.Event == nil:
		b = append(b, "null"...)
	case p.compact:
		b = append(b, p.Event...) // what appendCompact makes of it (checkEnvelope)
	default:
		var err error
		if b, err = appendCompact(b, p.Event); err != nil {
			return nil, err
		}
	}
	if p.Rule != "" {
		b = append(b, `,"Rule":`...)
		b = jsonstring.Append(b, p.Rule)
	}
	if p.Hops != 0 {
		b = append(b, `,"Hops":`...)
		b = strconv.AppendInt(b, int64(p.Hops), 10)
	}
	b = append(b, `,"Ingested":"`...)
	b = p.Ingested.AppendFormat(b, time.RFC3339Nano)
	b = append(b, '"')
	if p.Replay != "" {
		b = append(b, `,"Replay":`...)
		b = jsonstring.Append(b, p.Replay)
	}
	if len(p.ReplayRules) > 0 {
		b = append(b, `,"ReplayRules":[`...)
		for i, r := range p.ReplayRules {
			if i > 0 {
				b = append(b, ',')
			}
			b = jsonstring.Append(b, r)
		}
		b = append(b, ']')
	}
	return append(b, '}'), nil
}
