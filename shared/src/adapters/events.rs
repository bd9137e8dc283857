//! Domain events on the EventBridge bus.

use crate::domain::events::{DomainEvent, EVENT_SOURCE};
use crate::ports::{BoxError, EventPublisher};
use aws_sdk_eventbridge::types::PutEventsRequestEntry;
/// EventBridge `PutEvents` takes at most 10 entries per call.
const PUT_EVENTS_MAX: usize = 10;

pub struct EventBridgePublisher {
    client: aws_sdk_eventbridge::Client,
    bus_name: String,
}

impl EventBridgePublisher {
    pub fn new(client: aws_sdk_eventbridge::Client, bus_name: impl Into<String>) -> Self {
        EventBridgePublisher {
            client,
            bus_name: bus_name.into(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("{0} events were refused by the bus")]
struct Refused(i32);

impl EventPublisher for EventBridgePublisher {
    async fn publish(&self, events: &[DomainEvent]) -> Result<(), BoxError> {
        for chunk in events.chunks(PUT_EVENTS_MAX) {
            let entries = chunk
                .iter()
                .map(|e| {
                    PutEventsRequestEntry::builder()
                        .event_bus_name(&self.bus_name)
                        .source(EVENT_SOURCE)
                        .detail_type(e.kind())
                        .detail(e.detail_json())
                        .build()
                })
                .collect();
            let out = self.client.put_events().set_entries(Some(entries)).send().await?;
            if out.failed_entry_count() > 0 {
                return Err(Box::new(Refused(out.failed_entry_count())));
            }
        }
        Ok(())
    }
}
