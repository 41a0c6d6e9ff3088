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

/// A clean file cut into parts at the record boundaries the structure check keeps reads the same
/// as the csv crate reads it whole: quoted delimiters and line breaks, empty cells as null, each
/// row's line, a projection, and a limit.
#[test]
fn a_clean_file_read_in_parts_is_the_file() {
    use polars::prelude::*;

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("list.csv");
    let mut text = String::from("email,name,note\n");
    for i in 0..300 {
        let note = match i % 4 {
            0 => String::new(),
            1 => format!("\"line one\nline {i}\""),
            2 => format!("\"a, b and \"\"{i}\"\"\""),
            _ => format!("note {i}"),
        };
        text.push_str(&format!("p{i}@example.nl,Name {i},{note}\n"));
    }
    let (parts, clean) = checked_parts(&path, text.as_bytes(), &["email", "name", "note"], 256);
    assert!(clean);
    assert!(parts.splits.len() > 10, "{} splits", parts.splits.len());
    let parts = || parts.clone();
    let frame = parts().frame().unwrap().collect().unwrap();

    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let expected: Vec<(String, Option<String>, u64)> = reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            let note = (!r[2].is_empty()).then(|| r[2].to_string());
            (r[0].to_string(), note, r.position().unwrap().line())
        })
        .collect();
    assert_eq!(frame.height(), expected.len());
    let emails = frame.column("email").unwrap().str().unwrap();
    let notes = frame.column("note").unwrap().str().unwrap();
    let lines = frame
        .column("line")
        .unwrap()
        .cast(&DataType::UInt64)
        .unwrap();
    let lines = lines.u64().unwrap();
    for (i, (email, note, line)) in expected.iter().enumerate() {
        assert_eq!(emails.get(i), Some(email.as_str()), "row {i}");
        assert_eq!(notes.get(i), note.as_deref(), "row {i}");
        assert_eq!(lines.get(i), Some(*line), "row {i}");
    }

    let projected = parts()
        .frame()
        .unwrap()
        .select([col("note"), col("line")])
        .limit(3)
        .collect()
        .unwrap();
    assert_eq!(projected.get_column_names(), ["note", "line"]);
    assert_eq!(projected.height(), 3);
    assert_eq!(
        projected.column("note").unwrap().str().unwrap().get(1),
        Some("line one\nline 1")
    );
}

/// A column null on every row of a batch, or of one value on every row (the file's number), is
/// held as one constant, stacks as one while every batch has the same, and is written out where
/// a batch has other values; either way the stacked frame holds what polars' own stacking
/// gives. Text is only tested for being null.
#[test]
fn columns_of_one_value_stay_constants_when_stacked() {
    use listaudit::normalize::{as_constants, stack};
    use polars::prelude::*;

    let batch = |emails: &[&str], orders: &[Option<i64>]| {
        DataFrame::new(
            emails.len(),
            vec![
                Column::new("email".into(), emails),
                Column::new("order".into(), orders),
                Column::new("unknown".into(), vec![None::<i32>; emails.len()]),
                Column::new("file".into(), vec![3u32; emails.len()]),
                Column::new("flag".into(), vec![true; emails.len()]),
            ],
        )
        .unwrap()
    };
    let first = batch(&["a@x.nl", "b@x.nl"], &[None, None]);
    let second = batch(&["c@x.nl"], &[Some(5)]);
    let third = batch(&["d@x.nl", "e@x.nl"], &[None, None]);
    let mut expected = first.clone();
    expected.vstack_mut(&second).unwrap();
    expected.vstack_mut(&third).unwrap();

    let constants = |frames: &[&DataFrame]| {
        frames
            .iter()
            .map(|f| as_constants((*f).clone()).unwrap())
            .collect::<Vec<_>>()
    };
    let stacked = stack(constants(&[&first, &second, &third])).unwrap();
    assert!(stacked.equals_missing(&expected), "{stacked}");
    assert!(matches!(
        stacked.column("unknown").unwrap(),
        Column::Scalar(_)
    ));
    assert_eq!(stacked.column("unknown").unwrap().len(), 5);
    for constant in ["file", "flag"] {
        assert!(matches!(
            stacked.column(constant).unwrap(),
            Column::Scalar(_)
        ));
    }
    // One e-mail in a batch is not held as a constant.
    assert!(matches!(
        as_constants(second.clone())
            .unwrap()
            .column("email")
            .unwrap(),
        Column::Series(_)
    ));
    assert!(!matches!(
        stacked.column("order").unwrap(),
        Column::Scalar(_)
    ));
    assert_eq!(
        stacked.get_column_names(),
        ["email", "order", "unknown", "file", "flag"]
            .map(PlSmallStr::from)
            .iter()
            .collect::<Vec<_>>()
    );

    let only_nulls = stack(constants(&[&first, &third])).unwrap();
    let mut expected = first.clone();
    expected.vstack_mut(&third).unwrap();
    assert!(only_nulls.equals_missing(&expected), "{only_nulls}");
    assert!(matches!(
        only_nulls.column("order").unwrap(),
        Column::Scalar(_)
    ));
}

