//! Signed checkpoints of the chain's head, in the C2SP signed-note format
//! (c2sp.org/signed-note) with a C2SP tlog-checkpoint body
//! (c2sp.org/tlog-checkpoint): origin, size, base64 hash, then our one
//! extension line, the time. Our "tree" is a hash chain: the size is the
//! head's sequence number and the hash is the head event's hash, not a
//! Merkle root. Keys are the Go `note` package's text forms, so its tools
//! (and any verifier written from the spec) read them.

use std::sync::Arc;

use aws_lc_rs::signature::{ED25519, Ed25519KeyPair, KeyPair, UnparsedPublicKey};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;

/// Ed25519's algorithm byte in C2SP signed-note keys and key ids.
const ALG_ED25519: u8 = 0x01;
/// The em dash and space that begin a signature line.
const SIG_PREFIX: &str = "\u{2014} ";

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum NoteError {
    #[error("the key is not a C2SP signed-note Ed25519 key: {0}")]
    Key(&'static str),
    #[error("the checkpoint is malformed: {0}")]
    Malformed(&'static str),
    #[error("no signature by key {0} verifies")]
    Unsigned(String),
    #[error("cannot sign: {0}")]
    Sign(&'static str),
}

/// The signed statement: the log `origin` had `size` events, the last with
/// `hash` (hex), at `time`.
#[derive(Debug, Clone, PartialEq)]
pub struct Checkpoint {
    pub origin: String,
    pub size: u64,
    pub hash: String,
    pub time: String,
}

impl Checkpoint {
    /// The note's text: what the signature covers.
    pub fn body(&self) -> Result<String, NoteError> {
        let raw = unhex(&self.hash).ok_or(NoteError::Malformed("the hash is not hex"))?;
        Ok(format!(
            "{}\n{}\n{}\ntime {}\n",
            self.origin,
            self.size,
            B64.encode(raw),
            self.time
        ))
    }

    fn parse(text: &str) -> Result<Checkpoint, NoteError> {
        let mut lines = text.lines();
        let mut next = |what| {
            lines
                .next()
                .filter(|l| !l.is_empty())
                .ok_or(NoteError::Malformed(what))
        };
        let origin = next("no origin line")?.to_owned();
        let size_line = next("no size line")?;
        if size_line.len() > 1 && size_line.starts_with('0') {
            return Err(NoteError::Malformed("the size has a leading zero"));
        }
        let size = size_line
            .parse()
            .map_err(|_| NoteError::Malformed("the size is not a number"))?;
        let raw = B64
            .decode(next("no hash line")?)
            .map_err(|_| NoteError::Malformed("the hash is not base64"))?;
        if raw.len() != 32 {
            return Err(NoteError::Malformed("the hash is not 32 bytes"));
        }
        let time = next("no time line")?
            .strip_prefix("time ")
            .ok_or(NoteError::Malformed("the fourth line is not `time …`"))?
            .to_owned();
        Ok(Checkpoint {
            origin,
            size,
            hash: super::event::hex(&raw),
            time,
        })
    }
}

/// The private key that signs checkpoints:
/// `PRIVATE+KEY+<name>+<hex key id>+<base64(0x01 || 32-byte seed)>`.
#[derive(Clone)]
pub struct Signer {
    name: String,
    pair: Arc<Ed25519KeyPair>,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Signer({}, [REDACTED])", self.name)
    }
}

impl Signer {
    pub fn parse(text: &str) -> Result<Signer, NoteError> {
        let rest = text
            .trim()
            .strip_prefix("PRIVATE+KEY+")
            .ok_or(NoteError::Key("no PRIVATE+KEY+ prefix"))?;
        let (name, id, key) = split_key(rest)?;
        let seed = key_bytes(key)?;
        let pair = Ed25519KeyPair::from_seed_unchecked(&seed)
            .map_err(|_| NoteError::Key("not an Ed25519 seed"))?;
        let signer = Signer {
            name: name.to_owned(),
            pair: Arc::new(pair),
        };
        if signer.verifier().id != id {
            return Err(NoteError::Key("its key id does not match its name and key"));
        }
        Ok(signer)
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The public half, to verify with.
    pub fn verifier(&self) -> Verifier {
        let mut public = [0u8; 32];
        public.copy_from_slice(self.pair.public_key().as_ref());
        Verifier::new(&self.name, public)
    }

    /// The whole signed note for `checkpoint`.
    pub fn sign(&self, checkpoint: &Checkpoint) -> Result<String, NoteError> {
        Ok(self.sign_text(&checkpoint.body()?))
    }

    /// `text` (ending in a newline) as a note signed by this key.
    pub fn sign_text(&self, text: &str) -> String {
        let mut sig = self.verifier().id.to_be_bytes().to_vec();
        sig.extend_from_slice(self.pair.sign(text.as_bytes()).as_ref());
        format!("{text}\n{SIG_PREFIX}{} {}\n", self.name, B64.encode(sig))
    }
}

/// A public key: `<name>+<hex key id>+<base64(0x01 || 32-byte key)>`.
#[derive(Debug, Clone, PartialEq)]
pub struct Verifier {
    name: String,
    id: u32,
    public: [u8; 32],
}

impl Verifier {
    fn new(name: &str, public: [u8; 32]) -> Verifier {
        let mut input = name.as_bytes().to_vec();
        input.extend_from_slice(&[b'\n', ALG_ED25519]);
        input.extend_from_slice(&public);
        let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &input);
        let mut id = [0u8; 4];
        id.copy_from_slice(&digest.as_ref()[..4]);
        Verifier {
            name: name.to_owned(),
            id: u32::from_be_bytes(id),
            public,
        }
    }

    pub fn parse(text: &str) -> Result<Verifier, NoteError> {
        let (name, id, key) = split_key(text.trim())?;
        let verifier = Verifier::new(name, key_bytes(key)?);
        if verifier.id != id {
            return Err(NoteError::Key("its key id does not match its name and key"));
        }
        Ok(verifier)
    }

    /// The checkpoint `note` states, if this key signed it.
    pub fn open(&self, note: &str) -> Result<Checkpoint, NoteError> {
        let body = self.open_text(note)?;
        let checkpoint = Checkpoint::parse(body)?;
        if checkpoint.body()? != body {
            return Err(NoteError::Malformed(
                "the body is not in its canonical form",
            ));
        }
        Ok(checkpoint)
    }

    /// The text of `note`, if this key signed it. The text ends at the last
    /// blank line: signature lines never contain one.
    pub fn open_text<'n>(&self, note: &'n str) -> Result<&'n str, NoteError> {
        let split = note
            .rfind("\n\n")
            .ok_or(NoteError::Malformed("no blank line before the signatures"))?;
        let (body, signatures) = (&note[..=split], &note[split + 2..]);
        match signatures
            .lines()
            .filter_map(|l| l.strip_prefix(SIG_PREFIX))
            .any(|l| self.signed(l, body))
        {
            true => Ok(body),
            false => Err(NoteError::Unsigned(self.to_string())),
        }
    }

    /// Whether a signature line of `note` claims this key (its name and
    /// id), valid or not: a note that names another key was signed by
    /// another (an earlier key, before a rotation).
    pub fn is_named_in(&self, note: &str) -> bool {
        let id = self.id.to_be_bytes();
        note.lines()
            .filter_map(|l| l.strip_prefix(SIG_PREFIX))
            .filter_map(|l| l.split_once(' '))
            .any(|(name, sig)| {
                name == self.name && B64.decode(sig).is_ok_and(|s| s.get(..4) == Some(&id[..]))
            })
    }

    fn signed(&self, line: &str, body: &str) -> bool {
        let Some((name, sig)) = line.split_once(' ') else {
            return false;
        };
        let Ok(sig) = B64.decode(sig) else {
            return false;
        };
        if name != self.name || sig.len() != 68 || sig[..4] != self.id.to_be_bytes() {
            return false;
        }
        UnparsedPublicKey::new(&ED25519, self.public)
            .verify(body.as_bytes(), &sig[4..])
            .is_ok()
    }
}

