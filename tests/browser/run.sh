#!/usr/bin/env bash
# Real-browser tests of Lianzheng's public pages: builds the demo city (small) into a temporary
# SQLite database, serves it on a free local port and drives Debian's Chromium through
# playwright-core with node's built-in test runner. Screenshots go to docs/screenshots/.
# Run from anywhere: bash tests/browser/run.sh. Exits non-zero on any failure; every wait is bounded.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
START=$SECONDS

echo "-- browser and fonts"
if [ ! -x /usr/bin/chromium ] || ! dpkg -s fonts-noto-cjk >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  timeout 900 apt-get update
  timeout 900 apt-get install -y --no-install-recommends chromium fonts-noto-cjk
fi
/usr/bin/chromium --version 2>/dev/null
node --version

echo "-- playwright-core"
(cd tests/browser && timeout 300 npm ci --no-audit --no-fund)

echo "-- build"
cargo build -p lianzheng
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/debug/lianzheng"

TMP=$(mktemp -d)
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "-- demo city (small)"
export LIANZHENG_LOG_KEY_FILE="$TMP/log.key"
# A fixed last day, so that the city is the same whatever the date; the tests are told it.
DEMO_UNTIL=2026-11-20
timeout 600 "$BIN" demo --scale small --no-serve --db "sqlite://$TMP/demo.db" --until "$DEMO_UNTIL" \
  >"$TMP/demo.out" 2>"$TMP/demo.err" || { cat "$TMP/demo.out"; tail -20 "$TMP/demo.err"; exit 1; }
SUMMARY=$(grep 'try the public case query: case number ' "$TMP/demo.out" || true)
CASE_NO=$(sed -n 's/.*try the public case query: case number \([^, ]*\), query code \([^ ]*\).*/\1/p' <<<"$SUMMARY")
QUERY_CODE=$(sed -n 's/.*try the public case query: case number \([^, ]*\), query code \([^ ]*\).*/\2/p' <<<"$SUMMARY")
if [ -z "$CASE_NO" ] || [ -z "$QUERY_CODE" ]; then
  echo "the demo's summary names no case to query:"; cat "$TMP/demo.out"; exit 1
fi
grep -m1 '^demo city' "$TMP/demo.out" || true
echo "case $CASE_NO, query code $QUERY_CODE"

echo "-- console users"
# A window clerk of the market-regulation department, a supervisor and an administrator, for
# the console tests.
printf 'clerk-pass-123\n' | "$BIN" user add --db "sqlite://$TMP/demo.db" --username scjg-clerk --name 窗口甲 --role clerk --department SCJG >/dev/null
printf 'supervisor-pass-1\n' | "$BIN" user add --db "sqlite://$TMP/demo.db" --username jcj --name 监察员乙 --role supervisor >/dev/null
printf 'admin-pass-123\n' | "$BIN" user add --db "sqlite://$TMP/demo.db" --username admin --name 管理员丙 --role admin >/dev/null

echo "-- serve"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
BASE_URL="http://127.0.0.1:$PORT"
"$BIN" serve --db "sqlite://$TMP/demo.db" --listen "127.0.0.1:$PORT" >"$TMP/serve.log" 2>&1 &
SERVER_PID=$!
ready=""
for _ in $(seq 1 60); do
  if curl -fsS --max-time 2 "$BASE_URL/healthz" >/dev/null 2>&1; then ready=1; break; fi
  kill -0 "$SERVER_PID" 2>/dev/null || break
  sleep 0.5
done
if [ -z "$ready" ]; then
  echo "the server did not answer $BASE_URL/healthz within 30 s:"; tail -30 "$TMP/serve.log"; exit 1
fi
VKEY=$(curl -fsS --max-time 5 "$BASE_URL/log/vkey")
echo "serving at $BASE_URL, log key $VKEY"

echo "-- node --test tests/browser/"
mkdir -p docs/screenshots
status=0
BASE_URL="$BASE_URL" CASE_NO="$CASE_NO" QUERY_CODE="$QUERY_CODE" VKEY="$VKEY" DEMO_UNTIL="$DEMO_UNTIL" \
  SCREENSHOT_DIR=docs/screenshots \
  timeout 600 node --test --test-reporter=tap tests/browser/ || status=$?
if [ "$status" -ne 0 ]; then
  echo "browser tests failed (exit $status); the server's log ends:"
  tail -30 "$TMP/serve.log"
  exit "$status"
fi
echo "browser tests passed in $((SECONDS - START)) s; screenshots in docs/screenshots/"
