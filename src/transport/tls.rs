//! The device certificate and the rustls server configuration.
//!
//! On first start with no certificate, an ECDSA P-256 key and a self-signed
//! certificate (SANs: the configured host names and addresses, `localhost`,
//! `127.0.0.1`) are generated with rcgen into the cert folder: `key.pem` 0600,
//! `cert.pem` 0644, each written atomically. Operator-supplied PEM files are used as
//! they are and never regenerated. The SHA-256 fingerprint of the certificate is what
//! clients pin. This module and [`crate::transport::server`] are the only ones that use rustls.

use std::fs;
use std::net::IpAddr;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::Arc;

use rcgen::{CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, KeyPair, KeyUsagePurpose};
use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::config::TlsConfig;
use crate::error::IoFailure;
use crate::files::{FileError, Folder};

/// A certificate problem. Never includes key material.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A file operation failed.
    #[error(transparent)]
    Io(#[from] IoFailure),
    /// A PEM file could not be used.
    #[error("{path}: {reason}")]
    Pem {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// Only one of the two files exists; nothing is overwritten.
    #[error("{present} exists but {missing} does not; restore it, or run `roomgate cert regenerate`")]
    Incomplete {
        /// The file that exists.
        present: String,
        /// The file that is missing.
        missing: String,
    },
    /// Generating the key or certificate failed.
    #[error("could not generate the device certificate: {0}")]
    Generate(String),
    /// rustls refused the certificate and key.
    #[error("the certificate and key cannot be used together: {0}")]
    Config(String),
    /// The certificate folder, or a file in it, is not what it must be (a link, not
    /// a folder, writable by others). It is left untouched.
    #[error(transparent)]
    Refused(#[from] crate::files::Refused),
}

impl From<FileError> for TlsError {
    fn from(e: FileError) -> Self {
        match e {
            FileError::Io(e) => TlsError::Io(e),
            FileError::Refused(refused) => TlsError::Refused(refused),
        }
    }
}

/// The certificate chain and key in use.
pub(crate) struct DeviceCert {
    /// Leaf first.
    pub chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    /// SHA-256 fingerprint of the leaf, `AA:BB:…`.
    pub fingerprint: String,
    /// True when this start generated it.
    pub generated: bool,
}

impl std::fmt::Debug for DeviceCert {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceCert")
            .field("fingerprint", &self.fingerprint)
            .field("generated", &self.generated)
            .finish_non_exhaustive()
    }
}

/// SHA-256 fingerprint of a DER certificate, upper-case hex pairs joined by `:`.
pub(crate) fn fingerprint(der: &[u8]) -> String {
    crate::certificate::fingerprint(der)
}

/// What the rest of the service knows about a loaded certificate (`App`).
pub(crate) fn live(cert: &DeviceCert) -> crate::certificate::LiveCertificate {
    let leaf = cert.chain.first().map_or(&[][..], |c| c.as_ref());
    crate::certificate::LiveCertificate::new(leaf, cert.chain.len())
}

/// Load the configured certificate, generating one first when neither file exists
/// (and the files are not operator-supplied).
pub(crate) fn load_or_generate(cfg: &TlsConfig, device_name: &str) -> Result<DeviceCert, TlsError> {
    let cert_exists = cfg.cert_file.exists();
    let key_exists = cfg.key_file.exists();
    if cert_exists && key_exists {
        match crate::certificate::finish_interrupted_install(cfg) {
            Ok(true) => tracing::warn!(
                "an interrupted certificate installation was completed: the pending key is now the device key"
            ),
            Ok(false) => {}
            Err(e) => tracing::warn!(error = %e, "could not check for an interrupted certificate installation"),
        }
    }
    let generated = match (cert_exists, key_exists) {
        (true, true) => false,
        (false, false) if !cfg.operator_supplied => {
            generate(cfg, device_name)?;
            true
        }
        (false, false) => {
            return Err(TlsError::Pem {
                path: cfg.cert_file.display().to_string(),
                reason: "the configured certificate file does not exist".into(),
            });
        }
        (true, false) => {
            return Err(TlsError::Incomplete {
                present: cfg.cert_file.display().to_string(),
                missing: cfg.key_file.display().to_string(),
            });
        }
        (false, true) => {
            return Err(TlsError::Incomplete {
                present: cfg.key_file.display().to_string(),
                missing: cfg.cert_file.display().to_string(),
            });
        }
    };
    let mut cert = load(cfg)?;
    cert.generated = generated;
    Ok(cert)
}

/// Read the certificate chain and key named in the config.
pub(crate) fn load(cfg: &TlsConfig) -> Result<DeviceCert, TlsError> {
    let pem_err = |path: &Path, reason: String| TlsError::Pem {
        path: path.display().to_string(),
        reason,
    };
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&cfg.cert_file)
        .map_err(|e| pem_err(&cfg.cert_file, e.to_string()))?
        .collect::<Result<_, _>>()
        .map_err(|e| pem_err(&cfg.cert_file, e.to_string()))?;
    let Some(leaf) = chain.first() else {
        return Err(pem_err(&cfg.cert_file, "no certificate in the file".into()));
    };
    let fingerprint = fingerprint(leaf);
    // The pem error's text describes the framing, never the key bytes.
    let key = PrivateKeyDer::from_pem_file(&cfg.key_file)
        .map_err(|e| pem_err(&cfg.key_file, format!("no usable private key ({e})")))?;
    // PEM framing says nothing about the key itself: let the crypto provider parse it.
    let signing_key = rustls::crypto::ring::default_provider()
        .key_provider
        .load_private_key(key.clone_key())
        .map_err(|_| {
            pem_err(
                &cfg.key_file,
                "the private key cannot be parsed (unsupported type or corrupt)".into(),
            )
        })?;
    // A certificate replaced before its key (an installation in progress) is not
    // used until both belong together.
    if !key_matches(signing_key.as_ref(), leaf) {
        return Err(pem_err(
            &cfg.cert_file,
            format!("the certificate is not for the key in {}", cfg.key_file.display()),
        ));
    }
    warn_if_key_readable(&cfg.key_file);
    Ok(DeviceCert {
        chain,
        key,
        fingerprint,
        generated: false,
    })
}

