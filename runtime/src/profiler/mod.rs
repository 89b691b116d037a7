//! `profiler = "pyroscope" | "local"`: CPU profiles linked to traces.
//!
//! The [sampler](sampler) takes the stacks; a collector thread drains them every 50 ms into
//! counts per stack and [labels](labels), and either pushes a profile to Pyroscope every 10 s
//! and at shutdown, or at shutdown writes `profile.pb.gz` and `flamegraph.svg`. Spans started
//! while it runs carry their local root's labels, and local roots get `pyroscope.profile.id`.

pub(crate) mod labels;
#[cfg(feature = "profiler")]
mod profile;
#[cfg(feature = "profiler")]
mod push;
#[cfg(feature = "profiler")]
pub(crate) mod sampler;
#[cfg(feature = "profiler")]
mod symbols;
#[cfg(feature = "profiler")]
mod tick;

#[cfg(feature = "profiler")]
pub(crate) use running::Profiler;

/// Without the `profiler` feature there is never a profiler to stop.
#[cfg(not(feature = "profiler"))]
#[derive(Debug)]
pub(crate) enum Profiler {}

#[cfg(not(feature = "profiler"))]
impl Profiler {
    pub(crate) fn stop(self, _timeout: std::time::Duration) {
        match self {}
    }
}

#[cfg(feature = "profiler")]
mod running {
    use std::path::{Path, PathBuf};
    use std::sync::mpsc;
    use std::thread::JoinHandle;
    use std::time::{Duration, Instant};

    use super::profile::{self, Aggregate};
    use super::push::Pusher;
    use super::symbols::Symbols;
    use super::{labels, sampler};
    use crate::config::ProfilerKind;
    use crate::config::ProfilerSettings;
    use crate::diagnostics::warn_once;

    /// How often the collector drains the sampler's queue.
    const DRAIN_EVERY: Duration = Duration::from_millis(50);
    /// How often profiles are pushed to Pyroscope (its agents' default).
    const PUSH_EVERY: Duration = Duration::from_secs(10);

    /// The running profiler; [`stop`](Self::stop) ends it and delivers the last profile.
    #[derive(Debug)]
    pub(crate) struct Profiler {
        stop: mpsc::Sender<Instant>,
        thread: JoinHandle<()>,
    }

    /// Where profiles go.
    enum Destination {
        /// The settings and series labels the collector thread makes its `Pusher` from: its
        /// blocking HTTP client must not be made (or dropped) on an async runtime's thread,
        /// which `init` may run on.
        Pyroscope(Box<ProfilerSettings>, Vec<(String, String)>),
        Local(PathBuf),
    }

    impl Profiler {
        /// Starts sampling, or says why not (one warning; the program runs on).
        /// `labels`: the Pyroscope series labels, from the resource.
        pub(crate) fn start(
            settings: &ProfilerSettings,
            labels: Vec<(String, String)>,
        ) -> Option<Profiler> {
            let destination = match settings.kind.value {
                ProfilerKind::None => return None,
                ProfilerKind::Local => Destination::Local(settings.dir.value.clone()),
                ProfilerKind::Pyroscope => {
                    Destination::Pyroscope(Box::new(settings.clone()), labels)
                }
            };
            let rate = super::tick::effective_rate(settings.sample_rate.value);
            if let Err(error) = sampler::start(rate) {
                warn_once(&format!("the profiler is off: {error}"));
                return None;
            }
            labels::set_active(true);
            let (stop, stopped) = mpsc::channel();
            let thread = std::thread::Builder::new()
                .name("otel-profiler".into())
                .spawn(move || collect(destination, rate, &stopped));
            match thread {
                Ok(thread) => Some(Profiler { stop, thread }),
                Err(error) => {
                    labels::set_active(false);
                    sampler::stop();
                    warn_once(&format!("the profiler is off: no thread: {error}"));
                    None
                }
            }
        }

