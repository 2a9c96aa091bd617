//go:build !linux

package store

import "os"

// allocate gives f n bytes of disk blocks by writing zeros.
func allocate(f *os.File, n int64) error { return writeZeros(f, 0, n) }

// freeBytes does not know the free space here: the probe then tries to
// make the reserve again every time.
func freeBytes(dir string) (int64, error) { return 1 << 62, nil }
