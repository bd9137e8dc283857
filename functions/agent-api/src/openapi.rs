//! The OpenAPI 3.1 description of the agent API, built from the code: the
//! paths, methods and roles from [`crate::ROUTES`], each request body's schema
//! from the Rust type the handler reads it into, the error body from
//! [`ErrorBody`]. Served at `GET /api/openapi.json`; a test holds every route
//! and its documentation together, and schemathesis checks the running API
//! against it.

use crate::actions::{AssignBody, CategoryBody, NoteBody, PriorityBody, ReplyBody, TagsBody, TierBody, TransferBody};
use crate::attachments::{ReactBody, UploadBody};
use crate::auth::Role;
use crate::error::ErrorBody;
use crate::proactive::{ConsentBody, ProactiveBody};
use crate::views::{AvailabilityBody, PresenceBody, VIEWS};
use crate::{OPENAPI_PATH, ROUTES, Route};
use utoipa::openapi::path::{HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::schema::{ObjectBuilder, Schema, SchemaType, Type};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{
    ComponentsBuilder, ContentBuilder, InfoBuilder, OpenApi, OpenApiBuilder, PathItem, PathsBuilder, RefOr, Required,
    ResponseBuilder,
};
use utoipa::{PartialSchema, ToSchema};

/// A request body's schema and its component name.
/// A body's schema by name, then the schemas it refers to.
type BodySchema = fn() -> Vec<(String, RefOr<Schema>)>;

/// A query parameter: name, required, description, allowed values.
type Query = (&'static str, bool, &'static str, &'static [&'static str]);

/// What the code says of one route besides its path, method and role.
pub struct Doc {
    pub method: &'static str,
    pub path: &'static str,
    pub summary: &'static str,
    pub query: &'static [Query],
    /// The request body's schema and its component name.
    pub body: Option<BodySchema>,
    /// 200, or 202 for what `tickets` applies after answering.
    pub status: u16,
    /// The ticket's version is returned as `ETag` / taken as `If-Match`.
    pub versioned: bool,
}

fn body<T: ToSchema>() -> Vec<(String, RefOr<Schema>)> {
    let mut schemas = vec![(T::name().into_owned(), T::schema())];
    T::schemas(&mut schemas);
    schemas
}

const CURSOR: Query = (
    "cursor",
    false,
    "Where the previous page ended (its `next_cursor`).",
    &[],
);
const RANGE: [Query; 2] = [
    (
        "from",
        false,
        "First UTC date, inclusive (`2026-11-01`); 30 days ago by default.",
        &[],
    ),
    ("to", false, "Last UTC date, inclusive; today by default.", &[]),
];

