//! Environment drift (`kgate diff --env dev,staging,prod [APP...]`): each app's overlays are
//! rendered and compared object by object; what differs beyond the fields environments are
//! expected to change (the namespace, image tags, replica counts and resources by default)
//! is reported per app. This is the "staging no longer matches prod" check.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::Serialize;
use serde_json::Value;

use crate::render::Renderer;

/// Fields environments may change without it counting as drift, as JSON-pointer globs
/// (`*` is one segment).
pub const DEFAULT_ALLOWED: &[&str] = &[
    "/metadata/namespace",
    "/spec/replicas",
    "/spec/template/spec/containers/*/resources",
    "/spec/template/spec/initContainers/*/resources",
    "/spec/jobTemplate/spec/template/spec/containers/*/resources",
];

/// One difference in one object: the field and its value in each environment (`None`:
/// absent there).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldDrift {
    pub pointer: String,
    pub values: BTreeMap<String, Option<Value>>,
}

/// What differs for one object of an app.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ObjectDrift {
    /// `Kind/name` (the name before environment prefixes and suffixes).
    pub object: String,
    /// Environments that do not have the object at all.
    pub missing_in: Vec<String>,
    pub fields: Vec<FieldDrift>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AppDrift {
    pub app: String,
    /// Environments compared (those the app has an overlay for).
    pub environments: Vec<String>,
    /// Overlays that do not render, with why.
    pub errors: BTreeMap<String, String>,
    pub objects: Vec<ObjectDrift>,
}

impl AppDrift {
    pub fn drifts(&self) -> bool {
        !self.objects.is_empty() || !self.errors.is_empty()
    }
}

/// `image` without its tag or digest: tags may differ between environments.
fn image_name(image: &str) -> &str {
    let no_digest = image.split('@').next().unwrap_or(image);
    match no_digest.rfind(':') {
        Some(i) if !no_digest[i..].contains('/') => &no_digest[..i],
        _ => no_digest,
    }
}

fn allowed(pointer: &str, globs: &[Vec<String>]) -> bool {
    let segs: Vec<&str> = pointer.split('/').skip(1).collect();
    globs
        .iter()
        .any(|g| g.len() <= segs.len() && g.iter().zip(&segs).all(|(p, s)| p == "*" || p == s))
}

/// Every leaf of `v` (scalars, empty collections) by JSON pointer, images reduced to their
/// names.
fn leaves(v: &Value, pointer: String, out: &mut BTreeMap<String, Value>) {
    match v {
        Value::Object(m) if !m.is_empty() => {
            for (k, x) in m {
                let key = k.replace('~', "~0").replace('/', "~1");
                leaves(x, format!("{pointer}/{key}"), out);
            }
        }
        Value::Array(a) if !a.is_empty() => {
            for (i, x) in a.iter().enumerate() {
                leaves(x, format!("{pointer}/{i}"), out);
            }
        }
        Value::String(s) if pointer.ends_with("/image") => {
            out.insert(pointer, Value::String(image_name(s).to_owned()));
        }
        other => {
            out.insert(pointer, other.clone());
        }
    }
}

