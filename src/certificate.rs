//! Operator certificates: a certificate signing request for the device key (or a
//! new, pending key), the checks a signed chain must pass before it is installed,
//! the installation itself, and what is shown about a certificate (subject, names,
//! issuer, validity, fingerprint, days left).
//!
//! Shared by the admin API (`api::certificate`), the console (`cli`) and
//! `transport::tls`. No rustls here: parsing is x509-parser's, keys and requests
//! rcgen's, files go through [`crate::files::Folder`] (no link is followed).
//!
//! **The pending key.** `POST …/csr {"newKey": true}` makes a new ECDSA P-256 key and
//! keeps it as `key.pending.pem` (0600) beside the live key, which stays in use. Only
//! installing a chain whose leaf holds the pending key promotes it: the chain is
//! written first, then the key, then the pending file is removed. A crash between
//! the two writes leaves a certificate for the pending key; the next start finishes
//! the promotion ([`finish_interrupted_install`]).
//!
//! **Operator-supplied files** (`tls.cert_file`/`tls.key_file` set) are the
//! operator's: no request is made for them and nothing is installed over them
//! (`certificate_operator_supplied`); they replace those files themselves and the
//! service picks them up within a second.
//!
//! No error, log line or answer made here holds key material or echoes the text
//! it was given.

use std::io::Read as _;
use std::net::IpAddr;
use std::path::Path;
use std::time::Duration;

use rcgen::{CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, KeyPair, KeyUsagePurpose, SanType};
use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::GeneralName;
use zeroize::Zeroizing;

use crate::config::TlsConfig;
use crate::files::{FileError, Folder};

/// The pending key's file name, in the certificate folder.
pub(crate) const PENDING_KEY_FILE: &str = "key.pending.pem";

/// Most certificates an installed chain may hold.
const MAX_CHAIN: usize = 8;

/// Why a request or an installation was refused, or failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CertError {
    /// The text is not a usable PEM certificate chain.
    #[error("{0}")]
    Invalid(String),
    /// The leaf's public key is neither the device key nor the pending key.
    #[error(
        "the certificate is not for this device's key nor for the pending key; sign a request made by this device (cert csr)"
    )]
    KeyMismatch,
    /// A certificate of the chain is not valid at this moment.
    #[error("{0}")]
    NotValidNow(String),
    /// Names the device answers to are missing from the leaf's SANs.
    #[error("the certificate does not name {}; the device answers to every [tls] hostnames and ip_addresses entry", .0.join(", "))]
    NamesNotCovered(Vec<String>),
    /// The configured files are the operator's (`tls.cert_file`/`tls.key_file`).
    #[error(
        "the certificate files are operator-supplied (tls.cert_file, tls.key_file); replace those files instead, the service picks them up"
    )]
    OperatorSupplied,
    /// There is no device key to make a request for.
    #[error("there is no device key yet; start the service once, or ask for a new key")]
    NoKey,
    /// A file could not be read or written, or is not what it must be.
    #[error(transparent)]
    File(#[from] FileError),
    /// Making the key or request failed.
    #[error("could not make the request: {0}")]
    Generate(String),
}

impl CertError {
    /// The stable error code of a refusal the caller can correct; `None` for a
    /// failure on the device's side.
    pub(crate) fn code(&self) -> Option<&'static str> {
        match self {
            CertError::Invalid(_) => Some("invalid_certificate"),
            CertError::KeyMismatch => Some("certificate_key_mismatch"),
            CertError::NotValidNow(_) => Some("certificate_not_valid_now"),
            CertError::NamesNotCovered(_) => Some("certificate_names_not_covered"),
            CertError::OperatorSupplied => Some("certificate_operator_supplied"),
            CertError::NoKey => Some("no_device_key"),
            CertError::File(_) | CertError::Generate(_) => None,
        }
    }

    /// Whether the refusal is a conflict with the device's state (409) rather than
    /// a bad request (400).
    pub(crate) fn is_conflict(&self) -> bool {
        matches!(
            self,
            CertError::KeyMismatch | CertError::OperatorSupplied | CertError::NoKey
        )
    }
}

/// The names a request carries and an installed certificate must cover: the
/// configured `[tls] hostnames` and `ip_addresses`; when neither is configured,
/// `localhost` and `127.0.0.1` (a request must name something).
pub(crate) fn device_names(cfg: &TlsConfig) -> (Vec<String>, Vec<IpAddr>) {
    if cfg.hostnames.is_empty() && cfg.ip_addresses.is_empty() {
        return (vec!["localhost".into()], vec![IpAddr::from([127, 0, 0, 1])]);
    }
    (each_once(&[], &cfg.hostnames), each_once(&[], &cfg.ip_addresses))
}

