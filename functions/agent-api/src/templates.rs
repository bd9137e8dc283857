//! Approved message templates for agents: `GET /api/templates` lists them
//! (those in the customer's language first), and a reply may send one
//! (`{"template": {...}}`), whether the customer's 24-hour window is open or
//! closed; a text sent after it closed is refused with the templates that
//! would reach the customer. The list is read from the Graph API through a
//! [`TemplateSource`] and kept in the process for ten minutes.

use crate::auth::Agent;
use crate::error::ApiError;
use crate::http::{Answer, query_param};
use crate::{AgentApi, AgentStore};
use helpdesk::adapters::graph::GraphTemplates;
use helpdesk::adapters::secrets::whatsapp_secrets;
use helpdesk::config::Env;
use helpdesk::domain::commands::TicketCommand;
use helpdesk::domain::i18n::Lang;
use helpdesk::domain::inbound::InboundEvent;
use helpdesk::domain::outbound::OutboundBody;
use helpdesk::domain::templates::{MessageTemplate, check_send};
use helpdesk::domain::ticket::Ticket;
use helpdesk::ports::{Clock, GraphError, MediaLinks, Queue, TemplateSource};
use lambda_http::Request;
use serde::Deserialize;
use serde_json::{Value, json};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};

/// How long a list read from the Graph API is used before it is read again.
pub const CACHE_MS: i64 = 10 * 60 * 1000;

/// `{"template": {...}}` of `POST /api/tickets/{id}/reply`: one of the
/// approved templates `GET /api/templates` lists.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TemplateReply {
    /// The template's name (`order_update`).
    pub name: String,
    /// Its language code as listed (`en`, `pt_PT`).
    pub language: String,
    /// The values of its body's `{{1}}`, `{{2}}`… in order: as many as it
    /// takes, each 1 to 1024 characters on one line.
    #[serde(default)]
    pub parameters: Vec<String>,
}

type Approved<'a> = Pin<Box<dyn Future<Output = Result<Vec<MessageTemplate>, GraphError>> + Send + 'a>>;

/// A [`TemplateSource`] behind a trait object, so [`AgentApi`] keeps its type.
trait AnySource: Send + Sync {
    fn approved(&self) -> Approved<'_>;
}

impl<P: TemplateSource> AnySource for P {
    fn approved(&self) -> Approved<'_> {
        Box::pin(self.approved_templates())
    }
}

/// The approved templates, read through a source and kept [`CACHE_MS`]. A
/// failed read is not kept (the next request tries again). Without a source
/// every read is unavailable.
#[derive(Default)]
pub struct TemplateCatalog {
    source: Option<Box<dyn AnySource>>,
    cached: Mutex<Option<(i64, Arc<Vec<MessageTemplate>>)>>,
}

impl TemplateCatalog {
    pub fn new(source: impl TemplateSource + 'static) -> Self {
        TemplateCatalog {
            source: Some(Box::new(source)),
            cached: Mutex::default(),
        }
    }

    /// The list at `now_ms`: the one kept, while it is younger than [`CACHE_MS`].
    async fn approved(&self, now_ms: i64) -> Result<Arc<Vec<MessageTemplate>>, ApiError> {
        let kept = self.cached.lock().unwrap_or_else(PoisonError::into_inner).clone();
        if let Some((read_at_ms, templates)) = kept
            && (read_at_ms..read_at_ms + CACHE_MS).contains(&now_ms)
        {
            return Ok(templates);
        }
        let source = self
            .source
            .as_ref()
            .ok_or_else(|| ApiError::TemplatesUnavailable("no templates source configured".into()))?;
        let templates = Arc::new(
            source
                .approved()
                .await
                .map_err(|e| ApiError::TemplatesUnavailable(e.to_string()))?,
        );
        *self.cached.lock().unwrap_or_else(PoisonError::into_inner) = Some((now_ms, templates.clone()));
        Ok(templates)
    }
}

/// The Graph API's templates as the environment names them: the Business
/// Account `WHATSAPP_WABA_ID`, the Graph API of `WHATSAPP_GRAPH_URL` and
/// `WHATSAPP_API_VERSION`, the access token of the WhatsApp secret (read
/// once, here). `None` without a Business Account: templates are then
/// unavailable (503) and everything else works.
pub async fn graph_templates(
    env: &Env,
    sdk: &aws_config::SdkConfig,
) -> Result<Option<GraphTemplates>, lambda_http::Error> {
    if env.get("WHATSAPP_WABA_ID").is_none() {
        tracing::warn!("WHATSAPP_WABA_ID is not set: agents are offered no message templates");
        return Ok(None);
    }
    let secrets = whatsapp_secrets(env, sdk).await?;
    Ok(GraphTemplates::from_env(env, secrets.access_token)?)
}

/// The language the customer is answered in: the ticket's, else the desk's.
fn customer_language(ticket: &Ticket, default: Lang) -> Lang {
    ticket
        .context
        .language
        .as_deref()
        .and_then(Lang::parse)
        .unwrap_or(default)
}

/// A template as agents see it.
fn listed(template: &MessageTemplate, lang: Lang) -> Value {
    json!({
        "name": template.name,
        "language": template.language,
        "category": template.category,
        "body": template.body,
        "parameters": template.body_parameters,
        "quick_replies": template.quick_replies,
        "customer_language": template.speaks(lang),
    })
}

