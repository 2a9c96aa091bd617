package ecs

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/wharf-dev/wharf/internal/awsapi"
	"github.com/wharf-dev/wharf/internal/service/ecs/taskstate"
	"github.com/wharf-dev/wharf/internal/store"
)

// The credentials and metadata endpoint is a listener of its own on loopback:
// the SDKs' container credentials provider only trusts loopback (or ECS's
// link-local) FULL_URIs, and wharf's main port routes AWS requests only.

const endpointKey = "ecs/endpoint"

// listen opens the endpoint on addr, or on the port the previous wharf used
// (running containers have it in their environment), else on a free port.
func (s *Service) listen(addr string) (net.Listener, error) {
	if addr != "" {
		return net.Listen("tcp", addr)
	}
	var prev string
	if err := s.st.View(func(tx store.Tx) error {
		b, err := tx.Get([]byte(endpointKey))
		prev = string(b)
		return err
	}); err != nil {
		// Not knowing the last port only costs tasks that outlived wharf
		// their credentials endpoint: a fresh port still serves new ones.
		s.log.Error("ecs endpoint: read the last port", "err", err)
	}
	if prev != "" {
		if ln, err := net.Listen("tcp", prev); err == nil {
			return ln, nil
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("ecs endpoint: %w", err)
	}
	err = s.st.Update(func(tx store.Tx) error { return tx.Put([]byte(endpointKey), []byte(ln.Addr().String())) })
	if err != nil {
		ln.Close()
		return nil, err
	}
	return ln, nil
}

// listener opens the endpoint's listener on first use (Run, or a task
// starting), so that a Service built but never run holds no socket.
func (s *Service) listener() (net.Listener, error) {
	s.lnOnce.Do(func() { s.ln, s.lnErr = s.listen(s.lnAddr) })
	return s.ln, s.lnErr
}

// EndpointAddr is the host:port of the credentials and metadata endpoint, or
// "" when it could not be opened.
func (s *Service) EndpointAddr() string {
	ln, err := s.listener()
	if err != nil {
		return ""
	}
	return ln.Addr().String()
}

// endpointURL is the endpoint's URL as tasks reach it: the advertised host
// on the endpoint's port when wharf advertises one, else its own address.
func (s *Service) endpointURL() string {
	addr := s.EndpointAddr()
	if s.advertise != nil {
		if _, port, err := net.SplitHostPort(addr); err == nil {
			return "http://" + net.JoinHostPort(s.advertise.Hostname(), port)
		}
	}
	return "http://" + addr
}

// awsEndpointURL is wharf's URL as task r's containers reach it.
func (s *Service) awsEndpointURL(r *taskRecord) string {
	if s.advertise != nil {
		return strings.TrimSuffix(s.advertise.String(), "/")
	}
	return "http://" + r.Endpoint
}

func (s *Service) serveEndpoint(ctx context.Context) <-chan struct{} {
	done := make(chan struct{})
	ln, err := s.listener()
	if err != nil {
		s.log.Error("ecs: credentials and metadata endpoint not served", "err", err)
		close(done)
		return done
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v2/credentials/{task}", s.serveCredentials)
	mux.HandleFunc("GET /v4/{task}/{container}", s.serveMetadata)
	mux.HandleFunc("GET /v4/{task}/{container}/{doc}", s.serveMetadata)
	mux.HandleFunc("GET /v4/{task}/{container}/task/stats", s.serveTaskStats)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		defer close(done)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("ecs: endpoint", "err", err)
		}
	}()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}()
	return done
}

// taskByID finds a live task by its id, in any account and cluster.
func (s *Service) taskByID(id string) *taskRecord {
	if id == "" || strings.ContainsAny(id, "/") {
		return nil
	}
	var out *taskRecord
	if key, ok := s.index.Load(id); ok {
		err := s.st.View(func(tx store.Tx) error {
			var r taskRecord
			found, err := getJSON(tx, key.(string), &r)
			if found {
				out = &r
			}
			return err
		})
		if err != nil {
			s.log.Error("ecs: read task", "task", id, "err", err)
		}
		return out
	}
	err := s.st.View(func(tx store.Tx) error {
		key, err := tx.Get([]byte(idPrefix + id))
		if err != nil || key == nil {
			return err
		}
		var r taskRecord
		found, err := getJSON(tx, string(key), &r)
		if err != nil {
			return fmt.Errorf("task record %s: %w", key, err)
		}
		if found {
			out = &r
			s.index.Store(id, string(key))
		}
		return nil
	})
	if err != nil {
		s.log.Error("ecs: find task", "task", id, "err", err)
	}
	return out
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// serveCredentials answers the SDKs' container credentials provider with the
// task role's temporary credentials, renewed before they expire.
func (s *Service) serveCredentials(w http.ResponseWriter, req *http.Request) {
	r := s.taskByID(req.PathValue("task"))
	if r == nil || r.RoleArn == "" || s.creds == nil ||
		subtle.ConstantTimeCompare([]byte(req.Header.Get("Authorization")), []byte(r.Token)) != 1 {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"code": "AccessDenied", "message": "Unable to authorize the request"})
		return
	}
	arn := awsapi.ToString(r.Task.TaskArn)
	if taskstate.Of(r.Task.LastStatus).Terminal() {
		// A stopped task's credentials are no longer served, as the ECS
		// agent removes them when the task stops (also after a restart that
		// marked the task stopped); its containers are gone.
		s.mu.Lock()
		delete(s.cache, arn)
		s.mu.Unlock()
		writeJSON(w, http.StatusBadRequest, map[string]string{"code": "InvalidIdInRequest", "message": "CredentialsV2Request: Credentials not found"})
		return
	}
	s.mu.Lock()
	c, ok := s.cache[arn]
	s.mu.Unlock()
	// Renew 15 minutes before expiry, as the ECS agent does, so the SDK's own
	// refresh (5 minutes before) always gets fresh credentials.
	if !ok || s.now().Add(15*time.Minute).After(c.Expiration) {
		var err error
		c, err = s.creds.CredentialsForRole(req.Context(), r.Account, r.RoleArn, r.id())
		if err != nil {
			s.log.Warn("ecs: task role credentials", "task", r.id(), "role", r.RoleArn, "err", err)
			writeJSON(w, http.StatusInternalServerError, map[string]string{"code": "CredentialsUnavailable", "message": err.Error()})
			return
		}
		s.mu.Lock()
		s.cache[arn] = c
		s.mu.Unlock()
	}
	writeJSON(w, http.StatusOK, map[string]string{
		"RoleArn": r.RoleArn, "AccessKeyId": c.AccessKeyID, "SecretAccessKey": c.SecretAccessKey,
		"Token": c.SessionToken, "Expiration": c.Expiration.UTC().Format(time.RFC3339),
	})
}

