//! What template.yaml declares, read for tests that hold it to the code: the
//! DynamoDB leading-key conditions of each function's policies and the
//! EventBridge rules' patterns.

use serde_yaml::Value;

/// template.yaml, parsed (CloudFormation's `!Ref`, `!GetAtt`… stay tagged values).
pub fn template() -> Value {
    let path = devstack::repo_root().join("template.yaml");
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

/// Every string under a `dynamodb:LeadingKeys` key, anywhere in `value`.
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

/// The functions whose policies restrict the partition keys they may write,
/// with the patterns (`CUST#*`, `SLA#SWEEP`) they are granted.
pub fn leading_key_conditions() -> Vec<(String, Vec<String>)> {
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

/// Whether `pk` matches a leading-key pattern (`*` only at the end, as IAM's `StringLike` here).
pub fn key_matches(pattern: &str, pk: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => pk.starts_with(prefix),
        None => pk == pattern,
    }
}

/// An EventBridge rule's pattern and first target.
#[derive(Debug, Clone)]
pub struct RulePattern {
    pub rule: String,
    pub sources: Vec<String>,
    pub detail_types: Vec<String>,
    pub target: String,
}

/// Every EventBridge rule of the template.
pub fn rule_patterns() -> Vec<RulePattern> {
    let template = template();
    resources(&template)
        .into_iter()
        .filter(|(_, r)| r["Type"].as_str() == Some("AWS::Events::Rule"))
        .map(|(rule, resource)| {
            let pattern = &resource["Properties"]["EventPattern"];
            let list = |key: &str| -> Vec<String> {
                pattern[key]
                    .as_sequence()
                    .map(|items| items.iter().filter_map(Value::as_str).map(str::to_owned).collect())
                    .unwrap_or_default()
            };
            RulePattern {
                sources: list("source"),
                detail_types: list("detail-type"),
                target: resource["Properties"]["Targets"][0]["Id"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                rule,
            }
        })
        .collect()
}
