//! `GET /api/reports/{report}`: KPIs over a range of UTC dates, built from the
//! aggregates `tickets` keeps as events happen (never a scan of tickets), in
//! JSON or CSV. Leads and admins read them, for every team: aggregates hold
//! no customer data.

use crate::AgentStore;
use crate::http::query_param;
use crate::{AgentApi, Answer, ApiError};
use helpdesk::domain::commands::TicketCommand;
use helpdesk::domain::inbound::InboundEvent;
use helpdesk::domain::reports::{DateRange, ReportKind};
use helpdesk::ports::{Clock, MediaLinks, Queue};
use lambda_http::Request;
use lambda_http::http::header;
use serde_json::json;

/// How a report is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Json,
    Csv,
}

impl Format {
    /// `format=json|csv`, else CSV when the client accepts `text/csv`, else JSON.
    fn of(request: &Request, param: Option<String>) -> Result<Format, ApiError> {
        match param.as_deref() {
            Some("json") => Ok(Format::Json),
            Some("csv") => Ok(Format::Csv),
            Some(other) => Err(ApiError::BadRequest(format!(
                "format must be json or csv, not {other:?}"
            ))),
            None => {
                let accept = request.headers().get(header::ACCEPT).and_then(|v| v.to_str().ok());
                Ok(match accept {
                    Some(accept) if accept.contains("text/csv") => Format::Csv,
                    _ => Format::Json,
                })
            }
        }
    }
}

