//! A small harness that runs the real binary in a temporary folder and reads what it wrote.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

pub struct Case {
    pub dir: tempfile::TempDir,
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// One row of an output CSV, by column name.
pub type Row = BTreeMap<String, String>;

impl Case {
    pub fn new() -> Case {
        Case {
            dir: tempfile::tempdir().expect("a temporary folder"),
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn write(&self, name: &str, content: impl AsRef<[u8]>) -> PathBuf {
        let path = self.path(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("a folder");
        }
        std::fs::write(&path, content).expect("a fixture");
        path
    }

    /// Runs `listaudit ARGS` in the case's folder.
    pub fn run(&self, args: &[&str]) -> Run {
        self.run_env(args, &[])
    }

    /// Runs `listaudit ARGS` with extra environment variables (the fault hooks).
    pub fn run_env(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let output = Command::new(env!("CARGO_BIN_EXE_listaudit"))
            .args(args)
            .current_dir(self.dir.path())
            .env_remove("LANG")
            .envs(env.iter().copied())
            .output()
            .expect("the binary runs");
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Runs `listaudit audit INPUTS --out out --as-of 2026-12-01 --quiet EXTRA`. The deletion
    /// guard is lifted (`--max-delete 100`): rule fixtures are small lists that are mostly
    /// deleted; the guard has tests of its own (tests/cli/cron.rs).
    pub fn audit(&self, inputs: &[&str], extra: &[&str]) -> Run {
        self.audit_env(inputs, extra, &[])
    }

    /// [`Case::audit`] with extra environment variables.
    pub fn audit_env(&self, inputs: &[&str], extra: &[&str], env: &[(&str, &str)]) -> Run {
        let mut args = vec!["audit"];
        args.extend_from_slice(inputs);
        args.extend_from_slice(&[
            "--out",
            "out",
            "--as-of",
            "2026-12-01",
            "--quiet",
            "--max-delete",
            "100",
        ]);
        args.extend_from_slice(extra);
        self.run_env(&args, env)
    }

    pub fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.path(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
    }

    pub fn exists(&self, name: &str) -> bool {
        self.path(name).exists()
    }

    /// The rows of an output CSV.
    pub fn csv(&self, name: &str) -> Vec<Row> {
        read_csv(&self.path(name))
    }

    /// audit.csv by e-mail.
    pub fn audit_rows(&self) -> BTreeMap<String, Row> {
        self.csv("out/audit.csv")
            .into_iter()
            .map(|r| (r["email"].clone(), r))
            .collect()
    }

    /// The outcome and reasons of one contact in out/audit.csv.
    pub fn decision(&self, email: &str) -> (String, String) {
        let rows = self.audit_rows();
        let row = rows
            .get(email)
            .unwrap_or_else(|| panic!("{email} not in audit.csv: {rows:?}"));
        (row["outcome"].clone(), row["reasons"].clone())
    }

    pub fn report(&self) -> serde_json::Value {
        serde_json::from_str(&self.read("out/report.json")).expect("report.json is JSON")
    }

    /// Every file below the case's folder, relative, sorted.
    pub fn files(&self, under: &str) -> Vec<String> {
        let root = self.path(under);
        let mut found = Vec::new();
        walk(&root, &root, &mut found);
        found.sort();
        found
    }
}

fn walk(root: &Path, dir: &Path, found: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.push(format!("{}/", path.strip_prefix(root).unwrap().display()));
            walk(root, &path, found);
        } else {
            found.push(path.strip_prefix(root).unwrap().display().to_string());
        }
    }
}

pub fn read_csv(path: &Path) -> Vec<Row> {
    let mut reader = csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    let headers = reader.headers().expect("a header").clone();
    reader
        .records()
        .map(|r| {
            let r = r.expect("a record");
            headers
                .iter()
                .zip(r.iter())
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

/// A generic export with the given header and rows (comma-separated).
pub fn export(header: &str, rows: &[&str]) -> String {
    let mut s = String::from(header);
    s.push('\n');
    for row in rows {
        s.push_str(row);
        s.push('\n');
    }
    s
}

/// The folder of real export files beside the project.
pub fn formats_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/formats")
}
