package kubernetes

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// An API server of the test's own, for what a real cluster does not do on
// demand: a watch whose resourceVersion has expired (410), a failed watch
// request, a list whose continue token expired, and each Status error.
// Real Pods through a real API server are tested in test/kubernetes.

func podJSON(name, rv, phase string) Pod {
	return Pod{ObjectMeta: ObjectMeta{Name: name, Namespace: "ns", ResourceVersion: rv, Labels: map[string]string{labelManaged: "true"}},
		Spec: PodSpec{Containers: []Container{{Name: "app"}}}, Status: PodStatus{Phase: phase}}
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

func event(w http.ResponseWriter, typ string, obj any) {
	b, _ := json.Marshal(obj)
	fmt.Fprintf(w, `{"type":%q,"object":%s}`+"\n", typ, b)
	w.(http.Flusher).Flush()
}

func testRunner(t *testing.T, h http.Handler) *Runner {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	r := newRunner(newClient(&restConfig{Host: srv.URL, TLS: &tls.Config{}}), "ns")
	r.retryWait = 10 * time.Millisecond
	t.Cleanup(r.Close)
	return r
}

// waitFor waits for cond on the runner's Pods, failing after a bound that
// only a hung watch would reach.
func waitFor(t *testing.T, r *Runner, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		ch := r.changes()
		if cond() {
			return
		}
		select {
		case <-ch:
		case <-deadline:
			t.Fatalf("never saw %s", what)
		}
	}
}

func TestWatchListsAgainWhenItsVersionExpires(t *testing.T) {
	var mu sync.Mutex
	var lists int
	var watches []string
	h := http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		q := req.URL.Query()
		if req.URL.Path != "/api/v1/namespaces/ns/pods" || q.Get("labelSelector") != labelManaged+"=true" {
			writeJSON(w, 400, Status{Kind: "Status", Code: 400, Reason: "BadRequest", Message: "unexpected " + req.URL.String()})
			return
		}
		mu.Lock()
		if q.Get("watch") != "true" {
			lists++
			n := lists
			mu.Unlock()
			if n == 1 {
				writeJSON(w, 200, PodList{Metadata: ListMeta{ResourceVersion: "10"}, Items: []Pod{podJSON("a", "5", PodPending), podJSON("b", "6", PodRunning)}})
			} else {
				// b was deleted while the watch could not see it.
				writeJSON(w, 200, PodList{Metadata: ListMeta{ResourceVersion: "20"}, Items: []Pod{podJSON("a", "15", PodSucceeded)}})
			}
			return
		}
		if q.Get("allowWatchBookmarks") != "true" || q.Get("timeoutSeconds") == "" {
			mu.Unlock()
			writeJSON(w, 400, Status{Kind: "Status", Code: 400, Reason: "BadRequest", Message: "watch without bookmarks or timeout"})
			return
		}
		watches = append(watches, q.Get("resourceVersion"))
		n := len(watches)
		mu.Unlock()
		switch n {
		case 1:
			w.WriteHeader(200)
			event(w, "MODIFIED", podJSON("a", "11", PodRunning))
			event(w, "ERROR", Status{Kind: "Status", Status: "Failure", Code: 410, Reason: "Expired", Message: "too old resource version: 10 (30)"})
		case 2:
			writeJSON(w, 500, Status{Kind: "Status", Code: 500, Reason: "InternalError", Message: "etcd is having a moment"})
		case 3:
			w.WriteHeader(200)
			event(w, "BOOKMARK", map[string]any{"kind": "Pod", "metadata": map[string]string{"resourceVersion": "25"}})
			event(w, "ADDED", podJSON("c", "26", PodPending))
			// The server's timeout: the stream ends cleanly.
		default:
			w.WriteHeader(200)
			w.(http.Flusher).Flush()
			<-req.Context().Done()
		}
	})
	r := testRunner(t, h)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := r.watch(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, r, "c added after the relist and the failed watch", func() bool {
		_, gone := r.pod("ns", "c")
		return !gone
	})
	if p, gone := r.pod("ns", "b"); !gone || p == nil || p.Status.Phase != PodRunning {
		t.Errorf("b, missing from the second list: want deleted with its last state, got %+v deleted=%v", p, gone)
	}
	if p, gone := r.pod("ns", "a"); gone || p.Status.Phase != PodSucceeded {
		t.Errorf("a: want the relisted state (Succeeded), got %+v deleted=%v", p, gone)
	}
	// The fourth watch changes no Pod, so nothing wakes a waiter: poll.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		mu.Lock()
		n := len(watches)
		mu.Unlock()
		if n >= 4 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d watches, want a fourth resuming after the last event", n)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	// 10: from the first list; 20: from the second, after 410; 20 again
	// after the 500 (the version had not moved); 26: after the last event.
	if got := strings.Join(watches[:4], ","); got != "10,20,20,26" || lists != 2 {
		t.Errorf("watches from %s after %d lists; want 10,20,20,26 after 2", got, lists)
	}
}

