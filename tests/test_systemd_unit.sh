#!/bin/bash
# Checks systemd/salesd.service (and salesd.sysusers.conf) with systemd's own
# tools: `systemd-analyze verify` must print nothing, the exposure score of
# `systemd-analyze security --offline=yes` must stay below 2.5, and the
# lifecycle settings the daemon relies on must be present.
#
# Environment: SALESD_BIN (required) is the built salesd binary; the unit's
# /usr/bin/salesd is replaced by it, because verify insists that ExecStart=
# and friends exist. SALESD_SOURCE_DIR is the source tree (default: the parent
# of this script's directory).
set -euo pipefail

MAX_EXPOSURE=2.5

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

if [[ -z ${SALESD_BIN:-} ]]; then
	fail "SALESD_BIN is not set: point it at the built salesd binary (ctest sets it)"
fi
[[ -x $SALESD_BIN ]] || fail "SALESD_BIN=$SALESD_BIN is not an executable file"
[[ $SALESD_BIN == /* ]] || SALESD_BIN=$(cd "$(dirname "$SALESD_BIN")" && pwd)/$(basename "$SALESD_BIN")
[[ $SALESD_BIN != *[[:space:]\"\'\\%\$]* ]] ||
	fail "SALESD_BIN=$SALESD_BIN contains characters a unit file would interpret"

src=${SALESD_SOURCE_DIR:-$(dirname "${BASH_SOURCE[0]}")/..}
src=$(cd "$src" && pwd) # systemd-sysusers needs absolute paths
unit_src=$src/systemd/salesd.service
sysusers_src=$src/systemd/salesd.sysusers.conf
[[ -f $unit_src ]] || fail "no unit file at $unit_src"
[[ -f $sysusers_src ]] || fail "no sysusers.d file at $sysusers_src"

for tool in systemd-analyze systemd-sysusers; do
	command -v "$tool" >/dev/null ||
		fail "$tool not found: install Debian's systemd package (scripts/setup does)"
done

export SYSTEMD_COLORS=0 SYSTEMD_PAGER=cat SYSTEMD_LOG_COLOR=0

tmp=$(mktemp -d "${TMPDIR:-/tmp}/salesd-unit.XXXXXX")
trap 'rm -rf -- "$tmp"' EXIT

# The unit under test: /usr/bin/salesd in Exec*= lines becomes $SALESD_BIN.
unit=$tmp/salesd.service
while IFS= read -r line || [[ -n $line ]]; do
	if [[ $line == Exec* ]]; then
		line=${line//\/usr\/bin\/salesd/"$SALESD_BIN"}
	fi
	printf '%s\n' "$line"
done <"$unit_src" >"$unit"

# value KEY: the last value assigned to KEY in the unit (later lines win,
# as systemd reads them), or nothing.
value() {
	sed -n "s/^[[:space:]]*$1=[[:space:]]*//p" "$unit" | tail -n 1
}

# 1. Settings the daemon's lifecycle depends on.
[[ $(value Type) == notify ]] || fail "Type= is not notify"
[[ $(value NotifyAccess) == main ]] || fail "NotifyAccess= is not main (children inherit NOTIFY_SOCKET)"
wd=$(value WatchdogSec)
[[ -n $wd && $wd != 0 && $wd != infinity ]] || fail "WatchdogSec= is missing or disabled"
[[ $(value ExecStart) == "$SALESD_BIN serve" ]] || fail "ExecStart= does not run '$SALESD_BIN serve'"
pre=$(value ExecStartPre)
[[ $pre == "$SALESD_BIN check-config" || $pre == "-$SALESD_BIN check-config" ]] ||
	fail "ExecStartPre= does not run 'salesd check-config'"
reload=$(value ExecReload)
# shellcheck disable=SC2016 # a literal $MAINPID is what systemd expands
[[ $reload == *kill* && $reload == *-HUP* && $reload == *'$MAINPID'* ]] ||
	fail "ExecReload= does not send SIGHUP to \$MAINPID (got: '$reload')"
[[ " $(value RestartPreventExitStatus) " == *" 78 "* ]] ||
	fail "RestartPreventExitStatus= does not include 78 (configuration error)"
[[ $(value Restart) == on-failure ]] || fail "Restart= is not on-failure"
[[ $(value KillMode) == mixed ]] || fail "KillMode= is not mixed"
user=$(value User)
[[ -n $user && $user != root && $user != 0 ]] || fail "User= is missing or root"
grep -q "^u[[:space:]]\+${user}[[:space:]]" "$sysusers_src" ||
	fail "User=$user is not created by $sysusers_src"
echo "ok: lifecycle settings (Type=notify, WatchdogSec=$wd, ExecReload, RestartPreventExitStatus=78, KillMode=mixed, User=$user)"

# 2. systemd-analyze verify: exit 0 and not a word on stderr (it exits 0 on
# many warnings). Documentation= man pages need not be installed here.
if ! systemd-analyze verify --man=no "$unit" >"$tmp/verify.out" 2>"$tmp/verify.err"; then
	cat "$tmp/verify.out" "$tmp/verify.err" >&2
	fail "systemd-analyze verify exited non-zero"
fi
if [[ -s $tmp/verify.err ]]; then
	cat "$tmp/verify.err" >&2
	fail "systemd-analyze verify printed warnings (above)"
fi
echo "ok: systemd-analyze verify is silent"

# 3. Exposure score.
if ! systemd-analyze security --offline=yes --no-pager "$unit" >"$tmp/security.out" 2>"$tmp/security.err"; then
	cat "$tmp/security.out" "$tmp/security.err" >&2
	fail "systemd-analyze security exited non-zero"
fi
line=$(grep 'Overall exposure level' "$tmp/security.out" || true)
[[ -n $line ]] || { cat "$tmp/security.out" "$tmp/security.err" >&2; fail "no 'Overall exposure level' line"; }
score=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9][0-9]*\(\.[0-9]*\)\{0,1\}\).*/\1/p' <<<"$line")
[[ -n $score ]] || fail "cannot read the score from: $line"
echo "exposure: $score (limit < $MAX_EXPOSURE): $line"
if ! awk -v s="$score" -v m="$MAX_EXPOSURE" 'BEGIN { exit !(s + 0 < m + 0) }'; then
	grep '✗' "$tmp/security.out" >&2 || true
	fail "exposure $score is not below $MAX_EXPOSURE"
