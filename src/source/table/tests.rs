use super::*;
use crate::source::Digests;
use std::time::{Duration, SystemTime};

/// A table made `after` from now (so that files written now count as settled).
fn table_made(root: &Path, after: Duration, index: Arc<Digests>) -> FileTable {
    let mut table = FileTable::new(root, 100);
    table.created = SystemTime::now() + after;
    table.with_digests(index);
    table
}

#[test]
fn a_file_the_index_knows_as_it_is_is_not_read_and_a_changed_one_is() {
    let dir = tempfile::tempdir().expect("temp dir");
    let a = dir.path().join("a.yaml");
    std::fs::write(&a, "a: 1\n").expect("write");
    let real = *blake3::hash(b"a: 1\n").as_bytes();
    let later = Duration::from_secs(10);
    // A settled file read now is recorded, and known by the next run's index.
    let first = Arc::new(Digests::default());
    assert_eq!(
        table_made(dir.path(), later, first.clone()).digest(&a),
        Ok(real)
    );
    let next = Arc::new(Digests::from_bytes(&first.to_bytes().expect("recorded")));
    assert_eq!(table_made(dir.path(), later, next).digest(&a), Ok(real));
    // An index entry for the file's stat as it is now is taken without reading the file
    // (the recorded hash is not the content's here, so a read would show).
    let stat = super::super::digests::Stat::of(&std::fs::metadata(&a).expect("stat"));
    let forged = Digests::default();
    forged.record(a.as_os_str(), stat.expect("unix"), [1; 32]);
    let forged = Arc::new(Digests::from_bytes(&forged.to_bytes().expect("entry")));
    let table = table_made(dir.path(), later, forged.clone());
    assert_eq!(table.digest(&a), Ok([1; 32]));
    assert!(
        table.paths().contains(&a),
        "what was hashed is listed as read"
    );
    // Rewritten, the file's stat is another: it is read.
    std::fs::write(&a, "a: 2\n").expect("write");
    let changed = *blake3::hash(b"a: 2\n").as_bytes();
    assert_eq!(
        table_made(dir.path(), later, forged).digest(&a),
        Ok(changed)
    );
}

#[test]
fn a_file_changed_just_before_the_run_is_hashed_but_not_recorded() {
    let dir = tempfile::tempdir().expect("temp dir");
    let a = dir.path().join("a.yaml");
    std::fs::write(&a, "a: 1\n").expect("write");
    let index = Arc::new(Digests::default());
    let table = table_made(dir.path(), Duration::ZERO, index.clone());
    assert_eq!(table.digest(&a), Ok(*blake3::hash(b"a: 1\n").as_bytes()));
    assert_eq!(index.to_bytes(), None);
}

/// A table serving content the disk has not (REF's, for `kgate diff --since`) must not
/// record it against the disk's stat: the working tree's next run would take REF's hash.
#[test]
fn preloaded_content_is_hashed_but_never_recorded() {
    let dir = tempfile::tempdir().expect("temp dir");
    let a = dir.path().join("a.yaml");
    std::fs::write(&a, "a: disk\n").expect("write");
    let index = Arc::new(Digests::default());
    let table = table_made(dir.path(), Duration::from_secs(10), index.clone());
    table.preload(&a, Arc::from(&b"a: ref\n"[..]));
    assert_eq!(table.digest(&a), Ok(*blake3::hash(b"a: ref\n").as_bytes()));
    std::fs::write(dir.path().join("b.yaml"), "b: 1\n").expect("write");
    assert!(table.digest(&dir.path().join("b.yaml")).is_ok());
    assert_eq!(index.fresh(), 0);
    assert_eq!(index.to_bytes(), None);
}

#[test]
fn a_digest_fails_as_a_read_does() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir(dir.path().join("sub")).expect("mkdir");
    std::fs::write(dir.path().join("big.yaml"), "x".repeat(200)).expect("write");
    let plain = FileTable::new(dir.path(), 100);
    let indexed = table_made(dir.path(), Duration::ZERO, Arc::new(Digests::default()));
    for name in ["sub", "missing.yaml", "missing/deeper.yaml", "big.yaml"] {
        let path = dir.path().join(name);
        let read = plain.bytes(&path).map(|b| *blake3::hash(&b).as_bytes());
        assert!(read.is_err(), "{name}");
        assert_eq!(indexed.digest(&path), read, "{name}");
        assert_eq!(indexed.is_dir(&path), name == "sub", "{name}");
    }
}