/// Every template, those in `lang` first, then by name and language.
fn offered(templates: &[MessageTemplate], lang: Lang) -> Vec<Value> {
    let mut sorted: Vec<&MessageTemplate> = templates.iter().collect();
    sorted.sort_by(|a, b| (!a.speaks(lang), &a.name, &a.language).cmp(&(!b.speaks(lang), &b.name, &b.language)));
    sorted.into_iter().map(|t| listed(t, lang)).collect()
}

impl<S, T, O, C, L> AgentApi<S, T, O, C, L> {
    /// Offers the templates `source` lists (read again every ten minutes).
    pub fn with_templates(mut self, source: impl TemplateSource + 'static) -> Self {
        self.templates = TemplateCatalog::new(source);
        self
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
    /// `GET /api/templates?ticket=TK-…` (or `lang=fr` without a ticket): the
    /// approved templates, those in the customer's language first and
    /// marked `customer_language`; with a ticket, its 24-hour window too.
    pub(crate) async fn list_templates(&self, request: &Request, agent: &Agent) -> Result<Answer, ApiError> {
        let now = self.clock.now_ms();
        let default = self.desk.config.desk.default_language;
        let (ticket, lang) = match query_param(request, "ticket") {
            Some(id) => {
                let ticket = self.visible_ticket(&id, agent).await?;
                let lang = customer_language(&ticket, default);
                (Some(ticket), lang)
            }
            None => match query_param(request, "lang") {
                Some(l) => (
                    None,
                    Lang::parse(&l).ok_or_else(|| ApiError::BadRequest(format!("lang: unknown {l:?}")))?,
                ),
                None => (None, default),
            },
        };
        let templates = self.templates.approved(now).await?;
        let mut answer = json!({"language": lang.code(), "templates": offered(&templates, lang)});
        if let Some(ticket) = ticket {
            answer["ticket_id"] = json!(ticket.id);
            answer["window"] = json!({"open": ticket.window_open(now), "closes_at_ms": ticket.window_closes_at_ms()});
        }
        Ok(Answer::ok(answer))
    }

    /// The refusal of a text after the window closed, offering the approved
    /// templates in the customer's language (none offered when the list
    /// cannot be read: the refusal stands).
    pub(crate) async fn window_closed(&self, ticket: &Ticket, now_ms: i64) -> ApiError {
        let lang = customer_language(ticket, self.desk.config.desk.default_language);
        let templates = match self.templates.approved(now_ms).await {
            Ok(all) => {
                let mine: Vec<MessageTemplate> = all.iter().filter(|t| t.speaks(lang)).cloned().collect();
                Some(Box::new(Value::Array(offered(&mine, lang))))
            }
            Err(error) => {
                tracing::warn!(error = %error, "no templates offered with window_closed");
                None
            }
        };
        ApiError::WindowClosed { templates }
    }

    /// The message a template reply sends, checked against the approved
    /// list (400 naming what is wrong), and what the customer will read.
    pub(crate) async fn template_message(
        &self,
        reply: TemplateReply,
        now_ms: i64,
    ) -> Result<(OutboundBody, Value), ApiError> {
        let all = self.templates.approved(now_ms).await?;
        let template = check_send(&all, &reply.name, &reply.language, &reply.parameters)
            .map_err(|refusal| ApiError::BadRequest(format!("template.{refusal}")))?;
        let shown = json!({
            "name": template.name,
            "language": template.language,
            "preview": template.preview(&reply.parameters),
        });
        let message = template.message(reply.parameters);
        message
            .validate()
            .map_err(|e| ApiError::BadRequest(format!("template: {e}")))?;
        Ok((message, shown))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use helpdesk::adapters::memory::MemoryTemplates;
    use helpdesk::domain::templates::APPROVED;

    fn template(name: &str, language: &str) -> MessageTemplate {
        MessageTemplate {
            name: name.into(),
            language: language.into(),
            category: "utility".into(),
            status: APPROVED.into(),
            body: "Order {{1}}".into(),
            body_parameters: 1,
            quick_replies: vec![],
        }
    }

    #[tokio::test]
    async fn the_list_is_read_once_per_ten_minutes_and_a_failure_is_not_kept() {
        let source = MemoryTemplates::default().with(template("a", "en"));
        let catalog = TemplateCatalog::new(source.clone());

        assert_eq!(catalog.approved(0).await.unwrap().len(), 1);
        assert_eq!(catalog.approved(CACHE_MS - 1).await.unwrap().len(), 1);
        assert_eq!(source.calls(), 1);
        source.set_unavailable(true);
        assert!(matches!(
            catalog.approved(CACHE_MS).await,
            Err(ApiError::TemplatesUnavailable(_))
        ));
        source.set_unavailable(false);
        assert_eq!(catalog.approved(CACHE_MS + 1).await.unwrap().len(), 1);
        assert_eq!(source.calls(), 3);
    }

    #[tokio::test]
    async fn without_a_source_templates_are_unavailable() {
        let error = TemplateCatalog::default().approved(0).await.unwrap_err();

        assert_eq!((error.status().as_u16(), error.code()), (503, "unavailable"));
    }

    #[test]
    fn templates_in_the_customers_language_come_first_and_are_marked() {
        let all = [
            template("b", "en"),
            template("a", "en"),
            template("a", "pt_PT"),
            template("c", "pt_BR"),
        ];

        let list = offered(&all, Lang::Pt);

        let order: Vec<(&str, &str, bool)> = list
            .iter()
            .map(|t| {
                (
                    t["name"].as_str().unwrap(),
                    t["language"].as_str().unwrap(),
                    t["customer_language"].as_bool().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            order,
            [
                ("a", "pt_PT", true),
                ("c", "pt_BR", true),
                ("a", "en", false),
                ("b", "en", false)
            ]
        );
    }
}
