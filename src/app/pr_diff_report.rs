//! The reports of `kgate diff --since REF`: human (a unified diff per object, coloured on a
//! terminal), markdown for a pull-request comment (collapsible per environment, capped in
//! size) and a self-contained HTML page. JSON is [`PrDiff`] serialized.

use std::collections::BTreeMap;

use serde_json::Value;

use super::pr_diff::{Change, ObjectDiff, PrDiff, RootDiff};
use crate::model::{Finding, Severity};

/// GitHub refuses comments longer than this many characters.
pub const GITHUB_COMMENT_LIMIT: usize = 65_536;

/// One line of an object's diff: `+` added, `-` removed, `~` the object header of a
/// modified object, ` ` context (a field's pointer).
pub type Line = (char, String);

/// A scalar as YAML shows it: plain when unambiguous, JSON-quoted otherwise.
fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => {
            let plain = !s.is_empty()
                && !s.contains(['\n', ':', '#', '"', '\''])
                && !s.starts_with([' ', '-', '[', '{', '*', '&', '!', '|', '>', '@', '`'])
                && !s.ends_with(' ')
                && serde_json::from_str::<Value>(s).is_err()
                && !matches!(s.as_str(), "null" | "~" | "yes" | "no" | "on" | "off");
            if plain {
                s.clone()
            } else {
                Value::String(s.clone()).to_string()
            }
        }
        Value::Object(m) if m.is_empty() => "{}".to_owned(),
        Value::Array(a) if a.is_empty() => "[]".to_owned(),
        other => other.to_string(),
    }
}

fn is_block(v: &Value) -> bool {
    match v {
        Value::Object(m) => !m.is_empty(),
        Value::Array(a) => !a.is_empty(),
        _ => false,
    }
}

/// `v` as block YAML lines, indented by `indent` spaces.
pub fn yaml_lines(v: &Value, indent: usize, out: &mut Vec<String>) {
    let pad = " ".repeat(indent);
    match v {
        Value::Object(m) if !m.is_empty() => {
            for (k, x) in m {
                let key = scalar(&Value::String(k.clone()));
                if is_block(x) {
                    out.push(format!("{pad}{key}:"));
                    let step = if x.is_array() { 0 } else { 2 };
                    yaml_lines(x, indent + step, out);
                } else {
                    out.push(format!("{pad}{key}: {}", scalar(x)));
                }
            }
        }
        Value::Array(a) if !a.is_empty() => {
            for x in a {
                let mut item = Vec::new();
                yaml_lines(x, indent + 2, &mut item);
                if let Some(first) = item.first_mut() {
                    *first = format!("{pad}- {}", first.trim_start());
                }
                out.extend(item);
            }
        }
        other => out.push(format!("{pad}{}", scalar(other))),
    }
}

/// The diff lines of one object.
pub fn object_lines(o: &ObjectDiff) -> Vec<Line> {
    let header = format!("{} {}", o.api_version, o.title());
    let mut out = Vec::new();
    match o.change {
        Change::Added | Change::Removed => {
            let sign = if o.change == Change::Added { '+' } else { '-' };
            out.push((sign, format!("{header} ({})", o.change.as_str())));
            let mut body = Vec::new();
            if let Some(v) = &o.object {
                yaml_lines(v, 2, &mut body);
            }
            out.extend(body.into_iter().map(|l| (sign, l)));
        }
        Change::Modified => {
            out.push(('~', format!("{header} (modified)")));
            for f in &o.fields {
                out.push((' ', format!("  {}", f.pointer)));
                for (sign, v) in [('-', &f.before), ('+', &f.after)] {
                    let mut lines = Vec::new();
                    match v {
                        Some(v) => yaml_lines(v, 4, &mut lines),
                        None => lines.push("    (absent)".to_owned()),
                    }
                    out.extend(lines.into_iter().map(|l| (sign, l)));
                }
            }
        }
    }
    out
}

