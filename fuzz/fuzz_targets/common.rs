//! Shared by the targets (each includes it with `#[path]`): turning fuzz input into text and
//! into a small repository.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// The input as text, lossily: the loaders take `&str`, and invalid UTF-8 is refused before
/// them (by the file table), so only the text matters.
pub fn text(data: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(data)
}

/// Splits `data` at the first NUL byte: two inputs from one.
pub fn split2(data: &[u8]) -> (&[u8], &[u8]) {
    match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[]),
    }
}

/// A repository from `path\0content\0path\0content...`, written under a fresh directory in
/// /dev/shm (memory, not disk: the renderer reads through the file table, which reads
/// files). Paths are kept inside the directory: relative, no `..`, at most four levels.
pub struct Repo {
    pub root: PathBuf,
}

impl Repo {
    pub fn new(data: &[u8]) -> Option<Repo> {
        let base = if Path::new("/dev/shm").is_dir() {
            PathBuf::from("/dev/shm")
        } else {
            std::env::temp_dir()
        };
        let root = base.join(format!("kgate-fuzz-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(&root).ok()?;
        let mut parts = data.split(|&b| b == 0);
        let mut files = 0;
        while let (Some(path), Some(content)) = (parts.next(), parts.next()) {
            let Some(rel) = safe_path(path) else { continue };
            let abs = root.join(&rel);
            if let Some(parent) = abs.parent() {
                if std::fs::create_dir_all(parent).is_err() {
                    continue;
                }
            }
            if abs.is_dir() {
                continue;
            }
            let _ = std::fs::write(&abs, content);
            files += 1;
            if files == 32 {
                break;
            }
        }
        Some(Repo { root })
    }
}

impl Drop for Repo {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

fn safe_path(raw: &[u8]) -> Option<PathBuf> {
    let s = std::str::from_utf8(raw).ok()?;
    let parts: Vec<&str> = s
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    if parts.is_empty()
        || parts.len() > 4
        || parts.iter().any(|p| {
            *p == ".."
                || p.len() > 64
                || !p
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
        })
    {
        return None;
    }
    Some(parts.iter().collect())
}
