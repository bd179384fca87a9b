//! fundsim library (placeholder; the lead merges the real crate root).
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

pub mod lpcheck;