/// Every route's documentation, in [`ROUTES`]' order.
pub const DOCS: &[Doc] = &[
    doc(
        "GET",
        "/api/me",
        "Who is signed in: name, teams and role.",
        &[],
        None,
        200,
    ),
    doc(
        "PUT",
        "/api/me/availability",
        "The agent is available (round-robin teams give them tickets) or away.",
        &[],
        Some(body::<AvailabilityBody>),
        200,
    ),
    doc(
        "GET",
        "/api/teams/{team}/agents",
        "Who is available on a team, with their open tickets (leads).",
        &[],
        None,
        200,
    ),
    doc(
        "GET",
        "/api/tickets",
        "A view of the agent's teams' tickets, one page at a time.",
        &[
            (
                "view",
                false,
                "mine, unassigned (default), open, at_risk, waiting, resolved or bot.",
                &VIEWS,
            ),
            (
                "status",
                false,
                "Instead of view: one status.",
                &["bot", "queued", "assigned", "resolved"],
            ),
            ("team", false, "One of the agent's teams (default: all of them).", &[]),
            ("tag", false, "Only tickets with this tag.", &[]),
            ("limit", false, "1 to 100 (default 50).", &[]),
            CURSOR,
        ],
        None,
        200,
    ),
    doc(
        "GET",
        "/api/tickets/counts",
        "How many tickets each view holds, per team.",
        &[],
        None,
        200,
    ),
    doc(
        "GET",
        "/api/changes",
        "Every change to the tickets the agent sees, in order, long-polled; continue with `next`.",
        &[
            (
                "since",
                false,
                "The `next` of the previous answer (without it: start at the feed's edge).",
                &[],
            ),
            (
                "wait",
                false,
                "Seconds to wait for a change, 0 to 25 (default 25).",
                &[],
            ),
        ],
        None,
        200,
    ),
    Doc {
        versioned: true,
        ..doc(
            "GET",
            "/api/tickets/{id}",
            "A ticket with its timeline, customer, media and 24-hour window.",
            &[],
            None,
            200,
        )
    },
    Doc {
        versioned: true,
        ..doc(
            "POST",
            "/api/tickets/{id}/reply",
            "Reply to the customer with a text, a template or an uploaded file, optionally quoting their message (the agent takes the ticket).",
            &[],
            Some(body::<ReplyBody>),
            202,
        )
    },
    doc(
        "POST",
        "/api/tickets/{id}/attachments",
        "Prepare a file to send: its upload id and a link to PUT it to, valid 5 minutes.",
        &[],
        Some(body::<UploadBody>),
        201,
    ),
    Doc {
        versioned: true,
        ..doc(
            "POST",
            "/api/tickets/{id}/react",
            "React to one of the customer's messages with an emoji (empty removes it).",
            &[],
            Some(body::<ReactBody>),
            202,
        )
    },
    Doc {
        versioned: true,
        ..doc(
            "POST",
            "/api/tickets/{id}/resolve",
            "Resolve the ticket; the customer is asked to rate the help.",
            &[],
            None,
            202,
        )
    },
    Doc {
        versioned: true,
        ..doc(
            "POST",
            "/api/tickets/{id}/transfer",
            "Move the ticket to another team.",
            &[],
            Some(body::<TransferBody>),
            202,
        )
    },
    Doc {
        versioned: true,
        ..doc("POST", "/api/tickets/{id}/claim", "Take the ticket.", &[], None, 202)
    },
    Doc {
        versioned: true,
        ..doc(
            "POST",
            "/api/tickets/{id}/assign",
            "Give the ticket to an agent (leads).",
            &[],
            Some(body::<AssignBody>),
            202,
        )
    },
    Doc {
        versioned: true,
        ..doc(
            "POST",
            "/api/tickets/{id}/unassign",
            "Put the ticket back in its team's queue.",
            &[],
            None,
            202,
        )
    },
    Doc {
        versioned: true,
        ..doc(
            "POST",
            "/api/tickets/{id}/hand-back",
            "Give the ticket back to the bot (tier 1).",
            &[],
            None,
            202,
        )
    },
    Doc {
        versioned: true,
        ..doc(
            "POST",
            "/api/tickets/{id}/notes",
            "An internal note; `@name` mentions notify those agents.",
            &[],
            Some(body::<NoteBody>),
            202,
        )
    },
    Doc {
        versioned: true,
        ..doc(
            "POST",
            "/api/tickets/{id}/reopen",
            "Work a resolved ticket again (the agent takes it).",
            &[],
            None,
            202,
        )
    },
    Doc {
        versioned: true,
        ..doc(
            "PUT",
            "/api/tickets/{id}/priority",
            "Change the priority (the SLA targets follow).",
            &[],
            Some(body::<PriorityBody>),
            202,
        )
    },
    Doc {
        versioned: true,
        ..doc(
            "PUT",
            "/api/tickets/{id}/category",
            "Change the category.",
            &[],
            Some(body::<CategoryBody>),
            202,
        )
    },
    Doc {
        versioned: true,
        ..doc(
            "POST",
            "/api/tickets/{id}/tags",
            "Add and remove tags.",
            &[],
            Some(body::<TagsBody>),
            202,
        )
    },
    doc(
        "GET",
        "/api/tickets/{id}/media/{wamid}",
        "A link to a file of the ticket, valid 5 minutes.",
        &[],
        None,
        200,
    ),
    doc(
        "POST",
        "/api/tickets/{id}/presence",
        "The agent is viewing or typing on the ticket (30 seconds, renewed by the console).",
        &[],
        Some(body::<PresenceBody>),
        200,
    ),
    doc(
        "GET",
        "/api/search",
        "Find customers and tickets by ticket id, phone, WhatsApp user id, username, order number or name.",
        &[
            ("q", true, "What to look for.", &[]),
            (
                "by",
                false,
                "What q is (guessed from its form otherwise).",
                &["ticket", "phone", "user_id", "username", "order", "name"],
            ),
        ],
        None,
        200,
    ),
    doc(
        "GET",
        "/api/canned",
        "Canned responses for a ticket (filled) or a team and language.",
        &[
            ("ticket", false, "Fill the responses for this ticket.", &[]),
            (
                "team",
                false,
                "Without ticket: the team (default: the agent's first).",
                &[],
            ),
            (
                "lang",
                false,
                "Without ticket: the language.",
                &["en", "fr", "es", "it", "pt", "de"],
            ),
            ("q", false, "Words to look for.", &[]),
        ],
        None,
        200,
    ),
    doc(
        "GET",
        "/api/templates",
        "The approved message templates (the customer's language first): what reaches a customer once their 24-hour window has closed.",
        &[
            (
                "ticket",
                false,
                "Put the ticket's customer's language first; show its window.",
                &[],
            ),
            (
                "lang",
                false,
                "Without ticket: the language to put first.",
                &["en", "fr", "es", "it", "pt", "de"],
            ),
        ],
        None,
        200,
    ),
    doc(
        "GET",
        "/api/customers/{id}/tickets",
        "A customer's tickets, newest first.",
        &[CURSOR],
        None,
        200,
    ),
    doc(
        "PUT",
        "/api/customers/{id}/tier",
        "Set a customer's tier (leads).",
        &[],
        Some(body::<TierBody>),
        202,
    ),
    doc(
        "PUT",
        "/api/customers/{id}/consent",
        "Record the customer's opt-in or opt-out of messages the business starts, and where it comes from.",
        &[],
        Some(body::<ConsentBody>),
        202,
    ),
    doc(
        "POST",
        "/api/customers/{id}/messages",
        "Write first to a customer who opted in, with an approved template: a new ticket, assigned to the agent.",
        &[],
        Some(body::<ProactiveBody>),
        202,
    ),
    doc(
        "GET",
        "/api/customers/{id}/export",
        "Everything held about a customer, as JSON, for a privacy request (admins).",
        &[],
        None,
        200,
    ),
    doc(
        "DELETE",
        "/api/customers/{id}",
        "Erase a customer (admins): files, timelines' contents, identity, profile, conversations; counts stay.",
        &[],
        None,
        202,
    ),
    doc(
        "GET",
        "/api/reports/{report}",
        "A KPI report over a range of days, as JSON or CSV (leads).",
        &[
            RANGE[0],
            RANGE[1],
            (
                "team",
                false,
                "One team (default: all; the agents report covers every team).",
                &[],
            ),
            ("format", false, "json or csv (default: by Accept).", &["json", "csv"]),
        ],
        None,
        200,
    ),
    doc(
        "GET",
        "/api/admin/unattributed",
        "Messages that named no customer, with their payloads (admins).",
        &RANGE,
        None,
        200,
    ),
    doc(
        "GET",
        "/api/audit",
        "The audit trail: who did what to which ticket, when, and how it ended (admins).",
        &[
            RANGE[0],
            RANGE[1],
            ("agent", false, "Only this agent's actions.", &[]),
            ("ticket", false, "Only actions on this ticket.", &[]),
        ],
        None,
        200,
    ),
];

