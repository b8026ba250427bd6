//! `--format sarif`: SARIF 2.1.0 (via `serde_sarif`), as GitHub code scanning ingests it.

use std::collections::BTreeMap;

use serde_sarif::sarif;

use crate::model::CheckResult;
use crate::model::rules::RuleInfo;
use crate::model::{Finding, Severity};

pub const SARIF_SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// Where each rule's documentation lives: `docs/rules.md` of the repository, one anchor per
/// rule id.
pub const RULES_DOC: &str = "https://github.com/kgate/kgate/blob/main/docs/rules.md";

fn level(s: Severity) -> serde_json::Value {
    serde_json::Value::String(
        match s {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "note",
        }
        .to_owned(),
    )
}

/// `image-latest-tag` -> `ImageLatestTag`: SARIF's convention for a rule's `name`.
fn pascal_case(id: &str) -> String {
    id.split('-')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_uppercase().chain(c).collect::<String>())
                .unwrap_or_default()
        })
        .collect()
}

fn descriptor(rule: &RuleInfo) -> sarif::ReportingDescriptor {
    let markdown = format!(
        "**{}**\n\n{}\n\n**How to fix:** {}",
        rule.title, rule.description, rule.remediation
    );
    let mut props = BTreeMap::new();
    props.insert(
        "source".to_owned(),
        serde_json::Value::String(rule.source.clone()),
    );
    let mut d = sarif::ReportingDescriptor::builder()
        .id(rule.id.clone())
        .name(pascal_case(&rule.id))
        .short_description(
            sarif::MultiformatMessageString::builder()
                .text(rule.title.clone())
                .build(),
        )
        .full_description(
            sarif::MultiformatMessageString::builder()
                .text(rule.description.clone())
                .build(),
        )
        .help(
            sarif::MultiformatMessageString::builder()
                .text(rule.remediation.clone())
                .markdown(markdown)
                .build(),
        )
        .default_configuration(
            sarif::ReportingConfiguration::builder()
                .level(level(rule.severity))
                .build(),
        )
        .properties(
            sarif::PropertyBag::builder()
                .additional_properties(props)
                .build(),
        )
        .build();
    // Repository policies (conftest, Gatekeeper) are documented where they are defined.
    if rule.source == "kgate" || rule.source.starts_with("policies/") {
        d.help_uri = Some(format!("{RULES_DOC}#{}", rule.id));
    }
    d
}

/// A file region as SARIF sees it; `prefix` is the scanned root's path from the git top
/// level.
fn physical_location(loc: &crate::model::Location, prefix: &str) -> sarif::PhysicalLocation {
    let mut region = sarif::Region::builder()
        .start_line(i64::from(loc.line))
        .start_column(i64::from(loc.column))
        .build();
    if let Some(end) = loc.end {
        region.end_line = Some(i64::from(end.line));
        region.end_column = Some(i64::from(end.column));
    }
    sarif::PhysicalLocation::builder()
        .artifact_location(
            sarif::ArtifactLocation::builder()
                .uri(format!("{prefix}{}", loc.path))
                .uri_base_id("SRCROOT")
                .build(),
        )
        .region(region)
        .build()
}

/// One SARIF result; `prefix` is the scanned root's path from the git top level.
fn result(f: &Finding, prefix: &str, rule_index: Option<usize>) -> sarif::Result {
    let physical = physical_location(&f.location, prefix);
    let mut location = sarif::Location::builder()
        .physical_location(physical)
        .build();
    if let Some(obj) = &f.object {
        let fqn = format!(
            "{}/{}/{}/{}",
            obj.api_version,
            obj.kind,
            obj.namespace.as_deref().unwrap_or(""),
            obj.name.as_deref().unwrap_or("")
        );
        location.logical_locations = Some(vec![
            sarif::LogicalLocation::builder()
                .fully_qualified_name(fqn)
                .kind("object")
                .build(),
        ]);
    }
    let mut props = BTreeMap::new();
    if let Some(p) = &f.pointer {
        props.insert("pointer".to_owned(), serde_json::Value::String(p.clone()));
    }
    if !f.roots.is_empty() {
        props.insert("roots".to_owned(), serde_json::json!(f.roots));
    }
    let mut r = sarif::Result::builder()
        .rule_id(f.rule.clone())
        .level(match f.severity {
            Severity::Error => sarif::ResultLevel::Error,
            Severity::Warning => sarif::ResultLevel::Warning,
            Severity::Note => sarif::ResultLevel::Note,
        })
        .message(
            sarif::Message::builder()
                .text(format!("{}. {}", f.message, f.help).trim_end().to_owned())
                .build(),
        )
        .locations(vec![location])
        .build();
    if let Some(i) = rule_index.and_then(|i| i64::try_from(i).ok()) {
        r.rule_index = Some(i);
    }
    // Helm output located at the values line that decided it: the template line that wrote
    // the field.
    if let Some(related) = &f.location.related {
        r.related_locations = Some(vec![
            sarif::Location::builder()
                .id(1)
                .physical_location(physical_location(related, prefix))
                .message(
                    sarif::Message::builder()
                        .text("The Helm template line that wrote this field.")
                        .build(),
                )
                .build(),
        ]);
    }
    // Code scanning matches alerts across commits by these (the line may move).
    r.partial_fingerprints = Some(BTreeMap::from([(
        "kgateFingerprint/v1".to_owned(),
        f.fingerprint(),
    )]));
    if !props.is_empty() {
        r.properties = Some(
            sarif::PropertyBag::builder()
                .additional_properties(props)
                .build(),
        );
    }
    r
}

