//! Strategic merge exactly as kustomize v5.5 performs it: a port of kyaml's tree walker
//! (`kyaml/yaml/walk`) driving the `merge2` visitor, with `ListIncreaseDirection: Prepend` as
//! kustomize's `patchstrategicmerge` filter sets it.
//!
//! What that means for users, all verified against `kubectl kustomize`:
//! - lists whose OpenAPI field has the `merge` patch strategy merge element by element on
//!   their merge keys (`containers` by `name`, container `ports` by `containerPort` and
//!   `protocol`, ...); lists of scalars with `merge` (`finalizers`) merge by value; every other
//!   list, and every list of a kind without a schema (a CRD), is replaced;
//! - merged lists put the patch's elements first, in patch order, then the remaining ones;
//! - `null` deletes a field; `$patch: delete|replace|merge` on a map, and a `{$patch: ...}`
//!   element on a merged list, are the only directives (others stay literal keys);
//! - `$patch: replace` on a *list element* has no effect, an element without its merge key
//!   drops the elements before it, and `{}` elements vanish from merged lists: quirks of
//!   kyaml that `kubectl kustomize` shows and kgate reproduces rather than "fixes".
//!
//! The port works on an arena of go-yaml-like nodes because those results depend on node
//! identity: kyaml makes a missing destination *be* the patch node, merges in place, and
//! re-inserts destination elements after the merged ones. Owned trees would hide the aliases.

use crate::render::kustomize::openapi::{self, Schema};
use crate::yaml::{Entry, FileId, Node, Pos, Value, resolve_plain_scalar};

type Id = usize;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Scalar,
    Seq,
    Map,
}

impl Kind {
    fn go_name(self) -> &'static str {
        match self {
            Kind::Scalar => "ScalarNode",
            Kind::Seq => "SequenceNode",
            Kind::Map => "MappingNode",
        }
    }
}

#[derive(Debug, Clone)]
struct ANode {
    kind: Kind,
    /// Tagged `!!null`.
    null: bool,
    /// A null kyaml keeps in the output (`MakePersistentNullNode`).
    keep: bool,
    /// go-yaml's `Value`: the scalar's text ("" for collections).
    text: String,
    /// Sequence items, or mapping keys and values alternating, as go-yaml stores them.
    content: Vec<Id>,
    /// The node this came from: its value (scalars) and source position (all).
    orig: Node,
    /// Where a mapping key was written, for key nodes.
    key_pos: Pos,
}

/// Why a strategic merge patch cannot be applied (kustomize fails the build on these).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct MergeError(pub String);

type Result<T> = std::result::Result<T, MergeError>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Directive {
    Unknown,
    Replace,
    Delete,
    Merge,
}

#[derive(Default)]
struct Tree {
    nodes: Vec<ANode>,
}

fn scalar_text(n: &Node) -> String {
    match &n.value {
        Value::String(s) => s.clone(),
        Value::Int(i) => i.to_string(),
        Value::Uint(u) => u.to_string(),
        Value::Float(f) => f.to_string(),
        Value::Bool(b) => b.to_string(),
        // An empty value (`key:`) has an empty span; go-yaml's Value is "" for it and "null"
        // or "~" when written, which decides whether kyaml keeps the null.
        Value::Null if n.start == n.end && n.file != FileId::UNKNOWN => String::new(),
        Value::Null => "null".to_owned(),
        Value::Seq(_) | Value::Map(_) => String::new(),
    }
}

impl Tree {
    fn push(&mut self, n: ANode) -> Id {
        self.nodes.push(n);
        self.nodes.len() - 1
    }

    fn scalar(&mut self, text: &str, key_pos: Pos) -> Id {
        self.push(ANode {
            kind: Kind::Scalar,
            null: false,
            keep: false,
            text: text.to_owned(),
            content: Vec::new(),
            orig: Node::synthetic(resolve_plain_scalar(text)),
            key_pos,
        })
    }

