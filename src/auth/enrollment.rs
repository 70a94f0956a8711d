//! Enrollment codes: generation, normalisation and the factory code file.
//!
//! A code is 9 symbols from a 32-symbol alphabet without look-alikes (no I, O, 0, 1),
//! shown as `XXX-XXX-XXX`: 45 bits from the OS CSPRNG. When typed as the admin
//! password it is accepted case-insensitively with or without dashes (and spaces),
//! so it is normalised to the 9 bare upper-case symbols before hashing.

use std::collections::BTreeMap;
use std::path::Path;

use zeroize::Zeroizing;

use crate::auth::accounts::Role;
use crate::auth::passwords::{Hasher, Password};
use crate::auth::policy::Policy;
use crate::auth::state::{AccountRecord, STATE_VERSION, State};
use crate::util::UnixTime;

/// The 32 symbols of a code: digits 2–9 and letters without I and O.
pub(crate) const ALPHABET: &[u8; 32] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ";
/// Symbols in a code.
pub(crate) const SYMBOLS: usize = 9;

/// Errors of the code file or the random source.
#[derive(Debug, thiserror::Error)]
pub enum EnrollmentError {
    /// The OS random source failed.
    #[error("the operating system's random source failed")]
    Random,
    /// The factory code file could not be read.
    #[error("cannot read the enrollment code file {path}: {reason}")]
    Read {
        /// File path.
        path: String,
        /// I/O error kind.
        reason: String,
    },
    /// The factory code file does not hold a valid code. The content is not echoed.
    #[error("the enrollment code file {path} does not hold a code of the form XXX-XXX-XXX")]
    Invalid {
        /// File path.
        path: String,
    },
    /// A code that is not of the form XXX-XXX-XXX was given.
    #[error("an enrollment code must have the form XXX-XXX-XXX")]
    Malformed,
    /// Hashing the new admin password failed.
    #[error("hashing the new admin password failed")]
    Hash,
}

/// A new code from the OS CSPRNG, formatted `XXX-XXX-XXX`.
pub(crate) fn generate() -> Result<String, EnrollmentError> {
    let mut raw = Zeroizing::new([0u8; SYMBOLS]);
    getrandom::fill(raw.as_mut()).map_err(|_| EnrollmentError::Random)?;
    // 256 is a multiple of 32, so taking the low five bits is unbiased.
    let symbols: Zeroizing<Vec<u8>> = Zeroizing::new(raw.iter().map(|b| ALPHABET[usize::from(b & 31)]).collect());
    Ok(format_symbols(&symbols))
}

fn format_symbols(symbols: &[u8]) -> String {
    let mut out = String::with_capacity(SYMBOLS + 2);
    for (i, &b) in symbols.iter().enumerate() {
        if i > 0 && i % 3 == 0 {
            out.push('-');
        }
        out.push(char::from(b));
    }
    out
}

/// Normalise typed input: drop dashes and spaces, upper-case. `Some` only when the
/// result is exactly 9 symbols of the alphabet.
pub(crate) fn normalize(input: &str) -> Option<Zeroizing<String>> {
    let bare: Zeroizing<String> = Zeroizing::new(
        input
            .chars()
            .filter(|c| *c != '-' && *c != ' ')
            .map(|c| c.to_ascii_uppercase())
            .collect(),
    );
    let valid = bare.len() == SYMBOLS && bare.bytes().all(|b| ALPHABET.contains(&b));
    valid.then_some(bare)
}

/// The canonical `XXX-XXX-XXX` form of typed input, if it is a code.
pub fn canonical(input: &str) -> Option<String> {
    normalize(input).map(|bare| format_symbols(bare.as_bytes()))
}

/// Read a factory-provisioned code file (surrounding white space allowed).
pub(crate) fn read_code_file(path: &Path) -> Result<String, EnrollmentError> {
    let text = Zeroizing::new(std::fs::read_to_string(path).map_err(|e| EnrollmentError::Read {
        path: path.display().to_string(),
        reason: e.kind().to_string(),
    })?);
    canonical(text.trim()).ok_or_else(|| EnrollmentError::Invalid {
        path: path.display().to_string(),
    })
}

/// The code a new (or factory-reset) device gets: the factory file's when one is
/// configured, a fresh random one otherwise.
pub(crate) fn fresh_code(code_file: Option<&Path>) -> Result<String, EnrollmentError> {
    match code_file {
        Some(path) => read_code_file(path),
        None => generate(),
    }
}

