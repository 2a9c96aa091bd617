package kubernetes

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"
)

// client is the part of the Kubernetes API the runner uses — Pods,
// Namespaces and Nodes of core/v1, a Pod's log, a node's proxy and the
// server's version — over net/http, with JSON bodies in the small types of
// api.go.
//
// client-go would do the same, but linking it runs its packages' init
// (apimachinery's schemes and serializers, json-iterator, klog, feature
// gates) whichever runtime wharf uses: about 2 ms of CPU, 250 page faults and
// 5 MiB of idle memory (bench/README.md, startup). The requests below are the
// ones its core/v1 client sends: the same paths, options as query
// parameters, JSON.
type client struct {
	cfg  *restConfig
	base string
	hc   *http.Client // no overall timeout: watches and logs stream
}

// newClient makes the client for cfg. It does not contact the cluster.
func newClient(cfg *restConfig) *client {
	return &client{cfg: cfg, base: cfg.Host, hc: &http.Client{Transport: cfg.transport(cfg.TLS)}}
}

// transport is an HTTP transport to the cluster with tc as its TLS
// configuration, adding cfg's credentials to every request.
func (cfg *restConfig) transport(tc *tls.Config) http.RoundTripper {
	tc = tc.Clone()
	if cfg.Exec != nil && len(tc.Certificates) == 0 {
		tc.GetClientCertificate = cfg.Exec.clientCertificate
	}
	tr := &http.Transport{
		Proxy:               cfg.Proxy,
		DialContext:         (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:     tc,
		TLSHandshakeTimeout: 10 * time.Second,
		MaxIdleConnsPerHost: 25,
		IdleConnTimeout:     90 * time.Second,
		ForceAttemptHTTP2:   true,
		// A watch is one long response: a connection that died without a
		// word is found by pings, as client-go sets them.
		HTTP2:              &http.HTTP2Config{SendPingTimeout: 30 * time.Second, PingTimeout: 15 * time.Second},
		DisableCompression: cfg.NoCompress,
	}
	return &authTransport{cfg: cfg, next: tr}
}

// authTransport adds the configured credentials and impersonation headers.
type authTransport struct {
	cfg  *restConfig
	next http.RoundTripper

	mu        sync.Mutex
	fileToken string
	readAt    time.Time
}

// CloseIdleConnections closes the idle connections of the transport under
// a (http.Client.CloseIdleConnections reaches it only through this method).
func (a *authTransport) CloseIdleConnections() {
	if c, ok := a.next.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

func (a *authTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	cfg := a.cfg
	req.Header.Set("User-Agent", "wharf")
	switch {
	case cfg.Token != "":
		req.Header.Set("Authorization", "Bearer "+cfg.Token)
	case cfg.TokenFile != "":
		tok, err := a.tokenFromFile()
		if err != nil {
			return nil, err
		}
		req.Header.Set("Authorization", "Bearer "+tok)
	case cfg.Username != "" || cfg.Password != "":
		req.SetBasicAuth(cfg.Username, cfg.Password)
	case cfg.Exec != nil:
		c, err := cfg.Exec.credential(req.Context())
		if err != nil {
			return nil, err
		}
		if c.Token != "" {
			req.Header.Set("Authorization", "Bearer "+c.Token)
		}
	}
	if im := cfg.Impersonate; im.User != "" {
		req.Header.Set("Impersonate-User", im.User)
		if im.UID != "" {
			req.Header.Set("Impersonate-Uid", im.UID)
		}
		for _, g := range im.Groups {
			req.Header.Add("Impersonate-Group", g)
		}
		for k, vs := range im.Extra {
			for _, v := range vs {
				req.Header.Add("Impersonate-Extra-"+url.PathEscape(k), v)
			}
		}
	}
	resp, err := a.next.RoundTrip(req)
	if err == nil && resp.StatusCode == http.StatusUnauthorized && cfg.Exec != nil {
		cfg.Exec.forget() // the next request runs the plugin again
	}
	return resp, err
}

// tokenFromFile is the token file's content, re-read every minute: a
// projected service account token is rotated by the kubelet.
func (a *authTransport) tokenFromFile() (string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.fileToken != "" && time.Since(a.readAt) < time.Minute {
		return a.fileToken, nil
	}
	b, err := os.ReadFile(a.cfg.TokenFile)
	if err != nil {
		if a.fileToken != "" {
			return a.fileToken, nil // keep the last one read
		}
		return "", fmt.Errorf("token file: %w", err)
	}
	a.fileToken, a.readAt = strings.TrimSpace(string(b)), time.Now()
	return a.fileToken, nil
}

// APIError is the API server's refusal: its Status (reason, code, message),
// or the HTTP status and body of an answer that was not one.
type APIError struct {
	Status Status
}

func (e *APIError) Error() string {
	if e.Status.Message != "" {
		return e.Status.Message
	}
	return fmt.Sprintf("the server responded with status %d (%s)", e.Status.Code, e.Status.Reason)
}

// Status reasons (metav1.StatusReason), as apierrors classifies them.
const (
	reasonBadRequest      = "BadRequest"
	reasonUnauthorized    = "Unauthorized"
	reasonForbidden       = "Forbidden"
	reasonNotFound        = "NotFound"
	reasonAlreadyExists   = "AlreadyExists"
	reasonConflict        = "Conflict"
	reasonGone            = "Gone"
	reasonExpired         = "Expired"
	reasonInvalid         = "Invalid"
	reasonTooManyRequests = "TooManyRequests"
)

// reasonFor is the reason of an error the API server gave; when its Status
// had none, the one its HTTP code implies, as apierrors does.
func reasonFor(err error) (reason string, code int32) {
	var ae *APIError
	if !errors.As(err, &ae) {
		return "", 0
	}
	code = ae.Status.Code
	if ae.Status.Reason != "" && ae.Status.Reason != "Unknown" {
		return ae.Status.Reason, code
	}
	switch code {
	case http.StatusBadRequest:
		return reasonBadRequest, code
	case http.StatusUnauthorized:
		return reasonUnauthorized, code
	case http.StatusForbidden:
		return reasonForbidden, code
	case http.StatusNotFound:
		return reasonNotFound, code
	case http.StatusConflict:
		return reasonConflict, code
	case http.StatusGone:
		return reasonGone, code
	case http.StatusUnprocessableEntity:
		return reasonInvalid, code
	case http.StatusTooManyRequests:
		return reasonTooManyRequests, code
	}
	return "", code
}

func isReason(err error, reason string) bool { r, _ := reasonFor(err); return r == reason }

func isNotFound(err error) bool      { return isReason(err, reasonNotFound) }
func isAlreadyExists(err error) bool { return isReason(err, reasonAlreadyExists) }
func isBadRequest(err error) bool    { return isReason(err, reasonBadRequest) }
func isForbidden(err error) bool     { return isReason(err, reasonForbidden) }
func isUnauthorized(err error) bool  { return isReason(err, reasonUnauthorized) }

// isExpired reports whether a list or watch's resourceVersion is too old
// (410 Gone, reason Expired or Gone): the watcher must list again.
func isExpired(err error) bool {
	r, code := reasonFor(err)
	return r == reasonExpired || r == reasonGone || code == http.StatusGone
}

// apiError reads a failed answer into an APIError.
func apiError(resp *http.Response) error {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	var st Status
	if json.Unmarshal(body, &st) == nil && st.Kind == "Status" {
		if st.Code == 0 {
			st.Code = int32(resp.StatusCode)
		}
		return &APIError{Status: st}
	}
	msg := strings.TrimSpace(string(body))
	if msg == "" {
		msg = http.StatusText(resp.StatusCode)
	}
	st = Status{Code: int32(resp.StatusCode), Message: fmt.Sprintf("the server responded with status %d: %s", resp.StatusCode, msg)}
	st.Reason, _ = reasonFor(&APIError{Status: st})
	return &APIError{Status: st}
}

// request sends one request and returns the answer's body to read, or the
// API's error. query may be nil; so may body.
func (c *client) request(ctx context.Context, method, path string, query url.Values, body any) (io.ReadCloser, error) {
	u := c.base + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		defer resp.Body.Close()
		return nil, apiError(resp)
	}
	return resp.Body, nil
}

// do sends a request and decodes the answer into out (if not nil).
func (c *client) do(ctx context.Context, method, path string, query url.Values, body, out any) error {
	rc, err := c.request(ctx, method, path, query, body)
	if err != nil {
		return err
	}
	defer rc.Close()
	if out == nil {
		_, err = io.Copy(io.Discard, rc)
		return err
	}
	if err := json.NewDecoder(rc).Decode(out); err != nil {
		return fmt.Errorf("%s %s: decode the answer: %w", method, path, err)
	}
	return nil
}

// pods is the path of namespace ns's Pods (every namespace's when "").
func pods(ns string) string {
	if ns == "" {
		return "/api/v1/pods"
	}
	return "/api/v1/namespaces/" + url.PathEscape(ns) + "/pods"
}

// serverVersion is the API server's version (GET /version).
func (c *client) serverVersion(ctx context.Context) (string, error) {
	var info struct {
		GitVersion string `json:"gitVersion"`
	}
	if err := c.do(ctx, http.MethodGet, "/version", nil, nil, &info); err != nil {
		return "", err
	}
	return info.GitVersion, nil
}

// listOptions are a list's or watch's query parameters.
type listOptions struct {
	LabelSelector   string
	ResourceVersion string
	Limit           int
	Continue        string
	TimeoutSeconds  int
}

func (o listOptions) query() url.Values {
	q := url.Values{}
	if o.LabelSelector != "" {
		q.Set("labelSelector", o.LabelSelector)
	}
	if o.ResourceVersion != "" {
		q.Set("resourceVersion", o.ResourceVersion)
	}
	if o.Limit > 0 {
		q.Set("limit", fmt.Sprint(o.Limit))
	}
	if o.Continue != "" {
		q.Set("continue", o.Continue)
	}
	if o.TimeoutSeconds > 0 {
		q.Set("timeoutSeconds", fmt.Sprint(o.TimeoutSeconds))
	}
	return q
}

// listPods lists the Pods of namespace ns (every namespace when ns is "").
func (c *client) listPods(ctx context.Context, ns string, o listOptions) (*PodList, error) {
	out := &PodList{}
	err := c.do(ctx, http.MethodGet, pods(ns), o.query(), nil, out)
	return out, err
}

// watchEvent is one event of a watch stream.
type watchEvent struct {
	Type   string          `json:"type"` // ADDED, MODIFIED, DELETED, BOOKMARK, ERROR
	Object json.RawMessage `json:"object"`
}

// watchPods opens a watch on the Pods of namespace ns from o's
// resourceVersion, with bookmarks; the caller decodes watchEvents from the
// stream and closes it.
func (c *client) watchPods(ctx context.Context, ns string, o listOptions) (io.ReadCloser, error) {
	q := o.query()
	q.Set("watch", "true")
	q.Set("allowWatchBookmarks", "true")
	return c.request(ctx, http.MethodGet, pods(ns), q, nil)
}

// createPod creates pod in namespace ns.
func (c *client) createPod(ctx context.Context, ns string, pod *Pod) error {
	pod.APIVersion, pod.Kind = "v1", "Pod"
	return c.do(ctx, http.MethodPost, pods(ns), nil, pod, nil)
}

// deletePod deletes Pod ns/name with a grace period in seconds.
func (c *client) deletePod(ctx context.Context, ns, name string, graceSeconds int64) error {
	body := map[string]any{"kind": "DeleteOptions", "apiVersion": "v1", "gracePeriodSeconds": graceSeconds}
	return c.do(ctx, http.MethodDelete, pods(ns)+"/"+url.PathEscape(name), nil, body, nil)
}

// podLogs streams a container's log, followed and timestamped.
func (c *client) podLogs(ctx context.Context, ns, name, container string) (io.ReadCloser, error) {
	q := url.Values{"container": {container}, "follow": {"true"}, "timestamps": {"true"}}
	return c.request(ctx, http.MethodGet, pods(ns)+"/"+url.PathEscape(name)+"/log", q, nil)
}

// getNamespace reads namespace name.
func (c *client) getNamespace(ctx context.Context, name string) error {
	return c.do(ctx, http.MethodGet, "/api/v1/namespaces/"+url.PathEscape(name), nil, nil, nil)
}

// createNamespace creates ns.
func (c *client) createNamespace(ctx context.Context, ns *namespaceObject) error {
	ns.APIVersion, ns.Kind = "v1", "Namespace"
	return c.do(ctx, http.MethodPost, "/api/v1/namespaces", nil, ns, nil)
}

// getNode reads node name.
func (c *client) getNode(ctx context.Context, name string) (*Node, error) {
	out := &Node{}
	err := c.do(ctx, http.MethodGet, "/api/v1/nodes/"+url.PathEscape(name), nil, nil, out)
	return out, err
}

// nodeProxy GETs path on node name's kubelet through the API server's proxy.
func (c *client) nodeProxy(ctx context.Context, name, path string) ([]byte, error) {
	rc, err := c.request(ctx, http.MethodGet, "/api/v1/nodes/"+url.PathEscape(name)+"/proxy/"+path, nil, nil)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(io.LimitReader(rc, 64<<20))
}
