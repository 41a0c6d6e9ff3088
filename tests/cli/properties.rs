//! Invariants over generated lists: every contact lands in exactly one outcome list, and the
//! counts in report.json equal the rows in the files.

use std::collections::BTreeSet;

use proptest::prelude::*;

use crate::harness::Case;
use crate::rules::line;

fn contact() -> impl Strategy<Value = Vec<(&'static str, String)>> {
    let status = prop::sample::select(vec![
        "subscribed",
        "subscribed",
        "unsubscribed",
        "cleaned",
        "pending",
        "transactional",
        "disabled",
        "weird",
        "",
    ]);
    let date = prop::sample::select(vec![
        "",
        "2015-03-01 10:00:00",
        "2019-06-01 10:00:00",
        "2026-11-20 10:00:00",
        "2024-12-15",
        "not a date",
    ]);
    let ip = prop::sample::select(vec!["", "192.0.2.1"]);
    let source = prop::sample::select(vec![
        "",
        "website",
        "checkout",
        "import",
        "bought list",
        "n/a",
    ]);
    let open = prop::sample::select(vec!["", "2026-10-01", "2022-01-01", "2025-01-15"]);
    let local = prop::sample::select(vec![
        "ann", "Ann", " bob", "cee", "dee", "eve", "fay", "gus",
    ]);
    let domain = prop::sample::select(vec!["example.com", "EXAMPLE.com", "example", "ex.nl"]);
    (status, date.clone(), ip, source, open, local, domain, date).prop_map(
        |(status, optin, ip, source, open, local, domain, confirm)| {
            vec![
                ("email", format!("{local}@{domain}")),
                ("status", status.to_string()),
                ("optin_at", optin.to_string()),
                ("optin_ip", ip.to_string()),
                ("confirm_at", confirm.to_string()),
                ("source", source.to_string()),
                ("last_open_at", open.to_string()),
            ]
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, .. ProptestConfig::default() })]

    #[test]
    fn every_contact_lands_in_exactly_one_outcome_list(contacts in prop::collection::vec(contact(), 0..40)) {
        let case = Case::new();
        let mut text = format!("{}\n", crate::rules::HEADER);
        for c in &contacts {
            let pairs: Vec<(&str, &str)> = c.iter().map(|(k, v)| (*k, v.as_str())).collect();
            text.push_str(&line(&pairs));
            text.push('\n');
        }
        case.write("list.csv", text);
        let run = case.audit(&["list.csv"], &[]);
        prop_assert_eq!(run.code, 0, "{}", run.stderr);

        let audit = case.csv("out/audit.csv");
        let keys: BTreeSet<String> = contacts.iter().map(|c| c[0].1.trim().to_lowercase()).collect();
        prop_assert_eq!(audit.len(), keys.len());

        let lists = [("keep", "keep.csv"), ("repermission", "repermission.csv"), ("no-marketing", "no-marketing.csv"), ("delete", "deletion.csv")];
        let mut seen: BTreeSet<String> = BTreeSet::new();
        let report = case.report();
        for (outcome, file) in lists {
            let rows = case.csv(&format!("out/{file}"));
            for row in &rows {
                prop_assert!(seen.insert(row["email"].to_lowercase()), "{} in two lists", row["email"]);
                let in_audit = audit.iter().find(|a| a["email"] == row["email"]).expect("listed in audit.csv");
                prop_assert_eq!(&in_audit["outcome"], outcome);
            }
            prop_assert_eq!(report["counts"]["outcomes"][outcome].as_u64(), Some(rows.len() as u64));
        }
        prop_assert_eq!(seen.len(), audit.len());
        prop_assert_eq!(report["counts"]["contacts"].as_u64(), Some(audit.len() as u64));
        prop_assert_eq!(report["counts"]["suppressed"].as_u64(), Some(case.csv("out/suppression.csv").len() as u64));
        for output in report["outputs"].as_array().unwrap() {
            let file = output["file"].as_str().unwrap();
            prop_assert_eq!(output["rows"].as_u64(), Some(case.csv(&format!("out/{file}")).len() as u64), "{}", file);
        }
        // Re-permission never goes to a withdrawn, bounced or transactional contact.
        for row in case.csv("out/repermission.csv") {
            let status = &audit.iter().find(|a| a["email"] == row["email"]).unwrap()["status"];
            prop_assert!(status == "subscribed", "{} is {}", row["email"], status);
        }
    }
}

proptest! {
    /// The formatter writes what chrono writes, for every instant of years 0–9999, and as
    /// often for 1960–2110, around the table of days it copies 1970–2099 from.
    #[test]
    fn instants_are_formatted_as_chrono_formats_them(millis in prop_oneof![
        -62_167_219_200_000i64..253_402_300_799_999,
        -315_619_200_000i64..4_418_064_000_000,
    ]) {
        let expected = chrono::DateTime::from_timestamp_millis(millis)
            .unwrap()
            .format("%Y-%m-%dT%H:%M:%SZ")
            .to_string();
        prop_assert_eq!(listaudit::normalize::date::format_instant(millis), expected);
    }

    /// The e-mail spelling and key in Rust match their definitions (SPEC §2.3): trimmed, one
    /// formula guard and enclosing `<…>` removed; the key is the lower-cased spelling.
    #[test]
    fn addresses_are_cleaned_and_keyed(
        pad in "[ \t]{0,2}", guard in prop::bool::ANY, bracket in prop::bool::ANY,
        address in "[a-zA-ZÉé0-9.]{1,8}@[a-zA-Z]{1,6}\\.[a-z]{2,3}",
    ) {
        use listaudit::normalize::email::{display_of, key_of};
        let mut raw = address.clone();
        if bracket { raw = format!("< {raw} >"); }
        if guard { raw = format!("'{raw}"); }
        let raw = format!("{pad}{raw}{pad}");
        let (display, key) = (display_of(&raw), key_of(&address));
        prop_assert_eq!(display.as_ref(), address.as_str());
        prop_assert_eq!(key.as_ref(), address.to_lowercase());
    }
}

proptest! {
    /// The one-step reading of plain ISO dates gives what the general parser gives, for valid
    /// and invalid values of that shape alike; and it is the one step that reads a plain one
    /// (a wrong constant in it once sent every date to the general parser, which gave the same
    /// answers more slowly).
    #[test]
    fn plain_iso_dates_read_as_the_general_parser_reads_them(
        value in "[0-9]{4}-[0-2][0-9]-[0-3][0-9]([ Tt][0-2][0-9]:[0-6][0-9]:[0-6][0-9])?[Z ]?",
    ) {
        use listaudit::normalize::date::{DateOrder, parse, parse_general, parse_iso};
        for order in [DateOrder::DayFirst, DateOrder::MonthFirst] {
            prop_assert_eq!(parse(&value, order), parse_general(&value, order), "{}", value);
        }
        if matches!(value.len(), 10 | 19) && !value.contains('t') {
            prop_assert_eq!(parse_iso(value.as_bytes()), parse_general(&value, DateOrder::DayFirst), "{}", value);
        }
    }

    /// The same of a plain ISO value with any one character in place of one of its own: a
    /// digit, a separator, a character just past the digits, or one of two bytes in place of
    /// two (so the length stays, and its bytes with the top bit set stand where digits do).
    #[test]
    fn a_plain_iso_date_with_a_character_changed_reads_as_the_general_parser_reads_it(
        value in "[0-9]{4}-[01][0-9]-[0-3][0-9]([ T][0-2][0-9]:[0-5][0-9]:[0-5][0-9])?",
        at in any::<prop::sample::Index>(),
        other in prop_oneof![
            prop::char::range('\0', '\u{7f}'),
            Just('é'),
            Just('ð'),
            Just('\u{ff10}'),
        ],
    ) {
        use listaudit::normalize::date::{DateOrder, parse, parse_general};
        let mut chars: Vec<char> = value.chars().collect();
        let at = at.index(chars.len());
        chars[at] = other;
        if other.len_utf8() == 2 && at + 1 < chars.len() {
            chars.remove(at + 1);
        }
        let value: String = chars.into_iter().collect();
        for order in [DateOrder::DayFirst, DateOrder::MonthFirst] {
            prop_assert_eq!(parse(&value, order), parse_general(&value, order), "{:?}", value);
        }
    }
}

