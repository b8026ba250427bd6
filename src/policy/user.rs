//! Users' own policies, run unchanged as conftest runs them: Rego files from the policy
//! directories (`policy/` by default), whose packages in the configured namespaces (`main`
//! by default) define `deny`, `violation` or `warn` rules, or rules named with those
//! prefixes (`deny_latest`, `warn_probes`). Each such rule returns strings or objects with a
//! `msg` and is evaluated on every object; `deny`/`violation` results are errors, `warn`
//! results warnings. Data files (`.yaml`, `.yml`, `.json`) are merged into `data`, as
//! conftest's `--data` does.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use super::{PolicyError, PolicySource};
use crate::model::Severity;

/// What to load, with paths already resolved.
#[derive(Debug, Clone, Default)]
pub struct UserPolicyConfig {
    pub dirs: Vec<PathBuf>,
    pub namespaces: Vec<String>,
    pub data: Vec<PathBuf>,
    /// The directory every policy and data file must be in, symlinks resolved (the
    /// configuration's): `.kgate.yaml` comes with the pull request, and a data file is
    /// visible to policies that can print it, so `policies.data: [/home/runner/.ssh]` must
    /// not read anything. `None`: anywhere (callers that chose the paths themselves).
    pub within: Option<PathBuf>,
    /// Files past this size are refused (`limits.maxFileSize`); `None`: the default.
    pub max_file_size: Option<u64>,
}

/// Loaded user policies.
#[derive(Debug, Clone, Default)]
pub struct UserPolicies {
    pub sources: Vec<PolicySource>,
    pub namespaces: Vec<String>,
    /// The merged data documents.
    pub data: Map<String, Value>,
}

/// One conftest rule found in a user package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRule {
    /// `main-deny`, `main-warn-probes`: the package (dots as dashes) and the rule name.
    pub id: String,
    /// `data.main.deny`.
    pub query: String,
    pub severity: Severity,
    pub source: String,
}

/// The files with one of `exts` under `dir`, sorted. A symlink to a directory is not
/// followed (a link to `..` would recurse until the stack overflows); a symlink to a file
/// is listed, and checked against `within` like any file.
fn files_under(dir: &Path, exts: &[&str], out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<(PathBuf, bool)> = entries
        .flatten()
        .map(|e| (e.path(), e.file_type().is_ok_and(|t| t.is_dir())))
        .collect();
    entries.sort();
    for (p, real_dir) in entries {
        if real_dir {
            files_under(&p, exts, out);
        } else if !p.is_dir() && p.extension().is_some_and(|e| exts.iter().any(|x| e == *x)) {
            out.push(p);
        }
    }
}

/// Reads one policy or data file: inside `within` and within the size limit.
fn read(config: &UserPolicyConfig, within: Option<&Path>, f: &Path) -> Result<String, String> {
    if let (Some(within), Ok(real)) = (within, f.canonicalize())
        && !real.starts_with(within)
    {
        return Err(format!(
            "is outside {} (policies.dirs and policies.data must be inside the configuration's directory)",
            within.display()
        ));
    }
    let max = config
        .max_file_size
        .unwrap_or(crate::config::DEFAULT_MAX_FILE_SIZE);
    crate::source::read_text_bounded(f, max).map_err(|e| format!("{e} (see limits.maxFileSize)"))
}

fn merge(into: &mut Map<String, Value>, from: Map<String, Value>) {
    for (k, v) in from {
        match (into.get_mut(&k), v) {
            (Some(Value::Object(a)), Value::Object(b)) => merge(a, b),
            (_, v) => {
                into.insert(k, v);
            }
        }
    }
}

