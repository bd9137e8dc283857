//! The agents' console end to end in a real Chromium (Debian's `chromium`,
//! driven by `playwright-core`; `make test` installs both): the script
//! `console/e2e/run.mjs` works the local stack as agents, a lead and an admin
//! would, checks every view with axe-core and fails on any Content-Security-
//! Policy violation. Screenshots and the axe report land in
//! `.local/console-e2e/`.
//!
//! Also here: the console's API client cannot drift from the agent API. Its
//! types are generated from `console/openapi.json`, which must be the
//! description the API serves (`npm test` checks the generated types against
//! that file).

use devstack::repo_root;
use helpdesk_tests::Helpdesk;
use helpdesk_tests::pictures::{photo, save_jpeg};
use std::process::Command;
use std::time::Duration;

#[test]
fn the_consoles_copy_of_the_openapi_description_is_the_one_the_api_serves() {
    let path = repo_root().join("console/openapi.json");
    let copy: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).expect("console/openapi.json"))
        .expect("console/openapi.json is JSON");
    let served = serde_json::to_value(agent_api::openapi::document()).unwrap();
    assert!(
        copy == served,
        "console/openapi.json is not what the agent API serves: run \
         `cargo run -q -p agent-api --example openapi > console/openapi.json && (cd console && npm run gen:api)`"
    );
}

#[tokio::test]
async fn agents_a_lead_and_an_admin_work_the_desk_in_the_console() -> anyhow::Result<()> {
    let root = repo_root();
    let console = root.join("console");
    anyhow::ensure!(
        console.join("dist/index.html").exists(),
        "the console is not built (console/dist): `make test` builds it (`make console`)"
    );
    anyhow::ensure!(
        console.join("node_modules/playwright-core").exists(),
        "console/node_modules is missing: `make test` installs it (`make console`)"
    );
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    anyhow::ensure!(
        std::path::Path::new(&chromium).exists(),
        "no Chromium at {chromium}: `make test` installs Debian's chromium package"
    );

    let desk = Helpdesk::start().await?;
    let out = root.join(".local/console-e2e");
    std::fs::create_dir_all(&out)?;
    let picture = out.join("parcel.jpg");
    save_jpeg(&photo(7), &picture, 90);

    let script = console.join("e2e/run.mjs");
    let mut command = Command::new("node");
    command
        .arg(&script)
        .current_dir(&console)
        .env("HELPDESK_URL", &desk.runner.http_url)
        .env("SIM_URL", &desk.sim.url)
        .env("PHOTO", &picture)
        .env("OUT", &out)
        .env("CHROMIUM", &chromium);
    let run = tokio::time::timeout(
        Duration::from_secs(600),
        tokio::task::spawn_blocking(move || command.output()),
    )
    .await;
    desk.stop().await;
    let output = run.map_err(|_| anyhow::anyhow!("the console end-to-end run took over 10 minutes"))???;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    anyhow::ensure!(
        output.status.success(),
        "the console end-to-end run failed ({}):\n{stdout}\n{stderr}",
        output.status
    );
    // The run saved a screenshot of each view and the accessibility report.
    for view in [
        "signin",
        "unassigned",
        "ticket",
        "collision",
        "dashboard",
        "admin",
        "ticket-tablet",
    ] {
        anyhow::ensure!(out.join(format!("{view}.png")).exists(), "no screenshot of {view}");
    }
    let report: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(out.join("axe-report.json"))?)?;
    anyhow::ensure!(
        report.as_array().is_some_and(|views| views.len() >= 7),
        "axe checked too few views: {report}"
    );
    println!("{stdout}");
    Ok(())
}
