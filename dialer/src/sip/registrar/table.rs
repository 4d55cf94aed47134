//! The registrar's decisions, without sockets or clocks: who may register,
//! where each agent's softphones are, and which sources are locked out.
//!
//! A REGISTER without credentials gets a fresh nonce (401). One with
//! credentials is checked against the agent's password and a nonce we
//! issued and that has not expired (an expired one gets `stale=true`, so
//! the softphone retries without asking its user). Wrong credentials count
//! against the source address; after `lockout_failures` of them within
//! `lockout_window` the source is refused outright for `lockout_for`, and
//! the lockout is reported so it can be logged. Bindings remember the
//! address the REGISTER really came from (rport/received), which is where
//! calls to that agent are sent: a softphone behind NAT writes its private
//! address in Contact.

#![deny(clippy::disallowed_methods)]

use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use crate::config::Transport;

/// The registrar's limits.
#[derive(Debug, Clone)]
pub struct RegistrarPolicy {
    pub realm: String,
    pub default_expires: u32,
    pub min_expires: u32,
    pub max_expires: u32,
    /// How long an issued nonce may be answered.
    pub nonce_ttl: Duration,
    pub lockout_failures: u32,
    pub lockout_window: Duration,
    pub lockout_for: Duration,
    /// At most this many softphones per agent.
    pub max_contacts: usize,
}

impl Default for RegistrarPolicy {
    fn default() -> Self {
        RegistrarPolicy {
            realm: "dialer".into(),
            default_expires: 3600,
            min_expires: 60,
            max_expires: 3600,
            nonce_ttl: Duration::from_secs(300),
            lockout_failures: 5,
            lockout_window: Duration::from_secs(300),
            lockout_for: Duration::from_secs(900),
            max_contacts: 5,
        }
    }
}

/// Issued nonces kept at most (older ones are forgotten first), so a
/// scanner sending REGISTERs without credentials cannot grow the table.
const MAX_NONCES: usize = 10_000;
/// Sources with failures remembered at most.
const MAX_TRACKED_SOURCES: usize = 10_000;

/// One softphone of an agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    /// The Contact URI as the softphone wrote it (the Request-URI of calls to it).
    pub contact: String,
    /// Where the REGISTER came from: calls are sent here.
    pub source: SocketAddr,
    pub transport: Transport,
    pub expires_at: Instant,
    pub registered_at: Instant,
    pub user_agent: Option<String>,
}

/// The digest answer in a REGISTER, already parsed.
pub struct DigestAnswer<'a> {
    pub username: &'a str,
    pub realm: &'a str,
    pub nonce: &'a str,
    /// The nonce count (with `qop=auth`): each use of a nonce must count up,
    /// so a recorded answer cannot be replayed.
    pub nc: Option<u32>,
    /// Checks the response against a password (digest arithmetic lives in the SIP edge).
    pub verify: &'a dyn Fn(&str) -> bool,
}

/// One Contact of a REGISTER.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContactChange {
    /// `Contact: *` with `Expires: 0`: remove every binding.
    RemoveAll,
    Set {
        contact: String,
        /// The contact's own `expires` parameter.
        expires: Option<u32>,
    },
}

/// A REGISTER as the registrar sees it.
pub struct RegisterRequest<'a> {
    pub source: SocketAddr,
    pub transport: Transport,
    /// The user part of the To URI: the agent's login.
    pub user: &'a str,
    pub auth: Option<DigestAnswer<'a>>,
    /// No Contact at all: a query for the current bindings.
    pub contacts: Vec<ContactChange>,
    pub expires_header: Option<u32>,
    pub user_agent: Option<&'a str>,
}

/// The answer to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegisterReply {
    /// 401 with a digest challenge.
    Challenge { nonce: String, stale: bool },
    /// 403: wrong credentials, or a locked-out source.
    Forbidden { reason: String },
    /// 423 with Min-Expires.
    IntervalTooBrief { min_expires: u32 },
    /// 400: an unusable request (e.g. `*` with a nonzero expiry).
    BadRequest(String),
    /// 200 with the agent's current contacts and their remaining seconds.
    Ok { contacts: Vec<(String, u32)> },
}

/// What operators and the ACD hear about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegistrarEvent {
    /// The agent had no softphone registered and now has one.
    Online { user: String },
    /// The agent's last softphone unregistered or expired.
    Offline { user: String, expired: bool },
    /// A source failed too often and is refused for a while.
    LockedOut { source: IpAddr, failures: u32 },
}

