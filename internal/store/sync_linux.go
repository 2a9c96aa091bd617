package store

import (
	"os"
	"syscall"
)

// fdatasync flushes f's data without its timestamps: the log is rewritten in
// place, so there is no size or block allocation for it to wait on either.
func fdatasync(f *os.File) error { return syscall.Fdatasync(int(f.Fd())) }