impl UserPolicies {
    /// Reads the policy and data files. `base` is where relative paths in messages start.
    pub fn load(config: &UserPolicyConfig, base: &Path) -> Result<UserPolicies, PolicyError> {
        let rel = |p: &Path| crate::source::relative(base, p);
        let within = config
            .within
            .as_ref()
            .map(|w| w.canonicalize().unwrap_or_else(|_| w.clone()));
        let mut files = Vec::new();
        for dir in &config.dirs {
            if dir.is_file() {
                files.push(dir.clone());
            } else {
                files_under(dir, &["rego"], &mut files);
            }
        }
        let mut sources = Vec::new();
        for f in files {
            let text =
                read(config, within.as_deref(), &f).map_err(|message| PolicyError::Load {
                    path: rel(&f),
                    message,
                })?;
            sources.push(PolicySource {
                path: rel(&f),
                text,
            });
        }
        let mut data_files = Vec::new();
        for d in &config.data {
            if d.is_file() {
                data_files.push(d.clone());
            } else {
                files_under(d, &["yaml", "yml", "json"], &mut data_files);
            }
        }
        let mut data = Map::new();
        for f in data_files {
            let bad = |message: String| PolicyError::Load {
                path: rel(&f),
                message,
            };
            let text = read(config, within.as_deref(), &f).map_err(bad)?;
            let (docs, err) =
                crate::yaml::parse_documents(&text, crate::yaml::LoadLimits::default());
            if let Some(e) = err {
                return Err(bad(format!("data file: {e}")));
            }
            for d in docs {
                match d.root.to_json() {
                    Value::Object(m) => merge(&mut data, m),
                    Value::Null => {}
                    _ => return Err(bad("a data file must hold a mapping".to_owned())),
                }
            }
        }
        Ok(UserPolicies {
            sources,
            namespaces: config.namespaces.clone(),
            data,
        })
    }

    /// The conftest rules of the configured namespaces, from the rule heads in the sources.
    pub fn rules(&self) -> Vec<UserRule> {
        let mut out: Vec<UserRule> = Vec::new();
        for src in self
            .sources
            .iter()
            .filter(|s| !s.path.ends_with("_test.rego"))
        {
            let Some(package) = package_of(&src.text) else {
                continue;
            };
            if !self.namespaces.contains(&package) {
                continue;
            }
            for name in rule_heads(&src.text) {
                let severity = if name.starts_with("warn") {
                    Severity::Warning
                } else {
                    Severity::Error
                };
                let id = format!("{}-{}", package.replace('.', "-"), name.replace('_', "-"))
                    .to_ascii_lowercase();
                if out.iter().any(|r| r.id == id) {
                    continue;
                }
                out.push(UserRule {
                    id,
                    query: format!("data.{package}.{name}"),
                    severity,
                    source: src.path.clone(),
                });
            }
        }
        out.sort_by(|a, b| a.id.cmp(&b.id));
        out
    }
}

fn package_of(text: &str) -> Option<String> {
    text.lines()
        .map(str::trim)
        .find_map(|l| l.strip_prefix("package "))
        .map(|p| p.trim().to_owned())
}

/// Names of the conftest rules a module defines: `deny`, `violation`, `warn` and names with
/// those prefixes and an underscore, at the start of a line (a rule head).
fn rule_heads(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for line in text.lines() {
        let name: String = line
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        let rest = line[name.len()..].trim_start();
        let is_head = rest.is_empty()
            || ["contains", "if", "[", "{", "=", ":="]
                .iter()
                .any(|t| rest.starts_with(t));
        let conftest = ["deny", "violation", "warn"]
            .iter()
            .any(|p| name == *p || name.starts_with(&format!("{p}_")));
        if conftest && is_head && !out.contains(&name) {
            out.push(name);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_heads_of_conftest_policies() {
        let text = "package main\n\nimport rego.v1\n\ndeny contains msg if {\n  input.kind == \"Deployment\"\n  msg := \"x\"\n}\n\nwarn_probes[msg] {\n  msg := \"y\"\n}\n\nviolation contains {\"msg\": \"z\"} if true\n\ndenylist := [\"a\"]\nhelper(x) if x\n";
        assert_eq!(package_of(text).as_deref(), Some("main"));
        assert_eq!(rule_heads(text), ["deny", "warn_probes", "violation"]);
        let user = UserPolicies {
            sources: vec![PolicySource {
                path: "policy/base.rego".into(),
                text: text.into(),
            }],
            namespaces: vec!["main".into()],
            data: Map::new(),
        };
        let rules = user.rules();
        let ids: Vec<&str> = rules.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["main-deny", "main-violation", "main-warn-probes"]);
        assert_eq!(rules[2].severity, Severity::Warning);
        assert_eq!(rules[2].query, "data.main.warn_probes");
    }
}
