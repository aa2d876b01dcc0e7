"""Text a person reads, in both languages: every name and reason in a YAML table, plan or
profile carries 中文 and English."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Text(BaseModel):
    model_config = ConfigDict(extra="forbid")
    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)
