//! Span start and end times, read from the CPU's timestamp counter (through `quanta`) where it
//! is invariant: a read costs a few nanoseconds where the wall clock costs tens in a VM. The
//! readings become wall-clock times on the collector thread, against an [`Anchor`] read there.

use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

/// When something happened: a counter reading, or a wall-clock time given through the
/// OpenTelemetry API (nanoseconds since the Unix epoch: two `u64`s keep the span record small).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Timestamp {
    Counter(u64),
    Wall(u64),
}

impl Timestamp {
    pub(crate) fn wall(time: SystemTime) -> Self {
        let nanos = time
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |since| {
                u64::try_from(since.as_nanos()).unwrap_or(u64::MAX)
            });
        Self::Wall(nanos)
    }
}

/// The calibrated counter. Calibrating takes about a millisecond, so [`calibrate`] runs when
/// a backend is installed, not on a span's path.
fn clock() -> &'static quanta::Clock {
    static CLOCK: OnceLock<quanta::Clock> = OnceLock::new();
    CLOCK.get_or_init(quanta::Clock::new)
}

/// Makes the counter ready before the first span needs it.
pub(crate) fn calibrate() {
    clock();
}

/// Now, as a counter reading.
#[inline]
pub(crate) fn now() -> Timestamp {
    Timestamp::Counter(clock().raw())
}

/// A counter reading and the wall-clock time read with it: what turns the one into the
/// other. Taken per collector pass, so the counter's drift against the wall clock (NTP
/// adjusts one, not the other) never accumulates.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Anchor {
    counter: u64,
    wall: SystemTime,
}

impl Anchor {
    pub(crate) fn now() -> Self {
        let counter = clock().raw();
        Self {
            counter,
            wall: SystemTime::now(),
        }
    }

    pub(crate) fn wall_time(&self, timestamp: Timestamp) -> SystemTime {
        let counter = match timestamp {
            Timestamp::Wall(nanos) => return SystemTime::UNIX_EPOCH + Duration::from_nanos(nanos),
            Timestamp::Counter(counter) => counter,
        };
        let clock = clock();
        if counter <= self.counter {
            let before = Duration::from_nanos(clock.delta_as_nanos(counter, self.counter));
            self.wall.checked_sub(before).unwrap_or(self.wall)
        } else {
            let after = Duration::from_nanos(clock.delta_as_nanos(self.counter, counter));
            self.wall.checked_add(after).unwrap_or(self.wall)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counter_readings_become_the_wall_clock_times_they_were_read_at() {
        let before = SystemTime::now();
        let reading = now();
        std::thread::sleep(Duration::from_millis(20));
        let anchor = Anchor::now();
        let wall = anchor.wall_time(reading);
        let error = wall
            .duration_since(before)
            .unwrap_or_else(|early| early.duration());
        assert!(error < Duration::from_millis(5), "off by {error:?}");
        let given = SystemTime::UNIX_EPOCH + Duration::from_secs(7);
        assert_eq!(anchor.wall_time(Timestamp::wall(given)), given);
    }
}
