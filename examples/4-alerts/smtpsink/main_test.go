package main

import (
	"net"
	"net/smtp"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// startSink serves SMTP on a loopback port until the test ends.
func startSink(t *testing.T) (addr, dir string) {
	t.Helper()
	dir = t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	s := &sink{dir: dir}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go s.serve(c)
		}
	}()
	return ln.Addr().String(), dir
}

func TestSinkSavesWhatNetSMTPSends(t *testing.T) {
	addr, dir := startSink(t)
	msg := "Subject: alert\r\n\r\nTask x stopped, exit 3\r\n.leading dot\r\n"
	if err := smtp.SendMail(addr, nil, "no-reply@sns.amazonaws.com", []string{"ops@example.com"}, []byte(msg)); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(dir, "0001.eml"))
	if err != nil {
		t.Fatal(err)
	}
	// net/smtp dot-stuffs ".leading dot"; the sink must undo it.
	if string(got) != msg {
		t.Fatalf("saved %q, want %q", got, msg)
	}
}

func TestSinkNumbersMessagesInOrder(t *testing.T) {
	addr, dir := startSink(t)
	for _, body := range []string{"one", "two"} {
		if err := smtp.SendMail(addr, nil, "a@b", []string{"c@d"}, []byte("\r\n"+body+"\r\n")); err != nil {
			t.Fatal(err)
		}
	}
	for name, want := range map[string]string{"0001.eml": "one", "0002.eml": "two"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || !strings.Contains(string(b), want) {
			t.Fatalf("%s = %q, %v; want it to hold %q", name, b, err, want)
		}
	}
}

func TestAddress(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"FROM:<a@b.c>", "a@b.c"},
		{"TO:<ops@example.com> NOTIFY=NEVER", "ops@example.com"},
		{"FROM: <x@y>", "x@y"},
		{"FROM:<>", ""},
		{"garbage", ""},
	} {
		if got := address(tc.in); got != tc.want {
			t.Errorf("address(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func FuzzAddress(f *testing.F) {
	for _, s := range []string{"FROM:<a@b>", "TO:<c@d> X=Y", ":", "<>", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := address(s)
		// Everything from the first '>' on is dropped, so none survives, and
		// the path is always a piece of the argument.
		if strings.Contains(got, ">") || !strings.Contains(s, got) {
			t.Fatalf("address(%q) = %q", s, got)
		}
	})
}
