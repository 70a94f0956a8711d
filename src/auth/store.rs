//! The state file: load, atomic write, cross-process lock, and noticing changes made
//! by another process.
//!
//! This module is the only one that touches the state directory. A write is:
//! take the process mutex and the `state.lock` file lock (shared with the CLI),
//! re-read the file if another process replaced it, apply the change to a copy,
//! write `.state.json.tmp` (mode 0600), fsync it, rename it over `state.json`, fsync
//! the directory, then publish the new state in memory. A crash at any instant
//! leaves either the old or the new file; the change is acknowledged only after the
//! rename is durable.
//!
//! Readers take an `Arc<State>` snapshot without locking ([`Store::current`]).
//! Every published state is passed to a listener (set once by the service) while the
//! process mutex is held, so listeners see states in order.

use std::fs::{self, File};
use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use arc_swap::ArcSwap;

use crate::auth::state::State;
use crate::error::{IoFailure, io_failure};

/// Name of the state document in the state directory.
pub(crate) const STATE_FILE: &str = "state.json";
const LOCK_FILE: &str = "state.lock";

/// A state store failure. Messages name the file and the operation, never contents.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A file operation failed.
    #[error(transparent)]
    Io(#[from] IoFailure),
    /// The state file exists but cannot be used. It is left untouched.
    #[error("the state file {path} cannot be used: {reason} (restore a backup, or run `roomgate factory-reset --yes`)")]
    Corrupt {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// Creating the factory state failed.
    #[error("could not create the factory state: {0}")]
    Init(String),
}

/// What identifies one version of the file on disk: a rename gives a new inode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FileIdentity {
    dev: u64,
    ino: u64,
    len: u64,
    mtime: i64,
    mtime_nsec: i64,
}

impl FileIdentity {
    fn of(meta: &fs::Metadata) -> Self {
        FileIdentity {
            dev: meta.dev(),
            ino: meta.ino(),
            len: meta.len(),
            mtime: meta.mtime(),
            mtime_nsec: meta.mtime_nsec(),
        }
    }
}

/// Sees every published state; `external` is true when another process wrote it.
type Listener = Box<dyn Fn(&Arc<State>, bool) + Send + Sync>;

/// The persisted state and its in-memory snapshot.
pub(crate) struct Store {
    dir: PathBuf,
    path: PathBuf,
    lock_path: PathBuf,
    /// Identity of the file our snapshot came from. Held across every
    /// read-modify-write; never held across an `.await` (all callers are blocking).
    guard: Mutex<Option<FileIdentity>>,
    current: ArcSwap<State>,
    listener: OnceLock<Listener>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// Holds the cross-process lock until dropped.
struct FileLock(File);

impl Drop for FileLock {
    fn drop(&mut self) {
        let _ = self.0.unlock();
    }
}

impl Store {
    /// Open the state in `dir`, creating the folder (0700) and, when there is no state
    /// file yet, the factory state from `factory` (under the lock, so two processes
    /// starting together agree on one). Blocking.
    pub(crate) fn open(dir: &Path, factory: impl FnOnce() -> Result<State, StoreError>) -> Result<Store, StoreError> {
        create_state_dir(dir)?;
        let path = dir.join(STATE_FILE);
        let lock_path = dir.join(LOCK_FILE);
        let lock = lock_file(dir, &lock_path)?;
        let (state, identity) = match read_state(&path)? {
            Some(found) => found,
            None => {
                let mut state = factory()?;
                state.generation = 1;
                write_atomic(dir, &path, &state)?;
                let identity = identity_of(&path)?;
                (state, identity)
            }
        };
        drop(lock);
        Ok(Store {
            dir: dir.to_path_buf(),
            path,
            lock_path,
            guard: Mutex::new(Some(identity)),
            current: ArcSwap::from_pointee(state),
            listener: OnceLock::new(),
        })
    }

    /// Set the listener that sees every state this store publishes (once).
    pub(crate) fn set_listener(&self, listener: impl Fn(&Arc<State>, bool) + Send + Sync + 'static) {
        let _ = self.listener.set(Box::new(listener));
    }

    /// The current state, without locking.
    pub(crate) fn current(&self) -> Arc<State> {
        self.current.load_full()
    }

    /// The state file's path.
    #[cfg(test)]
    fn path(&self) -> &Path {
        &self.path
    }

    fn lock_guard(&self) -> MutexGuard<'_, Option<FileIdentity>> {
        // A panic while holding the guard cannot leave the file half-written (the
        // rename is atomic), so a poisoned mutex is safe to keep using.
        self.guard.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn publish(&self, state: State, external: bool) -> Arc<State> {
        let state = Arc::new(state);
        self.current.store(Arc::clone(&state));
        if let Some(listener) = self.listener.get() {
            listener(&state, external);
        }
        state
    }

