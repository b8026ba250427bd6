//! OPA `# METADATA` blocks. regorus does not parse them, so kgate does: the block is YAML
//! inside comments, right above the `package` line for package-scoped metadata.

use crate::model::Severity;
use crate::yaml::{self, LoadLimits, Node, Value};

/// What a rule file documents about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleMetadata {
    pub id: String,
    pub title: String,
    pub description: String,
    pub severity: Severity,
    pub remediation: String,
    /// `custom.kinds`: the object kinds the rule can fire on (empty: every kind). Objects of
    /// other kinds are not evaluated at all, in the manner of kube-linter's check scope.
    pub kinds: Vec<String>,
    /// `custom.scope: root`: the rule sees every object of a root at once
    /// (`input.objects`), for checks across objects; default `object`.
    pub root_scope: bool,
    /// `custom.scope: repo`: the rule sees the repository (its apps, clusters and graph) once,
    /// for repo-structure conventions.
    pub repo_scope: bool,
    /// `custom.needsParams: true`: the rule does nothing without `rules.params.<id>`, so it
    /// is not evaluated at all unless they are set.
    pub needs_params: bool,
    /// `custom.sensitive: true`: the rule's findings point at secret values, so reports never
    /// show their source lines.
    pub sensitive: bool,
    /// `custom.readsAnnotations`: the prefixes of the only annotation keys the rule reads.
    /// Objects that differ in other annotations (a cluster's `commonAnnotations`) then share
    /// the rule's results. Absent: a rule whose text mentions annotations may read any.
    pub reads_annotations: Option<Vec<String>>,
    /// `custom.relatesWithin: namespace` (root-scope rules only): a finding on an object
    /// depends only on the objects of its own namespace (for a Namespace, also those of the
    /// namespace it names). `--changed-since` then evaluates the rule with every other object
    /// of the root left out, instead of over a whole cluster root.
    pub namespace_local: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct MetadataError {
    /// 1-based line in the `.rego` file.
    pub line: u32,
    pub message: String,
}

/// Extracts the first METADATA block of a Rego file. `Ok(None)` when there is none.
pub fn parse_metadata(rego: &str) -> Result<Option<RuleMetadata>, MetadataError> {
    let Some((yaml_text, offset)) = metadata_block(rego) else {
        return Ok(None);
    };
    let err = |line: u32, message: String| metadata_error(offset, line, message);
    let (docs, parse_err) = yaml::parse_documents(&yaml_text, LoadLimits::default());
    if let Some(e) = parse_err {
        return Err(err(e.pos.line, format!("METADATA is not valid YAML: {e}")));
    }
    let Some(root) = docs.first().map(|d| &d.root) else {
        return Err(err(0, "METADATA block is empty".to_owned()));
    };
    let text = |node: Option<&Node>, what: &str, line: u32| -> Result<String, MetadataError> {
        match node.map(|n| &n.value) {
            Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.trim().to_owned()),
            _ => Err(err(
                line,
                format!("METADATA needs a non-empty string `{what}`"),
            )),
        }
    };
    let root_line = root.start.line;
    let title = text(root.get("title"), "title", root_line)?;
    let description = text(root.get("description"), "description", root_line)?;
    let Some(custom) = root.get("custom") else {
        return Err(err(
            root_line,
            "METADATA needs a `custom` block with id, severity and remediation".to_owned(),
        ));
    };
    let custom_line = custom.start.line;
    let id = text(custom.get("id"), "custom.id", custom_line)?;
    if !is_rule_id(&id) {
        return Err(err(
            custom_line,
            format!("rule id `{id}` must be kebab-case (lowercase letters, digits and '-')"),
        ));
    }
    let severity_node = custom.get("severity");
    let severity_line = severity_node.map_or(custom_line, |n| n.start.line);
    let severity = text(severity_node, "custom.severity", custom_line)?
        .parse()
        .map_err(|m: String| err(severity_line, m))?;
    let remediation = text(custom.get("remediation"), "custom.remediation", custom_line)?;
    let kinds = custom_strings(custom, "kinds", "kind names", offset)?;
    let reads_annotations = custom
        .get("readsAnnotations")
        .map(|_| {
            custom_strings(
                custom,
                "readsAnnotations",
                "annotation key prefixes",
                offset,
            )
        })
        .transpose()?;
    let (root_scope, repo_scope) = custom_scope(custom, offset)?;
    let namespace_local = relates_within(custom, root_scope, offset)?;
    Ok(Some(RuleMetadata {
        id,
        title,
        description,
        severity,
        remediation,
        kinds,
        root_scope,
        repo_scope,
        needs_params: matches!(
            custom.get("needsParams").map(|n| &n.value),
            Some(Value::Bool(true))
        ),
        sensitive: matches!(
            custom.get("sensitive").map(|n| &n.value),
            Some(Value::Bool(true))
        ),
        reads_annotations,
        namespace_local,
    }))
}

