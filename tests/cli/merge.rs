//! SPEC §2.4: rows of one person, within a file and across files, are one contact.

use crate::harness::{Case, export};
use crate::rules::{HEADER, good};

#[test]
fn duplicates_merge_into_the_first_spelling_with_every_source() {
    let case = Case::new();
    case.write(
        "a.csv",
        export(
            HEADER,
            &[
                &good("Ann.Example@Example.com", &[]),
                &good("other@example.com", &[]),
            ],
        ),
    );
    case.write(
        "b.csv",
        export(
            HEADER,
            &[&good(
                "  ann.example@example.COM ",
                &[("last_open_at", "2026-11-20")],
            )],
        ),
    );
    assert_eq!(case.audit(&["a.csv", "b.csv"], &[]).code, 0);
    let rows = case.csv("out/audit.csv");
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["email"], "Ann.Example@Example.com");
    assert_eq!(rows[0]["sources"], "a.csv:2;b.csv:2");
    // Activity: the latest date of any row.
    assert_eq!(rows[0]["last_activity"], "2026-11-20T00:00:00Z");
    assert_eq!(case.report()["counts"]["duplicates"], 1);
}

#[test]
fn the_most_restrictive_status_wins() {
    let case = Case::new();
    case.write(
        "a.csv",
        export(
            HEADER,
            &[
                &good("x@example.com", &[]),
                &good("y@example.com", &[("status", "cleaned")]),
                &good("z@example.com", &[("status", "pending")]),
            ],
        ),
    );
    case.write(
        "b.csv",
        export(
            HEADER,
            &[
                &good("x@example.com", &[("status", "unsubscribed")]),
                &good("y@example.com", &[("status", "disabled")]),
                &good("z@example.com", &[]),
            ],
        ),
    );
    assert_eq!(case.audit(&["a.csv", "b.csv"], &[]).code, 0);
    let rows = case.audit_rows();
    assert_eq!(rows["x@example.com"]["status"], "unsubscribed");
    assert_eq!(rows["y@example.com"]["status"], "cleaned");
    assert_eq!(rows["z@example.com"]["status"], "pending");
    assert_eq!(case.decision("x@example.com").0, "delete");
}

#[test]
fn a_later_full_sign_up_overrides_a_timed_withdrawal_but_never_an_untimed_one() {
    let case = Case::new();
    case.write(
        "old.csv",
        export(
            HEADER,
            &[
                &good(
                    "back@example.com",
                    &[
                        ("status", "unsubscribed"),
                        ("unsubscribed_at", "2023-01-01 10:00:00"),
                    ],
                ),
                &good(
                    "early@example.com",
                    &[
                        ("status", "unsubscribed"),
                        ("unsubscribed_at", "2025-06-01 10:00:00"),
                    ],
                ),
                &good("untimed@example.com", &[("status", "unsubscribed")]),
                &good(
                    "thin@example.com",
                    &[
                        ("status", "unsubscribed"),
                        ("unsubscribed_at", "2023-01-01 10:00:00"),
                    ],
                ),
                &good(
                    "same@example.com",
                    &[
                        ("status", "unsubscribed"),
                        ("unsubscribed_at", "2024-02-02 10:00:00"),
                    ],
                ),
                &good(
                    "transactional@example.com",
                    &[
                        ("status", "unsubscribed"),
                        ("unsubscribed_at", "2023-01-01 10:00:00"),
                    ],
                ),
            ],
        ),
    );
    case.write(
        "new.csv",
        export(
            HEADER,
            &[
                &good("back@example.com", &[("optin_at", "2024-02-02 10:00:00")]),
                &good("early@example.com", &[("optin_at", "2024-02-02 10:00:00")]),
                &good(
                    "untimed@example.com",
                    &[("optin_at", "2024-02-02 10:00:00")],
                ),
                // A sign-up without full evidence does not undo a withdrawal.
                &good(
                    "thin@example.com",
                    &[
                        ("optin_at", "2024-02-02 10:00:00"),
                        ("optin_ip", ""),
                        ("source", ""),
                    ],
                ),
                // Nor one at the same second, nor one of a contact who is not subscribed.
                &good("same@example.com", &[("optin_at", "2024-02-02 10:00:00")]),
                &good(
                    "transactional@example.com",
                    &[
                        ("status", "transactional"),
                        ("optin_at", "2024-02-02 10:00:00"),
                    ],
                ),
            ],
        ),
    );
    assert_eq!(case.audit(&["old.csv", "new.csv"], &[]).code, 0);
    assert_eq!(case.decision("back@example.com").0, "keep");
    assert_eq!(case.decision("early@example.com").0, "delete");
    assert_eq!(case.decision("untimed@example.com").0, "delete");
    assert_eq!(case.decision("thin@example.com").0, "delete");
    assert_eq!(case.decision("same@example.com").0, "delete");
    assert_eq!(case.decision("transactional@example.com").0, "delete");
}

