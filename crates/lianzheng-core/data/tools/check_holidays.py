#!/usr/bin/env python3
"""Check the Chinese public-holiday data used for working-day (工作日) deadlines.

Files (in the parent directory of this script):
  holidays-cn.csv      date,kind,name,notice -- every date that differs from the plain
                       weekday rule (Mon-Fri work, Sat/Sun rest), from the State Council
                       notices for 2005-2026. kind=holiday: a day off; kind=workday: a
                       Saturday/Sunday that is a make-up working day (调休上班).
  festivals-lunar.csv  year,chuxi,chunjie,qingming,duanwu,zhongqiu for 2005-2100
                       (provisional deadlines in years without a notice).

Subcommands
  check       (default) standard library only. Verifies the structure of both files,
              the statutory day counts of every notice, the 2025/2026 arrangements and
              the golden working-day examples, and that each festival day lies inside
              its holiday block. Exits non-zero on any failure.
  crosscheck  compares holidays-cn.csv day by day (2005-01-01..2026-12-31) with the
              PyPI package chinese-calendar and, optionally, with the data of the npm
              packages chinese-days (--chinese-days DIST_JSON) and holiday-calendar
              (--holiday-calendar DATA_CN_DIR). Needs: pip install chinese-calendar
  gen-lunar   (re)generates festivals-lunar.csv with sxtwl, cross-checked against
              lunardate, zhdate, LunarCalendar, cnlunar and an ephem computation of
              the new moons and of the Sun's longitude (Beijing time, UTC+8).
              Needs: pip install sxtwl lunardate zhdate LunarCalendar cnlunar ephem

Usage:  python3 crates/lianzheng-core/data/tools/check_holidays.py [check|crosscheck|gen-lunar]
"""
import csv
import datetime as dt
import io
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.dirname(HERE)
HOLIDAYS = os.path.join(DATA, "holidays-cn.csv")
LUNAR = os.path.join(DATA, "festivals-lunar.csv")

FIRST_YEAR, LAST_YEAR = 2005, 2026          # notices covered by holidays-cn.csv
LUNAR_FIRST, LUNAR_LAST = 2005, 2100        # years covered by festivals-lunar.csv
HEADER = "date,kind,name,notice"
LUNAR_HEADER = "year,chuxi,chunjie,qingming,duanwu,zhongqiu"
NAMES = {"元旦", "春节", "清明节", "劳动节", "端午节", "中秋节", "国庆节", "中秋节、国庆节",
         # one-off 国务院 arrangement: 国发明电〔2015〕1号, 2015-09-03..05 off, 09-06 worked
         "抗战胜利70周年纪念日"}
NOTICE_RE = re.compile(r"^(?:国办发明电|国发明电)〔\d{4}〕\d+号$|^国务院办公厅关于\d{4}年部分节假日安排的通知$")

# Statute check. Every statutory day (全国年节及纪念日放假办法) that falls on a weekend is made
# up on a weekday, and swapped weekends are worked, so for each yearly arrangement
#   (weekday days off) - (weekend days worked) == number of statutory days.
# 2005-2007: 元旦1 春节3 五一3 十一3 = 10;  2008-2024: 元旦1 春节3 清明1 劳动1 端午1 中秋1 国庆3 = 11;
# 2025-: 春节4 劳动节2 -> 13.  2015: +1 (9月3日, 国发明电〔2015〕1号).  2020: the Spring
# Festival extension (国办发明电〔2020〕1号) added Fri 01-31 and freed the worked Sat 02-01 -> +2.
def expected_net(year):
    base = 10 if year <= 2007 else (11 if year <= 2024 else 13)
    return base + {2015: 1, 2020: 2}.get(year, 0)


def _range(a, b):
    a, b = dt.date.fromisoformat(a), dt.date.fromisoformat(b)
    return [a + dt.timedelta(i) for i in range((b - a).days + 1)]


