//! Which roots and files a check covers: `--changed-since` (what a change can affect,
//! through the repository graph) and `--shard I/N` (a deterministic part, for CI matrices).

use std::collections::{BTreeSet, HashSet};
use std::path::{Path, PathBuf};

use crate::config::Config;
use crate::discover::graph::RepoGraph;
use crate::discover::{self, Discovery, SourceFile};
use crate::model::Affected;
use crate::render::entry::EntryRender;

use super::changes::ChangesError;
use super::settings::{CheckError, CheckOptions, Settings};

/// Which of `n` shards `key` (a root or file path) belongs to, 0-based: a hash of the path,
/// so adding a root does not move the others.
pub fn shard_of(key: &str, n: usize) -> usize {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(key.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    (u64::from_be_bytes(first) % n.max(1) as u64) as usize
}

/// The roots and plain files a change can affect. A change to the configuration, a policy or
/// data file, or a schema directory changes how everything is checked.
pub fn select_affected(
    root: &Path,
    config: &Config,
    config_dir: &Path,
    schema_dirs: &[PathBuf],
    graph: &RepoGraph,
    changed: BTreeSet<String>,
    seen_at_links: BTreeSet<String>,
) -> Affected {
    let rel_dir = |d: &Path| {
        let r = discover::relative(root, &crate::discover::normalize(d));
        format!("{}/", r.trim_end_matches('/'))
    };
    let mut gate_inputs: Vec<(String, &'static str)> = Vec::new();
    if let Some(p) = &config.path {
        gate_inputs.push((discover::relative(root, p), "the configuration"));
    }
    for d in config.policies.dirs.iter().chain(&config.policies.data) {
        gate_inputs.push((rel_dir(&config_dir.join(&d.value)), "the policies"));
    }
    for d in schema_dirs {
        gate_inputs.push((rel_dir(d), "the schemas"));
    }
    let everything = changed.iter().find_map(|c| {
        gate_inputs.iter().find_map(|(input, what)| {
            let hit = if input.ends_with('/') {
                c.starts_with(input.as_str())
            } else {
                c == input
            };
            hit.then(|| format!("{c} changes {what}"))
        })
    });
    // A changed file is changed at every link that leads to it too.
    let mut reached = changed.clone();
    reached.extend(seen_at_links.iter().cloned());
    let roots = graph.affected_roots(&reached).into_iter().collect();
    Affected {
        files: reached.into_iter().collect(),
        changed: changed.into_iter().collect(),
        seen_at_links: seen_at_links.into_iter().collect(),
        everything,
        roots,
        // Counted by the check.
        objects: 0,
        objects_affected: 0,
    }
}

/// Applies `--changed-since` and `--shard` to `discovery` and the entry points: what was
/// selected (for `--explain`) and the entry points to check.
/// `since` is what changed since `opts.changed_since` (see [`changed_since`]), asked of git
/// while the repository was discovered.
pub fn select(
    opts: &CheckOptions,
    s: &Settings,
    graph: &RepoGraph,
    discovery: &mut Discovery,
    entries: Vec<EntryRender>,
    since: Option<Result<BTreeSet<String>, ChangesError>>,
) -> Result<(Option<Affected>, Vec<EntryRender>), CheckError> {
    let changed = match (since, &opts.changed_files) {
        (Some(changed), _) => Some(changed?),
        (None, files) => files.clone(),
    };
    let affected = match changed {
        Some(changed) => {
            let schema_dirs = s.schema_dirs();
            let seen_at_links = discovery.seen_at_links(&s.root, &changed);
            let affected = select_affected(
                &s.root,
                &s.config,
                &s.config_dir,
                &schema_dirs,
                graph,
                changed,
                seen_at_links,
            );
            narrow_to_affected(&s.root, &affected, discovery);
            Some(affected)
        }
        None => None,
    };
    if let Some(shard) = opts.shard {
        narrow_to_shard(&s.root, shard, discovery);
    }
    let entries = select_entries(entries, opts.shard, affected.as_ref(), graph);
    Ok((affected, entries))
}

/// Narrows `discovery` to the roots and files `affected` selects (unless a change to the
/// gate's own inputs means everything is checked).
pub fn narrow_to_affected(root: &Path, affected: &Affected, discovery: &mut Discovery) {
    if affected.everything.is_some() {
        return;
    }
    let roots: HashSet<&str> = affected.roots.iter().map(String::as_str).collect();
    let files: HashSet<&str> = affected.files.iter().map(String::as_str).collect();
    let components = discovery.components.clone();
    discovery.kustomizations.retain(|k| {
        components.contains(k)
            || k.abs
                .parent()
                .is_some_and(|d| roots.contains(discover::relative(root, d).as_str()))
    });
    narrow_manifests(discovery, |m| files.contains(m.rel.as_str()));
    // A chart is a root of its own: rendered (a Helm process) only when the change reaches it.
    discovery.charts.retain(|c| {
        c.abs
            .parent()
            .is_some_and(|d| roots.contains(discover::relative(root, d).as_str()))
    });
}

/// What changed since `opts.changed_since`, if set (git's answer, see
/// [`super::changes::changed_since`]).
pub fn changed_since(
    opts: &CheckOptions,
    s: &Settings,
) -> Option<Result<BTreeSet<String>, ChangesError>> {
    let reference = opts.changed_since.as_ref()?;
    Some(super::changes::changed_since(&s.root, reference))
}

/// Keeps the plain manifests `keep` accepts, setting the others aside (their definitions
/// still apply).
fn narrow_manifests(discovery: &mut Discovery, keep: impl Fn(&SourceFile) -> bool) {
    let (kept, out): (Vec<SourceFile>, Vec<SourceFile>) = std::mem::take(&mut discovery.manifests)
        .into_iter()
        .partition(keep);
    discovery.manifests = kept;
    discovery.narrowed_out.extend(out);
    discovery.narrowed_out.sort();
}

/// Keeps the `i`-th of `n` parts (1-based) of the roots and plain files.
pub fn narrow_to_shard(root: &Path, (i, n): (usize, usize), discovery: &mut Discovery) {
    let mine = |rel: &str| shard_of(rel, n) == i - 1;
    let components = discovery.components.clone();
    discovery.kustomizations.retain(|k| {
        components.contains(k)
            || k.abs
                .parent()
                .is_some_and(|d| mine(&discover::relative(root, d)))
    });
    narrow_manifests(discovery, |m| mine(&m.rel));
    // Charts too: every shard rendered every chart, and reported its findings once per shard.
    discovery.charts.retain(|c| {
        c.abs
            .parent()
            .is_some_and(|d| mine(&discover::relative(root, d)))
    });
}

/// Entry points to check as roots of their own: the shard's, and with `--changed-since`
/// those whose declaring file, deployed path or generator file (an ApplicationSet `files`
/// generator's) a change touches.
pub fn select_entries(
    mut entries: Vec<EntryRender>,
    shard: Option<(usize, usize)>,
    affected: Option<&Affected>,
    graph: &RepoGraph,
) -> Vec<EntryRender> {
    if let Some((i, n)) = shard {
        entries.retain(|e| shard_of(&e.id, n) == i - 1);
    }
    if let Some(a) = affected.filter(|a| a.everything.is_none()) {
        let changed: BTreeSet<String> = a.changed.iter().chain(&a.seen_at_links).cloned().collect();
        // A Helm entry point also reads value files outside the chart (and `--set-file`s).
        let reads = |e: &EntryRender| {
            e.helm.as_ref().is_some_and(|h| {
                h.value_files
                    .iter()
                    .chain(h.file_parameters.iter().map(|(_, f)| f))
                    .any(|f| changed.contains(f))
            })
        };
        let generated_from = |e: &EntryRender| {
            e.generated_from
                .as_ref()
                .is_some_and(|f| changed.contains(f))
        };
        entries.retain(|e| {
            changed.contains(&e.file)
                || graph.touched(&e.path, &changed)
                || reads(e)
                || generated_from(e)
        });
    }
    entries
}
