//! Legacy `vars` (kustomize's `ResAccumulator.MergeVars` / `ResolveVars` and the `refvar`
//! filter): each kustomization attaches its vars to the object their `objref` names, and once
//! the whole build is done (names hashed and prefixed, references fixed) every `$(NAME)` in
//! the fields of the `varReference` config is replaced by the value at the var's `fieldPath`
//! in that object.

use std::path::Path;

use super::RenderError;
use super::fieldspec::{FieldSpec, group_version};
use super::kustomization::{Kustomization, VarEntry};
use super::resource::Resource;
use crate::yaml::{Node, Pos, Value};

fn describe(v: &VarEntry) -> String {
    let api = if v.group.is_empty() {
        v.version.clone()
    } else {
        format!("{}/{}", v.group, v.version)
    };
    format!(
        "{} (objref {} {}/{}{}, fieldPath {})",
        v.name,
        if api.is_empty() {
            "<no apiVersion>"
        } else {
            &api
        },
        v.kind,
        v.obj_name,
        if v.namespace.is_empty() {
            String::new()
        } else {
            format!(" in namespace {}", v.namespace)
        },
        v.field_path
    )
}

/// Adds a var declared by a base or component (`VarSet.Merge`): names are unique in a build.
pub fn add_var(
    vars: &mut Vec<VarEntry>,
    v: VarEntry,
    file: &Path,
    pos: Pos,
) -> Result<(), RenderError> {
    if vars.iter().any(|x| x.name == v.name) {
        return Err(RenderError::at(
            file,
            pos,
            format!("var '{}' already encountered", v.name),
        ));
    }
    vars.push(v);
    Ok(())
}

fn effective_namespace(ns: &str) -> &str {
    if ns.is_empty() { "default" } else { ns }
}

/// `MergeVars`: attaches each of the kustomization's vars to the one object its `objref`
/// names (by any name the object has had), then adds the vars to the build's set.
pub fn merge_vars(
    k: &Kustomization,
    ra: &mut [Resource],
    vars: &mut Vec<VarEntry>,
) -> Result<(), RenderError> {
    for v in &k.vars {
        // kustomize's `MergeVars`: any of the object's ids (current or previous) with the
        // objref's group, version, kind and name, and its effective namespace when the
        // objref names one (or the kind is cluster-scoped).
        let cluster_scoped = crate::model::kinds::is_cluster_scoped_kind(&v.kind);
        let with_namespace = !v.namespace.is_empty() || cluster_scoped;
        let ns_of = |kind: &str, ns: &str| -> String {
            if crate::model::kinds::is_cluster_scoped_kind(kind) {
                String::new()
            } else {
                effective_namespace(ns).to_owned()
            }
        };
        let matches = |r: &Resource| {
            let (g, ver) = group_version(r.api_version());
            g == v.group
                && ver == v.version
                && r.ids().iter().any(|id| {
                    id.kind == v.kind
                        && id.name == v.obj_name
                        && (!with_namespace
                            || ns_of(&id.kind, &id.namespace) == ns_of(&v.kind, &v.namespace))
                })
        };
        let hits: Vec<usize> = (0..ra.len()).filter(|&i| matches(&ra[i])).collect();
        if hits.len() > 1 {
            return Err(RenderError::at(
                &k.file,
                v.pos,
                format!(
                    "found {} resId matches for var {} (unable to disambiguate)",
                    hits.len(),
                    describe(v)
                ),
            ));
        }
        if let [i] = hits.as_slice() {
            ra[*i].ref_vars.push(v.name.clone());
        }
    }
    for v in &k.vars {
        add_var(vars, v.clone(), &k.file, v.pos)?;
    }
    Ok(())
}

/// kyaml's `GetFieldValue` path: `a.b[0].c`, `a.[k=v].c` (dots inside brackets kept).
fn lookup<'a>(n: &'a Node, path: &str) -> Option<&'a Node> {
    let mut node = n;
    for seg in super::replacement::split_fields(path) {
        // `convertSliceIndex`: `containers[0]` is `containers` then index 0.
        let (field, index) = match seg.strip_suffix(']').and_then(|s| s.rsplit_once('[')) {
            Some((f, i)) if !i.is_empty() && i.bytes().all(|b| b.is_ascii_digit()) => {
                (f.to_owned(), Some(i.to_owned()))
            }
            _ => (seg.clone(), None),
        };
        for part in [Some(field), index].into_iter().flatten() {
            if part.is_empty() {
                continue;
            }
            node = step(node, &part)?;
        }
    }
    Some(node)
}

fn step<'a>(n: &'a Node, part: &str) -> Option<&'a Node> {
    match &n.value {
        Value::Map(_) => n.get(part),
        Value::Seq(items) => {
            if let Ok(i) = part.parse::<usize>() {
                return items.get(i);
            }
            let (k, v) = part.strip_prefix('[')?.strip_suffix(']')?.split_once('=')?;
            items.iter().find(|i| {
                i.get(k).is_some_and(|x| match &x.value {
                    Value::String(s) => s == v,
                    Value::Int(n) => n.to_string() == v,
                    Value::Bool(b) => b.to_string() == v,
                    _ => false,
                })
            })
        }
        _ => None,
    }
}

