//! The validate stage: every object against the JSON schema of its apiVersion/kind for the
//! target Kubernetes version, offline.
//!
//! Schemas come, in this order, from the repository's own CustomResourceDefinitions, the
//! embedded Kubernetes API of the target version, and the embedded catalog of common custom
//! resources. Each kind's schema is compiled once per run and shared by every thread.
//! Validator output is condensed into what a person can act on: one problem per field, with
//! the field's path, what the schema wanted, and (for unknown fields under `--strict`) the
//! closest field the schema has. Values that Flux substitutes later (`${VAR}`) or that SOPS
//! encrypted (`ENC[...]`) are accepted wherever some value could make them valid.

pub mod catalog;
pub mod cel;
pub mod crd;
mod defaults;
pub mod deprecations;

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use serde_json::{Map, Value, json};

use crate::model::Violation;
use crate::yaml::PathSegment;

pub use catalog::{KubeVersion, UnsupportedVersion};

pub use crate::model::rules::{
    DEPRECATED_API, REMOVED_API, SCHEMA_INVALID, SCHEMA_MISSING, UNKNOWN_FIELD,
};
pub use cel::CEL_UNEVALUATED;

const DRAFT: &str = "https://json-schema.org/draft/2020-12/schema";

struct Compiled {
    validator: jsonschema::Validator,
    /// The document compiled, to find the fields an object may have (did-you-mean).
    schema: Value,
    /// Whether the schema declares CEL rules (`x-kubernetes-validations`) anywhere.
    has_cel: bool,
    /// Whether the schema declares a `default` anywhere (objects are defaulted first).
    has_defaults: bool,
}

/// Validates objects for one run: a Kubernetes version, strictness, and the repository's CRDs.
pub struct Validator {
    version: KubeVersion,
    strict: bool,
    repo_crds: HashMap<Gvk, Value>,
    compiled: Mutex<HashMap<Gvk, Option<Arc<Compiled>>>>,
}

/// (apiVersion, kind).
type Gvk = (String, String);

/// The embedded kinds' schemas compiled so far, by Kubernetes minor version, strictness and
/// kind: `kgate diff --since` checks REF's side with validators of its own, which compiled
/// the working tree's schemas again on the diff's serial path.
type EmbeddedCompiled = Mutex<HashMap<(u32, bool, Gvk), Option<Arc<Compiled>>>>;

fn embedded_compiled() -> &'static EmbeddedCompiled {
    static COMPILED: std::sync::OnceLock<EmbeddedCompiled> = std::sync::OnceLock::new();
    COMPILED.get_or_init(EmbeddedCompiled::default)
}

/// One validator per Kubernetes version in use: the default, and those `kubeVersions` in
/// `.kgate.yaml` assigns to environments or clusters.
pub struct Validators {
    default: KubeVersion,
    by_name: Vec<(String, KubeVersion)>,
    by_version: std::collections::BTreeMap<KubeVersion, Validator>,
}

impl Validators {
    /// `crds` (CustomResourceDefinition objects) become schemas for every version.
    pub fn new(
        default: KubeVersion,
        strict: bool,
        by_name: Vec<(String, KubeVersion)>,
        crds: &[Value],
    ) -> Validators {
        let mut by_version = std::collections::BTreeMap::new();
        for v in std::iter::once(default).chain(by_name.iter().map(|(_, v)| *v)) {
            by_version.entry(v).or_insert_with(|| {
                let mut validator = Validator::new(v, strict);
                for crd in crds {
                    validator.add_crd(crd);
                }
                validator
            });
        }
        Validators {
            default,
            by_name,
            by_version,
        }
    }

    /// The validator for objects deployed to `cluster` (first) or `environment`.
    pub fn for_context(&self, environment: Option<&str>, cluster: Option<&str>) -> &Validator {
        let named = |n: Option<&str>| {
            n.and_then(|n| self.by_name.iter().find(|(name, _)| name == n))
                .map(|(_, v)| *v)
        };
        let version = named(cluster)
            .or_else(|| named(environment))
            .unwrap_or(self.default);
        &self.by_version[&version]
    }

