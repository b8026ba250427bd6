//! Content hashes of files by what `stat` said of them in an earlier run, so that a file
//! whose device, inode, size, modification and change times are all as they were is known
//! by its hash without being read. A warm one-app `--changed-since` of the 200-app monorepo
//! read 2,200 files (5 calls into the kernel each) only to hash them or to find that a
//! cached answer about their text still held.
//!
//! The index is trusted as git trusts its index: an entry is recorded only for a file whose
//! change time is more than [`SETTLED`] before the run's first read. A file changed after
//! the stat recorded here has a later change time (no call sets it back), so an entry can
//! only be hit by the content it was made from. A file changed while the run reads it is
//! not recorded (it is hashed again by the next run).

use std::collections::HashMap;
use std::ffi::OsString;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

/// How long before the run's first read a file must have last changed for its hash to be
/// recorded: beyond the granularity of file system timestamps and of their clock.
pub const SETTLED: Duration = Duration::from_secs(2);

/// Entries not seen in a run are dropped once the index is larger than this (renamed and
/// removed files would otherwise stay forever).
const MAX_KEPT: usize = 200_000;

/// What `stat` says of a file that changes when its content does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stat {
    dev: u64,
    ino: u64,
    size: u64,
    mtime: (i64, i64),
    ctime: (i64, i64),
}

