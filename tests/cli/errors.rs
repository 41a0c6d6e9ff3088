//! SPEC §2.1, §6 and §7: every bad input gives a clear error, the right exit code, and leaves
//! nothing written.

use crate::harness::{Case, export};
use crate::rules::{HEADER, good};

fn assert_nothing_written(case: &Case) {
    assert!(
        !case.exists("out"),
        "out/ was left behind: {:?}",
        case.files("out")
    );
}

#[test]
fn a_missing_email_column_lists_the_headers_and_the_map_fix() {
    let case = Case::new();
    case.write(
        "list.csv",
        "Naam,Telefoon,Contact\nJan,0612345678,via de winkel\n",
    );
    let run = case.audit(&["list.csv"], &[]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("list.csv has no e-mail column"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("`Naam`, `Telefoon`, `Contact`"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("--map email=COLUMN"), "{}", run.stderr);
    assert_nothing_written(&case);
}

#[test]
fn too_many_rejects_fail_the_run_and_write_nothing() {
    let case = Case::new();
    // Read with the wrong delimiter, most rows look ragged.
    let mut text = String::from("email,ip,signup date\n");
    for i in 0..10 {
        text.push_str(&format!("p{i}@example.com,192.0.2.1,2021-01-01 10:00:00\n"));
    }
    for i in 0..2 {
        text.push_str(&format!("q{i}@example.com;192.0.2.1;2021-01-01\n"));
    }
    case.write("list.csv", text);
    let run = case.audit(&["list.csv"], &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("list.csv: 2 of 12 rows (16.7%) could not be read"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("first bad row is line 12"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("hint: check the delimiter"),
        "{}",
        run.stderr
    );
    assert_nothing_written(&case);
}

#[test]
fn an_unreadable_input_names_the_file() {
    let case = Case::new();
    let run = case.audit(&["missing.csv"], &[]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("cannot read missing.csv"),
        "{}",
        run.stderr
    );
    assert_nothing_written(&case);
    std::fs::create_dir(case.path("empty-dir")).unwrap();
    let run = case.audit(&["empty-dir"], &[]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("empty-dir holds no CSV files"),
        "{}",
        run.stderr
    );
}

#[test]
fn usage_errors_exit_2() {
    let case = Case::new();
    case.write("list.csv", export(HEADER, &[&good("a@example.com", &[])]));
    let run = case.run(&["audit", "list.csv", "--out", "out", "--as-of", "01-12-2026"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("--as-of `01-12-2026` is not a date"),
        "{}",
        run.stderr
    );
    let run = case.audit(&["list.csv"], &["--map", "emailMailadres"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("is not FIELD=COLUMN"), "{}", run.stderr);
    let run = case.audit(&["list.csv"], &["--map", "mail=Mailadres"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("unknown field `mail`"),
        "{}",
        run.stderr
    );
    let run = case.audit(&["list.csv"], &["--format", "hotmail"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("not a known service"), "{}", run.stderr);
    let run = case.run(&["audit", "list.csv"]);
    assert_eq!(run.code, 2, "clap's own usage errors are exit 2 too");
    assert_nothing_written(&case);
}

#[test]
fn existing_outputs_are_not_replaced_without_force() {
    let case = Case::new();
    case.write("list.csv", export(HEADER, &[&good("a@example.com", &[])]));
    assert_eq!(case.audit(&["list.csv"], &[]).code, 0);
    let before = case.read("out/audit.csv");
    case.write("list.csv", export(HEADER, &[&good("b@example.com", &[])]));
    let run = case.audit(&["list.csv"], &[]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("hint: pass --force"), "{}", run.stderr);
    assert_eq!(case.read("out/audit.csv"), before);
    let run = case.audit(&["list.csv"], &["--force"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(case.read("out/audit.csv").contains("b@example.com"));
    assert!(!case.read("out/audit.csv").contains("a@example.com"));
}

#[test]
fn a_write_failure_leaves_no_partial_file() {
    let case = Case::new();
    case.write("list.csv", export(HEADER, &[&good("a@example.com", &[])]));
    // --out below a regular file cannot be created.
    case.write("blocker", "not a folder");
    let run = case.run(&[
        "audit",
        "list.csv",
        "--out",
        "blocker/out",
        "--as-of",
        "2026-12-01",
    ]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .contains("cannot write the outputs to blocker/out"),
        "{}",
        run.stderr
    );
    assert_eq!(case.read("blocker"), "not a folder");

    // An earlier run's outputs stay intact when one target cannot be replaced.
    assert_eq!(case.audit(&["list.csv"], &[]).code, 0);
    let before = case.files("out");
    let audit_before = case.read("out/audit.csv");
    std::fs::remove_file(case.path("out/keep.csv")).unwrap();
    std::fs::create_dir(case.path("out/keep.csv")).unwrap();
    case.write("list.csv", export(HEADER, &[&good("b@example.com", &[])]));
    let run = case.audit(&["list.csv"], &["--force"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(case.read("out/audit.csv"), audit_before);
    let mut after = case.files("out");
    after.retain(|f| f != "keep.csv/");
    let mut expected = before.clone();
    expected.retain(|f| f != "keep.csv");
    assert_eq!(after, expected, "no staging files may be left behind");
}

#[test]
fn an_out_folder_this_run_created_is_removed_when_it_fails() {
    let case = Case::new();
    case.write("list.csv", export(HEADER, &[&good("a@example.com", &[])]));
    // Fails after ingest: the second input has no e-mail column.
    case.write("bad.csv", "name\nJan\n");
    let run = case.run(&["audit", "list.csv", "bad.csv", "--out", "deep/er/out"]);
    assert_eq!(run.code, 1);
    assert!(!case.exists("deep"));
}