    /// The validator of the default version (plain manifests, roots without a setting).
    pub fn default_validator(&self) -> &Validator {
        &self.by_version[&self.default]
    }
}

/// Starts decompressing and indexing the schemas of `versions` on a thread of their own. The
/// first object checked would wait for them (~12 ms) after the walk, on the run's critical
/// path, while the walk leaves a core idle. Whoever asks for them first waits for this load.
pub fn load_schemas_beside(versions: impl IntoIterator<Item = KubeVersion>) {
    let versions: std::collections::BTreeSet<KubeVersion> = versions.into_iter().collect();
    // A thread that cannot be started only leaves the load to the first check.
    let _ = std::thread::Builder::new()
        .name("kgate-schemas".into())
        .spawn(move || {
            for v in versions {
                catalog::kube(v);
            }
        });
}

impl Validator {
    pub fn new(version: KubeVersion, strict: bool) -> Validator {
        Validator {
            version,
            strict,
            repo_crds: HashMap::new(),
            compiled: Mutex::new(HashMap::new()),
        }
    }

    pub fn version(&self) -> KubeVersion {
        self.version
    }

    pub fn strict(&self) -> bool {
        self.strict
    }

    /// Makes the custom resources a CRD object defines validatable (the repository's CRDs
    /// take precedence over the embedded catalog).
    pub fn add_crd(&mut self, crd: &Value) -> usize {
        let schemas = crd::schemas_of(crd);
        let n = schemas.len();
        if let Ok(c) = self.compiled.get_mut() {
            c.clear();
        }
        for s in schemas {
            self.repo_crds.insert((s.api_version, s.kind), s.schema);
        }
        n
    }

    /// The document to compile for an apiVersion/kind, if kgate has a schema for it.
    fn schema_document(&self, api_version: &str, kind: &str) -> Option<Value> {
        let key = (api_version.to_owned(), kind.to_owned());
        let custom = |schema: &Value| {
            let mut s = schema.clone();
            if let Value::Object(m) = &mut s {
                m.insert("$schema".into(), json!(DRAFT));
            }
            s
        };
        let mut doc = if let Some(s) = self.repo_crds.get(&key) {
            custom(s)
        } else if let Some(name) = catalog::kube(self.version).by_gvk.get(&key) {
            json!({
                "$schema": DRAFT,
                "$defs": closure(catalog::kube(self.version), name),
                "$ref": format!("#/$defs/{name}"),
            })
        } else {
            // The catalog holds CRDs' structural schemas: converted as a repository's own.
            custom(&crd::to_json_schema(
                catalog::crd_schema(&key.0, &key.1)?,
                true,
            ))
        };
        if self.strict {
            strictify(&mut doc);
        }
        Some(doc)
    }

    fn compiled_for(&self, api_version: &str, kind: &str) -> Option<Arc<Compiled>> {
        let key = (api_version.to_owned(), kind.to_owned());
        if let Some(hit) = self.compiled.lock().ok().and_then(|c| c.get(&key).cloned()) {
            return hit;
        }
        // An embedded schema (no CRD of the repository's for the kind) is the same for every
        // validator of this version and strictness: compiled once per process.
        let embedded = !self.repo_crds.contains_key(&key);
        let shared_key = (self.version.minor, self.strict, key.clone());
        let shared = embedded
            .then(|| {
                crate::source::locked(embedded_compiled())
                    .get(&shared_key)
                    .cloned()
            })
            .flatten();
        let compiled = match shared {
            Some(compiled) => compiled,
            None => {
                let compiled = self.compile(api_version, kind);
                if embedded {
                    crate::source::locked(embedded_compiled()).insert(shared_key, compiled.clone());
                }
                compiled
            }
        };
        if let Ok(mut c) = self.compiled.lock() {
            c.insert(key, compiled.clone());
        }
        compiled
    }