func TestListFallsBackWhenItsContinueTokenExpires(t *testing.T) {
	var mu sync.Mutex
	var asked []string
	h := http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		q := req.URL.Query()
		if q.Get("watch") == "true" {
			w.WriteHeader(200)
			w.(http.Flusher).Flush()
			<-req.Context().Done()
			return
		}
		mu.Lock()
		asked = append(asked, "limit="+q.Get("limit")+" continue="+q.Get("continue"))
		mu.Unlock()
		switch {
		case q.Get("continue") == "page2":
			writeJSON(w, 410, Status{Kind: "Status", Code: 410, Reason: "Expired", Message: "The provided continue parameter is too old"})
		case q.Get("limit") != "":
			writeJSON(w, 200, PodList{Metadata: ListMeta{ResourceVersion: "7", Continue: "page2"}, Items: []Pod{podJSON("a", "1", PodRunning)}})
		default:
			writeJSON(w, 200, PodList{Metadata: ListMeta{ResourceVersion: "9"}, Items: []Pod{podJSON("a", "1", PodRunning), podJSON("b", "2", PodRunning)}})
		}
	})
	r := testRunner(t, h)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := r.watch(ctx); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"a", "b"} {
		if _, gone := r.pod("ns", n); gone {
			t.Errorf("pod %s not listed", n)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if got := strings.Join(asked, "; "); got != "limit=500 continue=; limit=500 continue=page2; limit= continue=" {
		t.Errorf("lists asked: %s", got)
	}
}

func TestWatchWaitReportsWhyPodsAreNotListed(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		writeJSON(w, 403, Status{Kind: "Status", Code: 403, Reason: "Forbidden", Message: `pods is forbidden: User "x" cannot list resource "pods"`})
	})
	r := testRunner(t, h)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	err := r.watch(ctx)
	if err == nil || !strings.Contains(err.Error(), "cannot list resource") {
		t.Errorf("want the list's refusal in the error, got %v", err)
	}
}

func TestStatusErrorsAreClassifiedAsAPIErrorsDoes(t *testing.T) {
	answers := map[string]func(w http.ResponseWriter){
		"/notfound": func(w http.ResponseWriter) {
			writeJSON(w, 404, Status{Kind: "Status", Code: 404, Reason: "NotFound", Message: `namespaces "x" not found`})
		},
		"/exists": func(w http.ResponseWriter) {
			writeJSON(w, 409, Status{Kind: "Status", Code: 409, Reason: "AlreadyExists", Message: `pods "p" already exists`})
		},
		"/conflict": func(w http.ResponseWriter) {
			writeJSON(w, 409, Status{Kind: "Status", Code: 409, Reason: "Conflict", Message: "the object has been modified"})
		},
		"/bad": func(w http.ResponseWriter) {
			writeJSON(w, 400, Status{Kind: "Status", Code: 400, Reason: "BadRequest", Message: `container "app" in pod "p" is waiting to start: ContainerCreating`})
		},
		"/plain404": func(w http.ResponseWriter) { http.Error(w, "404 page not found", 404) },
		"/forbidden": func(w http.ResponseWriter) {
			writeJSON(w, 403, Status{Kind: "Status", Code: 403, Reason: "Forbidden", Message: "nodes is forbidden"})
		},
		"/unauth": func(w http.ResponseWriter) {
			writeJSON(w, 401, Status{Kind: "Status", Code: 401, Reason: "Unauthorized"})
		},
		"/gone": func(w http.ResponseWriter) { writeJSON(w, 410, Status{Kind: "Status", Code: 410, Reason: "Expired"}) },
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) { answers[req.URL.Path](w) }))
	defer srv.Close()
	c := newClient(&restConfig{Host: srv.URL, TLS: &tls.Config{}})
	get := func(p string) error { return c.do(context.Background(), http.MethodGet, p, nil, nil, nil) }
	for p, want := range map[string]func(error) bool{
		"/notfound": isNotFound, "/exists": isAlreadyExists, "/bad": isBadRequest, "/plain404": isNotFound,
		"/forbidden": isForbidden, "/unauth": isUnauthorized, "/gone": isExpired,
		"/conflict": func(err error) bool { return isReason(err, reasonConflict) && !isAlreadyExists(err) },
	} {
		if err := get(p); !want(err) {
			t.Errorf("%s: %v (%#v) not classified", p, err, err)
		}
	}
	if err := get("/notfound"); err.Error() != `namespaces "x" not found` || isAlreadyExists(err) {
		t.Errorf("message %q", err)
	}
}

func TestBackoffDoublesToThirtySeconds(t *testing.T) {
	var b backoff
	var got []time.Duration
	for range 8 {
		d := b.next()
		if d < b.d || d > b.d+b.d/5 {
			t.Errorf("wait %v outside %v plus 20%%", d, b.d)
		}
		got = append(got, b.d)
	}
	want := []time.Duration{800 * time.Millisecond, 1600 * time.Millisecond, 3200 * time.Millisecond, 6400 * time.Millisecond,
		12800 * time.Millisecond, 25600 * time.Millisecond, 30 * time.Second, 30 * time.Second}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("backoff %v, want %v", got, want)
	}
	b.reset()
	if b.next(); b.d != 800*time.Millisecond {
		t.Errorf("after reset: %v", b.d)
	}
}
