// Package console serves wharf's own pages and API under /_wharf/: the web
// console (its assets embedded in the binary, so it works offline), the
// timeline (GET /_wharf/api/timeline, a live stream at
// /_wharf/api/timeline/stream, GET /_wharf/api/trace/{id}), the clock
// (GET and POST /_wharf/clock) and reset (POST /_wharf/reset).
package console

import (
	"context"
	"embed"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/wharf-dev/wharf/internal/clock"
	"github.com/wharf-dev/wharf/internal/timeline"
)

//go:embed assets
var assets embed.FS

// Options configure the console.
type Options struct {
	Timeline *timeline.Log
	// Done ends live streams when wharf shuts down, so that an open browser
	// tab never holds up the shutdown.
	Done <-chan struct{}
	// Clock is the clock every service reads, moved by POST /_wharf/clock.
	Clock *clock.Movable
	// Reset empties every service (service "") or one, and says what it
	// did; its errors are apierr values for a bad request.
	Reset func(ctx context.Context, service string) (any, error)
	// Resources answers the resource views; nil serves none.
	Resources Resources
}

// Resources are the console's views of what each service holds, read
// through the services' own API operations.
type Resources interface {
	// List returns the rows of a view (queues, tables, rules, tasks,
	// alarms, buckets, objects, topics, buses, schedules, clusters, services,
	// logs, alarm-history, scaling-activities); an apierr error for an
	// unknown view or a bad argument.
	List(ctx context.Context, kind string, q Query) (any, error)
	// PurgeQueue purges the queue at url.
	PurgeQueue(ctx context.Context, url string, q Query) error
	// Object opens an object for download.
	Object(ctx context.Context, bucket, key string, q Query) (*Download, error)
	// TestPattern reports whether event matches pattern, with
	// EventBridge's TestEventPattern.
	TestPattern(ctx context.Context, pattern, event string, q Query) (bool, error)
	// Plot returns the data of a plot (alarm, service).
	Plot(ctx context.Context, kind string, q Query) (any, error)
	// SendMessage sends m with SQS's SendMessage and returns its output.
	SendMessage(ctx context.Context, m NewMessage, q Query) (any, error)
	// PeekMessages receives up to max messages from the queue at url with
	// SQS's ReceiveMessage and a visibility timeout of zero.
	PeekMessages(ctx context.Context, url string, max int, q Query) (any, error)
	// QueryTable runs DynamoDB's Query for the key condition tq describes.
	QueryTable(ctx context.Context, tq TableQuery, q Query) (any, error)
}

// NewMessage is a message the console's send form sends.
type NewMessage struct {
	URL  string `json:"url"`
	Body string `json:"body"`
	// GroupID and DeduplicationID are for FIFO queues.
	GroupID         string `json:"groupId"`
	DeduplicationID string `json:"deduplicationId"`
}

// TableQuery is the console's query form: the partition key's value and an
// optional condition on the sort key.
type TableQuery struct {
	Table     string `json:"table"`
	Partition string `json:"partition"`
	// SortOp is "" (no condition), "=", "<", "<=", ">", ">=",
	// "begins_with" or "between" (Sort and Sort2).
	SortOp string `json:"sortOp"`
	Sort   string `json:"sort"`
	Sort2  string `json:"sort2"`
}

// Query is what a console request says beyond its path.
type Query struct {
	// Region is the region to read ("" for wharf's).
	Region string
	// Host is the Host the browser used, for queue URLs.
	Host string
	// Params are the request's query parameters: a view's arguments.
	Params url.Values
}

// Download is an object the console sends to the browser.
type Download struct {
	Name        string // the file name the browser saves it as
	ContentType string
	Length      int64 // -1 when unknown
	Body        io.ReadCloser
}

// Handler returns the handler for /_wharf/ paths.
func Handler(opts Options) http.Handler {
	// The routes are registered on the first request to the console, not at
	// every start: ServeMux parses each pattern and records its caller
	// (runtime.Caller, the binary's function tables), about 0.6 MiB of the
	// binary that an idle wharf would keep resident (issue 20's idle RSS).
	mux := sync.OnceValue(func() *http.ServeMux { return newMux(opts) })
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { mux().ServeHTTP(w, r) })
}

