//! The schemas embedded in the binary: the Kubernetes API of every supported minor version
//! (from the `kubernetes-validate` package, see `schemas/README.md`) and the custom resources
//! a GitOps repository nearly always holds (the structural schemas of their CRDs, from npm
//! `@kubernetes-models/*` packages and crates.io `kcr_*` crates, converted at use as a
//! repository's own CRDs are). Each is decompressed and indexed on first use only.

use std::collections::HashMap;
use std::io::Read;
use std::sync::OnceLock;

use serde_json::Value;

use crate::yaml::json_members::{members_from, object_members};

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

/// The decompressed text of embedded gzip `bytes`.
fn gunzip_text(bytes: &[u8]) -> String {
    let mut text = String::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_string(&mut text)
        .expect("embedded schemas are valid gzip (checked by a unit test)");
    text
}

/// One Kubernetes version's definitions (`$defs`), each parsed on first use, and which one
/// describes each apiVersion/kind. A check validates a handful of kinds, whose schemas
/// refer to a few dozen of the 600 definitions: parsing them all into values was nearly
/// all of the load every run makes beside its walk.
pub struct KubeSchemas {
    /// The version's whole document, as embedded (compact JSON).
    text: String,
    defs: HashMap<String, LazyDef>,
    pub by_gvk: HashMap<(String, String), String>,
}

/// A definition: where its JSON is in the document, and its value once parsed.
struct LazyDef {
    range: std::ops::Range<usize>,
    parsed: OnceLock<Value>,
}

impl KubeSchemas {
    fn load(text: String) -> KubeSchemas {
        let members = object_members(&text, "\"$defs\":");
        let by_gvk = index(&text, &members);
        let defs = members
            .into_iter()
            .map(|(name, range)| {
                let parsed = OnceLock::new();
                (name, LazyDef { range, parsed })
            })
            .collect();
        KubeSchemas { text, defs, by_gvk }
    }

    /// The definition `name`, parsed on first use.
    pub fn def(&self, name: &str) -> Option<&Value> {
        let def = self.defs.get(name)?;
        Some(def.parsed.get_or_init(|| {
            serde_json::from_str(&self.text[def.range.clone()])
                .expect("embedded schemas are valid JSON (checked by a unit test)")
        }))
    }

    /// How many definitions there are.
    pub fn len(&self) -> usize {
        self.defs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.defs.is_empty()
    }
}

/// One entry of a definition's `x-kubernetes-group-version-kind`.
#[derive(serde::Deserialize)]
struct GroupVersionKind {
    #[serde(default)]
    group: String,
    #[serde(default)]
    version: String,
    #[serde(default)]
    kind: String,
}

