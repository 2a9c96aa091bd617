package ecs

import (
	"net"
	"strings"
	"testing"

	"github.com/wharf-dev/wharf/internal/awsapi"
	ecsapi "github.com/wharf-dev/wharf/internal/awsapi/ecs"
	"github.com/wharf-dev/wharf/internal/store"
)

// TestAdvertiseURLIsWhereTasksReachWharf: with --advertise-url (tasks on
// other machines, in a cluster) a container's AWS_ENDPOINT_URL is that URL and
// its credentials and metadata URIs use its host on the endpoint's port;
// without it they are the request's host and loopback.
func TestAdvertiseURLIsWhereTasksReachWharf(t *testing.T) {
	r := &taskRecord{Region: "us-east-1", Endpoint: "127.0.0.1:4566", RoleArn: "arn:aws:iam::000000000000:role/task", Token: "tok",
		Task: ecsapi.Task{TaskArn: awsapi.String("arn:aws:ecs:us-east-1:000000000000:task/c/0123")}}
	cd := &ecsapi.ContainerDefinition{Name: awsapi.String("app"), Image: awsapi.String("img")}
	env := func(advertise string) map[string]string {
		s, err := New(Options{Store: store.OpenMemory(), Credentials: &countingCreds{}, AdvertiseURL: advertise, Listen: "127.0.0.1:0"})
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]string{}
		for _, kv := range s.spec(r, cd, nil).Env {
			k, v, _ := strings.Cut(kv, "=")
			m[k] = v
		}
		_, port, _ := net.SplitHostPort(s.EndpointAddr())
		m["port"] = port
		s.ln.Close() // opened by EndpointAddr; the service never runs
		return m
	}
	e := env("http://wharf.wharf.svc:4566")
	if e["AWS_ENDPOINT_URL"] != "http://wharf.wharf.svc:4566" ||
		!strings.HasPrefix(e["AWS_CONTAINER_CREDENTIALS_FULL_URI"], "http://wharf.wharf.svc:"+e["port"]+"/v2/credentials/") ||
		!strings.HasPrefix(e["ECS_CONTAINER_METADATA_URI_V4"], "http://wharf.wharf.svc:"+e["port"]+"/v4/") {
		t.Errorf("with --advertise-url: %v", e)
	}
	e = env("")
	if e["AWS_ENDPOINT_URL"] != "http://127.0.0.1:4566" || !strings.HasPrefix(e["AWS_CONTAINER_CREDENTIALS_FULL_URI"], "http://127.0.0.1:"+e["port"]+"/v2/credentials/") {
		t.Errorf("without --advertise-url: %v", e)
	}
	if _, err := New(Options{Store: store.OpenMemory(), AdvertiseURL: "wharf:4566"}); err == nil {
		t.Error("an advertise URL without a scheme was accepted")
	}
}
