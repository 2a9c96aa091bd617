// Command smtpsink is a tiny SMTP server for trying email subscriptions on a
// machine without a mail server: it accepts every message and writes each to
// DIR/NNNN.eml, the raw message as received (headers and body, dot-unstuffed).
//
//	smtpsink -listen 127.0.0.1:2525 -dir /tmp/mail
//
// Start wharf with --smtp-addr 127.0.0.1:2525 and SNS email subscribers'
// messages land in DIR. It speaks just enough SMTP (RFC 5321) for Go's
// net/smtp and the usual clients: HELO/EHLO, MAIL, RCPT, DATA, RSET, NOOP,
// QUIT; no authentication, no TLS.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:2525", "address to accept SMTP connections on")
	dir := flag.String("dir", "mail", "directory to write received messages to")
	flag.Parse()
	if err := os.MkdirAll(*dir, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, "smtpsink:", err)
		os.Exit(1)
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintln(os.Stderr, "smtpsink:", err)
		os.Exit(1)
	}
	fmt.Printf("smtpsink: listening on %s, writing to %s\n", ln.Addr(), *dir)
	s := &sink{dir: *dir}
	for {
		c, err := ln.Accept()
		if err != nil {
			fmt.Fprintln(os.Stderr, "smtpsink:", err)
			os.Exit(1)
		}
		go s.serve(c)
	}
}

type sink struct {
	dir string
	mu  sync.Mutex
	n   int
}

// save writes one message; the name is taken under the lock so concurrent
// sessions never share a file.
func (s *sink) save(from string, to []string, data string) {
	s.mu.Lock()
	s.n++
	name := filepath.Join(s.dir, fmt.Sprintf("%04d.eml", s.n))
	s.mu.Unlock()
	// Write then rename, so a reader polling the directory never sees half a
	// message.
	tmp := name + ".tmp"
	if err := os.WriteFile(tmp, []byte(data), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "smtpsink:", err)
		return
	}
	if err := os.Rename(tmp, name); err != nil {
		fmt.Fprintln(os.Stderr, "smtpsink:", err)
		return
	}
	fmt.Printf("smtpsink: %s from %s to %s\n", name, from, strings.Join(to, ", "))
}

func (s *sink) serve(c net.Conn) {
	defer c.Close()
	r := bufio.NewReader(c)
	w := bufio.NewWriter(c)
	reply := func(line string) {
		w.WriteString(line + "\r\n")
		w.Flush()
	}
	reply("220 smtpsink ready")
	var from string
	var to []string
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimRight(line, "\r\n")
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "HELO":
			reply("250 smtpsink")
		case "EHLO":
			reply("250-smtpsink")
			reply("250 8BITMIME")
		case "MAIL":
			from, to = address(arg), nil
			reply("250 OK")
		case "RCPT":
			to = append(to, address(arg))
			reply("250 OK")
		case "DATA":
			if len(to) == 0 {
				reply("503 RCPT first")
				continue
			}
			reply("354 end with <CRLF>.<CRLF>")
			var b strings.Builder
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if strings.TrimRight(l, "\r\n") == "." {
					break
				}
				b.WriteString(strings.TrimPrefix(l, ".")) // dot-unstuffing (RFC 5321 4.5.2)
			}
			s.save(from, to, b.String())
			from, to = "", nil
			reply("250 OK: queued")
		case "RSET":
			from, to = "", nil
			reply("250 OK")
		case "NOOP":
			reply("250 OK")
		case "QUIT":
			reply("221 bye")
			return
		default:
			reply("502 command not implemented")
		}
	}
}

// address returns the path of "FROM:<a@b>" or "TO:<a@b>".
func address(arg string) string {
	_, v, _ := strings.Cut(arg, ":")
	v = strings.TrimSpace(v)
	if i := strings.IndexByte(v, '>'); i >= 0 {
		v = v[:i+1]
	}
	return strings.Trim(v, "<>")
}