proptest! {
    /// The deletion-request test is its definition, the key's end, for addresses that end
    /// in the domain in any case, near it, or in characters that lower-case to ASCII.
    #[test]
    fn deletion_requests_are_the_keys_that_end_in_the_domain(
        start in "[a-zA-Z0-9\u{212a}\u{130}é.]{0,6}",
        end in "(@deletion-request\\.substack\\.com|@DELETION-request\\.Substack\\.COM|@deletion-request\\.substac\u{212a}\\.com|@deletion-request\\.substack\\.co|eletion-request\\.substack\\.com|\u{130}@x\\.nl|)",
    ) {
        use listaudit::normalize::email::{DELETION_REQUEST_DOMAIN, is_deletion_request, key_of};
        let address = format!("{start}{end}");
        prop_assert_eq!(
            is_deletion_request(&address),
            key_of(&address).ends_with(DELETION_REQUEST_DOMAIN),
            "{:?}", address
        );
    }
}

proptest! {
    /// The end-byte shortcut trims as `str::trim` does: ASCII and Unicode white space at
    /// either end, control bytes, and values with none.
    #[test]
    fn trimming_is_str_trim(value in "[ \t\r\n\u{b}\u{c}\u{1f}\u{85}\u{a0}\u{2003}\u{3000}a-z!~é]{0,6}") {
        prop_assert_eq!(listaudit::normalize::text::trim(&value), value.trim(), "{:?}", value);
    }
}

proptest! {
    /// Bits a reader pushes, some taken back, pack into the bitmap of the bits kept, and a
    /// validity is none exactly when every value is valid.
    #[test]
    fn pushed_bits_pack_as_they_were_pushed(
        bits in prop::collection::vec(any::<bool>(), 0..150),
        popped in 0usize..10,
    ) {
        use listaudit::normalize::text::{Bits, Validity};
        let kept = &bits[..bits.len().saturating_sub(popped)];
        let (mut built, mut validity) = (Bits::with_capacity(0), Validity::with_capacity(0));
        for bit in &bits {
            built.push(*bit);
            validity.push(*bit);
        }
        for _ in kept.len()..bits.len() {
            built.pop();
            validity.pop();
        }
        let packed = built.finish();
        prop_assert_eq!(packed.iter().collect::<Vec<bool>>(), kept.to_vec());
        match validity.finish() {
            Some(valid) => {
                prop_assert!(kept.contains(&false));
                prop_assert_eq!(valid.iter().collect::<Vec<bool>>(), kept.to_vec());
            }
            None => prop_assert!(!kept.contains(&false)),
        }
    }
}

proptest! {
    /// Stretches of bitmaps, each from any bit of a bitmap that may itself be a slice, and
    /// constant runs join into the bits polars' own `MutableBitmap` makes of them.
    #[test]
    fn joined_bits_are_the_stretches_in_order(
        source in prop::collection::vec(any::<bool>(), 1..400),
        sliced_from in 0usize..20,
        stretches in prop::collection::vec((any::<bool>(), 0usize..400, 0usize..150, any::<bool>()), 0..12),
    ) {
        use polars_arrow::bitmap::{Bitmap, MutableBitmap};
        let whole = Bitmap::from_iter(source.iter().copied());
        let from = sliced_from.min(whole.len() - 1);
        let bits = whole.clone().sliced(from, whole.len() - from);
        let mut joined = listaudit::normalize::columns::JoinedBits::with_capacity(0);
        let mut expected = MutableBitmap::new();
        for (constant, at, n, bit) in stretches {
            if constant {
                joined.extend_constant(n, bit);
                expected.extend_constant(n, bit);
            } else {
                let at = at.min(bits.len());
                let n = n.min(bits.len() - at);
                joined.extend(&bits, at, n);
                expected.extend_from_bitmap(&bits.clone().sliced(at, n));
            }
        }
        let expected: Bitmap = expected.into();
        let joined = joined.finish();
        prop_assert_eq!(joined.len(), expected.len());
        prop_assert_eq!(joined.iter().collect::<Vec<bool>>(), expected.iter().collect::<Vec<bool>>());
    }
}

proptest! {
    /// The hand-written address check agrees with the rule's pattern (SPEC §2.3).
    #[test]
    fn the_address_check_is_the_pattern(address in "[a-zé.\u{a0} ]{0,4}@?[a-z.@\t ]{0,7}") {
        let pattern = regex::Regex::new(listaudit::normalize::email::VALID_EMAIL).unwrap();
        prop_assert_eq!(
            listaudit::normalize::email::is_valid_address(&address),
            pattern.is_match(&address),
            "{:?}", address
        );
        for (fixed, valid) in [("a@b.nl", true), ("a.@b.nl", true), (".a@b.nl", true), ("a@b.nl.", false), ("a@b.", false), ("a@b", false), ("a@@b.nl", false), ("a b@c.nl", false), ("a@b..nl", false), ("a@.b.nl", false), ("@b.nl", false)] {
            prop_assert_eq!(listaudit::normalize::email::is_valid_address(fixed), valid, "{}", fixed);
        }
    }
}

proptest! {
    /// The same of addresses around 64 bytes, where the check by bitmasks hands over to the
    /// check byte by byte, with an occasional byte that is not plain ASCII anywhere.
    #[test]
    fn a_long_address_check_is_the_pattern(
        local in "[a-z.]{0,40}",
        at in "@?",
        domain in "[a-z.]{0,30}",
        odd in "[\t \x7fé@.]?",
        place in 0usize..80,
    ) {
        let mut address = format!("{local}{at}{domain}");
        let place = address.char_indices().map(|(i, _)| i).chain([address.len()]).nth(place).unwrap_or(address.len());
        address.insert_str(place, &odd);
        let pattern = regex::Regex::new(listaudit::normalize::email::VALID_EMAIL).unwrap();
        prop_assert_eq!(
            listaudit::normalize::email::is_valid_address(&address),
            pattern.is_match(&address),
            "{:?}", address
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, .. ProptestConfig::default() })]
    /// The output writer's quoting, read back by the csv crate, gives every value as it was
    /// (short values of every character, and longer ones, on either side of the 32 bytes the
    /// writer checks in one step, with one to quote anywhere), in both styles (an empty cell
    /// reads back empty, whether it was null or empty text).
    #[test]
    fn any_text_survives_the_csv_writer(
        values in prop::collection::vec(prop::option::of("[a-z,;\"\r\n =' ]{0,6}|[a-z =']{0,24}[,;\"\r\n]?[a-z ]{0,24}"), 0..40),
        excel in any::<bool>(),
    ) {
        use polars::prelude::*;
        let rows = values.len();
        let frame = DataFrame::new(rows, vec![
            Column::new("text".into(), values.clone()),
            Column::new("n".into(), (0..rows as u32).collect::<Vec<_>>()),
        ]).unwrap();
        let mut out: Vec<u8> = Vec::new();
        use listaudit::outputs::Cell;
        listaudit::outputs::Table::whole(frame, vec![("text", Cell::Text("text")), ("n", Cell::Number("n"))])
            .write(&mut out, listaudit::outputs::CsvStyle { excel }, 1)
            .unwrap();
        let bom = "\u{feff}".as_bytes();
        let body = if excel { out.strip_prefix(bom).expect("a BOM") } else { &out[..] };
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(if excel { b';' } else { b',' })
            .from_reader(body);
        prop_assert_eq!(reader.headers().unwrap().iter().collect::<Vec<_>>(), vec!["text", "n"]);
        let read: Vec<(String, String)> = reader
            .records()
            .map(|r| {
                let r = r.unwrap();
                (r[0].to_string(), r[1].to_string())
            })
            .collect();
        let expected: Vec<(String, String)> = values
            .iter()
            .enumerate()
            .map(|(i, v)| (v.clone().unwrap_or_default(), i.to_string()))
            .collect();
        prop_assert_eq!(read, expected);
    }
}

