//! The syslog collector client: a bounded queue and one thread that owns the
//! socket.
//!
//! The request path only ever calls [`Queue::push`], a `try_send` that never waits:
//! when the queue is full the message is dropped and counted ([`dropped_total`]).
//! One thread (`roomgate-syslog`, with a one-thread tokio runtime of its own, so
//! that logging exists before the service's runtime and never competes with it for
//! a worker) takes messages from the queue and writes them:
//! - UDP (RFC 5426): one datagram per message, cut at [`MAX_DATAGRAM`] bytes on a
//!   character boundary; a failed send loses that message (counted).
//! - TCP (RFC 6587) and TLS (RFC 5425, rustls with the ring provider, the
//!   collector verified against `log.syslog_ca_file` and the host in the URL):
//!   octet counting, `LEN SP MSG`. A failed connect or write closes the
//!   connection and retries with exponential backoff ([`MIN_BACKOFF`] …
//!   [`MAX_BACKOFF`]); meanwhile messages wait in the queue, so a short outage loses
//!   nothing and a long one drops the newest. A connection the collector closes is
//!   noticed at once by a read (the collector has nothing to send).
//!
//! Drops are reported on stderr (target `roomgate::syslog`, never sent to the
//! collector: the layer ignores events of this thread): within a second of the
//! first, then at most once a minute, and when an unreachable collector is back.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadHalf, WriteHalf};
use tokio::net::{TcpStream, UdpSocket};
use tokio::sync::mpsc;

use crate::config::{Collector, SyslogTransport};
use crate::syslog::format::{octet_counted, truncate};

/// A datagram carries at most this many bytes of a message: every RFC 5426
/// receiver should take 2048, and it fits an Ethernet MTU's worth of IPv6 fragments.
pub(crate) const MAX_DATAGRAM: usize = 2048;
/// A message over TCP or TLS is cut at this many bytes (rsyslog's default maximum
/// message size).
pub(crate) const MAX_STREAM_MESSAGE: usize = 8192;
/// The first wait before connecting again.
pub(crate) const MIN_BACKOFF: Duration = Duration::from_millis(200);
/// The longest wait before connecting again.
pub(crate) const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// A connection (TLS handshake included) must be up within this.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// A write that takes longer means a collector that stopped reading: reconnect.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// Drops are reported at most this often.
const REPORT_INTERVAL: Duration = Duration::from_secs(60);

/// Messages that never reached the collector's socket: the queue was full, or the
/// send failed. Read with [`dropped_total`].
static DROPPED: AtomicU64 = AtomicU64::new(0);

/// Messages dropped since start (queue full or send failed), for metrics.
pub(crate) fn dropped_total() -> u64 {
    DROPPED.load(Ordering::Relaxed)
}

fn count_dropped() {
    DROPPED.fetch_add(1, Ordering::Relaxed);
}

