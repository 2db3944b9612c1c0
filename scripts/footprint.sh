#!/usr/bin/env bash
# Start-up time and resident memory of `lianzheng serve` on a small and a large database (SQLite
# files or PostgreSQL URLs), in one run on one machine: the small database is the baseline, the
# ratios say whether either grows with the database. For each database: time from exec to the
# first 200 from /healthz (best of 3 starts), then 20 s of load with wrk (64 connections, 2
# threads) over the public pages — a case page, the catalog, an item guide, the statistics — and
# the resident set (VmRSS) and its peak (VmHWM) after the load.
#
# usage: scripts/footprint.sh BIN SMALL LARGE   (each a SQLite file or a postgres:// URL)
set -euo pipefail
BIN=$1; SMALL=$2; LARGE=$3
. "$(dirname "$0")/serve-common.sh"

# Starts the server on $1; sets PID and STARTUP_MS.
start() {
  local t0; t0=$(date +%s%N)
  start_server "$BIN" "$1"
  STARTUP_MS=$(( ($(date +%s%N) - t0) / 1000000 ))
}
stop() { kill "$PID"; wait "$PID" 2>/dev/null || true; PID=""; }

measure() {
  local name=$1 db=$2
  local size
  case $db in
    postgres://* | postgresql://*) size=$(( $(sql "$db" 'SELECT pg_database_size(current_database())') / 1048576 )) ;;
    *) size=$(du -m "$db" | cut -f1) ;;
  esac
  local cases; cases=$(sql "$db" 'SELECT COUNT(*) FROM cases')
  local row; row=$(sql "$db" 'SELECT case_no, query_code FROM case_parties ORDER BY case_no LIMIT 1 OFFSET (SELECT COUNT(*)/2 FROM case_parties)')
  local no=${row% *} code=${row#* }
  local item; item=$(sql "$db" 'SELECT code FROM items ORDER BY code LIMIT 1 OFFSET 10')
  local best=""
  for _ in 1 2 3; do
    start "$db"; stop
    if [ -z "$best" ] || [ "$STARTUP_MS" -lt "$best" ]; then best=$STARTUP_MS; fi
  done
  start "$db"
  cat >"$TMP/mix.lua" <<LUA
local paths = {"/query?case_no=$no&code=$code", "/items", "/items/$item", "/stats", "/"}
local i = 0
request = function() i = i + 1; return wrk.format("GET", paths[(i % #paths) + 1]) end
LUA
  local rss0; rss0=$(awk '/VmRSS/{print $2}' "/proc/$PID/status")
  wrk -t2 -c64 -d20s -s "$TMP/mix.lua" "$URL" >"$TMP/wrk.txt"
  local rss; rss=$(awk '/VmRSS/{print $2}' "/proc/$PID/status")
  local hwm; hwm=$(awk '/VmHWM/{print $2}' "/proc/$PID/status")
  local rps; rps=$(awk '/Requests\/sec/{print $2}' "$TMP/wrk.txt")
  stop
  echo "$name $size $cases $best $((rss0/1024)) $((rss/1024)) $((hwm/1024)) $rps" >>"$TMP/results"
}

echo "database   size_MB  cases  startup_ms  rss_idle_MB  rss_after_load_MB  peak_MB  req/s"
measure small "$SMALL"
measure large "$LARGE"
cat "$TMP/results"
S=$(sed -n 1p "$TMP/results"); L=$(sed -n 2p "$TMP/results")
read -r _ ssz sc sst _ srss _ _ <<<"$S"
read -r _ lsz lc lst _ lrss _ _ <<<"$L"
python3 - "$ssz" "$lsz" "$sc" "$lc" "$sst" "$lst" "$srss" "$lrss" <<'PY'
import sys
ssz, lsz, sc, lc, sst, lst, srss, lrss = map(float, sys.argv[1:])
print(f"large/small: database {lsz/ssz:.0f}x, cases {lc/sc:.0f}x; start-up {lst/sst:.2f}x; resident memory after load {lrss/srss:.2f}x")
PY