    fn import(&mut self, n: &Node) -> Id {
        let shell = |value| Node {
            value,
            start: n.start,
            end: n.end,
            file: n.file,
        };
        let (kind, content) = match &n.value {
            Value::Seq(items) => (Kind::Seq, items.iter().map(|i| self.import(i)).collect()),
            Value::Map(entries) => {
                let mut content = Vec::with_capacity(entries.len() * 2);
                for e in entries {
                    let k = self.scalar(&e.key, e.key_pos);
                    self.nodes[k].orig = Node::synthetic(Value::String(e.key.clone()));
                    content.push(k);
                    content.push(self.import(&e.value));
                }
                (Kind::Map, content)
            }
            _ => {
                return self.push(ANode {
                    kind: Kind::Scalar,
                    null: matches!(n.value, Value::Null),
                    keep: false,
                    text: scalar_text(n),
                    content: Vec::new(),
                    orig: n.clone(),
                    key_pos: Pos::default(),
                });
            }
        };
        self.push(ANode {
            kind,
            null: false,
            keep: false,
            text: String::new(),
            content,
            orig: shell(Value::Null),
            key_pos: Pos::default(),
        })
    }

    fn export(&self, id: Id) -> Node {
        let a = &self.nodes[id];
        let value = match a.kind {
            Kind::Scalar if a.null => Value::Null,
            Kind::Scalar => return a.orig.clone(),
            Kind::Seq => Value::Seq(a.content.iter().map(|&i| self.export(i)).collect()),
            Kind::Map => Value::Map(
                a.content
                    .chunks(2)
                    .filter(|kv| kv.len() == 2)
                    .map(|kv| Entry {
                        key: self.nodes[kv[0]].text.clone(),
                        key_pos: self.nodes[kv[0]].key_pos,
                        value: self.export(kv[1]),
                    })
                    .collect(),
            ),
        };
        Node {
            value,
            start: a.orig.start,
            end: a.orig.end,
            file: a.orig.file,
        }
    }

    fn missing_or_null(&self, id: Option<Id>) -> bool {
        id.is_none_or(|i| self.nodes[i].null)
    }

    fn is_tagged_null(&self, id: Option<Id>) -> bool {
        id.is_some_and(|i| self.nodes[i].null)
    }

    fn is_empty_map(&self, id: Option<Id>) -> bool {
        self.missing_or_null(id)
            || id.is_some_and(|i| {
                self.nodes[i].kind == Kind::Map && self.nodes[i].content.is_empty()
            })
    }

    /// `IsNilOrEmpty` of a field value: null, or an empty map or list.
    fn nil_or_empty(&self, id: Id) -> bool {
        let n = &self.nodes[id];
        n.null || (n.kind != Kind::Scalar && n.content.is_empty())
    }

    /// The value of a mapping's field (`None` for non-maps, as `RNode.Field`).
    fn field(&self, map: Id, key: &str) -> Option<Id> {
        self.field_index(map, key)
            .map(|i| self.nodes[map].content[i + 1])
    }

    fn field_index(&self, map: Id, key: &str) -> Option<usize> {
        let n = &self.nodes[map];
        if n.kind != Kind::Map {
            return None;
        }
        (0..n.content.len() / 2)
            .map(|p| p * 2)
            .find(|&i| self.nodes[n.content[i]].text == key)
    }

    fn clear_field(&mut self, map: Id, key: &str) {
        if let Some(i) = self.field_index(map, key) {
            self.nodes[map].content.drain(i..i + 2);
        }
    }

    fn wrong_kind(&self, id: Id, expected: Kind) -> MergeError {
        let contents = crate::render::kustomize::emit::emit_document(&self.export(id));
        MergeError(format!(
            "wrong node kind: expected {} but got {}: node contents:\n{}",
            expected.go_name(),
            self.nodes[id].kind.go_name(),
            contents.trim_end()
        ))
    }

    /// `ErrorIfInvalid`: null passes, otherwise the kind must match.
    fn check_kind(&self, id: Id, kind: Kind) -> Result<()> {
        if self.nodes[id].null || self.nodes[id].kind == kind {
            Ok(())
        } else {
            Err(self.wrong_kind(id, kind))
        }
    }

