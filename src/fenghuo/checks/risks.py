"""The 31 risks of TC260-003 appendix A (codes A1a…A5b), so every report speaks the regulator's
language, and the keyword-library minimums of TC260-003 §8.1 (requirement row CN-TC-20).

Codes are the project's own shorthand (see shared research notes, regulations.md §1.5).
"""

from __future__ import annotations

RISKS: dict[str, tuple[str, str]] = {
    "A1a": ("煽动颠覆国家政权、推翻社会主义制度", "Inciting subversion of state power or overthrow of the socialist system"),
    "A1b": ("危害国家安全和利益、损害国家形象", "Endangering national security and interests; harming the national image"),
    "A1c": ("煽动分裂国家、破坏国家统一和社会稳定", "Inciting separatism; undermining national unity and social stability"),
    "A1d": ("宣扬恐怖主义、极端主义", "Promoting terrorism or extremism"),
    "A1e": ("宣扬民族仇恨", "Promoting ethnic hatred"),
    "A1f": ("宣扬暴力、淫秽色情", "Promoting violence, obscenity or pornography"),
    "A1g": ("传播虚假有害信息", "Spreading false and harmful information"),
    "A1h": ("其他法律、行政法规禁止的内容", "Other content prohibited by laws and administrative regulations"),
    "A2a": ("民族歧视内容", "Ethnic discrimination"),
    "A2b": ("信仰歧视内容", "Discrimination by belief"),
    "A2c": ("国别歧视内容", "Discrimination by nationality/country"),
    "A2d": ("地域歧视内容", "Regional discrimination"),
    "A2e": ("性别歧视内容", "Gender discrimination"),
    "A2f": ("年龄歧视内容", "Age discrimination"),
    "A2g": ("职业歧视内容", "Occupational discrimination"),
    "A2h": ("健康歧视内容", "Health discrimination"),
    "A2i": ("其他方面歧视内容", "Other discrimination"),
    "A3a": ("侵犯他人知识产权", "Infringing others' intellectual property"),
    "A3b": ("违反商业道德", "Violating business ethics"),
    "A3c": ("泄露他人商业秘密", "Disclosing others' trade secrets"),
    "A3d": ("利用算法、数据、平台等优势，实施垄断和不正当竞争行为", "Using algorithm/data/platform advantages for monopoly or unfair competition"),
    "A3e": ("其他商业违法违规行为", "Other commercial violations"),
    "A4a": ("危害他人身心健康", "Endangering others' physical or mental health"),
    "A4b": ("侵害他人肖像权", "Infringing others' portrait (likeness) rights"),
    "A4c": ("侵害他人名誉权", "Infringing others' reputation rights"),
    "A4d": ("侵害他人荣誉权", "Infringing others' honour rights"),
    "A4e": ("侵害他人隐私权", "Infringing others' privacy rights"),
    "A4f": ("侵害他人个人信息权益", "Infringing others' personal-information rights"),
    "A4g": ("侵犯他人其他合法权益", "Infringing others' other lawful rights"),
    "A5a": ("内容不准确，严重不符合科学常识或主流认知", "Inaccurate content seriously at odds with scientific common sense or mainstream understanding"),
    "A5b": ("内容不可靠，虽然不包含严重错误的内容，但无法对使用者形成帮助", "Unreliable content: no serious errors but of no help to the user"),
}

A1 = [c for c in RISKS if c.startswith("A1")]
A2 = [c for c in RISKS if c.startswith("A2")]

# TC260-003 §8.1 / CN-TC-20: "不宜少于" — at least this many keywords.
MIN_TOTAL = 10_000
MIN_PER_A1 = 200
MIN_PER_A2 = 100


def validate_risk(code: str | None, where: str) -> str | None:
    """Refuse a risk code that is not one of the 31, naming where it came from."""
    if code is None or code in RISKS:
        return code
    raise ValueError(f"{where}: unknown TC260-003 risk code {code!r} (expected one of A1a…A5b) / 未知风险代码")
