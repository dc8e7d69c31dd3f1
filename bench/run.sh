#!/usr/bin/env bash
# Runs the comparison benchmarks (verify, issue, middleware) and prints the
# ratio table. Every round is one process that runs every contender once,
# so all peers share the machine's state of the moment; ROUNDS rounds are
# interleaved (the equivalent of -count ROUNDS, but without running one
# contender's repetitions back to back while the machine's speed drifts).
#
#   cd bench && ./run.sh                  # 8 rounds, -benchtime 1s
#   ROUNDS=3 BENCHTIME=200ms ./run.sh     # a quick look
#   BENCH='Verify' ./run.sh               # one group only
#   INTERLEAVE=0 ./run.sh                 # one process, -count ROUNDS
#
# The raw output is kept in $OUT (default: results-<date>.txt here).
set -euo pipefail
cd "$(dirname "$0")"

ROUNDS=${ROUNDS:-8}
BENCHTIME=${BENCHTIME:-1s}
BENCH=${BENCH:-.}
INTERLEAVE=${INTERLEAVE:-1}
OUT=${OUT:-results-$(date -u +%Y%m%dT%H%M%SZ).txt}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

go test -c -o "$tmp/bench.test" .
go build -o "$tmp/ratios" ./cmd/ratios

{
	echo "# $(date -u +%FT%TZ) $(go version) GOMAXPROCS=${GOMAXPROCS:-$(nproc)}"
	echo "# library commit $(git -C .. rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C .. diff --quiet 2>/dev/null || echo ' (with uncommitted changes)')"
	echo "# rounds=$ROUNDS interleave=$INTERLEAVE benchtime=$BENCHTIME bench=$BENCH"
} >"$OUT"

# The test binary runs in this directory (as go test would).
if [[ $INTERLEAVE == 1 ]]; then
	for i in $(seq 1 "$ROUNDS"); do
		echo "round $i/$ROUNDS" >&2
		"$tmp/bench.test" -test.run '^$' -test.bench "$BENCH" -test.benchmem \
			-test.benchtime "$BENCHTIME" -test.count 1 | tee -a "$OUT" | grep -E '^Benchmark' >&2
	done
else
	"$tmp/bench.test" -test.run '^$' -test.bench "$BENCH" -test.benchmem \
		-test.benchtime "$BENCHTIME" -test.count "$ROUNDS" | tee -a "$OUT" | grep -E '^Benchmark' >&2
fi

echo "raw output: $OUT" >&2
"$tmp/ratios" "$OUT"
