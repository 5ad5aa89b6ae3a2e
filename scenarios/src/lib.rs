//! The syncsim certification suite on the reference implementation. Its scenarios arrive
//! with the harness; today the crate holds the first simulation test (`tests/simulation`).
