//! Small pieces that have no command of their own yet: exit codes, soft opt-in and the no-proof
//! policy through the library, and the rule tables' shape.

use listaudit::decide::rules::{Outcome, outcome_table, reason_table};
use listaudit::exit::ExitStatus;

#[test]
fn exit_codes_are_those_of_the_spec() {
    assert_eq!(ExitStatus::Success.code(), 0);
    assert_eq!(ExitStatus::Failure.code(), 1);
    assert_eq!(ExitStatus::Usage.code(), 2);
    assert_eq!(ExitStatus::Findings.code(), 3);
    assert_eq!(ExitStatus::Refused.code(), 4);
}

#[test]
fn the_outcome_table_follows_spec_order() {
    let order: Vec<Outcome> = outcome_table().iter().map(|r| r.value).collect();
    assert_eq!(
        order,
        [
            Outcome::Delete,
            Outcome::Keep,
            Outcome::NoMarketing,
            Outcome::Delete,
            Outcome::Repermission,
            Outcome::Keep
        ]
    );
    for row in reason_table() {
        assert!(!row.source.is_empty(), "{} has a source", row.value.name());
    }
}
