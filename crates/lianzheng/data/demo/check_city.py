#!/usr/bin/env python3
"""Validate the demo city reference data (city.toml, names.toml).

Standard library only (Python >= 3.11, tomllib).

    python3 check_city.py [path/to/city.toml] [path/to/names.toml]

Exits 0 when every check passes, 1 otherwise; warnings never fail the run.
"""

from __future__ import annotations

import re
import sys
import tomllib
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent

# GB 32100-2015 统一社会信用代码
CREDIT_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]

# GB/T 39046-2020 附录A
ITEM_TYPES = {f"{i:02d}" for i in range(0, 11)} | {"20"}  # A.1 (00-10 and 20; 11+/21+ are local extensions)
SERVICE_OBJECTS = {"1", "2", "3", "4", "5", "6"}  # A.4
UNITS = {"工作日", "自然日", "月", "小时"}
CASE_KINDS = {"即办件", "承诺件"}  # A.6 codes 1 / 2
WINDOW_AUTH = {"受理", "受理+办理"}
# 行政许可法 Art. 45 kinds + 实地核查
SPECIAL_PROCEDURES = {"听证", "招标", "拍卖", "检验", "检测", "检疫", "鉴定", "专家评审", "实地核查"}

CITY_KEYS = {"name", "region_code"}
DEPT_KEYS = {"code", "credit_code", "name", "short_name", "volume_weight", "supervision_phone", "windows",
             "bad_rating_bias", "overdue_bias"}
ITEM_KEYS = {"department", "basic_code", "name", "item_type", "legal_basis", "legal_limit", "legal_unit",
             "promised_limit", "promised_unit", "case_kind", "window_auth", "service_object",
             "special_procedures", "variants", "volume_weight", "steps", "fee", "material"}
ITEM_REQUIRED = ITEM_KEYS - {"variants", "fee"}
FEE_KEYS = {"code", "name", "standard_fen", "basis"}
MAT_KEYS = {"name", "required", "original_copies", "copy_copies"}
STEP_KEYS = {"name", "limit_days"}

NAMES_ARRAYS = {  # key -> minimum length
    "surnames": 100, "given_chars": 150, "company_words": 80, "company_industries": 30, "company_forms": 3,
    "rating_comments_good": 30, "rating_comments_bad": 30, "rejection_reasons": 15, "step_opinions": 15,
}


def credit_check_char(first17: str) -> str:
    total = sum(CREDIT_CHARSET.index(c) * w for c, w in zip(first17, CREDIT_WEIGHTS))
    v = 31 - total % 31
    return CREDIT_CHARSET[0 if v == 31 else v]


class Report:
    def __init__(self) -> None:
        self.errors: list[str] = []
        self.warnings: list[str] = []

    def err(self, msg: str) -> None:
        self.errors.append(msg)

    def warn(self, msg: str) -> None:
        self.warnings.append(msg)


