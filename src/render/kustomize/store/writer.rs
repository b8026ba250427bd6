//! The render cache's entries written on a thread of their own. Creating a file costs the
//! kernel more than writing it (ext4 looks for a free inode past the recently deleted ones:
//! 2.5% of a one-app `--changed-since`), and a cluster's entry was written on the thread that
//! then finishes the cluster, the run's last and longest. A build queues its entry when the
//! thread is idle, and writes it itself when the thread is busy: a cold run writes hundreds
//! of entries, which one thread alone finished writing well after the builds were done.
//! [`Writer::flush`] waits for what was queued.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Sender, channel};
use std::sync::{Arc, Mutex};

use crate::source::locked;

/// What the writes came to: how many were written, how many failed, and the first error.
#[derive(Default)]
pub(super) struct Outcome {
    pub written: AtomicUsize,
    pub failed: AtomicUsize,
    pub error: Mutex<Option<String>>,
}

impl Outcome {
    /// Counts a write's `result`, keeping the first error.
    pub fn count(&self, result: Result<(), String>) {
        match result {
            Ok(()) => self.written.fetch_add(1, Ordering::Relaxed),
            Err(e) => {
                self.note_error(e);
                self.failed.fetch_add(1, Ordering::Relaxed)
            }
        };
    }

    /// Keeps `e` when it is the first error.
    pub fn note_error(&self, e: String) {
        if let Ok(mut first) = self.error.lock() {
            first.get_or_insert(e);
        }
    }
}

/// One entry to write: the place of the entry used last (which it replaces, moved to the
/// second place), and its bytes.
pub(super) struct Entry {
    pub to: PathBuf,
    pub second: PathBuf,
    pub bytes: Vec<u8>,
}

enum Job {
    Write(Entry),
    /// Answered once every write queued before it is done.
    Flush(Sender<()>),
}

/// The writing thread of one store (started on the first entry), writing into `dir`.
pub(super) struct Writer {
    dir: PathBuf,
    queue: Mutex<Option<Sender<Job>>>,
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
    /// The places of the queued entries not written yet.
    pending: Arc<Mutex<HashSet<PathBuf>>>,
    pub outcome: Arc<Outcome>,
}

impl Writer {
    pub fn new(dir: PathBuf) -> Writer {
        Writer {
            dir,
            queue: Mutex::new(None),
            thread: Mutex::new(None),
            pending: Arc::default(),
            outcome: Arc::default(),
        }
    }

    /// Queues `entry` when the thread is idle, else writes it here (and when no thread can
    /// be started); one whose place has an entry queued is queued after it, in order.
    pub fn write(&self, entry: Entry) {
        let inline = {
            let pending = locked(&self.pending);
            !pending.is_empty() && !pending.contains(&entry.to)
        };
        if inline {
            return self.outcome.count(write(&self.dir, entry));
        }
        let Ok(mut queue) = self.queue.lock() else {
            return self.outcome.count(write(&self.dir, entry));
        };
        if queue.is_none() {
            let (tx, rx) = channel::<Job>();
            let (dir, outcome) = (self.dir.clone(), self.outcome.clone());
            let pending = self.pending.clone();
            let started = std::thread::Builder::new()
                .name("kgate-cache".into())
                .spawn(move || {
                    for job in rx {
                        match job {
                            Job::Write(entry) => {
                                let to = entry.to.clone();
                                outcome.count(write(&dir, entry));
                                locked(&pending).remove(&to);
                            }
                            Job::Flush(done) => {
                                let _ = done.send(());
                            }
                        }
                    }
                });
            match started {
                Ok(handle) => {
                    *queue = Some(tx);
                    if let Ok(mut thread) = self.thread.lock() {
                        *thread = Some(handle);
                    }
                }
                Err(_) => return self.outcome.count(write(&self.dir, entry)),
            }
        }
        locked(&self.pending).insert(entry.to.clone());
        if let Some(Err(refused)) = queue.as_ref().map(|tx| tx.send(Job::Write(entry))) {
            // The thread is gone (it cannot be, short of a panic): written here instead.
            if let Job::Write(entry) = refused.0 {
                locked(&self.pending).remove(&entry.to);
                self.outcome.count(write(&self.dir, entry));
            }
        }
    }

    /// Waits until every entry queued so far is written.
    pub fn flush(&self) {
        let waiting = self.queue.lock().ok().and_then(|queue| {
            let (done, wait) = channel();
            queue.as_ref()?.send(Job::Flush(done)).ok()?;
            Some(wait)
        });
        if let Some(wait) = waiting {
            let _ = wait.recv();
        }
    }
}

impl Drop for Writer {
    /// Every queued entry is written before the store goes.
    fn drop(&mut self) {
        if let Ok(mut queue) = self.queue.lock() {
            queue.take();
        }
        if let Some(handle) = self.thread.lock().ok().and_then(|mut t| t.take()) {
            let _ = handle.join();
        }
    }
}

/// Writes `entry` in `dir`: the entry used last becomes the second, the one before it goes.
fn write(dir: &std::path::Path, entry: Entry) -> Result<(), String> {
    let _ = std::fs::rename(&entry.to, &entry.second);
    super::write_atomically(dir, &entry.to, &entry.bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(dir: &std::path::Path, bytes: &[u8]) -> Entry {
        Entry {
            to: dir.join("e-0"),
            second: dir.join("e-1"),
            bytes: bytes.to_vec(),
        }
    }

    #[test]
    fn entries_are_written_in_order_and_flush_waits_for_them() {
        let tmp = tempfile::tempdir().expect("temp dir");
        let w = Writer::new(tmp.path().to_path_buf());
        for bytes in [b"one", b"two", b"tri"] {
            w.write(entry(tmp.path(), bytes));
        }
        w.flush();
        assert_eq!(std::fs::read(tmp.path().join("e-0")).expect("e-0"), b"tri");
        assert_eq!(std::fs::read(tmp.path().join("e-1")).expect("e-1"), b"two");
        assert_eq!(w.outcome.written.load(Ordering::Relaxed), 3);
    }

    #[test]
    fn dropping_the_writer_writes_what_was_queued() {
        let tmp = tempfile::tempdir().expect("temp dir");
        let w = Writer::new(tmp.path().to_path_buf());
        w.write(entry(tmp.path(), b"queued"));
        drop(w);
        assert_eq!(
            std::fs::read(tmp.path().join("e-0")).expect("e-0"),
            b"queued"
        );
    }

    #[test]
    fn a_failed_write_is_counted_with_its_error() {
        let tmp = tempfile::tempdir().expect("temp dir");
        let gone = tmp.path().join("gone");
        let w = Writer::new(gone.clone());
        w.write(entry(&gone, b"x"));
        w.flush();
        assert_eq!(w.outcome.failed.load(Ordering::Relaxed), 1);
        let error = w.outcome.error.lock().expect("lock").clone();
        assert!(
            error.as_ref().is_some_and(|e| e.contains("gone")),
            "{error:?}"
        );
    }
}
