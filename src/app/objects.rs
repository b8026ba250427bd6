//! Checks of one object and of one plain manifest file: schema validation and policy
//! evaluation, turned into findings at the object's source lines. Roots (`roots.rs`) and
//! plain files share them.

use std::collections::BTreeMap;
use std::sync::Arc;

use rayon::prelude::*;

use crate::model::rules::{self, RuleInfo};
use crate::model::{Finding, Location, Severity};
use crate::policy::{EvalError, Evaluator, EvaluatorPool, PolicySet, Violation};
use crate::render::manifest::{self, Manifest};
use crate::source::{FileTable, SourceFile};
use crate::validate::Validator;
use crate::yaml::Pos;

/// What checking objects needs, shared by every worker.
pub struct ObjectChecks<'a> {
    pub rules: &'a BTreeMap<String, RuleInfo>,
    /// Rules not evaluated (disabled, or needing parameters that are not set).
    pub disabled: &'a [String],
    /// The file table every file is read through.
    pub sources: &'a Arc<FileTable>,
}

/// Checks every plain manifest file in parallel: findings and the number of objects.
pub fn check_files(
    files: &[SourceFile],
    policies: &PolicySet,
    validator: &Validator,
    context: &serde_json::Value,
    checks: &ObjectChecks<'_>,
) -> (Vec<Finding>, usize) {
    let evaluators = EvaluatorPool::new(policies);
    let per_file: Vec<(Vec<Finding>, usize)> = files
        .par_iter()
        .map(|file| evaluators.with(|ev| check_file(ev, validator, context, file, checks)))
        .collect();
    let mut findings = Vec::new();
    let mut objects = 0;
    for (f, n) in per_file {
        findings.extend(f);
        objects += n;
    }
    (findings, objects)
}

/// Schema problems of one object, for `evaluate::findings` beside the policy results.
pub fn schema_results(
    validator: &Validator,
    object: &serde_json::Value,
    disabled: &[String],
) -> Vec<Result<Violation, EvalError>> {
    validator
        .check(object)
        .into_iter()
        .filter(|v| !disabled.contains(&v.rule))
        .map(Ok)
        .collect()
}

/// Under `--strict` a kind without schema is an error, not a note.
pub fn strict_severity(findings: &mut [Finding], strict: bool) {
    if strict {
        for f in findings
            .iter_mut()
            .filter(|f| f.rule == rules::SCHEMA_MISSING)
        {
            f.severity = Severity::Error;
        }
    }
}

fn check_file(
    ev: &mut Evaluator,
    validator: &Validator,
    context: &serde_json::Value,
    file: &SourceFile,
    checks: &ObjectChecks<'_>,
) -> (Vec<Finding>, usize) {
    let loaded = manifest::load_file(file, checks.sources);
    let mut findings = loaded.findings;
    let inventory: Vec<serde_json::Value> = loaded
        .objects
        .iter()
        .map(|o| crate::validate::as_stored(o.node.to_json()))
        .collect();
    ev.set_inventory(&inventory);
    for object in &loaded.objects {
        findings.extend(evaluate_object(ev, validator, context, object, checks));
    }
    (findings, loaded.objects.len())
}

/// Plain manifests: every node is in the object's own file.
struct FileLocator<'a>(&'a str);

impl crate::policy::findings::Locator for FileLocator<'_> {
    fn location(&self, _: crate::yaml::FileId, pos: Pos, end: Option<Pos>) -> Location {
        let loc = Location::new(self.0, pos);
        match end {
            Some(e) => loc.with_end(e),
            None => loc,
        }
    }
}

fn evaluate_object(
    ev: &mut Evaluator,
    validator: &Validator,
    context: &serde_json::Value,
    object: &Manifest,
    checks: &ObjectChecks<'_>,
) -> Vec<Finding> {
    let (rules, disabled) = (checks.rules, checks.disabled);
    let input = crate::validate::as_stored(object.node.to_json());
    let mut results = schema_results(validator, &input, disabled);
    results.extend(ev.evaluate(input, context, |id| !disabled.iter().any(|d| d == id)));
    let mut findings = crate::policy::findings::findings(
        results,
        &object.node,
        &object.id,
        &[],
        rules,
        &FileLocator(&object.file),
    );
    strict_severity(&mut findings, validator.strict());
    findings
}
