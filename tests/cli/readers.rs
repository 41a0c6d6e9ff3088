//! The two ways a file is read give the same audit: a clean file's cells are read straight
//! into typed columns (`normalize::read`), any other file record by record into text columns
//! that are normalised after (`normalize::rows`). A clean file and the same file with one
//! ragged row added at its end (which makes it take the record-level pass, and is rejected)
//! must give byte-identical lists and the same report, but for that row.

use proptest::prelude::*;

use crate::harness::Case;

const HEADER: &str = "email,first_name,last_name,status,optin_at,optin_ip,confirm_at,confirm_ip,source,consent_text,marketing_consent,double_opt_in,created_at,last_open_at,last_click_at,last_order_at,unsubscribed_at,country,notes";

/// Dates in every form the parser reads, and some it does not: day-month values of both
/// orders (a value above 12 in either place decides a column, and may come in a later batch),
/// zones, epochs, Go's form, a formula guard, blanks.
const DATES: &[&str] = &[
    "",
    "",
    "2015-03-01 10:00:00",
    "2019-06-01T10:00:00Z",
    "2024-12-15",
    "03/04/2019",
    "13/04/2019 09:30",
    "04/13/19 2:30pm",
    "05-06-2017",
    "1552000000",
    "1552000000123",
    "2019-06-01 10:00:00.123456 +0000 UTC",
    "2017-03-04 10:20:30 +0100 CET",
    "2026-11-20 10:00:00",
    "'2018-01-01",
    " 2018-05-24 23:59:59 ",
    "not a date",
    "  ",
    "2019-02-30",
];

fn pick(values: &'static [&'static str]) -> impl Strategy<Value = String> + Clone {
    prop::sample::select(values).prop_map(str::to_string)
}

/// A row's cells, in [`HEADER`]'s order, as written (unquoted).
fn row() -> impl Strategy<Value = Vec<String>> {
    let email = pick(&[
        "ann@example.com",
        " Ann@Example.COM ",
        "bob@example.nl",
        "'cee@example.nl",
        "<dee@example.nl>",
        "eve@example",
        "no-at-sign",
        "zoë@voorbeeld.nl",
        "a,b@example.nl",
        "fay@deletion-request.substack.com",
        "a-much-longer-address-than-twelve@example.org",
        "",
        "   ",
    ]);
    let name = pick(&[
        "Ann",
        "",
        " ",
        "Doe, Jane",
        "=cmd()",
        "say \"hi\"",
        "Zoë",
        "a name longer than twelve",
        "line\nbreak",
    ]);
    let status = pick(&[
        "subscribed",
        "subscribed",
        "Unsubscribed",
        " pending ",
        "cleaned",
        "transactional",
        "weird",
        "",
        "uitgeschreven",
        "UN-SUBSCRIBED",
        "  ",
        "disabled",
    ]);
    let ip = pick(&["", "192.0.2.1", " "]);
    let source = pick(&[
        "",
        "website",
        "import",
        "Bought list",
        "n/a",
        "checkout",
        "  ",
    ]);
    let yes_no = pick(&["", "yes", "no", "Ja", "maybe", "1", "0", "TRUE"]);
    let date = pick(DATES);
    (
        (email, name.clone(), name.clone(), status, date.clone()),
        (ip.clone(), date.clone(), ip, source, pick(&["", "form v2"])),
        (
            yes_no.clone(),
            yes_no,
            date.clone(),
            date.clone(),
            date.clone(),
        ),
        (date.clone(), date, pick(&["", "NL", "de"]), name),
    )
        .prop_map(|(a, b, c, d)| {
            vec![
                a.0, a.1, a.2, a.3, a.4, b.0, b.1, b.2, b.3, b.4, c.0, c.1, c.2, c.3, c.4, d.0,
                d.1, d.2, d.3,
            ]
        })
}

/// A cell as written: quoted when it must be, or when `quote` says so.
fn written(value: &str, quote: bool) -> String {
    if quote || value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_string()
    }
}

