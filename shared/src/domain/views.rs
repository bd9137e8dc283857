//! The lists agents work from: which tickets a list holds, in which order,
//! and how pages of several lists (a view over all of an agent's teams, or
//! over queued and assigned tickets) merge into one page with an opaque
//! cursor that resumes exactly after the last ticket shown.
//!
//! A store answers one [`Listing`] at a time, in its order, after a position
//! it gave before; [`merge`] does the rest, the same way on every store.

use crate::domain::ids::CustomerId;
use crate::domain::ticket::{Ticket, TicketStatus};
use crate::domain::triggers::Normalised;
use serde::{Deserialize, Serialize};

/// One list a store keeps through an index (never a scan).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "list", rename_all = "snake_case")]
pub enum Listing {
    /// A team's tickets in one status: open ones urgent first then oldest
    /// first; resolved ones newest first.
    Queue { team: String, status: TicketStatus },
    /// The open tickets assigned to an agent, urgent first then oldest.
    Assignee { agent: String },
    /// A team's open tickets past an SLA warning or breach, urgent first.
    AtRisk { team: String },
    /// A team's assigned tickets waiting on the customer's answer, urgent first.
    Waiting { team: String },
    /// Every ticket of a customer, newest first.
    Customer { customer: CustomerId },
    /// Tickets about an order number, newest first.
    Order { number: String },
    /// Tickets whose customer's name starts with `prefix` (normalised), by name.
    Name { prefix: String },
}

impl Listing {
    /// Whether positions run from the greatest (newest first).
    pub fn descending(&self) -> bool {
        match self {
            Listing::Queue { status, .. } => *status == TicketStatus::Resolved,
            Listing::Customer { .. } | Listing::Order { .. } => true,
            Listing::Assignee { .. } | Listing::AtRisk { .. } | Listing::Waiting { .. } | Listing::Name { .. } => false,
        }
    }

    /// Whether `ticket` belongs in this list (what a store's index holds).
    pub fn holds(&self, t: &Ticket) -> bool {
        match self {
            Listing::Queue { team, status } => t.team == *team && t.status == *status,
            Listing::Assignee { agent } => t.status == TicketStatus::Assigned && t.assignee.as_deref() == Some(agent),
            Listing::AtRisk { team } => t.team == *team && t.at_risk(),
            Listing::Waiting { team } => t.team == *team && t.waiting_on_customer(),
            Listing::Customer { customer } => t.customer == *customer,
            Listing::Order { number } => t.order_number.as_deref().map(normalise_order).as_deref() == Some(number),
            Listing::Name { prefix } => name_key(t).is_some_and(|n| n.starts_with(prefix.as_str())),
        }
    }
}

/// An order number as looked up: upper case, without spaces or a leading `#`.
pub fn normalise_order(number: &str) -> String {
    number
        .trim()
        .trim_start_matches('#')
        .chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_uppercase)
        .collect()
}

/// A name as searched: lower case, without accents, words joined by one space.
pub fn normalise_name(name: &str) -> String {
    Normalised::new(name).words.join(" ")
}

/// The customer's name on a ticket, as searched.
pub fn name_key(t: &Ticket) -> Option<String> {
    t.contact_name.as_deref().map(normalise_name).filter(|n| !n.is_empty())
}

/// A ticket in a list, with its position there (opaque, ordered as the list is).
#[derive(Debug, Clone, PartialEq)]
pub struct Listed {
    pub position: String,
    pub ticket: Ticket,
}

/// One page of one list.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ListPage {
    pub items: Vec<Listed>,
    /// More follow the last item.
    pub more: bool,
}

/// Where a view's reading stands in each of its lists.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Cursor {
    /// What the view was (a cursor of another view is refused).
    #[serde(rename = "v")]
    pub view: String,
    /// Per list, in the view's order: the last position shown, `None` before the first.
    #[serde(rename = "p")]
    pub after: Vec<Option<String>>,
    /// Per list: nothing more to read.
    #[serde(rename = "d")]
    pub done: Vec<bool>,
}

/// A cursor that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CursorError {
    #[error("cursor: not a cursor this API gave")]
    Unreadable,
    #[error("cursor: it belongs to another view or filter; start again without it")]
    OtherView,
}

impl Cursor {
    /// The start of a view over `lists` lists.
    pub fn start(view: &str, lists: usize) -> Cursor {
        Cursor {
            view: view.to_owned(),
            after: vec![None; lists],
            done: vec![false; lists],
        }
    }

