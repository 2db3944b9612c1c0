//! C2SP `tlog-tiles` (v0.1.0): tile paths, hash tiles and entry bundles.
//!
//! A log is served as static files under a prefix: `checkpoint`, hash tiles
//! `tile/<L>/<N>[.p/<W>]` and entry bundles `tile/entries/<N>[.p/<W>]`. A tile holds up to 256
//! hashes of one level: level-0 tiles hold leaf hashes, and hash `i` of tile `N` at level `L` is
//! the Merkle tree hash of the 256^L leaves starting at `(N * 256 + i) * 256^L`. A partial tile
//! of width `W` (1 to 255) holds the first `W` hashes of a tile that is not full yet. Entry
//! bundle `N` holds the entries whose leaf hashes make up level-0 tile `N`.
//!
//! `N` is written in zero-padded groups of three digits, all but the last prefixed with `x`:
//! 1234067 is `x001/x234/067`.

use crate::merkle::{self, Hash, HashReader, MerkleError};
use thiserror::Error;

/// Number of hashes (or entries) in a full tile.
pub const FULL_WIDTH: u16 = 256;

/// Highest tile level the path format allows.
pub const MAX_LEVEL: u8 = 63;

/// Longest entry an entry bundle can hold (`u16` length prefix).
pub const MAX_ENTRY_LEN: usize = 65_535;

/// One hash tile or entry bundle position: level (0 for entry bundles), index and width
/// (1 to 255 for a partial tile, 256 for a full one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TileCoord {
    /// Tile level.
    pub level: u8,
    /// Tile index within the level.
    pub index: u64,
    /// Number of hashes in the tile; 256 for a full tile.
    pub width: u16,
}

impl TileCoord {
    /// Whether this is a full (immutable) tile.
    #[must_use]
    pub fn is_full(&self) -> bool {
        self.width == FULL_WIDTH
    }

    /// The hash tile path, see [`tile_path`].
    ///
    /// # Errors
    ///
    /// As [`tile_path`].
    pub fn path(&self) -> Result<String, TileError> {
        tile_path(self.level, self.index, self.width)
    }
}

/// A parsed tile path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TilePath {
    /// A hash tile `tile/<L>/<N>[.p/<W>]`.
    Hashes(TileCoord),
    /// An entry bundle `tile/entries/<N>[.p/<W>]`.
    Entries {
        /// Bundle index (the index of the matching level-0 tile).
        index: u64,
        /// Number of entries; 256 for a full bundle.
        width: u16,
    },
}

