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

/// Ceiling of the default `limits.policyMemory`: the whole 200-app gate lives in ~100 MB.
pub const DEFAULT_POLICY_MEMORY: u64 = 4 * 1024 * 1024 * 1024;

/// Floor of the default `limits.policyMemory`.
const MIN_DEFAULT_POLICY_MEMORY: u64 = 256 * 1024 * 1024;

/// The default `limits.policyMemory`: an eighth of the memory this process may use (the
/// least of its cgroup's limit, its address-space limit and the machine's memory), between
/// 256 MiB and 4 GiB. regorus checks its live bytes between evaluation steps, not inside
/// one, and a comprehension whose body is only `some x in xs` runs no step per element: it
/// can double an array of nearly the whole budget before the next check, needing three
/// times the budget at that moment. kgate itself needs 300-400 MB of address space (the
/// binary, the allocator's arenas, thread stacks), so under a 2 GiB `ulimit -v` a quarter
/// (512 MiB, 1.5 GB for the doubling) aborted in some runs; an eighth leaves half the
/// space free in the worst step.
pub fn default_policy_memory() -> u64 {
    let read = |p: &str| std::fs::read_to_string(p).ok();
    let cgroup = read("/proc/self/cgroup")
        .and_then(|c| cgroup_limit(&c, &|path| read(&format!("/sys/fs/cgroup{path}"))));
    let candidates = [
        cgroup,
        read("/proc/self/limits").and_then(|l| address_space_limit(&l)),
        read("/proc/meminfo").and_then(|m| total_memory(&m)),
    ];
    policy_memory_for(candidates.into_iter().flatten().min())
}

fn policy_memory_for(available: Option<u64>) -> u64 {
    available.map_or(DEFAULT_POLICY_MEMORY, |m| {
        (m / 8).clamp(MIN_DEFAULT_POLICY_MEMORY, DEFAULT_POLICY_MEMORY)
    })
}

/// The memory limit of the process's cgroup (v2 `memory.max`, else v1
/// `memory.limit_in_bytes`), from `/proc/self/cgroup`'s text; `read` reads a file below
/// `/sys/fs/cgroup`. `None` when unlimited or unknown.
fn cgroup_limit(proc_cgroup: &str, read: &dyn Fn(&str) -> Option<String>) -> Option<u64> {
    let parse = |text: Option<String>| -> Option<u64> {
        let n: u64 = text?.trim().parse().ok()?;
        // cgroup v1 writes "no limit" as a page-aligned i64::MAX.
        (n < 1 << 60).then_some(n)
    };
    proc_cgroup.lines().find_map(|line| {
        let mut parts = line.splitn(3, ':');
        let (_, controllers, path) = (parts.next()?, parts.next()?, parts.next()?);
        let path = path.trim_end_matches('/');
        if controllers.is_empty() {
            parse(read(&format!("{path}/memory.max"))).or_else(|| parse(read("/memory.max")))
        } else if controllers.split(',').any(|c| c == "memory") {
            parse(read(&format!("/memory{path}/memory.limit_in_bytes")))
                .or_else(|| parse(read("/memory/memory.limit_in_bytes")))
        } else {
            None
        }
    })
}

/// The soft address-space limit (`ulimit -v`) from `/proc/self/limits`' text.
fn address_space_limit(limits: &str) -> Option<u64> {
    let line = limits
        .lines()
        .find(|l| l.starts_with("Max address space"))?;
    line["Max address space".len()..]
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// `MemTotal` from `/proc/meminfo`'s text, in bytes.
fn total_memory(meminfo: &str) -> Option<u64> {
    let line = meminfo.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

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
            policy_memory: default_policy_memory(),
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
    use super::*;

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

    const MIB: u64 = 1024 * 1024;

    #[test]
    fn the_default_policy_memory_is_an_eighth_of_what_the_process_may_use() {
        assert_eq!(policy_memory_for(Some(4096 * MIB)), 512 * MIB);
        assert_eq!(policy_memory_for(Some(2048 * MIB)), 256 * MIB);
        assert_eq!(
            policy_memory_for(Some(64 * 1024 * MIB)),
            DEFAULT_POLICY_MEMORY
        );
        assert_eq!(policy_memory_for(Some(512 * MIB)), 256 * MIB);
        assert_eq!(policy_memory_for(None), DEFAULT_POLICY_MEMORY);
    }

    #[test]
    fn limits_are_read_from_cgroups_rlimits_and_meminfo() {
        let files = |path: &str| -> Option<String> {
            match path {
                "/ci/job/memory.max" => Some("1073741824\n".to_owned()),
                "/memory.max" => Some("max\n".to_owned()),
                "/memory/docker/abc/memory.limit_in_bytes" => {
                    Some("9223372036854771712\n".to_owned())
                }
                _ => None,
            }
        };
        assert_eq!(cgroup_limit("0::/ci/job\n", &files), Some(1024 * MIB));
        assert_eq!(cgroup_limit("0::/\n", &files), None, "v2 without a limit");
        assert_eq!(
            cgroup_limit("4:memory:/docker/abc\n3:cpu,cpuacct:/docker/abc\n", &files),
            None,
            "v1 writes no limit as a huge number"
        );
        let limits = "Limit                     Soft Limit           Hard Limit           Units\nMax address space         2147483648           unlimited            bytes\n";
        assert_eq!(address_space_limit(limits), Some(2048 * MIB));
        let unlimited =
            "Max address space         unlimited            unlimited            bytes\n";
        assert_eq!(address_space_limit(unlimited), None);
        assert_eq!(
            total_memory("MemTotal:       24576000 kB\nMemFree: 1 kB\n"),
            Some(24576000 * 1024)
        );
    }
}