fn root_title(r: &RootDiff) -> String {
    let mut t = r.root.clone();
    let mut tags = Vec::new();
    if let Some(e) = &r.environment {
        tags.push(format!("environment {e}"));
    }
    if let Some(c) = &r.cluster {
        tags.push(format!("cluster {c}"));
    }
    if !tags.is_empty() {
        t.push_str(&format!(" ({})", tags.join(", ")));
    }
    t
}

/// `1 root`, `2 roots`.
fn plural(n: usize, what: &str) -> String {
    format!("{n} {what}{}", if n == 1 { "" } else { "s" })
}

/// `2 errors, 1 warning`.
fn severity_counts(fs: &[Finding]) -> String {
    let parts: Vec<String> = Severity::ALL
        .iter()
        .filter_map(|s| {
            let n = fs.iter().filter(|f| f.severity == *s).count();
            (n > 0).then(|| format!("{n} {}{}", s.as_str(), if n == 1 { "" } else { "s" }))
        })
        .collect();
    if parts.is_empty() {
        "none".to_owned()
    } else {
        parts.join(", ")
    }
}

fn object_count(d: &PrDiff) -> usize {
    d.roots.iter().map(|r| r.objects.len()).sum()
}

fn summary_line(d: &PrDiff) -> String {
    format!(
        "{} change ({}); findings added: {}; resolved: {}",
        plural(d.roots.len(), "root"),
        plural(object_count(d), "object change"),
        severity_counts(&d.findings.added),
        severity_counts(&d.findings.resolved)
    )
}

fn finding_line(f: &Finding) -> String {
    format!(
        "{}:{}:{}: {} [{}] {}",
        f.location.path, f.location.line, f.location.column, f.severity, f.rule, f.message
    )
}

/// The report for a terminal; `colour` adds ANSI colours (red removed, green added).
pub fn to_human(d: &PrDiff, colour: bool) -> String {
    let paint = |code: &str, s: &str| {
        if colour {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_owned()
        }
    };
    let mut s = String::new();
    for r in &d.roots {
        s.push_str(&paint("1", &format!("=== {}", root_title(r))));
        s.push('\n');
        for (side, e) in [("at REF", &r.errors.before), ("now", &r.errors.after)] {
            if let Some(e) = e {
                s.push_str(&format!("  does not render {side}: {e}\n"));
            }
        }
        for o in &r.objects {
            for (sign, line) in object_lines(o) {
                let text = format!("{sign} {line}");
                let painted = match sign {
                    '+' => paint("32", &text),
                    '-' => paint("31", &text),
                    '~' => paint("33", &text),
                    _ => paint("36", &text),
                };
                s.push_str(&painted);
                s.push('\n');
            }
        }
        s.push('\n');
    }
    for (what, fs) in [
        ("added", &d.findings.added),
        ("resolved", &d.findings.resolved),
    ] {
        if !fs.is_empty() {
            s.push_str(&format!("findings {what}:\n"));
            for f in fs {
                s.push_str(&format!("  {}\n", finding_line(f)));
            }
        }
    }
    s.push_str(&format!(
        "kgate diff --since {}: {}\n",
        d.reference,
        summary_line(d)
    ));
    s
}

/// Roots by environment, those without one last.
fn by_environment(d: &PrDiff) -> Vec<(String, Vec<&RootDiff>)> {
    let mut groups: BTreeMap<(bool, String), Vec<&RootDiff>> = BTreeMap::new();
    for r in &d.roots {
        let key = match &r.environment {
            Some(e) => (false, e.clone()),
            None => (true, "no environment".to_owned()),
        };
        groups.entry(key).or_default().push(r);
    }
    groups.into_iter().map(|((_, e), rs)| (e, rs)).collect()
}

fn md_escape(s: &str) -> String {
    s.replace('|', "\\|")
        .replace('\n', " ")
        .replace('<', "&lt;")
}

