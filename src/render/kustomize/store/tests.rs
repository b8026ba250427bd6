//! The render cache's tests: builds stored, taken back, and missed when what they read
//! changed.

use super::*;
use crate::render::Renderer;

fn write(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
    std::fs::write(p, text).expect("write");
}

fn cm(name: &str, value: &str) -> String {
    format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  k: {value}\n")
}

/// A temporary repository (canonical) with an overlay over `base/`, and a cache beside.
fn repo() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let top = std::fs::canonicalize(dir.path()).expect("canonical");
    let root = top.join("repo");
    write(&root, "base/kustomization.yaml", "resources:\n- cm.yaml\n");
    write(&root, "base/cm.yaml", &cm("a", "one"));
    write(
        &root,
        "overlay/kustomization.yaml",
        "resources:\n- ../base\nnamePrefix: x-\nconfigMapGenerator:\n- name: gen\n  literals: [a=b]\n",
    );
    (dir, root, top.join("cache"))
}

/// `kustomize build overlay` through a fresh renderer on the cache, and the cache's
/// counts after it.
fn build(root: &Path, cache: &Path, dir: &str) -> (Result<String, String>, CacheStats) {
    let store = Arc::new(RenderStore::open_for(cache, root, "test build").expect("opens"));
    let r = Renderer::new(root).with_store(store.clone());
    let out = r
        .render_with_provenance(&root.join(dir), root)
        .map_err(|e| e.message);
    (out, store.stats())
}

fn uncached(root: &Path, dir: &str) -> Result<String, String> {
    Renderer::new(root)
        .render_with_provenance(&root.join(dir), root)
        .map_err(|e| e.message)
}

#[test]
fn an_unchanged_build_is_reused_with_its_provenance() {
    let (_d, root, cache) = repo();
    let (first, stats) = build(&root, &cache, "overlay");
    assert_eq!((stats.hits, stats.misses, stats.written), (0, 2, 2));
    let (second, stats) = build(&root, &cache, "overlay");
    assert_eq!((stats.hits, stats.misses, stats.written), (1, 0, 0));
    assert_eq!(first, second);
    assert_eq!(second, uncached(&root, "overlay"));
    assert!(second.expect("renders").contains("base/cm.yaml:6"));
}

#[test]
fn a_changed_file_rebuilds_what_read_it() {
    let (_d, root, cache) = repo();
    build(&root, &cache, "overlay").0.expect("renders");
    write(&root, "base/cm.yaml", &cm("a", "two"));
    let (out, stats) = build(&root, &cache, "overlay");
    assert_eq!((stats.hits, stats.misses), (0, 2));
    assert!(out.clone().expect("renders").contains("k: two"));
    assert_eq!(out, uncached(&root, "overlay"));
    // The overlay alone changed: the base comes from the cache.
    write(
        &root,
        "overlay/kustomization.yaml",
        "resources:\n- ../base\n",
    );
    let (out, stats) = build(&root, &cache, "overlay");
    assert_eq!((stats.hits, stats.misses), (1, 1));
    assert_eq!(out, uncached(&root, "overlay"));
}

/// A file that appears where the build found none (a second kustomization file) changes
/// the build as much as an edited one.
#[test]
fn a_file_appearing_where_a_build_probed_rebuilds_it() {
    let (_d, root, cache) = repo();
    build(&root, &cache, "overlay").0.expect("renders");
    write(&root, "base/kustomization.yml", "resources: []\n");
    let (out, stats) = build(&root, &cache, "overlay");
    assert_eq!(stats.hits, 0);
    let message = out.expect_err("two kustomization files");
    assert_eq!(Err(message), uncached(&root, "overlay"));
}

