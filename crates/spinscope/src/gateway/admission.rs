//! Admission: the checks run in [`ORDER`], and the first that fails
//! answers. The key is checked before the `Origin`, so a caller without a
//! key is refused as such (401, counted by sampling) and cannot make the
//! gateway write anything for it; nothing that writes to the store comes
//! before the caller is authenticated. The tenant's rate is counted before
//! the body is read; the body must arrive within `body_timeout_ms`; and a
//! concurrency slot is taken only once it is in, so a client that sends
//! slowly holds nothing another tenant needs.

use super::error::GatewayError;
use crate::auth::Caller;
use crate::config::Config;

/// One admission check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    /// The variables parse (503 until fixed).
    Configured,
    /// An API key of a tenant, unless open mode (401).
    Authenticated,
    /// The `Origin`, when sent, is allowed (403).
    OriginAllowed,
    /// The tenant's rate window (429; store).
    RateLimit,
    /// A `POST` declares a JSON body (415), which arrives whole within
    /// `body_timeout_ms` (408) and under `max_request_bytes` (413).
    Body,
    /// At most `max_concurrency` requests in flight (429; store).
    Concurrency,
}

/// The checks, in the order they run.
pub const ORDER: [Check; 6] =
    [Check::Configured, Check::Authenticated, Check::OriginAllowed, Check::RateLimit, Check::Body, Check::Concurrency];

/// What the request brings to the checks that need no store.
#[derive(Debug, Clone, Copy)]
pub struct Credentials<'a> {
    /// `Authorization`.
    pub authorization: Option<&'a str>,
    /// `X-API-Key`.
    pub api_key: Option<&'a str>,
    /// `Origin`.
    pub origin: Option<&'a str>,
}

/// The configuration's problems: (full account for the log, names only for the answer).
pub type Misconfiguration = (String, String);

/// The checks before the store ([`Check::Configured`],
/// [`Check::Authenticated`], [`Check::OriginAllowed`]): the caller's
/// tenant (`None` in open mode), or the first refusal.
pub fn precheck(
    config: &Config,
    misconfiguration: Option<&Misconfiguration>,
    credentials: Credentials<'_>,
) -> Result<Option<String>, GatewayError> {
    precheck_with_role(config, misconfiguration, credentials).map(|(tenant, _)| tenant)
}

/// [`precheck`], and whether the key has the `admin` role (the key is
/// hashed and compared once for both).
pub fn precheck_with_role(
    config: &Config,
    misconfiguration: Option<&Misconfiguration>,
    credentials: Credentials<'_>,
) -> Result<(Option<String>, bool), GatewayError> {
    if let Some((detail, public)) = misconfiguration {
        return Err(GatewayError::Misconfigured { public: public.clone(), detail: detail.clone() });
    }
    let (caller, admin) = config.api_keys.identify(credentials.authorization, credentials.api_key);
    if !caller.allowed() {
        return Err(GatewayError::Unauthorized { missing: caller == Caller::Missing });
    }
    if let Some(origin) = credentials.origin.filter(|o| !config.origin_allowed(o)) {
        return Err(GatewayError::OriginRefused { origin: crate::bounded::client_string(origin) });
    }
    Ok((caller.tenant().map(str::to_string), admin))
}

/// The media type a `POST /mcp` body must be declared as.
pub const JSON_MEDIA_TYPE: &str = "application/json";

