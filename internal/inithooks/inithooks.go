// Package inithooks runs a directory's *.sh files once wharf is ready: the
// resources a project always needs (a bucket, a queue, a table) are created
// by the scripts a team already has, with the aws CLI or an SDK pointed at
// wharf through AWS_ENDPOINT_URL.
//
// Hooks run one at a time in name order. A hook that succeeds is recorded in
// the store, so a restart on the same data directory does not run it again
// (an ephemeral wharf starts empty, so it runs them all every time). A hook
// that fails is not recorded and the hooks after it are not run: they may
// depend on it, and the next start tries again from the failed one.
package inithooks

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/wharf-dev/wharf/internal/store"
)

// ranPrefix keys the record of each hook that has succeeded, by file name.
const ranPrefix = "init/ran/"

// maxOutput is how much of a failed hook's output is logged.
const maxOutput = 4096

// Hooks is a directory of init hooks.
type Hooks struct {
	Dir string
	// Env is the hooks' environment: wharf's own, plus the endpoint,
	// region and credentials to reach it.
	Env   []string
	Store store.Store
	Log   *slog.Logger
}

// Result is what Run did with one hook.
type Result struct {
	Name    string
	Skipped bool // it had run at an earlier start
	Err     error
}

// List returns the directory's hooks (regular *.sh files) in name order.
func List(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("init hooks: %w", err)
	}
	var names []string
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".sh") && e.Type().IsRegular() {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	return names, nil
}

// Run runs every hook that has not run before, in name order, until one
// fails or ctx ends, and logs each result.
func (h Hooks) Run(ctx context.Context) []Result {
	names, err := List(h.Dir)
	if err != nil {
		h.Log.Error("init hooks: not run", "dir", h.Dir, "err", err)
		return nil
	}
	var results []Result
	for _, name := range names {
		ran, err := h.ran(name)
		if err != nil {
			h.Log.Error("init hooks: cannot read which hooks have run; stopping", "err", err)
			return append(results, Result{Name: name, Err: err})
		}
		if ran {
			h.Log.Info("init hook already ran at an earlier start; skipped", "hook", name)
			results = append(results, Result{Name: name, Skipped: true})
			continue
		}
		start := time.Now()
		out, err := h.exec(ctx, name)
		if err != nil {
			h.Log.Error("init hook failed; later hooks not run, and it runs again at the next start",
				"hook", name, "err", err, "output", tail(out))
			return append(results, Result{Name: name, Err: err})
		}
		if err := h.Store.Update(func(tx store.Tx) error {
			return tx.Put([]byte(ranPrefix+name), []byte(time.Now().UTC().Format(time.RFC3339)))
		}); err != nil {
			h.Log.Error("init hook ran but could not be recorded; it will run again at the next start", "hook", name, "err", err)
			return append(results, Result{Name: name, Err: err})
		}
		h.Log.Info("init hook ran", "hook", name, "ms", time.Since(start).Milliseconds(), "output", tail(out))
		results = append(results, Result{Name: name})
	}
	return results
}

func (h Hooks) ran(name string) (bool, error) {
	var ran bool
	err := h.Store.View(func(tx store.Tx) error {
		v, err := tx.Get([]byte(ranPrefix + name))
		ran = v != nil
		return err
	})
	return ran, err
}

// exec runs one hook: executable files as they are (their #! line picks the
// interpreter), others with sh, in the hooks' directory.
func (h Hooks) exec(ctx context.Context, name string) ([]byte, error) {
	path := filepath.Join(h.Dir, name)
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	var cmd *exec.Cmd
	if fi.Mode()&0o111 != 0 {
		cmd = exec.CommandContext(ctx, path)
	} else {
		cmd = exec.CommandContext(ctx, "sh", path)
	}
	cmd.Dir = h.Dir
	cmd.Env = h.Env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		err = fmt.Errorf("exit status %d", ee.ExitCode())
	}
	return out.Bytes(), err
}

// tail is the end of a hook's output, for the log.
func tail(out []byte) string {
	s := strings.TrimSpace(string(out))
	if len(s) > maxOutput {
		s = "…" + s[len(s)-maxOutput:]
	}
	return s
}
