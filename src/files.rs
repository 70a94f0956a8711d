//! Durable, private files: atomic replacement (temp file, fsync, rename, fsync the
//! folder) and private folders, shared by the state store and the certificate.
//!
//! Files and folders made here take the owner of the folder they are made in. The
//! service runs as its own user while the technician's console commands run as root;
//! without this, a root `roomgate enrollment reset` would leave a root-owned 0600
//! state file that the service can no longer read. A process that may not change
//! owners (the service itself) leaves the owner as it is, which is already right.

use std::fs::{self, File, OpenOptions};
use std::io::Write as _;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

use crate::error::{IoFailure, io_failure};

/// Replace `path` (in `dir`) with `bytes`, mode `mode`, so that a crash at any
/// instant leaves either the old or the new content.
pub(crate) fn write_atomic(dir: &Path, path: &Path, bytes: &[u8], mode: u32) -> Result<(), IoFailure> {
    let name = path
        .file_name()
        .map_or_else(|| "file".into(), |n| n.to_string_lossy().into_owned());
    let tmp = dir.join(format!(".{name}.tmp"));
    let mut f = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode)
        .open(&tmp)
        .map_err(io_failure("create", &tmp))?;
    // A leftover temp file from a crash may carry other permissions.
    f.set_permissions(fs::Permissions::from_mode(mode))
        .map_err(io_failure("chmod", &tmp))?;
    adopt_folder_owner(&f, dir);
    f.write_all(bytes).map_err(io_failure("write", &tmp))?;
    f.sync_all().map_err(io_failure("fsync", &tmp))?;
    drop(f);
    fs::rename(&tmp, path).map_err(io_failure("rename", path))?;
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_failure("fsync folder", dir))?;
    Ok(())
}

/// Create `dir` (and missing parents) with `mode`; new folders take the owner of
/// the folder they are made in.
pub(crate) fn create_dir(dir: &Path, mode: u32) -> Result<(), IoFailure> {
    // Find the nearest existing ancestor first: its owner is the one to adopt.
    let mut missing = Vec::new();
    let mut cur = dir;
    while !cur.as_os_str().is_empty() && !cur.exists() {
        missing.push(cur);
        match cur.parent() {
            Some(p) => cur = p,
            None => break,
        }
    }
    fs::DirBuilder::new()
        .recursive(true)
        .mode(mode)
        .create(dir)
        .map_err(io_failure("create folder", dir))?;
    for made in missing.iter().rev() {
        if let (Ok(f), Some(parent)) = (File::open(made), made.parent()) {
            adopt_folder_owner(&f, parent);
        }
    }
    Ok(())
}

/// Open (creating, mode 0600) a file that lives beside others in `dir`, such as a
/// lock file.
pub(crate) fn open_private(dir: &Path, path: &Path) -> Result<File, IoFailure> {
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(path)
        .map_err(io_failure("open", path))?;
    adopt_folder_owner(&file, dir);
    Ok(file)
}

/// Give `file` the owner and group of `dir` when they differ and this process may
/// (root at the console). Failing is harmless: the file keeps this process's owner.
fn adopt_folder_owner(file: &File, dir: &Path) {
    let (Ok(dm), Ok(fm)) = (fs::metadata(dir), file.metadata()) else {
        return;
    };
    if (dm.uid(), dm.gid()) != (fm.uid(), fm.gid()) {
        let _ = std::os::unix::fs::fchown(file, Some(dm.uid()), Some(dm.gid()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_content_with_the_mode_asked_for() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.json");
        write_atomic(dir.path(), &path, b"one", 0o600).unwrap();
        write_atomic(dir.path(), &path, b"two", 0o600).unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"two");
        assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        assert!(!dir.path().join(".a.json.tmp").exists());
    }

    #[test]
    fn creates_nested_folders_with_the_mode_asked_for() {
        let dir = tempfile::tempdir().unwrap();
        let deep = dir.path().join("x/y");
        create_dir(&deep, 0o700).unwrap();
        assert_eq!(fs::metadata(&deep).unwrap().permissions().mode() & 0o777, 0o700);
        create_dir(&deep, 0o700).unwrap();
    }

    /// The console (root) writing into the service user's folder. Only root may
    /// give files away, so as another user there is nothing to check.
    #[test]
    fn files_made_by_root_take_the_folders_owner() {
        let dir = tempfile::tempdir().unwrap();
        let probe = dir.path().join("probe");
        File::create(&probe).unwrap();
        if fs::metadata(&probe).unwrap().uid() != 0 {
            eprintln!("not root: ownership hand-over not exercised");
            return;
        }
        let owned = dir.path().join("service");
        fs::create_dir(&owned).unwrap();
        std::os::unix::fs::chown(&owned, Some(65534), Some(65534)).unwrap();
        let file = owned.join("state.json");
        write_atomic(&owned, &file, b"{}", 0o600).unwrap();
        open_private(&owned, &owned.join("state.lock")).unwrap();
        create_dir(&owned.join("certs/deeper"), 0o755).unwrap();
        for p in [
            file,
            owned.join("state.lock"),
            owned.join("certs"),
            owned.join("certs/deeper"),
        ] {
            let m = fs::metadata(&p).unwrap();
            assert_eq!((m.uid(), m.gid()), (65534, 65534), "{}", p.display());
        }
    }
}
