//! C2SP `tlog-tiles`: path encoding, the 70,000-leaf example, tile contents and bundles.

use crate::common::{MemLog, load_json, naive_root, str_of};
use lianzheng_tlog::merkle::{self, Hash};
use lianzheng_tlog::tiles::{
    self, TileCoord, TileError, TilePath, changed_tiles, entries_path, entry_bundle,
    parse_entry_bundle, parse_tile_path, tile_bytes, tile_path, tiles_for_tree,
};
use std::collections::BTreeSet;

fn c2sp_tiles() -> serde_json::Value {
    load_json("c2sp-examples.json")["tlog_tiles"].clone()
}

fn paths(size: u64) -> Vec<String> {
    tiles_for_tree(size)
        .iter()
        .map(|t| t.path().unwrap())
        .collect()
}

#[test]
fn index_encoding_examples() {
    let t = c2sp_tiles();
    let ex = &t["tile_index_encoding_example"];
    let mut cases = vec![(
        ex["index"].as_u64().unwrap(),
        str_of(ex, "encoded").to_owned(),
    )];
    for c in t["tile_index_encoding_derived"].as_array().unwrap() {
        cases.push((
            c["index"].as_u64().unwrap(),
            str_of(c, "encoded").to_owned(),
        ));
    }
    cases.push((u64::MAX, "x018/x446/x744/x073/x709/x551/615".to_owned()));
    for (index, encoded) in cases {
        let full = format!("tile/0/{encoded}");
        assert_eq!(tile_path(0, index, 256).unwrap(), full);
        assert_eq!(
            parse_tile_path(&full).unwrap(),
            TilePath::Hashes(TileCoord {
                level: 0,
                index,
                width: 256
            })
        );
        let partial = format!("tile/entries/{encoded}.p/7");
        assert_eq!(entries_path(index, 7).unwrap(), partial);
        assert_eq!(
            parse_tile_path(&partial).unwrap(),
            TilePath::Entries { index, width: 7 }
        );
    }
    assert_eq!(tile_path(63, 273, 112).unwrap(), "tile/63/273.p/112");
    assert!(matches!(
        tile_path(0, 0, 0),
        Err(TileError::BadWidth { width: 0 })
    ));
    assert!(matches!(
        tile_path(0, 0, 257),
        Err(TileError::BadWidth { width: 257 })
    ));
    assert!(matches!(
        tile_path(64, 0, 256),
        Err(TileError::BadLevel { level: 64 })
    ));
    assert!(entries_path(0, 0).is_err());
}

#[test]
fn malformed_paths_are_rejected() {
    let bad = [
        "",
        "tile",
        "tile/",
        "tile/0",
        "tile/0/",
        "tiles/0/000",
        "/tile/0/000",
        "tile//000",
        "tile/00/000", // leading zero in the level
        "tile/01/000",
        "tile/64/000", // level above 63
        "tile/-1/000",
        "tile/+1/000",
        "tile/a/000",
        "tile/0/1", // index groups are three digits
        "tile/0/0001",
        "tile/0/x001",     // the last group has no x
        "tile/0/001/002",  // the other groups need one
        "tile/0/x000/001", // leading zero group
        "tile/0/x1/000",
        "tile/0/x001/00a",
        "tile/0/x018/x446/x744/x073/x709/x551/616", // 2^64
        "tile/0/000.p/0",                           // partial width 1..255
        "tile/0/000.p/256",
        "tile/0/000.p/007", // leading zeros in the width
        "tile/0/000.p/",
        "tile/0/000.p/1/2",
        "tile/0/000.p/1.p/2",
        "tile/0/000/",
        "tile/0/000.p",
        "tile/entries/",
        "tile/entries/1",
        "tile/entries/000.p/0",
        "tile/0/ 000",
    ];
    for path in bad {
        assert!(
            matches!(parse_tile_path(path), Err(TileError::MalformedPath { .. })),
            "accepted `{path}`"
        );
    }
}

#[test]
fn the_70000_leaf_example() {
    let t = c2sp_tiles();
    let example = t["tree_size_examples"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["tree_size"] == 70_000)
        .unwrap();
    let all = tiles_for_tree(70_000);
    for level in example["tiles"].as_array().unwrap() {
        let l = level["level"].as_u64().unwrap();
        let at_level: Vec<_> = all.iter().filter(|t| u64::from(t.level) == l).collect();
        let full = at_level.iter().filter(|t| t.is_full()).count() as u64;
        assert_eq!(full, level["full_tiles"].as_u64().unwrap(), "level {l}");
        let partial: Vec<u64> = at_level
            .iter()
            .filter(|t| !t.is_full())
            .map(|t| u64::from(t.width))
            .collect();
        let want: Vec<u64> = level["partial_tile_width"].as_u64().into_iter().collect();
        assert_eq!(partial, want, "level {l}");
    }
    assert_eq!(all.len(), 273 + 1 + 1 + 1 + 1);
    assert!(all.iter().all(|t| t.level <= 2));

    let got: BTreeSet<String> = paths(70_000).into_iter().collect();
    let derived = &t["tile_paths_derived"];
    for p in derived["70000_level1_and_up_and_last_level0"]
        .as_array()
        .unwrap()
    {
        assert!(got.contains(p.as_str().unwrap()), "missing {p}");
    }
    // The derived lists for these sizes name every tile.
    for size in ["1", "255", "256", "257"] {
        let want: BTreeSet<&str> = derived[size]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p.as_str().unwrap())
            .collect();
        let got = paths(size.parse().unwrap());
        assert_eq!(
            got.iter().map(String::as_str).collect::<BTreeSet<_>>(),
            want,
            "size {size}"
        );
    }
    // For 65,536 it lists the tiles above level 0.
    let got = paths(65_536);
    for p in derived["65536"].as_array().unwrap() {
        assert!(got.iter().any(|g| g == p.as_str().unwrap()), "missing {p}");
    }
    assert_eq!(got.len(), 256 + 1 + 1);
    let size_256 = t["tree_size_examples"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["tree_size"] == 256)
        .unwrap();
    assert_eq!(size_256["tiles"].as_array().unwrap().len(), 2);
    assert!(tiles_for_tree(0).is_empty());
}