#[test]
fn files_are_read_once_and_bounded() {
    let dir = tempfile::tempdir().expect("temp dir");
    let small = dir.path().join("small.yaml");
    let big = dir.path().join("big.yaml");
    std::fs::write(&small, "a: 1\n").expect("write");
    std::fs::write(&big, "x".repeat(100)).expect("write");
    let table = FileTable::new(dir.path(), 10);
    assert_eq!(
        &*table.text(Path::new("small.yaml")).expect("read"),
        "a: 1\n"
    );
    // Served from the table: the file is gone from disk.
    std::fs::remove_file(&small).expect("remove");
    assert_eq!(&*table.text(&small).expect("cached"), "a: 1\n");
    assert_eq!(
        table.bytes(&big),
        Err(ReadError::TooLarge {
            len: 100,
            limit: 10
        })
    );
    assert!(matches!(
        table.bytes(Path::new("missing.yaml")),
        Err(ReadError::Io(_))
    ));
    std::fs::write(dir.path().join("bin"), [0xff, 0xfe, 0]).expect("write");
    assert_eq!(table.text(Path::new("bin")), Err(ReadError::NotUtf8));
    assert_eq!(SourceText::text(&table, "bin"), None);
}

#[test]
fn preloaded_contents_are_served_instead_of_the_disk() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("a.yaml"), "a: disk\n").expect("write");
    let table = FileTable::new(dir.path(), 10);
    table.preload(Path::new("a.yaml"), Arc::from(&b"a: ref\n"[..]));
    let abs = dir.path().join("a.yaml");
    assert_eq!(&*table.text(&abs).expect("preloaded"), "a: ref\n");
    let seeded = FileTable::new(dir.path(), 10);
    let table = Arc::new(table);
    seeded.seed_from(&table);
    std::fs::remove_file(&abs).expect("remove");
    assert_eq!(&*seeded.text(&abs).expect("seeded"), "a: ref\n");
    table.preload(&abs, Arc::from(&b"0123456789ab"[..]));
    assert_eq!(
        table.bytes(&abs),
        Err(ReadError::TooLarge { len: 12, limit: 10 })
    );
}

#[test]
fn hidden_paths_read_as_missing_and_are_not_seeded() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir_all(dir.path().join("new/sub")).expect("mkdir");
    std::fs::write(dir.path().join("new/sub/a.yaml"), "a: 1\n").expect("write");
    std::fs::write(dir.path().join("added.yaml"), "b: 1\n").expect("write");
    std::fs::write(dir.path().join("kept.yaml"), "c: 1\n").expect("write");
    let disk = Arc::new(FileTable::new(dir.path(), 100));
    disk.text(Path::new("added.yaml")).expect("read");
    let at_ref = FileTable::new(dir.path(), 100)
        .hiding([dir.path().join("new"), dir.path().join("added.yaml")]);
    at_ref.seed_from(&disk);
    assert!(at_ref.is_hidden(Path::new("new/sub/a.yaml")));
    assert!(at_ref.is_hidden(&dir.path().join("kept.yaml/../new")));
    assert!(!at_ref.is_dir(Path::new("new")) && !at_ref.exists(Path::new("new/sub")));
    assert!(at_ref.is_file(Path::new("kept.yaml")) && !at_ref.is_file(Path::new("added.yaml")));
    assert!(at_ref.hidden_reads().is_empty());
    // Seeded or not, a hidden file reads as a missing one, and the read is told.
    for hidden in ["added.yaml", "new/sub/a.yaml"] {
        assert_eq!(
            at_ref.bytes(Path::new(hidden)),
            Err(ReadError::Io(NOT_FOUND.to_owned()))
        );
    }
    assert_eq!(at_ref.hidden_reads().len(), 2);
    assert_eq!(
        &*at_ref.text(Path::new("kept.yaml")).expect("read"),
        "c: 1\n"
    );
    let missing = FileTable::new(dir.path(), 100).bytes(Path::new("gone.yaml"));
    assert_eq!(missing, Err(ReadError::Io(NOT_FOUND.to_owned())));
}

