//! Every mailing service's export, read right: a fixture per service in its real layout (from
//! ESP-FORMATS.md), the real files in ../shared/formats, encodings as bytes, ZIP and stdin,
//! detection, and `inspect`.

use std::io::Write;

use crate::harness::{Case, formats_dir};

/// Audits one fixture and returns the case.
fn audit_file(name: &str, bytes: impl AsRef<[u8]>, extra: &[&str]) -> Case {
    let case = Case::new();
    case.write(name, bytes);
    let run = case.audit(&[name], extra);
    assert_eq!(run.code, 0, "{}", run.stderr);
    case
}

fn service(case: &Case) -> String {
    case.report()["inputs"][0]["service"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn substack_real_files_honour_the_inverted_email_disabled() {
    let case = Case::new();
    let dir = formats_dir();
    let signup = dir.join("substack__TryGhost__migrate__fixtures_signup_emails.csv");
    let paid = dir.join("substack__TryGhost__migrate__fixtures_subscriber_emails.csv");
    let run = case.audit(
        &[&signup.display().to_string(), &paid.display().to_string()],
        &[],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report = case.report();
    assert_eq!(report["inputs"][0]["service"], "substack");
    assert_eq!(report["inputs"][1]["service"], "substack");
    let rows = case.audit_rows();
    assert_eq!(rows.len(), 21);
    // email_disabled = true is a withdrawal.
    assert_eq!(rows["maguirec086@comm.ca"]["outcome"], "delete");
    assert_eq!(
        rows["maguirec086@comm.ca"]["reasons"],
        "withdrawn;incomplete-proof"
    );
    assert_eq!(rows["nottimferris@gmail.com"]["status"], "unsubscribed");
    // Only a creation date: partial proof, asked again.
    assert_eq!(rows["herroooo@substack.com"]["outcome"], "repermission");
    assert_eq!(rows["herroooo@substack.com"]["reasons"], "incomplete-proof");
    assert_eq!(
        rows["herroooo@substack.com"]["consent_date"],
        "2018-08-27T15:06:27Z"
    );
    assert_eq!(
        rows["herroooo@substack.com"]["consent_date_column"],
        "created_at"
    );
    assert_eq!(
        rows["herroooo@substack.com"]["sources"]
            .matches(';')
            .count(),
        1
    );
    // The first spelling is kept; non-ASCII local parts are valid.
    assert!(rows.contains_key("Bob.Something@advisers.co.uk"));
    assert_eq!(rows["ömil@gmail.com"]["outcome"], "repermission");
    assert_eq!(rows["kirstygouda@gmail.com"]["outcome"], "repermission");
    assert_eq!(report["counts"]["outcomes"]["delete"], 2);
    assert_eq!(report["counts"]["outcomes"]["repermission"], 19);
}

#[test]
fn substack_deletion_requests_are_withdrawals() {
    let case = audit_file(
        "substack.csv",
        "email,active_subscription,expiry,email_disabled,created_at\n\
         x7f3@deletion-request.substack.com,,,false,2020-01-01T10:00:00.000Z\n\
         kept@example.com,,,false,2020-01-01T10:00:00.000Z\n",
        &[],
    );
    assert_eq!(service(&case), "substack");
    assert_eq!(
        case.decision("x7f3@deletion-request.substack.com"),
        ("delete".into(), "withdrawn;incomplete-proof".into())
    );
}

#[test]
fn ghost_members_export() {
    let text = "id,email,name,note,subscribed_to_emails,complimentary_plan,stripe_customer_id,created_at,deleted_at,labels,tiers\r\n\
                6123,ann@example.com,Ann Member,Early supporter,true,false,,2021-05-05T12:00:00.000Z,,\"vip,beta\",Free\r\n\
                6124,out@example.com,Out,,false,false,cus_1,2021-05-05T12:00:00.000Z,,,Free\r\n";
    let case = audit_file("members.csv", text, &[]);
    assert_eq!(service(&case), "ghost");
    assert_eq!(
        case.decision("ann@example.com"),
        ("repermission".into(), "incomplete-proof".into())
    );
    assert_eq!(
        case.decision("out@example.com"),
        ("delete".into(), "withdrawn;incomplete-proof".into())
    );
    assert_eq!(
        case.csv("out/repermission.csv")[0]["first_name"],
        "Ann Member"
    );
}

#[test]
fn beehiiv_subscribers_export() {
    let text = "email,First Name,Last Name,status,tier,created_at,stripe_customer_id,Free Tier,Premium Tier,unsubscribed_at,Subscription Date (Substack)\n\
                a@example.com,A,B,active,free,2023-03-24 10:23:10 UTC,,Yes,No,,\n\
                b@example.com,B,C,inactive,free,2023-03-24 10:23:10 UTC,,Yes,No,2024-01-01 10:00:00 UTC,\n\
                c@example.com,C,D,pending,free,2026-11-25 10:23:10 UTC,,Yes,No,,\n\
                d@example.com,D,E,active,premium,2023-03-24 10:23:10 UTC,cus_9,No,Yes,,2017-01-05 08:00:00 UTC\n";
    let case = audit_file("beehiiv.csv", text, &[]);
    assert_eq!(service(&case), "beehiiv");
    assert_eq!(
        case.decision("a@example.com"),
        ("repermission".into(), "incomplete-proof".into())
    );
    assert_eq!(
        case.decision("b@example.com"),
        ("delete".into(), "withdrawn;incomplete-proof".into())
    );
    assert_eq!(case.decision("c@example.com").0, "no-marketing");
    // The imported Substack sign-up date keeps the real age of the consent.
    assert_eq!(
        case.decision("d@example.com"),
        ("repermission".into(), "pre-gdpr;incomplete-proof".into())
    );
}

#[test]
fn listmonk_export_with_go_times_and_json_attributes() {
    let text = "uuid,email,name,attributes,status,created_at,updated_at\n\
                5c6b7d1e-0000-4000-8000-000000000001,on@example.com,On,\"{\"\"city\"\": \"\"Bengaluru\"\"}\",enabled,2021-03-04 10:20:30.123456 +0000 UTC,2026-01-01 10:00:00 +0000 UTC\n\
                5c6b7d1e-0000-4000-8000-000000000002,block@example.com,Block,{},blocklisted,2021-03-04 10:20:30.5 +0100 CET,2026-01-01 10:00:00 +0000 UTC\n\
                5c6b7d1e-0000-4000-8000-000000000003,off@example.com,Off,{},disabled,2016-03-04 10:20:30 +0000 UTC,2026-01-01 10:00:00 +0000 UTC\n";
    let case = audit_file("subscribers.csv", text, &[]);
    assert_eq!(service(&case), "listmonk");
    let rows = case.audit_rows();
    assert_eq!(
        rows["on@example.com"]["consent_date"],
        "2021-03-04T10:20:30Z"
    );
    assert_eq!(
        rows["block@example.com"]["consent_date"],
        "2021-03-04T09:20:30Z"
    );
    assert_eq!(case.decision("on@example.com").0, "repermission");
    assert_eq!(
        case.decision("block@example.com").1,
        "withdrawn;incomplete-proof"
    );
    assert_eq!(
        case.decision("off@example.com"),
        (
            "no-marketing".into(),
            "disabled;pre-gdpr;incomplete-proof".into()
        )
    );
    // updated_at is a profile change, never a consent or activity date.
    assert!(!case.read("out/audit.csv").contains("2026-01-01"));
}

#[test]
fn mautic_export_with_bom_and_last_active() {
    let text = "\u{feff}id,firstname,lastname,email,points,last_active,stage\n\
                1,Ann,A,ann@example.com,10,2026-09-01 10:00:00,Lead\n\
                2,Old,O,old@example.com,0,2022-01-01 10:00:00,Lead\n";
    let case = audit_file("mautic.csv", text, &[]);
    assert_eq!(service(&case), "mautic");
    assert_eq!(case.report()["inputs"][0]["encoding"], "utf-8 with BOM");
    assert_eq!(
        case.decision("ann@example.com"),
        ("delete".into(), "no-consent-proof".into())
    );
    assert_eq!(
        case.decision("old@example.com"),
        ("delete".into(), "inactive;no-consent-proof".into())
    );
}

#[test]
fn mailpoet_export_with_backslash_escapes_and_a_row_per_list() {
    let text = "\u{feff}\"Email\",\"First name\",\"Last name\",\"Subscription IP\",\"Subscription time\",\"Confirmation time\",\"Confirmation IP\",\"List status\",\"Global status\",\"List\"\n\
                \"ann@example.com\",\"Ann \\\"the\\\" first\",\"A\",\"192.0.2.1\",\"2021-01-01 10:00:00\",\"2021-01-01 10:05:00\",\"192.0.2.2\",\"subscribed\",\"subscribed\",\"Newsletter\"\n\
                \"bob@example.com\",\"Bob\",\"B\",\"192.0.2.3\",\"2021-01-01 10:00:00\",\"2021-01-01 10:05:00\",\"192.0.2.4\",\"subscribed\",\"subscribed\",\"Newsletter\"\n\
                \"bob@example.com\",\"Bob\",\"B\",\"192.0.2.3\",\"2021-01-01 10:00:00\",\"2021-01-01 10:05:00\",\"192.0.2.4\",\"unsubscribed\",\"subscribed\",\"Events\"\n\
                \"cee@example.com\",\"Cee\",\"C\",\"\",\"2026-11-25 10:00:00\",\"\",\"\",\"unconfirmed\",\"unconfirmed\",\"Newsletter\"\n\
                \"dee@example.com\",\"Dee\",\"D\",\"192.0.2.5\",\"2021-01-01 10:00:00\",\"2021-01-01 10:05:00\",\"192.0.2.6\",\"subscribed\",\"inactive\",\"Newsletter\"\n";
    let case = audit_file("MailPoet_export_1.csv", text, &[]);
    assert_eq!(service(&case), "mailpoet");
    assert!(
        case.csv("out/rejects.csv").is_empty(),
        "{}",
        case.read("out/rejects.csv")
    );
    assert_eq!(
        case.decision("ann@example.com"),
        ("keep".into(), String::new())
    );
    assert_eq!(
        case.csv("out/keep.csv")[0]["first_name"],
        "Ann \"the\" first"
    );
    // A withdrawal from one list withdraws from all.
    assert_eq!(
        case.decision("bob@example.com"),
        ("delete".into(), "withdrawn".into())
    );
    assert_eq!(case.decision("cee@example.com").0, "no-marketing");
    assert_eq!(
        case.decision("dee@example.com"),
        ("no-marketing".into(), "disabled".into())
    );
}

#[test]
fn phplist_export_is_tab_separated_with_flags() {
    let text = "ID\tEmail\tIs this user confirmed\tIs this user blacklisted\tDid this user manually confirm\tEntered\tLast Modified\tSend this user HTML emails\tList Membership\n\
                1\tann@example.com\t1\t0\t0\t2021-02-03 04:05:06\t2026-01-01 00:00:00\t1\tNewsletter\n\
                2\tblack@example.com\t1\t1\t0\t2021-02-03 04:05:06\t2026-01-01 00:00:00\t1\tNewsletter\n\
                3\tnew@example.com\t0\t0\t0\t2026-11-25 04:05:06\t2026-01-01 00:00:00\t1\tNo Lists\n";
    let case = audit_file("phpList Export on Newsletter.csv", text, &[]);
    assert_eq!(service(&case), "phplist");
    assert_eq!(case.report()["inputs"][0]["delimiter"], "TAB");
    // Confirmed: the service's confirmed flag is a double opt-in confirmation.
    assert_eq!(
        case.decision("ann@example.com"),
        ("keep".into(), String::new())
    );
    assert_eq!(case.audit_rows()["ann@example.com"]["evidence"], "full");
    assert_eq!(case.decision("black@example.com").0, "delete");
    assert_eq!(case.decision("new@example.com").0, "no-marketing");
}

#[test]
fn shopify_customers_have_only_a_yes_or_no() {
    let text = "Customer ID,First Name,Last Name,Email,Accepts Email Marketing,Default Address Company,Default Address Address1,Default Address Address2,Default Address City,Default Address Province Code,Default Address Country Code,Default Address Zip,Default Address Phone,Phone,Accepts SMS Marketing,Total Spent,Total Orders,Note,Tax Exempt,Tags\n\
                '7210448301122,Ann,A,ann@example.com,yes,,Street 1,,Utrecht,UT,NL,3511,,'+31 6 1111111,no,120.00,3,,no,vip\n\
                '7210448301123,Bob,B,bob@example.com,no,,Street 2,,Utrecht,UT,NL,3511,,,no,20.00,1,,no,\n";
    let case = audit_file("customers_export.csv", text, &[]);
    assert_eq!(service(&case), "shopify");
    // Yes without any date: partial proof.
    assert_eq!(
        case.decision("ann@example.com"),
        ("repermission".into(), "incomplete-proof".into())
    );
    assert_eq!(case.decision("bob@example.com").0, "no-marketing");
    assert!(
        case.decision("bob@example.com")
            .1
            .contains("no-marketing-consent")
    );
    // The shop's declared double opt-in and its date are the user's attestation.
    let case = audit_file(
        "customers_export.csv",
        text,
        &[
            "--assume",
            "customers_export.csv:double_opt_in=yes",
            "--assume",
            "customers_export.csv:optin_at=2021-06-01",
        ],
    );
    assert_eq!(
        case.decision("ann@example.com"),
        ("keep".into(), String::new())
    );
    let assumptions = case.report()["assumptions"].to_string();
    assert!(
        assumptions.contains("you declared double_opt_in = yes"),
        "{assumptions}"
    );
}

#[test]
fn klaviyo_profiles_with_consent_and_suppressions() {
    let text = "\u{feff}Email,Klaviyo ID,First Name,Last Name,Source,IP Address,Email Marketing Consent,Email Marketing Consent Timestamp,Profile Created On,Date Added,Last Open,Last Click,Email Suppressions\n\
                ann@example.com,01HX1,Ann,A,Klaviyo Form,192.0.2.1,SUBSCRIBED,2022-01-01T00:00:00Z,2021-12-31T10:00:00Z,2022-01-01T00:00:00Z,2026-10-01T10:00:00Z,,\n\
                bob@example.com,01HX2,Bob,B,Shopify,,NEVER_SUBSCRIBED,,2022-01-01T00:00:00Z,,2026-10-01T10:00:00Z,,\n\
                cee@example.com,01HX3,Cee,C,Klaviyo Form,192.0.2.3,SUBSCRIBED,2022-01-01T00:00:00Z,2022-01-01T00:00:00Z,,2026-10-01T10:00:00Z,,['HARD_BOUNCE']\n\
                dee@example.com,01HX4,Dee,D,Klaviyo Form,192.0.2.4,UNSUBSCRIBED,2022-01-01T00:00:00Z,2022-01-01T00:00:00Z,,,,UNSUBSCRIBE\n";
    let case = audit_file("klaviyo.csv", text, &[]);
    assert_eq!(service(&case), "klaviyo");
    assert_eq!(
        case.decision("ann@example.com"),
        ("keep".into(), String::new())
    );
    assert_eq!(case.decision("bob@example.com").0, "no-marketing");
    assert_eq!(
        case.decision("cee@example.com"),
        ("delete".into(), "bounced".into())
    );
    assert_eq!(case.decision("dee@example.com").0, "delete");
    assert!(case.decision("dee@example.com").1.starts_with("withdrawn"));
}

/// Brevo as Excel re-saves it on a Dutch Windows machine: `;`, day-first, Windows-1252.
#[test]
fn brevo_export_in_windows_1252() {
    let mut bytes: Vec<u8> = Vec::new();
    bytes.extend_from_slice(b"EMAIL;LASTNAME;FIRSTNAME;SMS;EMAIL_BLACKLISTED;SMS_BLACKLISTED;ADDED_TIME;MODIFIED_TIME\r\n");
    bytes.extend_from_slice(
        b"jose@example.com;Garc\xeda;Jos\xe9;;No;No;13-04-2022 09:30;01-02-2026 10:00\r\n",
    );
    bytes.extend_from_slice(
        b"zoe@example.com;M\xfcller;Zo\xeb;;Yes;No;03-04-2022 09:30;01-02-2026 10:00\r\n",
    );
    let case = audit_file("brevo.csv", &bytes, &[]);
    assert_eq!(service(&case), "brevo");
    let report = case.report();
    assert_eq!(report["inputs"][0]["encoding"], "windows-1252");
    assert_eq!(report["inputs"][0]["delimiter"], "';'");
    let rows = case.audit_rows();
    // Day first, decided by the column (13-04 has a first part above 12).
    assert_eq!(
        rows["zoe@example.com"]["consent_date"],
        "2022-04-03T09:30:00Z"
    );
    assert_eq!(
        case.decision("jose@example.com"),
        ("repermission".into(), "incomplete-proof".into())
    );
    assert_eq!(
        case.decision("zoe@example.com"),
        ("delete".into(), "withdrawn;incomplete-proof".into())
    );
    assert_eq!(case.csv("out/repermission.csv")[0]["first_name"], "José");
    assert_eq!(case.csv("out/repermission.csv")[0]["last_name"], "García");
    // --encoding overrides the guess.
    let case = audit_file("brevo.csv", &bytes, &["--encoding", "windows-1252"]);
    assert_eq!(case.csv("out/repermission.csv")[0]["first_name"], "José");
}

#[test]
fn utf16_files_with_a_bom() {
    let text =
        "email,first name,signup date,ip\r\nann@example.com,Zoë,2021-01-01 10:00:00,192.0.2.1\r\n";
    for (bom, encode, name) in [
        (
            vec![0xFF, 0xFE],
            u16::to_le_bytes as fn(u16) -> [u8; 2],
            "utf-16le",
        ),
        (
            vec![0xFE, 0xFF],
            u16::to_be_bytes as fn(u16) -> [u8; 2],
            "utf-16be",
        ),
    ] {
        let mut bytes = bom;
        for unit in text.encode_utf16() {
            bytes.extend_from_slice(&encode(unit));
        }
        let case = audit_file("list.csv", &bytes, &[]);
        assert_eq!(case.report()["inputs"][0]["encoding"], name);
        assert_eq!(
            case.decision("ann@example.com"),
            ("keep".into(), String::new())
        );
        assert_eq!(case.csv("out/keep.csv")[0]["first_name"], "Zoë");
    }
}

#[test]
fn kit_activecampaign_laposta_and_mailerlite_layouts() {
    let kit = audit_file(
        "kit.csv",
        "first_name,email_address,state,created_at,confirmed_at\nAnn,ann@example.com,active,2021-01-01T10:00:00Z,2021-01-01T10:04:00Z\nBob,bob@example.com,cancelled,2021-01-01T10:00:00Z,\nCee,cee@example.com,bounced,2021-01-01T10:00:00Z,\n",
        &[],
    );
    assert_eq!(service(&kit), "kit");
    assert_eq!(kit.decision("ann@example.com").0, "keep");
    assert_eq!(
        kit.decision("bob@example.com").1,
        "withdrawn;incomplete-proof"
    );
    assert_eq!(
        kit.decision("cee@example.com").1,
        "bounced;incomplete-proof"
    );

    let ac = audit_file(
        "contacts.csv",
        "Email,First Name,Last Name,Phone,Tags,Date Created,IP,Status\nann@example.com,Ann,A,,vip,2021-01-01 10:00:00,192.0.2.1,Active\nbob@example.com,Bob,B,,,2021-01-01 10:00:00,192.0.2.1,Unsubscribed\ncee@example.com,Cee,C,,,2026-11-20 10:00:00,,Unconfirmed\n",
        &[],
    );
    assert_eq!(service(&ac), "activecampaign");
    assert_eq!(ac.decision("ann@example.com").0, "keep");
    assert_eq!(ac.decision("bob@example.com").0, "delete");
    assert_eq!(ac.decision("cee@example.com").0, "no-marketing");

    let laposta = audit_file(
        "laposta.csv",
        "member_id,list_id,email,state,signup_date,modified,ip,source_url\nm1,l1,ann@example.nl,active,2021-01-01 10:00:00,2026-01-01 10:00:00,192.0.2.1,https://example.nl/aanmelden\nm2,l1,bob@example.nl,unsubscribed,2021-01-01 10:00:00,2026-01-01 10:00:00,192.0.2.1,\nm3,l1,cee@example.nl,cleaned,2021-01-01 10:00:00,2026-01-01 10:00:00,,\n",
        &[],
    );
    assert_eq!(service(&laposta), "laposta");
    assert_eq!(laposta.decision("ann@example.nl").0, "keep");
    assert_eq!(laposta.decision("bob@example.nl").1, "withdrawn");
    assert_eq!(
        laposta.decision("cee@example.nl").1,
        "bounced;incomplete-proof"
    );

    let mailerlite = audit_file(
        "subscribers.csv",
        "Subscriber,Name,Last name,Subscribed,Groups\nann@example.com,Ann,A,2017-06-01 10:00:00,\"Newsletter;Shop\"\n",
        &[],
    );
    assert_eq!(service(&mailerlite), "mailerlite");
    assert_eq!(
        mailerlite.decision("ann@example.com"),
        ("repermission".into(), "pre-gdpr;incomplete-proof".into())
    );
}

#[test]
fn a_zip_archive_is_read_like_a_mailchimp_folder() {
    let case = Case::new();
    let header = "Email Address,First Name,Last Name,MEMBER_RATING,OPTIN_TIME,OPTIN_IP,CONFIRM_TIME,CONFIRM_IP,GMTOFF,DSTOFF,LEID,EUID";
    let file = std::fs::File::create(case.path("audience.zip")).unwrap();
    let mut zip = zip::ZipWriter::new(file);
    let options = zip::write::SimpleFileOptions::default();
    for (name, email) in [
        (
            "audience_export_5f2e/subscribed_email_audience_export_5f2e.csv",
            "s@example.com",
        ),
        (
            "audience_export_5f2e/unsubscribed_email_audience_export_5f2e.csv",
            "u@example.com",
        ),
    ] {
        zip.start_file(name, options).unwrap();
        writeln!(zip, "{header}\n{email},A,B,3,2021-01-01 10:00:00,192.0.2.1,2021-01-01 10:05:00,192.0.2.2,1,2,1,a").unwrap();
    }
    zip.finish().unwrap();
    let run = case.audit(&["audience.zip"], &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(case.decision("s@example.com").0, "keep");
    assert_eq!(
        case.decision("u@example.com"),
        ("delete".into(), "withdrawn".into())
    );
    assert!(
        case.audit_rows()["s@example.com"]["sources"]
            .starts_with("audience.zip/audience_export_5f2e/subscribed")
    );
}

#[test]
fn standard_input_is_an_input() {
    let case = Case::new();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_listaudit"))
        .args([
            "audit",
            "-",
            "--out",
            "out",
            "--as-of",
            "2026-12-01",
            "--quiet",
        ])
        .current_dir(case.dir.path())
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"email,ip,signup date\nann@example.com,192.0.2.1,2021-01-01 10:00:00\n")
        .unwrap();
    assert!(child.wait().unwrap().success());
    assert_eq!(case.audit_rows()["ann@example.com"]["sources"], "stdin:2");
}

#[test]
fn delimiters_pipe_and_override() {
    let case = audit_file(
        "pipes.csv",
        "email|ip|signup date\nann@example.com|192.0.2.1|2021-01-01 10:00:00\n",
        &[],
    );
    assert_eq!(case.report()["inputs"][0]["delimiter"], "'|'");
    assert_eq!(case.decision("ann@example.com").0, "keep");
    // A header that sniffs as `,` but whose rows use `;` is read with --delimiter.
    let text = "email;ip;signup, date\nann@example.com;192.0.2.1;2021-01-01 10:00:00\n";
    let case = audit_file("semi.csv", text, &["--delimiter", ";"]);
    assert_eq!(case.report()["inputs"][0]["delimiter"], "';'");
}

#[test]
fn date_order_is_decided_per_column_from_all_values() {
    let case = audit_file(
        "list.csv",
        "email,ip,signup date,last open\n\
         a@example.com,192.0.2.1,03/04/2021,10/02/2026 2:30pm\n\
         b@example.com,192.0.2.1,13/04/2021,11/30/2026 9:00am\n",
        &[],
    );
    let rows = case.audit_rows();
    // signup date: 13/04 means day first; last open: 11/30 means month first.
    assert_eq!(
        rows["a@example.com"]["consent_date"],
        "2021-04-03T00:00:00Z"
    );
    assert_eq!(
        rows["a@example.com"]["last_activity"],
        "2026-10-02T14:30:00Z"
    );
    assert_eq!(
        rows["b@example.com"]["last_activity"],
        "2026-11-30T09:00:00Z"
    );
    let dates = case.report()["dates"].clone();
    let signup = dates
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["column"] == "signup date")
        .unwrap()
        .clone();
    assert_eq!(signup["order"], "day-first");
    // An ambiguous column follows the policy's day-first order, and the report says so.
    let case = audit_file(
        "amb.csv",
        "email,ip,signup date\na@example.com,192.0.2.1,03/04/2021\n",
        &[],
    );
    assert_eq!(
        case.audit_rows()["a@example.com"]["consent_date"],
        "2021-04-03T00:00:00Z"
    );
    assert!(
        case.report()["assumptions"]
            .to_string()
            .contains("ambiguous, so the policy's date_order")
    );
}

#[test]
fn detection_survives_renamed_headers_and_tells_services_apart() {
    // Mailchimp with Italian merge-field labels: the system columns decide, and the address
    // column is found by its values.
    let case = audit_file(
        "export.csv",
        "Indirizzo,Nome,Cognome,MEMBER_RATING,OPTIN_TIME,OPTIN_IP,CONFIRM_TIME,CONFIRM_IP,LEID,EUID,TAGS\nmario@example.it,Mario,Rossi,2,2021-01-01 10:00:00,192.0.2.1,,,1,a,\n",
        &[],
    );
    assert_eq!(service(&case), "mailchimp");
    assert_eq!(case.decision("mario@example.it").0, "keep");
    // Substack, Ghost and Beehiiv share stripe and created_at columns.
    let substack = audit_file(
        "a.csv",
        "email,expiry,email_disabled,stripe_connected_customer_id,type\na@example.com,,false,,paid\n",
        &[],
    );
    assert_eq!(service(&substack), "substack");
    let ghost = audit_file(
        "b.csv",
        "id,email,name,note,subscribed_to_emails,complimentary_plan,stripe_customer_id,created_at,deleted_at,labels,products\n1,a@example.com,A,,true,false,,2021-01-01T00:00:00.000Z,,,\n",
        &[],
    );
    assert_eq!(service(&ghost), "ghost");
    let beehiiv = audit_file(
        "c.csv",
        "email,status,tier,created_at,stripe_customer_id,Free Tier,Premium Tier\na@example.com,active,free,2021-01-01 00:00:00 UTC,,Yes,No\n",
        &[],
    );
    assert_eq!(service(&beehiiv), "beehiiv");
    // No service: the generic profile, and the report says so.
    let generic = audit_file("d.csv", "Email,Naam\na@example.com,A\n", &[]);
    assert_eq!(service(&generic), "generic");
    assert!(
        generic.report()["assumptions"]
            .to_string()
            .contains("generic profile")
    );
    // --format skips detection.
    let forced = audit_file(
        "e.csv",
        "email,email_disabled\na@example.com,true\n",
        &["--format", "generic"],
    );
    assert_eq!(service(&forced), "generic");
    assert_eq!(forced.decision("a@example.com").0, "delete");
    let detected = audit_file(
        "e.csv",
        "email,email_disabled\na@example.com,true\n",
        &["--format", "substack"],
    );
    assert_eq!(
        detected.decision("a@example.com").1,
        "withdrawn;no-consent-proof"
    );
}

#[test]
fn inspect_shows_what_ingest_would_do_and_writes_nothing() {
    let case = Case::new();
    let file = formats_dir().join("mailchimp__TryGhost__migrate__unsubscribed.csv");
    let file = file.display().to_string();
    let run = case.run(&["inspect", &file]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let out = &run.stdout;
    assert!(
        out.contains("service    Mailchimp, recognised by MEMBER_RATING"),
        "{out}"
    );
    assert!(out.contains("encoding   utf-8"), "{out}");
    assert!(out.contains("delimiter  ','"), "{out}");
    assert!(
        out.contains("rows       5 (0 rejected, 0 without e-mail)"),
        "{out}"
    );
    assert!(out.contains("status     file name (unsubscribed)"), "{out}");
    assert!(out.contains("email              <- Email Address"), "{out}");
    assert!(out.contains("UNSUB_TIME (unsubscribed_at): ISO 8601 date and time, no zone, read as UTC; e.g. 2018-07-23 12:19:27 | 2023-06-06 12:56:15"), "{out}");
    assert!(out.contains("warning    no engagement column"), "{out}");
    assert_eq!(
        case.files(""),
        Vec::<String>::new(),
        "inspect writes nothing"
    );

    let json = case.run(&["inspect", &file, "--json"]);
    let value: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(value[0]["service"], "mailchimp");
    assert_eq!(
        value[0]["dates"][0]["examples"].as_array().unwrap().len(),
        2
    );

    // Day-first detected from the values, with the reason.
    case.write("brevo.csv", "EMAIL;FIRSTNAME;EMAIL_BLACKLISTED;ADDED_TIME;MODIFIED_TIME\na@example.com;A;No;13-04-2022 09:30;01-02-2026 10:00\n");
    let run = case.run(&["inspect", "brevo.csv"]);
    assert!(run.stdout.contains("ADDED_TIME (created_at): dd-mm-yyyy with a time, no zone, read as UTC; day-first (day first: a first number above 12)"), "{}", run.stdout);
    assert!(
        run.stdout.contains("not used   MODIFIED_TIME"),
        "{}",
        run.stdout
    );
}
