package app

import (
	"context"
	"fmt"
	"time"

	"github.com/wharf-dev/wharf/internal/runtime"
)

// pendingRunner is the task runtime while wharf's default choice (Docker when
// an engine answers, host processes otherwise) is still being made. Asking
// Docker's engine takes milliseconds, up to seconds for an engine slow to
// answer, and only ECS needs the answer: wharf serves meanwhile, and each call
// on the runtime waits for the choice (which never fails: without an engine it
// is the process runtime). Both runtimes the default can choose read
// statistics, so pendingRunner is a runtime.StatsReader too, as each is.
type pendingRunner struct {
	done chan struct{}
	r    runtime.Runner // set before done is closed
}

var _ runtime.StatsReader = (*pendingRunner)(nil)

// choose makes the choice in the background, with chooseRunner.
func choose(chooseRunner func() runtime.Runner) *pendingRunner {
	p := &pendingRunner{done: make(chan struct{})}
	go func() {
		p.r = chooseRunner()
		close(p.done)
	}()
	return p
}

// chosen waits for the choice and returns the runtime chosen.
func (p *pendingRunner) chosen() runtime.Runner {
	<-p.done
	return p.r
}

// wait waits for the choice, or for ctx to end.
func (p *pendingRunner) wait(ctx context.Context) (runtime.Runner, error) {
	select {
	case <-p.done:
		return p.r, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// chosenRunner is r, or the runtime a pendingRunner r has chosen once it has.
func chosenRunner(r runtime.Runner) runtime.Runner {
	if p, ok := r.(*pendingRunner); ok {
		return p.chosen()
	}
	return r
}

func (p *pendingRunner) Name() string { return p.chosen().Name() }

func (p *pendingRunner) Start(ctx context.Context, spec runtime.Spec) (string, error) {
	r, err := p.wait(ctx)
	if err != nil {
		return "", err
	}
	return r.Start(ctx, spec)
}

func (p *pendingRunner) Stop(ctx context.Context, id string, timeout time.Duration) error {
	r, err := p.wait(ctx)
	if err != nil {
		return err
	}
	return r.Stop(ctx, id, timeout)
}

func (p *pendingRunner) Wait(ctx context.Context, id string) (runtime.State, error) {
	r, err := p.wait(ctx)
	if err != nil {
		return runtime.State{}, err
	}
	return r.Wait(ctx, id)
}

func (p *pendingRunner) Logs(ctx context.Context, id string, fn func(runtime.Line)) error {
	r, err := p.wait(ctx)
	if err != nil {
		return err
	}
	return r.Logs(ctx, id, fn)
}

func (p *pendingRunner) Inspect(ctx context.Context, id string) (runtime.State, error) {
	r, err := p.wait(ctx)
	if err != nil {
		return runtime.State{}, err
	}
	return r.Inspect(ctx, id)
}

func (p *pendingRunner) List(ctx context.Context, key, value string) ([]runtime.State, error) {
	r, err := p.wait(ctx)
	if err != nil {
		return nil, err
	}
	return r.List(ctx, key, value)
}

func (p *pendingRunner) Remove(ctx context.Context, id string) error {
	r, err := p.wait(ctx)
	if err != nil {
		return err
	}
	return r.Remove(ctx, id)
}

func (p *pendingRunner) Stats(ctx context.Context, id string) (runtime.Stats, error) {
	r, err := p.wait(ctx)
	if err != nil {
		return runtime.Stats{}, err
	}
	sr, ok := r.(runtime.StatsReader)
	if !ok { // not so for either runtime the default chooses
		return runtime.Stats{}, fmt.Errorf("%s: %w", r.Name(), runtime.ErrNoStats)
	}
	return sr.Stats(ctx, id)
}