/// The admin password record for an enrollment code: the hash of its normalised form.
pub(crate) fn admin_record(code: &str, hasher: &Hasher, now: UnixTime) -> Result<AccountRecord, EnrollmentError> {
    let bare = normalize(code).ok_or(EnrollmentError::Malformed)?;
    let hash = hasher
        .hash_blocking(&Password::new(bare.as_str()))
        .map_err(|_| EnrollmentError::Hash)?;
    Ok(AccountRecord {
        enabled: true,
        password_hash: Some(hash),
        password_is_enrollment_code: true,
        password_is_empty: false,
        changed_at: now,
    })
}

/// The factory state: the four accounts at their defaults (monitor and integrator
/// disabled without password, general enabled with an empty password, admin enabled
/// with the enrollment code), a new signing key, no credentials, default settings.
pub fn factory_state(code: &str, policy: &Policy, hasher: &Hasher, now: UnixTime) -> Result<State, EnrollmentError> {
    let disabled = AccountRecord {
        enabled: false,
        password_hash: None,
        password_is_enrollment_code: false,
        password_is_empty: false,
        changed_at: now,
    };
    let general = AccountRecord {
        enabled: true,
        password_hash: Some(
            hasher
                .hash_blocking(&Password::new(""))
                .map_err(|_| EnrollmentError::Hash)?,
        ),
        password_is_enrollment_code: false,
        password_is_empty: true,
        changed_at: now,
    };
    let accounts = BTreeMap::from([
        (Role::Monitor, disabled.clone()),
        (Role::General, general),
        (Role::Integrator, disabled),
        (Role::Admin, admin_record(code, hasher, now)?),
    ]);
    Ok(State {
        version: STATE_VERSION,
        generation: 0,
        enrollment_code: code.to_string(),
        signing_key: crate::auth::credentials::new_signing_key().map_err(|_| EnrollmentError::Random)?,
        accounts,
        sessions: BTreeMap::new(),
        api_keys: BTreeMap::new(),
        policy: policy.clone(),
        device: Default::default(),
    })
}

/// Enrollment reset: a new code, the admin password set to it, every admin session
/// revoked. Other accounts, API keys and settings are untouched.
pub(crate) fn apply_enrollment_reset(state: &mut State, code: String, admin: AccountRecord) {
    state.enrollment_code = code;
    state.accounts.insert(Role::Admin, admin);
    state.revoke_sessions_of(Role::Admin);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_codes_have_the_documented_shape() {
        for _ in 0..200 {
            let code = generate().unwrap();
            assert_eq!(code.len(), 11);
            let parts: Vec<_> = code.split('-').collect();
            assert_eq!(parts.len(), 3);
            for p in parts {
                assert_eq!(p.len(), 3);
                assert!(p.bytes().all(|b| ALPHABET.contains(&b)), "{code}");
            }
            assert!(!code.contains(['I', 'O', '0', '1']));
        }
    }

    #[test]
    fn codes_are_not_repeated() {
        let codes: std::collections::HashSet<_> = (0..1000).map(|_| generate().unwrap()).collect();
        assert_eq!(codes.len(), 1000);
    }

    #[test]
    fn alphabet_has_no_look_alikes_or_repeats() {
        let set: std::collections::HashSet<_> = ALPHABET.iter().collect();
        assert_eq!(set.len(), 32);
        for b in b"IO01" {
            assert!(!ALPHABET.contains(b));
        }
    }

    #[test]
    fn typed_forms_normalise() {
        for typed in [
            "ABC-DEF-GHJ",
            "abc-def-ghj",
            "ABCDEFGHJ",
            "abcdefghj",
            "abc def ghj",
            "Ab-cDe-FgHj",
        ] {
            assert_eq!(
                normalize(typed).as_deref().map(String::as_str),
                Some("ABCDEFGHJ"),
                "{typed}"
            );
        }
        for bad in [
            "",
            "ABC-DEF-GH",
            "ABC-DEF-GHJK",
            "ABC-DEF-GHI",
            "ABC-DEF-GH0",
            "ÄBC-DEF-GHJ",
        ] {
            assert!(normalize(bad).is_none(), "{bad}");
        }
        assert_eq!(canonical("abcdefghj").as_deref(), Some("ABC-DEF-GHJ"));
    }

    #[test]
    fn code_file_is_read_and_checked() {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("good");
        std::fs::write(&good, " xyz-234-pqr\n").unwrap();
        assert_eq!(read_code_file(&good).unwrap(), "XYZ-234-PQR");
        let bad = dir.path().join("bad");
        std::fs::write(&bad, "SECRET-GARBAGE").unwrap();
        let e = read_code_file(&bad).unwrap_err().to_string();
        assert!(!e.contains("SECRET"), "{e}");
        assert!(read_code_file(&dir.path().join("missing")).is_err());
    }
}
