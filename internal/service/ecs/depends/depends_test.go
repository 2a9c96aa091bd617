package depends

import (
	"slices"
	"testing"
)

func TestOrderPutsDependenciesFirstAndKeepsDefinitionOrderOtherwise(t *testing.T) {
	for _, tc := range []struct {
		name string
		cs   []Container
		want []int
	}{
		{"no dependencies", []Container{{Name: "a"}, {Name: "b"}, {Name: "c"}}, []int{0, 1, 2}},
		{"app after its sidecar", []Container{{Name: "app", DependsOn: []Dependency{{"sidecar", Start}}}, {Name: "sidecar"}}, []int{1, 0}},
		{"chain", []Container{
			{Name: "a", DependsOn: []Dependency{{"b", Healthy}}},
			{Name: "b", DependsOn: []Dependency{{"c", Success}}},
			{Name: "c"},
		}, []int{2, 1, 0}},
		{"unknown dependency ignored", []Container{{Name: "a", DependsOn: []Dependency{{"nope", Start}}}, {Name: "b"}}, []int{0, 1}},
		{"cycle in definition order", []Container{
			{Name: "a", DependsOn: []Dependency{{"b", Start}}},
			{Name: "b", DependsOn: []Dependency{{"a", Start}}},
		}, []int{1, 0}},
	} {
		if got := Order(tc.cs); !slices.Equal(got, tc.want) {
			t.Errorf("%s: Order = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestReadyFollowsEachCondition(t *testing.T) {
	for _, tc := range []struct {
		cond  Condition
		dep   State
		ok    bool
		never bool
	}{
		{Start, State{}, false, false},
		{Start, State{Started: true}, true, false},
		{"", State{Started: true}, true, false},
		{Complete, State{Started: true}, false, false},
		{Complete, State{Started: true, Exited: true, ExitCode: 3}, true, false},
		{Success, State{Started: true}, false, false},
		{Success, State{Started: true, Exited: true}, true, false},
		{Success, State{Started: true, Exited: true, ExitCode: 1}, false, true},
		{Success, State{Exited: true, Vanished: true}, false, true},
		{Healthy, State{Started: true}, false, false},
		{Healthy, State{Started: true, Healthy: true}, true, false},
		{Healthy, State{Started: true, Exited: true}, false, true},
	} {
		c := Container{Name: "app", DependsOn: []Dependency{{"dep", tc.cond}}}
		ok, never := Ready(c, func(string) State { return tc.dep })
		if ok != tc.ok || (never != "") != tc.never {
			t.Errorf("%q on %+v: Ready = %v, %q; want ok %v, never %v", tc.cond, tc.dep, ok, never, tc.ok, tc.never)
		}
	}
}
