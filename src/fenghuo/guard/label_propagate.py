"""A propagation platform's part of an AIGC label (GB 45438 App. E; 标识办法 Art.6; rows
CN-LB-13/14/16 of shared/research/regulations.md).

A platform that passes generated content on writes its own propagation elements —
ContentPropagator (its name or code), PropagateID (its id for the content), ReservedCode2 (its own
integrity data, empty here) — and leaves the production elements (Label, ContentProducer,
ProduceID, ReservedCode1) as the producer wrote them, so the producer's signature, which covers
only those (:mod:`fenghuo.guard.labels`), still verifies.

``Label`` says how sure the platform is that the content is AI-generated (Art.6):
"1" the file carries an implicit label (it is); "2" no implicit label but the user declares it
(possibly); "3" neither, but the platform detects an explicit label or other traces (suspected).
Values 2 and 3 are therefore written only for content without a producer's signed label: a
label the producer signed keeps its Label (changing it would alter the label, CN-LB-19). The
visible notice a platform shows for each value is :data:`NOTICES`.
"""

from __future__ import annotations

import uuid

from fenghuo.guard.labels import DEFAULT_TEXT, FIELDS, LABEL_VALUES, allowed

NOTICES = {
    "1": DEFAULT_TEXT,
    "2": "本内容可能由人工智能生成 / possibly AI-generated",
    "3": "本内容疑似由人工智能生成 / suspected AI-generated",
}


class PropagationRefused(ValueError):
    """The label cannot be propagated as asked; ``zh`` and ``en`` say why."""

    def __init__(self, zh: str, en: str) -> None:
        super().__init__(en)
        self.zh, self.en = zh, en


def _check(name: str, value: str) -> None:
    if not value or not allowed(value):
        raise PropagationRefused(f"{name} {value!r} 为空或含不允许的字符", f"{name} {value!r} is empty or has characters "
                                 "outside 0x21–0x7E (no space, \" or \\)")


def propagate(meta: dict | None, platform: str, propagate_id: str | None = None, label: str | None = None) -> dict:
    """The seven-field label with this platform's propagation elements written.

    ``meta`` is the label the content carries (the bare seven-field object) or None when it has
    none. With a producer's label, the production elements and ReservedCode1 are kept as they
    are; ``label`` may only repeat its value. Without one (or with a label no producer signed),
    ``label`` must be "2" or "3" (or "1" when the platform knows the content is AI-generated) and
    the production elements stay empty. ``propagate_id`` defaults to a fresh random id."""
    _check("ContentPropagator", platform)
    propagate_id = propagate_id or uuid.uuid4().hex
    _check("PropagateID", propagate_id)
    if label is not None and label not in LABEL_VALUES:
        raise PropagationRefused(f"Label 只能是 1、2 或 3，不是 {label!r}", f"Label must be 1, 2 or 3, not {label!r}")
    if meta is not None and tuple(meta) != FIELDS:
        raise PropagationRefused("已有标识的字段或顺序不符", "the existing label's fields or their order differ from GB 45438 App. E")
    signed = meta is not None and bool(meta.get("ReservedCode1"))
    if signed:
        if label is not None and label != meta["Label"]:
            raise PropagationRefused(
                f"内容带有生成者签名的标识（Label {meta['Label']}），传播平台不得改动 Label（标识办法第六条、第十条）",
                f"the content carries a label its producer signed (Label {meta['Label']}); a propagation platform keeps it "
                "(Label 2/3 are for content without one; changing it would break the producer's signature)")
        production = {k: meta[k] for k in ("Label", "ContentProducer", "ProduceID", "ReservedCode1")}
    else:
        if label is None:
            label = meta["Label"] if meta is not None and meta.get("Label") in LABEL_VALUES else None
        if label is None:
            raise PropagationRefused("内容没有生成者标识：请用 --label 2（用户声明）或 3（检测到痕迹）",
                                     "the content has no producer's label: give --label 2 (the user declares it) or 3 "
                                     "(traces detected)")
        production = {"Label": label, "ContentProducer": "", "ProduceID": "", "ReservedCode1": ""}
    f = {**production, "ContentPropagator": platform, "PropagateID": propagate_id, "ReservedCode2": ""}
    return {k: f[k] for k in FIELDS}


def notice(label: str) -> str:
    """The visible notice (explicit label) a platform shows for a Label value."""
    return NOTICES[label]
