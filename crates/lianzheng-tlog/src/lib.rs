//! Placeholder crate root; replaced by the transparency-log work.
