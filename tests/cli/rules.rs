//! One test per reason code, evidence level and outcome row of SPEC §3, each on a small generic
//! export run through the real binary.

use crate::harness::{Case, export};

/// The header every fixture here uses; [`line`] fills it by name.
pub const HEADER: &str = "email,first name,status,optin_at,optin_ip,confirm_at,confirm_ip,source,consent_text,marketing_consent,double_opt_in,created_at,last_open_at,last_click_at,last_order_at,unsubscribed_at";

/// A CSV line for [`HEADER`], from (column, value) pairs; other columns stay empty.
pub fn line(pairs: &[(&str, &str)]) -> String {
    HEADER
        .split(',')
        .map(|h| {
            pairs
                .iter()
                .find(|(k, _)| *k == h)
                .map_or(String::new(), |(_, v)| v.to_string())
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// A contact with full evidence and recent activity: `keep` unless the test changes something.
pub fn good(email: &str, extra: &[(&str, &str)]) -> String {
    let mut pairs: Vec<(&str, &str)> = vec![
        ("email", email),
        ("status", "subscribed"),
        ("optin_at", "2021-04-01 10:00:00"),
        ("optin_ip", "192.0.2.10"),
        ("source", "website form"),
        ("last_open_at", "2026-10-01"),
    ];
    for (k, v) in extra {
        pairs.retain(|(key, _)| key != k);
        pairs.push((k, v));
    }
    line(&pairs)
}

/// Audits the lines and returns the case.
fn audit(lines: &[String]) -> Case {
    let case = Case::new();
    let rows: Vec<&str> = lines.iter().map(String::as_str).collect();
    case.write("list.csv", export(HEADER, &rows));
    let run = case.audit(&["list.csv"], &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    case
}

fn assert_decision(case: &Case, email: &str, outcome: &str, reasons: &str) {
    assert_eq!(
        case.decision(email),
        (outcome.to_string(), reasons.to_string()),
        "{email}"
    );
}

#[test]
fn keep_when_nothing_applies() {
    let case = audit(&[good("ok@example.com", &[])]);
    assert_decision(&case, "ok@example.com", "keep", "");
    assert_eq!(case.csv("out/keep.csv").len(), 1);
}

#[test]
fn invalid_email_is_deleted() {
    let case = audit(&[
        good("no-at-sign.example.com", &[]),
        good("two@@example.com", &[]),
        good("nodot@example", &[]),
        good("@example.com", &[]),
        good("good@example.com", &[]),
    ]);
    for bad in [
        "no-at-sign.example.com",
        "two@@example.com",
        "nodot@example",
        "@example.com",
    ] {
        assert_decision(&case, bad, "delete", "invalid-email");
    }
    assert_decision(&case, "good@example.com", "keep", "");
    let deletion = case.csv("out/deletion.csv");
    assert_eq!(deletion.len(), 4);
    assert!(deletion.iter().all(|r| r["suppress"] == "no"));
}

#[test]
fn withdrawn_is_deleted_and_suppressed() {
    let case = audit(&[
        good("gone@example.com", &[("status", "unsubscribed")]),
        good("Spam@Example.COM", &[("status", "complained")]),
        good("uit@example.com", &[("status", "Uitgeschreven")]),
        good("x1@deletion-request.substack.com", &[]),
    ]);
    for email in [
        "gone@example.com",
        "Spam@Example.COM",
        "uit@example.com",
        "x1@deletion-request.substack.com",
    ] {
        assert_decision(&case, email, "delete", "withdrawn");
    }
    let deletion = case.csv("out/deletion.csv");
    assert!(deletion.iter().all(|r| r["suppress"] == "yes"));
    let suppression = case.csv("out/suppression.csv");
    assert_eq!(suppression.len(), 4);
    // The hash of the lower-cased address, never the address itself; a withdrawal with no
    // date of its own is suppressed since the run's date.
    for email in ["gone@example.com", "spam@example.com"] {
        let expected = sha256(email);
        assert!(
            suppression.iter().any(|r| r["email_sha256"] == expected
                && r["reason"] == "withdrawn"
                && r["since"] == "2026-12-01T00:00:00Z"),
            "{email}: {suppression:?}"
        );
    }
    assert!(!case.read("out/suppression.csv").contains("@"));
}

pub fn sha256(text: &str) -> String {
    let output = std::process::Command::new("sha256sum")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child.stdin.take().unwrap().write_all(text.as_bytes())?;
            child.wait_with_output()
        })
        .expect("sha256sum runs");
    String::from_utf8_lossy(&output.stdout)
        .split_whitespace()
        .next()
        .unwrap()
        .to_string()
}

#[test]
fn bounced_is_deleted_and_suppressed_since_the_bounce() {
    let case = Case::new();
    case.write(
        "list.csv",
        export(
            "email,status,signup date,ip,last open,bounced_at",
            &["b@example.com,cleaned,2021-01-01 10:00:00,192.0.2.1,2026-10-01,2026-03-04 05:06:07"],
        ),
    );
    assert_eq!(case.audit(&["list.csv"], &[]).code, 0);
    assert_decision(&case, "b@example.com", "delete", "bounced");
    let suppression = case.csv("out/suppression.csv");
    assert_eq!(suppression[0]["reason"], "bounced");
    assert_eq!(suppression[0]["since"], "2026-03-04T05:06:07Z");
}

#[test]
fn stale_pending_is_unconfirmed_and_deleted_fresh_pending_is_no_marketing() {
    let case = audit(&[
        line(&[
            ("email", "old@example.com"),
            ("status", "pending"),
            ("optin_at", "2026-10-15 10:00:00"),
        ]),
        line(&[
            ("email", "new@example.com"),
            ("status", "pending"),
            ("optin_at", "2026-11-15 10:00:00"),
        ]),
        line(&[("email", "nodate@example.com"), ("status", "onbevestigd")]),
        // Without a sign-up date the creation date tells the age.
        line(&[
            ("email", "created@example.com"),
            ("status", "pending"),
            ("created_at", "2026-01-01"),
        ]),
    ]);
    assert_decision(
        &case,
        "old@example.com",
        "delete",
        "unconfirmed;incomplete-proof",
    );
    assert_decision(
        &case,
        "new@example.com",
        "no-marketing",
        "pending;incomplete-proof",
    );
    assert_decision(
        &case,
        "nodate@example.com",
        "no-marketing",
        "pending;no-consent-proof",
    );
    assert_decision(
        &case,
        "created@example.com",
        "delete",
        "unconfirmed;incomplete-proof",
    );
}

#[test]
fn disabled_is_no_marketing() {
    let case = audit(&[good("off@example.com", &[("status", "disabled")])]);
    assert_decision(&case, "off@example.com", "no-marketing", "disabled");
}

#[test]
fn unknown_status_is_no_marketing_and_counted() {
    let case = audit(&[
        good("odd@example.com", &[("status", "vip-frozen")]),
        // Deleted only for a reason that does not depend on the status.
        good(
            "odd-old@example.com",
            &[("status", "vip-frozen"), ("last_open_at", "2020-01-01")],
        ),
        // A known status beside them is no unknown value.
        good("plain@example.com", &[]),
    ]);
    assert_decision(&case, "odd@example.com", "no-marketing", "unknown-status");
    assert_decision(
        &case,
        "odd-old@example.com",
        "delete",
        "unknown-status;inactive",
    );
    let report = case.report();
    assert_eq!(report["unknown_statuses"][0]["value"], "vip-frozen");
    assert_eq!(report["unknown_statuses"][0]["contacts"], 2);
    assert_eq!(report["unknown_statuses"].as_array().map(Vec::len), Some(1));
}

#[test]
fn inactive_after_two_years_is_deleted() {
    let case = audit(&[
        good("stale@example.com", &[("last_open_at", "2024-11-30")]),
        good("edge@example.com", &[("last_open_at", "2024-12-01")]),
        // Never active: measured from the consent date.
        good(
            "never@example.com",
            &[("last_open_at", ""), ("optin_at", "2022-01-01 10:00:00")],
        ),
        // A click counts as much as an open.
        good(
            "clicker@example.com",
            &[
                ("last_open_at", "2020-01-01"),
                ("last_click_at", "2026-01-01"),
            ],
        ),
    ]);
    assert_decision(&case, "stale@example.com", "delete", "inactive");
    assert_decision(&case, "edge@example.com", "keep", "nearing-inactivity");
    assert_decision(&case, "never@example.com", "delete", "inactive");
    assert_decision(&case, "clicker@example.com", "keep", "");
}

#[test]
fn inactivity_is_not_judged_without_engagement_data() {
    let case = Case::new();
    case.write(
        "list.csv",
        export(
            "email,status,signup date,ip",
            &["quiet@example.com,subscribed,2020-01-01 10:00:00,192.0.2.1"],
        ),
    );
    assert_eq!(case.audit(&["list.csv"], &[]).code, 0);
    assert_decision(&case, "quiet@example.com", "keep", "");
    let report = case.report();
    assert_eq!(report["inactivity"]["not_assessable"], 1);
    assert!(
        report["inactivity"]["hint"]
            .as_str()
            .unwrap()
            .contains("--activity")
    );
    // An activity export makes it judgeable.
    case.write(
        "activity.csv",
        "Email Address,Last Click\nQUIET@example.com,2023-02-02\n",
    );
    assert_eq!(
        case.audit(&["list.csv"], &["--activity", "activity.csv", "--force"])
            .code,
        0
    );
    assert_decision(&case, "quiet@example.com", "delete", "inactive");
}

#[test]
fn nearing_inactivity_is_kept_and_listed_for_reengagement() {
    let case = audit(&[
        good("soon@example.com", &[("last_open_at", "2025-01-20")]),
        good("fine@example.com", &[("last_open_at", "2025-02-05")]),
    ]);
    assert_decision(&case, "soon@example.com", "keep", "nearing-inactivity");
    assert_decision(&case, "fine@example.com", "keep", "");
    let reengage = case.csv("out/reengage.csv");
    assert_eq!(reengage.len(), 1);
    assert_eq!(reengage[0]["email"], "soon@example.com");
}

#[test]
fn purchases_and_transactional_contacts_are_no_marketing() {
    let case = audit(&[
        good("buyer@example.com", &[("source", "checkout")]),
        good(
            "opted@example.com",
            &[("source", "checkout"), ("marketing_consent", "yes")],
        ),
        good("said-no@example.com", &[("marketing_consent", "nee")]),
        good("trans@example.com", &[("status", "transactional")]),
        good("freebie@example.com", &[("source", "Lead magnet e-book")]),
        // Whole words only: "border" is no order.
        good("border@example.com", &[("source", "border campaign form")]),
    ]);
    for email in [
        "buyer@example.com",
        "said-no@example.com",
        "trans@example.com",
        "freebie@example.com",
    ] {
        assert_eq!(case.decision(email).0, "no-marketing", "{email}");
        assert!(
            case.decision(email).1.contains("no-marketing-consent"),
            "{email}"
        );
    }
    assert_decision(&case, "opted@example.com", "keep", "");
    assert_decision(&case, "border@example.com", "keep", "");
}

#[test]
fn no_consent_proof_is_deleted_not_asked_again() {
    let case = audit(&[line(&[
        ("email", "who@example.com"),
        ("status", "subscribed"),
        ("last_open_at", "2026-10-01"),
    ])]);
    assert_decision(&case, "who@example.com", "delete", "no-consent-proof");
    assert!(case.csv("out/repermission.csv").is_empty());
}

#[test]
fn pre_gdpr_consent_is_asked_again() {
    let case = audit(&[
        good("old@example.com", &[("optin_at", "2018-05-24 23:59:59")]),
        good("new@example.com", &[("optin_at", "2018-05-25 00:00:00")]),
        // The instant counts: 01:00 at +02:00 is still 24 May in UTC.
        good(
            "zoned@example.com",
            &[("optin_at", "2018-05-25T01:00:00+02:00")],
        ),
    ]);
    assert_decision(&case, "old@example.com", "repermission", "pre-gdpr");
    assert_decision(&case, "new@example.com", "keep", "");
    assert_decision(&case, "zoned@example.com", "repermission", "pre-gdpr");
    let list = case.csv("out/repermission.csv");
    assert_eq!(list.len(), 2);
    assert_eq!(list[0]["consent_date"], "2018-05-24T23:59:59Z");
}

#[test]
fn incomplete_proof_is_asked_again() {
    let case = audit(&[good(
        "thin@example.com",
        &[("optin_ip", ""), ("source", "")],
    )]);
    assert_decision(
        &case,
        "thin@example.com",
        "repermission",
        "incomplete-proof",
    );
    let list = case.csv("out/repermission.csv");
    assert_eq!(list[0]["reasons"], "incomplete-proof");
}

/// A cell of white space only shows no IP, no source and no consent text (SPEC §3.1: "no IP",
/// a meaningful source is "not empty"): the contact is asked again, whichever reader reads
/// the file (a ragged row at its end sends it to the record-level pass).
#[test]
fn a_blank_ip_source_or_consent_text_is_no_proof() {
    let thin = |email: &'static str, blank: &'static str| {
        let mut pairs = vec![("optin_ip", ""), ("source", "")];
        pairs.retain(|(k, _)| *k != blank);
        pairs.push((blank, "\"  \""));
        good(email, &pairs)
    };
    let rows = [
        thin("ip@example.com", "optin_ip"),
        thin("source@example.com", "source"),
        thin("text@example.com", "consent_text"),
    ];
    by_both_readers(&rows, |case| {
        for email in ["ip@example.com", "source@example.com", "text@example.com"] {
            assert_decision(case, email, "repermission", "incomplete-proof");
        }
    });
}

/// Audits the lines as a clean file, and again with a ragged row at its end (which sends the
/// file to the record-level pass, and is rejected), and checks each case.
pub fn by_both_readers(rows: &[String], check: impl Fn(&Case)) {
    for ragged in [false, true] {
        let case = Case::new();
        let mut lines: Vec<&str> = rows.iter().map(String::as_str).collect();
        if ragged {
            lines.push("ragged@example.com,too,few");
        }
        case.write("list.csv", export(HEADER, &lines));
        // The ragged row must not stop a short list (more than 5% of its rows rejected).
        case.write("policy.toml", "max_reject_pct = 100\n");
        let run = case.audit(&["list.csv"], &["--policy", "policy.toml"]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        check(&case);
    }
}

#[test]
fn evidence_levels() {
    let no_how = [("optin_ip", ""), ("source", "")];
    let case = audit(&[
        good("ip@example.com", &[("source", "")]),
        good("source@example.com", &[("optin_ip", "")]),
        good(
            "text@example.com",
            &[
                ("optin_ip", ""),
                ("source", ""),
                ("consent_text", "form v3: yes send me the newsletter"),
            ],
        ),
        good(
            "doi@example.com",
            &[
                ("optin_ip", ""),
                ("source", ""),
                ("confirm_at", "2021-04-01 10:05:00"),
            ],
        ),
        good(
            "confirmip@example.com",
            &[
                ("optin_ip", ""),
                ("source", ""),
                ("optin_at", ""),
                ("confirm_at", "2021-04-01 10:05:00"),
                ("confirm_ip", "192.0.2.77"),
            ],
        ),
        good(
            "flag@example.com",
            &[("optin_ip", ""), ("source", ""), ("double_opt_in", "true")],
        ),
        // A lone confirm_at equal to the opt-in is no confirmation.
        good(
            "same@example.com",
            &[
                ("optin_ip", ""),
                ("source", ""),
                ("confirm_at", "2021-04-01 10:00:00"),
            ],
        ),
        good(
            "placeholder@example.com",
            &[("optin_ip", ""), ("source", "n/a")],
        ),
        good("import@example.com", &[("source", "List import")]),
        good(
            "import-doi@example.com",
            &[("source", "import"), ("confirm_at", "2021-04-02 08:00:00")],
        ),
        good(
            "bought@example.com",
            &[
                ("source", "purchased list 2019"),
                ("confirm_at", "2021-04-02 08:00:00"),
            ],
        ),
        line(&[
            ("email", "yes-no-date@example.com"),
            ("status", "subscribed"),
            ("marketing_consent", "ja"),
            ("last_open_at", "2026-10-01"),
        ]),
        good(
            "created-only@example.com",
            &[
                ("optin_at", ""),
                ("optin_ip", ""),
                ("source", ""),
                ("created_at", "2022-02-02"),
            ],
        ),
    ]);
    let rows = case.audit_rows();
    let evidence = |email: &str| rows[email]["evidence"].clone();
    for full in [
        "ip@example.com",
        "source@example.com",
        "text@example.com",
        "doi@example.com",
        "confirmip@example.com",
        "flag@example.com",
        "import-doi@example.com",
    ] {
        assert_eq!(evidence(full), "full", "{full}");
    }
    for partial in [
        "same@example.com",
        "placeholder@example.com",
        "import@example.com",
        "yes-no-date@example.com",
        "created-only@example.com",
    ] {
        assert_eq!(evidence(partial), "partial", "{partial}");
    }
    assert_eq!(evidence("bought@example.com"), "none");
    assert_decision(&case, "bought@example.com", "delete", "no-consent-proof");
    // The consent date is the later of opt-in and confirmation, and says where it came from.
    assert_eq!(
        rows["doi@example.com"]["consent_date"],
        "2021-04-01T10:05:00Z"
    );
    assert_eq!(rows["doi@example.com"]["consent_date_column"], "confirm_at");
    assert_eq!(
        rows["created-only@example.com"]["consent_date_column"],
        "created_at"
    );
    let _ = no_how;
}

#[test]
fn an_import_artefact_is_partial_evidence() {
    // 20 contacts sharing one consent second without IP or confirmation: a bulk import. The
    // second is shared whatever the milliseconds within it.
    let mut lines: Vec<String> = (0..20)
        .map(|i| {
            let at = format!("2021-03-15 09:00:00.{:03}", i * 37);
            good(
                &format!("bulk{i}@example.com"),
                &[("optin_ip", ""), ("optin_at", &at)],
            )
        })
        .collect();
    // The same second with an IP is a real sign-up; another second is not part of it.
    lines.push(good(
        "ip@example.com",
        &[("optin_at", "2021-03-15 09:00:00")],
    ));
    lines.push(good(
        "other@example.com",
        &[("optin_ip", ""), ("optin_at", "2021-03-15 09:00:01")],
    ));
    let case = audit(&lines);
    assert_decision(
        &case,
        "bulk0@example.com",
        "repermission",
        "incomplete-proof",
    );
    assert_decision(&case, "ip@example.com", "keep", "");
    assert_decision(&case, "other@example.com", "keep", "");
    assert_eq!(case.report()["counts"]["import_artifacts"], 20);
    // Read in batches of a few rows, the contacts keep a chunk each batch, and the second is
    // still counted over the whole list.
    let outputs = case.read("out/audit.csv");
    let batched = case.audit_env(
        &["list.csv"],
        &["--force"],
        &[("LISTAUDIT_BATCH_BYTES", "300")],
    );
    assert_eq!(batched.code, 0, "{}", batched.stderr);
    assert_eq!(case.report()["counts"]["import_artifacts"], 20);
    assert_eq!(case.read("out/audit.csv"), outputs);

    // 19 are not enough; date-only values carry no time of day and never count.
    let mut lines: Vec<String> = (0..19)
        .map(|i| {
            good(
                &format!("bulk{i}@example.com"),
                &[("optin_ip", ""), ("optin_at", "2021-03-15 09:00:00")],
            )
        })
        .collect();
    lines.extend((0..25).map(|i| {
        good(
            &format!("day{i}@example.com"),
            &[("optin_ip", ""), ("optin_at", "2021-03-16")],
        )
    }));
    let case = audit(&lines);
    assert_decision(&case, "bulk0@example.com", "keep", "");
    assert_decision(&case, "day0@example.com", "keep", "");
}

#[test]
fn outcome_order_first_match_wins() {
    let case = audit(&[
        // Row 1 before row 3: a withdrawn customer is deleted.
        good(
            "a@example.com",
            &[("status", "unsubscribed"), ("source", "checkout")],
        ),
        // Row 3 before row 4: a pending contact without proof is kept for service mail only.
        line(&[("email", "b@example.com"), ("status", "pending")]),
        // Row 3 before row 5: a transactional contact is never sent a re-permission mail.
        good(
            "c@example.com",
            &[
                ("status", "transactional"),
                ("optin_at", "2016-01-01 10:00:00"),
            ],
        ),
        // Row 4 before row 5: no proof at all is deleted even when pre-GDPR.
        line(&[
            ("email", "d@example.com"),
            ("status", "subscribed"),
            ("source", "bought"),
            ("optin_at", "2015-01-01"),
            ("last_open_at", "2026-10-01"),
        ]),
    ]);
    assert_decision(
        &case,
        "a@example.com",
        "delete",
        "withdrawn;no-marketing-consent",
    );
    assert_decision(
        &case,
        "b@example.com",
        "no-marketing",
        "pending;no-consent-proof",
    );
    assert_decision(
        &case,
        "c@example.com",
        "no-marketing",
        "no-marketing-consent;pre-gdpr",
    );
    assert_decision(
        &case,
        "d@example.com",
        "delete",
        "no-consent-proof;pre-gdpr",
    );
}
