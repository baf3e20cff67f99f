//! The `keyway` binary: parse the config, set up tracing, serve (or run a command: `keyway
//! migrate`, `keyway audit verify`).

use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cfg = keyway_server::config::Config::parse();
    if let Some(command) = &cfg.command {
        keyway_server::telemetry::init_stderr(cfg.log_format);
        return keyway_server::commands::run(command, &cfg, &mut std::io::stdout()).await;
    }
    keyway_server::telemetry::init(cfg.log_format);
    match keyway_server::run(cfg).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            eprintln!("keyway: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