# Ground truth from the project's domain notes (brief): days off and make-up workdays.
GROUND_TRUTH = {
    2025: {  # 国办发明电〔2024〕12号
        "off": [("2025-01-01", "2025-01-01"), ("2025-01-28", "2025-02-04"), ("2025-04-04", "2025-04-06"),
                ("2025-05-01", "2025-05-05"), ("2025-05-31", "2025-06-02"), ("2025-10-01", "2025-10-08")],
        "work": ["2025-01-26", "2025-02-08", "2025-04-27", "2025-09-28", "2025-10-11"],
    },
    2026: {  # 国办发明电〔2025〕7号 (2025-11-04)
        "off": [("2026-01-01", "2026-01-03"), ("2026-02-15", "2026-02-23"), ("2026-04-04", "2026-04-06"),
                ("2026-05-01", "2026-05-05"), ("2026-06-19", "2026-06-21"), ("2026-09-25", "2026-09-27"),
                ("2026-10-01", "2026-10-07")],
        "work": ["2026-01-04", "2026-02-14", "2026-02-28", "2026-05-09", "2026-09-20", "2026-10-10"],
    },
}
# (start, n working days after start -- start not counted, expected)
GOLDEN = [("2026-02-13", 5, "2026-02-27"), ("2026-02-13", 20, "2026-03-19"),
          ("2026-09-24", 5, "2026-10-09"), ("2026-02-13", 3, "2026-02-25")]
LUNAR_EXPECTED = {2025: ("2025-01-28", "2025-01-29", "2025-04-04", "2025-05-31", "2025-10-06"),
                  2026: ("2026-02-16", "2026-02-17", "2026-04-05", "2026-06-19", "2026-09-25")}
FESTIVAL_COLUMN = {"清明节": "qingming", "端午节": "duanwu", "中秋节": "zhongqiu"}


def notice_year(d):
    """The arrangement a date belongs to: December dates are always the next year's 元旦."""
    return d.year + 1 if d.month == 12 else d.year


def read_strict(path, header, errors):
    raw = open(path, "rb").read()
    if raw.startswith(b"\xef\xbb\xbf"):
        errors.append(f"{path}: has a UTF-8 BOM")
    if b"\r" in raw:
        errors.append(f"{path}: contains CR characters (want \\n line endings)")
    if not raw.endswith(b"\n"):
        errors.append(f"{path}: does not end with a newline")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        errors.append(f"{path}: not UTF-8: {e}")
        return []
    lines = text.split("\n")
    if lines[0].lstrip("\ufeff") != header:
        errors.append(f"{path}: header is {lines[0]!r}, want {header!r}")
    if any(l.startswith("#") for l in lines):
        errors.append(f"{path}: comment lines are not allowed")
    if any(l == "" for l in lines[1:-1]):
        errors.append(f"{path}: blank line inside the file")
    rows = list(csv.reader(io.StringIO(text)))[1:]
    ncol = len(header.split(","))
    for i, r in enumerate(rows, start=2):
        if len(r) != ncol:
            errors.append(f"{path}:{i}: {len(r)} fields, want {ncol}: {r}")
    return [r for r in rows if len(r) == ncol]


def parse_date(s, where, errors):
    try:
        d = dt.date.fromisoformat(s)
    except ValueError:
        d = None
    if d is None or d.isoformat() != s:
        errors.append(f"{where}: bad ISO date {s!r}")
        return None
    return d


def load_holidays(errors):
    rows = read_strict(HOLIDAYS, HEADER, errors)
    out = []
    for i, (ds, kind, name, notice) in enumerate(rows, start=2):
        where = f"holidays-cn.csv:{i}"
        d = parse_date(ds, where, errors)
        if d is None:
            continue
        if kind not in ("holiday", "workday"):
            errors.append(f"{where}: kind {kind!r} not in holiday/workday")
        if name not in NAMES:
            errors.append(f"{where}: unknown name {name!r}")
        if not NOTICE_RE.match(notice):
            errors.append(f"{where}: notice {notice!r} is neither a document number nor a notice title")
        out.append((d, kind, name, notice))
    return out


def load_lunar(errors):
    rows = read_strict(LUNAR, LUNAR_HEADER, errors)
    out = {}
    for i, r in enumerate(rows, start=2):
        where = f"festivals-lunar.csv:{i}"
        if not r[0].isdigit():
            errors.append(f"{where}: bad year {r[0]!r}")
            continue
        y = int(r[0])
        ds = [parse_date(s, where, errors) for s in r[1:]]
        if None in ds:
            continue
        if y in out:
            errors.append(f"{where}: duplicate year {y}")
        out[y] = dict(zip(LUNAR_HEADER.split(",")[1:], ds))
    return out


class Calendar:
    def __init__(self, rows):
        self.kind = {d: k for d, k, _, _ in rows}

    def is_working_day(self, d):
        k = self.kind.get(d)
        if k == "holiday":
            return False
        if k == "workday":
            return True
        return d.weekday() < 5

    def add_working_days(self, start, n):
        d = start
        while n > 0:
            d += dt.timedelta(1)
            if self.is_working_day(d):
                n -= 1
        return d


