package ecs

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	ecsapi "github.com/wharf-dev/wharf/internal/awsapi/ecs"
)

func get(t *testing.T, url, token string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if token != "" {
		req.Header.Set("Authorization", token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m
}

func TestCredentialsEndpointNeedsTheTokenAndRenewsBeforeExpiry(t *testing.T) {
	h := newHarness(t, newFakeRunner(), nil)
	task := h.run(h.register("app", container("main", "img", true)), nil)
	h.waitStatus(*task.TaskArn, "RUNNING")
	env := map[string]string{}
	for _, kv := range h.fake.spec("main").Env {
		for i := range kv {
			if kv[i] == '=' {
				env[kv[:i]] = kv[i+1:]
				break
			}
		}
	}
	url, token := env["AWS_CONTAINER_CREDENTIALS_FULL_URI"], env["AWS_CONTAINER_AUTHORIZATION_TOKEN"]
	for _, bad := range []string{"", "wrong"} {
		if code, _ := get(t, url, bad); code != http.StatusUnauthorized {
			t.Errorf("token %q: status %d", bad, code)
		}
	}
	code, c := get(t, url, token)
	if code != 200 || c["AccessKeyId"] != "ASIA1" || c["RoleArn"] != "arn:aws:iam::000000000000:role/task" ||
		c["Token"] != "arn:aws:iam::000000000000:role/task@000000000000/"+taskID(*task.TaskArn) || c["Expiration"] != "2025-01-02T04:04:05Z" {
		t.Fatalf("credentials = %d %v", code, c)
	}
	// 40 minutes on, the same credentials still have 20 minutes to live.
	later := time.Date(2025, 1, 2, 3, 44, 5, 0, time.UTC)
	h.clock.Store(&later)
	if _, c := get(t, url, token); c["AccessKeyId"] != "ASIA1" {
		t.Errorf("renewed too early: %v", c)
	}
	// Within 15 minutes of expiry they are renewed.
	renewal := later.Add(6 * time.Minute) // a new variable: the clock holds &later
	h.clock.Store(&renewal)
	if _, c := get(t, url, token); c["AccessKeyId"] != "ASIA2" || c["Expiration"] != "2025-01-02T05:04:05Z" {
		t.Errorf("not renewed: %v", c)
	}
	// Once the task has stopped, its credentials are no longer served.
	if _, err := h.svc.StopTask(h.ctx, &ecsapi.StopTaskInput{Task: task.TaskArn}); err != nil {
		t.Fatal(err)
	}
	h.waitStatus(*task.TaskArn, "STOPPED")
	if code, c := get(t, url, token); code != http.StatusBadRequest || c["code"] != "InvalidIdInRequest" || c["AccessKeyId"] != nil {
		t.Errorf("stopped task's credentials = %d %v", code, c)
	}
	// A task without a role has no credentials.
	family := "norole"
	out, err := h.svc.RegisterTaskDefinition(h.ctx, &ecsapi.RegisterTaskDefinitionInput{Family: &family, ContainerDefinitions: []ecsapi.ContainerDefinition{container("x", "img", true)}})
	if err != nil {
		t.Fatal(err)
	}
	nr := h.run(*out.TaskDefinition.TaskDefinitionArn, nil)
	h.waitStatus(*nr.TaskArn, "RUNNING")
	for _, kv := range h.fake.spec("x").Env {
		if len(kv) > 18 && kv[:18] == "AWS_CONTAINER_CRED" {
			t.Errorf("task without a role got %s", kv)
		}
	}
}

func TestMetadataEndpointServesTaskAndContainer(t *testing.T) {
	h := newHarness(t, newFakeRunner(), nil)
	task := h.run(h.register("app", container("main", "img", true)), nil)
	h.waitStatus(*task.TaskArn, "RUNNING")
	base := "http://" + h.svc.EndpointAddr() + "/v4/" + taskID(*task.TaskArn) + "/main"
	if code, m := get(t, base, ""); code != 200 || m["Name"] != "main" || m["DockerId"] == "" || m["KnownStatus"] != "RUNNING" {
		t.Errorf("container metadata = %d %v", code, m)
	}
	if code, m := get(t, base+"/task", ""); code != 200 || m["TaskARN"] != *task.TaskArn || m["Family"] != "app" || m["Revision"] != "1" {
		t.Errorf("task metadata = %d %v", code, m)
	}
	if code, _ := get(t, "http://"+h.svc.EndpointAddr()+"/v4/nope/main/task", ""); code != 404 {
		t.Errorf("unknown task: %d", code)
	}
}