pub(super) fn render(res: &CheckResult) -> String {
    // The driver lists every enabled rule, sorted by id; `ruleIndex` points into that list.
    let rules: Vec<&RuleInfo> = res.rules.iter().collect();
    let mut results: Vec<sarif::Result> = res
        .findings
        .iter()
        .map(|f| {
            let index = rules.iter().position(|r| r.id == f.rule);
            result(f, &res.repo_prefix, index)
        })
        .collect();
    // Suppressed findings are reported as such, so code scanning shows them as dismissed
    // with the reason instead of forgetting them.
    for s in &res.suppressed {
        let index = rules.iter().position(|r| r.id == s.finding.rule);
        let mut r = result(&s.finding, &res.repo_prefix, index);
        r.suppressions = Some(vec![
            sarif::Suppression::builder()
                .kind(serde_json::Value::String(s.kind.to_owned()))
                .justification(s.reason.clone())
                .build(),
        ]);
        results.push(r);
    }
    let driver = sarif::ToolComponent::builder()
        .name("kgate")
        .version(env!("CARGO_PKG_VERSION"))
        .semantic_version(env!("CARGO_PKG_VERSION"))
        .information_uri("https://github.com/kgate/kgate")
        .rules(rules.into_iter().map(descriptor).collect::<Vec<_>>())
        .build();
    let mut run = sarif::Run::builder()
        .tool(sarif::Tool::builder().driver(driver).build())
        .results(results)
        .column_kind(serde_json::Value::String("unicodeCodePoints".to_owned()))
        .automation_details(
            sarif::RunAutomationDetails::builder()
                .id("kgate/".to_owned())
                .build(),
        )
        .build();
    // Paths are relative to the top level of the git repository (the scanned root when it is
    // not in one), as code scanning resolves them; its absolute location is left to the
    // consumer, so the report does not depend on the machine.
    run.original_uri_base_ids = Some(BTreeMap::from([(
        "SRCROOT".to_owned(),
        sarif::ArtifactLocation::builder()
            .description(
                sarif::Message::builder()
                    .text("The top level of the git repository that was checked.")
                    .build(),
            )
            .build(),
    )]));
    let log = sarif::Sarif::builder()
        .schema(SARIF_SCHEMA)
        .version(serde_json::Value::String("2.1.0".to_owned()))
        .runs(vec![run])
        .build();
    let mut out = serde_json::to_string_pretty(&log).unwrap_or_default();
    out.push('\n');
    out
}

/// Merges SARIF logs of kgate runs over parts of a repository (`--shard`) into one: the
/// rules of all parts (sorted by id, `ruleIndex` recomputed), each result once (by its
/// fingerprint; a base defect seen through roots of several parts lists all of them), in
/// report order.
pub fn merge(logs: &[serde_json::Value]) -> Result<serde_json::Value, String> {
    use serde_json::Value;
    let first = logs.first().ok_or("no SARIF files to merge")?;
    let mut rules: BTreeMap<String, Value> = BTreeMap::new();
    let mut results: BTreeMap<String, Value> = BTreeMap::new();
    for (n, log) in logs.iter().enumerate() {
        let runs = log["runs"]
            .as_array()
            .ok_or_else(|| format!("input {}: not a SARIF log (no runs)", n + 1))?;
        for run in runs {
            if run["tool"]["driver"]["name"] != "kgate" {
                return Err(format!("input {}: not a kgate run", n + 1));
            }
            for r in run["tool"]["driver"]["rules"]
                .as_array()
                .into_iter()
                .flatten()
            {
                if let Some(id) = r["id"].as_str() {
                    rules.entry(id.to_owned()).or_insert_with(|| r.clone());
                }
            }
            for r in run["results"].as_array().into_iter().flatten() {
                let fp = r["partialFingerprints"]["kgateFingerprint/v1"]
                    .as_str()
                    .map(str::to_owned)
                    .unwrap_or_else(|| r.to_string());
                let suppressed = r["suppressions"].is_array();
                let key = format!("{fp}{}", if suppressed { "/s" } else { "" });
                match results.get_mut(&key) {
                    Some(existing) => {
                        let mut roots: Vec<Value> = existing["properties"]["roots"]
                            .as_array()
                            .cloned()
                            .unwrap_or_default();
                        for root in r["properties"]["roots"].as_array().into_iter().flatten() {
                            if !roots.contains(root) {
                                roots.push(root.clone());
                            }
                        }
                        roots.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
                        if !roots.is_empty() {
                            existing["properties"]["roots"] = Value::Array(roots);
                        }
                    }
                    None => {
                        results.insert(key, r.clone());
                    }
                }
            }
        }
    }
    let ids: Vec<String> = rules.keys().cloned().collect();
    let mut results: Vec<Value> = results.into_values().collect();
    for r in &mut results {
        if let Some(i) = r["ruleId"]
            .as_str()
            .and_then(|id| ids.iter().position(|x| x == id))
        {
            r["ruleIndex"] = Value::from(i);
        }
    }
    let order = |r: &Value| {
        let loc = &r["locations"][0]["physicalLocation"];
        (
            loc["artifactLocation"]["uri"]
                .as_str()
                .unwrap_or("")
                .to_owned(),
            loc["region"]["startLine"].as_u64().unwrap_or(0),
            loc["region"]["startColumn"].as_u64().unwrap_or(0),
            r["ruleId"].as_str().unwrap_or("").to_owned(),
            r["message"]["text"].as_str().unwrap_or("").to_owned(),
        )
    };
    results.sort_by_key(order);
    let mut out = first.clone();
    let run = &mut out["runs"][0];
    run["tool"]["driver"]["rules"] = Value::Array(rules.into_values().collect());
    run["results"] = Value::Array(results);
    if let Some(runs) = out["runs"].as_array_mut() {
        runs.truncate(1);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn pascal_case() {
        assert_eq!(super::pascal_case("image-latest-tag"), "ImageLatestTag");
    }
}
