//! Checkpoints (C2SP `tlog-checkpoint` v1.0.0) signed as C2SP signed notes with Ed25519.
//!
//! A checkpoint body is three lines: the log's origin, the tree size in decimal and the
//! base64 root hash. It is published as a signed note: the body, an empty line and one or
//! more signature lines `— <key name> <base64(key id || signature)>`. The log signs with a key
//! whose name equals the origin; witnesses may add cosignatures, which verifiers that do not
//! know them ignore.
//!
//! Signing and note parsing are delegated to the `signed_note` crate (a port of Go
//! `golang.org/x/mod/sumdb/note`); this module adds strict checkpoint bodies, key handling
//! and errors.

use crate::merkle::Hash;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use ed25519_dalek::SigningKey;
use rand_core::CryptoRngCore;
use signed_note::{Note, NoteError, StandardVerifier, VerificationError, VerifierList};
use std::fmt;
use thiserror::Error;

/// Signature type byte of Ed25519 keys in signed notes.
const ALG_ED25519: u8 = 0x01;

/// A checkpoint: the log's claim that its tree of `size` leaves has root `root`.
///
/// Extension lines are not supported: Lianzheng never writes them (monitors cannot audit
/// them), and [`Checkpoint::parse`] rejects a body that has any.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Checkpoint {
    /// Unique log identity, a schema-less URL such as `log.example.gov.cn/2026`.
    pub origin: String,
    /// Number of leaves.
    pub size: u64,
    /// RFC 6962 root hash of the first `size` leaves.
    pub root: Hash,
}

/// Errors from checkpoints, keys and signed notes.
#[derive(Debug, Error)]
pub enum CheckpointError {
    /// The checkpoint body breaks `tlog-checkpoint`.
    #[error("malformed checkpoint: {reason}")]
    Malformed {
        /// What is wrong.
        reason: &'static str,
    },
    /// The checkpoint body has extension lines, which this log does not support.
    #[error("checkpoint extension lines are not supported")]
    ExtensionLines,
    /// A key name (which is also the log origin) that signed notes cannot carry.
    #[error("invalid key name `{name}`: it must be non-empty, without spaces or `+`")]
    InvalidKeyName {
        /// The rejected name.
        name: String,
    },
    /// Signer key text that is not `PRIVATE+KEY+<name>+<id>+<base64(0x01 || seed)>`.
    #[error("malformed signer key")]
    MalformedSignerKey,
    /// Verifier key text that is not a valid Ed25519 `<name>+<id>+<base64(0x01 || key)>`.
    #[error("malformed verifier key `{vkey}`")]
    MalformedVerifierKey {
        /// The rejected key text.
        vkey: String,
    },
    /// The same (name, key id) appears twice among the verifier keys.
    #[error("verifier key `{name}+{key_id:08x}` is given more than once")]
    AmbiguousKey {
        /// Key name.
        name: String,
        /// Key id.
        key_id: u32,
    },
    /// The note text is not a well-formed signed note.
    #[error("malformed signed note")]
    MalformedNote,
    /// No signature from a known key.
    #[error("note has no signature from a known key")]
    NoKnownSignature,
    /// A signature by a known key does not verify.
    #[error("signature by `{name}+{key_id:08x}` does not verify")]
    BadSignature {
        /// Key name.
        name: String,
        /// Key id.
        key_id: u32,
    },
    /// A log signer only signs checkpoints of its own origin.
    #[error("checkpoint origin `{origin}` does not match the signing key name `{key_name}`")]
    OriginMismatch {
        /// Origin of the checkpoint.
        origin: String,
        /// Name of the signing key.
        key_name: String,
    },
    /// The signature library failed.
    #[error("signing failed")]
    Signing,
}

