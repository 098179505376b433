//! Price catalog tests: coverage, accuracy against provider list prices, model matching,
//! loaders for public data files, diagnostics, and the cross-check against those files.

mod accuracy;
mod catalog;
#[cfg(feature = "server")]
mod cli;
#[cfg(feature = "server")]
mod cli_lib;
mod crosscheck;
mod loaders;
mod matching;
