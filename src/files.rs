//! Durable, private files: atomic replacement (temp file, fsync, rename, fsync the
//! folder) and private folders, shared by the state store and the certificate.
//!
//! Everything happens inside an open [`Folder`], by name, and nothing follows a
//! link: the folder's owner (the service user) may be less trusted than this process
//! (root at the console), so no name in it is taken to be what it says. The folder
//! asked for (and any made on the way to it) is opened with `O_DIRECTORY |
//! O_NOFOLLOW` and refused when it is writable by others than its owner; existing
//! folders above it are taken as the operator laid them out. Files are opened with
//! `O_NOFOLLOW` and refused unless they are regular files; a temp file is created
//! exclusively (`O_CREAT | O_EXCL`), a leftover one unlinked first (unlinking removes
//! a link, never its target). Refusals are [`FileError::Refused`]: the file is left
//! as it is.
//!
//! Files and folders made here take the owner of the folder they are made in. The
//! service runs as its own user while the technician's console commands run as root;
//! without this, a root `roomgate enrollment reset` would leave a root-owned 0600
//! state file that the service can no longer read. The owner is changed only through
//! the descriptor of a file or folder this process has just created, never by path.
//! A process that may not change owners (the service itself) leaves the owner as it
//! is, which is already right.

use std::fs::{self, File};
use std::io::{ErrorKind, Write as _};
use std::os::fd::OwnedFd;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use rustix::fs::{AtFlags, Mode, OFlags};
use rustix::io::Errno;

use crate::error::{IoFailure, io_failure};

