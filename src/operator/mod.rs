//! `guest-reset jobs ...`: the operator's client for bulk jobs, talking to a
//! running service over its HTTP API (it shares no code with the service but
//! the wire format).

mod api;
mod job;
mod problem;
mod watch;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Subcommand};

use api::Api;
use job::Job;

/// Exit codes, as the help texts promise.
const SOME_ITEMS_FAILED: u8 = 2;

const EXIT_CODES: &str = "Exit status: 0 when every item went through (or was cancelled), \
2 when some item failed, was denied or ended unknown (see `jobs results --state`), \
1 on any error (the service's problem is printed to stderr).";

/// Where the service is and who is asking.
#[derive(Args, Debug)]
pub struct Conn {
    /// The service's base URL, e.g. https://guest-reset.example.
    #[arg(long, env = "GUEST_RESET_URL")]
    url: String,
    /// A file holding the bearer token (surrounding whitespace is ignored).
    #[arg(long, env = "GUEST_RESET_TOKEN_FILE")]
    token_file: PathBuf,
}

#[derive(Subcommand, Debug)]
pub enum JobsCommand {
    /// Submit a job (FILE: a .csv with columns user,new_email,ticket,reason
    /// and optional tenant, or a .json job), then watch it to the end.
    /// Stopping the watch does not stop the job (`jobs cancel` does).
    #[command(after_help = EXIT_CODES)]
    Submit {
        file: PathBuf,
        /// Only check the job: print what would be refused and why; nothing
        /// is recorded or changed (exit 0 whatever the report says).
        #[arg(long)]
        dry_run: bool,
        /// The tenant (name or directory id) of CSV rows without a `tenant`
        /// cell; a JSON job names it in its body.
        #[arg(long)]
        tenant: Option<String>,
        #[command(flatten)]
        conn: Conn,
    },
    /// Show a job's progress until it is finished or cancelled, then its
    /// summary.
    #[command(after_help = EXIT_CODES)]
    Watch {
        id: String,
        #[command(flatten)]
        conn: Conn,
    },
    /// Write a job's items as CSV to stdout.
    Results {
        id: String,
        /// Only items in this status (e.g. failed, denied, unknown).
        #[arg(long, value_name = "STATUS")]
        state: Option<String>,
        #[command(flatten)]
        conn: Conn,
    },
    /// Cancel a job: its queued items are not started (running ones finish).
    Cancel {
        id: String,
        #[command(flatten)]
        conn: Conn,
    },
    /// Pause a job: queued items wait (running ones finish).
    Pause {
        id: String,
        #[command(flatten)]
        conn: Conn,
    },
    /// Resume a paused job.
    Resume {
        id: String,
        #[command(flatten)]
        conn: Conn,
    },
}

/// Run one `jobs` command; errors are printed here, as `error: ...`.
pub async fn run(command: JobsCommand) -> ExitCode {
    match dispatch(command).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn dispatch(command: JobsCommand) -> anyhow::Result<ExitCode> {
    use JobsCommand::*;
    match command {
        Submit {
            file,
            dry_run,
            tenant,
            conn,
        } => submit(&conn.api()?, &file, dry_run, tenant.as_deref()).await,
        Watch { id, conn } => watch(&conn.api()?, &id).await,
        Results { id, state, conn } => {
            let mut out = std::io::stdout().lock();
            let api = conn.api()?;
            api.results(&id, state.as_deref(), &mut out).await?;
            Ok(ExitCode::SUCCESS)
        }
        Cancel { id, conn } => act(&conn.api()?, &id, "cancel").await,
        Pause { id, conn } => act(&conn.api()?, &id, "pause").await,
        Resume { id, conn } => act(&conn.api()?, &id, "resume").await,
    }
}

impl Conn {
    fn api(&self) -> anyhow::Result<Api> {
        Api::new(&self.url, &self.token_file)
    }
}

async fn submit(
    api: &Api,
    file: &Path,
    dry_run: bool,
    tenant: Option<&str>,
) -> anyhow::Result<ExitCode> {
    let content_type = content_type(file)?;
    let body =
        std::fs::read(file).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
    if dry_run {
        print!(
            "{}",
            api.dry_run(body, content_type, tenant).await?.report()
        );
        return Ok(ExitCode::SUCCESS);
    }
    let job = api.create(body, content_type, tenant).await?;
    eprintln!("submitted job {}", job.id);
    watch(api, &job.id).await
}

/// The media type the service expects for a job file, by its extension.
fn content_type(file: &Path) -> anyhow::Result<&'static str> {
    let extension = file.extension().and_then(|e| e.to_str()).unwrap_or("");
    match extension.to_ascii_lowercase().as_str() {
        "csv" => Ok("text/csv"),
        "json" => Ok("application/json"),
        _ => anyhow::bail!("{}: a job file ends in .csv or .json", file.display()),
    }
}

