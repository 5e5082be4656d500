//! The tamper-evident audit trail, as data: the hash chain's event and its
//! canonical encoding (`event.rs`), signed checkpoints in the C2SP
//! signed-note format (`note.rs`), and the verification of a stream of
//! events against them (`verify.rs`). Pure: it reads no database and
//! serves nothing; the store appends through it, the use case and the
//! command line read through it. docs/audit.md documents the encoding so
//! another program can recompute every hash.

mod event;
mod note;
mod verify;

pub use event::{Draft, Encoded, Event, GENESIS, canonical_json, digest, preimage};
pub use note::{Checkpoint, NoteError, Signer, Verifier, generate_key};
pub use verify::{Finding, Report, Walk};

#[cfg(test)]
mod tests;

/// Write a private key to `path`, readable by its owner only (0600), never
/// replacing an existing file.
pub fn write_key_file(path: &std::path::Path, key: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    options.open(path)?.write_all(format!("{key}\n").as_bytes())
}
