//! roomgate: the device-local authentication service and HTTPS front door of a
//! conference-room audio device.
//!
//! The binary (`src/main.rs`) only parses the command line, sets up logging and calls
//! into this library. Tests start the service in-process with [`Server::bind`] on
//! `127.0.0.1:0`. See `ARCHITECTURE.md` for the map of modules and their invariants.

pub mod api;
pub mod app;
pub mod auth;
pub mod cli;
pub mod config;
pub mod device;
pub mod error;
pub mod events;
pub mod files;
pub mod http_util;
pub mod reload;
pub mod transport;
pub mod util;

pub use app::App;
pub use config::{Config, ConfigError, Overrides};
pub use transport::server::{Server, StartError};