/// A symbolic link pointed at another directory changes the build although no file it
/// read changed.
#[test]
fn a_link_pointed_elsewhere_rebuilds_what_went_through_it() {
    let (_d, root, cache) = repo();
    write(&root, "other/kustomization.yaml", "resources:\n- cm.yaml\n");
    write(&root, "other/cm.yaml", &cm("b", "other"));
    std::os::unix::fs::symlink(root.join("base"), root.join("link")).expect("link");
    write(&root, "top/kustomization.yaml", "resources:\n- ../link\n");
    assert!(
        build(&root, &cache, "top")
            .0
            .expect("renders")
            .contains("name: a")
    );
    std::fs::remove_file(root.join("link")).expect("unlink");
    std::os::unix::fs::symlink(root.join("other"), root.join("link")).expect("link");
    let (out, stats) = build(&root, &cache, "top");
    assert!(out.clone().expect("renders").contains("name: b"), "{out:?}");
    assert_eq!(out, uncached(&root, "top"));
    // `other` was never built before: the top build missed, and so did it.
    assert_eq!(stats.hits, 0);
}

/// An entry that cannot be read back is a miss. A failed build is stored and taken back
/// with its error, until what it read (or found missing) changes.
#[test]
fn a_damaged_entry_is_a_miss_and_failures_are_stored_too() {
    let (_d, root, cache) = repo();
    build(&root, &cache, "overlay").0.expect("renders");
    let store = RenderStore::open_for(&cache, &root, "test build").expect("opens");
    let [entry, _] = store.entries(&root.join("overlay"));
    let bytes = std::fs::read(&entry).expect("stored");
    std::fs::write(&entry, &bytes[..bytes.len() / 2]).expect("truncate");
    let (out, stats) = build(&root, &cache, "overlay");
    assert_eq!((stats.hits, stats.misses, stats.written), (1, 1, 1));
    assert_eq!(out, uncached(&root, "overlay"));
    write(
        &root,
        "bad/kustomization.yaml",
        "resources:\n- missing.yaml\n",
    );
    let (out, stats) = build(&root, &cache, "bad");
    assert!(out.is_err());
    assert_eq!((stats.misses, stats.written), (1, 1));
    let (again, stats) = build(&root, &cache, "bad");
    assert_eq!((stats.hits, stats.misses), (1, 0));
    assert_eq!(again, out);
    assert_eq!(again, uncached(&root, "bad"));
    write(&root, "bad/missing.yaml", &cm("m", "found"));
    let (now, stats) = build(&root, &cache, "bad");
    assert_eq!((stats.hits, stats.misses), (0, 1));
    assert!(now.expect("renders now").contains("name: m"));
}

/// Each of `apps` (directory, ConfigMap name) a kustomization of one ConfigMap, and `b/` one
/// whose resource is missing.
fn apps_and_a_broken_one(root: &Path, apps: &[(&str, &str)]) {
    for (app, name) in apps {
        let kustomization = format!("{app}/kustomization.yaml");
        write(root, &kustomization, "resources:\n- cm.yaml\n");
        write(root, &format!("{app}/cm.yaml"), &cm(name, app));
    }
    write(root, "b/kustomization.yaml", "resources:\n- missing.yaml\n");
}