    /// The schema of an apiVersion/kind compiled, if kgate has one.
    fn compile(&self, api_version: &str, kind: &str) -> Option<Arc<Compiled>> {
        self.schema_document(api_version, kind).and_then(|schema| {
            let validator = jsonschema::draft202012::options()
                .should_validate_formats(false)
                .build(&schema)
                .ok()?;
            let has_cel = schema.to_string().contains("x-kubernetes-validations");
            let has_defaults = defaults::has_defaults(&schema);
            Some(Arc::new(Compiled {
                validator,
                schema,
                has_cel,
                has_defaults,
            }))
        })
    }

    /// Every schema problem of one object, as violations of the schema rules.
    pub fn check(&self, object: &Value) -> Vec<Violation> {
        let (Some(api_version), Some(kind)) = (
            object.get("apiVersion").and_then(Value::as_str),
            object.get("kind").and_then(Value::as_str),
        ) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        let at_api = Some(vec![PathSegment::Key("apiVersion".into())]);
        match deprecations::status(api_version, kind, self.version) {
            Some(deprecations::Status::Removed(d)) => {
                out.push(Violation {
                    rule: REMOVED_API.into(),
                    message: format!(
                        "{api_version} {kind} was removed in Kubernetes 1.{}; the target cluster ({}) rejects it: use {}",
                        d.removed_in, self.version, d.replacement
                    ),
                    path: at_api,
                    object: None,
                });
                return out;
            }
            Some(deprecations::Status::Deprecated(d)) => out.push(Violation {
                rule: DEPRECATED_API.into(),
                message: format!(
                    "{api_version} {kind} is deprecated and will be removed in Kubernetes 1.{}: use {}",
                    d.removed_in, d.replacement
                ),
                path: at_api.clone(),
                object: None,
            }),
            None => {}
        }
        let Some(compiled) = self.compiled_for(api_version, kind) else {
            out.push(Violation {
                rule: SCHEMA_MISSING.into(),
                message: format!(
                    "no schema for {api_version} {kind}: not a Kubernetes {} kind, and no CustomResourceDefinition for it in the repository or in kgate's catalog, so it was not validated",
                    self.version
                ),
                path: at_api,
                object: None,
            });
            return out;
        };
        let mut as_served = as_the_api_server_sees_it(object);
        if compiled.has_defaults {
            defaults::apply(&compiled.schema, &compiled.schema, as_served.to_mut(), 0);
        }
        let instance = as_served.as_ref();
        let mut problems = Vec::new();
        if !compiled.validator.is_valid(instance) {
            let secret = kind == "Secret";
            for err in compiled.validator.iter_errors(instance) {
                problems.extend(condense(&err, instance, &compiled.schema, secret));
            }
        }
        if compiled.has_cel {
            cel::check(&compiled.schema, instance, &mut problems);
        }
        let mut seen = BTreeSet::new();
        for p in problems {
            if seen.insert((p.rule, p.pointer.clone(), p.message.clone())) {
                out.push(Violation {
                    rule: p.rule.into(),
                    message: p.message,
                    path: Some(segments(instance, &p.pointer)),
                    object: None,
                });
            }
        }
        out
    }
}

/// The object as the API server validates it: SOPS keeps its metadata beside the object (the
/// server never sees it), and a field set to an explicit `null` (`spec:` with only comments
/// under it) is dropped before validation: Go's decoder leaves a built-in type's field unset,
/// and for custom resources the server prunes nulls of fields that are not `nullable`. kgate
/// drops every null map value; a `nullable` field's null is valid either way.
fn as_the_api_server_sees_it(object: &Value) -> std::borrow::Cow<'_, Value> {
    fn has_null(v: &Value) -> bool {
        match v {
            Value::Object(m) => m.values().any(|v| v.is_null() || has_null(v)),
            Value::Array(a) => a.iter().any(has_null),
            _ => false,
        }
    }
    let sops = object.get("sops").is_some_and(Value::is_object);
    if !sops && !has_null(object) {
        return std::borrow::Cow::Borrowed(object);
    }
    let mut o = object.clone();
    if let (true, Value::Object(m)) = (sops, &mut o) {
        m.remove("sops");
    }
    drop_nulls(&mut o);
    std::borrow::Cow::Owned(o)
}

