//! # fundsim
//!
//! Simulates how hardship and poverty-alleviation funds are split by the **factor method**
//! (因素法) and how well they perform: allocation, exit-target projection, performance
//! indicators with honest confidence intervals, LP checks of the weights, audits and reports.
//!
//! The engine does no I/O: [`scenario::load()`] reads a scenario folder into validated types,
//! the engine modules compute, and the command-line tool writes the results.
//!
//! ```
//! use fundsim::{alloc, synth};
//! // a seeded synthetic province: 3 cities, 12 counties
//! let scenario = synth::scenario(&synth::SynthOptions { cities: 3, counties: 12, seed: 7, ..Default::default() }).unwrap();
//! let allocation = alloc::allocate(&scenario).unwrap();
//! // every stage hands out exactly what it received
//! let total: rust_decimal::Decimal = allocation.rows.iter()
//!     .filter(|r| r.stage == 1 && matches!(r.kind, alloc::RowKind::Total | alloc::RowKind::Reserve))
//!     .map(|r| r.amount).sum();
//! assert_eq!(Some(total), scenario.stages[0].total);
//! ```
#![deny(missing_docs)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing))]

pub mod alloc;
pub mod audit;
pub mod compare;
pub mod error;
pub mod lpcheck;
pub mod model;
pub mod money;
pub mod output;
pub mod project;
pub mod report;
pub mod scenario;
pub mod score;
pub mod sensitivity;
pub mod synth;
pub mod table;