def check_holidays(rows, lunar, errors):
    dates = [r[0] for r in rows]
    for a, b in zip(dates, dates[1:]):
        if not a < b:
            errors.append(f"holidays-cn.csv: not sorted / duplicate date at {a} -> {b}")
    if len(set(dates)) != len(dates):
        errors.append("holidays-cn.csv: duplicate dates")
    lo, hi = dt.date(FIRST_YEAR - 1, 12, 1), dt.date(LAST_YEAR, 12, 31)
    for d, kind, name, notice in rows:
        if not lo <= d <= hi:
            errors.append(f"{d}: outside the {FIRST_YEAR}-{LAST_YEAR} notices")
        if kind == "workday" and d.weekday() < 5:
            errors.append(f"{d}: workday row on a {d.strftime('%A')} (must be Sat/Sun)")

    # weekend holiday rows must sit inside a block (run of consecutive holiday rows of the same
    # festival) that has a weekday day off, or be the festival day itself (e.g. 中秋 Sun 2015-09-27).
    hol = {d: (name, notice) for d, kind, name, notice in rows if kind == "holiday"}
    for d, (name, _) in sorted(hol.items()):
        if d.weekday() < 5:
            continue
        block, x = [d], d - dt.timedelta(1)
        while x in hol and hol[x][0] == name:
            block.append(x)
            x -= dt.timedelta(1)
        x = d + dt.timedelta(1)
        while x in hol and hol[x][0] == name:
            block.append(x)
            x += dt.timedelta(1)
        if any(b.weekday() < 5 for b in block):
            continue
        col = FESTIVAL_COLUMN.get(name)
        if col and lunar.get(d.year, {}).get(col) == d:
            continue
        errors.append(f"{d}: weekend holiday row ({name}) outside any block with a weekday day off")

    # every arrangement has its festivals, and the statutory-day arithmetic holds
    by_year = {}
    for d, kind, name, notice in rows:
        by_year.setdefault(notice_year(d), []).append((d, kind, name, notice))
    for y in range(FIRST_YEAR, LAST_YEAR + 1):
        ys = by_year.get(y, [])
        names = set()
        for _, _, n, _ in ys:
            names.update(n.split("、"))
        want = {"元旦", "春节", "劳动节", "国庆节"} | ({"清明节", "端午节", "中秋节"} if y >= 2008 else set())
        if not want <= names:
            errors.append(f"{y}: arrangement lacks {sorted(want - names)}")
        net = sum(1 for d, k, _, _ in ys if k == "holiday" and d.weekday() < 5) \
            - sum(1 for _, k, _, _ in ys if k == "workday")
        if net != expected_net(y):
            errors.append(f"{y}: weekday days off minus weekend days worked = {net}, "
                          f"statute says {expected_net(y)}")

    # ground truth for 2025 and 2026, exactly
    for y, gt in GROUND_TRUTH.items():
        want_off = {d for a, b in gt["off"] for d in _range(a, b) if d.weekday() < 5}
        want_work = {dt.date.fromisoformat(s) for s in gt["work"]}
        got_off = {d for d, k, _, _ in rows if k == "holiday" and d.year == y and d.weekday() < 5}
        got_work = {d for d, k, _, _ in rows if k == "workday" and d.year == y}
        if got_off != want_off:
            errors.append(f"{y}: weekday days off differ from the notice: "
                          f"missing {sorted(map(str, want_off - got_off))}, extra {sorted(map(str, got_off - want_off))}")
        if got_work != want_work:
            errors.append(f"{y}: make-up workdays differ from the notice: "
                          f"missing {sorted(map(str, want_work - got_work))}, extra {sorted(map(str, got_work - want_work))}")
        for a, b in gt["off"]:   # weekend days inside the notice's blocks are listed too
            for d in _range(a, b):
                if d.weekday() >= 5 and not any(r[0] == d and r[1] == "holiday" for r in rows):
                    errors.append(f"{d}: weekend day inside a {y} block is not listed as holiday")

    cal = Calendar(rows)
    for start, n, want in GOLDEN:
        got = cal.add_working_days(dt.date.fromisoformat(start), n)
        if got.isoformat() != want:
            errors.append(f"golden: {start} + {n} working days = {got}, want {want}")