#[test]
fn present_files_and_their_directories_exist_without_the_disk() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = std::fs::canonicalize(dir.path()).expect("canonical");
    std::fs::create_dir_all(root.join("base")).expect("mkdir");
    let gone = root.join("gone/dev/kustomization.yaml");
    let table = FileTable::new(&root, 100).with_present([gone.clone()]);
    table.preload(&gone, Arc::from(&b"resources: []\n"[..]));
    assert!(table.is_file(&gone) && table.is_dir(&root.join("gone/dev")));
    assert!(table.exists(&root.join("gone")) && !table.is_file(&root.join("gone")));
    assert_eq!(
        table.present_dirs(),
        [root.join("gone"), root.join("gone/dev")]
    );
    // `..` after a directory only the table has still leads to the disk's.
    let through = root.join("gone/dev/../../base");
    assert!(table.is_dir(&through));
    assert_eq!(
        table.canonicalize(&through).expect("exists"),
        root.join("base")
    );
    assert_eq!(table.canonicalize(&gone).expect("present"), gone);
    assert!(table.canonicalize(&root.join("gone/x.yaml")).is_err());
    assert_eq!(table.len(&gone), Some(14));
    assert_eq!(&*table.text(&gone).expect("preloaded"), "resources: []\n");
}

#[test]
fn listings_answer_for_the_tables_file_set() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = std::fs::canonicalize(dir.path()).expect("canonical");
    for d in ["apps/a", "apps/new/sub", ".hidden"] {
        std::fs::create_dir_all(root.join(d)).expect("mkdir");
    }
    for f in [
        "apps/a/k.yaml",
        "apps/a/added.yaml",
        "apps/new/sub/x.yaml",
        ".hidden/h.yaml",
    ] {
        std::fs::write(root.join(f), "a: 1\n").expect("write");
    }
    let names = |entries: Vec<(PathBuf, bool)>| -> Vec<(String, bool)> {
        entries
            .into_iter()
            .map(|(p, d)| (super::super::relative(&root, &p), d))
            .collect()
    };
    let disk = FileTable::new(&root, 100);
    let own = |p: &str, d: bool| (p.to_owned(), d);
    assert_eq!(
        names(disk.list_dir(&root.join("apps"))),
        [own("apps/a", true), own("apps/new", true)]
    );
    let at_ref = FileTable::new(&root, 100)
        .hiding([root.join("apps/new"), root.join("apps/a/added.yaml")])
        .with_present([
            root.join("apps/a/gone.yaml"),
            root.join("apps/old/deep/y.yaml"),
            root.join(".hidden/gone.yaml"),
        ]);
    assert_eq!(
        names(at_ref.list_dir(&root.join("apps"))),
        [own("apps/a", true), own("apps/old", true)]
    );
    assert_eq!(
        names(at_ref.list_dir(&root.join("apps/a"))),
        [own("apps/a/gone.yaml", false), own("apps/a/k.yaml", false)]
    );
    assert_eq!(
        names(at_ref.list_dir(Path::new("apps/old"))),
        [own("apps/old/deep", true)]
    );
    assert!(at_ref.list_dir(&root.join("apps/new")).is_empty());
    let mut walker = ignore::WalkBuilder::new(&root);
    walker.hidden(true);
    let walked = |t: &FileTable| names(t.walk(&root, &walker));
    assert_eq!(
        walked(&disk),
        [
            own(".", true),
            own("apps", true),
            own("apps/a", true),
            own("apps/a/added.yaml", false),
            own("apps/a/k.yaml", false),
            own("apps/new", true),
            own("apps/new/sub", true),
            own("apps/new/sub/x.yaml", false),
        ]
    );
    // Hidden paths left out, present files and their new directories walked; none with
    // a hidden name.
    assert_eq!(
        walked(&at_ref),
        [
            own(".", true),
            own("apps", true),
            own("apps/a", true),
            own("apps/a/gone.yaml", false),
            own("apps/a/k.yaml", false),
            own("apps/old", true),
            own("apps/old/deep", true),
            own("apps/old/deep/y.yaml", false),
        ]
    );
}

