//! State-based CRDTs for fields that merge instead of conflicting.

mod or_set;
mod pn_counter;

pub use or_set::{OrSet, Tag};
pub use pn_counter::PnCounter;
