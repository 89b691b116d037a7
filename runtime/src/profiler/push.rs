//! Sending profiles to Pyroscope, as its own agents do: a gzipped `PushRequest` to
//! `/push.v1.PusherService/Push`, one series labelled with the service, holding the pprof
//! profile of the interval.

use std::time::Duration;

use prost::Message as _;
use pyroscope::encode::r#gen::push::{PushRequest, RawProfileSeries, RawSample};
use pyroscope::encode::r#gen::types::LabelPair;

use crate::config::ProfilerSettings;
use crate::config::endpoint::without_userinfo;

/// Where and as whom profiles are pushed. Its `Debug` form shows no credential.
#[derive(Debug)]
pub(crate) struct Pusher {
    client: reqwest::blocking::Client,
    url: String,
    /// The server as warnings name it: without user information.
    server: String,
    settings: ProfilerSettings,
    labels: Vec<(String, String)>,
}

impl Pusher {
    /// `labels`: the series labels (`service_name`, `service_version`, …).
    pub(crate) fn new(
        settings: &ProfilerSettings,
        labels: Vec<(String, String)>,
    ) -> Result<Self, String> {
        let client = reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|error| format!("no HTTP client: {error}"))?;
        let server = settings.server.value.clone();
        Ok(Self {
            client,
            url: format!("{server}/push.v1.PusherService/Push"),
            server: without_userinfo(&server),
            settings: settings.clone(),
            labels,
        })
    }

    /// The server, for messages.
    pub(crate) fn server(&self) -> &str {
        &self.server
    }

    /// Pushes one pprof profile (not compressed); the error says why, without credentials.
    pub(crate) fn push(&self, pprof: Vec<u8>, timeout: Duration) -> Result<(), String> {
        let mut labels = vec![LabelPair {
            name: "__name__".to_owned(),
            value: "process_cpu".to_owned(),
        }];
        labels.extend(self.labels.iter().map(|(name, value)| LabelPair {
            name: name.clone(),
            value: value.clone(),
        }));
        let request = PushRequest {
            series: vec![RawProfileSeries {
                labels,
                samples: vec![RawSample {
                    raw_profile: pprof,
                    id: uuid::Uuid::new_v4().to_string(),
                }],
            }],
        };
        let body = super::profile::gzip(&request.encode_to_vec())
            .map_err(|error| format!("could not compress the profile: {error}"))?;
        let mut builder = self
            .client
            .post(&self.url)
            .timeout(timeout)
            .header("Content-Type", "application/proto")
            .header("Content-Encoding", "gzip")
            .header(
                "User-Agent",
                concat!("otel-rust/", env!("CARGO_PKG_VERSION")),
            );
        if let Some(token) = &self.settings.auth_token {
            builder = builder.bearer_auth(&token.0);
        }
        if let Some((user, password)) = &self.settings.basic_auth {
            builder = builder.basic_auth(user, Some(&password.0));
        }
        if let Some(tenant) = &self.settings.tenant {
            builder = builder.header("X-Scope-OrgID", tenant);
        }
        let response = builder.body(body).send().map_err(|error| {
            // reqwest's message names the URL: give the cause alone.
            let cause = if error.is_timeout() {
                "timed out".to_owned()
            } else if error.is_connect() {
                "could not connect".to_owned()
            } else {
                "the request failed".to_owned()
            };
            format!(
                "{cause}: {}",
                std::error::Error::source(&error).map_or_else(String::new, ToString::to_string)
            )
        })?;
        let status = response.status();
        if status.is_success() {
            Ok(())
        } else {
            Err(format!("the server answered {status}"))
        }
    }
}
