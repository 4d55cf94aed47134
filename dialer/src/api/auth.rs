//! Who may use the API.
//!
//! Agents authenticate with HTTP Basic: their login and the password their
//! softphone registers with. Supervisors' views (every agent, every event,
//! any call) need the configured bearer token (`api.token`); without one
//! they are closed. Wrong credentials count against the client's address
//! like wrong REGISTER passwords do: after `failures` of them within
//! `window` the address is refused for `lockout`, so the API is no way
//! around the registrar's lockout.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::Json;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;

/// Failed attempts remembered per address, at most.
const MAX_TRACKED: usize = 10_000;

#[derive(Debug, Default)]
struct Failures {
    count: u32,
    first: Option<Instant>,
    locked_until: Option<Instant>,
}

/// The API's credentials and its memory of failed attempts.
#[derive(Debug)]
pub struct Guard {
    /// Login (lowercase) → password.
    passwords: HashMap<String, String>,
    token: Option<String>,
    failures: Mutex<HashMap<IpAddr, Failures>>,
    max_failures: u32,
    window: Duration,
    lockout: Duration,
}

/// Equal, in time that does not depend on where they differ.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |d, (x, y)| d | (x ^ y)) == 0
}

fn refuse(status: StatusCode, challenge: bool, message: &str) -> Response {
    let body = Json(serde_json::json!({ "error": message }));
    if challenge {
        (
            status,
            [("www-authenticate", "Basic realm=\"dialer\"")],
            body,
        )
            .into_response()
    } else {
        (status, body).into_response()
    }
}

impl Guard {
    pub fn new(
        passwords: HashMap<String, String>,
        token: Option<String>,
        max_failures: u32,
        window: Duration,
        lockout: Duration,
    ) -> Guard {
        Guard {
            passwords: passwords
                .into_iter()
                .map(|(login, password)| (login.to_lowercase(), password))
                .collect(),
            token,
            failures: Mutex::new(HashMap::new()),
            max_failures,
            window,
            lockout,
        }
    }

    /// The agent `login` with its password, or the refusal to send.
    pub fn agent(&self, headers: &HeaderMap, peer: IpAddr, login: &str) -> Option<Response> {
        if let Some(locked) = self.locked(peer) {
            return Some(locked);
        }
        let good = basic(headers).is_some_and(|(user, password)| {
            user.eq_ignore_ascii_case(login)
                && self
                    .passwords
                    .get(&login.to_lowercase())
                    .is_some_and(|expected| same(expected, &password))
        });
        self.verdict(peer, good, true, "agent login and password required")
    }

    /// The supervisor's token, or the refusal to send.
    pub fn supervisor(&self, headers: &HeaderMap, peer: IpAddr) -> Option<Response> {
        if let Some(locked) = self.locked(peer) {
            return Some(locked);
        }
        let Some(token) = &self.token else {
            return Some(refuse(
                StatusCode::FORBIDDEN,
                false,
                "supervisor views are closed: set api.token in the configuration",
            ));
        };
        let good = bearer(headers).is_some_and(|given| same(token, &given));
        self.verdict(
            peer,
            good,
            false,
            "the supervisor token is required (Authorization: Bearer ...)",
        )
    }

    /// Whether the request carries a supervisor token at all (to choose
    /// which check applies where either will do).
    pub fn offers_token(headers: &HeaderMap) -> bool {
        bearer(headers).is_some()
    }

    fn verdict(&self, peer: IpAddr, good: bool, basic: bool, message: &str) -> Option<Response> {
        if good {
            self.lock().remove(&peer);
            return None;
        }
        self.fail(peer);
        Some(refuse(StatusCode::UNAUTHORIZED, basic, message))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<IpAddr, Failures>> {
        // A panic while holding it leaves counts that are still meaningful.
        self.failures.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn locked(&self, peer: IpAddr) -> Option<Response> {
        let failures = self.lock();
        failures
            .get(&peer)
            .and_then(|f| f.locked_until)
            .filter(|until| *until > Instant::now())
            .map(|_| {
                refuse(
                    StatusCode::FORBIDDEN,
                    false,
                    "locked out after repeated failed authentications",
                )
            })
    }

    fn fail(&self, peer: IpAddr) {
        let now = Instant::now();
        let mut failures = self.lock();
        if failures.len() >= MAX_TRACKED && !failures.contains_key(&peer) {
            let window = self.window;
            failures.retain(|_, f| {
                f.locked_until.is_some_and(|t| t > now)
                    || f.first.is_some_and(|t| now.duration_since(t) < window)
            });
            if failures.len() >= MAX_TRACKED {
                return;
            }
        }
        let f = failures.entry(peer).or_default();
        if f.first.is_none_or(|t| now.duration_since(t) > self.window) {
            f.count = 0;
            f.first = Some(now);
        }
        f.count += 1;
        if f.count >= self.max_failures {
            f.locked_until = Some(now + self.lockout);
            f.count = 0;
            f.first = None;
            tracing::warn!(source = %peer, "API client locked out after repeated failed authentications");
        }
    }
}

fn basic(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers
        .get("authorization")?
        .to_str()
        .ok()?
        .strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(value.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, password) = text.split_once(':')?;
    Some((user.to_owned(), password.to_owned()))
}

fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = headers.get("authorization")?.to_str().ok()?;
    value.strip_prefix("Bearer ").map(|t| t.trim().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guard() -> Guard {
        Guard::new(
            [("ana".to_string(), "secreto-largo".to_string())].into(),
            Some("token-de-supervisor".into()),
            3,
            Duration::from_secs(300),
            Duration::from_secs(900),
        )
    }

    fn with(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("authorization", value.parse().unwrap());
        h
    }

    fn basic_of(user: &str, password: &str) -> HeaderMap {
        let encoded =
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        with(&format!("Basic {encoded}"))
    }

    #[test]
    fn agents_and_supervisors_and_a_lockout_after_wrong_guesses() {
        let g = guard();
        let me: IpAddr = "192.0.2.1".parse().unwrap();
        let other: IpAddr = "192.0.2.2".parse().unwrap();
        let guesser: IpAddr = "192.0.2.3".parse().unwrap();
        assert!(
            g.agent(&basic_of("Ana", "secreto-largo"), me, "ana")
                .is_none()
        );
        assert!(
            g.agent(&basic_of("ana", "secreto-largo"), me, "beto")
                .is_some(),
            "only their own"
        );
        assert!(
            g.supervisor(&with("Bearer token-de-supervisor"), me)
                .is_none()
        );
        assert!(
            g.supervisor(&basic_of("ana", "secreto-largo"), me)
                .is_some()
        );
        for _ in 0..3 {
            let denied = g
                .agent(&basic_of("ana", "adivina"), guesser, "ana")
                .unwrap();
            assert_eq!(denied.status(), StatusCode::UNAUTHORIZED);
        }
        let locked = g
            .agent(&basic_of("ana", "secreto-largo"), guesser, "ana")
            .unwrap();
        assert_eq!(
            locked.status(),
            StatusCode::FORBIDDEN,
            "locked, even with the right password"
        );
        assert!(
            g.agent(&basic_of("ana", "secreto-largo"), other, "ana")
                .is_none()
        );
    }

    #[test]
    fn without_a_token_supervisor_views_are_closed() {
        let g = Guard::new(
            HashMap::new(),
            None,
            3,
            Duration::from_secs(1),
            Duration::from_secs(1),
        );
        let denied = g
            .supervisor(&with("Bearer anything"), "192.0.2.1".parse().unwrap())
            .unwrap();
        assert_eq!(denied.status(), StatusCode::FORBIDDEN);
    }
}
