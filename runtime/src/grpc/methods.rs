//! Which RPC methods the server metrics name. A client chooses the path of its request, and
//! `content-type: application/grpc` is enough to make any request an RPC: named after its
//! path, each would start a new `rpc.server.duration` series. So a method is named only once
//! a server answered it with a gRPC status of its own other than UNIMPLEMENTED, and at most
//! [`MAX_METHODS`] of them; every other call is recorded as `_OTHER`, as the conventions
//! spell an unknown method.

use std::collections::{HashMap, HashSet};
use std::sync::RwLock;

use crate::diagnostics::warn_once;

/// How many distinct methods the server metrics name, per process. Services have tens.
pub(crate) const MAX_METHODS: usize = 1000;

/// The conventions' value for a method the instrumentation does not know.
pub(crate) const OTHER: &str = "_OTHER";

/// Service → methods answered.
static KNOWN: RwLock<Option<HashMap<String, HashSet<String>>>> = RwLock::new(None);

/// Whether the metrics may name `service`/`method`. `answered`: this call ended with the
/// server's own status, not UNIMPLEMENTED, which makes the method known (within the cap).
pub(crate) fn named(service: &str, method: &str, answered: bool) -> bool {
    {
        let known = KNOWN
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if known
            .as_ref()
            .and_then(|services| services.get(service))
            .is_some_and(|methods| methods.contains(method))
        {
            return true;
        }
    }
    if !answered {
        return false;
    }
    let mut known = KNOWN
        .write()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let services = known.get_or_insert_with(HashMap::new);
    let count: usize = services.values().map(HashSet::len).sum();
    if count >= MAX_METHODS {
        warn_once(&format!(
            "gRPC: more than {MAX_METHODS} methods answered; rpc.server.duration records the \
             others as rpc.method=\"{OTHER}\""
        ));
        return false;
    }
    services
        .entry(service.to_owned())
        .or_default()
        .insert(method.to_owned());
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_answered_methods_are_named_and_only_up_to_the_cap() {
        assert!(!named("probe.Unknown", "Never", false));
        assert!(named("shop.v1.Test", "Answered", true));
        assert!(
            named("shop.v1.Test", "Answered", false),
            "known from now on"
        );
        for n in 0..MAX_METHODS {
            named("shop.v1.Flood", &format!("M{n}"), true);
        }
        assert!(!named("shop.v1.Flood", "OneMore", true));
        assert!(named("shop.v1.Test", "Answered", false));
    }
}