/// Removes fields set to `null`, at every depth.
fn drop_nulls(v: &mut Value) {
    match v {
        Value::Object(m) => {
            m.retain(|_, v| !v.is_null());
            m.values_mut().for_each(drop_nulls);
        }
        Value::Array(a) => a.iter_mut().for_each(drop_nulls),
        _ => {}
    }
}

/// `object` as the API server stores it, which is what policies are evaluated on: fields set
/// to an explicit `null` (`annotations:` with only comments under it, a Helm template's
/// empty `matchLabels:`) are dropped, so a rule reading them sees an absent field rather
/// than a null its Rego built-ins reject.
pub fn as_stored(mut object: Value) -> Value {
    drop_nulls(&mut object);
    object
}

/// The definitions `name` refers to, directly or not (a kind's schema without the other
/// 600 definitions of the API, so it compiles fast).
fn closure(defs: &catalog::KubeSchemas, name: &str) -> Map<String, Value> {
    let mut out = Map::new();
    let mut todo = vec![name.to_owned()];
    while let Some(n) = todo.pop() {
        if out.contains_key(&n) {
            continue;
        }
        let Some(def) = defs.def(&n) else {
            continue;
        };
        refs(def, &mut todo);
        out.insert(n, def.clone());
    }
    out
}

fn refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            if let Some(Value::String(r)) = m.get("$ref")
                && let Some(name) = r.strip_prefix("#/$defs/")
            {
                out.push(name.to_owned());
            }
            m.values().for_each(|x| refs(x, out));
        }
        Value::Array(a) => a.iter().for_each(|x| refs(x, out)),
        _ => {}
    }
}

/// Every schema, not property maps: `f` on each subschema of `s`, depth first.
fn each_schema(s: &mut Value, f: &mut dyn FnMut(&mut Map<String, Value>)) {
    let Value::Object(m) = s else {
        return;
    };
    f(m);
    for key in ["properties", "patternProperties", "$defs", "definitions"] {
        if let Some(Value::Object(props)) = m.get_mut(key) {
            props.values_mut().for_each(|p| each_schema(p, f));
        }
    }
    for key in ["items", "additionalProperties", "not"] {
        if let Some(v) = m.get_mut(key) {
            each_schema(v, f);
        }
    }
    for key in ["oneOf", "anyOf", "allOf", "prefixItems"] {
        if let Some(Value::Array(a)) = m.get_mut(key) {
            a.iter_mut().for_each(|x| each_schema(x, f));
        }
    }
}

/// Strict mode: an object schema with declared properties allows no others (unless it
/// preserves unknown fields), as the `-strict` variant of the Kubernetes schemas does.
fn strictify(s: &mut Value) {
    each_schema(s, &mut |m| {
        let preserve = m.get("x-kubernetes-preserve-unknown-fields") == Some(&Value::Bool(true));
        if m.contains_key("properties") && !m.contains_key("additionalProperties") && !preserve {
            m.insert("additionalProperties".into(), Value::Bool(false));
        }
    });
}

struct Problem {
    rule: &'static str,
    pointer: String,
    message: String,
}

/// `/spec/containers/0/image` as a person reads it: `spec.containers[0].image`.
fn display_path(instance: &Value, pointer: &str) -> String {
    let mut out = String::new();
    let mut cur = Some(instance);
    for raw in pointer.split('/').skip(1) {
        let seg = raw.replace("~1", "/").replace("~0", "~");
        match cur {
            Some(Value::Array(a)) => {
                out.push_str(&format!("[{seg}]"));
                cur = seg.parse::<usize>().ok().and_then(|i| a.get(i));
            }
            other => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(&seg);
                cur = other.and_then(|o| o.get(&seg));
            }
        }
    }
    if out.is_empty() {
        "(object)".to_owned()
    } else {
        out
    }
}

