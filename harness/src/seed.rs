//! Seeds: how one run seed becomes every host's seed, and how many seeds a sweep runs.
//!
//! The seed variables of the environment are read here and nowhere else (the other one,
//! `SYNCSIM_HISTORY_DIR`, is read by the report): `SYNCSIM_SEEDS=N` sets the number of
//! seeds of a sweep (for longer campaigns than the CI default), `SYNCSIM_SEED=S` runs only
//! seed `S` (to replay a failure in `cargo test`).

/// Derives an independent seed for `label` (a host, a link, the driver) from the run seed.
pub fn derive(seed: u64, label: &str) -> u64 {
    let hash = label.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3));
    splitmix(seed ^ hash)
}

fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The seeds of a sweep: `1..=default_count`, or as the environment says (see the module
/// docs). Panics with a clear message when the environment holds something unreadable.
pub fn sweep(default_count: u64) -> Vec<u64> {
    if let Some(seed) = read("SYNCSIM_SEED") {
        return vec![seed];
    }
    let count = read("SYNCSIM_SEEDS").unwrap_or(default_count);
    assert!(count > 0, "a sweep of 0 seeds proves nothing: set SYNCSIM_SEEDS to 1 or more");
    (1..=count).collect()
}

fn read(name: &str) -> Option<u64> {
    let value = std::env::var(name).ok()?;
    Some(value.trim().parse().unwrap_or_else(|_| panic!("{name}={value:?} is not a whole number: unset it or fix it")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_seeds_differ_by_label_and_by_seed_and_repeat() {
        assert_eq!(derive(1, "device0"), derive(1, "device0"));
        assert_ne!(derive(1, "device0"), derive(1, "device1"));
        assert_ne!(derive(1, "device0"), derive(2, "device0"));
    }
}
