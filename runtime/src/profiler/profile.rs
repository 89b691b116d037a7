//! From samples to profiles: samples counted by stack of [functions](super::symbols) and
//! span, within bounds a long run cannot outgrow, and the pprof profile (for Pyroscope and
//! the local file) and the folded stacks (for the flamegraph) made from them.

use std::collections::HashMap;
use std::io::Write as _;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use super::labels::ProfileLabels;
use super::sampler::RawSample;
use super::symbols::{FunctionId, Symbols};

/// Distinct stacks an aggregate keeps; past them a new stack counts as its innermost
/// function alone (a stack of 16 functions takes some 150 bytes).
const MAX_STACKS: usize = 20_000;
/// Distinct (stack, span) pairs an aggregate keeps; past them a new pair keeps its span's
/// name without its id. Every request is a new span, so a local profile of a busy service
/// would otherwise grow with its traffic (some 40 bytes a pair).
const MAX_PAIRS: usize = 50_000;

/// What a sample is attributed to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Attribution {
    /// No span was current.
    None,
    /// The local root span's id and name.
    Span(ProfileLabels),
    /// The local root span's name alone, once [`MAX_PAIRS`] was reached.
    SpanName(&'static &'static str),
}

/// Samples counted by stack (of functions, innermost first) and span, since `started`.
#[derive(Debug)]
pub(crate) struct Aggregate {
    stack_ids: HashMap<Arc<[FunctionId]>, u32>,
    stacks: Vec<Arc<[FunctionId]>>,
    counts: HashMap<(u32, Attribution), u64>,
    /// Samples whose stack or span id was folded by the bounds above.
    pub(crate) folded: u64,
    pub(crate) started: SystemTime,
}

impl Aggregate {
    pub(crate) fn new() -> Self {
        Self {
            stack_ids: HashMap::new(),
            stacks: Vec::new(),
            counts: HashMap::new(),
            folded: 0,
            started: SystemTime::now(),
        }
    }

    /// Counts `sample`, its addresses named through `symbols`.
    pub(crate) fn add(&mut self, sample: &RawSample, symbols: &mut Symbols) {
        let functions: Vec<FunctionId> = sample.frames[..sample.depth]
            .iter()
            .enumerate()
            .map(|(index, address)| symbols.function_id(*address, index == 0))
            .collect();
        let mut folded = false;
        let stack = match self.stack_ids.get(functions.as_slice()) {
            Some(stack) => *stack,
            None => {
                let functions = if self.stacks.len() >= MAX_STACKS && functions.len() > 1 {
                    folded = true;
                    functions[..1].to_vec()
                } else {
                    functions
                };
                self.intern(functions)
            }
        };
        let mut attribution = match sample.labels {
            Some(labels) => Attribution::Span(labels),
            None => Attribution::None,
        };
        if let Attribution::Span(labels) = attribution
            && self.counts.len() >= MAX_PAIRS
            && !self.counts.contains_key(&(stack, attribution))
        {
            folded = true;
            attribution = Attribution::SpanName(labels.name);
        }
        *self.counts.entry((stack, attribution)).or_default() += 1;
        self.folded += u64::from(folded);
    }

    fn intern(&mut self, functions: Vec<FunctionId>) -> u32 {
        if let Some(stack) = self.stack_ids.get(functions.as_slice()) {
            return *stack;
        }
        let stack = u32::try_from(self.stacks.len()).unwrap_or(u32::MAX);
        let functions: Arc<[FunctionId]> = functions.into();
        self.stacks.push(functions.clone());
        self.stack_ids.insert(functions, stack);
        stack
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.counts.is_empty()
    }

    pub(crate) fn samples(&self) -> u64 {
        self.counts.values().sum()
    }

    /// Hands over what was counted and starts counting afresh.
    pub(crate) fn take(&mut self) -> Aggregate {
        std::mem::replace(self, Aggregate::new())
    }

    /// Each counted stack with its attribution and count.
    fn entries(&self) -> impl Iterator<Item = (&[FunctionId], Attribution, u64)> {
        self.counts.iter().map(|((stack, attribution), count)| {
            (&*self.stacks[*stack as usize], *attribution, *count)
        })
    }
}

