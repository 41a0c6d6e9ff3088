//! The progress line of a run: its stages and rows on a terminal's stderr, cut to the
//! terminal's width; nothing of it in a pipe (a cron job's mail) or under `--quiet`, and the
//! same outputs either way.

use std::process::{Command, Stdio};

use crate::harness::{Case, export};
use crate::rules::{HEADER, good};

/// The arguments of an audit of `list.csv` into `out`, without `--quiet`.
fn audit_args(out: &str) -> Vec<&str> {
    vec![
        "audit",
        "list.csv",
        "--out",
        out,
        "--as-of",
        "2026-12-01",
        "--max-delete",
        "100",
    ]
}

/// A case with a list of three contacts, one of them repeated.
fn three_contacts() -> Case {
    let case = Case::new();
    case.write(
        "list.csv",
        export(
            HEADER,
            &[
                &good("ann@example.com", &[]),
                &good("bob@example.com", &[]),
                &good("cat@example.com", &[]),
                &good("Ann@Example.com", &[]),
            ],
        ),
    );
    case
}

/// Runs `listaudit ARGS` in the case's folder with a terminal of `cols` columns as its stdin,
/// stdout and stderr (`script` from util-linux gives it one), and returns everything the
/// terminal showed.
fn on_terminal(case: &Case, args: &[&str], cols: u16) -> String {
    let command = format!(
        "stty cols {cols} rows 24 && exec '{}' {}",
        env!("CARGO_BIN_EXE_listaudit"),
        args.join(" ")
    );
    let output = Command::new("script")
        .args(["--quiet", "--return", "--command", &command, "/dev/null"])
        .current_dir(case.dir.path())
        .env_remove("LANG")
        .env("TERM", "xterm")
        .stdin(Stdio::null())
        .output()
        .expect("`script` (util-linux) gives the run a terminal");
    assert!(
        output.status.success(),
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The frames of the progress line that `shown` holds: each drawing of it, between the
/// carriage returns and the erasures of the line that separate them.
fn frames(shown: &str) -> Vec<&str> {
    shown
        .split(['\r', '\n'])
        .flat_map(|part| part.split("\x1b[2K"))
        .filter(|frame| {
            ["reading", "deciding", "writing the lists"]
                .iter()
                .any(|stage| frame.contains(stage))
        })
        .collect()
}

#[test]
fn a_terminal_shows_each_stage_and_its_rows_within_its_width() {
    let case = three_contacts();
    let shown = on_terminal(&case, &audit_args("out"), 60);
    let drawn = frames(&shown);
    for stage in [
        "reading the inputs",
        "reading 1/1: about 4 rows in all (list.csv)",
        "reading 1/1: 4 of about 4 rows (list.csv)",
        "deciding 4 rows",
        "writing the lists of 3 contacts",
    ] {
        assert!(
            drawn.iter().any(|frame| frame.contains(stage)),
            "{stage:?} not among {drawn:#?}"
        );
    }
    for frame in &drawn {
        assert!(
            frame.trim_end().chars().count() <= 60,
            "wider than the terminal: {frame:?}"
        );
    }
    // The line is cleared, and the summary follows it with nothing of the line after.
    let summary = shown
        .find("listaudit 0.1.0: 3 contacts from 4 rows")
        .unwrap_or_else(|| panic!("no summary in {shown:?}"));
    assert!(shown[..summary].ends_with("\r\x1b[2K"), "{shown:?}");
    assert!(frames(&shown[summary..]).is_empty(), "{shown:?}");

    // The outputs are those of a run without a terminal.
    let piped = case.run(&audit_args("piped"));
    assert_eq!(piped.code, 0, "{}", piped.stderr);
    for list in ["audit.csv", "keep.csv", "suppression.csv"] {
        assert_eq!(
            case.read(&format!("out/{list}")),
            case.read(&format!("piped/{list}")),
            "{list}"
        );
    }
}

#[test]
fn a_narrow_terminal_cuts_the_file_name_and_keeps_the_counts() {
    let case = three_contacts();
    let shown = on_terminal(&case, &audit_args("out"), 40);
    let frames = frames(&shown);
    assert!(
        frames
            .iter()
            .any(|frame| frame.contains("reading 1/1: 4 of about 4 rows")),
        "{frames:#?}"
    );
    for frame in &frames {
        assert!(frame.trim_end().chars().count() <= 40, "{frame:?}");
    }
}

#[test]
fn a_pipe_or_quiet_shows_no_progress() {
    let case = three_contacts();
    let piped = case.run(&audit_args("out"));
    assert_eq!(piped.code, 0, "{}", piped.stderr);
    assert!(
        piped
            .stderr
            .starts_with("listaudit 0.1.0: 3 contacts from 4 rows"),
        "{}",
        piped.stderr
    );
    assert!(!piped.stderr.contains('\x1b'), "{:?}", piped.stderr);
    assert!(frames(&piped.stderr).is_empty(), "{:?}", piped.stderr);

    let mut quiet = audit_args("quiet");
    quiet.push("--quiet");
    let shown = on_terminal(&case, &quiet, 80);
    assert_eq!(shown, "", "--quiet on a terminal showed {shown:?}");
}
