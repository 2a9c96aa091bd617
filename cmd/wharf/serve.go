package main

import (
	"context"
	"io"
	"time"

	"github.com/wharf-dev/wharf/internal/app"
	"github.com/wharf-dev/wharf/internal/config"
)

// serve runs wharf until ctx is cancelled (SIGINT/SIGTERM), then shuts down
// gracefully: in-flight requests finish and the store is closed cleanly.
func serve(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	start := time.Now()
	cfg, err := config.Parse(args, getenv, stderr)
	if err != nil {
		return err
	}
	level, _ := cfg.Level()
	log := newLogger(stderr, cfg.LogFormat, level)
	w, err := app.Start(ctx, cfg, log, versionString())
	if err != nil {
		return err
	}
	log.Info("wharf ready",
		"listen", w.Addr(),
		"endpoint", "http://"+w.Addr(),
		"storage", w.StorageDescription(),
		"services", len(w.ServiceIDs()),
		"auth", cfg.Auth,
		"iam", cfg.IAM,
		"runtime", w.Runtime(),
		"version", versionString(),
		"startup_ms", time.Since(start).Milliseconds())
	err = w.Wait()
	log.Info("wharf stopped")
	return err
}