/// `first`, then the items of `more` not seen yet, in order.
pub(crate) fn each_once<T: PartialEq + Clone>(first: &[T], more: &[T]) -> Vec<T> {
    let mut all: Vec<T> = first.to_vec();
    for item in more {
        if !all.contains(item) {
            all.push(item.clone());
        }
    }
    all
}

/// Host names and addresses as the subject alternative names of a certificate or a
/// request (the self-signed certificate and the CSR name the device the same way).
pub(crate) fn subject_alt_names(names: &[String], ips: &[IpAddr]) -> Result<Vec<SanType>, rcgen::Error> {
    let mut sans = Vec::with_capacity(names.len() + ips.len());
    for n in names {
        sans.push(SanType::DnsName(n.clone().try_into()?));
    }
    sans.extend(ips.iter().copied().map(SanType::IpAddress));
    Ok(sans)
}

fn refuse_operator_files(cfg: &TlsConfig) -> Result<(), CertError> {
    if cfg.operator_supplied {
        return Err(CertError::OperatorSupplied);
    }
    Ok(())
}

/// The file name of `path` in the certificate folder.
fn name_of(path: &Path) -> &str {
    path.file_name().and_then(|n| n.to_str()).unwrap_or_default()
}

/// Read a private file (a key) from the folder; `None` when there is none.
fn read_secret(folder: &Folder, name: &str) -> Result<Option<Zeroizing<String>>, CertError> {
    let Some(mut file) = folder.open_file(name)? else {
        return Ok(None);
    };
    let mut text = Zeroizing::new(String::new());
    file.read_to_string(&mut text)
        .map_err(crate::error::io_failure("read", &folder.path_of(name)))
        .map_err(FileError::from)?;
    Ok(Some(text))
}

fn read_public(folder: &Folder, name: &str) -> Result<Option<Vec<u8>>, CertError> {
    let Some(mut file) = folder.open_file(name)? else {
        return Ok(None);
    };
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)
        .map_err(crate::error::io_failure("read", &folder.path_of(name)))
        .map_err(FileError::from)?;
    Ok(Some(bytes))
}

/// The raw public key of a PEM private key, when rcgen can read it.
fn public_key_of(key_pem: &str) -> Option<Vec<u8>> {
    use rcgen::PublicKeyData as _;
    KeyPair::from_pem(key_pem).ok().map(|k| k.der_bytes().to_vec())
}

/// A PKCS#10 request (PEM) for the device key, or for a new key kept as the
/// pending key (replacing an earlier pending key; the live key stays in use).
/// Subject: CN = the device name; SANs: [`device_names`]; server authentication.
pub(crate) fn create_csr(cfg: &TlsConfig, device_name: &str, new_key: bool) -> Result<String, CertError> {
    refuse_operator_files(cfg)?;
    let folder = Folder::create(&cfg.cert_dir, 0o755)?;
    let key = if new_key {
        let key =
            KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).map_err(|e| CertError::Generate(e.to_string()))?;
        let pem = Zeroizing::new(key.serialize_pem());
        folder.write_atomic(PENDING_KEY_FILE, pem.as_bytes(), 0o600)?;
        key
    } else {
        let pem = read_secret(&folder, name_of(&cfg.key_file))?.ok_or(CertError::NoKey)?;
        KeyPair::from_pem(&pem).map_err(|_| {
            CertError::Generate("the device key cannot sign a request (unsupported type); ask for a new key".into())
        })?
    };
    let mut params = CertificateParams::default();
    let (names, ips) = device_names(cfg);
    params.subject_alt_names = subject_alt_names(&names, &ips).map_err(|e| CertError::Generate(e.to_string()))?;
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, device_name);
    params.distinguished_name = dn;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let csr = params
        .serialize_request(&key)
        .map_err(|e| CertError::Generate(e.to_string()))?;
    csr.pem().map_err(|e| CertError::Generate(e.to_string()))
}

/// A chain that passed every check.
#[derive(Debug)]
pub(crate) struct CheckedChain {
    /// The chain as it will be written: each certificate PEM-encoded anew (nothing
    /// else from the text given is kept).
    pub pem: String,
    /// The leaf holds the pending key (installing it promotes that key).
    pub uses_pending_key: bool,
    /// SHA-256 fingerprint of the leaf.
    pub fingerprint: String,
}

