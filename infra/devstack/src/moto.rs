//! moto in server mode as a child process, and the stack created in it from
//! `template.yaml` by `infra/local/stack.py`.

use crate::description::StackDescription;
use anyhow::{Context, bail};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::process::{Child, Command};

/// How long moto may take to answer after it is started (its imports are slow).
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// A moto server child process (`infra/local/moto_server.py`: moto's server
/// with DynamoDB requests applied one at a time). It is killed on
/// [`Moto::shutdown`] or when dropped.
pub struct Moto {
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
    /// The port it listens on.
    pub port: u16,
    child: Option<Child>,
    log_path: PathBuf,
}

impl Moto {
    /// Starts `infra/local/moto_server.py` with the venv's Python on 127.0.0.1
    /// (`port` 0 picks a free port) and waits until it answers HTTP.
    pub async fn start(repo_root: &Path, port: u16) -> anyhow::Result<Moto> {
        let program = repo_root.join(".venv-local/bin/python3");
        let server = repo_root.join("infra/local/moto_server.py");
        if !program.exists() {
            bail!(
                "{} not found: create the venv with `python3 -m venv .venv-local && \
                 .venv-local/bin/pip install -r infra/local/requirements.txt` (or `make dev`)",
                program.display()
            );
        }
        let port = if port == 0 { free_port()? } else { port };
        let log_dir = repo_root.join(".local");
        std::fs::create_dir_all(&log_dir).with_context(|| format!("creating {}", log_dir.display()))?;
        let log_path = log_dir.join(format!("moto-{port}.log"));
        let log = std::fs::File::create(&log_path).with_context(|| format!("creating {}", log_path.display()))?;
        // moto logs every request on stderr; a file keeps a pipe from filling up and blocking it.
        let child = Command::new(&program)
            .arg(&server)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {}", program.display()))?;
        let mut moto = Moto {
            endpoint: format!("http://127.0.0.1:{port}"),
            port,
            child: Some(child),
            log_path,
        };
        moto.wait_until_ready().await?;
        tracing::info!(endpoint = %moto.endpoint, "moto is up");
        Ok(moto)
    }

    /// The file moto's output goes to.
    pub fn log_path(&self) -> &Path {
        &self.log_path
    }

    async fn wait_until_ready(&mut self) -> anyhow::Result<()> {
        let client = reqwest::Client::builder().timeout(Duration::from_secs(2)).build()?;
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Some(child) = self.child.as_mut()
                && let Some(status) = child.try_wait()?
            {
                bail!(
                    "moto_server exited with {status} before answering:\n{}",
                    self.log_tail()
                );
            }
            if client.get(format!("{}/moto-api/", self.endpoint)).send().await.is_ok() {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!(
                    "moto_server did not answer on {} within {START_TIMEOUT:?}:\n{}",
                    self.endpoint,
                    self.log_tail()
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log_path).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }

    /// Kills moto and waits for it to exit.
    pub async fn shutdown(mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill().await;
        }
        let _ = std::fs::remove_file(&self.log_path);
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        if let Some(child) = self.child.as_mut() {
            let _ = child.start_kill();
        }
        let _ = std::fs::remove_file(&self.log_path);
    }
}

/// A port free on 127.0.0.1 right now.
pub fn free_port() -> anyhow::Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").context("finding a free port")?;
    Ok(listener.local_addr()?.port())
}

/// Creates the stack `stack_name` from `template.yaml` on the moto at `endpoint`
/// with `infra/local/stack.py`, writes the description to
/// `.local/<stack_name>.json` and parses it. `params` are template parameters.
pub async fn create_stack(
    repo_root: &Path,
    endpoint: &str,
    stack_name: &str,
    params: &[(&str, &str)],
) -> anyhow::Result<StackDescription> {
    let out = repo_root.join(".local").join(format!("{stack_name}.json"));
    create_stack_at(repo_root, endpoint, stack_name, params, &out).await
}

/// Like [`create_stack`], writing the description to `out`.
pub async fn create_stack_at(
    repo_root: &Path,
    endpoint: &str,
    stack_name: &str,
    params: &[(&str, &str)],
    out: &Path,
) -> anyhow::Result<StackDescription> {
    let python = repo_root.join(".venv-local/bin/python");
    let script = repo_root.join("infra/local/stack.py");
    if let Some(dir) = out.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let mut command = Command::new(&python);
    command
        .arg(&script)
        .args(["create", "--endpoint", endpoint, "--stack-name", stack_name, "--out"])
        .arg(out)
        .current_dir(repo_root)
        .stdin(Stdio::null())
        .kill_on_drop(true);
    for (key, value) in params {
        command.arg("--param").arg(format!("{key}={value}"));
    }
    let output = command
        .output()
        .await
        .with_context(|| format!("running {} {}", python.display(), script.display()))?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        bail!(
            "stack.py create {stack_name} failed ({}):\n{}",
            output.status,
            stderr.trim()
        );
    }
    tracing::info!(stack = stack_name, summary = %stderr.trim(), "stack created");
    StackDescription::read(out)
}
