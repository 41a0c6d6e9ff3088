//! Micro-benchmarks of the hot pieces: date parsing and spelling, e-mail normalisation and the address
//! check, hashing (keys, and a file in memory), reading a clean file in parts, the decision expression, and spelling
//! audit.csv. Run by hand: `cargo bench --bench hot`.

use divan::{Bencher, black_box};
use listaudit::decide;
use listaudit::fields::Status;
use listaudit::normalize::date::{DateOrder, parse};
use listaudit::normalize::email;
use listaudit::normalize::status::rank_of;
use listaudit::policy::Policy;
use polars::prelude::*;

fn main() {
    divan::main();
}

const DATES: [&str; 6] = [
    "2018-08-27 15:06:27",
    "2018-08-27T15:06:27.713Z",
    "2017-03-04 10:20:30.123456 +0000 UTC",
    "31-12-2017 09:30",
    "12/31/17 2:30pm",
    "1535382387",
];

#[divan::bench]
fn date_parse(bencher: Bencher) {
    bencher.bench(|| {
        for d in DATES {
            black_box(parse(black_box(d), DateOrder::DayFirst));
        }
    });
}

/// Spelling instants as the outputs do: 100k of them spread over 2009–2026.
#[divan::bench]
fn instant_format(bencher: Bencher) {
    let instants: Vec<i64> = (0..100_000i64)
        .map(|i| 1_230_768_000_000 + i * 5_443_219_117 % 568_024_668_000)
        .collect();
    bencher.bench(|| {
        for &millis in &instants {
            black_box(listaudit::normalize::date::instant_bytes(black_box(millis)));
        }
    });
}

fn addresses(n: usize) -> Series {
    let values: Vec<String> = (0..n)
        .map(|i| format!("  Person.{i}@Example.COM "))
        .collect();
    Series::new("email".into(), values)
}

#[divan::bench(args = [100_000])]
fn email_normalise(bencher: Bencher, n: usize) {
    let frame = DataFrame::new(n, vec![addresses(n).into_column()]).unwrap();
    bencher.bench(|| {
        let display = email::display(col("email"));
        frame
            .clone()
            .lazy()
            .select([
                email::key(display.clone()).alias("key"),
                email::is_valid(display).alias("valid"),
            ])
            .collect()
            .unwrap()
    });
}

/// The suppression list's hashes: each address keyed, hashed and spelled in hex, as the writer
/// does a row at a time.
#[divan::bench(args = [100_000])]
fn sha256_keys(bencher: Bencher, n: usize) {
    let addresses: Vec<String> = (0..n).map(|i| format!("Person.{i}@Example.com")).collect();
    bencher.bench(|| {
        black_box(&addresses)
            .iter()
            .map(|a| usize::from(email::sha256_hex(&email::key_of(a))[0]))
            .sum::<usize>()
    });
}

/// A frame of canonical rows as normalize hands them to decide, for `n` contacts.
fn rows(n: usize) -> LazyFrame {
    let int = |f: &dyn Fn(usize) -> Option<i64>| (0..n).map(f).collect::<Vec<_>>();
    let day = 86_400_000i64;
    let s = |f: &dyn Fn(usize) -> Option<String>| (0..n).map(f).collect::<Vec<_>>();
    let text = |name: &str, v: Vec<Option<String>>| Column::new(name.into(), v);
    let mut columns = vec![
        Column::new("file".into(), vec![0u32; n]),
        Column::new(
            "line".into(),
            (0..n as u32).map(|i| i + 2).collect::<Vec<_>>(),
        ),
        text("email", s(&|i| Some(format!("p{i}@example.com")))),
        text("key", s(&|i| Some(format!("p{i}@example.com")))),
        Column::new(
            "status_rank".into(),
            (0..n)
                .map(|i| {
                    rank_of(if i % 12 == 0 {
                        Status::Unsubscribed
                    } else {
                        Status::Subscribed
                    })
                })
                .collect::<Vec<_>>(),
        ),
        Column::new("double_opt_in".into(), vec![None::<bool>; n]),
        Column::new(
            "optin_at".into(),
            int(&|i| Some(1_300_000_000_000 + (i as i64 % 4000) * day)),
        ),
        text("optin_ip", s(&|i| (i % 3 != 0).then(|| "192.0.2.1".into()))),
        Column::new("created_at".into(), vec![None::<i64>; n]),
        Column::new("confirm_at".into(), vec![None::<i64>; n]),
        text("confirm_ip", vec![None; n]),
        text(
            "source",
            s(&|i| (i % 4 != 0).then(|| "website form".into())),
        ),
        text("consent_text", vec![None; n]),
        Column::new("marketing_consent".into(), vec![None::<bool>; n]),
        Column::new(
            "last_open_at".into(),
            int(&|i| Some(1_600_000_000_000 + (i as i64 % 2000) * day)),
        ),
    ];
    for name in [
        "last_click_at",
        "last_active_at",
        "last_order_at",
        "unsubscribed_at",
        "cleaned_at",
    ] {
        columns.push(Column::new(name.into(), vec![None::<i64>; n]));
    }
    for name in ["country", "tags"] {
        columns.push(text(name, vec![None; n]));
    }
    // Held as codes into dictionaries (`normalize::text::Dictionary`).
    for name in ["first_name", "last_name", "status_unknown_value"] {
        columns.push(Column::new(name.into(), vec![None::<i32>; n]));
    }
    columns.push(Column::new(
        "consent_at".into(),
        int(&|i| Some(1_300_000_000_000 + (i as i64 % 4000) * day)),
    ));
    // The first input's optin_at (`normalize::consent_column_names`).
    columns.push(Column::new("consent_column".into(), vec![1u32; n]));
    columns.push(Column::new("consent_has_time".into(), vec![true; n]));
    columns.push(Column::new("engagement_file".into(), vec![true; n]));
    DataFrame::new(n, columns).unwrap().lazy()
}