const fn doc(
    method: &'static str,
    path: &'static str,
    summary: &'static str,
    query: &'static [Query],
    body: Option<BodySchema>,
    status: u16,
) -> Doc {
    Doc {
        method,
        path,
        summary,
        query,
        body,
        status,
        versioned: false,
    }
}

fn method(m: &str) -> HttpMethod {
    match m {
        "GET" => HttpMethod::Get,
        "POST" => HttpMethod::Post,
        "PUT" => HttpMethod::Put,
        "PATCH" => HttpMethod::Patch,
        "DELETE" => HttpMethod::Delete,
        other => unreachable!("no route uses {other}"),
    }
}

fn string_schema(values: &[&str]) -> Schema {
    let mut schema = ObjectBuilder::new().schema_type(SchemaType::Type(Type::String));
    if !values.is_empty() {
        schema = schema.enum_values(Some(values.iter().copied()));
    }
    Schema::Object(schema.build())
}

fn json_content(schema: RefOr<Schema>) -> utoipa::openapi::Content {
    ContentBuilder::new().schema(Some(schema)).build()
}

fn error_response(description: &str) -> utoipa::openapi::Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            json_content(RefOr::Ref(utoipa::openapi::Ref::from_schema_name("ErrorBody"))),
        )
        .build()
}

