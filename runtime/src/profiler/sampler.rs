//! The sampler: a `SIGPROF` timer on the process's CPU time (one signal per `1/rate` s of CPU
//! any thread spends), and a handler that records the interrupted thread's stack and its
//! [labels](super::labels) into a preallocated queue, without locking or allocating.
//!
//! This is the one module of the crate with `unsafe` code: installing a signal handler, reading
//! the interrupted program counter from the signal's context, walking the stack from inside
//! the handler, and reading the thread's label slot. Every block says why it is sound.
//!
//! Walking the stack uses the system unwinder (`backtrace::trace_unsynchronized`), as pprof-rs
//! does. The unwinder allocates nothing and finds unwind tables through `_dl_find_object`
//! (lock-free, glibc 2.35 and later) or `dl_iterate_phdr`, whose lock is recursive, so a thread
//! interrupted in the C library (in `malloc`, `memcpy`) can be walked and its samples count.
//! A thread interrupted inside the unwinder itself or the dynamic loader cannot: their state
//! may be half-updated. Those samples are skipped, and counted; the code ranges come from
//! `/proc/self/maps` when the sampler starts.
//!
//! The handler runs on the thread's signal stack (`SA_ONSTACK`), which Rust's standard library
//! gives the main thread and every thread it spawns: the kernel's signal frame (3.3 KiB with
//! AVX-512 state) and the walk (1.6 KiB more, measured) never take the interrupted thread's
//! own stack, so a thread running near its stack's end with the profiler off runs so with it
//! on. Where there is no signal stack (threads made outside Rust's `std`), or too little of
//! it is left, the sample holds the interrupted function alone, and is counted.
#![allow(unsafe_code)]

use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

use super::labels::ProfileLabels;

/// Frames kept per sample; deeper stacks are cut at the root end.
pub(crate) const MAX_DEPTH: usize = 64;

/// Samples the queue holds between two drains (every 50 ms): room for 20,000 samples a second.
const CAPACITY: usize = 1024;

/// One sample as the handler wrote it.
#[derive(Clone, Copy)]
pub(crate) struct RawSample {
    pub(crate) labels: Option<ProfileLabels>,
    pub(crate) depth: usize,
    /// Return addresses, innermost first.
    pub(crate) frames: [usize; MAX_DEPTH],
}

/// A bounded queue many handlers (one per interrupted thread) write and one collector reads:
/// each slot has a sequence number saying whose turn it is (Vyukov's bounded queue).
struct Queue {
    slots: Box<[Slot]>,
    head: AtomicUsize,
    tail: AtomicUsize,
    /// Whether a [`Consumer`] exists: the one reader the algorithm allows.
    consumed: AtomicBool,
}

/// The queue's one reader: only its holder pops, and only one exists at a time
/// ([`Queue::consumer`]), so two collectors (a second profiler) can never race on `tail`.
pub(crate) struct Consumer<'q> {
    queue: &'q Queue,
}

impl Drop for Consumer<'_> {
    fn drop(&mut self) {
        self.queue.consumed.store(false, Ordering::Release);
    }
}

struct Slot {
    sequence: AtomicUsize,
    sample: std::cell::UnsafeCell<RawSample>,
}

// SAFETY: a slot's sample is written only by the one producer that claimed its sequence, and
// read only by the consumer after that producer published it; the sequence numbers order them.
unsafe impl Sync for Queue {}

impl Queue {
    fn new() -> Self {
        let slots = (0..CAPACITY)
            .map(|index| Slot {
                sequence: AtomicUsize::new(index),
                sample: std::cell::UnsafeCell::new(RawSample {
                    labels: None,
                    depth: 0,
                    frames: [0; MAX_DEPTH],
                }),
            })
            .collect();
        Self {
            slots,
            head: AtomicUsize::new(0),
            tail: AtomicUsize::new(0),
            consumed: AtomicBool::new(false),
        }
    }

