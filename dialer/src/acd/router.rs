//! The ACD router: agents' states and the calls waiting for them, in one
//! state machine told the time.
//!
//! Matching runs whenever something could make a match (an agent becomes
//! ready, a call arrives, an offer fails): calls are taken in priority order
//! (higher segment priority first, then longest waiting), and each goes to
//! the ready agent with every skill it needs, the best summed level of those
//! skills, and the longest idle time. A call nobody can take does not block
//! the calls behind it. Waiting calls hear their position every
//! `announce_every` and leave by the queue's overflow after `max_wait`
//! (never while an agent's phone is ringing for them).

use std::collections::{BTreeMap, VecDeque};
use std::time::Instant;

use super::{
    AgentId, AgentRequest, AgentSpec, AgentState, OfferFailure, Overflow, PAUSE_NO_ANSWER,
    PAUSE_REJECTED, QueueCallId, QueueId, QueueSpec, Requirement,
};

/// What the service must do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Ring this agent for this call; answer with `handle_offer_answered`
    /// or `handle_offer_failed`.
    Offer { call: QueueCallId, agent: AgentId },
    /// Tell the waiting debtor their place in the queue (1 = next).
    Announce { call: QueueCallId, position: usize },
    /// The call waited `max_wait`: it moved to another queue
    /// (`Overflow::Queue`, still waiting) or leaves the ACD by this action.
    Overflow {
        call: QueueCallId,
        from: QueueId,
        to: Overflow,
    },
    /// An agent's state changed (for the store and the wallboard).
    AgentChanged {
        agent: AgentId,
        state: AgentState,
        at: Instant,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EnqueueError {
    #[error("no queue with id {0:?}")]
    UnknownQueue(QueueId),
    #[error("call {0:?} is already in the ACD")]
    Duplicate(QueueCallId),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RequestError {
    #[error("no agent with id {0:?}")]
    UnknownAgent(AgentId),
    #[error("the agent is {0}, not in wrap-up")]
    NotInWrapUp(&'static str),
}

/// A call waiting (or being offered), as the wallboard shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaitingCall {
    pub call: QueueCallId,
    pub queue: QueueId,
    pub position: Option<usize>,
    pub offered_to: Option<AgentId>,
    pub enqueued_at: Instant,
}

#[derive(Debug)]
struct Agent {
    spec: AgentSpec,
    state: AgentState,
    /// When they last became ready: longest idle goes first.
    idle_since: Option<Instant>,
    wrap_up_until: Option<Instant>,
    /// A pause or logout asked during a call, applied when it ends.
    pending: Option<AgentRequest>,
    /// Since when they are reserved, on a call or in its wrap-up.
    busy_since: Option<Instant>,
    /// Since when they are in wrap-up.
    wrapping_since: Option<Instant>,
}

/// What a pacer needs of the agents who serve one queue, and what they
/// did since it last asked.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PacingState {
    /// Agents ready for a call.
    pub ready: usize,
    /// Agents reserved, talking or in wrap-up: since when busy, and since
    /// when wrapping up.
    pub busy: Vec<(Instant, Option<Instant>)>,
    /// Debtors in the queue no agent has answered yet.
    pub waiting: usize,
    /// Debtors of the queue talking to an agent.
    pub talking: usize,
    /// Calls ended since the last ask: seconds talking, seconds in wrap-up.
    pub freed: Vec<(f64, f64)>,
    /// Debtors an agent answered within the grace time, since the last ask.
    pub connected: usize,
    /// Debtors who got no agent within the grace time (they left the
    /// queue, overflowed, or the agent answered later), since the last ask.
    pub abandoned: usize,
    /// Every wait for an agent that ended since the last ask: seconds
    /// waited, and whether the debtor hung up then (rather than being
    /// connected or moved on by the queue's overflow). What the pacer
    /// learns the debtors' patience from.
    pub waits: Vec<(f64, bool)>,
}

/// An end of a debtor's wait, for [`PacingState`].
#[derive(Debug, Clone, Copy)]
struct WaitEnded {
    queue: QueueId,
    enqueued_at: Instant,
    at: Instant,
    connected: bool,
    /// The debtor hung up while waiting.
    hung_up: bool,
}

#[derive(Debug)]
struct Waiting {
    queue: QueueId,
    /// What the transfer itself asked for (kept across overflows).
    asked: Vec<Requirement>,
    /// `asked` plus the current queue's skills.
    needs: Vec<Requirement>,
    priority: i32,
    /// First entered the ACD (kept across overflow and failed offers).
    enqueued_at: Instant,
    max_wait_at: Instant,
    next_announce: Option<Instant>,
    offered_to: Option<AgentId>,
}

/// Agents, queues and the calls between them.
#[derive(Debug, Default)]
pub struct Router {
    agents: Vec<Agent>,
    queues: Vec<QueueSpec>,
    waiting: BTreeMap<QueueCallId, Waiting>,
    /// Calls an agent answered, until they end.
    connected: BTreeMap<QueueCallId, (AgentId, QueueId)>,
    actions: VecDeque<Action>,
    /// Calls and waits that ended since the pacer last asked.
    freed: Vec<(AgentId, f64, f64)>,
    waits_ended: Vec<WaitEnded>,
    /// Preview dialing: agents reserved for a debtor they are looking at,
    /// by the campaign's preview key, until the call is placed and the
    /// debtor enters the queue (or the preview ends).
    previews: BTreeMap<u64, AgentId>,
}

/// Reserved states of previews carry call ids from here up, clear of
/// attempt ids.
const PREVIEW_CALL_IDS: u64 = 1 << 62;

impl Router {
    pub fn new() -> Router {
        Router::default()
    }

    /// Adds an agent, logged out.
    pub fn add_agent(&mut self, spec: AgentSpec) -> AgentId {
        self.agents.push(Agent {
            spec,
            state: AgentState::LoggedOut,
            idle_since: None,
            wrap_up_until: None,
            pending: None,
            busy_since: None,
            wrapping_since: None,
        });
        AgentId(self.agents.len() - 1)
    }

    pub fn add_queue(&mut self, spec: QueueSpec) -> QueueId {
        self.queues.push(spec);
        QueueId(self.queues.len() - 1)
    }

    pub fn agent_state(&self, agent: AgentId) -> Option<&AgentState> {
        self.agents.get(agent.0).map(|a| &a.state)
    }

    pub fn agent_spec(&self, agent: AgentId) -> Option<&AgentSpec> {
        self.agents.get(agent.0).map(|a| &a.spec)
    }

    pub fn queue(&self, queue: QueueId) -> Option<&QueueSpec> {
        self.queues.get(queue.0)
    }

    pub fn agent_count(&self) -> usize {
        self.agents.len()
    }

    /// The agent a call is offered to or talking with.
    pub fn agent_of(&self, call: QueueCallId) -> Option<AgentId> {
        self.connected
            .get(&call)
            .map(|(agent, _)| *agent)
            .or_else(|| self.waiting.get(&call).and_then(|w| w.offered_to))
    }

    /// Every call in the ACD that no agent has answered yet, in dispatch order.
    pub fn waiting(&self) -> Vec<WaitingCall> {
        self.dispatch_order()
            .into_iter()
            .chain(
                self.waiting
                    .iter()
                    .filter(|(_, w)| w.offered_to.is_some())
                    .map(|(id, _)| *id),
            )
            .map(|id| {
                let w = &self.waiting[&id];
                WaitingCall {
                    call: id,
                    queue: w.queue,
                    position: self.position(id),
                    offered_to: w.offered_to,
                    enqueued_at: w.enqueued_at,
                }
            })
            .collect()
    }

    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    /// The next instant something is due (wrap-up end, announcement, overflow).
    pub fn poll_timeout(&self) -> Option<Instant> {
        let wrap_ups = self.agents.iter().filter_map(|a| a.wrap_up_until);
        let calls = self
            .waiting
            .values()
            .filter(|w| w.offered_to.is_none())
            .flat_map(|w| [Some(w.max_wait_at), w.next_announce])
            .flatten();
        wrap_ups.chain(calls).min()
    }

    /// A debtor enters `queue` needing `skills` (beyond the queue's own).
    pub fn handle_enqueue(
        &mut self,
        now: Instant,
        call: QueueCallId,
        queue: QueueId,
        skills: Vec<Requirement>,
        priority: i32,
    ) -> Result<(), EnqueueError> {
        self.admit(now, call, queue, skills, priority, None)?;
        self.dispatch(now);
        Ok(())
    }

    /// Puts the call among the waiting ones, offered to `agent` already
    /// (a preview) or not.
    fn admit(
        &mut self,
        now: Instant,
        call: QueueCallId,
        queue: QueueId,
        skills: Vec<Requirement>,
        priority: i32,
        offered_to: Option<AgentId>,
    ) -> Result<(), EnqueueError> {
        let spec = self
            .queues
            .get(queue.0)
            .ok_or(EnqueueError::UnknownQueue(queue))?;
        if self.waiting.contains_key(&call) || self.connected.contains_key(&call) {
            return Err(EnqueueError::Duplicate(call));
        }
        let needs = merge_requirements(&spec.skills, skills.clone());
        let next_announce = match offered_to {
            Some(_) => None,
            None => spec.announce_every.map(|every| now + every),
        };
        self.waiting.insert(
            call,
            Waiting {
                queue,
                asked: skills,
                needs,
                priority,
                enqueued_at: now,
                max_wait_at: now + spec.max_wait,
                next_announce,
                offered_to,
            },
        );
        Ok(())
    }

    /// Preview dialing: the best ready agent for `queue` is reserved for
    /// the debtor of preview `key` (they look at the debtor's data before
    /// the call is placed). `None` when no agent is ready.
    pub fn handle_preview(&mut self, now: Instant, queue: QueueId, key: u64) -> Option<AgentId> {
        let needs = self.queues.get(queue.0)?.skills.clone();
        let agent = self.best_agent(&needs)?;
        self.set_state(
            now,
            agent,
            AgentState::Reserved(QueueCallId(PREVIEW_CALL_IDS + key)),
        );
        self.previews.insert(key, agent);
        Some(agent)
    }

    /// The preview's call never reached the queue (skipped, not answered,
    /// busy): its agent is free again.
    pub fn handle_preview_end(&mut self, now: Instant, key: u64) {
        let Some(agent) = self.previews.remove(&key) else {
            return;
        };
        if self.agents[agent.0].state == AgentState::Reserved(QueueCallId(PREVIEW_CALL_IDS + key)) {
            self.after_call(now, agent, None);
        }
        self.dispatch(now);
    }

    /// A previewed debtor answered and enters the queue: offered at once to
    /// the agent who previewed them. Without such a reservation (it ended)
    /// the debtor waits like any other.
    pub fn handle_enqueue_previewed(
        &mut self,
        now: Instant,
        call: QueueCallId,
        queue: QueueId,
        skills: Vec<Requirement>,
        priority: i32,
        key: u64,
    ) -> Result<(), EnqueueError> {
        let Some(agent) = self.previews.remove(&key) else {
            return self.handle_enqueue(now, call, queue, skills, priority);
        };
        self.admit(now, call, queue, skills, priority, Some(agent))?;
        self.set_state(now, agent, AgentState::Reserved(call));
        self.actions.push_back(Action::Offer { call, agent });
        Ok(())
    }

    /// The offered agent answered: they are on the call.
    pub fn handle_offer_answered(&mut self, now: Instant, call: QueueCallId) {
        let Some(w) = self.waiting.remove(&call) else {
            return;
        };
        let Some(agent) = w.offered_to else {
            // Not offered: keep it waiting (an answer we did not ask for).
            self.waiting.insert(call, w);
            return;
        };
        self.connected.insert(call, (agent, w.queue));
        self.wait_ended(now, &w, true, false);
        self.set_state(now, agent, AgentState::OnCall(call));
    }

    /// The offered agent did not take the call: they are paused and the
    /// call goes back to its place.
    pub fn handle_offer_failed(&mut self, now: Instant, call: QueueCallId, why: OfferFailure) {
        let Some(w) = self.waiting.get_mut(&call) else {
            return;
        };
        let Some(agent) = w.offered_to.take() else {
            return;
        };
        let reason = match why {
            OfferFailure::NoAnswer => PAUSE_NO_ANSWER,
            OfferFailure::Rejected => PAUSE_REJECTED,
            OfferFailure::Unreachable => "unreachable",
        };
        // A logout asked while the phone rang still happens; a pause asked
        // then is replaced by this one.
        let state = match self.agents[agent.0].pending.take() {
            Some(AgentRequest::Logout) => AgentState::LoggedOut,
            _ => AgentState::Paused(reason.into()),
        };
        self.set_state(now, agent, state);
        if self.waiting[&call].max_wait_at <= now {
            self.overflow(now, call);
        }
        self.dispatch(now);
    }

    /// The debtor hung up before an agent answered (an abandon in queue).
    /// An agent whose phone was ringing for them is ready again: the
    /// service cancels that INVITE.
    pub fn handle_abandon(&mut self, now: Instant, call: QueueCallId) {
        let Some(w) = self.waiting.remove(&call) else {
            return;
        };
        self.wait_ended(now, &w, false, true);
        if let Some(agent) = w.offered_to {
            self.after_call(now, agent, None);
        }
        self.dispatch(now);
    }

    fn wait_ended(&mut self, now: Instant, w: &Waiting, connected: bool, hung_up: bool) {
        self.waits_ended.push(WaitEnded {
            queue: w.queue,
            enqueued_at: w.enqueued_at,
            at: now,
            connected,
            hung_up,
        });
    }

    /// The agents who can take `queue`'s calls, and what happened since
    /// the last ask (a debtor connected later than `grace` after entering
    /// the queue counts as abandoned).
    pub fn pacing(
        &mut self,
        now: Instant,
        queue: QueueId,
        grace: std::time::Duration,
    ) -> PacingState {
        let Some(spec) = self.queues.get(queue.0) else {
            return PacingState::default();
        };
        let serves = |a: &Agent| skill_score(&a.spec, &spec.skills).is_some();
        let mut state = PacingState {
            waiting: self.waiting.values().filter(|w| w.queue == queue).count(),
            talking: self.connected.values().filter(|(_, q)| *q == queue).count(),
            ..PacingState::default()
        };
        for a in self.agents.iter().filter(|a| serves(a)) {
            match a.state {
                AgentState::Ready => state.ready += 1,
                AgentState::Reserved(_) | AgentState::OnCall(_) | AgentState::WrapUp => {
                    state
                        .busy
                        .push((a.busy_since.unwrap_or(now), a.wrapping_since));
                }
                AgentState::Paused(_) | AgentState::LoggedOut => {}
            }
        }
        let agents = &self.agents;
        state.freed = self
            .freed
            .drain(..)
            .filter(|(agent, _, _)| serves(&agents[agent.0]))
            .map(|(_, talk, wrap)| (talk, wrap))
            .collect();
        for end in self.waits_ended.drain(..).filter(|e| e.queue == queue) {
            let waited = end.at.duration_since(end.enqueued_at);
            state.waits.push((waited.as_secs_f64(), end.hung_up));
            if end.connected && waited <= grace {
                state.connected += 1;
            } else {
                state.abandoned += 1;
            }
        }
        state
    }

    /// An answered call ended (either side hung up): the agent goes to wrap-up.
    pub fn handle_call_ended(&mut self, now: Instant, call: QueueCallId) {
        let Some((agent, queue)) = self.connected.remove(&call) else {
            return;
        };
        self.after_call(now, agent, Some(queue));
        self.dispatch(now);
    }

    /// An agent asks for a change. Pausing or logging out during a call
    /// takes effect when the call (and its wrap-up) ends.
    pub fn handle_request(
        &mut self,
        now: Instant,
        agent: AgentId,
        request: AgentRequest,
    ) -> Result<(), RequestError> {
        let a = self
            .agents
            .get_mut(agent.0)
            .ok_or(RequestError::UnknownAgent(agent))?;
        let busy = matches!(a.state, AgentState::Reserved(_) | AgentState::OnCall(_));
        if !busy && request != AgentRequest::EndWrapUp {
            // A new choice replaces the pause or logout asked on the call.
            a.pending = None;
        }
        match request {
            AgentRequest::EndWrapUp => {
                if a.state != AgentState::WrapUp {
                    return Err(RequestError::NotInWrapUp(a.state.name()));
                }
                let pending = a.pending.take();
                self.leave_wrap_up(now, agent, pending);
            }
            AgentRequest::Login if a.state == AgentState::LoggedOut => {
                self.set_state(now, agent, AgentState::Ready);
            }
            AgentRequest::Login => {}
            AgentRequest::Ready if busy => a.pending = None,
            AgentRequest::Ready => self.set_state(now, agent, AgentState::Ready),
            AgentRequest::Pause(_) | AgentRequest::Logout if busy => a.pending = Some(request),
            AgentRequest::Pause(reason) => self.set_state(now, agent, AgentState::Paused(reason)),
            AgentRequest::Logout => self.set_state(now, agent, AgentState::LoggedOut),
        }
        self.dispatch(now);
        Ok(())
    }

    /// Wrap-ups that ran out, announcements due, calls that waited too long.
    pub fn handle_timeout(&mut self, now: Instant) {
        for i in 0..self.agents.len() {
            if self.agents[i].wrap_up_until.is_some_and(|t| t <= now) {
                let pending = self.agents[i].pending.take();
                self.leave_wrap_up(now, AgentId(i), pending);
            }
        }
        let due: Vec<QueueCallId> = self
            .waiting
            .iter()
            .filter(|(_, w)| w.offered_to.is_none() && w.max_wait_at <= now)
            .map(|(id, _)| *id)
            .collect();
        for call in due {
            self.overflow(now, call);
        }
        let announce: Vec<QueueCallId> = self
            .waiting
            .iter()
            .filter(|(_, w)| w.offered_to.is_none() && w.next_announce.is_some_and(|t| t <= now))
            .map(|(id, _)| *id)
            .collect();
        for call in announce {
            let w = self.waiting.get_mut(&call).expect("collected just above");
            let every = self.queues[w.queue.0].announce_every;
            w.next_announce = every.map(|every| now + every);
            if let Some(position) = self.position(call) {
                self.actions.push_back(Action::Announce { call, position });
            }
        }
        self.dispatch(now);
    }

    /// Moves a call that waited too long on, by its queue's overflow.
    fn overflow(&mut self, now: Instant, call: QueueCallId) {
        let Some(w) = self.waiting.get_mut(&call) else {
            return;
        };
        let from = w.queue;
        let to = self.queues[from.0].overflow.clone();
        // The wait in `from` ended without an agent, wherever the call goes.
        let ended = WaitEnded {
            queue: from,
            enqueued_at: w.enqueued_at,
            at: now,
            connected: false,
            hung_up: false,
        };
        self.waits_ended.push(ended);
        let Some(w) = self.waiting.get_mut(&call) else {
            return;
        };
        self.actions.push_back(Action::Overflow {
            call,
            from,
            to: to.clone(),
        });
        match to {
            Overflow::Queue(next) if next != from => {
                let spec = &self.queues[next.0];
                // The new queue's skills replace the old queue's: overflowing
                // to a general queue widens who can take the call.
                w.queue = next;
                w.needs = merge_requirements(&spec.skills, w.asked.clone());
                w.max_wait_at = now + spec.max_wait;
                w.next_announce = spec.announce_every.map(|every| now + every);
            }
            _ => {
                self.waiting.remove(&call);
            }
        }
    }

    /// After a call: wrap-up by the queue's timer, or straight on when
    /// there is none (or the call never reached the agent).
    fn after_call(&mut self, now: Instant, agent: AgentId, queue: Option<QueueId>) {
        let wrap_up = queue.map(|q| self.queues[q.0].wrap_up).unwrap_or_default();
        if wrap_up.is_zero() {
            let pending = self.agents[agent.0].pending.take();
            self.leave_wrap_up(now, agent, pending);
        } else {
            self.set_state(now, agent, AgentState::WrapUp);
            self.agents[agent.0].wrap_up_until = Some(now + wrap_up);
        }
    }

    fn leave_wrap_up(&mut self, now: Instant, agent: AgentId, pending: Option<AgentRequest>) {
        let next = match pending {
            Some(AgentRequest::Pause(reason)) => AgentState::Paused(reason),
            Some(AgentRequest::Logout) => AgentState::LoggedOut,
            _ => AgentState::Ready,
        };
        self.set_state(now, agent, next);
    }

    fn set_state(&mut self, now: Instant, agent: AgentId, state: AgentState) {
        let a = &mut self.agents[agent.0];
        if a.state == state {
            return;
        }
        a.wrap_up_until = None;
        a.idle_since = (state == AgentState::Ready).then_some(now);
        match state {
            AgentState::Reserved(_) | AgentState::OnCall(_) => {
                a.busy_since.get_or_insert(now);
                a.wrapping_since = None;
            }
            AgentState::WrapUp => {
                a.busy_since.get_or_insert(now);
                a.wrapping_since = Some(now);
            }
            AgentState::Ready | AgentState::Paused(_) | AgentState::LoggedOut => {
                // A call that was answered and ended is a spell the pacer
                // learns from; a failed offer is not.
                if let (Some(busy), Some(wrapping)) = (a.busy_since, a.wrapping_since) {
                    let talk = wrapping.duration_since(busy).as_secs_f64();
                    let wrap = now.duration_since(wrapping).as_secs_f64();
                    self.freed.push((agent, talk, wrap));
                }
                let a = &mut self.agents[agent.0];
                a.busy_since = None;
                a.wrapping_since = None;
            }
        }
        let a = &mut self.agents[agent.0];
        a.state = state.clone();
        self.actions.push_back(Action::AgentChanged {
            agent,
            state,
            at: now,
        });
    }

    /// Waiting calls not being offered, best first.
    fn dispatch_order(&self) -> Vec<QueueCallId> {
        let mut order: Vec<(&QueueCallId, &Waiting)> = self
            .waiting
            .iter()
            .filter(|(_, w)| w.offered_to.is_none())
            .collect();
        order.sort_by(|(a_id, a), (b_id, b)| {
            b.priority
                .cmp(&a.priority)
                .then(a.enqueued_at.cmp(&b.enqueued_at))
                .then(a_id.cmp(b_id))
        });
        order.into_iter().map(|(id, _)| *id).collect()
    }

    /// 1-based place among the calls of the same queue not yet offered.
    fn position(&self, call: QueueCallId) -> Option<usize> {
        let queue = self.waiting.get(&call)?.queue;
        self.dispatch_order()
            .into_iter()
            .filter(|id| self.waiting[id].queue == queue)
            .position(|id| id == call)
            .map(|i| i + 1)
    }

    /// Offers calls to ready agents until no more matches exist.
    fn dispatch(&mut self, now: Instant) {
        loop {
            if !self.agents.iter().any(|a| a.state == AgentState::Ready) {
                return;
            }
            let matched = self.dispatch_order().into_iter().find_map(|call| {
                self.best_agent(&self.waiting[&call].needs)
                    .map(|a| (call, a))
            });
            let Some((call, agent)) = matched else {
                return;
            };
            self.waiting
                .get_mut(&call)
                .expect("from dispatch_order")
                .offered_to = Some(agent);
            self.set_state(now, agent, AgentState::Reserved(call));
            self.actions.push_back(Action::Offer { call, agent });
        }
    }

    /// The ready agent with every needed skill: best summed level, then
    /// longest idle.
    fn best_agent(&self, needs: &[Requirement]) -> Option<AgentId> {
        self.agents
            .iter()
            .enumerate()
            .filter(|(_, a)| a.state == AgentState::Ready)
            .filter_map(|(i, a)| skill_score(&a.spec, needs).map(|score| (i, a, score)))
            .min_by(|(ia, a, sa), (ib, b, sb)| {
                sb.cmp(sa)
                    .then(a.idle_since.cmp(&b.idle_since))
                    .then(ia.cmp(ib))
            })
            .map(|(i, _, _)| AgentId(i))
    }
}

/// The sum of the agent's levels in the needed skills, or `None` when one
/// is missing or too low.
fn skill_score(agent: &AgentSpec, needs: &[Requirement]) -> Option<u32> {
    needs.iter().try_fold(0u32, |sum, need| {
        agent
            .skills
            .iter()
            .find(|s| s.name == need.name && s.level >= need.min_level)
            .map(|s| sum + u32::from(s.level))
    })
}

/// The queue's requirements plus the call's, the stricter level winning.
fn merge_requirements(queue: &[Requirement], call: Vec<Requirement>) -> Vec<Requirement> {
    let mut needs = queue.to_vec();
    for r in call {
        match needs.iter_mut().find(|n| n.name == r.name) {
            Some(n) => n.min_level = n.min_level.max(r.min_level),
            None => needs.push(r),
        }
    }
    needs
}
