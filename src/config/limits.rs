//! `limits:` — resource ceilings: file size, and time and memory of policy evaluation.

use std::time::Duration;

use super::ConfigError;
use super::decoder::Decoder;
use crate::yaml::{Node, Value};

/// Default for `limits.maxFileSize`: 16 MiB. etcd caps one object at ~1.5 MiB, so a
/// manifest file ten times that is almost certainly generated output or a mistake.
pub const DEFAULT_MAX_FILE_SIZE: u64 = 16 * 1024 * 1024;

/// Default for `limits.policyTimeout`: the built-in rules take about a millisecond per
/// object, so five seconds only stops a policy that does not terminate.
pub const DEFAULT_POLICY_TIMEOUT: Duration = Duration::from_secs(5);

/// Default for `limits.policyMemory`: the whole 200-app gate lives in ~100 MB; 4 GiB stops a
/// runaway comprehension before a CI runner (7 GB on GitHub's) kills the job.
pub const DEFAULT_POLICY_MEMORY: u64 = 4 * 1024 * 1024 * 1024;

#[derive(Debug, Clone, PartialEq)]
pub struct LimitsConfig {
    pub max_file_size: u64,
    /// `limits.policyTimeout`: wall-clock budget of one policy evaluation (one object).
    pub policy_timeout: Duration,
    /// `limits.policyMemory`: memory ceiling while policies evaluate (process-wide: regorus
    /// checks the allocator's live bytes).
    pub policy_memory: u64,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        LimitsConfig {
            max_file_size: DEFAULT_MAX_FILE_SIZE,
            policy_timeout: DEFAULT_POLICY_TIMEOUT,
            policy_memory: DEFAULT_POLICY_MEMORY,
        }
    }
}

pub(super) fn parse(d: &Decoder, node: &Node) -> Result<LimitsConfig, ConfigError> {
    let mut limits = LimitsConfig::default();
    for e in d.map(
        node,
        "limits",
        &["maxFileSize", "policyTimeout", "policyMemory"],
    )? {
        match e.key.as_str() {
            "maxFileSize" => limits.max_file_size = size(d, &e.value, "maxFileSize")?,
            "policyMemory" => limits.policy_memory = size(d, &e.value, "policyMemory")?,
            _ => limits.policy_timeout = duration(d, &e.value)?,
        }
    }
    Ok(limits)
}

/// A duration such as `5s`, `500ms` or `2m`.
fn duration(d: &Decoder, node: &Node) -> Result<Duration, ConfigError> {
    let bad = || {
        d.err(
            node.start,
            "limits.policyTimeout must be a positive duration such as 5s, 500ms or 1m".to_owned(),
            None,
        )
    };
    let Value::String(s) = &node.value else {
        return Err(bad());
    };
    let (n, unit) = number_and_unit(s).ok_or_else(bad)?;
    let duration = match unit {
        "ms" => Duration::from_millis(n),
        "s" => Duration::from_secs(n),
        "m" => Duration::from_secs(n.saturating_mul(60)),
        _ => return Err(bad()),
    };
    if duration.is_zero() {
        return Err(bad());
    }
    Ok(duration)
}

/// A size in bytes: an integer, or a string with a unit (`512KiB`, `16MiB`, `1GB`).
fn size(d: &Decoder, node: &Node, key: &str) -> Result<u64, ConfigError> {
    let bad = || {
        d.err(
            node.start,
            format!("limits.{key} must be a positive size such as 16MiB, 500KB or 1048576"),
            None,
        )
    };
    match &node.value {
        Value::Int(i) if *i > 0 => Ok(*i as u64),
        Value::String(s) => {
            let (n, unit) = number_and_unit(s).ok_or_else(bad)?;
            let mult: u64 = match unit {
                "" | "B" => 1,
                "KB" | "kB" => 1000,
                "KiB" => 1024,
                "MB" => 1000 * 1000,
                "MiB" => 1024 * 1024,
                "GB" => 1000 * 1000 * 1000,
                "GiB" => 1024 * 1024 * 1024,
                _ => return Err(bad()),
            };
            match n.checked_mul(mult) {
                Some(v) if v > 0 => Ok(v),
                _ => Err(bad()),
            }
        }
        _ => Err(bad()),
    }
}

/// `12 MiB` as (12, "MiB"): leading digits and the (trimmed) rest; `None` without digits.
fn number_and_unit(s: &str) -> Option<(u64, &str)> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    Some((num.parse().ok()?, unit.trim()))
}

#[cfg(test)]
mod tests {
    use super::super::decoder::error_at;

    #[test]
    fn invalid_limits_name_their_line() {
        let (line, msg) = error_at("limits:\n  maxFileSize: 1MiB\n  policyMemory: 0\n");
        assert_eq!(
            (line, msg.as_str()),
            (
                3,
                "limits.policyMemory must be a positive size such as 16MiB, 500KB or 1048576"
            )
        );
        let (line, msg) = error_at("limits:\n  maxFileSize: 99999999999999999999B\n");
        assert_eq!(line, 2);
        assert!(msg.starts_with("limits.maxFileSize"), "{msg}");
        let (line, msg) = error_at("limits:\n  maxFileSize: 1MiB\n  policyTimeout: 3h\n");
        assert_eq!(
            (line, msg.as_str()),
            (
                3,
                "limits.policyTimeout must be a positive duration such as 5s, 500ms or 1m"
            )
        );
    }
}
