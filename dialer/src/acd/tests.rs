//! The router in virtual time: a clock the test moves by hand.

use std::time::{Duration, Instant};

use super::*;

struct World {
    router: Router,
    start: Instant,
    now: Instant,
}

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

fn queue(name: &str, skills: &[&str]) -> QueueSpec {
    QueueSpec {
        name: name.into(),
        skills: skills
            .iter()
            .map(|s| Requirement::parse(s).unwrap())
            .collect(),
        wrap_up: secs(10),
        max_wait: secs(60),
        announce_every: Some(secs(20)),
        overflow: Overflow::Hangup,
    }
}

fn agent(login: &str, skills: &[&str]) -> AgentSpec {
    AgentSpec {
        login: login.into(),
        skills: skills.iter().map(|s| Skill::parse(s).unwrap()).collect(),
    }
}

impl World {
    fn new() -> World {
        #[allow(clippy::disallowed_methods)] // the test's clock starts somewhere
        let start = Instant::now();
        World {
            router: Router::new(),
            start,
            now: start,
        }
    }

    fn advance(&mut self, by: Duration) {
        self.now += by;
        self.router.handle_timeout(self.now);
    }

    /// Runs timeouts in order until `until`, as the service's timer would.
    fn run_until(&mut self, until: Duration) {
        let end = self.start + until;
        while let Some(t) = self.router.poll_timeout().filter(|t| *t <= end) {
            self.now = t.max(self.now);
            self.router.handle_timeout(self.now);
        }
        self.now = end;
    }

    fn ready(&mut self, agent: AgentId) {
        self.router
            .handle_request(self.now, agent, AgentRequest::Ready)
            .unwrap();
    }

    fn enqueue(&mut self, call: u64, queue: QueueId, skills: &[&str], priority: i32) {
        let skills = skills
            .iter()
            .map(|s| Requirement::parse(s).unwrap())
            .collect();
        self.router
            .handle_enqueue(self.now, QueueCallId(call), queue, skills, priority)
            .unwrap();
    }

    /// Drains the actions, keeping only offers.
    fn offers(&mut self) -> Vec<(u64, usize)> {
        let mut offers = Vec::new();
        while let Some(action) = self.router.poll_action() {
            if let Action::Offer { call, agent } = action {
                offers.push((call.0, agent.0));
            }
        }
        offers
    }

    fn drain(&mut self) -> Vec<Action> {
        std::iter::from_fn(|| self.router.poll_action()).collect()
    }

    fn state(&self, agent: AgentId) -> AgentState {
        self.router.agent_state(agent).unwrap().clone()
    }
}

#[test]
fn skills_parse_with_levels_and_refuse_nonsense() {
    assert_eq!(
        Skill::parse("Cobranza-Temprana:8").unwrap(),
        Skill {
            name: "cobranza-temprana".into(),
            level: 8
        }
    );
    assert_eq!(Skill::parse("ingles").unwrap().level, DEFAULT_SKILL_LEVEL);
    assert_eq!(Requirement::parse("ingles").unwrap().min_level, 1);
    assert_eq!(
        Requirement::parse("ingles:5").unwrap().to_string(),
        "ingles:5"
    );
    assert!(Skill::parse("ingles:11").is_err());
    assert!(Skill::parse("ingles:0").is_err());
    assert!(Skill::parse("in gles").is_err());
    assert!(Requirement::parse(":3").is_err());
}