fi
echo "ok: exposure below $MAX_EXPOSURE"

# 4. The sysusers.d file creates the user with the state directory as home.
mkdir -p "$tmp/root/etc"
if ! systemd-sysusers --root="$tmp/root" "$sysusers_src" >"$tmp/sysusers.out" 2>&1; then
	cat "$tmp/sysusers.out" >&2
	fail "systemd-sysusers rejected $sysusers_src"
fi
grep -q "^$user:x:[0-9]*:[0-9]*:[^:]*:/var/lib/salesd:" "$tmp/root/etc/passwd" ||
	fail "systemd-sysusers did not create $user with home /var/lib/salesd"
grep -q "^$user:x:[0-9]*:" "$tmp/root/etc/group" || fail "systemd-sysusers did not create group $user"
echo "ok: sysusers.d creates user $user"

# 5. The WhatsApp units (salesd-whatsapp.socket starts salesd-whatsapp@.service
# per connection): verify is silent on both, the service runs the child with
# the connection as its standard input and output, as the user salesd, and
# its end takes every process of the batch with it.
child=$(dirname "$SALESD_BIN")/salesd-whatsapp
[[ -x $child ]] || fail "no salesd-whatsapp next to $SALESD_BIN"
mkdir -p "$tmp/wa"
cp "$src/systemd/salesd-whatsapp.socket" "$tmp/wa/"
while IFS= read -r line || [[ -n $line ]]; do
	[[ $line == Exec* ]] && line=${line//\/usr\/libexec\/salesd\/salesd-whatsapp/"$child"}
	printf '%s\n' "$line"
done <"$src/systemd/salesd-whatsapp@.service" >"$tmp/wa/salesd-whatsapp@.service"
cp "$tmp/wa/salesd-whatsapp@.service" "$tmp/wa/salesd-whatsapp@0.service"
for u in salesd-whatsapp.socket salesd-whatsapp@0.service; do
	if ! (cd "$tmp/wa" && systemd-analyze verify --man=no "$u") >"$tmp/wa.out" 2>"$tmp/wa.err" ||
		[[ -s $tmp/wa.err ]]; then
		cat "$tmp/wa.out" "$tmp/wa.err" >&2
		fail "systemd-analyze verify: $u (above)"
	fi
done
wav() { sed -n "s/^[[:space:]]*$1=[[:space:]]*//p" "$tmp/wa/$2" | tail -n 1; }
[[ $(wav Accept salesd-whatsapp.socket) == yes ]] || fail "salesd-whatsapp.socket: Accept= is not yes"
[[ $(wav SocketUser salesd-whatsapp.socket) == "$user" ]] || fail "salesd-whatsapp.socket: SocketUser= is not $user"
[[ $(wav SocketMode salesd-whatsapp.socket) == 0600 ]] || fail "salesd-whatsapp.socket: SocketMode= is not 0600"
[[ $(wav StandardInput salesd-whatsapp@.service) == socket &&
	$(wav StandardOutput salesd-whatsapp@.service) == socket ]] ||
	fail "salesd-whatsapp@.service: standard input and output are not the socket"
[[ $(wav User salesd-whatsapp@.service) == "$user" ]] || fail "salesd-whatsapp@.service: User= is not $user"
[[ $(wav KillMode salesd-whatsapp@.service) == control-group ]] ||
	fail "salesd-whatsapp@.service: KillMode= is not control-group"
[[ -n $(wav RuntimeMaxSec salesd-whatsapp@.service) ]] || fail "salesd-whatsapp@.service: no RuntimeMaxSec="
grep -q '^MemoryDenyWriteExecute=yes' "$tmp/wa/salesd-whatsapp@.service" &&
	fail "salesd-whatsapp@.service: MemoryDenyWriteExecute= would kill Chromium"
echo "ok: salesd-whatsapp.socket and salesd-whatsapp@.service"

echo "PASS: systemd unit (exposure $score)"
