//! Reading inputs: Mailchimp's per-status files, delimiters, BOM, quoting, line numbers.

use crate::harness::{Case, export, formats_dir};

#[test]
fn real_mailchimp_files_take_their_status_from_the_file_name() {
    let case = Case::new();
    let dir = formats_dir();
    let files: Vec<String> = ["subscribed", "unsubscribed", "cleaned"]
        .iter()
        .map(|s| {
            dir.join(format!("mailchimp__TryGhost__migrate__{s}.csv"))
                .display()
                .to_string()
        })
        .collect();
    let args: Vec<&str> = files.iter().map(String::as_str).collect();
    let run = case.audit(&args, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let rows = case.audit_rows();
    assert_eq!(rows.len(), 15);
    for i in 1..=5 {
        assert_eq!(rows[&format!("s{i}@example.com")]["status"], "subscribed");
        assert_eq!(rows[&format!("u{i}@example.com")]["status"], "unsubscribed");
        assert_eq!(rows[&format!("c{i}@example.com")]["status"], "cleaned");
        assert_eq!(rows[&format!("u{i}@example.com")]["outcome"], "delete");
        assert_eq!(rows[&format!("c{i}@example.com")]["outcome"], "delete");
    }
    // OPTIN_TIME equal to CONFIRM_TIME without IPs: an import, not a proven double opt-in.
    assert_eq!(rows["s1@example.com"]["evidence"], "partial");
    assert_eq!(rows["s1@example.com"]["outcome"], "repermission");
    assert_eq!(rows["s1@example.com"]["reasons"], "incomplete-proof");
    assert_eq!(
        rows["s2@example.com"]["reasons"],
        "pre-gdpr;incomplete-proof"
    );
    assert_eq!(rows["s1@example.com"]["consent_date_column"], "OPTIN_TIME");
    let report = case.report();
    assert_eq!(report["inputs"][0]["service"], "mailchimp");
    assert_eq!(report["inputs"][0]["status_from"], "file name (subscribed)");
    assert_eq!(
        report["inputs"][1]["status_from"],
        "file name (unsubscribed)"
    );
    // The audience export has no engagement column: inactivity is not judged, and it says so.
    assert_eq!(report["inactivity"]["not_assessable"], 15);
    assert_eq!(report["counts"]["suppressed"], 10);
}

const MC_HEADER: &str = "Email Address,First Name,Last Name,MEMBER_RATING,OPTIN_TIME,OPTIN_IP,CONFIRM_TIME,CONFIRM_IP,GMTOFF,DSTOFF,TIMEZONE,CC,REGION";

#[test]
fn mailchimp_status_words_are_found_wherever_they_stand() {
    let case = Case::new();
    let row = |e: &str| {
        format!(
            "{e},A,B,3,2021-01-01 10:00:00,192.0.2.1,2021-01-01 10:05:00,192.0.2.2,1,2,Europe/Amsterdam,NL,NH"
        )
    };
    case.write(
        "mc/export__non-subscribed.csv",
        export(
            &format!("{MC_HEADER},LAST_CHANGED,LEID,EUID"),
            &[&format!("{},,1,a", row("n@example.com"))],
        ),
    );
    case.write(
        "mc/members_unsubscribed_2024.csv",
        export(
            &format!("{MC_HEADER},UNSUB_TIME,LEID,EUID"),
            &[&format!("{},2024-01-01 10:00:00,2,b", row("u@example.com"))],
        ),
    );
    // No status word in the name: the per-status columns tell.
    case.write(
        "mc/renamed.csv",
        export(
            &format!("{MC_HEADER},CLEAN_TIME,LEID,EUID"),
            &[&format!("{},2024-01-01 10:00:00,3,c", row("c@example.com"))],
        ),
    );
    case.write(
        "mc/subscribed_members_export_ba473dc14f.csv",
        export(
            &format!("{MC_HEADER},LAST_CHANGED,LEID,EUID"),
            &[&format!("{},,4,d", row("s@example.com"))],
        ),
    );
    let run = case.audit(&["mc"], &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let rows = case.audit_rows();
    assert_eq!(rows["n@example.com"]["status"], "transactional");
    assert_eq!(rows["n@example.com"]["outcome"], "no-marketing");
    assert_eq!(rows["u@example.com"]["status"], "unsubscribed");
    assert_eq!(rows["c@example.com"]["status"], "cleaned");
    assert_eq!(rows["s@example.com"]["status"], "subscribed");
    // A confirmation after the opt-in with its own IP: full evidence.
    assert_eq!(rows["s@example.com"]["evidence"], "full");
    assert_eq!(
        rows["s@example.com"]["consent_date"],
        "2021-01-01T10:05:00Z"
    );
    // Directory members are read in path order.
    let order: Vec<String> = case
        .csv("out/audit.csv")
        .iter()
        .map(|r| r["email"].clone())
        .collect();
    assert_eq!(
        order,
        [
            "n@example.com",
            "u@example.com",
            "c@example.com",
            "s@example.com"
        ]
    );
}

#[test]
fn dutch_headers_semicolons_bom_and_crlf() {
    let case = Case::new();
    let text = "\u{feff}E-mailadres;Voornaam;Status;Aanmelddatum;IP-adres;Laatst geopend\r\n\
                jan@example.nl;Jan;Ingeschreven;2021-02-03 04:05:06;192.0.2.9;2026-10-10\r\n\
                piet@example.nl;Piet;afgemeld;2021-02-03 04:05:06;192.0.2.9;2026-10-10";
    case.write("leden.csv", text);
    let run = case.audit(&["leden.csv"], &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        case.decision("jan@example.nl"),
        ("keep".into(), String::new())
    );
    assert_eq!(case.decision("piet@example.nl").0, "delete");
    let report = case.report();
    assert_eq!(report["inputs"][0]["encoding"], "utf-8 with BOM");
    assert_eq!(report["inputs"][0]["delimiter"], "';'");
    assert_eq!(report["inputs"][0]["mapping"][0]["column"], "E-mailadres");
}

#[test]
fn quoted_newlines_keep_the_right_line_numbers() {
    let case = Case::new();
    case.write(
        "list.csv",
        "email,name,notes,ip,signup date\n\
         a@example.com,\"Ann, the first\",\"line one\nline two\",192.0.2.1,2021-01-01 10:00:00\n\
         b@example.com,Bob,,192.0.2.1,2021-01-01 10:00:00\n",
    );
    assert_eq!(case.audit(&["list.csv"], &[]).code, 0);
    let rows = case.audit_rows();
    assert_eq!(rows["a@example.com"]["sources"], "list.csv:2");
    assert_eq!(rows["b@example.com"]["sources"], "list.csv:4");
    assert_eq!(case.csv("out/keep.csv")[0]["first_name"], "Ann, the first");
}

#[test]
fn duplicate_header_names_are_kept() {
    let case = Case::new();
    case.write(
        "list.csv",
        "email,source,source,ip,signup date\na@example.com,,website,192.0.2.1,2021-01-01 10:00:00\n",
    );
    assert_eq!(case.audit(&["list.csv"], &[]).code, 0);
    assert_eq!(case.decision("a@example.com").0, "keep");
}

#[test]
fn ragged_rows_and_invalid_bytes_go_to_rejects_with_their_line() {
    let case = Case::new();
    // Valid UTF-8 everywhere else (é, ë): the file is UTF-8 and the one bad row is rejected.
    let mut text = String::from("email,ip,signup date\n");
    for i in 0..40 {
        text.push_str(&format!(
            "p{i}.josé.zoë@example.com,192.0.2.1,2021-01-01 10:00:00\n"
        ));
    }
    text.push_str("short@example.com,192.0.2.1\n");
    let mut bytes = text.into_bytes();
    bytes.extend_from_slice(b"bad\xff@example.com,192.0.2.1,2021-01-01 10:00:00\n");
    bytes.extend_from_slice(b",192.0.2.1,2021-01-01 10:00:00\n");
    case.write("list.csv", bytes);
    let run = case.audit(&["list.csv"], &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let rejects = case.csv("out/rejects.csv");
    assert_eq!(rejects.len(), 3);
    assert_eq!(rejects[0]["file"], "list.csv");
    assert_eq!(rejects[0]["line"], "42");
    assert_eq!(rejects[0]["problem"], "expected 3 fields, found 2");
    assert_eq!(rejects[0]["raw"], "short@example.com,192.0.2.1");
    assert_eq!(rejects[1]["line"], "43");
    assert_eq!(rejects[1]["problem"], "invalid UTF-8 bytes");
    assert_eq!(rejects[2]["line"], "44");
    assert_eq!(rejects[2]["problem"], "no e-mail address");
    assert_eq!(case.csv("out/audit.csv").len(), 40);
    let report = case.report();
    assert_eq!(report["inputs"][0]["rejected"], 2);
    assert_eq!(report["inputs"][0]["without_email"], 1);
    assert_eq!(report["counts"]["rejects"], 3);
}

#[test]
fn rows_without_email_in_a_clean_file_are_rejected_not_dropped() {
    let case = Case::new();
    case.write(
        "shop.csv",
        "email,phone\n\"\",0612345678\n  ,0687654321\nc@example.com,0600000000\n",
    );
    assert_eq!(case.audit(&["shop.csv"], &[]).code, 0);
    let rejects = case.csv("out/rejects.csv");
    assert_eq!(rejects.len(), 2);
    assert_eq!(rejects[0]["line"], "2");
    assert_eq!(rejects[0]["raw"], "\"\",0612345678");
    assert_eq!(rejects[1]["line"], "3");
    assert_eq!(case.csv("out/audit.csv").len(), 1);
}

#[test]
fn a_file_with_only_a_header_gives_empty_lists() {
    let case = Case::new();
    case.write("empty.csv", "email,status\n");
    let run = case.audit(&["empty.csv"], &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(case.csv("out/audit.csv").is_empty());
    assert_eq!(
        case.read("out/keep.csv"),
        "email,first_name,last_name,consent_date,last_activity\n"
    );
    assert_eq!(case.report()["counts"]["contacts"], 0);
}

#[test]
fn map_overrides_detection() {
    let case = Case::new();
    case.write(
        "list.csv",
        "Mailadres,Wanneer,ip\na@example.com,2021-01-01 10:00:00,192.0.2.1\n",
    );
    let run = case.audit(
        &["list.csv"],
        &["--map", "email=Mailadres", "--map", "optin_at=Wanneer"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        case.audit_rows()["a@example.com"]["consent_date_column"],
        "Wanneer"
    );
}

/// Every CSV of `out` and the report's counts and date decisions, to compare two runs.
fn outputs_of(case: &Case, out: &str) -> Vec<(String, String)> {
    let mut found: Vec<(String, String)> = case
        .files(out)
        .into_iter()
        .filter(|f| f.ends_with(".csv"))
        .map(|f| {
            let text = case.read(&format!("{out}/{f}"));
            (f, text)
        })
        .collect();
    let report: serde_json::Value =
        serde_json::from_str(&case.read(&format!("{out}/report.json"))).expect("JSON");
    for part in [
        "counts",
        "dates",
        "inputs",
        "assumptions",
        "unknown_statuses",
    ] {
        found.push((part.to_string(), report[part].to_string()));
    }
    found
}

#[test]
fn a_list_read_in_many_batches_is_the_list_read_at_once() {
    // Small batches put one person's rows in different batches and the first value of a date
    // column in another batch than its deciding value.
    let root = env!("CARGO_MANIFEST_DIR");
    let sample = format!("{root}/sample-data");
    let activity = format!("{root}/sample-activity/mailchimp-activity.csv");
    let inputs = [sample.as_str(), "--activity", activity.as_str()];
    let read = |env: &[(&str, &str)]| {
        let case = Case::new();
        let run = case.audit_env(&inputs, &[], env);
        assert_eq!(run.code, 0, "{}", run.stderr);
        outputs_of(&case, "out")
    };
    let once = read(&[]);
    let batched = read(&[("LISTAUDIT_BATCH_BYTES", "300")]);
    assert!(once.len() > 8, "{once:?}");
    for ((name, a), (other, b)) in once.iter().zip(&batched) {
        assert_eq!(name, other);
        assert_eq!(a, b, "{name} differs when read in batches");
    }
}

#[test]
fn a_day_month_order_found_in_a_late_batch_rereads_the_file() {
    // The first rows could be either order (the policy's day-first would read 05/06 as June);
    // only the last row, 06/13, says month first. All values are read month first.
    let mut rows: Vec<String> = (0..60)
        .map(|i| format!("p{i}@example.com,05/06/2020 10:{:02},web form", i % 60))
        .collect();
    rows.push("late@example.com,06/13/2020 09:00,web form".to_string());
    let rows: Vec<&str> = rows.iter().map(String::as_str).collect();
    let case = Case::new();
    case.write("list.csv", export("email,signup date,source", &rows));
    let run = case.audit_env(&["list.csv"], &[], &[("LISTAUDIT_BATCH_BYTES", "200")]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let audit = case.audit_rows();
    assert_eq!(
        audit["p0@example.com"]["consent_date"],
        "2020-05-06T10:00:00Z"
    );
    assert_eq!(
        audit["late@example.com"]["consent_date"],
        "2020-06-13T09:00:00Z"
    );
    let dates = &case.report()["dates"][0];
    assert_eq!(dates["order"], "month-first", "{dates}");
    assert_eq!(dates["values"], 61, "each value counted once: {dates}");
}

/// `count` rows of a clean export, `p{i}@example.com` signed up through a web form.
fn clean_rows(count: usize) -> Vec<String> {
    (0..count)
        .map(|i| format!("p{i}@example.com,2021-03-04 10:00:00,web form"))
        .collect()
}

#[test]
fn rows_without_an_email_in_a_clean_file_are_rejected_with_their_line() {
    // Read in batches of 200 bytes without the structure check (the file looks clean): the
    // readers find the rows without an address, in whichever batch, with their line and text.
    let mut rows = clean_rows(30);
    rows[3] = ",2021-03-04 10:00:00,web form".to_string();
    rows[20] = "\"  \",2021-03-04 10:00:00,\"a, b\"".to_string();
    let rows: Vec<&str> = rows.iter().map(String::as_str).collect();
    let case = Case::new();
    case.write("a.csv", export("email,signup date,source", &rows));
    // A second file, checked at ingest for its quoted header, and so rejected before the
    // first is read, comes after the first in rejects.csv all the same.
    case.write(
        "b.csv",
        "\"email\",signup date,source\n,2021-03-04 10:00:00,x\nq@example.com,2021-03-04 10:00:00,x\n",
    );
    let env = [("LISTAUDIT_BATCH_BYTES", "200")];
    let policy = ["--policy", "policy.toml"];
    case.write("policy.toml", "max_reject_pct = 100\n");
    let run = case.audit_env(&["a.csv", "b.csv"], &policy, &env);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let rejects = case.csv("out/rejects.csv");
    let found: Vec<(&str, &str, &str, &str)> = rejects
        .iter()
        .map(|r| {
            (
                r["file"].as_str(),
                r["line"].as_str(),
                r["problem"].as_str(),
                r["raw"].as_str(),
            )
        })
        .collect();
    assert_eq!(
        found,
        [
            (
                "a.csv",
                "5",
                "no e-mail address",
                ",2021-03-04 10:00:00,web form"
            ),
            (
                "a.csv",
                "22",
                "no e-mail address",
                "\"  \",2021-03-04 10:00:00,\"a, b\""
            ),
            ("b.csv", "2", "no e-mail address", ",2021-03-04 10:00:00,x"),
        ]
    );
    let report = case.report();
    assert_eq!(report["inputs"][0]["rows"], 30);
    assert_eq!(report["inputs"][0]["without_email"], 2);
    assert_eq!(
        report["inputs"][0]["sha256"],
        crate::rules::sha256(&case.read("a.csv"))
    );
    assert_eq!(report["inputs"][1]["without_email"], 1);
    assert_eq!(case.csv("out/audit.csv").len(), 29);
}

#[test]
fn a_file_that_only_looks_clean_is_checked_and_read_again() {
    // Each file is read without the check at first, and one of its later batches turns out
    // not to be clean: a record that spans two lines, a stray quote, a blank line in a file of
    // one column. The file is then checked and read as it always was, its lines right.
    let env = [("LISTAUDIT_BATCH_BYTES", "150")];
    // Twenty clean rows, row `at` of them replaced by `row`, audited.
    let audited = |at: usize, row: &str| {
        let mut rows = clean_rows(20);
        rows[at] = row.to_string();
        let rows: Vec<&str> = rows.iter().map(String::as_str).collect();
        let case = Case::new();
        case.write("list.csv", export("email,signup date,source", &rows));
        let run = case.audit_env(&["list.csv"], &[], &env);
        assert_eq!(run.code, 0, "{}", run.stderr);
        case
    };

    let case = audited(15, "p15@example.com,2021-03-04 10:00:00,\"web\nform\"");
    let audit = case.audit_rows();
    assert_eq!(audit.len(), 20);
    assert_eq!(audit["p14@example.com"]["sources"], "list.csv:16");
    assert_eq!(audit["p15@example.com"]["sources"], "list.csv:17");
    // The record after the one that spans lines starts a line later.
    assert_eq!(audit["p16@example.com"]["sources"], "list.csv:19");
    assert_eq!(
        case.report()["inputs"][0]["sha256"],
        crate::rules::sha256(&case.read("list.csv"))
    );

    let case = audited(17, "p17@example.com,2021-03-04 10:00:00,web \"form\"");
    // The record-level pass reads a quote inside an unquoted cell as text.
    assert_eq!(case.csv("out/rejects.csv").len(), 0);
    let audit = case.audit_rows();
    assert_eq!(audit.len(), 20);
    assert_eq!(audit["p17@example.com"]["sources"], "list.csv:19");

    let mut text = String::from("email\n");
    for i in 0..20 {
        text.push_str(&format!("p{i}@example.com\n"));
        if i == 12 {
            text.push('\n');
        }
    }
    let case = Case::new();
    case.write("list.csv", &text);
    let run = case.audit_env(&["list.csv"], &[], &env);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let audit = case.audit_rows();
    assert_eq!(audit.len(), 20);
    assert_eq!(audit["p12@example.com"]["sources"], "list.csv:14");
    assert_eq!(audit["p13@example.com"]["sources"], "list.csv:16");
    assert_eq!(case.csv("out/rejects.csv").len(), 0);
}

#[test]
fn the_rows_of_a_file_read_unchecked_are_counted_not_estimated() {
    // Lines of 45 bytes for the first megabytes, then long ones: the estimate from the first
    // megabyte is far off, and the report counts every row all the same.
    let mut text = String::from("email,signup date,source\n");
    for i in 0..40_000 {
        text.push_str(&format!("p{i:05}@example.com,2021-03-04 10:00:00,web\n"));
    }
    let long = "x".repeat(500);
    for i in 0..2_000 {
        text.push_str(&format!("q{i:05}@example.com,2021-03-04 10:00:00,{long}\n"));
    }
    let case = Case::new();
    case.write("list.csv", &text);
    let run = case.audit(&["list.csv"], &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(case.report()["inputs"][0]["rows"], 42_000);
    assert_eq!(case.report()["counts"]["contacts"], 42_000);
    let audit = case.audit_rows();
    assert_eq!(audit["q01999@example.com"]["sources"], "list.csv:42001");
}