    /// Apply `f` to a copy of the state and persist it durably before returning.
    /// When `f` fails nothing is written. Blocking: call from the blocking pool.
    pub(crate) fn update<T, E: From<StoreError>>(&self, f: impl FnOnce(&mut State) -> Result<T, E>) -> Result<T, E> {
        let mut guard = self.lock_guard();
        let _lock = lock_file(&self.dir, &self.lock_path)?;
        let mut base = self.current();
        let on_disk = identity_of(&self.path)?;
        if *guard != Some(on_disk) {
            // Another process (the CLI) replaced the file since we last read it.
            if let Some((state, identity)) = read_state(&self.path)? {
                *guard = Some(identity);
                base = self.publish(state, true);
            }
        }
        let mut next = (*base).clone();
        let out = f(&mut next)?;
        if next == *base {
            return Ok(out);
        }
        next.generation = base.generation.wrapping_add(1);
        write_atomic(&self.dir, &self.path, &next)?;
        *guard = Some(identity_of(&self.path)?);
        self.publish(next, false);
        Ok(out)
    }

    /// Replace the whole state, even when the file on disk cannot be read (factory
    /// reset). `make` receives the current state when there is a readable one.
    /// Blocking.
    pub(crate) fn replace(
        dir: &Path,
        make: impl FnOnce(Option<&State>) -> Result<State, StoreError>,
    ) -> Result<State, StoreError> {
        create_state_dir(dir)?;
        let path = dir.join(STATE_FILE);
        let _lock = lock_file(dir, &dir.join(LOCK_FILE))?;
        let old = read_state(&path).ok().flatten().map(|(s, _)| s);
        let mut next = make(old.as_ref())?;
        next.generation = old.map_or(1, |s| s.generation.wrapping_add(1));
        write_atomic(dir, &path, &next)?;
        Ok(next)
    }

    /// Reload the file if another process replaced it; returns whether it did. One
    /// `stat` (plus a read when changed), and it gives up at once (`Ok(false)`)
    /// when a write holds the store: cheap enough to call from an async task — the
    /// write will have caught up with the file itself, and the next look sees
    /// anything newer.
    pub(crate) fn try_reload_if_changed(&self) -> Result<bool, StoreError> {
        match self.guard.try_lock() {
            Ok(guard) => self.reload_locked(guard),
            Err(std::sync::TryLockError::Poisoned(p)) => self.reload_locked(p.into_inner()),
            Err(std::sync::TryLockError::WouldBlock) => Ok(false),
        }
    }

    fn reload_locked(&self, mut guard: MutexGuard<'_, Option<FileIdentity>>) -> Result<bool, StoreError> {
        let on_disk = identity_of(&self.path)?;
        if *guard == Some(on_disk) {
            return Ok(false);
        }
        match read_state(&self.path)? {
            Some((state, identity)) => {
                *guard = Some(identity);
                self.publish(state, true);
                Ok(true)
            }
            None => Ok(false),
        }
    }
}

/// The state folder is private to the service (0700).
fn create_state_dir(dir: &Path) -> Result<(), StoreError> {
    crate::files::create_dir(dir, 0o700)?;
    Ok(())
}

fn lock_file(dir: &Path, path: &Path) -> Result<FileLock, StoreError> {
    let file = crate::files::open_private(dir, path)?;
    file.lock().map_err(io_failure("lock", path))?;
    Ok(FileLock(file))
}

fn identity_of(path: &Path) -> Result<FileIdentity, StoreError> {
    fs::metadata(path)
        .map(|m| FileIdentity::of(&m))
        .map_err(|e| io_failure("stat", path)(e).into())
}

/// Read and check the state file; `None` when it does not exist.
fn read_state(path: &Path) -> Result<Option<(State, FileIdentity)>, StoreError> {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_failure("open", path)(e).into()),
    };
    // Identity and content come from the same open file, so a concurrent rename
    // cannot pair one version's identity with another's content.
    let meta = file.metadata().map_err(io_failure("stat", path))?;
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    (&file).read_to_end(&mut bytes).map_err(io_failure("read", path))?;
    let corrupt = |reason: String| StoreError::Corrupt {
        path: path.display().to_string(),
        reason,
    };
    let state: State = serde_json::from_slice(&bytes).map_err(|e| {
        corrupt(format!(
            "not a valid state document (line {}, column {})",
            e.line(),
            e.column()
        ))
    })?;
    check(&state).map_err(corrupt)?;
    Ok(Some((state, FileIdentity::of(&meta))))
}

/// Check the invariants a loaded document must satisfy.
fn check(state: &State) -> Result<(), String> {
    if state.version != crate::auth::state::STATE_VERSION {
        return Err(format!(
            "layout version {} is not supported (expected {})",
            state.version,
            crate::auth::state::STATE_VERSION
        ));
    }
    for role in crate::auth::accounts::Role::ALL {
        if !state.accounts.contains_key(&role) {
            return Err(format!("the {role} account is missing"));
        }
    }
    if crate::auth::enrollment::canonical(&state.enrollment_code).as_deref() != Some(state.enrollment_code.as_str()) {
        return Err("the enrollment code is malformed".into());
    }
    if crate::auth::credentials::decode_signing_key(&state.signing_key).is_none() {
        return Err("the credential signing key is malformed".into());
    }
    if let Err(v) = state.policy.validate() {
        return Err(format!("policy field {} is invalid", v[0].field));
    }
    Ok(())
}