/// `exists`, `is_file` and `is_dir` answer as `std::path::Path` does, following links,
/// and as the disk was when first asked (as contents are read once); a table seeded from
/// this one takes its answers, except for the paths it hides.
#[cfg(unix)]
#[test]
fn what_a_path_is_is_asked_of_the_disk_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = std::fs::canonicalize(dir.path()).expect("canonical temp dir");
    std::fs::create_dir_all(root.join("d/sub")).expect("mkdir");
    std::fs::write(root.join("d/f.yaml"), "a: 1\n").expect("write");
    std::fs::write(root.join("empty.yaml"), "").expect("write");
    std::os::unix::fs::symlink(root.join("d"), root.join("to-dir")).expect("link");
    std::os::unix::fs::symlink("d/f.yaml", root.join("to-file")).expect("link");
    std::os::unix::fs::symlink("nowhere", root.join("dangling")).expect("link");
    let table = Arc::new(FileTable::new(&root, 1 << 20));
    let cases = [
        "d",
        "d/sub",
        "d/f.yaml",
        "empty.yaml",
        "to-dir",
        "to-file",
        "dangling",
        "missing",
        "d/f.yaml/x",
        "to-dir/f.yaml",
        "to-dir/../d",
    ];
    let answers = |t: &FileTable, p: &Path| (t.exists(p), t.is_file(p), t.is_dir(p));
    for case in cases {
        let p = root.join(case);
        let std_says = (p.exists(), p.is_file(), p.is_dir());
        assert_eq!(answers(&table, &p), std_says, "{case}");
    }
    assert_eq!(
        table.bytes(Path::new("empty.yaml")).as_deref(),
        Ok(&b""[..])
    );
    // A read tells what it found: a path it found missing, or a directory, is answered as
    // such afterwards without asking the disk.
    std::fs::create_dir(root.join("read-dir")).expect("mkdir");
    assert!(table.bytes(&root.join("read-dir")).is_err());
    assert!(table.bytes(&root.join("read-missing")).is_err());
    std::fs::remove_dir(root.join("read-dir")).expect("rmdir");
    std::fs::write(root.join("read-missing"), "x\n").expect("write");
    assert_eq!(answers(&table, &root.join("read-dir")), (true, false, true));
    assert_eq!(
        answers(&table, &root.join("read-missing")),
        (false, false, false)
    );
    std::fs::remove_dir_all(root.join("d")).expect("remove");
    std::fs::write(root.join("missing"), "now here\n").expect("write");
    let f = root.join("d/f.yaml");
    assert_eq!(answers(&table, &f), (true, true, false), "as first asked");
    assert_eq!(
        answers(&table, &root.join("missing")),
        (false, false, false)
    );
    let seeded = FileTable::new(&root, 1 << 20).hiding([root.join("d/sub")]);
    seeded.seed_from(&table);
    assert_eq!(
        answers(&seeded, &f),
        (true, true, false),
        "taken from the seed"
    );
    assert_eq!(
        answers(&seeded, &root.join("d/sub")),
        (false, false, false),
        "hidden"
    );
    // A path the seed never asked about is asked of the disk as it is now.
    std::fs::create_dir(root.join("later")).expect("mkdir");
    assert_eq!(answers(&seeded, &root.join("later")), (true, false, true));
}

#[test]
fn io_messages_are_the_errors_own() {
    for code in [2, 20, 21, 13] {
        let e = std::io::Error::from_raw_os_error(code);
        assert_eq!(io_message(&e), e.to_string());
        assert_eq!(io_message(&e), e.to_string(), "formatted once, the same");
    }
    let custom = std::io::Error::other("no such thing");
    assert_eq!(io_message(&custom), "no such thing");
}

