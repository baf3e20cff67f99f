//! The `keyway` binary: parse the config, set up tracing, serve.

use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cfg = keyway_server::config::Config::parse();
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