    /// kyaml's `FieldMatcher{Name, StringValue}`: the field's value when `elem` has the field
    /// (with that text, when `value` is non-empty).
    fn field_matcher(&self, elem: Id, name: &str, value: &str) -> Result<Option<Id>> {
        if self.nodes[elem].null {
            return Ok(None);
        }
        if name.is_empty() {
            self.check_kind(elem, Kind::Scalar)?;
            return Ok((self.nodes[elem].text == value).then_some(elem));
        }
        self.check_kind(elem, Kind::Map)?;
        Ok(self
            .field(elem, name)
            .filter(|&v| value.is_empty() || self.nodes[v].text == value))
    }

    /// kyaml's `ElementSetter`: replaces the element of `list` matching `keys`/`values` with
    /// `element` (appending it when none matches), or removes it when `element` is `None`.
    /// Like kyaml it drops null and `{}` elements from the list on the way.
    fn element_setter(
        &mut self,
        list: Id,
        element: Option<Id>,
        keys: &[String],
        values: &[String],
    ) -> Result<()> {
        let empty = [String::new()];
        let keys = if keys.is_empty() { &empty[..] } else { keys };
        self.check_kind(list, Kind::Seq)?;
        let mapping_setter = !keys[0].is_empty() && !values.is_empty() && !values[0].is_empty();
        let mut new_content = Vec::new();
        let mut matched = false;
        for &elem in &self.nodes[list].content.clone() {
            if self.is_empty_map(Some(elem)) {
                continue;
            }
            if self.nodes[elem].kind != Kind::Map && mapping_setter {
                new_content.push(elem);
                continue;
            }
            // Go keeps `val` across keys without values; so does this.
            let mut val = None;
            let mut found = true;
            for (j, key) in keys.iter().enumerate() {
                if let Some(v) = values.get(j) {
                    val = self.field_matcher(elem, key, v)?;
                }
                if val.is_none() {
                    found = false;
                    break;
                }
            }
            if !found {
                if !values.is_empty() {
                    new_content.push(elem);
                }
                continue;
            }
            matched = true;
            if let Some(e) = element {
                new_content.push(e);
            }
        }
        self.nodes[list].content = new_content;
        if let Some(e) = element
            && !self.nodes[e].null
            && !matched
        {
            self.nodes[list].content.push(e);
        }
        Ok(())
    }

    /// kyaml's `ElementList` (`ElementMatcher` with keys and values): the first element whose
    /// `keys` fields have exactly the texts `values`.
    fn element_list(&self, list: Id, keys: &[String], values: &[String]) -> Option<Id> {
        let n = &self.nodes[list];
        if n.kind != Kind::Seq {
            return None;
        }
        let key0 = keys.first().map(String::as_str).unwrap_or("");
        let value0 = values.first().map(String::as_str).unwrap_or("");
        if key0.is_empty() {
            return n
                .content
                .iter()
                .copied()
                .find(|&i| self.nodes[i].text == value0);
        }
        if keys.len() != values.len() {
            return None;
        }
        n.content.iter().copied().find(|&elem| {
            self.nodes[elem].kind == Kind::Map
                && keys.iter().zip(values).all(|(k, v)| {
                    self.field(elem, k)
                        .is_some_and(|f| self.nodes[f].text == *v)
                })
        })
    }

    /// `ElementValuesList`: per element, the text of each key ("" when absent or empty).
    fn element_values_list(&self, list: Id, keys: &[String]) -> Vec<Vec<String>> {
        let n = &self.nodes[list];
        if n.kind != Kind::Seq {
            return Vec::new();
        }
        n.content
            .iter()
            .map(|&elem| {
                keys.iter()
                    .map(|k| match self.field(elem, k) {
                        Some(f) if !self.nil_or_empty(f) => self.nodes[f].text.clone(),
                        _ => String::new(),
                    })
                    .collect()
            })
            .collect()
    }