        /// Stops sampling and delivers the last profile, within `timeout`.
        pub(crate) fn stop(self, timeout: Duration) {
            labels::set_active(false);
            sampler::stop();
            let deadline = Instant::now() + timeout;
            let _ = self.stop.send(deadline);
            while !self.thread.is_finished() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(5));
            }
            if self.thread.is_finished() {
                let _ = self.thread.join();
            }
        }
    }

    /// The collector thread: drains samples, pushes or keeps them, and delivers the last
    /// profile when told to stop (the message is the deadline).
    fn collect(destination: Destination, rate: u32, stopped: &mpsc::Receiver<Instant>) {
        let destination = match destination {
            Destination::Pyroscope(settings, labels) => match Pusher::new(&settings, labels) {
                Ok(pusher) => Target::Pyroscope(Box::new(pusher)),
                Err(error) => {
                    warn_once(&format!("profiles are not sent: {error}"));
                    Target::Nowhere
                }
            },
            Destination::Local(dir) => Target::Local(dir),
        };
        let mut aggregate = Aggregate::new();
        let mut symbols = Symbols::default();
        let mut last_push = Instant::now();
        let mut failing = false;
        // Taken on the first drain that finds it free.
        let mut reader = None;
        let mut drain = |aggregate: &mut Aggregate, symbols: &mut Symbols| {
            if reader.is_none() {
                reader = sampler::consumer();
            }
            if let Some(reader) = reader.as_mut() {
                reader.drain(&mut |sample| aggregate.add(&sample, symbols));
            }
        };
        let deadline = loop {
            match stopped.recv_timeout(DRAIN_EVERY) {
                Ok(deadline) => break deadline,
                Err(mpsc::RecvTimeoutError::Disconnected) => break Instant::now(),
                Err(mpsc::RecvTimeoutError::Timeout) => {}
            }
            drain(&mut aggregate, &mut symbols);
            if let Target::Pyroscope(pusher) = &destination
                && last_push.elapsed() >= PUSH_EVERY
            {
                last_push = Instant::now();
                push(
                    pusher,
                    &mut aggregate,
                    &symbols,
                    rate,
                    Duration::from_secs(10),
                    &mut failing,
                );
            }
        };
        drain(&mut aggregate, &mut symbols);
        match &destination {
            Target::Pyroscope(pusher) => {
                let left = deadline.saturating_duration_since(Instant::now());
                push(pusher, &mut aggregate, &symbols, rate, left, &mut failing);
            }
            Target::Local(dir) => write_local(dir, &aggregate, &symbols, rate),
            Target::Nowhere => {}
        }
    }

    /// Where the collector thread sends profiles.
    enum Target {
        Pyroscope(Box<Pusher>),
        Local(PathBuf),
        Nowhere,
    }

    /// Pushes what was counted since the last push. A failure is one warning until a push
    /// succeeds again; what it held is dropped, the program runs on.
    fn push(
        pusher: &Pusher,
        aggregate: &mut Aggregate,
        symbols: &Symbols,
        rate: u32,
        timeout: Duration,
        failing: &mut bool,
    ) {
        if aggregate.is_empty() || timeout.is_zero() {
            return;
        }
        let taken = aggregate.take();
        let pprof = profile::pprof(&taken, symbols, rate);
        match pusher.push(pprof, timeout) {
            Ok(()) => *failing = false,
            Err(error) if !*failing => {
                *failing = true;
                crate::diagnostics::warn(&format!(
                    "profiles to {} are not delivered: {error}; {} samples dropped",
                    pusher.server(),
                    taken.samples()
                ));
            }
            Err(_) => {}
        }
    }

    /// `profile.pb.gz` and `flamegraph.svg` in `dir`, their paths printed.
    fn write_local(dir: &Path, aggregate: &Aggregate, symbols: &Symbols, rate: u32) {
        let written = (|| -> Result<(PathBuf, PathBuf), String> {
            std::fs::create_dir_all(dir)
                .map_err(|error| format!("could not create {}: {error}", dir.display()))?;
            let pprof_path = dir.join("profile.pb.gz");
            let pprof = profile::pprof(aggregate, symbols, rate);
            let compressed = profile::gzip(&pprof).map_err(|error| error.to_string())?;
            std::fs::write(&pprof_path, compressed)
                .map_err(|error| format!("could not write {}: {error}", pprof_path.display()))?;
            let svg_path = dir.join("flamegraph.svg");
            let lines = profile::folded(aggregate, symbols);
            let mut options = inferno::flamegraph::Options::default();
            options.title = "CPU".to_owned();
            options.count_name = "samples".to_owned();
            let mut svg = Vec::new();
            if lines.is_empty() {
                // inferno refuses an empty profile; say so in the picture.
                svg.extend_from_slice(EMPTY_SVG.as_bytes());
            } else {
                inferno::flamegraph::from_lines(
                    &mut options,
                    lines.iter().map(String::as_str),
                    &mut svg,
                )
                .map_err(|error| format!("could not draw the flamegraph: {error}"))?;
            }
            std::fs::write(&svg_path, svg)
                .map_err(|error| format!("could not write {}: {error}", svg_path.display()))?;
            Ok((pprof_path, svg_path))
        })();
        match written {
            Ok((pprof_path, svg_path)) => eprintln!(
                "otel: CPU profile of {} samples written to {} (pprof) and {} (flamegraph){}",
                aggregate.samples(),
                pprof_path.display(),
                svg_path.display(),
                lost(aggregate.folded)
            ),
            Err(error) => warn_once(&format!("the CPU profile was not written: {error}")),
        }
    }

    /// The samples not in the profile, when there were any: taken inside the unwinder or the
    /// loader (where walking the stack is not safe), or beyond the queue's room; and those
    /// holding the interrupted function alone (no signal stack to walk from), and those whose
    /// stack or span id the profile's bounds folded.
    fn lost(folded: u64) -> String {
        use std::sync::atomic::Ordering::Relaxed;
        let skipped = sampler::SKIPPED.load(Relaxed);
        let dropped = sampler::DROPPED.load(Relaxed);
        let leaf_only = sampler::LEAF_ONLY.load(Relaxed);
        let mut told = String::new();
        if skipped + dropped > 0 {
            told.push_str(&format!(
                "; {skipped} samples taken inside the unwinder or the loader and {dropped} beyond the queue's room are not in it"
            ));
        }
        if leaf_only > 0 {
            told.push_str(&format!(
                "; {leaf_only} samples hold the interrupted function alone (taken on threads without a signal stack to walk from)"
            ));
        }
        if folded > 0 {
            told.push_str(&format!(
                "; {folded} samples past the profile's bounds (20,000 stacks, 50,000 stack and span pairs) keep their innermost function or their span's name alone"
            ));
        }
        told
    }

    const EMPTY_SVG: &str = concat!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="600" height="60">"#,
        r#"<text x="10" y="35">No CPU samples: the program spent too little CPU time.</text></svg>"#,
        "\n"
    );
}
