//! Regular expressions kustomize compiles from configuration (patch target names, `images`
//! names), compiled once per thread: a cluster root compares every image and patch target of
//! hundreds of overlays with the same few patterns, and compiling them each time was a
//! twentieth of a whole check.

use std::cell::RefCell;
use std::collections::HashMap;

use regex::Regex;

/// Patterns kept per thread; beyond this the cache starts over (a repository with more
/// distinct patterns than this pays compilation again, nothing else).
const CACHED: usize = 1024;

thread_local! {
    static COMPILED: RefCell<HashMap<String, Result<Regex, String>>> = RefCell::new(HashMap::new());
}

/// Whether `pattern` (a complete regular expression, anchors included) matches `value`, or
/// why the pattern is invalid.
pub fn is_match(pattern: &str, value: &str) -> Result<bool, String> {
    COMPILED.with(|c| {
        let mut cache = c.borrow_mut();
        if let Some(compiled) = cache.get(pattern) {
            return compiled
                .as_ref()
                .map(|re| re.is_match(value))
                .map_err(Clone::clone);
        }
        if cache.len() >= CACHED {
            cache.clear();
        }
        let compiled = Regex::new(pattern).map_err(|e| e.to_string());
        let out = compiled
            .as_ref()
            .map(|re| re.is_match(value))
            .map_err(Clone::clone);
        cache.insert(pattern.to_owned(), compiled);
        out
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_and_remembers_invalid_patterns() {
        assert_eq!(is_match("^a.c$", "abc"), Ok(true));
        assert_eq!(is_match("^a.c$", "abd"), Ok(false));
        assert!(is_match("^(a$", "a").is_err());
        assert!(is_match("^(a$", "a").is_err());
    }
}
