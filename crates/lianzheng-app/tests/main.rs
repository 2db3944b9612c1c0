//! The single integration-test binary of `lianzheng-app`: use-case stories, each run on a fresh
//! SQLite database and a fresh PostgreSQL schema (see `common::both`), with a manual clock that
//! the stories move forward instead of sleeping.

#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

mod admin;
mod cases;
mod catalog;
mod common;
mod complaints;
mod findings;
mod log;
mod monitoring;
mod ratings;
mod schema;
mod sweep;