impl Checkpoint {
    /// The checkpoint body: `<origin>\n<size>\n<base64 root>\n`.
    ///
    /// # Errors
    ///
    /// [`CheckpointError::Malformed`] if the origin is empty or contains a control character
    /// (a newline would forge extra lines).
    pub fn to_text(&self) -> Result<String, CheckpointError> {
        check_origin(&self.origin)?;
        Ok(format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            BASE64.encode(self.root)
        ))
    }

    /// Parses a checkpoint body strictly: exactly three lines, each ending in `\n`; a non-empty
    /// origin; a decimal size without sign or leading zeros; a canonical base64 32-byte root.
    ///
    /// # Errors
    ///
    /// [`CheckpointError::Malformed`], or [`CheckpointError::ExtensionLines`] for a body with
    /// extension lines.
    pub fn parse(text: &str) -> Result<Checkpoint, CheckpointError> {
        let malformed = |reason| CheckpointError::Malformed { reason };
        let body = text
            .strip_suffix('\n')
            .ok_or_else(|| malformed("the last line does not end with a newline"))?;
        let mut lines = body.split('\n');
        let (Some(origin), Some(size), Some(root)) = (lines.next(), lines.next(), lines.next())
        else {
            return Err(malformed("fewer than three lines"));
        };
        let extensions: Vec<&str> = lines.collect();
        if extensions.iter().any(|l| l.is_empty()) {
            return Err(malformed("empty extension line"));
        }
        if !extensions.is_empty() {
            return Err(CheckpointError::ExtensionLines);
        }
        check_origin(origin)?;
        let size = crate::parse_canonical_decimal(size)
            .ok_or_else(|| malformed("tree size is not a canonical decimal number"))?;
        let root = BASE64
            .decode(root)
            .ok()
            .and_then(|r| Hash::try_from(r).ok())
            .ok_or_else(|| malformed("root hash is not base64 of 32 bytes"))?;
        Ok(Checkpoint {
            origin: origin.to_owned(),
            size,
            root,
        })
    }
}

fn check_origin(origin: &str) -> Result<(), CheckpointError> {
    if origin.is_empty() {
        return Err(CheckpointError::Malformed {
            reason: "empty origin",
        });
    }
    if origin.chars().any(char::is_control) {
        return Err(CheckpointError::Malformed {
            reason: "control character in origin",
        });
    }
    Ok(())
}

/// The log's Ed25519 signing key, named after the log origin.
///
/// `Debug` never prints the key material.
#[derive(Clone)]
pub struct LogSigner {
    name: String,
    key_id: u32,
    signing_key: SigningKey,
}

impl fmt::Debug for LogSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LogSigner")
            .field("name", &self.name)
            .field("key_id", &format_args!("{:08x}", self.key_id))
            .finish_non_exhaustive()
    }
}

impl LogSigner {
    /// Generates a new key named `origin` from a cryptographic random number generator.
    ///
    /// # Errors
    ///
    /// [`CheckpointError::InvalidKeyName`] if `origin` is not a valid key name.
    pub fn generate<R: CryptoRngCore + ?Sized>(
        origin: &str,
        rng: &mut R,
    ) -> Result<LogSigner, CheckpointError> {
        check_key_name(origin)?;
        Ok(LogSigner::new(origin, SigningKey::generate(rng)))
    }

    /// Loads a key from its signer-key text `PRIVATE+KEY+<name>+<hex id>+<base64(0x01 || seed)>`
    /// (the Go `sumdb/note` format), checking that the id matches the key.
    ///
    /// # Errors
    ///
    /// [`CheckpointError::MalformedSignerKey`] for anything but a well-formed Ed25519 key with
    /// a valid name and matching id.
    pub fn from_skey(text: &str) -> Result<LogSigner, CheckpointError> {
        let bad = || CheckpointError::MalformedSignerKey;
        let rest = text.strip_prefix("PRIVATE+KEY+").ok_or_else(bad)?;
        let (name, rest) = rest.split_once('+').ok_or_else(bad)?;
        let (id_hex, key_b64) = rest.split_once('+').ok_or_else(bad)?;
        check_key_name(name).map_err(|_| bad())?;
        let id = parse_key_id(id_hex).ok_or_else(bad)?;
        let key = BASE64.decode(key_b64).map_err(|_| bad())?;
        let (&alg, seed) = key.split_first().ok_or_else(bad)?;
        let seed: [u8; 32] = seed.try_into().map_err(|_| bad())?;
        if alg != ALG_ED25519 {
            return Err(bad());
        }
        let signer = LogSigner::new(name, SigningKey::from_bytes(&seed));
        if signer.key_id != id {
            return Err(bad());
        }
        Ok(signer)
    }

