//! The shipped sample-data: every outcome and reason code of the audit occurs, and like a real
//! list fewer than half of its contacts are deleted.

use crate::harness::Case;

#[test]
fn sample_data_shows_every_outcome_and_reason() {
    let case = Case::new();
    let root = env!("CARGO_MANIFEST_DIR");
    let sample = format!("{root}/sample-data");
    let activity = format!("{root}/sample-activity/mailchimp-activity.csv");
    let run = case.audit(&[&sample], &["--activity", &activity]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report = case.report();
    let counts = &report["counts"];
    for outcome in ["keep", "repermission", "no-marketing", "delete"] {
        assert!(
            counts["outcomes"][outcome].as_u64().unwrap() > 0,
            "{outcome}"
        );
    }
    for reason in [
        "invalid-email",
        "withdrawn",
        "bounced",
        "unconfirmed",
        "pending",
        "disabled",
        "unknown-status",
        "inactive",
        "no-marketing-consent",
        "no-consent-proof",
        "pre-gdpr",
        "incomplete-proof",
        "nearing-inactivity",
    ] {
        assert!(counts["reasons"][reason].as_u64().unwrap() > 0, "{reason}");
    }
    let contacts = counts["contacts"].as_u64().unwrap();
    assert!((200..=600).contains(&contacts), "{contacts}");
    assert!(counts["outcomes"]["delete"].as_u64().unwrap() * 2 < contacts);
    assert!(counts["import_artifacts"].as_u64().unwrap() >= 20);
    assert!(counts["duplicates"].as_u64().unwrap() > 0);
    assert!(counts["rejects"].as_u64().unwrap() > 0);
    assert_eq!(report["inputs"].as_array().unwrap().len(), 6);

    // The README's command, without the activity export, works and says what is missing.
    let case = Case::new();
    let run = case.audit(&[&sample], &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        case.report()["inactivity"]["not_assessable"]
            .as_u64()
            .unwrap()
            > 0
    );
}