/// A kustomization that only gathers other builds (a cluster of overlays) is not stored when
/// it builds: its entry would repeat its directories' entries. One left from before is
/// removed (a failure would send the next run looking for it ahead). Its failures are still
/// stored, and a kustomization with a step of its own, or a single directory, is stored.
#[test]
fn a_build_that_only_gathers_others_is_not_stored() {
    let (_d, root, cache) = repo();
    apps_and_a_broken_one(&root, &[("a1", "one"), ("a2", "two")]);
    let gathering =
        "commonAnnotations:\n  c: d\nnamePrefix: p-\nresources:\n- ../a1\n- ../a2\n- ../b\n";
    write(&root, "cluster/kustomization.yaml", gathering);
    let store = RenderStore::open_for(&cache, &root, "test build").expect("opens");
    let [entry, second] = store.entries(&root.join("cluster"));
    build(&root, &cache, "cluster").0.expect_err("b is broken");
    assert!(entry.exists(), "a failure is stored");
    // Fixed: built from its directories' builds, not stored, the failure removed.
    write(&root, "b/missing.yaml", &cm("m", "found"));
    let (out, stats) = build(&root, &cache, "cluster");
    assert_eq!(out, uncached(&root, "cluster"));
    assert!(
        out.as_ref().is_ok_and(|o| o.contains("name: p-m")),
        "{out:?}"
    );
    assert_eq!(stats.written, 1, "b written, a1 and a2 reused: {stats:?}");
    assert!(!entry.exists() && !second.exists());
    // The next run builds it again from its directories' entries, all reused.
    let (again, stats) = build(&root, &cache, "cluster");
    assert_eq!(again, out);
    assert_eq!((stats.hits, stats.written), (3, 0), "{stats:?}");
    // With a step of its own (a patch), or gathering one directory only, it is stored.
    let patched = format!(
        "{gathering}patches:\n- patch: |-\n    kind: ConfigMap\n    metadata:\n      name: one\n    data:\n      k: patched\n"
    );
    for text in [patched.as_str(), "namePrefix: q-\nresources:\n- ../a1\n"] {
        write(&root, "cluster/kustomization.yaml", text);
        let (out, stats) = build(&root, &cache, "cluster");
        assert_eq!(out, uncached(&root, "cluster"));
        assert_eq!(stats.written, 1, "{text}: {stats:?}");
        assert!(entry.exists(), "{text}");
        std::fs::remove_file(&entry).expect("remove");
    }
}

/// A long kustomization's documents are stored and taken back by the next run while its
/// text is the same (a cluster that only gathers is built every run, and parsing it was
/// most of what was left); another text, or stored bytes that do not decode, are parsed.
#[test]
fn a_long_kustomizations_documents_are_stored_and_taken_back() {
    let (_d, root, cache) = repo();
    apps_and_a_broken_one(&root, &[("a1", "one"), ("a2", "two"), ("a3", "three")]);
    let padding = "# a long kustomization\n".repeat(200);
    let text =
        format!("{padding}commonAnnotations:\n  c: d\nresources:\n- ../a1\n- ../a2\n- ../a3\n");
    assert!(text.len() >= STORED_PARSE);
    write(&root, "cluster/kustomization.yaml", &text);
    let (first, _) = build(&root, &cache, "cluster");
    assert_eq!(first, uncached(&root, "cluster"));
    let file = root.join("cluster/kustomization.yaml");
    let name = parse_entry_name(&file);
    let key = crate::source::hash_parts([text.as_bytes()]);
    let store = RenderStore::open_for(&cache, &root, "test build").expect("opens");
    let stored = store.get(&name, &key).expect("stored");
    let docs: Vec<(usize, Node)> = postcard::from_bytes(&stored).expect("decodes");
    let parsed = super::super::kustomization::documents(&file, &text).expect("parses");
    assert_eq!(docs, [(0, parsed[0].root.clone())]);
    // Taken back: stored documents saying otherwise (a3 left out: still a build that only
    // gathers, so none of its own is stored) are what the run builds.
    let fewer = super::super::kustomization::documents(&file, &text.replace("- ../a3\n", ""))
        .expect("parses");
    let fewer: Vec<(usize, &Node)> = fewer.iter().map(|d| (d.index, &d.root)).collect();
    store.put(
        &name,
        &key,
        &postcard::to_allocvec(&fewer).expect("encodes"),
    );
    let (out, _) = build(&root, &cache, "cluster");
    let out = out.expect("renders");
    assert!(
        out.contains("name: two") && !out.contains("name: three"),
        "{out}"
    );
    // Bytes that do not decode, or another text, are parsed.
    store.put(&name, &key, b"\xff\xff");
    assert_eq!(build(&root, &cache, "cluster").0, first);
    store.put(
        &name,
        &key,
        &postcard::to_allocvec(&fewer).expect("encodes"),
    );
    write(
        &root,
        "cluster/kustomization.yaml",
        &format!("{text}# edited\n"),
    );
    assert_eq!(build(&root, &cache, "cluster").0, first);
    // Short kustomizations are not stored.
    let short = "resources:\n- ../a1\n";
    write(&root, "short/kustomization.yaml", short);
    build(&root, &cache, "short").0.expect("renders");
    let file = root.join("short/kustomization.yaml");
    let name = parse_entry_name(&file);
    assert!(!store.dir.join(name).exists());
}

