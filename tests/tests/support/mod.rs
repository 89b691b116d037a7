//! Shared by the test binaries: the real collector, the test programs, and reading what the
//! collector received.

#![allow(dead_code, unreachable_pub)] // each test binary uses a different part

pub mod collector;
pub mod loopback;
pub mod pprof;
pub mod program;
pub mod prometheus;
pub mod received;
pub mod scripted;
