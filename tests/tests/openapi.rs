//! The agent API against its own OpenAPI description, fuzzed by schemathesis
//! (pinned in `infra/local/requirements-fuzz.txt`, installed by `make test`)
//! on the local stack, once per role: no answer may be a server error, and
//! every answer must fit the schema.

use devstack::repo_root;
use helpdesk_tests::Helpdesk;
use std::process::Command;

/// Test cases per operation and phase; the seed makes every run the same.
const EXAMPLES: &str = "12";
const SEED: &str = "20261204";

#[tokio::test]
async fn schemathesis_finds_no_server_error_and_no_answer_outside_the_schema_for_any_role() -> anyhow::Result<()> {
    let schemathesis = repo_root().join(".venv-fuzz/bin/schemathesis");
    anyhow::ensure!(
        schemathesis.exists(),
        "schemathesis is missing at {}: `make test` installs it",
        schemathesis.display()
    );
    let desk = Helpdesk::start().await?;
    // Something to find: a ticket in the support queue.
    desk.customer_says("15551250001", "hello").await?;
    desk.customer_taps("15551250001", "menu.agent", "Talk to an agent")
        .await?;
    let agent = desk.token("ana", "support").await?;
    desk.first_ticket_in(&agent, "queued").await?;

    let schema = format!("{}/api/openapi.json", desk.runner.http_url);
    for (role, groups) in [
        ("agent", "support,billing"),
        ("lead", "support,leads"),
        ("admin", "support,admins"),
    ] {
        let token = desk.token(role, groups).await?;
        let report = repo_root().join(format!(".local/schemathesis-{role}.xml"));
        let schemathesis = schemathesis.clone();
        let schema = schema.clone();
        let out = tokio::task::spawn_blocking(move || {
            Command::new(schemathesis)
                .args(["run", &schema])
                .args([
                    "--checks",
                    "not_a_server_error,response_schema_conformance,content_type_conformance",
                ])
                .args(["--phases", "examples,coverage,fuzzing"])
                .args(["--max-examples", EXAMPLES, "--seed", SEED, "--workers", "2"])
                .args(["--header", &format!("Authorization: Bearer {token}")])
                .args(["--report", "junit", "--report-junit-path"])
                .arg(&report)
                .args(["--no-color", "--warnings", "off", "--generation-database", "none"])
                .current_dir(repo_root().join(".local"))
                .env("SCHEMATHESIS_HOOKS", "")
                .output()
        })
        .await??;
        let stdout = String::from_utf8_lossy(&out.stdout);
        anyhow::ensure!(
            out.status.success(),
            "schemathesis as {role} failed ({}):\n{}\n{}",
            out.status,
            stdout,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    desk.stop().await;
    Ok(())
}