/// Write the state durably: temp file, fsync, rename, fsync the folder.
fn write_atomic(dir: &Path, path: &Path, state: &State) -> Result<(), StoreError> {
    let bytes = serde_json::to_vec_pretty(state).map_err(|e| StoreError::Init(e.to_string()))?;
    crate::files::write_atomic(dir, path, &bytes, 0o600)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::passwords::Hasher;
    use crate::config::HashParams;
    use std::os::unix::fs::PermissionsExt;

    fn factory() -> Result<State, StoreError> {
        let hasher = Hasher::new(
            HashParams {
                memory_kib: 64,
                iterations: 1,
                parallelism: 1,
            },
            1,
            0,
        )
        .unwrap();
        crate::auth::enrollment::factory_state("ABC-DEF-GHJ", &Default::default(), &hasher, 1)
            .map_err(|e| StoreError::Init(e.to_string()))
    }

    #[test]
    fn creates_the_factory_state_once_with_private_modes() {
        let dir = tempfile::tempdir().unwrap();
        let sd = dir.path().join("state");
        let store = Store::open(&sd, factory).unwrap();
        assert_eq!(store.current().generation, 1);
        assert_eq!(fs::metadata(&sd).unwrap().permissions().mode() & 0o777, 0o700);
        assert_eq!(fs::metadata(store.path()).unwrap().permissions().mode() & 0o777, 0o600);
        let again = Store::open(&sd, || panic!("must not re-create")).unwrap();
        assert_eq!(*again.current(), *store.current());
    }

    #[test]
    fn updates_are_durable_and_failed_updates_write_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), factory).unwrap();
        store
            .update(|s| {
                s.device.audio.speaker_volume = 7;
                Ok::<_, StoreError>(())
            })
            .unwrap();
        let before = fs::read(store.path()).unwrap();
        let r: Result<(), StoreError> = store.update(|s| {
            s.device.audio.speaker_volume = 9;
            Err(StoreError::Init("refused".into()))
        });
        assert!(r.is_err());
        assert_eq!(fs::read(store.path()).unwrap(), before);
        assert_eq!(store.current().device.audio.speaker_volume, 7);
        let reopened = Store::open(dir.path(), factory).unwrap();
        assert_eq!(reopened.current().device.audio.speaker_volume, 7);
        assert_eq!(reopened.current().generation, 2);
        assert!(!dir.path().join(".state.json.tmp").exists());
    }

    #[test]
    fn another_writer_is_noticed_and_not_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let service = Store::open(dir.path(), factory).unwrap();
        let seen = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let s2 = Arc::clone(&seen);
        service.set_listener(move |s, external| {
            if external {
                s2.store(s.generation, std::sync::atomic::Ordering::SeqCst);
            }
        });
        let cli = Store::open(dir.path(), factory).unwrap();
        cli.update(|s| {
            s.device.audio.speaker_bass_level = 11;
            Ok::<_, StoreError>(())
        })
        .unwrap();
        assert!(service.try_reload_if_changed().unwrap());
        assert!(!service.try_reload_if_changed().unwrap());
        assert_eq!(service.current().device.audio.speaker_bass_level, 11);
        assert_eq!(seen.load(std::sync::atomic::Ordering::SeqCst), 2);
        // A write by the service now builds on the CLI's change.
        cli.update(|s| {
            s.device.audio.speaker_treble_level = 12;
            Ok::<_, StoreError>(())
        })
        .unwrap();
        service
            .update(|s| {
                s.device.audio.microphone_mute = true;
                Ok::<_, StoreError>(())
            })
            .unwrap();
        let merged = Store::open(dir.path(), factory).unwrap().current();
        assert_eq!(
            (
                merged.device.audio.speaker_bass_level,
                merged.device.audio.speaker_treble_level,
                merged.device.audio.microphone_mute
            ),
            (11, 12, true)
        );
    }

    #[test]
    fn a_corrupt_file_is_reported_and_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(STATE_FILE), b"{ not json").unwrap();
        let e = Store::open(dir.path(), factory).unwrap_err();
        assert!(matches!(e, StoreError::Corrupt { .. }), "{e}");
        assert_eq!(fs::read(dir.path().join(STATE_FILE)).unwrap(), b"{ not json");
        // Factory reset can still replace it.
        Store::replace(dir.path(), |old| {
            assert!(old.is_none());
            factory()
        })
        .unwrap();
        assert!(Store::open(dir.path(), factory).is_ok());
    }

    #[test]
    fn a_state_missing_an_account_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = factory().unwrap();
        s.accounts.remove(&crate::auth::accounts::Role::Integrator);
        fs::write(dir.path().join(STATE_FILE), serde_json::to_vec(&s).unwrap()).unwrap();
        let e = Store::open(dir.path(), factory).unwrap_err().to_string();
        assert!(e.contains("integrator"), "{e}");
    }
}