def is_int(x) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def is_num(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def nonempty_str(x) -> bool:
    return isinstance(x, str) and x.strip() != ""


def check_credit_code(r: Report, where: str, code, region: str) -> None:
    if not isinstance(code, str) or len(code) != 18:
        r.err(f"{where}: credit_code must be an 18-character string, got {code!r}")
        return
    bad = [c for c in code if c not in CREDIT_CHARSET]
    if bad:
        r.err(f"{where}: credit_code {code} contains characters outside GB 32100 charset: {''.join(bad)}")
        return
    if code[0] not in "1":
        r.warn(f"{where}: credit_code {code} registration authority {code[0]!r} is not 1 (机构编制)")
    if code[1] not in "1239":
        r.err(f"{where}: credit_code {code} organisation category {code[1]!r} invalid for authority 1")
    if not code[2:8].isdigit():
        r.err(f"{where}: credit_code {code} region part {code[2:8]!r} is not 6 digits")
    elif code[2:8] != region:
        r.warn(f"{where}: credit_code {code} region {code[2:8]} differs from city region {region}")
    want = credit_check_char(code[:17])
    if code[17] != want:
        r.err(f"{where}: credit_code {code} check character {code[17]!r} wrong, expected {want!r}")


def check_city(path: Path, r: Report) -> dict:
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as e:
        r.err(f"{path}: cannot parse: {e}")
        return {}

    extra = set(data) - {"city", "department", "item"}
    if extra:
        r.err(f"unknown top-level keys: {sorted(extra)}")

    city = data.get("city", {})
    if set(city) - CITY_KEYS:
        r.err(f"[city]: unknown keys {sorted(set(city) - CITY_KEYS)}")
    if not nonempty_str(city.get("name")):
        r.err("[city]: name missing")
    region = city.get("region_code", "")
    if not (isinstance(region, str) and re.fullmatch(r"\d{6}", region)):
        r.err(f"[city]: region_code must be 6 digits, got {region!r}")
        region = ""

    # ---------------------------------------------------------------- departments
    depts = data.get("department", [])
    codes: Counter[str] = Counter()
    credit: Counter[str] = Counter()
    dnames: Counter[str] = Counter()
    dept_weight: dict[str, float] = {}
    for n, d in enumerate(depts):
        where = f"department[{n}] {d.get('code', '?')}"
        unknown = set(d) - DEPT_KEYS
        missing = DEPT_KEYS - set(d)
        if unknown:
            r.err(f"{where}: unknown keys {sorted(unknown)}")
        if missing:
            r.err(f"{where}: missing keys {sorted(missing)}")
        code = d.get("code")
        if not (isinstance(code, str) and re.fullmatch(r"[A-Z0-9]{2,8}", code)):
            r.err(f"{where}: code must match [A-Z0-9]{{2,8}}, got {code!r}")
        else:
            codes[code] += 1
        check_credit_code(r, where, d.get("credit_code"), region)
        if isinstance(d.get("credit_code"), str):
            credit[d["credit_code"]] += 1
        for k in ("name", "short_name"):
            if not nonempty_str(d.get(k)):
                r.err(f"{where}: {k} missing or empty")
        if nonempty_str(d.get("name")):
            dnames[d["name"]] += 1
        w = d.get("volume_weight")
        if not (is_num(w) and w > 0):
            r.err(f"{where}: volume_weight must be a positive number, got {w!r}")
        elif isinstance(code, str):
            dept_weight[code] = float(w)
        phone = d.get("supervision_phone")
        if not (isinstance(phone, str) and re.fullmatch(r"0391-\d{7}", phone)):
            r.err(f"{where}: supervision_phone must look like 0391-xxxxxxx, got {phone!r}")
        win = d.get("windows")
        if not (is_int(win) and 1 <= win <= 100):
            r.err(f"{where}: windows must be an integer in 1..100, got {win!r}")
        for k in ("bad_rating_bias", "overdue_bias"):
            b = d.get(k)
            if not (is_num(b) and 0 < b <= 10):
                r.err(f"{where}: {k} must be a number in (0, 10], got {b!r}")
    for c, k in codes.items():
        if k > 1:
            r.err(f"department code {c} used {k} times")
    for c, k in credit.items():
        if k > 1:
            r.err(f"credit_code {c} used by {k} departments")
    for c, k in dnames.items():
        if k > 1:
            r.err(f"department name {c} used {k} times")

    # ---------------------------------------------------------------- items
    items = data.get("item", [])
    basic: Counter[str] = Counter()
    per_dept: Counter[str] = Counter()
    names_in_dept: Counter[tuple[str, str]] = Counter()
    for n, it in enumerate(items):
        where = f"item[{n}] {it.get('basic_code', '?')} {it.get('name', '?')}"
        unknown = set(it) - ITEM_KEYS
        missing = ITEM_REQUIRED - set(it)
        if unknown:
            r.err(f"{where}: unknown keys {sorted(unknown)}")
        if missing:
            r.err(f"{where}: missing keys {sorted(missing)}")
        dc = it.get("department")
        if dc not in codes:
            r.err(f"{where}: department {dc!r} does not exist")
        else:
            per_dept[dc] += 1
        bc = it.get("basic_code")
        if not (isinstance(bc, str) and re.fullmatch(r"\d{10}", bc)):
            r.err(f"{where}: basic_code must be 10 digits, got {bc!r}")
        else:
            basic[bc] += 1
        if not nonempty_str(it.get("name")):
            r.err(f"{where}: name missing")
        else:
            names_in_dept[(dc, it["name"])] += 1
        if it.get("item_type") not in ITEM_TYPES:
            r.err(f"{where}: item_type {it.get('item_type')!r} not in GB/T 39046 A.1")
        if not nonempty_str(it.get("legal_basis")):
            r.err(f"{where}: legal_basis missing")
        elif "《" not in it["legal_basis"]:
            r.warn(f"{where}: legal_basis does not cite a 《…》 instrument")

        ll, lu = it.get("legal_limit"), it.get("legal_unit")
        pl, pu = it.get("promised_limit"), it.get("promised_unit")
        if not (is_int(ll) and ll > 0):
            r.err(f"{where}: legal_limit must be a positive integer, got {ll!r}")
        if not (is_int(pl) and pl >= 0):
            r.err(f"{where}: promised_limit must be a non-negative integer, got {pl!r}")
        if lu not in UNITS:
            r.err(f"{where}: legal_unit {lu!r} not in {sorted(UNITS)}")
        if pu not in UNITS:
            r.err(f"{where}: promised_unit {pu!r} not in {sorted(UNITS)}")
        if is_int(ll) and is_int(pl) and lu == pu and pl > ll:
            r.err(f"{where}: promised_limit {pl} {pu} exceeds legal_limit {ll} {lu}")

        ck = it.get("case_kind")
        if ck not in CASE_KINDS:
            r.err(f"{where}: case_kind {ck!r} not in {sorted(CASE_KINDS)}")
        elif ck == "即办件":
            if not (pl == 0 or (pu == "小时" and is_int(pl) and pl <= 8)):
                r.err(f"{where}: 即办件 must have promised_limit 0 or a few hours, got {pl} {pu}")
        elif ck == "承诺件" and pl == 0:
            r.err(f"{where}: 承诺件 with promised_limit 0")

        if it.get("window_auth") not in WINDOW_AUTH:
            r.err(f"{where}: window_auth {it.get('window_auth')!r} not in {sorted(WINDOW_AUTH)}")
        if it.get("service_object") not in SERVICE_OBJECTS:
            r.err(f"{where}: service_object {it.get('service_object')!r} not in GB/T 39046 A.4")

        sp = it.get("special_procedures", [])
        if not isinstance(sp, list):
            r.err(f"{where}: special_procedures must be an array")
        else:
            for k in sp:
                if k not in SPECIAL_PROCEDURES:
                    r.err(f"{where}: special procedure {k!r} not allowed")
            if len(set(sp)) != len(sp):
                r.err(f"{where}: duplicate special procedures")

        if "variants" in it:
            v = it["variants"]
            if not (isinstance(v, list) and v and all(nonempty_str(x) for x in v)):
                r.err(f"{where}: variants must be a non-empty array of strings when present")
            elif len(set(v)) != len(v):
                r.err(f"{where}: duplicate variants {[x for x, k in Counter(v).items() if k > 1]}")

        w = it.get("volume_weight")
        if not (is_num(w) and w > 0):
            r.err(f"{where}: volume_weight must be positive, got {w!r}")

        steps = it.get("steps")
        if not (isinstance(steps, list) and steps):
            r.err(f"{where}: steps must be a non-empty array")
        else:
            total = 0
            for s in steps:
                if not isinstance(s, dict) or set(s) != STEP_KEYS:
                    r.err(f"{where}: step {s!r} must have exactly {sorted(STEP_KEYS)}")
                    continue
                if not nonempty_str(s["name"]):
                    r.err(f"{where}: step with empty name")
                if not (is_int(s["limit_days"]) and s["limit_days"] >= 0):
                    r.err(f"{where}: step {s['name']} limit_days must be a non-negative integer")
                else:
                    total += s["limit_days"]
            if pu == "工作日" and is_int(pl) and total > pl:
                r.err(f"{where}: step limits sum {total} > promised_limit {pl} 工作日")

        fees = it.get("fee", [])
        fcodes: Counter[str] = Counter()
        for f in fees:
            if set(f) != FEE_KEYS:
                r.err(f"{where}: fee {f!r} must have exactly {sorted(FEE_KEYS)}")
                continue
            fcodes[f["code"]] += 1
            if not (is_int(f["standard_fen"]) and f["standard_fen"] > 0):
                r.err(f"{where}: fee {f['code']} standard_fen must be a positive integer (fen)")
            if not (nonempty_str(f["name"]) and nonempty_str(f["basis"])):
                r.err(f"{where}: fee {f['code']} needs name and basis")
        for c, k in fcodes.items():
            if k > 1:
                r.err(f"{where}: fee code {c} repeated")

        mats = it.get("material", [])
        if not 2 <= len(mats) <= 8:
            r.err(f"{where}: {len(mats)} materials, expected 2-8")
        mnames: Counter[str] = Counter()
        for m in mats:
            if set(m) != MAT_KEYS:
                r.err(f"{where}: material {m!r} must have exactly {sorted(MAT_KEYS)}")
                continue
            mnames[m["name"]] += 1
            if not nonempty_str(m["name"]):
                r.err(f"{where}: material with empty name")
            if not isinstance(m["required"], bool):
                r.err(f"{where}: material {m['name']} required must be boolean")
            o, c = m["original_copies"], m["copy_copies"]
            if not (is_int(o) and is_int(c) and o >= 0 and c >= 0 and o + c >= 1):
                r.err(f"{where}: material {m['name']} copies invalid ({o!r}, {c!r})")
        for c, k in mnames.items():
            if k > 1:
                r.err(f"{where}: material {c} listed {k} times")
        if mats and not any(m.get("required") is True for m in mats):
            r.err(f"{where}: no required material")

    for c, k in basic.items():
        if k > 1:
            r.err(f"basic_code {c} used {k} times")
    for (dc, nm), k in names_in_dept.items():
        if k > 1:
            r.err(f"item name {nm} repeated {k} times in {dc}")
    for dc in codes:
        # The 监察局 supervises; it approves nothing.
        if per_dept[dc] < 2 and dc != "JCJ":
            r.err(f"department {dc} has {per_dept[dc]} items, needs at least 2")

    # ---------------------------------------------------------------- totals
    expanded = sum(max(1, len(it.get("variants", []) or [])) for it in items)
    if len(depts) < 40:
        r.err(f"only {len(depts)} departments, need >= 40")
    if not 250 <= len(items) <= 350:
        r.warn(f"{len(items)} base items, target 250-350")
    if expanded < 1000:
        r.err(f"expanded catalogue has {expanded} items, need >= 1000")

    # case-weighted 即办件 share: department weight x item weight (within department)
    jb = 0.0
    tot_w = sum(dept_weight.values()) or 1.0
    for dc, dw in dept_weight.items():
        its = [it for it in items if it.get("department") == dc and is_num(it.get("volume_weight"))]
        s = sum(it["volume_weight"] for it in its)
        if s > 0:
            jb += dw / tot_w * sum(it["volume_weight"] / s for it in its if it.get("case_kind") == "即办件")
    if not 0.45 <= jb <= 0.65:
        r.warn(f"case-weighted 即办件 share {jb:.1%} outside 45-65 %")
    fee_items = sum(1 for it in items if it.get("fee"))
    fee_share = fee_items / len(items) if items else 0
    if not 0.03 <= fee_share <= 0.12:
        r.warn(f"{fee_share:.1%} of items charge a fee, target ~5-10 %")

    print(f"city.toml: {city.get('name')} ({region})")
    print(f"  departments          {len(depts)}")
    print(f"  base items           {len(items)}")
    print(f"  items with variants  {sum(1 for it in items if it.get('variants'))}")
    print(f"  expanded items       {expanded}")
    print(f"  materials            {sum(len(it.get('material', [])) for it in items)}")
    print(f"  items with fees      {fee_items} ({fee_share:.1%}), fee lines {sum(len(it.get('fee', [])) for it in items)}")
    print(f"  即办件 items          {sum(1 for it in items if it.get('case_kind') == '即办件')}"
          f" (case-weighted share {jb:.1%})")
    print(f"  window_auth 受理 only {sum(1 for it in items if it.get('window_auth') == '受理')}")
    print("  item_type            " + ", ".join(f"{k}:{v}" for k, v in sorted(Counter(it.get('item_type') for it in items).items())))
    print("  legal_unit           " + ", ".join(f"{k}:{v}" for k, v in Counter(it.get('legal_unit') for it in items).most_common()))
    print("  special procedures   " + ", ".join(
        f"{k}:{v}" for k, v in Counter(s for it in items for s in it.get('special_procedures', [])).most_common()))
    top = sorted(dept_weight.items(), key=lambda kv: -kv[1])
    top_share = sum(w for _, w in top[:8]) / tot_w
    print(f"  top-8 departments carry {top_share:.1%} of case volume: " + ", ".join(c for c, _ in top[:8]))
    return data


def check_names(path: Path, r: Report) -> None:
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as e:
        r.err(f"{path}: cannot parse: {e}")
        return
    for key, least in NAMES_ARRAYS.items():
        arr = data.get(key)
        if not (isinstance(arr, list) and all(nonempty_str(x) for x in arr)):
            r.err(f"names.toml: {key} must be an array of non-empty strings")
            continue
        if len(arr) < least:
            r.err(f"names.toml: {key} has {len(arr)} entries, expected >= {least}")
        dup = [x for x, k in Counter(arr).items() if k > 1]
        if dup:
            r.err(f"names.toml: {key} has duplicates {dup}")
    for ch in data.get("given_chars", []):
        if len(ch) != 1:
            r.err(f"names.toml: given_chars entry {ch!r} is not a single character")
    susp = data.get("suspension_reasons")
    if not (isinstance(susp, list) and len(susp) >= 15):
        r.err("names.toml: suspension_reasons must be an array of >= 15 tables")
    else:
        for s in susp:
            if not (isinstance(s, dict) and set(s) == {"kind", "reason", "basis"}):
                r.err(f"names.toml: suspension_reasons entry {s!r} needs exactly kind, reason, basis")
            elif s["kind"] not in SPECIAL_PROCEDURES | {"延长审批"}:
                r.err(f"names.toml: suspension kind {s['kind']!r} not allowed")
    # Tables of the complaint and monitoring-point generators (checked by the demo's own test).
    module_keys = {"complaints", "complaint_answers", "complaint_decline_reasons",
                   "monitoring_sectors", "survey_comments_good", "survey_comments_bad"}
    extra = set(data) - set(NAMES_ARRAYS) - {"suspension_reasons"} - module_keys
    if extra:
        r.err(f"names.toml: unknown keys {sorted(extra)}")
    print(f"names.toml: {len(data.get('surnames', []))} surnames, {len(data.get('given_chars', []))} given chars, "
          f"{len(data.get('company_words', []))} company words, {len(data.get('company_industries', []))} industries, "
          f"{len(data.get('rating_comments_good', []))}/{len(data.get('rating_comments_bad', []))} good/bad comments, "
          f"{len(data.get('rejection_reasons', []))} rejection reasons, {len(susp or [])} suspension reasons, "
          f"{len(data.get('step_opinions', []))} step opinions")


def main(argv: list[str]) -> int:
    city_path = Path(argv[1]) if len(argv) > 1 else HERE / "city.toml"
    names_path = Path(argv[2]) if len(argv) > 2 else HERE / "names.toml"
    r = Report()
    check_city(city_path, r)
    if names_path.exists():
        check_names(names_path, r)
    else:
        r.warn(f"{names_path} not found, skipped")
    for w in r.warnings:
        print(f"WARNING: {w}")
    for e in r.errors:
        print(f"ERROR: {e}")
    print("OK" if not r.errors else f"FAILED: {len(r.errors)} error(s)")
    return 0 if not r.errors else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
