//! JSON files written whole, then renamed into place: a kill leaves the old file or the new.

use serde::de::DeserializeOwned;
use serde::Serialize;
use std::path::Path;

/// The value in `path`, or the default when there is no file yet.
pub(crate) fn load<T: Default + DeserializeOwned>(path: &Path) -> std::io::Result<T> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map_err(std::io::Error::other),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(T::default()),
        Err(e) => Err(e),
    }
}

/// Writes `value` to a temporary file beside `path`, then renames it over `path`.
pub(crate) fn save<T: Serialize>(path: &Path, value: &T) -> std::io::Result<()> {
    let temporary = path.with_extension("tmp");
    std::fs::write(&temporary, serde_json::to_vec(value)?)?;
    std::fs::rename(temporary, path)
}