fn md_root(r: &RootDiff) -> String {
    let mut s = format!("**`{}`**", r.root);
    if let Some(c) = &r.cluster {
        s.push_str(&format!(" · cluster `{c}`"));
    }
    s.push_str(&format!(
        " · {}\n\n",
        plural(r.objects.len(), "object change")
    ));
    for (side, e) in [
        ("at the base revision", &r.errors.before),
        ("now", &r.errors.after),
    ] {
        if let Some(e) = e {
            s.push_str(&format!("> does not render {side}: `{}`\n\n", md_escape(e)));
        }
    }
    if !r.objects.is_empty() {
        s.push_str("````diff\n");
        for o in &r.objects {
            for (sign, line) in object_lines(o) {
                s.push_str(&format!("{sign} {line}\n"));
            }
        }
        s.push_str("````\n\n");
    }
    s
}

fn md_findings(d: &PrDiff) -> String {
    let mut s = String::new();
    for (what, fs) in [
        ("added", &d.findings.added),
        ("resolved", &d.findings.resolved),
    ] {
        if fs.is_empty() {
            continue;
        }
        s.push_str(&format!(
            "<details><summary>Findings {what}: {}</summary>\n\n| severity | rule | where | message |\n|---|---|---|---|\n",
            severity_counts(fs)
        ));
        for f in fs {
            s.push_str(&format!(
                "| {} | `{}` | `{}:{}` | {} |\n",
                f.severity,
                f.rule,
                f.location.path,
                f.location.line,
                md_escape(&f.message)
            ));
        }
        s.push_str("\n</details>\n\n");
    }
    s
}

