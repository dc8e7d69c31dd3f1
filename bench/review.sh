#!/usr/bin/env bash
# review.sh [REV ...]: replays the attacks of the outside security review
# (cmd/review) against the example server built at each git revision REV
# (default: the working tree), with -refresh, on a fresh SQLite file and on
# a fresh PostgreSQL database, and prints what each attack got.
#
#   ./review.sh aac27cc HEAD       # the code the review saw, and the code now
#   ONLY=race,claims ./review.sh   # some attacks only
#   ARGS='-lockout-accounts 1' ./review.sh   # more flags for cmd/review
#
# PostgreSQL is reached at PGHOST (default 127.0.0.1) as user postgres; the
# database "review" is dropped and created for each run. The lockout attack
# runs 65 s, and on SQLite only.
set -euo pipefail
cd "$(dirname "$0")"
repo=$(git rev-parse --show-toplevel)
tmp=$(mktemp -d)
trap 'kill "$(jobs -p)" 2>/dev/null || true; cd "$repo"; for w in "$tmp"/src-*; do [ -d "$w" ] && git worktree remove --force "$w"; done; rm -rf "$tmp"' EXIT
go build -o "$tmp/review" ./cmd/review
export AUTH_JWT_SECRET="review-secret-$(head -c 24 /dev/urandom | base64)"
only=${ONLY:-race,claims,dates,emails,files,lockout}
pghost=${PGHOST:-127.0.0.1}
port=18412

build() { # build REV OUT
	if [ "$1" = worktree ]; then
		(cd "$repo" && go build -o "$2" ./examples/server)
	else
		git -C "$repo" worktree add -q --detach "$tmp/src-$1" "$1"
		(cd "$tmp/src-$1" && go build -o "$2" ./examples/server)
	fi
}

serve() { # serve BINARY DB LOG: starts the server, waits for /healthz
	(umask 022 && exec "$1" -addr "127.0.0.1:$port" -db "$2" -refresh 2>"$3") &
	for _ in $(seq 100); do
		curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && return
		sleep 0.1
	done
	echo "server did not start; its log:" >&2
	cat "$3" >&2
	exit 1
}

stop() { kill "$(jobs -p)"; wait || true; }

revs=("$@")
[ ${#revs[@]} -gt 0 ] || revs=(worktree)
for rev in "${revs[@]}"; do
	name=$rev
	[ "$rev" = worktree ] || name=$(git -C "$repo" rev-parse --short "$rev")
	build "$rev" "$tmp/server-$name"
	echo "== $name ($(git -C "$repo" log -1 --format=%cs "${rev/worktree/HEAD}")), SQLite"
	serve "$tmp/server-$name" "$tmp/$name.db" "$tmp/$name-sqlite.log"
	"$tmp/review" -url "http://127.0.0.1:$port" -db "$tmp/$name.db" -only "$only" ${ARGS:-} || true
	stop
	pgonly=$(echo ",$only," | sed 's/,files,/,/; s/,lockout,/,/; s/^,//; s/,$//')
	[ -n "$pgonly" ] || continue
	echo "== $name, PostgreSQL"
	PGOPTIONS='-c client_min_messages=warning' psql -q -h "$pghost" -U postgres -d postgres -c 'DROP DATABASE IF EXISTS review' -c 'CREATE DATABASE review'
	serve "$tmp/server-$name" "postgres://postgres@$pghost:5432/review?sslmode=disable" "$tmp/$name-pg.log"
	"$tmp/review" -url "http://127.0.0.1:$port" -only "$pgonly" ${ARGS:-} || true
	stop
done