    /// The cursor as clients carry it: URL-safe, opaque.
    pub fn encode(&self) -> String {
        let json = serde_json::to_vec(self).expect("a cursor serialises");
        hex::encode(json)
    }

    pub fn decode(text: &str, view: &str, lists: usize) -> Result<Cursor, CursorError> {
        let bytes = hex::decode(text).map_err(|_| CursorError::Unreadable)?;
        let cursor: Cursor = serde_json::from_slice(&bytes).map_err(|_| CursorError::Unreadable)?;
        if cursor.view != view || cursor.after.len() != lists || cursor.done.len() != lists {
            return Err(CursorError::OtherView);
        }
        Ok(cursor)
    }

    pub fn finished(&self) -> bool {
        self.done.iter().all(|d| *d)
    }
}

/// Merges one page of each list of a view (read after `cursor`'s positions)
/// into the view's next `limit` tickets, and the cursor after them. Every list
/// of a view has the same order, so positions compare across lists; a list's
/// items not shown now are read again next time, after its last shown one.
pub fn merge(cursor: &Cursor, pages: Vec<ListPage>, limit: usize, descending: bool) -> (Vec<Ticket>, Option<Cursor>) {
    let mut all: Vec<(usize, Listed)> = pages
        .iter()
        .enumerate()
        .flat_map(|(i, page)| page.items.iter().cloned().map(move |item| (i, item)))
        .collect();
    all.sort_by(|(_, a), (_, b)| {
        let order = a.position.cmp(&b.position);
        if descending { order.reverse() } else { order }
    });
    let mut next = cursor.clone();
    let mut shown = Vec::new();
    let mut taken = vec![0usize; pages.len()];
    for (i, item) in all.into_iter().take(limit) {
        next.after[i] = Some(item.position.clone());
        taken[i] += 1;
        shown.push(item.ticket);
    }
    for (i, page) in pages.iter().enumerate() {
        if !cursor.done[i] && taken[i] == page.items.len() && !page.more {
            next.done[i] = true;
        }
    }
    let more = !next.finished();
    (shown, more.then_some(next))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ids::TicketId;

    fn ticket(id: &str) -> Ticket {
        Ticket::open(
            TicketId::parse(id).unwrap(),
            CustomerId::parse("15551230001").unwrap(),
            "P1".into(),
            "support".into(),
            0,
        )
    }

    /// A list's page after `after`, as a store answers: positions are the ids.
    fn page(list: &[&str], after: Option<&str>, limit: usize) -> ListPage {
        let rest: Vec<&str> = list.iter().copied().filter(|p| after.is_none_or(|a| *p > a)).collect();
        ListPage {
            items: rest
                .iter()
                .take(limit)
                .map(|p| Listed {
                    position: (*p).to_owned(),
                    ticket: ticket(&format!("TK-{p}")),
                })
                .collect(),
            more: rest.len() > limit,
        }
    }

    #[test]
    fn pages_of_two_lists_merge_in_order_and_the_cursor_resumes_after_the_last_shown() {
        let lists = [vec!["A1", "A3", "A5", "A7"], vec!["A2", "A4"]];
        let mut cursor = Cursor::start("open", 2);
        let mut seen = Vec::new();
        loop {
            let pages = lists
                .iter()
                .enumerate()
                .map(|(i, l)| match cursor.done[i] {
                    true => ListPage::default(),
                    false => page(l, cursor.after[i].as_deref(), 2),
                })
                .collect();
            let (tickets, next) = merge(&cursor, pages, 2, false);
            seen.extend(tickets.into_iter().map(|t| t.id.as_str().to_owned()));
            match next {
                Some(c) => cursor = Cursor::decode(&c.encode(), "open", 2).unwrap(),
                None => break,
            }
        }
        assert_eq!(seen, ["TK-A1", "TK-A2", "TK-A3", "TK-A4", "TK-A5", "TK-A7"]);
    }

    #[test]
    fn a_cursor_of_another_view_or_garbage_is_refused() {
        let c = Cursor::start("mine", 1).encode();
        assert_eq!(Cursor::decode(&c, "open", 1), Err(CursorError::OtherView));
        assert_eq!(Cursor::decode("zz", "open", 1), Err(CursorError::Unreadable));
    }

    #[test]
    fn order_numbers_and_names_are_normalised_for_lookups() {
        assert_eq!(normalise_order(" #ab 12345 "), "AB12345");
        assert_eq!(normalise_name("  Élodie  DURAND"), "elodie durand");
    }
}