/// Which definition describes each apiVersion/kind: from each definition's own
/// `x-kubernetes-group-version-kind`, read without parsing the rest of it. `defs`: each
/// definition's name and range in `text`, in the document's order (which breaks ties).
fn index(
    text: &str,
    defs: &[(String, std::ops::Range<usize>)],
) -> HashMap<(String, String), String> {
    const GVK: &str = "x-kubernetes-group-version-kind";
    let mut by_gvk = HashMap::new();
    // Most definitions name no kind: a search of their text tells it without listing their
    // members (which scanned the whole document a second time, a byte at a time).
    let named = memchr::memmem::Finder::new(b"\"x-kubernetes-group-version-kind\":");
    for (name, range) in defs {
        if text
            .as_bytes()
            .get(range.clone())
            .is_none_or(|def| named.find(def).is_none())
        {
            continue;
        }
        let Some(gvks) = members_from(text, range.start)
            .into_iter()
            .find(|(key, _)| key == GVK)
            .and_then(|(_, r)| serde_json::from_str::<Vec<GroupVersionKind>>(&text[r]).ok())
        else {
            continue;
        };
        for g in gvks {
            let api_version = if g.group.is_empty() {
                g.version.clone()
            } else {
                format!("{}/{}", g.group, g.version)
            };
            // A definition whose name ends with its kind describes it; list kinds and shared
            // types (`DeleteOptions` is listed under every group) come second.
            let entry = by_gvk
                .entry((api_version, g.kind.clone()))
                .or_insert_with(|| name.clone());
            if name.ends_with(&format!(".{}", g.kind)) {
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
    slots[i].get_or_init(|| KubeSchemas::load(gunzip_text(EMBEDDED[i].1)))
}

/// The vendored custom resource schema of `api_version`/`kind`, parsed on first use.
pub fn crd_schema(api_version: &str, kind: &str) -> Option<&'static Value> {
    let entry = crd_index().get(&(api_version.to_owned(), kind.to_owned()))?;
    Some(entry.parsed.get_or_init(|| {
        serde_json::from_str(&crd_text()[entry.range.clone()])
            .expect("embedded CRD schemas are valid JSON (checked by a unit test)")
    }))
}

/// One catalog schema: where its JSON is in the decompressed catalog, and its value once
/// parsed. A check needs a handful of the 460 schemas, and parsing them all (4.8 MB of
/// JSON) cost most of a small check's time, so the catalog is only split on first use.
struct CrdEntry {
    range: std::ops::Range<usize>,
    parsed: OnceLock<Value>,
}

fn crd_text() -> &'static str {
    static TEXT: OnceLock<String> = OnceLock::new();
    TEXT.get_or_init(|| gunzip_text(CRD_CATALOG))
}

fn crd_index() -> &'static HashMap<(String, String), CrdEntry> {
    static INDEX: OnceLock<HashMap<(String, String), CrdEntry>> = OnceLock::new();
    INDEX.get_or_init(|| {
        let text = crd_text();
        let mut out = HashMap::new();
        for (key, range) in object_members(text, "\"schemas\":") {
            if let Some((api_version, kind)) = key.split_once('|') {
                let parsed = OnceLock::new();
                out.insert(
                    (api_version.to_owned(), kind.to_owned()),
                    CrdEntry { range, parsed },
                );
            }
        }
        let authored: Value = serde_json::from_str(AUTHORED)
            .expect("schemas/crds/authored.json is valid JSON (checked by a unit test)");
        if let Some(Value::Object(schemas)) = authored.get("schemas") {
            for (key, schema) in schemas {
                if let Some((api_version, kind)) = key.split_once('|') {
                    let entry = CrdEntry {
                        range: 0..0,
                        parsed: OnceLock::from(schema.clone()),
                    };
                    out.insert((api_version.to_owned(), kind.to_owned()), entry);
                }
            }
        }
        out
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Map;

    #[test]
    fn every_embedded_version_loads_and_indexes_workloads() {
        for v in supported() {
            let k = kube(v);
            assert!(k.len() > 500, "{v}: {} definitions", k.len());
            assert_eq!(
                k.by_gvk
                    .get(&("apps/v1".to_owned(), "Deployment".to_owned()))
                    .map(String::as_str),
                Some("io.k8s.api.apps.v1.Deployment"),
                "{v}"
            );
        }
        assert!(crd_schema("templates.gatekeeper.sh/v1", "ConstraintTemplate").is_some());
    }

    fn gunzip(bytes: &[u8]) -> Value {
        serde_json::from_str(&gunzip_text(bytes)).unwrap()
    }

    /// The index as it was made from the whole document parsed.
    fn index_of_whole(defs: &Map<String, Value>) -> HashMap<(String, String), String> {
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

    /// Every version's definitions, split and parsed one by one, are the whole document's,
    /// and so is the index made without parsing them.
    #[test]
    fn the_lazy_kubernetes_definitions_equal_the_whole_document() {
        for (minor, bytes) in EMBEDDED {
            let whole = gunzip(bytes);
            let defs = whole["$defs"].as_object().unwrap();
            let k = kube(KubeVersion { minor: *minor });
            assert_eq!(k.len(), defs.len(), "1.{minor}");
            for (name, def) in defs {
                assert_eq!(k.def(name), Some(def), "1.{minor} {name}");
            }
            assert_eq!(k.by_gvk, index_of_whole(defs), "1.{minor}");
            assert!(k.def("io.k8s.api.example.v1.Nothing").is_none());
        }
    }

    /// Splitting the catalog finds every schema the whole-document parse finds, each equal.
    #[test]
    fn the_lazy_catalog_equals_the_whole_document() {
        let whole = gunzip(CRD_CATALOG);
        let schemas = whole["schemas"].as_object().unwrap();
        assert!(schemas.len() > 400, "{}", schemas.len());
        for (key, schema) in schemas {
            let (api_version, kind) = key.split_once('|').unwrap();
            assert_eq!(crd_schema(api_version, kind), Some(schema), "{key}");
        }
        assert!(crd_schema("example.org/v1", "Nothing").is_none());
        let members = object_members(r#"{"s":{"a\"b":[1,"]}"],"c":{"d":{}},"e":2}}"#, "\"s\":");
        let got: Vec<(String, String)> = members
            .into_iter()
            .map(|(k, r)| {
                (
                    k,
                    r#"{"s":{"a\"b":[1,"]}"],"c":{"d":{}},"e":2}}"#[r].to_owned(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("a\"b".to_owned(), r#"[1,"]}"]"#.to_owned()),
                ("c".to_owned(), r#"{"d":{}}"#.to_owned()),
                ("e".to_owned(), "2".to_owned()),
            ]
        );
        // An escaped backslash ends before the quote that closes the string.
        let text = r#"{"s":{"x\\":"\\","y":"\"\\\""}}"#;
        let got: Vec<(String, &str)> = (object_members(text, "\"s\":").into_iter())
            .map(|(k, r)| (k, &text[r]))
            .collect();
        assert_eq!(
            got,
            [
                ("x\\".to_owned(), r#""\\""#),
                ("y".to_owned(), r#""\"\\\"""#)
            ]
        );
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
