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
use std::io::{BufWriter, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

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

/// A staged file whose pages are handed to the disk as it grows, every
/// [`Writeback::EVERY`] bytes, without waiting for them. A run's outputs are about twice its
/// input (2.6 GB for ten million contacts), and the disk, not the writer, sets the pace: this
/// machine's disk takes 340 MB/s (`dd … conv=fsync`). Left to the kernel, little of a file
/// reached the disk before its sync, and the last sync waited 1.6 s for what was left of the
/// 2.6 GB. The sync itself stays what makes the file durable.
pub struct Writeback {
    file: File,
    written: u64,
    handed: u64,
}

impl Writeback {
    const EVERY: u64 = 8 << 20;

    pub fn new(file: File) -> Writeback {
        Writeback {
            file,
            written: 0,
            handed: 0,
        }
    }

    /// Hands the rest to the disk and gives the file back, for its sync.
    pub fn finish(mut self) -> File {
        self.hand_over();
        self.file
    }

    /// How many bytes, from the start, were handed to the disk.
    pub fn handed(&self) -> u64 {
        self.handed
    }

    /// Starts the disk's write of the bytes not yet handed to it.
    #[cfg(target_os = "linux")]
    fn hand_over(&mut self) {
        use std::os::fd::AsRawFd;
        // A length of 0 would mean the whole rest of the file.
        if self.written == self.handed {
            return;
        }
        let (Ok(offset), Ok(len)) = (
            i64::try_from(self.handed),
            i64::try_from(self.written - self.handed),
        ) else {
            return;
        };
        // SAFETY: the descriptor is the open file's own; the call reads no memory of ours. It
        // only starts write-back: an error here shows again in the sync, which is checked.
        unsafe {
            libc::sync_file_range(
                self.file.as_raw_fd(),
                offset,
                len,
                libc::SYNC_FILE_RANGE_WRITE,
            );
        }
        self.handed = self.written;
    }

    #[cfg(not(target_os = "linux"))]
    fn hand_over(&mut self) {
        self.handed = self.written;
    }
}

impl Write for Writeback {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.file.write(buf)?;
        self.written += n as u64;
        if self.written - self.handed >= Self::EVERY {
            self.hand_over();
        }
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}

/// Writes one staged file; the caller syncs the file it returns.
fn write_one(path: &Path, content: &mut Content, style: CsvStyle) -> Result<File, OutputError> {
    let write_err = |source| OutputError::Write {
        dir: path.display().to_string(),
        source,
    };
    fault::io("write").map_err(write_err)?;
    let file = create_private(path).map_err(write_err)?;
    let mut writer = BufWriter::with_capacity(1 << 20, Writeback::new(file));
    match content {
        Content::Table(table) => {
            table
                .write(&mut writer, style)
                .map_err(|source| OutputError::Csv {
                    file: path.display().to_string(),
                    source,
                })?
        }
        Content::Bytes(bytes) => writer.write_all(bytes).map_err(write_err)?,
    }
    let writeback = writer.into_inner().map_err(|e| write_err(e.into_error()))?;
    Ok(writeback.finish())
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
        // Each file is synced on a thread of its own while the next one is written; all are
        // on disk before the journal says `commit`.
        std::thread::scope(|scope| {
            let mut syncs = Vec::new();
            for (target, stage) in targets.iter_mut().zip(&staging) {
                std::fs::create_dir(stage).map_err(io_err(&target.dir))?;
                for output in &mut target.outputs {
                    let path = stage.join(output.name);
                    let file = write_one(&path, &mut output.content, style)?;
                    syncs.push(scope.spawn(move || {
                        file.sync_all().map_err(|source| OutputError::Write {
                            dir: path.display().to_string(),
                            source,
                        })
                    }));
                }
                journal.moves.extend(
                    target
                        .outputs
                        .iter()
                        .map(|o| (stage.join(o.name), absolute(&target.dir).join(o.name))),
                );
            }
            for sync in syncs {
                sync.join()
                    .map_err(|_| io_err(journal_dir)(std::io::Error::other("a sync failed")))??;
            }
            Ok::<(), OutputError>(())
        })?;
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
