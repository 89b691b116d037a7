//! Reading pprof profiles (gzipped or not) into samples with named frames and labels.

use std::collections::HashMap;
use std::io::Read as _;

use prost::Message as _;
use pyroscope::encode::r#gen::google::Profile;

/// One sample: its functions innermost first, its labels, its value (CPU nanoseconds), and
/// how many samples of the profiler's period that is.
#[derive(Debug, Clone)]
pub struct Sample {
    pub functions: Vec<String>,
    pub labels: HashMap<String, String>,
    pub value: i64,
    pub count: i64,
}

impl Sample {
    pub fn has(&self, function: &str) -> bool {
        self.functions.iter().any(|name| name.contains(function))
    }
}

/// The samples of a pprof profile; gzipped input is unzipped first.
pub fn samples(bytes: &[u8]) -> Vec<Sample> {
    let raw = if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut raw = Vec::new();
        flate2::read::GzDecoder::new(bytes)
            .read_to_end(&mut raw)
            .expect("a gzipped profile");
        raw
    } else {
        bytes.to_vec()
    };
    let profile = Profile::decode(raw.as_slice()).expect("a pprof profile");
    let text = |index: i64| {
        profile
            .string_table
            .get(usize::try_from(index).unwrap_or(0))
            .cloned()
            .unwrap_or_default()
    };
    let functions: HashMap<u64, String> = profile
        .function
        .iter()
        .map(|function| (function.id, text(function.name)))
        .collect();
    let locations: HashMap<u64, Vec<String>> = profile
        .location
        .iter()
        .map(|location| {
            let names = location
                .line
                .iter()
                .map(|line| {
                    functions
                        .get(&line.function_id)
                        .cloned()
                        .unwrap_or_default()
                })
                .collect();
            (location.id, names)
        })
        .collect();
    profile
        .sample
        .iter()
        .map(|sample| Sample {
            functions: sample
                .location_id
                .iter()
                .flat_map(|id| locations.get(id).cloned().unwrap_or_default())
                .collect(),
            labels: sample
                .label
                .iter()
                .map(|label| (text(label.key), text(label.str)))
                .collect(),
            value: sample.value.first().copied().unwrap_or_default(),
            count: sample.value.first().copied().unwrap_or_default() / profile.period.max(1),
        })
        .collect()
}