/// A CSV cell: plain (perhaps blank, perhaps with a backslash), quoted (with delimiters, line
/// breaks, doubled quotes, a backslash before a quote), or a lone carriage return.
fn cell() -> impl Strategy<Value = String> {
    prop_oneof![
        40 => "[a-z \\\\]{0,3}",
        20 => r#""([a-z,\n\\]|""){0,4}""#,
        1 => Just("\r".to_string()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, .. ProptestConfig::default() })]
    /// The structure check of a file in parts finds what the check in one part finds: whether
    /// it is clean, its records, the line each starts on, its rows without an e-mail, and
    /// why it is not clean; and every boundary it keeps is one between two records. Cells hold
    /// quotes, line breaks, backslashes, blanks and ragged rows, so that a part often starts
    /// inside a quoted field.
    #[test]
    fn a_file_checked_in_parts_is_checked_as_in_one(
        rows in prop::collection::vec(
            (
                prop::collection::vec(cell(), 3),
                prop::option::weighted(0.01, cell()),
            ),
            0..30,
        ),
        parts in 2usize..5,
        crlf in any::<bool>(),
    ) {
        use listaudit::ingest::scan::{scan_in_parts, Pass};
        let end = if crlf { "\r\n" } else { "\n" };
        let mut text = format!("email,name,note{end}");
        for (cells, ragged) in &rows {
            text.push_str(&cells.join(","));
            if let Some(extra) = ragged {
                text.push(',');
                text.push_str(extra);
            }
            text.push_str(end);
        }
        let text = text.as_bytes();
        let whole = scan_in_parts(text, 1, 3, Some(0), 1, Pass::Blocks).expect("one part");
        let Some(parted) = scan_in_parts(text, parts, 3, Some(0), 1 << 40, Pass::Blocks) else {
            // A part started inside a quoted field; the run checks such a file again whole.
            return Ok(());
        };
        prop_assert_eq!(parted.clean, whole.clean);
        prop_assert_eq!(parted.backslash_quote, whole.backslash_quote);
        prop_assert_eq!(&parted.sha256, &whole.sha256);
        if whole.clean {
            prop_assert_eq!(parted.records, whole.records);
            prop_assert_eq!(&parted.record_lines, &whole.record_lines);
            prop_assert_eq!(&parted.empty_email, &whole.empty_email);
            // With a boundary every byte, the whole check keeps every record's start.
            let starts: Vec<(u64, u64)> = whole.splits.iter().map(|s| (s.offset, s.record)).collect();
            for split in &parted.splits {
                prop_assert!(starts.contains(&(split.offset, split.record)), "{:?} is no record start", split);
            }
        }
    }
}

/// A key-like mapping: lower-cases, and so writes new text only for values with a capital.
fn lowered(v: &str) -> std::borrow::Cow<'_, str> {
    listaudit::normalize::email::key_of(v)
}

/// A cut-down mapping: trims, and so only ever points into the value itself.
fn trimmed(v: &str) -> std::borrow::Cow<'_, str> {
    std::borrow::Cow::Borrowed(v.trim())
}

/// `map_text` over a column of `chunks` pieces, as a frame column.
fn map_text_over(
    values: &[Option<String>],
    chunks: usize,
    f: fn(&str) -> std::borrow::Cow<'_, str>,
) -> (
    polars::prelude::StringChunked,
    polars::prelude::StringChunked,
) {
    use polars::prelude::*;
    let input = chunked_text(values, chunks);
    let frame = DataFrame::new(input.len(), vec![input.clone().into_column()]).unwrap();
    let out = frame
        .lazy()
        .select([listaudit::normalize::text::map_text(col("v"), f)])
        .collect()
        .unwrap();
    (input, out.column("v").unwrap().str().unwrap().clone())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, .. ProptestConfig::default() })]
    /// A mapped text column holds exactly what the function gives for each value, null for
    /// null, whether its values are short or long, cut down or written anew, in one chunk or
    /// several.
    #[test]
    fn a_mapped_text_column_holds_what_the_function_gives(
        values in prop::collection::vec(prop::option::of("[ a-zA-Zé@.]{0,30}"), 0..60),
        chunks in 1usize..4,
        cut in any::<bool>(),
    ) {
        let f = if cut { trimmed } else { lowered };
        let (_, out) = map_text_over(&values, chunks, f);
        let expected: Vec<Option<String>> =
            values.iter().map(|v| v.as_deref().map(|v| f(v).into_owned())).collect();
        let got: Vec<Option<String>> = out.iter().map(|v| v.map(str::to_string)).collect();
        prop_assert_eq!(got, expected);
    }
}

/// Where one long address in many has a capital, the key column points at the address
/// column's own text and copies only the one changed value: it must not hold all the text
/// twice (on ten million contacts that was 300 MB).
#[test]
fn a_key_column_shares_the_text_of_the_addresses() {
    let mut values: Vec<Option<String>> = (0..1000)
        .map(|i| Some(format!("someone.{i}@a-long-domain.example")))
        .collect();
    values[500] = Some("Someone.Else@a-long-domain.example".into());
    values[7] = None;
    let (input, out) = map_text_over(&values, 1, lowered);
    assert_eq!(out.get(500), Some("someone.else@a-long-domain.example"));
    assert_eq!(out.get(7), None);
    assert_eq!(out.get(3), Some("someone.3@a-long-domain.example"));
    let (input, out) = (
        input.downcast_iter().next().unwrap(),
        out.downcast_iter().next().unwrap(),
    );
    let shared: Vec<_> = input.data_buffers().iter().map(|b| b.as_ptr()).collect();
    assert!(
        shared
            .iter()
            .all(|s| out.data_buffers().iter().any(|b| b.as_ptr() == *s)),
        "the key column copied the addresses' text"
    );
    let own: usize = out
        .data_buffers()
        .iter()
        .filter(|b| !shared.contains(&b.as_ptr()))
        .map(|b| b.len())
        .sum();
    assert!(own < 100, "{own} bytes of new text for one changed address");
}

