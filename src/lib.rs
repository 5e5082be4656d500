//! guest-reset: reset the B2B invitation redemption status of Entra ID guests,
//! behind a JWT-authenticated, policy-checked, audited HTTP API.

pub mod app;
pub mod audit;
/// `guest-reset audit verify | checkpoint | keygen`.
pub mod audit_command;
pub mod auth;
pub mod budget_ledger;
pub mod callback;
pub mod cli;
pub mod config;
pub mod demo;
/// `guest-reset doctor`: which configuration or permission is missing.
pub mod doctor;
/// The Graph emulator (crate `graph-emulator`), re-exported for the demo
/// and the tests; the service's own modules never use it.
pub use graph_emulator as emulator;
pub mod graph;
pub mod http;
/// Request bodies are JSON objects; a type error names its JSON path.
pub mod json_object;
pub mod metrics;
pub mod operator;
pub mod policy;
pub mod problem;
pub mod record;
pub mod reset;
pub mod store;
pub mod sweeps;
pub mod telemetry;
/// The configured Entra tenants, one Graph client each.
pub mod tenants;
/// Inbound webhook signatures (Standard Webhooks, X-Hub-Signature-256, Zendesk).
pub mod webhook;
pub mod worker;
