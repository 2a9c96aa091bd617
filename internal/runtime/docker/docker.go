// Package docker runs containers through the Docker Engine API (which Podman's
// Docker-compatible service also serves), spoken as plain HTTP over the
// engine's unix socket.
//
// The official client module (github.com/docker/docker/client) would bring
// dozens of modules (OpenTelemetry, containerd types, ...) for the nine
// endpoints wharf calls; those endpoints have been stable since API 1.25, so
// unversioned paths (the engine's own version) work with every engine in use.
//
// Every container runs with host networking: a task reaches wharf, its
// credentials and its metadata endpoint at 127.0.0.1, as on a machine whose
// only network is loopback.
package docker

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/wharf-dev/wharf/internal/runtime"
)

// DefaultSocket is where engines listen unless DOCKER_HOST says otherwise.
const DefaultSocket = "/var/run/docker.sock"

// Runner is a runtime.Runner backed by a Docker engine.
type Runner struct {
	hc   *http.Client
	sock string // the engine's unix socket
}

var _ runtime.Runner = (*Runner)(nil)

// New returns a Runner for the engine at DOCKER_HOST (unix://path) when set
// through getenv, else at DefaultSocket. It does not contact the engine; Ping does.
func New(getenv func(string) string) (*Runner, error) {
	sock := DefaultSocket
	if h := getenv("DOCKER_HOST"); h != "" {
		p, ok := strings.CutPrefix(h, "unix://")
		if !ok {
			return nil, fmt.Errorf("DOCKER_HOST %q: only unix:// sockets are supported", h)
		}
		sock = p
	}
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", sock)
		},
		MaxIdleConnsPerHost: 16,
	}
	return &Runner{hc: &http.Client{Transport: tr}, sock: sock}, nil
}

// Name is "docker".
func (r *Runner) Name() string { return "docker" }

// Ping reports whether an engine answers: GET /_ping, on a connection of its
// own rather than through the HTTP client. wharf pings at every start to
// choose its runtime, and the client's transport runs a goroutine to dial and
// one per direction, whose stacks grow at once; the runtime reads the binary's
// function tables for every frame it copies, pages an idle wharf would
// otherwise keep resident (issue 20's idle RSS). Every later call goes
// through the client.
func (r *Runner) Ping(ctx context.Context) error {
	var d net.Dialer
	c, err := d.DialContext(ctx, "unix", r.sock)
	if err != nil {
		return fmt.Errorf("docker engine: %w", err)
	}
	defer c.Close()
	// A done ctx (cancelled or past its deadline) ends a read or write
	// waiting on the engine. Only this way: a connection deadline set to
	// ctx's own could expire before ctx reports its error, and Ping would
	// answer an i/o timeout instead of ctx's error.
	defer context.AfterFunc(ctx, func() { c.SetDeadline(time.Unix(1, 0)) })()
	code, reason, err := ping(c)
	if ctx.Err() != nil {
		return fmt.Errorf("docker engine: %w", ctx.Err())
	}
	if err != nil {
		return fmt.Errorf("docker engine: %w", err)
	}
	if code >= 300 {
		return &apiError{Status: code, Message: reason}
	}
	return nil
}

// ping asks GET /_ping on c and returns the status code and reason of the
// answer's status line ("HTTP/1.1 200 OK"); the engine closes the connection
// after the answer.
func ping(c net.Conn) (int, string, error) {
	if _, err := io.WriteString(c, "GET /_ping HTTP/1.1\r\nHost: docker\r\nConnection: close\r\n\r\n"); err != nil {
		return 0, "", err
	}
	line, err := bufio.NewReader(io.LimitReader(c, 1024)).ReadString('\n')
	if err != nil {
		return 0, "", fmt.Errorf("reading the answer to GET /_ping: %w", err)
	}
	proto, rest, _ := strings.Cut(strings.TrimRight(line, "\r\n"), " ")
	code, reason, _ := strings.Cut(rest, " ")
	n, err := strconv.Atoi(code)
	if !strings.HasPrefix(proto, "HTTP/1.") || len(code) != 3 || err != nil {
		return 0, "", fmt.Errorf("not an HTTP answer to GET /_ping: %q", line)
	}
	return n, reason, nil
}