#[test]
fn the_call_goes_to_the_agent_with_every_skill_and_the_best_levels() {
    let mut w = World::new();
    let q = w
        .router
        .add_queue(queue("cobranza", &["cobranza-temprana"]));
    let spanish_only = w.router.add_agent(agent("ana", &["cobranza-temprana:9"]));
    let weak = w
        .router
        .add_agent(agent("beto", &["cobranza-temprana:3", "ingles:4"]));
    let strong = w
        .router
        .add_agent(agent("carla", &["cobranza-temprana:6", "ingles:9"]));
    for a in [spanish_only, weak, strong] {
        w.ready(a);
    }
    w.drain();
    w.enqueue(1, q, &["ingles"], 0);
    assert_eq!(
        w.offers(),
        vec![(1, strong.0)],
        "ana lacks ingles; carla scores 15 > 7"
    );
    assert_eq!(w.state(strong), AgentState::Reserved(QueueCallId(1)));

    // A minimum level rules beto out even when he is the only one left.
    w.enqueue(2, q, &["ingles:5"], 0);
    assert_eq!(w.offers(), vec![]);
    assert_eq!(w.router.waiting()[0].position, Some(1));
}

#[test]
fn among_equals_the_longest_idle_agent_goes_first() {
    let mut w = World::new();
    let q = w.router.add_queue(queue("cobranza", &[]));
    let a = w.router.add_agent(agent("ana", &["cobranza:5"]));
    let b = w.router.add_agent(agent("beto", &["cobranza:5"]));
    w.ready(b);
    w.advance(secs(5));
    w.ready(a);
    w.drain();
    w.enqueue(1, q, &[], 0);
    assert_eq!(w.offers(), vec![(1, b.0)], "beto has waited 5 s longer");
    w.enqueue(2, q, &[], 0);
    assert_eq!(w.offers(), vec![(2, a.0)]);
}

#[test]
fn higher_priority_segments_are_served_first_then_the_oldest_call() {
    let mut w = World::new();
    let q = w.router.add_queue(queue("cobranza", &[]));
    let a = w.router.add_agent(agent("ana", &[]));
    w.enqueue(1, q, &[], 0);
    w.advance(secs(1));
    w.enqueue(2, q, &[], 0);
    w.advance(secs(1));
    w.enqueue(3, q, &[], 10);
    let positions: Vec<_> = w
        .router
        .waiting()
        .iter()
        .map(|c| (c.call.0, c.position))
        .collect();
    assert_eq!(positions, vec![(3, Some(1)), (1, Some(2)), (2, Some(3))]);
    w.ready(a);
    assert_eq!(
        w.offers(),
        vec![(3, a.0)],
        "mora tardía (priority 10) jumps ahead"
    );
    w.router.handle_offer_answered(w.now, QueueCallId(3));
    w.router.handle_call_ended(w.now, QueueCallId(3));
    w.router
        .handle_request(w.now, a, AgentRequest::EndWrapUp)
        .unwrap();
    assert_eq!(w.offers(), vec![(1, a.0)], "then the oldest");
}

#[test]
fn a_call_nobody_can_take_does_not_block_the_calls_behind_it() {
    let mut w = World::new();
    let q = w.router.add_queue(queue("cobranza", &[]));
    let a = w.router.add_agent(agent("ana", &["cobranza"]));
    w.enqueue(1, q, &["ingles"], 5);
    w.enqueue(2, q, &[], 0);
    w.ready(a);
    assert_eq!(w.offers(), vec![(2, a.0)]);
}

#[test]
fn an_agent_who_does_not_answer_is_paused_and_the_next_agent_is_tried() {
    let mut w = World::new();
    let q = w.router.add_queue(queue("cobranza", &[]));
    let a = w.router.add_agent(agent("ana", &[]));
    let b = w.router.add_agent(agent("beto", &[]));
    w.ready(a);
    w.advance(secs(1));
    w.ready(b);
    w.enqueue(1, q, &[], 0);
    assert_eq!(w.offers(), vec![(1, a.0)]);
    w.advance(secs(15));
    w.router
        .handle_offer_failed(w.now, QueueCallId(1), OfferFailure::NoAnswer);
    assert_eq!(w.state(a), AgentState::Paused(PAUSE_NO_ANSWER.into()));
    assert_eq!(w.offers(), vec![(1, b.0)]);
    w.router
        .handle_offer_failed(w.now, QueueCallId(1), OfferFailure::Rejected);
    assert_eq!(w.state(b), AgentState::Paused(PAUSE_REJECTED.into()));
    assert_eq!(w.offers(), vec![], "nobody left: the call waits");
    assert_eq!(w.router.waiting()[0].position, Some(1));
}

