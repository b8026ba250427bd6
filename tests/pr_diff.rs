//! `kgate diff --since REF` on a generated monorepo in a temporary git repository: each kind
//! of change reports exactly the objects and fields it changes in each root it reaches, and
//! nothing else; the user's work tree is left as it was.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::git;

/// `benches/gen_monorepo.py --apps 4 --seed 1`, committed.
fn monorepo() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    let status = Command::new("python3")
        .arg(common::repo().join("benches/gen_monorepo.py"))
        .arg(&repo)
        .args(["--apps", "4", "--seed", "1"])
        .stdout(std::process::Stdio::null())
        .status()
        .expect("python3 runs benches/gen_monorepo.py");
    assert!(status.success());
    git(&repo, &["init", "-q"]);
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-q", "-m", "base"]);
    (tmp, repo)
}

fn edit(repo: &Path, rel: &str, from: &str, to: &str) {
    let path = repo.join(rel);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(from), "{rel} has no `{from}`");
    std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
}

/// The JSON output of `kgate diff --since HEAD --timings`, and whether REF's tree was
/// exported; checks the work tree is as it was.
fn diff_output(repo: &Path) -> (Vec<u8>, bool) {
    let status = git(repo, &["status", "--porcelain"]);
    let out = common::kgate(
        repo,
        &["diff", "--since", "HEAD", "-f", "json", "--timings"],
    );
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(git(repo, &["status", "--porcelain"]), status);
    let exported = String::from_utf8_lossy(&out.stderr).contains("export REF");
    (out.stdout, exported)
}

/// Makes `kgate diff --since` export REF's tree rather than check it in the working tree's
/// paths: an untracked (empty) `.ignore` at the top, whose rules would apply to REF's walk.
/// Returns it, for the caller to remove.
fn force_export(repo: &Path) -> std::path::PathBuf {
    let marker = repo.join(".ignore");
    std::fs::write(&marker, "").unwrap();
    marker
}

/// The JSON report of `kgate diff --since HEAD`, checking it is byte for byte the report
/// of REF's exported tree (`force_export`).
fn diff(repo: &Path) -> serde_json::Value {
    let (report, _) = diff_output(repo);
    let marker = force_export(repo);
    let (exported, was_exported) = diff_output(repo);
    std::fs::remove_file(&marker).unwrap();
    assert!(was_exported);
    assert_eq!(
        String::from_utf8_lossy(&report),
        String::from_utf8_lossy(&exported)
    );
    serde_json::from_slice(&report).unwrap()
}

/// Whether `kgate diff --since HEAD` exports REF's tree for the change in `repo`.
fn exports(repo: &Path) -> bool {
    diff_output(repo).1
}

/// Root -> `change Kind name: pointers` lines.
fn summary(report: &serde_json::Value) -> BTreeMap<String, Vec<String>> {
    let mut out = BTreeMap::new();
    for r in report["roots"].as_array().unwrap() {
        assert!(r.get("errors").is_none(), "{r}");
        let lines = r["objects"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| {
                let pointers: Vec<&str> = o["fields"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|f| f["pointer"].as_str().unwrap())
                    .collect();
                format!(
                    "{} {} {}: {}",
                    o["change"].as_str().unwrap(),
                    o["kind"].as_str().unwrap(),
                    o["name"].as_str().unwrap(),
                    pointers.join(" ")
                )
            })
            .collect();
        out.insert(r["root"].as_str().unwrap().to_owned(), lines);
    }
    out
}

/// Every root in `roots` with the same `line`.
fn expect(roots: &[&str], line: &str) -> BTreeMap<String, Vec<String>> {
    roots
        .iter()
        .map(|r| ((*r).to_owned(), vec![line.to_owned()]))
        .collect()
}

/// svc-0000's base, overlays and the clusters deploying them.
const SVC0_ALL: &[&str] = &[
    "apps/svc-0000/base",
    "apps/svc-0000/overlays/dev",
    "apps/svc-0000/overlays/prod",
    "apps/svc-0000/overlays/staging",
    "clusters/dev-us-east",
    "clusters/prod-ap-south",
    "clusters/prod-eu-west",
    "clusters/prod-us-east",
    "clusters/staging-us-east",
];

const SVC0_PROD: &[&str] = &[
    "apps/svc-0000/overlays/prod",
    "clusters/prod-ap-south",
    "clusters/prod-eu-west",
    "clusters/prod-us-east",
];

#[test]
fn a_base_field_changes_that_field_in_every_root_using_the_base() {
    let (_tmp, repo) = monorepo();
    edit(
        &repo,
        "apps/svc-0000/base/deployment.yaml",
        "containerPort: 8080",
        "containerPort: 8081",
    );
    assert!(!exports(&repo));
    let report = diff(&repo);
    assert_eq!(
        summary(&report),
        expect(
            SVC0_ALL,
            "modified Deployment svc-0000: /spec/template/spec/containers/0/ports/0/containerPort"
        )
    );
    let field = &report["roots"][0]["objects"][0]["fields"][0];
    assert_eq!(
        (field["before"].as_i64(), field["after"].as_i64()),
        (Some(8080), Some(8081))
    );
    let cluster = report["roots"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["root"] == "clusters/prod-eu-west")
        .unwrap();
    assert_eq!(cluster["environment"], "prod");
    assert_eq!(cluster["cluster"], "prod-eu-west");
}

/// Every overlay sets its own replicas: REF's overlays come out as the working tree's, and
/// REF takes the clusters' builds as the working tree's (a cluster failing at another
/// overlay fails the same way) rather than composing or restoring them; the report is the
/// exported tree's all the same (`diff`).
#[test]
fn a_base_change_every_overlay_overrides_changes_the_base_only() {
    let (_tmp, repo) = monorepo();
    edit(
        &repo,
        "apps/svc-0000/base/deployment.yaml",
        "replicas: 2",
        "replicas: 3",
    );
    assert!(!exports(&repo));
    assert_eq!(
        summary(&diff(&repo)),
        expect(
            &["apps/svc-0000/base"],
            "modified Deployment svc-0000: /spec/replicas"
        )
    );
}

#[test]
fn an_overlay_replicas_and_image_tag_change_reaches_its_clusters_only() {
    let (_tmp, repo) = monorepo();
    let overlay = "apps/svc-0000/overlays/prod/kustomization.yaml";
    edit(&repo, overlay, "count: 3", "count: 4");
    edit(&repo, overlay, "newTag: v3.2.4", "newTag: v3.2.5");
    assert_eq!(
        summary(&diff(&repo)),
        expect(
            SVC0_PROD,
            "modified Deployment svc-0000: /spec/replicas /spec/template/spec/containers/0/image"
        )
    );
}

#[test]
fn a_generator_literal_modifies_the_generated_config_map() {
    let (_tmp, repo) = monorepo();
    edit(
        &repo,
        "apps/svc-0000/overlays/prod/kustomization.yaml",
        "ENVIRONMENT=prod",
        "ENVIRONMENT=production",
    );
    let report = diff(&repo);
    let summary = summary(&report);
    assert_eq!(
        summary.keys().collect::<Vec<_>>(),
        SVC0_PROD.iter().collect::<Vec<_>>()
    );
    for lines in summary.values() {
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert!(
            lines[0].starts_with("modified ConfigMap svc-0000-config-")
                && lines[0].ends_with(": /metadata/name /data/ENVIRONMENT"),
            "{lines:?}"
        );
    }
}

#[test]
fn a_component_change_reaches_the_overlays_using_it() {
    let (_tmp, repo) = monorepo();
    edit(
        &repo,
        "components/istio-sidecar/kustomization.yaml",
        "inject: \"true\"",
        "inject: \"false\"",
    );
    assert_eq!(
        summary(&diff(&repo)),
        expect(
            &[
                "apps/svc-0001/overlays/dev",
                "apps/svc-0001/overlays/prod",
                "clusters/dev-us-east",
                "clusters/prod-ap-south",
                "clusters/prod-eu-west",
                "clusters/prod-us-east",
            ],
            "modified Deployment svc-0001: /spec/template/metadata/annotations/sidecar.istio.io~1inject"
        )
    );
}

#[test]
fn a_removed_resource_is_removed_everywhere_it_was_rendered() {
    let (_tmp, repo) = monorepo();
    edit(
        &repo,
        "apps/svc-0000/base/kustomization.yaml",
        "- hpa.yaml\n",
        "",
    );
    std::fs::remove_file(repo.join("apps/svc-0000/base/hpa.yaml")).unwrap();
    assert_eq!(
        summary(&diff(&repo)),
        expect(SVC0_ALL, "removed HorizontalPodAutoscaler svc-0000: ")
    );
}