    /// `determineSmpDirective`: reads (and removes) the `$patch` directive of a patch node.
    fn directive(&mut self, patch: Option<Id>) -> Result<Directive> {
        let Some(p) = patch else {
            return Ok(Directive::Merge);
        };
        match self.nodes[p].kind {
            Kind::Seq => {
                let holder = self.nodes[p].content.iter().copied().find(|&e| {
                    self.nodes[e].kind == Kind::Map && self.field(e, "$patch").is_some()
                });
                let Some(holder) = holder else {
                    return Ok(Directive::Merge);
                };
                if self.nodes[holder].content.len() > 2 {
                    return Ok(Directive::Merge);
                }
                let Some(v) = self.field(holder, "$patch") else {
                    return Ok(Directive::Merge);
                };
                let v = self.nodes[v].text.clone();
                let d = parse_directive(&v)?;
                self.element_setter(p, None, &["$patch".to_owned()], &[v])?;
                Ok(d)
            }
            Kind::Map => {
                let Some(v) = self.field(p, "$patch") else {
                    return Ok(Directive::Merge);
                };
                let d = parse_directive(&self.nodes[v].text)?;
                self.clear_field(p, "$patch");
                Ok(d)
            }
            Kind::Scalar => {
                let tag = if self.nodes[p].null {
                    "!!null"
                } else {
                    "!!str"
                };
                Err(MergeError(format!(
                    "no implemented strategic merge patch strategy for '{tag}' ('{}')",
                    self.nodes[p].text
                )))
            }
        }
    }
}

fn parse_directive(v: &str) -> Result<Directive> {
    match v {
        "delete" => Ok(Directive::Delete),
        "replace" => Ok(Directive::Replace),
        "merge" => Ok(Directive::Merge),
        _ => Err(MergeError(format!("unknown patch strategy '{v}'"))),
    }
}

/// Sources of one walk step: the destination and the patch ("origin" in kyaml).
type Sources = [Option<Id>; 2];
const DEST: usize = 0;
const ORIGIN: usize = 1;

struct Walker<'t> {
    t: &'t mut Tree,
}

