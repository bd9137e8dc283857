//! CloudWatch metrics in the embedded metric format (EMF): one JSON line on
//! stdout per call, which CloudWatch Logs turns into metrics (no API call, no
//! IAM permission). Metrics carry figures and low-cardinality dimensions (team,
//! priority, deadline kind) only: never a phone number, a customer reference,
//! a ticket id or any message text.

use serde_json::{Map, Value, json};
use std::io::Write;

/// The namespace of the helpdesk's own metrics (the template's alarms read it).
pub const NAMESPACE: &str = "Helpdesk";

/// CloudWatch's unit of a metric. CloudWatch has no minutes: send durations in
/// `Seconds` or `Milliseconds`, or minutes as `None`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Count,
    Milliseconds,
    Seconds,
    None,
}

impl Unit {
    /// The unit as CloudWatch spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Unit::Count => "Count",
            Unit::Milliseconds => "Milliseconds",
            Unit::Seconds => "Seconds",
            Unit::None => "None",
        }
    }
}

/// One value of one metric.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Metric {
    pub name: &'static str,
    pub value: f64,
    pub unit: Unit,
}

impl Metric {
    pub fn new(name: &'static str, value: f64, unit: Unit) -> Self {
        Metric { name, value, unit }
    }

    /// A count (`SlaBreaches`, `SlaClocksDecided`...).
    pub fn count(name: &'static str, value: u64) -> Self {
        Metric::new(name, value as f64, Unit::Count)
    }
}

/// The EMF document for `metrics` under one dimension set, stamped
/// `timestamp_ms`. Dimension values and metric values are top-level members;
/// a metric named twice becomes an array of values (EMF's form for several
/// samples). Values that are not finite (NaN, infinity) are left out, since
/// CloudWatch rejects the whole document for one of them. An empty dimension
/// list gives the dimension set `[[]]`: metrics with no dimensions.
pub fn document(namespace: &str, dimensions: &[(&str, &str)], metrics: &[Metric], timestamp_ms: i64) -> Value {
    let mut root = Map::new();
    let mut definitions: Vec<Value> = Vec::new();
    for metric in metrics.iter().filter(|m| m.value.is_finite()) {
        match root.get_mut(metric.name) {
            Some(Value::Array(values)) => values.push(json!(metric.value)),
            Some(single) => *single = json!([single.take(), metric.value]),
            None => {
                root.insert(metric.name.to_owned(), json!(metric.value));
                definitions.push(json!({ "Name": metric.name, "Unit": metric.unit.as_str() }));
            }
        }
    }
    for (name, value) in dimensions {
        root.insert((*name).to_owned(), json!(value));
    }
    let dimension_names: Vec<&str> = dimensions.iter().map(|(name, _)| *name).collect();
    root.insert(
        "_aws".to_owned(),
        json!({
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{
                "Namespace": namespace,
                "Dimensions": [dimension_names],
                "Metrics": definitions,
            }],
        }),
    );
    Value::Object(root)
}

/// Prints the EMF document of `metrics` as one line on stdout, stamped now.
/// Nothing is printed when no metric has a finite value. A failed write is
/// ignored: a lost metric must not fail the work it measures.
pub fn emit(namespace: &str, dimensions: &[(&str, &str)], metrics: &[Metric]) {
    if !metrics.iter().any(|m| m.value.is_finite()) {
        return;
    }
    let line = document(namespace, dimensions, metrics, jiff::Timestamp::now().as_millisecond());
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_document_names_each_metric_with_its_unit_and_carries_its_value() {
        let doc = document(
            NAMESPACE,
            &[("Team", "billing"), ("Priority", "high")],
            &[
                Metric::count("SlaBreaches", 2),
                Metric::new("FirstResponseTime", 90.0, Unit::Seconds),
            ],
            1_700_000_000_123,
        );

        assert_eq!(
            doc,
            json!({
                "_aws": {
                    "Timestamp": 1_700_000_000_123_i64,
                    "CloudWatchMetrics": [{
                        "Namespace": "Helpdesk",
                        "Dimensions": [["Team", "Priority"]],
                        "Metrics": [
                            {"Name": "SlaBreaches", "Unit": "Count"},
                            {"Name": "FirstResponseTime", "Unit": "Seconds"},
                        ],
                    }],
                },
                "Team": "billing",
                "Priority": "high",
                "SlaBreaches": 2.0,
                "FirstResponseTime": 90.0,
            })
        );
    }

    #[test]
    fn metrics_without_dimensions_declare_one_empty_dimension_set() {
        let doc = document(NAMESPACE, &[], &[Metric::count("SlaClocksDecided", 1)], 0);

        assert_eq!(doc["_aws"]["CloudWatchMetrics"][0]["Dimensions"], json!([[]]));
        assert_eq!(doc["SlaClocksDecided"], json!(1.0));
    }

    #[test]
    fn a_metric_named_twice_is_declared_once_with_both_values() {
        let doc = document(
            NAMESPACE,
            &[],
            &[
                Metric::new("ResolutionTime", 1.0, Unit::Milliseconds),
                Metric::new("ResolutionTime", 2.0, Unit::Milliseconds),
                Metric::new("ResolutionTime", 3.0, Unit::Milliseconds),
            ],
            0,
        );

        assert_eq!(doc["ResolutionTime"], json!([1.0, 2.0, 3.0]));
        assert_eq!(
            doc["_aws"]["CloudWatchMetrics"][0]["Metrics"],
            json!([{"Name": "ResolutionTime", "Unit": "Milliseconds"}])
        );
    }

    #[test]
    fn values_that_are_not_finite_are_left_out() {
        let doc = document(
            NAMESPACE,
            &[],
            &[
                Metric::new("Broken", f64::NAN, Unit::None),
                Metric::count("SlaBreaches", 0),
            ],
            0,
        );

        assert!(doc.get("Broken").is_none());
        assert_eq!(
            doc["_aws"]["CloudWatchMetrics"][0]["Metrics"],
            json!([{"Name": "SlaBreaches", "Unit": "Count"}])
        );
    }

    #[test]
    fn every_unit_is_spelled_as_cloudwatch_spells_it() {
        let units = [Unit::Count, Unit::Milliseconds, Unit::Seconds, Unit::None].map(Unit::as_str);

        assert_eq!(units, ["Count", "Milliseconds", "Seconds", "None"]);
    }
}
