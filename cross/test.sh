#!/usr/bin/env bash
# Smoke-test a device build under emulation, the way a technician and an integrator
# would use it: cross/test.sh aarch64 (after cross/build.sh aarch64).
#
# The Rust integration suite cannot run here: its tests start the binary as a child
# process, and without binfmt_misc (absent in containers) an emulated process
# cannot exec another foreign binary. So this drives the cross binary from outside,
# through qemu-user and the real curl, with the shipped default config (real argon2
# cost): first start, enrollment code from the console, login, read and change the
# audio settings, SIGHUP reload, enrollment reset (old admin credential refused, new
# code accepted, other credentials kept), and a restart that keeps everything.
set -euo pipefail
cd "$(dirname "$0")/.."
source cross/targets.sh
select_target "${1:-}"
BIN="${ROOMGATE_BIN:-${CARGO_TARGET_DIR:-target}/$RUST_TARGET/release/roomgate}"
[ -x "$BIN" ] || { echo "cross/test.sh: $BIN is missing; run cross/build.sh $1 first" >&2; exit 1; }
command -v "$QEMU" >/dev/null || { echo "cross/test.sh: $QEMU is missing (apt-get install qemu-user-static)" >&2; exit 1; }
for tool in curl python3; do command -v "$tool" >/dev/null || { echo "cross/test.sh: $tool is needed" >&2; exit 1; }; done

WORK="$(mktemp -d)"
PID=""
cleanup() {
    [ -n "$PID" ] && kill "$PID" 2>/dev/null || true
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

step() { echo "== $*"; }
fail() { echo "FAIL: $*" >&2; [ -f "$WORK/log" ] && tail -20 "$WORK/log" >&2; exit 1; }

# The shipped config, with its folders beside it: state in $WORK/var, certs in $WORK/certs.
mkdir -p "$WORK/device-config"
cp device-config/roomgate.toml "$WORK/device-config/roomgate.toml"
CONFIG="$WORK/device-config/roomgate.toml"
rg() { "$QEMU" "$BIN" --config "$CONFIG" "$@"; }

start() {
    : > "$WORK/log"
    "$QEMU" "$BIN" serve --config "$CONFIG" --listen 127.0.0.1:0 --log-level info 2>> "$WORK/log" &
    PID=$!
    for _ in $(seq 1 600); do
        PORT=$( (grep -o 'listening on https://[0-9.]*:[0-9]*' "$WORK/log" || true) | sed 's/.*://')
        [ -n "$PORT" ] && return 0
        kill -0 "$PID" 2>/dev/null || fail "the service exited at start"
        sleep 0.05
    done
    fail "the service did not start within 30 s"
}

stop() {
    kill -TERM "$PID"
    local status=0
    wait "$PID" || status=$?
    PID=""
    [ "$status" -eq 0 ] || fail "SIGTERM exit status $status"
}

# call METHOD PATH [TOKEN] [JSON] -> prints "STATUS BODY"
call() {
    local method="$1" path="$2" token="${3:-}" body="${4:-}" args=()
    [ -n "$token" ] && args+=(-H "Authorization: Nureva $token")
    [ -n "$body" ] && args+=(-H "Content-Type: application/json" --data "$body")
    curl -s --cacert "$WORK/certs/cert.pem" -X "$method" -w ' %{http_code}' \
        -H "Nureva-Client-Id: cross-smoke" -H "Nureva-Client-Version: 1.0" \
        "${args[@]}" "https://localhost:$PORT$path"
}

status_of() { call "$@" | awk '{print $NF}'; }
json_field() { python3 -c 'import json,sys; print(json.loads(sys.stdin.read().rsplit(" ",1)[0])[sys.argv[1]])' "$1"; }

login() {
    local out
    out=$(call POST /api/v1/auth/login "" "{\"account\":\"$1\",\"password\":\"$2\"}")
    [ "${out##* }" = 200 ] || fail "login as $1: $out"
    echo "$out" | json_field authParameters
}

expect() {
    local want="$1" got="$2" what="$3"
    [ "$got" = "$want" ] || fail "$what: expected $want, got $got"
    echo "   ok: $what ($got)"
}

step "$BIN under $QEMU"
rg --version

step "first start"
start
[ -f "$WORK/certs/cert.pem" ] && [ -f "$WORK/var/state.json" ] || fail "certificate and state are created"
expect 600 "$(stat -c %a "$WORK/certs/key.pem")" "device key mode"
expect 600 "$(stat -c %a "$WORK/var/state.json")" "state file mode"
CODE=$(rg enrollment show)
grep -q "$CODE" "$WORK/log" && fail "the enrollment code reached the log"
expect 200 "$(status_of GET /api/v1)" "capabilities document"

step "login with the enrollment code, read and change audio settings"
ADMIN=$(login admin "$CODE")
GENERAL=$(login general "")
expect 200 "$(status_of GET /api/v1/audio "$ADMIN")" "GET /api/v1/audio as admin"
expect 401 "$(status_of GET /api/v1/audio "")" "GET /api/v1/audio without a credential"
expect 200 "$(status_of PATCH /api/v1/audio "$GENERAL" '{"speakerBassLevel":33,"noiseReductionLevel":"High"}')" "PATCH audio"
expect 400 "$(status_of PATCH /api/v1/audio "$GENERAL" '{"speakerBassLevel":101}')" "out-of-range PATCH refused"
expect 33 "$(call GET /api/v1/audio "$GENERAL" | json_field speakerBassLevel)" "bass level stored"
expect 200 "$(status_of PUT /api/v1/audio/volume/change "$GENERAL" '{"operation":"increment"}')" "volume step"
[ "$(call GET /api/v1/audio/hardware "$ADMIN" | json_field enrollmentCode)" = "$CODE" ] || fail "admin sees the enrollment code"
echo "   ok: admin sees the enrollment code"

step "SIGHUP reloads the configuration"
kill -HUP "$PID"
for _ in $(seq 1 100); do grep -q 'configuration reloaded' "$WORK/log" && break; sleep 0.1; done
grep -q 'configuration reloaded' "$WORK/log" || fail "no reload after SIGHUP"
expect 200 "$(status_of GET /api/v1/audio "$ADMIN")" "serving after the reload"

step "enrollment reset at the console"
rg enrollment reset > /dev/null 2>&1
NEW_CODE=$(rg enrollment show)
[ "$NEW_CODE" != "$CODE" ] || fail "enrollment reset makes a new code"
for _ in $(seq 1 40); do [ "$(status_of GET /api/v1/audio "$ADMIN")" = 401 ] && break; sleep 0.1; done
expect 401 "$(status_of GET /api/v1/audio "$ADMIN")" "old admin credential refused"
expect 401 "$(status_of POST /api/v1/auth/login "" "{\"account\":\"admin\",\"password\":\"$CODE\"}")" "old code refused"
ADMIN=$(login admin "$NEW_CODE")
expect 200 "$(status_of GET /api/v1/audio "$GENERAL")" "general credential kept"

step "restart keeps credentials, settings and the code"
stop
start
expect 200 "$(status_of GET /api/v1/auth/validate "$ADMIN")" "admin credential after restart"
expect 33 "$(call GET /api/v1/audio "$GENERAL" | json_field speakerBassLevel)" "settings after restart"
[ "$(rg enrollment show)" = "$NEW_CODE" ] || fail "enrollment code after restart"
echo "   ok: enrollment code after restart"
stop
echo "cross/test.sh $1: all smoke checks passed"
