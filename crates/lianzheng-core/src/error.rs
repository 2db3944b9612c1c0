//! Errors of the pure core.

use thiserror::Error;

/// A value that does not parse as the code or format it should be.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("`{value}` is not a valid {what}")]
pub struct ParseError {
    /// What was expected, in the user's words (e.g. 满意度).
    pub what: &'static str,
    /// The input, trimmed.
    pub value: String,
}

impl ParseError {
    /// Builds the error.
    pub fn new(what: &'static str, value: &str) -> Self {
        ParseError {
            what,
            value: value.chars().take(80).collect(),
        }
    }
}
