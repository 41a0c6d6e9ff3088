//! The policy file (`--policy FILE`): TOML whose keys override the preset's values. Every key is
//! checked; an unknown key, a bad regex, a negative number of days or an impossible date is an
//! error that names the key and its line.

use std::path::Path;

use chrono::NaiveDate;
use serde::Deserialize;
use thiserror::Error;
use toml::Spanned;

use super::{InactivityWithoutData, KEYS, NoProof, Origin, Preset, Resolved, whole_words};
use crate::normalize::date::DateOrder;

/// A policy that cannot be used (exit 2).
#[derive(Debug, Error)]
pub enum PolicyError {
    #[error("cannot read the policy file {file}: {source}")]
    Read {
        file: String,
        source: std::io::Error,
    },
    #[error("{file}:{line}: {message}\n\nhint: {hint}")]
    Invalid {
        file: String,
        line: usize,
        message: String,
        hint: String,
    },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    preset: Option<Spanned<String>>,
    inactive_days: Option<Spanned<i64>>,
    opens_count: Option<Spanned<bool>>,
    gdpr_cutoff: Option<Spanned<toml::Value>>,
    pending_max_days: Option<Spanned<i64>>,
    repermission_grace_days: Option<Spanned<i64>>,
    reengage_days: Option<Spanned<i64>>,
    import_artifact_min: Option<Spanned<i64>>,
    require_double_opt_in: Option<Spanned<bool>>,
    no_proof: Option<Spanned<String>>,
    soft_opt_in: Option<Spanned<bool>>,
    inactivity_without_data: Option<Spanned<String>>,
    date_order: Option<Spanned<String>>,
    max_reject_pct: Option<Spanned<toml::Value>>,
    bought_sources: Option<Spanned<String>>,
    import_sources: Option<Spanned<String>>,
    purchase_sources: Option<Spanned<String>>,
}

/// The line (1-based) of a byte offset in `text`.
fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

struct Checker<'a> {
    file: &'a str,
    text: &'a str,
}

impl Checker<'_> {
    fn error(&self, span: std::ops::Range<usize>, message: String, hint: &str) -> PolicyError {
        PolicyError::Invalid {
            file: self.file.to_string(),
            line: line_of(self.text, span.start),
            message,
            hint: hint.to_string(),
        }
    }

    fn origin<T>(&self, value: &Spanned<T>) -> Origin {
        Origin::File {
            file: self.file.to_string(),
            line: line_of(self.text, value.span().start),
        }
    }

    fn days(&self, key: &str, value: &Spanned<i64>) -> Result<u32, PolicyError> {
        let v = *value.get_ref();
        if v < 0 {
            return Err(self.error(
                value.span(),
                format!("{key} = {v}: a number of days cannot be negative"),
                "write a whole number of days, 0 or more",
            ));
        }
        u32::try_from(v)
            .ok()
            .filter(|d| *d <= 36_500)
            .ok_or_else(|| {
                self.error(
                    value.span(),
                    format!("{key} = {v}: more than a hundred years"),
                    "write a whole number of days up to 36500",
                )
            })
    }

    fn choice<T: Copy>(
        &self,
        key: &str,
        value: &Spanned<String>,
        choices: &[(&str, T)],
    ) -> Result<T, PolicyError> {
        let v = value.get_ref().trim();
        choices
            .iter()
            .find(|(name, _)| *name == v)
            .map(|(_, c)| *c)
            .ok_or_else(|| {
                let names: Vec<&str> = choices.iter().map(|(n, _)| *n).collect();
                self.error(
                    value.span(),
                    format!("{key} = \"{v}\" is not one of: {}", names.join(", ")),
                    "choose one of the values named",
                )
            })
    }

    fn regex(&self, key: &str, value: &Spanned<String>) -> Result<String, PolicyError> {
        let v = value.get_ref();
        if v.trim().is_empty() {
            return Err(self.error(
                value.span(),
                format!("{key} is empty: it would match every source"),
                "list words separated by |, e.g. \"purchased|bought\"",
            ));
        }
        regex::Regex::new(&whole_words(v)).map_err(|e| {
            let detail = e.to_string();
            let last = detail.lines().last().unwrap_or("").trim();
            let last = last.strip_prefix("error: ").unwrap_or(last).to_string();
            self.error(
                value.span(),
                format!("{key} is not a valid regular expression: {last}"),
                "list words separated by |; escape ( ) [ ] . * + ? with a backslash",
            )
        })?;
        Ok(v.clone())
    }

    fn date(&self, key: &str, value: &Spanned<toml::Value>) -> Result<NaiveDate, PolicyError> {
        let text = match value.get_ref() {
            toml::Value::String(s) => s.clone(),
            toml::Value::Datetime(d) if d.time.is_none() && d.offset.is_none() => d.to_string(),
            other => other.to_string(),
        };
        NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").map_err(|_| {
            self.error(
                value.span(),
                format!("{key} = {text} is not a date"),
                "write a calendar date as YYYY-MM-DD, e.g. 2018-05-25",
            )
        })
    }

    fn percent(&self, key: &str, value: &Spanned<toml::Value>) -> Result<f64, PolicyError> {
        let v = match value.get_ref() {
            toml::Value::Integer(i) => *i as f64,
            toml::Value::Float(f) => *f,
            _ => f64::NAN,
        };
        if (0.0..=100.0).contains(&v) {
            Ok(v)
        } else {
            Err(self.error(
                value.span(),
                format!("{key} = {}: not a percentage", value.get_ref()),
                "write a number from 0 to 100",
            ))
        }
    }
}

