//! The local runner.
