#!/usr/bin/env bash
# Fuzzes the HTTP API from its own OpenAPI document with schemathesis (PyPI): every operation in
# /api/v1/openapi.json gets generated requests — valid, boundary and invalid — against a small
# demo city, and the run fails on any server error (5xx) or any status code, content type or body
# the document does not declare. Bounded: ST_MAX_EXAMPLES per operation (default 25).
# Then the Open311 client `georeport` (PyPI), unchanged, reads the city's complaints.
# Run from anywhere: bash tests/api/run.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}

TMP=$(mktemp -d)
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; fi
  rm -rf "$TMP"
}
trap cleanup EXIT

echo "-- schemathesis"
VENV=${ST_VENV:-$ROOT/target/st-venv}
if [ ! -x "$VENV/bin/st" ] || ! "$VENV/bin/python" -c 'import georeport' 2>/dev/null; then
  python3 -m venv "$VENV"
  timeout 600 "$VENV/bin/pip" install -q -r tests/api/requirements.txt
fi
"$VENV/bin/st" --version

echo "-- build and a small demo city"
cargo build -p lianzheng
BIN="$TARGET_DIR/debug/lianzheng"
export LIANZHENG_LOG_KEY_FILE="$TMP/log.key"
timeout 600 "$BIN" demo --scale small --no-serve --db "sqlite://$TMP/demo.db" --until 2026-11-20 >/dev/null 2>"$TMP/demo.err" \
  || { tail -20 "$TMP/demo.err"; exit 1; }
KEY=$("$BIN" apikey create --db "sqlite://$TMP/demo.db" --name schemathesis | tail -1)

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
"$BIN" serve --db "sqlite://$TMP/demo.db" --listen "127.0.0.1:$PORT" >"$TMP/serve.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 60); do
  curl -fsS --max-time 2 "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break
  sleep 0.5
done

echo "-- st run"
status=0
(cd "$TMP" && timeout 900 "$VENV/bin/st" run "http://127.0.0.1:$PORT/api/v1/openapi.json" \
  -H "Authorization: Bearer $KEY" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
  --max-examples "${ST_MAX_EXAMPLES:-25}" --workers 2 --seed "${ST_SEED:-2008}") || status=$?
if [ "$status" -ne 0 ]; then
  echo "schemathesis found problems (exit $status); the server's log ends:"; tail -30 "$TMP/serve.log"; exit "$status"
fi
echo "schemathesis passed"

echo "-- an existing Open311 client (georeport) reads the demo city"
(cd "$TMP" && timeout 300 "$VENV/bin/python" "$ROOT/tests/api/open311_client.py" "http://127.0.0.1:$PORT/open311/v2")
