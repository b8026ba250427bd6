//! `kgate check --changed-since REF` on real temporary git repositories: the roots a change
//! can affect through the repository graph, and nothing else; `kgate graph`.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{git, write};

const DEPLOYMENT: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: NAME\nspec:\n  selector: {matchLabels: {app: NAME}}\n  template:\n    metadata: {labels: {app: NAME}}\n    spec:\n      containers:\n        - name: app\n          image: registry.example.com/NAME:1.0\n";

/// Makes `r` a git repository whose first commit holds everything in it.
fn commit_all(r: &Path) {
    git(r, &["init", "-q"]);
    git(r, &["add", "-A"]);
    git(r, &["commit", "-qm", "init"]);
}

/// Two apps with a base and dev/prod overlays, a shared component, two clusters.
fn repo() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let r = tmp.path();
    for app in ["web", "api"] {
        write(
            r,
            &format!("apps/{app}/base/kustomization.yaml"),
            "resources: [deployment.yaml]\n",
        );
        write(
            r,
            &format!("apps/{app}/base/deployment.yaml"),
            &DEPLOYMENT.replace("NAME", app),
        );
        for env in ["dev", "prod"] {
            write(
                r,
                &format!("apps/{app}/overlays/{env}/kustomization.yaml"),
                &format!(
                    "namespace: {app}-{env}\nresources: [../../base]\ncomponents: [../../../../components/common]\n"
                ),
            );
        }
    }
    write(
        r,
        "components/common/kustomization.yaml",
        "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\ncommonLabels: {team: platform}\n",
    );
    for env in ["dev", "prod"] {
        write(
            r,
            &format!("clusters/{env}-eu/kustomization.yaml"),
            &format!(
                "resources:\n  - ../../apps/web/overlays/{env}\n  - ../../apps/api/overlays/{env}\n"
            ),
        );
    }
    write(
        r,
        "loose/configmap.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: loose}\n",
    );
    write(r, ".kgate.yaml", "environments: [dev, prod]\n");
    commit_all(r);
    tmp
}

struct Run {
    code: Option<i32>,
    report: serde_json::Value,
    stderr: String,
}

