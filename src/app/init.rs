//! `kgate init`: a commented `.kgate.yaml` written from what the repository already looks
//! like (environments, clusters, app layout, image registries), and optionally a git
//! pre-push hook.

use std::collections::BTreeSet;

use crate::discover::Discovery;
use crate::discover::graph::{NodeKind, RepoGraph};

/// What `init` found, and the configuration it proposes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Detected {
    pub environments: Vec<String>,
    pub clusters: Vec<String>,
    pub apps_pattern: Option<String>,
    pub registries: Vec<String>,
}

/// The registry (and first path segment) of an image reference, when it names one:
/// `registry.example.com/platform/web:1.2` -> `registry.example.com/platform`.
fn registry_of(image: &str) -> Option<String> {
    let image = image.split('@').next()?;
    let (first, rest) = image.split_once('/')?;
    if !(first.contains('.') || first.contains(':') || first == "localhost") {
        return None;
    }
    let team = rest.split_once('/').map(|(t, _)| t);
    Some(match team {
        Some(t) => format!("{first}/{t}"),
        None => first.to_owned(),
    })
}

pub fn detect(
    discovery: &Discovery,
    graph: &RepoGraph,
    table: &crate::source::FileTable,
) -> Detected {
    let mut environments = BTreeSet::new();
    let mut clusters = BTreeSet::new();
    let mut apps = false;
    for n in &graph.nodes {
        if n.kind != NodeKind::Root {
            continue;
        }
        let parts: Vec<&str> = n.id.split('/').collect();
        if let Some(i) = parts.iter().position(|p| *p == "overlays")
            && let Some(env) = parts.get(i + 1)
        {
            environments.insert((*env).to_owned());
            apps |= parts.first() == Some(&"apps") && i == 2;
        }
        if let Some(i) = parts.iter().position(|p| *p == "clusters")
            && let Some(c) = parts.get(i + 1)
        {
            clusters.insert((*c).to_owned());
        }
    }
    let mut registries = BTreeSet::new();
    for f in discovery.manifests.iter().chain(&discovery.partials) {
        let Ok(text) = table.text(&f.abs) else {
            continue;
        };
        for line in text.lines() {
            let t = line.trim_start().trim_start_matches("- ");
            if let Some(image) = t.strip_prefix("image:") {
                let image = image.trim().trim_matches(['"', '\'']);
                if let Some(r) = registry_of(image) {
                    registries.insert(r);
                }
            }
        }
    }
    Detected {
        environments: order_environments(environments),
        clusters: clusters.into_iter().collect(),
        apps_pattern: apps.then(|| "apps/*".to_owned()),
        registries: registries.into_iter().collect(),
    }
}

/// dev before staging before prod, the rest alphabetically after.
fn order_environments(envs: BTreeSet<String>) -> Vec<String> {
    let rank = |e: &str| match e {
        "dev" | "development" => 0,
        "test" | "qa" => 1,
        "staging" | "stage" => 2,
        "prod" | "production" => 3,
        _ => 4,
    };
    let mut v: Vec<String> = envs.into_iter().collect();
    v.sort_by(|a, b| rank(a).cmp(&rank(b)).then(a.cmp(b)));
    v
}

fn list(items: &[String]) -> String {
    let quoted: Vec<String> = items
        .iter()
        .map(|i| serde_json::to_string(i).unwrap_or_default())
        .collect();
    format!("[{}]", quoted.join(", "))
}

/// The commented configuration for `d`.
pub fn config_text(d: &Detected, kube_version: &str) -> String {
    let mut s = String::from(
        "# kgate configuration, written by `kgate init` from this repository's layout.\n# Reference: https://github.com/kgate/kgate#configuration-kgateyaml\n\n",
    );
    s.push_str(&format!(
        "# Kubernetes version whose schemas objects are validated against.\nkubeVersion: \"{kube_version}\"\n\n"
    ));
    if d.environments.is_empty() {
        s.push_str("# Environments, from overlays/<env> directories (none found).\n# environments: [dev, staging, prod]\n\n");
    } else {
        s.push_str(&format!(
            "# Environments, from the overlays/<env> directories found. Every app needs an overlay\n# for each (missing-environment-overlay).\nenvironments: {}\n\n",
            list(&d.environments)
        ));
    }
    if !d.clusters.is_empty() {
        s.push_str(&format!(
            "# Clusters found: {}. A cluster `clusters/<env>-<region>` belongs to <env>.\n\n",
            d.clusters.join(", ")
        ));
    }
    if d.environments
        .iter()
        .any(|e| e == "prod" || e == "production")
    {
        s.push_str("# Environments where rules are strictest (replicas, PodDisruptionBudgets, digests).\nproductionEnvironments: [prod, production]\n\n");
    }
    s.push_str("images:\n");
    if d.registries.is_empty() {
        s.push_str("  # Registries images may come from (image-untrusted-registry); none found.\n  # allowedRegistries: [registry.example.com/platform]\n");
    } else {
        s.push_str(&format!(
            "  # Registries images may come from (image-untrusted-registry): those the manifests\n  # use today. Remove any that should not be trusted.\n  allowedRegistries: {}\n",
            list(&d.registries)
        ));
    }
    s.push_str(
        "  # Environments where images must be pinned by digest.\n  # requireDigest: [prod]\n\n",
    );
    if let Some(p) = &d.apps_pattern {
        s.push_str(&format!(
            "# Where apps live (base/ + overlays/<env>/ each), for the repo-structure rules.\nlayout:\n  apps: [\"{p}\"]\n\n"
        ));
    }
    s.push_str("rules:\n  # Turn rules off, change severities, set parameters:\n  # disable: [image-pull-policy-not-always]\n  # severity: {required-labels: note}\n  # params: {resource-limits-too-high: {maxCpu: \"8\"}}\n\n");
    s.push_str("# Accepted exceptions, each with a reason (and a date when temporary):\n# suppressions:\n#   - rule: run-as-root\n#     paths: [\"infrastructure/legacy/**\"]\n#     reason: vendor image, replaced in Q1\n#     expires: \"2027-03-31\"\n");
    s
}

/// The pre-push hook: check what the push can affect before it leaves.
pub const PRE_PUSH_HOOK: &str = "#!/bin/sh\n# Installed by `kgate init --hook pre-push`: check what this push can affect.\n# Skip once with `git push --no-verify`.\nif git rev-parse --verify --quiet '@{upstream}' >/dev/null; then\n  exec kgate check --changed-since '@{upstream}'\nelse\n  # A new branch: compare with the default branch.\n  exec kgate check --changed-since \"$(git merge-base HEAD origin/HEAD 2>/dev/null || echo HEAD)\"\nfi\n";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registries() {
        assert_eq!(
            registry_of("registry.example.com/platform/web:1.2").as_deref(),
            Some("registry.example.com/platform")
        );
        assert_eq!(
            registry_of("ghcr.io/org/app@sha256:abc").as_deref(),
            Some("ghcr.io/org")
        );
        assert_eq!(
            registry_of("localhost:5000/app").as_deref(),
            Some("localhost:5000")
        );
        assert_eq!(registry_of("nginx:1.27"), None);
        assert_eq!(registry_of("bitnami/redis"), None);
    }

    #[test]
    fn environments_in_promotion_order() {
        let envs: BTreeSet<String> = ["prod", "dev", "canary", "staging"]
            .into_iter()
            .map(str::to_owned)
            .collect();
        assert_eq!(
            order_environments(envs),
            ["dev", "staging", "prod", "canary"]
        );
    }
}
