package process

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/wharf-dev/wharf/internal/runtime"
)

var _ runtime.StatsReader = (*Runner)(nil)

// userHZ is the unit of /proc's CPU times: USER_HZ, 100 on every Linux
// architecture Go runs on (proc(5)).
const userHZ = 100

// Stats sums, from /proc, the resource use of the container's processes (its
// process group, which every process it starts joins unless it leaves it):
// user and system CPU time, with that of the children they have waited for,
// and resident memory. Without /proc (not Linux) there are no statistics.
func (r *Runner) Stats(_ context.Context, id string) (runtime.Stats, error) {
	p, err := r.get(id)
	if err != nil {
		return runtime.Stats{}, err
	}
	select {
	case <-p.done:
		return runtime.Stats{}, runtime.ErrNotFound
	default:
	}
	pgid := p.cmd.Process.Pid
	now := time.Now()
	dir, err := os.ReadDir("/proc")
	if err != nil {
		return runtime.Stats{}, fmt.Errorf("%w: %v", runtime.ErrNoStats, err)
	}
	st := runtime.Stats{Read: now}
	page := uint64(os.Getpagesize())
	found := false
	for _, e := range dir {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue // exited meanwhile
		}
		f, ok := statFields(b)
		if !ok || f.pgrp != pgid {
			continue
		}
		found = true
		st.CPUUser += (f.utime + f.cutime) * (1e9 / userHZ)
		st.CPUKernel += (f.stime + f.cstime) * (1e9 / userHZ)
		st.MemoryUsage += f.rss * page
		st.PIDs++
	}
	if !found {
		return runtime.Stats{}, runtime.ErrNotFound
	}
	st.CPUTotal = st.CPUUser + st.CPUKernel
	return st, nil
}

type procStat struct {
	pgrp                         int
	utime, stime, cutime, cstime uint64
	rss                          uint64 // pages
}

// statFields reads /proc/<pid>/stat: the fields after the command, which is
// in parentheses and may itself hold spaces and parentheses.
func statFields(b []byte) (procStat, bool) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return procStat{}, false
	}
	f := bytes.Fields(b[i+1:])
	// f[0] is field 3 (state) of proc(5): pgrp is field 5, utime..cstime
	// 14-17, rss 24.
	if len(f) < 22 {
		return procStat{}, false
	}
	n := func(k int) uint64 { v, _ := strconv.ParseUint(string(f[k]), 10, 64); return v }
	pgrp, err := strconv.Atoi(string(f[2]))
	if err != nil {
		return procStat{}, false
	}
	return procStat{pgrp: pgrp, utime: n(11), stime: n(12), cutime: n(13), cstime: n(14), rss: n(21)}, true
}