#[test]
fn a_renamed_file_that_renders_the_same_changes_nothing() {
    let (_tmp, repo) = monorepo();
    git(
        &repo,
        &[
            "mv",
            "apps/svc-0000/base/service.yaml",
            "apps/svc-0000/base/svc.yaml",
        ],
    );
    edit(
        &repo,
        "apps/svc-0000/base/kustomization.yaml",
        "- service.yaml",
        "- svc.yaml",
    );
    let report = diff(&repo);
    assert_eq!(summary(&report), BTreeMap::new());
    assert_eq!(report["findings"]["added"], serde_json::json!([]));
}

#[test]
fn a_new_finding_fails_and_usage_errors_exit_2() {
    let (_tmp, repo) = monorepo();
    edit(
        &repo,
        "apps/svc-0000/base/deployment.yaml",
        "runAsNonRoot: true",
        "privileged: true",
    );
    let out = common::kgate(&repo, &["diff", "--since", "HEAD", "-f", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let added = report["findings"]["added"].as_array().unwrap();
    assert!(added.iter().any(|f| f["severity"] == "error"), "{added:?}");

    let unknown = common::kgate(&repo, &["diff", "--since", "no-such-ref"]);
    assert_eq!(unknown.status.code(), Some(2));
    // Named by the flag the user gave (a shallow clone in CI meets it first).
    let said = String::from_utf8_lossy(&unknown.stderr);
    assert!(said.contains("--since no-such-ref: not a commit"), "{said}");
    assert!(
        said.contains("fetch-depth: 0") && !said.contains("--changed-since"),
        "{said}"
    );
    let outside = tempfile::tempdir().unwrap();
    let nowhere = common::kgate(outside.path(), &["diff", "--since", "HEAD"]);
    assert_eq!(nowhere.status.code(), Some(2));
    let said = String::from_utf8_lossy(&nowhere.stderr);
    assert!(said.contains("--since needs a git repository"), "{said}");
    let both = common::kgate(&repo, &["diff", "--since", "HEAD", "--env", "dev,prod"]);
    assert_eq!(both.status.code(), Some(2));
}

#[test]
fn secret_values_are_never_printed() {
    let (_tmp, repo) = monorepo();
    let base = "apps/svc-0000/base/kustomization.yaml";
    let text = std::fs::read_to_string(repo.join(base)).unwrap();
    std::fs::write(
        repo.join(base),
        format!("{text}secretGenerator:\n- name: db\n  literals:\n  - password=old-s3cret\n"),
    )
    .unwrap();
    git(&repo, &["commit", "-q", "-am", "secret"]);
    edit(&repo, base, "password=old-s3cret", "password=new-s3cret");
    let report = diff(&repo);
    let summary = summary(&report);
    assert_eq!(summary.len(), SVC0_ALL.len());
    for lines in summary.values() {
        assert!(
            lines[0].starts_with("modified Secret db-") && lines[0].ends_with("/data/password"),
            "{lines:?}"
        );
    }
    let field = &report["roots"][0]["objects"][0]["fields"][1];
    assert_eq!(field["before"], "(hidden)");
    for format in ["json", "human", "markdown", "html"] {
        let out = common::kgate(&repo, &["diff", "--since", "HEAD", "-f", format]);
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("password"), "{format}: {text}");
        for value in ["s3cret", "b2xkLXMzY3JldA", "bmV3LXMzY3JldA"] {
            assert!(!text.contains(value), "{format} shows {value}");
        }
    }
}

#[test]
fn a_new_root_is_all_added_and_a_broken_one_says_why() {
    let (_tmp, repo) = monorepo();
    let qa = repo.join("apps/svc-0000/overlays/qa");
    std::fs::create_dir_all(&qa).unwrap();
    std::fs::write(
        qa.join("kustomization.yaml"),
        "namespace: qa\nresources: [../../base]\n",
    )
    .unwrap();
    edit(
        &repo,
        "apps/svc-0001/overlays/dev/kustomization.yaml",
        "- ../../base\n",
        "- ../../base\n- missing.yaml\n",
    );
    let status = git(&repo, &["status", "--porcelain"]);
    let out = common::kgate(&repo, &["diff", "--since", "HEAD", "-f", "json"]);
    assert_eq!(git(&repo, &["status", "--porcelain"]), status);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let roots = report["roots"].as_array().unwrap();
    let qa = roots
        .iter()
        .find(|r| r["root"] == "apps/svc-0000/overlays/qa")
        .unwrap();
    let objects = qa["objects"].as_array().unwrap();
    assert!(objects.len() >= 4, "{objects:?}");
    assert!(
        objects
            .iter()
            .all(|o| o["change"] == "added" && o["namespace"] == "qa")
    );
    let broken = roots
        .iter()
        .find(|r| r["root"] == "apps/svc-0001/overlays/dev")
        .unwrap();
    assert!(broken["errors"].get("before").is_none());
    assert!(
        broken["errors"]["after"]
            .as_str()
            .unwrap()
            .contains("missing.yaml"),
        "{broken}"
    );
    assert_eq!(broken["objects"], serde_json::json!([]));
}

/// The files the findings of `list` (`added` or `resolved`) point at, with their rules.
fn finding_files(report: &serde_json::Value, list: &str) -> Vec<String> {
    let mut out: Vec<String> = report["findings"][list]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            format!(
                "{} {}",
                f["location"]["path"].as_str().unwrap(),
                f["rule"].as_str().unwrap()
            )
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Each side's check is limited to the objects the change can affect, and each root is
/// rendered once per side: a finding that was there before the change, on an object the
/// change does not reach (svc-0001, rendered in the same cluster roots as svc-0000), is
/// neither added nor resolved; the finding the change brings is added.
#[test]
fn a_finding_elsewhere_stays_out_and_the_new_one_is_added() {
    let (_tmp, repo) = monorepo();
    let privileged = |app: &str| {
        edit(
            &repo,
            &format!("apps/{app}/base/deployment.yaml"),
            "runAsNonRoot: true",
            "privileged: true",
        )
    };
    privileged("svc-0001");
    git(&repo, &["commit", "-q", "-am", "svc-0001 runs privileged"]);
    privileged("svc-0000");
    let report = diff(&repo);
    let added = finding_files(&report, "added");
    assert!(!added.is_empty());
    assert!(
        added
            .iter()
            .all(|f| f.starts_with("apps/svc-0000/base/deployment.yaml ")),
        "{added:?}"
    );
    assert_eq!(finding_files(&report, "resolved"), Vec::<String>::new());
    // What the change does to the rendered roots is unchanged by reusing the check's renders.
    assert_eq!(
        summary(&report).keys().cloned().collect::<Vec<_>>(),
        SVC0_ALL
    );
}

/// The reverse: fixing one of two committed findings resolves that one only.
#[test]
fn fixing_one_of_two_findings_resolves_that_one_only() {
    let (_tmp, repo) = monorepo();
    for app in ["svc-0000", "svc-0001"] {
        edit(
            &repo,
            &format!("apps/{app}/base/deployment.yaml"),
            "runAsNonRoot: true",
            "privileged: true",
        );
    }
    git(&repo, &["commit", "-q", "-am", "both run privileged"]);
    edit(
        &repo,
        "apps/svc-0000/base/deployment.yaml",
        "privileged: true",
        "runAsNonRoot: true",
    );
    let report = diff(&repo);
    let resolved = finding_files(&report, "resolved");
    assert!(!resolved.is_empty());
    assert!(
        resolved
            .iter()
            .all(|f| f.starts_with("apps/svc-0000/base/deployment.yaml ")),
        "{resolved:?}"
    );
    assert_eq!(finding_files(&report, "added"), Vec::<String>::new());
}

/// With TMPDIR set, REF's tree goes there (not to a RAM directory) and is gone afterwards.
#[test]
fn refs_tree_goes_to_tmpdir_when_set_and_is_removed() {
    let (tmp, repo) = monorepo();
    edit(
        &repo,
        "apps/svc-0000/base/deployment.yaml",
        "containerPort: 8080",
        "containerPort: 8081",
    );
    force_export(&repo);
    let scratch = tmp.path().join("scratch");
    std::fs::create_dir_all(&scratch).unwrap();
    let out = common::bin()
        .args(["diff", "--since", "HEAD", "-f", "json", "--timings"])
        .current_dir(&repo)
        .env("TMPDIR", &scratch)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary(&report).len(), SVC0_ALL.len());
    let left: Vec<_> = std::fs::read_dir(&scratch).unwrap().collect();
    assert!(left.is_empty(), "{left:?}");
    let timings = String::from_utf8_lossy(&out.stderr);
    assert!(timings.contains("export REF"), "{timings}");
}

/// Edits only: REF's side is checked in the working tree's paths, with REF's contents of the
/// edited files (the report is still the export's, see `diff`). A kustomization that stops
/// listing a file (still on disk) is read at REF.
#[test]
fn an_edited_kustomization_is_read_at_ref_without_an_export() {
    let (_tmp, repo) = monorepo();
    edit(
        &repo,
        "apps/svc-0000/base/kustomization.yaml",
        "- hpa.yaml\n",
        "",
    );
    assert!(!exports(&repo));
    assert_eq!(
        summary(&diff(&repo)),
        expect(SVC0_ALL, "removed HorizontalPodAutoscaler svc-0000: ")
    );
}

/// A file added since REF is absent at REF: the object it adds is added.
#[test]
fn an_added_file_is_absent_at_ref() {
    let (_tmp, repo) = monorepo();
    std::fs::write(
        repo.join("apps/svc-0000/base/pdb.yaml"),
        "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata:\n  name: svc-0000\n\
         spec:\n  maxUnavailable: 1\n  selector:\n    matchLabels:\n      app: svc-0000\n",
    )
    .unwrap();
    edit(
        &repo,
        "apps/svc-0000/base/kustomization.yaml",
        "- hpa.yaml\n",
        "- hpa.yaml\n- pdb.yaml\n",
    );
    assert!(!exports(&repo));
    assert_eq!(
        summary(&diff(&repo)),
        expect(SVC0_ALL, "added PodDisruptionBudget svc-0000: ")
    );
    // Added to the index, it is a file git knows REF has not: the same report, in place.
    git(&repo, &["add", "-A"]);
    assert!(!exports(&repo));
    assert_eq!(
        summary(&diff(&repo)),
        expect(SVC0_ALL, "added PodDisruptionBudget svc-0000: ")
    );
}

/// A file added since REF that REF's kustomization already listed (REF did not render) is
/// missing at REF as in REF's exported tree, not read from the working tree: the
/// renderer asks REF's file table whether it exists, in place.
#[test]
fn an_added_file_refs_kustomization_lists_is_missing_at_ref() {
    let (_tmp, repo) = monorepo();
    edit(
        &repo,
        "apps/svc-0000/base/kustomization.yaml",
        "- hpa.yaml\n",
        "- hpa.yaml\n- pdb.yaml\n",
    );
    git(&repo, &["commit", "-q", "-am", "list a file not there yet"]);
    std::fs::write(repo.join("apps/svc-0000/base/pdb.yaml"), PDB).unwrap();
    git(&repo, &["add", "-A"]);
    assert!(!exports(&repo));
    let report = diff(&repo);
    let fixed: Vec<&str> = report["roots"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["errors"]["before"].is_string() && r["errors"]["after"].is_null())
        .map(|r| r["root"].as_str().unwrap())
        .collect();
    assert_eq!(fixed, SVC0_ALL);
}

/// A directory added since REF with a kustomization (a new overlay, and a component it
/// uses) is not in REF's tree: at REF neither is discovered, in place; the new root's
/// objects are all added, the report is the export's.
#[test]
fn an_added_directory_with_a_kustomization_is_a_new_root_in_place() {
    let (_tmp, repo) = monorepo();
    let qa = repo.join("apps/svc-0000/overlays/qa");
    std::fs::create_dir_all(&qa).unwrap();
    std::fs::write(
        qa.join("kustomization.yaml"),
        "namespace: qa\nresources: [../../base, pdb.yaml]\n",
    )
    .unwrap();
    std::fs::write(qa.join("pdb.yaml"), PDB).unwrap();
    git(&repo, &["add", "-A"]);
    assert!(!exports(&repo));
    let report = diff(&repo);
    let roots: Vec<&str> = report["roots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["root"].as_str().unwrap())
        .collect();
    assert_eq!(roots, ["apps/svc-0000/overlays/qa"]);
    let objects = report["roots"][0]["objects"].as_array().unwrap();
    assert!(objects.len() >= 5, "{objects:?}");
    assert!(objects.iter().all(|o| o["change"] == "added"));
}

/// With Argo CD or Flux entry points, an added file keeps REF's side in place: the entry
/// points list directories through REF's file table, and the report is the export's.
#[test]
fn an_added_file_with_entry_points_is_checked_in_place() {
    let (_tmp, repo) = monorepo();
    std::fs::create_dir_all(repo.join("argocd")).unwrap();
    std::fs::write(
        repo.join("argocd/svc-0000.yaml"),
        "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: svc-0000\n\
         spec:\n  source:\n    path: apps/svc-0000/overlays/dev\n",
    )
    .unwrap();
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-q", "-m", "an Application"]);
    std::fs::write(repo.join("apps/svc-0000/base/pdb.yaml"), PDB).unwrap();
    edit(
        &repo,
        "apps/svc-0000/base/kustomization.yaml",
        "- hpa.yaml\n",
        "- hpa.yaml\n- pdb.yaml\n",
    );
    git(&repo, &["add", "-A"]);
    assert!(!exports(&repo));
    let report = diff(&repo);
    assert!(report["roots"].as_array().unwrap().len() >= SVC0_ALL.len());
}

/// Commits a Flux Kustomization (`flux/plain.yaml`, `flux-system/plain`) deploying `plain/`,
/// a directory without a kustomization file holding one ConfigMap (`plain`, `data.a: "1"`);
/// `spec` and `data` are appended to the Kustomization's spec and the ConfigMap's data.
fn commit_flux_plain_directory(repo: &Path, spec: &str, data: &str) {
    std::fs::create_dir_all(repo.join("flux")).unwrap();
    std::fs::create_dir_all(repo.join("plain")).unwrap();
    std::fs::write(
        repo.join("flux/plain.yaml"),
        format!(
            "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  \
             name: plain\n  namespace: flux-system\nspec:\n  path: ./plain\n  interval: 5m\n  \
             prune: true\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n{spec}"
        ),
    )
    .unwrap();
    std::fs::write(
        repo.join("plain/cm.yaml"),
        format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: plain\ndata:\n  a: \"1\"\n{data}"
        ),
    )
    .unwrap();
    git(repo, &["add", "-A"]);
    git(
        repo,
        &[
            "commit",
            "-q",
            "-m",
            "a Flux Kustomization of a plain directory",
        ],
    );
}

/// An untracked file in a directory a Flux Kustomization deploys without a kustomization
/// file (kgate lists the directory's manifests): REF's file table hides it, so REF lists
/// the directory as its tree has it, in place, and does not fail on the untracked file.
#[test]
fn an_untracked_file_with_entry_points_is_not_listed_at_ref() {
    let (_tmp, repo) = monorepo();
    commit_flux_plain_directory(&repo, "  targetNamespace: plain\n", "");
    std::fs::write(
        repo.join("plain/debug.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: debug\n",
    )
    .unwrap();
    edit(&repo, "plain/cm.yaml", "a: \"1\"", "a: \"2\"");
    assert!(!exports(&repo));
    let report = diff(&repo);
    for root in report["roots"].as_array().unwrap() {
        assert!(root["errors"]["before"].is_null(), "{root}");
    }
    let roots = summary(&report);
    assert_eq!(
        roots["Kustomization flux-system/plain"],
        [
            "added ConfigMap debug: ",
            "modified ConfigMap plain: /data/a"
        ],
        "{report:#}"
    );
}

/// A Flux Kustomization deploying a plain directory builds every manifest below it: one
/// added there (in a new subdirectory) or removed from it is listed as REF's tree has it,
/// in place, and the report is the export's.
#[test]
fn a_flux_plain_directory_is_listed_as_refs_tree_has_it() {
    let (_tmp, repo) = monorepo();
    commit_flux_plain_directory(&repo, "  targetNamespace: plain\n", "");
    std::fs::write(
        repo.join("plain/two.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: two\n",
    )
    .unwrap();
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-q", "-m", "a second ConfigMap"]);
    let id = "Kustomization flux-system/plain";
    std::fs::create_dir_all(repo.join("plain/extra")).unwrap();
    std::fs::write(
        repo.join("plain/extra/three.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: three\n",
    )
    .unwrap();
    git(&repo, &["add", "-A"]);
    assert!(!exports(&repo));
    let report = diff(&repo);
    assert_eq!(
        summary(&report)[id],
        ["added ConfigMap three: "],
        "{report:#}"
    );
    git(&repo, &["reset", "-q", "--hard"]);
    git(&repo, &["clean", "-q", "-fd"]);
    git(&repo, &["rm", "-q", "plain/two.yaml"]);
    assert!(!exports(&repo));
    let report = diff(&repo);
    assert_eq!(
        summary(&report)[id],
        ["removed ConfigMap two: "],
        "{report:#}"
    );
}

/// Commits an ApplicationSet (`argocd/overlays.yaml`) whose git generators list
/// svc-0000's overlay directories and the files `targets/*.yaml` (each naming an overlay of
/// svc-0001), with `targets/dev.yaml`, each generated Application setting a name prefix;
/// and one deploying the directories `raw/*`, with `raw/old`.
fn commit_application_set(repo: &Path) {
    std::fs::create_dir_all(repo.join("argocd")).unwrap();
    std::fs::create_dir_all(repo.join("targets")).unwrap();
    let set = |name: &str, generator: &str, path: &str, key: &str| {
        format!(
            "apiVersion: argoproj.io/v1alpha1\nkind: ApplicationSet\nmetadata:\n  name: {name}\n  \
             namespace: argocd\nspec:\n  generators:\n  - git:\n      repoURL: \
             https://git.example.com/deploy.git\n      revision: HEAD\n{generator}  template:\n    \
             metadata:\n      name: '{name}-{{{{{key}}}}}'\n    spec:\n      project: default\n      \
             source:\n        repoURL: https://git.example.com/deploy.git\n        path: '{path}'\n        \
             kustomize:\n          namePrefix: gen-\n      destination:\n        namespace: web\n"
        )
    };
    let dirs = set(
        "overlays",
        "      directories:\n      - path: apps/svc-0000/overlays/*\n",
        "{{path}}",
        "path.basename",
    );
    let files = set(
        "targets",
        "      files:\n      - path: targets/*.yaml\n",
        "apps/svc-0001/overlays/{{overlay}}",
        "overlay",
    );
    // Plain directories, deployed as they are: only the graph's path glob lists them.
    let raw = "apiVersion: argoproj.io/v1alpha1\nkind: ApplicationSet\nmetadata:\n  name: raw\n  \
               namespace: argocd\nspec:\n  generators:\n  - git:\n      repoURL: \
               https://git.example.com/deploy.git\n      revision: HEAD\n      directories:\n      \
               - path: raw/*\n  template:\n    metadata:\n      name: '{{path.basename}}'\n    \
               spec:\n      project: default\n      source:\n        repoURL: \
               https://git.example.com/deploy.git\n        path: '{{path}}'\n      \
               destination:\n        namespace: web\n";
    std::fs::write(
        repo.join("argocd/overlays.yaml"),
        format!("{dirs}---\n{files}---\n{raw}"),
    )
    .unwrap();
    std::fs::write(repo.join("targets/dev.yaml"), "overlay: dev\n").unwrap();
    std::fs::create_dir_all(repo.join("raw/old")).unwrap();
    std::fs::write(
        repo.join("raw/old/cm.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: old\n",
    )
    .unwrap();
    git(repo, &["add", "-A"]);
    git(repo, &["commit", "-q", "-m", "an ApplicationSet"]);
}

/// A comment added to the ApplicationSet: its file changed, every Application it generates
/// is checked.
fn touch_application_set(repo: &Path) {
    let path = repo.join("argocd/overlays.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, format!("# generated Applications\n{text}")).unwrap();
}

/// The roots of `report` whose id starts with `prefix`, each with whether all its objects
/// have the change `change`.
fn generated_roots(report: &serde_json::Value, prefix: &str, change: &str) -> Vec<(String, bool)> {
    report["roots"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["root"].as_str().unwrap().starts_with(prefix))
        .map(|r| {
            let objects = r["objects"].as_array().unwrap();
            let all = !objects.is_empty() && objects.iter().all(|o| o["change"] == change);
            (r["root"].as_str().unwrap().to_owned(), all)
        })
        .collect()
}

/// A change of only a file a `files` generator reads changes the Application it generates
/// (here its name and what it deploys): that Application is checked on both sides, the
/// others are not.
#[test]
fn a_files_generator_file_edited_selects_the_application_it_generates() {
    let (_tmp, repo) = monorepo();
    commit_application_set(&repo);
    std::fs::write(repo.join("targets/dev.yaml"), "overlay: staging\n").unwrap();
    let report = diff(&repo);
    // Each root with whether all its objects were removed: only these two are compared.
    let (dev, staging) = (
        "Application argocd/targets-dev".to_owned(),
        "Application argocd/targets-staging".to_owned(),
    );
    assert_eq!(
        generated_roots(&report, "Application argocd/", "removed"),
        [(dev.clone(), true), (staging.clone(), false)],
        "{report:#}"
    );
    assert_eq!(
        generated_roots(&report, "Application argocd/", "added"),
        [(dev, false), (staging, true)],
        "{report:#}"
    );
}

/// An ApplicationSet's git generators list REF's directories and files in place: an
/// overlay directory and a target file added generate Applications REF has not (all
/// added), removed ones generate Applications REF has (all removed), and the reports are
/// the export's.
#[test]
fn application_set_generators_list_refs_directories_and_files() {
    let (_tmp, repo) = monorepo();
    commit_application_set(&repo);
    std::fs::create_dir_all(repo.join("apps/svc-0000/overlays/qa")).unwrap();
    std::fs::write(
        repo.join("apps/svc-0000/overlays/qa/kustomization.yaml"),
        "resources:\n- ../../base\n",
    )
    .unwrap();
    std::fs::write(repo.join("targets/prod.yaml"), "overlay: prod\n").unwrap();
    touch_application_set(&repo);
    git(&repo, &["add", "-A"]);
    assert!(!exports(&repo));
    let report = diff(&repo);
    let all = |name: &str| (format!("Application argocd/{name}"), true);
    assert_eq!(
        generated_roots(&report, "Application argocd/", "added"),
        [all("overlays-qa"), all("targets-prod")],
        "{report:#}"
    );
    git(&repo, &["reset", "-q", "--hard"]);
    git(&repo, &["clean", "-q", "-fd"]);
    git(
        &repo,
        &[
            "rm",
            "-q",
            "-r",
            "apps/svc-0000/overlays/dev",
            "targets/dev.yaml",
            "raw/old",
        ],
    );
    touch_application_set(&repo);
    assert!(!exports(&repo));
    let report = diff(&repo);
    assert_eq!(
        generated_roots(&report, "Application argocd/", "removed"),
        [all("overlays-dev"), all("targets-dev")],
        "{report:#}"
    );
    // `raw/*` matched the removed directory at REF only (the graph's Argo CD path globs
    // list REF's directories): its dangling reference is new.
    let dangling: Vec<&str> = report["findings"]["added"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "dangling-reference")
        .map(|f| f["message"].as_str().unwrap())
        .collect();
    assert_eq!(dangling.len(), 1, "{report:#}");
    assert!(dangling[0].contains("`raw/*`"), "{report:#}");
}

/// A directory added since REF under a path REF's kustomization lists (REF fails on it, the
/// working tree fails otherwise: no kustomization in it): REF's render fails as its exported
/// tree's does, in place. (A build that only probed paths inside a directory REF has not is
/// not reused at REF: `memo::Inputs::read_any` matches under a directory; this scenario is
/// also caught by the working tree's reads.)
#[test]
fn a_path_inside_an_added_directory_is_missing_at_ref() {
    let (_tmp, repo) = monorepo();
    edit(
        &repo,
        "apps/svc-0000/base/kustomization.yaml",
        "- hpa.yaml\n",
        "- hpa.yaml\n- extra/sub\n",
    );
    git(
        &repo,
        &["commit", "-q", "-am", "list a directory not there yet"],
    );
    std::fs::create_dir_all(repo.join("apps/svc-0000/base/extra/sub")).unwrap();
    std::fs::write(
        repo.join("apps/svc-0000/base/extra/sub/cm.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: sub\n",
    )
    .unwrap();
    git(&repo, &["add", "-A"]);
    assert!(!exports(&repo));
    // `diff` compares the in-place report with the export's, REF's render errors included.
    let report = diff(&repo);
    assert!(!report["roots"].as_array().unwrap().is_empty());
}

/// A render error that names an absolute directory (kustomize's "unable to find one of
/// 'kustomization.yaml' ... in directory '…'"), on both sides: neither resolved nor added,
/// and REF's message names the working tree's directory whether REF was checked in place or
/// in its export (whose temporary path it named before, differing run to run).
#[test]
fn a_render_error_on_both_sides_names_the_same_directory_in_place_or_exported() {
    let (_tmp, repo) = monorepo();
    std::fs::create_dir_all(repo.join("apps/svc-0000/base/plain")).unwrap();
    std::fs::write(
        repo.join("apps/svc-0000/base/plain/cm.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: plain\n",
    )
    .unwrap();
    edit(
        &repo,
        "apps/svc-0000/base/kustomization.yaml",
        "- hpa.yaml\n",
        "- hpa.yaml\n- plain\n",
    );
    git(&repo, &["add", "-A"]);
    git(
        &repo,
        &["commit", "-q", "-m", "a directory without a kustomization"],
    );
    edit(
        &repo,
        "apps/svc-0000/base/deployment.yaml",
        "replicas: ",
        "replicas: 1\n  # was ",
    );
    // `diff` compares the in-place report with the export's, byte for byte.
    let report = diff(&repo);
    assert_eq!(
        report["findings"]["added"],
        serde_json::json!([]),
        "{report}"
    );
    assert_eq!(
        report["findings"]["resolved"],
        serde_json::json!([]),
        "{report}"
    );
    assert!(!report.to_string().contains("kgate-diff-"), "{report}");
}

/// A file deleted since REF (still listed) is there at REF: the working tree's side fails
/// to render, REF's does not.
#[test]
fn a_deleted_file_is_present_at_ref() {
    let (_tmp, repo) = monorepo();
    std::fs::remove_file(repo.join("apps/svc-0000/base/hpa.yaml")).unwrap();
    assert!(!exports(&repo));
    let report = diff(&repo);
    let roots = report["roots"].as_array().unwrap();
    let failing: Vec<&str> = roots
        .iter()
        .filter(|r| r["errors"]["after"].is_string() && r["errors"]["before"].is_null())
        .map(|r| r["root"].as_str().unwrap())
        .collect();
    assert_eq!(failing, SVC0_ALL);
}

/// A changed configuration is read outside the file table: REF's tree is exported, and the
/// findings follow each side's configuration.
#[test]
fn a_changed_configuration_falls_back_to_the_export() {
    let (_tmp, repo) = monorepo();
    edit(
        &repo,
        ".kgate.yaml",
        "allowedRegistries: [registry.example.com/platform]",
        "allowedRegistries: [registry.example.com/elsewhere]",
    );
    assert!(exports(&repo));
    let report = diff(&repo);
    assert_eq!(summary(&report), BTreeMap::new());
    assert!(
        !finding_files(&report, "added").is_empty(),
        "{}",
        report["findings"]
    );
    assert_eq!(finding_files(&report, "resolved"), Vec::<String>::new());
}

/// `.gitattributes` committed with `lines`; `rewrite`: files written out again by git, as a
/// checkout under those attributes writes them.
fn attributes(repo: &Path, lines: &str, rewrite: &[&str]) {
    std::fs::write(repo.join(".gitattributes"), lines).unwrap();
    git(repo, &["add", "-A"]);
    git(repo, &["commit", "-q", "-m", "attributes"]);
    for path in rewrite {
        std::fs::remove_file(repo.join(path)).unwrap();
        git(repo, &["checkout", "--", path]);
    }
}

const PORT_CHANGE: &str =
    "modified Deployment svc-0000: /spec/template/spec/containers/0/ports/0/containerPort";

fn edit_port(repo: &Path) {
    edit(
        repo,
        "apps/svc-0000/base/deployment.yaml",
        "containerPort: 8080",
        "containerPort: 8081",
    );
}

/// Edits svc-0000's port and checks that REF stays in place and the report is the export's,
/// the port change in every root using the base.
fn port_edit_is_checked_in_place(repo: &Path) {
    edit_port(repo);
    assert!(!exports(repo));
    assert_eq!(summary(&diff(repo)), expect(SVC0_ALL, PORT_CHANGE));
}

/// Git attributes that change nothing checkout writes (`eol=lf`, linguist's) keep REF's
/// side in place, with the export's report.
#[test]
fn git_attributes_keep_the_in_place_check() {
    let (_tmp, repo) = monorepo();
    attributes(
        &repo,
        "*.yaml text eol=lf\n*.md linguist-documentation\nclusters/** linguist-generated\n",
        &[],
    );
    port_edit_is_checked_in_place(&repo);
}

/// An edited file checkout writes with CRLF line ends (`eol=crlf`) is read at REF through
/// git's conversion, in place, with the export's report.
#[test]
fn a_changed_crlf_file_is_read_as_checkout_writes_it() {
    let (_tmp, repo) = monorepo();
    let deployment = "apps/svc-0000/base/deployment.yaml";
    attributes(&repo, "*.yaml text eol=crlf\n", &[deployment]);
    let on_disk = std::fs::read(repo.join(deployment)).unwrap();
    assert!(on_disk.windows(2).any(|w| w == b"\r\n"));
    port_edit_is_checked_in_place(&repo);
}

/// An edited file with the `ident` attribute: checkout writes `$Id: <blob> $` where the
/// blob has `$Id$`, and REF's content is read that way (the blob's would change the
/// annotation too).
#[test]
fn a_changed_file_is_read_at_ref_through_gits_conversions() {
    let (_tmp, repo) = monorepo();
    let deployment = "apps/svc-0000/base/deployment.yaml";
    edit(
        &repo,
        deployment,
        "  name: svc-0000\n  labels:",
        "  name: svc-0000\n  annotations:\n    revision: \"$Id$\"\n  labels:",
    );
    attributes(&repo, "apps/**/deployment.yaml ident\n", &[deployment]);
    let on_disk = std::fs::read_to_string(repo.join(deployment)).unwrap();
    assert!(on_disk.contains("revision: \"$Id: "), "{on_disk}");
    port_edit_is_checked_in_place(&repo);
}

/// An edited file with a `filter` attribute (Git LFS and the like run a program, which may
/// need the network): REF's tree is exported.
#[test]
fn a_changed_file_with_a_filter_falls_back_to_the_export() {
    let (_tmp, repo) = monorepo();
    attributes(&repo, "apps/svc-0000/base/*.yaml filter=kgate-test\n", &[]);
    edit_port(&repo);
    assert!(exports(&repo));
    assert_eq!(summary(&diff(&repo)), expect(SVC0_ALL, PORT_CHANGE));
    // A filter on files the change does not touch keeps the check in place.
    git(&repo, &["reset", "-q", "--hard"]);
    edit(
        &repo,
        "apps/svc-0001/base/deployment.yaml",
        "containerPort: 8080",
        "containerPort: 8081",
    );
    assert!(!exports(&repo));
    diff(&repo);
}

/// A `.gitattributes` edited since REF: git would convert REF's files by the working
/// tree's attributes, not REF's, so REF's tree is exported; an untracked one likewise.
#[test]
fn changed_or_untracked_attributes_fall_back_to_the_export() {
    let (_tmp, repo) = monorepo();
    attributes(&repo, "*.yaml text eol=lf\n", &[]);
    std::fs::write(repo.join(".gitattributes"), "*.yaml text eol=crlf\n").unwrap();
    edit_port(&repo);
    assert!(exports(&repo));
    assert_eq!(summary(&diff(&repo)), expect(SVC0_ALL, PORT_CHANGE));
    git(&repo, &["reset", "-q", "--hard"]);
    std::fs::write(repo.join("apps/.gitattributes"), "*.yaml ident\n").unwrap();
    edit_port(&repo);
    assert!(exports(&repo));
}

/// `export-ignore` makes `git archive` (the export) leave out a file REF's commit has: the
/// in-place check is REF's checkout and reports no removal of it, where the export
/// (`force_export`) fails to render the roots that list it.
#[test]
fn export_ignore_is_no_removal_in_place() {
    let (_tmp, repo) = monorepo();
    attributes(&repo, "apps/svc-0000/base/hpa.yaml export-ignore\n", &[]);
    edit_port(&repo);
    let (report, exported) = diff_output(&repo);
    assert!(!exported);
    let report: serde_json::Value = serde_json::from_slice(&report).unwrap();
    assert_eq!(summary(&report), expect(SVC0_ALL, PORT_CHANGE));
    force_export(&repo);
    let (export, exported) = diff_output(&repo);
    assert!(exported);
    let export: serde_json::Value = serde_json::from_slice(&export).unwrap();
    let failing_at_ref = export["roots"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["errors"]["before"].is_string())
        .count();
    assert_eq!(failing_at_ref, SVC0_ALL.len(), "{export}");
}

/// A symbolic link nothing changed reaches (a directory link to another app, a file link
/// to a document) keeps REF's side in place, with the export's report.
#[cfg(unix)]
#[test]
fn an_unrelated_symlink_keeps_the_in_place_check() {
    let (_tmp, repo) = monorepo();
    std::fs::create_dir(repo.join("docs")).unwrap();
    std::fs::write(repo.join("README.md"), "# fleet\n").unwrap();
    std::os::unix::fs::symlink("../README.md", repo.join("docs/readme")).unwrap();
    std::os::unix::fs::symlink("apps/svc-0001/base", repo.join("svc-0001-base")).unwrap();
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-q", "-m", "links"]);
    port_edit_is_checked_in_place(&repo);
}

/// An edited file a kustomization reaches through a symbolic link to its directory: the
/// read through the link would miss REF's content, so REF's tree is exported. (The overlay
/// using the link is not among the roots the change reaches, on either side: the graph of
/// affected roots, as `check --changed-since`'s, does not follow links.) Files added with
/// a link in REF's tree are exported too (the file table then resolves paths lexically).
#[cfg(unix)]
#[test]
fn an_edit_reached_through_a_symlink_falls_back_to_the_export() {
    let (_tmp, repo) = monorepo();
    std::os::unix::fs::symlink("base", repo.join("apps/svc-0000/base-link")).unwrap();
    edit(
        &repo,
        "apps/svc-0000/overlays/prod/kustomization.yaml",
        "- ../../base\n",
        "- ../../base-link\n",
    );
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-q", "-m", "prod through a link"]);
    edit_port(&repo);
    assert!(exports(&repo));
    let changed = summary(&diff(&repo));
    assert_eq!(changed["apps/svc-0000/base"], [PORT_CHANGE]);
    git(&repo, &["reset", "-q", "--hard"]);
    std::fs::write(repo.join("apps/svc-0001/base/pdb.yaml"), PDB).unwrap();
    assert!(exports(&repo));
}

/// `.gitignore` committed with `patterns`.
fn ignore(repo: &Path, patterns: &str) {
    std::fs::write(repo.join(".gitignore"), patterns).unwrap();
    git(repo, &["add", "-A"]);
    git(repo, &["commit", "-q", "-m", "ignore"]);
}

const PDB: &str = "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata:\n  name: svc-0000\n\
                   spec:\n  maxUnavailable: 1\n  selector:\n    matchLabels:\n      app: svc-0000\n";

/// Untracked files nothing reads (an ignored build directory holding YAML, which the walk
/// skips, and an editor backup) are absent at REF but change nothing: REF's side is still
/// checked in the working tree's paths, and the report is the export's.
#[test]
fn ignored_and_unread_untracked_files_keep_the_in_place_check() {
    let (_tmp, repo) = monorepo();
    ignore(&repo, "target/\n");
    std::fs::create_dir_all(repo.join("target/out")).unwrap();
    std::fs::write(repo.join("target/out/pdb.yaml"), PDB).unwrap();
    let backup = repo.join("apps/svc-0000/base/deployment.yaml~");
    std::fs::copy(repo.join("apps/svc-0000/base/deployment.yaml"), backup).unwrap();
    edit(
        &repo,
        "apps/svc-0000/base/deployment.yaml",
        "containerPort: 8080",
        "containerPort: 8081",
    );
    assert!(!exports(&repo));
    assert_eq!(
        summary(&diff(&repo)),
        expect(
            SVC0_ALL,
            "modified Deployment svc-0000: /spec/template/spec/containers/0/ports/0/containerPort"
        )
    );
}

/// Wholly untracked directories (a scratch directory with a manifest discovery lists, and an
/// empty one) are not in REF's tree: hidden as a whole, in place, with the export's report.
#[test]
fn untracked_directories_are_hidden_at_ref_in_place() {
    let (_tmp, repo) = monorepo();
    std::fs::create_dir_all(repo.join("scratch/notes")).unwrap();
    std::fs::write(repo.join("scratch/notes/pdb.yaml"), PDB).unwrap();
    std::fs::create_dir(repo.join("empty")).unwrap();
    port_edit_is_checked_in_place(&repo);
}

/// A directory whose files were removed since REF and which holds only untracked files now:
/// hiding it would hide REF's files too, so REF's tree is exported.
#[test]
fn an_untracked_directory_over_removed_files_is_exported() {
    let (_tmp, repo) = monorepo();
    git(&repo, &["rm", "-q", "-r", "apps/svc-0000/overlays/dev"]);
    std::fs::create_dir_all(repo.join("apps/svc-0000/overlays/dev")).unwrap();
    std::fs::write(repo.join("apps/svc-0000/overlays/dev/pdb.yaml"), PDB).unwrap();
    assert!(exports(&repo));
}

/// An untracked YAML file discovery's walk lists is not in REF's tree: REF's discovery
/// does not list it (else it would be a plain manifest of REF's only), in place.
#[test]
fn an_untracked_file_discovery_lists_is_not_listed_at_ref() {
    let (_tmp, repo) = monorepo();
    std::fs::write(repo.join("apps/svc-0000/base/pdb.yaml"), PDB).unwrap();
    port_edit_is_checked_in_place(&repo);
}

/// An ignored file that REF's kustomization lists (and the working tree's no longer does)
/// is on disk but not in REF's tree: REF's check read it, which only REF's tree can answer,
/// so REF's side is checked in its export, where the render fails for want of it.
#[test]
fn an_ignored_file_refs_render_lists_sends_ref_to_the_export() {
    let (_tmp, repo) = monorepo();
    ignore(&repo, "*.local.yaml\n");
    std::fs::write(repo.join("apps/svc-0000/base/pdb.local.yaml"), PDB).unwrap();
    edit(
        &repo,
        "apps/svc-0000/base/kustomization.yaml",
        "- hpa.yaml\n",
        "- hpa.yaml\n- pdb.local.yaml\n",
    );
    git(&repo, &["commit", "-q", "-am", "list an ignored file"]);
    edit(
        &repo,
        "apps/svc-0000/base/kustomization.yaml",
        "- pdb.local.yaml\n",
        "",
    );
    assert!(exports(&repo));
    let report = diff(&repo);
    let failing_at_ref: Vec<&str> = report["roots"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["errors"]["before"].is_string() && r["errors"]["after"].is_null())
        .map(|r| r["root"].as_str().unwrap())
        .collect();
    assert_eq!(failing_at_ref, SVC0_ALL);
}

/// An ignored file only the working tree's kustomization lists: REF's side reuses the
/// working tree's renders and its file table's answers, which saw the file, so it is checked
/// in its export instead, and the file is an addition at the working tree.
#[test]
fn an_ignored_file_the_working_tree_reads_sends_ref_to_the_export() {
    let (_tmp, repo) = monorepo();
    ignore(&repo, "*.local.yaml\n");
    std::fs::write(repo.join("apps/svc-0000/base/pdb.local.yaml"), PDB).unwrap();
    assert!(!exports(&repo), "an ignored file nothing reads");
    edit(
        &repo,
        "apps/svc-0000/base/kustomization.yaml",
        "- hpa.yaml\n",
        "- hpa.yaml\n- pdb.local.yaml\n",
    );
    assert!(exports(&repo));
    let report = diff(&repo);
    let roots = summary(&report);
    assert_eq!(roots.len(), SVC0_ALL.len(), "{report:#}");
    for lines in roots.values() {
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with("added PodDisruptionBudget")),
            "{report:#}"
        );
    }
}

/// An ignore file in a directory of REF's tree that git ignores (an untracked one it does
/// not ignore is among the untracked paths): the walk skips what it names, which REF's
/// checkout would list, so REF's side is exported from the start. So is an ignored file
/// in the policies' directory, which the checks read outside the file table, and an ignored
/// attributes file over a changed file.
#[test]
fn ignored_ignore_files_and_ignored_policies_send_ref_to_the_export() {
    let (_tmp, repo) = monorepo();
    ignore(&repo, ".ignore\n*.local.rego\n.gitattributes\n");
    commit_policy(&repo, "extra.rego", "package kgate.rules.extra\n");
    edit_port(&repo);
    assert!(!exports(&repo));
    let timings = diff_timings(&repo);
    assert!(
        timings.contains("check REF in the working tree's paths"),
        "{timings}"
    );
    std::fs::write(repo.join("apps/svc-0001/.ignore"), "*.yaml\n").unwrap();
    exported_for(&repo, "an ignored ignore file");
    std::fs::remove_file(repo.join("apps/svc-0001/.ignore")).unwrap();
    std::fs::write(repo.join("policies/mine.local.rego"), "package x\n").unwrap();
    exported_for(&repo, "an untracked path");
    // An ignored attributes file over the changed file: git would convert REF's content
    // by it, as REF's checkout would not.
    std::fs::remove_file(repo.join("policies/mine.local.rego")).unwrap();
    std::fs::write(repo.join("apps/svc-0000/.gitattributes"), "*.yaml text\n").unwrap();
    exported_for(&repo, "an ignored attributes file");
}

/// Commits `policies/NAME` with `text`, the configuration naming that directory.
fn commit_policy(repo: &Path, name: &str, text: &str) {
    std::fs::create_dir_all(repo.join("policies")).unwrap();
    std::fs::write(repo.join("policies").join(name), text).unwrap();
    let config = std::fs::read_to_string(repo.join(".kgate.yaml")).unwrap();
    let config = format!("{config}policies:\n  dirs: [policies]\n");
    std::fs::write(repo.join(".kgate.yaml"), config).unwrap();
    git(repo, &["add", "-A"]);
    git(repo, &["commit", "-q", "-m", "a policy"]);
}

/// Checks `kgate diff --since HEAD` in `repo` exports REF's tree from the start, saying
/// why (`why` begins the reason), and reports what the forced export does.
fn exported_for(repo: &Path, why: &str) {
    let timings = diff_timings(repo);
    let said = format!("export REF (git archive | tar -x): {why}");
    assert!(timings.contains(&said), "{timings}");
    diff(repo);
}

/// The `--timings` lines of `kgate diff --since HEAD` in `repo`.
fn diff_timings(repo: &Path) -> String {
    let out = common::kgate(repo, &["diff", "--since", "HEAD", "--timings"]);
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// How many object and root results REF's side reused from the working tree's check.
fn reused(timings: &str) -> (usize, usize) {
    let line = timings
        .lines()
        .find(|l| l.contains("results reused"))
        .unwrap_or_else(|| panic!("no reuse line in {timings}"));
    let counts: Vec<usize> = line
        .rsplit('(')
        .next()
        .unwrap()
        .split_whitespace()
        .filter_map(|w| w.parse().ok())
        .collect();
    (counts[0], counts[1])
}

/// Commits svc-0000's base Deployment running privileged (a finding in every root that
/// renders it); returns the file.
fn commit_privileged(repo: &Path) -> &'static str {
    let deployment = "apps/svc-0000/base/deployment.yaml";
    edit(repo, deployment, "runAsNonRoot: true", "privileged: true");
    git(repo, &["commit", "-q", "-am", "svc-0000 runs privileged"]);
    deployment
}

/// A root that renders the same at REF as in the working tree (a comment added above a
/// committed finding moves its line, nothing else) reuses the policy results the working
/// tree's check computed (the memo both share), yet still has its findings made from its own
/// objects: the finding that was
/// there before is neither added nor resolved (a root whose findings were skipped at REF
/// would show it added; findings copied from the working tree would carry its lines, which
/// the exported report compared in `diff` does not).
#[test]
fn a_root_that_renders_the_same_reuses_results_and_keeps_its_finding() {
    let (_tmp, repo) = monorepo();
    let deployment = commit_privileged(&repo);
    edit(
        &repo,
        deployment,
        "        securityContext:\n",
        "        # to be hardened\n        securityContext:\n",
    );
    let check = common::kgate(
        &repo,
        &["check", ".", "-f", "json", "--changed-since", "HEAD"],
    );
    let check: serde_json::Value = serde_json::from_slice(&check.stdout).unwrap();
    let privileged = check["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["location"]["path"] == deployment)
        .count();
    assert!(privileged > 0, "{check}");
    let report = diff(&repo);
    assert_eq!(report["roots"], serde_json::json!([]));
    assert_eq!(report["findings"]["added"], serde_json::json!([]));
    assert_eq!(report["findings"]["resolved"], serde_json::json!([]));
    // Every cluster root: the base and the overlays are only bases of the clusters, whose
    // rules across objects wait until it is known that no root using them renders (here all
    // do, so they never run).
    let clusters = SVC0_ALL
        .iter()
        .filter(|r| r.starts_with("clusters/"))
        .count();
    // With one worker REF's side starts after the working tree's whole check, so every
    // result it could reuse is there; with more, REF starts beside the working tree's last
    // checks and reuses only the results already made, which depends on the schedule.
    let out = common::kgate(&repo, &["diff", "--since", "HEAD", "--timings", "-j", "1"]);
    let (objects, roots) = reused(&String::from_utf8_lossy(&out.stderr));
    assert!(objects > 0 && roots >= clusters, "{objects} {roots}");
}

/// Results are reused by content and context: at REF the prod root's Deployment is the
/// working tree's dev one (same name, one replica), but prod's context makes it a finding
/// (single replica in production), which the change resolves. A reuse by content alone would
/// give REF's prod object (and root) dev's empty results and resolve nothing.
#[test]
fn an_object_equal_to_one_in_another_context_is_evaluated_again() {
    let (_tmp, repo) = monorepo();
    let deployment = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: extra\n\
         spec:\n  replicas: 1\n  selector:\n    matchLabels:\n      app: extra\n  \
         template:\n    metadata:\n      labels:\n        app: extra\n    spec:\n      \
         containers:\n      - name: extra\n        \
         image: registry.example.com/platform/extra:v1\n";
    for env in ["dev", "prod"] {
        let dir = repo.join(format!("apps/extra/overlays/{env}"));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("deployment.yaml"), deployment).unwrap();
        std::fs::write(
            dir.join("kustomization.yaml"),
            "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n\
             resources:\n- deployment.yaml\n",
        )
        .unwrap();
    }
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-q", "-m", "extra app"]);
    // dev: a comment (the same object, evaluated in the working tree); prod: two replicas.
    edit(
        &repo,
        "apps/extra/overlays/dev/deployment.yaml",
        "spec:\n  replicas",
        "spec:\n  # one is enough in dev\n  replicas",
    );
    edit(
        &repo,
        "apps/extra/overlays/prod/deployment.yaml",
        "replicas: 1",
        "replicas: 2",
    );
    let report = diff(&repo);
    assert_eq!(
        finding_files(&report, "resolved"),
        ["apps/extra/overlays/prod/deployment.yaml single-replica-in-production"]
    );
    // Two replicas in production want a PodDisruptionBudget (a rule across objects).
    assert_eq!(
        finding_files(&report, "added"),
        ["apps/extra/overlays/prod/deployment.yaml missing-pdb-in-production"]
    );
    assert_eq!(
        summary(&report),
        expect(
            &["apps/extra/overlays/prod"],
            "modified Deployment extra: /spec/replicas"
        )
    );
}

/// When the working tree's check fails (a committed policy that does not compile), REF's
/// side, prepared beside it, does not keep the diff from ending with the error (exit 2).
#[test]
fn a_working_tree_check_that_fails_ends_the_diff() {
    let (_tmp, repo) = monorepo();
    let broken = "package kgate.rules.broken\n\ndeny contains m if {\n";
    commit_policy(&repo, "broken.rego", broken);
    edit(&repo, "apps/svc-0000/base/deployment.yaml", "8080", "8081");
    let mut child = common::bin()
        .args(["diff", "--since", "HEAD", "-f", "json"])
        .current_dir(&repo)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let start = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > std::time::Duration::from_secs(120) {
            let _ = child.kill();
            panic!("kgate diff --since still runs after 120 s");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    assert_eq!(status.code(), Some(2));
}

/// Whether REF's side took the working tree's discovery, graph and selection.
fn shares_selection(repo: &Path) -> bool {
    diff_timings(repo).contains("the working tree's policies, discovery, graph and selection")
}

/// An edit no discovery reads (a resource's field) leaves REF with the working tree's
/// discovery, graph and selection; an edited kustomization, an added file or a file that
/// held an entry point at REF has REF discover again, and every report is the export's.
#[test]
fn ref_takes_the_working_trees_discovery_only_when_no_change_can_alter_it() {
    let (_tmp, repo) = monorepo();
    let deployment = "apps/svc-0000/base/deployment.yaml";
    edit(
        &repo,
        deployment,
        "containerPort: 8080",
        "containerPort: 8081",
    );
    assert!(shares_selection(&repo));
    diff(&repo);
    edit(
        &repo,
        "apps/svc-0000/base/kustomization.yaml",
        "- hpa.yaml\n",
        "",
    );
    assert!(!shares_selection(&repo));
    diff(&repo);
    git(&repo, &["checkout", "-q", "--", "."]);
    std::fs::write(repo.join("apps/svc-0000/base/pdb.yaml"), PDB).unwrap();
    assert!(!shares_selection(&repo));
    diff(&repo);
    std::fs::remove_file(repo.join("apps/svc-0000/base/pdb.yaml")).unwrap();
    // At REF an extra document of the Deployment's file is an Argo CD Application deploying
    // an overlay: REF's graph has an entry point the working tree's has not.
    let text = std::fs::read_to_string(repo.join(deployment)).unwrap();
    std::fs::write(
        repo.join(deployment),
        format!(
            "{text}---\napiVersion: argoproj.io/v1alpha1\nkind: Application\n\
             metadata:\n  name: svc-0000\nspec:\n  source:\n    path: apps/svc-0000/overlays/dev\n"
        ),
    )
    .unwrap();
    git(
        &repo,
        &[
            "commit",
            "-q",
            "-am",
            "an Application beside the Deployment",
        ],
    );
    std::fs::write(repo.join(deployment), &text).unwrap();
    assert!(!shares_selection(&repo));
    diff(&repo);
}

/// A removed root (an overlay deleted with its directory) and a rename are checked in
/// place: REF's file table holds the removed files (served from git) and their
/// directories, discovery lists them; the root's objects are all removed, the rename
/// changes nothing, and the reports are the export's.
#[test]
fn removed_roots_and_renamed_files_are_checked_in_place() {
    let (_tmp, repo) = monorepo();
    git(&repo, &["rm", "-q", "-r", "apps/svc-0000/overlays/dev"]);
    assert!(!exports(&repo));
    let report = diff(&repo);
    let dev = report["roots"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["root"] == "apps/svc-0000/overlays/dev")
        .unwrap();
    let objects = dev["objects"].as_array().unwrap();
    assert!(objects.len() >= 4, "{objects:?}");
    assert!(objects.iter().all(|o| o["change"] == "removed"));
    git(&repo, &["reset", "-q", "--hard"]);
    git(
        &repo,
        &[
            "mv",
            "apps/svc-0000/base/service.yaml",
            "apps/svc-0000/base/svc.yaml",
        ],
    );
    edit(
        &repo,
        "apps/svc-0000/base/kustomization.yaml",
        "- service.yaml",
        "- svc.yaml",
    );
    assert!(!exports(&repo));
    assert_eq!(summary(&diff(&repo)), BTreeMap::new());
}

/// A removed file that git ignores (tracked at REF all the same) is one discovery's walk
/// skips at REF: the export says so.
#[test]
fn a_removed_ignored_file_falls_back_to_the_export() {
    let (_tmp, repo) = monorepo();
    std::fs::write(repo.join("apps/svc-0000/base/pdb.local.yaml"), PDB).unwrap();
    git(&repo, &["add", "-f", "apps/svc-0000/base/pdb.local.yaml"]);
    ignore(&repo, "*.local.yaml\n");
    std::fs::remove_file(repo.join("apps/svc-0000/base/pdb.local.yaml")).unwrap();
    assert!(exports(&repo));
    assert_eq!(summary(&diff(&repo)), BTreeMap::new());
}

/// A Helm chart in REF's tree: a change inside it renders it (Helm reads the disk), so REF's
/// tree is exported from the start (beside the working tree's check, not after it), and
/// `--timings` says why; a change elsewhere leaves the chart unrendered and REF in place.
#[test]
fn a_change_inside_a_chart_is_exported_from_the_start_and_one_elsewhere_is_not() {
    let (_tmp, repo) = monorepo();
    std::fs::create_dir_all(repo.join("charts/demo/templates")).unwrap();
    std::fs::write(
        repo.join("charts/demo/Chart.yaml"),
        "apiVersion: v2\nname: demo\nversion: 0.1.0\n",
    )
    .unwrap();
    std::fs::write(
        repo.join("charts/demo/templates/cm.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: demo\n",
    )
    .unwrap();
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-q", "-m", "a chart"]);
    edit_port(&repo);
    let timings = diff_timings(&repo);
    assert!(
        timings.contains("check REF in the working tree's paths"),
        "{timings}"
    );
    // Started from the working tree's memo as soon as its roots were rendered, not after
    // its whole check.
    assert!(
        timings.contains("reusing its renders, beside the working tree's last checks"),
        "{timings}"
    );
    assert!(!timings.contains("export REF"), "{timings}");
    assert_eq!(summary(&diff(&repo))["apps/svc-0000/base"], [PORT_CHANGE]);
    std::fs::write(
        repo.join("charts/demo/templates/cm.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: demo\n  labels: {a: b}\n",
    )
    .unwrap();
    let timings = diff_timings(&repo);
    assert!(
        timings.contains("export REF (git archive | tar -x): a change inside a Helm chart"),
        "{timings}"
    );
    assert!(
        !timings.contains("check REF in the working tree's paths"),
        "{timings}"
    );
    // The chart is a root of the diff, rendered by Helm at both sides.
    if common::helm::helm().is_some() {
        let report = diff(&repo);
        let roots = summary(&report);
        assert_eq!(
            roots["charts/demo"],
            ["modified ConfigMap demo: /metadata/labels"],
            "{report:#}"
        );
        assert_eq!(roots["apps/svc-0000/base"], [PORT_CHANGE]);
    }
}

/// An entry point checked as a root of its own (a Flux Kustomization deploying a plain
/// directory, with variables substituted) is a root of the diff, named by its id: what the
/// controller would apply changes.
#[test]
fn an_entry_point_is_a_root_of_the_diff() {
    let (_tmp, repo) = monorepo();
    commit_flux_plain_directory(
        &repo,
        "  postBuild:\n    substitute:\n      tier: gold\n",
        "  tier: ${tier}\n",
    );
    edit(&repo, "plain/cm.yaml", "a: \"1\"", "a: \"2\"");
    let report = diff(&repo);
    assert!(!exports(&repo));
    assert_eq!(
        summary(&report),
        BTreeMap::from([(
            "Kustomization flux-system/plain".to_owned(),
            vec!["modified ConfigMap plain: /data/a".to_owned()]
        )]),
        "{report:#}"
    );
    // The variable's value, substituted, is what changes when the entry point changes it.
    edit(&repo, "flux/plain.yaml", "tier: gold", "tier: silver");
    let roots = summary(&diff(&repo));
    assert_eq!(
        roots["Kustomization flux-system/plain"],
        ["modified ConfigMap plain: /data/a /data/tier"]
    );
}

/// REF's side takes from the working tree's render what the change does not reach: with the
/// render cache warm from a check of the committed tree, REF reads from the cache only the
/// changed base and its three overlays (their builds at REF) and builds the five clusters
/// again, every other overlay they gather coming from the working tree's memo (its render
/// kept them for REF). It read each of them from the cache again before (13 builds).
#[test]
fn ref_takes_the_builds_the_change_does_not_reach_from_the_working_tree() {
    let (tmp, repo) = monorepo();
    let cache = tmp.path().join("cache");
    let run = |args: &[&str]| {
        common::bin()
            .args(args)
            .env("KGATE_CACHE_DIR", &cache)
            .current_dir(&repo)
            .output()
            .expect("kgate runs")
    };
    assert!(
        run(&["check", ".", "--format", "json"])
            .status
            .code()
            .is_some()
    );
    edit(
        &repo,
        "apps/svc-0000/base/deployment.yaml",
        "containerPort: 8080",
        "containerPort: 8081",
    );
    // One worker: two roots asking for one build at once would each read it.
    let out = run(&[
        "diff",
        "--since",
        "HEAD",
        "--timings",
        "-f",
        "json",
        "-j",
        "1",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let line = |side: &str| {
        stderr
            .lines()
            .find_map(|l| l.strip_prefix(side))
            .unwrap_or_else(|| panic!("no {side} line in {stderr}"))
            .to_owned()
    };
    assert_eq!(
        line("REF: render cache: "),
        "4 builds reused, 5 built (0 stored)",
        "{stderr}"
    );
    // One worker in all: REF's side waits for the working tree's whole check.
    assert!(
        stderr.contains("reusing its renders, after the working tree's check"),
        "{stderr}"
    );
    // What it reports is what REF's tree exported and checked alone gives.
    let report = diff(&repo);
    assert_eq!(common::report(&out), report);
    let roots: Vec<&str> = (report["roots"].as_array().unwrap().iter())
        .map(|r| r["root"].as_str().unwrap())
        .collect();
    assert_eq!(roots, SVC0_ALL, "{report}");
}

/// A comment that suppresses a finding changes no object: the clusters render the same at
/// REF, so REF's side takes the working tree's checks of them (`roots/taken.rs`), yet each
/// side's gate reads its own files, so the finding the comment suppresses is resolved (a
/// side that took the working tree's gated findings would resolve nothing), and the report
/// is the exported tree's.
#[test]
fn a_comment_suppressing_a_finding_resolves_it_though_every_root_renders_the_same() {
    let (_tmp, repo) = monorepo();
    let deployment = commit_privileged(&repo);
    edit(
        &repo,
        deployment,
        "privileged: true",
        "privileged: true # kgate:ignore privileged-container -- a node agent",
    );
    let report = diff(&repo);
    assert_eq!(report["roots"], serde_json::json!([]));
    assert_eq!(report["findings"]["added"], serde_json::json!([]));
    assert_eq!(
        finding_files(&report, "resolved"),
        [format!("{deployment} privileged-container")]
    );
    let resolved = &report["findings"]["resolved"][0]["roots"];
    let roots: Vec<&str> = (resolved.as_array().unwrap().iter())
        .map(|r| r.as_str().unwrap())
        .collect();
    assert_eq!(roots, SVC0_ALL, "{report}");
    for jobs in ["1", "2"] {
        let out = common::kgate(&repo, &["diff", "--since", "HEAD", "--timings", "-j", jobs]);
        let timings = String::from_utf8_lossy(&out.stderr);
        assert!(
            timings.contains("the working tree's checks of the roots rendering the same"),
            "{timings}"
        );
    }
}

/// The clusters REF's side takes from the working tree fail there as here (at svc-0001's
/// broken prod overlay), and count as failed: svc-0000's prod overlay, which every prod
/// cluster uses, is covered by none, so its findings across objects are kept on both sides
/// (a REF side that took the clusters as rendered would drop them, and the diff would report
/// them added).
#[test]
fn clusters_taken_from_the_working_tree_fail_as_there() {
    let (_tmp, repo) = monorepo();
    edit(
        &repo,
        "apps/svc-0001/overlays/prod/kustomization.yaml",
        "- ../../base\n",
        "- ../../base\n- missing.yaml\n",
    );
    git(
        &repo,
        &["commit", "-q", "-am", "svc-0001's prod overlay is broken"],
    );
    let check = common::kgate(&repo, &["check", ".", "-f", "json"]);
    let check: serde_json::Value = serde_json::from_slice(&check.stdout).unwrap();
    let kept = (check["findings"].as_array().unwrap().iter()).any(|f| {
        f["rule"] == "missing-pdb-in-production"
            && f["roots"] == serde_json::json!(["apps/svc-0000/overlays/prod"])
    });
    assert!(kept, "{check}");
    edit(
        &repo,
        "apps/svc-0000/base/deployment.yaml",
        "replicas: 2",
        "replicas: 3",
    );
    let report = diff(&repo);
    assert_eq!(
        summary(&report),
        expect(
            &["apps/svc-0000/base"],
            "modified Deployment svc-0000: /spec/replicas"
        )
    );
    assert_eq!(report["findings"]["added"], serde_json::json!([]));
    assert_eq!(report["findings"]["resolved"], serde_json::json!([]));
    let timings = diff_timings(&repo);
    assert!(
        timings.contains("the working tree's checks of the roots rendering the same"),
        "{timings}"
    );
}
