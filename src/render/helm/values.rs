//! Which values line decided a rendered field.
//!
//! A rendered field whose template line reads a value (`key: {{ .Values.a.b }}`) or writes a
//! values block (`{{- toYaml .Values.a | nindent 8 }}`, every field of the block getting the
//! path below `a`) has a values path. The values layers are searched from the highest
//! precedence down (`--set` and values kgate cannot locate stop the search: the template
//! line is kept); the first layer that sets the path is where the field's value came from,
//! and the field is pointed there. A key a values block lacks because the deciding layer
//! sets it to `null` (`limits: null` over the chart's default) is recorded with that line,
//! for findings about the missing field. Where it cannot decide — a value passed through a
//! variable, `with`/`range` contexts (`toYaml .`), `tpl`, helpers (`include`), or a
//! default written in the template (`default 1 .Values.x` with `x` unset) — the field keeps
//! its template line.

use std::path::PathBuf;

use crate::yaml::{FileId, Node, Pos, Value};

/// One source of values, lowest precedence first: the chart's `values.yaml`, values files,
/// inline values. `root: None` is a layer kgate cannot locate (values it wrote itself).
#[derive(Debug, Clone, PartialEq)]
pub struct ValuesLayer {
    pub file: PathBuf,
    pub root: Option<Node>,
}

impl ValuesLayer {
    /// A values file read from disk (`None` when it does not parse).
    pub fn read(file: PathBuf) -> Option<ValuesLayer> {
        let text = super::read_chart_file(&file).ok()?;
        let (docs, err) = crate::yaml::parse_documents(&text, crate::yaml::LoadLimits::default());
        if err.is_some() {
            return None;
        }
        let root = docs.into_iter().next().map(|d| d.root)?;
        Some(ValuesLayer {
            file,
            root: Some(root),
        })
    }
}

/// The values path a template line reads: `.Values.a.b` in `toYaml .Values.a.b` (a block)
/// or in `{{ .Values.a.b }}` (one value); `(path, is_block)`.
fn values_expr(line: &str) -> Option<(Vec<String>, bool)> {
    // Several values on one line (`"{{ .Values.repo }}:{{ .Values.tag }}"`): undecidable.
    if line.matches(".Values.").count() != 1 {
        return None;
    }
    let i = line.find(".Values.")?;
    let rest = &line[i + ".Values.".len()..];
    let end = rest
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
        .unwrap_or(rest.len());
    let path: Vec<String> = rest[..end]
        .split('.')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    if path.is_empty() || line.contains("include") || line.contains("tpl ") {
        return None;
    }
    let block = line[..i].contains("toYaml");
    // `default X .Values.a`: the value may be the template's default.
    if line[..i].contains("default") {
        return None;
    }
    Some((path, block))
}

fn lookup<'a>(root: &'a Node, path: &[String]) -> Option<(&'a Node, Pos)> {
    let mut cur = root;
    let mut key_pos = root.start;
    for seg in path {
        match &cur.value {
            Value::Map(entries) => {
                let e = entries.iter().find(|e| &e.key == seg)?;
                key_pos = e.key_pos;
                cur = &e.value;
            }
            Value::Seq(items) => {
                cur = items.get(seg.parse::<usize>().ok()?)?;
                key_pos = cur.start;
            }
            _ => return None,
        }
    }
    Some((cur, key_pos))
}

/// Where the value at `path` came from: the highest layer that sets it, when kgate can
/// locate that layer.
fn decide<'a>(layers: &'a [ValuesLayer], path: &[String]) -> Option<(&'a ValuesLayer, &'a Node)> {
    for layer in layers.iter().rev() {
        match &layer.root {
            None => {
                // kgate cannot tell whether this layer sets the path: keep the template line.
                return None;
            }
            Some(root) => {
                if let Some((n, _)) = lookup(root, path) {
                    return Some((layer, n));
                }
            }
        }
    }
    None
}

