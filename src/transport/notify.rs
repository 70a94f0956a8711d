//! Service-manager notifications: the sd_notify protocol, one datagram per state
//! change to the Unix socket named by `NOTIFY_SOCKET` (a path, or `@name` for the
//! abstract namespace). Without that variable every call does nothing, so the
//! service behaves the same when started by hand, by tests or by another init.
//!
//! `READY=1` once the listener is bound; `RELOADING=1` (with `MONOTONIC_USEC`, as
//! `Type=notify-reload` asks) then `READY=1` around a SIGHUP reload; `STOPPING=1`
//! when shutdown begins. A failed send is logged and otherwise ignored: the service
//! manager is told, never depended on.

use std::os::unix::net::UnixDatagram;

/// The listener is bound and requests are being served.
pub(crate) fn ready() {
    send("READY=1");
}

/// A configuration reload has begun.
pub(crate) fn reloading() {
    let usec = rustix::time::clock_gettime(rustix::time::ClockId::Monotonic);
    let usec = u64::try_from(usec.tv_sec).unwrap_or(0) * 1_000_000 + u64::try_from(usec.tv_nsec).unwrap_or(0) / 1_000;
    send(&format!("RELOADING=1\nMONOTONIC_USEC={usec}"));
}

/// Shutdown has begun.
pub(crate) fn stopping() {
    send("STOPPING=1");
}

fn send(message: &str) {
    let Some(target) = std::env::var_os("NOTIFY_SOCKET") else {
        return;
    };
    if let Err(e) = send_to(&target, message) {
        tracing::warn!(error = %e, "cannot notify the service manager");
    }
}

fn send_to(target: &std::ffi::OsStr, message: &str) -> std::io::Result<()> {
    use std::os::unix::ffi::OsStrExt as _;
    let socket = UnixDatagram::unbound()?;
    let bytes = target.as_bytes();
    match bytes.split_first() {
        Some((b'@', name)) => {
            use std::os::linux::net::SocketAddrExt as _;
            let addr = std::os::unix::net::SocketAddr::from_abstract_name(name)?;
            socket.send_to_addr(message.as_bytes(), &addr)?;
        }
        Some((b'/', _)) => {
            socket.send_to(message.as_bytes(), std::path::Path::new(target))?;
        }
        _ => return Err(std::io::Error::other("NOTIFY_SOCKET is neither a path nor @name")),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sends_to_a_socket_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notify");
        let server = UnixDatagram::bind(&path).unwrap();
        send_to(path.as_os_str(), "READY=1").unwrap();
        let mut buf = [0u8; 64];
        let n = server.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"READY=1");
    }

    #[test]
    fn sends_to_an_abstract_socket() {
        use std::os::linux::net::SocketAddrExt as _;
        let name = format!("roomgate-test-{}", std::process::id());
        let addr = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
        let server = UnixDatagram::bind_addr(&addr).unwrap();
        send_to(std::ffi::OsStr::new(&format!("@{name}")), "STOPPING=1").unwrap();
        let mut buf = [0u8; 64];
        let n = server.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"STOPPING=1");
    }

    #[test]
    fn refuses_a_relative_name() {
        assert!(send_to(std::ffi::OsStr::new("relative"), "READY=1").is_err());
    }
}