/// Replaces `$(NAME)` references in `input` (the Kubernetes expansion syntax: `$$` escapes,
/// unknown names stay as written). A string that is exactly one reference takes the value's
/// type, as kustomize's `DoReplacements` does.
fn expand(input: &str, values: &[(String, Value)]) -> Value {
    let bytes = input.as_bytes();
    let mut out = String::new();
    let mut checkpoint = 0;
    let mut cursor = 0;
    while cursor < bytes.len() {
        if bytes[cursor] == b'$' && cursor + 1 < bytes.len() {
            out.push_str(&input[checkpoint..cursor]);
            let rest = &input[cursor + 1..];
            let advance = match rest.as_bytes()[0] {
                b'$' => {
                    out.push('$');
                    1
                }
                b'(' => match rest.find(')') {
                    Some(close) => {
                        let name = &rest[1..close];
                        let mapped = values.iter().find(|(n, _)| n == name);
                        if input.len() == close + 2 {
                            return match mapped {
                                Some((_, v)) => v.clone(),
                                None => Value::String(input.to_owned()),
                            };
                        }
                        match mapped.map(|(_, v)| v) {
                            Some(Value::String(s)) => out.push_str(s),
                            Some(Value::Int(i)) => out.push_str(&i.to_string()),
                            Some(Value::Float(f)) => out.push_str(&f.to_string()),
                            Some(Value::Bool(b)) => out.push_str(&b.to_string()),
                            _ => out.push_str(&format!("$({name})")),
                        }
                        close + 1
                    }
                    None => {
                        out.push_str("$(");
                        1
                    }
                },
                _ => {
                    // `$` and the next character are copied (a multi-byte char whole).
                    let ch = rest.chars().next().map_or(1, char::len_utf8);
                    out.push('$');
                    out.push_str(&rest[..ch]);
                    ch
                }
            };
            cursor += advance;
            checkpoint = cursor + 1;
        }
        cursor += 1;
    }
    out.push_str(input.get(checkpoint..).unwrap_or(""));
    Value::String(out)
}

/// `ResolveVars`: reads every var's value from the object it is attached to, then replaces
/// references to it in the `varReference` fields of every object.
/// `var_reference`: the build's `varReference` field specs.
pub fn resolve_vars(
    resources: &mut [Resource],
    vars: &[VarEntry],
    var_reference: &[FieldSpec],
) -> Result<(), RenderError> {
    if vars.is_empty() {
        return Ok(());
    }
    let mut sorted: Vec<&VarEntry> = vars.iter().collect();
    sorted.sort_by(|a, b| a.name.cmp(&b.name));
    let mut values: Vec<(String, Value)> = Vec::new();
    for v in sorted {
        let Some(r) = resources.iter().find(|r| r.ref_vars.contains(&v.name)) else {
            return Err(RenderError::at(
                &v.file,
                v.pos,
                format!(
                    "var '{}' cannot be mapped to a field in the set of known resources",
                    describe(v)
                ),
            ));
        };
        let value = lookup(&r.node, &v.field_path)
            .filter(|n| n.value != Value::Null)
            .ok_or_else(|| {
                RenderError::at(
                    &r.source,
                    r.node.start,
                    format!(
                        "field specified in var '{}' not found in corresponding resource",
                        describe(v)
                    ),
                )
            })?;
        // Maps and lists cannot be spliced into a string: kustomize leaves `$(NAME)` as is.
        if matches!(
            value.value,
            Value::String(_) | Value::Int(_) | Value::Float(_) | Value::Bool(_)
        ) {
            values.push((v.name.clone(), value.value.clone()));
        }
    }
    for r in resources.iter_mut() {
        let (api_version, kind) = (r.api_version().to_owned(), r.kind().to_owned());
        let mut failure: Option<(Pos, &'static str)> = None;
        for spec in var_reference
            .iter()
            .filter(|s| s.selects(&api_version, &kind))
        {
            spec.visit(&mut r.node, &mut |n: &mut Node| {
                let substitute = |s: &mut Node| {
                    if let Value::String(text) = &s.value
                        && text.contains('$')
                    {
                        s.value = expand(text, &values);
                    }
                };
                match &mut n.value {
                    Value::String(_) => substitute(n),
                    Value::Map(entries) => {
                        entries.iter_mut().for_each(|e| substitute(&mut e.value))
                    }
                    Value::Seq(items) => {
                        for item in items.iter_mut() {
                            if !matches!(item.value, Value::String(_)) {
                                failure.get_or_insert((
                                    item.start,
                                    "invalid value type expect a string",
                                ));
                                continue;
                            }
                            substitute(item);
                        }
                    }
                    _ => {}
                }
            });
        }
        if let Some((pos, message)) = failure {
            return Err(RenderError::at(&r.source, pos, message));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values() -> Vec<(String, Value)> {
        vec![
            ("SVC".to_owned(), Value::String("web-svc".to_owned())),
            ("PORT".to_owned(), Value::Int(8080)),
        ]
    }

    #[test]
    fn expansion_keeps_types_escapes_and_unknown_names() {
        assert_eq!(expand("$(PORT)", &values()), Value::Int(8080));
        assert_eq!(
            expand("http://$(SVC):$(PORT)/", &values()),
            Value::String("http://web-svc:8080/".into())
        );
        assert_eq!(
            expand("$$(SVC) $(NOPE) $( $x", &values()),
            Value::String("$(SVC) $(NOPE) $( $x".into())
        );
    }

    #[test]
    fn field_paths_index_lists() {
        let (docs, _) = crate::yaml::parse_documents(
            "spec:\n  ports:\n  - {name: http, port: 80}\n  - {name: dns, port: 53}\n",
            crate::yaml::LoadLimits::default(),
        );
        let n = &docs[0].root;
        assert_eq!(
            lookup(n, "spec.ports[1].port").map(|n| &n.value),
            Some(&Value::Int(53))
        );
        assert_eq!(
            lookup(n, "spec.ports.[name=http].port").map(|n| &n.value),
            Some(&Value::Int(80))
        );
        assert!(lookup(n, "spec.missing").is_none());
    }
}