fn segments(instance: &Value, pointer: &str) -> Vec<PathSegment> {
    let mut out = Vec::new();
    let mut cur = Some(instance);
    for raw in pointer.split('/').skip(1) {
        let seg = raw.replace("~1", "/").replace("~0", "~");
        match (cur, seg.parse::<usize>()) {
            (Some(Value::Array(a)), Ok(i)) => {
                cur = a.get(i);
                out.push(PathSegment::Index(i));
            }
            _ => {
                cur = cur.and_then(|c| c.get(&seg));
                out.push(PathSegment::Key(seg));
            }
        }
    }
    out
}

fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

fn shown(v: &Value, secret: bool) -> String {
    if secret {
        return "the value".to_owned();
    }
    let s = v.to_string();
    if s.chars().count() > 60 {
        format!("{}...", s.chars().take(57).collect::<String>())
    } else {
        s
    }
}

/// A string Flux substitutes (`${VAR}`) or SOPS encrypted (`ENC[...]`): its final value is
/// unknown here. Returns the literal text around the placeholders.
fn placeholder_residue(v: &Value) -> Option<String> {
    let s = v.as_str()?;
    if s.starts_with("ENC[") && s.ends_with(']') {
        return Some(String::new());
    }
    if !s.contains("${") {
        return None;
    }
    let mut residue = String::new();
    let mut rest = s;
    while let Some(i) = rest.find("${") {
        residue.push_str(&rest[..i]);
        match rest[i..].find('}') {
            Some(j) => rest = &rest[i + j + 1..],
            None => return None,
        }
    }
    residue.push_str(rest);
    Some(residue)
}

/// Whether a substituted value could have one of the `wanted` JSON types.
fn could_become(residue: &str, wanted: &[String]) -> bool {
    wanted.iter().any(|t| match t.as_str() {
        "string" => true,
        "integer" | "number" => residue
            .chars()
            .all(|c| c.is_ascii_digit() || c == '-' || c == '.' || c == 'e' || c == '+'),
        _ => residue.is_empty(),
    })
}

fn type_names(kind: &jsonschema::error::TypeKind) -> Vec<String> {
    let text = match kind {
        jsonschema::error::TypeKind::Single(t) => vec![t.to_string()],
        jsonschema::error::TypeKind::Multiple(set) => set.iter().map(|t| t.to_string()).collect(),
    };
    text.into_iter().filter(|t| t != "null").collect()
}

