use clap::Parser;

use casetrack::cli::{self, Cli};
use casetrack::config::Settings;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let settings = match Settings::load(cli.config_dir.as_deref()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("casetrack: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    casetrack::telemetry::init(&settings.log);
    // Every command needs the database: one clear line, not the pool's retries, when a
    // PostgreSQL database is missing or refuses the login (a SQLite file is created).
    let url = settings.db_url().expect("validated with the settings");
    if let Err(e) = url.check_server_reachable() {
        eprintln!("casetrack: {e}");
        return std::process::ExitCode::from(2);
    }
    match cli::run(cli, settings).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("casetrack: {}", e.message);
            std::process::ExitCode::from(if e.usage { 2 } else { 1 })
        }
    }
}
