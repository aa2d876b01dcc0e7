"""Which verifications count on the way back from a pause (issue 14: after a failing evaluation
run blocked the canary, a checklist signed by the same operator let it through, because the
latest verification won). Pure: the gate passes in the round's rows.

- A failed evaluation is superseded only by a later passing evaluation under the same profile;
  nothing else (no checklist, no run under an easier profile) lifts it.
- A checklist counts only where the service's grade allows one (``checklist_recovery`` in the
  grading table) and once a second person has countersigned it — a regulator, when the pause
  is a regulator's hold.
- What counts must be newer than the latest remediation.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def profile(v: Any) -> str | None:
    return (v.summary or {}).get("profile") if v.method == "evaluation" else None


def countersign_problem(v: Any, hold_by: str | None) -> str | None:
    """Why a checklist does not count yet (None: it does)."""
    if not v.countersigned_by:
        return (f"检查单 {v.id} 需要另一人会签 / checklist {v.id} needs a second person's countersignature "
                f"(fenghuo recovery countersign {v.id})")
    if hold_by and (v.summary or {}).get("countersigned_role") != "regulator":
        return f"监管暂停：检查单 {v.id} 须由监管方会签 / a regulator's hold: checklist {v.id} must be countersigned by a regulator"
    return None


def judge(rems: Sequence[Any], vers: Sequence[Any], *, checklist_allowed: bool, hold_by: str | None) -> tuple[list[str], Any]:
    """(what is missing, the verification that opens the gate or None)."""
    missing: list[str] = []
    for i, v in enumerate(vers):
        if v.method == "evaluation" and not v.passed:
            later = [w for w in vers[i + 1:] if w.method == "evaluation" and w.passed and profile(w) == profile(v)]
            if not later:
                missing.append(f"评估运行 {v.ref}（{profile(v) or '?'}）未通过，只能由同一评估方案下之后通过的运行取代 / "
                               f"evaluation run {v.ref} (profile {profile(v) or '?'}) failed; only a later passing run under "
                               "the same profile supersedes it")
    counting, problems = None, []
    for v in reversed(vers):  # the newest verification that counts; a failed one stops the search
        if not v.passed:
            problems.append(f"最近一次验证 {v.id}（{v.method} {v.ref}）未通过 / the latest verification {v.id} "
                            f"({v.method} {v.ref}) failed")
            break
        if v.method == "checklist":
            if not checklist_allowed:
                problems.append(f"本服务的分级不接受检查单 {v.id} 作为验证，需通过的评估运行 / this service's grade does not "
                                f"accept a checklist ({v.id}) as verification: a passing evaluation run is needed")
                continue
            why = countersign_problem(v, hold_by)
            if why:
                problems.append(why)
                continue
        counting = v
        break
    if not vers:
        missing.append("没有验证（评估运行或会签的检查单）/ no verification (an evaluation run or a countersigned checklist)")
    elif counting is None:
        missing.extend(problems or ["没有有效的验证 / no verification that counts"])
    elif rems and counting.at < rems[-1].at:
        missing.append(f"验证早于最近一次整改 {rems[-1].id}，需重新验证 / the verification predates remediation {rems[-1].id}: verify again")
    return missing, counting