/// A column of `values` in `chunks` pieces.
fn chunked_text(values: &[Option<String>], chunks: usize) -> polars::prelude::StringChunked {
    use polars::prelude::*;
    let per = values.len().div_ceil(chunks.max(1)).max(1);
    let mut all = StringChunked::new("v".into(), Vec::<Option<&str>>::new());
    for part in values.chunks(per) {
        all.append(&StringChunked::new("v".into(), part)).unwrap();
    }
    all
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, .. ProptestConfig::default() })]
    /// Putting the contacts in first-row order a chunk of rows at a time gives what one gather
    /// over all the rows and the merged contacts gives, for every kind of column (text, short
    /// and long, Booleans, numbers, nulls, a constant), from rows in several chunks, each
    /// holding its memory alone (moved in place) or sharing it (copied); the columns come out
    /// cut alike, a chunk for each chunk of rows that keeps a contact, or as the constant they
    /// were.
    #[test]
    fn contacts_put_in_order_chunk_by_chunk_are_those_of_one_gather(
        rows in prop::collection::vec(
            (0u8..12, prop::option::of("[a-z@.]{0,20}"), prop::option::of(any::<bool>()), prop::option::of(any::<i64>())),
            0..50,
        ),
        merged_values in prop::collection::vec(
            (prop::option::of("[A-Z]{0,16}"), prop::option::of(any::<bool>()), prop::option::of(any::<i64>())),
            12,
        ),
        chunks in 1usize..4,
        owned in any::<bool>(),
        constant_kept in any::<bool>(),
    ) {
        use polars::prelude::*;
        use listaudit::decide::{col, in_first_row_order};

        let seven = || Scalar::new(DataType::Int32, AnyValue::Int32(7));
        let n = rows.len();
        let mut count = [0usize; 12];
        for (key, ..) in &rows {
            count[*key as usize] += 1;
        }
        let repeated: Vec<bool> = rows.iter().map(|(key, ..)| count[*key as usize] > 1).collect();
        // The merged contacts: one per repeated key, by its first row.
        let mut firsts: Vec<(IdxSize, usize)> = Vec::new();
        for (row, (key, ..)) in rows.iter().enumerate() {
            let key = *key as usize;
            if count[key] > 1 && !firsts.iter().any(|(_, k)| *k == key) {
                firsts.push((row as IdxSize, key));
            }
        }
        let frame = |text: Vec<Option<String>>, flag: Vec<Option<bool>>, number: Vec<Option<i64>>, line: Vec<u32>, constant: Column| {
            let height = line.len();
            DataFrame::new(height, vec![
                Column::new("text".into(), text),
                Column::new("flag".into(), flag),
                Column::new("number".into(), number),
                Column::new("line".into(), line),
                constant,
            ]).unwrap()
        };
        let rows_frame = |at: usize, len: usize| {
            let part = &rows[at..at + len];
            frame(
                part.iter().map(|r| r.1.clone()).collect(),
                part.iter().map(|r| r.2).collect(),
                part.iter().map(|r| r.3).collect(),
                (at as u32..(at + len) as u32).collect(),
                Column::new_scalar("constant".into(), seven(), len),
            )
        };
        let whole = rows_frame(0, n);
        // The rows in `chunks` chunks, as the batches of a file are: each a frame of its own,
        // or a slice of one frame.
        let piece = |at: usize, len: usize| match owned {
            true => rows_frame(at, len),
            false => whole.slice(at as i64, len),
        };
        let mut singles = piece(0, n / chunks);
        let mut at = n / chunks;
        while at < n {
            let len = (n / chunks).max(1).min(n - at);
            singles.vstack_mut_owned(piece(at, len)).unwrap();
            at += len;
        }
        // Stacking writes a constant out; the rows hold one as a constant.
        singles.with_column(Column::new_scalar("constant".into(), seven(), n)).unwrap();
        let m = firsts.len();
        let mut merged = frame(
            firsts.iter().map(|(_, k)| merged_values[*k].0.clone()).collect(),
            firsts.iter().map(|(_, k)| merged_values[*k].1).collect(),
            firsts.iter().map(|(_, k)| merged_values[*k].2).collect(),
            firsts.iter().map(|(row, _)| *row).collect(),
            Column::new("constant".into(), vec![if constant_kept { 7i32 } else { 8 }; m]),
        );
        merged.with_column(Column::new(col::FIRST_ROW.into(), firsts.iter().map(|(row, _)| *row).collect::<Vec<IdxSize>>())).unwrap();

        // One gather over the rows followed by the merged contacts.
        let mut order: Vec<IdxSize> = Vec::new();
        let mut next = 0;
        for (row, is_repeated) in repeated.iter().enumerate() {
            if !is_repeated {
                order.push(row as IdxSize);
            } else if firsts.get(next).is_some_and(|(first, _)| *first == row as IdxSize) {
                order.push((n + next) as IdxSize);
                next += 1;
            }
        }
        let mut all = whole.clone();
        all.vstack_mut(&merged.drop(col::FIRST_ROW).unwrap()).unwrap();
        let expected = all.take(&IdxCa::from_vec("order".into(), order)).unwrap();

        let is_repeated = BooleanChunked::from_slice("repeated".into(), &repeated);
        let row_chunks: Vec<usize> = listaudit::normalize::columns::chunk_lengths(&singles);
        // Where each chunk's numbers and views are: a chunk of its own is moved in place.
        let numbers_at = |frame: &DataFrame| -> Vec<usize> {
            let numbers = frame.column("number").unwrap().i64().unwrap();
            numbers.downcast_iter().map(|a| a.values().as_ptr() as usize).collect()
        };
        let views_at = |frame: &DataFrame| -> Vec<usize> {
            let text = frame.column("text").unwrap().str().unwrap();
            text.downcast_iter().map(|a| a.views().as_ptr() as usize).collect()
        };
        let (numbers_were, views_were) = (numbers_at(&singles), views_at(&singles));
        let got = in_first_row_order(singles, &is_repeated, merged).unwrap();
        if owned && got.height() > 1 {
            for at in numbers_at(&got) {
                prop_assert!(numbers_were.contains(&at), "the numbers were copied");
            }
            for at in views_at(&got) {
                prop_assert!(views_were.contains(&at), "the views were copied");
            }
        }
        prop_assert!(got.equals_missing(&expected), "got {got}\nexpected {expected}");
        let cut = listaudit::normalize::columns::chunk_lengths(&got);
        // polars holds a one-row column as a constant.
        for column in got.columns().iter().filter(|c| c.len() > 1) {
            let constant = column.name() == "constant" && (constant_kept || m == 0);
            match column {
                Column::Scalar(_) => prop_assert!(constant, "{} became a constant", column.name()),
                Column::Series(series) => {
                    prop_assert!(!constant, "the constant was written out");
                    let lengths: Vec<usize> = series.chunk_lengths().collect();
                    prop_assert_eq!(&lengths, &cut, "{}", column.name());
                }
            }
        }
        // Each chunk of rows that keeps a contact gives a chunk, never longer than itself.
        prop_assert!(!cut.contains(&0) || got.height() == 0, "an empty chunk: {cut:?}");
        prop_assert!(cut.len() <= row_chunks.len(), "{cut:?} from {row_chunks:?}");
    }
}

/// The first row of each value's key where another value has the key, by a map of every key.
fn repeated_by_map(values: &[Option<String>]) -> Vec<Option<u32>> {
    let mut rows: std::collections::HashMap<String, (u32, usize)> =
        std::collections::HashMap::new();
    for (row, value) in values.iter().enumerate() {
        if let Some(value) = value {
            rows.entry(lowered(value).into_owned())
                .or_insert((row as u32, 0))
                .1 += 1;
        }
    }
    values
        .iter()
        .map(|v| {
            let (first, count) = rows[lowered(v.as_ref()?).as_ref()];
            (count > 1).then_some(first)
        })
        .collect()
}

