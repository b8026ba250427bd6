//! `helmCharts` and `helmGlobals`: kustomize's HelmChartInflationGenerator (what
//! `kubectl kustomize --enable-helm` runs), through [`crate::render::helm`].
//!
//! As kustomize v5.5 does: the chart is `CHARTHOME/NAME` (`CHARTHOME/NAME-VERSION/NAME` when
//! `repo` and `version` are set), `chartHome` defaulting to `charts` beside the
//! kustomization; the values file defaults to the chart's `values.yaml`; `valuesInline` is
//! merged over it (`valuesMerge: override`, the default), under it (`merge`) or replaces it
//! (`replace`), then `additionalValuesFiles` follow. Two differences, both on purpose: a chart
//! without `releaseName` is rendered as `release-name` (kustomize asks Helm to generate a
//! random name, which would make findings differ between runs), and a chart that is not in
//! the repository is pulled only when `helm.allowNetwork` is set.

use std::path::{Path, PathBuf};

use super::RenderError;
use super::engine::Renderer;
use super::kustomization::Kustomization;
use super::resource::{Resource, add_unique};
use crate::render::helm::values::ValuesLayer;
use crate::render::helm::{HelmError, Template, output};
use crate::yaml::{Node, Pos, Value};

fn string(n: &Node, key: &str) -> Option<String> {
    n.get(key)
        .and_then(Node::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

fn flag(n: &Node, key: &str) -> bool {
    matches!(n.get(key).map(|v| &v.value), Some(Value::Bool(true)))
}

fn strings(n: &Node, key: &str) -> Vec<(String, Pos)> {
    match n.get(key).map(|v| &v.value) {
        Some(Value::Seq(items)) => items
            .iter()
            .filter_map(|i| i.as_str().map(|s| (s.to_owned(), i.start)))
            .collect(),
        _ => Vec::new(),
    }
}

/// Recursive map merge (kyaml merge2 without a schema): maps merge, `null` removes, anything
/// else in `src` replaces.
fn merge(dest: &mut serde_json::Value, src: &serde_json::Value) {
    match (dest, src) {
        (serde_json::Value::Object(d), serde_json::Value::Object(s)) => {
            for (k, v) in s {
                if v.is_null() {
                    d.remove(k);
                } else if let Some(existing) = d.get_mut(k) {
                    merge(existing, v);
                } else {
                    d.insert(k.clone(), v.clone());
                }
            }
        }
        (d, s) => *d = s.clone(),
    }
}

impl Renderer {
    /// Inflates every `helmCharts` entry and adds its objects.
    pub(super) fn inflate_helm_charts(
        &self,
        k: &Kustomization,
        dir: &Path,
        ra: &mut Vec<Resource>,
    ) -> Result<(), RenderError> {
        if !k.helm_charts.is_empty() {
            // Helm reads the chart itself, out of the recording's sight.
            super::memo::note_volatile();
        }
        for chart in &k.helm_charts {
            for r in self.inflate(k, dir, chart)? {
                add_unique(ra, r, &k.file, chart.start)?;
            }
        }
        Ok(())
    }

    fn inflate(
        &self,
        k: &Kustomization,
        dir: &Path,
        c: &Node,
    ) -> Result<Vec<Resource>, RenderError> {
        let err = |m: String| RenderError::at(&k.file, c.start, m);
        let Some(name) = string(c, "name") else {
            return Err(err("chart name cannot be empty".to_owned()));
        };
        let home = k
            .helm_globals
            .as_ref()
            .and_then(|g| string(g, "chartHome"))
            .unwrap_or_else(|| "charts".to_owned());
        let (repo, version) = (string(c, "repo"), string(c, "version"));
        let mut abs_home = dir.join(&home);
        if let (Some(_), Some(v)) = (&repo, &version) {
            abs_home = abs_home.join(format!("{name}-{v}"));
        }
        let chart_dir = abs_home.join(&name);
        let local = chart_dir.is_dir();
        if !local && repo.is_none() {
            return Err(err(format!(
                "no repo specified for pull, no chart found at '{}'",
                chart_dir.display()
            )));
        }
        let allow_network = self
            .helm
            .as_ref()
            .is_some_and(|h| h.settings().allow_network);
        if let (false, false, Some(repo)) = (local, allow_network, &repo) {
            return Err(helm_error(
                k,
                c,
                HelmError::NeedsNetwork {
                    chart: name.clone(),
                    repo: repo.clone(),
                },
            ));
        }
        let template = self.chart_template(k, dir, c, &name, &chart_dir, local, repo, version)?;
        let helm = self.helm.as_ref().ok_or_else(|| missing(k, c, &name))?;
        let label = crate::source::relative(dir, &chart_dir);
        let stream = helm
            .template(&template, &label)
            .map_err(|e| helm_error(k, c, e))?;
        let chart_dir = std::fs::canonicalize(&chart_dir).unwrap_or(chart_dir);
        let mut layers: Vec<ValuesLayer> = ValuesLayer::read(chart_dir.join("values.yaml"))
            .into_iter()
            .collect();
        layers.extend(template.layers.iter().cloned());
        output::objects(&stream, &chart_dir, &layers, &|f| self.file_id(f))
    }

    /// The `helm template` arguments of one entry, values merged as kustomize merges them.
    #[allow(clippy::too_many_arguments)]
    fn chart_template(
        &self,
        k: &Kustomization,
        dir: &Path,
        c: &Node,
        name: &str,
        chart_dir: &Path,
        local: bool,
        repo: Option<String>,
        version: Option<String>,
    ) -> Result<Template, RenderError> {
        let values_file: PathBuf = match c.get("valuesFile").and_then(Node::as_str) {
            Some(v) if !v.is_empty() => {
                self.restricted_file(k, dir, v, c.get("valuesFile").map_or(c.start, |n| n.start))?
            }
            _ => chart_dir.join("values.yaml"),
        };
        let mut t = Template {
            // Canonical: the same chart reached from two kustomizations is one cache entry.
            chart: if local {
                std::fs::canonicalize(chart_dir).unwrap_or_else(|_| chart_dir.to_owned())
            } else {
                PathBuf::from(name)
            },
            repo: if local { None } else { repo },
            version: if local { None } else { version },
            release: string(c, "releaseName").unwrap_or_else(|| "release-name".to_owned()),
            namespace: string(c, "namespace"),
            name_template: string(c, "nameTemplate"),
            include_crds: flag(c, "includeCRDs"),
            skip_tests: flag(c, "skipTests"),
            skip_hooks: flag(c, "skipHooks"),
            kube_version: string(c, "kubeVersion"),
            api_versions: strings(c, "apiVersions").into_iter().map(|s| s.0).collect(),
            ..Template::default()
        };
        let inline = c
            .get("valuesInline")
            .filter(|v| matches!(&v.value, Value::Map(m) if !m.is_empty()));
        let file_layer = || ValuesLayer::read(values_file.clone());
        let inline_layer = |n: &Node| ValuesLayer {
            file: k.file.clone(),
            root: Some(n.clone()),
        };
        // Where findings point: the layers in the precedence the merge gives them.
        match (inline, string(c, "valuesMerge").as_deref()) {
            (Some(n), Some("replace")) => t.layers.push(inline_layer(n)),
            (Some(n), Some("merge")) => {
                t.layers.push(inline_layer(n));
                t.layers.extend(file_layer());
            }
            (Some(n), _) => {
                t.layers.extend(file_layer());
                t.layers.push(inline_layer(n));
            }
            (None, _) => t.layers.extend(file_layer()),
        }
        match inline {
            Some(inline) if local || values_file.is_file() => {
                t.values_texts
                    .push(self.merged_values(k, c, inline, &values_file)?);
            }
            Some(inline) => t.values_texts.push(inline.to_json().to_string()),
            None if values_file.is_file() => t.values_files.push(values_file),
            None if local => {
                return Err(RenderError::at(
                    &k.file,
                    c.start,
                    format!("open {}: no such file or directory", values_file.display()),
                ));
            }
            None => {}
        }
        for (f, pos) in strings(c, "additionalValuesFiles") {
            let file = self.restricted_file(k, dir, &f, pos).map_err(|e| {
                RenderError::at(
                    &k.file,
                    pos,
                    format!("could not load additionalValuesFile: {}", e.message),
                )
            })?;
            // After the (merged) values file, as kustomize passes them.
            t.layers.extend(ValuesLayer::read(file.clone()));
            // Through the file table: bounded by `limits.maxFileSize`, read once.
            t.values_texts.push(
                self.read_text(&file)
                    .map_err(|e| RenderError::at(&k.file, pos, format!("{f}: {e}")))?
                    .to_string(),
            );
        }
        Ok(t)
    }

    /// `valuesInline` with the values file, per `valuesMerge`, as JSON (YAML Helm reads).
    fn merged_values(
        &self,
        k: &Kustomization,
        c: &Node,
        inline: &Node,
        values_file: &Path,
    ) -> Result<String, RenderError> {
        let inline = inline.to_json();
        let mode = string(c, "valuesMerge").unwrap_or_else(|| "override".to_owned());
        if mode == "replace" {
            return Ok(inline.to_string());
        }
        if mode != "override" && mode != "merge" {
            return Err(RenderError::at(
                &k.file,
                c.start,
                "valuesMerge must be one of [merge override replace]",
            ));
        }
        let text = self.read_text(values_file).map_err(|e| {
            RenderError::at(&k.file, c.start, format!("{}: {e}", values_file.display()))
        })?;
        let (docs, e) = crate::yaml::parse_documents(&text, crate::yaml::LoadLimits::default());
        if let Some(e) = e {
            return Err(RenderError::at(values_file, e.pos, e.to_string()));
        }
        let mut file = docs
            .first()
            .map(|d| d.root.to_json())
            .filter(|j| j.is_object())
            .unwrap_or_else(|| serde_json::json!({}));
        Ok(if mode == "override" {
            merge(&mut file, &inline);
            file.to_string()
        } else {
            let mut out = inline;
            merge(&mut out, &file);
            out.to_string()
        })
    }
}

fn missing(k: &Kustomization, c: &Node, name: &str) -> RenderError {
    helm_error(
        k,
        c,
        HelmError::NotInstalled {
            chart: name.to_owned(),
        },
    )
}

/// A Helm failure as a render error at the `helmCharts` entry; Helm missing and a chart that
/// needs the network are `render-unavailable`.
fn helm_error(k: &Kustomization, c: &Node, e: HelmError) -> RenderError {
    let unavailable = matches!(
        e,
        HelmError::NotInstalled { .. } | HelmError::NeedsNetwork { .. }
    );
    let mut err = RenderError::at(&k.file, c.start, e.to_string());
    err.unavailable = unavailable;
    err
}

#[cfg(test)]
mod tests {
    use super::merge;
    use serde_json::json;

    #[test]
    fn inline_values_merge_over_the_file_and_null_removes() {
        let mut file = json!({"a": {"b": 1, "c": 2}, "l": [1, 2], "x": 1});
        merge(&mut file, &json!({"a": {"b": 3}, "l": [9], "x": null}));
        assert_eq!(file, json!({"a": {"b": 3, "c": 2}, "l": [9]}));
    }
}