impl Walker<'_> {
    fn kind(&self, sources: &Sources) -> Option<Kind> {
        sources
            .iter()
            .flatten()
            .find(|&&s| !self.t.nodes[s].null)
            .map(|&s| self.t.nodes[s].kind)
    }

    /// `GetSchema`: the schema handed down, else the one of a source that is a typed object.
    fn schema(&self, given: Option<&'static Schema>, sources: &Sources) -> Option<&'static Schema> {
        if given.is_some() {
            return given;
        }
        sources.iter().flatten().find_map(|&s| {
            let text = |k| self.t.field(s, k).map(|v| self.t.nodes[v].text.as_str());
            match (text("apiVersion"), text("kind")) {
                (Some(a), Some(k)) if !a.is_empty() && !k.is_empty() => openapi::for_resource(a, k),
                _ => None,
            }
        })
    }

    fn walk(&mut self, given: Option<&'static Schema>, sources: Sources) -> Result<Option<Id>> {
        let schema = self.schema(given, &sources);
        let Some(kind) = self.kind(&sources) else {
            return self.walk_map(schema, sources);
        };
        for s in sources.iter().flatten() {
            self.t.check_kind(*s, kind)?;
        }
        match kind {
            Kind::Map => self.walk_map(schema, sources),
            Kind::Seq if schema.is_some_and(Schema::merges_lists) => {
                self.walk_associative(schema, sources)
            }
            Kind::Seq => Ok(sources[ORIGIN].or(sources[DEST])),
            Kind::Scalar => Ok(sources[ORIGIN].or(sources[DEST])),
        }
    }

    fn visit_map(&mut self, sources: &Sources) -> Result<Option<Id>> {
        let (dest, origin) = (sources[DEST], sources[ORIGIN]);
        if self.t.missing_or_null(dest) {
            let d = self.t.directive(origin).unwrap_or(Directive::Unknown);
            if d == Directive::Delete {
                return Ok(None);
            }
            if let (None, Some(d)) = (origin, dest)
                && !self.t.nodes[d].text.is_empty()
            {
                let mut keep = self.t.nodes[d].clone();
                keep.keep = true;
                return Ok(Some(self.t.push(keep)));
            }
            return Ok(origin);
        }
        self.present_dest(dest, origin)
    }

    /// The shared tail of kyaml's `VisitMap` and `VisitList` once the destination exists:
    /// a null patch clears it, `$patch: delete` removes it, `replace` takes the patch,
    /// otherwise the destination is merged into.
    fn present_dest(&mut self, dest: Option<Id>, origin: Option<Id>) -> Result<Option<Id>> {
        if self.t.is_tagged_null(origin) {
            return Ok(None);
        }
        Ok(match self.t.directive(origin)? {
            Directive::Delete => None,
            Directive::Replace => origin,
            Directive::Merge | Directive::Unknown => dest,
        })
    }

    fn walk_map(
        &mut self,
        schema: Option<&'static Schema>,
        mut sources: Sources,
    ) -> Result<Option<Id>> {
        let Some(dest) = self.visit_map(&sources)? else {
            return Ok(None);
        };
        sources[DEST] = Some(dest);
        let mut names: Vec<String> = Vec::new();
        for &s in sources.iter().flatten() {
            let n = &self.t.nodes[s];
            if n.kind == Kind::Map {
                names.extend(
                    n.content
                        .iter()
                        .step_by(2)
                        .map(|&k| self.t.nodes[k].text.clone()),
                );
            }
        }
        names.sort();
        names.dedup();
        for key in names {
            let field_schema = schema.and_then(|s| s.field(&key));
            let values = sources.map(|s| s.and_then(|id| self.t.field(id, &key)));
            let val = self.walk(field_schema, values)?;
            self.set_field(dest, &key, val, &sources)?;
        }
        Ok(Some(dest))
    }

    /// kyaml's `FieldSetter`: clears the field for `None` or a null (unless kept), replaces an
    /// existing field's value in place, or appends the field.
    fn set_field(&mut self, map: Id, key: &str, val: Option<Id>, sources: &Sources) -> Result<()> {
        let clear = match val {
            None => true,
            Some(v) => self.t.nodes[v].null && !self.t.nodes[v].keep,
        };
        if clear {
            self.t.check_kind(map, Kind::Map)?;
            self.t.clear_field(map, key);
            return Ok(());
        }
        let Some(val) = val else { return Ok(()) };
        self.t.check_kind(map, Kind::Map)?;
        if let Some(existing) = self.t.field(map, key) {
            if existing != val {
                self.t.nodes[existing] = self.t.nodes[val].clone();
            }
            return Ok(());
        }
        // The key is new to the destination: record where the patch wrote it.
        let key_pos = [ORIGIN, DEST]
            .iter()
            .filter_map(|&i| sources[i])
            .find_map(|s| {
                self.t
                    .field_index(s, key)
                    .map(|i| self.t.nodes[self.t.nodes[s].content[i]].key_pos)
            })
            .unwrap_or_default();
        let k = self.t.scalar(key, key_pos);
        self.t.nodes[k].orig = Node::synthetic(Value::String(key.to_owned()));
        self.t.nodes[map].content.extend([k, val]);
        Ok(())
    }

    fn visit_associative_list(&mut self, sources: &Sources) -> Result<Option<Id>> {
        let (dest, origin) = (sources[DEST], sources[ORIGIN]);
        if self.t.missing_or_null(dest) {
            return Ok(origin);
        }
        self.present_dest(dest, origin)
    }

    fn walk_associative(
        &mut self,
        schema: Option<&'static Schema>,
        mut sources: Sources,
    ) -> Result<Option<Id>> {
        let Some(dest) = self.visit_associative_list(&sources)? else {
            return Ok(None);
        };
        sources[DEST] = Some(dest);
        let keys = schema
            .map(|s| s.patch_strategy_and_keys().1)
            .unwrap_or_default();
        let values = self.element_values(&sources, &keys);
        let element_schema = schema.and_then(Schema::elements);
        if !values.is_empty() || !keys.is_empty() {
            return self.set_elements(element_schema, &sources, values, &keys, dest);
        }
        let primitives = self.element_primitive_values(&sources);
        self.set_elements(element_schema, &sources, primitives, &[String::new()], dest)
    }

    /// Each element's key values across the sources, patch first (prepend), without repeats.
    fn element_values(&self, sources: &Sources, keys: &[String]) -> Vec<Vec<String>> {
        let mut out: Vec<Vec<String>> = Vec::new();
        for &s in [sources[ORIGIN], sources[DEST]].iter().flatten() {
            for v in self.t.element_values_list(s, keys) {
                if !v.is_empty() && !out.contains(&v) {
                    out.push(v);
                }
            }
        }
        out
    }

    fn element_primitive_values(&self, sources: &Sources) -> Vec<Vec<String>> {
        let mut out: Vec<Vec<String>> = Vec::new();
        for &s in [sources[ORIGIN], sources[DEST]].iter().flatten() {
            for &item in &self.t.nodes[s].content {
                let text = &self.t.nodes[item].text;
                if !out.iter().any(|v| v[0] == *text) {
                    out.push(vec![text.clone()]);
                }
            }
        }
        out
    }

    /// `setAssociativeSequenceElements`.
    fn set_elements(
        &mut self,
        element_schema: Option<&'static Schema>,
        sources: &Sources,
        mut values_list: Vec<Vec<String>>,
        keys: &[String],
        mut dest: Id,
    ) -> Result<Option<Id>> {
        let to_add = self.t.push(ANode {
            kind: Kind::Seq,
            null: false,
            keep: false,
            text: String::new(),
            content: Vec::new(),
            orig: self.t.nodes[dest].orig.clone(),
            key_pos: Pos::default(),
        });
        if keys.len() > 1 {
            merge_values(&mut values_list);
        }
        let mut valid_keys: Vec<String> = Vec::new();
        for values in &values_list {
            if values.is_empty() {
                continue;
            }
            let valid_values;
            (valid_keys, valid_values) = validate_keys(&values_list, values, keys);
            let element_sources = self.element_value_list(sources, &valid_keys, &valid_values);
            let val = self.walk(element_schema, element_sources)?;
            let mut exit = false;
            for (i, key) in valid_keys.iter().enumerate() {
                if self.t.is_empty_map(val) {
                    self.t
                        .element_setter(dest, None, &valid_keys, &valid_values)?;
                    exit = true;
                } else if let Some(v) = val
                    && self.t.field(v, key).is_none()
                    && !valid_values[i].is_empty()
                {
                    if key.is_empty() {
                        // `SetField("")` on a scalar element sets the same text again.
                        self.t.check_kind(v, Kind::Scalar)?;
                    } else {
                        let s = self.t.scalar(&valid_values[i], Pos::default());
                        self.set_field(v, key, Some(s), &[None, None])?;
                    }
                }
            }
            if exit {
                continue;
            }
            self.t
                .element_setter(to_add, val, &valid_keys, &valid_values)?;
        }
        if !values_list.is_empty() {
            // Prepend: the merged patch elements first, then the destination's.
            let src = dest;
            dest = to_add;
            self.append_list(dest, src, &valid_keys)?;
        }
        if self.t.missing_or_null(Some(dest)) {
            return Ok(None);
        }
        Ok(Some(dest))
    }

    /// `elementValueList`: each source's element with these key values.
    fn element_value_list(&self, sources: &Sources, keys: &[String], values: &[String]) -> Sources {
        let (keys, values) = validate_keys(&[values.to_vec()], values, keys);
        sources.map(|s| s.and_then(|list| self.t.element_list(list, &keys, &values)))
    }

    /// `appendListNode`: sets each element of `src` into `dst` (replacing a match, else
    /// appending), with kyaml's handling of elements lacking a key.
    fn append_list(&mut self, dst: Id, src: Id, keys: &[String]) -> Result<()> {
        let first = keys.first().map(String::as_str).unwrap_or("");
        for elem in self.t.nodes[src].content.clone() {
            if first.is_empty() {
                let text = self.t.nodes[elem].text.clone();
                self.t
                    .element_setter(dst, Some(elem), &[String::new()], &[text])?;
                continue;
            }
            let mut v = Vec::new();
            for key in keys {
                match self.t.field(elem, key) {
                    None => self.t.nodes[dst].content.push(elem),
                    Some(f) => v.push(self.t.nodes[f].text.clone()),
                }
            }
            if keys.len() > 1 {
                self.t.element_setter(dst, None, keys, &v)?;
            }
            self.t.element_setter(dst, Some(elem), keys, &v)?;
        }
        Ok(())
    }
}

