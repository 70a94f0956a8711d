//! The auth core: accounts, passwords, credentials, the enrollment code, the security
//! policy, login throttling, the persisted state and its store, the operations that
//! change it, and their audit trail. Nothing here knows about HTTP.

pub mod accounts;
pub mod audit;
pub mod credentials;
pub mod enrollment;
pub mod legacy;
pub mod limits;
pub mod ops;
pub mod passwords;
pub mod policy;
pub mod state;
pub mod store;
