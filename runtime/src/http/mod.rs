//! HTTP services: [`ServerLayer`], a tower layer that makes every request a server span with
//! the HTTP semantic conventions and records the HTTP server metrics. Behind the
//! `http-server` feature; route templates from axum with the `axum` feature.

mod excluded;
mod headers;
mod server;

pub(crate) use headers::{HeaderExtractor, HeaderInjector};
pub use server::{ResponseFuture, ServerLayer, ServerService};