/// `validateKeys`: the keys some element has a value for (all keys when none has any), and
/// this element's values for them.
fn validate_keys(
    values_list: &[Vec<String>],
    values: &[String],
    keys: &[String],
) -> (Vec<String>, Vec<String>) {
    let mut valid: Vec<&String> = Vec::new();
    for vs in values_list {
        for (i, v) in vs.iter().enumerate() {
            if !v.is_empty()
                && let Some(k) = keys.get(i)
                && !valid.contains(&k)
            {
                valid.push(k);
            }
        }
    }
    if valid.is_empty() {
        return (keys.to_vec(), values.to_vec());
    }
    let valid_keys: Vec<String> = keys.iter().filter(|k| valid.contains(k)).cloned().collect();
    let valid_values = values
        .iter()
        .enumerate()
        .filter(|(i, v)| !v.is_empty() || keys.get(*i).is_some_and(|k| valid.contains(&k)))
        .map(|(_, v)| v.clone())
        .collect();
    (valid_keys, valid_values)
}

/// `mergeValues`: key tuples that agree where both are set (`80/""` and `80/TCP`) become one.
fn merge_values(values_list: &mut [Vec<String>]) {
    for i in 0..values_list.len() {
        for j in 0..values_list.len() {
            if let Some(m) = match_values(&values_list[i], &values_list[j]) {
                values_list[i] = m.clone();
                values_list[j] = m;
            }
        }
    }
}