#[divan::bench(args = [100_000])]
fn decision(bencher: Bencher, n: usize) {
    let frame = rows(n).collect().unwrap();
    let policy = Policy::nl();
    bencher.bench(|| {
        let as_of = 1_796_083_200_000;
        let prepared = decide::prepare(frame.clone().lazy(), &policy, as_of).unwrap();
        decide::decide(prepared, None, None, &policy, as_of).unwrap()
    });
}

/// The lists of `n` decided contacts, each a [`listaudit::outputs::Table`] by its file name.
fn lists(n: usize) -> Vec<(&'static str, listaudit::outputs::Table)> {
    let policy = Policy::nl();
    let as_of = 1_796_083_200_000;
    let prepared = decide::prepare(rows(n), &policy, as_of).unwrap();
    let decision = decide::decide(prepared, None, None, &policy, as_of).unwrap();
    let files = vec!["list.csv".to_string()];
    let consent_columns =
        ["re-permission", "optin_at", "confirm_at", "created_at"].map(String::from);
    listaudit::outputs::tables(&decision, &[], as_of, &files, &[], &consent_columns, None).unwrap()
}

/// `table` spelled into memory (no disk).
fn spell(table: &listaudit::outputs::Table, n: usize) -> Vec<u8> {
    let mut out: Vec<u8> = Vec::with_capacity(n * 160);
    table
        .write(&mut out, listaudit::outputs::CsvStyle::default(), 1)
        .unwrap();
    out
}

/// audit.csv of `n` decided contacts, spelled into memory (no disk).
#[divan::bench(args = [100_000])]
fn audit_csv(bencher: Bencher, n: usize) {
    let tables = lists(n);
    bencher.bench(|| spell(&tables[0].1, n));
}

/// A list of 100k decided contacts that holds the rows its outcome selects.
#[divan::bench(args = ["keep.csv", "deletion.csv"])]
fn selected_list(bencher: Bencher, list: &str) {
    let n = 100_000;
    let tables = lists(n);
    let (_, table) = tables.iter().find(|(name, _)| *name == list).unwrap();
    bencher.bench(|| spell(table, n));
}

#[divan::bench(args = [100_000])]
fn address_check(bencher: Bencher, n: usize) {
    let values: Vec<String> = (0..n)
        .map(|i| format!("person.{i}@mail{}.example.com", i % 97))
        .collect();
    bencher.bench(|| {
        values
            .iter()
            .filter(|v| email::is_valid_address(black_box(v)))
            .count()
    });
}

/// A clean file of `n` rows: the structure check and hash, then every batch read in parts.
#[divan::bench(args = [100_000])]
fn read_clean_file(bencher: Bencher, n: usize) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("list.csv");
    let mut text = String::from("email,first_name,status,signup_date,source,tags\n");
    for i in 0..n {
        text.push_str(&format!(
            "person.{i}@example.com,Name {i},subscribed,2021-05-10 14:19:42,web form,\"a,b\"\n"
        ));
    }
    std::fs::write(&path, text).unwrap();
    let member = listaudit::ingest::Member {
        path: path.clone(),
        name: "list.csv".to_string(),
    };
    let options = listaudit::ingest::IngestOptions::default();
    bencher.bench(|| {
        let mut rejects = Vec::new();
        let input = listaudit::ingest::read_input(
            &member,
            listaudit::ingest::Role::Contacts,
            &options,
            &mut rejects,
        )
        .unwrap();
        input
            .batches()
            .unwrap()
            .into_iter()
            .map(|batch| batch.collect().unwrap().height())
            .sum::<usize>()
    });
}

/// The structure check and hash of a clean export of 200 000 rows from memory, in one part and
/// in two, 64 bytes at a time ("blocks", the run's) and a byte at a time ("bytes").
#[divan::bench(args = ["blocks/1", "blocks/2", "bytes/1"])]
fn structure_check(bencher: Bencher, how: &str) {
    use listaudit::ingest::scan::{Pass, scan_in_parts};
    let mut text = String::from("Email Address,First Name,Last Name,OPTIN_TIME,TAGS\n");
    for i in 0..200_000 {
        text.push_str(&format!(
            "person.{i}@example.com,Name,\"Last, {i}\",2021-05-10 14:19:42,\"a,b\"\n"
        ));
    }
    let (pass, parts) = match how {
        "blocks/1" => (Pass::Blocks, 1),
        "blocks/2" => (Pass::Blocks, 2),
        _ => (Pass::Bytes, 1),
    };
    bencher.bench(|| {
        scan_in_parts(text.as_bytes(), parts, 5, Some(0), 4 << 20, pass).map(|scan| scan.records)
    });
}

/// The file's SHA-256 over 256 MB in memory, larger than the caches: with the lines ahead
/// fetched as it goes (`scan::hash`, the run's), and sha2's own `digest` of the bytes, its peer.
#[divan::bench(args = ["read ahead", "sha2 digest"])]
fn file_hash(bencher: Bencher, how: &str) {
    use sha2::Digest;
    let bytes: Vec<u8> = (0..256u32 << 20)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    bencher.bench(|| -> [u8; 32] {
        match how {
            "read ahead" => listaudit::ingest::scan::hash(&bytes.as_slice()),
            _ => sha2::Sha256::digest(&bytes).into(),
        }
    });
}
