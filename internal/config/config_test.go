package config

import (
	"io"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestDefaults(t *testing.T) {
	c, err := Parse(nil, env(map[string]string{"XDG_DATA_HOME": "/data"}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != "127.0.0.1:4566" || c.Region != "us-east-1" || c.Account != "000000000000" ||
		c.Auth != AuthAny || c.IAM != IAMAudit || c.DataDir != "/data/wharf" || c.Ephemeral || c.LogFormat != "text" {
		t.Errorf("defaults = %+v", c)
	}
}

func TestFlagsWinOverEnvironmentWhichWinsOverDefaults(t *testing.T) {
	e := env(map[string]string{"WHARF_LISTEN": "127.0.0.1:9999", "WHARF_REGION": "eu-west-1", "WHARF_EPHEMERAL": "true"})
	c, err := Parse([]string{"--region", "ap-south-1"}, e, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != "127.0.0.1:9999" || c.Region != "ap-south-1" || !c.Ephemeral {
		t.Errorf("got listen=%s region=%s ephemeral=%v", c.Listen, c.Region, c.Ephemeral)
	}
}

func TestIAMModeFromEnvironment(t *testing.T) {
	c, err := Parse(nil, env(map[string]string{"WHARF_IAM": "enforce"}), io.Discard)
	if err != nil || c.IAM != IAMEnforce {
		t.Fatalf("WHARF_IAM=enforce: %+v, %v", c, err)
	}
}

func TestRejectsBadValues(t *testing.T) {
	for _, args := range [][]string{
		{"--account", "123"},
		{"--auth", "maybe"},
		{"--iam", "strict"},
		{"--log-format", "xml"},
		{"--log-level", "loud"},
		{"--region", ""},
		{"--body-idle-timeout", "0s"},
		{"--header-timeout", "-1s"},
		{"--max-conns-per-client", "-1"},
		{"stray"},
	} {
		if _, err := Parse(args, env(nil), io.Discard); err == nil {
			t.Errorf("Parse(%v) accepted", args)
		}
	}
}

func TestHelpNamesEveryEnvironmentVariable(t *testing.T) {
	var out strings.Builder
	Parse([]string{"--help"}, env(nil), &out)
	for _, name := range []string{"listen", "data-dir", "ephemeral", "region", "account", "auth", "iam", "log-level", "log-format", "s3-domain", "smtp-addr"} {
		if !strings.Contains(out.String(), "-"+name) || !strings.Contains(out.String(), EnvName(name)) {
			t.Errorf("help lacks %s / %s", name, EnvName(name))
		}
	}
}

func TestMistypedEnvironmentValuesAreErrorsNotDefaults(t *testing.T) {
	for _, e := range []map[string]string{
		{"WHARF_BODY_IDLE_TIMEOUT": "60"},
		{"WHARF_MAX_CONNS_PER_CLIENT": "many"},
	} {
		if _, err := Parse(nil, env(e), io.Discard); err == nil {
			t.Errorf("Parse with %v accepted", e)
		}
	}
	c, err := Parse(nil, env(map[string]string{"WHARF_BODY_IDLE_TIMEOUT": "5s", "WHARF_MAX_CONNS_PER_CLIENT": "3"}), io.Discard)
	if err != nil || c.BodyIdleTimeout != 5*time.Second || c.MaxConnsPerClient != 3 {
		t.Errorf("got %v, %v", c, err)
	}
}

func TestKubernetesRuntimeFlags(t *testing.T) {
	env := map[string]string{"WHARF_KUBECONFIG": "/k/config"}
	c, err := Parse([]string{"--runtime", "kubernetes", "--kube-namespace", "tasks", "--advertise-url", "http://wharf.wharf.svc:4566"}, func(k string) string { return env[k] }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.Runtime != "kubernetes" || c.Kubeconfig != "/k/config" || c.KubeNamespace != "tasks" || c.AdvertiseURL != "http://wharf.wharf.svc:4566" {
		t.Errorf("config %+v", c)
	}
	if _, err := Parse([]string{"--advertise-url", "wharf:4566"}, func(string) string { return "" }, io.Discard); err == nil {
		t.Error("--advertise-url without a scheme accepted")
	}
}
