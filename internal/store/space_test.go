package store

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// mountTmpfs mounts a tmpfs of the given size (mount's syntax: "16m") on a
// new directory, unmounted when the test ends. It needs root: outside CI a
// test that cannot mount is skipped, in CI (CI=true, which .ci/run sets,
// and CI runs as root) it fails.
func mountTmpfs(t *testing.T, size string) string {
	t.Helper()
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size+",mode=0700", "tmpfs", dir).CombinedOutput(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("mount a tmpfs for the full-disk test: %v: %s", err, out)
		}
		t.Skipf("cannot mount a tmpfs (root is needed): %v: %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount: %v: %s", err, out)
		}
	})
	return dir
}

// fillDisk writes to path until the disk it is on is full.
func fillDisk(t *testing.T, path string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 64<<10)
	for {
		if _, err := f.Write(buf); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatal(err)
			}
			return
		}
	}
}

func TestFullDiskDegradesServesReadsAndDeletesAndRecovers(t *testing.T) {
	defer func(r int64, p time.Duration) { reserveSize, probeInterval = r, p }(reserveSize, probeInterval)
	reserveSize, probeInterval = 1<<20, 10*time.Millisecond
	mnt := mountTmpfs(t, "12m")
	dir := filepath.Join(mnt, "store")
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { s.Close() }()
	if _, err := os.Stat(filepath.Join(dir, reserveFile)); err != nil {
		t.Fatalf("no reserve: %v", err)
	}
	put := func(key string, val []byte) error {
		return s.Update(func(tx Tx) error { return tx.Put([]byte(key), val) })
	}
	want := map[string][]byte{}
	for i := range 100 {
		k, v := fmt.Sprintf("keep/%03d", i), bytes.Repeat([]byte{byte(i)}, 1000)
		if err := put(k, v); err != nil {
			t.Fatal(err)
		}
		want[k] = v
	}
	fillDisk(t, filepath.Join(mnt, "filler"))

	// Writes that add data go on until the disk's fullness is found, and
	// then fail with ErrNoSpace; every acknowledged one stays.
	var refused error
	for i := 0; i < 10000 && refused == nil; i++ {
		k, v := fmt.Sprintf("grow/%05d", i), bytes.Repeat([]byte{byte(i)}, 4000)
		if refused = put(k, v); refused == nil {
			want[k] = v
		}
	}
	if !errors.Is(refused, ErrNoSpace) || !IsNoSpace(refused) {
		t.Fatalf("a write on a full disk failed with %v, want ErrNoSpace", refused)
	}
	sp := s.(Space)
	if err := sp.Degraded(); !errors.Is(err, ErrNoSpace) {
		t.Fatalf("Degraded() = %v, want ErrNoSpace", err)
	}
	if err := put("new", []byte("x")); !errors.Is(err, ErrNoSpace) {
		t.Fatalf("a new key while degraded: %v, want ErrNoSpace", err)
	}
	check := func(s Store) {
		t.Helper()
		err := s.View(func(tx Tx) error {
			for k, v := range want {
				got, err := tx.Get([]byte(k))
				if err != nil {
					return err
				}
				if !bytes.Equal(got, v) {
					return fmt.Errorf("%s: %d bytes, want %d", k, len(got), len(v))
				}
			}
			n := 0
			err := tx.Scan(nil, nil, func(k, v []byte) (bool, error) { n++; return true, nil })
			if err == nil && n != len(want) {
				err = fmt.Errorf("%d keys, want %d", n, len(want))
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	check(s)

	// Deletes, and rewrites that do not grow, are served.
	for i := range 50 {
		k := fmt.Sprintf("keep/%03d", i)
		if err := s.Update(func(tx Tx) error { return tx.Delete([]byte(k)) }); err != nil {
			t.Fatalf("delete on a full disk: %v", err)
		}
		delete(want, k)
	}
	v := bytes.Repeat([]byte("r"), 1000)
	if err := put("keep/077", v); err != nil {
		t.Fatalf("a rewrite in place on a full disk: %v", err)
	}
	want["keep/077"] = v
	check(s)

	// Take the space the reserve gave back too, then restart: Close
	// succeeds (what it cannot checkpoint stays in the log), and Open
	// succeeds degraded, with every write.
	fillDisk(t, filepath.Join(mnt, "filler2"))
	if err := s.Close(); err != nil {
		t.Fatalf("Close on a full disk: %v", err)
	}
	if s, err = Open(dir); err != nil {
		t.Fatalf("Open on a full disk: %v", err)
	}
	check(s)
	if err := s.(Space).Degraded(); !errors.Is(err, ErrNoSpace) {
		t.Fatalf("reopened on a full disk: Degraded() = %v, want ErrNoSpace", err)
	}
	if err := put("new", []byte("x")); !errors.Is(err, ErrNoSpace) {
		t.Fatalf("a new key while degraded after a restart: %v, want ErrNoSpace", err)
	}
	if err := s.Update(func(tx Tx) error { return tx.Delete([]byte("keep/099")) }); err != nil {
		t.Fatalf("delete after a restart on a full disk: %v", err)
	}
	delete(want, "keep/099")

	// Space comes back: the store takes writes again by itself.
	os.Remove(filepath.Join(mnt, "filler"))
	os.Remove(filepath.Join(mnt, "filler2"))
	for deadline := time.Now().Add(20 * time.Second); s.(Space).Degraded() != nil; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("still degraded with space free: %v", s.(Space).Degraded())
		}
	}
	if err := put("new", []byte("x")); err != nil {
		t.Fatalf("a write after space returned: %v", err)
	}
	want["new"] = []byte("x")
	if _, err := os.Stat(filepath.Join(dir, reserveFile)); err != nil {
		t.Fatalf("reserve not made again: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if s, err = Open(dir); err != nil {
		t.Fatal(err)
	}
	check(s)
}
