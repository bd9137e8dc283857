//! template.yaml spells names the code owns: DynamoDB key prefixes in IAM
//! leading-key conditions, and event names in EventBridge rule patterns. moto
//! enforces neither IAM nor what a rule lets through the way AWS does, so a
//! rename on one side would pass every other test and fail once deployed.
//! These tests read the template and hold it to the code; `iam_keys.rs` checks
//! the other way round (what each function really writes).

use helpdesk::adapters::keys;
use helpdesk::domain::events::{DomainEvent, EVENT_SOURCE};
use helpdesk_tests::template::{leading_key_conditions, rule_patterns};

#[test]
fn every_leading_key_condition_names_a_key_the_code_builds() {
    let conditions = leading_key_conditions();
    assert!(
        conditions.len() >= 3,
        "the bot, media and sla functions restrict their keys: {conditions:?}"
    );
    for (function, patterns) in &conditions {
        for pattern in patterns {
            let known = match pattern.strip_suffix('*') {
                Some(prefix) => keys::PARTITION_PREFIXES.contains(&prefix),
                None => keys::FIXED_PARTITIONS.contains(&pattern.as_str()),
            };
            assert!(
                known,
                "{function}: `{pattern}` is not a partition key the code builds \
                 (adapters/keys.rs: prefixes {:?}, keys {:?})",
                keys::PARTITION_PREFIXES,
                keys::FIXED_PARTITIONS
            );
        }
    }
}

#[test]
fn every_rule_pattern_names_events_the_helpdesk_publishes() {
    let rules = rule_patterns();
    assert!(!rules.is_empty(), "template.yaml has EventBridge rules");
    for rule in &rules {
        assert_eq!(
            rule.sources,
            [EVENT_SOURCE],
            "{}: the source tickets publishes under",
            rule.rule
        );
        for kind in &rule.detail_types {
            assert!(
                DomainEvent::KINDS.contains(&kind.as_str()),
                "{}: `{kind}` is not a DomainEvent ({:?})",
                rule.rule,
                DomainEvent::KINDS
            );
        }
    }
}

#[test]
fn the_notify_rule_lets_through_exactly_the_events_agents_are_notified_about() {
    let rules = rule_patterns();
    let notify = rules
        .iter()
        .find(|r| r.target == "NotifyQueue")
        .expect("a rule targets the notify queue");
    assert_eq!(notify.detail_types, DomainEvent::NOTIFIED);
}
