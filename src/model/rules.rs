//! The rule registry: every rule id kgate can report, with its documentation.
//!
//! Policy rules are data (`policies/**/*.rego`, documented by their METADATA block); the few
//! rules that kgate's own stages raise (a file that does not parse, a file too large) are
//! declared here, in the same shape, so reports and `--config` treat both alike.

use serde::Serialize;

use super::Severity;

/// Documentation and default severity of one rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleInfo {
    pub id: String,
    pub title: String,
    pub description: String,
    pub severity: Severity,
    pub remediation: String,
    /// Where the rule is defined: a policy file, or `kgate` for built-in engine rules.
    pub source: String,
    /// Object kinds the rule applies to (empty: all).
    pub kinds: Vec<String>,
    /// The rule sees every object of a root at once (checks across objects).
    pub root_scope: bool,
    /// The rule sees the repository once (structure conventions).
    pub repo_scope: bool,
    /// The rule checks nothing without `rules.params.<id>` (and is skipped then).
    pub needs_params: bool,
    /// Findings of the rule point at secret values: reports never show their source lines.
    #[serde(skip)]
    pub sensitive: bool,
}

impl RuleInfo {
    /// A rule evaluated on each object on its own.
    pub fn is_object_rule(&self) -> bool {
        !self.root_scope && !self.repo_scope
    }
}

struct EngineRule {
    id: &'static str,
    title: &'static str,
    description: &'static str,
    severity: Severity,
    remediation: &'static str,
}

pub const PARSE_ERROR: &str = "parse-error";
pub const UNREADABLE_FILE: &str = "unreadable-file";
pub const FILE_TOO_LARGE: &str = "file-too-large";
pub const INVALID_MANIFEST: &str = "invalid-manifest";
pub const NOT_A_MANIFEST: &str = "not-a-manifest";
pub const EMPTY_MANIFEST: &str = "empty-manifest";
pub const POLICY_ERROR: &str = "policy-error";
pub const RENDER_UNAVAILABLE: &str = "render-unavailable";
pub const RENDER_ERROR: &str = "render-error";
pub const DANGLING_REFERENCE: &str = "dangling-reference";
pub const UNDEFINED_SUBSTITUTION: &str = "undefined-substitution-variable";
pub const BASELINE_STALE: &str = "baseline-stale";
pub const INVALID_SUPPRESSION: &str = "invalid-suppression";
pub const EXPIRED_SUPPRESSION: &str = "expired-suppression";
pub const CEL_UNEVALUATED: &str = "cel-unevaluated";
pub const SCHEMA_INVALID: &str = "schema-invalid";
pub const UNKNOWN_FIELD: &str = "unknown-field";
pub const SCHEMA_MISSING: &str = "schema-missing";
pub const DEPRECATED_API: &str = "deprecated-api";
pub const REMOVED_API: &str = "removed-api";
pub const GATEKEEPER_INVALID: &str = "gatekeeper-invalid";

