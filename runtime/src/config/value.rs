//! The closed sets of values a setting can take, with their `OTEL_*` spellings.

use std::fmt;

/// Defines a public enum whose variants have one spelling each, as written in the
/// environment variables and in `#[otel::main]`.
macro_rules! spelled_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $spelling:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $($(#[$vmeta])* $variant,)+
        }

        impl $name {
            /// Every accepted spelling, in the order the documentation lists them.
            pub(crate) const SPELLINGS: &'static [&'static str] = &[$($spelling),+];

            /// The variant spelled `text` (ASCII case-insensitive), if any.
            pub(crate) fn from_spelling(text: &str) -> Option<Self> {
                $(if text.eq_ignore_ascii_case($spelling) { return Some(Self::$variant); })+
                None
            }

            /// How the environment variables spell this value.
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $spelling,)+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

spelled_enum! {
    /// A destination for one signal (`OTEL_TRACES_EXPORTER` and friends).
    Exporter {
        /// OTLP to a collector or backend, over the configured [`Protocol`].
        Otlp = "otlp",
        /// Human-readable output on stdout: span trees, metric summaries, log lines.
        Console = "console",
        /// Metrics only: the Prometheus text exposition at `/metrics` (feature `prometheus`),
        /// on `OTEL_EXPORTER_PROMETHEUS_HOST`:`OTEL_EXPORTER_PROMETHEUS_PORT`.
        Prometheus = "prometheus",
        /// Nothing: the signal is turned off.
        None = "none",
    }
}

spelled_enum! {
    /// The OTLP transport (`OTEL_EXPORTER_OTLP_PROTOCOL`).
    Protocol {
        /// OTLP/gRPC, default port 4317.
        Grpc = "grpc",
        /// OTLP/HTTP with protobuf bodies, default port 4318 (the specification's default).
        HttpProtobuf = "http/protobuf",
        /// OTLP/HTTP with JSON bodies, default port 4318.
        HttpJson = "http/json",
    }
}

impl Protocol {
    /// The cargo feature of otel that compiles this transport.
    pub(crate) fn feature(self) -> &'static str {
        match self {
            Protocol::Grpc => "grpc",
            Protocol::HttpProtobuf => "http-proto",
            Protocol::HttpJson => "http-json",
        }
    }

    /// Whether this build can export over this transport.
    pub(crate) fn is_compiled(self) -> bool {
        match self {
            Protocol::Grpc => cfg!(feature = "grpc"),
            Protocol::HttpProtobuf => cfg!(feature = "http-proto"),
            Protocol::HttpJson => cfg!(feature = "http-json"),
        }
    }

    /// The transport this build exports over when none compiled is asked for: the
    /// specification's default first.
    pub(crate) fn first_compiled() -> Option<Protocol> {
        [Protocol::HttpProtobuf, Protocol::Grpc, Protocol::HttpJson]
            .into_iter()
            .find(|protocol| protocol.is_compiled())
    }
}

spelled_enum! {
    /// OTLP payload compression (`OTEL_EXPORTER_OTLP_COMPRESSION`).
    Compression {
        /// gzip.
        Gzip = "gzip",
        /// No compression.
        None = "none",
    }
}

spelled_enum! {
    /// Which spans are recorded (`OTEL_TRACES_SAMPLER`).
    SamplerKind {
        /// Every span.
        AlwaysOn = "always_on",
        /// No span.
        AlwaysOff = "always_off",
        /// A fixed ratio of traces, decided from the trace id.
        TraceIdRatio = "traceidratio",
        /// Follow the parent's decision; record every root (the default).
        ParentBasedAlwaysOn = "parentbased_always_on",
        /// Follow the parent's decision; record no root.
        ParentBasedAlwaysOff = "parentbased_always_off",
        /// Follow the parent's decision; record a ratio of roots.
        ParentBasedTraceIdRatio = "parentbased_traceidratio",
    }
}

spelled_enum! {
    /// A context propagation format (`OTEL_PROPAGATORS`).
    Propagator {
        /// W3C Trace Context (`traceparent`, `tracestate`).
        TraceContext = "tracecontext",
        /// W3C Baggage.
        Baggage = "baggage",
        /// No propagation.
        None = "none",
    }
}

spelled_enum! {
    /// Continuous CPU profiling linked to traces (`profiler = "..."`, feature `profiler`).
    ProfilerKind {
        /// Push profiles to Pyroscope (`PYROSCOPE_SERVER_ADDRESS`), each sample labelled with
        /// the local root span it ran under.
        Pyroscope = "pyroscope",
        /// No server: at shutdown, write `profile.pb.gz` (pprof) and `flamegraph.svg` into
        /// `OTEL_PROFILE_DIR` (default `./profiles`).
        Local = "local",
        /// No profiling (the default).
        None = "none",
    }
}

impl Exporter {
    /// The exporters of a list, with `none` meaning "no exporter".
    pub(crate) fn active(list: &[Exporter]) -> impl Iterator<Item = Exporter> + '_ {
        list.iter().copied().filter(|e| *e != Exporter::None)
    }
}

/// Joins values with commas, as the list variables spell them.
pub(crate) fn spell_list<T: fmt::Display>(items: &[T]) -> String {
    if items.is_empty() {
        return "none".to_owned();
    }
    items
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_round_trip() {
        for spelling in Protocol::SPELLINGS {
            let protocol = Protocol::from_spelling(spelling).expect("listed spelling parses");
            assert_eq!(protocol.as_str(), *spelling);
        }
        assert_eq!(
            SamplerKind::from_spelling("ParentBased_TraceIdRatio"),
            Some(SamplerKind::ParentBasedTraceIdRatio)
        );
        assert_eq!(Exporter::from_spelling("zipkin"), None);
    }
}