#[test]
fn tile_contents_of_a_70000_leaf_tree() {
    let leaves: Vec<Hash> = (0u32..70_000)
        .map(|i| merkle::leaf_hash(&i.to_be_bytes()))
        .collect();
    let mut log = MemLog::default();
    for batch in leaves.chunks(997) {
        log.append(batch);
    }
    assert_eq!(
        merkle::tree_root(70_000, &log.stored).unwrap(),
        naive_root(&leaves)
    );

    for tile in tiles_for_tree(70_000) {
        let bytes = tile_bytes(tile.level, tile.index, tile.width, &log.stored).unwrap();
        assert_eq!(bytes.len(), 32 * usize::from(tile.width));
        let span = 256usize.pow(u32::from(tile.level));
        for (i, hash) in bytes.chunks(32).enumerate() {
            let start = (tile.index as usize * 256 + i) * span;
            // Hash i of a level-L tile is the root of the 256^L leaves it covers.
            let want = if span == 1 {
                leaves[start]
            } else {
                naive_root(&leaves[start..start + span])
            };
            assert_eq!(hash, want, "{tile:?} hash {i}");
        }
        // A full tile hashes up to the hash one level higher.
        if tile.is_full() {
            let hashes: Vec<Hash> = bytes.chunks(32).map(|c| c.try_into().unwrap()).collect();
            let above = tile_bytes(
                tile.level + 1,
                tile.index / 256,
                (tile.index % 256 + 1) as u16,
                &log.stored,
            )
            .unwrap();
            assert_eq!(naive_root(&hashes), above[above.len() - 32..], "{tile:?}");
        }
    }
    // Beyond the tree the store has no hashes; beyond 2^62 leaves no index exists.
    assert!(matches!(
        tile_bytes(0, 273, 113, &log.stored),
        Err(TileError::Merkle(_))
    ));
    assert!(matches!(
        tile_bytes(7, 1, 1, &log.stored),
        Err(TileError::Merkle(_))
    ));
    assert!(matches!(
        tile_bytes(9, 0, 1, &log.stored),
        Err(TileError::Merkle(_))
    ));
    assert!(matches!(
        tile_bytes(0, 0, 0, &log.stored),
        Err(TileError::BadWidth { .. })
    ));

    // Entry bundle 0 holds the entries whose leaf hashes make level-0 tile 0.
    let entries: Vec<Vec<u8>> = (0u32..256).map(|i| i.to_be_bytes().to_vec()).collect();
    let bundle = entry_bundle(&entries).unwrap();
    let tile0 = tile_bytes(0, 0, 256, &log.stored).unwrap();
    for (entry, hash) in parse_entry_bundle(&bundle)
        .unwrap()
        .iter()
        .zip(tile0.chunks(32))
    {
        assert_eq!(merkle::leaf_hash(entry), hash);
    }
}

#[test]
fn changed_tiles_after_growth() {
    let coords = |v: Vec<TileCoord>| v.iter().map(|t| t.path().unwrap()).collect::<Vec<_>>();
    assert_eq!(
        coords(changed_tiles(70_000, 70_001).unwrap()),
        ["tile/0/273.p/113"]
    );
    assert_eq!(
        coords(changed_tiles(65_535, 65_536).unwrap()),
        ["tile/0/255", "tile/1/000", "tile/2/000.p/1"]
    );
    assert!(changed_tiles(5, 5).unwrap().is_empty());
    assert!(matches!(
        changed_tiles(6, 5),
        Err(TileError::Shrinking { old: 6, new: 5 })
    ));
    // The 2^56th leaf completes a tile at every level and opens level 7, the highest.
    let top = changed_tiles((1 << 56) - 1, 1 << 56).unwrap();
    assert_eq!(top.len(), 8);
    assert_eq!(top[7].path().unwrap(), "tile/7/000.p/1");
    assert!(top[..7].iter().all(TileCoord::is_full));
}

#[test]
fn entry_bundles() {
    let entries = vec![b"".to_vec(), b"a".to_vec(), vec![9; 65_535]];
    let bundle = entry_bundle(&entries).unwrap();
    assert_eq!(&bundle[..5], &[0, 0, 0, 1, b'a']);
    assert_eq!(bundle.len(), 2 + 3 + 2 + 65_535);
    assert_eq!(parse_entry_bundle(&bundle).unwrap(), entries);

    assert!(matches!(
        entry_bundle::<Vec<u8>>(&[]),
        Err(TileError::BadEntryCount { count: 0 })
    ));
    assert!(matches!(
        entry_bundle(&vec![b"x"; 257]),
        Err(TileError::BadEntryCount { count: 257 })
    ));
    assert!(entry_bundle(&vec![b"x"; 256]).is_ok());
    assert!(matches!(
        entry_bundle(&[vec![0; 65_536]]),
        Err(TileError::EntryTooLong {
            position: 0,
            len: 65_536
        })
    ));
    assert!(parse_entry_bundle(&[]).is_err());
    assert!(parse_entry_bundle(&[0]).is_err());
    assert!(parse_entry_bundle(&[0, 2, 1]).is_err());
    assert!(parse_entry_bundle(&[0, 0].repeat(257)).is_err());
    assert_eq!(tiles::FULL_WIDTH, 256);
}