#[test]
fn consent_comes_from_the_strongest_record_the_latest_among_equals() {
    let case = Case::new();
    case.write(
        "list.csv",
        export(
            HEADER,
            &[
                &good(
                    "p@example.com",
                    &[
                        ("optin_at", "2023-01-01 10:00:00"),
                        ("optin_ip", ""),
                        ("source", ""),
                    ],
                ),
                &good("p@example.com", &[("optin_at", "2017-01-01 10:00:00")]),
                &good("p@example.com", &[("optin_at", "2019-01-01 10:00:00")]),
            ],
        ),
    );
    assert_eq!(case.audit(&["list.csv"], &[]).code, 0);
    let row = &case.audit_rows()["p@example.com"];
    assert_eq!(row["evidence"], "full");
    assert_eq!(row["consent_date"], "2019-01-01T10:00:00Z");
    assert_eq!(row["outcome"], "keep");
}

#[test]
fn activity_files_are_joined_by_key_and_never_add_contacts() {
    let case = Case::new();
    case.write(
        "list.csv",
        export(
            HEADER,
            &[&good("m@example.com", &[("last_open_at", "2023-01-01")])],
        ),
    );
    case.write(
        "activity.csv",
        "email;date\nM@EXAMPLE.COM;2026-05-05\nstranger@example.com;2026-05-05\n",
    );
    assert_eq!(
        case.audit(&["list.csv"], &["--activity", "activity.csv"])
            .code,
        0
    );
    let rows = case.csv("out/audit.csv");
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["last_activity"], "2026-05-05T00:00:00Z");
    assert_eq!(rows[0]["outcome"], "keep");
    assert_eq!(case.report()["counts"]["activity_rows_without_contact"], 1);
}

#[test]
fn a_withdrawal_in_any_list_withdraws_from_all() {
    let case = Case::new();
    case.write("news.csv", export(HEADER, &[&good("w@example.com", &[])]));
    case.write(
        "events.csv",
        export("email,status", &["w@example.com,afgemeld"]),
    );
    assert_eq!(case.audit(&["news.csv", "events.csv"], &[]).code, 0);
    assert_eq!(
        case.decision("w@example.com"),
        ("delete".into(), "withdrawn".into())
    );
}

/// Each contact's consent_date_column names the header of its own file, the second file's as
/// well as the first's (they are kept as numbers into a table of every input's headers).
#[test]
fn the_consent_date_column_is_named_as_in_the_contacts_own_file() {
    let case = Case::new();
    case.write("a.csv", export(HEADER, &[&good("a@example.com", &[])]));
    let dutch = HEADER.replace("optin_at", "Aanmelddatum");
    case.write(
        "b.csv",
        export(
            &dutch,
            &[
                &good("b@example.com", &[]),
                &good(
                    "c@example.com",
                    &[("optin_at", ""), ("created_at", "2021-05-01")],
                ),
            ],
        ),
    );
    assert_eq!(case.audit(&["a.csv", "b.csv"], &[]).code, 0);
    let rows = case.audit_rows();
    assert_eq!(rows["a@example.com"]["consent_date_column"], "optin_at");
    assert_eq!(rows["b@example.com"]["consent_date_column"], "Aanmelddatum");
    assert_eq!(rows["c@example.com"]["consent_date_column"], "created_at");
}

/// Records of equal evidence and the same consent time tie: the consent comes from the first
/// of them in the inputs' order, whichever file that is (its consent_date_column says which).
#[test]
fn consent_comes_from_the_first_record_among_ties() {
    let dutch = HEADER.replace("optin_at", "Aanmelddatum");
    for (first, second, column) in [
        ("a.csv", "b.csv", "optin_at"),
        ("b.csv", "a.csv", "Aanmelddatum"),
    ] {
        let case = Case::new();
        case.write("a.csv", export(HEADER, &[&good("t@example.com", &[])]));
        case.write("b.csv", export(&dutch, &[&good("T@example.com", &[])]));
        assert_eq!(case.audit(&[first, second], &[]).code, 0);
        let rows = case.csv("out/audit.csv");
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0]["sources"], format!("{first}:2;{second}:2"));
        assert_eq!(rows[0]["evidence"], "full");
        assert_eq!(rows[0]["consent_date"], "2021-04-01T10:00:00Z");
        assert_eq!(rows[0]["consent_date_column"], column, "{first} first");
    }
}

/// Names are the first ones that are there: a name of white space only is none, so a repeated
/// address takes the name of a later row, and a contact with only a blank name has none (an
/// empty cell, not `""`). Whichever reader reads the file (a ragged row at its end sends it to
/// the record-level pass).
#[test]
fn a_blank_name_gives_way_to_a_later_one() {
    let rows = [
        good("ann@example.com", &[("first name", "\"  \"")]),
        good("ann@example.com", &[("first name", "Ann")]),
        good("bob@example.com", &[("first name", " ")]),
    ];
    crate::rules::by_both_readers(&rows, |case| {
        let keep = case.read("out/keep.csv");
        assert!(keep.contains("\nann@example.com,Ann,,"), "{keep}");
        assert!(keep.contains("\nbob@example.com,,,"), "{keep}");
    });
}
