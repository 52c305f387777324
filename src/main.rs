use clap::Parser;

use casetrack::cli::{self, Cli};
use casetrack::config::Settings;

#[actix_web::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let settings = match Settings::load(&cli.config_dir) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("casetrack: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    casetrack::telemetry::init(&settings.log);
    match cli::run(cli, settings).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("casetrack: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
