#!/usr/bin/env bash
# Build the Debian package: packaging/build.sh amd64|arm64 → target/debian/roomgate_*.deb
# (under $CARGO_TARGET_DIR when set).
#   amd64: a release build on this machine.
#   arm64: the static cross build (cross/build.sh aarch64, run here if needed).
# cargo-deb is installed with `cargo install` when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v cargo-deb >/dev/null || cargo install cargo-deb --locked
case "${1:-amd64}" in
    amd64)
        cargo build --release --locked --bin roomgate
        cargo deb --no-build --no-strip ;;
    arm64)
        [ -x "${CARGO_TARGET_DIR:-target}/aarch64-unknown-linux-gnu/release/roomgate" ] || cross/build.sh aarch64
        cargo deb --no-build --no-strip --target aarch64-unknown-linux-gnu ;;
    *)
        echo "usage: $0 amd64|arm64" >&2
        exit 2 ;;
esac
