// Package depends decides when a task's containers may start, from their
// dependsOn conditions (START, COMPLETE, SUCCESS, HEALTHY): the order to try
// them in, and whether one is ready, or never will be. It knows nothing of
// runtimes or the store, so the rules are tested as data.
package depends

import "fmt"

// Condition is a dependsOn condition (ContainerDependency docs).
type Condition string

// The conditions ECS defines; an empty condition means START.
const (
	Start    Condition = "START"
	Complete Condition = "COMPLETE"
	Success  Condition = "SUCCESS"
	Healthy  Condition = "HEALTHY"
)

// Dependency is one dependsOn entry.
type Dependency struct {
	Container string
	Condition Condition
}

// Container is a container definition's name and dependencies.
type Container struct {
	Name      string
	DependsOn []Dependency
}

// Order returns the indexes of cs so that each container comes after the
// containers it depends on, keeping definition order otherwise. A cycle, which
// RegisterTaskDefinition does not refuse, is broken where it is first met.
func Order(cs []Container) []int {
	index := make(map[string]int, len(cs))
	for i, c := range cs {
		if _, dup := index[c.Name]; !dup {
			index[c.Name] = i
		}
	}
	out := make([]int, 0, len(cs))
	seen := make([]int, len(cs)) // 1 visiting, 2 done
	var visit func(i int)
	visit = func(i int) {
		if seen[i] != 0 {
			return
		}
		seen[i] = 1
		for _, d := range cs[i].DependsOn {
			if j, ok := index[d.Container]; ok {
				visit(j)
			}
		}
		seen[i] = 2
		out = append(out, i)
	}
	for i := range cs {
		visit(i)
	}
	return out
}

// State is what a container has done so far.
type State struct {
	Started bool
	Exited  bool
	// ExitCode is the exit code once Exited.
	ExitCode int
	// Vanished means the runtime lost the container: it exited, with no code.
	Vanished bool
	Healthy  bool
}

// Ready reports whether c may start, given its dependencies' states, and, when
// it never will (a SUCCESS dependency that failed, a HEALTHY one that exited),
// why.
func Ready(c Container, state func(container string) State) (ok bool, never string) {
	for _, d := range c.DependsOn {
		st := state(d.Container)
		switch d.Condition {
		case Complete:
			if !st.Exited {
				return false, ""
			}
		case Success:
			if !st.Exited {
				return false, ""
			}
			if st.Vanished || st.ExitCode != 0 {
				return false, fmt.Sprintf("dependency %s exited with code %d, not SUCCESS", d.Container, st.ExitCode)
			}
		case Healthy:
			if st.Exited {
				return false, fmt.Sprintf("dependency %s exited before it was HEALTHY", d.Container)
			}
			if !st.Healthy {
				return false, ""
			}
		default: // START
			if !st.Started {
				return false, ""
			}
		}
	}
	return true, ""
}
