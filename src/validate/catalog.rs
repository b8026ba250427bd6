//! The schemas embedded in the binary: the Kubernetes API of every supported minor version
//! (from the `kubernetes-validate` package, see `schemas/README.md`) and the custom resources
//! a GitOps repository nearly always holds (the structural schemas of their CRDs, from npm
//! `@kubernetes-models/*` packages and crates.io `kcr_*` crates, converted at use as a
//! repository's own CRDs are). Each is decompressed and indexed on first use only.

use std::collections::HashMap;
use std::io::Read;
use std::sync::OnceLock;

use serde_json::{Map, Value};

pub use crate::model::kube_version::{KubeVersion, UnsupportedVersion, newest, supported};

macro_rules! versions {
    ($($minor:literal),*) => {
        const EMBEDDED: &[(u32, &[u8])] = &[
            $(($minor, include_bytes!(concat!("../../schemas/kubernetes/v1.", $minor, ".json.gz")))),*
        ];
    };
}
versions!(25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37);

const CRD_CATALOG: &[u8] = include_bytes!("../../schemas/crds/catalog.json.gz");
/// Schemas written for kgate where no vendorable one exists (`schemas/README.md`).
const AUTHORED: &str = include_str!("../../schemas/crds/authored.json");

/// The versions whose schemas are embedded, oldest first (`model::kube_version::SUPPORTED`
/// names the same list for the configuration; a unit test keeps them equal).
pub fn embedded_versions() -> Vec<KubeVersion> {
    EMBEDDED
        .iter()
        .map(|(minor, _)| KubeVersion { minor: *minor })
        .collect()
}

fn gunzip(bytes: &[u8]) -> Value {
    let mut text = String::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_string(&mut text)
        .expect("embedded schemas are valid gzip (checked by a unit test)");
    serde_json::from_str(&text).expect("embedded schemas are valid JSON (checked by a unit test)")
}

/// One Kubernetes version's definitions (`$defs`) and which one describes each apiVersion/kind.
pub struct KubeSchemas {
    pub defs: Map<String, Value>,
    pub by_gvk: HashMap<(String, String), String>,
}

fn index(defs: &Map<String, Value>) -> HashMap<(String, String), String> {
    let mut by_gvk = HashMap::new();
    for (name, def) in defs {
        let Some(Value::Array(gvks)) = def.get("x-kubernetes-group-version-kind") else {
            continue;
        };
        for g in gvks {
            let s = |k: &str| g.get(k).and_then(Value::as_str).unwrap_or("");
            let api_version = if s("group").is_empty() {
                s("version").to_owned()
            } else {
                format!("{}/{}", s("group"), s("version"))
            };
            // A definition whose name ends with its kind describes it; list kinds and shared
            // types (`DeleteOptions` is listed under every group) come second.
            let entry = by_gvk
                .entry((api_version, s("kind").to_owned()))
                .or_insert_with(|| name.clone());
            if name.ends_with(&format!(".{}", s("kind"))) {
                *entry = name.clone();
            }
        }
    }
    by_gvk
}

pub fn kube(v: KubeVersion) -> &'static KubeSchemas {
    static LOADED: OnceLock<Vec<OnceLock<KubeSchemas>>> = OnceLock::new();
    let slots = LOADED.get_or_init(|| EMBEDDED.iter().map(|_| OnceLock::new()).collect());
    let i = EMBEDDED
        .iter()
        .position(|(m, _)| *m == v.minor)
        .expect("KubeVersion values are only made for embedded versions");
    slots[i].get_or_init(|| {
        let doc = gunzip(EMBEDDED[i].1);
        let defs = match doc.get("$defs") {
            Some(Value::Object(m)) => m.clone(),
            _ => Map::new(),
        };
        let by_gvk = index(&defs);
        KubeSchemas { defs, by_gvk }
    })
}

/// The vendored custom resource schemas, by (apiVersion, kind).
pub fn crd_catalog() -> &'static HashMap<(String, String), Value> {
    static CATALOG: OnceLock<HashMap<(String, String), Value>> = OnceLock::new();
    CATALOG.get_or_init(|| {
        let authored: Value = serde_json::from_str(AUTHORED)
            .expect("schemas/crds/authored.json is valid JSON (checked by a unit test)");
        let mut out = HashMap::new();
        for doc in [gunzip(CRD_CATALOG), authored] {
            if let Some(Value::Object(schemas)) = doc.get("schemas") {
                for (key, schema) in schemas {
                    if let Some((api_version, kind)) = key.split_once('|') {
                        out.insert((api_version.to_owned(), kind.to_owned()), schema.clone());
                    }
                }
            }
        }
        out
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_embedded_version_loads_and_indexes_workloads() {
        for v in supported() {
            let k = kube(v);
            assert!(k.defs.len() > 500, "{v}: {} definitions", k.defs.len());
            assert_eq!(
                k.by_gvk
                    .get(&("apps/v1".to_owned(), "Deployment".to_owned()))
                    .map(String::as_str),
                Some("io.k8s.api.apps.v1.Deployment"),
                "{v}"
            );
        }
        assert!(!crd_catalog().is_empty());
        let template = (
            "templates.gatekeeper.sh/v1".to_owned(),
            "ConstraintTemplate".to_owned(),
        );
        assert!(crd_catalog().contains_key(&template));
    }

    #[test]
    fn the_configured_version_list_is_the_embedded_one() {
        assert_eq!(supported(), embedded_versions());
    }

    #[test]
    fn versions_parse_and_unsupported_ones_are_refused() {
        assert_eq!(KubeVersion::parse("1.32").unwrap().minor, 32);
        assert_eq!(KubeVersion::parse("v1.30.2").unwrap().minor, 30);
        let e = KubeVersion::parse("1.19").unwrap_err();
        assert!(e.to_string().contains("1.25, 1.26"), "{e}");
        assert!(KubeVersion::parse("2.0").is_err());
        assert!(KubeVersion::parse("latest").is_err());
    }
}
