//! Round-robin assignment, run by the same minute's schedule after the SLA
//! sweep: for each team the desk configures `round_robin`, the queued tickets
//! (urgent first, then oldest) go to the team's available agents in turn, up
//! to the team's capacity. Each is handed to `tickets` as an `Assign` on the
//! version read, so one that changed meanwhile (claimed, answered) is left
//! as it is, and a redelivered or repeated assignment applies once.

use crate::Sweep;
use helpdesk::domain::assignment::{Candidate, pick};
use helpdesk::domain::commands::{Action, AgentAction, TicketCommand};
use helpdesk::domain::desk::Desk;
use helpdesk::domain::ticket::TicketStatus;
use helpdesk::domain::views::Listing;
use helpdesk::ports::{AvailabilityStore, Clock, DeadlineIndex, Queue, QueueError, StoreError, TicketReader};

/// Who the timeline says assigned a ticket round-robin.
pub const ROUND_ROBIN: &str = "round-robin";
/// Queued tickets a team's turn looks at per minute.
const PER_TEAM: usize = 50;

#[derive(Debug, thiserror::Error)]
pub enum AssignError {
    #[error("store failed")]
    Store(#[from] StoreError),
    #[error("tickets queue failed")]
    Queue(#[from] QueueError),
}

impl<I, Q, C> Sweep<I, Q, C>
where
    I: DeadlineIndex + TicketReader + AvailabilityStore,
    Q: Queue<TicketCommand>,
    C: Clock,
{
    /// Assigns the round-robin teams' queued tickets; answers how many.
    pub async fn assign(&self, desk: &Desk) -> Result<usize, AssignError> {
        let now_ms = self.clock.now_ms();
        let mut assigned = 0;
        for team in desk.config.teams.iter().filter(|t| t.assignment.round_robin) {
            let available = self.index.available(&team.id).await?;
            if available.is_empty() {
                continue;
            }
            let mut candidates = Vec::with_capacity(available.len());
            for availability in available {
                let open_tickets = self
                    .index
                    .count(&Listing::Assignee {
                        agent: availability.agent.clone(),
                    })
                    .await?;
                candidates.push(Candidate {
                    availability,
                    open_tickets,
                });
            }
            let queued = Listing::Queue {
                team: team.id.clone(),
                status: TicketStatus::Queued,
            };
            let mut commands = Vec::new();
            for listed in self.index.list(&queued, None, PER_TEAM).await?.items {
                let Some(chosen) = pick(&team.assignment, &candidates).map(|c| c.availability.agent.clone()) else {
                    break;
                };
                let t = listed.ticket;
                commands.push(TicketCommand::AgentAction(AgentAction {
                    ticket_id: t.id.clone(),
                    customer: t.customer.clone(),
                    agent: ROUND_ROBIN.into(),
                    at_ms: now_ms,
                    request_id: format!("rr-{}", t.version),
                    expected_version: Some(t.version),
                    action: Action::Assign { to: chosen.clone() },
                }));
                if let Some(c) = candidates.iter_mut().find(|c| c.availability.agent == chosen) {
                    c.open_tickets += 1;
                    c.availability.last_assigned_at_ms = Some(now_ms);
                }
                self.index.note_assigned(&team.id, &chosen, now_ms).await?;
            }
            if !commands.is_empty() {
                self.tickets.send(&commands).await?;
                assigned += commands.len();
            }
        }
        Ok(assigned)
    }
}