fn check(dir: &Path, extra: &[&str]) -> Run {
    let out = common::check(dir, extra);
    Run {
        code: out.status.code(),
        report: serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn explained_roots(stderr: &str) -> Vec<String> {
    stderr
        .lines()
        .skip_while(|l| !l.starts_with("affected roots:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .map(|l| l.trim().to_owned())
        .collect()
}

#[test]
fn a_base_change_checks_the_base_its_overlays_and_the_clusters_including_them() {
    let tmp = repo();
    let r = tmp.path();
    let all = check(r, &[]);
    assert_eq!(all.report["summary"]["roots"], 8, "{}", all.stderr);

    let nothing = check(r, &["--changed-since", "HEAD"]);
    assert_eq!(nothing.code, Some(0), "{}", nothing.stderr);
    assert_eq!(nothing.report["summary"]["roots"], 0);
    assert_eq!(nothing.report["summary"]["objects"], 0);

    // An unstaged edit of web's base.
    write(
        r,
        "apps/web/base/deployment.yaml",
        &DEPLOYMENT.replace("NAME", "web").replace(":1.0", ":latest"),
    );
    let run = check(r, &["--changed-since", "HEAD", "--explain"]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert_eq!(run.report["summary"]["roots"], 5);
    assert_eq!(
        explained_roots(&run.stderr),
        [
            "apps/web/base",
            "apps/web/overlays/dev",
            "apps/web/overlays/prod",
            "clusters/dev-eu",
            "clusters/prod-eu"
        ]
    );
    assert!(
        run.stderr.contains("  apps/web/base/deployment.yaml\n"),
        "{}",
        run.stderr
    );
    let latest = findings_with(&run.report, "image-latest-tag");
    assert_eq!(latest.len(), 1);

    // Committed on a branch: the same set against the first commit.
    git(r, &["commit", "-qam", "latest"]);
    let run = check(r, &["--changed-since", "HEAD~1"]);
    assert_eq!(run.report["summary"]["roots"], 5);
}

#[test]
fn components_renames_untracked_files_and_gate_inputs() {
    let tmp = repo();
    let r = tmp.path();
    // A component change reaches every overlay using it and the clusters, not the bases.
    write(
        r,
        "components/common/kustomization.yaml",
        "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\ncommonLabels: {team: web}\n",
    );
    let run = check(r, &["--changed-since", "HEAD", "--explain"]);
    assert_eq!(run.report["summary"]["roots"], 6, "{}", run.stderr);
    git(r, &["checkout", "-q", "--", "."]);

    // An untracked plain manifest is checked on its own; no root includes it.
    write(
        r,
        "loose/secret.yaml",
        "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData: {password: hunter2}\n",
    );
    let run = check(r, &["--changed-since", "HEAD"]);
    assert_eq!(run.report["summary"]["roots"], 0);
    assert_eq!(run.report["summary"]["objects"], 1, "{}", run.stderr);
    std::fs::remove_file(r.join("loose/secret.yaml")).unwrap();

    // A rename of a file a base lists: the old path is what the base refers to.
    git(
        r,
        &[
            "mv",
            "apps/api/base/deployment.yaml",
            "apps/api/base/app.yaml",
        ],
    );
    let run = check(r, &["--changed-since", "HEAD", "--explain"]);
    assert_eq!(explained_roots(&run.stderr).len(), 5, "{}", run.stderr);
    assert_eq!(run.code, Some(1), "the base now lists a missing file");
    git(
        r,
        &[
            "mv",
            "apps/api/base/app.yaml",
            "apps/api/base/deployment.yaml",
        ],
    );

    // The configuration changes how everything is checked.
    write(
        r,
        ".kgate.yaml",
        "environments: [dev, prod]\nstrict: true\n",
    );
    let run = check(r, &["--changed-since", "HEAD", "--explain"]);
    assert_eq!(run.report["summary"]["roots"], 8);
    assert!(
        run.stderr
            .contains("checking everything: .kgate.yaml changes the configuration"),
        "{}",
        run.stderr
    );
}

#[test]
fn outside_git_or_with_an_unknown_revision_is_a_usage_error() {
    let tmp = tempfile::tempdir().unwrap();
    write(
        tmp.path(),
        "a.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n",
    );
    let run = check(tmp.path(), &["--changed-since", "main"]);
    assert_eq!(run.code, Some(2));
    assert!(
        run.stderr.contains("needs a git repository"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("panicked"));

    let tmp = repo();
    let run = check(tmp.path(), &["--changed-since", "no-such-branch"]);
    assert_eq!(run.code, Some(2));
    assert!(
        run.stderr.contains("--changed-since no-such-branch"),
        "{}",
        run.stderr
    );
    let run = check(tmp.path(), &["--changed-since", "--upload-pack=evil"]);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    // A bad flag is reported before git is asked anything (git runs beside the walk).
    let run = check(
        tmp.path(),
        &[
            "--kube-version",
            "banana",
            "--changed-since",
            "no-such-branch",
        ],
    );
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(run.stderr.contains("banana"), "{}", run.stderr);
    assert!(!run.stderr.contains("no-such-branch"), "{}", run.stderr);
}

/// The generator's monorepo: one base file changed checks that app's base, its overlays and
/// the clusters that include them (`summary.roots`), nothing else.
#[test]
fn generated_monorepo_one_base_change() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("benches/gen_monorepo.py");
    let status = Command::new("python3")
        .arg(&script)
        .arg(&repo)
        .args(["--apps", "12", "--seed", "5"])
        .stdout(std::process::Stdio::null())
        .status()
        .expect("python3 runs benches/gen_monorepo.py");
    assert!(status.success());
    git(&repo, &["init", "-q"]);
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-qm", "generated"]);
    let app = "apps/svc-0003";
    let file = repo.join(app).join("base/deployment.yaml");
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, format!("{text}# changed\n")).unwrap();

    let run = check(&repo, &["--changed-since", "HEAD", "--explain"]);
    let roots = explained_roots(&run.stderr);
    let overlays: Vec<String> = std::fs::read_dir(repo.join(app).join("overlays"))
        .unwrap()
        .map(|e| {
            format!(
                "{app}/overlays/{}",
                e.unwrap().file_name().to_string_lossy()
            )
        })
        .collect();
    let clusters: Vec<String> = std::fs::read_dir(repo.join("clusters"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|c| {
            let k =
                std::fs::read_to_string(repo.join("clusters").join(c).join("kustomization.yaml"))
                    .unwrap();
            k.contains(&format!("{app}/overlays/"))
        })
        .map(|c| format!("clusters/{c}"))
        .collect();
    let mut want = vec![format!("{app}/base")];
    want.extend(overlays);
    want.extend(clusters);
    want.sort();
    assert_eq!(roots, want, "{}", run.stderr);
    assert_eq!(run.report["summary"]["roots"], want.len());
    // The clusters render every app, but only the changed app's objects are reported.
    let findings = run.report["findings"].as_array().unwrap();
    assert!(!findings.is_empty());
    for f in findings {
        if let Some(name) = f["object"]["name"].as_str() {
            assert!(name.starts_with("svc-0003"), "{f}");
        }
    }
}

/// Findings of `rule` with the names of their objects.
/// The findings of `rule` in `report`.
fn findings_with<'a>(report: &'a serde_json::Value, rule: &str) -> Vec<&'a serde_json::Value> {
    (report["findings"].as_array().unwrap().iter())
        .filter(|f| f["rule"] == rule)
        .collect()
}

fn objects_with(report: &serde_json::Value, rule: &str) -> Vec<String> {
    let mut names: Vec<String> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == rule)
        .map(|f| f["object"]["name"].as_str().unwrap_or("").to_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn only_objects_the_change_can_affect_are_evaluated_and_reported() {
    let tmp = repo();
    let r = tmp.path();
    // A defect that was there before: api runs :latest everywhere.
    write(
        r,
        "apps/api/base/deployment.yaml",
        &DEPLOYMENT.replace("NAME", "api").replace(":1.0", ":latest"),
    );
    git(r, &["commit", "-qam", "api on latest"]);

    // web's base changes: the clusters render api too, but api's finding is not the change's.
    write(
        r,
        "apps/web/base/deployment.yaml",
        &DEPLOYMENT.replace("NAME", "web").replace(":1.0", ":latest"),
    );
    let run = check(r, &["--changed-since", "HEAD", "--explain"]);
    assert_eq!(
        objects_with(&run.report, "image-latest-tag"),
        ["web"],
        "{}",
        run.stderr
    );
    // web's base, its two overlays and web in each of the two clusters: 5 of the 7 objects.
    assert!(
        run.stderr
            .contains("affected objects: 5 of the 7 these roots render"),
        "{}",
        run.stderr
    );
    // Without --changed-since both are reported.
    let all = check(r, &[]);
    assert_eq!(
        objects_with(&all.report, "image-latest-tag"),
        ["api", "web"]
    );
    git(r, &["checkout", "-q", "--", "."]);

    // A change to an overlay's kustomization affects every object of that layer (it could
    // remove what made a finding go away), in the overlay and in the cluster above it, and
    // nothing of the other environment or app.
    write(
        r,
        "apps/web/overlays/dev/kustomization.yaml",
        "namespace: web-dev\nresources: [../../base]\ncomponents: [../../../../components/common]\nimages:\n  - name: registry.example.com/web\n    newTag: latest\n",
    );
    let run = check(r, &["--changed-since", "HEAD", "--explain"]);
    assert_eq!(
        explained_roots(&run.stderr),
        ["apps/web/overlays/dev", "clusters/dev-eu"]
    );
    assert!(
        run.stderr
            .contains("affected objects: 2 of the 3 these roots render"),
        "{}",
        run.stderr
    );
    assert_eq!(
        objects_with(&run.report, "image-latest-tag"),
        ["web"],
        "{}",
        run.stderr
    );
}

/// Root-scope rules declaring `relatesWithin: namespace` see only the affected objects'
/// namespaces with `--changed-since`; what they relate there must still be all there.
#[test]
fn root_scope_rules_still_see_the_affected_objects_namespaces_whole() {
    let tmp = repo();
    let r = tmp.path();
    let service = "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  selector: {app: SELECT}\n  ports: [{port: 80}]\n";
    write(
        r,
        "apps/web/base/service.yaml",
        &service.replace("SELECT", "web"),
    );
    write(
        r,
        "apps/web/base/kustomization.yaml",
        "resources: [deployment.yaml, service.yaml]\n",
    );
    let namespaces = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: web-prod\n  labels: {LABEL}\n---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: api-prod\n  labels: {LABEL}\n";
    write(
        r,
        "clusters/prod-eu/namespaces.yaml",
        &namespaces.replace("LABEL", "a: b"),
    );
    write(
        r,
        "clusters/prod-eu/netpol.yaml",
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: deny, namespace: web-prod}\nspec:\n  podSelector: {}\n  policyTypes: [Ingress, Egress]\n",
    );
    write(
        r,
        "clusters/prod-eu/kustomization.yaml",
        "resources:\n  - ../../apps/web/overlays/prod\n  - ../../apps/api/overlays/prod\n  - namespaces.yaml\n  - netpol.yaml\n",
    );
    git(r, &["add", "-A"]);
    git(r, &["commit", "-qm", "services, namespaces"]);

    // The Service changes, its Deployment (same namespace, unchanged file) still counts.
    write(
        r,
        "apps/web/base/service.yaml",
        &service.replace("SELECT", "web").replace("80", "8080"),
    );
    let run = check(r, &["--changed-since", "HEAD"]);
    assert_eq!(
        objects_with(&run.report, "service-selects-no-pod"),
        Vec::<String>::new()
    );
    // Selecting api's pods, which live in another namespace: the finding is found.
    write(
        r,
        "apps/web/base/service.yaml",
        &service.replace("SELECT", "api"),
    );
    let run = check(r, &["--changed-since", "HEAD"]);
    assert_eq!(objects_with(&run.report, "service-selects-no-pod"), ["web"]);
    let finding = run.report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "service-selects-no-pod")
        .unwrap();
    assert_eq!(
        finding["roots"],
        serde_json::json!(["clusters/dev-eu", "clusters/prod-eu"]),
        "the overlays are bases of the clusters: root-scope findings show in what deploys"
    );
    git(r, &["checkout", "-q", "--", "."]);

    // Both Namespaces change: web-prod's NetworkPolicy (unchanged, namespaced in web-prod)
    // still counts for it; api-prod has none.
    write(
        r,
        "clusters/prod-eu/namespaces.yaml",
        &namespaces.replace("LABEL", "a: c"),
    );
    let run = check(r, &["--changed-since", "HEAD"]);
    assert_eq!(
        objects_with(&run.report, "namespace-without-default-deny"),
        ["api-prod"]
    );
}

#[test]
fn graph_human_json_and_dot() {
    let tmp = repo();
    let r = tmp.path();
    write(
        r,
        "argocd/prod.yaml",
        "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {name: prod-eu, namespace: argocd}\nspec:\n  source:\n    path: clusters/prod-eu\n---\napiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {name: staging, namespace: argocd}\nspec:\n  source:\n    repoURL: https://git.example.com/platform.git\n    path: clusters/staging-eu\n",
    );
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_kgate"))
            .args(args)
            .current_dir(r)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    let (code, human) = run(&["graph"]);
    assert_eq!(code, Some(0));
    assert!(human.contains("Application argocd/prod-eu [entry point]\n  clusters/prod-eu [root, env prod, cluster prod-eu]\n    apps/api/overlays/prod [root, env prod]\n      apps/api/base [root]\n"), "{human}");
    assert!(
        human.contains("components/common [component] (component)"),
        "{human}"
    );
    let (_, json) = run(&["graph", "--format", "json"]);
    let g: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(g["version"], 1);
    assert!(
        g["edges"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["from"] == "clusters/dev-eu"
                && e["to"] == "apps/web/overlays/dev"
                && e["kind"] == "resource"
                && e["line"] == 2)
    );
    let (_, dot) = run(&["graph", "--format", "dot"]);
    assert!(dot.starts_with("digraph kgate {"));

    // The missing cluster directory is a finding at the Application's path line.
    let run = check(r, &[]);
    let dangling: Vec<(String, u64)> = run.report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "dangling-reference")
        .map(|f| {
            (
                f["location"]["path"].as_str().unwrap().to_owned(),
                f["location"]["line"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(dangling, [("argocd/prod.yaml".to_owned(), 14)]);
}

/// A base reached through a symbolic link to its directory: a change to the base's file
/// (which git names by its real path) reaches the overlay that lists the link, in
/// `--changed-since` and in `kgate diff --since`, and the graph names the base, not the link.
#[test]
fn a_change_reached_through_a_directory_link_affects_the_roots_listing_the_link() {
    let tmp = tempfile::tempdir().unwrap();
    let r = tmp.path();
    write(
        r,
        "shared/web/kustomization.yaml",
        "resources: [deployment.yaml]\n",
    );
    write(
        r,
        "shared/web/deployment.yaml",
        &DEPLOYMENT.replace("NAME", "web"),
    );
    std::fs::create_dir_all(r.join("apps")).unwrap();
    std::os::unix::fs::symlink("../shared/web", r.join("apps/web")).unwrap();
    write(
        r,
        "envs/prod/kustomization.yaml",
        "namespace: web-prod\nresources: [../../apps/web]\n",
    );
    write(r, ".kgate.yaml", "environments: [dev, prod]\n");
    commit_all(r);

    let graph = common::kgate(r, &["graph", "."]);
    let graph = String::from_utf8_lossy(&graph.stdout);
    assert!(
        graph.contains("envs/prod [root]\n  shared/web [root]\n"),
        "{graph}"
    );

    write(
        r,
        "shared/web/deployment.yaml",
        &DEPLOYMENT.replace("NAME", "web").replace(":1.0", ":latest"),
    );
    let run = check(r, &["--changed-since", "HEAD", "--explain"]);
    assert_eq!(
        explained_roots(&run.stderr),
        ["envs/prod", "shared/web"],
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("seen through symbolic links at: 1 paths\n  apps/web/deployment.yaml\n"),
        "{}",
        run.stderr
    );
    let latest = findings_with(&run.report, "image-latest-tag");
    assert_eq!(latest.len(), 1, "{}", run.report);
    assert_eq!(
        latest[0]["roots"],
        serde_json::json!(["envs/prod", "shared/web"])
    );

    let out = common::kgate(r, &["diff", "--since", "HEAD", "-f", "json"]);
    let diff: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let roots: Vec<&str> = diff["roots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|root| root["root"].as_str().unwrap())
        .collect();
    assert_eq!(roots, ["envs/prod", "shared/web"], "{diff}");
    assert_eq!(
        diff["roots"][0]["objects"][0]["fields"][0]["after"],
        "registry.example.com/web:latest"
    );
}

/// A custom resource is validated against its CustomResourceDefinition though the file that
/// defines it is unchanged (`--changed-since`) or in another shard (`--shard`): narrowing
/// chooses what is checked, not what is defined. (It was a `schema-missing` note: the
/// pre-push check let the CI gate's error through.)
#[test]
fn definitions_in_files_left_out_still_apply() {
    let tmp = tempfile::tempdir().unwrap();
    let r = tmp.path();
    write(
        r,
        "crds/widget.yaml",
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: widgets.example.com\nspec:\n  group: example.com\n  names: {kind: Widget, plural: widgets, singular: widget}\n  scope: Namespaced\n  versions:\n  - name: v1\n    served: true\n    storage: true\n    schema:\n      openAPIV3Schema:\n        type: object\n        properties:\n          spec:\n            type: object\n            properties:\n              size: {type: integer}\n",
    );
    let widget = |size: &str| {
        format!(
            "apiVersion: example.com/v1\nkind: Widget\nmetadata: {{name: w, namespace: a}}\nspec: {{size: {size}}}\n"
        )
    };
    write(r, "app/widget.yaml", &widget("1"));
    write(r, "app/kustomization.yaml", "resources: [widget.yaml]\n");
    commit_all(r);
    write(r, "app/widget.yaml", &widget("big"));
    let rules = |report: &serde_json::Value| -> Vec<String> {
        (report["findings"].as_array().unwrap().iter())
            .map(|f| f["rule"].as_str().unwrap().to_owned())
            .collect()
    };
    let run = check(r, &["--changed-since", "HEAD"]);
    assert_eq!(rules(&run.report), ["schema-invalid"], "{}", run.report);
    // The shard that renders the root reports the error too (the other checks the file on
    // its own, without a root).
    let mut roots = Vec::new();
    for shard in ["1/2", "2/2"] {
        let report = check(r, &["--shard", shard]).report;
        assert!(
            rules(&report).iter().all(|rule| rule == "schema-invalid"),
            "{report}"
        );
        for f in report["findings"].as_array().unwrap() {
            roots.extend(f["roots"].as_array().unwrap().iter().cloned());
        }
    }
    assert_eq!(roots, [serde_json::json!("app")]);
}
