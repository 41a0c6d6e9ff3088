//! The atomic commit of a run's files across folders (SPEC §4, §8).
//!
//! A rename is atomic for one file only, so a commit of several files keeps a journal:
//!
//! 1. The journal is written in phase `staging`, naming the staging folders it will create.
//! 2. Every file is written into a staging folder beside its target and synced.
//! 3. The journal moves to phase `commit`, listing every rename; from here the commit happens.
//! 4. The files are renamed into place, then the journal and the staging folders are removed.
//!
//! [`recover`], run at the start of the next run, finishes a commit whose journal says
//! `commit` and throws away one that says `staging`. A kill at any point therefore leaves the
//! previous files or the new ones, never a mix, and no temporary file after the next run.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicUsize;

use serde::{Deserialize, Serialize};

use super::{Content, CsvStyle, Output, OutputError};
use crate::fault;

/// The journal's file name, in the journal folder (the state folder, else the output folder).
pub const JOURNAL: &str = ".listaudit-journal.json";
const STAGING_PREFIX: &str = ".listaudit-staging-";

/// Files to write into one folder.
pub struct Target {
    pub dir: PathBuf,
    pub outputs: Vec<Output>,
}

#[derive(Debug, Serialize, Deserialize)]
struct Journal {
    phase: Phase,
    staging: Vec<PathBuf>,
    moves: Vec<(PathBuf, PathBuf)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum Phase {
    Staging,
    Commit,
}

fn io_err(dir: &Path) -> impl Fn(std::io::Error) -> OutputError + '_ {
    move |source| OutputError::Write {
        dir: dir.display().to_string(),
        source,
    }
}

fn write_journal(dir: &Path, journal: &Journal) -> Result<(), OutputError> {
    let err = io_err(dir);
    let tmp = dir.join(format!("{JOURNAL}.tmp"));
    let bytes = serde_json::to_vec(journal).map_err(|e| err(std::io::Error::other(e)))?;
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(&err)?;
    file.write_all(&bytes).map_err(&err)?;
    file.sync_all().map_err(&err)?;
    std::fs::rename(&tmp, dir.join(JOURNAL)).map_err(&err)?;
    sync_dir(dir).map_err(&err)
}

fn sync_dir(dir: &Path) -> std::io::Result<()> {
    File::open(dir)?.sync_all()
}

/// What [`recover`] found.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Recovery {
    /// An interrupted commit was finished.
    pub finished: bool,
    /// An interrupted run's staged files were thrown away.
    pub undone: bool,
}

/// Finishes or undoes a commit that a killed run left behind in `dir`.
pub fn recover(dir: &Path) -> Result<Recovery, OutputError> {
    let err = io_err(dir);
    let path = dir.join(JOURNAL);
    let _ = std::fs::remove_file(dir.join(format!("{JOURNAL}.tmp")));
    let bytes = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Recovery::default()),
        Err(e) => return Err(err(e)),
    };
    let journal: Journal = serde_json::from_slice(&bytes)
        .map_err(|e| err(std::io::Error::other(format!("{}: {e}", path.display()))))?;
    let mut recovery = Recovery::default();
    if journal.phase == Phase::Commit {
        for (from, to) in &journal.moves {
            if from.exists() {
                std::fs::rename(from, to).map_err(&err)?;
            }
        }
        for (_, to) in &journal.moves {
            if let Some(parent) = to.parent() {
                sync_dir(parent).map_err(&err)?;
            }
        }
        recovery.finished = true;
    } else {
        recovery.undone = true;
    }
    for staging in &journal.staging {
        if staging.exists() {
            std::fs::remove_dir_all(staging).map_err(&err)?;
        }
    }
    std::fs::remove_file(&path).map_err(&err)?;
    sync_dir(dir).map_err(&err)?;
    Ok(recovery)
}

fn create_private(path: &Path) -> std::io::Result<File> {
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
}

