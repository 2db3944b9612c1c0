#!/usr/bin/env bash
# The public pages under load on one database (a SQLite file or a PostgreSQL URL), each next to /healthz on the same server
# in the same run: 64 connections, 2 threads, 10 s per path (wrk --latency). The case is one from
# the middle of the database, the item one of the catalog's.
#
# usage: scripts/pages.sh BIN DB [SECONDS]   (DB a SQLite file or a postgres:// URL)
set -euo pipefail
BIN=$1; DB=$2; SECS=${3:-10}
. "$(dirname "$0")/serve-common.sh"

# The case in the middle of the case numbers (found through the key: no count of the rows).
FIRST=$(sql "$DB" 'SELECT MIN(case_no) FROM case_parties')
LAST=$(sql "$DB" 'SELECT MAX(case_no) FROM case_parties')
MID=$(python3 -c 'import sys, datetime as d; a, b = (d.datetime.strptime(x[:8], "%Y%m%d") for x in sys.argv[1:]); print((a + (b - a) / 2).strftime("%Y%m%d"))' "$FIRST" "$LAST")
ROW=$(sql "$DB" "SELECT case_no, query_code FROM case_parties WHERE case_no >= '$MID' ORDER BY case_no LIMIT 1")
NO=${ROW% *}; CODE=${ROW#* }
ITEM=$(sql "$DB" 'SELECT code FROM items ORDER BY code LIMIT 1 OFFSET 10')

start_server "$BIN" "$DB"
# The statistics are computed once at start; the runs begin after that (and one request for each
# page has read what it needs into the database's cache).
for path in "/stats" "/appraisal" "/items"; do curl -fs -o /dev/null "$URL$path"; done

echo "| path | requests/s | p50 | p99 |"
echo "|---|---|---|---|"
for path in "/healthz" "/query?case_no=$NO&code=$CODE" "/api/v1/public/cases/$NO?query_code=$CODE" \
  "/items" "/items/$ITEM" "/stats" "/appraisal" "/open311/v2/requests.json"; do
  curl -fs -o /dev/null "$URL$path" || { echo "$path does not answer 200"; exit 1; }
  wrk -t2 -c64 -d"${SECS}s" --latency "$URL$path" >"$TMP/wrk.txt"
  rps=$(awk '/Requests\/sec/{print $2}' "$TMP/wrk.txt")
  p50=$(awk '$1=="50%"{print $2}' "$TMP/wrk.txt")
  p99=$(awk '$1=="99%"{print $2}' "$TMP/wrk.txt")
  errors=$(awk '/Non-2xx/{print $NF}' "$TMP/wrk.txt")
  echo "| \`${path//$CODE/…}\` | $rps | $p50 | $p99 |${errors:+ non-2xx: $errors}"
done
echo "RSS after the runs: $(awk '/VmRSS/{print $2}' "/proc/$PID/status") kB, peak $(awk '/VmHWM/{print $2}' "/proc/$PID/status") kB"