/// The YAML text of the first METADATA block (its comment markers stripped), with the
/// offset of its lines from the file's. `None` when there is no block.
fn metadata_block(rego: &str) -> Option<(String, u32)> {
    let lines: Vec<&str> = rego.lines().collect();
    let start = lines.iter().position(|l| {
        l.trim_start().trim_start_matches('#').trim() == "METADATA"
            && l.trim_start().starts_with('#')
    })?;
    let mut yaml_text = String::new();
    for line in &lines[start + 1..] {
        let t = line.trim_start();
        let Some(rest) = t.strip_prefix('#') else {
            break;
        };
        yaml_text.push_str(rest.strip_prefix(' ').unwrap_or(rest));
        yaml_text.push('\n');
    }
    // Lines in the YAML text are offset from the file by the METADATA line itself.
    let offset = u32::try_from(start + 1).unwrap_or(u32::MAX);
    Some((yaml_text, offset))
}

/// An error at `line` of the METADATA YAML text, reported at its line in the file.
fn metadata_error(offset: u32, line: u32, message: String) -> MetadataError {
    MetadataError {
        line: line.saturating_add(offset),
        message,
    }
}

/// `custom.<key>`: a list of strings (`what` they are, for the error), empty when absent.
fn custom_strings(
    custom: &Node,
    key: &str,
    what: &str,
    offset: u32,
) -> Result<Vec<String>, MetadataError> {
    let err = |line: u32, message: String| metadata_error(offset, line, message);
    match custom.get(key).map(|k| &k.value) {
        None => Ok(Vec::new()),
        Some(Value::Seq(items)) => items
            .iter()
            .map(|i| {
                i.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| err(i.start.line, format!("custom.{key} must list {what}")))
            })
            .collect(),
        Some(_) => Err(err(
            custom.start.line,
            format!("custom.{key} must be a list"),
        )),
    }
}

/// `custom.scope` as `(root_scope, repo_scope)`; absent means `object`.
fn custom_scope(custom: &Node, offset: u32) -> Result<(bool, bool), MetadataError> {
    match custom.get("scope").map(|s| (&s.value, s.start.line)) {
        None => Ok((false, false)),
        Some((Value::String(s), _)) if s == "object" => Ok((false, false)),
        Some((Value::String(s), _)) if s == "root" => Ok((true, false)),
        Some((Value::String(s), _)) if s == "repo" => Ok((false, true)),
        Some((_, line)) => Err(metadata_error(
            offset,
            line,
            "custom.scope must be `object`, `root` or `repo`".to_owned(),
        )),
    }
}

/// `custom.relatesWithin`: absent, or `namespace` on a root-scope rule.
fn relates_within(custom: &Node, root_scope: bool, offset: u32) -> Result<bool, MetadataError> {
    match custom
        .get("relatesWithin")
        .map(|n| (&n.value, n.start.line))
    {
        None => Ok(false),
        Some((Value::String(s), _)) if s == "namespace" && root_scope => Ok(true),
        Some((Value::String(s), line)) if s == "namespace" => Err(metadata_error(
            offset,
            line,
            "custom.relatesWithin applies to root-scope rules only (`custom.scope: root`)"
                .to_owned(),
        )),
        Some((_, line)) => Err(metadata_error(
            offset,
            line,
            "custom.relatesWithin must be `namespace`".to_owned(),
        )),
    }
}

/// Rule ids are kebab-case slugs: `image-latest-tag`.
pub fn is_rule_id(id: &str) -> bool {
    !id.is_empty()
        && !id.starts_with('-')
        && !id.ends_with('-')
        && !id.contains("--")
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "# METADATA\n# title: T\n# description: |-\n#   Long\n#   text.\n# custom:\n#   id: some-rule\n#   severity: warning\n#   remediation: Do it.\npackage x\n";

    #[test]
    fn parses_a_block() {
        let m = parse_metadata(GOOD).unwrap().unwrap();
        assert_eq!(m.id, "some-rule");
        assert_eq!(m.description, "Long\ntext.");
        assert_eq!(m.severity, Severity::Warning);
        assert_eq!(m.remediation, "Do it.");
    }

    #[test]
    fn no_block_is_none() {
        assert_eq!(parse_metadata("package x\n").unwrap(), None);
    }

    #[test]
    fn errors_name_the_line() {
        let bad = GOOD.replace("warning", "fatal");
        let e = parse_metadata(&bad).unwrap_err();
        assert_eq!(e.line, 8);
        assert!(e.message.contains("fatal"));
        let bad = GOOD.replace("some-rule", "Some_Rule");
        assert!(
            parse_metadata(&bad)
                .unwrap_err()
                .message
                .contains("kebab-case")
        );
        let bad = GOOD.replace("# title: T\n", "");
        assert!(parse_metadata(&bad).unwrap_err().message.contains("title"));
    }

    #[test]
    fn relates_within_is_namespace_on_root_rules_only() {
        assert!(!parse_metadata(GOOD).unwrap().unwrap().namespace_local);
        let root = GOOD.replace(
            "#   remediation: Do it.\n",
            "#   remediation: Do it.\n#   scope: root\n#   relatesWithin: namespace\n",
        );
        assert!(parse_metadata(&root).unwrap().unwrap().namespace_local);
        let object = root.replace("#   scope: root\n", "");
        let e = parse_metadata(&object).unwrap_err();
        assert_eq!(e.line, 10);
        assert!(e.message.contains("root-scope rules only"), "{e}");
        let other = root.replace("relatesWithin: namespace", "relatesWithin: cluster");
        assert!(
            parse_metadata(&other)
                .unwrap_err()
                .message
                .contains("must be `namespace`")
        );
    }
}
