//! What the loaded policies may read of the context and of an object, found by scanning their
//! text (conservatively: a false "reads" only costs speed). Two objects that differ only in
//! what no policy reads get the same results, so the checker evaluates one and reuses it: a
//! cluster root re-renders every overlay it includes with its `commonAnnotations`, and those
//! objects need not be evaluated again.

use serde_json::Value;

use super::PolicySource;
use super::metadata::parse_metadata;

/// What some policy may read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reads {
    /// `data.kgate.root`.
    pub root: bool,
    /// `data.kgate.cluster`.
    pub cluster: bool,
    /// Annotations: `None` when a policy may read any; otherwise the key prefixes the rules
    /// that read annotations declare (`custom.readsAnnotations`).
    pub annotations: Option<Vec<String>>,
}

impl Default for Reads {
    fn default() -> Reads {
        Reads {
            root: false,
            cluster: false,
            annotations: Some(Vec::new()),
        }
    }
}

/// Whether Rego `text` may read `data.kgate.<field>`: it names it, indexes `data.kgate[...]`,
/// or takes `data.kgate` whole (an import or an assignment).
pub fn reads_context_field(text: &str, field: &str) -> bool {
    text.match_indices("data.kgate").any(|(i, m)| {
        let rest = &text[i + m.len()..];
        match rest.strip_prefix('.') {
            Some(after) => {
                after.starts_with(field)
                    && !after[field.len()..].starts_with(|c: char| c.is_alphanumeric() || c == '_')
            }
            None => true,
        }
    })
}

impl Reads {
    /// What the policy files in `sources` (test files excluded by the caller) may read.
    /// `users` are the repository's own policies: besides naming annotations, one that walks
    /// or indexes the object generically may read them too.
    pub fn of<'a>(
        builtin: impl IntoIterator<Item = &'a PolicySource>,
        users: impl IntoIterator<Item = &'a PolicySource>,
    ) -> Reads {
        let mut reads = Reads::default();
        let generic = ["walk(", "json.marshal", "input[", "metadata[", "in input"];
        let sources = builtin
            .into_iter()
            .map(|s| (s, false))
            .chain(users.into_iter().map(|s| (s, true)));
        for (src, user) in sources {
            reads.root |= reads_context_field(&src.text, "root");
            reads.cluster |= reads_context_field(&src.text, "cluster");
            if user && generic.iter().any(|g| src.text.contains(g)) {
                reads.annotations = None;
                continue;
            }
            if !src.text.contains("annotations") {
                continue;
            }
            let declared = parse_metadata(&src.text)
                .ok()
                .flatten()
                .and_then(|m| m.reads_annotations);
            reads.annotations = match (reads.annotations.take(), declared) {
                (Some(mut all), Some(prefixes)) => {
                    all.extend(prefixes);
                    all.sort();
                    all.dedup();
                    Some(all)
                }
                _ => None,
            };
        }
        reads
    }

    /// `context` without what no policy reads.
    pub fn context_key(&self, context: &Value) -> Value {
        match context {
            Value::Object(m) => Value::Object(
                m.iter()
                    .filter(|(k, _)| {
                        (self.root || *k != "root") && (self.cluster || *k != "cluster")
                    })
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
            ),
            other => other.clone(),
        }
    }

    /// Hashes `object` without the annotations no policy reads (of the object and of every
    /// template inside it: any `annotations` map under a `metadata` key).
    pub fn hash_object(&self, object: &Value, h: &mut impl std::hash::Hasher) {
        use std::hash::Hash;
        match object {
            Value::Object(m) => {
                h.write_u8(b'{');
                for (k, v) in m {
                    hash_key(k, h);
                    match (k.as_str(), v, &self.annotations) {
                        ("metadata", Value::Object(meta), Some(prefixes)) => {
                            h.write_u8(b'{');
                            for (mk, mv) in meta {
                                if mk == "annotations"
                                    && let Value::Object(a) = mv
                                {
                                    // Without the keys no rule reads, an annotation map may be
                                    // empty: the same as none.
                                    for (ak, av) in a.iter().filter(|(ak, _)| {
                                        prefixes.iter().any(|p| ak.starts_with(p.as_str()))
                                    }) {
                                        hash_key(mk, h);
                                        ak.hash(h);
                                        self.hash_object(av, h);
                                    }
                                } else {
                                    hash_key(mk, h);
                                    self.hash_object(mv, h);
                                }
                            }
                            h.write_u8(b'}');
                        }
                        _ => self.hash_object(v, h),
                    }
                }
                h.write_u8(b'}');
            }
            Value::Array(items) => {
                h.write_u8(b'[');
                items.iter().for_each(|i| self.hash_object(i, h));
                h.write_u8(b']');
            }
            Value::String(s) => {
                h.write_u8(b's');
                s.hash(h);
            }
            Value::Number(n) => {
                h.write_u8(b'n');
                n.to_string().hash(h);
            }
            Value::Bool(b) => {
                h.write_u8(b'b');
                b.hash(h);
            }
            Value::Null => h.write_u8(b'0'),
        }
    }
}