/// A text column fitted to its text's size holds the same values, nulls and chunks.
/// An empty name is none, whether the batch holds its column as values or as one constant (a
/// batch of one row does, and its blank last name was written as `""` by the record-level
/// pass, where the typed reader wrote none).
#[test]
fn an_empty_text_is_none_in_a_column_or_a_constant() {
    use listaudit::normalize::text::empty_as_none;
    use polars::prelude::*;

    let values = Column::new("name".into(), [Some("Ann"), Some(""), None]);
    let constant = Column::new_scalar("name".into(), Scalar::from(PlSmallStr::from("")), 3);
    let kept = Column::new_scalar("name".into(), Scalar::from(PlSmallStr::from("Bos")), 3);
    let read = |column: Column| {
        let frame = DataFrame::new(3, vec![column]).unwrap();
        let frame = empty_as_none(frame, "name").unwrap();
        let column = frame
            .column("name")
            .unwrap()
            .as_materialized_series()
            .clone();
        column
            .str()
            .unwrap()
            .iter()
            .map(|v| v.map(str::to_string))
            .collect::<Vec<_>>()
    };
    assert_eq!(read(values), [Some("Ann".to_string()), None, None]);
    assert_eq!(read(constant), [None, None, None]);
    assert_eq!(read(kept), vec![Some("Bos".to_string()); 3]);
}

#[test]
fn a_fitted_text_column_holds_the_same_values() {
    use listaudit::normalize::text::fitted;
    use polars::prelude::*;

    let values: Vec<Option<String>> = (0..5000)
        .map(|i| (i % 7 != 0).then(|| format!("person.number{i}@example.org")))
        .collect();
    let mut column = StringChunked::new("email".into(), &values[..2000]);
    column
        .append(&StringChunked::new("email".into(), &values[2000..]))
        .unwrap();
    let frame = DataFrame::new(values.len(), vec![column.clone().into_column()]).unwrap();
    let fitted = fitted(frame, "email").unwrap();
    let got = fitted.column("email").unwrap().str().unwrap();
    assert_eq!(got.chunks().len(), 2);
    assert_eq!(
        got.iter().collect::<Vec<_>>(),
        column.iter().collect::<Vec<_>>()
    );
    assert_eq!(
        got.null_count(),
        values.iter().filter(|v| v.is_none()).count()
    );
}

/// `text` written to `path` and checked as a file of the `columns`, with boundaries every
/// `split_bytes`; its parts, and whether the check found it clean.
pub fn checked_parts(
    path: &std::path::Path,
    text: &[u8],
    columns: &[&str],
    split_bytes: u64,
) -> (listaudit::ingest::parts::Parts, bool) {
    use listaudit::ingest::{parts::Parts, scan};

    std::fs::write(path, text).unwrap();
    let scanned = scan::scan(|| Ok(text), 0, b',', columns.len(), Some(0), split_bytes).unwrap();
    let parts = Parts::checked(
        path.to_path_buf(),
        b',',
        columns.iter().map(|c| c.to_string()).collect(),
        scanned.splits,
        scanned.records,
        scanned.len,
        scanned.record_lines,
    );
    (parts, scanned.clean)
}

/// `text` written to `path` as a file of the `columns`, cut at line breaks every
/// `split_bytes` without the structure check (as the audit reads a contacts file); `None`
/// where the header is not plain names or no line follows it.
pub fn unchecked_parts(
    path: &std::path::Path,
    text: &[u8],
    columns: &[&str],
    split_bytes: u64,
) -> Option<listaudit::ingest::parts::Parts> {
    use listaudit::ingest::{parts::Parts, scan};

    std::fs::write(path, text).unwrap();
    let lines = scan::lines(&text, 0, b',', columns.len(), split_bytes)?;
    let columns = columns.iter().map(|c| c.to_string()).collect();
    Some(Parts::unchecked(path.to_path_buf(), b',', columns, lines))
}

