//! Receipt parsing and verification (what `/verify` and `lianzheng verify receipt` do with
//! whatever a visitor pastes): nothing may panic. The seed corpus holds a real receipt of a demo
//! city signed with this key, so mutations reach the signature, proof and commitment checks.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lianzheng_tlog::receipt::Receipt;

/// The key of the demo city that signed the seed receipt.
const VKEY: &str = "log.lianzheng.example/jiaozuo/2026+49247a8f+AToqtj/VL1dc5LUgYGuTPzmcsahM6qjvS+82Ule2BTai";

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(r) = Receipt::parse(text) {
        let _ = r.verify_self_contained(VKEY);
    }
});
