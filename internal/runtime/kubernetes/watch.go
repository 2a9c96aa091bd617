package kubernetes

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"time"
)

// The runner keeps every Pod of wharf's (label wharf.managed=true) as last
// seen, as client-go's informer would: it lists them, then watches from the
// list's resourceVersion. A watch the server ends (its timeout) starts again
// from the last version seen (bookmarks keep it fresh); a version too old to
// watch from (410 Gone / Expired) lists again, and a Pod missing from the new
// list is deleted; a failure to reach the server is retried with backoff.

// listPageSize is how many Pods one list request asks for.
const listPageSize = 500

// backoff waits between failed attempts: 0.8 s doubling to 30 s, jittered.
type backoff struct{ d time.Duration }

func (b *backoff) reset() { b.d = 0 }

func (b *backoff) next() time.Duration {
	switch {
	case b.d == 0:
		b.d = 800 * time.Millisecond
	case b.d < 30*time.Second:
		b.d = min(2*b.d, 30*time.Second)
	}
	return b.d + rand.N(b.d/5+1)
}

// runWatch lists and watches wharf's Pods until ctx ends.
func (r *Runner) runWatch(ctx context.Context) {
	var bo backoff
	sleep := func() bool {
		d := bo.next()
		if r.retryWait > 0 {
			d = r.retryWait // tests
		}
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
			return true
		case <-ctx.Done():
			return false
		}
	}
	for ctx.Err() == nil {
		rv, err := r.relist(ctx)
		if err != nil {
			r.setWatchErr(err)
			if !sleep() {
				return
			}
			continue
		}
		bo.reset()
		for ctx.Err() == nil {
			began := time.Now()
			var events int
			rv, events, err = r.watchFrom(ctx, rv)
			if ctx.Err() != nil {
				return
			}
			if isExpired(err) {
				break // list again
			}
			if err != nil {
				r.setWatchErr(err)
			}
			if events > 0 || (err == nil && time.Since(began) > time.Second) {
				bo.reset()
				continue
			}
			if !sleep() {
				return
			}
		}
	}
}

func (r *Runner) setWatchErr(err error) {
	r.mu.Lock()
	r.watchErr = err
	r.mu.Unlock()
}

// relist lists every Pod of wharf's, page by page, replaces what the runner
// knows with it and returns the list's resourceVersion.
func (r *Runner) relist(ctx context.Context) (string, error) {
	o := listOptions{LabelSelector: r.selector(), Limit: listPageSize}
	var all []Pod
	var rv string
	for {
		l, err := r.cs.listPods(ctx, r.ns, o)
		if isExpired(err) && o.Continue != "" {
			// The continue token outlived the data it pointed at: list
			// everything at once, as client-go's pager does.
			o.Continue, o.Limit, all = "", 0, nil
			continue
		}
		if err != nil {
			return "", err
		}
		all = append(all, l.Items...)
		rv = l.Metadata.ResourceVersion
		if l.Metadata.Continue == "" {
			break
		}
		o.Continue = l.Metadata.Continue
	}
	r.replace(all)
	return rv, nil
}

// replace makes pods what the runner knows: a Pod it knew that is not among
// them was deleted while it was not watching.
func (r *Runner) replace(pods []Pod) {
	r.mu.Lock()
	listed := make(map[string]bool, len(pods))
	for i := range pods {
		p := &pods[i]
		listed[p.Namespace+"/"+p.Name] = true
		r.record(p, false)
	}
	for k, p := range r.pods {
		if !listed[k] {
			r.record(p, true)
		}
	}
	select {
	case <-r.synced:
	default:
		close(r.synced)
	}
	r.watchErr = nil
	r.broadcast()
	r.mu.Unlock()
}

// watchFrom watches from resourceVersion rv until the stream ends; it
// returns the last resourceVersion seen and how many events came.
func (r *Runner) watchFrom(ctx context.Context, rv string) (string, int, error) {
	// The server ends a watch after timeoutSeconds, 5 to 10 minutes as
	// client-go's reflector asks; the context bounds a connection that died
	// without a word.
	timeout := 300 + rand.N(300)
	wctx, cancel := context.WithTimeout(ctx, time.Duration(timeout+60)*time.Second)
	defer cancel()
	body, err := r.cs.watchPods(wctx, r.ns, listOptions{LabelSelector: r.selector(), ResourceVersion: rv, TimeoutSeconds: timeout})
	if err != nil {
		return rv, 0, err
	}
	defer body.Close()
	dec := json.NewDecoder(body)
	n := 0
	for {
		var ev watchEvent
		if err := dec.Decode(&ev); err != nil {
			if errors.Is(err, io.EOF) {
				return rv, n, nil
			}
			return rv, n, fmt.Errorf("watch pods: %w", err)
		}
		switch ev.Type {
		case "ADDED", "MODIFIED", "DELETED":
			n++
			p := &Pod{}
			if err := json.Unmarshal(ev.Object, p); err != nil {
				return rv, n, fmt.Errorf("watch pods: %s event: %w", ev.Type, err)
			}
			r.mu.Lock()
			r.record(p, ev.Type == "DELETED")
			r.broadcast()
			r.mu.Unlock()
			rv = p.ResourceVersion
		case "BOOKMARK":
			n++
			var b struct {
				Metadata ObjectMeta `json:"metadata"`
			}
			if json.Unmarshal(ev.Object, &b) == nil && b.Metadata.ResourceVersion != "" {
				rv = b.Metadata.ResourceVersion
			}
		case "ERROR":
			var st Status
			if err := json.Unmarshal(ev.Object, &st); err != nil {
				return rv, n, fmt.Errorf("watch pods: error event: %w", err)
			}
			return rv, n, &APIError{Status: st}
		}
	}
}

// selector is the label selector of wharf's Pods.
func (r *Runner) selector() string { return labelManaged + "=true" }