/// Compares the overlays of the apps in `graph` (those named in `only`, or all) across
/// `environments`. `allow` adds pointer globs to [`DEFAULT_ALLOWED`].
pub fn diff(
    repo_root: &Path,
    scan_root: &Path,
    apps: &Value,
    environments: &[String],
    only: &[String],
    allow: &[String],
) -> Vec<AppDrift> {
    let globs: Vec<Vec<String>> = DEFAULT_ALLOWED
        .iter()
        .map(|s| (*s).to_owned())
        .chain(allow.iter().cloned())
        .map(|g| g.split('/').skip(1).map(str::to_owned).collect())
        .collect();
    let renderer = Renderer::new(repo_root);
    let mut out = Vec::new();
    for app in apps.as_array().into_iter().flatten() {
        let (Some(name), Some(path)) = (app["name"].as_str(), app["path"].as_str()) else {
            continue;
        };
        if !only.is_empty() && !only.iter().any(|o| o == name || o == path) {
            continue;
        }
        let mut objects: BTreeMap<String, BTreeMap<String, BTreeMap<String, Value>>> =
            BTreeMap::new();
        let mut errors = BTreeMap::new();
        let mut envs = Vec::new();
        for env in environments {
            let Some(overlay) = app["overlays"][env].as_str() else {
                continue;
            };
            envs.push(env.clone());
            match renderer.render(&scan_root.join(overlay)) {
                Ok(resources) => {
                    for r in resources {
                        let base_name = r
                            .prev_names
                            .first()
                            .cloned()
                            .unwrap_or_else(|| r.name().to_owned());
                        let key = format!("{}/{}", r.kind(), base_name);
                        let mut fields = BTreeMap::new();
                        leaves(&r.node.to_json(), String::new(), &mut fields);
                        fields.remove("/metadata/name");
                        fields.retain(|p, _| !allowed(p, &globs));
                        objects.entry(key).or_default().insert(env.clone(), fields);
                    }
                }
                Err(e) => {
                    errors.insert(env.clone(), e.to_string());
                }
            }
        }
        let rendered: Vec<&String> = envs.iter().filter(|e| !errors.contains_key(*e)).collect();
        let mut drifts = Vec::new();
        for (key, by_env) in &objects {
            let missing_in: Vec<String> = rendered
                .iter()
                .filter(|e| !by_env.contains_key(**e))
                .map(|e| (*e).clone())
                .collect();
            let pointers: BTreeSet<&String> = by_env.values().flat_map(|f| f.keys()).collect();
            let mut fields = Vec::new();
            for p in pointers {
                let values: BTreeMap<String, Option<Value>> = by_env
                    .iter()
                    .map(|(env, f)| (env.clone(), f.get(p).cloned()))
                    .collect();
                let distinct: BTreeSet<String> = values
                    .values()
                    .map(|v| serde_json::to_string(v).unwrap_or_default())
                    .collect();
                if distinct.len() > 1 {
                    fields.push(FieldDrift {
                        pointer: p.clone(),
                        values,
                    });
                }
            }
            if !missing_in.is_empty() || !fields.is_empty() {
                drifts.push(ObjectDrift {
                    object: key.clone(),
                    missing_in,
                    fields,
                });
            }
        }
        out.push(AppDrift {
            app: path.to_owned(),
            environments: envs,
            errors,
            objects: drifts,
        });
    }
    out
}

/// The report for people: per app, per object, each drifting field with its values.
pub fn to_human(drifts: &[AppDrift]) -> String {
    let mut s = String::new();
    let drifting = drifts.iter().filter(|d| d.drifts()).count();
    for d in drifts.iter().filter(|d| d.drifts()) {
        s.push_str(&format!("{} ({})\n", d.app, d.environments.join(", ")));
        for (env, e) in &d.errors {
            s.push_str(&format!("  {env}: does not render: {e}\n"));
        }
        for o in &d.objects {
            s.push_str(&format!("  {}\n", o.object));
            if !o.missing_in.is_empty() {
                s.push_str(&format!("    missing in {}\n", o.missing_in.join(", ")));
            }
            for f in &o.fields {
                // In the order environments were given (dev before prod), not alphabetically.
                let values: Vec<String> = d
                    .environments
                    .iter()
                    .filter_map(|env| f.values.get(env).map(|v| (env, v)))
                    .map(|(env, v)| {
                        format!(
                            "{env}={}",
                            v.as_ref().map_or("(absent)".to_owned(), |v| v.to_string())
                        )
                    })
                    .collect();
                s.push_str(&format!("    {}: {}\n", f.pointer, values.join("  ")));
            }
        }
        s.push('\n');
    }
    s.push_str(&format!(
        "kgate diff: {} of {} apps drift between environments\n",
        drifting,
        drifts.len()
    ));
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_compare_by_name_and_allowed_globs_match_prefixes() {
        assert_eq!(image_name("registry:5000/web:1.2"), "registry:5000/web");
        assert_eq!(image_name("web@sha256:abc"), "web");
        assert_eq!(image_name("registry:5000/web"), "registry:5000/web");
        let globs = vec![vec![
            "spec".to_owned(),
            "template".to_owned(),
            "spec".to_owned(),
            "containers".to_owned(),
            "*".to_owned(),
            "resources".to_owned(),
        ]];
        assert!(allowed(
            "/spec/template/spec/containers/0/resources/limits/cpu",
            &globs
        ));
        assert!(!allowed(
            "/spec/template/spec/containers/0/env/0/value",
            &globs
        ));
    }
}
