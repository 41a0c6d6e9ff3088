//! SPEC §2.3 date forms, through the pure parser the pipeline wraps.

use listaudit::normalize::date::{DateOrder, parse, start_of_day_millis};

const DAY: i64 = 86_400_000;

fn ms(value: &str) -> Option<i64> {
    parse(value, DateOrder::DayFirst).map(|p| p.millis)
}

fn at(y: i32, m: u32, d: u32, h: i64, min: i64, s: i64) -> i64 {
    start_of_day_millis(y, m, d) + ((h * 60 + min) * 60 + s) * 1000
}

#[test]
fn iso_and_naive_forms() {
    let t = at(2018, 8, 27, 15, 6, 27);
    assert_eq!(ms("2018-08-27 15:06:27"), Some(t));
    assert_eq!(ms("2018-08-27T15:06:27"), Some(t));
    assert_eq!(ms("2018-08-27T15:06:27Z"), Some(t));
    assert_eq!(ms("2018-08-27T15:06:27.713Z"), Some(t + 713));
    assert_eq!(ms("2018-08-27T17:06:27+02:00"), Some(t));
    assert_eq!(ms("2018-08-27T11:06:27-0400"), Some(t));
    assert_eq!(ms("2018-08-27 15:06:27 UTC"), Some(t));
    assert_eq!(ms("2018-08-27 15:06:27 +0000"), Some(t));
    assert_eq!(ms("2018-08-27"), Some(start_of_day_millis(2018, 8, 27)));
    assert_eq!(
        ms(" '2018-08-27 15:06:27 "),
        Some(t),
        "formula guard and spaces"
    );
    assert_eq!(ms("2018-08-27 15:06"), Some(t - 27_000));
}

#[test]
fn go_time_strings() {
    let t = at(2017, 3, 4, 10, 20, 30);
    assert_eq!(ms("2017-03-04 10:20:30.123456 +0000 UTC"), Some(t + 123));
    assert_eq!(ms("2017-03-04 11:20:30.5 +0100 CET"), Some(t + 500));
    assert_eq!(ms("2017-03-04 10:20:30 +0000 UTC"), Some(t));
}

#[test]
fn naive_values_are_flagged_and_time_of_day_is_known() {
    let naive = parse("2018-08-27 15:06:27", DateOrder::DayFirst).unwrap();
    assert!(naive.naive && naive.has_time);
    let zoned = parse("2018-08-27T15:06:27Z", DateOrder::DayFirst).unwrap();
    assert!(!zoned.naive);
    let day = parse("2018-08-27", DateOrder::DayFirst).unwrap();
    assert!(!day.has_time);
}

#[test]
fn day_first_month_first_and_two_digit_years() {
    assert_eq!(ms("31-12-2017"), Some(start_of_day_millis(2017, 12, 31)));
    assert_eq!(ms("31/12/2017 09:30"), Some(at(2017, 12, 31, 9, 30, 0)));
    assert_eq!(ms("03.04.2021"), Some(start_of_day_millis(2021, 4, 3)));
    let us = |v: &str| parse(v, DateOrder::MonthFirst).map(|p| p.millis);
    assert_eq!(us("12/31/17 2:30pm"), Some(at(2017, 12, 31, 14, 30, 0)));
    assert_eq!(us("03/04/21 12:05am"), Some(at(2021, 3, 4, 0, 5, 0)));
    assert_eq!(ms("01-02-69"), Some(start_of_day_millis(1969, 2, 1)));
    assert_eq!(ms("01-02-68"), Some(start_of_day_millis(2068, 2, 1)));
}

#[test]
fn epoch_seconds_and_milliseconds() {
    assert_eq!(ms("1535382387"), Some(at(2018, 8, 27, 15, 6, 27)));
    assert_eq!(ms("1535382387713"), Some(at(2018, 8, 27, 15, 6, 27) + 713));
    assert_eq!(ms("20180827"), None, "eight digits are no epoch");
}

#[test]
fn what_cannot_be_read_is_never_guessed() {
    for bad in [
        "",
        "yesterday",
        "2018-02-30",
        "2018-13-01",
        "31-31-2017",
        "2018-08-27 25:00:00",
        "2018-08-27 15:06:27 CET",
        "2018-08-27T15:06:27+25:00",
        "2018-08-27 15:06:27 +0000 UTC trailing",
        "2018-08-27T",
    ] {
        assert_eq!(ms(bad), None, "{bad:?}");
    }
    assert_eq!(ms("2024-02-29"), Some(start_of_day_millis(2024, 2, 29)));
    assert_eq!(ms("1970-01-01"), Some(0));
    assert_eq!(ms("1969-12-31"), Some(-DAY));
}

#[test]
fn unparseable_values_are_counted_per_column_in_the_report() {
    let case = crate::harness::Case::new();
    case.write(
        "list.csv",
        "email,ip,signup date,last open\na@example.com,192.0.2.1,2021-01-01 10:00:00,soon\nb@example.com,192.0.2.1,garbage,2026-10-01T10:00:00Z\n",
    );
    assert_eq!(case.audit(&["list.csv"], &[]).code, 0);
    let report = case.report();
    let dates = report["dates"].as_array().unwrap();
    let signup = dates.iter().find(|d| d["column"] == "signup date").unwrap();
    assert_eq!(signup["values"], 2);
    assert_eq!(signup["unparseable"], 1);
    assert_eq!(signup["naive_read_as_utc"], 1);
    let open = dates.iter().find(|d| d["column"] == "last open").unwrap();
    assert_eq!(open["unparseable"], 1);
    assert_eq!(open["naive_read_as_utc"], 0);
    // A value that cannot be read is missing: b has no consent date now.
    assert_eq!(case.audit_rows()["b@example.com"]["evidence"], "none");
}

/// The days of a date are chrono's, through the table of years and past it, and a date that
/// does not exist is none: every day of 1900-2100, and the ends of February and of the year of
/// every year from -500 to 10 500.
#[test]
fn a_date_is_the_day_chrono_counts_or_none() {
    use chrono::NaiveDate;
    use listaudit::normalize::date::civil_day;
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap();
    let check = |y: i32, m: u32, d: u32| {
        let expected = NaiveDate::from_ymd_opt(y, m, d).map(|date| (date - epoch).num_days());
        assert_eq!(civil_day(i64::from(y), m, d), expected, "{y}-{m}-{d}");
    };
    for y in 1900..=2100 {
        for m in 0..=13 {
            for d in 0..=32 {
                check(y, m, d);
            }
        }
    }
    for y in -500..=10_500 {
        for (m, d) in [
            (1, 1),
            (2, 28),
            (2, 29),
            (2, 30),
            (3, 1),
            (12, 31),
            (12, 32),
        ] {
            check(y, m, d);
        }
    }
}
