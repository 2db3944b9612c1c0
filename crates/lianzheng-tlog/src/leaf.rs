//! The `lianzheng/log/v1` leaf: what the public log says about one domain event.
//!
//! A leaf holds only what may be public: an event kind, the recording time, the public
//! institution that recorded it, the payload schema, a salted commitment to the private
//! payload, and fields that the law makes public. Personal data stays in the private payload,
//! which the log never sees; the commitment binds it (see [`commitment`]).
//!
//! Encoding (TLS presentation style, big-endian, length-prefixed):
//!
//! ```text
//! "lianzheng/log/v1\n"           domain tag, 17 bytes
//! kind                u8
//! recorded_at_ms      u64
//! authority           opaque<1..255>    (u8 length)
//! schema              opaque<1..255>    (u8 length)
//! commitment          [32]
//! public_fields       opaque<0..65535>  (u16 length)
//! ```
//!
//! The whole encoding must fit in 65,535 bytes, the largest entry a C2SP entry bundle holds.

use sha2::{Digest, Sha256};
use thiserror::Error;

/// Domain tag that starts every version-1 leaf. A new layout gets a new tag.
pub const LEAF_TAG_V1: &[u8] = b"lianzheng/log/v1\n";

/// Domain tag of the payload commitment.
pub const COMMITMENT_TAG_V1: &[u8] = b"lianzheng/log/commit/v1\n";

/// Largest encoded leaf: an entry in a C2SP entry bundle has a `u16` length prefix.
pub const MAX_LEAF_LEN: usize = 65_535;

/// Longest `authority` and `schema`, in bytes.
pub const MAX_NAME_LEN: usize = 255;

/// A version-1 log leaf.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LeafV1 {
    /// Event kind (case step, alert, rating, complaint, decision, erasure, …); the meaning of
    /// each value is defined by the application, not by this crate.
    pub kind: u8,
    /// Platform recording time in milliseconds since the Unix epoch, passed in by the caller.
    pub recorded_at_ms: u64,
    /// Public identifier of the recording institution (for example its unified social credit
    /// code). Never a person. 1 to 255 bytes of UTF-8.
    pub authority: String,
    /// Schema id and version of the committed payload, for example `case_event/1`.
    /// 1 to 255 bytes of UTF-8.
    pub schema: String,
    /// Salted commitment to the private payload, see [`commitment`].
    pub commitment: [u8; 32],
    /// Fields that are public by law, in the encoding named by `schema`; may be empty.
    pub public_fields: Vec<u8>,
}

/// Errors from encoding or decoding a leaf.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum LeafError {
    /// `authority` or `schema` is empty or longer than 255 bytes.
    #[error("leaf field `{field}` must be 1 to 255 bytes long, got {len}")]
    BadFieldLength {
        /// Name of the field.
        field: &'static str,
        /// Its length in bytes.
        len: usize,
    },
    /// The encoded leaf would be, or is, longer than 65,535 bytes.
    #[error("encoded leaf is {len} bytes, more than the limit of 65535")]
    TooLong {
        /// Length in bytes.
        len: usize,
    },
    /// The input does not start with `lianzheng/log/v1\n`.
    #[error("leaf does not start with the `lianzheng/log/v1` domain tag")]
    WrongTag,
    /// The input ends in the middle of a field.
    #[error("leaf is truncated in field `{field}`")]
    Truncated {
        /// The field being read.
        field: &'static str,
    },
    /// Bytes remain after the last field.
    #[error("leaf has {count} unexpected trailing bytes")]
    TrailingBytes {
        /// How many bytes remain.
        count: usize,
    },
    /// `authority` or `schema` is not valid UTF-8.
    #[error("leaf field `{field}` is not valid UTF-8")]
    NotUtf8 {
        /// Name of the field.
        field: &'static str,
    },
}

/// A version-1 leaf's fields, borrowed: what [`LeafV1::encode`] writes, without owning its
/// strings, so that a caller checking many leaves (the audit) allocates nothing per leaf.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeafRef<'a> {
    /// See [`LeafV1::kind`].
    pub kind: u8,
    /// See [`LeafV1::recorded_at_ms`].
    pub recorded_at_ms: u64,
    /// See [`LeafV1::authority`].
    pub authority: &'a str,
    /// See [`LeafV1::schema`].
    pub schema: &'a str,
    /// See [`LeafV1::commitment`].
    pub commitment: [u8; 32],
    /// See [`LeafV1::public_fields`].
    pub public_fields: &'a [u8],
}

