//! Catalog import: any text as the CSV import and as the JSON import. Parsing either reports
//! per-row errors or yields changes whose validation answers; nothing may panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lianzheng_app::catalog::{ItemChange, parse_csv_import};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(changes) = parse_csv_import(text) {
        for c in &changes {
            let _ = c.body.validate();
            let _ = lianzheng_core::catalog::validate_item_code(&c.code);
        }
    }
    if let Ok(changes) = serde_json::from_str::<Vec<ItemChange>>(text) {
        for c in &changes {
            let _ = c.body.validate();
        }
    }
});
