//! The native Kustomize engine: `kustomize build` v5.5 (as built into `kubectl kustomize`),
//! object for object, split along kustomize's own sections.

pub mod emit;
pub mod engine;
pub mod fieldspec;
pub mod generators;
pub mod hash;
pub mod helm_charts;
pub mod kustomization;
pub mod memo;
pub mod merge2;
pub mod namerefs;
pub mod openapi;
pub mod order;
pub mod patch;
pub mod patches;
pub mod patterns;
pub mod plugins;
pub mod replacement;
pub mod resource;
pub mod scope;
pub mod selector;
pub mod store;
pub mod tconfig;
pub mod transformers;
pub mod vars;

pub use super::RenderError;
pub use engine::{Memo, Renderer};
pub use resource::{RemovedField, Resource, TemplateOrigin};
pub use store::{RenderStore, StoredValue};
