#!/usr/bin/env bash
# Do refusals reach a client that is still sending its body? Starts roomgate (the
# release build, or the binary ROOMGATE_BIN names) and sends a 70 KB login body,
# past the 64 KiB limit, TRIES times each with curl over HTTP/2 and HTTP/1.1 and
# with Python's requests; prints how many read the 413 rather than a transport
# error. The regression test is tests/it/hardening.rs; this script gives the same
# figure for any build, e.g. the one before a change.
#
#   bench/refusals.sh [TRIES]                      (default 20)
#   ROOMGATE_BIN=/path/to/roomgate bench/refusals.sh
set -euo pipefail
source "$(dirname "$0")/common.sh"
TRIES="${1:-20}"
need curl python3
python3 -c 'import requests' || { echo "bench: Python's requests is needed" >&2; exit 1; }
build_release
WORK=$(mktemp -d)
trap 'stop_roomgate; rm -rf "$WORK"' EXIT
start_roomgate "$WORK" $'[limits]\nrequests_per_minute = 0'
CERT="$WORK/certs/cert.pem"
URL="https://localhost:$RG_PORT/api/v1/auth/login"
python3 -c 'import json; print(json.dumps({"account": "admin", "password": "x" * 70000}))' > "$WORK/big.json"
for protocol in --http2 --http1.1; do
    read_it=0
    for _ in $(seq "$TRIES"); do
        status=$(curl -s "$protocol" --cacert "$CERT" "${CLIENT_HEADERS[@]}" -H 'Content-Type: application/json' \
            --data-binary @"$WORK/big.json" "$URL" -o /dev/null -w '%{http_code}' || true)
        [ "$status" = 413 ] && read_it=$((read_it + 1))
    done
    echo "curl $protocol: $read_it/$TRIES read the 413"
done
python3 - "$URL" "$CERT" "$WORK/big.json" "$TRIES" <<'PY'
import sys, requests
url, cert, body_file, tries = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
body = open(body_file, "rb").read()
headers = {"Nureva-Client-Id": "bench", "Nureva-Client-Version": "1", "Content-Type": "application/json"}
read_it = 0
for _ in range(tries):
    try:
        read_it += requests.post(url, data=body, headers=headers, verify=cert, timeout=20).status_code == 413
    except Exception:
        pass
print(f"python requests: {read_it}/{tries} read the 413")
PY
