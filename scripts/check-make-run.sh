#!/usr/bin/env bash
# Bring `make run` up on a fresh clone and check that it answers: health, and the demo sign-in.
#   scripts/check-make-run.sh [BRANCH]      (default: the current branch of this checkout)
# Clones this repository into a temporary directory, runs `make run` there in the background
# (a small demo history keeps it quick: LANDFLOW_DEMO_DOSSIERS), polls /api/v1/health until it
# answers, signs in as desk.haichau/demo (API and pages), then stops the server it started and removes the clone.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
BRANCH=${1:-$(git -C "$REPO" rev-parse --abbrev-ref HEAD)}
DIR=$(mktemp -d /tmp/landflow-run.XXXXXX)
LOG="$DIR/make-run.log"
PID=""
cleanup() {
  if [ -n "$PID" ]; then kill -- -"$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi
  rm -rf "$DIR"
}
trap cleanup EXIT

git clone -q --branch "$BRANCH" "$REPO" "$DIR/clone"
cd "$DIR/clone"
set -m
make run LANDFLOW_DEMO_DOSSIERS="${LANDFLOW_DEMO_DOSSIERS:-150}" >"$LOG" 2>&1 &
PID=$!
set +m
for _ in $(seq 1 600); do
  if curl -fsS http://127.0.0.1:8080/api/v1/health >"$DIR/health.json" 2>/dev/null; then break; fi
  if ! kill -0 "$PID" 2>/dev/null; then echo "make run exited early:"; tail -30 "$LOG"; exit 1; fi
  sleep 1
done
echo "health: $(cat "$DIR/health.json")"
grep -q '"status": *"ok"' "$DIR/health.json"
curl -fsS -X POST http://127.0.0.1:8080/api/v1/auth/token -H 'Content-Type: application/json' \
  -d '{"username": "desk.haichau", "password": "demo"}' >"$DIR/token.json"
grep -q '"token"' "$DIR/token.json" && grep -q '"unit": *"20242"' "$DIR/token.json"
echo "sign-in as desk.haichau: ok"
# the pages: Vietnamese from the committed catalog, sign-in through the form with its CSRF token
curl -fsS -c "$DIR/jar" http://127.0.0.1:8080/login >"$DIR/login.html"
grep -q "Đăng nhập landflow" "$DIR/login.html"
CSRF=$(sed -n 's/.*name="csrf_token" value="\([^"]*\)".*/\1/p' "$DIR/login.html" | head -1)
curl -fsS -b "$DIR/jar" -c "$DIR/jar" -o /dev/null -d "username=desk.haichau&password=demo&csrf_token=$CSRF" \
  http://127.0.0.1:8080/login
curl -fsS -b "$DIR/jar" http://127.0.0.1:8080/worklist | grep -q "Việc cần xử lý"
echo "pages: sign-in form and worklist in Vietnamese: ok"
grep -q "desk.haichau" "$LOG" && echo "the demo accounts were printed"
echo "make run on a fresh clone of $BRANCH: ok"
