//! The render stage: a native Kustomize engine whose output equals `kustomize build` v5.5
//! (as built into `kubectl kustomize`). Work in progress (issue 5): see `engine.rs` for what
//! is rendered; kustomization fields not rendered yet are an error naming the field, never
//! silently ignored. Not yet wired into `kgate check`.

pub mod emit;
pub mod engine;
pub mod fieldspec;
pub mod hash;
pub mod kustomization;
pub mod merge2;
pub mod openapi;
pub mod order;
pub mod patch;
pub mod replacement;
pub mod vars;

use std::path::{Path, PathBuf};

pub use engine::{Renderer, Resource};

use crate::yaml::Pos;

/// A kustomization could not be rendered: the file and line responsible, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}:{}:{}: {message}", file.display(), pos.line, pos.column)]
pub struct RenderError {
    pub file: PathBuf,
    pub pos: Pos,
    pub message: String,
    /// The root needs something kgate does not do (Helm): reported as `render-unavailable`.
    pub unavailable: bool,
}

impl RenderError {
    pub fn at(file: &Path, pos: Pos, message: impl Into<String>) -> Self {
        RenderError {
            file: file.to_owned(),
            pos: Pos {
                line: pos.line.max(1),
                column: pos.column.max(1),
            },
            message: message.into(),
            unavailable: false,
        }
    }
}