/// A kustomization that failed at one of its resources fails again at it, told from the
/// stored builds' headers: the builds before it are not decoded (one whose objects
/// were damaged is not rebuilt), and the error is the one a full build gives, also when
/// an entry before it now fails or clashes.
#[test]
fn a_failure_ahead_is_told_without_decoding_the_builds_before_it() {
    let (_d, root, cache) = repo();
    apps_and_a_broken_one(&root, &[("a1", "one"), ("a2", "two"), ("a3", "three")]);
    write(
        &root,
        "cluster/kustomization.yaml",
        "commonAnnotations:\n  c: d\nresources:\n- ../a1\n- ../a2\n- ../b\n- ../a3\n",
    );
    let (first, _) = build(&root, &cache, "cluster");
    let expected = uncached(&root, "cluster");
    assert!(expected.as_ref().is_err_and(|e| e.contains("missing.yaml")));
    assert_eq!(first, expected);
    // a2's objects are damaged (its header kept): a full composition would miss and
    // rebuild it. Only a1 (changed) and the cluster are built and written.
    let store = RenderStore::open_for(&cache, &root, "test build").expect("opens");
    let [entry, _] = store.entries(&root.join("a2"));
    let bytes = std::fs::read(&entry).expect("stored");
    let head = 4 + u32::from_le_bytes(bytes[..4].try_into().expect("length")) as usize;
    std::fs::write(&entry, &bytes[..head + 1]).expect("truncate");
    write(&root, "a1/cm.yaml", &cm("one", "changed"));
    let (out, stats) = build(&root, &cache, "cluster");
    assert_eq!(out, uncached(&root, "cluster"));
    assert_eq!(stats.written, 2, "{stats:?}");
    // The failure stored for the cluster depends on what the composition read: a change
    // to the broken overlay is seen.
    write(&root, "b/missing.yaml", &cm("m", "found"));
    let (out, _) = build(&root, &cache, "cluster");
    assert!(out.as_ref().is_ok_and(|o| o.contains("name: m")), "{out:?}");
    assert_eq!(out, uncached(&root, "cluster"));
    std::fs::remove_file(root.join("b/missing.yaml")).expect("remove");
    assert_eq!(
        build(&root, &cache, "cluster").0,
        uncached(&root, "cluster")
    );
    // An entry before the failing one now clashes with another: that error comes first.
    write(&root, "a2/cm.yaml", &cm("one", "clash"));
    let (out, _) = build(&root, &cache, "cluster");
    assert!(
        out.as_ref()
            .is_err_and(|e| e.contains("already registered")),
        "{out:?}"
    );
    assert_eq!(out, uncached(&root, "cluster"));
    // An entry before it now fails itself: its error comes first.
    write(&root, "a2/cm.yaml", &cm("two", "fine"));
    build(&root, &cache, "cluster")
        .0
        .expect_err("still failing");
    write(&root, "a1/kustomization.yaml", "resources:\n- gone.yaml\n");
    let (out, _) = build(&root, &cache, "cluster");
    assert!(
        out.as_ref().is_err_and(|e| e.contains("gone.yaml")),
        "{out:?}"
    );
    assert_eq!(out, uncached(&root, "cluster"));
}

