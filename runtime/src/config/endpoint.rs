//! The specification's endpoint rules: a per-signal variable is used as it is; the generic
//! variable (or the code's endpoint) is a base to which HTTP appends `/v1/<signal>`; a
//! scheme-less endpoint follows `OTEL_EXPORTER_OTLP_INSECURE`. And how messages show URLs:
//! without credentials.

use super::Config;
use super::env::{self, EnvReader};
use super::settings::{Resolved, Source};
use super::signal::Signal;
use super::value::Protocol;

/// `https://user:secret@host/` → `https://host/`: a URL as messages may show it.
pub(crate) fn without_userinfo(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
            let host = authority
                .rsplit_once('@')
                .map_or(authority, |(_, host)| host);
            format!("{scheme}://{host}{path}")
        }
        None => url.to_owned(),
    }
}

pub(super) fn resolve_endpoint(
    env: &mut EnvReader<'_>,
    config: &Config,
    signal: Signal,
    protocol: Protocol,
    insecure: bool,
) -> Resolved<String> {
    let grpc = protocol == Protocol::Grpc;
    let for_signal = |base: &str| {
        let base = with_scheme(base, insecure);
        if grpc {
            base
        } else {
            format!("{}{}", base.trim_end_matches('/'), signal.http_path())
        }
    };
    let default_base = if grpc {
        "http://localhost:4317"
    } else {
        "http://localhost:4318"
    };
    let fallback = match &config.endpoint {
        Some(base) if valid_url(&with_scheme(base, insecure)) => {
            Resolved::new(for_signal(base), Source::Code)
        }
        Some(base) => {
            // The macro validates its literal; this is the builder given a bad string.
            env.warn(format!(
                "the endpoint {base:?} given in code is not an http:// or https:// URL; using \
                 {default_base}"
            ));
            Resolved::new(for_signal(default_base), Source::Default)
        }
        None => Resolved::new(for_signal(default_base), Source::Default),
    };
    let [signal_var, generic_var] = signal.otlp_vars("ENDPOINT");
    for url in [
        env.raw(&signal_var),
        env.raw(&generic_var),
        config.endpoint.clone(),
    ]
    .into_iter()
    .flatten()
    {
        if let Some(userinfo) = env::userinfo(&url).map(str::to_owned) {
            env.secret(&userinfo);
            if let Some((_, password)) = userinfo.split_once(':') {
                env.secret(password);
            }
        }
    }
    let mut rejected = Vec::new();
    let mut found = None;
    if let Some(raw) = env.raw(&signal_var) {
        let url = with_scheme(&raw, insecure);
        if valid_url(&url) {
            found = Some(Resolved::new(url, Source::Env(signal_var.clone())));
        } else {
            rejected.push((signal_var, raw));
        }
    }
    if found.is_none()
        && let Some(raw) = env.raw(&generic_var)
    {
        if valid_url(&with_scheme(&raw, insecure)) {
            found = Some(Resolved::new(for_signal(&raw), Source::Env(generic_var)));
        } else {
            rejected.push((generic_var, raw));
        }
    }
    let resolved = found.unwrap_or(fallback);
    // The generic variable is read once per signal, and is only read when the signal's own is
    // not set: it falls back to the base, which its warning names, so that the three signals'
    // warnings are one line.
    let base = match (&config.endpoint, &resolved.source) {
        (Some(base), Source::Code) => Resolved::new(with_scheme(base, insecure), Source::Code),
        _ => Resolved::new(default_base.to_owned(), Source::Default),
    };
    for (name, raw) in rejected {
        let used = if name == generic_var_name(signal) {
            &base
        } else {
            &resolved
        };
        env.warn_invalid(&name, &raw, "an http:// or https:// URL", used);
    }
    resolved
}

pub(super) fn generic_var_name(signal: Signal) -> String {
    let [_, generic] = signal.otlp_vars("ENDPOINT");
    generic
}

/// Endpoints without a scheme are `https://` unless `OTEL_EXPORTER_OTLP_INSECURE=true`.
pub(super) fn with_scheme(endpoint: &str, insecure: bool) -> String {
    if endpoint.contains("://") {
        endpoint.to_owned()
    } else if insecure {
        format!("http://{endpoint}")
    } else {
        format!("https://{endpoint}")
    }
}

pub(super) fn valid_url(url: &str) -> bool {
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"));
    match rest {
        Some(rest) => {
            let authority = rest.split('/').next().unwrap_or_default();
            !authority.is_empty()
                && !authority.contains(char::is_whitespace)
                && url.parse::<http::Uri>().is_ok()
        }
        None => false,
    }
}
