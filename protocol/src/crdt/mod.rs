//! State-based CRDTs for fields that merge instead of conflicting.

mod or_set;
mod pn_counter;

pub use or_set::{OrSet, Tag, EVERY_ELEMENT};
pub use pn_counter::PnCounter;
