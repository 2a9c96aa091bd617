package ecs

import (
	"testing"

	"github.com/wharf-dev/wharf/internal/awsapi"
	"github.com/wharf-dev/wharf/internal/store"
)

func TestOverridesFromTargetInput(t *testing.T) {
	for _, tc := range []struct {
		input string
		want  string // the first container override's first command word, or "" for none
	}{
		{`{"containerOverrides":[{"name":"main","command":["exit","5"]}]}`, "exit"},
		{`{"version":"0","detail-type":"Object Created","detail":{}}`, ""}, // a whole event: ignored
		{`"just a string"`, ""},
		{`{"containerOverrides":"not a list"}`, ""},
		{`{"taskRoleArn":"arn:aws:iam::000000000000:role/r"}`, ""},
	} {
		o := OverridesFromInput([]byte(tc.input))
		got := ""
		if o != nil && len(o.ContainerOverrides) > 0 && len(o.ContainerOverrides[0].Command) > 0 {
			got = o.ContainerOverrides[0].Command[0]
		}
		if got != tc.want {
			t.Errorf("OverridesFromInput(%s) command = %q, want %q", tc.input, got, tc.want)
		}
	}
	if o := OverridesFromInput([]byte(`{"taskRoleArn":"r"}`)); o == nil || awsapi.ToString(o.TaskRoleArn) != "r" {
		t.Errorf("taskRoleArn override lost: %+v", o)
	}
}

func FuzzOverridesFrom(f *testing.F) {
	f.Add([]byte(`{"containerOverrides":[{"name":"main","command":["exit","5"],"environment":[{"name":"A","value":"1"}]}]}`))
	f.Add([]byte(`{"cpu":"256"}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, b []byte) { OverridesFromInput(b) })
}

func TestResolveReferences(t *testing.T) {
	sc := scope{account: "000000000000", region: "us-east-1"}
	for _, tc := range []struct {
		ref, want string
		ok        bool
	}{
		{"", "default", true},
		{"prod", "prod", true},
		{"arn:aws:ecs:us-east-1:000000000000:cluster/prod", "prod", true},
		{"arn:aws:ecs:eu-west-1:000000000000:cluster/prod", "", false},
		{"bad name!", "", false},
	} {
		got, err := clusterName(sc, tc.ref)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("clusterName(%q) = %q, %v", tc.ref, got, err)
		}
	}
}

// FuzzReferences feeds arbitrary task definition, task and resource
// references to the resolvers: an error, never a panic.
func FuzzReferences(f *testing.F) {
	for _, s := range []string{"web", "web:2", "web:x", "arn:aws:ecs:us-east-1:000000000000:task-definition/web:1",
		"arn:aws:ecs:us-east-1:000000000000:task/default/abc", "arn:aws:ecs:us-east-1:000000000000:cluster/c", ":", "arn:"} {
		f.Add(s)
	}
	st := store.OpenMemory()
	s := &Service{st: st}
	sc := scope{account: "000000000000", region: "us-east-1"}
	f.Fuzz(func(t *testing.T, ref string) {
		clusterName(sc, ref)
		st.View(func(tx store.Tx) error {
			s.findTaskDef(tx, sc, ref)
			s.findTask(tx, sc, "default", ref)
			s.resourceKey(tx, sc, ref)
			return nil
		})
	})
}

func TestTaskSizes(t *testing.T) {
	for in, want := range map[string]int{"512": 512, "1 vCPU": 1024, "0.25 vcpu": 256, "2 GB": 2048, "": 0, "lots": 0, "-1": 0} {
		if got := atoi(in); got != want {
			t.Errorf("atoi(%q) = %d, want %d", in, got, want)
		}
	}
}