    /// The reader, unless one exists.
    fn consumer(&self) -> Option<Consumer<'_>> {
        self.consumed
            .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
            .ok()
            .map(|_| Consumer { queue: self })
    }

    /// Claims a slot and fills it with `fill`; `false` when the queue is full.
    fn push(&self, fill: impl FnOnce(&mut RawSample)) -> bool {
        let mut position = self.head.load(Ordering::Relaxed);
        loop {
            let slot = &self.slots[position % CAPACITY];
            let sequence = slot.sequence.load(Ordering::Acquire);
            if sequence == position {
                match self.head.compare_exchange_weak(
                    position,
                    position + 1,
                    Ordering::Relaxed,
                    Ordering::Relaxed,
                ) {
                    Ok(_) => {
                        // SAFETY: the successful exchange made this producer the only writer
                        // of the slot until it publishes the next sequence below.
                        fill(unsafe { &mut *slot.sample.get() });
                        slot.sequence.store(position + 1, Ordering::Release);
                        return true;
                    }
                    Err(current) => position = current,
                }
            } else if sequence < position {
                return false;
            } else {
                position = self.head.load(Ordering::Relaxed);
            }
        }
    }

    /// Takes the oldest published sample, if any: for the [`Consumer`] alone.
    fn pop(&self, _reader: &mut Consumer<'_>) -> Option<RawSample> {
        let position = self.tail.load(Ordering::Relaxed);
        let slot = &self.slots[position % CAPACITY];
        if slot.sequence.load(Ordering::Acquire) != position + 1 {
            return None;
        }
        // SAFETY: the producer published the slot (sequence = position + 1) and no producer
        // writes it again until the store below hands it back.
        let sample = unsafe { *slot.sample.get() };
        self.tail.store(position + 1, Ordering::Relaxed);
        slot.sequence.store(position + CAPACITY, Ordering::Release);
        Some(sample)
    }
}

static QUEUE: OnceLock<Queue> = OnceLock::new();
/// Whether the handler records: cleared before the timer stops, so a late signal does nothing.
static RECORDING: AtomicBool = AtomicBool::new(false);
/// Samples lost to a full queue, and samples skipped inside the unwinder or the loader.
pub(crate) static DROPPED: AtomicU64 = AtomicU64::new(0);
pub(crate) static SKIPPED: AtomicU64 = AtomicU64::new(0);
/// Samples holding the interrupted function alone: no signal stack, or too little of it.
pub(crate) static LEAF_ONLY: AtomicU64 = AtomicU64::new(0);
/// The signal stack the walk needs below the handler's frame: 1.6 KiB measured (the
/// unwinder's contexts and frame state, x86_64), with room to spare. Rust's signal stacks
/// are `max(SIGSTKSZ, AT_MINSIGSTKSZ)`, 8 KiB or more, so this is left after the kernel's frame.
const ROOM_TO_WALK: usize = 4096;
/// Code ranges of the dynamic loader and the unwinder.
static UNSAFE_TO_UNWIND: OnceLock<Vec<(usize, usize)>> = OnceLock::new();

/// The span name a thread's label slot points at.
pub(crate) fn static_name(pointer: *mut &'static str) -> &'static &'static str {
    // SAFETY: a slot's name pointer is only ever null (checked by the caller) or made from a
    // `&'static &'static str` (`labels::Slot::write`): valid, never written, for the life of
    // the program.
    unsafe { &*pointer }
}

/// The reader of the samples, for the profiler's collector thread; `None` while another
/// holds it (or before sampling ever started).
pub(crate) fn consumer() -> Option<Consumer<'static>> {
    QUEUE.get().and_then(Queue::consumer)
}

impl Consumer<'_> {
    /// Drains the samples taken so far into `into`.
    pub(crate) fn drain(&mut self, into: &mut impl FnMut(RawSample)) {
        let queue = self.queue;
        while let Some(sample) = queue.pop(self) {
            into(sample);
        }
    }
}