// serveMetadata serves task metadata endpoint v4: the container document at
// the base, the task document at /task, and the container's statistics at
// /stats.
func (s *Service) serveMetadata(w http.ResponseWriter, req *http.Request) {
	r := s.taskByID(req.PathValue("task"))
	name := req.PathValue("container")
	if r == nil || containerDef(&r.Def, name) == nil {
		writeJSON(w, http.StatusNotFound, map[string]string{"message": "task or container not found"})
		return
	}
	switch req.PathValue("doc") {
	case "":
		writeJSON(w, http.StatusOK, containerMetadata(r, name))
	case "task":
		writeJSON(w, http.StatusOK, taskMetadata(r))
	case "stats":
		doc, err := s.statsDocument(req.Context(), r, name)
		if err != nil {
			writeStatsError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, doc)
	case "taskWithTags":
		m := taskMetadata(r)
		tags := map[string]string{}
		for _, t := range r.Task.Tags {
			tags[awsapi.ToString(t.Key)] = awsapi.ToString(t.Value)
		}
		m["TaskTags"] = tags
		writeJSON(w, http.StatusOK, m)
	default:
		writeJSON(w, http.StatusNotFound, map[string]string{"message": "unknown metadata path"})
	}
}

func containerMetadata(r *taskRecord, name string) map[string]any {
	cd := containerDef(&r.Def, name)
	m := map[string]any{
		"DockerId": r.Runtime[name], "Name": name, "DockerName": runtimeName(r, name),
		"Image": awsapi.ToString(cd.Image), "ImageID": "",
		"Labels": map[string]string{
			labelCluster: awsapi.ToString(r.Task.ClusterArn), labelContainer: name, labelTaskArn: awsapi.ToString(r.Task.TaskArn),
			labelFamily: awsapi.ToString(r.Def.Family), labelRevision: strconv.Itoa(int(awsapi.ToInt32(r.Def.Revision))),
		},
		"DesiredStatus": awsapi.ToString(r.Task.DesiredStatus), "KnownStatus": string(taskstate.Running), "Type": "NORMAL",
		"Limits":   map[string]any{"CPU": awsapi.ToInt32(cd.Cpu), "Memory": awsapi.ToInt32(cd.Memory)},
		"Networks": []any{map[string]any{"NetworkMode": "host", "IPv4Addresses": []string{"127.0.0.1"}}},
	}
	for _, c := range r.Task.Containers {
		if awsapi.ToString(c.Name) == name {
			m["ContainerARN"] = awsapi.ToString(c.ContainerArn)
			m["KnownStatus"] = awsapi.ToString(c.LastStatus)
			if c.ExitCode != nil {
				m["ExitCode"] = *c.ExitCode
			}
		}
	}
	if r.Task.StartedAt != nil {
		m["StartedAt"] = r.Task.StartedAt.UTC().Format(time.RFC3339Nano)
	}
	return m
}

func taskMetadata(r *taskRecord) map[string]any {
	var containers []any
	for _, cd := range r.Def.ContainerDefinitions {
		containers = append(containers, containerMetadata(r, awsapi.ToString(cd.Name)))
	}
	m := map[string]any{
		"Cluster": awsapi.ToString(r.Task.ClusterArn), "TaskARN": awsapi.ToString(r.Task.TaskArn),
		"Family": awsapi.ToString(r.Def.Family), "Revision": strconv.Itoa(int(awsapi.ToInt32(r.Def.Revision))),
		"DesiredStatus": awsapi.ToString(r.Task.DesiredStatus), "KnownStatus": awsapi.ToString(r.Task.LastStatus),
		"Containers": containers, "AvailabilityZone": awsapi.ToString(r.Task.AvailabilityZone),
		"LaunchType": awsapi.ToString(r.Task.LaunchType),
		"Limits":     map[string]any{"CPU": r.Task.Cpu, "Memory": r.Task.Memory},
	}
	if t := r.Task.PullStartedAt; t != nil {
		m["PullStartedAt"] = t.UTC().Format(time.RFC3339Nano)
	}
	if t := r.Task.PullStoppedAt; t != nil {
		m["PullStoppedAt"] = t.UTC().Format(time.RFC3339Nano)
	}
	return m
}
