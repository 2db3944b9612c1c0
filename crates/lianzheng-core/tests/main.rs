//! The single integration-test binary of `lianzheng-core`: property tests of the deadline
//! arithmetic, the approval state machine (every event kind in every status), the finding
//! lifecycle, and the rule corpus in `tests/corpus/*.json` (cedar-testing style: each fixture
//! holds an item, rule-pack overrides, events and the findings expected after each one).

#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

mod common;
mod complaint_corpus;
mod corpus;
mod deadline_props;
mod findings;
mod monitoring_corpus;
mod state_machine;