// apiError is an engine error response.
type apiError struct {
	Status  int
	Message string
}

func (e *apiError) Error() string { return fmt.Sprintf("docker engine: %d %s", e.Status, e.Message) }

func (r *Runner) do(ctx context.Context, method, path string, q url.Values, body any) (*http.Response, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	}
	u := "http://docker" + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := r.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("docker engine: %w", err)
	}
	if resp.StatusCode >= 300 {
		defer resp.Body.Close()
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		var m struct{ Message string }
		if json.Unmarshal(b, &m) != nil || m.Message == "" {
			m.Message = strings.TrimSpace(string(b))
		}
		return nil, &apiError{Status: resp.StatusCode, Message: m.Message}
	}
	return resp, nil
}

func (r *Runner) call(ctx context.Context, method, path string, q url.Values, body, out any) error {
	resp, err := r.do(ctx, method, path, q, body)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if out == nil {
		_, err = io.Copy(io.Discard, resp.Body)
		return err
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

func notFound(err error) bool {
	var e *apiError
	return errors.As(err, &e) && e.Status == http.StatusNotFound
}

// Start creates the container (pulling a missing image) and starts it.
func (r *Runner) Start(ctx context.Context, spec runtime.Spec) (string, error) {
	hc := map[string]any{
		"NetworkMode":    "host",
		"ReadonlyRootfs": spec.ReadonlyRootFS,
	}
	if len(spec.Binds) > 0 {
		hc["Binds"] = spec.Binds
	}
	if len(spec.Ulimits) > 0 {
		var ul []map[string]any
		for _, u := range spec.Ulimits {
			ul = append(ul, map[string]any{"Name": u.Name, "Soft": u.Soft, "Hard": u.Hard})
		}
		hc["Ulimits"] = ul
	}
	if spec.Memory > 0 {
		hc["Memory"] = int64(spec.Memory) << 20
	}
	if spec.MemoryReservation > 0 {
		hc["MemoryReservation"] = int64(spec.MemoryReservation) << 20
	}
	if spec.CPU > 0 {
		// ECS maps cpu units to CPU shares one to one (container definition docs);
		// Docker's minimum is 2.
		hc["CpuShares"] = max(spec.CPU, 2)
	}
	body := map[string]any{
		"Image":      spec.Image,
		"Env":        spec.Env,
		"WorkingDir": spec.WorkingDir,
		"User":       spec.User,
		"Labels":     spec.Labels,
		"HostConfig": hc,
	}
	if h := spec.Health; h != nil && len(h.Test) > 0 {
		body["Healthcheck"] = map[string]any{
			"Test": h.Test, "Interval": int64(h.Interval), "Timeout": int64(h.Timeout),
			"StartPeriod": int64(h.StartPeriod), "Retries": h.Retries,
		}
	}
	if len(spec.EntryPoint) > 0 {
		body["Entrypoint"] = spec.EntryPoint
	}
	if len(spec.Command) > 0 {
		body["Cmd"] = spec.Command
	}
	q := url.Values{"name": {spec.Name}}
	var created struct{ Id string }
	err := r.call(ctx, http.MethodPost, "/containers/create", q, body, &created)
	if notFound(err) {
		// The image is not in the engine: pull it, as the ECS agent does.
		if perr := r.pull(ctx, spec.Image); perr != nil {
			return "", &runtime.PullError{Image: spec.Image, Err: perr}
		}
		err = r.call(ctx, http.MethodPost, "/containers/create", q, body, &created)
	}
	if err != nil {
		return "", fmt.Errorf("create container: %w", err)
	}
	if err := r.call(ctx, http.MethodPost, "/containers/"+created.Id+"/start", nil, nil, nil); err != nil {
		r.Remove(context.WithoutCancel(ctx), created.Id)
		return "", fmt.Errorf("start container: %w", err)
	}
	return created.Id, nil
}

// pull pulls image; the engine reports failures inside the progress stream.
func (r *Runner) pull(ctx context.Context, image string) error {
	name, tag := image, "latest"
	if i := strings.LastIndex(image, ":"); i > strings.LastIndex(image, "/") {
		name, tag = image[:i], image[i+1:]
	}
	if i := strings.Index(image, "@"); i >= 0 {
		name, tag = image[:i], image[i+1:]
	}
	resp, err := r.do(ctx, http.MethodPost, "/images/create", url.Values{"fromImage": {name}, "tag": {tag}}, nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	dec := json.NewDecoder(resp.Body)
	for {
		var m struct{ Error string }
		if err := dec.Decode(&m); err == io.EOF {
			return nil
		} else if err != nil {
			return err
		}
		if m.Error != "" {
			return errors.New(m.Error)
		}
	}
}

// Stop asks the engine to stop the container: its stop signal (SIGTERM unless
// the image says otherwise), then SIGKILL after timeout.
func (r *Runner) Stop(ctx context.Context, id string, timeout time.Duration) error {
	q := url.Values{"t": {fmt.Sprint(int(timeout.Round(time.Second) / time.Second))}}
	err := r.call(ctx, http.MethodPost, "/containers/"+id+"/stop", q, nil, nil)
	var e *apiError
	if errors.As(err, &e) && e.Status == http.StatusNotModified {
		return nil // already stopped
	}
	if notFound(err) {
		return runtime.ErrNotFound
	}
	return err
}

// Wait blocks until the container is not running and returns its final state.
func (r *Runner) Wait(ctx context.Context, id string) (runtime.State, error) {
	err := r.call(ctx, http.MethodPost, "/containers/"+id+"/wait", url.Values{"condition": {"not-running"}}, nil, nil)
	if notFound(err) {
		return runtime.State{}, runtime.ErrNotFound
	}
	if err != nil {
		return runtime.State{}, err
	}
	return r.Inspect(ctx, id)
}

type inspect struct {
	Id     string
	Name   string
	Config struct{ Labels map[string]string }
	State  struct {
		Running    bool
		OOMKilled  bool
		ExitCode   int
		Error      string
		Health     *struct{ Status string }
		StartedAt  time.Time
		FinishedAt time.Time
	}
}

func (c *inspect) state() runtime.State {
	s := runtime.State{
		ID: c.Id, Name: strings.TrimPrefix(c.Name, "/"), Labels: c.Config.Labels,
		Running: c.State.Running, ExitCode: c.State.ExitCode,
		StartedAt: c.State.StartedAt, FinishedAt: c.State.FinishedAt,
	}
	if c.State.Health != nil {
		s.Health = c.State.Health.Status
	}
	switch {
	case c.State.OOMKilled:
		s.Reason = "OutOfMemoryError: Container killed due to memory usage"
	case c.State.Error != "":
		s.Reason = c.State.Error
	}
	return s
}

// Inspect returns the container's state.
func (r *Runner) Inspect(ctx context.Context, id string) (runtime.State, error) {
	var c inspect
	err := r.call(ctx, http.MethodGet, "/containers/"+id+"/json", nil, nil, &c)
	if notFound(err) {
		return runtime.State{}, runtime.ErrNotFound
	}
	if err != nil {
		return runtime.State{}, err
	}
	return c.state(), nil
}

// List returns the containers labelled key=value.
func (r *Runner) List(ctx context.Context, key, value string) ([]runtime.State, error) {
	f, _ := json.Marshal(map[string][]string{"label": {key + "=" + value}})
	var list []struct{ Id string }
	if err := r.call(ctx, http.MethodGet, "/containers/json", url.Values{"all": {"1"}, "filters": {string(f)}}, nil, &list); err != nil {
		return nil, err
	}
	var out []runtime.State
	for _, c := range list {
		s, err := r.Inspect(ctx, c.Id)
		if errors.Is(err, runtime.ErrNotFound) {
			continue // removed between list and inspect
		}
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// Remove force-removes the container.
func (r *Runner) Remove(ctx context.Context, id string) error {
	err := r.call(ctx, http.MethodDelete, "/containers/"+id, url.Values{"force": {"1"}}, nil, nil)
	if notFound(err) {
		return nil
	}
	return err
}

// Logs follows the container's output from its start until it exits.
//
// The engine may end a follow stream when the container stops while the
// reader is still behind its log file (seen with fast-exiting containers on a
// loaded machine: the last thousand lines never came). So once the stream
// ends, the log is read again without following, and the lines after those
// already delivered are delivered too: both reads walk the same log file in
// the same order.
func (r *Runner) Logs(ctx context.Context, id string, fn func(runtime.Line)) error {
	delivered := 0
	count := func(l runtime.Line) { delivered++; fn(l) }
	if err := r.readLogs(ctx, id, true, func(br *bufio.Reader) error {
		_, err := demuxLines(br, 0, count)
		return err
	}); err != nil {
		return err
	}
	if ctx.Err() != nil {
		return nil
	}
	err := r.readLogs(ctx, id, false, func(br *bufio.Reader) error {
		partial, err := demuxLines(br, delivered, fn)
		flushPartial(partial, fn)
		return err
	})
	if errors.Is(err, runtime.ErrNotFound) {
		return nil // removed meanwhile: what the stream gave is all there is
	}
	return err
}

// readLogs opens the container's log (following it or not) and hands it to read.
func (r *Runner) readLogs(ctx context.Context, id string, follow bool, read func(*bufio.Reader) error) error {
	q := url.Values{"stdout": {"1"}, "stderr": {"1"}, "timestamps": {"1"}}
	if follow {
		q.Set("follow", "1")
	}
	resp, err := r.do(ctx, http.MethodGet, "/containers/"+id+"/logs", q, nil)
	if notFound(err) {
		return runtime.ErrNotFound
	}
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return read(bufio.NewReader(resp.Body))
}

// demux reads the engine's multiplexed log stream (containers without a TTY):
// frames of an 8-byte header (stream, 0, 0, 0, big-endian length) and payload.
// Lines may span frames; a partial last line is flushed at the end.
func demux(rd io.Reader, fn func(runtime.Line)) error {
	partial, err := demuxLines(bufio.NewReader(rd), 0, fn)
	flushPartial(partial, fn)
	return err
}

// demuxLines delivers the stream's complete lines after the first skip, and
// returns what is left of each stream's unfinished last line.
func demuxLines(br *bufio.Reader, skip int, fn func(runtime.Line)) (map[string][]byte, error) {
	partial := map[string][]byte{}
	var hdr [8]byte
	for {
		if _, err := io.ReadFull(br, hdr[:]); err != nil {
			if err == io.EOF || err == io.ErrUnexpectedEOF {
				return partial, nil
			}
			return partial, err
		}
		stream := "stdout"
		if hdr[0] == 2 {
			stream = "stderr"
		}
		n := binary.BigEndian.Uint32(hdr[4:])
		buf := make([]byte, n)
		if _, err := io.ReadFull(br, buf); err != nil {
			if err == io.ErrUnexpectedEOF {
				return partial, nil // a torn last frame: the stream ended
			}
			return partial, err
		}
		data := append(partial[stream], buf...)
		for {
			i := bytes.IndexByte(data, '\n')
			if i < 0 {
				break
			}
			if skip > 0 {
				skip--
			} else {
				emitLine(stream, data[:i], fn)
			}
			data = data[i+1:]
		}
		partial[stream] = data
	}
}

// flushPartial delivers each stream's unfinished last line.
func flushPartial(partial map[string][]byte, fn func(runtime.Line)) {
	for _, s := range []string{"stdout", "stderr"} {
		if p := partial[s]; len(p) > 0 {
			emitLine(s, p, fn)
		}
	}
}

// emitLine splits the engine's timestamp from a line and delivers it.
func emitLine(stream string, line []byte, fn func(runtime.Line)) {
	ts, text, ok := bytes.Cut(line, []byte(" "))
	t, err := time.Parse(time.RFC3339Nano, string(ts))
	if !ok || err != nil {
		t, text = time.Now(), line
	}
	fn(runtime.Line{Stream: stream, Time: t, Text: string(text)})
}

// Available reports whether an engine answers at the default location within a
// short time: how wharf picks its default runtime.
func Available(ctx context.Context) (*Runner, bool) {
	r, err := New(os.Getenv)
	if err != nil {
		return nil, false
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	return r, r.Ping(ctx) == nil
}