def check_lunar(lunar, rows, errors):
    years = sorted(lunar)
    if years != list(range(LUNAR_FIRST, LUNAR_LAST + 1)):
        errors.append(f"festivals-lunar.csv: years are not exactly {LUNAR_FIRST}..{LUNAR_LAST} in order")
    # loose sanity bounds (the extremes of 2005-2100 are chunjie 01-21..02-19, duanwu 05-27..06-25,
    # zhongqiu 09-07..10-06)
    windows = {"chunjie": ((1, 19), (2, 21)), "qingming": ((4, 3), (4, 6)),
               "duanwu": ((5, 25), (6, 27)), "zhongqiu": ((9, 5), (10, 10))}
    for y in years:
        f = lunar[y]
        if f["chuxi"] != f["chunjie"] - dt.timedelta(1):
            errors.append(f"{y}: chuxi {f['chuxi']} is not the day before chunjie {f['chunjie']}")
        for col, (a, b) in windows.items():
            if not dt.date(y, *a) <= f[col] <= dt.date(y, *b):
                errors.append(f"{y}: {col} {f[col]} outside its possible range")
        # 五月初五 -> 八月十五: three lunar months + 10 days, or four with a leap month between
        if f["zhongqiu"] - f["duanwu"] not in [dt.timedelta(d) for d in range(95, 133)]:
            errors.append(f"{y}: duanwu->zhongqiu distance {f['zhongqiu'] - f['duanwu']} implausible")
    for y, exp in LUNAR_EXPECTED.items():
        got = tuple(lunar.get(y, {}).get(c, dt.date.min).isoformat() for c in LUNAR_HEADER.split(",")[1:])
        if got != exp:
            errors.append(f"{y}: festivals {got}, want {exp}")
    # each festival day lies inside the corresponding holiday block of the notices
    hol = {d: n for d, k, n, _ in rows if k == "holiday"}
    for y in range(FIRST_YEAR, LAST_YEAR + 1):
        f = lunar.get(y)
        if not f:
            continue
        checks = [("chunjie", "春节")]
        if y >= 2008:
            checks += [("qingming", "清明节"), ("duanwu", "端午节"), ("zhongqiu", "中秋节")]
        for col, name in checks:
            if name not in hol.get(f[col], "").split("、"):
                errors.append(f"{y}: {col} {f[col]} is not inside a {name} holiday block "
                              f"(holidays-cn.csv has {hol.get(f[col])!r})")


def cmd_check():
    errors = []
    rows = load_holidays(errors)
    lunar = load_lunar(errors) if os.path.exists(LUNAR) else {}
    if not lunar:
        errors.append("festivals-lunar.csv missing or empty")
    check_holidays(rows, lunar, errors)
    if lunar:
        check_lunar(lunar, rows, errors)
    per_year = {}
    for d, kind, _, _ in rows:
        c = per_year.setdefault(d.year, [0, 0])
        c[0 if kind == "holiday" else 1] += 1
    print("holidays-cn.csv rows per calendar year (holiday/workday):")
    print("  " + "  ".join(f"{y}:{h}/{w}" for y, (h, w) in sorted(per_year.items())))
    print(f"holidays-cn.csv: {len(rows)} rows; festivals-lunar.csv: {len(lunar)} years")
    for e in errors:
        print("FAIL:", e)
    if errors:
        print(f"{len(errors)} failed")
        return 1
    print("all holiday checks passed")
    return 0


# ---------------------------------------------------------------- crosscheck (needs chinese_calendar)
# Disagreements already resolved against the notice texts (see HOLIDAYS-SOURCES.md).
KNOWN_SOURCE_ERRORS = {
    ("chinese_calendar", "2005-12-31"): "misses the 元旦 make-up Saturday of 国办发明电〔2005〕35号",
    ("chinese-days", "2005-12-31"): "misses the 元旦 make-up Saturday of 国办发明电〔2005〕35号",
    ("holiday-calendar", "2007-12-29"): "misses the 2008 元旦 make-up Saturday",
    ("holiday-calendar", "2007-12-31"): "misses 2007-12-31 (2008 元旦 block)",
    ("holiday-calendar", "2008-05-04"): "misses the 劳动节 make-up Sunday",
    ("holiday-calendar", "2008-06-07"): "marks the 端午 Saturday as a workday",
    ("holiday-calendar", "2008-09-13"): "marks the 中秋 Saturday as a workday",
    ("holiday-calendar", "2009-01-04"): "misses the 元旦 make-up Sunday",
    ("holiday-calendar", "2009-09-27"): "misses the 国庆 make-up Sunday",
    ("holiday-calendar", "2011-12-31"): "misses the 2012 元旦 make-up Saturday",
    ("holiday-calendar", "2015-01-04"): "misses the 元旦 make-up Sunday",
    ("holiday-calendar", "2016-04-02"): "marks the 清明 Saturday as a workday",
    ("holiday-calendar", "2018-06-16"): "marks the 端午 Saturday as a workday",
    ("holiday-calendar", "2018-09-22"): "marks the 中秋 Saturday as a workday",
}