impl<S, T, O, C, L> AgentApi<S, T, O, C, L>
where
    S: AgentStore,
    T: Queue<TicketCommand>,
    O: Queue<InboundEvent>,
    C: Clock,
    L: MediaLinks,
{
    /// `GET /api/reports/{report}?from=2026-11-01&to=2026-11-30&team=support&format=csv`
    /// (leads): `from` and `to` inclusive (the last 30 days by default, at
    /// most 366), all teams unless `team` names one. The `agents` report is
    /// kept per agent across teams: a `team` with it is refused.
    pub(crate) async fn report(&self, request: &Request, name: &str) -> Result<Answer, ApiError> {
        let kind = ReportKind::parse(name).ok_or_else(|| ApiError::NoReport(name.to_owned()))?;
        let from = query_param(request, "from");
        let to = query_param(request, "to");
        let range = DateRange::parse(from.as_deref(), to.as_deref(), self.clock.now_ms())
            .map_err(|e| ApiError::BadRequest(e.to_string()))?;
        let team = match query_param(request, "team") {
            Some(_) if kind.by_agent() => {
                return Err(ApiError::BadRequest(format!(
                    "team: the {} report covers every team (it is not kept per team)",
                    kind.as_str()
                )));
            }
            Some(team) => Some(
                self.desk
                    .team(&team)
                    .map(|t| t.config.id.clone())
                    .ok_or_else(|| ApiError::BadRequest(format!("team: no team has the id {team:?}")))?,
            ),
            None => None,
        };
        let format = Format::of(request, query_param(request, "format"))?;

        // Each report reads only the aggregates it is built from.
        let (rows, agents) = if kind.by_agent() {
            (
                Vec::new(),
                self.store.agent_aggregates(&range.from(), &range.to()).await?,
            )
        } else {
            (self.store.aggregates(&range.from(), &range.to()).await?, Vec::new())
        };
        let report = kind.build(&range, team.as_deref(), &rows, &agents);
        Ok(match format {
            Format::Json => Answer::ok(json!(report)),
            Format::Csv => Answer::Csv {
                filename: format!("{}_{}_{}.csv", kind.as_str(), range.from(), range.to()),
                body: report.to_csv(),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use helpdesk::adapters::desk::load_desk;
    use helpdesk::adapters::memory::{ManualClock, MemoryMediaStore, MemoryQueue, MemoryStore};
    use helpdesk::config::Env;
    use helpdesk::domain::i18n::Catalog;
    use helpdesk::domain::reports::{AggregateRow, Counters, ReportFact};
    use helpdesk::domain::ticket::Priority;
    use helpdesk::ports::ReportStore;
    use serde_json::Value;

    /// 2026-11-21T05:00:00Z, the time of the sample event.
    const NOW_MS: i64 = 1_795_237_200_000;

    type Api =
        AgentApi<MemoryStore, MemoryQueue<TicketCommand>, MemoryQueue<InboundEvent>, ManualClock, MemoryMediaStore>;

    /// The API over an in-memory table holding `rows`, each recorded as the
    /// fact `tickets` would have counted.
    async fn api(rows: Vec<AggregateRow>) -> Api {
        let store = MemoryStore::new();
        for row in rows {
            let fact = ReportFact {
                id: format!("{}:{}:{}", row.day, row.team, row.priority.as_str()),
                day: row.day,
                team: row.team,
                priority: row.priority,
                agent: None,
                counters: row.counters,
            };
            assert!(store.record_fact(&fact).await.unwrap());
        }
        AgentApi {
            store,
            tickets: MemoryQueue::default(),
            inbound: MemoryQueue::default(),
            clock: ManualClock::at(NOW_MS),
            claims: crate::ClaimNames {
                name: "cognito:username".into(),
                teams: "cognito:groups".into(),
            },
            desk: load_desk(&Env::from_map(Default::default()), &Catalog::builtin()).unwrap(),
            media: MemoryMediaStore::default(),
            audit_retention_days: 365,
            templates: Default::default(),
        }
    }

    fn row(day: &str, team: &str, priority: Priority, counters: Counters) -> AggregateRow {
        AggregateRow {
            day: day.into(),
            team: team.into(),
            priority,
            counters,
        }
    }

    fn sample_rows() -> Vec<AggregateRow> {
        let answered = |within, missed| Counters {
            tickets: within + missed,
            to_human: within + missed,
            first_response_count: within + missed,
            first_response_minutes: 10 * (within + missed),
            first_response_within: within,
            first_response_missed: missed,
            sla_breaches: missed,
            ..Counters::default()
        };
        vec![
            row("2026-10-01", "support", Priority::Normal, answered(5, 5)),
            row("2026-11-01", "support", Priority::Normal, answered(3, 1)),
            row("2026-11-02", "billing", Priority::Urgent, answered(1, 0)),
        ]
    }

    /// The sample agent API event (`ana`, of support and billing, here a lead:
    /// reports are for leads) for another path and query, with extra headers.
    fn get(path_and_query: &str, headers: &[(&str, &str)]) -> Request {
        let mut event: Value = serde_json::from_str(include_str!("../../../events/agent-api-queue.json")).unwrap();
        event["requestContext"]["authorizer"]["jwt"]["claims"]["cognito:groups"] = "[support billing leads]".into();
        let (path, query) = path_and_query.split_once('?').unwrap_or((path_and_query, ""));
        event["rawPath"] = path.into();
        event["rawQueryString"] = query.into();
        event["requestContext"]["http"]["path"] = path.into();
        event["queryStringParameters"] = url::form_urlencoded::parse(query.as_bytes())
            .map(|(k, v)| (k.into_owned(), Value::from(v.into_owned())))
            .collect::<serde_json::Map<_, _>>()
            .into();
        event.as_object_mut().unwrap().remove("pathParameters");
        for (name, value) in headers {
            event["headers"][*name] = (*value).into();
        }
        lambda_http::request::from_str(&event.to_string()).unwrap()
    }

    async fn call(api: &Api, request: Request) -> (u16, String, String) {
        let response = api.handle(request).await.unwrap();
        let content_type = response.headers()[header::CONTENT_TYPE].to_str().unwrap().to_owned();
        let body = String::from_utf8(response.body().to_vec()).unwrap();
        (response.status().as_u16(), content_type, body)
    }

    async fn json_of(api: &Api, path_and_query: &str) -> (u16, Value) {
        let (status, content_type, body) = call(api, get(path_and_query, &[])).await;
        assert_eq!(content_type, "application/json");
        (status, serde_json::from_str(&body).unwrap())
    }

    #[tokio::test]
    async fn the_sla_report_adds_up_the_aggregates_of_the_range_only() {
        let api = api(sample_rows()).await;

        let (status, body) = json_of(&api, "/api/reports/sla?from=2026-11-01&to=2026-11-30").await;

        assert_eq!(status, 200);
        assert_eq!(
            (body["from"].as_str(), body["to"].as_str()),
            (Some("2026-11-01"), Some("2026-11-30"))
        );
        assert_eq!(
            (body["report"].as_str(), body["from"].as_str()),
            (Some("sla"), Some("2026-11-01"))
        );
        let overall = &body["overall"];
        assert_eq!(overall["first_response_count"], 5);
        assert_eq!(overall["first_response_compliance_percent"], 80.0);
        assert_eq!(overall["first_response_average_minutes"], 10.0);
        assert_eq!(overall["breaches"], 1);
        assert_eq!(body["by_team"][0]["team"], "billing");
        assert_eq!(body["by_priority"][0]["priority"], "urgent");
    }

    #[tokio::test]
    async fn without_dates_a_report_covers_the_last_30_days_by_the_handlers_clock() {
        let api = api(sample_rows()).await;

        let (status, body) = json_of(&api, "/api/reports/summary").await;

        assert_eq!(status, 200);
        assert_eq!(
            (body["from"].as_str(), body["to"].as_str()),
            (Some("2026-10-23"), Some("2026-11-21"))
        );
        assert_eq!(body["overall"]["tickets"], 5);
        assert_eq!(body["overall"]["bot_to_human_percent"], 100.0);
    }

    #[tokio::test]
    async fn a_team_filter_limits_the_report_and_an_unknown_team_is_refused() {
        let api = api(sample_rows()).await;

        let (status, body) = json_of(
            &api,
            "/api/reports/escalations?from=2026-10-01&to=2026-11-30&team=billing",
        )
        .await;
        assert_eq!(status, 200);
        assert_eq!(body["team"], "billing");
        assert_eq!(body["overall"]["tickets"], 1);

        let (status, body) = json_of(&api, "/api/reports/escalations?team=nobody").await;
        assert_eq!(status, 400);
        assert!(body["error"].as_str().unwrap().starts_with("team:"), "{body}");
    }

    #[tokio::test]
    async fn a_report_is_csv_when_asked_by_parameter_or_accept_header() {
        let api = api(sample_rows()).await;

        for request in [
            get("/api/reports/csat?from=2026-11-01&to=2026-11-02&format=csv", &[]),
            get(
                "/api/reports/csat?from=2026-11-01&to=2026-11-02",
                &[("accept", "text/csv")],
            ),
        ] {
            let response = api.handle(request).await.unwrap();
            assert_eq!(response.status().as_u16(), 200);
            assert_eq!(response.headers()[header::CONTENT_TYPE], "text/csv; charset=utf-8");
            assert_eq!(
                response.headers()[header::CONTENT_DISPOSITION],
                "attachment; filename=\"csat_2026-11-01_2026-11-02.csv\""
            );
            let body = String::from_utf8(response.body().to_vec()).unwrap();
            assert!(body.starts_with("from,to,group,name,count,average,score_1,"), "{body}");
            assert!(body.contains("\r\n2026-11-01,2026-11-02,overall,all,0,,0,"), "{body}");
        }
        let (status, _, body) = call(&api, get("/api/reports/csat?format=json", &[("accept", "text/csv")])).await;
        assert_eq!(status, 200);
        assert!(body.starts_with('{'), "format wins over Accept: {body}");
    }

    #[tokio::test]
    async fn bad_parameters_are_refused_with_a_message_naming_them() {
        let api = api(sample_rows()).await;
        // Armed now, spent by the first read: still armed at the end if nothing read.
        api.store.fail_next(1);

        for (query, start) in [
            ("from=2026-13-01", "from must be a UTC date written YYYY-MM-DD"),
            ("to=21/11/2026", "to must be a UTC date written YYYY-MM-DD"),
            (
                "from=2026-11-02&to=2026-11-01",
                "from (2026-11-02) must not be after to (2026-11-01)",
            ),
            (
                "from=2025-01-01&to=2026-11-01",
                "from 2025-01-01 to 2026-11-01 covers 670 days",
            ),
            ("format=xml", "format must be json or csv"),
        ] {
            let (status, body) = json_of(&api, &format!("/api/reports/sla?{query}")).await;
            assert_eq!(status, 400, "{query}");
            let error = body["error"].as_str().unwrap();
            assert!(error.starts_with(start), "{query}: {error}");
        }
        assert!(
            api.store.aggregates("2026-11-01", "2026-11-01").await.is_err(),
            "the store was read"
        );
    }

    #[tokio::test]
    async fn an_unknown_report_is_not_found_and_the_answer_lists_the_reports() {
        let api = api(vec![]).await;

        let (status, body) = json_of(&api, "/api/reports/revenue").await;

        assert_eq!(status, 404);
        assert_eq!(
            body["error"],
            "no report named \"revenue\"; the reports are sla, times, escalations, csat, summary, messages, agents"
        );
    }

    #[tokio::test]
    async fn a_report_needs_the_agents_identity() {
        let api = api(sample_rows()).await;
        let mut event: Value = serde_json::from_str(include_str!("../../../events/agent-api-queue.json")).unwrap();
        event["rawPath"] = "/api/reports/sla".into();
        event["requestContext"].as_object_mut().unwrap().remove("authorizer");
        // Armed now, spent by the first read: still armed at the end if nothing read.
        api.store.fail_next(1);

        let (status, _, _) = call(&api, lambda_http::request::from_str(&event.to_string()).unwrap()).await;

        assert_eq!(status, 401);
        assert!(
            api.store.aggregates("2026-11-01", "2026-11-01").await.is_err(),
            "the store was read"
        );
    }

    #[tokio::test]
    async fn the_agents_report_has_one_row_per_agent_as_json_or_csv_and_takes_no_team() {
        let api = api(vec![]).await;
        let fact = |id: &str, day: &str, team: &str, agent: Option<&str>, counters: Counters| ReportFact {
            id: id.into(),
            day: day.into(),
            team: team.into(),
            priority: Priority::Normal,
            agent: agent.map(str::to_owned),
            counters,
        };
        let first_response = |minutes, within: bool| Counters {
            first_response_count: 1,
            first_response_minutes: minutes,
            first_response_within: u64::from(within),
            first_response_missed: u64::from(!within),
            ..Counters::default()
        };
        let resolved_and_rated = Counters {
            resolved: 1,
            csat_count: 1,
            csat_sum: 4,
            csat_4: 1,
            ..Counters::default()
        };
        let opened = Counters {
            tickets: 1,
            ..Counters::default()
        };
        for fact in [
            fact(
                "TK-1:first_response",
                "2026-11-01",
                "support",
                Some("ana"),
                first_response(10, true),
            ),
            // Redelivered: counted once.
            fact(
                "TK-1:first_response",
                "2026-11-01",
                "support",
                Some("ana"),
                first_response(10, true),
            ),
            fact(
                "TK-2:first_response",
                "2026-11-02",
                "billing",
                Some("ana"),
                first_response(20, false),
            ),
            fact("TK-3:resolved", "2026-11-02", "support", Some("bo"), resolved_and_rated),
            // Before the range, and about no agent.
            fact(
                "TK-4:first_response",
                "2026-10-01",
                "support",
                Some("cy"),
                first_response(5, true),
            ),
            fact("TK-5:opened", "2026-11-02", "support", None, opened),
        ] {
            api.store.record_fact(&fact).await.unwrap();
        }

        let (status, body) = json_of(&api, "/api/reports/agents?from=2026-11-01&to=2026-11-30").await;

        assert_eq!(status, 200);
        assert_eq!(
            body,
            serde_json::json!({
                "report": "agents",
                "from": "2026-11-01",
                "to": "2026-11-30",
                "agents": [
                    {
                        "agent": "ana",
                        "first_response_count": 2,
                        "first_response_average_minutes": 15.0,
                        "first_response_within_percent": 50.0,
                        "resolved": 0,
                        "csat_count": 0,
                        "csat_average": null
                    },
                    {
                        "agent": "bo",
                        "first_response_count": 0,
                        "first_response_average_minutes": null,
                        "first_response_within_percent": null,
                        "resolved": 1,
                        "csat_count": 1,
                        "csat_average": 4.0
                    }
                ]
            })
        );
        // The team reports still see every fact, the agents' included.
        let (_, summary) = json_of(&api, "/api/reports/summary?from=2026-11-01&to=2026-11-30").await;
        assert_eq!(summary["overall"]["resolved"], 1);

        let response = api
            .handle(get("/api/reports/agents?from=2026-11-01&to=2026-11-30&format=csv", &[]))
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 200);
        assert_eq!(
            response.headers()[header::CONTENT_DISPOSITION],
            "attachment; filename=\"agents_2026-11-01_2026-11-30.csv\""
        );
        let csv = String::from_utf8(response.body().to_vec()).unwrap();
        assert_eq!(
            csv.split_terminator("\r\n").collect::<Vec<_>>(),
            [
                "from,to,group,name,first_response_count,first_response_average_minutes,first_response_within_percent,resolved,csat_count,csat_average",
                "2026-11-01,2026-11-30,agent,ana,2,15,50,0,0,",
                "2026-11-01,2026-11-30,agent,bo,0,,,1,1,4",
            ]
        );

        let (status, body) = json_of(&api, "/api/reports/agents?team=support").await;
        assert_eq!(status, 400);
        assert!(body["error"].as_str().unwrap().starts_with("team:"), "{body}");
    }

    #[tokio::test]
    async fn the_agents_report_is_for_leads_only() {
        let api = api(vec![]).await;
        // The sample agent, of support and billing but not a lead.
        let mut event: Value = serde_json::from_str(include_str!("../../../events/agent-api-queue.json")).unwrap();
        event["requestContext"]["authorizer"]["jwt"]["claims"]["cognito:groups"] = "[support billing]".into();
        event["rawPath"] = "/api/reports/agents".into();
        event["requestContext"]["http"]["path"] = "/api/reports/agents".into();
        event.as_object_mut().unwrap().remove("pathParameters");

        let (status, _, _) = call(&api, lambda_http::request::from_str(&event.to_string()).unwrap()).await;

        assert_eq!(status, 403);
    }
}