/// A staged file written past the page cache where the filesystem allows it (Linux's
/// `O_DIRECT`): the bytes go from this writer's aligned block to the disk, a block of
/// [`Direct::BLOCK`] bytes at a time, instead of being copied into the page cache and written
/// from there at the sync. A run's outputs are about twice its input (2.6 GB for ten million
/// contacts), and this machine's disk takes 1.2–1.4 GB/s written so, but 340 MB/s through the
/// page cache with a sync (`dd if=/dev/zero of=target/ddtest bs=4M count=384 oflag=direct`
/// against `… bs=1M count=1500 conv=fsync`; the page cache was slower still while a build
/// ran). The tail, shorter than a block's alignment, goes through the page cache; the caller's
/// sync makes the whole file durable either way. Where the filesystem refuses `O_DIRECT`
/// (tmpfs on older kernels, or another system than Linux), every write goes through the page
/// cache, as before.
pub struct Direct {
    file: File,
    direct: bool,
    /// [`Direct::BLOCK`] bytes from `start`, which is aligned, and the slack to align it.
    buffer: Vec<u8>,
    start: usize,
    filled: usize,
}

impl Direct {
    /// Memory addresses, file offsets and lengths of a direct write are multiples of this:
    /// the logical block size of every common disk divides it (a disk it does not suit refuses the
    /// write, and the file goes on through the page cache).
    pub const ALIGN: usize = 4096;
    /// A direct write's size: on this disk 1 MiB took 980 MB/s, 4 MiB 1.4 GB/s, 16 MiB 1.3.
    pub const BLOCK: usize = 4 << 20;

    /// A writer into `file`, past the page cache if `direct` is asked for and the filesystem
    /// allows it.
    pub fn new(file: File, direct: bool) -> Direct {
        let direct = direct && set_direct(&file, true).is_ok();
        let buffer = vec![0; Self::BLOCK + Self::ALIGN];
        let start = buffer.as_ptr().align_offset(Self::ALIGN);
        Direct {
            file,
            direct,
            buffer,
            start,
            filled: 0,
        }
    }

    /// Whether the blocks go past the page cache.
    pub fn is_direct(&self) -> bool {
        self.direct
    }

    /// Writes what the block holds (a whole block, or the tail) and empties it.
    fn write_block(&mut self) -> std::io::Result<()> {
        let block = &self.buffer[self.start..self.start + self.filled];
        write_out(&self.file, &mut self.direct, block)?;
        self.filled = 0;
        Ok(())
    }

    /// Writes the rest and gives the file back, for its sync.
    pub fn finish(mut self) -> std::io::Result<File> {
        if self.direct && !self.filled.is_multiple_of(Self::ALIGN) {
            buffered(&self.file, &mut self.direct)?;
        }
        self.write_block()?;
        Ok(self.file)
    }
}

