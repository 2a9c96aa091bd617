package store

import (
	"errors"
	"os"
	"syscall"
)

// allocate gives f n bytes of disk blocks, so that they are taken from the
// disk now and handed back when f is deleted.
func allocate(f *os.File, n int64) error {
	err := syscall.Fallocate(int(f.Fd()), 0, 0, n)
	if errors.Is(err, syscall.EOPNOTSUPP) {
		return writeZeros(f, 0, n)
	}
	return err
}

// freeBytes is the space left for unprivileged writers on dir's disk.
func freeBytes(dir string) (int64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, err
	}
	return int64(st.Bavail) * int64(st.Bsize), nil
}
