# Device targets, shared by cross/build.sh and cross/test.sh (sourced).
# select_target NAME sets RUST_TARGET, DEB_ARCH, GNU_TRIPLE and QEMU.
select_target() {
    case "$1" in
        aarch64 | arm64)
            RUST_TARGET=aarch64-unknown-linux-gnu DEB_ARCH=arm64 GNU_TRIPLE=aarch64-linux-gnu QEMU=qemu-aarch64-static ;;
        armv7 | armhf)
            RUST_TARGET=armv7-unknown-linux-gnueabihf DEB_ARCH=armhf GNU_TRIPLE=arm-linux-gnueabihf QEMU=qemu-arm-static ;;
        *)
            echo "usage: $0 aarch64|armv7" >&2
            exit 2 ;;
    esac
}
