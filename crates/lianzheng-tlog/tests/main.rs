//! The single integration-test binary of `lianzheng-tlog`: public vectors (RFC 6962,
//! `transparency-dev/merkle` probes, Go `sumdb/note`, C2SP examples, `transparency-dev/formats`)
//! from `testdata/`, plus property tests of the builder, proofs, tiles, leaves and receipts.

#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

mod checkpoints;
mod common;
mod leaves;
mod notes;
mod probes;
mod props;
mod receipts;
mod rfc6962;
mod tiles;