def cmd_crosscheck(argv):
    import argparse
    import glob
    import json
    ap = argparse.ArgumentParser(prog="check_holidays.py crosscheck")
    ap.add_argument("--chinese-days", help="path to chinese-days/dist/chinese-days.json (npm chinese-days)")
    ap.add_argument("--holiday-calendar", help="path to holiday-calendar/data/CN (npm holiday-calendar)")
    args = ap.parse_args(argv)
    errors = []
    rows = load_holidays(errors)
    if errors:
        print("\n".join(errors))
        return 1
    cal = Calendar(rows)
    sources = {}
    import chinese_calendar
    sources["chinese_calendar"] = lambda d: chinese_calendar.is_workday(d)
    print("chinese_calendar", getattr(chinese_calendar, "__version__", "?"))
    if args.chinese_days:
        j = json.load(open(args.chinese_days, encoding="utf-8"))
        off, work = set(j["holidays"]), set(j["workdays"])
        sources["chinese-days"] = lambda d, off=off, work=work: (
            True if d.isoformat() in work else False if d.isoformat() in off else d.weekday() < 5)
    if args.holiday_calendar:
        off, work = set(), set()
        for f in glob.glob(os.path.join(args.holiday_calendar, "[0-9][0-9][0-9][0-9].json")):
            for x in json.load(open(f, encoding="utf-8"))["dates"]:
                (off if x["type"] == "public_holiday" else work).add(x["date"])
        sources["holiday-calendar"] = lambda d, off=off, work=work: (
            True if d.isoformat() in work else False if d.isoformat() in off else d.weekday() < 5)
    bad = 0
    d = dt.date(FIRST_YEAR, 1, 1)
    while d <= dt.date(LAST_YEAR, 12, 31):
        ours = cal.is_working_day(d)
        for name, f in sources.items():
            theirs = f(d)
            if theirs != ours:
                why = KNOWN_SOURCE_ERRORS.get((name, d.isoformat()))
                tag = f"known: {why}" if why else "UNEXPLAINED"
                bad += why is None
                print(f"{d} {d.strftime('%a')}: ours={'work' if ours else 'off'} "
                      f"{name}={'work' if theirs else 'off'}  [{tag}]")
        d += dt.timedelta(1)
    print(f"compared with {', '.join(sources)}: {bad} unexplained disagreement(s)")
    return 1 if bad else 0


# ---------------------------------------------------------------- gen-lunar (needs sxtwl & co.)
# Library disagreements resolved by the ephem new-moon computation (Beijing time):
KNOWN_LUNAR_ERRORS = {
    ("LunarCalendar", 2089, "zhongqiu"): "says 2089-09-19; the new moon of 八月 is 2089-09-04 23:57 UTC+8, "
                                         "so 八月十五 = 2089-09-18 (sxtwl, lunardate, zhdate, cnlunar agree)",
}