/// Clusters sharing their overlays (the prod clusters of a monorepo) peek each shared entry
/// once per run: a second cluster takes what the first found, even of an entry damaged
/// since; an entry saved meanwhile is read again.
#[test]
fn a_shared_entry_is_peeked_once_per_run() {
    let (_d, root, cache) = repo();
    apps_and_a_broken_one(&root, &[("a1", "one"), ("a2", "two")]);
    for c in ["c1", "c2"] {
        write(
            &root,
            &format!("{c}/kustomization.yaml"),
            &format!("commonAnnotations:\n  c: {c}\nresources:\n- ../a1\n- ../a2\n- ../b\n"),
        );
        build(&root, &cache, c).0.expect_err("b is broken");
    }
    write(&root, "a1/cm.yaml", &cm("one", "changed"));
    let store = Arc::new(RenderStore::open_for(&cache, &root, "test build").expect("opens"));
    let render = |c: &str| {
        Renderer::new(&root)
            .with_store(store.clone())
            .render_with_provenance(&root.join(c), &root)
            .map_err(|e| e.message)
    };
    assert_eq!(render("c1"), uncached(&root, "c1"));
    // a1 and c1 built and written; a2 and b peeked.
    assert_eq!(store.stats().written, 2, "{:?}", store.stats());
    let [a2, _] = store.entries(&root.join("a2"));
    std::fs::write(&a2, b"").expect("truncate");
    assert_eq!(render("c2"), uncached(&root, "c2"));
    // a2 was not read again (it would have been built and written), a1's new entry was.
    assert_eq!(store.stats().written, 3, "{:?}", store.stats());
}

/// A kustomization of many resources has the stored builds of its second half taken on
/// another thread: the composition is the one a full build gives, each build is read
/// once, and none is left waiting.
#[test]
fn a_large_composition_takes_its_second_half_ahead_of_turn() {
    let (_d, root, cache) = repo();
    let mut cluster = String::from("commonAnnotations:\n  c: d\nresources:\n");
    for i in 0..40 {
        write(
            &root,
            &format!("a{i}/kustomization.yaml"),
            "resources:\n- cm.yaml\n",
        );
        write(&root, &format!("a{i}/cm.yaml"), &cm(&format!("cm{i}"), "v"));
        cluster.push_str(&format!("- ../a{i}\n"));
    }
    // One entry through a link: taken ahead under the path it resolves to.
    write(
        &root,
        "linked/kustomization.yaml",
        "resources:\n- cm.yaml\n",
    );
    write(&root, "linked/cm.yaml", &cm("linked", "v"));
    std::os::unix::fs::symlink(root.join("linked"), root.join("via-link")).expect("link");
    cluster.push_str("- ../via-link\n- ../base\n");
    write(&root, "cluster/kustomization.yaml", &cluster);
    build(&root, &cache, "cluster").0.expect("renders");
    write(&root, "a30/cm.yaml", &cm("cm30", "changed"));
    let store = Arc::new(RenderStore::open_for(&cache, &root, "test build").expect("opens"));
    let r = Renderer::new(&root).with_store(store.clone());
    let out = r.render_with_provenance(&root.join("cluster"), &root);
    let out = out.map_err(|e| e.message);
    assert_eq!(out, uncached(&root, "cluster"));
    assert!(out.expect("renders").contains("k: changed"));
    let stats = store.stats();
    // 39 apps, the linked one and the base stored; a30 and the cluster built again, a30
    // written (the cluster only gathers the others: not stored).
    assert_eq!(
        (stats.hits, stats.misses, stats.written),
        (41, 2, 1),
        "{stats:?}"
    );
    // The second half (21 of 42 entries, a30's a miss) was taken ahead, all of it used.
    assert_eq!(r.ahead_of_turn_counts(), (21, 0));
}