impl LeafRef<'_> {
    /// The leaf with its fields owned.
    #[must_use]
    pub fn into_owned(self) -> LeafV1 {
        LeafV1 {
            kind: self.kind,
            recorded_at_ms: self.recorded_at_ms,
            authority: self.authority.to_string(),
            schema: self.schema.to_string(),
            commitment: self.commitment,
            public_fields: self.public_fields.to_vec(),
        }
    }

    /// Writes the leaf in the fixed `lianzheng/log/v1` binary layout to `out`, which it clears
    /// first. On an error `out` is left empty.
    ///
    /// # Errors
    ///
    /// As [`LeafV1::encode`].
    pub fn encode_into(&self, out: &mut Vec<u8>) -> Result<(), LeafError> {
        out.clear();
        let authority = short_field("authority", self.authority)?;
        let schema = short_field("schema", self.schema)?;
        let len = LEAF_TAG_V1.len()
            + 1
            + 8
            + 1
            + self.authority.len()
            + 1
            + self.schema.len()
            + 32
            + 2
            + self.public_fields.len();
        if len > MAX_LEAF_LEN {
            return Err(LeafError::TooLong { len });
        }
        // Guarded by the total-length check above, which is below `u16::MAX`.
        let public_len =
            u16::try_from(self.public_fields.len()).map_err(|_| LeafError::TooLong { len })?;

        out.reserve(len);
        out.extend_from_slice(LEAF_TAG_V1);
        out.push(self.kind);
        out.extend_from_slice(&self.recorded_at_ms.to_be_bytes());
        out.push(authority);
        out.extend_from_slice(self.authority.as_bytes());
        out.push(schema);
        out.extend_from_slice(self.schema.as_bytes());
        out.extend_from_slice(&self.commitment);
        out.extend_from_slice(&public_len.to_be_bytes());
        out.extend_from_slice(self.public_fields);
        Ok(())
    }
}

impl LeafV1 {
    /// The leaf's fields, borrowed.
    #[must_use]
    pub fn borrowed(&self) -> LeafRef<'_> {
        LeafRef {
            kind: self.kind,
            recorded_at_ms: self.recorded_at_ms,
            authority: &self.authority,
            schema: &self.schema,
            commitment: self.commitment,
            public_fields: &self.public_fields,
        }
    }

    /// Encodes the leaf in the fixed `lianzheng/log/v1` binary layout.
    ///
    /// # Errors
    ///
    /// [`LeafError::BadFieldLength`] if `authority` or `schema` is empty or longer than 255
    /// bytes; [`LeafError::TooLong`] if the encoding exceeds 65,535 bytes.
    pub fn encode(&self) -> Result<Vec<u8>, LeafError> {
        let mut out = Vec::new();
        self.borrowed().encode_into(&mut out)?;
        Ok(out)
    }

    /// Decodes a leaf, rejecting a wrong tag, bad lengths, invalid UTF-8 and trailing bytes.
    ///
    /// # Errors
    ///
    /// Any [`LeafError`] except `BadFieldLength` for an over-long field (the `u8` length
    /// prefix cannot express one).
    pub fn decode(bytes: &[u8]) -> Result<LeafV1, LeafError> {
        if bytes.len() > MAX_LEAF_LEN {
            return Err(LeafError::TooLong { len: bytes.len() });
        }
        let mut r = Reader { rest: bytes };
        if r.take(LEAF_TAG_V1.len(), "tag")? != LEAF_TAG_V1 {
            return Err(LeafError::WrongTag);
        }
        let kind = r.array::<1>("kind")?[0];
        let recorded_at_ms = u64::from_be_bytes(r.array::<8>("recorded_at")?);
        let authority = r.short_string("authority")?;
        let schema = r.short_string("schema")?;
        let commitment = r.array::<32>("commitment")?;
        let public_len = u16::from_be_bytes(r.array::<2>("public_fields")?);
        let public_fields = r.take(usize::from(public_len), "public_fields")?.to_vec();
        if !r.rest.is_empty() {
            return Err(LeafError::TrailingBytes {
                count: r.rest.len(),
            });
        }
        Ok(LeafV1 {
            kind,
            recorded_at_ms,
            authority,
            schema,
            commitment,
            public_fields,
        })
    }
}

/// Salted commitment to a private payload:
/// `SHA-256("lianzheng/log/commit/v1\n" || salt || payload)`.
///
/// The salt must be 32 fresh random bytes per record. Without it, anyone could confirm a guess
/// of a low-entropy government event ("is person X in the log?") by hashing candidates.
/// Destroying the salt and payload (crypto-shredding) leaves the leaf valid but unlinkable.
#[must_use]
pub fn commitment(salt: &[u8; 32], payload: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(COMMITMENT_TAG_V1);
    h.update(salt);
    h.update(payload);
    h.finalize().into()
}

fn short_field(field: &'static str, value: &str) -> Result<u8, LeafError> {
    match u8::try_from(value.len()) {
        Ok(len) if len > 0 => Ok(len),
        _ => Err(LeafError::BadFieldLength {
            field,
            len: value.len(),
        }),
    }
}

struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, field: &'static str) -> Result<&'a [u8], LeafError> {
        if self.rest.len() < n {
            return Err(LeafError::Truncated { field });
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Ok(head)
    }

    fn array<const N: usize>(&mut self, field: &'static str) -> Result<[u8; N], LeafError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N, field)?);
        Ok(out)
    }

    fn short_string(&mut self, field: &'static str) -> Result<String, LeafError> {
        let len = usize::from(self.array::<1>(field)?[0]);
        if len == 0 {
            return Err(LeafError::BadFieldLength { field, len });
        }
        let bytes = self.take(len, field)?;
        String::from_utf8(bytes.to_vec()).map_err(|_| LeafError::NotUtf8 { field })
    }
}