/// Split PEM text into DER certificates. Anything but `CERTIFICATE` blocks is
/// refused without being echoed.
fn pem_certificates(text: &str) -> Result<Vec<Vec<u8>>, CertError> {
    let mut ders = Vec::new();
    for block in x509_parser::pem::Pem::iter_from_buffer(text.as_bytes()) {
        let block = block.map_err(|_| CertError::Invalid("the chain is not valid PEM".into()))?;
        if block.label != "CERTIFICATE" {
            let hint = if block.label.contains("PRIVATE KEY") {
                "; never send a private key, it stays on the device"
            } else {
                ""
            };
            return Err(CertError::Invalid(format!(
                "the chain may hold CERTIFICATE blocks only{hint}"
            )));
        }
        ders.push(block.contents);
    }
    if ders.is_empty() {
        return Err(CertError::Invalid(
            "no certificate found; send the PEM chain, leaf first".into(),
        ));
    }
    if ders.len() > MAX_CHAIN {
        return Err(CertError::Invalid(format!(
            "the chain holds more than {MAX_CHAIN} certificates"
        )));
    }
    Ok(ders)
}

fn parse(der: &[u8], which: usize) -> Result<X509Certificate<'_>, CertError> {
    match x509_parser::parse_x509_certificate(der) {
        Ok(([], cert)) => Ok(cert),
        _ => Err(CertError::Invalid(format!(
            "certificate {} of the chain cannot be parsed",
            which + 1
        ))),
    }
}

/// Whether the DNS SAN `san` covers `name` (case-insensitive; `*.` stands for one
/// left-most label).
fn dns_covers(san: &str, name: &str) -> bool {
    let san = san.to_ascii_lowercase();
    let name = name.to_ascii_lowercase();
    match san.strip_prefix("*.") {
        Some(suffix) => name
            .split_once('.')
            .is_some_and(|(label, rest)| !label.is_empty() && rest == suffix),
        None => san == name,
    }
}

fn ip_of(bytes: &[u8]) -> Option<IpAddr> {
    match bytes.len() {
        4 => <[u8; 4]>::try_from(bytes).ok().map(IpAddr::from),
        16 => <[u8; 16]>::try_from(bytes).ok().map(IpAddr::from),
        _ => None,
    }
}

/// Check a PEM chain (leaf first, then intermediates) against the device: it
/// parses and is in order, the leaf holds the live key (`live_key`, a PEM private
/// key) or the pending one, every certificate is valid at `now`, and the leaf
/// names every [`device_names`] entry. Checks run in that order; the first that
/// fails is the answer.
pub(crate) fn check_chain(
    cfg: &TlsConfig,
    text: &str,
    live_key: Option<&str>,
    pending_key: Option<&str>,
    now: i64,
) -> Result<CheckedChain, CertError> {
    let ders = pem_certificates(text)?;
    let certs = ders
        .iter()
        .enumerate()
        .map(|(i, der)| parse(der, i))
        .collect::<Result<Vec<_>, _>>()?;
    for (i, pair) in certs.windows(2).enumerate() {
        if pair[0].issuer().as_raw() != pair[1].subject().as_raw() {
            return Err(CertError::Invalid(format!(
                "certificate {} was not issued by certificate {}; send the leaf first, then each issuer",
                i + 1,
                i + 2
            )));
        }
    }
    let leaf = &certs[0];
    let leaf_key = leaf.public_key().subject_public_key.data.as_ref();
    let matches = |key: Option<&str>| key.and_then(public_key_of).is_some_and(|k| k == leaf_key);
    let uses_pending_key = if matches(live_key) {
        false
    } else if matches(pending_key) {
        true
    } else {
        return Err(CertError::KeyMismatch);
    };
    for (i, cert) in certs.iter().enumerate() {
        let validity = cert.validity();
        let (from, until) = (validity.not_before.timestamp(), validity.not_after.timestamp());
        let which = if i == 0 {
            "the certificate".to_string()
        } else {
            format!("certificate {} of the chain", i + 1)
        };
        if now < from {
            return Err(CertError::NotValidNow(format!(
                "{which} is not valid before {}",
                rfc3339(from)
            )));
        }
        if now >= until {
            return Err(CertError::NotValidNow(format!("{which} expired at {}", rfc3339(until))));
        }
    }
    let (names, ips) = device_names(cfg);
    let (sans, san_ips) = sans_of(leaf);
    let mut missing: Vec<String> = names
        .iter()
        .filter(|n| !sans.iter().any(|s| dns_covers(s, n)))
        .cloned()
        .collect();
    missing.extend(ips.iter().filter(|ip| !san_ips.contains(ip)).map(ToString::to_string));
    if !missing.is_empty() {
        return Err(CertError::NamesNotCovered(missing));
    }
    let pem = ders.iter().map(|der| pem_encode(der)).collect::<String>();
    Ok(CheckedChain {
        pem,
        uses_pending_key,
        fingerprint: fingerprint(&ders[0]),
    })
}