/// The pprof profile (not compressed) of `aggregate`, `rate` samples per second.
///
/// Encoded sample by sample into the output, not built as a message first: a local profile
/// may hold a hundred thousand samples (one per stack and span), and their message form
/// would take several times the bytes of their encoding.
pub(crate) fn pprof(aggregate: &Aggregate, symbols: &Symbols, rate: u32) -> Vec<u8> {
    use prost::encoding;
    use pyroscope::encode::r#gen::google::{Function, Label, Line, Location, Sample, ValueType};

    let mut strings = Strings::default();
    let mut out = Vec::new();
    let cpu = ValueType {
        r#type: strings.id("cpu"),
        unit: strings.id("nanoseconds"),
    };
    let period = 1_000_000_000 / i64::from(rate.max(1));
    let span_id = strings.id("span_id");
    let span_name = strings.id("span_name");
    // Profile fields, by their numbers in profile.proto.
    encoding::message::encode(1, &cpu, &mut out);
    // A location per function met (ids from 1, in the order met).
    let mut locations: HashMap<FunctionId, u64> = HashMap::new();
    let mut root_ids: HashMap<u64, i64> = HashMap::new();
    let mut sample = Sample::default();
    for (stack, attribution, count) in aggregate.entries() {
        sample.location_id.clear();
        for function in stack {
            let next = locations.len() as u64 + 1;
            sample
                .location_id
                .push(*locations.entry(*function).or_insert(next));
        }
        sample.value.clear();
        sample.value.push(
            i64::try_from(count)
                .unwrap_or(i64::MAX)
                .saturating_mul(period),
        );
        sample.label.clear();
        let label = |key, value| Label {
            key,
            str: value,
            num: 0,
            num_unit: 0,
        };
        match attribution {
            Attribution::None => {}
            Attribution::Span(labels) => {
                let next = strings.table.len() as i64;
                let id = *root_ids.entry(labels.root).or_insert(next);
                if id == next {
                    strings.table.push(format!("{:016x}", labels.root).into());
                }
                sample.label.push(label(span_id, id));
                sample.label.push(label(span_name, strings.id(labels.name)));
            }
            Attribution::SpanName(name) => {
                sample.label.push(label(span_name, strings.id(name)));
            }
        }
        encoding::message::encode(2, &sample, &mut out);
    }
    let mut locations: Vec<(FunctionId, u64)> = locations.into_iter().collect();
    locations.sort_unstable_by_key(|(_, id)| *id);
    for (function, id) in locations {
        let named = symbols.function(function);
        encoding::message::encode(
            4,
            &Location {
                id,
                line: vec![Line {
                    function_id: id,
                    line: 0,
                }],
                ..Location::default()
            },
            &mut out,
        );
        encoding::message::encode(
            5,
            &Function {
                id,
                name: strings.id(&named.name),
                filename: named.file.as_deref().map_or(0, |file| strings.id(file)),
                ..Function::default()
            },
            &mut out,
        );
    }
    for string in &strings.table {
        encoding::encode_key(6, encoding::WireType::LengthDelimited, &mut out);
        encoding::encode_varint(string.len() as u64, &mut out);
        out.extend_from_slice(string.as_bytes());
    }
    let nanos = |time: Duration| i64::try_from(time.as_nanos()).unwrap_or(i64::MAX);
    let started = aggregate
        .started
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default();
    let lasted = aggregate.started.elapsed().unwrap_or_default();
    encoding::int64::encode(9, &nanos(started), &mut out);
    encoding::int64::encode(10, &nanos(lasted), &mut out);
    encoding::message::encode(11, &cpu, &mut out);
    encoding::int64::encode(12, &period, &mut out);
    out
}

/// A pprof string table: each string once, `""` first.
#[derive(Default)]
struct Strings<'a> {
    table: Vec<std::borrow::Cow<'a, str>>,
    ids: HashMap<&'a str, i64>,
}

impl<'a> Strings<'a> {
    fn id(&mut self, string: &'a str) -> i64 {
        if self.table.is_empty() && !string.is_empty() {
            self.id("");
        }
        *self.ids.entry(string).or_insert_with(|| {
            self.table.push(string.into());
            self.table.len() as i64 - 1
        })
    }
}

