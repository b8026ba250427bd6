use super::output::{documents, map_lines};
use super::*;

fn write(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

#[test]
fn the_stream_splits_at_document_markers_and_keeps_each_source() {
    let docs = documents(
        "---\n# Source: web/templates/sa.yaml\nkind: ServiceAccount\n---\n# Source: web/templates/empty.yaml\n---\n# Source: web/templates/d.yaml\nkind: Deployment\n",
    );
    let sources: Vec<_> = docs.iter().map(|d| d.source.as_deref().unwrap()).collect();
    assert_eq!(sources, ["web/templates/sa.yaml", "web/templates/d.yaml"]);
}

#[test]
fn rendered_lines_map_to_the_template_lines_that_wrote_them() {
    let template = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\nspec:\n  replicas: {{ .Values.replicas }}\n  template:\n    spec:\n      containers:\n        - name: app\n          resources:\n            {{- toYaml .Values.resources | nindent 12 }}\n";
    let rendered = "# Source: web/templates/d.yaml\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: r\nspec:\n  replicas: 3\n  template:\n    spec:\n      containers:\n        - name: app\n          resources:\n            limits:\n              cpu: 1\n";
    let lines: Vec<u32> = map_lines(rendered, template)
        .iter()
        .map(|p| p.line)
        .collect();
    // replicas (rendered line 7) at template line 6; the toYaml block at line 12.
    assert_eq!(lines[6], 6);
    assert_eq!(lines[12], 12);
    assert_eq!(lines[13], 12);
}

#[test]
fn a_dependency_not_vendored_is_named_with_how_to_vendor_it() {
    let tmp = tempfile::tempdir().unwrap();
    let chart = tmp.path().join("app");
    write(
        &chart,
        "Chart.yaml",
        "apiVersion: v2\nname: app\nversion: 0.1.0\ndependencies:\n- name: redis\n  version: 1.2.3\n  repository: https://charts.example.com\n- name: common\n  version: 2.0.0\n",
    );
    write(&chart, "charts/common-2.0.0.tgz", "");
    let err = check_dependencies(&chart, "app").unwrap_err();
    assert_eq!(
        err,
        HelmError::MissingDependency {
            chart: "app".into(),
            name: "redis".into(),
            repo: " (from https://charts.example.com)".into()
        }
    );
    assert!(
        err.to_string().contains("helm dependency build app"),
        "{err}"
    );
    write(&chart, "charts/redis/Chart.yaml", "name: redis\n");
    assert_eq!(check_dependencies(&chart, "app"), Ok(()));
}

#[test]
fn without_helm_a_chart_is_not_rendered_and_says_so() {
    let helm = Helm::new(HelmSettings::default());
    let err = helm
        .template(&Template::default(), "charts/web")
        .unwrap_err();
    assert_eq!(
        err,
        HelmError::NotInstalled {
            chart: "charts/web".into()
        }
    );
}

#[test]
fn a_chart_repository_needs_the_network() {
    let helm = Helm::new(HelmSettings {
        binary: Some("helm".into()),
        ..HelmSettings::default()
    });
    let t = Template {
        chart: "redis".into(),
        repo: Some("https://charts.example.com".into()),
        ..Template::default()
    };
    assert!(matches!(
        helm.template(&t, "redis"),
        Err(HelmError::NeedsNetwork { .. })
    ));
}

#[test]
fn the_same_chart_and_values_render_once_whatever_the_values_file_is_called() {
    // A fake helm that counts its runs.
    let tmp = tempfile::tempdir().unwrap();
    let log = tmp.path().join("runs");
    let fake = tmp.path().join("helm");
    write(
        tmp.path(),
        "helm",
        &format!(
            "#!/bin/sh\necho run >> {}\necho 'kind: ConfigMap'\n",
            log.display()
        ),
    );
    std::process::Command::new("chmod")
        .arg("+x")
        .arg(&fake)
        .status()
        .unwrap();
    let chart = tmp.path().join("chart");
    write(
        &chart,
        "Chart.yaml",
        "apiVersion: v2\nname: c\nversion: 0.1.0\n",
    );
    write(tmp.path(), "dev/values.yaml", "a: 1\n");
    write(tmp.path(), "staging/values.yaml", "a: 1\n");
    write(tmp.path(), "prod/values.yaml", "a: 2\n");
    let helm = Helm::new(HelmSettings {
        binary: Some(fake),
        ..HelmSettings::default()
    });
    for env in ["dev", "staging", "prod", "dev"] {
        let t = Template {
            chart: chart.clone(),
            release: "r".into(),
            values_files: vec![tmp.path().join(env).join("values.yaml")],
            ..Template::default()
        };
        helm.template(&t, "chart").unwrap();
    }
    assert_eq!(helm.runs(), 2);
    assert_eq!(std::fs::read_to_string(log).unwrap().lines().count(), 2);
}