/// The pull-request comment: a summary, the findings added and resolved, then one collapsible
/// section per environment with each root's object diffs. At most `cap` characters: roots
/// that do not fit are left out and counted in a closing note.
pub fn to_markdown(d: &PrDiff, cap: usize) -> String {
    let mut s = format!(
        "### kgate diff since `{}`\n\n**{}** change · findings added: **{}** · resolved: **{}**\n\n",
        d.reference,
        plural(d.roots.len(), "root"),
        severity_counts(&d.findings.added),
        severity_counts(&d.findings.resolved)
    );
    if d.roots.is_empty() {
        s.push_str("No rendered object changes.\n\n");
    }
    s.push_str(&md_findings(d));
    // Room for the closing tags and the note of what was cut.
    let budget = cap.saturating_sub(400);
    let (mut cut_roots, mut cut_objects) = (0, 0);
    for (env, roots) in by_environment(d) {
        let objects: usize = roots.iter().map(|r| r.objects.len()).sum();
        let open = format!(
            "<details><summary><b>{env}</b>: {}, {}</summary>\n\n",
            plural(roots.len(), "root"),
            plural(objects, "object change")
        );
        let close = "</details>\n\n";
        if cut_roots > 0 || s.len() + open.len() + close.len() > budget {
            cut_roots += roots.len();
            cut_objects += objects;
            continue;
        }
        s.push_str(&open);
        for r in roots {
            let block = md_root(r);
            if cut_roots > 0 || s.len() + block.len() + close.len() > budget {
                cut_roots += 1;
                cut_objects += r.objects.len();
            } else {
                s.push_str(&block);
            }
        }
        s.push_str(close);
    }
    if cut_roots > 0 {
        s.push_str(&format!(
            "> Cut to fit a comment: {cut_roots} more roots ({cut_objects} object changes) are not shown. Run `kgate diff --since {}` for all of them.\n",
            d.reference
        ));
    }
    s
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

const HTML_STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2em}pre{background:#f6f8fa;padding:1em;overflow:auto}.a{color:#116329;background:#dafbe1}.r{color:#82071e;background:#ffebe9}.m{color:#9a6700;font-weight:bold}.p{color:#0550ae}table{border-collapse:collapse}td,th{border:1px solid #d0d7de;padding:.3em .6em;text-align:left}";

/// A self-contained HTML page (no scripts, no external resources) with the same content as
/// the markdown, uncapped.
pub fn to_html(d: &PrDiff) -> String {
    let title = format!("kgate diff since {}", d.reference);
    let mut s = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title><style>{HTML_STYLE}</style></head><body>\n<h1>{}</h1>\n<p>{}</p>\n",
        html_escape(&title),
        html_escape(&title),
        html_escape(&summary_line(d))
    );
    for (what, fs) in [
        ("added", &d.findings.added),
        ("resolved", &d.findings.resolved),
    ] {
        if fs.is_empty() {
            continue;
        }
        s.push_str(&format!(
            "<h2>Findings {what}</h2>\n<table><tr><th>severity</th><th>rule</th><th>where</th><th>message</th></tr>\n"
        ));
        for f in fs {
            s.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}:{}</td><td>{}</td></tr>\n",
                f.severity,
                html_escape(&f.rule),
                html_escape(&f.location.path),
                f.location.line,
                html_escape(&f.message)
            ));
        }
        s.push_str("</table>\n");
    }
    for (env, roots) in by_environment(d) {
        s.push_str(&format!(
            "<details open><summary><b>{}</b>: {} roots</summary>\n",
            html_escape(&env),
            roots.len()
        ));
        for r in roots {
            s.push_str(&format!("<h3>{}</h3>\n", html_escape(&root_title(r))));
            for (side, e) in [
                ("at the base revision", &r.errors.before),
                ("now", &r.errors.after),
            ] {
                if let Some(e) = e {
                    s.push_str(&format!(
                        "<p>does not render {side}: <code>{}</code></p>\n",
                        html_escape(e)
                    ));
                }
            }
            s.push_str("<pre>");
            for o in &r.objects {
                for (sign, line) in object_lines(o) {
                    let class = match sign {
                        '+' => "a",
                        '-' => "r",
                        '~' => "m",
                        _ => "p",
                    };
                    let text = html_escape(&format!("{sign} {line}"));
                    s.push_str(&format!("<span class=\"{class}\">{text}</span>\n"));
                }
            }
            s.push_str("</pre>\n");
        }
        s.push_str("</details>\n");
    }
    s.push_str("</body></html>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::pr_diff::{FieldChange, FindingsDiff, SideErrors};
    use crate::model::{Location, ObjectRef};
    use crate::yaml::Pos;
    use serde_json::json;

    fn modified(name: &str, pointer: &str, before: Value, after: Value) -> ObjectDiff {
        ObjectDiff {
            api_version: "apps/v1".to_owned(),
            kind: "Deployment".to_owned(),
            namespace: Some("shop-prod".to_owned()),
            name: name.to_owned(),
            change: Change::Modified,
            fields: vec![FieldChange {
                pointer: pointer.to_owned(),
                before: Some(before),
                after: Some(after),
            }],
            object: None,
        }
    }

    fn root(
        root: &str,
        env: Option<&str>,
        cluster: Option<&str>,
        objects: Vec<ObjectDiff>,
    ) -> RootDiff {
        RootDiff {
            root: root.to_owned(),
            environment: env.map(str::to_owned),
            cluster: cluster.map(str::to_owned),
            objects,
            errors: SideErrors::default(),
        }
    }

    fn sample() -> PrDiff {
        let replicas = || modified("web", "/spec/replicas", json!(3), json!(4));
        let added = ObjectDiff {
            api_version: "v1".to_owned(),
            kind: "Secret".to_owned(),
            namespace: Some("shop-dev".to_owned()),
            name: "db-5g2k8hd7mt".to_owned(),
            change: Change::Added,
            fields: Vec::new(),
            object: Some(
                json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db-5g2k8hd7mt"}, "data": {"password": "(hidden)"}}),
            ),
        };
        let mut broken = root(
            "apps/web/overlays/staging",
            Some("staging"),
            None,
            Vec::new(),
        );
        broken.errors.after = Some(
            "apps/web/overlays/staging/kustomization.yaml:3:3: missing.yaml: no such file"
                .to_owned(),
        );
        let finding = Finding {
            rule: "no-privileged".to_owned(),
            severity: Severity::Error,
            message: "container `web` runs privileged | as root".to_owned(),
            help: String::new(),
            location: Location::new(
                "apps/web/base/deployment.yaml",
                Pos {
                    line: 21,
                    column: 11,
                },
            ),
            object: Some(ObjectRef {
                api_version: "apps/v1".to_owned(),
                kind: "Deployment".to_owned(),
                namespace: None,
                name: Some("web".to_owned()),
            }),
            pointer: None,
            roots: vec!["apps/web/overlays/prod".to_owned()],
            hide_source: false,
        };
        PrDiff {
            version: 1,
            reference: "origin/main".to_owned(),
            roots: vec![
                root("apps/web/overlays/dev", Some("dev"), None, vec![added]),
                broken,
                root(
                    "apps/web/overlays/prod",
                    Some("prod"),
                    None,
                    vec![replicas()],
                ),
                root(
                    "clusters/prod-eu",
                    Some("prod"),
                    Some("prod-eu"),
                    vec![replicas()],
                ),
                root(
                    "apps/web/base",
                    None,
                    None,
                    vec![modified(
                        "web",
                        "/spec/template/spec/containers/0/securityContext",
                        json!({"runAsNonRoot": true}),
                        json!({"privileged": true}),
                    )],
                ),
            ],
            findings: FindingsDiff {
                added: vec![finding],
                resolved: Vec::new(),
            },
            timings: Vec::new(),
            render_cache: Vec::new(),
        }
    }

    #[test]
    fn markdown_comment() {
        insta::assert_snapshot!(to_markdown(&sample(), GITHUB_COMMENT_LIMIT));
    }

    #[test]
    fn markdown_is_capped_with_a_note_of_what_was_cut() {
        let mut d = sample();
        let big = json!("x".repeat(2_000));
        d.roots = (0..100)
            .map(|i| {
                let env = ["dev", "prod"][i % 2];
                root(
                    &format!("apps/app-{i:03}/overlays/{env}"),
                    Some(env),
                    None,
                    vec![modified("web", "/spec/x", big.clone(), json!(1))],
                )
            })
            .collect();
        let md = to_markdown(&d, GITHUB_COMMENT_LIMIT);
        assert!(md.chars().count() <= GITHUB_COMMENT_LIMIT, "{}", md.len());
        assert!(
            md.contains("more roots (") && md.contains("are not shown"),
            "{md}"
        );
        assert_eq!(
            md.matches("<details>").count(),
            md.matches("</details>").count()
        );
        assert_eq!(
            md.matches("````diff").count() * 2,
            md.matches("````").count()
        );
        let shown = md.matches("**`apps/app-").count();
        assert!(shown > 20 && shown < 100, "{shown}");
        assert!(md.contains(&format!("{} more roots", 100 - shown)));
        // Uncapped, everything is there.
        assert!(!to_markdown(&d, usize::MAX).contains("not shown"));
    }

    #[test]
    fn html_is_one_self_contained_page() {
        let html = to_html(&sample());
        assert!(html.starts_with("<!DOCTYPE html>") && html.ends_with("</html>\n"));
        assert!(!html.contains("<script") && !html.contains("http"));
        assert!(html.contains("runs privileged | as root"));
    }

    #[test]
    fn yaml_lines_are_block_yaml() {
        let mut out = Vec::new();
        yaml_lines(
            &json!({"a": {"b": [1, {"c": "x: y"}]}, "d": "", "e": []}),
            0,
            &mut out,
        );
        assert_eq!(
            out,
            ["a:", "  b:", "  - 1", "  - c: \"x: y\"", "d: \"\"", "e: []"]
        );
    }
}
