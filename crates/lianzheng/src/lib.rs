//! The `lianzheng` binary's library: configuration, the web layer and the demo city.
//!
//! What it is: the edges of the system — HTTP (JSON API and plain pages), the command line and
//! the synthetic demo. What it is not: it holds no business rule; every handler and command calls
//! one use case of `lianzheng_app::App`.

pub mod bench;
pub mod config;
pub mod demo;
pub mod web;
