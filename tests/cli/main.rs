//! The one integration-test binary: every test runs the real `listaudit` (or its pure pieces)
//! as a user would.

mod cron;
mod dates;
mod errors;
mod formats;
mod harness;
mod ingest;
mod merge;
mod outputs;
mod policy;
mod progress;
mod properties;
mod readers;
mod rules;
mod sample;
mod units;
