#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the test suites (a ctest fixture).
#
#   tests/pg_cluster.sh start DIR   initdb in DIR/data, start it listening only
#                                   on a unix socket in DIR (no TCP at all)
#   tests/pg_cluster.sh stop DIR    stop it and remove DIR
#
# The role salesd_test owns the cluster (trust authentication on the socket);
# tests create one database each and drop it again. Durability is switched
# off (fsync, synchronous_commit, full_page_writes): the data is thrown away.
# As root, the cluster runs as the user postgres, which must be able to reach
# DIR, so DIR should lie below /tmp.
set -euo pipefail

cmd=${1:?usage: pg_cluster.sh start|stop DIR}
dir=${2:?usage: pg_cluster.sh start|stop DIR}

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
	echo "pg_cluster: no PostgreSQL server found in /usr/lib/postgresql (run scripts/setup)" >&2
	exit 1
fi

as_owner=()
if [ "$(id -u)" -eq 0 ]; then
	as_owner=(runuser -u postgres --)
fi

stop() {
	if [ -f "$dir/data/postmaster.pid" ]; then
		"${as_owner[@]}" "$bindir/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
	fi
}

case $cmd in
start)
	stop
	rm -rf "$dir"
	mkdir -p "$dir"
	[ ${#as_owner[@]} -eq 0 ] || chown postgres: "$dir"
	"${as_owner[@]}" "$bindir/initdb" -D "$dir/data" -U salesd_test --auth=trust \
		-E UTF8 --locale=C.UTF-8 --no-sync >"$dir/initdb.log" 2>&1 ||
		{ cat "$dir/initdb.log" >&2; echo "pg_cluster: initdb failed" >&2; exit 1; }
	cat >>"$dir/data/postgresql.conf" <<CONF
listen_addresses = ''
unix_socket_directories = '$dir'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 200
log_min_messages = warning
CONF
	"${as_owner[@]}" "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null ||
		{ cat "$dir/server.log" >&2; echo "pg_cluster: server did not start" >&2; exit 1; }
	echo "pg_cluster: running in $dir (socket only)"
	;;
stop)
	stop
	rm -rf "$dir"
	;;
*)
	echo "usage: pg_cluster.sh start|stop DIR" >&2
	exit 64
	;;
esac
