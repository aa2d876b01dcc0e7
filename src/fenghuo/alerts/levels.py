"""The four warning levels of China's emergency plans (row CN-EP-01 of the regulations notes):
蓝 IV blue (一般), 黄 III yellow (较大), 橙 II orange (重大), 红 I red (特别重大)."""

from __future__ import annotations

from enum import Enum


class Level(str, Enum):
    blue = "blue"
    yellow = "yellow"
    orange = "orange"
    red = "red"

    @property
    def rank(self) -> int:
        return _RANK[self]

    @property
    def roman(self) -> str:
        return {Level.blue: "IV", Level.yellow: "III", Level.orange: "II", Level.red: "I"}[self]

    @property
    def zh(self) -> str:
        return {Level.blue: "蓝色预警（IV级，一般）", Level.yellow: "黄色预警（III级，较大）",
                Level.orange: "橙色预警（II级，重大）", Level.red: "红色预警（I级，特别重大）"}[self]

    def __ge__(self, other: Level) -> bool:  # type: ignore[override]
        return self.rank >= other.rank

    def __gt__(self, other: Level) -> bool:  # type: ignore[override]
        return self.rank > other.rank


_RANK = {Level.blue: 1, Level.yellow: 2, Level.orange: 3, Level.red: 4}


def highest(levels) -> Level | None:
    levels = list(levels)
    return max(levels, key=lambda lv: lv.rank) if levels else None
