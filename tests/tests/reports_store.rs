//! The KPI aggregates against moto (the real wire protocol), on a table created
//! from template.yaml: each fact counts once (a conditional marker in the same
//! transaction), days and teams add up exactly, a range reads only its days.

use aws_sdk_dynamodb::types::AttributeValue;
use helpdesk::adapters::keys;
use helpdesk::domain::reports::{AggregateRow, Counters, ReportFact};
use helpdesk::domain::ticket::Priority;
use helpdesk::ports::ReportStore;
use helpdesk_tests::LocalAws;

fn fact(id: &str, day: &str, team: &str, priority: Priority, counters: Counters) -> ReportFact {
    ReportFact {
        id: id.into(),
        day: day.into(),
        team: team.into(),
        priority,
        agent: None,
        counters,
    }
}

fn first_response(minutes: u64, within: bool) -> Counters {
    Counters {
        first_response_count: 1,
        first_response_minutes: minutes,
        first_response_within: u64::from(within),
        first_response_missed: u64::from(!within),
        ..Counters::default()
    }
}

#[tokio::test]
async fn a_fact_recorded_twice_counts_once() -> anyhow::Result<()> {
    let aws = LocalAws::start().await?;
    let store = aws.store().await;
    let opened = fact(
        "TK-1:opened",
        "2026-11-21",
        "support",
        Priority::Normal,
        Counters {
            tickets: 1,
            ..Counters::default()
        },
    );

    assert!(store.record_fact(&opened).await?);
    assert!(!store.record_fact(&opened).await?);
    let nothing = fact(
        "TK-1:nothing",
        "2026-11-21",
        "support",
        Priority::Normal,
        Counters::default(),
    );
    assert!(!store.record_fact(&nothing).await?);

    // The marker expires 400 days after the fact's day (2026-11-21T00:00:00Z).
    let marker = aws_sdk_dynamodb::Client::new(&aws.sdk().await)
        .get_item()
        .table_name(aws.output("HelpdeskTableName"))
        .key(keys::PK, AttributeValue::S(keys::fact_pk("TK-1:opened")))
        .key(keys::SK, AttributeValue::S(keys::FACT_SK.into()))
        .send()
        .await?
        .item
        .expect("the fact marker");
    assert_eq!(
        marker[keys::TTL],
        AttributeValue::N((1_795_219_200 + 400 * 86_400).to_string())
    );

    let rows = store.aggregates("2026-11-21", "2026-11-21").await?;
    assert_eq!(
        rows,
        [AggregateRow {
            day: "2026-11-21".into(),
            team: "support".into(),
            priority: Priority::Normal,
            counters: Counters {
                tickets: 1,
                ..Counters::default()
            },
        }]
    );
    aws.stop().await;
    Ok(())
}

#[tokio::test]
async fn facts_on_two_days_and_two_teams_aggregate_exactly_and_a_range_excludes_other_days() -> anyhow::Result<()> {
    let aws = LocalAws::start().await?;
    let store = aws.store().await;
    let facts = [
        fact("a", "2026-11-01", "support", Priority::Normal, first_response(10, true)),
        fact(
            "b",
            "2026-11-01",
            "support",
            Priority::Normal,
            first_response(30, false),
        ),
        fact("c", "2026-11-01", "billing", Priority::Urgent, first_response(5, true)),
        fact(
            "d",
            "2026-11-02",
            "support",
            Priority::Normal,
            Counters {
                csat_count: 1,
                csat_sum: 4,
                csat_4: 1,
                ..Counters::default()
            },
        ),
        fact(
            "e",
            "2026-11-03",
            "support",
            Priority::Normal,
            first_response(99, false),
        ),
    ];
    for f in &facts {
        assert!(store.record_fact(f).await?, "{} counted", f.id);
    }

    let rows = store.aggregates("2026-11-01", "2026-11-02").await?;

    let keys: Vec<_> = rows
        .iter()
        .map(|r| (r.day.as_str(), r.team.as_str(), r.priority))
        .collect();
    assert_eq!(
        keys,
        [
            ("2026-11-01", "billing", Priority::Urgent),
            ("2026-11-01", "support", Priority::Normal),
            ("2026-11-02", "support", Priority::Normal),
        ]
    );
    assert_eq!(rows[0].counters, first_response(5, true));
    assert_eq!(
        rows[1].counters,
        Counters {
            first_response_count: 2,
            first_response_minutes: 40,
            first_response_within: 1,
            first_response_missed: 1,
            ..Counters::default()
        }
    );
    assert_eq!((rows[2].counters.csat_count, rows[2].counters.csat_sum), (1, 4));
    let third = store.aggregates("2026-11-03", "2026-11-30").await?;
    assert_eq!(third.len(), 1);
    assert_eq!(third[0].counters.first_response_minutes, 99);
    assert!(store.aggregates("2026-10-01", "2026-10-31").await?.is_empty());
    aws.stop().await;
    Ok(())
}
