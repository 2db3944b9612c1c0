# Sourced by footprint.sh and pages.sh: checks for wrk, makes a temporary directory (removed on
# exit, with the server stopped), a free port, `sql DB QUERY`, which runs one query on a SQLite
# file or a PostgreSQL URL and prints its rows (columns separated by a space), and
# `start_server BIN DB`, which starts `lianzheng serve` on either and returns once /healthz
# answers (PID set, no subshell).
command -v wrk >/dev/null || { echo "wrk is needed (apt-get install wrk)"; exit 1; }
TMP=$(mktemp -d); PID=""
trap '[ -n "$PID" ] && kill "$PID" 2>/dev/null; rm -rf "$TMP"' EXIT
# The server signs checkpoints of what it appends (its sweep's findings): with the database's own
# key when LIANZHENG_LOG_KEY_FILE names it, so that `lianzheng audit` still verifies the newest
# checkpoint afterwards; otherwise with a key of its own, thrown away at exit.
export LIANZHENG_LOG_KEY_FILE="${LIANZHENG_LOG_KEY_FILE:-$TMP/log.key}"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
URL="http://127.0.0.1:$PORT"

# A PostgreSQL URL is used as it is; anything else is a SQLite file.
db_url() { case $1 in postgres://* | postgresql://*) echo "$1" ;; *) echo "sqlite://$1" ;; esac; }

sql() {
  case $1 in
    postgres://* | postgresql://*) psql "$1" -XAtF ' ' -c "$2" ;;
    *) sqlite3 -separator ' ' "$1" "$2" ;;
  esac
}

start_server() {
  "$1" serve --db "$(db_url "$2")" --listen "127.0.0.1:$PORT" >"$TMP/serve.log" 2>&1 &
  PID=$!
  until curl -fs -o /dev/null "$URL/healthz" 2>/dev/null; do
    kill -0 "$PID" 2>/dev/null || { tail "$TMP/serve.log"; exit 1; }
    sleep 0.005
  done
}