/// Whether the leaf certificate holds the public key of `key` (true when the key
/// cannot say, which rustls's ring keys always can).
fn key_matches(key: &dyn rustls::sign::SigningKey, leaf: &[u8]) -> bool {
    use x509_parser::prelude::FromDer as _;
    let Some(spki) = key.public_key() else {
        return true;
    };
    let Ok((_, key_info)) = x509_parser::x509::SubjectPublicKeyInfo::from_der(spki.as_ref()) else {
        return true;
    };
    x509_parser::parse_x509_certificate(leaf)
        .is_ok_and(|(_, cert)| cert.public_key().subject_public_key.data == key_info.subject_public_key.data)
}

fn warn_if_key_readable(path: &Path) {
    if let Ok(meta) = fs::metadata(path)
        && meta.permissions().mode() & 0o077 != 0
    {
        tracing::warn!(path = %path.display(), "the private key file is readable by other users; chmod 600 it");
    }
}

/// Generate a new key and self-signed certificate into the cert folder, replacing
/// any there. Each file is written to a temp file made anew and renamed into place;
/// a link in the folder is replaced, never written through (`files`).
pub(crate) fn generate(cfg: &TlsConfig, device_name: &str) -> Result<(), TlsError> {
    if cfg.operator_supplied {
        return Err(TlsError::Generate(
            "the certificate is operator-supplied (tls.cert_file); replace those files instead".into(),
        ));
    }
    let folder = Folder::create(&cfg.cert_dir, 0o755)?;

    let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).map_err(|e| TlsError::Generate(e.to_string()))?;
    let params = certificate_params(cfg, device_name)?;
    let cert = params
        .self_signed(&key)
        .map_err(|e| TlsError::Generate(e.to_string()))?;

    let key_pem = zeroize::Zeroizing::new(key.serialize_pem());
    write_file(&folder, &cfg.key_file, key_pem.as_bytes(), 0o600)?;
    write_file(&folder, &cfg.cert_file, cert.pem().as_bytes(), 0o644)?;
    Ok(())
}

fn certificate_params(cfg: &TlsConfig, device_name: &str) -> Result<CertificateParams, TlsError> {
    let mut params = CertificateParams::default();
    // The self-signed certificate also names localhost and 127.0.0.1, for the
    // technician and the tests on the device itself.
    let names = crate::certificate::each_once(&["localhost".to_string()], &cfg.hostnames);
    let ips = crate::certificate::each_once(&[IpAddr::from([127, 0, 0, 1])], &cfg.ip_addresses);
    params.subject_alt_names =
        crate::certificate::subject_alt_names(&names, &ips).map_err(|e| TlsError::Generate(e.to_string()))?;
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, device_name);
    dn.push(DnType::OrganizationName, "roomgate device certificate");
    params.distinguished_name = dn;
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::days(1);
    params.not_after = now + time::Duration::days(i64::from(cfg.validity_days));
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let mut serial = [0u8; 16];
    getrandom::fill(&mut serial).map_err(|_| TlsError::Generate("the random source failed".into()))?;
    serial[0] &= 0x7f; // a positive serial number
    params.serial_number = Some(rcgen::SerialNumber::from_slice(&serial));
    Ok(params)
}

