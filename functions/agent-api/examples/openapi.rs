//! Prints the agent API's OpenAPI description, as `GET /api/openapi.json`
//! answers it: `cargo run -q -p agent-api --example openapi > console/openapi.json`.

fn main() {
    let document = agent_api::openapi::document();
    println!(
        "{}",
        serde_json::to_string_pretty(&document).expect("the description serializes")
    );
}
