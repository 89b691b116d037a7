//! Route templates and the span names made from them, kept for the life of the program.
//!
//! A service has a fixed set of route templates (`/items/{id}`), written in its code, and
//! every request names one. Kept as `&'static str`, a request's span name and `http.route`
//! cost no allocation and no reference counting; the set is capped, so a router that made
//! templates from request data could not grow it without bound.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{OnceLock, RwLock};

use opentelemetry::StringValue;

use super::METHODS;

/// Past this many templates, routes are no longer kept: each request allocates its own.
const MOST_ROUTES: usize = 1024;

/// A route template and its span names, one per method, made on first use.
#[derive(Debug)]
struct Route {
    template: &'static str,
    names: [OnceLock<&'static str>; METHODS.len()],
}

fn routes() -> &'static RwLock<HashMap<&'static str, &'static Route>> {
    static ROUTES: OnceLock<RwLock<HashMap<&'static str, &'static Route>>> = OnceLock::new();
    ROUTES.get_or_init(RwLock::default)
}

/// `http.route` and the span name `{method} {route}` (`HTTP {route}` for a method the
/// conventions do not name) for `template`; `method` indexes [`METHODS`].
pub(crate) fn route_and_name(method: usize, template: &str) -> (StringValue, Cow<'static, str>) {
    let prefix = match METHODS[method] {
        "_OTHER" => "HTTP",
        known => known,
    };
    match kept(template) {
        Some(route) => {
            let name =
                route.names[method].get_or_init(|| leak(format!("{prefix} {}", route.template)));
            (StringValue::from(route.template), Cow::Borrowed(*name))
        }
        None => (
            StringValue::from(template.to_owned()),
            Cow::Owned(format!("{prefix} {template}")),
        ),
    }
}

/// `text` kept for the life of the program (a span name for the profiler's labels), within
/// the same cap as route templates.
pub(crate) fn keep(text: &str) -> Option<&'static &'static str> {
    kept(text).map(|route| &route.template)
}

/// The kept span name `{method} {template}`, when [`route_and_name`] made it.
pub(crate) fn kept_name(method: usize, template: &str) -> Option<&'static &'static str> {
    kept(template)?.names[method].get()
}

fn kept(template: &str) -> Option<&'static Route> {
    {
        let routes = crate::sync::read(routes());
        if let Some(route) = routes.get(template) {
            return Some(route);
        }
        if routes.len() >= MOST_ROUTES {
            return None;
        }
    }
    let mut routes = crate::sync::write(routes());
    if let Some(route) = routes.get(template) {
        return Some(route);
    }
    if routes.len() >= MOST_ROUTES {
        return None;
    }
    Some(
        *routes
            .entry(leak(template.to_owned()))
            .or_insert_with_key(|template| {
                Box::leak(Box::new(Route {
                    template,
                    names: Default::default(),
                }))
            }),
    )
}

fn leak(text: String) -> &'static str {
    Box::leak(text.into_boxed_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_made_once_per_method_and_template() {
        let get = METHODS.iter().position(|m| *m == "GET").expect("GET");
        let (route, name) = route_and_name(get, "/routes-test/{id}");
        assert_eq!(route.as_str(), "/routes-test/{id}");
        assert_eq!(name, "GET /routes-test/{id}");
        let (_, again) = route_and_name(get, "/routes-test/{id}");
        assert!(
            matches!((&name, &again), (Cow::Borrowed(a), Cow::Borrowed(b)) if std::ptr::eq(*a, *b))
        );
        let (_, other) = route_and_name(METHODS.len() - 1, "/routes-test/{id}");
        assert_eq!(other, "HTTP /routes-test/{id}");
    }
}
