//! The unattended monthly cleanup (SPEC §8): state across runs, suppression memory,
//! re-permission follow-through, the lock, the deletion guard, and crashes at every step of the
//! commit.

use std::process::Command;

use crate::harness::{Case, Run, export};
use crate::rules::{HEADER, good};

/// `listaudit audit INPUT --state state --out out --as-of DATE --force --max-delete 100`.
fn month(case: &Case, input: &str, as_of: &str, extra: &[&str]) -> Run {
    month_env(case, input, as_of, extra, &[])
}

/// [`month`] with environment variables.
fn month_env(case: &Case, input: &str, as_of: &str, extra: &[&str], env: &[(&str, &str)]) -> Run {
    let mut args = vec![
        "audit",
        input,
        "--state",
        "state",
        "--out",
        "out",
        "--as-of",
        as_of,
        "--force",
        "--max-delete",
        "100",
        "--quiet",
    ];
    args.extend_from_slice(extra);
    case.run_env(&args, env)
}

/// `mark-sent` of the run's re-permission list, sent `on` that day.
fn mark_sent(case: &Case, on: &str) -> Run {
    case.run(&[
        "mark-sent",
        "out/repermission.csv",
        "--on",
        on,
        "--state",
        "state",
    ])
}

/// A list of one contact who signed up before the GDPR, audited on 1 January 2027.
fn one_signed_up_before_gdpr(email: &str) -> Case {
    let case = Case::new();
    case.write(
        "list.csv",
        export(
            HEADER,
            &[&good(email, &[("optin_at", "2016-01-01 10:00:00")])],
        ),
    );
    ok(month(&case, "list.csv", "2027-01-01", &[]));
    case
}

fn ok(run: Run) -> Run {
    assert_eq!(run.code, 0, "{}", run.stderr);
    run
}

#[test]
fn three_months_of_suppression_and_re_permission() {
    let case = Case::new();
    // Month 1: Bob and Cat unsubscribe; Dan and Eve are asked for re-permission.
    case.write(
        "m1.csv",
        export(
            HEADER,
            &[
                &good("ann@example.com", &[]),
                &good(
                    "bob@example.com",
                    &[
                        ("status", "unsubscribed"),
                        ("unsubscribed_at", "2026-12-15 10:00:00"),
                    ],
                ),
                &good(
                    "cat@example.com",
                    &[
                        ("status", "unsubscribed"),
                        ("unsubscribed_at", "2026-12-20 10:00:00"),
                    ],
                ),
                &good("dan@example.com", &[("optin_at", "2016-01-01 10:00:00")]),
                &good("eve@example.com", &[("optin_at", "2016-01-01 10:00:00")]),
            ],
        ),
    );
    ok(month(&case, "m1.csv", "2027-01-01", &[]));
    assert_eq!(case.csv("state/suppression.csv").len(), 2);
    let listed = case.csv("state/repermission.csv");
    assert_eq!(listed.len(), 2);
    assert!(
        listed
            .iter()
            .all(|l| l["first_listed"] == "2027-01-01" && l["sent_on"].is_empty())
    );
    assert_eq!(case.csv("out/repermission.csv").len(), 2);

    // The campaign goes out on 5 January; Dan clicks "yes, keep me" on 8 January.
    let run = ok(mark_sent(&case, "2027-01-05"));
    assert!(
        run.stderr
            .contains("marked 2 contacts as sent on 2027-01-05"),
        "{}",
        run.stderr
    );
    case.write(
        "renewed.csv",
        "Email,Clicked at\nDAN@example.com,2027-01-08 09:15:00\n",
    );

    // Month 2: grace is over for Eve, who did not answer; Dan renewed.
    case.write(
        "m2.csv",
        export(
            HEADER,
            &[
                &good("ann@example.com", &[]),
                &good("dan@example.com", &[("optin_at", "2016-01-01 10:00:00")]),
                &good("eve@example.com", &[("optin_at", "2016-01-01 10:00:00")]),
            ],
        ),
    );
    ok(month(
        &case,
        "m2.csv",
        "2027-02-10",
        &["--renewed", "renewed.csv"],
    ));
    assert_eq!(
        case.decision("dan@example.com"),
        ("keep".into(), String::new())
    );
    let dan = &case.audit_rows()["dan@example.com"];
    assert_eq!(dan["consent_date"], "2027-01-08T09:15:00Z");
    assert_eq!(dan["consent_date_column"], "re-permission");
    assert_eq!(
        case.decision("eve@example.com"),
        ("delete".into(), "repermission-expired;pre-gdpr".into())
    );
    // The earlier hashes stay on the suppression list though Bob and Cat are not in this export.
    assert_eq!(case.csv("out/suppression.csv").len(), 2);
    assert_eq!(
        case.csv("state/repermission.csv").len(),
        1,
        "Dan renewed and left the list"
    );

    // Month 3: Bob is re-imported as subscribed; Cat signed up again with a double opt-in.
    case.write(
        "m3.csv",
        export(
            HEADER,
            &[
                &good("ann@example.com", &[]),
                &good("bob@example.com", &[]),
                &good(
                    "cat@example.com",
                    &[
                        ("optin_at", "2027-02-20 10:00:00"),
                        ("confirm_at", "2027-02-20 10:03:00"),
                    ],
                ),
            ],
        ),
    );
    ok(month(&case, "m3.csv", "2027-03-01", &[]));
    assert_eq!(
        case.decision("bob@example.com"),
        ("delete".into(), "suppressed".into())
    );
    assert_eq!(
        case.decision("cat@example.com"),
        ("keep".into(), String::new())
    );
    let suppression = case.csv("out/suppression.csv");
    let bob = crate::rules::sha256("bob@example.com");
    let cat = crate::rules::sha256("cat@example.com");
    assert!(suppression.iter().any(|r| r["email_sha256"] == bob));
    assert!(
        !suppression.iter().any(|r| r["email_sha256"] == cat),
        "Cat signed up again"
    );
    // The state keeps Cat's entry: history is never removed.
    assert!(
        case.csv("state/suppression.csv")
            .iter()
            .any(|r| r["email_sha256"] == cat)
    );

    let runs = case.read("state/runs.jsonl");
    assert_eq!(runs.lines().count(), 3);
    assert!(!runs.contains('@'), "runs.jsonl holds no addresses");
    let report = case.report();
    assert_eq!(report["state"]["run"], 3);
    assert_eq!(report["state"]["runs_file"], "runs.jsonl");
}

