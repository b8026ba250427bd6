//! The render stage: every kind of root becomes a list of rendered objects with provenance.
//!
//! - [`kustomize`]: a native engine whose output equals `kustomize build` v5.5 (as built into
//!   `kubectl kustomize`), memoized per directory;
//! - [`manifest`]: plain YAML manifests, loaded as they are;
//! - [`helm`]: Helm charts through a real `helm template`, objects located in the templates;
//! - [`entry`]: Argo CD and Flux entry points, whose options become a kustomization over the
//!   path they deploy.

pub mod entry;
pub mod helm;
pub mod kustomize;
pub mod manifest;

use std::path::{Path, PathBuf};

pub use kustomize::{Memo, RenderStore, Renderer, Resource, StoredValue};

use crate::yaml::Pos;

/// A kustomization could not be rendered: the file and line responsible, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize, serde::Deserialize)]
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