fn operation(route: &Route, doc: &Doc) -> utoipa::openapi::path::Operation {
    let role = route.role.as_str();
    let mut op = OperationBuilder::new()
        .summary(Some(doc.summary))
        .description(Some(format!("Needs the `{role}` role or higher.")))
        .operation_id(Some(format!("{} {}", route.method, route.path)))
        .security(SecurityRequirement::new("bearer", Vec::<String>::new()));
    for name in route
        .path
        .split('/')
        .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
    {
        op = op.parameter(
            ParameterBuilder::new()
                .name(name)
                .parameter_in(ParameterIn::Path)
                .required(Required::True)
                .schema(Some(string_schema(&[]))),
        );
    }
    for (name, required, description, values) in doc.query {
        op = op.parameter(
            ParameterBuilder::new()
                .name(*name)
                .parameter_in(ParameterIn::Query)
                .required(if *required { Required::True } else { Required::False })
                .description(Some(*description))
                .schema(Some(string_schema(values))),
        );
    }
    if doc.versioned && route.method != "GET" {
        op = op.parameter(
            ParameterBuilder::new()
                .name("If-Match")
                .parameter_in(ParameterIn::Header)
                .required(Required::False)
                .description(Some("The ticket's ETag as read: a ticket changed since answers 412."))
                .schema(Some(string_schema(&[]))),
        );
    }
    op = op.parameter(
        ParameterBuilder::new()
            .name("Idempotency-Key")
            .parameter_in(ParameterIn::Header)
            .required(Required::False)
            .description(Some("A retried request with the same key is applied once."))
            .schema(Some(string_schema(&[]))),
    );
    if let Some(schema) = doc.body {
        let name = schema().swap_remove(0).0;
        op = op.request_body(Some(
            RequestBodyBuilder::new()
                .required(Some(Required::True))
                .content(
                    "application/json",
                    json_content(RefOr::Ref(utoipa::openapi::Ref::from_schema_name(name))),
                )
                .build(),
        ));
    }
    let object = RefOr::T(Schema::Object(
        ObjectBuilder::new().schema_type(SchemaType::Type(Type::Object)).build(),
    ));
    let mut ok = ResponseBuilder::new().description(if doc.status == 202 {
        "Accepted: `tickets` applies it in order, and the change feed and the ticket show it."
    } else {
        "OK"
    });
    ok = match route.path {
        "/api/reports/{report}" => ok
            .content("application/json", json_content(object.clone()))
            .content("text/csv", json_content(RefOr::T(string_schema(&[])))),
        _ => ok.content("application/json", json_content(object)),
    };
    op = op
        .response(doc.status.to_string(), ok.build())
        .response("400", error_response("The request is not valid: `error` says why."))
        .response(
            "401",
            ResponseBuilder::new()
                .description("No valid sign-in: API Gateway's authorizer answers `{\"message\": \"Unauthorized\"}`.")
                .content(
                    "application/json",
                    json_content(RefOr::Ref(utoipa::openapi::Ref::from_schema_name("Unauthorized"))),
                )
                .build(),
        )
        .response("403", error_response("Not your team, or a role you do not have."))
        .response("404", error_response("No such ticket, customer, file or report."))
        .response(
            "409",
            error_response("The action does not fit the ticket as it stands (`code` says why)."),
        )
        .response(
            "410",
            error_response("What the request names is no longer kept (`cursor_expired`)."),
        )
        .response(
            "503",
            error_response("Temporarily unavailable; retry with the same Idempotency-Key."),
        );
    if doc.versioned && route.method != "GET" {
        op = op.response(
            "412",
            error_response("The ticket changed since the If-Match version; `current` shows it."),
        );
    }
    op.build()
}