/// Errors from tile paths, tiles and entry bundles.
#[derive(Debug, Error)]
pub enum TileError {
    /// Width outside 1..=256.
    #[error("tile width must be 1 to 256, got {width}")]
    BadWidth {
        /// The width given.
        width: u16,
    },
    /// Level above 63.
    #[error("tile level must be 0 to 63, got {level}")]
    BadLevel {
        /// The level given.
        level: u8,
    },
    /// A path that is not a canonical tile or entry-bundle path.
    #[error("malformed tile path `{path}`: {reason}")]
    MalformedPath {
        /// The input path.
        path: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// An entry longer than 65,535 bytes.
    #[error("entry {position} is {len} bytes, more than the bundle limit of 65535")]
    EntryTooLong {
        /// Position of the entry in the bundle.
        position: usize,
        /// Its length.
        len: usize,
    },
    /// A bundle must hold 1 to 256 entries.
    #[error("an entry bundle holds 1 to 256 entries, got {count}")]
    BadEntryCount {
        /// Number of entries.
        count: usize,
    },
    /// Bundle bytes that do not split into length-prefixed entries.
    #[error("malformed entry bundle: {reason}")]
    MalformedBundle {
        /// What is wrong.
        reason: &'static str,
    },
    /// The new tree size is smaller than the old one.
    #[error("tree size cannot shrink from {old} to {new}")]
    Shrinking {
        /// Old size.
        old: u64,
        /// New size.
        new: u64,
    },
    /// Reading stored hashes failed, or the tile lies beyond the supported tree size.
    #[error(transparent)]
    Merkle(#[from] MerkleError),
}

/// Path of hash tile `index` at `level` with `width` hashes (256 = full):
/// `tile/<L>/<N>` or `tile/<L>/<N>.p/<W>`.
///
/// # Errors
///
/// [`TileError::BadLevel`] or [`TileError::BadWidth`].
pub fn tile_path(level: u8, index: u64, width: u16) -> Result<String, TileError> {
    if level > MAX_LEVEL {
        return Err(TileError::BadLevel { level });
    }
    Ok(format!("tile/{level}/{}", index_and_width(index, width)?))
}

/// Path of entry bundle `index` with `width` entries (256 = full):
/// `tile/entries/<N>` or `tile/entries/<N>.p/<W>`.
///
/// # Errors
///
/// [`TileError::BadWidth`].
pub fn entries_path(index: u64, width: u16) -> Result<String, TileError> {
    Ok(format!("tile/entries/{}", index_and_width(index, width)?))
}

/// Parses a hash tile or entry bundle path (relative to the log prefix, no leading `/`).
///
/// Only canonical paths are accepted: decimal numbers without leading zeros for the level and
/// width, exactly three digits per index group, `x` on every group but the last, no leading
/// `x000` group, and a partial width of 1 to 255.
///
/// # Errors
///
/// [`TileError::MalformedPath`].
pub fn parse_tile_path(path: &str) -> Result<TilePath, TileError> {
    let bad = |reason| TileError::MalformedPath {
        path: path.to_owned(),
        reason,
    };
    let rest = path
        .strip_prefix("tile/")
        .ok_or_else(|| bad("does not start with `tile/`"))?;
    let (level, rest) = rest
        .split_once('/')
        .ok_or_else(|| bad("missing tile index"))?;
    let level = if level == "entries" {
        None
    } else {
        let level = crate::parse_canonical_decimal(level)
            .ok_or_else(|| bad("level is not a canonical number"))?;
        match u8::try_from(level) {
            Ok(level) if level <= MAX_LEVEL => Some(level),
            _ => return Err(bad("level is above 63")),
        }
    };
    let (groups, width) = match rest.split_once(".p/") {
        Some((groups, width)) => {
            let width = crate::parse_canonical_decimal(width)
                .ok_or_else(|| bad("width is not a canonical number"))?;
            match u16::try_from(width) {
                Ok(width) if (1..FULL_WIDTH).contains(&width) => (groups, width),
                _ => return Err(bad("partial width must be 1 to 255")),
            }
        }
        None => (rest, FULL_WIDTH),
    };
    let index = parse_index(groups).ok_or_else(|| bad("index is not canonical"))?;
    Ok(match level {
        Some(level) => TilePath::Hashes(TileCoord {
            level,
            index,
            width,
        }),
        None => TilePath::Entries { index, width },
    })
}

/// Contents of a hash tile: the concatenated 32-byte hashes `0..width` of tile `index` at
/// `level`, read from stored hashes in one batch.
///
/// The caller must only ask for tiles inside its tree (a level-`L` tile of width `W` needs
/// `(index * 256 + W) * 256^L` leaves); the reader reports anything else as missing.
///
/// # Errors
///
/// [`TileError::BadLevel`], [`TileError::BadWidth`], or [`TileError::Merkle`] for storage
/// errors and tiles beyond the supported tree size.
pub fn tile_bytes<R: HashReader + ?Sized>(
    level: u8,
    index: u64,
    width: u16,
    reader: &R,
) -> Result<Vec<u8>, TileError> {
    if level > MAX_LEVEL {
        return Err(TileError::BadLevel { level });
    }
    check_width(width)?;
    let too_large = || MerkleError::TreeTooLarge { size: u64::MAX };
    // A level-L tile hash is a complete subtree of 2^(8L) leaves.
    let tree_level = u8::try_from(u32::from(level) * 8).map_err(|_| too_large())?;
    let first = index.checked_mul(256).ok_or_else(too_large)?;
    let indexes = (0..u64::from(width))
        .map(|i| merkle::stored_hash_index(tree_level, first + i))
        .collect::<Result<Vec<u64>, MerkleError>>()?;
    let hashes: Vec<Hash> = merkle::read_checked(reader, &indexes)?;
    Ok(hashes.concat())
}

/// Encodes an entry bundle: each entry as a big-endian `u16` length followed by its bytes.
///
/// # Errors
///
/// [`TileError::BadEntryCount`] unless there are 1 to 256 entries;
/// [`TileError::EntryTooLong`] for an entry over 65,535 bytes.
pub fn entry_bundle<E: AsRef<[u8]>>(entries: &[E]) -> Result<Vec<u8>, TileError> {
    if entries.is_empty() || entries.len() > usize::from(FULL_WIDTH) {
        return Err(TileError::BadEntryCount {
            count: entries.len(),
        });
    }
    let total: usize = entries.iter().map(|e| 2 + e.as_ref().len()).sum();
    let mut out = Vec::with_capacity(total);
    for (position, entry) in entries.iter().enumerate() {
        let entry = entry.as_ref();
        let len = u16::try_from(entry.len()).map_err(|_| TileError::EntryTooLong {
            position,
            len: entry.len(),
        })?;
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(entry);
    }
    Ok(out)
}

/// Splits an entry bundle into its entries (the inverse of [`entry_bundle`]).
///
/// # Errors
///
/// [`TileError::MalformedBundle`] for a truncated bundle; [`TileError::BadEntryCount`] unless
/// it holds 1 to 256 entries.
pub fn parse_entry_bundle(mut bytes: &[u8]) -> Result<Vec<Vec<u8>>, TileError> {
    let mut entries = Vec::new();
    while !bytes.is_empty() {
        let Some((len, rest)) = bytes.split_first_chunk::<2>() else {
            return Err(TileError::MalformedBundle {
                reason: "truncated length prefix",
            });
        };
        let len = usize::from(u16::from_be_bytes(*len));
        if rest.len() < len {
            return Err(TileError::MalformedBundle {
                reason: "truncated entry",
            });
        }
        let (entry, rest) = rest.split_at(len);
        entries.push(entry.to_vec());
        bytes = rest;
        if entries.len() > usize::from(FULL_WIDTH) {
            return Err(TileError::BadEntryCount {
                count: entries.len(),
            });
        }
    }
    if entries.is_empty() {
        return Err(TileError::BadEntryCount { count: 0 });
    }
    Ok(entries)
}

/// Every hash tile of a tree of `size` leaves: full tiles and the partial tile (if any) of
/// each level, level 0 first. Empty tiles do not exist. The level-0 coordinates are also those
/// of the entry bundles.
#[must_use]
pub fn tiles_for_tree(size: u64) -> Vec<TileCoord> {
    level_tiles(0, size)
}

/// The hash tiles to (re)publish when the tree grows from `old_size` to `new_size` leaves:
/// every tile that is new or got wider, level 0 first.
///
/// A partial tile that got wider is listed with its new width; the log may delete the older,
/// narrower version once the full tile exists.
///
/// # Errors
///
/// [`TileError::Shrinking`] if `new_size < old_size`.
pub fn changed_tiles(old_size: u64, new_size: u64) -> Result<Vec<TileCoord>, TileError> {
    if new_size < old_size {
        return Err(TileError::Shrinking {
            old: old_size,
            new: new_size,
        });
    }
    Ok(level_tiles(old_size, new_size))
}

fn level_tiles(old_size: u64, new_size: u64) -> Vec<TileCoord> {
    let mut out = Vec::new();
    for level in 0..=MAX_LEVEL {
        let shift = 8 * u32::from(level);
        // Number of hashes at this level before and after; a level past the tree's height
        // has none (shifting by 64 or more would overflow, hence checked_shr).
        let old_n = old_size.checked_shr(shift).unwrap_or(0);
        let new_n = new_size.checked_shr(shift).unwrap_or(0);
        if new_n == old_n {
            // Higher levels are sums of this one, so they did not change either.
            break;
        }
        let full_width = u64::from(FULL_WIDTH);
        for index in old_n / full_width..new_n / full_width {
            out.push(TileCoord {
                level,
                index,
                width: FULL_WIDTH,
            });
        }
        let rest = new_n % full_width;
        if rest != 0 {
            out.push(TileCoord {
                level,
                index: new_n / full_width,
                // `rest` is below 256.
                width: u16::try_from(rest).unwrap_or(FULL_WIDTH),
            });
        }
    }
    out
}

fn check_width(width: u16) -> Result<(), TileError> {
    if width == 0 || width > FULL_WIDTH {
        return Err(TileError::BadWidth { width });
    }
    Ok(())
}

fn index_and_width(index: u64, width: u16) -> Result<String, TileError> {
    check_width(width)?;
    let mut groups = vec![format!("{:03}", index % 1000)];
    let mut n = index / 1000;
    while n > 0 {
        groups.push(format!("x{:03}", n % 1000));
        n /= 1000;
    }
    groups.reverse();
    let mut out = groups.join("/");
    if width < FULL_WIDTH {
        out.push_str(&format!(".p/{width}"));
    }
    Ok(out)
}

fn parse_index(s: &str) -> Option<u64> {
    let groups: Vec<&str> = s.split('/').collect();
    let (last, leading) = groups.split_last()?;
    if leading.first() == Some(&"x000") {
        return None;
    }
    let mut value: u64 = 0;
    for group in leading
        .iter()
        .map(|g| g.strip_prefix('x'))
        .chain([Some(*last)])
    {
        let group = group?;
        if group.len() != 3 || !group.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let digits: u64 = group.parse().ok()?;
        value = value.checked_mul(1000)?.checked_add(digits)?;
    }
    Some(value)
}