// newMux is the console's routes.
func newMux(opts Options) *http.ServeMux {
	mux := http.NewServeMux()
	h := &handler{opts: opts}
	mux.HandleFunc("GET /_wharf/api/timeline", h.timeline)
	mux.HandleFunc("GET /_wharf/api/timeline/stream", h.stream)
	mux.HandleFunc("GET /_wharf/api/trace/{id...}", h.trace)
	if opts.Clock != nil {
		for _, p := range []string{"/_wharf/clock", "/_wharf/api/clock"} {
			mux.HandleFunc("GET "+p, h.getClock)
			mux.HandleFunc("POST "+p, h.moveClock)
		}
	}
	if opts.Resources != nil {
		mux.HandleFunc("GET /_wharf/api/resources/{kind}", h.resources)
		mux.HandleFunc("POST /_wharf/api/queues/purge", h.purge)
		mux.HandleFunc("GET /_wharf/api/objects/download", h.download)
		mux.HandleFunc("POST /_wharf/api/rules/test-pattern", h.testPattern)
		mux.HandleFunc("GET /_wharf/api/plots/{kind}", h.plot)
		mux.HandleFunc("POST /_wharf/api/queues/send", h.send)
		mux.HandleFunc("POST /_wharf/api/queues/peek", h.peek)
		mux.HandleFunc("POST /_wharf/api/tables/query", h.queryTable)
	}
	if opts.Reset != nil {
		mux.HandleFunc("POST /_wharf/reset", h.reset)
		mux.HandleFunc("POST /_wharf/api/reset", h.reset)
	}
	static, _ := fs.Sub(assets, "assets")
	files := http.StripPrefix("/_wharf/", http.FileServerFS(static))
	mux.Handle("GET /_wharf/", files)
	mux.HandleFunc("GET /_wharf", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/_wharf/", http.StatusMovedPermanently)
	})
	return mux
}

type handler struct{ opts Options }

// maxList bounds one timeline answer.
const maxList = 1000

// timeline answers GET /_wharf/api/timeline?since=&until=&service=&resource=&id=&limit=
// with {"entries": [...]}, newest first.
func (h *handler) timeline(w http.ResponseWriter, r *http.Request) {
	f, err := parseFilter(r)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"entries": orEmpty(h.opts.Timeline.List(f))})
}

func parseFilter(r *http.Request) (timeline.Filter, error) {
	q := r.URL.Query()
	f := timeline.Filter{Service: q.Get("service"), Resource: q.Get("resource"), ID: q.Get("id"), Limit: 200}
	if f.ID == "" {
		f.ID = q.Get("event")
	}
	for name, dst := range map[string]*time.Time{"since": &f.Since, "until": &f.Until} {
		if v := q.Get(name); v != "" {
			t, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				return f, fmt.Errorf("%s: want an RFC 3339 time, got %q", name, v)
			}
			*dst = t
		}
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxList {
			return f, fmt.Errorf("limit: want 1 to %d, got %q", maxList, v)
		}
		f.Limit = n
	}
	return f, nil
}

// trace answers GET /_wharf/api/trace/{id} with the causal chain of id,
// oldest first, or 404.
func (h *handler) trace(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	chain := h.opts.Timeline.Trace(id)
	if chain == nil {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "nothing on the timeline has id " + id})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": id, "entries": chain})
}

// stream sends each new entry the filter selects as a server-sent event
// ("data: <entry JSON>"), until the client goes or wharf stops.
func (h *handler) stream(w http.ResponseWriter, r *http.Request) {
	f, err := parseFilter(r)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
		return
	}
	fl, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	ch, cancel := h.opts.Timeline.Subscribe()
	defer cancel()
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, ": wharf timeline\n\n")
	fl.Flush()
	keepalive := time.NewTicker(15 * time.Second)
	defer keepalive.Stop()
	f.Limit = 0
	for {
		select {
		case <-r.Context().Done():
			return
		case <-h.opts.Done:
			return
		case <-keepalive.C:
			fmt.Fprint(w, ": keepalive\n\n")
		case e := <-ch:
			if !f.Match(&e) {
				continue
			}
			b, _ := json.Marshal(e)
			fmt.Fprintf(w, "id: %s\ndata: %s\n\n", e.ID, b)
		}
		fl.Flush()
	}
}

func orEmpty(es []timeline.Entry) []timeline.Entry {
	if es == nil {
		return []timeline.Entry{}
	}
	return es
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", " ")
	_ = enc.Encode(v)
}