fn repeated_rows_of(values: &[Option<String>], chunks: usize) -> Vec<Option<u32>> {
    let column = chunked_text(values, chunks);
    let arrays: Vec<_> = column.downcast_iter().collect();
    listaudit::decide::repeated_rows(&arrays).iter().collect()
}

proptest! {
    /// The partitioned repeated-key pass finds the rows a map of every key finds, each with
    /// its key's first row: case variants are one key, a null is none, across chunks.
    #[test]
    fn repeated_keys_are_those_a_map_finds(
        values in prop::collection::vec(prop::option::weighted(0.9, "[aAbB@.]{0,3}"), 0..60),
        chunks in 1usize..4,
    ) {
        prop_assert_eq!(repeated_rows_of(&values, chunks), repeated_by_map(&values));
    }
}

/// Enough rows that every core hashes a share of them: the shares' partitions are read in row
/// order, one share after another.
#[test]
fn repeated_keys_are_found_across_the_cores_shares() {
    let values: Vec<Option<String>> = (0..300_000u32)
        .map(|i| match i % 7 {
            0 => None,
            // Every 11th address once more in capitals, far from its first row.
            1 if i % 11 == 1 => Some(format!("USER{}@EXAMPLE.COM", i / 3)),
            _ => Some(format!("user{i}@example.com")),
        })
        .collect();
    let found = repeated_rows_of(&values, 3);
    assert_eq!(found, repeated_by_map(&values));
    assert!(found.iter().flatten().count() > 1000);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, .. ProptestConfig::default() })]
    /// A clean file read by its parts holds what the csv crate reads: quoted delimiters, line
    /// breaks and doubled quotes, empty cells as null; `\n` or `\r\n`.
    #[test]
    fn a_clean_file_reads_as_the_csv_crate_reads_it(
        rows in prop::collection::vec(prop::collection::vec(cell(), 3), 1..30),
        crlf in any::<bool>(),
    ) {
        let end = if crlf { "\r\n" } else { "\n" };
        let mut text = format!("c0,c1,c2{end}");
        for cells in &rows {
            text.push_str(&cells.join(","));
            text.push_str(end);
        }
        let Some(frame) = crate::units::read_by_parts(text.as_bytes(), 3, 16) else {
            // Not clean (a stray quote or carriage return): the record-level pass reads it.
            return Ok(());
        };
        prop_assert_eq!(crate::units::rows_of(&frame, 3), crate::units::read_by_csv(text.as_bytes()));
    }
}

proptest! {
    /// The sixteen-bytes-at-a-time search finds the first of its bytes where a search byte by
    /// byte finds it, at any offset and length; and a zero byte in the padding of a short
    /// string is never found.
    #[test]
    fn the_first_of_some_bytes_is_where_a_byte_search_finds_it(
        bytes in prop::collection::vec(prop::sample::select(b"aaaaaaaaaaaaaaab,\"\n\r\xe9\0".to_vec()), 0..70),
    ) {
        let targets = [b',', b'\n', b'\r', b'\0'];
        let expected = bytes.iter().position(|b| targets.contains(b));
        prop_assert_eq!(listaudit::bytes::first_of(&bytes, targets), expected);
    }
}

/// A cell of a file that is clean or nearly so: plain, blank, quoted with doubled quotes,
/// delimiters and line breaks inside, non-ASCII.
fn checked_cell() -> impl Strategy<Value = String> {
    prop_oneof![
        30 => "[a-z]{0,8}",
        4 => "[ \t]{1,3}",
        2 => Just("é".to_string()),
        12 => r#""([a-z ,\n\r]|""){0,12}""#,
        2 => Just("\"\"\"\"".to_string()),
        2 => Just("\" \"".to_string()),
        // MailPoet's escaping, which only the record-level pass reads.
        1 => r#""[a-z]{0,9}\\""#,
    ]
}

/// What spoils a clean file: a stray or backslashed quote, a text after a closing quote, a
/// lone carriage return, a blank line, a delimiter too many, a byte that is no UTF-8.
fn spoiler() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        Just(b"\"".to_vec()),
        Just(b"\\\"".to_vec()),
        Just(b"\"ab\\\"\"".to_vec()),
        Just(b"\"x\"y".to_vec()),
        Just(b"\r".to_vec()),
        Just(b"\n".to_vec()),
        Just(b",".to_vec()),
        Just(vec![0xff]),
    ]
}

/// A file of the header `a,b,c` and `rows`, each line ended (the last only with
/// `last_line_end`), with the bytes of `spoilt` put in anywhere (past the header with
/// `past_header`), half the time next to a block's edge, where one block hands over to the
/// next.
fn spoilt_file(
    rows: &[Vec<String>],
    spoilt: &Option<(prop::sample::Index, i64, Vec<u8>)>,
    crlf: bool,
    last_line_end: bool,
    past_header: bool,
) -> Vec<u8> {
    let end = if crlf { "\r\n" } else { "\n" };
    let mut text = format!("a,b,c{end}").into_bytes();
    let from = if past_header { text.len() } else { 0 };
    for (i, cells) in rows.iter().enumerate() {
        text.extend_from_slice(cells.join(",").as_bytes());
        if i + 1 < rows.len() || last_line_end {
            text.extend_from_slice(end.as_bytes());
        }
    }
    if let Some((at, by, spoiler)) = spoilt {
        let mut at = from + at.index(text.len() + 1 - from);
        if *by != 0 {
            at = ((at / 64 * 64) as i64 + by).clamp(from as i64, text.len() as i64) as usize;
        }
        text.splice(at..at, spoiler.iter().copied());
    }
    text
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1024, .. ProptestConfig::default() })]
    /// The check 64 bytes at a time finds what the check a byte at a time finds, in one part
    /// and in several: whether a file is clean, its records, the line each starts on, its rows
    /// without an e-mail (the e-mail in any column), its boundaries, whether a part started
    /// inside a quoted field, and a backslashed quote. Files run over many blocks; most are
    /// clean, and some are spoilt at one place.
    #[test]
    fn the_check_by_blocks_finds_what_the_check_by_bytes_finds(
        rows in prop::collection::vec(prop::collection::vec(checked_cell(), 3), 0..40),
        spoilt in prop::option::weighted(0.5, (any::<prop::sample::Index>(), -6i64..2, spoiler())),
        crlf in any::<bool>(),
        last_line_end in any::<bool>(),
        email in 0usize..3,
        parts in 1usize..4,
        split_bytes in prop_oneof![Just(1u64), Just(100), Just(1 << 40)],
    ) {
        use listaudit::ingest::scan::{scan_in_parts, Pass, Scan};
        let text = spoilt_file(&rows, &spoilt, crlf, last_line_end, false);
        let seen = |scan: Option<Scan>| scan.map(|s| {
            let splits: Vec<(u64, u64)> = s.splits.iter().map(|x| (x.offset, x.record)).collect();
            let found = s.clean.then_some((s.records, s.record_lines, s.empty_email, splits));
            (s.clean, s.backslash_quote, s.sha256, s.len, found)
        });
        let by_blocks = seen(scan_in_parts(&text, parts, 3, Some(email), split_bytes, Pass::Blocks));
        let by_bytes = seen(scan_in_parts(&text, parts, 3, Some(email), split_bytes, Pass::Bytes));
        prop_assert_eq!(by_blocks, by_bytes, "{:?}", String::from_utf8_lossy(&text));
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, .. ProptestConfig::default() })]
    /// A file read without the structure check, every line taken for a record, reads as the
    /// checked file reads (the same cells, lines and records) when the check finds it clean
    /// and no record spans lines; otherwise reading finds it not clean, and the run checks it.
    #[test]
    fn a_file_read_unchecked_reads_as_checked_or_is_found_not_clean(
        rows in prop::collection::vec(prop::collection::vec(checked_cell(), 3), 1..40),
        spoilt in prop::option::weighted(0.5, (any::<prop::sample::Index>(), -6i64..2, spoiler())),
        crlf in any::<bool>(),
        last_line_end in any::<bool>(),
        split_bytes in prop_oneof![Just(1u64), Just(100), Just(1 << 40)],
    ) {
        use listaudit::ingest::scan::{scan_in_parts, Pass};
        // Past the header: a spoilt header is the check's.
        let text = spoilt_file(&rows, &spoilt, crlf, last_line_end, true);
        let dir = tempfile::tempdir().unwrap();
        let columns = ["a", "b", "c"];
        let Some(unchecked) = crate::units::unchecked_parts(&dir.path().join("u.csv"), &text, &columns, split_bytes) else {
            // A plain header and a line after it: always read so.
            return Err(TestCaseError::fail(format!("not read: {:?}", String::from_utf8_lossy(&text))));
        };
        let whole = scan_in_parts(&text, 1, 3, Some(0), 1 << 40, Pass::Bytes).expect("one part");
        let lines = text.iter().filter(|b| **b == b'\n').count() + usize::from(text.last() != Some(&b'\n'));
        let one_line_records = whole.clean && whole.records as usize + 1 == lines;
        let read = unchecked.frame().and_then(|f| f.collect());
        prop_assert_eq!(read.is_ok(), one_line_records, "{:?}", String::from_utf8_lossy(&text));
        if let Ok(read) = read {
            let (checked, clean) = crate::units::checked_parts(&dir.path().join("c.csv"), &text, &columns, split_bytes);
            prop_assert!(clean);
            prop_assert_eq!(read.height() as u64, whole.records);
            prop_assert_eq!(read, checked.frame().unwrap().collect().unwrap());
        }
    }
}