/// Points the fields of one rendered document, already located at its template lines (in
/// the file `template_id`, whose lines are `template`), at the values lines that decided
/// them. Returns, for each values line a field now points at, the template position that
/// wrote the field (the finding's related location), and the fields the values removed.
pub fn point_at_values(
    node: &mut Node,
    template_id: FileId,
    template: &[&str],
    layers: &[ValuesLayer],
    file_id: &dyn Fn(&std::path::Path) -> FileId,
) -> Pointed {
    let ctx = Walk {
        template_id,
        template,
        layers,
        file_id,
    };
    let mut out = Pointed::default();
    ctx.walk(node, None, &mut Vec::new(), &mut out);
    out
}

/// What [`point_at_values`] found besides the new locations.
#[derive(Debug, Default)]
pub struct Pointed {
    pub origins: Vec<TemplateOrigin>,
    pub removed: Vec<crate::render::kustomize::RemovedField>,
}

/// A JSON pointer of rendered keys.
fn pointer(path: &[String]) -> String {
    path.iter()
        .map(|k| format!("/{}", k.replace('~', "~0").replace('/', "~1")))
        .collect()
}

/// `((values file, values line), (template file, template position))`.
pub type TemplateOrigin = crate::render::kustomize::TemplateOrigin;

struct Walk<'a> {
    template_id: FileId,
    template: &'a [&'a str],
    layers: &'a [ValuesLayer],
    file_id: &'a dyn Fn(&std::path::Path) -> FileId,
}

