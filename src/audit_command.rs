//! `guest-reset audit …`: verify the trail in the database, sign a
//! checkpoint now, make a signing key. Reads only the database and the
//! `GUEST_RESET_AUDIT_*` settings, so an auditor's machine needs nothing else.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;

use crate::audit::{Signer, Verifier};
use crate::reset::verify_trail::{VerifyError, VerifyOptions, verify};

#[derive(Subcommand)]
pub enum AuditCommand {
    /// Recompute the chain; say "ok up to SEQ" or name the first event (or
    /// reset row) that does not match and why (exit 1).
    Verify {
        /// Start at this event, trusting its `prev` (default: the oldest kept).
        #[arg(long)]
        from: Option<u64>,
        /// A signed checkpoint kept off the box (repeatable): the log must
        /// still hold what it signed.
        #[arg(long, value_name = "FILE")]
        checkpoint: Vec<PathBuf>,
        /// The verifier key (`name+id+key`), or a file holding it; default:
        /// the public half of GUEST_RESET_AUDIT_SIGNING_KEY(_FILE).
        #[arg(long)]
        key: Option<String>,
    },
    /// Sign the head now (unless the newest checkpoint covers it), keep and
    /// publish it as the service would, and print it.
    Checkpoint,
    /// Make an Ed25519 signing key: the private key goes to --out (0600,
    /// never overwritten), the verifier key to standard output.
    Keygen {
        /// The key's name (e.g. audit.contoso.example): the checkpoint's
        /// signature line names it.
        #[arg(long)]
        name: String,
        #[arg(long)]
        out: PathBuf,
    },
}

pub async fn run(command: AuditCommand) -> anyhow::Result<ExitCode> {
    match command {
        AuditCommand::Keygen { name, out } => {
            let (private, public) = crate::audit::generate_key(&name)?;
            crate::audit::write_key_file(&out, &private)
                .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", out.display()))?;
            println!("{public}");
            eprintln!(
                "private key written to {} (0600); the line above is the verifier key",
                out.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        AuditCommand::Checkpoint => {
            let (database, audit) = crate::config::Config::audit_from_env()?;
            let store = crate::store::Store::connect(&database).await?;
            let http = crate::reset::trail::checkpoint_client()?;
            match crate::reset::trail::sign_checkpoint(&store, &audit, Some(&http)).await? {
                Some(checkpoint) => print!("{}", checkpoint.note),
                None => anyhow::bail!("no signing key: set GUEST_RESET_AUDIT_SIGNING_KEY_FILE"),
            }
            Ok(ExitCode::SUCCESS)
        }
        AuditCommand::Verify {
            from,
            checkpoint,
            key,
        } => verify_command(from, checkpoint, key).await,
    }
}

async fn verify_command(
    from: Option<u64>,
    files: Vec<PathBuf>,
    key: Option<String>,
) -> anyhow::Result<ExitCode> {
    let (database, audit) = crate::config::Config::audit_from_env()?;
    let key = match key {
        Some(text) => Some(verifier(&text)?),
        None => audit.signer.as_ref().map(Signer::verifier),
    };
    let mut checkpoints = Vec::new();
    for file in &files {
        checkpoints.push(
            std::fs::read_to_string(file)
                .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?,
        );
    }
    let store = crate::store::Store::connect(&database).await?;
    let options = VerifyOptions {
        from,
        checkpoints,
        key,
    };
    match verify(&store, &options).await {
        Ok(report) => {
            println!(
                "ok up to {}: events {}..={} chained, head {}",
                report.last, report.first, report.last, report.hash
            );
            if !report.checkpoints.is_empty() {
                println!("checkpoints verified at {:?}", report.checkpoints);
            }
            let pruned = match report.rows_not_covered {
                0 => String::new(),
                n => format!(
                    " ({n} more without events to compare: pruned, before --from, or moved while verifying)"
                ),
            };
            println!(
                "{} reset rows agree with their last events{pruned}",
                report.rows - report.rows_not_covered
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(VerifyError::Tampered(finding)) => {
            println!("FAILED: {finding}");
            Ok(ExitCode::from(1))
        }
        Err(e) => Err(e.into()),
    }
}

/// A verifier key given as text, or as a file holding it.
fn verifier(text: &str) -> anyhow::Result<Verifier> {
    let text = match std::path::Path::new(text).is_file() {
        true => std::fs::read_to_string(text)?,
        false => text.to_owned(),
    };
    Ok(Verifier::parse(&text)?)
}
