#!/usr/bin/env bash
# Runs every fuzz target for a bounded time (FUZZ_SECONDS each, default 30) from its committed
# seed corpus, with libFuzzer and no sanitizer (`-s none`, which works on stable Rust). New inputs
# go to a temporary corpus, not into the repository. Exits non-zero on the first crash, leaving
# the input under fuzz/artifacts/. Needs cargo-fuzz (installed here if missing).
set -euo pipefail
cd "$(dirname "$0")"
SECONDS_EACH=${FUZZ_SECONDS:-30}
if ! cargo fuzz --version >/dev/null 2>&1; then
  timeout 900 cargo install cargo-fuzz --locked
fi
cargo fuzz --version
timeout 1200 cargo fuzz build -s none -O
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
for target in $(cargo fuzz list); do
  mkdir -p "$WORK/$target"
  cp -r "corpus/$target/." "$WORK/$target/" 2>/dev/null || true
  echo "-- $target: ${SECONDS_EACH} s"
  timeout $((SECONDS_EACH + 120)) cargo fuzz run -s none -O "$target" "$WORK/$target" -- \
    -max_total_time="$SECONDS_EACH" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 2>"$WORK/$target.log" \
    || { tail -40 "$WORK/$target.log"; echo "fuzz target $target failed"; exit 1; }
  grep -E '^(#[0-9]+[[:space:]]+DONE|stat::number_of_executed_units|stat::peak_rss_mb)' "$WORK/$target.log" || true
done
echo "fuzzing passed"
