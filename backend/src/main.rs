use clap::Parser;
use gridwork::cli::{self, Cli};
use gridwork::telemetry;

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    telemetry::init(cli.log_format, cli.log.as_deref());
    // actix's system is a tokio runtime: CLI work and blocking calls run on it too.
    let result = actix_web::rt::System::new().block_on(cli::run(cli));
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