    fn new(name: &str, signing_key: SigningKey) -> LogSigner {
        let public = [
            &[ALG_ED25519],
            signing_key.verifying_key().as_bytes().as_slice(),
        ]
        .concat();
        LogSigner {
            name: name.to_owned(),
            key_id: signed_note::key_id(name, &public),
            signing_key,
        }
    }

    /// Key name; for a log key this is the origin.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Key id: the first four bytes of `SHA-256(name || "\n" || 0x01 || public key)`.
    #[must_use]
    pub fn key_id(&self) -> u32 {
        self.key_id
    }

    /// The secret signer-key text, `PRIVATE+KEY+<name>+<hex id>+<base64(0x01 || seed)>`.
    /// Keep it out of logs and backups with long retention.
    #[must_use]
    pub fn skey_text(&self) -> String {
        let secret = [&[ALG_ED25519], self.signing_key.as_bytes().as_slice()].concat();
        format!(
            "PRIVATE+KEY+{}+{:08x}+{}",
            self.name,
            self.key_id,
            BASE64.encode(secret)
        )
    }

    /// The public verifier-key text, `<name>+<hex id>+<base64(0x01 || public key)>`.
    #[must_use]
    pub fn vkey_text(&self) -> String {
        signed_note::new_ed25519_verifier_key(&self.name, &self.signing_key.verifying_key())
    }

    /// Signs an arbitrary note text (which must end in a newline) and returns the signed note.
    ///
    /// # Errors
    ///
    /// [`CheckpointError::MalformedNote`] if the text is not valid note text (control
    /// characters, no final newline, too large).
    pub fn sign_note(&self, text: &str) -> Result<String, CheckpointError> {
        let mut note =
            Note::new(text.as_bytes(), &[]).map_err(|_| CheckpointError::MalformedNote)?;
        note.add_sigs(&[&NoteSigner(self)]).map_err(|e| match e {
            NoteError::MalformedNote => CheckpointError::MalformedNote,
            _ => CheckpointError::Signing,
        })?;
        String::from_utf8(note.to_bytes()).map_err(|_| CheckpointError::MalformedNote)
    }

    /// Signs a checkpoint of this log and returns the signed note text.
    ///
    /// # Errors
    ///
    /// [`CheckpointError::OriginMismatch`] if the checkpoint's origin is not this key's name
    /// (a log key signs only its own log); errors of [`Checkpoint::to_text`].
    pub fn sign_checkpoint(&self, checkpoint: &Checkpoint) -> Result<String, CheckpointError> {
        if checkpoint.origin != self.name {
            return Err(CheckpointError::OriginMismatch {
                origin: checkpoint.origin.clone(),
                key_name: self.name.clone(),
            });
        }
        self.sign_note(&checkpoint.to_text()?)
    }
}

/// Presents a [`LogSigner`] to `signed_note` without making that trait part of our API.
struct NoteSigner<'a>(&'a LogSigner);

impl signed_note::Signer for NoteSigner<'_> {
    fn name(&self) -> &str {
        &self.0.name
    }

    fn key_id(&self) -> u32 {
        self.0.key_id
    }

    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, ed25519_dalek::SignatureError> {
        use ed25519_dalek::Signer as _;
        Ok(self.0.signing_key.try_sign(msg)?.to_vec())
    }
}

/// One signature line of a note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteSignature {
    /// Key name.
    pub name: String,
    /// Key id.
    pub key_id: u32,
    /// Signature bytes (without the key id).
    pub signature: Vec<u8>,
}

/// A signed note whose signatures were checked against known keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenedNote {
    /// The note text, ending in a newline.
    pub text: String,
    /// Signatures by known keys, all verified (repeats dropped).
    pub verified: Vec<NoteSignature>,
    /// Signatures by unknown keys, not checked (exact repeats dropped).
    pub unverified: Vec<NoteSignature>,
}

