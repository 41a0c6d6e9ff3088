//! Writes a realistic generic subscriber export of N rows to stdout, deterministic by seed.
//!
//! ```text
//! cargo run --release --example generate -- --rows 1000000 --seed 7 > big.csv
//! ```
//!
//! The shape of a real list: sign-ups spread over 2009–2026 with a large share before
//! 25 May 2018, ~8% unsubscribed, ~3% cleaned, ~2% transactional, ~1% pending, missing IPs and
//! sources, a fraction never opened, activity spread so that a third is older than two years,
//! ~0.5% invalid and ~1% duplicate addresses (case and space variants), quoted names with
//! commas, and tags.

use std::io::{BufWriter, Write};

/// SplitMix64: tiny, fast and good enough for test data.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn chance(&mut self, percent: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 * 100.0 < percent
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}

const FIRST: &[&str] = &[
    "Anna", "Bram", "Chantal", "Daan", "Eva", "Femke", "Gijs", "Hanna", "Ilse", "Jeroen", "Kim",
    "Lars", "Mila", "Noah", "Olga", "Pieter", "Roos", "Sanne", "Tim", "Vera", "Emma", "Lucas",
];
const LAST: &[&str] = &[
    "de Vries",
    "Jansen",
    "van den Berg",
    "Bakker",
    "Visser",
    "Smit",
    "Meijer",
    "de Boer",
    "Mulder",
    "de Groot",
    "Bos",
    "Vos",
    "Peters",
    "Hendriks",
];
const DOMAINS: &[&str] = &[
    "example.com",
    "example.nl",
    "mail.example.org",
    "example.de",
    "voorbeeld.nl",
];
const SOURCES: &[&str] = &[
    "website form",
    "footer form",
    "landing page",
    "checkout",
    "giveaway",
    "import",
    "api",
];
const TAGS: &[&str] = &["nieuwsbrief", "vip", "b2b", "webinar", "black-friday"];

/// 2009-01-01T00:00:00Z and 2026-11-30T00:00:00Z as epoch seconds.
const START: i64 = 1_230_768_000;
const END: i64 = 1_796_083_200;
/// 2018-05-25.
const GDPR: i64 = 1_527_206_400;
/// 2024-12-01, two years before the reference date 2026-12-01.
const TWO_YEARS_AGO: i64 = 1_733_011_200;

fn stamp(secs: i64) -> String {
    let (y, m, d, h, min, s) = listaudit::normalize::date::civil_from_millis(secs * 1000);
    format!("{y:04}-{m:02}-{d:02} {h:02}:{min:02}:{s:02}")
}

fn main() {
    let mut rows: u64 = 1_000;
    let mut seed: u64 = 1;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let value = args.next().and_then(|v| v.parse().ok());
        match (arg.as_str(), value) {
            ("--rows", Some(v)) => rows = v,
            ("--seed", Some(v)) => seed = v,
            _ => {
                eprintln!("usage: generate [--rows N] [--seed S]");
                std::process::exit(2);
            }
        }
    }
    let mut rng = Rng(seed);
    let stdout = std::io::stdout();
    let mut out = BufWriter::with_capacity(1 << 20, stdout.lock());
    let result = (|| -> std::io::Result<()> {
        writeln!(
            out,
            "email,first_name,last_name,status,signup_date,signup_ip,source,last_open,last_click,created_at,tags,notes"
        )?;
        let mut recent: Vec<String> = Vec::with_capacity(1024);
        for i in 0..rows {
            let first = rng.pick(FIRST);
            let last = rng.pick(LAST);
            let mut email = format!(
                "{}.{}{}@{}",
                first.to_lowercase(),
                last.to_lowercase().replace(' ', ""),
                i,
                rng.pick(DOMAINS)
            );
            if rng.chance(1.0) && !recent.is_empty() {
                // A duplicate of an earlier row, as case and space variants.
                let earlier = &recent[rng.below(recent.len() as u64) as usize];
                email = format!(" {} ", earlier.to_uppercase());
            } else if rng.chance(0.5) {
                email = email.replace('@', "_at_");
            }
            if recent.len() < 1024 {
                recent.push(email.trim().to_string());
            } else {
                let slot = rng.below(1024) as usize;
                recent[slot] = email.trim().to_string();
            }
            let status = match rng.below(1000) {
                0..=79 => "unsubscribed",
                80..=109 => "cleaned",
                110..=129 => "transactional",
                130..=139 => "pending",
                _ => "subscribed",
            };
            // 40% of sign-ups before the GDPR.
            let signup = if rng.chance(40.0) {
                START + rng.below((GDPR - START) as u64) as i64
            } else {
                GDPR + rng.below((END - GDPR) as u64) as i64
            };
            let ip = if rng.chance(35.0) {
                String::new()
            } else {
                format!(
                    "{}.{}.{}.{}",
                    rng.below(223) + 1,
                    rng.below(256),
                    rng.below(256),
                    rng.below(254) + 1
                )
            };
            let source = if rng.chance(30.0) {
                ""
            } else {
                rng.pick(SOURCES)
            };
            // A third older than two years, a tenth never opened.
            let (open, click) = if rng.chance(10.0) {
                (String::new(), String::new())
            } else {
                let at = if rng.chance(33.0) {
                    signup.max(START) + rng.below((TWO_YEARS_AGO - signup).max(1) as u64) as i64
                } else {
                    TWO_YEARS_AGO + rng.below((END - TWO_YEARS_AGO) as u64) as i64
                };
                let click = if rng.chance(40.0) {
                    stamp(at - rng.below(86_400 * 90) as i64)
                } else {
                    String::new()
                };
                (stamp(at), click)
            };
            let name = if rng.chance(3.0) {
                format!("\"{last}, {first}\"")
            } else {
                first.to_string()
            };
            let tags = if rng.chance(50.0) {
                format!("\"{},{}\"", rng.pick(TAGS), rng.pick(TAGS))
            } else {
                String::new()
            };
            let notes = if rng.chance(2.0) {
                "\"called, wants fewer mails\""
            } else {
                ""
            };
            writeln!(
                out,
                "{email},{name},{last},{status},{},{ip},{source},{open},{click},{},{tags},{notes}",
                stamp(signup),
                stamp(signup - rng.below(3600) as i64),
            )?;
        }
        out.flush()
    })();
    if let Err(e) = result
        && e.kind() != std::io::ErrorKind::BrokenPipe
    {
        eprintln!("generate: {e}");
        std::process::exit(1);
    }
}