proptest! {
    /// A column coded by the names' dictionary spells back every value from its code, short
    /// (read from its view) or long, in batches that share the dictionary; a null stays null,
    /// and one text never has two codes.
    #[test]
    fn dictionary_codes_spell_back_their_values(
        batches in prop::collection::vec(
            prop::collection::vec(prop::option::of("[a-cé ]{0,15}"), 0..20),
            1..4,
        ),
    ) {
        use polars::prelude::*;
        let mut dictionary = listaudit::normalize::text::Dictionary::default();
        let mut coded = Vec::new();
        for values in &batches {
            let frame = DataFrame::new(
                values.len(),
                vec![Column::new("name".into(), values.clone())],
            ).unwrap();
            let frame = dictionary.encode(frame, "name").unwrap();
            let codes: Vec<Option<i32>> = frame.column("name").unwrap().i32().unwrap().iter().collect();
            coded.push(codes);
        }
        let names = dictionary.names();
        let distinct: BTreeSet<&String> = names.iter().collect();
        prop_assert_eq!(distinct.len(), names.len(), "a text with two codes: {:?}", names);
        for (values, codes) in batches.iter().zip(&coded) {
            for (value, code) in values.iter().zip(codes) {
                let spelled = code.map(|c| names[c as usize].clone());
                prop_assert_eq!(&spelled, value);
            }
        }
    }
}

