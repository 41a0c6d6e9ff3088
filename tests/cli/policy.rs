//! Issue: presets and policy files. One test per preset difference (the same contact decided
//! differently under two presets), every policy key's effect, and every policy error.

use crate::harness::{Case, export};
use crate::rules::{HEADER, good, line};

fn decide_under(lines: &[String], extra: &[&str]) -> Case {
    let case = Case::new();
    let rows: Vec<&str> = lines.iter().map(String::as_str).collect();
    case.write("list.csv", export(HEADER, &rows));
    let run = case.audit(&["list.csv"], extra);
    assert_eq!(run.code, 0, "{}", run.stderr);
    case
}

fn outcome(lines: &[String], extra: &[&str], email: &str) -> (String, String) {
    decide_under(lines, extra).decision(email)
}

#[test]
fn fr_does_not_count_opens() {
    // Last open two months ago, last click 40 months ago.
    let c = [good(
        "x@example.com",
        &[
            ("last_open_at", "2026-10-01"),
            ("last_click_at", "2023-08-01"),
        ],
    )];
    assert_eq!(outcome(&c, &[], "x@example.com").0, "keep");
    assert_eq!(outcome(&c, &["--preset", "nl"], "x@example.com").0, "keep");
    assert_eq!(
        outcome(&c, &["--preset", "fr"], "x@example.com"),
        ("delete".into(), "inactive".into())
    );
}

#[test]
fn fr_allows_three_years() {
    // Last click 30 months ago: past two years, within three.
    let c = [good(
        "x@example.com",
        &[
            ("last_open_at", ""),
            ("last_click_at", "2024-06-01"),
            ("optin_at", "2024-01-01 10:00:00"),
        ],
    )];
    assert_eq!(
        outcome(&c, &["--preset", "nl"], "x@example.com").0,
        "delete"
    );
    assert_eq!(outcome(&c, &["--preset", "fr"], "x@example.com").0, "keep");
}

#[test]
fn de_requires_double_opt_in_for_full_proof() {
    let c = [
        good("ip@example.com", &[]),
        good(
            "doi@example.com",
            &[
                ("confirm_at", "2021-04-01 10:30:00"),
                ("confirm_ip", "192.0.2.2"),
            ],
        ),
    ];
    let nl = decide_under(&c, &[]);
    let de = decide_under(&c, &["--preset", "de"]);
    assert_eq!(
        nl.decision("ip@example.com"),
        ("keep".into(), String::new())
    );
    assert_eq!(
        de.decision("ip@example.com"),
        ("repermission".into(), "incomplete-proof".into())
    );
    assert_eq!(nl.decision("doi@example.com").0, "keep");
    assert_eq!(de.decision("doi@example.com").0, "keep");
}

#[test]
fn de_and_fr_know_their_own_source_words() {
    let c = [
        good("gekauft@example.com", &[("source", "Adressen gekauft")]),
        good(
            "concours@example.com",
            &[
                ("source", "jeu concours été"),
                ("last_click_at", "2026-10-01"),
            ],
        ),
    ];
    let nl = decide_under(&c, &[]);
    let de = decide_under(&c, &["--preset", "de"]);
    let fr = decide_under(&c, &["--preset", "fr"]);
    assert_eq!(nl.decision("gekauft@example.com").0, "keep");
    assert_eq!(
        de.decision("gekauft@example.com"),
        ("delete".into(), "no-consent-proof".into())
    );
    assert_eq!(nl.decision("concours@example.com").0, "keep");
    assert_eq!(
        fr.decision("concours@example.com"),
        ("no-marketing".into(), "no-marketing-consent".into())
    );
}

