//! Transport: the TCP listener, TLS (rustls), hyper connections, the connection
//! watchdog, signals and sd_notify. The only place that touches sockets.

pub mod notify;
pub mod server;
pub mod tls;