const ENGINE_RULES: &[EngineRule] = &[
    EngineRule {
        id: PARSE_ERROR,
        title: "File is not valid YAML",
        description: "The file could not be parsed: a YAML syntax error, a duplicate mapping key (the API server rejects those too), an alias to an undefined anchor, invalid UTF-8 or binary content. Nothing in the file after the error is checked.",
        severity: Severity::Error,
        remediation: "Fix the YAML at the reported line; `kgate check FILE` re-checks just that file.",
    },
    EngineRule {
        id: UNREADABLE_FILE,
        title: "File could not be read",
        description: "The file exists but reading it failed (permissions, a broken symlink, an I/O error), so none of its content was checked.",
        severity: Severity::Error,
        remediation: "Make the file readable, or exclude it with `exclude:` in .kgate.yaml if it is not meant to be deployed.",
    },
    EngineRule {
        id: FILE_TOO_LARGE,
        title: "File exceeds the size limit",
        description: "Files larger than `limits.maxFileSize` (default 16 MiB) are not parsed, which bounds the time and memory a pull request can make the gate spend. A single Kubernetes object is limited to about 1.5 MiB by etcd, so a larger manifest file is almost always generated output or a mistake.",
        severity: Severity::Error,
        remediation: "Split the file, exclude it, or raise `limits.maxFileSize` in .kgate.yaml.",
    },
    EngineRule {
        id: INVALID_MANIFEST,
        title: "Document is not a well-formed Kubernetes object",
        description: "A YAML document that looks like a Kubernetes object lacks what every object needs: string `apiVersion` and `kind`, and a `metadata` mapping. The API server would reject it.",
        severity: Severity::Error,
        remediation: "Add the missing field or fix its type at the reported line.",
    },
    EngineRule {
        id: NOT_A_MANIFEST,
        title: "YAML file holds no Kubernetes objects",
        description: "The file parses, but its documents have neither `apiVersion` nor `kind`, so it is not a Kubernetes manifest (Helm values, tool configuration, ...) and was not checked.",
        severity: Severity::Note,
        remediation: "If the file is not meant to be deployed, add it to `exclude:` in .kgate.yaml to silence this note.",
    },
    EngineRule {
        id: EMPTY_MANIFEST,
        title: "Manifest file is empty",
        description: "The file has no YAML documents (it is empty or holds only comments). It deploys nothing, which is usually a leftover.",
        severity: Severity::Note,
        remediation: "Delete the file or add the objects it was meant to hold.",
    },
    EngineRule {
        id: POLICY_ERROR,
        title: "Policy evaluation failed",
        description: "A policy raised an error or exceeded its time limit on this object, so the object was not fully checked.",
        severity: Severity::Error,
        remediation: "Fix the policy named in the message; `kgate` reports the Rego error as the policy engine gave it.",
    },
    EngineRule {
        id: RENDER_ERROR,
        title: "Kustomization does not build",
        description: "kgate renders every kustomization directory (except Components) natively, as `kustomize build` v5.5 does. This one fails: a missing or out-of-root file, a cycle, a duplicate resource id, an unknown or invalid field, a patch without a target, a remote base (never fetched) or a plugin (never run). Nothing in the root was checked.",
        severity: Severity::Error,
        remediation: "Fix the kustomization at the reported line; `kgate render DIR` shows the same error, as `kubectl kustomize DIR` would.",
    },
    EngineRule {
        id: BASELINE_STALE,
        title: "Baseline entry matches no finding",
        description: "An entry of the `--baseline` file matches no current finding: the problem was fixed, or the finding changed (its rule, file, object, field or message) and shows up as new. Stale entries are reported so the baseline shrinks as debt is paid, instead of silently allowing the finding back later.",
        severity: Severity::Note,
        remediation: "Delete the entry, or write the baseline again with `--write-baseline`.",
    },
    EngineRule {
        id: INVALID_SUPPRESSION,
        title: "Suppression without a reason",
        description: "A `# kgate:ignore <rule>` comment without `-- <reason>`, an `ignore-check.kgate.io/<rule>` annotation with an empty value, or a `suppressions:` entry of .kgate.yaml without `reason:`. A suppression records a decision; without the why, nobody can later tell whether it still holds, so it does not suppress anything.",
        severity: Severity::Error,
        remediation: "Add the reason: `# kgate:ignore image-latest-tag -- the operator pins it at deploy time`.",
    },
    EngineRule {
        id: EXPIRED_SUPPRESSION,
        title: "Suppression expired",
        description: "A `suppressions:` entry of .kgate.yaml has an `expires:` date that has passed: it no longer suppresses, and its findings are reported again.",
        severity: Severity::Warning,
        remediation: "Fix the findings, or extend `expires:` with a reason that still holds.",
    },
    EngineRule {
        id: UNDEFINED_SUBSTITUTION,
        title: "Flux variable without a value",
        description: "A Flux `Kustomization` with `postBuild` substitutes `${VAR}` in what it applies, from `postBuild.substitute` and the ConfigMaps and Secrets of `postBuild.substituteFrom`. A variable defined nowhere and without a default (`${VAR:=default}`) becomes an empty string in the cluster, silently; a `substituteFrom` source missing from the repository fails the reconciliation (unless `optional: true`). kgate checks what the controller would apply: the entry point's options and variables applied to its path.",
        severity: Severity::Error,
        remediation: "Define the variable, give it a default (`${VAR:=value}`), or add the ConfigMap/Secret the Kustomization reads.",
    },
    EngineRule {
        id: DANGLING_REFERENCE,
        title: "GitOps entry point deploys a path that does not exist",
        description: "An Argo CD `Application` (`spec.source.path`, `spec.sources[].path`), an `ApplicationSet` (a git directory generator's path glob, or its template's path), a Flux `Kustomization` (`spec.path`) or a Flux `HelmRelease` whose chart comes from a `GitRepository` names a path of this repository that does not exist: the controller reports the application as failed, or, for a generator, silently deploys nothing. (A kustomization's own missing references are `render-error`s.) Paths are resolved from the scanned root, which should be the repository root; templated paths (`{{path}}`, `${VAR}`) are left to the controller.",
        severity: Severity::Error,
        remediation: "Point the entry point at the directory that exists (after a rename, update every Application and Kustomization that names the old path), or remove the entry point.",
    },
    EngineRule {
        id: RENDER_UNAVAILABLE,
        title: "Source cannot be rendered",
        description: "The root needs something kgate cannot get here, so nothing in it was checked: Helm (a chart directory, a kustomization with `helmCharts`) when no `helm` binary is found (severity `helm.missingSeverity`, error by default), a chart from a chart repository when `helm.allowNetwork` is off, a remote Kustomize base or component (`github.com/...?ref=`, `https://...`: kgate never fetches), or an Argo CD ApplicationSet generator that needs the cluster or a provider's API (cluster, SCM, pull request). (Go templates are not YAML and are never checked as plain manifests.)",
        severity: Severity::Note,
        remediation: "Install Helm v3 (or name it in .kgate.yaml, `helm: {binary: ...}`, or $KGATE_HELM); vendor remote charts into the repository (`helm pull --untar`) or set `helm.allowNetwork: true`; vendor remote bases into the repository, or exclude the root and check the base where it lives.",
    },
    EngineRule {
        id: SCHEMA_INVALID,
        title: "Object does not match its Kubernetes schema",
        description: "The object was validated against the JSON schema of its apiVersion and kind for the target Kubernetes version (`--kube-version`, `kubeVersion` in .kgate.yaml; default the newest embedded one), or against the CustomResourceDefinition the repository (or kgate's catalog of common CRDs) defines for it. A field has the wrong type, a value is not allowed, or a required field is missing: the API server would reject the object at apply time. Values Flux substitutes later (`${VAR}`) or SOPS encrypted (`ENC[...]`) are accepted where some value could make them valid.",
        severity: Severity::Error,
        remediation: "Fix the field named in the message at the reported line (through overlays, the line that set the value).",
    },
    EngineRule {
        id: UNKNOWN_FIELD,
        title: "Field is not in the schema (strict mode)",
        description: "Under `--strict` (or `strict: true` in .kgate.yaml) a field the schema does not declare is a finding: usually a typo or a field at the wrong level, which the API server would silently drop (custom resources) or reject (built-in kinds, with server-side field validation). The message suggests the declared field closest to the one written.",
        severity: Severity::Error,
        remediation: "Rename the field to the suggested one, move it to the right level, or delete it.",
    },
    EngineRule {
        id: SCHEMA_MISSING,
        title: "No schema for this kind",
        description: "kgate has no schema for the object's apiVersion and kind: it is not a Kubernetes kind of the target version, and no CustomResourceDefinition for it is in the repository, in `schemaDirs`, or in kgate's embedded catalog (Argo CD, Flux, cert-manager, Istio, Prometheus operator, External Secrets, Sealed Secrets). The object was not validated. A note by default, an error under `--strict`.",
        severity: Severity::Note,
        remediation: "Add the CRD to the repository or to a directory listed in `schemaDirs:` in .kgate.yaml, or fix the apiVersion/kind if it is a typo.",
    },
    EngineRule {
        id: CEL_UNEVALUATED,
        title: "CEL validation rule could not be evaluated",
        description: "The schema declares a CEL rule (`x-kubernetes-validations`) that kgate's embedded CEL interpreter cannot run, usually because it calls a Kubernetes CEL extension (quantity, URL, IP or semver functions) the interpreter lacks. The API server will evaluate it at apply time; kgate could not, so the object may still be rejected.",
        severity: Severity::Note,
        remediation: "Check the rule by hand (or with `kubectl apply --dry-run=server`); the message names the rule and why it could not run.",
    },
    EngineRule {
        id: DEPRECATED_API,
        title: "API version is deprecated",
        description: "The target Kubernetes version still serves this apiVersion but has deprecated it; a later version removes it (from the Kubernetes deprecation guide).",
        severity: Severity::Warning,
        remediation: "Move the object to the replacement apiVersion named in the message before upgrading the cluster.",
    },
    EngineRule {
        id: REMOVED_API,
        title: "API version is removed in the target Kubernetes version",
        description: "The target Kubernetes version no longer serves this apiVersion: applying the object fails.",
        severity: Severity::Error,
        remediation: "Move the object to the replacement apiVersion named in the message (fields may have changed; check the migration notes of the deprecation guide).",
    },
    EngineRule {
        id: GATEKEEPER_INVALID,
        title: "Gatekeeper template or constraint cannot be evaluated",
        description: "The repository deploys a Gatekeeper ConstraintTemplate whose Rego kgate's engine (regorus) does not compile, or a constraint whose kind no template defines. Its constraints were not evaluated; every other template, constraint and object was checked. A template that calls `external_data` (Gatekeeper's external data providers, which need the cluster) is one note at the call, naming its constraints, rather than an error on every object.",
        severity: Severity::Error,
        remediation: "Rewrite the Rego so that OPA and kgate's engine both compile it (the message quotes the engine), or add the template's ConstraintTemplate; exclude the file if it is not deployed.",
    },
];

