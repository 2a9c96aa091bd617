package console

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/wharf-dev/wharf/internal/apierr"
	"github.com/wharf-dev/wharf/internal/clock"
	"github.com/wharf-dev/wharf/internal/timeline"
)

// maxControlBody bounds the body of a clock or reset request.
const maxControlBody = 64 << 10

// clockState is what GET and POST /_wharf/clock answer.
type clockState struct {
	Now time.Time `json:"now"`
	// Offset is how far the clock is ahead of real time ("1h0m0s").
	Offset        string  `json:"offset"`
	OffsetSeconds float64 `json:"offsetSeconds"`
}

func stateOf(c *clock.Movable) clockState {
	off := c.Offset()
	return clockState{Now: c.Now().UTC(), Offset: off.String(), OffsetSeconds: off.Seconds()}
}

// getClock answers GET /_wharf/clock.
func (h *handler) getClock(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, stateOf(h.opts.Clock))
}

// moveClock answers POST /_wharf/clock with {"advance": "1h"} (a Go
// duration, or whole days as "2d") or {"set": RFC 3339 time}: every service
// reads the moved time, and what it made due (schedules, visibility
// timeouts, alarm periods, TTLs) happens now. The clock never goes back.
func (h *handler) moveClock(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Advance string `json:"advance"`
		Set     string `json:"set"`
	}
	if err := readJSON(r, &in); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
		return
	}
	before := h.opts.Clock.Now()
	var err error
	switch {
	case in.Advance != "" && in.Set != "":
		err = fmt.Errorf(`give "advance" or "set", not both`)
	case in.Advance != "":
		var d time.Duration
		if d, err = parseDuration(in.Advance); err == nil {
			_, err = h.opts.Clock.Advance(d)
		}
	case in.Set != "":
		var t time.Time
		if t, err = time.Parse(time.RFC3339Nano, in.Set); err != nil {
			err = fmt.Errorf("set: want an RFC 3339 time, got %q", in.Set)
		} else {
			_, err = h.opts.Clock.Set(t)
		}
	default:
		err = fmt.Errorf(`give {"advance": "1h"} or {"set": "2026-12-06T10:00:00Z"}`)
	}
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
		return
	}
	st := stateOf(h.opts.Clock)
	if h.opts.Timeline != nil {
		h.opts.Timeline.Record(r.Context(), timeline.Entry{Service: "wharf", Kind: "ClockMoved", Outcome: timeline.OK,
			Detail: fmt.Sprintf("clock moved %s forward, from %s to %s", st.Now.Sub(before).Round(time.Millisecond),
				before.UTC().Format(time.RFC3339), st.Now.Format(time.RFC3339))})
	}
	writeJSON(w, http.StatusOK, st)
}

// parseDuration reads a Go duration ("90m", "1h30m") or whole days ("2d").
func parseDuration(s string) (time.Duration, error) {
	if n, ok := strings.CutSuffix(s, "d"); ok {
		if days, err := strconv.Atoi(n); err == nil && days >= 0 && days <= 100*365 {
			return time.Duration(days) * 24 * time.Hour, nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf(`advance: want a duration such as "1h", "90s" or "2d", got %q`, s)
	}
	if d < 0 {
		return 0, fmt.Errorf("advance: the clock only moves forward, got %q", s)
	}
	return d, nil
}

// reset answers POST /_wharf/reset (every service) or
// POST /_wharf/reset?service=sqs (one): it stops running tasks and empties
// the state, without a restart.
func (h *handler) reset(w http.ResponseWriter, r *http.Request) {
	ctx := context.WithoutCancel(r.Context()) // a reset once begun finishes
	res, err := h.opts.Reset(ctx, r.URL.Query().Get("service"))
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

func readJSON(r *http.Request, v any) error {
	b, err := io.ReadAll(io.LimitReader(r.Body, maxControlBody+1))
	if err != nil {
		return fmt.Errorf("read body: %w", err)
	}
	if len(b) > maxControlBody {
		return fmt.Errorf("body over %d bytes", maxControlBody)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("body: want a JSON object: %v", err)
	}
	return nil
}

func query(r *http.Request) Query {
	q := r.URL.Query()
	return Query{Region: q.Get("region"), Host: r.Host, Params: q}
}

// resources answers GET /_wharf/api/resources/{kind}?region=&... with
// {"kind": ..., "items": [...]}.
func (h *handler) resources(w http.ResponseWriter, r *http.Request) {
	kind := r.PathValue("kind")
	items, err := h.opts.Resources.List(r.Context(), kind, query(r))
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"kind": kind, "items": items})
}