#[test]
fn wrap_up_runs_its_timer_or_ends_early_and_then_the_next_call_comes() {
    let mut w = World::new();
    let q = w.router.add_queue(queue("cobranza", &[]));
    let a = w.router.add_agent(agent("ana", &[]));
    w.ready(a);
    w.enqueue(1, q, &[], 0);
    w.router.handle_offer_answered(w.now, QueueCallId(1));
    assert_eq!(w.state(a), AgentState::OnCall(QueueCallId(1)));
    w.enqueue(2, q, &[], 0);
    w.advance(secs(30));
    w.router.handle_call_ended(w.now, QueueCallId(1));
    assert_eq!(w.state(a), AgentState::WrapUp);
    w.drain();
    w.advance(secs(9));
    assert_eq!(w.state(a), AgentState::WrapUp);
    assert_eq!(w.offers(), vec![]);
    w.advance(secs(1));
    assert_eq!(
        w.offers(),
        vec![(2, a.0)],
        "wrap-up of 10 s over: ready and offered"
    );
    w.router.handle_offer_answered(w.now, QueueCallId(2));
    w.router.handle_call_ended(w.now, QueueCallId(2));
    w.router
        .handle_request(w.now, a, AgentRequest::EndWrapUp)
        .unwrap();
    assert_eq!(w.state(a), AgentState::Ready, "ended early by the agent");
    assert!(
        w.router
            .handle_request(w.now, a, AgentRequest::EndWrapUp)
            .is_err()
    );
}

#[test]
fn a_pause_asked_during_a_call_waits_for_its_end() {
    let mut w = World::new();
    let q = w.router.add_queue(queue("cobranza", &[]));
    let a = w.router.add_agent(agent("ana", &[]));
    w.ready(a);
    w.enqueue(1, q, &[], 0);
    w.router.handle_offer_answered(w.now, QueueCallId(1));
    w.router
        .handle_request(w.now, a, AgentRequest::Pause("comida".into()))
        .unwrap();
    assert_eq!(w.state(a), AgentState::OnCall(QueueCallId(1)));
    w.router.handle_call_ended(w.now, QueueCallId(1));
    assert_eq!(w.state(a), AgentState::WrapUp);
    w.advance(secs(10));
    assert_eq!(w.state(a), AgentState::Paused("comida".into()));
    w.drain();
    w.enqueue(2, q, &[], 0);
    assert_eq!(w.offers(), vec![], "a paused agent gets no calls");
}

#[test]
fn waiting_debtors_hear_their_position_and_overflow_after_max_wait() {
    let mut w = World::new();
    let mut spec = queue("temprana", &[]);
    let overflow_target = w.router.add_queue(QueueSpec {
        overflow: Overflow::Callback,
        max_wait: secs(30),
        ..queue("general", &[])
    });
    spec.overflow = Overflow::Queue(overflow_target);
    let q = w.router.add_queue(spec);
    w.enqueue(1, q, &[], 0);
    w.advance(secs(5));
    w.enqueue(2, q, &[], 0);
    w.run_until(secs(45));
    let actions = w.drain();
    let announces: Vec<_> = actions
        .iter()
        .filter_map(|a| match a {
            Action::Announce { call, position } => Some((call.0, *position)),
            _ => None,
        })
        .collect();
    assert_eq!(announces, vec![(1, 1), (2, 2), (1, 1), (2, 2)]);

    w.run_until(secs(61));
    let actions = w.drain();
    assert!(actions.contains(&Action::Overflow {
        call: QueueCallId(1),
        from: q,
        to: Overflow::Queue(overflow_target)
    }));
    let moved = w.router.waiting();
    assert_eq!(moved[0].queue, overflow_target, "still waiting, elsewhere");

    // 30 s more in "general", then the callback overflow takes it out.
    w.run_until(secs(91));
    let actions = w.drain();
    assert!(actions.contains(&Action::Overflow {
        call: QueueCallId(1),
        from: overflow_target,
        to: Overflow::Callback
    }));
    assert_eq!(w.router.waiting().len(), 1, "call 2 moved 5 s later");
    w.run_until(secs(96));
    assert!(w.router.waiting().is_empty());
    assert_eq!(w.router.poll_timeout(), None, "no timer left behind");
}

