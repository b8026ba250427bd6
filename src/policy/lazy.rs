//! The interpreter's engine, parsed when first needed.
//!
//! With the policies' programs stored (or embedded) the VM evaluates every rule, and the
//! interpreter is only the fallback for an object the VM fails on: parsing every policy
//! into it at each load was ~5% of a warm one-app check's instructions. A load that takes
//! stored programs lists the modules ([`Modules::later`]); the engine is made from the list
//! the first time an evaluator needs it. The texts are those that were parsed, analysed
//! and compiled when the programs were stored (the programs are keyed by their hash), so
//! making the engine later does not fail where loading did not.

use std::sync::OnceLock;
use std::time::Duration;

use super::{PolicyError, PolicySource, add_policy, budget, new_engine, timer_config};

/// What an engine is made of: the guards installed, then the modules in order.
#[derive(Debug, Clone, Default)]
pub(super) struct Recipe {
    sprintf: bool,
    expanders: bool,
    modules: Vec<PolicySource>,
}

impl Recipe {
    fn fresh_engine(&self) -> regorus::Engine {
        let mut engine = new_engine();
        if self.sprintf {
            budget::install_sprintf(&mut engine);
        }
        if self.expanders {
            budget::install_expanders(&mut engine);
        }
        engine
    }

    fn build(&self) -> Result<regorus::Engine, PolicyError> {
        let mut engine = self.fresh_engine();
        for m in &self.modules {
            add_policy(&mut engine, m)?;
        }
        Ok(engine)
    }
}

/// Where a load adds the policy modules: parsed now (the programs are compiled from the
/// engine), or listed for later.
pub(super) enum Modules {
    Now(Box<regorus::Engine>),
    Later(Recipe),
}

impl Modules {
    /// `sprintf`, `expanders`: the guards of [`budget`] the policies need.
    pub(super) fn now(sprintf: bool, expanders: bool) -> Modules {
        Modules::Now(Box::new(
            Recipe {
                sprintf,
                expanders,
                ..Recipe::default()
            }
            .fresh_engine(),
        ))
    }

    pub(super) fn later(sprintf: bool, expanders: bool) -> Modules {
        Modules::Later(Recipe {
            sprintf,
            expanders,
            modules: Vec::new(),
        })
    }

    /// Adds `src`; its package (`data.a.b`). A listed module's package is read off its
    /// `package` line; one that is not a plain dotted name is parsed, and so is every module
    /// from then on.
    pub(super) fn add(&mut self, src: &PolicySource) -> Result<String, PolicyError> {
        match self {
            Modules::Now(engine) => add_policy(engine, src),
            Modules::Later(recipe) => match package_of(&src.text) {
                Some(package) => {
                    recipe.modules.push(src.clone());
                    Ok(package)
                }
                None => {
                    let mut engine = recipe.build()?;
                    let package = add_policy(&mut engine, src)?;
                    *self = Modules::Now(Box::new(engine));
                    Ok(package)
                }
            },
        }
    }

    /// The engine, when the modules were parsed.
    pub(super) fn engine(&self) -> Option<&regorus::Engine> {
        match self {
            Modules::Now(engine) => Some(engine),
            Modules::Later(_) => None,
        }
    }

    pub(super) fn into_lazy(self) -> LazyEngine {
        let (recipe, built) = match self {
            Modules::Now(engine) => (Recipe::default(), OnceLock::from(Ok(*engine))),
            Modules::Later(recipe) => (recipe, OnceLock::new()),
        };
        LazyEngine {
            recipe,
            timeout: super::EVAL_TIME_LIMIT,
            built,
        }
    }
}

/// The loaded policies' engine, made on first use from the listed modules.
#[derive(Debug, Clone)]
pub(crate) struct LazyEngine {
    recipe: Recipe,
    timeout: Duration,
    built: OnceLock<Result<regorus::Engine, String>>,
}