#[test]
fn lines_are_found_without_the_check() {
    use listaudit::ingest::scan;

    let splits = |text: &[u8], split_bytes| {
        let lines = scan::lines(&text, 0, b',', 2, split_bytes)?;
        // Nothing counts the records before a boundary: each batch counts its own.
        assert!(lines.splits.iter().all(|s| s.record == 0));
        let offsets: Vec<u64> = lines.splits.iter().map(|s| s.offset).collect();
        Some((lines.estimate, offsets, lines.len))
    };
    let text = b"a,b\nx,1\r\ny,2\nz,3";
    // A boundary at the first line break past every 4 bytes. The estimate is the file's
    // length by its first lines' (here 12 bytes, two line breaks: the unended last line is
    // not one).
    assert_eq!(
        splits(text, 4),
        Some((2, vec![4, 9, 13], text.len() as u64))
    );
    assert_eq!(splits(text, 1 << 20), Some((2, vec![4], text.len() as u64)));
    assert_eq!(splits(b"a,b\nx,1\n", 1), Some((1, vec![4], 8)));
    // A line longer than the step: the next boundary is past it, once.
    assert_eq!(
        splits(b"a,b\nxxxxxxxxxxxx,1\ny,2\nz,3\n", 4),
        Some((3, vec![4, 19, 23], 27))
    );
    // Left to the check: a quoted or odd header, no data, another field count.
    assert_eq!(splits(b"a,\"b\"\nx,1\n", 1), None);
    assert_eq!(splits(b"a,b\r\r\nx,1\n", 1), None);
    assert_eq!(splits(b"a,b\n", 1), None);
    assert_eq!(splits(b"a,b", 1), None);
    assert_eq!(splits(b"a\nx\n", 1), None);
}

/// `text` (a header and records of `fields` cells, `c0`, `c1`, …) read by its parts; `None`
/// when the check finds it not clean. Boundaries every `split_bytes`.
pub fn read_by_parts(
    text: &[u8],
    fields: usize,
    split_bytes: u64,
) -> Option<polars::prelude::DataFrame> {
    let dir = tempfile::tempdir().unwrap();
    let names: Vec<String> = (0..fields).map(|i| format!("c{i}")).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let (parts, clean) = checked_parts(&dir.path().join("list.csv"), text, &names, split_bytes);
    clean.then(|| parts.frame().unwrap().collect().unwrap())
}

/// The records of `text` after its header as the csv crate reads them, an empty cell as none.
/// (Lines are left to [`a_clean_file_read_in_parts_is_the_file`]: the csv crate's own line
/// count is off after a record of only empty cells ended by `\r\n`.)
pub fn read_by_csv(text: &[u8]) -> Vec<Vec<Option<String>>> {
    csv::Reader::from_reader(text)
        .records()
        .map(|r| {
            r.unwrap()
                .iter()
                .map(|c| (!c.is_empty()).then(|| c.to_string()))
                .collect()
        })
        .collect()
}

/// The cells of a frame read by [`read_by_parts`], as [`read_by_csv`] gives them.
pub fn rows_of(frame: &polars::prelude::DataFrame, fields: usize) -> Vec<Vec<Option<String>>> {
    let columns: Vec<_> = (0..fields)
        .map(|i| {
            frame
                .column(&format!("c{i}"))
                .unwrap()
                .str()
                .unwrap()
                .clone()
        })
        .collect();
    (0..frame.height())
        .map(|row| {
            columns
                .iter()
                .map(|c| c.get(row).map(str::to_string))
                .collect()
        })
        .collect()
}

/// A file of a few megabytes, read a megabyte at a time, reads as the csv crate reads it:
/// records cut by a read, a cell longer than a read, long and short values, accents, CRLF.
/// An `@` as the 64th byte, the last one the bitmask check takes, is no valid address (the mask
/// of the bytes up to it once overflowed).
#[test]
fn an_at_sign_as_the_64th_byte_is_no_address() {
    use listaudit::normalize::email::is_valid_address;
    assert!(!is_valid_address(&format!("{}@", "a".repeat(63))));
    assert!(is_valid_address(&format!("{}@b.nl", "a".repeat(59))));
}