/// A path through `..` out of directories the walk saw as their own real paths is the
/// walk's path of its lexical form: answered from the walk, not the disk.
#[cfg(unix)]
#[test]
fn a_path_through_real_directories_is_known_by_its_lexical_form() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = std::fs::canonicalize(dir.path()).expect("canonical temp dir");
    std::fs::create_dir_all(root.join("clusters/dev")).expect("mkdir");
    std::fs::create_dir_all(root.join("d")).expect("mkdir");
    std::os::unix::fs::symlink(root.join("d"), root.join("link")).expect("link");
    let table = FileTable::new(&root, 1 << 20);
    // What the walk saw, `ghost` included: gone from the disk since.
    let seen = ["clusters", "clusters/dev", "d", "ghost"];
    table.walked(seen.map(|p| (root.join(p), true)).to_vec(), true);
    let through = root.join("clusters/dev/../../ghost");
    assert!(table.is_dir(&through), "as the walk saw it");
    assert!(table.exists(&through));
    // Not through a link: `link/..` is the link target's parent, asked of the disk.
    let _ = table.canonicalize(&root.join("link"));
    assert!(!table.is_dir(&root.join("link/../ghost")));
    assert!(!table.is_dir(&root.join("clusters/dev/../missing")));
    // A file named with a trailing `/` is asked of the disk, which refuses it.
    std::fs::write(root.join("f.yaml"), "a: 1\n").expect("write");
    table.walked(vec![(root.join("f.yaml"), false)], true);
    assert!(table.is_file(&root.join("clusters/dev/../../f.yaml")));
    assert!(!table.exists(&root.join("clusters/dev/../../f.yaml/")));
}

#[cfg(unix)]
#[test]
fn canonical_paths_are_realpaths_remembered() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = std::fs::canonicalize(dir.path()).expect("canonical temp dir");
    std::fs::create_dir_all(root.join("apps/a/base")).expect("mkdir");
    std::fs::create_dir_all(root.join("shared/deep")).expect("mkdir");
    std::fs::write(root.join("apps/a/base/file.yaml"), "x: 1\n").expect("write");
    std::os::unix::fs::symlink(root.join("shared/deep"), root.join("apps/link")).expect("link");
    std::os::unix::fs::symlink("base/file.yaml", root.join("apps/a/file-link")).expect("link");
    std::os::unix::fs::symlink("loop", root.join("loop")).expect("link");
    let table = FileTable::new(&root, 1 << 20);
    let cases = [
        "apps/a/base",
        "apps/a/base/",
        "apps/a/base/../base/./file.yaml",
        "apps/a/base/file.yaml",
        // `..` after a link leaves where the link led (`shared`), not `apps`.
        "apps/link/..",
        "apps/link/../deep",
        "apps/a/file-link",
        "apps/a/missing",
        "apps/a/missing/..",
        "apps/a/base/file.yaml/..",
        "apps/a/base/file.yaml/",
        "apps/a/base/file.yaml/x",
        "loop",
        "loop/x",
        "..",
        // Below directories resolved above (the walk starts at the nearest one).
        "apps/link/missing",
        "apps/link/../deep/.",
        "apps/a/file-link/x",
        "apps/a/base/file.yaml/y/z",
        // `..` after directories resolved before, with and without a link among them.
        "apps/a/base/../../a/base/file.yaml",
        "apps/a/base/../../a/file-link/",
        "apps/a/base/../../link/../deep",
        "apps/link/../../apps/a",
        "apps/a/base/file.yaml/../base",
        "apps/a/missing/../base",
    ];
    // Twice: the second round answers from what the first remembered.
    for _ in 0..2 {
        for case in cases {
            let path = root.join(case);
            let theirs = std::fs::canonicalize(&path);
            let ours = table.canonicalize(&path);
            match (&theirs, &ours) {
                (Ok(a), Ok(b)) => assert_eq!(a, b, "{case}"),
                (Err(a), Err(b)) => assert_eq!(a.kind(), b.kind(), "{case}: {a} / {b}"),
                _ => panic!("{case}: std says {theirs:?}, the table {ours:?}"),
            }
        }
    }
    // A table seeded from this one takes what it resolved, without asking the disk.
    let seeded = FileTable::new(&root, 1 << 20);
    seeded.seed_from(&Arc::new(table));
    std::fs::remove_dir_all(root.join("shared")).expect("remove");
    assert_eq!(
        seeded.canonicalize(&root.join("apps/link/../deep")).ok(),
        Some(root.join("shared/deep"))
    );
    assert!(seeded.canonicalize(&root.join("shared")).is_err());
}
