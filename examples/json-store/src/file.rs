//! A JSON file written whole to a temporary file and renamed over the old one, so that a
//! kill at any instant leaves either the old contents or the new, never a torn mix.

use serde::de::DeserializeOwned;
use serde::Serialize;
use std::io;
use std::path::Path;

/// Reads the value stored at `path`, or the default when nothing was stored yet.
pub(crate) fn load<T: Default + DeserializeOwned>(path: &Path) -> io::Result<T> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(serde_json::from_slice(&bytes)?),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(T::default()),
        Err(e) => Err(e),
    }
}

/// Stores `value` at `path`, replacing what was there in one step.
pub(crate) fn save<T: Serialize>(path: &Path, value: &T) -> io::Result<()> {
    let temporary = path.with_extension("json.tmp");
    std::fs::write(&temporary, serde_json::to_vec(value)?)?;
    std::fs::rename(temporary, path)
}