/// A file is read in sixteen batches, of 8 MB at the least and 64 MB at the most (unless
/// `LISTAUDIT_BATCH_BYTES`, which this test process does not set, says otherwise).
#[test]
fn a_file_is_read_in_sixteen_batches_within_bounds() {
    use listaudit::ingest::batch_bytes;
    assert_eq!(batch_bytes(160 << 20), 10 << 20);
    assert_eq!(batch_bytes(0), 8 << 20);
    assert_eq!(batch_bytes(1 << 20), 8 << 20);
    assert_eq!(batch_bytes(1500 << 20), 64 << 20);
}

#[test]
fn a_large_clean_file_reads_across_its_reads() {
    let mut text = String::from("c0,c1,c2\r\n");
    for i in 0..40_000 {
        let note = match i % 5 {
            0 => String::new(),
            1 => format!("\"een, twee \"\"{i}\"\"\r\nen drie\""),
            2 => format!("café {i} ünïcödé and a longer note"),
            3 if i == 20_003 => format!("\"{}\"", "x".repeat(1_500_000)),
            _ => format!("n{i}"),
        };
        text.push_str(&format!("person{i}@example.nl,{},{note}\r\n", i % 13));
    }
    assert!(text.len() > 3 << 20);
    let frame = read_by_parts(text.as_bytes(), 3, 64 << 10).expect("clean");
    let expected = read_by_csv(text.as_bytes());
    assert_eq!(rows_of(&frame, 3), expected);
}

/// A file that changed between its check and its reading (a record lost a cell) is an error,
/// not rows read askew.
#[test]
fn a_file_changed_after_its_check_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("list.csv");
    let (parts, clean) = checked_parts(
        &path,
        b"c0,c1\na@x.nl,1\nb@x.nl,2\n",
        &["c0", "c1"],
        1 << 20,
    );
    assert!(clean);
    // A record that lost a cell, and text that is no longer UTF-8.
    let changed: [&[u8]; 2] = [
        b"c0,c1\na@x.nl,1\nb@x.nl;2\n",
        b"c0,c1\na@x.nl,1\nb@x.nl,\xff\n",
    ];
    for text in changed {
        std::fs::write(&path, text).unwrap();
        let error = parts.clone().frame().unwrap().collect().unwrap_err();
        assert!(
            error.to_string().contains("changed while it was read"),
            "{error}"
        );
    }
}

/// A staged file holds every byte in order, written in pieces of every size, past the page
/// cache or through it: whole aligned blocks and a tail of any length, down to none at all.
#[test]
fn a_staged_file_is_written_whole_in_blocks_and_a_tail() {
    use listaudit::outputs::commit::Direct;
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let block = Direct::BLOCK as u32;
    for (n, total) in [0, 1, 4095, 4096, 4097, block, block + 1, 3 * block + 4100]
        .into_iter()
        .enumerate()
    {
        for direct in [true, false] {
            let path = dir.path().join(format!("{n}-{direct}.csv"));
            let mut writer = Direct::new(std::fs::File::create(&path).unwrap(), direct);
            if !direct {
                assert!(!writer.is_direct());
            }
            let mut expected = Vec::new();
            let mut i = 0u32;
            while expected.len() < total as usize {
                let len = ((i * 7919) % 100_000).min(total - expected.len() as u32);
                let piece: Vec<u8> = (0..len).map(|j| (i + j) as u8).collect();
                writer.write_all(&piece).unwrap();
                expected.extend_from_slice(&piece);
                i += 1;
            }
            let file = writer.finish().unwrap();
            file.sync_all().unwrap();
            drop(file);
            assert_eq!(
                std::fs::read(&path).unwrap(),
                expected,
                "{total} bytes, direct {direct}"
            );
        }
    }
}

#[test]
fn a_hash_taken_on_idle_time_is_the_files_hash() {
    // Whoever asks first takes over where the idle thread got to (nowhere, part of the way,
    // or the end), handed over every 4 KiB here: each time the same hash.
    use listaudit::ingest::digest::Hashing;
    use sha2::Digest;

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("list.csv");
    let text: Vec<u8> = (0..300_000u32)
        .flat_map(|i| (i % 251).to_le_bytes())
        .collect();
    std::fs::write(&path, &text).unwrap();
    let expected = listaudit::bytes::hex(&sha2::Sha256::digest(&text));
    for wait_ms in [0, 0, 1, 2, 5, 50] {
        let hashing = Hashing::start_with(path.clone(), 4096);
        std::thread::sleep(std::time::Duration::from_millis(wait_ms));
        assert_eq!(hashing.finish().unwrap(), expected);
        assert_eq!(hashing.finish().unwrap(), expected, "asked again");
    }
    let empty = dir.path().join("empty.csv");
    std::fs::write(&empty, b"").unwrap();
    let hashing = Hashing::start_with(empty, 4096);
    assert_eq!(
        hashing.finish().unwrap(),
        listaudit::bytes::hex(&sha2::Sha256::digest(b""))
    );
}