/// An entry is its header's length, the header, the body: each way of breaking that
/// layout (the header read ahead of the body) is a miss, never an error nor a short read
/// taken for a build, and the build is made and stored again.
#[test]
fn an_entry_with_a_broken_layout_is_a_miss() {
    let (_d, root, cache) = repo();
    build(&root, &cache, "overlay").0.expect("renders");
    let store = RenderStore::open_for(&cache, &root, "test build").expect("opens");
    let [entry, second] = store.entries(&root.join("overlay"));
    let good = std::fs::read(&entry).expect("stored");
    let head_len = u32::from_le_bytes(good[..4].try_into().expect("4 bytes")) as usize;
    assert!(4 + head_len < good.len(), "a header, then a body");
    let overstated = [&(u32::MAX).to_le_bytes()[..], &good[4..]].concat();
    let past_the_end = [&((good.len() - 3) as u32).to_le_bytes()[..], &good[4..]].concat();
    let broken: [(&str, Vec<u8>); 6] = [
        ("empty", Vec::new()),
        ("shorter than the length", good[..3].to_vec()),
        ("header cut", good[..4 + head_len / 2].to_vec()),
        ("body cut", good[..4 + head_len + 1].to_vec()),
        ("length past the end", past_the_end),
        ("length overstated", overstated),
    ];
    for (what, bytes) in broken {
        std::fs::write(&entry, &bytes).expect("damage");
        let _ = std::fs::remove_file(&second);
        let (out, stats) = build(&root, &cache, "overlay");
        // The base's entry still holds; the overlay's is a miss and written again.
        assert_eq!(
            (stats.hits, stats.misses, stats.written),
            (1, 1, 1),
            "{what}"
        );
        assert_eq!(out, uncached(&root, "overlay"), "{what}");
        assert_eq!(std::fs::read(&entry).expect("rewritten"), good, "{what}");
    }
}

/// Another build of kgate neither reads nor keeps this one's entries.
#[test]
fn another_build_of_kgate_starts_afresh() {
    let (_d, root, cache) = repo();
    build(&root, &cache, "overlay").0.expect("renders");
    let other = Arc::new(RenderStore::open_for(&cache, &root, "other build").expect("opens"));
    let r = Renderer::new(&root).with_store(other.clone());
    r.render(&root.join("overlay")).expect("renders");
    assert_eq!(other.stats().hits, 0);
    let (_, stats) = build(&root, &cache, "overlay");
    assert_eq!(stats.hits, 0, "the other build removed this one's entries");
    assert!(cache.join("CACHEDIR.TAG").is_file());
}

/// A build that ran something kgate does not watch (Helm) is never stored.
#[test]
fn a_volatile_build_is_not_stored() {
    let (_d, root, cache) = repo();
    let store = RenderStore::open_for(&cache, &root, "test build").expect("opens");
    let config = tconfig::shared_defaults();
    let table = FileTable::new(&root, 1 << 20);
    let save = |inputs: &Inputs| {
        store.save(
            &root,
            Ok((&[], &[], &config)),
            false,
            inputs,
            &table,
            |_| None,
        );
    };
    let ((), volatile) = super::super::memo::recording(super::super::memo::note_volatile);
    save(&volatile);
    assert_eq!(store.stats().written, 0);
    let ((), plain) = super::super::memo::recording(|| {});
    save(&plain);
    assert_eq!(store.stats().written, 1);
}