/// Starts sampling at `rate` samples per second of CPU time.
#[cfg(all(
    target_os = "linux",
    any(target_arch = "x86_64", target_arch = "aarch64")
))]
pub(crate) fn start(rate: u32) -> Result<(), String> {
    QUEUE.get_or_init(Queue::new);
    UNSAFE_TO_UNWIND.get_or_init(unwinder_ranges);
    // Resolve the unwinder's own lazily bound symbols now, outside any signal handler.
    backtrace::trace(|_| false);
    RECORDING.store(true, Ordering::Release);

    // SAFETY: `sigaction` with a zeroed structure, a valid handler of the `SA_SIGINFO` shape
    // and an empty mask installs the handler; nothing else is read or written.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = handler as *const () as usize;
        // SA_ONSTACK: on the thread's signal stack, where it has one (see the module's doc).
        action.sa_flags = libc::SA_SIGINFO | libc::SA_RESTART | libc::SA_ONSTACK;
        libc::sigemptyset(&mut action.sa_mask);
        if libc::sigaction(libc::SIGPROF, &action, std::ptr::null_mut()) != 0 {
            RECORDING.store(false, Ordering::Release);
            return Err(format!(
                "could not install the SIGPROF handler: {}",
                std::io::Error::last_os_error()
            ));
        }
    }
    set_timer(1_000_000 / u64::from(rate.max(1)))
}

#[cfg(not(all(
    target_os = "linux",
    any(target_arch = "x86_64", target_arch = "aarch64")
)))]
pub(crate) fn start(_rate: u32) -> Result<(), String> {
    Err("the profiler samples on Linux (x86_64, aarch64) only".to_owned())
}

/// Stops sampling. The handler stays installed, doing nothing: a signal already on its way
/// must not find the default action, which ends the process.
pub(crate) fn stop() {
    RECORDING.store(false, Ordering::Release);
    #[cfg(all(
        target_os = "linux",
        any(target_arch = "x86_64", target_arch = "aarch64")
    ))]
    let _ = set_timer(0);
}

#[cfg(all(
    target_os = "linux",
    any(target_arch = "x86_64", target_arch = "aarch64")
))]
fn set_timer(interval_micros: u64) -> Result<(), String> {
    let interval = libc::timeval {
        tv_sec: (interval_micros / 1_000_000) as libc::time_t,
        tv_usec: (interval_micros % 1_000_000) as libc::suseconds_t,
    };
    let timer = libc::itimerval {
        it_interval: interval,
        it_value: interval,
    };
    // SAFETY: `setitimer` reads the structure given and writes nothing (no old value asked).
    if unsafe { libc::setitimer(libc::ITIMER_PROF, &timer, std::ptr::null_mut()) } != 0 {
        return Err(format!(
            "could not start the profiling timer: {}",
            std::io::Error::last_os_error()
        ));
    }
    Ok(())
}

/// The `SIGPROF` handler: no lock, no allocation, `errno` preserved.
#[cfg(all(
    target_os = "linux",
    any(target_arch = "x86_64", target_arch = "aarch64")
))]
extern "C" fn handler(
    _signal: libc::c_int,
    _info: *mut libc::siginfo_t,
    context: *mut libc::c_void,
) {
    if !RECORDING.load(Ordering::Acquire) {
        return;
    }
    // SAFETY: `__errno_location` returns this thread's errno, which the handler must give back
    // unchanged to the code it interrupted.
    let errno = unsafe { *libc::__errno_location() };
    record(interrupted_pc(context));
    // SAFETY: as above.
    unsafe { *libc::__errno_location() = errno };
}

/// The program counter the signal interrupted, from the signal's context.
#[cfg(all(
    target_os = "linux",
    any(target_arch = "x86_64", target_arch = "aarch64")
))]
fn interrupted_pc(context: *mut libc::c_void) -> usize {
    if context.is_null() {
        return 0;
    }
    // SAFETY: for an `SA_SIGINFO` handler the kernel passes a valid `ucontext_t` as the third
    // argument, alive for the duration of the handler.
    let context = unsafe { &*context.cast::<libc::ucontext_t>() };
    #[cfg(target_arch = "x86_64")]
    let pc = context.uc_mcontext.gregs[libc::REG_RIP as usize] as usize;
    #[cfg(target_arch = "aarch64")]
    let pc = context.uc_mcontext.pc as usize;
    pc
}