/// Parses a signed note and verifies its signatures against the verifier keys `vkeys`.
///
/// Signatures by unknown keys are ignored (reported in [`OpenedNote::unverified`]); a failing
/// signature by a known key rejects the note; at least one known key must have signed. Notes
/// with more than 100 signatures are rejected as malformed.
///
/// # Errors
///
/// [`CheckpointError::MalformedVerifierKey`], [`CheckpointError::AmbiguousKey`],
/// [`CheckpointError::MalformedNote`], [`CheckpointError::BadSignature`] or
/// [`CheckpointError::NoKnownSignature`].
pub fn open_note(note_text: &str, vkeys: &[&str]) -> Result<OpenedNote, CheckpointError> {
    let mut verifiers: Vec<Box<dyn signed_note::Verifier>> = Vec::with_capacity(vkeys.len());
    for vkey in vkeys {
        verifiers.push(Box::new(parse_vkey(vkey)?));
    }
    let note =
        Note::from_bytes(note_text.as_bytes()).map_err(|_| CheckpointError::MalformedNote)?;
    let (verified, unverified) =
        note.verify(&VerifierList::new(verifiers))
            .map_err(|e| match e {
                NoteError::InvalidSignature { name, id } => {
                    CheckpointError::BadSignature { name, key_id: id }
                }
                NoteError::UnverifiedNote => CheckpointError::NoKnownSignature,
                NoteError::VerificationError(VerificationError::AmbiguousKey { name, id }) => {
                    CheckpointError::AmbiguousKey { name, key_id: id }
                }
                _ => CheckpointError::MalformedNote,
            })?;
    let text =
        String::from_utf8(note.text().to_vec()).map_err(|_| CheckpointError::MalformedNote)?;
    let convert = |sigs: Vec<signed_note::Signature>| {
        sigs.into_iter()
            .map(|s| NoteSignature {
                name: s.name().to_owned(),
                key_id: s.id(),
                signature: s.signature().to_vec(),
            })
            .collect()
    };
    Ok(OpenedNote {
        text,
        verified: convert(verified),
        unverified: convert(unverified),
    })
}

/// Verifies a signed checkpoint note against the log's verifier key and returns the
/// checkpoint.
///
/// Other signatures (witness cosignatures, rotated keys) are ignored. The origin is not
/// compared with the key name (the Go checksum database, for one, differs); callers that know
/// the expected origin must compare it with the result.
///
/// # Errors
///
/// The errors of [`open_note`] and of [`Checkpoint::parse`].
pub fn verify_checkpoint(note_text: &str, vkey_text: &str) -> Result<Checkpoint, CheckpointError> {
    let opened = open_note(note_text, &[vkey_text])?;
    Checkpoint::parse(&opened.text)
}

/// Parses a signed checkpoint note without checking any signature (for syntax checks only).
pub(crate) fn parse_unverified(note_text: &str) -> Result<Checkpoint, CheckpointError> {
    let note =
        Note::from_bytes(note_text.as_bytes()).map_err(|_| CheckpointError::MalformedNote)?;
    let text = std::str::from_utf8(note.text()).map_err(|_| CheckpointError::MalformedNote)?;
    Checkpoint::parse(text)
}

/// Checks that `vkey_text` is a well-formed Ed25519 verifier key and returns its name and id.
///
/// # Errors
///
/// [`CheckpointError::MalformedVerifierKey`].
pub fn parse_verifier_key(vkey_text: &str) -> Result<(String, u32), CheckpointError> {
    use signed_note::Verifier as _;
    let v = parse_vkey(vkey_text)?;
    Ok((v.name().to_owned(), v.key_id()))
}

fn parse_vkey(vkey: &str) -> Result<StandardVerifier, CheckpointError> {
    let bad = || CheckpointError::MalformedVerifierKey {
        vkey: vkey.to_owned(),
    };
    // `StandardVerifier::new` accepts a sign in the hex id (Rust's `from_str_radix` does);
    // Go does not, so check the id digits here.
    let id_ok = vkey
        .split('+')
        .nth(1)
        .is_some_and(|id| parse_key_id(id).is_some());
    if !id_ok {
        return Err(bad());
    }
    StandardVerifier::new(vkey).map_err(|_| bad())
}

fn parse_key_id(hex_id: &str) -> Option<u32> {
    if hex_id.len() != 8 || !hex_id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u32::from_str_radix(hex_id, 16).ok()
}

fn check_key_name(name: &str) -> Result<(), CheckpointError> {
    if signed_note::is_key_name_valid(name) && !name.chars().any(char::is_control) {
        Ok(())
    } else {
        Err(CheckpointError::InvalidKeyName {
            name: name.to_owned(),
        })
    }
}