fn match_values(a: &[String], b: &[String]) -> Option<Vec<String>> {
    if a.len() != b.len() {
        return None;
    }
    let mut common = false;
    let mut out = Vec::with_capacity(a.len());
    for (x, y) in a.iter().zip(b) {
        if x == y {
            common = true;
            out.push(x.clone());
        } else if !x.is_empty() && !y.is_empty() {
            return None;
        } else if !x.is_empty() {
            out.push(x.clone());
        } else {
            out.push(y.clone());
        }
    }
    common.then_some(out)
}

/// Applies a strategic-merge `patch` to `dst` as kustomize's `Resource.ApplySmPatch` does:
/// the merge, then the object's kind and name restored unless the patch may change them,
/// and its namespace always. Returns `Ok(false)` when the patch deletes the object.
pub fn strategic_merge(
    dst: &mut Node,
    patch: &Node,
    allow_name_change: bool,
    allow_kind_change: bool,
) -> Result<bool> {
    let kind = dst.get("kind").cloned();
    let meta = dst.get("metadata");
    let name = meta.and_then(|m| m.get("name")).cloned();
    let namespace = meta.and_then(|m| m.get("namespace")).cloned();

    let mut t = Tree::default();
    let d = t.import(dst);
    let p = t.import(patch);
    let merged = Walker { t: &mut t }.walk(None, [Some(d), Some(p)])?;
    let Some(merged) = merged else {
        return Ok(false);
    };
    let mut out = t.export(merged);
    if !matches!(out.value, Value::Map(ref e) if !e.is_empty()) {
        *dst = out;
        return Ok(true);
    }
    if !allow_kind_change {
        restore(&mut out, &[], "kind", kind);
    }
    if !allow_name_change {
        restore(&mut out, &["metadata"], "name", name);
    }
    restore(&mut out, &["metadata"], "namespace", namespace);
    *dst = out;
    Ok(true)
}