/// A map's key, tagged, so that a key beginning with `}` is not read as the end of the map:
/// two different objects writing the same bytes would share their results.
fn hash_key(key: &str, h: &mut impl std::hash::Hasher) {
    use std::hash::Hash;
    h.write_u8(b'k');
    key.hash(h);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn src(text: &str) -> PolicySource {
        PolicySource {
            path: "p.rego".to_owned(),
            text: text.to_owned(),
        }
    }

    fn hash(reads: &Reads, v: &Value) -> u64 {
        use std::hash::Hasher;
        let mut h = std::collections::hash_map::DefaultHasher::new();
        reads.hash_object(v, &mut h);
        h.finish()
    }

    #[test]
    fn context_fields_are_read_when_named_or_taken_whole() {
        assert!(reads_context_field("x := data.kgate.cluster", "cluster"));
        assert!(!reads_context_field("x := data.kgate.clusters", "cluster"));
        assert!(reads_context_field("import data.kgate", "cluster"));
        assert!(reads_context_field(
            "x := data.kgate[\"cluster\"]",
            "cluster"
        ));
        assert!(!reads_context_field(
            "x := data.kgate.environment",
            "cluster"
        ));
    }

    #[test]
    fn the_builtin_library_reads_neither_root_nor_cluster_and_few_annotations() {
        let sources: Vec<PolicySource> = crate::policy::builtin_sources()
            .into_iter()
            .filter(|s| !s.path.ends_with("_test.rego"))
            .collect();
        let reads = Reads::of(&sources, &[]);
        assert!(!reads.root && !reads.cluster);
        let prefixes = reads.annotations.expect("declared prefixes");
        assert!(prefixes.contains(&"container.apparmor.security.beta.kubernetes.io/".to_owned()));
    }

    #[test]
    fn an_undeclared_mention_of_annotations_means_any() {
        let reads = Reads::of(
            &[],
            &[src("deny contains m if { input.metadata.annotations.x }")],
        );
        assert_eq!(reads.annotations, None);
        // A user's policy that walks the object may read annotations without naming them.
        let reads = Reads::of(
            &[],
            &[src(
                "deny contains m if { walk(input, [p, v]); v == \"x\" }",
            )],
        );
        assert_eq!(reads.annotations, None);
        let reads = Reads::of(
            &[],
            &[src("deny contains m if { input.spec.replicas > 3 }")],
        );
        assert_eq!(reads.annotations, Some(Vec::new()));
    }

    #[test]
    fn objects_differing_only_in_unread_annotations_hash_alike() {
        let reads = Reads {
            annotations: Some(vec!["keep/".to_owned()]),
            ..Reads::default()
        };
        let a = json!({"kind": "Deployment", "metadata": {"name": "a", "annotations": {"cluster": "x"}},
            "spec": {"template": {"metadata": {"annotations": {"cluster": "x", "keep/c": "1"}}}}});
        let b = json!({"kind": "Deployment", "metadata": {"name": "a", "annotations": {"cluster": "y"}},
            "spec": {"template": {"metadata": {"annotations": {"cluster": "y", "keep/c": "1"}}}}});
        let c = json!({"kind": "Deployment", "metadata": {"name": "a", "annotations": {"cluster": "y"}},
            "spec": {"template": {"metadata": {"annotations": {"cluster": "y", "keep/c": "2"}}}}});
        assert_eq!(hash(&reads, &a), hash(&reads, &b));
        assert_ne!(hash(&reads, &b), hash(&reads, &c));
        // The only annotation a cluster adds: the same as none.
        let bare = json!({"kind": "Deployment", "metadata": {"name": "a"},
            "spec": {"template": {"metadata": {"annotations": {"keep/c": "1"}}}}});
        assert_eq!(hash(&reads, &a), hash(&reads, &bare));
        let all = Reads {
            annotations: None,
            ..Reads::default()
        };
        assert_ne!(hash(&all, &a), hash(&all, &b));
    }

    /// Without a tag before each key, both wrote `{p {o {a 0} Zk 0} } c 0}`: the key `}Zk`
    /// read as the end of `o`'s object and the key `Zk`, the key `}c` as the end of `p`'s.
    #[test]
    fn a_key_beginning_with_a_closing_brace_is_not_the_end_of_an_object() {
        let reads = Reads::default();
        let a = json!({"p": {"o": {"a": null}, "Zk": null}, "}c": null});
        let b = json!({"p": {"o": {"a": null, "}Zk": null}}, "c": null});
        assert_ne!(hash(&reads, &a), hash(&reads, &b));
        let annotated = Reads {
            annotations: Some(vec![String::new()]),
            ..Reads::default()
        };
        let a = json!({"metadata": {"o": {"a": null}, "Zk": null}, "}c": null});
        let b = json!({"metadata": {"o": {"a": null, "}Zk": null}}, "c": null});
        assert_ne!(hash(&annotated, &a), hash(&annotated, &b));
    }
}