// purge answers POST /_wharf/api/queues/purge?url=QUEUE_URL (the console's
// purge button): SQS's PurgeQueue, with its errors.
func (h *handler) purge(w http.ResponseWriter, r *http.Request) {
	q := query(r)
	if err := h.opts.Resources.PurgeQueue(r.Context(), q.Params.Get("url"), q); err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"purged": q.Params.Get("url")})
}

// download answers GET /_wharf/api/objects/download?bucket=&key= with the
// object's bytes as an attachment (S3's GetObject; its errors as JSON).
func (h *handler) download(w http.ResponseWriter, r *http.Request) {
	q := query(r)
	d, err := h.opts.Resources.Object(r.Context(), q.Params.Get("bucket"), q.Params.Get("key"), q)
	if err != nil {
		writeError(w, err)
		return
	}
	defer d.Body.Close()
	ct := d.ContentType
	if ct == "" {
		ct = "application/octet-stream"
	}
	w.Header().Set("Content-Type", ct)
	// The object's bytes are never rendered as a page of wharf's origin.
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Security-Policy", "sandbox")
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": d.Name}))
	if d.Length >= 0 {
		w.Header().Set("Content-Length", strconv.FormatInt(d.Length, 10))
	}
	w.WriteHeader(http.StatusOK)
	_, _ = io.Copy(w, d.Body)
}

// testPattern answers POST /_wharf/api/rules/test-pattern with
// {"pattern": ..., "event": ...} (both JSON text, as TestEventPattern takes
// them): {"match": true|false}, or TestEventPattern's error.
func (h *handler) testPattern(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Pattern string `json:"pattern"`
		Event   string `json:"event"`
	}
	if err := readJSON(r, &in); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
		return
	}
	ok, err := h.opts.Resources.TestPattern(r.Context(), in.Pattern, in.Event, query(r))
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]bool{"match": ok})
}

// plot answers GET /_wharf/api/plots/{kind}?... with a plot's series.
func (h *handler) plot(w http.ResponseWriter, r *http.Request) {
	p, err := h.opts.Resources.Plot(r.Context(), r.PathValue("kind"), query(r))
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, p)
}

// writeError answers err as JSON, with its AWS status when it has one.
func writeError(w http.ResponseWriter, err error) {
	status := http.StatusInternalServerError
	body := map[string]string{"error": err.Error()}
	if e := apierr.As(err); e != nil {
		status = http.StatusBadRequest // the model's default for a client error
		if e.Status != 0 {
			status = e.Status
		}
		body["code"] = e.Code
		body["error"] = e.Message
	}
	writeJSON(w, status, body)
}

// send answers POST /_wharf/api/queues/send with a NewMessage as JSON (the
// console's send form): SQS's SendMessage output, or its error.
func (h *handler) send(w http.ResponseWriter, r *http.Request) {
	var m NewMessage
	if err := readJSON(r, &m); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
		return
	}
	out, err := h.opts.Resources.SendMessage(r.Context(), m, query(r))
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// maxPeek is SQS's limit on MaxNumberOfMessages.
const maxPeek = 10

// peek answers POST /_wharf/api/queues/peek?url=QUEUE_URL&max=N. AWS has
// no peek: this is ReceiveMessage with VisibilityTimeout=0, as the AWS
// console's "poll for messages" does, so the messages stay visible but
// their ApproximateReceiveCount goes up (and a redrive policy counts it).
// It is a POST because it changes the queue.
func (h *handler) peek(w http.ResponseWriter, r *http.Request) {
	q := query(r)
	n := maxPeek
	if v := q.Params.Get("max"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1 || n > maxPeek {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": fmt.Sprintf("max: want 1 to %d, got %q", maxPeek, v)})
			return
		}
	}
	out, err := h.opts.Resources.PeekMessages(r.Context(), q.Params.Get("url"), n, q)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// queryTable answers POST /_wharf/api/tables/query with a TableQuery as
// JSON (the console's query form): the items DynamoDB's Query returns.
func (h *handler) queryTable(w http.ResponseWriter, r *http.Request) {
	var tq TableQuery
	if err := readJSON(r, &tq); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
		return
	}
	out, err := h.opts.Resources.QueryTable(r.Context(), tq, query(r))
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}
