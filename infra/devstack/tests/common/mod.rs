//! What the runner's tests share: a moto of their own and a stack with a unique name.

#![allow(dead_code)]

use devstack::{Moto, StackDescription, create_stack_at, repo_root};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// A moto process and the stack created in it; moto dies with it.
pub struct LocalStack {
    pub moto: Moto,
    pub stack: StackDescription,
    description_path: PathBuf,
}

impl Drop for LocalStack {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.description_path);
    }
}

/// A stack name no other test run uses.
pub fn unique_name(prefix: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().subsec_nanos();
    format!(
        "{prefix}-{}-{nanos}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// Starts moto on a free port and creates the stack from `template.yaml` in it.
pub async fn local_stack(prefix: &str, params: &[(&str, &str)]) -> LocalStack {
    let root = repo_root();
    let moto = Moto::start(&root, 0).await.expect("moto starts");
    let name = unique_name(prefix);
    let description_path = std::env::temp_dir().join(format!("devstack-test-{name}.json"));
    let stack = create_stack_at(&root, &moto.endpoint, &name, params, &description_path)
        .await
        .expect("stack is created");
    LocalStack {
        moto,
        stack,
        description_path,
    }
}

/// An SQS client pointed at the stack's moto.
pub async fn sqs_client(stack: &StackDescription) -> aws_sdk_sqs::Client {
    aws_sdk_sqs::Client::new(&devstack::sdk_config(stack).await)
}

/// An HTTP client that does not keep connections, so shutdown is not held up.
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .expect("client builds")
}
