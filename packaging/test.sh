#!/usr/bin/env bash
# Install the amd64 package on this machine and check it as an operator would:
# files and modes, a stripped binary within 6 MiB, the conffile, the service user
# and state folder, the unit (`systemd-analyze verify`, and the `systemd-analyze
# security` exposure score, which must stay at or under 2.0), then run the unit's
# own ExecStart line the way systemd would (user roomgate, only
# CAP_NET_BIND_SERVICE, umask 077, NOTIFY_SOCKET) and talk to it on port 443:
# readiness, login with the enrollment code read at the console, a root console
# change that the service can still read, SIGHUP reload.
# Finally remove (the conffile stays) and purge (state and config go).
#
#   packaging/test.sh [DEB]     (default: builds it with packaging/build.sh amd64)
# Needs root: it installs a package and creates a system user. An arm64 package is
# tested the same way, its binary run through qemu-aarch64-static (the arm64
# architecture must be known to dpkg: cross/build.sh adds it).
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" -eq 0 ] || { echo "packaging/test.sh: run as root (dpkg -i)" >&2; exit 1; }
DEB="${1:-}"
if [ -z "$DEB" ]; then
    packaging/build.sh amd64
    DEB=$(ls -t "${CARGO_TARGET_DIR:-target}"/debian/roomgate_*_amd64.deb | head -1)
fi
for tool in curl python3 readelf setpriv systemd-analyze; do
    command -v "$tool" >/dev/null || { echo "packaging/test.sh: $tool is needed" >&2; exit 1; }
done

# A foreign package's binary runs under qemu-user (no binfmt_misc in containers).
EMU=()
case "$(dpkg-deb -f "$DEB" Architecture)" in
    "$(dpkg --print-architecture)") ;;
    arm64) EMU=(qemu-aarch64-static) ;;
    armhf) EMU=(qemu-arm-static) ;;
    *) echo "packaging/test.sh: cannot run a $(dpkg-deb -f "$DEB" Architecture) package here" >&2; exit 1 ;;
esac
roomgate() { "${EMU[@]}" /usr/bin/roomgate "$@"; }

WORK="$(mktemp -d)"
PID=""
cleanup() {
    [ -n "$PID" ] && kill "$PID" 2>/dev/null || true
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; [ -f "$WORK/log" ] && tail -20 "$WORK/log" >&2; exit 1; }
ok() { echo "   ok: $*"; }
mode_owner() { stat -c '%a %U:%G' "$1"; }
expect() { [ "$2" = "$1" ] || fail "$3: expected '$1', got '$2'"; ok "$3 ($2)"; }

echo "== install $DEB"
dpkg -i "$DEB" > "$WORK/dpkg.log" 2>&1 || { cat "$WORK/dpkg.log"; fail "dpkg -i"; }
UNIT=$(dpkg -L roomgate | grep '/systemd/system/roomgate.service$')
expect "755 root:root" "$(mode_owner /usr/bin/roomgate)" "/usr/bin/roomgate"
expect "644 root:root" "$(mode_owner /etc/roomgate/roomgate.toml)" "/etc/roomgate/roomgate.toml"
expect "644 root:root" "$(mode_owner "$UNIT")" "$UNIT"
expect "750 roomgate:roomgate" "$(mode_owner /var/lib/roomgate)" "/var/lib/roomgate"
# What the device stores: no symbol table (1 MB of it, never loaded), within the budget.
SECTIONS=$(readelf -S --wide /usr/bin/roomgate) || fail "readelf /usr/bin/roomgate"
case "$SECTIONS" in *" .symtab "*) fail "/usr/bin/roomgate has a symbol table (not stripped)" ;; esac
SIZE=$(stat -c %s /usr/bin/roomgate)
[ "$SIZE" -le 6291456 ] || fail "/usr/bin/roomgate is $SIZE bytes, over 6 MiB"
ok "/usr/bin/roomgate is stripped, $SIZE bytes (at most 6 MiB)"
dpkg-query --control-show roomgate conffiles | grep -qx '/etc/roomgate/roomgate.toml' || fail "the config is a conffile"
ok "/etc/roomgate/roomgate.toml is a conffile"
grep -q '^listen = "0.0.0.0:443"' /etc/roomgate/roomgate.toml || fail "the installed config listens on 443"
ok "listens on 0.0.0.0:443"
getent passwd roomgate | grep -q ':/usr/sbin/nologin$' || fail "the roomgate user has no login shell"
ok "system user roomgate, no login shell"
roomgate --config /etc/roomgate/roomgate.toml config check > /dev/null || fail "config check"
ok "config check"

echo "== the unit"
systemd-analyze verify "$UNIT" || fail "systemd-analyze verify"
ok "systemd-analyze verify is clean"
SCORE=$(systemd-analyze security --offline=true "$UNIT" 2>&1 | sed -n 's/.*Overall exposure level for roomgate.service: \([0-9.]*\).*/\1/p')
python3 -c "import sys; sys.exit(0 if float('$SCORE') <= 2.0 else 1)" || fail "exposure score $SCORE > 2.0"
ok "systemd-analyze security exposure $SCORE"