async fn watch(api: &Api, id: &str) -> anyhow::Result<ExitCode> {
    let job = watch::follow(api, id).await?;
    let elapsed = job.elapsed(time::OffsetDateTime::now_utc());
    print!("{}", job.summary(elapsed));
    Ok(exit_code(&job))
}

fn exit_code(job: &Job) -> ExitCode {
    match job.has_trouble() {
        true => ExitCode::from(SOME_ITEMS_FAILED),
        false => ExitCode::SUCCESS,
    }
}

async fn act(api: &Api, id: &str, verb: &str) -> anyhow::Result<ExitCode> {
    let job = api.act(id, verb).await?;
    println!("{}", job.progress_line());
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser, Debug)]
    struct Cli {
        #[command(subcommand)]
        jobs: JobsCommand,
    }

    #[test]
    fn job_files_are_sent_by_their_extension() {
        assert_eq!(content_type(Path::new("a/b.csv")).unwrap(), "text/csv");
        assert_eq!(content_type(Path::new("B.CSV")).unwrap(), "text/csv");
        assert_eq!(
            content_type(Path::new("j.json")).unwrap(),
            "application/json"
        );
        let err = content_type(Path::new("job.txt")).unwrap_err().to_string();
        assert_eq!(err, "job.txt: a job file ends in .csv or .json");
        assert!(content_type(Path::new("csv")).is_err());
    }

    #[test]
    fn trouble_exits_with_two() {
        let job = |counts| {
            serde_json::from_value::<Job>(serde_json::json!(
                {"id": "j", "state": "finished", "counts": counts}
            ))
            .unwrap()
        };
        let fine = job(serde_json::json!({"succeeded": 1, "cancelled": 1}));
        assert_eq!(exit_code(&fine), ExitCode::SUCCESS);
        let bad = job(serde_json::json!({"succeeded": 1, "unknown": 1}));
        assert_eq!(exit_code(&bad), ExitCode::from(2));
    }

    #[test]
    fn the_command_line_parses_and_documents_the_exit_codes() {
        let args = [
            "x",
            "submit",
            "j.csv",
            "--dry-run",
            "--url",
            "http://h",
            "--token-file",
            "t",
        ];
        let cli = Cli::try_parse_from(args).unwrap();
        assert!(matches!(
            cli.jobs,
            JobsCommand::Submit { dry_run: true, .. }
        ));
        let args = [
            "x",
            "results",
            "job-1",
            "--state",
            "failed",
            "--url",
            "u",
            "--token-file",
            "t",
        ];
        let cli = Cli::try_parse_from(args).unwrap();
        assert!(matches!(cli.jobs, JobsCommand::Results { state: Some(s), .. } if s == "failed"));
        let help = Cli::try_parse_from(["x", "watch", "--help"])
            .unwrap_err()
            .to_string();
        assert!(help.contains("2 when some item failed"), "{help}");
    }
}