/// Writes all of `bytes` into `file`, past the page cache while `direct` holds: a direct write
/// the device refuses (EINVAL, its blocks larger than the alignment) or a short one, after which
/// what is left is no longer aligned, turns `direct` off and goes on through the page cache.
fn write_out(file: &File, direct: &mut bool, bytes: &[u8]) -> std::io::Result<()> {
    let mut file = file;
    let mut done = 0;
    while done < bytes.len() {
        match file.write(&bytes[done..]) {
            Ok(0) => return Err(std::io::ErrorKind::WriteZero.into()),
            Ok(n) => {
                done += n;
                if done < bytes.len() && *direct {
                    buffered(file, direct)?;
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) if *direct && e.kind() == std::io::ErrorKind::InvalidInput => {
                buffered(file, direct)?;
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Goes on through the page cache.
fn buffered(file: &File, direct: &mut bool) -> std::io::Result<()> {
    set_direct(file, false)?;
    *direct = false;
    Ok(())
}

impl Write for Direct {
    /// Whole aligned blocks from an aligned address, with none held before them (as a
    /// [`super::csv::Chunk`] hands them on), are written where they are; anything else is
    /// copied into the block first.
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let whole = buf.len() / Self::ALIGN * Self::ALIGN;
        if self.direct
            && self.filled == 0
            && whole > 0
            && buf.as_ptr().align_offset(Self::ALIGN) == 0
        {
            write_out(&self.file, &mut self.direct, &buf[..whole])?;
            return Ok(whole);
        }
        let n = buf.len().min(Self::BLOCK - self.filled);
        let at = self.start + self.filled;
        self.buffer[at..at + n].copy_from_slice(&buf[..n]);
        self.filled += n;
        if self.filled == Self::BLOCK {
            self.write_block()?;
        }
        Ok(n)
    }

    /// The block is written when it is full, or by [`Direct::finish`]: a direct write of a
    /// part of one would leave the next write unaligned.
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Turns `O_DIRECT` on or off for an open file; an error where the filesystem has no direct
/// writes.
#[cfg(target_os = "linux")]
fn set_direct(file: &File, on: bool) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    let fd = file.as_raw_fd();
    // SAFETY: the descriptor is the open file's own, and F_GETFL and F_SETFL read and set
    // only its status flags; no memory of ours is passed.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    if flags < 0 {
        return Err(std::io::Error::last_os_error());
    }
    let flags = if on {
        flags | libc::O_DIRECT
    } else {
        flags & !libc::O_DIRECT
    };
    // SAFETY: as above.
    if unsafe { libc::fcntl(fd, libc::F_SETFL, flags) } < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

#[cfg(not(target_os = "linux"))]
fn set_direct(_: &File, on: bool) -> std::io::Result<()> {
    if on {
        Err(std::io::ErrorKind::Unsupported.into())
    } else {
        Ok(())
    }
}

/// Writes one staged file; the caller syncs the file it returns.
fn write_one(
    path: &Path,
    content: &mut Content,
    style: CsvStyle,
    spare: &AtomicUsize,
) -> Result<File, OutputError> {
    let write_err = |source| OutputError::Write {
        dir: path.display().to_string(),
        source,
    };
    fault::io("write").map_err(write_err)?;
    let file = create_private(path).map_err(write_err)?;
    let mut writer = Direct::new(file, true);
    match content {
        // One core has no other to help with.
        Content::Table(table) => match spelling_threads() {
            1 if crate::parallel::cores() > 1 => table.write_helped(&mut writer, style, spare),
            threads => table.write(&mut writer, style, threads),
        }
        .map_err(|source| OutputError::Csv {
            file: path.display().to_string(),
            source,
        })?,
        Content::Bytes(bytes) => writer.write_all(bytes).map_err(write_err)?,
        Content::Later(make) => {
            let make = std::mem::replace(make, Box::new(|| Ok(Vec::new())));
            writer
                .write_all(&make().map_err(write_err)?)
                .map_err(write_err)?
        }
    }
    writer.finish().map_err(write_err)
}

/// The files a run writes at once, each from a queue of them in order. The disk takes two
/// streams of direct writes as fast as one (two `dd … oflag=direct` at once: 850–860 MB/s
/// each, against 1.2–1.4 GB/s for one alone), and while one file waits on the disk another's
/// cells are spelled: one file at a time left the two cores idle two fifths of the stage.
const WRITERS: usize = 2;

/// The threads each of the [`WRITERS`] spells its table on: the cores they share.
fn spelling_threads() -> usize {
    (crate::parallel::cores() / WRITERS).max(1)
}

/// Writes every file into its staging path, [`WRITERS`] at a time, and syncs each on a thread
/// of its own once written; all are on disk when it returns.
fn write_all(
    files: &mut [(PathBuf, &mut Content)],
    style: CsvStyle,
    journal_dir: &Path,
) -> Result<(), OutputError> {
    use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
    let queue = std::sync::Mutex::new(files.iter_mut());
    let failed = AtomicBool::new(false);
    // Writers done with the queue: each leaves its core to help spell the tables still being
    // written (on two cores, audit.csv outlasts the other lists by 0.2-0.4 s at 10M).
    let spare = AtomicUsize::new(0);
    let panicked =
        |what: &str| io_err(journal_dir)(std::io::Error::other(format!("{what} failed")));
    // A thread left unjoined after an error is joined when the scope ends.
    std::thread::scope(|scope| {
        let writers: Vec<_> = (0..WRITERS)
            .map(|_| {
                scope.spawn(|| {
                    let mut syncs = Vec::new();
                    while !failed.load(Relaxed) {
                        let Some((path, content)) = queue.lock().map_or(None, |mut q| q.next())
                        else {
                            break;
                        };
                        let file = write_one(path, content, style, &spare)
                            .inspect_err(|_| failed.store(true, Relaxed))?;
                        let path = path.clone();
                        syncs.push(scope.spawn(move || {
                            file.sync_all().map_err(|source| OutputError::Write {
                                dir: path.display().to_string(),
                                source,
                            })
                        }));
                    }
                    spare.fetch_add(1, Relaxed);
                    for sync in syncs {
                        sync.join().map_err(|_| panicked("a sync"))??;
                    }
                    Ok::<(), OutputError>(())
                })
            })
            .collect();
        for writer in writers {
            writer.join().map_err(|_| panicked("a writer"))??;
        }
        Ok(())
    })
}

/// Creates `dir` and its missing parents; returns the folders it created, outermost first.
fn create_dirs(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut missing = Vec::new();
    let mut current = Some(dir);
    while let Some(d) = current {
        if d.as_os_str().is_empty() || d.exists() {
            break;
        }
        missing.push(d.to_path_buf());
        current = d.parent();
    }
    missing.reverse();
    for (i, d) in missing.iter().enumerate() {
        if let Err(e) = std::fs::create_dir(d) {
            for made in missing[..i].iter().rev() {
                let _ = std::fs::remove_dir(made);
            }
            return Err(e);
        }
    }
    Ok(missing)
}

/// Writes every target's files and renames them into place together; the journal lives in
/// `journal_dir`. On failure nothing in any target changes, and folders this run created are
/// removed again. Returns the paths written.
pub fn commit(
    mut targets: Vec<Target>,
    journal_dir: &Path,
    style: CsvStyle,
) -> Result<Vec<PathBuf>, OutputError> {
    let mut created: Vec<PathBuf> = Vec::new();
    let mut staging: Vec<PathBuf> = Vec::new();
    let result = (|| {
        for target in &targets {
            created.extend(create_dirs(&target.dir).map_err(io_err(&target.dir))?);
            for output in &target.outputs {
                let path = target.dir.join(output.name);
                if path.is_dir() {
                    return Err(io_err(&target.dir)(std::io::Error::other(format!(
                        "{} is a directory",
                        path.display()
                    ))));
                }
            }
        }
        if !created.iter().any(|c| journal_dir.starts_with(c)) {
            created.extend(create_dirs(journal_dir).map_err(io_err(journal_dir))?);
        }
        let run = format!(
            "{}-{}",
            std::process::id(),
            chrono::Utc::now().timestamp_nanos_opt().unwrap_or(0)
        );
        staging = targets
            .iter()
            .enumerate()
            .map(|(i, t)| absolute(&t.dir).join(format!("{STAGING_PREFIX}{run}-{i}")))
            .collect();
        let mut journal = Journal {
            phase: Phase::Staging,
            staging: staging.clone(),
            moves: Vec::new(),
        };
        write_journal(journal_dir, &journal)?;
        for (target, stage) in targets.iter().zip(&staging) {
            std::fs::create_dir(stage).map_err(io_err(&target.dir))?;
            journal.moves.extend(
                target
                    .outputs
                    .iter()
                    .map(|o| (stage.join(o.name), absolute(&target.dir).join(o.name))),
            );
        }
        let mut files: Vec<(PathBuf, &mut Content)> = targets
            .iter_mut()
            .zip(&staging)
            .flat_map(|(target, stage)| {
                target
                    .outputs
                    .iter_mut()
                    .map(|o| (stage.join(o.name), &mut o.content))
            })
            .collect();
        // What is made later is made last: the lists before it give it time.
        files.sort_by_key(|(_, content)| content.is_later());
        write_all(&mut files, style, journal_dir)?;
        fault::point("staged");
        journal.phase = Phase::Commit;
        write_journal(journal_dir, &journal)?;
        fault::point("journal");
        let mut written = Vec::new();
        for (n, (from, to)) in journal.moves.iter().enumerate() {
            std::fs::rename(from, to).map_err(io_err(journal_dir))?;
            if n == 0 {
                fault::point("renaming");
            }
            written.push(to.clone());
        }
        for target in &targets {
            sync_dir(&target.dir).map_err(io_err(&target.dir))?;
        }
        fault::point("renamed");
        for stage in &staging {
            std::fs::remove_dir(stage).map_err(io_err(journal_dir))?;
        }
        std::fs::remove_file(journal_dir.join(JOURNAL)).map_err(io_err(journal_dir))?;
        sync_dir(journal_dir).map_err(io_err(journal_dir))?;
        Ok(written)
    })();
    if result.is_err() {
        // Nothing was renamed unless the journal reached `commit`; a failed rename after that
        // is finished by the next run's recovery, so only an uncommitted run is undone here.
        let committed = std::fs::read(journal_dir.join(JOURNAL))
            .ok()
            .and_then(|b| serde_json::from_slice::<Journal>(&b).ok())
            .is_some_and(|j| j.phase == Phase::Commit);
        if !committed {
            for stage in &staging {
                let _ = std::fs::remove_dir_all(stage);
            }
            let _ = std::fs::remove_file(journal_dir.join(JOURNAL));
            for dir in created.iter().rev() {
                let _ = std::fs::remove_dir(dir);
            }
        }
    }
    result
}

fn absolute(dir: &Path) -> PathBuf {
    std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf())
}
