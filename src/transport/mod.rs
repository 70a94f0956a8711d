//! Transport: the TCP listener, TLS (rustls), hyper connections, the connection
//! watchdog, signals, sd_notify and the syslog client. The only place that touches
//! sockets.
//!
//! - `server`: bind, the accept loop and connection cap, the TLS handshake, hyper connections, graceful drain.
//! - `watchdog`: each connection's head and idle timeouts, fed by socket reads and requests in flight.
//! - `stream`: one stream type (TLS or plain TCP) for both listeners, so hyper is compiled once.
//! - `parse_errors`: the HTTP/1 write adapter that turns hyper's own 400/431/414 into JSON.
//! - `signals`: SIGINT/SIGTERM stop the service, SIGHUP asks for a reload.
//! - `tls`: the device certificate (load or generate) and the rustls server config.
//! - `notify`: sd_notify readiness, reload and stopping messages.
//! - `syslog`: the syslog collector client (UDP, TCP, TLS), its bounded queue and drop count.

pub(crate) mod notify;
mod parse_errors;
pub(crate) mod server;
pub(crate) mod signals;
mod stream;
pub(crate) mod syslog;
pub(crate) mod tls;
mod watchdog;