/// A directory keeps its last two builds: after an edit and its revert (REF's contents
/// and the working tree's, for `kgate diff --since`), both are taken back.
#[test]
fn a_directory_keeps_its_last_two_builds() {
    let (_d, root, cache) = repo();
    build(&root, &cache, "overlay").0.expect("renders");
    write(&root, "base/cm.yaml", &cm("a", "two"));
    assert_eq!(build(&root, &cache, "overlay").1.hits, 0);
    write(&root, "base/cm.yaml", &cm("a", "one"));
    let (out, stats) = build(&root, &cache, "overlay");
    assert_eq!((stats.hits, stats.misses), (1, 0));
    assert_eq!(out, uncached(&root, "overlay"));
    write(&root, "base/cm.yaml", &cm("a", "two"));
    assert_eq!(build(&root, &cache, "overlay").1.hits, 1);
    // A third version replaces the one used least recently ("one"): "two" stays.
    // (Recency is the places' order, not file times, which can tie.)
    write(&root, "base/cm.yaml", &cm("a", "three"));
    assert_eq!(build(&root, &cache, "overlay").1.hits, 0);
    write(&root, "base/cm.yaml", &cm("a", "two"));
    assert_eq!(build(&root, &cache, "overlay").1.hits, 1);
    write(&root, "base/cm.yaml", &cm("a", "one"));
    assert_eq!(build(&root, &cache, "overlay").1.hits, 0);
}

/// A path the file table hides (one REF's tree has not) is missing for the cache's checks,
/// which never ask the table for it: that question sends `kgate diff --since` to REF's
/// exported tree.
#[test]
fn a_hidden_path_is_missing_without_being_asked() {
    let (_d, root, cache) = repo();
    let store = RenderStore::open_for(&cache, &root, "test build").expect("opens");
    let table = FileTable::new(&root, 1 << 20).hiding([root.join("base")]);
    assert_eq!(
        store.state(&table, &root.join("base/cm.yaml")),
        State::Missing
    );
    assert!(table.hidden_reads().is_empty());
    assert!(matches!(
        store.state(&table, &root.join("overlay/kustomization.yaml")),
        State::File(_)
    ));
}

/// Another store's states are taken for the paths that are the same on both sides only:
/// those are not read again, the differing ones are.
#[test]
fn seeded_states_are_taken_where_the_other_side_has_the_same_files() {
    let (_d, root, cache) = repo();
    let theirs = RenderStore::open_for(&cache, &root, "test build").expect("opens");
    let table = FileTable::new(&root, 1 << 20);
    let (file, kust) = (
        root.join("base/cm.yaml"),
        root.join("base/kustomization.yaml"),
    );
    let (file_before, kust_before) = (theirs.state(&table, &file), theirs.state(&table, &kust));
    write(&root, "base/cm.yaml", &cm("a", "two"));
    write(&root, "base/kustomization.yaml", "resources: []\n");
    let ours = RenderStore::open_for(&cache, &root, "test build").expect("opens");
    ours.seed_states(&Arc::new(theirs), vec![kust.clone()]);
    let fresh = FileTable::new(&root, 1 << 20);
    assert_eq!(ours.state(&fresh, &file), file_before, "taken, not read");
    assert_ne!(ours.state(&fresh, &kust), kust_before, "read again");
}

/// A value stored under a name is returned for its key only.
#[test]
fn a_named_value_is_returned_for_its_key_only() {
    let (_d, root, cache) = repo();
    let store = RenderStore::open_for(&cache, &root, "test build").expect("opens");
    assert_eq!(store.get("results", &[1; 32]), None);
    store.put("results", &[1; 32], b"one");
    assert_eq!(store.get("results", &[1; 32]).as_deref(), Some(&b"one"[..]));
    assert_eq!(store.get("results", &[2; 32]), None);
    store.put("results", &[2; 32], b"two");
    assert_eq!(store.get("results", &[1; 32]), None);
    assert_eq!(store.get("results", &[2; 32]).as_deref(), Some(&b"two"[..]));
}

/// A directory without a kustomization fails where it is referenced from: that failure is
/// not stored, so a second referrer is told its own line.
#[test]
fn a_failure_at_the_referrer_is_not_served_to_another() {
    let (_d, root, cache) = repo();
    two_referrers(&root);
    let (a, _) = build(&root, &cache, "a");
    let (b, stats) = build(&root, &cache, "b");
    assert_eq!(stats.hits, 0);
    assert_eq!((&a, &b), (&uncached(&root, "a"), &uncached(&root, "b")));
    let err = Renderer::new(&root)
        .with_store(Arc::new(
            RenderStore::open_for(&cache, &root, "test build").expect("opens"),
        ))
        .render(&root.join("b"))
        .expect_err("no kustomization in d");
    assert_eq!(
        (err.file, err.pos.line),
        (root.join("b/kustomization.yaml"), 3)
    );
}

