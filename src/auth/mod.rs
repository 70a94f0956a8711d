//! The auth core: accounts, passwords, credentials, the enrollment code, the security
//! policy, login throttling, the persisted state and its store, the operations that
//! change it, their audit trail, and the vendor's example credential. Nothing here knows about HTTP.

pub(crate) mod accounts;
pub(crate) mod audit;
pub(crate) mod credentials;
pub(crate) mod enrollment;
pub(crate) mod legacy;
pub(crate) mod limits;
pub(crate) mod ops;
pub(crate) mod passwords;
pub(crate) mod policy;
pub(crate) mod state;
pub(crate) mod store;
pub(crate) mod vendor_example;