/// The effective policy: `preset` (from `--preset`), else the file's `preset`, else `nl`; then
/// every key the file sets.
pub fn resolve(preset: Option<Preset>, path: Option<&Path>) -> Result<Resolved, PolicyError> {
    let Some(path) = path else {
        return Ok(Resolved::from_preset(preset.unwrap_or(Preset::Nl)));
    };
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| PolicyError::Read {
        file: file.clone(),
        source,
    })?;
    parse(&file, &text, preset)
}

/// Parses policy text; `file` names it in errors and origins.
pub fn parse(file: &str, text: &str, preset: Option<Preset>) -> Result<Resolved, PolicyError> {
    let check = Checker { file, text };
    let raw: Raw = toml::from_str(text).map_err(|e| {
        let span = e.span().unwrap_or(0..0);
        let message = e.message().trim().replace('\n', " ");
        if message.starts_with("unknown field") {
            let message = message
                .split(", expected")
                .next()
                .unwrap_or(&message)
                .replace("unknown field", "unknown key");
            let hint = format!("the keys are: {}", KEYS.join(", "));
            return check.error(span, message, &hint);
        }
        // Name the key of the line, where there is one.
        let line = text
            .lines()
            .nth(line_of(text, span.start) - 1)
            .unwrap_or("");
        let message = match line.split_once('=') {
            Some((key, _)) if !key.trim().is_empty() => format!("{}: {message}", key.trim()),
            _ => message,
        };
        check.error(span, message, "see `listaudit policy` for a valid file")
    })?;
    let base = match (&preset, &raw.preset) {
        (Some(p), _) => *p,
        (None, Some(p)) => p
            .get_ref()
            .parse()
            .map_err(|m: String| check.error(p.span(), m, "choose nl, eu, de, fr or uk"))?,
        (None, None) => Preset::Nl,
    };
    let mut resolved = Resolved::from_preset(base);
    let p = &mut resolved.policy;
    let mut set = |key: &'static str, origin: Origin| {
        if let Some(entry) = resolved.origins.iter_mut().find(|(k, _)| *k == key) {
            entry.1 = origin;
        }
    };
    macro_rules! days {
        ($key:ident) => {
            if let Some(v) = &raw.$key {
                p.$key = check.days(stringify!($key), v)?;
                set(stringify!($key), check.origin(v));
            }
        };
    }
    macro_rules! flag {
        ($key:ident) => {
            if let Some(v) = &raw.$key {
                p.$key = *v.get_ref();
                set(stringify!($key), check.origin(v));
            }
        };
    }
    macro_rules! source {
        ($key:ident) => {
            if let Some(v) = &raw.$key {
                p.$key = check.regex(stringify!($key), v)?;
                set(stringify!($key), check.origin(v));
            }
        };
    }
    days!(inactive_days);
    days!(pending_max_days);
    days!(repermission_grace_days);
    days!(reengage_days);
    days!(import_artifact_min);
    flag!(opens_count);
    flag!(require_double_opt_in);
    flag!(soft_opt_in);
    source!(bought_sources);
    source!(import_sources);
    source!(purchase_sources);
    if let Some(v) = &raw.gdpr_cutoff {
        p.gdpr_cutoff = check.date("gdpr_cutoff", v)?;
        set("gdpr_cutoff", check.origin(v));
    }
    if let Some(v) = &raw.no_proof {
        p.no_proof = check.choice(
            "no_proof",
            v,
            &[
                ("delete", NoProof::Delete),
                ("repermission", NoProof::Repermission),
            ],
        )?;
        set("no_proof", check.origin(v));
    }
    if let Some(v) = &raw.inactivity_without_data {
        p.inactivity_without_data = check.choice(
            "inactivity_without_data",
            v,
            &[
                ("not-assessed", InactivityWithoutData::NotAssessed),
                ("consent-date", InactivityWithoutData::ConsentDate),
            ],
        )?;
        set("inactivity_without_data", check.origin(v));
    }
    if let Some(v) = &raw.date_order {
        p.date_order = check.choice(
            "date_order",
            v,
            &[
                ("day-first", DateOrder::DayFirst),
                ("month-first", DateOrder::MonthFirst),
            ],
        )?;
        set("date_order", check.origin(v));
    }
    if let Some(v) = &raw.max_reject_pct {
        p.max_reject_pct = check.percent("max_reject_pct", v)?;
        set("max_reject_pct", check.origin(v));
    }
    if p.import_artifact_min < 2
        && let Some(v) = &raw.import_artifact_min
    {
        return Err(check.error(
            v.span(),
            format!(
                "import_artifact_min = {}: one contact is no bulk import",
                p.import_artifact_min
            ),
            "write 2 or more (the default is 20)",
        ));
    }
    if p.reengage_days > p.inactive_days {
        let span = raw
            .reengage_days
            .as_ref()
            .map(|v| v.span())
            .or_else(|| raw.inactive_days.as_ref().map(|v| v.span()))
            .unwrap_or(0..0);
        return Err(check.error(
            span,
            format!(
                "reengage_days = {} is longer than inactive_days = {}",
                p.reengage_days, p.inactive_days
            ),
            "reengage_days counts back from the inactivity limit; keep it below inactive_days",
        ));
    }
    Ok(resolved)
}