/// The whole description.
pub fn document() -> OpenApi {
    let mut paths = PathsBuilder::new();
    let mut items: Vec<(&str, PathItem)> = Vec::new();
    for route in ROUTES {
        let doc = DOCS
            .iter()
            .find(|d| d.method == route.method && d.path == route.path)
            .expect("every route is documented (checked by a test)");
        let op = operation(route, doc);
        match items.iter_mut().find(|(p, _)| *p == route.path) {
            Some((_, item)) => item.merge_operations(PathItem::new(method(route.method), op)),
            None => items.push((route.path, PathItem::new(method(route.method), op))),
        }
    }
    let description = OperationBuilder::new()
        .summary(Some("This description (no sign-in needed)."))
        .operation_id(Some(format!("GET {OPENAPI_PATH}")))
        .response(
            "200",
            ResponseBuilder::new()
                .description("OpenAPI 3.1")
                .content(
                    "application/json",
                    json_content(RefOr::T(Schema::Object(
                        ObjectBuilder::new().schema_type(SchemaType::Type(Type::Object)).build(),
                    ))),
                )
                .build(),
        )
        .build();
    items.push((OPENAPI_PATH, PathItem::new(HttpMethod::Get, description)));
    for (path, item) in items {
        paths = paths.path(path, item);
    }
    let mut components = ComponentsBuilder::new()
        .schema("ErrorBody", ErrorBody::schema())
        .schema(
            "Unauthorized",
            ObjectBuilder::new()
                .schema_type(SchemaType::Type(Type::Object))
                .description(Some(
                    "API Gateway's answer (`message`), or the API's own (`code`, `error`).",
                ))
                .property(
                    "message",
                    ObjectBuilder::new().schema_type(SchemaType::Type(Type::String)),
                )
                .property("code", ObjectBuilder::new().schema_type(SchemaType::Type(Type::String)))
                .property(
                    "error",
                    ObjectBuilder::new().schema_type(SchemaType::Type(Type::String)),
                )
                .build(),
        )
        .security_scheme("bearer", SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)));
    for doc in DOCS {
        for (name, schema) in doc.body.map(|schemas| schemas()).unwrap_or_default() {
            components = components.schema(name, schema);
        }
    }
    let roles = [Role::Agent, Role::Lead, Role::Admin].map(Role::as_str).join(", ");
    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("WhatsApp helpdesk agent API")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(format!(
                    "What agents, leads and admins do in a day. Roles ({roles}) come from the token's groups. \
                     Changes answer 202 and are applied in order by the tickets function; a ticket's answer \
                     carries its version as ETag, and changes accept If-Match."
                )))
                .build(),
        )
        .paths(paths.build())
        .components(Some(components.build()))
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_is_documented_once_and_every_document_is_a_route() {
        for route in ROUTES {
            let docs = DOCS
                .iter()
                .filter(|d| d.method == route.method && d.path == route.path)
                .count();
            assert_eq!(docs, 1, "{} {}", route.method, route.path);
        }
        assert_eq!(DOCS.len(), ROUTES.len());
    }

    #[test]
    fn the_description_is_openapi_3_1_with_every_path_method_and_body() {
        let json = serde_json::to_value(document()).unwrap();
        assert!(json["openapi"].as_str().unwrap().starts_with("3.1"));
        for route in ROUTES {
            let op = &json["paths"][route.path][route.method.to_lowercase()];
            assert!(op.is_object(), "{} {}", route.method, route.path);
            assert!(op["description"].as_str().unwrap().contains(route.role.as_str()));
        }
        let reply = &json["paths"]["/api/tickets/{id}/reply"]["post"];
        assert_eq!(
            reply["requestBody"]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/ReplyBody"
        );
        let reply_body = &json["components"]["schemas"]["ReplyBody"];
        assert!(reply_body["properties"]["text"].is_object() && reply_body["properties"]["template"].is_object());
        assert!(json["paths"][OPENAPI_PATH]["get"]["security"].is_null());
    }

    /// Code generators (the console's client among them) refuse a description
    /// with a `$ref` to a schema it does not define.
    #[test]
    fn every_reference_in_the_description_names_a_schema_it_defines() {
        fn refs(value: &serde_json::Value, found: &mut Vec<String>) {
            match value {
                serde_json::Value::Object(map) => {
                    if let Some(serde_json::Value::String(r)) = map.get("$ref") {
                        found.push(r.clone());
                    }
                    map.values().for_each(|v| refs(v, found));
                }
                serde_json::Value::Array(items) => items.iter().for_each(|v| refs(v, found)),
                _ => {}
            }
        }
        let json = serde_json::to_value(document()).unwrap();
        let mut found = Vec::new();
        refs(&json, &mut found);
        assert!(found.iter().any(|r| r.ends_with("/AvailabilityStatus")));
        for r in found {
            let name = r.strip_prefix("#/components/schemas/").expect("a schema reference");
            assert!(json["components"]["schemas"][name].is_object(), "{r} is not defined");
        }
    }
}
