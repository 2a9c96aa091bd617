// Command wharf runs AWS's event-driven container architectures on your own
// machine: one binary, one port, the aws CLI and every SDK talk to it as to AWS.
//
//	wharf serve [flags]   serve every service (wharf serve --help lists the flags)
//	wharf reset           empty a running wharf (every service, or --service NAME)
//	wharf clock           show, advance or set a running wharf's clock
//	wharf version         print the version
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=v1.2.3"; otherwise
// it comes from the module's build info.
var version = ""

func main() {
	os.Exit(run(os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

func run(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	switch args[0] {
	case "serve":
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		err := serve(ctx, args[1:], getenv, stderr)
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		if err != nil {
			fmt.Fprintln(stderr, "wharf:", err)
			return 1
		}
		return 0
	case "reset":
		return resetCmd(args[1:], getenv, stdout, stderr)
	case "clock":
		return clockCmd(args[1:], getenv, stdout, stderr)
	case "version", "--version", "-v":
		fmt.Fprintln(stdout, "wharf", versionString())
		return 0
	case "help", "--help", "-h":
		usage(stdout)
		return 0
	default:
		fmt.Fprintf(stderr, "wharf: unknown command %q\n\n", args[0])
		usage(stderr)
		return 2
	}
}

func usage(w io.Writer) {
	fmt.Fprint(w, `wharf runs AWS's event-driven container architectures on your machine.

Usage:
  wharf serve [flags]   serve every service on one port (see wharf serve --help)
  wharf reset [--service NAME] [--endpoint URL]
                        stop a running wharf's tasks and empty its state
  wharf clock [advance DURATION | set TIME] [--endpoint URL]
                        show or move a running wharf's clock (it only moves forward)
  wharf version         print the version
`)
}

func versionString() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

func newLogger(w io.Writer, format string, level slog.Level) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