/// The DNS names and IP addresses of a certificate's SAN extension.
fn sans_of(cert: &X509Certificate<'_>) -> (Vec<String>, Vec<IpAddr>) {
    let (mut names, mut ips) = (Vec::new(), Vec::new());
    if let Ok(Some(san)) = cert.subject_alternative_name() {
        for name in &san.value.general_names {
            match name {
                GeneralName::DNSName(d) => names.push((*d).to_string()),
                GeneralName::IPAddress(b) => ips.extend(ip_of(b)),
                _ => {}
            }
        }
    }
    (names, ips)
}

/// PEM of one DER certificate (64-column lines).
fn pem_encode(der: &[u8]) -> String {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = String::from("-----BEGIN CERTIFICATE-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).unwrap_or_default());
        out.push('\n');
    }
    out.push_str("-----END CERTIFICATE-----\n");
    out
}

/// SHA-256 fingerprint of a DER certificate, upper-case hex pairs joined by `:`.
pub(crate) fn fingerprint(der: &[u8]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, der);
    digest
        .as_ref()
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

fn rfc3339(t: i64) -> String {
    crate::util::rfc3339(u64::try_from(t).unwrap_or(0))
}

/// What an installation replaced, to put back if the new chain cannot be applied.
#[derive(Debug)]
pub(crate) struct Previous {
    cert: Vec<u8>,
    /// The live key and the pending key, when the installation promoted the latter.
    keys: Option<(Zeroizing<String>, Zeroizing<String>)>,
}

/// An installed chain.
#[derive(Debug)]
pub(crate) struct Installed {
    /// SHA-256 fingerprint of the new leaf.
    pub fingerprint: String,
    /// Whether the pending key became the device key.
    pub promoted_key: bool,
    /// What was replaced.
    pub previous: Previous,
}

/// Check `text` (see [`check_chain`]) and, when it passes, write it as the device
/// certificate — and promote the pending key when the chain is for it. A refusal
/// changes nothing. A running service loads the files at its next look (within a
/// second) or when asked (`App::apply_certificate`).
pub(crate) fn install(cfg: &TlsConfig, text: &str, now: i64) -> Result<Installed, CertError> {
    refuse_operator_files(cfg)?;
    let folder = Folder::open(&cfg.cert_dir)?;
    let (cert_name, key_name) = (name_of(&cfg.cert_file), name_of(&cfg.key_file));
    let live_key = read_secret(&folder, key_name)?.ok_or(CertError::NoKey)?;
    let pending_key = read_secret(&folder, PENDING_KEY_FILE)?;
    let checked = check_chain(
        cfg,
        text,
        Some(&live_key),
        pending_key.as_deref().map(|k| k.as_str()),
        now,
    )?;
    let previous_cert = read_public(&folder, cert_name)?.unwrap_or_default();
    // The chain first, then the key: a crash between the two leaves a chain for
    // the pending key, which the next start promotes (`finish_interrupted_install`).
    folder.write_atomic(cert_name, checked.pem.as_bytes(), 0o644)?;
    let mut keys = None;
    if checked.uses_pending_key
        && let Some(pending) = pending_key
    {
        if let Err(e) = folder.write_atomic(key_name, pending.as_bytes(), 0o600) {
            let _ = folder.write_atomic(cert_name, &previous_cert, 0o644);
            return Err(e.into());
        }
        folder.remove(PENDING_KEY_FILE)?;
        keys = Some((live_key, pending));
    }
    Ok(Installed {
        fingerprint: checked.fingerprint,
        promoted_key: keys.is_some(),
        previous: Previous {
            cert: previous_cert,
            keys,
        },
    })
}