/// The rules kgate's own stages report.
pub fn engine_rules() -> Vec<RuleInfo> {
    ENGINE_RULES
        .iter()
        .map(|r| RuleInfo {
            id: r.id.to_owned(),
            title: r.title.to_owned(),
            description: r.description.to_owned(),
            severity: r.severity,
            remediation: r.remediation.to_owned(),
            source: "kgate".to_owned(),
            kinds: Vec::new(),
            root_scope: false,
            repo_scope: false,
            needs_params: false,
            sensitive: false,
        })
        .collect()
}

/// The rule reference (`docs/rules.md`, `kgate policy list --format markdown`): every engine
/// rule and every built-in policy, sorted by id.
pub fn markdown(rules: &[RuleInfo]) -> String {
    let mut rules: Vec<&RuleInfo> = rules.iter().collect();
    rules.sort_by(|a, b| a.id.cmp(&b.id));
    let mut out = String::from(
        "# kgate rules\n\nGenerated by `kgate policy list --format markdown`; do not edit by hand (a test\nchecks it is current). Severities are defaults: `.kgate.yaml` can change them\n(`rules.severity`), disable rules (`rules.disable`, `rules.disableIn`) and set their\nparameters (`rules.params`).\n\n| id | severity | applies to | title |\n|---|---|---|---|\n",
    );
    let scope = |r: &RuleInfo| {
        if r.root_scope {
            "all objects of a root".to_owned()
        } else if r.repo_scope {
            "the repository layout".to_owned()
        } else if r.kinds.is_empty() {
            "every object".to_owned()
        } else {
            r.kinds.join(", ")
        }
    };
    for r in &rules {
        out.push_str(&format!(
            "| [`{}`](#{}) | {} | {} | {} |\n",
            r.id,
            r.id,
            r.severity.as_str(),
            scope(r),
            r.title
        ));
    }
    for r in &rules {
        out.push_str(&format!(
            "\n## {}\n\n**{}** — severity `{}`, applies to {}; defined in `{}`.\n\n{}\n\n**How to fix:** {}\n",
            r.id,
            r.title,
            r.severity.as_str(),
            scope(r),
            r.source,
            r.description.trim(),
            r.remediation.trim()
        ));
    }
    out
}