#[test]
fn policy_prints_every_value_and_round_trips() {
    let case = Case::new();
    for preset in ["nl", "eu", "de", "fr", "uk"] {
        let run = case.run(&["policy", "--preset", preset]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        for key in [
            "inactive_days",
            "opens_count",
            "gdpr_cutoff",
            "pending_max_days",
            "repermission_grace_days",
            "reengage_days",
            "import_artifact_min",
            "require_double_opt_in",
            "no_proof",
            "soft_opt_in",
            "inactivity_without_data",
            "date_order",
            "max_reject_pct",
            "bought_sources",
            "import_sources",
            "purchase_sources",
        ] {
            assert!(
                run.stdout.contains(&format!("\n{key} = ")),
                "{preset}: {key}"
            );
        }
        assert!(run.stdout.contains(&format!("preset = \"{preset}\"")));
        case.write(&format!("{preset}.toml"), &run.stdout);
        let again = case.run(&["policy", "--policy", &format!("{preset}.toml")]);
        assert_eq!(again.code, 0, "{}", again.stderr);
        let values = |text: &str| {
            text.lines()
                .filter(|l| !l.starts_with('#'))
                .map(str::to_string)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            values(&again.stdout),
            values(&run.stdout),
            "{preset} round-trips"
        );
    }
    let de = case.run(&["policy", "--preset", "de"]).stdout;
    assert!(de.contains("require_double_opt_in = true"));
    assert!(
        de.contains("BGH"),
        "each value carries its reason and source"
    );
    let fr = case.run(&["policy", "--preset", "fr"]).stdout;
    assert!(fr.contains("inactive_days = 1095") && fr.contains("opens_count = false"));

    // The saved file decides exactly as the preset does.
    let c = [good("ip@example.com", &[])];
    let by_file = decide_under(
        &c,
        &["--policy", &case.path("de.toml").display().to_string()],
    );
    assert_eq!(by_file.decision("ip@example.com").0, "repermission");
    let report = by_file.report();
    assert_eq!(report["policy"]["policy"]["preset"], "de");
    assert_eq!(report["policy"]["policy"]["require_double_opt_in"], true);
    assert_eq!(report["policy"]["origins"][0][1]["from"], "file");
}

#[test]
fn a_policy_file_overrides_any_value() {
    let case = Case::new();
    case.write(
        "p.toml",
        "# keep only one year\ninactive_days = 365\nreengage_days = 30\n",
    );
    let c = [good("x@example.com", &[("last_open_at", "2025-06-01")])];
    assert_eq!(outcome(&c, &[], "x@example.com").0, "keep");
    let overridden = decide_under(
        &c,
        &["--policy", &case.path("p.toml").display().to_string()],
    );
    assert_eq!(overridden.decision("x@example.com").0, "delete");
    let report = overridden.report();
    assert_eq!(report["policy"]["policy"]["inactive_days"], 365);
    let origin = report["policy"]["origins"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o[0] == "inactive_days")
        .unwrap()
        .clone();
    assert_eq!(origin[1]["line"], 2);
}

fn with_policy(toml: &str, lines: &[String]) -> Case {
    let case = Case::new();
    case.write("p.toml", toml);
    let rows: Vec<&str> = lines.iter().map(String::as_str).collect();
    case.write("list.csv", export(HEADER, &rows));
    let run = case.audit(&["list.csv"], &["--policy", "p.toml"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    case
}

#[test]
fn soft_opt_in_keeps_customers_who_were_offered_an_opt_out() {
    let customer = [good(
        "buyer@example.com",
        &[("source", "checkout"), ("last_order_at", "2026-09-01")],
    )];
    assert_eq!(
        outcome(&customer, &[], "buyer@example.com").0,
        "no-marketing"
    );
    let case = with_policy("soft_opt_in = true\n", &customer);
    assert_eq!(
        case.decision("buyer@example.com"),
        ("keep".into(), "no-marketing-consent;soft-opt-in".into())
    );
    // Not for someone who said no.
    let no = [good(
        "no@example.com",
        &[
            ("source", "checkout"),
            ("marketing_consent", "no"),
            ("last_order_at", "2026-09-01"),
        ],
    )];
    assert_eq!(
        with_policy("soft_opt_in = true\n", &no)
            .decision("no@example.com")
            .0,
        "no-marketing"
    );
    let explained = Case::new();
    explained.write("p.toml", "soft_opt_in = true\n");
    let text = explained
        .run(&["policy", "--policy", "p.toml", "--explain", "--lang", "en"])
        .stdout;
    assert!(
        text.contains("we state that they were offered an opt-out"),
        "{text}"
    );
}

#[test]
fn no_proof_repermission_asks_again_except_bought_lists() {
    let c = [
        line(&[
            ("email", "who@example.com"),
            ("status", "subscribed"),
            ("last_open_at", "2026-10-01"),
        ]),
        line(&[
            ("email", "bought@example.com"),
            ("status", "subscribed"),
            ("source", "bought"),
            ("optin_at", "2020-01-01"),
            ("last_open_at", "2026-10-01"),
        ]),
    ];
    let case = with_policy("no_proof = \"repermission\"\n", &c);
    assert_eq!(
        case.decision("who@example.com"),
        ("repermission".into(), "no-consent-proof".into())
    );
    assert_eq!(case.decision("bought@example.com").0, "delete");
}

#[test]
fn inactivity_without_data_can_be_measured_from_consent() {
    let case = Case::new();
    case.write(
        "list.csv",
        "email,status,signup date,ip\nq@example.com,subscribed,2020-01-01 10:00:00,192.0.2.1\n",
    );
    case.write("p.toml", "inactivity_without_data = \"consent-date\"\n");
    assert_eq!(case.audit(&["list.csv"], &[]).code, 0);
    assert_eq!(case.decision("q@example.com").0, "keep");
    assert_eq!(
        case.audit(&["list.csv"], &["--force", "--policy", "p.toml"])
            .code,
        0
    );
    assert_eq!(
        case.decision("q@example.com"),
        ("delete".into(), "inactive".into())
    );
    // Without an IP the consent is no engagement of the person's own, and no last activity is
    // known: the consent date still measures the inactivity.
    case.write(
        "list.csv",
        "email,status,signup date\nq@example.com,subscribed,2020-01-01 10:00:00\n",
    );
    assert_eq!(
        case.audit(&["list.csv"], &["--force", "--policy", "p.toml"])
            .code,
        0
    );
    assert_eq!(case.audit_rows()["q@example.com"]["last_activity"], "");
    assert_eq!(case.decision("q@example.com").0, "delete");
    assert!(case.decision("q@example.com").1.contains("inactive"));
}

#[test]
fn the_other_numbers_and_choices_take_effect() {
    let c = [
        line(&[
            ("email", "p@example.com"),
            ("status", "pending"),
            ("optin_at", "2026-11-15 10:00:00"),
        ]),
        good("old@example.com", &[("optin_at", "2019-01-01 10:00:00")]),
        good("soon@example.com", &[("last_open_at", "2025-03-01")]),
        good("us@example.com", &[("optin_at", "03/04/2021")]),
    ];
    let toml = "pending_max_days = 7\ngdpr_cutoff = 2019-06-01\nreengage_days = 120\ndate_order = \"month-first\"\n";
    let case = with_policy(toml, &c);
    assert_eq!(case.decision("p@example.com").0, "delete");
    assert_eq!(
        case.decision("old@example.com"),
        ("repermission".into(), "pre-gdpr".into())
    );
    assert_eq!(case.decision("soon@example.com").1, "nearing-inactivity");
    assert_eq!(
        case.audit_rows()["us@example.com"]["consent_date"],
        "2021-03-04T00:00:00Z"
    );
    let opens = [good(
        "opens@example.com",
        &[
            ("last_open_at", "2026-10-01"),
            ("last_click_at", "2020-01-01"),
        ],
    )];
    assert_eq!(
        with_policy("opens_count = true\n", &opens)
            .decision("opens@example.com")
            .0,
        "keep"
    );
    assert_eq!(
        with_policy("opens_count = false\n", &opens)
            .decision("opens@example.com")
            .0,
        "delete"
    );
    // A stricter artefact threshold and a looser reject limit.
    let bulk: Vec<String> = (0..5)
        .map(|i| {
            good(
                &format!("b{i}@example.com"),
                &[("optin_ip", ""), ("optin_at", "2021-03-15 09:00:00")],
            )
        })
        .collect();
    let case = with_policy("import_artifact_min = 5\n", &bulk);
    assert_eq!(case.decision("b0@example.com").0, "repermission");
    let case = Case::new();
    case.write("p.toml", "max_reject_pct = 60\n");
    case.write(
        "list.csv",
        "email,ip\na@example.com,192.0.2.1\nb@example.com\n",
    );
    assert_eq!(case.audit(&["list.csv"], &[]).code, 1);
    assert_eq!(case.audit(&["list.csv"], &["--policy", "p.toml"]).code, 0);
    // Source regexes replace the preset's words.
    let case = with_policy(
        "bought_sources = \"lijstenmakelaar\"\n",
        &[good(
            "b@example.com",
            &[("source", "De Lijstenmakelaar BV")],
        )],
    );
    assert_eq!(case.decision("b@example.com").0, "delete");
    let case = with_policy(
        "import_sources = \"csv upload\"\n",
        &[good("i@example.com", &[("source", "CSV upload")])],
    );
    assert_eq!(case.decision("i@example.com").0, "repermission");
    let case = with_policy(
        "purchase_sources = \"kassabon\"\n",
        &[good("k@example.com", &[("source", "kassabon actie")])],
    );
    assert_eq!(case.decision("k@example.com").0, "no-marketing");
    let case = with_policy(
        "require_double_opt_in = true\nrepermission_grace_days = 14\n",
        &[good("r@example.com", &[])],
    );
    assert_eq!(case.decision("r@example.com").0, "repermission");
    assert_eq!(
        case.report()["policy"]["policy"]["repermission_grace_days"],
        14
    );
}

fn policy_error(toml: &str) -> String {
    let case = Case::new();
    case.write("p.toml", toml);
    let run = case.run(&["policy", "--policy", "p.toml"]);
    assert_eq!(run.code, 2, "{toml}: {}", run.stderr);
    // The audit refuses the same file with the same message, before reading anything.
    case.write("list.csv", export(HEADER, &[&good("a@example.com", &[])]));
    let audit = case.run(&["audit", "list.csv", "--out", "out", "--policy", "p.toml"]);
    assert_eq!(audit.code, 2);
    assert_eq!(audit.stderr, run.stderr);
    assert!(!case.exists("out"));
    run.stderr
}

#[test]
fn policy_errors_name_the_key_and_its_line() {
    let e = policy_error("inactive_days = 730\n\nsent_days = 3\n");
    assert!(e.contains("p.toml:3: unknown key `sent_days`"), "{e}");
    assert!(e.contains("hint: the keys are: inactive_days"), "{e}");
    let e = policy_error("# comment\npending_max_days = -1\n");
    assert!(
        e.contains("p.toml:2: pending_max_days = -1: a number of days cannot be negative"),
        "{e}"
    );
    let e = policy_error("purchase_sources = \"order|(shop\"\n");
    assert!(
        e.contains("p.toml:1: purchase_sources is not a valid regular expression"),
        "{e}"
    );
    let e = policy_error("gdpr_cutoff = 2018-02-30\n");
    assert!(e.contains("p.toml:1: gdpr_cutoff: invalid date"), "{e}");
    let e = policy_error("gdpr_cutoff = \"2018-13-01\"\n");
    assert!(
        e.contains("p.toml:1: gdpr_cutoff = 2018-13-01 is not a date"),
        "{e}"
    );
    let e = policy_error("no_proof = \"keep\"\n");
    assert!(
        e.contains("p.toml:1: no_proof = \"keep\" is not one of: delete, repermission"),
        "{e}"
    );
    let e = policy_error("max_reject_pct = 150\n");
    assert!(
        e.contains("p.toml:1: max_reject_pct = 150: not a percentage"),
        "{e}"
    );
    let e = policy_error("inactive_days = 30\n");
    assert!(
        e.contains("reengage_days = 60 is longer than inactive_days = 30"),
        "{e}"
    );
    let e = policy_error("opens_count = \"yes\"\n");
    assert!(e.contains("p.toml:1: opens_count"), "{e}");
    let e = policy_error("preset = \"es\"\n");
    assert!(e.contains("p.toml:1: unknown preset `es`"), "{e}");
    let e = policy_error("inactive_days = \n");
    assert!(e.contains("p.toml:1:"), "{e}");
    let case = Case::new();
    let run = case.run(&["policy", "--policy", "missing.toml"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("cannot read the policy file missing.toml"),
        "{}",
        run.stderr
    );
    let run = case.run(&["policy", "--preset", "es"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("unknown preset `es`"), "{}", run.stderr);
}

#[test]
fn explain_speaks_english_and_dutch() {
    let case = Case::new();
    let en = case.run(&["policy", "--explain", "--lang", "en"]);
    assert_eq!(en.code, 0);
    assert!(en.stdout.contains("730 days (2 years)"), "{}", en.stdout);
    assert!(en.stdout.contains("not legal advice"));
    let nl = case.run(&["policy", "--preset", "fr", "--explain", "--lang", "nl"]);
    assert!(nl.stdout.contains("1095 dagen (3 jaar)"), "{}", nl.stdout);
    assert!(nl.stdout.contains("openen telt niet mee"));
    assert!(nl.stdout.contains("geen juridisch advies"));
    assert_eq!(case.run(&["policy", "--explain", "--lang", "de"]).code, 2);
}

#[test]
fn preset_by_country_judges_each_contact_by_its_country() {
    let case = Case::new();
    let header = "email,country,status,signup date,ip,source,last open,last click";
    case.write(
        "list.csv",
        export(
            header,
            &[
                "nl@example.com,NL,subscribed,2021-01-01 10:00:00,192.0.2.1,form,2026-10-01,2023-08-01",
                "fr@example.com,FR,subscribed,2021-01-01 10:00:00,192.0.2.1,form,2026-10-01,2023-08-01",
                "de@example.com,de,subscribed,2021-01-01 10:00:00,192.0.2.1,form,2026-10-01,2023-08-01",
                "us@example.com,US,subscribed,2021-01-01 10:00:00,192.0.2.1,form,2026-10-01,2023-08-01",
                "none@example.com,,subscribed,2021-01-01 10:00:00,192.0.2.1,form,2026-10-01,2023-08-01",
                "NL@example.com,NL,subscribed,2021-01-01 10:00:00,192.0.2.1,form,2026-10-01,2023-08-01",
                "DE@example.com,de,subscribed,2021-01-01 10:00:00,192.0.2.1,form,2026-10-01,2023-08-01",
            ],
        ),
    );
    let run = case.audit(&["list.csv"], &["--preset-by-country"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let rows = case.audit_rows();
    assert_eq!(rows["nl@example.com"]["outcome"], "keep");
    assert_eq!(rows["fr@example.com"]["outcome"], "delete");
    assert_eq!(rows["de@example.com"]["outcome"], "repermission");
    assert_eq!(rows["us@example.com"]["outcome"], "keep");
    assert_eq!(rows["fr@example.com"]["preset"], "fr");
    assert_eq!(rows["us@example.com"]["preset"], "nl");
    // A repeated key in each of two presets keeps its own rows.
    assert_eq!(rows["nl@example.com"]["sources"], "list.csv:2;list.csv:7");
    assert_eq!(rows["de@example.com"]["sources"], "list.csv:4;list.csv:8");
    // Input order is kept.
    let order: Vec<String> = case
        .csv("out/audit.csv")
        .iter()
        .map(|r| r["email"].clone())
        .collect();
    assert_eq!(order[0], "nl@example.com");
    assert_eq!(order[4], "none@example.com");
    assert_eq!(case.report()["presets_by_country"]["fr"], 1);
    // --preset sets the fallback for countries without one.
    assert_eq!(
        case.audit(
            &["list.csv"],
            &["--preset-by-country", "--preset", "fr", "--force"]
        )
        .code,
        0
    );
    assert_eq!(case.audit_rows()["us@example.com"]["outcome"], "delete");
}