#[test]
fn a_hash_taken_to_the_end_on_idle_time_needs_the_file_no_more() {
    // A cron job may move the export on once it is read; the report still has its hash.
    use listaudit::ingest::digest::Hashing;
    use sha2::Digest;

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("list.csv");
    let text = b"email\na@example.com\n".repeat(5_000);
    std::fs::write(&path, &text).unwrap();
    let hashing = Hashing::start_with(path.clone(), 4096);
    let waited = std::time::Instant::now();
    while !hashing.is_done() {
        assert!(
            waited.elapsed() < std::time::Duration::from_secs(60),
            "the idle thread never finished"
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    std::fs::remove_file(&path).unwrap();
    assert_eq!(
        hashing.finish().unwrap(),
        listaudit::bytes::hex(&sha2::Sha256::digest(&text))
    );

    // A file gone before it was hashed is named in the error.
    let gone = dir.path().join("gone.csv");
    let error = Hashing::start_with(gone, 4096).finish().unwrap_err();
    assert!(
        error.to_string().starts_with("cannot hash ") && error.to_string().contains("gone.csv"),
        "{error}"
    );
}

#[test]
fn a_hash_read_ahead_is_the_bytes_hash() {
    // Lengths about the stretches (16 KiB) and windows (8 MiB) the hash reads ahead by.
    use sha2::Digest;
    let bytes: Vec<u8> = (0..(8 << 20) + 40_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    for len in [
        0,
        1,
        63,
        16 << 10,
        (16 << 10) + 1,
        (48 << 10) - 1,
        100_003,
        8 << 20,
        (8 << 20) + 40_000,
    ] {
        let part = &bytes[..len];
        assert_eq!(
            listaudit::ingest::scan::hash(&part),
            <[u8; 32]>::from(sha2::Sha256::digest(part)),
            "{len} bytes"
        );
    }
}

/// A table spelled on one thread is handed to a direct writer in whole aligned blocks, which
/// go past the page cache where they are (the writer stays direct); spelled in runs on two
/// threads and copied, or each slice's second half on a spare core, it is the same text. Over
/// several blocks, so that each block's tail is carried into the next; and with rows so long
/// that a chunk outgrows its room (its text then moves, and the chunk starts aligned again
/// when it is reused).
#[test]
fn a_table_spelled_on_one_thread_is_written_as_on_two() {
    use listaudit::outputs::commit::Direct;
    use listaudit::outputs::{Cell, CsvStyle, Table};
    use polars::prelude::*;
    let dir = tempfile::tempdir().unwrap();
    for (rows, width) in [(250_000, 0), (12_000, 1_000)] {
        let frame = DataFrame::new(
            rows,
            vec![
                Column::new(
                    "text".into(),
                    (0..rows)
                        .map(|i| {
                            (i % 11 != 0)
                                .then(|| format!("row {i}, {}", "x".repeat(width + i % 97)))
                        })
                        .collect::<Vec<_>>(),
                ),
                Column::new("n".into(), (0..rows as u64).collect::<Vec<_>>()),
            ],
        )
        .unwrap();
        let table = Table::whole(
            frame,
            vec![("text", Cell::Text("text")), ("n", Cell::Number("n"))],
        );
        let style = CsvStyle { excel: false };
        let mut in_runs = Vec::new();
        table.write(&mut in_runs, style, 2).unwrap();
        let mut on_one = Vec::new();
        table.write(&mut on_one, style, 1).unwrap();
        assert!(in_runs.len() > 2 * Direct::BLOCK, "{} bytes", in_runs.len());
        assert_eq!(on_one, in_runs);
        // Helped by a spare core, each slice's second half (here over a block of text) is
        // spelled beside the first and copied after it.
        let spare = std::sync::atomic::AtomicUsize::new(1);
        let mut helped = Vec::new();
        table.write_helped(&mut helped, style, &spare).unwrap();
        assert_eq!(helped, in_runs);
        let path = dir.path().join(format!("helped-{rows}.csv"));
        let mut writer = Direct::new(std::fs::File::create(&path).unwrap(), true);
        let direct = writer.is_direct();
        table.write_helped(&mut writer, style, &spare).unwrap();
        assert_eq!(writer.is_direct(), direct);
        writer.finish().unwrap().sync_all().unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), in_runs);

        let path = dir.path().join(format!("table-{rows}.csv"));
        let mut writer = Direct::new(std::fs::File::create(&path).unwrap(), true);
        let direct = writer.is_direct();
        table.write(&mut writer, style, 1).unwrap();
        // Every block went past the page cache from where it was spelled, or was copied: a
        // direct write of another address or length is refused, and the writer then goes on
        // through the cache.
        assert_eq!(writer.is_direct(), direct);
        writer.finish().unwrap().sync_all().unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), in_runs);
    }

    // Whole aligned blocks that come after bytes the writer holds are written after them.
    let path = dir.path().join("held.csv");
    let mut writer = Direct::new(std::fs::File::create(&path).unwrap(), true);
    let mut aligned: Vec<u8> = Vec::with_capacity(3 * Direct::ALIGN);
    let start = aligned.as_ptr().align_offset(Direct::ALIGN);
    aligned.resize(start, 0);
    aligned.extend((0..2 * Direct::ALIGN).map(|i| (i % 251) as u8));
    std::io::Write::write_all(&mut writer, b"held first,").unwrap();
    std::io::Write::write_all(&mut writer, &aligned[start..]).unwrap();
    writer.finish().unwrap().sync_all().unwrap();
    let mut expected = b"held first,".to_vec();
    expected.extend_from_slice(&aligned[start..]);
    assert_eq!(std::fs::read(&path).unwrap(), expected);
}

