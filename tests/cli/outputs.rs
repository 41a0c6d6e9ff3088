//! SPEC §4: what each output holds, the formula guard, file modes, stability, --dry-run, --json.

use std::os::unix::fs::PermissionsExt;

use crate::harness::{Case, export};
use crate::rules::{HEADER, good};

fn sample_case() -> Case {
    let case = Case::new();
    case.write(
        "list.csv",
        export(
            HEADER,
            &[
                &good("keep@example.com", &[("first name", "=HYPERLINK(\"x\")")]),
                &good("+31@example.com", &[("first name", "@home")]),
                &good("old@example.com", &[("optin_at", "2016-01-01 10:00:00")]),
                &good("gone@example.com", &[("status", "unsubscribed")]),
                &good("shop@example.com", &[("source", "checkout")]),
            ],
        ),
    );
    let run = case.audit(&["list.csv"], &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    case
}

#[test]
fn every_output_is_written_with_its_columns() {
    let case = sample_case();
    let headers = [
        (
            "audit.csv",
            "email,outcome,reasons,evidence,consent_date,consent_date_column,last_activity,status,sources",
        ),
        (
            "repermission.csv",
            "email,first_name,last_name,reasons,consent_date",
        ),
        ("deletion.csv", "email,reasons,suppress"),
        ("suppression.csv", "email_sha256,reason,since"),
        (
            "keep.csv",
            "email,first_name,last_name,consent_date,last_activity",
        ),
        (
            "no-marketing.csv",
            "email,first_name,last_name,consent_date,last_activity",
        ),
        (
            "reengage.csv",
            "email,first_name,last_name,consent_date,last_activity",
        ),
        ("rejects.csv", "file,line,problem,raw"),
    ];
    for (file, header) in headers {
        let text = case.read(&format!("out/{file}"));
        assert_eq!(text.lines().next(), Some(header), "{file}");
        assert!(text.ends_with('\n') && !text.contains('\r'), "{file}");
    }
    assert_eq!(
        case.read("out/repermission.csv"),
        "email,first_name,last_name,reasons,consent_date\nold@example.com,,,pre-gdpr,2016-01-01T10:00:00Z\n"
    );
    assert_eq!(
        case.csv("out/no-marketing.csv")[0]["email"],
        "shop@example.com"
    );
    assert_eq!(case.csv("out/deletion.csv")[0]["email"], "gone@example.com");
}

#[test]
fn formula_cells_are_guarded_but_addresses_never_altered() {
    let case = sample_case();
    let keep = case.csv("out/keep.csv");
    assert_eq!(keep[0]["first_name"], "'=HYPERLINK(\"x\")");
    assert_eq!(keep[1]["email"], "+31@example.com");
    assert_eq!(keep[1]["first_name"], "'@home");
}

#[test]
fn outputs_are_private_and_byte_identical_across_runs() {
    let case = sample_case();
    let files = [
        "audit.csv",
        "repermission.csv",
        "deletion.csv",
        "suppression.csv",
        "keep.csv",
        "no-marketing.csv",
        "reengage.csv",
        "rejects.csv",
        "report.json",
    ];
    let first: Vec<String> = files
        .iter()
        .map(|f| case.read(&format!("out/{f}")))
        .collect();
    for file in files {
        let mode = std::fs::metadata(case.path(&format!("out/{file}")))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{file}");
    }
    assert_eq!(case.audit(&["list.csv"], &["--force"]).code, 0);
    for (file, before) in files.iter().zip(&first) {
        if *file != "report.json" {
            assert_eq!(&case.read(&format!("out/{file}")), before, "{file}");
        }
    }
}

#[test]
fn dry_run_writes_only_the_report() {
    let case = Case::new();
    case.write("list.csv", export(HEADER, &[&good("a@example.com", &[])]));
    let run = case.audit(&["list.csv"], &["--dry-run"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(case.files("out"), ["report.json"]);
    assert_eq!(case.report()["run"]["dry_run"], true);
    assert_eq!(case.report()["counts"]["contacts"], 1);
}

#[test]
fn report_records_the_run() {
    let case = sample_case();
    let report = case.report();
    assert_eq!(report["run"]["as_of"], "2026-12-01");
    assert_eq!(report["policy"]["policy"]["preset"], "nl");
    assert_eq!(report["policy"]["policy"]["inactive_days"], 730);
    assert_eq!(report["inputs"][0]["file"], "list.csv");
    assert_eq!(
        report["inputs"][0]["sha256"],
        crate::rules::sha256(&case.read("list.csv"))
    );
    assert_eq!(report["inputs"][0]["service"], "generic");
    assert_eq!(report["counts"]["contacts"], 5);
    assert_eq!(report["counts"]["outcomes"]["keep"], 2);
    assert_eq!(report["counts"]["outcomes"]["repermission"], 1);
    assert_eq!(report["counts"]["outcomes"]["no-marketing"], 1);
    assert_eq!(report["counts"]["outcomes"]["delete"], 1);
    assert_eq!(report["counts"]["reasons"]["withdrawn"], 1);
    assert_eq!(report["counts"]["evidence"]["full"], 5);
    assert!(
        report["disclaimer"]
            .as_str()
            .unwrap()
            .contains("not legal advice")
    );
    // The rules are data, and the report explains each one with its source.
    let rules = report["rules"].as_array().unwrap();
    let inactive = rules
        .iter()
        .find(|r| r["table"] == "reason" && r["name"] == "inactive")
        .unwrap();
    assert!(
        inactive["source"]
            .as_str()
            .unwrap()
            .contains("Art. 5(1)(e)")
    );
    assert!(inactive["when"].as_str().unwrap().contains("activity_ref"));
    // No raw address anywhere in the report.
    assert!(!case.read("out/report.json").contains("@example.com"));
}

#[test]
fn json_summary_on_stdout_and_a_table_on_stderr() {
    let case = Case::new();
    case.write("list.csv", export(HEADER, &[&good("a@example.com", &[])]));
    let run = case.run(&[
        "audit",
        "list.csv",
        "--out",
        "out",
        "--as-of",
        "2026-12-01",
        "--json",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let summary: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON on stdout");
    assert_eq!(summary["counts"]["outcomes"]["keep"], 1);
    assert!(
        run.stderr
            .starts_with("listaudit 0.1.0: 1 contact from 1 row in 1 file, as of 2026-12-01"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("keep"), "{}", run.stderr);
    assert!(
        !run.stderr.contains("a@example.com"),
        "no address on stderr"
    );
}

#[test]
fn the_table_on_stderr_counts_in_words() {
    let case = Case::new();
    case.write(
        "list.csv",
        export(
            HEADER,
            &[
                &good("ann@example.com", &[]),
                &good(" ANN@example.com", &[]),
                &good("", &[]),
                &good("old@example.com", &[("optin_at", "2016-01-01 10:00:00")]),
            ],
        ),
    );
    // No engagement column: this file's one contact cannot be judged for inactivity.
    case.write(
        "more.csv",
        "email,status,optin_at\ngone@example.com,unsubscribed,2021-04-01 10:00:00\n",
    );
    let run = case.run(&[
        "audit",
        "list.csv",
        "more.csv",
        "--out",
        "out",
        "--as-of",
        "2026-12-01",
        "--max-delete",
        "100",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.stderr,
        "listaudit 0.1.0: 3 contacts from 5 rows in 2 files, as of 2026-12-01 (preset nl)\n\
         \x20 keep                  1   33.3%\n\
         \x20 repermission          1   33.3%\n\
         \x20 no-marketing          0    0.0%\n\
         \x20 delete                1   33.3%\n\
         \x20 top reasons: incomplete-proof 1, pre-gdpr 1, withdrawn 1\n\
         \x20 1 duplicate row merged, 1 row rejected (see rejects.csv)\n\
         \x20 note: inactivity could not be judged for 1 contact: their exports have no \
         engagement column (a Mailchimp audience export has none); add the service's activity \
         export with --activity\n\
         \x20 outputs in out/\n"
    );
}

#[test]
fn fail_on_findings_exits_3() {
    let case = Case::new();
    case.write("list.csv", export(HEADER, &[&good("a@example.com", &[])]));
    assert_eq!(case.audit(&["list.csv"], &["--fail-on-findings"]).code, 0);
    case.write(
        "list.csv",
        export(
            HEADER,
            &[&good("a@example.com", &[("status", "unsubscribed")])],
        ),
    );
    assert_eq!(
        case.audit(&["list.csv"], &["--fail-on-findings", "--force"])
            .code,
        3
    );
    assert_eq!(
        case.csv("out/deletion.csv").len(),
        1,
        "outputs are written all the same"
    );
}

#[test]
fn excel_style_uses_a_bom_and_semicolons() {
    let case = Case::new();
    case.write("list.csv", export(HEADER, &[&good("a@example.com", &[])]));
    assert_eq!(case.audit(&["list.csv"], &["--excel"]).code, 0);
    let text = case.read("out/keep.csv");
    assert!(
        text.starts_with("\u{feff}email;first_name;last_name;consent_date;last_activity\n"),
        "{text}"
    );
}

/// An input's name in `sources` is spelled like any other cell: the formula guard, quotes
/// where a separator or quote needs them (doubled inside), alone or in a repeated key's list.
#[test]
fn sources_spell_awkward_file_names_as_cells() {
    let odd = "=a \"b\", c;d.csv";
    let case = Case::new();
    case.write(
        odd,
        export(
            HEADER,
            &[
                &good("one@example.com", &[]),
                &good("both@example.com", &[]),
            ],
        ),
    );
    case.write(
        "plain.csv",
        export(HEADER, &[&good("both@example.com", &[])]),
    );
    let run = case.audit(&[odd, "plain.csv"], &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let rows = case.audit_rows();
    assert_eq!(rows["one@example.com"]["sources"], format!("'{odd}:2"));
    assert_eq!(
        rows["both@example.com"]["sources"],
        format!("'{odd}:3;plain.csv:2")
    );
    let text = case.read("out/audit.csv");
    assert!(
        text.contains(",\"'=a \"\"b\"\", c;d.csv:2\"\n"),
        "the quoted cell ends the line: {text}"
    );

    // With --excel the separator is `;`: a name holding one is quoted, a comma is not.
    for (name, cell) in [("x;y.csv", "\"x;y.csv:2\""), ("x,y.csv", "x,y.csv:2")] {
        let case = Case::new();
        case.write(name, export(HEADER, &[&good("a@example.com", &[])]));
        assert_eq!(case.audit(&[name], &["--excel"]).code, 0);
        let text = case.read("out/audit.csv");
        assert!(text.contains(&format!(";{cell}\n")), "{text}");
    }
}

/// The suppression list holds the SHA-256 of each address's key (lower-cased), with no state
/// and with one, and nothing for an address that stays.
#[test]
fn the_suppression_list_holds_the_hash_of_the_key() {
    for state in [false, true] {
        let case = Case::new();
        case.write(
            "list.csv",
            export(
                HEADER,
                &[
                    &good("Gone.Person@Example.COM", &[("status", "unsubscribed")]),
                    &good("stays@example.com", &[]),
                ],
            ),
        );
        let args: &[&str] = if state { &["--state", "state"] } else { &[] };
        let run = case.audit(&["list.csv"], args);
        assert_eq!(run.code, 0, "{}", run.stderr);
        let rows = case.csv("out/suppression.csv");
        let hashes: Vec<&str> = rows.iter().map(|r| r["email_sha256"].as_str()).collect();
        assert_eq!(
            hashes,
            [crate::rules::sha256("gone.person@example.com")],
            "state: {state}"
        );
    }
}