fn or_list(items: &[String]) -> String {
    match items {
        [] => "nothing".to_owned(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

/// The problems one schema error stands for, in the user's terms; none where the value
/// holds a placeholder (`${VAR}`, `ENC[...]`) whose final value could still be valid.
fn condense(
    err: &jsonschema::ValidationError<'_>,
    instance: &Value,
    schema: &Value,
    secret: bool,
) -> Vec<Problem> {
    use jsonschema::error::ValidationErrorKind as K;
    let pointer = err.instance_path().as_str().to_owned();
    let value = instance.pointer(&pointer).unwrap_or(&Value::Null);
    let path = display_path(instance, &pointer);
    let residue = placeholder_residue(value);
    let invalid = |message: String| {
        vec![Problem {
            rule: SCHEMA_INVALID,
            pointer: pointer.clone(),
            message,
        }]
    };
    match err.kind() {
        K::AdditionalProperties { unexpected } => {
            unknown_fields(err, schema, &pointer, &path, unexpected)
        }
        K::Type { kind } => {
            let wanted = type_names(kind);
            if residue.as_deref().is_some_and(|r| could_become(r, &wanted)) {
                return Vec::new();
            }
            invalid(format!(
                "{path}: {} is not of type {}",
                shown(value, secret),
                or_list(&wanted)
            ))
        }
        K::OneOfNotValid { context } | K::AnyOf { context } => {
            if residue.is_some() {
                return Vec::new();
            }
            // int-or-string and quantities: every branch is just a type.
            if let Some(types) = branch_types(context, &pointer) {
                return invalid(format!(
                    "{path}: {} is not of type {}",
                    shown(value, secret),
                    or_list(&types)
                ));
            }
            // Otherwise the branch that came closest says what to fix.
            closest_branch(context, instance, schema, secret)
                .unwrap_or_else(|| invalid(format!("{path}: matches none of the allowed forms")))
        }
        K::Required { property } => invalid(format!(
            "{path}: missing required field {}",
            property
                .as_str()
                .map_or_else(|| property.to_string(), |p| format!("`{p}`"))
        )),
        K::Enum { options } => {
            if residue.is_some() {
                return Vec::new();
            }
            invalid(format!(
                "{path}: {} is not one of {}",
                shown(value, secret),
                options
            ))
        }
        K::Pattern { pattern } => {
            if residue.is_some() {
                return Vec::new();
            }
            invalid(format!(
                "{path}: {} does not match the pattern `{pattern}`",
                shown(value, secret)
            ))
        }
        K::Constant { expected_value } => invalid(format!(
            "{path}: {} must be {expected_value}",
            shown(value, secret)
        )),
        _ => {
            if residue.is_some() {
                return Vec::new();
            }
            let detail = if secret {
                format!("violates `{}`", err.kind().keyword())
            } else {
                err.to_string()
            };
            invalid(format!("{path}: {detail}"))
        }
    }
}

/// One `unknown-field` problem per field the schema at `err` does not declare, with the
/// declared field it is probably a typo of.
fn unknown_fields(
    err: &jsonschema::ValidationError<'_>,
    schema: &Value,
    pointer: &str,
    path: &str,
    unexpected: &[String],
) -> Vec<Problem> {
    let parent = err
        .schema_path()
        .as_str()
        .strip_suffix("/additionalProperties")
        .unwrap_or("");
    let known: Vec<String> = schema
        .pointer(parent)
        .and_then(|s| s.get("properties"))
        .and_then(Value::as_object)
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default();
    unexpected
        .iter()
        .map(|field| {
            let hint = closest(field, &known)
                .map(|k| format!(" (did you mean `{k}`?)"))
                .unwrap_or_default();
            let at = if path == "(object)" {
                field.clone()
            } else {
                format!("{path}.{field}")
            };
            Problem {
                rule: UNKNOWN_FIELD,
                pointer: format!("{pointer}/{}", escape(field)),
                message: format!("{at}: unknown field `{field}`{hint}"),
            }
        })
        .collect()
}

/// The types a `oneOf`/`anyOf` allows at `pointer`, when each of its branches only failed
/// on the type of that value.
fn branch_types(
    context: &[Vec<jsonschema::ValidationError<'_>>],
    pointer: &str,
) -> Option<Vec<String>> {
    use jsonschema::error::ValidationErrorKind as K;
    let mut types = Vec::new();
    let only_types = context.iter().all(|branch| {
        branch.iter().all(|e| match e.kind() {
            K::Type { kind } if e.instance_path().as_str() == pointer => {
                types.extend(type_names(kind));
                true
            }
            _ => false,
        })
    });
    if only_types && !types.is_empty() {
        types.dedup();
        return Some(types);
    }
    None
}

/// The problems of the `oneOf`/`anyOf` branch with the fewest errors; `None` when no
/// branch has any.
fn closest_branch(
    context: &[Vec<jsonschema::ValidationError<'_>>],
    instance: &Value,
    schema: &Value,
    secret: bool,
) -> Option<Vec<Problem>> {
    let best = context
        .iter()
        .filter(|b| !b.is_empty())
        .min_by_key(|b| b.len())?;
    Some(
        best.iter()
            .flat_map(|e| condense(e, instance, schema, secret))
            .collect(),
    )
}

/// The declared field closest to a misspelt one, when it is close enough to be the typo.
fn closest(field: &str, known: &[String]) -> Option<String> {
    let lower = field.to_ascii_lowercase();
    known
        .iter()
        .map(|k| {
            let d = strsim::damerau_levenshtein(&lower, &k.to_ascii_lowercase());
            (d, k)
        })
        .filter(|(d, k)| *d <= 2.max(k.len() / 4))
        .min()
        .map(|(_, k)| k.clone())
}

#[cfg(test)]
mod tests;