proptest! {
    /// The word-at-a-time test for a capital or a byte outside ASCII answers as a byte at a
    /// time does, at every length and wherever the byte stands.
    #[test]
    fn a_capital_or_non_ascii_byte_is_found_anywhere(
        bytes in prop::collection::vec(prop::sample::select(b"aaaaaazz@.-_09@[`{\x7f".to_vec()), 0..40),
        odd in prop::option::of((any::<prop::sample::Index>(), prop::sample::select(b"AZMQ\x80\xc3\xff".to_vec()))),
    ) {
        let mut bytes = bytes;
        if let Some((at, byte)) = odd {
            let at = at.index(bytes.len() + 1);
            bytes.insert(at, byte);
        }
        let expected = bytes.iter().any(|&b| b.is_ascii_uppercase() || !b.is_ascii());
        prop_assert_eq!(listaudit::normalize::email::capital_or_not_ascii(&bytes), expected, "{:?}", bytes);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, .. ProptestConfig::default() })]
    /// A list spelled from the rows its condition selects (none where the condition is none) is
    /// the list written from polars' filter of them, reasons and all: over blocks of rows, runs
    /// of them per core, and runs that select no row or every row.
    #[test]
    fn a_table_spells_the_rows_its_condition_selects(
        conditions in prop::collection::vec(prop::option::weighted(0.9, prop::bool::weighted(0.6)), 0..9_000),
        runs in prop::collection::vec((0usize..9_000, 0usize..3_000, any::<bool>()), 0..3),
        flags in prop::collection::vec(any::<u8>(), 1..64),
    ) {
        use listaudit::outputs::{Cell, CsvStyle, Table};
        use polars::prelude::*;
        let mut conditions = conditions;
        let rows = conditions.len();
        // Long runs of one answer: whole blocks (1,024 rows) that select nothing or everything.
        for (start, len, answer) in runs {
            for c in conditions.iter_mut().skip(start).take(len) {
                *c = Some(answer);
            }
        }
        let reasons = listaudit::decide::reasons();
        let mut columns = vec![
            Column::new("text".into(), (0..rows).map(|i| (i % 7 != 0).then(|| format!("v{i},\"x\""))).collect::<Vec<_>>()),
            Column::new("n".into(), (0..rows as u64).collect::<Vec<_>>()),
        ];
        // Under a none, the value is true: a none must be read as no row by its validity.
        let keep = polars_arrow::array::BooleanArray::new(
            polars_arrow::datatypes::ArrowDataType::Boolean,
            conditions.iter().map(|c| *c != Some(false)).collect(),
            Some(conditions.iter().map(Option::is_some).collect()),
        );
        columns.push(BooleanChunked::with_chunk("keep".into(), keep).into_column());
        let bits: Vec<u32> = (0..rows)
            .map(|i| (0..3).fold(0, |bits, k| bits | (u32::from(flags[(i + k) % flags.len()]) & (1 << k))))
            .collect();
        columns.push(Column::new("bits".into(), bits));
        let frame = DataFrame::new(rows, columns).unwrap();
        let cells = vec![
            ("text", Cell::Text("text")),
            ("n", Cell::Number("n")),
            ("reasons", Cell::Reasons("bits", reasons[..3].to_vec().into())),
        ];
        let style = CsvStyle { excel: false };
        let mut selected: Vec<u8> = Vec::new();
        Table::of(&frame, Some(col("keep")), cells.clone()).write(&mut selected, style, 1).unwrap();
        let filtered = frame.clone().lazy().filter(col("keep")).collect().unwrap();
        let mut expected: Vec<u8> = Vec::new();
        Table::whole(filtered, cells).write(&mut expected, style, 2).unwrap();
        let chosen = conditions.iter().filter(|c| **c == Some(true)).count();
        prop_assert_eq!(selected.iter().filter(|b| **b == b'\n').count(), chosen + 1);
        prop_assert_eq!(String::from_utf8(selected).unwrap(), String::from_utf8(expected).unwrap());
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, .. ProptestConfig::default() })]
    /// Every kind of cell the writer spells from a table (a number, an instant, a name by its
    /// code, a row's `file:line`, its reasons) reads back, through the `csv` crate, as the
    /// value spelled here by other means: instants by polars' own `strftime`, names and files
    /// guarded by hand. Names and files are of every length around the writer's 16-byte copies,
    /// with quotes, separators and formula starts among them; codes run past the names.
    #[test]
    fn every_kind_of_cell_reads_back_as_its_value(
        names in prop::collection::vec("[a-z=+,\"' ]{0,40}", 1..8),
        files in prop::collection::vec("[a-z\"=,.]{1,30}", 1..4),
        rows in prop::collection::vec((
            prop::option::weighted(0.9, 0u64..u64::MAX),
            prop::option::weighted(0.9, -2_208_988_800_000i64..7_258_118_400_000),
            prop::option::weighted(0.9, -1i32..10),
            (0u32..5, 0u32..20_000_000),
            any::<u8>(),
        ), 1..3_000),
    ) {
        use listaudit::decide::col;
        use listaudit::outputs::{Cell, CsvStyle, Table};
        use polars::prelude::*;
        let reasons = listaudit::decide::reasons();
        let take = reasons.len().min(8);
        let mut columns = vec![
            Column::new("n".into(), rows.iter().map(|r| r.0).collect::<Vec<_>>()),
            Column::new("at".into(), rows.iter().map(|r| r.1).collect::<Vec<_>>()),
            Column::new("code".into(), rows.iter().map(|r| r.2).collect::<Vec<_>>()),
            Column::new(col::FILE.into(), rows.iter().map(|r| r.3.0).collect::<Vec<_>>()),
            Column::new(col::LINE.into(), rows.iter().map(|r| r.3.1).collect::<Vec<_>>()),
            Column::new(col::SOURCES.into(), vec![None::<u32>; rows.len()]),
        ];
        columns.push(Column::new("bits".into(), rows.iter().map(|r| u32::from(r.4)).collect::<Vec<_>>()));
        let frame = DataFrame::new(rows.len(), columns).unwrap();
        let spelled_at = frame
            .clone()
            .lazy()
            .select([col("at")
                .cast(DataType::Datetime(TimeUnit::Milliseconds, None))
                .dt()
                .strftime("%Y-%m-%dT%H:%M:%SZ")])
            .collect()
            .unwrap();
        let spelled_at: Vec<Option<String>> = spelled_at.columns()[0]
            .str()
            .unwrap()
            .iter()
            .map(|s| s.map(String::from))
            .collect();
        let names: std::sync::Arc<[String]> = names.into();
        let cells = vec![
            ("n", Cell::Number("n")),
            ("at", Cell::Instant("at")),
            ("name", Cell::Named("code", names.clone())),
            ("source", Cell::Sources { files: files.clone().into(), refs: Vec::new().into() }),
            ("reasons", Cell::Reasons("bits", reasons[..take].to_vec().into())),
        ];
        let mut written: Vec<u8> = Vec::new();
        Table::whole(frame, cells).write(&mut written, CsvStyle { excel: false }, 1).unwrap();
        let guard = |s: &str| match s.as_bytes().first() {
            Some(b'=' | b'+' | b'-' | b'@') => format!("'{s}"),
            _ => s.to_string(),
        };
        let mut read = csv::ReaderBuilder::new().from_reader(&written[..]);
        let mut records = 0;
        for (record, row) in read.records().zip(&rows) {
            let record = record.unwrap();
            let name = usize::try_from(row.2.unwrap_or(-1)).ok().and_then(|c| names.get(c));
            // A file index with no file (never made) is spelled with an empty name.
            let file = files.get(row.3.0 as usize).map_or(":".to_string(), |f| format!("{f}:"));
            let set: Vec<&str> = reasons[..take]
                .iter()
                .enumerate()
                .filter(|(k, _)| row.4 & (1 << k) != 0)
                .map(|(_, r)| r.name())
                .collect();
            let expected = [
                row.0.map_or(String::new(), |n| n.to_string()),
                spelled_at[records].clone().unwrap_or_default(),
                name.map_or(String::new(), |n| guard(n)),
                guard(&format!("{file}{}", row.3.1)),
                set.join(";"),
            ];
            prop_assert_eq!(record.iter().collect::<Vec<_>>(), expected.iter().map(String::as_str).collect::<Vec<_>>());
            records += 1;
        }
        prop_assert_eq!(records, rows.len());
    }
}

proptest! {
    /// A value has one code in a dictionary, whether it was coded from a text column's views
    /// (`encode`, the record-level pass) or from its text (`code`, the reader), and different
    /// values have different codes; a column of another dictionary's codes (a batch's own, as
    /// the reader makes them) is recoded into the same codes as its values' text would get.
    #[test]
    fn a_value_has_one_code_however_it_is_coded(
        values in prop::collection::vec(
            prop_oneof![
                "[a-c]{0,14}",
                "[ aé\"]{0,13}",
                prop::sample::select(vec!["", "Ann", "Zoë", "twelve bytes", "thirteen byte"])
                    .prop_map(str::to_string),
            ],
            1..40,
        ),
    ) {
        use listaudit::normalize::text::Dictionary;
        use polars::prelude::*;
        let frame = df!["v" => values.clone()].unwrap();
        let mut by_column = Dictionary::default();
        let encoded = by_column.encode(frame, "v").unwrap();
        let encoded: Vec<i32> = encoded.column("v").unwrap().i32().unwrap().into_no_null_iter().collect();
        for (value, code) in values.iter().zip(&encoded) {
            prop_assert_eq!(by_column.code(value).unwrap(), *code, "{:?}", value);
        }
        let distinct: BTreeSet<&String> = values.iter().collect();
        prop_assert_eq!(by_column.names().len(), distinct.len());

        // The same values coded in another order, as a batch's own codes.
        let mut batch = Dictionary::default();
        let local: Vec<i32> = values.iter().rev().map(|v| batch.code(v).unwrap()).collect();
        let mut run = Dictionary::default();
        let recoded = run
            .recode(df!["v" => local].unwrap(), "v", &batch.into_names())
            .unwrap();
        let recoded: Vec<i32> = recoded.column("v").unwrap().i32().unwrap().into_no_null_iter().collect();
        let names = run.names();
        let spelled: Vec<&String> = recoded.iter().map(|c| &names[*c as usize]).collect();
        prop_assert_eq!(spelled, values.iter().rev().collect::<Vec<_>>());
    }
}

proptest! {
    /// A contact's reasons are packed as bits from each reason's answers: the bit is set at
    /// exactly the rows the answer holds, whatever the bitmap's offset, over whole words of 64
    /// rows and the rows after them.
    #[test]
    fn a_bit_is_set_where_its_rows_are(
        rows in prop::collection::vec(any::<bool>(), 0..400),
        offset in 0usize..70,
        bit in 0u32..32,
    ) {
        use polars_arrow::bitmap::Bitmap;
        let offset = offset.min(rows.len());
        let all: Bitmap = rows.iter().copied().collect();
        let answer = all.sliced(offset, rows.len() - offset);
        // Another bit is set already, and stays.
        let other = 1u32 << ((bit + 1) % 32);
        let mut bits = vec![other; answer.len()];
        listaudit::normalize::columns::set_bit_where(&answer, 1 << bit, &mut bits);
        for (i, held) in rows[offset..].iter().enumerate() {
            let expected = other | if *held { 1 << bit } else { 0 };
            prop_assert_eq!(bits[i], expected, "row {}", i);
        }
    }
}