impl LazyEngine {
    /// The engine (made now if it was not), or why it could not be made.
    pub(crate) fn get(&self) -> Result<&regorus::Engine, &str> {
        self.built
            .get_or_init(|| {
                let mut engine = self.recipe.build().map_err(|e| e.to_string())?;
                engine.set_execution_timer_config(timer_config(self.timeout));
                Ok(engine)
            })
            .as_ref()
            .map_err(String::as_str)
    }

    /// Whether the engine was made.
    #[cfg(test)]
    pub(crate) fn is_built(&self) -> bool {
        self.built.get().is_some()
    }

    pub(super) fn set_timeout(&mut self, timeout: Duration) {
        self.timeout = timeout;
        if let Some(Ok(engine)) = self.built.get_mut() {
            engine.set_execution_timer_config(timer_config(timeout));
        }
    }
}

/// The package a Rego module's `package` line declares, as regorus names it (`data.a.b`),
/// when the line is a plain dotted name (optionally followed by a comment); `None` for any
/// other form (a quoted part, a line regorus would read otherwise), which is then parsed.
fn package_of(text: &str) -> Option<String> {
    let line = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))?;
    let rest = line.strip_prefix("package")?;
    let name = rest.split('#').next()?.trim();
    if !rest.starts_with([' ', '\t']) || name.is_empty() {
        return None;
    }
    let plain = name.split('.').all(|part| {
        let mut chars = part.chars();
        chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
    });
    plain.then(|| format!("data.{name}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The package read off the `package` line is the one regorus parses, for every module
    /// of the built-in library.
    #[test]
    fn the_package_line_names_the_package_regorus_parses() {
        let sources = crate::policy::builtin_sources();
        assert!(sources.len() > 40);
        for src in &sources {
            let parsed = add_policy(&mut new_engine(), src).expect("parses");
            assert_eq!(
                package_of(&src.text).as_deref(),
                Some(parsed.as_str()),
                "{}",
                src.path
            );
        }
    }

    #[test]
    fn a_package_line_that_is_not_a_plain_name_is_left_to_the_parser() {
        assert_eq!(
            package_of("# METADATA\n# title: x\n\npackage a.b_c # why\n\ndeny := []"),
            Some("data.a.b_c".to_owned())
        );
        for text in [
            "package a[\"b-c\"]\n",
            "package a.\"b\"\n",
            "packages a\n",
            "package\n",
            "package a..b\n",
            "package 1a\n",
            "import rego.v1\npackage a\n",
            "",
        ] {
            assert_eq!(package_of(text), None, "{text:?}");
        }
    }

    /// A module listed for later whose package line is not plain: it and every module
    /// before it are parsed at once, with the parser's package.
    #[test]
    fn a_module_that_needs_parsing_parses_the_listed_ones_too() {
        let mut modules = Modules::later(false, false);
        let src = |path: &str, text: &str| PolicySource {
            path: path.to_owned(),
            text: text.to_owned(),
        };
        let a = modules.add(&src("a.rego", "package a\n\nx := 1\n"));
        assert_eq!(a, Ok("data.a".to_owned()));
        assert!(modules.engine().is_none());
        let b = modules.add(&src("b.rego", "package b[\"c\"]\n\ny := data.a.x\n"));
        assert_eq!(b, Ok("data.b.c".to_owned()));
        let mut engine = modules.engine().expect("parsed").clone();
        let got = engine
            .eval_rule("data.b.c.y".to_owned())
            .expect("evaluates");
        assert_eq!(got, regorus::Value::from(1));
    }

    /// A listed engine is made when first asked for, with the timeout set before.
    #[test]
    fn a_listed_engine_is_made_when_first_asked_for() {
        let mut modules = Modules::later(false, false);
        let src = PolicySource {
            path: "a.rego".to_owned(),
            text: "package a\n\nx := 2\n".to_owned(),
        };
        modules.add(&src).expect("listed");
        let mut lazy = modules.into_lazy();
        lazy.set_timeout(Duration::from_secs(1));
        assert!(!lazy.is_built());
        let mut engine = lazy.get().expect("made").clone();
        assert!(lazy.is_built());
        let got = engine.eval_rule("data.a.x".to_owned()).expect("evaluates");
        assert_eq!(got, regorus::Value::from(2));
    }
}
