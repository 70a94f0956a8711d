//! roomgate's integration tests: one test binary, one module per area. Each drives
//! a real device — the library's server on loopback ([`common::Device`]) or the
//! built `roomgate` binary ([`common::Proc`]) — through real TLS clients.
//!
//! `cargo test` runs them all; `cargo test --test it api::` runs one area.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a panic is a failure

mod common;

mod abuse;
mod admin;
mod api;
mod certs;
mod crash;
mod gateway;
mod hardening;
mod hostile;
mod metrics;
mod plain_http;
mod process;
mod reload;
mod room;
mod streams;
mod syslog;
mod technician;
mod transport;
mod vendor;
mod vendor_example;
mod walkthrough;
