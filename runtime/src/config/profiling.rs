//! The profiler's settings: which profiler, Pyroscope's address, credentials and tags, and
//! where local profiles go.

use std::fmt;
use std::path::PathBuf;

use super::Config;
use super::env::{self, EnvReader};
use super::resolve::one_of;
use super::settings::{ProfilerSettings, Resolved, Secret};
use super::value::ProfilerKind;

pub(super) fn resolve_profiler(env: &mut EnvReader<'_>, config: &Config) -> ProfilerSettings {
    let server = env.resolve(
        &["PYROSCOPE_SERVER_ADDRESS"],
        |text| {
            (text.starts_with("http://") || text.starts_with("https://"))
                .then(|| text.trim_end_matches('/').to_owned())
        },
        "an http:// or https:// URL",
        None,
        "http://localhost:4040".to_owned(),
    );
    if let Some(userinfo) = env
        .raw("PYROSCOPE_SERVER_ADDRESS")
        .and_then(|url| env::userinfo(&url).map(str::to_owned))
    {
        env.secret(&userinfo);
        if let Some((_, password)) = userinfo.split_once(':') {
            env.secret(password);
        }
    }
    let sample_rate = env.resolve(
        &["PYROSCOPE_SAMPLE_RATE"],
        |text| {
            text.parse::<u32>()
                .ok()
                .filter(|rate| (1..=1000).contains(rate))
        },
        "a number of samples per second from 1 to 1000",
        None,
        100,
    );
    let dir = env.resolve(
        &["OTEL_PROFILE_DIR"],
        |text| Some(Display(PathBuf::from(text))),
        "a directory",
        config.profile_dir.clone().map(Display),
        Display(PathBuf::from("profiles")),
    );
    let basic_auth = match (
        env.raw("PYROSCOPE_BASIC_AUTH_USER"),
        env.raw("PYROSCOPE_BASIC_AUTH_PASSWORD"),
    ) {
        (Some(user), Some(password)) => {
            env.secret(&password);
            Some((user, Secret(password)))
        }
        (None, None) => None,
        _ => {
            env.warn(
                "PYROSCOPE_BASIC_AUTH_USER and PYROSCOPE_BASIC_AUTH_PASSWORD go together; with \
                 one alone, profiles are sent without basic auth"
                    .to_owned(),
            );
            None
        }
    };
    ProfilerSettings {
        kind: env.resolve(
            &["OTEL_RUST_PROFILER"],
            ProfilerKind::from_spelling,
            &one_of(ProfilerKind::SPELLINGS),
            config.profiler,
            ProfilerKind::None,
        ),
        server,
        auth_token: env.raw("PYROSCOPE_AUTH_TOKEN").map(|token| {
            env.secret(&token);
            Secret(token)
        }),
        basic_auth,
        tenant: env.raw("PYROSCOPE_TENANT_ID"),
        sample_rate,
        dir: Resolved::new(dir.value.0, dir.source),
    }
}

/// A path that prints itself, for warnings about it.
#[derive(Debug, Clone)]
pub(super) struct Display(PathBuf);

impl fmt::Display for Display {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.display().fmt(f)
    }
}