/// Put back what [`install`] replaced (the new chain could not be applied).
pub(crate) fn roll_back(cfg: &TlsConfig, previous: Previous) -> Result<(), CertError> {
    let folder = Folder::open(&cfg.cert_dir)?;
    if let Some((live, pending)) = &previous.keys {
        folder.write_atomic(PENDING_KEY_FILE, pending.as_bytes(), 0o600)?;
        folder.write_atomic(name_of(&cfg.key_file), live.as_bytes(), 0o600)?;
    }
    folder.write_atomic(name_of(&cfg.cert_file), &previous.cert, 0o644)?;
    Ok(())
}

/// An installation interrupted between writing the chain and the key leaves a
/// chain for the pending key: promote it. `Ok(true)` when it did.
pub(crate) fn finish_interrupted_install(cfg: &TlsConfig) -> Result<bool, CertError> {
    if cfg.operator_supplied {
        return Ok(false);
    }
    let folder = match Folder::open(&cfg.cert_dir) {
        Ok(f) => f,
        Err(_) => return Ok(false),
    };
    let Some(pending) = read_secret(&folder, PENDING_KEY_FILE)? else {
        return Ok(false);
    };
    let (Some(cert), Some(live)) = (
        read_public(&folder, name_of(&cfg.cert_file))?,
        read_secret(&folder, name_of(&cfg.key_file))?,
    ) else {
        return Ok(false);
    };
    let Some(leaf_key) = pem_certificates(&String::from_utf8_lossy(&cert)).ok().and_then(|ders| {
        parse(&ders[0], 0)
            .ok()
            .map(|c| c.public_key().subject_public_key.data.to_vec())
    }) else {
        return Ok(false);
    };
    let is = |key: &str| public_key_of(key).is_some_and(|k| k == leaf_key);
    if is(&live) || !is(&pending) {
        return Ok(false);
    }
    folder.write_atomic(name_of(&cfg.key_file), pending.as_bytes(), 0o600)?;
    folder.remove(PENDING_KEY_FILE)?;
    Ok(true)
}

/// The certificate in use, as the transport loaded it.
#[derive(Debug, Clone)]
pub(crate) struct LiveCertificate {
    /// The leaf, DER.
    pub leaf: Vec<u8>,
    /// Certificates in the chain served (leaf included).
    pub chain_len: usize,
    /// SHA-256 fingerprint of the leaf.
    pub fingerprint: String,
    /// End of the leaf's validity (Unix seconds), when it parses.
    pub not_after: Option<i64>,
}

impl LiveCertificate {
    /// Describe the chain served (leaf first).
    pub(crate) fn new(leaf: &[u8], chain_len: usize) -> LiveCertificate {
        let not_after = x509_parser::parse_x509_certificate(leaf)
            .ok()
            .map(|(_, c)| c.validity().not_after.timestamp());
        LiveCertificate {
            leaf: leaf.to_vec(),
            chain_len,
            fingerprint: fingerprint(leaf),
            not_after,
        }
    }
}

/// The certificate's expiry health (in `GET /api/v1/status` as `certificate`).
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Expiry {
    /// End of validity (RFC 3339).
    pub not_after: String,
    /// Whole days left (negative once expired).
    pub days_left: i64,
    /// Within `tls.expiry_warning` of the end (or past it).
    pub expiring_soon: bool,
}

/// The expiry health of a certificate ending at `not_after`, at `now`.
pub(crate) fn expiry(not_after: i64, now: i64, warning: Duration) -> Expiry {
    let left = not_after - now;
    Expiry {
        not_after: rfc3339(not_after),
        days_left: left.div_euclid(86_400),
        expiring_soon: left <= i64::try_from(warning.as_secs()).unwrap_or(i64::MAX),
    }
}

/// What `GET /api/v1/security/certificate` and `roomgate cert show` say.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CertificateView {
    /// The certificate file.
    pub path: String,
    /// The operator named the files (`tls.cert_file`); else roomgate manages them.
    pub operator_supplied: bool,
    /// Issued by itself (the generated certificate) rather than by a CA.
    pub self_signed: bool,
    /// Subject distinguished name.
    pub subject: String,
    /// Issuer distinguished name.
    pub issuer: String,
    /// Subject alternative names (`DNS:…`, `IP:…`).
    pub names: Vec<String>,
    /// Start of validity (RFC 3339).
    pub not_before: String,
    /// End of validity (RFC 3339).
    pub not_after: String,
    /// Whole days left (negative once expired).
    pub days_left: i64,
    /// Within `tls.expiry_warning` of the end (or past it).
    pub expiring_soon: bool,
    /// SHA-256 fingerprint of the certificate.
    pub sha256_fingerprint: String,
    /// `sha256//…` hash of the public key, for `curl --pinnedpubkey`.
    pub public_key_pin: String,
    /// Certificates in the chain (leaf included).
    pub chain_length: usize,
    /// A new key made for a request awaits its certificate.
    pub pending_key: bool,
}

