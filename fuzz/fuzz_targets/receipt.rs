//! Receipt parsing and verification (what `/verify` and `lianzheng verify receipt` do with
//! whatever a visitor pastes): nothing may panic, and nothing but a real receipt verifies.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lianzheng_tlog::receipt::Receipt;

/// A verifier key no fuzzer input can hold a signature of.
const VKEY: &str = "log.lianzheng.example/jiaozuo/2026+d81a9530+AYJnpv3NSgpQsEeljrCfJ2HUtmIs5CalYQX1oZXuU2W8";

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(r) = Receipt::parse(text) {
        assert!(
            r.verify_self_contained(VKEY).is_err(),
            "a fuzzed receipt verified against a key nobody holds"
        );
    }
});