/// Write a generated file (named in the cert folder) without following a link.
fn write_file(folder: &Folder, path: &Path, bytes: &[u8], mode: u32) -> Result<(), TlsError> {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
    folder.write_atomic(name, bytes, mode)?;
    Ok(())
}

/// A cheap fingerprint of the certificate and key files' identities (inode, size,
/// modification time): it changes when either file is replaced.
pub(crate) fn material_stamp(cfg: &TlsConfig) -> Option<[i128; 6]> {
    use std::os::unix::fs::MetadataExt;
    let c = fs::metadata(&cfg.cert_file).ok()?;
    let k = fs::metadata(&cfg.key_file).ok()?;
    Some([
        i128::from(c.ino()),
        i128::from(c.mtime_nsec()) + i128::from(c.mtime()) * 1_000_000_000,
        i128::from(c.len()),
        i128::from(k.ino()),
        i128::from(k.mtime_nsec()) + i128::from(k.mtime()) * 1_000_000_000,
        i128::from(k.len()),
    ])
}

/// Describe the configured certificate (and check that its key is usable and
/// belongs to it): `roomgate cert show`.
pub(crate) fn describe(cfg: &TlsConfig) -> Result<crate::certificate::CertificateView, TlsError> {
    load(cfg)?;
    let now = i64::try_from(crate::util::now()).unwrap_or(i64::MAX);
    crate::certificate::describe_file(cfg, cfg.expiry_warning, now).map_err(|e| TlsError::Pem {
        path: cfg.cert_file.display().to_string(),
        reason: e.to_string(),
    })
}

/// The TLS settings in force, replaced whole when the certificate is reloaded.
pub(crate) type SharedServerConfig = Arc<arc_swap::ArcSwap<ServerConfig>>;

/// The rustls server configuration: ring provider, TLS 1.3 and 1.2 (forward-secret
/// AEAD suites only, in the server's order), ALPN `h2` then `http/1.1`, session
/// tickets and the session-id cache on for resumption.
/// ring's suites with AES-128-GCM/SHA-256 first (TLS 1.3, then ECDSA and RSA for
/// TLS 1.2), the rest in ring's order: every suite stays offered.
///
/// Why first: the key exchange (X25519) and the device key (P-256) give 128-bit
/// security, so AES-256 with SHA-384 does not raise the connection's level, while
/// SHA-384 runs the whole TLS 1.3 key schedule on SHA-512 blocks, which CPUs do not
/// accelerate; SHA-256 has instructions of its own on x86-64 and ARMv8. Measured:
/// the SHA-384 key schedule was 16% of the CPU of a full handshake (docs/PERFORMANCE.md).
fn crypto_provider() -> rustls::crypto::CryptoProvider {
    use rustls::CipherSuite::{
        TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, TLS13_AES_128_GCM_SHA256,
    };
    let mut provider = rustls::crypto::ring::default_provider();
    provider.cipher_suites.sort_by_key(|suite| {
        !matches!(
            suite.suite(),
            TLS13_AES_128_GCM_SHA256 | TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 | TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
        )
    });
    provider
}