impl std::fmt::Display for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut key = vec![ALG_ED25519];
        key.extend_from_slice(&self.public);
        write!(f, "{}+{:08x}+{}", self.name, self.id, B64.encode(key))
    }
}

/// A new key named `name`: (the private key text, the verifier key text).
pub fn generate_key(name: &str) -> Result<(String, String), NoteError> {
    if !valid_name(name) {
        return Err(NoteError::Key("a name is printable, without spaces or '+'"));
    }
    let mut seed = [0u8; 32];
    aws_lc_rs::rand::fill(&mut seed).map_err(|_| NoteError::Sign("no randomness"))?;
    let pair = Ed25519KeyPair::from_seed_unchecked(&seed)
        .map_err(|_| NoteError::Sign("key generation failed"))?;
    let signer = Signer {
        name: name.to_owned(),
        pair: Arc::new(pair),
    };
    let verifier = signer.verifier();
    let mut key = vec![ALG_ED25519];
    key.extend_from_slice(&seed);
    let private = format!("PRIVATE+KEY+{name}+{:08x}+{}", verifier.id, B64.encode(key));
    Ok((private, verifier.to_string()))
}

fn valid_name(name: &str) -> bool {
    !name.is_empty() && name.chars().all(|c| c.is_ascii_graphic() && c != '+')
}

fn split_key(text: &str) -> Result<(&str, u32, &str), NoteError> {
    let mut parts = text.splitn(3, '+');
    let (Some(name), Some(id), Some(key)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(NoteError::Key("expected <name>+<id>+<key>"));
    };
    if !valid_name(name) {
        return Err(NoteError::Key("a name is printable, without spaces or '+'"));
    }
    let id = u32::from_str_radix(id, 16)
        .ok()
        .filter(|_| id.len() == 8)
        .ok_or(NoteError::Key("the key id is not 8 hex digits"))?;
    Ok((name, id, key))
}

fn key_bytes(key: &str) -> Result<[u8; 32], NoteError> {
    let raw = B64
        .decode(key)
        .map_err(|_| NoteError::Key("the key is not base64"))?;
    match raw.split_first() {
        Some((&ALG_ED25519, rest)) if rest.len() == 32 => {
            let mut out = [0u8; 32];
            out.copy_from_slice(rest);
            Ok(out)
        }
        _ => Err(NoteError::Key("not 0x01 followed by 32 bytes")),
    }
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}
