#!/usr/bin/env bash
# The man pages: groff formats them without a single warning, salesd.conf(5)
# and etc/salesd.conf document every key of the configuration schema
# (lib/base/config_schema.c), and salesd(8) every command (daemon/main.c).
set -uo pipefail

src=${SALESD_SOURCE_DIR:-$(cd "$(dirname "$0")/.." && pwd)}
fail=0
bad() { echo "test_manpages: $*" >&2; fail=1; }

for page in "$src/docs/salesd.8" "$src/docs/salesd.conf.5"; do
	out=$(groff -man -ww -z "$page" 2>&1) || bad "groff failed on $page"
	[ -z "$out" ] || bad "groff warns about $page: $out"
done

# Every schema key, as "section key" (job keys under "job").
schema=lib/base/config_schema.c
keys=$(sed -n 's/^\t{ "\([a-z]*\)", "\([a-z_]*\)", CONFIG_.*/\1 \2/p' "$src/$schema")
[ "$(wc -l <<<"$keys")" -gt 30 ] || bad "found too few keys in $schema: is the pattern stale?"
# The build insists on one schema row per field of struct config (the X(TYPE,
# FIELD) lines of config.h), so a pattern that misses a row shows here.
fields=$(grep -c $'^\tX(' "$src/lib/base/config.h")
[ "$(wc -l <<<"$keys")" -eq "$fields" ] ||
	bad "found $(wc -l <<<"$keys") keys in $schema but $fields fields in lib/base/config.h: is the pattern stale?"
# A key is documented in the page as a tagged paragraph (".BR key " or
# ".BR a ", " key ") and in the example file as "key =" or a "#   key" line.
while read -r section key; do
	roff=$(echo "$key" | sed 's/_/\\_/g')
	if ! grep -Eq "^\.BR? (.*\" )?($key|$roff)( |\$)" "$src/docs/salesd.conf.5"; then
		bad "docs/salesd.conf.5 does not document [$section] $key"
	fi
	if ! grep -Eq "^#? ?$key(_file)? =|^#   $key " "$src/etc/salesd.conf"; then
		bad "etc/salesd.conf does not show [$section] $key"
	fi
done <<<"$keys"

# Every command but the internal "task".
cmds=$(sed -n '/^static const struct command commands\[\]/,/^};/s/^\t{ "\([a-z-]*\)",.*/\1/p' "$src/daemon/main.c")
[ -n "$cmds" ] || bad "found no commands in daemon/main.c"
for c in $cmds; do
	[ "$c" = task ] && continue
	roff=$(echo "$c" | sed 's/-/\\\\-/g')
	grep -Eq "^\.(B|BI|BR) \"?($c|$roff)( |\"|\$)" "$src/docs/salesd.8" || bad "docs/salesd.8 does not document \"$c\""
done

[ $fail -eq 0 ] && echo "test_manpages: both pages clean; $(wc -l <<<"$keys") keys and $(wc -w <<<"$cmds") commands documented"
exit $fail
