//! The generated gather rules of the object rules: per kind, one rule collecting the `deny`
//! of every object rule that applies to it, so that an object is evaluated in one call.

use super::{PolicyError, PolicyRule, PolicySource};

const GATHER_PACKAGE: &str = "kgate_internal.gather";

/// The generated rules that evaluate every object rule applicable to a kind at once.
pub(super) struct Gathers {
    /// Kind -> rule path, for kinds some rule names in `custom.kinds` (in order: the
    /// program's entry points are listed in this order, and the embedded programs must be
    /// the same bytes from one compile to the next).
    by_kind: std::collections::BTreeMap<String, String>,
    /// For other kinds: the rules that apply to every kind.
    pub(super) any_kind: String,
}

impl Gathers {
    pub(super) fn for_kind(&self, kind: &str) -> &str {
        self.by_kind.get(kind).unwrap_or(&self.any_kind)
    }

    pub(super) fn all(&self) -> Vec<String> {
        std::iter::once(&self.any_kind)
            .chain(self.by_kind.values())
            .cloned()
            .collect()
    }
}

/// Adds the gather module to `modules`: per kind, one rule collecting the `deny` of every
/// object rule that applies to it.
pub(super) fn add_gathers(
    modules: &mut super::lazy::Modules,
    rules: &[PolicyRule],
) -> Result<Gathers, PolicyError> {
    // Per kind, one rule gathers every applicable rule's `deny`, so an object is evaluated
    // in one call, shared helpers (the container list) are computed once per object, and
    // a Service does not pay for the thirty workload rules. A complete rule (one object):
    // regorus evaluates a rule path, and the entries of a partial object rule are separate
    // paths, not `results` itself.
    let object_rules: Vec<&PolicyRule> = rules.iter().filter(|r| r.info.is_object_rule()).collect();
    let mut kinds: Vec<&str> = object_rules
        .iter()
        .flat_map(|r| r.info.kinds.iter().map(String::as_str))
        .collect();
    kinds.sort_unstable();
    kinds.dedup();
    let mut gather = format!("package {GATHER_PACKAGE}\n\n");
    let mut gathers = std::collections::BTreeMap::new();
    let mut add_gather = |name: &str, kind: Option<&str>| {
        gather.push_str(&format!("{name} := {{\n"));
        for r in object_rules.iter().filter(|r| {
            r.info.kinds.is_empty() || kind.is_some_and(|k| r.info.kinds.iter().any(|x| x == k))
        }) {
            gather.push_str(&format!("\t{:?}: {},\n", r.info.id, r.query));
        }
        gather.push_str("}\n");
        format!("data.{GATHER_PACKAGE}.{name}")
    };
    let any_kind = add_gather("results", None);
    for (i, kind) in kinds.iter().enumerate() {
        gathers.insert(
            (*kind).to_owned(),
            add_gather(&format!("results_{i}"), Some(kind)),
        );
    }
    modules.add(&PolicySource {
        path: "kgate-gather.rego".to_owned(),
        text: gather,
    })?;
    Ok(Gathers {
        by_kind: gathers,
        any_kind,
    })
}