/// `a` and `b` list `d`, which has no kustomization, at lines 2 and 3.
fn two_referrers(root: &Path) {
    write(root, "d/readme.txt", "no kustomization here\n");
    write(root, "a/kustomization.yaml", "resources:\n- ../d\n");
    write(
        root,
        "b/kustomization.yaml",
        "namePrefix: b-\nresources:\n- ../d\n",
    );
}

/// Nor does one renderer's memo serve it to another referrer: each root is told its own
/// line, whichever renders first.
#[test]
fn the_memo_keeps_no_failure_at_the_referrer() {
    let (_d, root, _cache) = repo();
    two_referrers(&root);
    for order in [["a", "b"], ["b", "a"]] {
        let r = Renderer::new(&root);
        for dir in order {
            let err = r
                .render(&root.join(dir))
                .expect_err("no kustomization in d");
            let line = if dir == "a" { 2 } else { 3 };
            let own = root.join(dir).join("kustomization.yaml");
            assert_eq!((err.file, err.pos.line), (own, line), "{order:?}");
        }
    }
}

#[test]
fn an_entry_is_encoded_as_postcard_encodes_it() {
    // The appending flavor copies slices at once; the bytes must be postcard's own.
    let value = (
        vec![PathBuf::from("apps/a/kustomization.yaml"), PathBuf::new()],
        "text with ünïcode".to_owned(),
        (7u8, u64::MAX, -3i64, 1.5f64, b"bytes".to_vec()),
        Some(vec![Some(2u32), None]),
    );
    let mut bytes = vec![9, 9];
    append(&value, &mut bytes).expect("encodes");
    let mut expected = vec![9, 9];
    expected.extend(postcard::to_stdvec(&value).expect("encodes"));
    assert_eq!(bytes, expected);
}

#[test]
fn a_header_is_decoded_only_up_to_its_first_stale_read() {
    let header = Header {
        failed: false,
        dir: PathBuf::from("/r/app"),
        reads: (0..5)
            .map(|i| (PathBuf::from(format!("/r/f{i}")), State::File([i; 32])))
            .collect(),
        resolved: vec![(PathBuf::from("/r/l"), PathBuf::from("/r/t"))],
        ids: Vec::new(),
        plain: true,
    };
    let bytes = postcard::to_stdvec(&header).expect("encodes");
    let decode = |dir: &str, stale_at: Option<usize>| {
        let mut asked = Vec::new();
        let seed = CheckedHeader {
            dir: Path::new(dir),
            holds: |p: &Path, _: &State| {
                asked.push(p.to_path_buf());
                stale_at != Some(asked.len() - 1)
            },
        };
        let got = serde::de::DeserializeSeed::deserialize(
            seed,
            &mut postcard::Deserializer::from_bytes(&bytes),
        );
        (got.ok(), asked.len())
    };
    let (whole, asked) = decode("/r/app", None);
    let whole = whole.expect("every read holds");
    assert_eq!(asked, 5);
    assert_eq!(
        (whole.dir, whole.reads),
        (header.dir.clone(), header.reads.clone())
    );
    assert_eq!(
        (whole.resolved, whole.plain),
        (header.resolved.clone(), true)
    );
    // The second read is stale: the other three are not decoded, nor asked about.
    let (stale, asked) = decode("/r/app", Some(1));
    assert!(stale.is_none());
    assert_eq!(asked, 2);
    // Another directory's entry: no read is asked about.
    let (other, asked) = decode("/r/other", None);
    assert!(other.is_none());
    assert_eq!(asked, 0);
}