/// A file operation that failed, or a file or folder that is not what it must be.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum FileError {
    /// A file operation failed.
    #[error(transparent)]
    Io(#[from] IoFailure),
    /// The file or folder is not what it must be; it was left as it is.
    #[error(transparent)]
    Refused(#[from] Refused),
}

/// A file or folder that is a link, not a regular file or folder, or writable by
/// others: refused and left as it is. The state store and the certificate code
/// report it as it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path} {reason}; refused and left as it is (remove or correct it)")]
pub struct Refused {
    /// The file or folder.
    pub path: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

impl FileError {
    fn refused(path: &Path, reason: &'static str) -> FileError {
        FileError::Refused(Refused {
            path: path.display().to_string(),
            reason,
        })
    }

    fn io(op: &'static str, path: &Path, e: impl Into<std::io::Error>) -> FileError {
        io_failure(op, path)(e.into()).into()
    }

    fn is(&self, kind: ErrorKind) -> bool {
        matches!(self, FileError::Io(e) if e.kind == kind)
    }
}

/// How a folder is opened: a folder, read-only, not inherited by children.
const FOLDER: OFlags = OFlags::RDONLY.union(OFlags::DIRECTORY).union(OFlags::CLOEXEC);

/// An open folder: files in it are opened, made and replaced by name, relative to it.
#[derive(Debug)]
pub(crate) struct Folder {
    dir: File,
    path: PathBuf,
    owner: (u32, u32),
}

impl Folder {
    /// Open an existing folder. Refused: a symbolic link, not a folder, or writable by
    /// others than its owner.
    pub(crate) fn open(path: &Path) -> Result<Folder, FileError> {
        let fd = rustix::fs::open(path, FOLDER | OFlags::NOFOLLOW, Mode::empty()).map_err(|e| folder_error(path, e))?;
        Folder::checked(fd, path)
    }

    /// Open `path`, creating it (`mode`) and missing parents first; new folders take
    /// the owner of the folder they are made in.
    pub(crate) fn create(path: &Path, mode: u32) -> Result<Folder, FileError> {
        match Folder::open(path) {
            Err(e) if e.is(ErrorKind::NotFound) => {}
            found => return found,
        }
        let (parent, name) = split(path)?;
        make_folder(&base(parent, mode)?, name, path, mode)
    }

    fn checked(fd: OwnedFd, path: &Path) -> Result<Folder, FileError> {
        let dir = File::from(fd);
        let meta = dir.metadata().map_err(io_failure("stat", path))?;
        if !meta.is_dir() {
            return Err(FileError::refused(path, "is not a folder"));
        }
        if meta.mode() & 0o022 != 0 {
            return Err(FileError::refused(
                path,
                "is writable by users other than its owner (chmod go-w)",
            ));
        }
        Ok(Folder {
            dir,
            path: path.to_path_buf(),
            owner: (meta.uid(), meta.gid()),
        })
    }

    /// The path of `name` in this folder, for messages.
    pub(crate) fn path_of(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    /// Open the regular file `name` for reading; `None` when there is none.
    /// Refused: a symbolic link, a FIFO, a folder or anything but a regular file.
    pub(crate) fn open_file(&self, name: &str) -> Result<Option<File>, FileError> {
        // O_NONBLOCK: opening a FIFO must not wait for a writer before it is refused.
        let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC;
        match rustix::fs::openat(&self.dir, name, flags, Mode::empty()) {
            Ok(fd) => self.regular(File::from(fd), name).map(Some),
            Err(Errno::NOENT) => Ok(None),
            Err(e) => Err(self.open_error(name, e)),
        }
    }

    /// Open (creating, mode 0600) a private file that lives beside others, such as a
    /// lock file. An existing one must be a regular file; only a new one is given the
    /// folder's owner.
    pub(crate) fn open_private(&self, name: &str) -> Result<File, FileError> {
        match self.create_new(name, 0o600, OFlags::RDWR) {
            Err(e) if e.is(ErrorKind::AlreadyExists) => {}
            made => return made,
        }
        let flags = OFlags::RDWR | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        let fd = rustix::fs::openat(&self.dir, name, flags, Mode::empty()).map_err(|e| self.open_error(name, e))?;
        self.regular(File::from(fd), name)
    }

    /// Replace `name` with `bytes`, mode `mode`, so that a crash at any instant
    /// leaves either the old or the new content. The temp file `.NAME.tmp` is made
    /// anew (exclusively) every time; the rename replaces whatever entry `name` is,
    /// never what a link there points at.
    pub(crate) fn write_atomic(&self, name: &str, bytes: &[u8], mode: u32) -> Result<(), FileError> {
        let tmp = format!(".{name}.tmp");
        let tmp_path = self.path_of(&tmp);
        let mut f = self.create_temp(&tmp, mode)?;
        f.write_all(bytes).map_err(io_failure("write", &tmp_path))?;
        f.sync_all().map_err(io_failure("fsync", &tmp_path))?;
        drop(f);
        rustix::fs::renameat(&self.dir, &tmp, &self.dir, name)
            .map_err(|e| FileError::io("rename", &self.path_of(name), e))?;
        self.dir.sync_all().map_err(io_failure("fsync folder", &self.path))?;
        Ok(())
    }

    /// Remove the entry `name` (a link itself, never its target) and make that
    /// durable; a missing one is fine.
    pub(crate) fn remove(&self, name: &str) -> Result<(), FileError> {
        match rustix::fs::unlinkat(&self.dir, name, AtFlags::empty()) {
            Ok(()) | Err(Errno::NOENT) => {}
            Err(e) => return Err(FileError::io("remove", &self.path_of(name), e)),
        }
        self.dir.sync_all().map_err(io_failure("fsync folder", &self.path))?;
        Ok(())
    }

    /// Make the temp file `name`; a leftover one (a crash, or planted) is unlinked
    /// first, which removes the entry itself even when it is a link.
    fn create_temp(&self, name: &str, mode: u32) -> Result<File, FileError> {
        match self.create_new(name, mode, OFlags::WRONLY) {
            Err(e) if e.is(ErrorKind::AlreadyExists) => {
                rustix::fs::unlinkat(&self.dir, name, AtFlags::empty())
                    .map_err(|e| FileError::io("remove the leftover", &self.path_of(name), e))?;
                self.create_new(name, mode, OFlags::WRONLY)
            }
            made => made,
        }
    }

    /// Create `name` exclusively (an existing entry, a link included, is
    /// `AlreadyExists`), with exactly `mode`, owned like the folder.
    fn create_new(&self, name: &str, mode: u32, access: OFlags) -> Result<File, FileError> {
        let flags = access | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        let fd = rustix::fs::openat(&self.dir, name, flags, Mode::from_raw_mode(mode))
            .map_err(|e| self.open_error(name, e))?;
        let file = File::from(fd);
        // The umask may have narrowed the mode (a certificate is 0644).
        file.set_permissions(fs::Permissions::from_mode(mode))
            .map_err(io_failure("chmod", &self.path_of(name)))?;
        adopt_owner(&file, self.owner);
        Ok(file)
    }

    /// `file` (opened as `name`) if it is a regular file.
    fn regular(&self, file: File, name: &str) -> Result<File, FileError> {
        let path = self.path_of(name);
        let kind = file.metadata().map_err(io_failure("stat", &path))?.file_type();
        if kind.is_file() {
            Ok(file)
        } else if kind.is_dir() {
            Err(FileError::refused(&path, "is a folder, not a regular file"))
        } else if kind.is_fifo() {
            Err(FileError::refused(&path, "is a FIFO, not a regular file"))
        } else {
            Err(FileError::refused(&path, "is not a regular file"))
        }
    }

    fn open_error(&self, name: &str, e: Errno) -> FileError {
        let path = self.path_of(name);
        match e {
            Errno::LOOP => FileError::refused(&path, "is a symbolic link, not a regular file"),
            e => FileError::io("open", &path, e),
        }
    }
}

/// The folder to make `path`'s last component in, created when missing. An existing
/// one is opened as the operator laid it out (links followed): only what is made
/// here, and the folder asked for, are held to the rules.
fn base(path: &Path, mode: u32) -> Result<File, FileError> {
    match rustix::fs::open(path, FOLDER, Mode::empty()) {
        Ok(fd) => Ok(File::from(fd)),
        Err(Errno::NOENT) => {
            let (parent, name) = split(path)?;
            Ok(make_folder(&base(parent, mode)?, name, path, mode)?.dir)
        }
        Err(e) => Err(FileError::io("open folder", path, e)),
    }
}

/// Make (or find) the folder `name` in `parent`; a new one takes `parent`'s owner.
fn make_folder(parent: &File, name: &std::ffi::OsStr, path: &Path, mode: u32) -> Result<Folder, FileError> {
    let made = match rustix::fs::mkdirat(parent, name, Mode::from_raw_mode(mode)) {
        Ok(()) => true,
        Err(Errno::EXIST) => false,
        Err(e) => return Err(FileError::io("create folder", path, e)),
    };
    let fd = rustix::fs::openat(parent, name, FOLDER | OFlags::NOFOLLOW, Mode::empty())
        .map_err(|e| folder_error(path, e))?;
    let folder = Folder::checked(fd, path)?;
    if made && let Ok(owner) = parent.metadata().map(|m| (m.uid(), m.gid())) {
        adopt_owner(&folder.dir, owner);
    }
    Ok(folder)
}

/// Opening `path` as a folder without following a link failed with `e`. Linux says
/// `ENOTDIR` (or `ELOOP`) for a link; `lstat` tells which it was, for the message.
fn folder_error(path: &Path, e: Errno) -> FileError {
    match e {
        Errno::LOOP | Errno::NOTDIR if fs::symlink_metadata(path).is_ok_and(|m| m.is_symlink()) => {
            FileError::refused(path, "is a symbolic link, not a folder")
        }
        Errno::LOOP | Errno::NOTDIR => FileError::refused(path, "is not a folder"),
        e => FileError::io("open folder", path, e),
    }
}

/// `path`'s parent (`.` for a bare name) and last component.
fn split(path: &Path) -> Result<(&Path, &std::ffi::OsStr), FileError> {
    let name = path
        .file_name()
        .ok_or_else(|| FileError::io("create folder", path, std::io::Error::from(ErrorKind::InvalidInput)))?;
    let parent = path.parent().filter(|p| !p.as_os_str().is_empty());
    Ok((parent.unwrap_or(Path::new(".")), name))
}

/// Give `file` (just created by this process) `owner` when it differs and this
/// process may (root at the console), through its descriptor. Failing is harmless:
/// the file keeps this process's owner.
fn adopt_owner(file: &File, owner: (u32, u32)) {
    if let Ok(m) = file.metadata()
        && (m.uid(), m.gid()) != owner
    {
        let _ = std::os::unix::fs::fchown(file, Some(owner.0), Some(owner.1));
    }
}

/// Planted files for the tests of this module and of the state store.
#[cfg(test)]
pub(crate) mod test_support {
    use super::*;

    pub(crate) fn is_root() -> bool {
        rustix::process::geteuid().is_root()
    }

    /// A file of this process's user (root in the test runs) outside the folder,
    /// mode 0644: what a planted link points at, which nothing may change.
    pub(crate) struct Target {
        _home: tempfile::TempDir,
        pub(crate) path: PathBuf,
    }

    impl Target {
        pub(crate) fn new() -> Target {
            let home = tempfile::tempdir().unwrap();
            let path = home.path().join("precious");
            fs::write(&path, b"precious").unwrap();
            fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
            Target { _home: home, path }
        }

        pub(crate) fn assert_untouched(&self) {
            let m = fs::symlink_metadata(&self.path).unwrap();
            // Not assert_eq: what may have been written there is a state, not for the log.
            assert!(
                fs::read(&self.path).unwrap() == b"precious",
                "the target's content changed"
            );
            assert_eq!(m.mode() & 0o7777, 0o644);
            assert!(m.is_file());
            let me = (rustix::process::geteuid().as_raw(), rustix::process::getegid().as_raw());
            assert_eq!((m.uid(), m.gid()), me, "the target's owner changed");
        }
    }

    /// A folder owned by another user (`nobody`) when root, so that a file made in
    /// it would be given away: the console writing into the service's folder.
    pub(crate) fn service_folder(dir: &Path) -> PathBuf {
        let owned = dir.join("service");
        fs::create_dir(&owned).unwrap();
        fs::set_permissions(&owned, fs::Permissions::from_mode(0o750)).unwrap();
        if is_root() {
            std::os::unix::fs::chown(&owned, Some(65534), Some(65534)).unwrap();
        }
        owned
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::*;
    use super::*;
    use std::os::unix::fs::symlink;

    fn refused(r: Result<impl std::fmt::Debug, FileError>, what: &str) -> String {
        match r {
            Err(e @ FileError::Refused(_)) => {
                let text = e.to_string();
                assert!(text.contains(what), "{text}");
                text
            }
            other => panic!("expected a refusal ({what}), got {other:?}"),
        }
    }

    #[test]
    fn replaces_content_with_the_mode_asked_for() {
        let dir = tempfile::tempdir().unwrap();
        let folder = Folder::open(dir.path()).unwrap();
        folder.write_atomic("a.json", b"one", 0o600).unwrap();
        folder.write_atomic("a.json", b"two", 0o644).unwrap();
        let path = dir.path().join("a.json");
        assert_eq!(fs::read(&path).unwrap(), b"two");
        assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o644);
        assert!(!dir.path().join(".a.json.tmp").exists());
    }

    #[test]
    fn creates_nested_folders_with_the_mode_asked_for() {
        let dir = tempfile::tempdir().unwrap();
        let deep = dir.path().join("x/y");
        Folder::create(&deep, 0o700).unwrap();
        assert_eq!(fs::metadata(&deep).unwrap().permissions().mode() & 0o777, 0o700);
        Folder::create(&deep, 0o700).unwrap();
    }

    /// The console (root) writing into the service user's folder. Only root may
    /// give files away, so as another user there is nothing to check.
    #[test]
    fn files_made_by_root_take_the_folders_owner() {
        if !is_root() {
            eprintln!("not root: ownership hand-over not exercised");
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let owned = service_folder(dir.path());
        let folder = Folder::open(&owned).unwrap();
        folder.write_atomic("state.json", b"{}", 0o600).unwrap();
        folder.open_private("state.lock").unwrap();
        Folder::create(&owned.join("certs/deeper"), 0o755).unwrap();
        for p in ["state.json", "state.lock", "certs", "certs/deeper"] {
            let m = fs::metadata(owned.join(p)).unwrap();
            assert_eq!((m.uid(), m.gid()), (65534, 65534), "{p}");
        }
    }

    #[test]
    fn a_link_at_the_temp_name_is_removed_not_written_through() {
        let dir = tempfile::tempdir().unwrap();
        let owned = service_folder(dir.path());
        let target = Target::new();
        symlink(&target.path, owned.join(".state.json.tmp")).unwrap();
        Folder::open(&owned)
            .unwrap()
            .write_atomic("state.json", b"secret", 0o600)
            .unwrap();
        target.assert_untouched();
        let m = fs::symlink_metadata(owned.join("state.json")).unwrap();
        assert!(m.is_file(), "state.json must be a regular file, not a link");
        assert_eq!(fs::read(owned.join("state.json")).unwrap(), b"secret");
        assert!(fs::symlink_metadata(owned.join(".state.json.tmp")).is_err());
    }

    #[test]
    fn a_link_at_the_file_is_refused_for_reading_and_replaced_not_followed_on_write() {
        let dir = tempfile::tempdir().unwrap();
        let owned = service_folder(dir.path());
        let target = Target::new();
        symlink(&target.path, owned.join("state.json")).unwrap();
        let folder = Folder::open(&owned).unwrap();
        refused(folder.open_file("state.json"), "symbolic link");
        folder.write_atomic("state.json", b"secret", 0o600).unwrap();
        target.assert_untouched();
        assert!(fs::symlink_metadata(owned.join("state.json")).unwrap().is_file());
    }

    #[test]
    fn a_link_at_a_private_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let owned = service_folder(dir.path());
        let target = Target::new();
        symlink(&target.path, owned.join("state.lock")).unwrap();
        let text = refused(
            Folder::open(&owned).unwrap().open_private("state.lock"),
            "symbolic link",
        );
        assert!(text.contains("state.lock"), "{text}");
        target.assert_untouched();
    }

    #[test]
    fn a_fifo_or_folder_in_place_of_a_file_is_refused_without_waiting() {
        let dir = tempfile::tempdir().unwrap();
        rustix::fs::mkfifoat(
            rustix::fs::CWD,
            dir.path().join("state.json"),
            Mode::from_raw_mode(0o600),
        )
        .unwrap();
        fs::create_dir(dir.path().join("state.lock")).unwrap();
        let folder = Folder::open(dir.path()).unwrap();
        refused(folder.open_file("state.json"), "FIFO");
        refused(folder.open_private("state.json"), "FIFO");
        refused(folder.open_file("state.lock"), "folder");
        assert!(folder.open_file("missing").unwrap().is_none());
    }

    #[test]
    fn a_linked_or_shared_folder_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real");
        fs::create_dir(&real).unwrap();
        let link = dir.path().join("link");
        symlink(&real, &link).unwrap();
        refused(Folder::open(&link), "symbolic link");
        refused(Folder::create(&link, 0o700), "symbolic link");
        fs::set_permissions(&real, fs::Permissions::from_mode(0o770)).unwrap();
        refused(Folder::open(&real), "writable by users other than its owner");
        fs::write(dir.path().join("file"), b"").unwrap();
        refused(Folder::open(&dir.path().join("file")), "not a folder");
    }
}
