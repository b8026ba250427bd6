//! The render stage: a native Kustomize engine (in progress, issue 5).
//!
//! Landed so far are the parts that must match `kubectl kustomize` byte for byte and that
//! the engine will be built on: the output writer ([`emit`]), the generator name hash
//! ([`hash`]) and the default output order ([`order`]). Each is tested against kubectl's
//! output (`tests/kustomize/`).

pub mod emit;
pub mod hash;
pub mod order;