/// Whether a `POST /mcp`'s `Content-Type` (the header's value, `None` when
/// it was not sent) declares JSON, as the Streamable HTTP transport
/// requires: `application/json` in any case, with or without parameters
/// (`; charset=utf-8`: RFC 8259 defines none for JSON and one has no
/// effect, so none is refused). Anything else, a missing header included,
/// is [`GatewayError::UnsupportedMediaType`] (415), to be checked after
/// admission and before the body is read.
pub fn json_content_type(header: Option<&str>) -> Result<(), GatewayError> {
    let sent = header.unwrap_or("");
    let essence = sent.split(';').next().unwrap_or("").trim_matches([' ', '\t']);
    if essence.eq_ignore_ascii_case(JSON_MEDIA_TYPE) {
        return Ok(());
    }
    Err(GatewayError::UnsupportedMediaType { content_type: crate::bounded::client_string(sent.trim()) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::hash_key;

    fn config(keys: bool) -> Config {
        let hashed = format!("acme:{}", hash_key("sekrit"));
        Config::from_lookup(|k| match k {
            "api_keys" if keys => Some(hashed.clone()),
            "allowed_origins" => Some("https://ok.example".into()),
            _ => None,
        })
        .unwrap()
    }

    const NONE: Credentials<'static> = Credentials { authorization: None, api_key: None, origin: None };

    #[test]
    fn the_order_is_configuration_key_origin_then_the_store_limits() {
        assert_eq!(ORDER.first(), Some(&Check::Configured));
        let key = ORDER.iter().position(|c| *c == Check::Authenticated).unwrap();
        let origin = ORDER.iter().position(|c| *c == Check::OriginAllowed).unwrap();
        assert!(key < origin, "a keyless caller is refused as such, whatever its Origin");
        assert_eq!(
            &ORDER[3..],
            [Check::RateLimit, Check::Body, Check::Concurrency],
            "no slot held while a body arrives"
        );
    }

    #[test]
    fn misconfiguration_comes_first() {
        let bad = ("api_keys: bad entry 'x'".to_string(), "api_keys".to_string());
        let refused = precheck(&config(true), Some(&bad), Credentials { origin: Some("https://evil"), ..NONE });
        assert!(matches!(refused, Err(GatewayError::Misconfigured { ref public, .. }) if public == "api_keys"));
    }

    #[test]
    fn a_keyless_caller_with_a_bad_origin_is_unauthorized() {
        let refused = precheck(&config(true), None, Credentials { origin: Some("https://evil"), ..NONE });
        assert_eq!(refused, Err(GatewayError::Unauthorized { missing: true }));
        let wrong = Credentials { api_key: Some("nope"), origin: Some("https://evil"), ..NONE };
        assert_eq!(precheck(&config(true), None, wrong), Err(GatewayError::Unauthorized { missing: false }));
    }

    #[test]
    fn an_authenticated_caller_with_a_bad_origin_is_refused_by_origin() {
        let creds = Credentials { api_key: Some("sekrit"), origin: Some("https://evil"), ..NONE };
        let refused = precheck(&config(true), None, creds);
        assert_eq!(refused, Err(GatewayError::OriginRefused { origin: "https://evil".into() }));
        let ok = Credentials { api_key: Some("sekrit"), origin: Some("https://ok.example"), ..NONE };
        assert_eq!(precheck(&config(true), None, ok), Ok(Some("acme".into())));
    }

    #[test]
    fn open_mode_admits_without_a_tenant() {
        assert_eq!(precheck(&config(false), None, NONE), Ok(None));
    }

    #[test]
    fn json_is_declared_in_any_case_with_any_parameters() {
        for ok in [
            "application/json",
            "Application/JSON",
            "application/json; charset=utf-8",
            "application/json;charset=UTF-8",
            " application/json ; charset=utf-8 ",
            "application/json\t;profile=x",
        ] {
            assert_eq!(json_content_type(Some(ok)), Ok(()), "{ok:?}");
        }
    }

    #[test]
    fn anything_else_is_an_unsupported_media_type() {
        let refused =
            |content_type: &str| Err(GatewayError::UnsupportedMediaType { content_type: content_type.into() });
        for bad in [
            "text/plain",
            "text/plain; charset=utf-8",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
            "application/jsonp",
            "application/json-seq",
            "application/vnd.api+json",
            "application/*",
            "*/*",
            "application",
            "json",
            "application/ json",
            "text/event-stream",
        ] {
            assert_eq!(json_content_type(Some(bad)), refused(bad), "{bad:?}");
        }
        assert_eq!(json_content_type(None), refused(""), "no Content-Type at all");
        assert_eq!(json_content_type(Some("")), refused(""));
        assert_eq!(json_content_type(Some("; charset=utf-8")), refused("; charset=utf-8"));
    }

    #[test]
    fn the_refused_type_is_bounded() {
        let long = format!("text/{}", "x".repeat(10_000));
        match json_content_type(Some(&long)) {
            Err(GatewayError::UnsupportedMediaType { content_type }) => assert!(content_type.len() < 300),
            other => panic!("{other:?}"),
        }
    }
}