def cmd_gen_lunar():
    import warnings
    warnings.filterwarnings("ignore")
    import math
    import ephem
    import sxtwl
    import cnlunar
    import lunardate
    import zhdate
    from lunarcalendar import Converter, Lunar as LCLunar
    D = dt.date

    def sx(y, m, d):
        x = sxtwl.fromLunar(y, m, d)
        return D(x.getSolarYear(), x.getSolarMonth(), x.getSolarDay())

    def cn(y, m, d):
        start = D(y, 1, 15) if m == 1 else D(y, 1, 1)
        for i in range(330):
            x = start + dt.timedelta(i)
            a = cnlunar.Lunar(dt.datetime(x.year, x.month, x.day), godType="8char")
            if (a.lunarYear, a.lunarMonth, a.lunarDay, a.isLunarLeapMonth) == (y, m, d, False):
                return x
        raise ValueError("not found")

    others = {
        "lunardate": lambda y, m, d: lunardate.LunarDate(y, m, d).toSolarDate(),
        "zhdate": lambda y, m, d: zhdate.ZhDate(y, m, d).to_datetime().date(),
        "LunarCalendar": lambda y, m, d: (lambda s: D(s.year, s.month, s.day))(
            Converter.Lunar2Solar(LCLunar(y, m, d, isleap=False))),
        "cnlunar": cn,
    }

    def new_moon_cst(first):
        t = ephem.previous_new_moon(ephem.Date(first + dt.timedelta(days=15)))
        return ephem.Date(t + 8 * ephem.hour).datetime()

    def qm_sx(y):
        for d in range(3, 7):
            day = sxtwl.fromSolar(y, 4, d)
            if day.hasJieQi() and day.getJieQi() == 7:   # 7 = 清明 in sxtwl's table
                return D(y, 4, d)

    def qm_cn(y):
        for d in range(3, 7):
            if cnlunar.Lunar(dt.datetime(y, 4, d), godType="8char").todaySolarTerms == "清明":
                return D(y, 4, d)

    def qm_ephem(y):   # apparent ecliptic longitude of the Sun = 15 deg, in UTC+8
        def lon(t):
            s = ephem.Sun()
            s.compute(t, epoch=t)
            return float(ephem.Ecliptic(s, epoch=t).lon)
        a, b = ephem.Date(f"{y}/3/30"), ephem.Date(f"{y}/4/10")
        for _ in range(60):
            m = ephem.Date((a + b) / 2)
            if lon(m) < math.radians(15):
                a = m
            else:
                b = m
        return ephem.Date(b + 8 * ephem.hour).datetime()

    out = [LUNAR_HEADER]
    fatal, notes = 0, []
    for y in range(LUNAR_FIRST, LUNAR_LAST + 1):
        f = {}
        for col, (m, d) in {"chunjie": (1, 1), "duanwu": (5, 5), "zhongqiu": (8, 15)}.items():
            v = sx(y, m, d)
            f[col] = v
            nm = new_moon_cst(v - dt.timedelta(d - 1))
            if nm.date() != v - dt.timedelta(d - 1):
                fatal += 1
                notes.append(f"FATAL {y} {col}: sxtwl day 1 = {v - dt.timedelta(d - 1)}, ephem new moon {nm}")
            elif min(nm.hour * 60 + nm.minute, 1440 - nm.hour * 60 - nm.minute) < 30:
                notes.append(f"close call {y} {col}: new moon {nm:%Y-%m-%d %H:%M} UTC+8")
            for name, g in others.items():
                try:
                    w = g(y, m, d)
                except Exception:        # library range ends (lunardate < 2100, cnlunar < 2100)
                    continue
                if w != v:
                    why = KNOWN_LUNAR_ERRORS.get((name, y, col))
                    fatal += why is None
                    notes.append(f"{'known' if why else 'UNEXPLAINED'} {y} {col}: {name}={w} sxtwl={v}"
                                 + (f" ({why})" if why else ""))
        q = qm_sx(y)
        qe = qm_ephem(y)
        if qe.date() != q:
            fatal += 1
            notes.append(f"FATAL {y} qingming: sxtwl {q}, ephem {qe}")
        elif min(qe.hour * 60 + qe.minute, 1440 - qe.hour * 60 - qe.minute) < 30:
            notes.append(f"close call {y} qingming: {qe:%Y-%m-%d %H:%M} UTC+8")
        try:
            qc = qm_cn(y)
        except Exception:
            qc = q
        if qc != q:
            fatal += 1
            notes.append(f"UNEXPLAINED {y} qingming: cnlunar {qc}, sxtwl {q}")
        f["qingming"] = q
        f["chuxi"] = f["chunjie"] - dt.timedelta(1)
        out.append(",".join([str(y)] + [f[c].isoformat() for c in LUNAR_HEADER.split(",")[1:]]))
    print("\n".join(notes))
    if fatal:
        print(f"{fatal} unresolved disagreement(s); festivals-lunar.csv NOT written")
        return 1
    with open(LUNAR, "w", encoding="utf-8", newline="\n") as fh:
        fh.write("\n".join(out) + "\n")
    print(f"wrote {LUNAR} ({len(out) - 1} years)")
    return 0


def main(argv):
    cmd = argv[0] if argv else "check"
    if cmd == "check":
        return cmd_check()
    if cmd == "crosscheck":
        return cmd_crosscheck(argv[1:])
    if cmd == "gen-lunar":
        return cmd_gen_lunar()
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
