#!/usr/bin/env bash
# HTTP load test of the example server with wrk, on loopback only: GET
# /healthz (no auth) against GET /api/user/me (a valid bearer token through
# httpauth's middleware), interleaved, on one server process, printing
# requests/second for each and the ratio me/healthz (the goal: at
# least 0.85).
#
#   cd bench && ./load.sh
#   DURATION=5s ROUNDS=3 ./load.sh
#
# Needs go, curl, jq and wrk (Debian: apt-get install -y wrk jq). The server
# runs with its defaults (HS256, verified-token cache on) on a temporary
# SQLite file; everything it creates is removed on exit.
set -euo pipefail
cd "$(dirname "$0")"

THREADS=${THREADS:-2}
CONNS=${CONNS:-32}
DURATION=${DURATION:-10s}
ROUNDS=${ROUNDS:-2}

for tool in go curl jq wrk; do
	command -v "$tool" >/dev/null || { echo "load.sh: $tool not found (apt-get install -y wrk jq)" >&2; exit 1; }
done

tmp=$(mktemp -d)
server_pid=
cleanup() {
	if [[ -n $server_pid ]] && kill -0 "$server_pid" 2>/dev/null; then
		kill "$server_pid" 2>/dev/null || true
		wait "$server_pid" 2>/dev/null || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

(cd .. && go build -o "$tmp/server" ./examples/server)

# Port 0: the kernel picks a free loopback port; the server logs it.
: >"$tmp/server.log"
secret=$(head -c 32 /dev/urandom | base64 | tr -d '\n')
AUTH_JWT_SECRET=$secret "$tmp/server" -addr 127.0.0.1:0 -db "$tmp/bench.db" 2>"$tmp/server.log" &
server_pid=$!
addr=
for _ in $(seq 1 100); do
	addr=$(sed -n 's/.*msg=listening addr=\([0-9.:]*\).*/\1/p' "$tmp/server.log" | head -1 || true)
	[[ -n $addr ]] && break
	kill -0 "$server_pid" 2>/dev/null || { cat "$tmp/server.log" >&2; exit 1; }
	sleep 0.1
done
[[ -n $addr ]] || { echo "load.sh: server did not start" >&2; cat "$tmp/server.log" >&2; exit 1; }
base=http://$addr

token=$(curl -sS --fail-with-body -X POST -H 'Content-Type: application/json' \
	-d '{"name":"wrk","email":"wrk@example.com","password":"load-test pass phrase 7"}' \
	"$base/api/user/signup" | jq -er .token)
status=$(curl -sS -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" "$base/api/user/me")
[[ $status == 200 ]] || { echo "load.sh: GET /api/user/me answered $status" >&2; exit 1; }

# run NAME PATH [wrk args...]: prints the requests/second, refuses a run
# with any non-2xx answer or socket error.
run() {
	local name=$1 path=$2
	shift 2
	local out
	out=$(wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" "$@" "$base$path")
	echo "--- $name: wrk -t$THREADS -c$CONNS -d$DURATION $path" >>"$tmp/wrk.log"
	echo "$out" >>"$tmp/wrk.log"
	if grep -qE 'Non-2xx|Socket errors' <<<"$out"; then
		echo "load.sh: $name had errors:" >&2
		echo "$out" >&2
		exit 1
	fi
	awk '/^Requests\/sec:/ {print $2}' <<<"$out"
}

echo "server $addr ($(go version | cut -d' ' -f3), $(nproc) cores), wrk -t$THREADS -c$CONNS -d$DURATION, $ROUNDS rounds"
printf '%-6s %14s %14s %8s\n' round healthz me me/healthz
hs=() ms=()
for i in $(seq 1 "$ROUNDS"); do
	h=$(run healthz /healthz)
	m=$(run me /api/user/me -H "Authorization: Bearer $token")
	hs+=("$h") ms+=("$m")
	printf '%-6s %14s %14s %8s\n' "$i" "$h" "$m" "$(awk -v m="$m" -v h="$h" 'BEGIN {printf "%.3f", m/h}')"
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
hm=$(median "${hs[@]}") mm=$(median "${ms[@]}")
printf '%-6s %14s %14s %8s\n' median "$hm" "$mm" "$(awk -v m="$mm" -v h="$hm" 'BEGIN {printf "%.3f", m/h}')"
echo
echo "raw wrk output:"
cat "$tmp/wrk.log"