/// Every output but rejects.csv, and the report without what the ragged row changes.
fn outputs(case: &Case) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let lists = listaudit::outputs::OUTPUT_FILES
        .iter()
        .filter(|file| file.ends_with(".csv") && **file != "rejects.csv");
    for file in lists {
        found.push((file.to_string(), case.read(&format!("out/{file}"))));
    }
    let mut report = case.report();
    for key in ["run", "inputs", "outputs"] {
        report[key] = serde_json::Value::Null;
    }
    for key in ["rows", "rejects"] {
        report["counts"][key] = serde_json::Value::Null;
    }
    found.push(("report.json".to_string(), report.to_string()));
    found
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, .. ProptestConfig::default() })]

    #[test]
    fn a_clean_file_reads_as_the_record_level_pass_reads_it(
        rows in prop::collection::vec((row(), prop::collection::vec(any::<bool>(), 19)), 1..40),
        crlf in any::<bool>(),
        batch_bytes in prop::sample::select(vec!["150", "700", "67108864"]),
    ) {
        let end = if crlf { "\r\n" } else { "\n" };
        let mut text = format!("{HEADER}{end}");
        for (cells, quoted) in &rows {
            let cells: Vec<String> = cells.iter().zip(quoted).map(|(c, q)| written(c, *q)).collect();
            text.push_str(&cells.join(","));
            text.push_str(end);
        }
        let env = [("LISTAUDIT_BATCH_BYTES", batch_bytes)];
        // The ragged row must not stop a short list (more than 5% of its rows rejected).
        let policy = ["--policy", "policy.toml"];
        let clean = Case::new();
        clean.write("list.csv", &text);
        clean.write("policy.toml", "max_reject_pct = 100\n");
        let run = clean.audit_env(&["list.csv"], &policy, &env);
        prop_assert_eq!(run.code, 0, "{}", run.stderr);

        let ragged = Case::new();
        ragged.write("list.csv", format!("{text}ragged@example.nl,too,few{end}"));
        ragged.write("policy.toml", "max_reject_pct = 100\n");
        let run = ragged.audit_env(&["list.csv"], &policy, &env);
        prop_assert_eq!(run.code, 0, "{}", run.stderr);
        prop_assert!(ragged.read("out/rejects.csv").contains("ragged@example.nl"));

        for ((file, read), (_, by_records)) in outputs(&clean).iter().zip(outputs(&ragged)) {
            prop_assert_eq!(read, &by_records, "{}", file);
        }
    }
}

proptest! {
    /// The first two numbers of a day-month value are those the survey's pattern finds,
    /// Unicode digits and spaces included; half the values are shaped like dates, with one to
    /// three digits before the first separator.
    #[test]
    fn day_month_numbers_are_the_patterns(value in prop_oneof![
        "[ \t\u{a0}']{0,2}[0-9\u{663}]{0,3}[-/.x]?[0-9\u{663}]{0,3}[-/.]?[0-9]{0,5}[ a-z]{0,2}",
        "[ ']?[0-9]{1,4}[-/.][0-9]{1,3}[-/.][0-9]{1,5}[ T:0-9]{0,3}",
    ]) {
        let pattern = regex::Regex::new(listaudit::normalize::DAY_MONTH).unwrap();
        let expected = pattern.captures(&value).map_or((None, None), |c| {
            let n = |g: usize| c.get(g).and_then(|m| m.as_str().parse::<i32>().ok());
            (n(1), n(2))
        });
        prop_assert_eq!(listaudit::normalize::day_month(&value), expected);
    }
}

/// A clean file's names are coded as they are read, but a name the user declared fills the
/// blanks of its column as text first (`--assume`): both readers give the declared name to
/// the contacts without one, and their own to the others.
#[test]
fn a_declared_name_fills_the_blanks_of_a_clean_file() {
    let list = "email,first_name,last_name,status,optin_at,optin_ip\n\
                ann@example.com,Ann,Ames,subscribed,2024-01-01 10:00:00,192.0.2.1\n\
                bob@example.com,,Bell,subscribed,2024-01-01 10:00:00,192.0.2.2\n\
                cee@example.com,Cee,,subscribed,2024-01-01 10:00:00,192.0.2.3\n";
    // The ragged row must not stop a short list (more than 5% of its rows rejected).
    let declared = [
        "--assume",
        "list.csv:first_name=Friend",
        "--policy",
        "policy.toml",
    ];
    for text in [
        list.to_string(),
        format!("{list}ragged@example.nl,too,few\n"),
    ] {
        let case = Case::new();
        case.write("list.csv", &text);
        case.write("policy.toml", "max_reject_pct = 100\n");
        let run = case.audit(&["list.csv"], &declared);
        assert_eq!(run.code, 0, "{}", run.stderr);
        let keep = case.read("out/keep.csv");
        for row in [
            "ann@example.com,Ann,Ames,",
            "bob@example.com,Friend,Bell,",
            "cee@example.com,Cee,,",
        ] {
            assert!(keep.contains(row), "{row} in\n{keep}");
        }
    }
}
