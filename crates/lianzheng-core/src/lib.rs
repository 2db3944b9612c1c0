//! The pure core of Lianzheng: the domain of integrity supervision without any I/O.
//!
//! What it is: official code tables ([`codes`]), the working-day calendar ([`calendar`]),
//! deadline arithmetic ([`deadline`]), the approval catalog ([`catalog`]), the approval case state
//! machine ([`case`]), the named rules and rule packs ([`rules`]) and the finding lifecycle
//! ([`finding`]).
//!
//! What it is not: it never reads the clock (every function takes `now`), never touches a file,
//! a database or the network, and knows nothing of HTTP. Storage, transactions and the log live in
//! `lianzheng-app`; the web in `lianzheng`.

pub mod calendar;
pub mod case;
pub mod catalog;
pub mod codes;
pub mod complaint;
pub mod deadline;
pub mod error;
pub mod finding;
pub mod mask;
pub mod monitoring;
pub mod rules;
pub mod time;
