//go:build unix

package server

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"
)

// tcpPair returns both ends of a loopback TCP connection: the server's as
// the listener gives it (wrapped as limitPerClient wraps it), and the client's.
func tcpPair(t *testing.T) (server net.Conn, client net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	lim := limitPerClient(ln, 4)
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := lim.Accept()
		if err != nil {
			accepted <- nil
			return
		}
		accepted <- c
	}()
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server = <-accepted
	if server == nil {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { server.Close(); client.Close() })
	return server, client
}

func TestRawReadAndWriteCarryTheBytesAndTheEnd(t *testing.T) {
	srv, cli := tcpPair(t)
	rc := rawConn(srv)
	if rc == nil {
		t.Fatal("no descriptor behind the listener's connection")
	}
	// A write larger than the socket's buffers: it waits for the reader.
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<18) // 4 MiB
	got := make(chan []byte, 1)
	go func() {
		b, _ := io.ReadAll(io.LimitReader(cli, int64(len(big))))
		got <- b
	}()
	if n, err := rawWrite(rc, big); n != len(big) || err != nil {
		t.Fatalf("rawWrite = %d, %v", n, err)
	}
	if b := <-got; !bytes.Equal(b, big) {
		t.Fatalf("the client read %d bytes, not the %d written", len(b), len(big))
	}
	// A read that waits for the bytes, then the client's close as io.EOF.
	go func() {
		time.Sleep(20 * time.Millisecond)
		cli.Write([]byte("hello"))
		cli.Close()
	}()
	buf := make([]byte, 64)
	var in []byte
	for {
		n, err := rawRead(rc, buf)
		in = append(in, buf[:n]...)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("rawRead: %v", err)
		}
	}
	if string(in) != "hello" {
		t.Fatalf("read %q, want hello", in)
	}
}

func TestRawReadKeepsTheDeadlineAndTheClose(t *testing.T) {
	srv, _ := tcpPair(t)
	rc := rawConn(srv)
	srv.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	if _, err := rawRead(rc, make([]byte, 8)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("rawRead past its deadline: %v, want os.ErrDeadlineExceeded", err)
	}
	srv.SetReadDeadline(time.Time{})
	done := make(chan error, 1)
	go func() {
		_, err := rawRead(rc, make([]byte, 8))
		done <- err
	}()
	time.Sleep(20 * time.Millisecond)
	srv.Close() // as shutdown closes an idle connection
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("rawRead on a closed connection returned no error")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("rawRead waiting on a connection closed under it did not return")
	}
	if _, err := rawWrite(rc, []byte("x")); err == nil {
		t.Fatal("rawWrite on a closed connection returned no error")
	}
}
