//! roomgate: the device-local authentication service and HTTPS front door of a
//! conference-room audio device.
//!
//! The binary (`src/main.rs`) only parses the command line, sets up logging and calls
//! into this library. Tests start the service in-process with [`Server::bind`] on
//! `127.0.0.1:0`. See `ARCHITECTURE.md` for the map of modules and their invariants.
//!
//! The public surface is what the binary needs: [`App`], [`Config`], [`Server`],
//! the console ([`cli`]) and [`run_until_signal`]. Tests, benches and fuzz targets
//! reach the internals they exercise through the hidden [`testing`] module.

mod api;
mod app;
mod auth;
mod certificate;
pub mod cli;
mod config;
mod device;
mod error;
mod events;
mod files;
mod http_util;
mod metrics;
mod per_address;
mod reload;
pub mod syslog;
mod transport;
mod util;

pub use app::App;
pub use config::{
    Collector, Config, ConfigError, Facility, LogFormat, Overrides, SyslogConfig, SyslogTransport, SyslogWhat,
};
pub use transport::server::{Server, StartError};
pub use transport::signals::run_until_signal;

/// Internals for the integration tests, benches and fuzz targets. Not a stable API.
#[doc(hidden)]
pub mod testing {
    pub use crate::api::admin::AccountPatch;
    pub use crate::api::authn::presented_credential;
    pub use crate::api::handle;
    pub use crate::api::login::LoginRequest;
    pub use crate::api::routes::ROUTES;
    pub use crate::auth::accounts::{Role, min_role_name};
    pub use crate::auth::credentials::{CredentialIndex, Signer};
    pub use crate::auth::enrollment::{canonical, factory_state};
    pub use crate::auth::legacy::parse_legacy;
    pub use crate::auth::ops::{create_key, patch_policy};
    pub use crate::auth::passwords::{Hasher, Password};
    pub use crate::auth::state::{SessionRecord, State};
    pub use crate::config::HashParams;
    pub use crate::device::audio::{AUDIO_FIELDS, AudioPatch, AudioSettings, Kind, VolumeOp};
    pub use crate::device::model::Firmware;
    pub use crate::http_util::Body;
    pub use crate::util::now;
}