#[test]
fn a_ringing_offer_is_not_overflowed_and_an_abandon_frees_the_agent() {
    let mut w = World::new();
    let q = w.router.add_queue(queue("cobranza", &[]));
    let a = w.router.add_agent(agent("ana", &[]));
    w.enqueue(1, q, &[], 0);
    w.advance(secs(55));
    w.ready(a);
    assert_eq!(w.offers(), vec![(1, a.0)]);
    w.advance(secs(10));
    assert!(
        !w.drain()
            .iter()
            .any(|a| matches!(a, Action::Overflow { .. })),
        "the agent's phone is ringing: no overflow"
    );
    w.router.handle_abandon(w.now, QueueCallId(1));
    assert_eq!(
        w.state(a),
        AgentState::Ready,
        "the debtor hung up, not the agent's fault"
    );
    assert!(w.router.waiting().is_empty());

    // A failed offer after max wait overflows at once.
    w.enqueue(2, q, &[], 0);
    assert_eq!(w.offers(), vec![(2, a.0)]);
    w.advance(secs(61));
    w.router
        .handle_offer_failed(w.now, QueueCallId(2), OfferFailure::NoAnswer);
    assert!(w.drain().contains(&Action::Overflow {
        call: QueueCallId(2),
        from: q,
        to: Overflow::Hangup
    }));
}

#[test]
fn state_changes_are_reported_with_their_instant() {
    let mut w = World::new();
    let q = w.router.add_queue(queue("cobranza", &[]));
    let a = w.router.add_agent(agent("ana", &[]));
    w.router
        .handle_request(w.now, a, AgentRequest::Login)
        .unwrap();
    w.enqueue(1, q, &[], 0);
    w.advance(secs(2));
    w.router.handle_offer_answered(w.now, QueueCallId(1));
    let changes: Vec<_> = w
        .drain()
        .into_iter()
        .filter_map(|x| match x {
            Action::AgentChanged { state, at, .. } => Some((state.name(), at - w.start)),
            _ => None,
        })
        .collect();
    assert_eq!(
        changes,
        vec![
            ("ready", secs(0)),
            ("reserved", secs(0)),
            ("on_call", secs(2))
        ]
    );
    w.router
        .handle_request(w.now, a, AgentRequest::Logout)
        .unwrap();
    w.router.handle_call_ended(w.now, QueueCallId(1));
    w.advance(secs(10));
    assert_eq!(w.state(a), AgentState::LoggedOut);
}

#[test]
fn a_failed_offer_on_a_call_that_is_ending_pauses_the_agent_and_frees_the_next() {
    let mut w = World::new();
    let q = w.router.add_queue(queue("cobranza", &[]));
    let a = w.router.add_agent(agent("ana", &[]));
    let b = w.router.add_agent(agent("beto", &[]));
    w.ready(a);
    w.advance(secs(1));
    w.ready(b);
    w.enqueue(1, q, &[], 0);
    assert_eq!(w.offers(), vec![(1, a.0)]);
    // Ana's softphone failed after answering; the debtor's call ends too.
    w.router
        .handle_offer_failed(w.now, QueueCallId(1), OfferFailure::Unreachable);
    w.router.handle_abandon(w.now, QueueCallId(1));
    assert_eq!(w.state(a), AgentState::Paused("unreachable".into()));
    assert_eq!(
        w.state(b),
        AgentState::Ready,
        "reserved for a moment, then freed"
    );
    assert!(w.router.waiting().is_empty());
    assert_eq!(w.router.agent_of(QueueCallId(1)), None);
}