thread_local! {
    /// True on the syslog thread, whose own log lines must not loop back into the
    /// queue.
    static ON_SYSLOG_THREAD: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Whether the caller runs on the syslog thread.
pub(crate) fn on_syslog_thread() -> bool {
    ON_SYSLOG_THREAD.with(std::cell::Cell::get)
}

/// Why the syslog output cannot start.
#[derive(Debug, thiserror::Error)]
pub enum SyslogError {
    /// The CA file cannot be read or holds no usable certificate.
    #[error("{path}: {reason}")]
    Ca {
        /// The file.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// The collector's host is not a name a certificate can carry.
    #[error("log.syslog: `{0}` is not a DNS name or IP address a certificate can name")]
    ServerName(String),
    /// The thread could not be started.
    #[error("cannot start the syslog thread: {0}")]
    Thread(std::io::Error),
}

/// The sending side of the queue: cheap, never waits.
#[derive(Debug, Clone)]
pub(crate) struct Queue {
    tx: mpsc::Sender<String>,
    status: Arc<Status>,
}

/// What the thread tells the queue's owner, for the flush at shutdown.
#[derive(Debug, Default)]
struct Status {
    /// Connected (UDP: always), so a flush is worth waiting for.
    connected: AtomicBool,
    /// A message is out of the queue but not yet written.
    writing: AtomicBool,
}

impl Queue {
    /// Queue one message; a full queue drops it (counted). Never waits.
    pub(crate) fn push(&self, message: String) {
        if self.tx.try_send(message).is_err() {
            count_dropped();
        }
    }

    /// Wait up to `limit` for queued messages to be written, when the collector is
    /// connected (at shutdown, so the last audit events are not lost).
    pub(crate) fn flush(&self, limit: Duration) {
        let start = Instant::now();
        while start.elapsed() < limit && self.status.connected.load(Ordering::Relaxed) {
            let empty = self.tx.capacity() == self.tx.max_capacity();
            if empty && !self.status.writing.load(Ordering::Relaxed) {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

/// A queue with no thread behind it, for tests of what is queued.
#[cfg(test)]
pub(crate) fn test_queue(capacity: usize) -> (Queue, mpsc::Receiver<String>) {
    let (tx, rx) = mpsc::channel(capacity);
    let status = Arc::new(Status::default());
    (Queue { tx, status }, rx)
}

/// Start the syslog thread for `collector` with a queue of `capacity` messages.
/// A `tls://` collector is verified with the CA certificates in `ca_file`.
pub(crate) fn start(collector: &Collector, ca_file: Option<&Path>, capacity: usize) -> Result<Queue, SyslogError> {
    let tls = match collector.transport {
        SyslogTransport::Tls => Some(tls_connector(collector, ca_file)?),
        _ => None,
    };
    let destination = Destination {
        collector: collector.clone(),
        tls,
    };
    let (tx, rx) = mpsc::channel(capacity);
    let status = Arc::new(Status::default());
    let thread_status = Arc::clone(&status);
    std::thread::Builder::new()
        .name("roomgate-syslog".into())
        .spawn(move || run_thread(destination, rx, &thread_status))
        .map_err(SyslogError::Thread)?;
    Ok(Queue { tx, status })
}

/// The rustls client for a TLS collector: ring provider, TLS 1.3 and 1.2, the CA
/// file's certificates as the only roots, the URL's host as the name to verify.
fn tls_connector(collector: &Collector, ca_file: Option<&Path>) -> Result<TlsTarget, SyslogError> {
    let path = ca_file.unwrap_or(Path::new(""));
    let ca_err = |reason: String| SyslogError::Ca {
        path: path.display().to_string(),
        reason,
    };
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(path).map_err(|e| ca_err(e.to_string()))? {
        let cert = cert.map_err(|e| ca_err(e.to_string()))?;
        roots
            .add(cert)
            .map_err(|e| ca_err(format!("not a usable CA certificate ({e})")))?;
    }
    if roots.is_empty() {
        return Err(ca_err("no certificate in the file".into()));
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| ca_err(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    let name =
        ServerName::try_from(collector.host.clone()).map_err(|_| SyslogError::ServerName(collector.host.clone()))?;
    Ok(TlsTarget {
        connector: tokio_rustls::TlsConnector::from(Arc::new(config)),
        name,
    })
}

/// How to reach a TLS collector.
struct TlsTarget {
    connector: tokio_rustls::TlsConnector,
    name: ServerName<'static>,
}

/// The collector and, for TLS, how to verify it.
struct Destination {
    collector: Collector,
    tls: Option<TlsTarget>,
}

/// A byte stream to the collector (TCP or TLS).
trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

/// An open connection to the collector.
enum Connection {
    Udp(UdpSocket),
    Stream {
        read: ReadHalf<Box<dyn Stream>>,
        write: WriteHalf<Box<dyn Stream>>,
    },
}

fn run_thread(destination: Destination, rx: mpsc::Receiver<String>, status: &Status) {
    ON_SYSLOG_THREAD.with(|on| on.set(true));
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build();
    match runtime {
        Ok(runtime) => runtime.block_on(run(destination, rx, status)),
        Err(e) => {
            tracing::error!(target: "roomgate::syslog", error = %e, "cannot start the syslog runtime; nothing goes to the collector")
        }
    }
}

/// Connect, write until the connection fails, wait, connect again; until the
/// queue's sender is gone.
async fn run(destination: Destination, mut rx: mpsc::Receiver<String>, status: &Status) {
    let mut report = DropReport::default();
    let mut backoff = MIN_BACKOFF;
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        let connection = match tokio::time::timeout(CONNECT_TIMEOUT, destination.connect()).await {
            Ok(Ok(c)) => c,
            Ok(Err(e)) => {
                report.unreachable(&destination.collector, &e.to_string());
                wait(backoff, &mut tick, &mut report).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
                continue;
            }
            Err(_) => {
                report.unreachable(&destination.collector, "no connection within 5 s");
                wait(backoff, &mut tick, &mut report).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
                continue;
            }
        };
        backoff = MIN_BACKOFF;
        report.connected(&destination.collector);
        status.connected.store(true, Ordering::Relaxed);
        let ended = serve(connection, &mut rx, &mut tick, &mut report, status).await;
        status.connected.store(false, Ordering::Relaxed);
        match ended {
            Ended::QueueClosed => return,
            Ended::Failed(reason) => report.unreachable(&destination.collector, &reason),
        }
    }
}

/// Sleep `backoff`, still reporting drops every second.
async fn wait(backoff: Duration, tick: &mut tokio::time::Interval, report: &mut DropReport) {
    let until = tokio::time::Instant::now() + backoff;
    loop {
        tokio::select! {
            () = tokio::time::sleep_until(until) => return,
            _ = tick.tick() => report.periodic(),
        }
    }
}

/// Why a connection's life ended.
enum Ended {
    /// Every sender is gone: the process is ending.
    QueueClosed,
    /// The connection failed; connect again.
    Failed(String),
}

/// Write queued messages to `connection` until it fails.
async fn serve(
    mut connection: Connection,
    rx: &mut mpsc::Receiver<String>,
    tick: &mut tokio::time::Interval,
    report: &mut DropReport,
    status: &Status,
) -> Ended {
    let mut sink = [0u8; 64];
    loop {
        let message = match &mut connection {
            Connection::Udp(_) => tokio::select! {
                m = rx.recv() => m,
                _ = tick.tick() => { report.periodic(); continue; }
            },
            Connection::Stream { read, .. } => tokio::select! {
                m = rx.recv() => m,
                _ = tick.tick() => { report.periodic(); continue; }
                // The collector has nothing to say: the end of the stream or an
                // error means the connection is over (anything it does send is
                // thrown away).
                r = read.read(&mut sink) => match r {
                    Ok(0) => return Ended::Failed("the collector closed the connection".into()),
                    Err(e) => return Ended::Failed(e.to_string()),
                    Ok(_) => continue,
                },
            },
        };
        let Some(message) = message else {
            return Ended::QueueClosed;
        };
        status.writing.store(true, Ordering::Relaxed);
        let sent = send(&mut connection, &message).await;
        status.writing.store(false, Ordering::Relaxed);
        match sent {
            Ok(()) => {}
            // A datagram's failure (often a late ICMP error for an earlier one)
            // loses one message; the socket stays usable.
            Err(_) if matches!(connection, Connection::Udp(_)) => count_dropped(),
            Err(e) => {
                count_dropped();
                return Ended::Failed(e);
            }
        }
    }
}

/// Write one message with its transport's framing.
async fn send(connection: &mut Connection, message: &str) -> Result<(), String> {
    match connection {
        Connection::Udp(socket) => socket
            .send(truncate(message, MAX_DATAGRAM).as_bytes())
            .await
            .map(drop)
            .map_err(|e| e.to_string()),
        Connection::Stream { write, .. } => {
            let frame = octet_counted(truncate(message, MAX_STREAM_MESSAGE));
            let write_all = async {
                write.write_all(&frame).await?;
                write.flush().await
            };
            match tokio::time::timeout(WRITE_TIMEOUT, write_all).await {
                Ok(Ok(())) => Ok(()),
                Ok(Err(e)) => Err(e.to_string()),
                Err(_) => Err("the collector stopped reading".into()),
            }
        }
    }
}

impl Destination {
    /// A new connection: resolve the host again each time (a collector may move)
    /// and try its addresses in turn (`localhost` may be `::1` first).
    async fn connect(&self) -> std::io::Result<Connection> {
        let (host, port) = (self.collector.host.as_str(), self.collector.port);
        let mut last = std::io::Error::other("the host name has no address");
        for addr in tokio::net::lookup_host((host, port)).await? {
            match self.connect_to(addr).await {
                Ok(c) => return Ok(c),
                Err(e) => last = e,
            }
        }
        Err(last)
    }

    async fn connect_to(&self, addr: SocketAddr) -> std::io::Result<Connection> {
        match (self.collector.transport, &self.tls) {
            (SyslogTransport::Udp, _) => connect_udp(addr).await,
            (SyslogTransport::Tls, Some(tls)) => {
                let tcp = TcpStream::connect(addr).await?;
                let stream = tls.connector.connect(tls.name.clone(), tcp).await?;
                Ok(stream_connection(Box::new(stream)))
            }
            _ => Ok(stream_connection(Box::new(TcpStream::connect(addr).await?))),
        }
    }
}

async fn connect_udp(addr: SocketAddr) -> std::io::Result<Connection> {
    let local: SocketAddr = match addr {
        SocketAddr::V4(_) => ([0, 0, 0, 0], 0).into(),
        SocketAddr::V6(_) => ([0u16; 8], 0).into(),
    };
    let socket = UdpSocket::bind(local).await?;
    socket.connect(addr).await?;
    Ok(Connection::Udp(socket))
}

fn stream_connection(stream: Box<dyn Stream>) -> Connection {
    let (read, write) = tokio::io::split(stream);
    Connection::Stream { read, write }
}

/// When drops and outages are told on stderr.
#[derive(Debug, Default)]
struct DropReport {
    /// The drop count last reported.
    reported: u64,
    /// When drops were last reported.
    last: Option<Instant>,
    /// The drop count when the collector became unreachable, while it is.
    down_at: Option<u64>,
}

impl DropReport {
    /// Report drops since the last report, at most once per [`REPORT_INTERVAL`].
    fn periodic(&mut self) {
        let total = dropped_total();
        if total > self.reported && self.last.is_none_or(|t| t.elapsed() >= REPORT_INTERVAL) {
            tracing::warn!(
                target: "roomgate::syslog",
                dropped = total - self.reported,
                dropped_total = total,
                "syslog messages dropped: the collector is slow or unreachable"
            );
            self.reported = total;
            self.last = Some(Instant::now());
        }
    }

    /// The collector cannot be reached: say so once per outage.
    fn unreachable(&mut self, collector: &Collector, reason: &str) {
        if self.down_at.is_none() {
            self.down_at = Some(dropped_total());
            tracing::warn!(
                target: "roomgate::syslog",
                %collector,
                reason,
                "cannot reach the syslog collector; retrying, messages wait in the queue"
            );
        }
    }

    /// Connected: after an outage, say how many messages it cost.
    fn connected(&mut self, collector: &Collector) {
        match self.down_at.take() {
            Some(before) => {
                let total = dropped_total();
                tracing::info!(
                    target: "roomgate::syslog",
                    %collector,
                    dropped = total - before,
                    dropped_total = total,
                    "the syslog collector is reachable again"
                );
            }
            None => tracing::info!(target: "roomgate::syslog", %collector, "sending to the syslog collector"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn syslog_a_datagram_is_cut_at_2048_bytes_on_a_character_boundary() {
        let receiver = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        receiver.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut connection = connect_udp(receiver.local_addr().unwrap()).await.unwrap();
        let long = format!("<13>1 - - roomgate - - - {}", "\u{e9}".repeat(2000));
        send(&mut connection, &long).await.unwrap();
        let mut buf = [0u8; 8192];
        let n = receiver.recv(&mut buf).unwrap();
        assert!(n <= MAX_DATAGRAM && n > MAX_DATAGRAM - 4, "{n}");
        let text = std::str::from_utf8(&buf[..n]).expect("whole characters only");
        assert!(long.starts_with(text));
    }

    #[tokio::test]
    async fn syslog_a_stream_message_is_octet_counted() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let tcp = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
        let (mut peer, _) = listener.accept().await.unwrap();
        let mut connection = stream_connection(Box::new(tcp));
        send(&mut connection, "<13>1 - - roomgate - - - h\u{e9}").await.unwrap();
        send(&mut connection, "<13>1 - - roomgate - - - two").await.unwrap();
        drop(connection);
        let mut got = Vec::new();
        peer.read_to_end(&mut got).await.unwrap();
        assert_eq!(
            String::from_utf8(got).unwrap(),
            "28 <13>1 - - roomgate - - - h\u{e9}28 <13>1 - - roomgate - - - two"
        );
    }
}
