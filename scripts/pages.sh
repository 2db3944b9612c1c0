#!/usr/bin/env bash
# The public pages under load on one database (a SQLite file or a PostgreSQL URL), each next to /healthz on the same server
# in the same run: 64 connections, 2 threads, 10 s per path (wrk --latency). The case is one from
# the middle of the database, the item one of the catalog's; the last two rows ask for 10,000 cases
# drawn at random from the whole database, each request another, so that a database larger than
# the memory is read from the disk as a public query of any case would.
#
# usage: [LIANZHENG_LOG_KEY_FILE=KEY] scripts/pages.sh BIN DB [SECONDS]   (DB a SQLite file or a
# postgres:// URL; KEY the database's log key, so that its newest checkpoint stays verifiable)
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
# The sample of random cases, drawn before the server starts.
sql "$DB" 'SELECT case_no, query_code FROM case_parties ORDER BY random() LIMIT 10000' >"$TMP/cases.txt"
awk '{print "/query?case_no=" $1 "&code=" $2}' "$TMP/cases.txt" >"$TMP/pages.txt"
awk '{print "/api/v1/public/cases/" $1 "?query_code=" $2}' "$TMP/cases.txt" >"$TMP/json.txt"

start_server "$BIN" "$DB"
# The statistics are computed once at start; the runs begin after that (and one request for each
# page has read what it needs into the database's cache).
for path in "/stats" "/appraisal" "/items"; do curl -fs -o /dev/null "$URL$path"; done

# One row of the table from wrk's report in $TMP/wrk.txt.
row() {
  local rps p50 p99 errors
  rps=$(awk '/Requests\/sec/{print $2}' "$TMP/wrk.txt")
  p50=$(awk '$1=="50%"{print $2}' "$TMP/wrk.txt")
  p99=$(awk '$1=="99%"{print $2}' "$TMP/wrk.txt")
  errors=$(awk '/Non-2xx/{print $NF}' "$TMP/wrk.txt")
  echo "| $1 | $rps | $p50 | $p99 |${errors:+ non-2xx: $errors}"
}

echo "| path | requests/s | p50 | p99 |"
echo "|---|---|---|---|"
for path in "/healthz" "/query?case_no=$NO&code=$CODE" "/api/v1/public/cases/$NO?query_code=$CODE" \
  "/items" "/items/$ITEM" "/stats" "/appraisal" "/open311/v2/requests.json"; do
  curl -fs -o /dev/null "$URL$path" || { echo "$path does not answer 200"; exit 1; }
  wrk -t2 -c64 -d"${SECS}s" --latency "$URL$path" >"$TMP/wrk.txt"
  row "\`${path//$CODE/…}\`"
done
# Random cases: each wrk thread picks the next path at random from the sample.
cat >"$TMP/random.lua" <<'LUA'
local n = 0
function setup(thread) n = n + 1; thread:set("id", n) end
function init() math.randomseed(id * 7919 + os.time()) end
local paths = {}
for line in io.lines(os.getenv("PATHS")) do paths[#paths + 1] = line end
function request() return wrk.format("GET", paths[math.random(#paths)]) end
LUA
PATHS="$TMP/pages.txt" wrk -t2 -c64 -d"${SECS}s" --latency -s "$TMP/random.lua" "$URL" >"$TMP/wrk.txt"
row "case page, 10,000 random cases"
PATHS="$TMP/json.txt" wrk -t2 -c64 -d"${SECS}s" --latency -s "$TMP/random.lua" "$URL" >"$TMP/wrk.txt"
row "case JSON, 10,000 random cases"
echo "RSS after the runs: $(awk '/VmRSS/{print $2}' "/proc/$PID/status") kB, peak $(awk '/VmHWM/{print $2}' "/proc/$PID/status") kB"
