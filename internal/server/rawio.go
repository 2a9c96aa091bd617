//go:build unix

package server

// The fast path reads requests and writes responses with raw read and
// write system calls on the connection's non-blocking descriptor, through
// its RawConn (which keeps the runtime's poller, deadlines and close): the
// calls never block, so the runtime's bookkeeping around a system call is
// not needed. With it, a write of a response to a loopback client (18 µs
// of kernel time, the client's receive included) outlasted sysmon's 20 µs
// tick while other goroutines waited for the P, and sysmon took the P
// away, woke another thread to run them and made the writer wait for a P
// again: 2,400 sysmon wakes a second at 3,600 SendMessages a second. On a
// quiet machine, 8 clients, five rounds each against the same main
// (bench/peers): CPU per operation 3-11% lower for every operation tried
// (SendMessage over query 0.120 -> 0.108 and 0.120 -> 0.117 ms, GetObject
// 0.124 -> 0.112, SendMessageBatch 0.197 -> 0.183, Publish 0.177 -> 0.166).

import (
	"io"
	"net"
	"syscall"
	"unsafe"
)

// rawConn returns the descriptor of c, a TCP connection the listener may
// have wrapped, or nil.
func rawConn(c net.Conn) syscall.RawConn {
	for {
		switch x := c.(type) {
		case *limitedConn:
			c = x.Conn
		case *net.TCPConn:
			rc, err := x.SyscallConn()
			if err != nil {
				return nil
			}
			return rc
		default:
			return nil
		}
	}
}

// rawRead reads into p as conn.Read does (io.EOF at the client's close,
// the deadline's and the close's errors), without the runtime's system
// call bookkeeping.
func rawRead(rc syscall.RawConn, p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	var n int
	var rerr error
	err := rc.Read(func(fd uintptr) bool {
		for {
			m, _, e := syscall.RawSyscall(syscall.SYS_READ, fd, uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
			switch e {
			case 0:
				n = int(m)
				if n == 0 {
					rerr = io.EOF
				}
				return true
			case syscall.EINTR:
				continue
			case syscall.EAGAIN:
				return false
			default:
				rerr = e
				return true
			}
		}
	})
	if err != nil {
		return 0, err
	}
	return n, rerr
}

// rawWrite writes all of p as conn.Write does, waiting in the poller while
// the socket's buffer is full, without the runtime's system call
// bookkeeping.
func rawWrite(rc syscall.RawConn, p []byte) (int, error) {
	var n int
	var werr error
	err := rc.Write(func(fd uintptr) bool {
		for n < len(p) {
			m, _, e := syscall.RawSyscall(syscall.SYS_WRITE, fd, uintptr(unsafe.Pointer(&p[n])), uintptr(len(p)-n))
			switch e {
			case 0:
				n += int(m)
			case syscall.EINTR:
			case syscall.EAGAIN:
				return false
			default:
				werr = e
				return true
			}
		}
		return true
	})
	if err == nil {
		err = werr
	}
	return n, err
}
