//! The highest sampling rate the kernel delivers. Linux checks CPU-time timers (the
//! profiler's `SIGPROF`) on its scheduler tick, so a busy CPU yields at most `CONFIG_HZ`
//! signals a second: asked for 1000 Hz on a 250 Hz kernel, a profile would count a quarter of
//! the CPU it should. The rate is capped there instead, with one warning.

use std::io::Read as _;

/// Where the tick rate is unknown: the lowest `CONFIG_HZ` a Linux kernel is built with, so
/// every kernel delivers it.
pub(crate) const SAFE_RATE: u32 = 100;

/// The rate to sample at for `requested`: the requested one, or the kernel's tick rate when
/// that is lower (one warning says so).
pub(crate) fn effective_rate(requested: u32) -> u32 {
    let (limit, known) = match kernel_tick_rate() {
        Some(hz) => (hz, true),
        None => (SAFE_RATE, false),
    };
    if requested <= limit {
        return requested;
    }
    let why = if known {
        format!("this kernel's scheduler tick is {limit} Hz")
    } else {
        format!(
            "this kernel's tick rate could not be read (no /proc/config.gz or \
             /boot/config-*), so {SAFE_RATE} Hz, which every kernel delivers"
        )
    };
    crate::diagnostics::warn_once(&format!(
        "the profiler samples at {limit} Hz, not the {requested} Hz asked for \
         (PYROSCOPE_SAMPLE_RATE): Linux delivers its CPU-time signal on the scheduler tick \
         and {why}; a higher rate would lose samples, not add them"
    ));
    limit
}

/// `CONFIG_HZ` of the running kernel, from its configuration where the system exposes it.
fn kernel_tick_rate() -> Option<u32> {
    let from_proc = || {
        let mut text = String::new();
        flate2::read::GzDecoder::new(std::fs::File::open("/proc/config.gz").ok()?)
            .read_to_string(&mut text)
            .ok()?;
        Some(text)
    };
    let from_boot = || {
        let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").ok()?;
        std::fs::read_to_string(format!("/boot/config-{}", release.trim())).ok()
    };
    from_proc()
        .and_then(|config| config_hz(&config))
        .or_else(|| from_boot().and_then(|config| config_hz(&config)))
}

fn config_hz(config: &str) -> Option<u32> {
    config
        .lines()
        .find_map(|line| line.strip_prefix("CONFIG_HZ="))
        .and_then(|hz| hz.trim().parse().ok())
        .filter(|hz| *hz > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tick_rate_is_read_from_the_kernel_configuration() {
        assert_eq!(config_hz("CONFIG_HZ_250=y\nCONFIG_HZ=250\n"), Some(250));
        assert_eq!(config_hz("# CONFIG_HZ is not set\n"), None);
        assert!(
            effective_rate(SAFE_RATE) == SAFE_RATE,
            "100 Hz is always kept"
        );
    }
}
