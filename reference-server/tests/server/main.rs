//! Integration tests of the reference server: the router is driven in process with
//! `tower::ServiceExt::oneshot`, and the store is read before and after each request.
//!
//! Modules:
//! - `support`: the in-process server, test clock, devices and reply helpers;
//! - `push`: idempotency, `after` chaining, deletes, parents, OR-sets;
//! - `strategy`: each conflict strategy on a stale update;
//! - `pull`: paging by change sequence;
//! - `compression`: gzip request and response bodies;
//! - `validation`: every class of bad input is a 4xx that changes nothing;
//! - `auth`: bearer tokens and isolation between users;
//! - `purge`: the tombstone horizon and resets;
//! - `versions`: clients of protocol versions 1 and 2 served at once;
//! - `watermelon`: the WatermelonDB dialect's backend rules and bad input;
//! - `replicache`: the Replicache dialect's push and pull rules and bad input.

mod auth;
mod compression;
mod pull;
mod purge;
mod push;
mod replicache;
mod strategy;
mod support;
mod validation;
mod versions;
mod watermelon;