#[derive(Debug, Default)]
struct Failures {
    count: u32,
    first_at: Option<Instant>,
    locked_until: Option<Instant>,
}

/// Agents' credentials, their bindings, nonces and lockouts.
#[derive(Debug)]
pub struct Registrar {
    policy: RegistrarPolicy,
    /// Login (lowercase) → password.
    users: HashMap<String, String>,
    bindings: HashMap<String, Vec<Binding>>,
    /// Issued nonces: when, and the highest nonce count answered with it.
    nonces: HashMap<String, (Instant, Option<u32>)>,
    nonce_order: VecDeque<String>,
    failures: HashMap<IpAddr, Failures>,
    events: VecDeque<RegistrarEvent>,
}

impl Registrar {
    pub fn new(policy: RegistrarPolicy, users: impl IntoIterator<Item = (String, String)>) -> Self {
        Registrar {
            policy,
            users: users
                .into_iter()
                .map(|(u, p)| (u.to_lowercase(), p))
                .collect(),
            bindings: HashMap::new(),
            nonces: HashMap::new(),
            nonce_order: VecDeque::new(),
            failures: HashMap::new(),
            events: VecDeque::new(),
        }
    }

    pub fn realm(&self) -> &str {
        &self.policy.realm
    }

    /// The agent's live softphones, the most recently registered first.
    pub fn contacts(&self, user: &str, now: Instant) -> Vec<Binding> {
        let mut list: Vec<Binding> = self
            .bindings
            .get(&user.to_lowercase())
            .map(|b| b.iter().filter(|b| b.expires_at > now).cloned().collect())
            .unwrap_or_default();
        list.sort_by_key(|b| std::cmp::Reverse(b.registered_at));
        list
    }

    /// Every live binding, for keep-alives.
    pub fn all_bindings(&self) -> impl Iterator<Item = (&str, &Binding)> {
        self.bindings
            .iter()
            .flat_map(|(user, list)| list.iter().map(move |b| (user.as_str(), b)))
    }

    /// Whether a source address belongs to a registered softphone.
    pub fn is_registered_source(&self, source: IpAddr, now: Instant) -> bool {
        self.all_bindings()
            .any(|(_, b)| b.source.ip() == source && b.expires_at > now)
    }

    pub fn is_locked(&self, source: IpAddr, now: Instant) -> bool {
        self.failures
            .get(&source)
            .and_then(|f| f.locked_until)
            .is_some_and(|until| until > now)
    }

    pub fn poll_event(&mut self) -> Option<RegistrarEvent> {
        self.events.pop_front()
    }

