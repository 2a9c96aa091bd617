//go:build !unix

package server

import (
	"net"
	"syscall"
)

// rawConn returns nil: the fast path reads and writes through the
// connection itself here.
func rawConn(net.Conn) syscall.RawConn { return nil }

func rawRead(syscall.RawConn, []byte) (int, error)  { panic("unreachable") }
func rawWrite(syscall.RawConn, []byte) (int, error) { panic("unreachable") }
