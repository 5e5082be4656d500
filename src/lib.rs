//! guest-reset: reset the B2B invitation redemption status of Entra ID guests,
//! behind a JWT-authenticated, policy-checked, audited HTTP API.

/// The Graph emulator: token endpoint and the Graph endpoints the service uses.
pub mod emulator;
pub mod config;
pub mod record;
pub mod store;
pub mod graph;
pub mod policy;
pub mod problem;
pub mod reset;
pub mod app;
pub mod cli;
pub mod demo;
pub mod http;
pub mod telemetry;
