//! Cron state (SPEC §8): what a run must remember for the next one — every hash ever withdrawn
//! or bounced, every contact listed for re-permission and when the mail went out, and a log of
//! runs without addresses. Read at the start of a run under [`lock::Lock`], written at its end
//! together with the outputs by [`crate::outputs::commit`].

pub mod lock;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use thiserror::Error;

/// The state's files.
pub const SUPPRESSION: &str = "suppression.csv";
pub const REPERMISSION: &str = "repermission.csv";
pub const RUNS: &str = "runs.jsonl";

#[derive(Debug, Error)]
pub enum StateError {
    #[error("cannot use the state folder: {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error(
        "{path}:{line}: {problem}\n\nhint: the state files are written by listaudit; restore this one from a backup"
    )]
    Corrupt {
        path: String,
        line: usize,
        problem: String,
    },
    #[error(
        "the state in {dir} is in use by another run (PID {pid}, started {started_at})\n\nhint: wait for it to finish, or pass --lock-timeout SECONDS to wait"
    )]
    Locked {
        dir: String,
        pid: u32,
        started_at: String,
    },
    #[error(
        "--as-of {as_of} is earlier than the last run in {dir} ({last}): state only moves forward\n\nhint: pass --as-of {last} or later"
    )]
    Backwards {
        dir: String,
        as_of: NaiveDate,
        last: NaiveDate,
    },
}

/// One suppressed hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suppressed {
    pub reason: String,
    /// ISO 8601 instant.
    pub since: String,
}

/// One contact listed for re-permission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub first_listed: NaiveDate,
    pub sent_on: Option<NaiveDate>,
}

/// The state as read at the start of a run.
#[derive(Debug, Default)]
pub struct State {
    pub dir: PathBuf,
    /// hash → entry, in hash order.
    pub suppression: BTreeMap<String, Suppressed>,
    pub repermission: BTreeMap<String, Listed>,
    /// The lines of runs.jsonl.
    pub runs: Vec<String>,
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> StateError + '_ {
    move |source| StateError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// A state CSV's rows: (line, column → value).
type Rows = Vec<(usize, HashMap<String, String>)>;

fn read_rows(path: &Path) -> Result<Rows, StateError> {
    if !path.exists() {
        return Ok(Vec::new());
    }
    let mut reader = csv::Reader::from_path(path).map_err(|e| StateError::Corrupt {
        path: path.display().to_string(),
        line: 1,
        problem: e.to_string(),
    })?;
    let headers = reader
        .headers()
        .map_err(|e| StateError::Corrupt {
            path: path.display().to_string(),
            line: 1,
            problem: e.to_string(),
        })?
        .clone();
    let mut rows = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let record = record.map_err(|e| StateError::Corrupt {
            path: path.display().to_string(),
            line: i + 2,
            problem: e.to_string(),
        })?;
        rows.push((
            i + 2,
            headers
                .iter()
                .zip(record.iter())
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect(),
        ));
    }
    Ok(rows)
}

fn is_hash(value: &str) -> bool {
    value.len() == 64 && value.bytes().all(|b| b.is_ascii_hexdigit())
}

fn date(value: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(value.trim(), "%Y-%m-%d").ok()
}

impl State {
    /// Reads the state folder (an empty state where it has no files yet).
    pub fn load(dir: &Path) -> Result<State, StateError> {
        let mut state = State {
            dir: dir.to_path_buf(),
            ..State::default()
        };
        let path = dir.join(SUPPRESSION);
        for (line, row) in read_rows(&path)? {
            let hash = row.get("email_sha256").cloned().unwrap_or_default();
            if !is_hash(&hash) {
                return Err(StateError::Corrupt {
                    path: path.display().to_string(),
                    line,
                    problem: "email_sha256 is not a SHA-256 hash".into(),
                });
            }
            state.suppression.insert(
                hash,
                Suppressed {
                    reason: row.get("reason").cloned().unwrap_or_default(),
                    since: row.get("since").cloned().unwrap_or_default(),
                },
            );
        }
        let path = dir.join(REPERMISSION);
        for (line, row) in read_rows(&path)? {
            let hash = row.get("email_sha256").cloned().unwrap_or_default();
            let first = row.get("first_listed").and_then(|d| date(d));
            let (true, Some(first_listed)) = (is_hash(&hash), first) else {
                return Err(StateError::Corrupt {
                    path: path.display().to_string(),
                    line,
                    problem: "expected email_sha256 and first_listed (YYYY-MM-DD)".into(),
                });
            };
            let sent_on = row.get("sent_on").and_then(|d| date(d));
            state.repermission.insert(
                hash,
                Listed {
                    first_listed,
                    sent_on,
                },
            );
        }
        let path = dir.join(RUNS);
        if path.exists() {
            let text = std::fs::read_to_string(&path).map_err(io(&path))?;
            state.runs = text
                .lines()
                .filter(|l| !l.trim().is_empty())
                .map(str::to_string)
                .collect();
        }
        Ok(state)
    }

    /// The `--as-of` of the last recorded run.
    pub fn last_as_of(&self) -> Option<NaiveDate> {
        self.runs
            .iter()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter_map(|v| v["as_of"].as_str().and_then(date))
            .max()
    }

    /// Refuses a run that would move the state back in time.
    pub fn check_forward(&self, as_of: NaiveDate) -> Result<(), StateError> {
        match self.last_as_of() {
            Some(last) if as_of < last => Err(StateError::Backwards {
                dir: self.dir.display().to_string(),
                as_of,
                last,
            }),
            _ => Ok(()),
        }
    }

    /// suppression.csv as written back.
    pub fn suppression_csv(entries: &BTreeMap<String, Suppressed>) -> Vec<u8> {
        let mut w = csv::Writer::from_writer(Vec::new());
        let _ = w.write_record(["email_sha256", "reason", "since"]);
        for (hash, e) in entries {
            let _ = w.write_record([hash.as_str(), e.reason.as_str(), e.since.as_str()]);
        }
        w.into_inner().unwrap_or_default()
    }

    /// repermission.csv as written back.
    pub fn repermission_csv(entries: &BTreeMap<String, Listed>) -> Vec<u8> {
        let mut w = csv::Writer::from_writer(Vec::new());
        let _ = w.write_record(["email_sha256", "first_listed", "sent_on"]);
        for (hash, e) in entries {
            let sent = e.sent_on.map(|d| d.to_string()).unwrap_or_default();
            let _ = w.write_record([hash.as_str(), &e.first_listed.to_string(), &sent]);
        }
        w.into_inner().unwrap_or_default()
    }
}

/// A `--suppression FILE` or `mark-sent` list: plain addresses or SHA-256 hashes, one a row,
/// with or without a header; the first column that holds one is used.
pub fn read_hash_list(path: &Path) -> Result<Vec<String>, StateError> {
    let text = std::fs::read(path).map_err(io(path))?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_slice());
    let mut hashes = Vec::new();
    for record in reader.records() {
        let Ok(record) = record else { continue };
        for value in record.iter() {
            let value = value.trim().trim_start_matches('\'');
            if is_hash(value) {
                hashes.push(value.to_ascii_lowercase());
                break;
            }
            if value.contains('@') {
                let key = value.trim_matches(['<', '>']).to_lowercase();
                hashes.push(crate::normalize::email::sha256_of(&key));
                break;
            }
        }
    }
    Ok(hashes)
}
