//! Named mobile network profiles.

use std::fmt;
use std::time::Duration;

/// One direction of a link.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Direction {
    /// One-way delay before the first byte arrives.
    pub latency: Duration,
    /// Throughput, in bytes per second.
    pub bytes_per_sec: u64,
}

impl Direction {
    const fn new(latency_ms: u64, kbit_per_sec: u64) -> Self {
        Self { latency: Duration::from_millis(latency_ms), bytes_per_sec: kbit_per_sec * 1000 / 8 }
    }

    /// Time on the wire for `bytes`, at this direction's rate.
    pub fn serialization(&self, bytes: usize) -> Duration {
        Duration::from_nanos((bytes as u128 * 1_000_000_000 / u128::from(self.bytes_per_sec.max(1))) as u64)
    }
}

/// Whether the link carries anything at all.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reach {
    /// Traffic flows, paced by the profile.
    Up,
    /// No network: connecting fails at once (a turmoil `partition`).
    Offline,
    /// Connected but nothing gets through: everything hangs until a timeout (a turmoil
    /// `hold`).
    Blackhole,
}

/// A network profile: per-direction latency and bandwidth, jitter and loss.
///
/// Sources: Chrome DevTools throttling presets, Lighthouse throttling docs, Apple Network
/// Link Conditioner presets. Jitter is the most a message is delayed beyond the latency
/// (turmoil draws it from an exponential curve, so most delays are far below it). Loss is
/// the chance that a write of up to 16 KiB is lost once and retransmitted after
/// [`Profile::RETRANSMIT`], which is how TCP turns loss into delay.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Profile {
    /// The stable name (`slow-4g`, ...).
    pub name: &'static str,
    /// Server to device.
    pub down: Direction,
    /// Device to server.
    pub up: Direction,
    /// The most a message is delayed beyond the latency.
    pub jitter: Duration,
    /// Chance of a lost write, in parts per thousand.
    pub loss_permille: u32,
    /// Whether traffic flows at all.
    pub reach: Reach,
}

impl Profile {
    /// The retransmission delay a lost write costs.
    pub const RETRANSMIT: Duration = Duration::from_secs(1);

    /// No network: connect fails at once.
    pub const OFFLINE: Profile = Profile::unreachable("offline", Reach::Offline);
    /// Everything hangs until a timeout.
    pub const BLACKHOLE: Profile = Profile::unreachable("blackhole", Reach::Blackhole);
    /// 2G EDGE: 240/200 kbit/s, 400/440 ms.
    pub const EDGE: Profile = Profile::up("edge", Direction::new(400, 240), Direction::new(440, 200), 80, 0);
    /// 3G: 780/330 kbit/s, 100 ms.
    pub const THREE_G: Profile = Profile::up("3g", Direction::new(100, 780), Direction::new(100, 330), 20, 0);
    /// Slow 4G, the "4G" of the performance targets: 1.6 Mbit/s down, 750 kbit/s up, 75 ms.
    pub const SLOW_4G: Profile = Profile::up("slow-4g", Direction::new(75, 1_600), Direction::new(75, 750), 15, 0);
    /// Regular 4G: 4/3 Mbit/s, 10 ms.
    pub const REGULAR_4G: Profile =
        Profile::up("regular-4g", Direction::new(10, 4_000), Direction::new(10, 3_000), 5, 0);
    /// LTE: 50/10 Mbit/s, 50/65 ms.
    pub const LTE: Profile = Profile::up("lte", Direction::new(50, 50_000), Direction::new(65, 10_000), 10, 0);
    /// Wi-Fi: 40/33 Mbit/s, 1 ms.
    pub const WIFI: Profile = Profile::up("wifi", Direction::new(1, 40_000), Direction::new(1, 33_000), 1, 0);
    /// A very bad network: 1 Mbit/s both ways, 500 ms, 10% loss.
    pub const VERY_BAD: Profile =
        Profile::up("very-bad", Direction::new(500, 1_000), Direction::new(500, 1_000), 100, 100);

    /// Every named profile.
    pub const ALL: [Profile; 9] = [
        Profile::OFFLINE,
        Profile::BLACKHOLE,
        Profile::EDGE,
        Profile::THREE_G,
        Profile::SLOW_4G,
        Profile::REGULAR_4G,
        Profile::LTE,
        Profile::WIFI,
        Profile::VERY_BAD,
    ];

    const fn up(name: &'static str, down: Direction, up: Direction, jitter_ms: u64, loss_permille: u32) -> Self {
        Profile { name, down, up, jitter: Duration::from_millis(jitter_ms), loss_permille, reach: Reach::Up }
    }

    const fn unreachable(name: &'static str, reach: Reach) -> Self {
        let none = Direction { latency: Duration::ZERO, bytes_per_sec: u64::MAX };
        Profile { name, down: none, up: none, jitter: Duration::ZERO, loss_permille: 0, reach }
    }

    /// The profile named `name`, if there is one.
    pub fn by_name(name: &str) -> Option<Profile> {
        Profile::ALL.into_iter().find(|p| p.name == name)
    }
}

impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.reach {
            Reach::Up => write!(
                f,
                "{}: down {} kbit/s {} ms, up {} kbit/s {} ms, jitter {} ms, loss {}%",
                self.name,
                self.down.bytes_per_sec * 8 / 1000,
                self.down.latency.as_millis(),
                self.up.bytes_per_sec * 8 / 1000,
                self.up.latency.as_millis(),
                self.jitter.as_millis(),
                f64::from(self.loss_permille) / 10.0
            ),
            Reach::Offline => write!(f, "{}: connect fails at once", self.name),
            Reach::Blackhole => write!(f, "{}: everything hangs until a timeout", self.name),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slow_4g_moves_one_megabyte_down_in_about_five_seconds() {
        let t = Profile::SLOW_4G.down.serialization(1_000_000);
        assert_eq!(t, Duration::from_secs(5), "1.6 Mbit/s is 200 kB/s");
    }

    #[test]
    fn every_profile_is_found_by_its_name() {
        for p in Profile::ALL {
            assert_eq!(Profile::by_name(p.name), Some(p));
        }
        assert_eq!(Profile::by_name("5g"), None);
    }
}