/// A write that fails part of the way through a table stops its spelling and is what the
/// table's write returns, on one thread or two: the spelling waits on no buffer the writer
/// will never hand back.
#[test]
fn a_failed_write_stops_the_table_with_its_error() {
    use listaudit::outputs::{Cell, CsvStyle, Table};
    use polars::prelude::*;
    /// Takes `left` bytes, then fails.
    struct Failing {
        left: usize,
    }
    impl std::io::Write for Failing {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            if self.left == 0 {
                return Err(std::io::Error::other("the disk is full"));
            }
            let n = buf.len().min(self.left);
            self.left -= n;
            Ok(n)
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let rows = 400_000;
    let frame = DataFrame::new(
        rows,
        vec![Column::new(
            "text".into(),
            (0..rows)
                .map(|i| format!("row {i} of a table too long to write"))
                .collect::<Vec<_>>(),
        )],
    )
    .unwrap();
    let table = Table::whole(frame, vec![("text", Cell::Text("text"))]);
    for threads in [1, 2] {
        let mut writer = Failing { left: 5 << 20 };
        let error = table
            .write(&mut writer, CsvStyle { excel: false }, threads)
            .unwrap_err();
        assert!(
            error.to_string().contains("the disk is full"),
            "{threads}: {error}"
        );
    }
}

/// `parallel::map` gives each item's result in the items' order, also from inside another
/// map's item (where it runs on the pool's own threads) and with more items than cores, and a
/// panic in an item goes on in the caller.
#[test]
fn a_parallel_map_keeps_the_order_nests_and_passes_a_panic_on() {
    use listaudit::parallel::map;
    let items: Vec<u64> = (0..37).collect();
    assert_eq!(
        map(items.clone(), |i| i * i),
        items.iter().map(|i| i * i).collect::<Vec<_>>()
    );
    let nested = map((0..5u64).collect(), |outer| {
        map((0..7u64).collect(), |inner| outer * 10 + inner)
    });
    let expected: Vec<Vec<u64>> = (0..5u64)
        .map(|outer| (0..7u64).map(|inner| outer * 10 + inner).collect())
        .collect();
    assert_eq!(nested, expected);
    assert!(map(Vec::<u64>::new(), |i| i).is_empty());
    let panicked = std::panic::catch_unwind(|| {
        map((0..4u64).collect(), |i| {
            assert!(i != 1, "item 1 fails");
            i
        })
    });
    assert!(panicked.is_err());
}
