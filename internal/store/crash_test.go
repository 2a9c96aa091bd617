package store

import (
	"bufio"
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// crashDirEnv tells a re-executed test binary to act as the crash child,
// writing to the store in the directory it names.
const crashDirEnv = "WHARF_STORE_CRASH_DIR"

// crashSegmentEnv sets the child's log segment size, and crashHookEnv makes
// it print "ckpt <stage>" at each stage of a checkpoint and pause there.
const (
	crashSegmentEnv = "WHARF_STORE_CRASH_SEGMENT"
	crashHookEnv    = "WHARF_STORE_CRASH_HOOK"
)

// crashValue is the value the child writes for key: it varies in length so
// that the writes split and merge bbolt's pages.
func crashValue(key string, seq int) []byte {
	return []byte(key + ":" + strings.Repeat("x", seq%700))
}

// TestCrashChild is not a test on its own: run by TestAcknowledgedWritesSurviveSIGKILL
// in a child process, it writes until killed, printing "ack <writer> <seq>"
// only after the Update that wrote the keys returned nil.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv(crashDirEnv)
	if dir == "" {
		t.Skip("helper for TestAcknowledgedWritesSurviveSIGKILL")
	}
	round := os.Getenv("WHARF_STORE_CRASH_ROUND")
	var out sync.Mutex
	if n, err := strconv.ParseInt(os.Getenv(crashSegmentEnv), 10, 64); err == nil {
		walSegmentSize = n // small segments: a checkpoint every few dozen Updates
	}
	if os.Getenv(crashHookEnv) != "" {
		checkpointHook = func(stage string) {
			out.Lock()
			fmt.Printf("ckpt %s\n", stage)
			out.Unlock()
			// Give the parent time to kill us right here.
			time.Sleep(30 * time.Millisecond)
		}
	}
	s, err := Open(dir)
	if err != nil {
		fmt.Println("open:", err)
		os.Exit(2)
	}
	var wg sync.WaitGroup
	// Bounded, in case the parent dies and nobody kills us.
	deadline := time.Now().Add(30 * time.Second)
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for seq := 0; time.Now().Before(deadline); seq++ {
				key := fmt.Sprintf("r%s/w%d/%06d", round, w, seq)
				err := s.Update(func(tx Tx) error {
					// Two keys and a counter in one Update: after the crash
					// all three are there or none is.
					if err := tx.Put([]byte(key), crashValue(key, seq)); err != nil {
						return err
					}
					if err := tx.Put([]byte(key+"/pair"), []byte(key)); err != nil {
						return err
					}
					// A queue's head: each Update puts the next and deletes
					// the previous, which the overlay, the frozen overlay or
					// bbolt holds, depending on the checkpoints between.
					if err := tx.Put(fmt.Appendf(nil, "q/r%s/w%d/%06d", round, w, seq), []byte(key)); err != nil {
						return err
					}
					if seq > 0 {
						if err := tx.Delete(fmt.Appendf(nil, "q/r%s/w%d/%06d", round, w, seq-1)); err != nil {
							return err
						}
					}
					return tx.Put(fmt.Appendf(nil, "ctr/r%s/w%d", round, w), []byte(strconv.Itoa(seq)))
				})
				if err != nil {
					fmt.Println("update:", err)
					os.Exit(2)
				}
				out.Lock()
				fmt.Printf("ack %d %d\n", w, seq) // one write(2): a line is whole or absent
				out.Unlock()
			}
		}()
	}
	wg.Wait()
	os.Exit(3) // never killed
}

func TestAcknowledgedWritesSurviveSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("execs child processes")
	}
	dir := t.TempDir()
	type ack struct{ round, writer, seq int }
	var acked []ack
	// Kill after different numbers of acknowledgements, so the kill lands at
	// different points of the file's growth and of a group commit; with
	// small log segments, so that it also lands in and between checkpoints;
	// and at each stage of a checkpoint.
	type round struct {
		killAfter int    // acknowledgements
		segment   int64  // log segment size; 0: the default
		killAt    string // checkpoint stage to kill at instead
	}
	rounds := []round{{killAfter: 1}, {killAfter: 40}, {killAfter: 150}, {killAfter: 400}, {killAfter: 1000}}
	for _, stage := range []string{"begin", "applied", "recycled"} {
		rounds = append(rounds, round{segment: 16 << 10, killAt: stage})
	}
	seed := time.Now().UnixNano()
	t.Logf("random kill points from seed %d", seed)
	rnd := rand.New(rand.NewPCG(uint64(seed), 0))
	for range 6 {
		rounds = append(rounds, round{killAfter: 1 + rnd.IntN(800), segment: 16 << 10})
	}
	for round, rd := range rounds {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), crashDirEnv+"="+dir, fmt.Sprintf("WHARF_STORE_CRASH_ROUND=%d", round))
		if rd.segment > 0 {
			cmd.Env = append(cmd.Env, fmt.Sprintf("%s=%d", crashSegmentEnv, rd.segment))
		}
		if rd.killAt != "" {
			cmd.Env = append(cmd.Env, crashHookEnv+"=1")
		}
		cmd.Stderr = os.Stderr
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := bufio.NewScanner(stdout)
		n, killed := 0, false
		for lines.Scan() {
			if stage, ok := strings.CutPrefix(lines.Text(), "ckpt "); ok {
				// The second checkpoint, so that the first's segment is
				// being recycled too.
				if stage == rd.killAt && !killed {
					if rd.killAfter++; rd.killAfter == 2 {
						cmd.Process.Kill()
						killed = true
					}
				}
				continue
			}
			var a ack
			if _, err := fmt.Sscanf(lines.Text(), "ack %d %d", &a.writer, &a.seq); err != nil {
				t.Errorf("round %d: child said %q", round, lines.Text())
				continue
			}
			a.round = round
			acked = append(acked, a)
			if n++; n == rd.killAfter && rd.killAt == "" {
				cmd.Process.Kill() // SIGKILL: no deferred code, no Close
				killed = true
			}
			// Keep reading: lines already in the pipe were acknowledged too.
		}
		t.Logf("round %d %+v: %d acks", round, rd, n)
		err = cmd.Wait()
		if !killed {
			t.Fatalf("round %d: child exited (%v) after %d acknowledgements, before the kill", round, err, n)
		}

		s, err := Open(dir)
		if err != nil {
			t.Fatalf("round %d: reopen after SIGKILL: %v", round, err)
		}
		missing := 0
		err = s.View(func(tx Tx) error {
			for _, a := range acked {
				key := fmt.Sprintf("r%d/w%d/%06d", a.round, a.writer, a.seq)
				v, err := tx.Get([]byte(key))
				if err != nil {
					return err
				}
				pair, _ := tx.Get([]byte(key + "/pair"))
				ctr, _ := tx.Get(fmt.Appendf(nil, "ctr/r%d/w%d", a.round, a.writer))
				last, _ := strconv.Atoi(string(ctr))
				if !bytes.Equal(v, crashValue(key, a.seq)) || string(pair) != key || last < a.seq {
					if missing++; missing <= 5 {
						t.Errorf("round %d: acknowledged %s lost: value %d bytes, pair %q, counter %d", round, key, len(v), pair, last)
					}
				}
			}
			// Each writer's queue holds one key, no older than its last
			// acknowledged Update's: every acknowledged delete held.
			last := map[string]int{}
			for _, a := range acked {
				w := fmt.Sprintf("q/r%d/w%d/", a.round, a.writer)
				last[w] = max(last[w], a.seq)
			}
			for w, seq := range last {
				var heads []string
				err := tx.Scan([]byte(w), nil, func(k, _ []byte) (bool, error) {
					heads = append(heads, string(k))
					return true, nil
				})
				if err != nil {
					return err
				}
				if len(heads) != 1 || heads[0] < fmt.Sprintf("%s%06d", w, seq) {
					t.Errorf("round %d: queue %s holds %v, want one key, at least %06d", round, w, heads, seq)
				}
			}
			// Atomicity of unacknowledged Updates too: no key without its pair.
			return tx.Scan([]byte("r"), nil, func(k, v []byte) (bool, error) {
				if !bytes.HasSuffix(k, []byte("/pair")) {
					if p, _ := tx.Get(append(bytes.Clone(k), "/pair"...)); p == nil {
						t.Errorf("round %d: %s committed without its pair", round, k)
					}
				}
				return true, nil
			})
		})
		if err != nil {
			t.Fatal(err)
		}
		if missing > 0 {
			t.Fatalf("round %d: %d of %d acknowledged writes lost", round, missing, len(acked))
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("%d acknowledged Updates over %d SIGKILLs, all present after reopen", len(acked), len(rounds))
}
