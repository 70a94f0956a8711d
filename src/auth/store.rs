//! The state file: load, atomic write, cross-process lock, and noticing changes made
//! by another process.
//!
//! This module is the only one that touches the state directory, and only through
//! [`crate::files::Folder`]: each operation opens the folder once (refused when it is
//! a link or writable by others than its owner) and works by name inside it, never
//! following a link. A write is: take the process mutex and the `state.lock` file
//! lock (shared with the CLI), re-read the file if another process replaced it,
//! apply the change to a copy, write `.state.json.tmp` (made anew, mode 0600), fsync
//! it, rename it over `state.json`, fsync the directory, then publish the new state
//! in memory. A crash at any instant leaves either the old or the new file; the
//! change is acknowledged only after the rename is durable. A `state.json` or
//! `state.lock` that is not a regular file is refused ([`StoreError::Refused`]) and
//! left as it is.
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
use crate::files::{FileError, Folder};

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
    /// The state folder, or a file in it, is not what it must be (a link, not a
    /// regular file, writable by others). It is left untouched.
    #[error(transparent)]
    Refused(#[from] crate::files::Refused),
}

impl From<FileError> for StoreError {
    fn from(e: FileError) -> Self {
        match e {
            FileError::Io(e) => StoreError::Io(e),
            FileError::Refused(refused) => StoreError::Refused(refused),
        }
    }
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
        let folder = create_state_dir(dir)?;
        let path = dir.join(STATE_FILE);
        let lock = lock_file(&folder)?;
        let (state, identity) = match read_state(&folder)? {
            Some(found) => found,
            None => {
                let mut state = factory()?;
                state.generation = 1;
                write_atomic(&folder, &state)?;
                let identity = identity_of(&path)?;
                (state, identity)
            }
        };
        drop(lock);
        Ok(Store {
            dir: dir.to_path_buf(),
            path,
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
        let folder = Folder::open(&self.dir).map_err(StoreError::from)?;
        let _lock = lock_file(&folder)?;
        let mut base = self.current();
        let on_disk = identity_of(&self.path)?;
        if *guard != Some(on_disk) {
            // Another process (the CLI) replaced the file since we last read it.
            if let Some((state, identity)) = read_state(&folder)? {
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
        write_atomic(&folder, &next)?;
        *guard = Some(identity_of(&self.path)?);
        self.publish(next, false);
        Ok(out)
    }

    /// Replace the whole state, even when the file on disk cannot be read (factory
    /// reset): a `state.json` that is not a regular file is replaced as an entry (the
    /// rename never writes through a link). `make` receives the current state when
    /// there is a readable one. Blocking.
    pub(crate) fn replace(
        dir: &Path,
        make: impl FnOnce(Option<&State>) -> Result<State, StoreError>,
    ) -> Result<State, StoreError> {
        let folder = create_state_dir(dir)?;
        let _lock = lock_file(&folder)?;
        let old = read_state(&folder).ok().flatten().map(|(s, _)| s);
        let mut next = make(old.as_ref())?;
        next.generation = old.map_or(1, |s| s.generation.wrapping_add(1));
        write_atomic(&folder, &next)?;
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
        match read_state(&Folder::open(&self.dir)?)? {
            Some((state, identity)) => {
                *guard = Some(identity);
                self.publish(state, true);
                Ok(true)
            }
            None => Ok(false),
        }
    }
}

/// The state folder is private to the service (0700 when made here; the package
/// makes it 0750). It must be a folder, not a link, writable by its owner only.
fn create_state_dir(dir: &Path) -> Result<Folder, StoreError> {
    Ok(Folder::create(dir, 0o700)?)
}

fn lock_file(folder: &Folder) -> Result<FileLock, StoreError> {
    let file = folder.open_private(LOCK_FILE)?;
    file.lock().map_err(io_failure("lock", &folder.path_of(LOCK_FILE)))?;
    Ok(FileLock(file))
}

/// The identity of the entry `state.json` itself: a link there is not followed.
fn identity_of(path: &Path) -> Result<FileIdentity, StoreError> {
    fs::symlink_metadata(path)
        .map(|m| FileIdentity::of(&m))
        .map_err(|e| io_failure("stat", path)(e).into())
}

/// Read and check the state file; `None` when it does not exist. Refused when it is
/// not a regular file (a link is not followed).
fn read_state(folder: &Folder) -> Result<Option<(State, FileIdentity)>, StoreError> {
    let path = &folder.path_of(STATE_FILE);
    let Some(file) = folder.open_file(STATE_FILE)? else {
        return Ok(None);
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
fn write_atomic(folder: &Folder, state: &State) -> Result<(), StoreError> {
    let bytes = serde_json::to_vec_pretty(state).map_err(|e| StoreError::Init(e.to_string()))?;
    folder.write_atomic(STATE_FILE, &bytes, 0o600)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::passwords::Hasher;
    use crate::config::HashParams;
    use crate::files::test_support::{Target, service_folder};
    use std::os::unix::fs::{FileTypeExt, PermissionsExt, symlink};

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

    fn assert_refused<T>(r: Result<T, StoreError>, what: &str) -> String {
        match r {
            Err(e @ StoreError::Refused(_)) => {
                let text = e.to_string();
                assert!(text.contains(what), "{text}");
                text
            }
            Err(e) => panic!("expected a refusal ({what}), got {e}"),
            Ok(_) => panic!("expected a refusal ({what}), got success"),
        }
    }

    /// A link planted at `state.json` is neither read nor written through; the
    /// factory reset replaces the link itself.
    #[test]
    fn a_link_at_the_state_file_is_refused_and_its_target_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let sd = service_folder(dir.path());
        let target = Target::new();
        symlink(&target.path, sd.join(STATE_FILE)).unwrap();
        let text = assert_refused(Store::open(&sd, factory), "symbolic link");
        assert!(text.contains("state.json"), "{text}");
        target.assert_untouched();
        Store::replace(&sd, |old| {
            assert!(old.is_none());
            factory()
        })
        .unwrap();
        target.assert_untouched();
        assert!(fs::symlink_metadata(sd.join(STATE_FILE)).unwrap().is_file());
        assert!(Store::open(&sd, || panic!("must not re-create")).is_ok());
    }

    /// Links planted at `state.lock` and `.state.json.tmp` beside a good state, as
    /// the service user could: the lock is refused, the temp link is removed.
    #[test]
    fn links_at_the_lock_and_temp_files_are_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let sd = service_folder(dir.path());
        let store = Store::open(&sd, factory).unwrap();
        let (lock_target, tmp_target) = (Target::new(), Target::new());
        symlink(&tmp_target.path, sd.join(".state.json.tmp")).unwrap();
        let bump = |s: &mut State| {
            s.device.audio.speaker_volume += 1;
            Ok::<_, StoreError>(())
        };
        store.update(bump).unwrap();
        tmp_target.assert_untouched();
        assert!(fs::symlink_metadata(sd.join(STATE_FILE)).unwrap().is_file());
        fs::remove_file(sd.join(LOCK_FILE)).unwrap();
        symlink(&lock_target.path, sd.join(LOCK_FILE)).unwrap();
        assert_refused(store.update(bump), "state.lock");
        assert_refused(Store::open(&sd, factory), "state.lock");
        assert_refused(Store::replace(&sd, |_| factory()), "state.lock");
        lock_target.assert_untouched();
    }

    /// A FIFO at `state.json` is refused at once (opening it must not wait for a
    /// writer), and so is a folder.
    #[test]
    fn a_fifo_or_folder_at_the_state_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join(STATE_FILE);
        rustix::fs::mkfifoat(rustix::fs::CWD, &fifo, rustix::fs::Mode::from_raw_mode(0o600)).unwrap();
        assert_refused(Store::open(dir.path(), factory), "FIFO");
        assert!(fs::symlink_metadata(&fifo).unwrap().file_type().is_fifo());
        let other = tempfile::tempdir().unwrap();
        fs::create_dir(other.path().join(STATE_FILE)).unwrap();
        assert_refused(Store::open(other.path(), factory), "folder");
    }

    /// A state folder that is a link, or that others may write to, is refused and
    /// nothing is made in it.
    #[test]
    fn a_linked_or_shared_state_folder_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real");
        fs::create_dir(&real).unwrap();
        let link = dir.path().join("state");
        symlink(&real, &link).unwrap();
        assert_refused(Store::open(&link, factory), "symbolic link");
        assert_refused(Store::replace(&link, |_| factory()), "symbolic link");
        assert_eq!(fs::read_dir(&real).unwrap().count(), 0);
        fs::set_permissions(&real, fs::Permissions::from_mode(0o777)).unwrap();
        assert_refused(Store::open(&real, factory), "writable by users other than its owner");
        assert_eq!(fs::read_dir(&real).unwrap().count(), 0);
    }
}
