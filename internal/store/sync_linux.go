package store

import (
	"os"
	"syscall"
)

// fdatasync flushes f's data without its timestamps: the log is rewritten in
// place, so there is no size or block allocation for it to wait on either.
func fdatasync(f *os.File) error { return syscall.Fdatasync(int(f.Fd())) }

// openDirect opens path a second time for direct, synchronous writes
// (O_DIRECT|O_DSYNC), or returns nil where the file system refuses them.
func openDirect(path string) *os.File {
	f, err := os.OpenFile(path, os.O_WRONLY|syscall.O_DIRECT|syscall.O_DSYNC, 0)
	if err != nil {
		return nil
	}
	return f
}