impl Walk<'_> {
    fn template_line(&self, file: FileId, pos: Pos) -> Option<(u32, &str)> {
        if file != self.template_id {
            return None;
        }
        Some((
            pos.line,
            self.template.get(pos.line.checked_sub(1)? as usize)?,
        ))
    }

    /// The values path of a child at rendered position `pos` named `seg`, given the block
    /// (values path, template line) its parent is in.
    fn child_path(
        &self,
        (file, pos): (FileId, Pos),
        seg: &str,
        scalar: bool,
        block: Option<&(Vec<String>, u32)>,
    ) -> Option<(Vec<String>, u32)> {
        let (t, line) = self.template_line(file, pos)?;
        if let Some((p, t0)) = block
            && *t0 == t
        {
            let mut p = p.clone();
            p.push(seg.to_owned());
            return Some((p, t));
        }
        let (path, is_block) = values_expr(line)?;
        if is_block {
            let mut p = path;
            p.push(seg.to_owned());
            Some((p, t))
        } else if scalar {
            Some((path, t))
        } else {
            None
        }
    }

    fn walk(
        &self,
        node: &mut Node,
        block: Option<&(Vec<String>, u32)>,
        at: &mut Vec<String>,
        out: &mut Pointed,
    ) {
        match &mut node.value {
            Value::Map(entries) => {
                for e in entries {
                    let scalar = !matches!(e.value.value, Value::Map(_) | Value::Seq(_));
                    let child = self.child_path((e.value.file, e.key_pos), &e.key, scalar, block);
                    at.push(e.key.clone());
                    if !scalar {
                        self.removed_under(&e.value, child.as_ref(), at, out);
                    }
                    if let Some((path, _)) = &child
                        && let Some((layer, n)) = decide(self.layers, path)
                    {
                        let key_pos = lookup(layer.root.as_ref().unwrap_or(n), path)
                            .map_or(n.start, |(_, k)| k);
                        let template = (e.value.file, e.key_pos);
                        e.key_pos = key_pos;
                        self.restamp_leaf(&mut e.value, layer, n);
                        // A finding points at the key (a collection) or the value (a scalar).
                        for line in [key_pos.line, n.start.line] {
                            out.origins.push(((e.value.file, line), template));
                        }
                    }
                    self.walk(&mut e.value, child.as_ref(), at, out);
                    at.pop();
                }
            }
            Value::Seq(items) => {
                for (i, item) in items.iter_mut().enumerate() {
                    let scalar = !matches!(item.value, Value::Map(_) | Value::Seq(_));
                    let child =
                        self.child_path((item.file, item.start), &i.to_string(), scalar, block);
                    let child = child.filter(|(_, t)| block.is_some_and(|(_, t0)| t0 == t));
                    if let Some((path, _)) = &child
                        && let Some((layer, n)) = decide(self.layers, path)
                    {
                        let template = (item.file, item.start);
                        self.restamp_leaf(item, layer, n);
                        out.origins.push(((item.file, n.start.line), template));
                    }
                    at.push(i.to_string());
                    self.walk(item, child.as_ref(), at, out);
                    at.pop();
                }
            }
            _ => {}
        }
    }

    /// The keys of the rendered mapping `map` (at rendered path `at`) that the values set to
    /// `null` over a default: the mapping is a values block (its own path known from its
    /// parent block, or its first line a `toYaml .Values.x` line) and the layer that decides
    /// `x.key` says `null`.
    fn removed_under(
        &self,
        map: &Node,
        own: Option<&(Vec<String>, u32)>,
        at: &[String],
        out: &mut Pointed,
    ) {
        let Value::Map(rendered) = &map.value else {
            return;
        };
        let path = match own {
            Some((p, _)) => p.clone(),
            None => match self
                .template_line(map.file, map.start)
                .and_then(|(_, l)| values_expr(l))
            {
                Some((p, true)) => p,
                _ => return,
            },
        };
        let mut keys: Vec<&str> = Vec::new();
        for layer in self.layers {
            let found = layer.root.as_ref().and_then(|r| lookup(r, &path));
            if let Some((
                Node {
                    value: Value::Map(m),
                    ..
                },
                _,
            )) = found
            {
                keys.extend(m.iter().map(|e| e.key.as_str()));
            }
        }
        keys.sort_unstable();
        keys.dedup();
        for k in keys {
            if rendered.iter().any(|e| e.key == k) {
                continue;
            }
            let mut full = path.clone();
            full.push(k.to_owned());
            if let Some((layer, n)) = decide(self.layers, &full)
                && n.value == Value::Null
                && let Some((_, key_pos)) = layer.root.as_ref().and_then(|r| lookup(r, &full))
            {
                let mut p = at.to_vec();
                p.push(k.to_owned());
                out.removed
                    .push((pointer(&p), (self.file_id)(&layer.file), key_pos));
            }
        }
    }

    /// The node's own position becomes the values node's (its children are walked on
    /// their own).
    fn restamp_leaf(&self, node: &mut Node, layer: &ValuesLayer, from: &Node) {
        node.file = (self.file_id)(&layer.file);
        node.start = from.start;
        node.end = from.end;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_lines_name_their_values_paths() {
        assert_eq!(
            values_expr("  replicas: {{ .Values.replicaCount }}"),
            Some((vec!["replicaCount".into()], false))
        );
        assert_eq!(
            values_expr("    {{- toYaml .Values.pod.securityContext | nindent 8 }}"),
            Some((vec!["pod".into(), "securityContext".into()], true))
        );
        assert_eq!(values_expr("  x: {{ default 1 .Values.x }}"), None);
        assert_eq!(
            values_expr("  image: \"{{ .Values.r }}:{{ .Values.t }}\""),
            None
        );
        assert_eq!(values_expr("  {{- include \"a\" .Values.x }}"), None);
    }

    #[test]
    fn the_highest_layer_that_sets_a_path_decides_and_an_unlocated_one_stops() {
        let parse = |t: &str| {
            crate::yaml::parse_documents(t, crate::yaml::LoadLimits::default()).0[0]
                .root
                .clone()
        };
        let low = ValuesLayer {
            file: "values.yaml".into(),
            root: Some(parse("a:\n  b: 1\n  c: 2\n")),
        };
        let high = ValuesLayer {
            file: "prod.yaml".into(),
            root: Some(parse("a:\n  b: 3\n")),
        };
        let path = |p: &str| p.split('.').map(str::to_owned).collect::<Vec<_>>();
        let layers = [low.clone(), high.clone()];
        assert_eq!(decide(&layers, &path("a.b")).unwrap().0.file, high.file);
        assert_eq!(decide(&layers, &path("a.c")).unwrap().0.file, low.file);
        let unlocated = ValuesLayer {
            file: "x".into(),
            root: None,
        };
        assert!(decide(&[low, high, unlocated], &path("a.c")).is_none());
    }
}
