//! The broker's memory while a run publishes to it: the resident set of the
//! RabbitMQ node (Erlang's `beam.smp` processes) sampled from `/proc` on a
//! thread of its own, its peak kept for the run's record. Only a broker on
//! this machine can be seen; elsewhere nothing is recorded.

use std::fs;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

/// How often the broker's memory is looked at.
const SAMPLE_EVERY: Duration = Duration::from_millis(250);

/// A sampler running until [`BrokerMemory::peak`] stops it.
pub struct BrokerMemory {
    stop: Arc<AtomicBool>,
    sampler: JoinHandle<Option<u64>>,
}

impl BrokerMemory {
    /// Starts sampling.
    pub fn start() -> BrokerMemory {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let sampler = std::thread::spawn(move || {
            let mut peak = None;
            loop {
                if let Some(now) = broker_rss_bytes() {
                    peak = Some(peak.map_or(now, |peak: u64| peak.max(now)));
                }
                if flag.load(Ordering::Acquire) {
                    return peak;
                }
                std::thread::sleep(SAMPLE_EVERY);
            }
        });
        BrokerMemory { stop, sampler }
    }

    /// Stops sampling; the largest resident set seen, in bytes, if a broker ran here.
    pub fn peak(self) -> Option<u64> {
        self.stop.store(true, Ordering::Release);
        self.sampler.join().ok().flatten()
    }
}

/// Resident bytes of every `beam.smp` process on this machine now; `None` when there is none.
fn broker_rss_bytes() -> Option<u64> {
    let mut total = None;
    for entry in fs::read_dir("/proc").ok()?.flatten() {
        let path = entry.path();
        let is_broker =
            fs::read_to_string(path.join("comm")).is_ok_and(|name| name.trim_end() == "beam.smp");
        if !is_broker {
            continue;
        }
        let Ok(status) = fs::read_to_string(path.join("status")) else {
            continue;
        };
        let kib = status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|value| {
                value
                    .trim()
                    .trim_end_matches("kB")
                    .trim()
                    .parse::<u64>()
                    .ok()
            });
        if let Some(kib) = kib {
            total = Some(total.unwrap_or(0) + kib * 1024);
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sampler_stops_and_sees_no_broker_where_none_runs_or_a_positive_size() {
        let sampler = BrokerMemory::start();
        std::thread::sleep(Duration::from_millis(50));
        // With the tests' broker running its size is positive; without, nothing.
        match (sampler.peak(), broker_rss_bytes()) {
            (Some(peak), _) => assert!(peak > 1 << 20, "{peak}"),
            (None, now) => assert_eq!(now, None),
        }
    }
}