/// Describe a leaf (DER) served in a chain of `chain_len` certificates.
pub(crate) fn view(
    cfg: &TlsConfig,
    leaf: &[u8],
    chain_len: usize,
    warning: Duration,
    now: i64,
) -> Option<CertificateView> {
    use base64::Engine as _;
    let (_, x509) = x509_parser::parse_x509_certificate(leaf).ok()?;
    let mut names = Vec::new();
    if let Ok(Some(san)) = x509.subject_alternative_name() {
        for name in &san.value.general_names {
            match name {
                GeneralName::DNSName(d) => names.push(format!("DNS:{d}")),
                GeneralName::IPAddress(b) => {
                    names.push(ip_of(b).map_or_else(|| "IP:?".into(), |ip| format!("IP:{ip}")));
                }
                other => names.push(other.to_string()),
            }
        }
    }
    let spki = ring::digest::digest(&ring::digest::SHA256, x509.public_key().raw);
    let not_after = x509.validity().not_after.timestamp();
    let health = expiry(not_after, now, warning);
    let pending_key = cfg
        .key_file
        .parent()
        .is_some_and(|dir| std::fs::symlink_metadata(dir.join(PENDING_KEY_FILE)).is_ok_and(|m| m.is_file()))
        && !cfg.operator_supplied;
    Some(CertificateView {
        path: cfg.cert_file.display().to_string(),
        operator_supplied: cfg.operator_supplied,
        self_signed: x509.subject().as_raw() == x509.issuer().as_raw(),
        subject: x509.subject().to_string(),
        issuer: x509.issuer().to_string(),
        names,
        not_before: rfc3339(x509.validity().not_before.timestamp()),
        not_after: health.not_after,
        days_left: health.days_left,
        expiring_soon: health.expiring_soon,
        sha256_fingerprint: fingerprint(leaf),
        public_key_pin: format!(
            "sha256//{}",
            base64::engine::general_purpose::STANDARD.encode(spki.as_ref())
        ),
        chain_length: chain_len,
        pending_key,
    })
}

/// Describe the certificate file named in the config (the console's `cert show`).
pub(crate) fn describe_file(cfg: &TlsConfig, warning: Duration, now: i64) -> Result<CertificateView, CertError> {
    let text = std::fs::read(&cfg.cert_file)
        .map_err(crate::error::io_failure("read", &cfg.cert_file))
        .map_err(FileError::from)?;
    let ders = pem_certificates(&String::from_utf8_lossy(&text))?;
    view(cfg, &ders[0], ders.len(), warning, now)
        .ok_or_else(|| CertError::Invalid(format!("{}: not a valid certificate", cfg.cert_file.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_cover_one_label_only() {
        assert!(dns_covers("*.example.net", "room-12.example.net"));
        assert!(dns_covers("Room-12.Example.net", "room-12.example.net"));
        assert!(!dns_covers("*.example.net", "a.b.example.net"));
        assert!(!dns_covers("*.example.net", "example.net"));
        assert!(!dns_covers("room-1.example.net", "room-12.example.net"));
    }

    #[test]
    fn expiry_counts_whole_days_and_warns_within_the_window() {
        let day = 86_400;
        let e = expiry(10 * day + 5, 0, Duration::from_secs(30 * day as u64));
        assert_eq!((e.days_left, e.expiring_soon), (10, true));
        let e = expiry(40 * day, 0, Duration::from_secs(30 * day as u64));
        assert_eq!((e.days_left, e.expiring_soon), (40, false));
        let e = expiry(-5, 0, Duration::ZERO);
        assert_eq!((e.days_left, e.expiring_soon), (-1, true));
    }

    #[test]
    fn private_keys_and_garbage_are_refused_without_echo() {
        let text = "-----BEGIN PRIVATE KEY-----\nU0VDUkVUU1RVRkY=\n-----END PRIVATE KEY-----\n";
        let e = pem_certificates(text).unwrap_err();
        assert_eq!(e.code(), Some("invalid_certificate"));
        assert!(!e.to_string().contains("U0VD"), "{e}");
        assert_eq!(
            pem_certificates("hello").unwrap_err().code(),
            Some("invalid_certificate")
        );
    }
}
