package diag

import (
	"bytes"
	"fmt"
	"html"
	"io"
	"net/http"
	"os"
	"runtime"
	"runtime/pprof"
	"runtime/trace"
	"sort"
	"strconv"
	"strings"
	"time"
)

// The /debug/pprof/ handlers are written here over runtime/pprof rather than
// imported from net/http/pprof, whose package init registers its handlers on
// http.DefaultServeMux at every start of wharf, though the endpoint is off by
// default: the mux records each caller's file and line, reading .gopclntab,
// and the routing code and the package's dependencies cost 0.6 MiB of
// resident file pages at idle (bench/README.md). The paths and formats are
// the ones go tool pprof and go tool trace read. Not offered: delta profiles
// (?seconds= on heap, allocs, ...), which need the standard library's
// internal profile parser; take two profiles and compare them with
// go tool pprof -base instead.

// profileIndex serves /debug/pprof/: a named profile below it, or the list.
func profileIndex(w http.ResponseWriter, r *http.Request) {
	if name, ok := strings.CutPrefix(r.URL.Path, "/debug/pprof/"); ok && name != "" {
		serveProfile(w, r, name)
		return
	}
	profiles := pprof.Profiles()
	sort.Slice(profiles, func(i, j int) bool { return profiles[i].Name() < profiles[j].Name() })
	var b bytes.Buffer
	b.WriteString("<html><head><title>/debug/pprof/</title></head><body>\n<p>Profiles (?debug=1 for text):</p>\n<table>\n")
	for _, p := range profiles {
		n := html.EscapeString(p.Name())
		fmt.Fprintf(&b, "<tr><td align=right>%d</td><td><a href=\"%s?debug=1\">%s</a></td></tr>\n", p.Count(), n, n)
	}
	b.WriteString("<tr><td></td><td><a href=\"goroutine?debug=2\">full goroutine stack dump</a></td></tr>\n")
	b.WriteString("<tr><td></td><td><a href=\"profile\">profile</a> (CPU, ?seconds=30)</td></tr>\n")
	b.WriteString("<tr><td></td><td><a href=\"trace\">trace</a> (execution trace, ?seconds=1)</td></tr>\n")
	b.WriteString("</table>\n</body></html>\n")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write(b.Bytes())
}

// serveProfile writes the named runtime/pprof profile: the protobuf format, or
// text with ?debug=1 (2 for goroutine stacks as a panic prints them).
func serveProfile(w http.ResponseWriter, r *http.Request, name string) {
	p := pprof.Lookup(name)
	if p == nil {
		http.Error(w, "unknown profile "+strconv.Quote(name), http.StatusNotFound)
		return
	}
	if r.FormValue("seconds") != "" {
		http.Error(w, "delta profiles (?seconds=) are not served: take two profiles and compare them with go tool pprof -base", http.StatusBadRequest)
		return
	}
	debug, _ := strconv.Atoi(r.FormValue("debug"))
	if name == "heap" && r.FormValue("gc") != "" {
		runtime.GC()
	}
	if debug != 0 {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	} else {
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	}
	p.WriteTo(w, debug)
}

// seconds is the request's ?seconds= (def when absent), or an error answered.
func seconds(w http.ResponseWriter, r *http.Request, def int) (time.Duration, bool) {
	s := r.FormValue("seconds")
	if s == "" {
		return time.Duration(def) * time.Second, true
	}
	n, err := strconv.ParseFloat(s, 64)
	if err != nil || n <= 0 {
		http.Error(w, "bad seconds "+strconv.Quote(s), http.StatusBadRequest)
		return 0, false
	}
	return time.Duration(n * float64(time.Second)), true
}

// sleep waits d, or until the client goes away.
func sleep(r *http.Request, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-r.Context().Done():
	}
}

// cpuProfile serves /debug/pprof/profile: a CPU profile of ?seconds= (30).
func cpuProfile(w http.ResponseWriter, r *http.Request) {
	capture(w, r, 30, "profile", "the CPU profile", pprof.StartCPUProfile, pprof.StopCPUProfile)
}

// execTrace serves /debug/pprof/trace: an execution trace of ?seconds= (1).
func execTrace(w http.ResponseWriter, r *http.Request) {
	capture(w, r, 1, "trace", "the trace", trace.Start, trace.Stop)
}

// capture serves what start writes to w from now until stop, ?seconds= (def)
// later, as the download name; what names it in an error.
func capture(w http.ResponseWriter, r *http.Request, def int, name, what string, start func(io.Writer) error, stop func()) {
	d, ok := seconds(w, r, def)
	if !ok {
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	if err := start(w); err != nil {
		w.Header().Del("Content-Disposition")
		http.Error(w, "could not start "+what+": "+err.Error(), http.StatusInternalServerError)
		return
	}
	sleep(r, d)
	stop()
}

// cmdline serves /debug/pprof/cmdline: the arguments, NUL-separated.
func cmdline(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	io.WriteString(w, strings.Join(os.Args, "\x00"))
}

// symbol serves /debug/pprof/symbol, the lookup pprof uses to name addresses:
// GET answers that symbols are available; POST (or GET with a query) names
// each hexadecimal address of a '+'-separated list, one per line.
func symbol(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	var list string
	if r.Method == http.MethodPost {
		b, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		list = string(b)
	} else {
		list = r.URL.RawQuery
	}
	var b bytes.Buffer
	b.WriteString("num_symbols: 1\n")
	for _, word := range strings.Split(list, "+") {
		pc, err := strconv.ParseUint(strings.TrimSpace(word), 0, 64)
		if err != nil || pc == 0 {
			continue
		}
		if f := runtime.FuncForPC(uintptr(pc)); f != nil {
			fmt.Fprintf(&b, "%#x %s\n", pc, f.Name())
		}
	}
	w.Write(b.Bytes())
}
