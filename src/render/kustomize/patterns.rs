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

/// The most memory a cached pattern may take (its compiled program, and its lazy DFA's
/// cache), so the cache holds at most `CACHED` x 2 x this per thread, whatever a
/// repository's patterns are: the regex crate's defaults (10 MiB and 2 MiB) would let 1,024
/// crafted patterns (`a{1000}{9}`...) hold gigabytes. Real patterns (names, globs turned
/// into regexes) compile to a few KiB; a larger one is compiled with the defaults each time
/// it is used, and not kept.
const CACHED_SIZE: usize = 64 * 1024;

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
        let small = regex::RegexBuilder::new(pattern)
            .size_limit(CACHED_SIZE)
            .dfa_size_limit(CACHED_SIZE)
            .build();
        let compiled = match small {
            Err(regex::Error::CompiledTooBig(_)) => {
                return Regex::new(pattern)
                    .map(|re| re.is_match(value))
                    .map_err(|e| e.to_string());
            }
            other => other.map_err(|e| e.to_string()),
        };
        let out = compiled
            .as_ref()
            .map(|re| re.is_match(value))
            .map_err(Clone::clone);
        cache.insert(pattern.to_owned(), compiled);
        out
    })
}

/// Whether a pattern is plain text but for `.` (any character but a newline), the common
/// case of an `images` name (`registry.example.com/team/app`). Such a pattern is always
/// valid, and matches exactly as many characters as it has.
pub fn is_literal(pattern: &str) -> bool {
    !pattern.contains([
        '\\', '+', '*', '?', '(', ')', '|', '[', ']', '{', '}', '^', '$',
    ])
}

/// kustomize's `IsImageMatched`: `^{name}(:[a-zA-Z0-9_.{}-]*)?(@sha256:[a-zA-Z0-9_.{}-]*)?$`.
/// A literal name is matched without compiling it: every overlay's `images` names its own
/// image, so compiling each (once per thread) was a tenth of a `--changed-since` run.
pub fn image_matches(image: &str, name: &str) -> Result<bool, String> {
    if !is_literal(name) {
        return is_match(
            &format!("^{name}(:[a-zA-Z0-9_.{{}}-]*)?(@sha256:[a-zA-Z0-9_.{{}}-]*)?$"),
            image,
        );
    }
    let mut rest = image.chars();
    for n in name.chars() {
        match rest.next() {
            Some(c) if c == n || (n == '.' && c != '\n') => {}
            _ => return Ok(false),
        }
    }
    let tag_char = |c: char| c.is_ascii_alphanumeric() || "_.{}-".contains(c);
    let mut rest = rest.as_str();
    if let Some(tag) = rest.strip_prefix(':') {
        rest = tag.trim_start_matches(tag_char);
    }
    if let Some(digest) = rest.strip_prefix("@sha256:") {
        rest = digest.trim_start_matches(tag_char);
    }
    Ok(rest.is_empty())
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

    /// A pattern too large to keep still matches as the regex crate matches it, and is not
    /// cached: a repository cannot fill the cache with large compiled programs.
    #[test]
    fn large_patterns_match_but_are_not_kept() {
        let big = "^(a{20000}|b)$";
        assert!(matches!(
            regex::RegexBuilder::new(big)
                .size_limit(CACHED_SIZE)
                .build(),
            Err(regex::Error::CompiledTooBig(_))
        ));
        assert_eq!(is_match(big, "b"), Ok(true));
        assert_eq!(is_match(big, &"a".repeat(20000)), Ok(true));
        assert_eq!(is_match(big, "c"), Ok(false));
        COMPILED.with(|c| assert!(!c.borrow().contains_key(big)));
        // Past the crate's own limit it is an invalid pattern, as before.
        assert!(is_match("^a{1000}{1000}$", "a").is_err());
    }

    /// The literal path gives what the regular expression gives.
    #[test]
    fn literal_image_names_match_as_the_pattern_does() {
        let names = ["nginx", "registry.example.com/web", "a.b", "x", "ngin."];
        let images = [
            "nginx",
            "nginx:1.25",
            "nginx@sha256:abc",
            "nginx:1.2@sha256:ab",
            "nginx:",
            "nginx@",
            "nginx@sha256:",
            "nginx:1.25:2",
            "nginx-unprivileged",
            "docker.io/nginx",
            "ngin",
            "nginxx",
            "nginx:a b",
            "registry.example.com/web:1",
            "registryXexampleYcom/web",
            "a\nb",
            "aXb",
            "ab",
            "x:{{.Tag}}",
            "x@sha256:abc@sha256:d",
            "ngin\n",
            "nginé",
        ];
        for name in names {
            assert!(is_literal(name));
            let pattern = format!("^{name}(:[a-zA-Z0-9_.{{}}-]*)?(@sha256:[a-zA-Z0-9_.{{}}-]*)?$");
            for image in images {
                assert_eq!(
                    image_matches(image, name),
                    is_match(&pattern, image),
                    "{image:?} against {name:?}"
                );
            }
        }
        assert!(!is_literal("nginx|redis"));
        assert_eq!(image_matches("redis:7", "nginx|redis"), Ok(true));
    }
}
