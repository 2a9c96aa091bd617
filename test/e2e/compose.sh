#!/usr/bin/env bash
# compose.yaml as documented: `docker compose up -d --build` builds the image
# from the static binary, starts wharf on the Docker runtime through the
# mounted socket (WHARF_RUNTIME=docker refuses to start when the socket does
# not answer, so a healthy wharf proves it does), serves the aws CLI, and keeps
# its state in the volume across `down` and `up`. Needs Docker and Compose
# (the `docker compose` plugin or docker-compose); without them the test
# fails, it never skips.
source "$(dirname "$0")/lib.sh"

if docker compose version >/dev/null 2>&1; then
  compose=(docker compose)
elif command -v docker-compose >/dev/null 2>&1; then
  compose=(docker-compose)
else
  fail "neither 'docker compose' nor docker-compose is installed (.ci/run installs Debian's docker-compose)"
fi
docker info >/dev/null 2>&1 || fail "no Docker engine answers"

# The image holds ./wharf, a static binary (gitignored), built for it here.
built_here=""
[ -e wharf ] || built_here=1
CGO_ENABLED=0 go build -trimpath -ldflags=-s -o wharf ./cmd/wharf
port=$(free_port)
endpoint="http://127.0.0.1:$port"
project="wharf-e2e-$$"
dc() { WHARF_PORT=$port WHARF_IMAGE=wharf-e2e:$$ "${compose[@]}" -p "$project" -f compose.yaml "$@"; }
on_exit 'dc down -v --rmi all >/dev/null 2>&1; [ -n "$built_here" ] && rm -f wharf'

healthy() {
  for _ in $(seq 300); do
    curl -fs "$endpoint/_wharf/health" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  fail "wharf under compose did not answer on $endpoint: $(dc logs --no-color 2>&1 | tail -20)"
}

export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1 AWS_PAGER=""
if [ -x /usr/bin/aws ]; then cli=/usr/bin/aws; else cli=aws; fi
aws() { "$cli" --endpoint-url "$endpoint" --output text "$@"; }

dc up -d --build >"$tmp/up.log" 2>&1 || fail "compose up: $(tail -20 "$tmp/up.log")"
healthy
dc logs --no-color 2>&1 | grep -q 'runtime=docker' || fail "wharf under compose is not on the docker runtime: $(dc logs --no-color 2>&1 | tail -10)"
aws s3 mb s3://kept-in-the-volume >/dev/null
echo "hello" | aws s3 cp - s3://kept-in-the-volume/greeting >/dev/null
echo "  compose up: wharf on the docker runtime through the socket, serving on $endpoint"

dc down >"$tmp/down.log" 2>&1 || fail "compose down: $(tail -20 "$tmp/down.log")"
dc up -d >"$tmp/up2.log" 2>&1 || fail "compose up again: $(tail -20 "$tmp/up2.log")"
healthy
got=$(aws s3 cp s3://kept-in-the-volume/greeting -) || fail "after down and up the object is gone"
[ "$got" = hello ] || fail "after down and up the object reads $got"
echo "  compose down and up: the bucket and its object kept in the wharf-data volume"
echo "compose: ok"
