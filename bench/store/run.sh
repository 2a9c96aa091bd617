#!/bin/sh
# Reproduces the engine comparison in docs/decisions/0001-store-engine.md:
# one binary per engine (build tags), each run in a fresh process on a fresh
# directory, so sizes and RSS are that engine's alone. About 30 seconds.
set -eu
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for tag in none bolt pebble pebble2; do
	go build -tags "$tag" -ldflags=-s -o "$tmp/sb-$tag" .
done
base=$(stat -c %s "$tmp/sb-none")
for tag in bolt pebble pebble2; do
	echo "$tag: binary size added (stripped): $(( ($(stat -c %s "$tmp/sb-$tag") - base) / 1024 )) KiB"
done
"$tmp/sb-none" -engine none 2>/dev/null | head -1 || true
for run in bolt:bolt bolt:bolt-batch bolt:bolt-group bolt:bolt-group-nofl pebble:pebble pebble2:pebble2; do
	rm -rf "$tmp/data"
	mkdir "$tmp/data"
	"$tmp/sb-${run%%:*}" -engine "${run##*:}" -dir "$tmp/data" -d "${DURATION:-2s}" 2>/dev/null
	echo
done
