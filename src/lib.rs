//! roomgate: the device-local authentication service and HTTPS front door of a
//! conference-room audio device.
//!
//! The binary (`src/main.rs`) only parses the command line, sets up logging and calls
//! into this library. Tests start the service in-process with [`Server::bind`] on
//! `127.0.0.1:0`. See `ARCHITECTURE.md` for the map of modules and their invariants.

pub mod accounts;
pub mod admin;
pub mod api;
pub mod app;
pub mod audit;
pub mod cli;
pub mod config;
pub mod credentials;
pub mod device;
pub mod enrollment;
pub mod error;
pub mod events;
pub mod files;
pub mod gateway;
pub mod http_util;
pub mod limits;
pub mod notify;
pub mod openapi;
pub mod passwords;
pub mod policy;
pub mod reload;
pub mod room;
pub mod routes;
pub mod server;
pub mod state;
pub mod store;
pub mod tls;

pub use app::App;
pub use config::{Config, ConfigError, Overrides};
pub use server::{Server, StartError};