#[test]
fn a_choice_made_in_wrap_up_replaces_the_one_asked_on_the_call() {
    let mut w = World::new();
    let q = w.router.add_queue(queue("cobranza", &[]));
    let a = w.router.add_agent(agent("ana", &[]));
    w.ready(a);
    w.enqueue(1, q, &[], 0);
    w.router.handle_offer_answered(w.now, QueueCallId(1));
    w.router
        .handle_request(w.now, a, AgentRequest::Pause("comida".into()))
        .unwrap();
    w.router.handle_call_ended(w.now, QueueCallId(1));
    // In wrap-up the agent changes their mind: ready after all.
    w.ready(a);
    w.enqueue(2, q, &[], 0);
    w.router.handle_offer_answered(w.now, QueueCallId(2));
    w.router.handle_call_ended(w.now, QueueCallId(2));
    w.advance(secs(10));
    assert_eq!(w.state(a), AgentState::Ready, "the old pause is gone");

    // A pause asked on a call, then "end wrap-up": the pause.
    w.enqueue(3, q, &[], 0);
    w.router.handle_offer_answered(w.now, QueueCallId(3));
    w.router
        .handle_request(w.now, a, AgentRequest::Pause("capacitacion".into()))
        .unwrap();
    w.router.handle_call_ended(w.now, QueueCallId(3));
    w.router
        .handle_request(w.now, a, AgentRequest::EndWrapUp)
        .unwrap();
    assert_eq!(w.state(a), AgentState::Paused("capacitacion".into()));
}

#[test]
fn a_logout_asked_while_the_phone_rang_survives_a_missed_offer() {
    let mut w = World::new();
    let q = w.router.add_queue(queue("cobranza", &[]));
    let a = w.router.add_agent(agent("ana", &[]));
    w.ready(a);
    w.enqueue(1, q, &[], 0);
    w.router
        .handle_request(w.now, a, AgentRequest::Logout)
        .unwrap();
    w.router
        .handle_offer_failed(w.now, QueueCallId(1), OfferFailure::NoAnswer);
    assert_eq!(w.state(a), AgentState::LoggedOut);
}

#[test]
fn overflowing_to_a_general_queue_drops_the_first_queues_skills() {
    let mut w = World::new();
    let general = w.router.add_queue(queue("general", &[]));
    let mut special = queue("ingles", &["ingles"]);
    special.overflow = Overflow::Queue(general);
    special.max_wait = secs(10);
    let q = w.router.add_queue(special);
    let spanish = w.router.add_agent(agent("ana", &["cobranza:5"]));
    w.ready(spanish);
    w.enqueue(1, q, &["cobranza"], 0);
    assert_eq!(w.offers(), vec![], "ana does not speak English");
    w.advance(secs(10));
    assert_eq!(
        w.offers(),
        vec![(1, spanish.0)],
        "in the general queue only the transfer's own skill counts"
    );
}

