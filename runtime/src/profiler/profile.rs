//! From samples to profiles: samples counted by stack and labels, addresses turned into
//! function names, and the pprof profile (for Pyroscope and the local file) and the folded
//! stacks (for the flamegraph) made from them.

use std::collections::{BTreeSet, HashMap};
use std::io::Write as _;
use std::time::SystemTime;

use prost::Message as _;
use pyroscope::backend::{Metadata, Report, StackFrame, StackTrace, Tag};

use super::labels::ProfileLabels;
use super::sampler::RawSample;

/// Samples counted by stack and labels, since `started`.
#[derive(Debug)]
pub(crate) struct Aggregate {
    counts: HashMap<(Vec<usize>, Option<ProfileLabels>), usize>,
    pub(crate) started: SystemTime,
}

impl Aggregate {
    pub(crate) fn new() -> Self {
        Self {
            counts: HashMap::new(),
            started: SystemTime::now(),
        }
    }

    pub(crate) fn add(&mut self, sample: &RawSample) {
        let stack = sample.frames[..sample.depth].to_vec();
        *self.counts.entry((stack, sample.labels)).or_default() += 1;
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.counts.is_empty()
    }

    pub(crate) fn samples(&self) -> usize {
        self.counts.values().sum()
    }

    /// Hands over what was counted and starts counting afresh.
    pub(crate) fn take(&mut self) -> Aggregate {
        std::mem::replace(self, Aggregate::new())
    }
}

/// One function of a stack, innermost first when several were inlined at one address.
#[derive(Debug, Clone)]
struct Function {
    name: String,
    file: Option<String>,
    line: Option<u32>,
}

/// Names for addresses, each resolved once for the life of the profiler.
#[derive(Debug, Default)]
pub(crate) struct Symbols {
    resolved: HashMap<usize, Vec<Function>>,
}

impl Symbols {
    /// The functions at `address`: the interrupted instruction for the innermost frame, a
    /// return address (so the call is the instruction before it) for the others.
    fn functions(&mut self, address: usize, innermost: bool) -> &[Function] {
        self.resolved.entry(address).or_insert_with(|| {
            let lookup = if innermost {
                address
            } else {
                address.saturating_sub(1)
            };
            let mut functions = Vec::new();
            backtrace::resolve(lookup as *mut std::ffi::c_void, |symbol| {
                functions.push(Function {
                    name: symbol
                        .name()
                        .map_or_else(|| format!("{address:#x}"), |name| format!("{name:#}")),
                    file: symbol.filename().map(|path| path.display().to_string()),
                    line: symbol.lineno(),
                });
            });
            if functions.is_empty() {
                functions.push(Function {
                    name: format!("{address:#x}"),
                    file: None,
                    line: None,
                });
            }
            functions
        })
    }

    /// A sample's stack as functions, innermost first, without the sampler's own frames.
    fn stack(&mut self, addresses: &[usize]) -> Vec<Function> {
        let mut stack = Vec::with_capacity(addresses.len());
        for (index, address) in addresses.iter().enumerate() {
            stack.extend_from_slice(self.functions(*address, index == 0));
        }
        stack
    }
}

/// The labels of a sample, as the profile carries them: `span_id` (the local root's, in
/// hex, as the span's `pyroscope.profile.id`) and `span_name`.
fn tags(labels: Option<&ProfileLabels>) -> BTreeSet<Tag> {
    labels
        .map(|labels| {
            BTreeSet::from([
                Tag::new("span_id".to_owned(), format!("{:016x}", labels.root)),
                Tag::new("span_name".to_owned(), (*labels.name).to_owned()),
            ])
        })
        .unwrap_or_default()
}

/// The aggregate as pyroscope's report: each stack with its labels and count.
pub(crate) fn report(aggregate: &Aggregate, symbols: &mut Symbols) -> Report {
    let mut data = HashMap::new();
    for ((addresses, labels), count) in &aggregate.counts {
        let frames = symbols
            .stack(addresses)
            .into_iter()
            .map(|function| {
                StackFrame::new(
                    None,
                    Some(function.name),
                    function.file.clone(),
                    None,
                    function.file,
                    function.line,
                )
            })
            .collect();
        let trace = StackTrace {
            frames,
            metadata: Metadata {
                tags: tags(labels.as_ref()),
            },
            ..StackTrace::default()
        };
        *data.entry(trace).or_default() += count;
    }
    Report {
        data,
        metadata: Metadata::default(),
    }
}

/// The pprof profile of `report` (not compressed), `rate` samples per second.
pub(crate) fn pprof(report: Report, rate: u32, started: SystemTime) -> Vec<u8> {
    let start = started
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default();
    let duration = SystemTime::now()
        .duration_since(started)
        .unwrap_or_default();
    pyroscope::encode::pprof::encode(
        &vec![report],
        rate,
        u64::try_from(start.as_nanos()).unwrap_or(u64::MAX),
        u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX),
    )
    .encode_to_vec()
}

/// gzip, as pprof files and Pyroscope pushes are sent.
pub(crate) fn gzip(bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes)?;
    encoder.finish()
}

/// Folded stacks for a flamegraph, outermost first, under the local root span's name when
/// the sample had one: `[checkout];main;place_order;charge 12`.
pub(crate) fn folded(aggregate: &Aggregate, symbols: &mut Symbols) -> Vec<String> {
    let mut lines: HashMap<String, usize> = HashMap::new();
    for ((addresses, labels), count) in &aggregate.counts {
        let mut names: Vec<String> = symbols
            .stack(addresses)
            .into_iter()
            .rev()
            .map(|function| function.name.replace(';', ":"))
            .collect();
        if let Some(labels) = labels {
            names.insert(0, format!("[{}]", labels.name.replace(';', ":")));
        }
        *lines.entry(names.join(";")).or_default() += count;
    }
    let mut lines: Vec<String> = lines
        .into_iter()
        .map(|(stack, count)| format!("{stack} {count}"))
        .collect();
    lines.sort();
    lines
}