pub(crate) fn server_config(cert: &DeviceCert) -> Result<Arc<ServerConfig>, TlsError> {
    let provider = Arc::new(crypto_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| TlsError::Config(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(cert.chain.clone(), cert.key.clone_key())
        .map_err(|e| TlsError::Config(e.to_string()))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    // The server's preference order (strongest first) decides, not the client's.
    config.ignore_client_order = true;
    config.ticketer = rustls::crypto::ring::Ticketer::new().map_err(|e| TlsError::Config(e.to_string()))?;
    // One TLS 1.3 resumption ticket per full handshake, not rustls' two: each costs
    // a key derivation and a record, and a client resumes with one (the second only
    // serves clients that race two connections).
    config.send_tls13_tickets = 1;
    Ok(Arc::new(config))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(dir: &Path) -> TlsConfig {
        TlsConfig {
            cert_dir: dir.to_path_buf(),
            cert_file: dir.join(crate::config::CERT_FILE),
            key_file: dir.join(crate::config::KEY_FILE),
            operator_supplied: false,
            hostnames: vec!["room-12.example.net".into()],
            ip_addresses: vec!["10.1.2.3".parse().unwrap()],
            validity_days: 30,
            expiry_warning: std::time::Duration::from_secs(30 * 86_400),
        }
    }

    #[test]
    fn aes_128_gcm_sha256_is_preferred_and_every_ring_suite_stays_offered() {
        use rustls::CipherSuite as C;
        let ours: Vec<C> = crypto_provider().cipher_suites.iter().map(|s| s.suite()).collect();
        assert_eq!(
            ours[..3],
            [
                C::TLS13_AES_128_GCM_SHA256,
                C::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
                C::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
            ]
        );
        let mut all: Vec<C> = rustls::crypto::ring::default_provider()
            .cipher_suites
            .iter()
            .map(|s| s.suite())
            .collect();
        let mut sorted = ours.clone();
        all.sort_by_key(|c| u16::from(*c));
        sorted.sort_by_key(|c| u16::from(*c));
        assert_eq!(sorted, all, "the same suites, reordered");
    }

    #[test]
    fn generates_once_with_safe_modes_then_reuses() {
        let dir = tempfile::tempdir().unwrap();
        let c = cfg(&dir.path().join("certs"));
        let first = load_or_generate(&c, "Room 12").unwrap();
        assert!(first.generated);
        assert_eq!(fs::metadata(&c.key_file).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(fs::metadata(&c.cert_file).unwrap().permissions().mode() & 0o777, 0o644);
        let second = load_or_generate(&c, "Room 12").unwrap();
        assert!(!second.generated);
        assert_eq!(first.fingerprint, second.fingerprint);
        assert_eq!(first.fingerprint.len(), 32 * 3 - 1);
        assert!(server_config(&second).is_ok());
    }

    #[test]
    fn describe_lists_names_validity_and_pins() {
        let dir = tempfile::tempdir().unwrap();
        let c = cfg(dir.path());
        generate(&c, "Room 12").unwrap();
        let info = describe(&c).unwrap();
        assert_eq!(
            info.names,
            [
                "DNS:localhost",
                "DNS:room-12.example.net",
                "IP:127.0.0.1",
                "IP:10.1.2.3"
            ]
        );
        assert!(info.subject.contains("CN=Room 12"), "{}", info.subject);
        assert!(info.public_key_pin.starts_with("sha256//") && info.public_key_pin.len() == 52);
        assert!(info.not_before < info.not_after);
        assert_eq!(info.sha256_fingerprint, load(&c).unwrap().fingerprint);
    }

    #[test]
    fn a_certificate_for_another_key_is_not_loaded() {
        let dir = tempfile::tempdir().unwrap();
        let c = cfg(dir.path());
        generate(&c, "Room 12").unwrap();
        let key = fs::read(&c.key_file).unwrap();
        generate(&c, "Room 12").unwrap();
        fs::write(&c.key_file, key).unwrap();
        let e = load(&c).map(|_| ()).unwrap_err().to_string();
        assert!(e.contains("not for the key"), "{e}");
    }

    #[test]
    fn half_present_material_is_not_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let c = cfg(dir.path());
        fs::write(&c.key_file, "precious").unwrap();
        assert!(matches!(load_or_generate(&c, "x"), Err(TlsError::Incomplete { .. })));
        assert_eq!(fs::read_to_string(&c.key_file).unwrap(), "precious");
    }

    #[test]
    fn operator_files_are_never_generated() {
        let dir = tempfile::tempdir().unwrap();
        let mut c = cfg(dir.path());
        c.operator_supplied = true;
        assert!(load_or_generate(&c, "x").is_err());
        assert!(!c.cert_file.exists());
    }

    #[test]
    fn garbage_key_is_reported_without_its_content() {
        let dir = tempfile::tempdir().unwrap();
        let c = cfg(dir.path());
        generate(&c, "x").unwrap();
        fs::write(
            &c.key_file,
            "-----BEGIN PRIVATE KEY-----\nSECRETSTUFF\n-----END PRIVATE KEY-----\n",
        )
        .unwrap();
        let e = load(&c).map(|_| ()).unwrap_err().to_string();
        assert!(!e.contains("SECRETSTUFF"), "{e}");
    }

    /// The cert folder sits in the service user's state folder: a link planted as
    /// the folder is refused, and one planted at a temp name is replaced, not
    /// written through.
    #[test]
    fn generation_does_not_follow_planted_links() {
        use crate::files::test_support::{Target, service_folder};
        let dir = tempfile::tempdir().unwrap();
        let state = service_folder(dir.path());
        let elsewhere = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(elsewhere.path(), state.join("certs")).unwrap();
        let c = cfg(&state.join("certs"));
        let e = generate(&c, "Room 12").unwrap_err();
        assert!(matches!(e, TlsError::Refused(_)), "{e}");
        assert_eq!(fs::read_dir(elsewhere.path()).unwrap().count(), 0);
        fs::remove_file(state.join("certs")).unwrap();
        let target = Target::new();
        fs::create_dir(state.join("certs")).unwrap();
        std::os::unix::fs::symlink(&target.path, state.join("certs/.key.pem.tmp")).unwrap();
        load_or_generate(&c, "Room 12").unwrap();
        target.assert_untouched();
        assert!(fs::symlink_metadata(&c.key_file).unwrap().is_file());
    }
}