/// The grace ends on its last day: sent 30 days before the run's day (the default grace), the
/// unanswered re-permission expires; sent 29 days before, it does not yet.
#[test]
fn the_grace_ends_on_its_thirtieth_day() {
    let case = one_signed_up_before_gdpr("eve@example.com");
    ok(mark_sent(&case, "2027-01-05"));
    ok(month(&case, "list.csv", "2027-02-03", &[]));
    assert_eq!(
        case.decision("eve@example.com"),
        ("repermission".into(), "pre-gdpr".into())
    );
    ok(month(&case, "list.csv", "2027-02-04", &[]));
    assert_eq!(
        case.decision("eve@example.com"),
        ("delete".into(), "repermission-expired;pre-gdpr".into())
    );
}

#[test]
fn nobody_expires_who_was_never_asked() {
    let case = one_signed_up_before_gdpr("old@example.com");
    let run = case.run(&[
        "audit",
        "list.csv",
        "--state",
        "state",
        "--out",
        "out",
        "--as-of",
        "2027-03-01",
        "--force",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        case.decision("old@example.com"),
        ("repermission".into(), "pre-gdpr".into())
    );
    assert!(run.stderr.contains("no send is recorded"), "{}", run.stderr);
    assert_eq!(case.report()["state"]["waiting_without_send"], 1);
    // A newer consent after the send also renews.
    ok(mark_sent(&case, "2027-03-02"));
    case.write(
        "list.csv",
        export(
            HEADER,
            &[&good(
                "old@example.com",
                &[
                    ("optin_at", "2016-01-01 10:00:00"),
                    ("confirm_at", "2027-03-03 10:00:00"),
                ],
            )],
        ),
    );
    ok(month(&case, "list.csv", "2027-05-01", &[]));
    assert_eq!(
        case.decision("old@example.com"),
        ("keep".into(), String::new())
    );
}

#[test]
fn an_existing_suppression_list_of_addresses_or_hashes() {
    let case = Case::new();
    case.write(
        "list.csv",
        export(
            HEADER,
            &[
                &good("a@example.com", &[]),
                &good("b@example.com", &[]),
                &good("c@example.com", &[]),
            ],
        ),
    );
    case.write(
        "blocked.csv",
        format!(
            "email\nA@example.com\n{}\n",
            crate::rules::sha256("b@example.com")
        ),
    );
    let run = case.audit(&["list.csv"], &["--suppression", "blocked.csv"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        case.decision("a@example.com"),
        ("delete".into(), "suppressed".into())
    );
    assert_eq!(case.decision("b@example.com").1, "suppressed");
    assert_eq!(case.decision("c@example.com").0, "keep");
    assert_eq!(case.csv("out/suppression.csv").len(), 2);
}

#[test]
fn the_deletion_guard_refuses_and_writes_nothing() {
    let case = Case::new();
    case.write(
        "list.csv",
        export(
            HEADER,
            &[
                &good("a@example.com", &[("status", "unsubscribed")]),
                &good("b@example.com", &[("status", "cleaned")]),
                &good("c@example.com", &[]),
            ],
        ),
    );
    let args = [
        "audit",
        "list.csv",
        "--state",
        "state",
        "--out",
        "out",
        "--as-of",
        "2026-12-01",
    ];
    let run = case.run(&args);
    assert_eq!(run.code, 4, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("2 of 3 contacts (66.7%) would be deleted, more than --max-delete 50%"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("raise the limit with --max-delete 67"),
        "{}",
        run.stderr
    );
    assert!(!case.exists("out"));
    assert!(!case.exists("state/runs.jsonl"));
    // --force only allows overwriting; it does not lift the guard.
    let mut forced = args.to_vec();
    forced.push("--force");
    assert_eq!(case.run(&forced).code, 4);
    let mut raised = args.to_vec();
    raised.extend(["--max-delete", "70"]);
    assert_eq!(case.run(&raised).code, 0);
}

#[test]
fn state_only_moves_forward_and_reruns_are_identical() {
    let case = Case::new();
    case.write(
        "list.csv",
        export(
            HEADER,
            &[
                &good("a@example.com", &[]),
                &good("b@example.com", &[("status", "unsubscribed")]),
                &good("c@example.com", &[("optin_at", "2016-01-01 10:00:00")]),
            ],
        ),
    );
    ok(month(&case, "list.csv", "2027-01-01", &[]));
    let files = [
        "audit.csv",
        "deletion.csv",
        "suppression.csv",
        "repermission.csv",
        "keep.csv",
    ];
    let first: Vec<String> = files
        .iter()
        .map(|f| case.read(&format!("out/{f}")))
        .collect();
    ok(month(&case, "list.csv", "2027-01-01", &[]));
    for (f, before) in files.iter().zip(&first) {
        assert_eq!(&case.read(&format!("out/{f}")), before, "{f}");
    }
    let run = month(&case, "list.csv", "2026-12-31", &[]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("--as-of 2026-12-31 is earlier than the last run"),
        "{}",
        run.stderr
    );
}

#[test]
fn dated_output_folders() {
    let case = Case::new();
    case.write("list.csv", export(HEADER, &[&good("a@example.com", &[])]));
    ok(case.run(&[
        "audit",
        "list.csv",
        "--out",
        "out/{date}",
        "--as-of",
        "2027-01-01",
        "--quiet",
    ]));
    assert!(case.exists("out/2027-01-01/audit.csv"));
}

#[test]
fn a_second_run_fails_or_waits_while_the_state_is_locked() {
    let case = Case::new();
    case.write("list.csv", export(HEADER, &[&good("a@example.com", &[])]));
    let first = Command::new(env!("CARGO_BIN_EXE_listaudit"))
        .args([
            "audit",
            "list.csv",
            "--state",
            "state",
            "--out",
            "one",
            "--as-of",
            "2027-01-01",
            "--quiet",
        ])
        .env("LISTAUDIT_FAULT", "hold@lock:2500")
        .current_dir(case.dir.path())
        .spawn()
        .unwrap();
    // Wait until the first run holds the lock.
    for _ in 0..100 {
        if case.exists("state/lock") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let second_run = |extra: &[&str]| {
        let mut args = vec![
            "audit",
            "list.csv",
            "--state",
            "state",
            "--out",
            "two",
            "--as-of",
            "2027-01-01",
            "--quiet",
        ];
        args.extend_from_slice(extra);
        case.run(&args)
    };
    let second = second_run(&[]);
    assert_eq!(second.code, 1);
    assert!(
        second
            .stderr
            .contains(&format!("in use by another run (PID {}", first.id())),
        "{}",
        second.stderr
    );
    assert!(second.stderr.contains("started 20"), "{}", second.stderr);
    assert!(!case.exists("two"));
    // With --lock-timeout the second run waits for the first and then runs.
    let waited = second_run(&["--lock-timeout", "30"]);
    assert_eq!(waited.code, 0, "{}", waited.stderr);
    let mut first = first;
    assert!(first.wait().unwrap().success());
    assert!(case.exists("two/audit.csv") && case.exists("one/audit.csv"));
    assert_eq!(case.read("state/runs.jsonl").lines().count(), 2);
}

#[test]
fn a_stale_lock_from_a_dead_process_is_taken_over() {
    let case = Case::new();
    case.write("list.csv", export(HEADER, &[&good("a@example.com", &[])]));
    case.write(
        "state/lock",
        "{\"pid\":4194303,\"started_at\":\"2026-01-01T00:00:00Z\"}",
    );
    ok(month(&case, "list.csv", "2027-01-01", &[]));
    assert!(!case.exists("state/lock"), "released after the run");
}

/// Everything below the case folder except the inputs, with contents, for comparing.
fn snapshot(case: &Case) -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> = case
        .files("")
        .into_iter()
        .filter(|f| !f.ends_with('/') && (f.starts_with("out/") || f.starts_with("state/")))
        .map(|f| {
            let text = std::fs::read_to_string(case.path(&f)).unwrap_or_default();
            (f, text)
        })
        .collect();
    files.sort();
    files
}

fn without_report(files: &[(String, String)]) -> Vec<(String, String)> {
    files
        .iter()
        .filter(|(f, _)| f != "out/report.json")
        .cloned()
        .collect()
}

#[test]
fn a_kill_at_any_point_of_the_commit_loses_nothing() {
    for (point, rolled_forward) in [
        ("staged", false),
        ("journal", true),
        ("renaming", true),
        ("renamed", true),
    ] {
        let case = Case::new();
        case.write(
            "m1.csv",
            export(
                HEADER,
                &[
                    &good("a@example.com", &[]),
                    &good("b@example.com", &[("status", "unsubscribed")]),
                ],
            ),
        );
        ok(month(&case, "m1.csv", "2027-01-01", &[]));
        let before = snapshot(&case);
        case.write(
            "m2.csv",
            export(
                HEADER,
                &[
                    &good("a@example.com", &[]),
                    &good("c@example.com", &[("status", "cleaned")]),
                ],
            ),
        );
        let fault = format!("abort@{point}");
        let killed = month_env(
            &case,
            "m2.csv",
            "2027-02-01",
            &[],
            &[("LISTAUDIT_FAULT", &fault)],
        );
        assert_ne!(killed.code, 0, "{point}: the run was killed");
        // The next command that opens the state finishes or undoes the commit.
        case.write("empty.csv", "email\n");
        ok(case.run(&[
            "mark-sent",
            "empty.csv",
            "--on",
            "2027-02-02",
            "--state",
            "state",
        ]));
        let after = snapshot(&case);
        let leftovers: Vec<String> = case
            .files("")
            .into_iter()
            .filter(|f| f.contains(".listaudit-"))
            .collect();
        assert!(leftovers.is_empty(), "{point}: {leftovers:?}");
        if rolled_forward {
            assert!(
                case.read("out/audit.csv").contains("c@example.com"),
                "{point}"
            );
            assert_eq!(case.read("state/runs.jsonl").lines().count(), 2, "{point}");
            assert_eq!(case.csv("state/suppression.csv").len(), 2, "{point}");
        } else {
            assert_eq!(
                without_report(&after),
                without_report(&before),
                "{point}: the previous outputs and state are intact"
            );
        }
        // And the following run works as usual.
        ok(month(&case, "m2.csv", "2027-02-01", &[]));
        assert!(case.read("out/audit.csv").contains("c@example.com"));
    }
}

#[test]
fn a_full_disk_or_an_unwritable_state_fails_and_loses_nothing() {
    let case = Case::new();
    case.write("m1.csv", export(HEADER, &[&good("a@example.com", &[])]));
    ok(month(&case, "m1.csv", "2027-01-01", &[]));
    let before = snapshot(&case);
    case.write("m2.csv", export(HEADER, &[&good("z@example.com", &[])]));
    let full = month_env(
        &case,
        "m2.csv",
        "2027-02-01",
        &[],
        &[("LISTAUDIT_FAULT", "enospc")],
    );
    assert_eq!(full.code, 1);
    assert!(
        full.stderr.contains("No space left on device"),
        "{}",
        full.stderr
    );
    assert_eq!(snapshot(&case), before);
    assert!(case.files("").iter().all(|f| !f.contains(".listaudit-")));

    case.write("not-a-folder", "x");
    let run = case.run(&[
        "audit",
        "m2.csv",
        "--state",
        "not-a-folder",
        "--out",
        "out2",
        "--as-of",
        "2027-02-01",
    ]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("cannot use the state folder"),
        "{}",
        run.stderr
    );
    assert!(!case.exists("out2"));
}