proptest! {
    /// Every visit of a bitmap's set rows (the lists' selected rows, the rules' first match,
    /// the reasons' bits) goes through `each_set`: it visits exactly the rows that are set, in
    /// order, once each, whatever the bitmap's offset, over whole words of 64 rows and the rows
    /// after them.
    #[test]
    fn each_set_row_is_visited_once_in_order(
        rows in prop::collection::vec(any::<bool>(), 0..400),
        offset in 0usize..70,
    ) {
        use polars_arrow::bitmap::Bitmap;
        let offset = offset.min(rows.len());
        let all: Bitmap = rows.iter().copied().collect();
        let mut visited = Vec::new();
        listaudit::normalize::columns::each_set(&all.sliced(offset, rows.len() - offset), |i| {
            visited.push(i)
        });
        let set: Vec<usize> = rows[offset..]
            .iter()
            .enumerate()
            .filter_map(|(i, held)| held.then_some(i))
            .collect();
        prop_assert_eq!(visited, set);
    }
}

/// The cells [`listaudit::ingest::cells::split`] hands over, one string each; with `all`,
/// each cell's field and whether it is escaped, and each record.
#[derive(Default)]
struct Recorded {
    all: bool,
    seen: Vec<String>,
}

impl<'a> listaudit::ingest::cells::Cells<'a> for Recorded {
    fn cell(&mut self, field: usize, text: &'a str, escaped: bool) {
        self.seen.push(match self.all {
            true => format!("{field} {escaped} {text}"),
            false => text.to_string(),
        });
    }

    fn end(&mut self, record: &'a str) -> bool {
        if self.all {
            self.seen.push(format!("end {record}"));
        }
        true
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1024, .. ProptestConfig::default() })]
    /// The split by AVX-512 (where the CPU has it) hands over what the split 16 bytes at a time
    /// does, clean or spoilt: the same cells, records and answer.
    #[test]
    fn the_split_by_avx512_is_the_split_by_sixteen_bytes(
        rows in prop::collection::vec(prop::collection::vec(checked_cell(), 3), 0..40),
        spoilt in prop::option::weighted(0.5, (any::<prop::sample::Index>(), -6i64..2, spoiler())),
        crlf in any::<bool>(),
        last_line_end in any::<bool>(),
        multiline in any::<bool>(),
    ) {
        use listaudit::ingest::cells::{Shape, split, split_portable};
        let text = spoilt_file(&rows, &spoilt, crlf, last_line_end, false);
        let (mut fast, mut portable) = (Recorded { all: true, ..Recorded::default() }, Recorded { all: true, ..Recorded::default() });
        let shape = Shape { delimiter: b',', fields: 3, multiline };
        let answers = (split(&text, shape, &mut fast), split_portable(&text, shape, &mut portable));
        prop_assert_eq!(answers.0, answers.1);
        prop_assert_eq!(fast.seen, portable.seen);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, .. ProptestConfig::default() })]
    /// The split checks its bytes to be UTF-8 as it goes: blocks of ASCII bytes, and from any
    /// other block on, a window at a time. A character of two, three or four bytes across a
    /// window's edge (after text with accents, whose windows follow each other from the
    /// start) or a block's (after plain ASCII) is read whole, and a byte that is no UTF-8 near
    /// an edge (a stray continuation or 0xFF, a character cut short) is found wherever it
    /// stands.
    #[test]
    fn a_character_across_a_windows_edge_is_read_and_a_bad_byte_found(
        character in prop::sample::select(vec!["é", "€", "𝄞"]),
        accented in any::<bool>(),
        before in 0usize..5,
        spoil in prop::option::of((-3i64..5, prop_oneof![Just(Some(0x80u8)), Just(Some(0xff)), Just(None)])),
    ) {
        use listaudit::ingest::cells::{Shape, split, UTF8_WINDOW};
        // Lines of 61 bytes.
        let filler = if accented { "a".repeat(58) + "é" } else { "a".repeat(60) };
        let mut text = Vec::new();
        for edge in [UTF8_WINDOW, 2 * UTF8_WINDOW] {
            while text.len() + 100 < edge - before {
                text.extend_from_slice(filler.as_bytes());
                text.push(b'\n');
            }
            text.resize(edge - before - 1, b'a');
            text.push(b'\n');
            text.extend_from_slice(character.as_bytes());
            text.extend_from_slice(b"b\n");
        }
        if let Some((by, byte)) = spoil {
            let at = (UTF8_WINDOW as i64 - before as i64 + by) as usize;
            match byte {
                Some(byte) => text[at] = byte,
                None => { text.remove(at); }
            }
        }
        let mut recorded = Recorded::default();
        let shape = Shape { delimiter: b',', fields: 1, multiline: false };
        let read = split(&text, shape, &mut recorded);
        match std::str::from_utf8(&text) {
            Ok(whole) => {
                let lines: Vec<&str> = whole.lines().collect();
                // A removed line end joins two lines: still one cell each.
                prop_assert_eq!(read, Ok(lines.len() as u64));
                prop_assert_eq!(recorded.seen, lines);
            }
            Err(_) => prop_assert!(read.is_err()),
        }
    }
}

/// Which of `rows` share their key with at least `min` of them, counted plainly.
fn shared_by_count(values: &[i64], rows: &[bool], key: fn(i64) -> i64, min: u32) -> Vec<bool> {
    let mut counts = std::collections::HashMap::new();
    for (v, _) in values.iter().zip(rows).filter(|(_, r)| **r) {
        *counts.entry(key(*v)).or_insert(0u32) += 1;
    }
    values
        .iter()
        .zip(rows)
        .map(|(v, r)| *r && counts[&key(*v)] >= min)
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, .. ProptestConfig::default() })]

    /// The shares counted in parts (a list's chunks, each of any length) and pieces side by
    /// side (pieces of a few rows, so that a short list has many) are the shares counted in
    /// one pass; values are drawn from a few, so that many are shared, and a key groups some
    /// of them.
    #[test]
    fn shares_counted_in_parts_are_the_shares_counted_plainly(
        rows in prop::collection::vec((0i64..40, any::<bool>()), 0..300),
        cuts in prop::collection::vec(0usize..300, 0..4),
        min in 1u32..5,
        part_rows in 1usize..40,
    ) {
        use polars_arrow::bitmap::Bitmap;
        let (values, among): (Vec<i64>, Vec<bool>) = rows.into_iter().unzip();
        let key: fn(i64) -> i64 = |v| v - v.rem_euclid(3);
        let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c.min(values.len())).collect();
        cuts.push(values.len());
        cuts.sort_unstable();
        let mut start = 0;
        let mut parts = Vec::new();
        for end in cuts {
            parts.push((&values[start..end], Bitmap::from_iter(among[start..end].iter().copied())));
            start = end;
        }
        let shared = listaudit::decide::evaluate::shared_by_at_least(&parts, key, min, part_rows);
        prop_assert_eq!(shared.len(), parts.len());
        for (answer, (part, _)) in shared.iter().zip(&parts) {
            prop_assert_eq!(answer.len(), part.len());
        }
        let shared: Vec<bool> = shared.iter().flat_map(|answer| answer.iter()).collect();
        prop_assert_eq!(shared, shared_by_count(&values, &among, key, min));
    }
}
