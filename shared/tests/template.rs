//! template.yaml spells names the code owns: DynamoDB key prefixes in IAM
//! leading-key conditions, and event names in EventBridge rule patterns. moto
//! enforces neither IAM nor what a rule lets through the way AWS does, so a
//! rename on one side would pass every other test and fail once deployed.
//! These tests read the template and hold it to the code.

use helpdesk::adapters::keys;
use helpdesk::domain::events::{DomainEvent, EVENT_SOURCE};
use serde_yaml::Value;
use std::path::PathBuf;

fn template() -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../template.yaml");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_yaml::from_str(&text).expect("template.yaml is YAML")
}

fn resources(template: &Value) -> Vec<(String, &Value)> {
    template["Resources"]
        .as_mapping()
        .expect("Resources")
        .iter()
        .map(|(name, resource)| (name.as_str().unwrap_or_default().to_owned(), resource))
        .collect()
}

/// Every string list under a `dynamodb:LeadingKeys` key, anywhere in `value`.
fn leading_keys(value: &Value, found: &mut Vec<String>) {
    match value {
        Value::Mapping(map) => {
            for (key, inner) in map {
                if key.as_str() == Some("dynamodb:LeadingKeys") {
                    let patterns = inner.as_sequence().expect("a list of key patterns");
                    found.extend(patterns.iter().filter_map(Value::as_str).map(str::to_owned));
                } else {
                    leading_keys(inner, found);
                }
            }
        }
        Value::Sequence(items) => items.iter().for_each(|item| leading_keys(item, found)),
        Value::Tagged(tagged) => leading_keys(&tagged.value, found),
        _ => {}
    }
}

/// The functions whose policies restrict the partition keys they may touch,
/// with the patterns they are granted. (`tests/tests/iam_keys.rs` checks the
/// other way round: the keys each of these functions really writes, on moto.)
fn leading_key_conditions() -> Vec<(String, Vec<String>)> {
    let template = template();
    resources(&template)
        .into_iter()
        .filter_map(|(name, resource)| {
            let mut found = Vec::new();
            leading_keys(&resource["Properties"]["Policies"], &mut found);
            (!found.is_empty()).then_some((name, found))
        })
        .collect()
}

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

/// The `detail-type` lists of every EventBridge rule, by rule name, with the
/// id of each rule's first target.
fn rule_patterns() -> Vec<(String, Vec<String>, Vec<String>, String)> {
    let template = template();
    resources(&template)
        .into_iter()
        .filter(|(_, r)| r["Type"].as_str() == Some("AWS::Events::Rule"))
        .map(|(name, rule)| {
            let pattern = &rule["Properties"]["EventPattern"];
            let list = |key: &str| -> Vec<String> {
                pattern[key]
                    .as_sequence()
                    .map(|items| items.iter().filter_map(Value::as_str).map(str::to_owned).collect())
                    .unwrap_or_default()
            };
            let target = rule["Properties"]["Targets"][0]["Id"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            (name, list("source"), list("detail-type"), target)
        })
        .collect()
}

#[test]
fn every_rule_pattern_names_events_the_helpdesk_publishes() {
    let rules = rule_patterns();
    assert!(!rules.is_empty(), "template.yaml has EventBridge rules");
    for (rule, sources, kinds, _) in &rules {
        assert_eq!(
            sources,
            &[EVENT_SOURCE],
            "{rule}: the source the tickets function publishes under"
        );
        for kind in kinds {
            assert!(
                DomainEvent::KINDS.contains(&kind.as_str()),
                "{rule}: `{kind}` is not a DomainEvent ({:?})",
                DomainEvent::KINDS
            );
        }
    }
}

#[test]
fn the_notify_rule_lets_through_exactly_the_events_agents_are_notified_about() {
    let rules = rule_patterns();
    let (_, _, kinds, _) = rules
        .iter()
        .find(|(_, _, _, target)| target == "NotifyQueue")
        .expect("a rule targets the notify queue");
    assert_eq!(kinds, &DomainEvent::NOTIFIED);
}