#[cfg(all(
    target_os = "linux",
    any(target_arch = "x86_64", target_arch = "aarch64")
))]
fn record(pc: usize) {
    let Some(queue) = QUEUE.get() else {
        return;
    };
    let ranges = UNSAFE_TO_UNWIND
        .get()
        .map(Vec::as_slice)
        .unwrap_or_default();
    if ranges
        .iter()
        .any(|(start, end)| (*start..*end).contains(&pc))
    {
        SKIPPED.fetch_add(1, Ordering::Relaxed);
        return;
    }
    let labels = super::labels::current();
    let walk = signal_stack_room().is_some_and(|room| room >= ROOM_TO_WALK);
    if !walk {
        LEAF_ONLY.fetch_add(1, Ordering::Relaxed);
    }
    let pushed = queue.push(|sample| {
        sample.labels = labels;
        sample.depth = 0;
        if !walk {
            sample.frames[0] = pc;
            sample.depth = usize::from(pc != 0);
            return;
        }
        // The unwinder first walks the handler and the kernel's signal trampoline; the frame
        // it reports at the interrupted program counter is where the sample's stack starts.
        let mut interrupted = None;
        // SAFETY: `trace_unsynchronized` must not run concurrently with itself on this thread
        // without synchronisation; a signal handler cannot be re-entered by the same signal
        // (it is blocked while the handler runs), and samples inside the unwinder's own code
        // were skipped above.
        unsafe {
            backtrace::trace_unsynchronized(|frame| {
                let ip = frame.ip() as usize;
                if interrupted.is_none() && ip == pc {
                    interrupted = Some(sample.depth);
                }
                if sample.depth < MAX_DEPTH {
                    sample.frames[sample.depth] = ip;
                    sample.depth += 1;
                    true
                } else {
                    false
                }
            });
        }
        match interrupted {
            Some(start) => {
                sample.frames.copy_within(start..sample.depth, 0);
                sample.depth -= start;
            }
            // The unwinder did not get past the trampoline: the program counter alone.
            None => {
                sample.frames[0] = pc;
                sample.depth = usize::from(pc != 0);
            }
        }
    });
    if !pushed {
        DROPPED.fetch_add(1, Ordering::Relaxed);
    }
}

/// The bytes left below this point of the signal stack the handler runs on; `None` when it
/// runs on the thread's own stack (the thread has no signal stack), whose room is unknown.
#[cfg(all(
    target_os = "linux",
    any(target_arch = "x86_64", target_arch = "aarch64")
))]
fn signal_stack_room() -> Option<usize> {
    let mut current: libc::stack_t = libc::stack_t {
        ss_sp: std::ptr::null_mut(),
        ss_flags: 0,
        ss_size: 0,
    };
    // SAFETY: with no new stack given, `sigaltstack` only writes the current one into
    // `current` (a plain system call: async-signal-safe; the handler restores `errno`).
    if unsafe { libc::sigaltstack(std::ptr::null(), &mut current) } != 0
        || current.ss_flags & libc::SS_ONSTACK == 0
    {
        return None;
    }
    let here = std::hint::black_box(0u8);
    Some((std::ptr::from_ref(&here) as usize).saturating_sub(current.ss_sp as usize))
}