/// What a campaign's pacer reads: the queue's agents ready and busy (and
/// since when), debtors waiting, and what ended since it last asked.
#[test]
fn the_pacer_sees_the_queue_agents_and_learns_their_calls_and_the_abandons() {
    let mut w = World::new();
    let q = w.router.add_queue(queue("cobranza", &["cobranza"]));
    let other = w.router.add_queue(queue("ventas", &["ventas"]));
    let ana = w.router.add_agent(agent("ana", &["cobranza:5"]));
    let beto = w.router.add_agent(agent("beto", &["cobranza:5"]));
    let seller = w.router.add_agent(agent("carla", &["ventas:5"]));
    for a in [ana, beto, seller] {
        w.ready(a);
    }
    let grace = secs(2);
    let state = w.router.pacing(w.now, q, grace);
    assert_eq!((state.ready, state.busy.len(), state.waiting), (2, 0, 0));

    // A debtor answered by Ana at once: connected within the grace time.
    w.enqueue(1, q, &[], 0);
    let begun = w.now;
    w.advance(secs(1));
    w.router.handle_offer_answered(w.now, QueueCallId(1));
    // A second debtor Beto takes only after 5 s: an abandon by the law.
    w.enqueue(2, q, &[], 0);
    w.advance(secs(5));
    w.router.handle_offer_answered(w.now, QueueCallId(2));
    // A third waits for nobody and leaves.
    w.enqueue(3, q, &[], 0);
    let state = w.router.pacing(w.now, q, grace);
    assert_eq!(state.ready, 0);
    assert_eq!(state.busy, vec![(begun, None), (begun + secs(1), None)]);
    assert_eq!((state.waiting, state.talking), (1, 2));
    assert_eq!((state.connected, state.abandoned), (1, 1));
    assert_eq!(state.waits, vec![(1.0, false), (5.0, false)]);
    w.advance(secs(1));
    w.router.handle_abandon(w.now, QueueCallId(3));

    // Ana's call ends at 60 s; her 10 s wrap-up follows.
    w.advance(secs(53));
    w.router.handle_call_ended(w.now, QueueCallId(1));
    let wrapping = w.now;
    let state = w.router.pacing(w.now, q, grace);
    assert_eq!(state.busy[0], (begun, Some(wrapping)));
    assert_eq!((state.connected, state.abandoned), (0, 1));
    assert_eq!(state.waits, vec![(1.0, true)], "the debtor hung up waiting");
    assert!(state.freed.is_empty());
    w.run_until(secs(71));
    let state = w.router.pacing(w.now, q, grace);
    assert_eq!(state.ready, 1);
    assert_eq!(state.freed.len(), 1);
    let (talk, wrap) = state.freed[0];
    assert!(
        (talk - 60.0).abs() < 1e-6 && (wrap - 10.0).abs() < 1e-6,
        "{:?}",
        state.freed
    );
    // Asked again: nothing new.
    let state = w.router.pacing(w.now, q, grace);
    assert!(state.freed.is_empty() && state.connected == 0 && state.abandoned == 0);
    // The other queue's agent is not counted.
    assert_eq!(w.router.pacing(w.now, other, grace).ready, 1);
}

/// Preview dialing: an agent is reserved for the debtor they look at; the
/// debtor who answers goes straight to them, past a debtor already
/// waiting; a preview that ends without a call frees them.
#[test]
fn a_previewed_debtor_goes_to_the_agent_who_accepted_them() {
    let mut w = World::new();
    let q = w.router.add_queue(queue("cobranza", &["cobranza"]));
    let ana = w.router.add_agent(agent("ana", &["cobranza:5"]));
    w.ready(ana);
    w.drain();
    assert_eq!(w.router.handle_preview(w.now, q, 7), Some(ana));
    assert!(matches!(w.state(ana), AgentState::Reserved(_)));
    // Nobody else is free for a preview, nor for a debtor already waiting.
    assert_eq!(w.router.handle_preview(w.now, q, 8), None);
    w.enqueue(1, q, &[], 10);
    assert!(w.offers().is_empty());
    // The previewed debtor answers: offered to Ana at once.
    w.router
        .handle_enqueue_previewed(w.now, QueueCallId(2), q, vec![], 0, 7)
        .unwrap();
    assert_eq!(w.offers(), [(2, ana.0)]);
    assert_eq!(w.state(ana), AgentState::Reserved(QueueCallId(2)));
    // A preview that ends without a call frees its agent.
    let bea = w.router.add_agent(agent("bea", &["cobranza:5"]));
    w.router.handle_abandon(w.now, QueueCallId(1));
    w.ready(bea);
    w.drain();
    let reserved = w.router.handle_preview(w.now, q, 9).unwrap();
    assert_eq!(reserved, bea);
    w.router.handle_preview_end(w.now, 9);
    assert_eq!(w.state(reserved), AgentState::Ready);
    // Ending it twice, or after the debtor reached the agent, is harmless.
    w.router.handle_preview_end(w.now, 9);
}