echo "== ExecStart, as systemd runs it"
EXEC=$(sed -n 's/^ExecStart=//p' "$UNIT")
[ -n "$EXEC" ] || fail "no ExecStart"
NOTIFY="$WORK/notify.sock"
python3 - "$NOTIFY" > "$WORK/notify.log" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(60)
while True:
    try:
        msg = s.recv(512).decode()
    except socket.timeout:
        break
    print(msg.replace("\n", " "), flush=True)
    if msg.startswith("STOPPING=1"):
        break
PY
LISTENER=$!
for _ in $(seq 1 100); do [ -S "$NOTIFY" ] && break; sleep 0.05; done
chmod 777 "$WORK" && chmod 666 "$NOTIFY"
: > "$WORK/log"
# shellcheck disable=SC2086 # ExecStart is a command line
(umask 077; exec env NOTIFY_SOCKET="$NOTIFY" setpriv --reuid=roomgate --regid=roomgate --init-groups \
    --inh-caps=-all,+net_bind_service --ambient-caps=-all,+net_bind_service \
    --bounding-set=-all,+net_bind_service --no-new-privs "${EMU[@]}" $EXEC) 2>> "$WORK/log" &
PID=$!
for _ in $(seq 1 200); do grep -q READY=1 "$WORK/notify.log" && break; kill -0 "$PID" 2>/dev/null || fail "ExecStart exited"; sleep 0.05; done
grep -q READY=1 "$WORK/notify.log" || fail "no READY=1 on NOTIFY_SOCKET"
ok "READY=1 sent"
grep -q 'listening on https://0.0.0.0:443' "$WORK/log" || fail "listening on 443"
ok "listening on https://0.0.0.0:443 as user roomgate"
expect "roomgate" "$(ps -o user= -p "$(pgrep -n -u roomgate)")" "process user"

CERT=/var/lib/roomgate/certs/cert.pem
expect "600 roomgate:roomgate" "$(mode_owner /var/lib/roomgate/state.json)" "state file"
expect "600 roomgate:roomgate" "$(mode_owner /var/lib/roomgate/certs/key.pem)" "device key"
call() {
    curl -s --cacert "$CERT" -H "Nureva-Client-Id: package-test" -H "Nureva-Client-Version: 1" "$@"
}
login() {
    call -X POST https://localhost/api/v1/auth/login -H 'Content-Type: application/json' \
        --data "{\"account\":\"admin\",\"password\":\"$1\"}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["authParameters"])'
}
status() { call -o /dev/null -w '%{http_code}' "$@"; }
CODE=$(roomgate --config /etc/roomgate/roomgate.toml enrollment show)
TOKEN=$(login "$CODE") || fail "login with the enrollment code"
expect 200 "$(status -H "Authorization: Nureva $TOKEN" https://localhost/api/v1/audio)" "GET /api/v1/audio on port 443"

# A root console command writes the state; the service must still read it.
roomgate --config /etc/roomgate/roomgate.toml enrollment reset > /dev/null 2>&1
expect "600 roomgate:roomgate" "$(mode_owner /var/lib/roomgate/state.json)" "state file after a root console change"
NEW_CODE=$(roomgate --config /etc/roomgate/roomgate.toml enrollment show)
for _ in $(seq 1 40); do [ "$(status -H "Authorization: Nureva $TOKEN" https://localhost/api/v1/audio)" = 401 ] && break; sleep 0.1; done
expect 401 "$(status -H "Authorization: Nureva $TOKEN" https://localhost/api/v1/audio)" "old admin credential after the reset"
TOKEN=$(login "$NEW_CODE") || fail "login with the new code"
ok "login with the new code"

kill -HUP "$PID"
for _ in $(seq 1 40); do grep -q 'configuration reloaded' "$WORK/log" && break; sleep 0.1; done
grep -q 'configuration reloaded' "$WORK/log" || fail "SIGHUP reload"
ok "SIGHUP reloaded the configuration"
kill -TERM "$PID"
wait "$PID" || fail "exit status after SIGTERM"
PID=""
wait "$LISTENER" || true
grep -q STOPPING=1 "$WORK/notify.log" || fail "STOPPING=1"
ok "clean stop, STOPPING=1 sent"

echo "== remove and purge"
dpkg -r roomgate > /dev/null 2>&1 || fail "dpkg -r"
[ ! -e /usr/bin/roomgate ] && [ -f /etc/roomgate/roomgate.toml ] || fail "remove keeps only the conffile"
ok "removed; the conffile stays"
dpkg -P roomgate > /dev/null 2>&1 || fail "dpkg -P"
[ ! -e /etc/roomgate/roomgate.toml ] && [ ! -e /var/lib/roomgate ] || fail "purge removes config and state"
ok "purged: config and state gone"
echo "packaging/test.sh: all package checks passed"