/// gzip, as pprof files and Pyroscope pushes are sent.
pub(crate) fn gzip(bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes)?;
    encoder.finish()
}

/// Folded stacks for a flamegraph, outermost first, under the local root span's name when
/// the sample had one: `[checkout];main;place_order;charge 12`.
pub(crate) fn folded(aggregate: &Aggregate, symbols: &Symbols) -> Vec<String> {
    // Summed by stack and span name first: span ids do not show in a flamegraph.
    let mut counts: HashMap<(&[FunctionId], Option<&str>), u64> = HashMap::new();
    for (stack, attribution, count) in aggregate.entries() {
        let span = match attribution {
            Attribution::None => None,
            Attribution::Span(ProfileLabels { name, .. }) | Attribution::SpanName(name) => {
                Some(*name)
            }
        };
        *counts.entry((stack, span)).or_default() += count;
    }
    // Generic functions' instances share a demangled name: their lines are summed too.
    let mut lines: HashMap<String, u64> = HashMap::new();
    for ((stack, span), count) in counts {
        let mut names: Vec<String> = span
            .map(|span| format!("[{}]", span.replace(';', ":")))
            .into_iter()
            .collect();
        names.extend(
            stack
                .iter()
                .rev()
                .map(|id| symbols.function(*id).name.replace(';', ":")),
        );
        *lines.entry(names.join(";")).or_default() += count;
    }
    let mut lines: Vec<String> = lines
        .into_iter()
        .map(|(stack, count)| format!("{stack} {count}"))
        .collect();
    lines.sort();
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profiler::sampler::MAX_DEPTH;
    use prost::Message as _;
    use pyroscope::encode::r#gen::google::Profile;

    #[inline(never)]
    fn a_function() -> usize {
        std::hint::black_box(a_function as fn() -> usize as usize)
    }

    /// A sample of a 16-deep stack spelling `shape` in two functions, under root span `root`.
    fn sample(shape: u64, root: u64, functions: [usize; 2]) -> RawSample {
        static NAME: &str = "request";
        let mut sample = RawSample {
            labels: Some(ProfileLabels { root, name: &NAME }),
            depth: 16,
            frames: [0; MAX_DEPTH],
        };
        for bit in 0..16 {
            sample.frames[bit] = functions[usize::from(shape >> bit & 1 == 1)];
        }
        sample
    }

    /// A local profile of a long run of distinct requests over many stacks keeps at most
    /// its bounds of stacks and (stack, span) pairs, counts every sample, and says how many
    /// it folded; its pprof encoding decodes to the same CPU.
    #[test]
    fn a_long_profile_stays_within_its_bounds_and_counts_every_sample() {
        let mut symbols = Symbols::default();
        let mut aggregate = Aggregate::new();
        let functions = [a_function(), 8];
        let samples = 2 * MAX_PAIRS as u64;
        for n in 0..samples {
            aggregate.add(
                &sample(n % (2 * MAX_STACKS as u64), n + 1, functions),
                &mut symbols,
            );
        }
        assert!(aggregate.stacks.len() <= MAX_STACKS + 2);
        assert!(aggregate.counts.len() <= MAX_PAIRS + MAX_STACKS + 2);
        assert_eq!(aggregate.samples(), samples);
        assert!(aggregate.folded >= samples - MAX_PAIRS as u64);

        let profile = Profile::decode(pprof(&aggregate, &symbols, 100).as_slice()).expect("pprof");
        let cpu: i64 = profile.sample.iter().map(|sample| sample.value[0]).sum();
        assert_eq!(cpu, samples as i64 * 10_000_000, "100 Hz: 10 ms a sample");
        let name = |id: i64| profile.string_table[id as usize].as_str();
        let spans: std::collections::HashSet<&str> = profile
            .sample
            .iter()
            .flat_map(|sample| &sample.label)
            .filter(|label| name(label.key) == "span_id")
            .map(|label| name(label.str))
            .collect();
        assert_eq!(spans.len(), MAX_PAIRS, "span ids kept up to the bound");
        assert!(
            profile
                .function
                .iter()
                .any(|function| name(function.name).ends_with("a_function")),
            "functions named"
        );
    }
}