    /// The next binding expiry.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.all_bindings().map(|(_, b)| b.expires_at).min()
    }

    /// Drops bindings that ran out; agents left without one go offline.
    pub fn handle_timeout(&mut self, now: Instant) {
        let mut gone = Vec::new();
        for (user, list) in &mut self.bindings {
            let before = list.len();
            list.retain(|b| b.expires_at > now);
            if before > 0 && list.is_empty() {
                gone.push(user.clone());
            }
        }
        for user in gone {
            self.bindings.remove(&user);
            self.events.push_back(RegistrarEvent::Offline {
                user,
                expired: true,
            });
        }
    }

    /// Removes one binding that stopped answering keep-alives.
    pub fn handle_unreachable(&mut self, user: &str, contact: &str) {
        let Some(list) = self.bindings.get_mut(user) else {
            return;
        };
        let before = list.len();
        list.retain(|b| b.contact != contact);
        if before > 0 && list.is_empty() {
            self.bindings.remove(user);
            self.events.push_back(RegistrarEvent::Offline {
                user: user.to_owned(),
                expired: true,
            });
        }
    }

    /// Decides the answer to a REGISTER. `fresh_nonce` is used when a
    /// challenge is due (randomness comes from the caller).
    pub fn handle_register(
        &mut self,
        now: Instant,
        request: &RegisterRequest<'_>,
        fresh_nonce: String,
    ) -> RegisterReply {
        let ip = request.source.ip();
        if self.is_locked(ip, now) {
            return RegisterReply::Forbidden {
                reason: format!("{ip} is locked out after repeated failed authentications"),
            };
        }
        let Some(auth) = &request.auth else {
            return self.challenge(now, fresh_nonce, false);
        };
        let user = request.user.to_lowercase();
        let issued = self.nonces.get(auth.nonce).copied();
        let Some(password) = self.users.get(&user).cloned() else {
            return self.fail(now, ip, format!("unknown agent '{}'", request.user));
        };
        if !auth.username.eq_ignore_ascii_case(&user) {
            return self.fail(
                now,
                ip,
                format!(
                    "digest user '{}' is not the agent '{}'",
                    auth.username, request.user
                ),
            );
        }
        if !(auth.verify)(&password) {
            return self.fail(now, ip, format!("wrong password for agent '{user}'"));
        }
        // An answer to another realm, to a nonce we did not issue or that
        // is too old, or one replayed (a count not above the last): ask
        // again (stale, so the softphone answers without its user).
        if !auth.realm.eq_ignore_ascii_case(&self.policy.realm) {
            return self.challenge(now, fresh_nonce, true);
        }
        match issued {
            None => return self.challenge(now, fresh_nonce, true),
            Some((at, _)) if now.duration_since(at) > self.policy.nonce_ttl => {
                self.nonces.remove(auth.nonce);
                return self.challenge(now, fresh_nonce, true);
            }
            Some((_, last)) => match (auth.nc, last) {
                (Some(nc), Some(last)) if nc <= last => {
                    return self.challenge(now, fresh_nonce, true);
                }
                (Some(nc), _) => {
                    if let Some(entry) = self.nonces.get_mut(auth.nonce) {
                        entry.1 = Some(nc);
                    }
                }
                // Without a count a nonce is good once.
                (None, _) => {
                    self.nonces.remove(auth.nonce);
                }
            },
        }
        self.failures.remove(&ip);
        self.apply_contacts(now, &user, request)
    }

    fn apply_contacts(
        &mut self,
        now: Instant,
        user: &str,
        request: &RegisterRequest<'_>,
    ) -> RegisterReply {
        let policy = &self.policy;
        let had_any = self.bindings.get(user).is_some_and(|b| !b.is_empty());
        let mut list = self.bindings.remove(user).unwrap_or_default();
        list.retain(|b| b.expires_at > now);
        // A refused request changes nothing (RFC 3261 10.3).
        let original = list.clone();
        for change in &request.contacts {
            match change {
                ContactChange::RemoveAll => {
                    if request.expires_header != Some(0) || request.contacts.len() > 1 {
                        self.put_back(user, original);
                        return RegisterReply::BadRequest(
                            "Contact: * needs Expires: 0 and no other contact".into(),
                        );
                    }
                    list.clear();
                }
                ContactChange::Set { contact, expires } => {
                    let asked = expires
                        .or(request.expires_header)
                        .unwrap_or(policy.default_expires);
                    if asked != 0 && asked < policy.min_expires {
                        let min_expires = policy.min_expires;
                        self.put_back(user, original);
                        return RegisterReply::IntervalTooBrief { min_expires };
                    }
                    list.retain(|b| &b.contact != contact);
                    if asked == 0 {
                        continue;
                    }
                    let granted = asked.min(policy.max_expires);
                    list.push(Binding {
                        contact: contact.clone(),
                        source: request.source,
                        transport: request.transport,
                        expires_at: now + Duration::from_secs(granted.into()),
                        registered_at: now,
                        user_agent: request.user_agent.map(str::to_owned),
                    });
                    if list.len() > policy.max_contacts {
                        // The oldest softphone gives way to the newest.
                        list.sort_by_key(|b| b.registered_at);
                        list.remove(0);
                    }
                }
            }
        }
        let contacts = list
            .iter()
            .map(|b| {
                let left = b.expires_at.saturating_duration_since(now).as_secs();
                (b.contact.clone(), u32::try_from(left).unwrap_or(u32::MAX))
            })
            .collect();
        let has_any = !list.is_empty();
        self.put_back(user, list);
        match (had_any, has_any) {
            (false, true) => self
                .events
                .push_back(RegistrarEvent::Online { user: user.into() }),
            (true, false) => self.events.push_back(RegistrarEvent::Offline {
                user: user.into(),
                expired: false,
            }),
            _ => {}
        }
        RegisterReply::Ok { contacts }
    }

    fn put_back(&mut self, user: &str, list: Vec<Binding>) {
        if !list.is_empty() {
            self.bindings.insert(user.to_owned(), list);
        }
    }

    fn challenge(&mut self, now: Instant, nonce: String, stale: bool) -> RegisterReply {
        while self.nonce_order.len() >= MAX_NONCES {
            if let Some(old) = self.nonce_order.pop_front() {
                self.nonces.remove(&old);
            }
        }
        self.nonces.insert(nonce.clone(), (now, None));
        self.nonce_order.push_back(nonce.clone());
        RegisterReply::Challenge { nonce, stale }
    }

    fn fail(&mut self, now: Instant, ip: IpAddr, reason: String) -> RegisterReply {
        if self.failures.len() >= MAX_TRACKED_SOURCES && !self.failures.contains_key(&ip) {
            // Forget sources whose failures are old news.
            let window = self.policy.lockout_window;
            self.failures.retain(|_, f| {
                f.locked_until.is_some_and(|t| t > now)
                    || f.first_at.is_some_and(|t| now.duration_since(t) < window)
            });
            if self.failures.len() >= MAX_TRACKED_SOURCES {
                // Too many sources failing at once: refuse without tracking
                // one more, so the table stays bounded.
                return RegisterReply::Forbidden { reason };
            }
        }
        let policy = &self.policy;
        let f = self.failures.entry(ip).or_default();
        if f.first_at
            .is_none_or(|t| now.duration_since(t) > policy.lockout_window)
        {
            f.count = 0;
            f.first_at = Some(now);
        }
        f.count += 1;
        if f.count >= policy.lockout_failures {
            f.locked_until = Some(now + policy.lockout_for);
            let failures = f.count;
            f.count = 0;
            f.first_at = None;
            self.events.push_back(RegistrarEvent::LockedOut {
                source: ip,
                failures,
            });
        }
        RegisterReply::Forbidden { reason }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PHONE: &str = "192.0.2.10:5062";

    struct T {
        r: Registrar,
        now: Instant,
        n: u32,
    }

    impl T {
        fn new() -> T {
            #[allow(clippy::disallowed_methods)] // the test's clock starts somewhere
            let now = Instant::now();
            T {
                r: Registrar::new(
                    RegistrarPolicy::default(),
                    [("ana".to_string(), "secreto".to_string())],
                ),
                now,
                n: 0,
            }
        }

        fn nonce(&mut self) -> String {
            self.n += 1;
            format!("n{}", self.n)
        }

        /// REGISTER from `source` answering `nonce` with `password`.
        fn register(
            &mut self,
            source: &str,
            password: Option<(&str, &str)>,
            contacts: Vec<ContactChange>,
            expires: Option<u32>,
        ) -> RegisterReply {
            let verify = |wanted: &str| password.is_some_and(|(p, _)| p == wanted);
            let fresh = self.nonce();
            // A softphone counts its uses of a nonce (qop=auth).
            let nc = self.n;
            let request = RegisterRequest {
                source: source.parse().unwrap(),
                transport: Transport::Udp,
                user: "ana",
                auth: password.map(|(_, nonce)| DigestAnswer {
                    username: "ana",
                    realm: "dialer",
                    nonce,
                    nc: Some(nc),
                    verify: &verify,
                }),
                contacts,
                expires_header: expires,
                user_agent: Some("Linphone"),
            };
            self.r.handle_register(self.now, &request, fresh)
        }

        fn challenge(&mut self) -> String {
            match self.register(PHONE, None, vec![set("sip:ana@10.0.0.5:5062", None)], None) {
                RegisterReply::Challenge { nonce, stale } => {
                    assert!(!stale);
                    nonce
                }
                other => panic!("expected a challenge, got {other:?}"),
            }
        }
    }

    fn set(contact: &str, expires: Option<u32>) -> ContactChange {
        ContactChange::Set {
            contact: contact.into(),
            expires,
        }
    }

    #[test]
    fn challenge_then_register_records_the_real_source_and_goes_online() {
        let mut t = T::new();
        let nonce = t.challenge();
        let reply = t.register(
            PHONE,
            Some(("secreto", &nonce)),
            vec![set("sip:ana@10.0.0.5:5062", None)],
            Some(120),
        );
        assert_eq!(
            reply,
            RegisterReply::Ok {
                contacts: vec![("sip:ana@10.0.0.5:5062".into(), 120)]
            }
        );
        assert_eq!(
            t.r.poll_event(),
            Some(RegistrarEvent::Online { user: "ana".into() })
        );
        let bindings = t.r.contacts("ANA", t.now);
        assert_eq!(bindings.len(), 1);
        assert_eq!(
            bindings[0].source,
            PHONE.parse().unwrap(),
            "NAT: where it came from"
        );
        assert!(t.r.is_registered_source("192.0.2.10".parse().unwrap(), t.now));
        assert!(!t.r.is_registered_source("192.0.2.99".parse().unwrap(), t.now));
    }

    #[test]
    fn several_softphones_refresh_unregister_and_expire() {
        let mut t = T::new();
        let nonce = t.challenge();
        let auth = Some(("secreto", nonce.as_str()));
        t.register(
            PHONE,
            auth,
            vec![set("sip:ana@10.0.0.5:5062", None)],
            Some(60),
        );
        t.now += Duration::from_secs(1);
        let reply = t.register(
            "192.0.2.11:5060",
            auth,
            vec![set("sip:ana@10.0.0.6", Some(7200))],
            None,
        );
        let RegisterReply::Ok { contacts } = reply else {
            panic!("{reply:?}")
        };
        assert_eq!(contacts.len(), 2);
        assert_eq!(contacts[1], ("sip:ana@10.0.0.6".into(), 3600), "capped");
        assert_eq!(
            t.r.contacts("ana", t.now)[0].contact,
            "sip:ana@10.0.0.6",
            "newest first"
        );

        // Too short an interval is refused; zero removes one contact.
        let reply = t.register(
            PHONE,
            auth,
            vec![set("sip:ana@10.0.0.5:5062", Some(10))],
            None,
        );
        assert_eq!(reply, RegisterReply::IntervalTooBrief { min_expires: 60 });
        t.register(PHONE, auth, vec![set("sip:ana@10.0.0.6", Some(0))], None);
        assert_eq!(t.r.contacts("ana", t.now).len(), 1);
        t.r.poll_event();

        // The last one expires: offline, and nothing left to time.
        t.now += Duration::from_secs(60);
        t.r.handle_timeout(t.now);
        assert_eq!(
            t.r.poll_event(),
            Some(RegistrarEvent::Offline {
                user: "ana".into(),
                expired: true
            })
        );
        assert!(t.r.contacts("ana", t.now).is_empty());
        assert_eq!(t.r.poll_timeout(), None);

        // Contact: * with Expires: 0 clears everything.
        t.register(PHONE, auth, vec![set("sip:ana@10.0.0.5:5062", None)], None);
        let reply = t.register(PHONE, auth, vec![ContactChange::RemoveAll], Some(0));
        assert_eq!(reply, RegisterReply::Ok { contacts: vec![] });
        let reply = t.register(PHONE, auth, vec![ContactChange::RemoveAll], Some(60));
        assert!(matches!(reply, RegisterReply::BadRequest(_)));
    }

    #[test]
    fn wrong_passwords_lock_the_source_out_and_others_are_unaffected() {
        let mut t = T::new();
        let nonce = t.challenge();
        for i in 1..=5 {
            let reply = t.register(PHONE, Some(("adivina", &nonce)), vec![], None);
            assert!(matches!(reply, RegisterReply::Forbidden { .. }), "try {i}");
        }
        assert_eq!(
            t.r.poll_event(),
            Some(RegistrarEvent::LockedOut {
                source: "192.0.2.10".parse().unwrap(),
                failures: 5
            })
        );
        // Even the right password is refused while locked, without a challenge.
        let reply = t.register(PHONE, Some(("secreto", &nonce)), vec![], None);
        let RegisterReply::Forbidden { reason } = reply else {
            panic!("{reply:?}")
        };
        assert!(reason.contains("locked out"), "{reason}");
        assert!(matches!(
            t.register(PHONE, None, vec![], None),
            RegisterReply::Forbidden { .. }
        ));
        // Another source still registers.
        let reply = t.register(
            "192.0.2.20:5060",
            Some(("secreto", &nonce)),
            vec![set("sip:ana@192.0.2.20", None)],
            None,
        );
        assert!(matches!(reply, RegisterReply::Ok { .. }));
        // The lockout ends.
        t.now += Duration::from_secs(901);
        let nonce = t.challenge();
        let reply = t.register(PHONE, Some(("secreto", &nonce)), vec![], None);
        assert!(matches!(reply, RegisterReply::Ok { .. }), "{reply:?}");
    }

    #[test]
    fn a_recorded_answer_cannot_be_replayed_nor_sent_to_another_realm() {
        let mut t = T::new();
        let nonce = t.challenge();
        let verify = |p: &str| p == "secreto";
        let answer = |realm: &'static str, nc: Option<u32>| RegisterRequest {
            source: PHONE.parse().unwrap(),
            transport: Transport::Udp,
            user: "ana",
            auth: Some(DigestAnswer {
                username: "ana",
                realm,
                nonce: &nonce,
                nc,
                verify: &verify,
            }),
            contacts: vec![set("sip:ana@10.0.0.5:5062", None)],
            expires_header: None,
            user_agent: None,
        };
        let ok =
            t.r.handle_register(t.now, &answer("dialer", Some(1)), "a".into());
        assert!(matches!(ok, RegisterReply::Ok { .. }), "{ok:?}");
        let again =
            t.r.handle_register(t.now, &answer("dialer", Some(1)), "b".into());
        assert_eq!(
            again,
            RegisterReply::Challenge {
                nonce: "b".into(),
                stale: true
            },
            "the same count again is a replay"
        );
        let next =
            t.r.handle_register(t.now, &answer("dialer", Some(2)), "c".into());
        assert!(
            matches!(next, RegisterReply::Ok { .. }),
            "counting up is fine: {next:?}"
        );
        let elsewhere =
            t.r.handle_register(t.now, &answer("otro", Some(3)), "d".into());
        assert!(
            matches!(elsewhere, RegisterReply::Challenge { .. }),
            "{elsewhere:?}"
        );

        // Without a count, a nonce is good once.
        let nonce2 = t.challenge();
        let once = RegisterRequest {
            auth: Some(DigestAnswer {
                username: "ana",
                realm: "dialer",
                nonce: &nonce2,
                nc: None,
                verify: &verify,
            }),
            ..answer("dialer", None)
        };
        assert!(matches!(
            t.r.handle_register(t.now, &once, "e".into()),
            RegisterReply::Ok { .. }
        ));
        assert!(matches!(
            t.r.handle_register(t.now, &once, "f".into()),
            RegisterReply::Challenge { stale: true, .. }
        ));
    }

    #[test]
    fn a_refresh_extends_the_same_binding_without_adding_one() {
        let mut t = T::new();
        let nonce = t.challenge();
        let auth = Some(("secreto", nonce.as_str()));
        t.register(
            PHONE,
            auth,
            vec![set("sip:ana@10.0.0.5:5062", None)],
            Some(120),
        );
        t.now += Duration::from_secs(100);
        let reply = t.register(
            PHONE,
            auth,
            vec![set("sip:ana@10.0.0.5:5062", None)],
            Some(120),
        );
        assert_eq!(
            reply,
            RegisterReply::Ok {
                contacts: vec![("sip:ana@10.0.0.5:5062".into(), 120)]
            }
        );
        t.now += Duration::from_secs(100);
        t.r.handle_timeout(t.now);
        assert_eq!(
            t.r.contacts("ana", t.now).len(),
            1,
            "200 s in, still registered"
        );
    }

    #[test]
    fn unknown_agents_and_old_or_foreign_nonces() {
        let mut t = T::new();
        let verify = |_: &str| true;
        let request = RegisterRequest {
            source: PHONE.parse().unwrap(),
            transport: Transport::Udp,
            user: "mallory",
            auth: Some(DigestAnswer {
                username: "mallory",
                realm: "dialer",
                nonce: "x",
                nc: None,
                verify: &verify,
            }),
            contacts: vec![],
            expires_header: None,
            user_agent: Some("friendly-scanner"),
        };
        let reply = t.r.handle_register(t.now, &request, "n".into());
        assert!(
            matches!(reply, RegisterReply::Forbidden { ref reason } if reason.contains("unknown agent"))
        );

        // A right password on a nonce we never issued, or one too old: stale.
        let reply = t.register(PHONE, Some(("secreto", "forged")), vec![], None);
        assert!(matches!(
            reply,
            RegisterReply::Challenge { stale: true, .. }
        ));
        let nonce = t.challenge();
        t.now += Duration::from_secs(301);
        let reply = t.register(PHONE, Some(("secreto", &nonce)), vec![], None);
        assert!(matches!(
            reply,
            RegisterReply::Challenge { stale: true, .. }
        ));
    }
}