/// Sets `path.key` to `value` (removing it when `None`), creating `path` when needed.
fn restore(node: &mut Node, path: &[&str], key: &str, value: Option<Node>) {
    let mut cur = node;
    for p in path {
        let Value::Map(entries) = &mut cur.value else {
            return;
        };
        let i = match entries.iter().position(|e| e.key == *p) {
            Some(i) => i,
            None if value.is_none() => return,
            None => {
                entries.push(Entry {
                    key: (*p).to_owned(),
                    key_pos: Pos::default(),
                    value: Node::synthetic(Value::Map(Vec::new())),
                });
                entries.len() - 1
            }
        };
        cur = &mut entries[i].value;
    }
    let Value::Map(entries) = &mut cur.value else {
        return;
    };
    let existing = entries.iter().position(|e| e.key == key);
    match (existing, value) {
        (Some(i), Some(v)) => {
            if entries[i].value.value != v.value {
                entries[i].value = v;
            }
        }
        (None, Some(v)) => entries.push(Entry {
            key: key.to_owned(),
            key_pos: v.start,
            value: v,
        }),
        (Some(i), None) => {
            entries.remove(i);
        }
        (None, None) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::{LoadLimits, Schema as YamlSchema, parse_documents};

    fn node(t: &str) -> Node {
        let limits = LoadLimits {
            schema: YamlSchema::GoYamlV3,
            ..LoadLimits::default()
        };
        parse_documents(t, limits).0.remove(0).root
    }

    fn merged(base: &str, patch: &str) -> serde_json::Value {
        let mut d = node(base);
        assert!(strategic_merge(&mut d, &node(patch), false, false).unwrap());
        d.to_json()
    }

    const DEPLOY: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, finalizers: [a, b]}\nspec:\n  template:\n    spec:\n      containers:\n      - {name: a, image: a, ports: [{containerPort: 80, protocol: TCP}], env: [{name: A, value: a}, {name: B, value: b}]}\n      - {name: b, image: b}\n      tolerations: [{key: k1}]\n";

    #[test]
    fn merge_keys_come_from_the_schema_and_patch_elements_go_first() {
        let out = merged(
            DEPLOY,
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, finalizers: [b, c]}\nspec:\n  template:\n    spec:\n      containers:\n      - {name: a, env: [{name: B, value: b2}, {name: N, value: n}], ports: [{containerPort: 80, protocol: UDP}]}\n      tolerations: [{key: k2}]\n",
        );
        let spec = &out["spec"]["template"]["spec"];
        assert_eq!(
            out["metadata"]["finalizers"],
            serde_json::json!(["b", "c", "a"])
        );
        assert_eq!(spec["containers"][0]["name"], "a");
        assert_eq!(spec["containers"][0]["image"], "a");
        assert_eq!(
            spec["containers"][0]["env"],
            serde_json::json!([{"name": "B", "value": "b2"}, {"name": "N", "value": "n"}, {"name": "A", "value": "a"}])
        );
        // Ports merge on (containerPort, protocol): UDP is a new port.
        assert_eq!(spec["containers"][0]["ports"].as_array().unwrap().len(), 2);
        assert_eq!(spec["containers"][1]["name"], "b");
        // tolerations has no merge strategy: replaced.
        assert_eq!(spec["tolerations"], serde_json::json!([{"key": "k2"}]));
    }

    #[test]
    fn directives_null_and_kind_errors() {
        let out = merged(
            DEPLOY,
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: renamed}\nspec:\n  template:\n    spec:\n      containers:\n      - $patch: replace\n      - {name: only, image: o}\n      tolerations: null\n",
        );
        let spec = &out["spec"]["template"]["spec"];
        assert_eq!(
            spec["containers"],
            serde_json::json!([{"name": "only", "image": "o"}])
        );
        assert!(spec.get("tolerations").is_none());
        // The name is restored: a patch cannot rename without allowNameChange.
        assert_eq!(out["metadata"]["name"], "web");

        let out = merged(
            DEPLOY,
            "spec:\n  template:\n    spec:\n      containers:\n      - {name: b, $patch: delete}\n",
        );
        assert_eq!(
            out["spec"]["template"]["spec"]["containers"]
                .as_array()
                .unwrap()
                .len(),
            1
        );

        let mut d = node(DEPLOY);
        assert!(!strategic_merge(&mut d, &node("$patch: delete"), false, false).unwrap());
        let err = strategic_merge(&mut d, &node("spec: {template: 3}"), false, false).unwrap_err();
        assert!(
            err.0
                .starts_with("wrong node kind: expected MappingNode but got ScalarNode"),
            "{err}"
        );
        let err =
            strategic_merge(&mut d, &node("spec: {$patch: bogus}"), false, false).unwrap_err();
        assert_eq!(err.0, "unknown patch strategy 'bogus'");
    }

    #[test]
    fn kinds_without_schema_replace_lists() {
        let out = merged(
            "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\nspec: {items: [{name: a, v: 1}], keep: 1}\n",
            "spec: {items: [{name: b}]}\n",
        );
        assert_eq!(
            out["spec"],
            serde_json::json!({"items": [{"name": "b"}], "keep": 1})
        );
    }
}