/// The executable mappings of the dynamic loader and the unwinder, from `/proc/self/maps`.
#[cfg(all(
    target_os = "linux",
    any(target_arch = "x86_64", target_arch = "aarch64")
))]
fn unwinder_ranges() -> Vec<(usize, usize)> {
    const LIBRARIES: [&str; 3] = ["/ld-linux", "/ld-musl", "/libgcc_s"];
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap_or_default();
    maps.lines()
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            let range = fields.next()?;
            let permissions = fields.next()?;
            let path = fields.nth(3)?;
            if !permissions.contains('x') || !LIBRARIES.iter().any(|lib| path.contains(lib)) {
                return None;
            }
            let (start, end) = range.split_once('-')?;
            Some((
                usize::from_str_radix(start, 16).ok()?,
                usize::from_str_radix(end, 16).ok()?,
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Four writers (as four interrupted threads would be) against the one reader: every
    /// sample arrives once, none twice, and a second reader is refused while the first lives.
    #[test]
    fn one_reader_at_a_time_and_every_sample_once_under_many_writers() {
        const WRITERS: usize = 4;
        const EACH: usize = 20_000;
        let queue = Queue::new();
        let mut reader = queue.consumer().expect("the first reader");
        assert!(queue.consumer().is_none(), "a second reader is refused");
        let seen = std::thread::scope(|scope| {
            for writer in 0..WRITERS {
                let queue = &queue;
                scope.spawn(move || {
                    for n in 0..EACH {
                        // The sample's depth carries its number.
                        while !queue.push(|sample| sample.depth = writer * EACH + n) {
                            std::thread::yield_now();
                        }
                    }
                });
            }
            let mut seen = vec![false; WRITERS * EACH];
            let mut count = 0;
            while count < WRITERS * EACH {
                match queue.pop(&mut reader) {
                    Some(sample) => {
                        assert!(!seen[sample.depth], "sample {} twice", sample.depth);
                        seen[sample.depth] = true;
                        count += 1;
                    }
                    None => std::thread::yield_now(),
                }
            }
            seen
        });
        assert!(seen.iter().all(|arrived| *arrived));
        drop(reader);
        assert!(
            queue.consumer().is_some(),
            "free again once the reader is gone"
        );
    }

    /// The kernel's signal frame and the walk together fit in the smallest signal stack
    /// Rust's standard library makes (`SIGSTKSZ`, 8 KiB): on a signal stack painted with a
    /// pattern, what the samples of a 100-deep recursion overwrote is what they used.
    #[cfg(all(target_os = "linux", target_arch = "x86_64"))]
    #[test]
    fn the_walk_on_the_signal_stack_fits_in_the_smallest_one_rust_makes() {
        const PAINT: u8 = 0xA5;
        #[inline(never)]
        fn recurse(depth: u32, until: std::time::Duration) -> u64 {
            if depth == 0 {
                let mut value = 0u64;
                while thread_cpu_time() < until {
                    value = std::hint::black_box(value.wrapping_mul(31).wrapping_add(7));
                }
                return value;
            }
            std::hint::black_box(recurse(depth - 1, until)) + 1
        }
        fn thread_cpu_time() -> std::time::Duration {
            let mut now = libc::timespec {
                tv_sec: 0,
                tv_nsec: 0,
            };
            // SAFETY: `clock_gettime` writes the time into `now` and reads nothing else.
            unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) };
            std::time::Duration::new(now.tv_sec as u64, now.tv_nsec as u32)
        }

        let used = std::thread::spawn(|| {
            let mut stack = vec![PAINT; 64 * 1024];
            let painted = libc::stack_t {
                ss_sp: stack.as_mut_ptr().cast(),
                ss_flags: 0,
                ss_size: stack.len(),
            };
            // SAFETY: the painted buffer outlives its use as this thread's signal stack,
            // which ends (SS_DISABLE) before the buffer is read or dropped.
            unsafe { libc::sigaltstack(&painted, std::ptr::null_mut()) };
            let before = LEAF_ONLY.load(Ordering::Relaxed);
            start(250).expect("sampling starts");
            recurse(
                100,
                thread_cpu_time() + std::time::Duration::from_millis(400),
            );
            stop();
            let walked = LEAF_ONLY.load(Ordering::Relaxed) == before;
            let off = libc::stack_t {
                ss_sp: std::ptr::null_mut(),
                ss_flags: libc::SS_DISABLE,
                ss_size: 0,
            };
            // SAFETY: as above; the thread is not on its signal stack here.
            unsafe { libc::sigaltstack(&off, std::ptr::null_mut()) };
            assert!(
                walked,
                "with 64 KiB of signal stack every sample was walked"
            );
            stack.len()
                - stack
                    .iter()
                    .position(|byte| *byte != PAINT)
                    .unwrap_or(stack.len())
        })
        .join()
        .expect("the sampled thread");
        assert!(
            (2048..=8192).contains(&used),
            "the kernel's frame and the walk used {used} bytes of the signal stack"
        );
    }
}