impl Stat {
    /// `meta`'s identity and times (`None` where the platform has no inode and change time).
    pub fn of(meta: &std::fs::Metadata) -> Option<Stat> {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            Some(Stat {
                dev: meta.dev(),
                ino: meta.ino(),
                size: meta.size(),
                mtime: (meta.mtime(), meta.mtime_nsec()),
                ctime: (meta.ctime(), meta.ctime_nsec()),
            })
        }
        #[cfg(not(unix))]
        {
            let _ = meta;
            None
        }
    }

    /// Whether the file last changed (content or metadata) before `time`.
    pub fn settled_before(&self, time: SystemTime) -> bool {
        let Ok(since_epoch) = time.duration_since(SystemTime::UNIX_EPOCH) else {
            return false;
        };
        let (secs, nanos) = self.ctime;
        let (Ok(secs), Ok(nanos)) = (u64::try_from(secs), u32::try_from(nanos)) else {
            return false;
        };
        Duration::new(secs, 0).saturating_add(Duration::from_nanos(u64::from(nanos)))
            < since_epoch.saturating_sub(SETTLED)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct Entry {
    stat: Stat,
    digest: [u8; 32],
}

/// An entry an earlier run left, and whether this run found it still true.
#[derive(Debug)]
struct Known {
    entry: Entry,
    /// Set without a lock: thousands of files are confirmed in a run, from every thread
    /// (a shared map of them, a path copied into it each, kept the walk's two threads
    /// waiting on each other).
    seen: AtomicBool,
}

/// The index an earlier run left, and what this run confirmed or added.
#[derive(Debug, Default)]
pub struct Digests {
    known: HashMap<OsString, Known, foldhash::fast::RandomState>,
    /// The entries this run recorded (a known entry found true is marked in `known`).
    recorded: Mutex<super::ByteMap<Entry>>,
    /// How many of `recorded` the earlier run had not (or had with another stat).
    fresh: AtomicUsize,
}

impl Digests {
    /// The index [`Digests::to_bytes`] wrote (empty when the bytes do not decode).
    pub fn from_bytes(bytes: &[u8]) -> Digests {
        let known = postcard::from_bytes::<Vec<(OsString, Entry)>>(bytes)
            .map(|v| {
                v.into_iter()
                    .map(|(path, entry)| {
                        let seen = AtomicBool::new(false);
                        (path, Known { entry, seen })
                    })
                    .collect()
            })
            .unwrap_or_default();
        Digests {
            known,
            ..Digests::default()
        }
    }

    /// The hash recorded for `path` when the file is still as `stat` says.
    pub fn get(&self, path: &std::ffi::OsStr, stat: &Stat) -> Option<[u8; 32]> {
        let known = self.known.get(path).filter(|k| k.entry.stat == *stat)?;
        known.seen.store(true, Ordering::Relaxed);
        Some(known.entry.digest)
    }

    /// Keeps the entry for `path` when the earlier run recorded this very content (no stat
    /// needed: the content was read in this run); whether it did.
    pub fn confirm(&self, path: &std::ffi::OsStr, digest: &[u8; 32]) -> bool {
        match self.known.get(path).filter(|k| k.entry.digest == *digest) {
            Some(known) => {
                known.seen.store(true, Ordering::Relaxed);
                true
            }
            None => false,
        }
    }

    /// Records that the file at `path`, as `stat` says it is, hashes to `digest`. The caller
    /// read the content after `stat`'s change time was settled (see the module's comment).
    pub fn record(&self, path: &std::ffi::OsStr, stat: Stat, digest: [u8; 32]) {
        let entry = Entry { stat, digest };
        if self.known.get(path).map(|k| &k.entry) != Some(&entry) {
            self.fresh.fetch_add(1, Ordering::Relaxed);
        }
        self.lock().insert(path.to_owned(), entry);
    }

    /// What to keep for the next run when this one recorded enough that is new: this run's
    /// entries and the earlier ones it did not look at (unless there are too many), sorted;
    /// `None` when nothing is new, or too little to be worth rewriting the index (a file
    /// or two being edited between runs is hashed again by the next run instead: writing
    /// thousands of entries was 5 ms at the end of every warm one-app run).
    pub fn to_bytes(&self) -> Option<Vec<u8>> {
        let fresh = self.fresh.load(Ordering::Relaxed);
        if fresh == 0 {
            return None;
        }
        let recorded = self.lock();
        let confirmed = || {
            (self.known.iter())
                .filter(|(p, k)| k.seen.load(Ordering::Relaxed) && !recorded.contains_key(*p))
        };
        if !worth_writing(fresh, recorded.len() + confirmed().count()) {
            return None;
        }
        let mut all: Vec<(&OsString, &Entry)> = recorded.iter().collect();
        if self.known.len() + recorded.len() <= MAX_KEPT {
            all.extend(
                (self.known.iter())
                    .filter(|(p, _)| !recorded.contains_key(*p))
                    .map(|(p, k)| (p, &k.entry)),
            );
        } else {
            all.extend(confirmed().map(|(p, k)| (p, &k.entry)));
        }
        all.sort_unstable_by(|a, b| a.0.as_encoded_bytes().cmp(b.0.as_encoded_bytes()));
        postcard::to_stdvec(&all).ok()
    }

    /// How many entries this run recorded anew.
    pub fn fresh(&self) -> usize {
        self.fresh.load(Ordering::Relaxed)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, super::ByteMap<Entry>> {
        super::locked(&self.recorded)
    }
}

/// Whether `fresh` new answers among `total` are worth rewriting a whole index of answers
/// kept across runs for (more than one in 32 of them, or any when there are few).
pub fn worth_writing(fresh: usize, total: usize) -> bool {
    fresh > 0 && fresh > total / 32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stat(ctime: i64) -> Stat {
        Stat {
            dev: 1,
            ino: 2,
            size: 3,
            mtime: (ctime, 0),
            ctime: (ctime, 0),
        }
    }

    #[test]
    fn an_entry_is_taken_only_for_the_same_stat_and_survives_a_round_trip() {
        let index = Digests::default();
        index.record("/r/a.yaml".as_ref(), stat(100), [7; 32]);
        let bytes = index.to_bytes().expect("something new");
        let next = Digests::from_bytes(&bytes);
        assert_eq!(next.get("/r/a.yaml".as_ref(), &stat(100)), Some([7; 32]));
        assert_eq!(next.get("/r/a.yaml".as_ref(), &stat(101)), None);
        assert_eq!(next.get("/r/b.yaml".as_ref(), &stat(100)), None);
        // Nothing new: nothing to write; the entries not looked at are kept when there is.
        assert_eq!(next.to_bytes(), None);
        next.record("/r/b.yaml".as_ref(), stat(5), [9; 32]);
        let again = Digests::from_bytes(&next.to_bytes().expect("new entry"));
        assert_eq!(again.get("/r/a.yaml".as_ref(), &stat(100)), Some([7; 32]));
        assert_eq!(again.get("/r/b.yaml".as_ref(), &stat(5)), Some([9; 32]));
    }

    #[test]
    fn content_read_again_confirms_its_entry_only_when_it_is_the_same() {
        let index = Digests::default();
        index.record("/r/a.yaml".as_ref(), stat(100), [7; 32]);
        let next = Digests::from_bytes(&index.to_bytes().expect("new"));
        assert!(next.confirm("/r/a.yaml".as_ref(), &[7; 32]));
        assert!(!next.confirm("/r/a.yaml".as_ref(), &[8; 32]));
    }

    #[test]
    fn a_few_new_entries_among_many_are_not_written() {
        let index = Digests::default();
        for i in 0..100 {
            index.record(format!("/r/{i}.yaml").as_ref(), stat(100), [7; 32]);
        }
        let next = Digests::from_bytes(&index.to_bytes().expect("all new"));
        for i in 0..100 {
            assert!(
                next.get(format!("/r/{i}.yaml").as_ref(), &stat(100))
                    .is_some()
            );
        }
        next.record("/r/0.yaml".as_ref(), stat(101), [8; 32]);
        assert_eq!(next.fresh(), 1);
        assert_eq!(
            next.to_bytes(),
            None,
            "one change in a hundred is hashed again"
        );
        for i in 1..10 {
            next.record(format!("/r/{i}.yaml").as_ref(), stat(101), [8; 32]);
        }
        assert!(next.to_bytes().is_some());
    }

    #[test]
    fn a_full_index_keeps_only_what_the_run_confirmed_or_recorded() {
        let index = Digests::default();
        for i in 0..MAX_KEPT {
            index.record(format!("/r/{i}").as_ref(), stat(100), [7; 32]);
        }
        let next = Digests::from_bytes(&index.to_bytes().expect("all new"));
        for i in 0..10 {
            assert!(next.get(format!("/r/{i}").as_ref(), &stat(100)).is_some());
        }
        next.record("/r/new".as_ref(), stat(5), [9; 32]);
        let again = Digests::from_bytes(&next.to_bytes().expect("one new among 11"));
        assert_eq!(again.known.len(), 11);
        assert!(again.get("/r/9".as_ref(), &stat(100)).is_some());
        assert!(again.get("/r/new".as_ref(), &stat(5)).is_some());
        assert!(again.get("/r/10".as_ref(), &stat(100)).is_none());
    }

    #[test]
    fn garbage_is_an_empty_index() {
        let index = Digests::from_bytes(b"\xff\xff\xff not postcard");
        assert_eq!(index.get("/r/a.yaml".as_ref(), &stat(1)), None);
    }

    #[test]
    fn only_a_change_time_settled_before_the_run_counts() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000);
        assert!(stat(990).settled_before(now));
        assert!(!stat(999).settled_before(now));
        assert!(!stat(1_005).settled_before(now));
        assert!(!stat(-5).settled_before(now));
    }
}
