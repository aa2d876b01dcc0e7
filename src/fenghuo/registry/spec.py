"""What a registration says: the attributes a grading needs, validated.

The vocabularies below are the ones the grading tables speak; a value outside them is refused
with the file, line and field so a typo never silently lands in the lowest grade.
"""

from __future__ import annotations

import re
from enum import Enum
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from fenghuo.platform.durations import parse_duration
from fenghuo.platform.errors import Invalid
from fenghuo.platform.inputs import Body
from fenghuo.platform.yamlfile import YamlDoc, load_yaml, parse_yaml

ID_PATTERN = r"^[a-z0-9][a-z0-9._-]{0,63}$"


class Sector(str, Enum):
    general = "general"
    medical = "medical"
    education = "education"
    finance = "finance"
    justice = "justice"
    transport = "transport"
    public_administration = "public_administration"
    news_media = "news_media"
    employment = "employment"
    minors_oriented = "minors_oriented"
    critical_infrastructure = "critical_infrastructure"
    biometrics = "biometrics"


class Function(str, Enum):
    content_generation = "content_generation"
    recommendation = "recommendation"
    decision_support = "decision_support"
    automated_decision = "automated_decision"
    autonomous_action = "autonomous_action"


class Modality(str, Enum):
    text = "text"
    image = "image"
    audio = "audio"
    video = "video"


class _Strict(Body):  # and no text a database cannot store (NUL), as every request body
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, use_enum_values=True)


class JurisdictionSpec(_Strict):
    id: str = Field(pattern=ID_PATTERN)
    name: str = Field(min_length=1, max_length=200)  # the column's length
    level: str = Field(pattern=r"^(national|provincial|city|district|supranational|other)$")
    parent: str | None = None


class OperatorType(str, Enum):
    """Legal designation of the operator, which sets the CN incident-reporting deadline
    (CN-IR-03/04/05): critical-information-infrastructure operator 1 h, central and state
    bodies 2 h, every other operator 4 h. Not the AI risk grade."""

    cii = "cii"
    central = "central"
    other = "other"


class ProviderSpec(_Strict):
    id: str = Field(pattern=ID_PATTERN)
    name: str = Field(min_length=1, max_length=200)
    jurisdiction: str
    operator_type: OperatorType = Field(default="other", validate_default=True)
    # CN-TC-17 (GENAI Art.15): the complaint-handling time limit the provider publishes, e.g. "15d";
    # a complaint ticket is due this long after it was received
    complaint_limit: str | None = None
    filing_number: str | None = Field(default=None, min_length=1, max_length=100)  # the provider's 备案 number, if any

    @field_validator("complaint_limit")
    @classmethod
    def _limit(cls, v: str | None) -> str | None:
        if v is not None and parse_duration(v) <= 0:
            raise ValueError("complaint_limit must be longer than 0 (e.g. 15d)")
        return v


class PublicNotices(_Strict):
    """What the service's end users read when the switch refuses their call (the gateway's 503
    body, the SDK's refusal), instead of the bilingual default; and ``Retry-After`` seconds for a
    pause or a stop. The operator's reason for a command is never shown to end users."""

    paused: str | None = Field(None, min_length=1, max_length=500)
    stopped: str | None = Field(None, min_length=1, max_length=500)
    paused_retry_after: int | None = Field(None, ge=1, le=86400)
    stopped_retry_after: int | None = Field(None, ge=1, le=86400)


class ServiceSpec(_Strict):
    """One AI service as registered. Field names are what a YAML registration uses."""

    id: str = Field(pattern=ID_PATTERN)
    name: str = Field(min_length=1, max_length=200)
    provider: str
    jurisdiction: str | None = None  # defaults to the provider's
    sector: Sector
    function: Function
    modalities: list[Modality] = Field(min_length=1)
    reach: int = Field(ge=0, le=2**63 - 1, description="expected users")
    no_human_in_loop: bool = Field(description="people are affected without a human reviewing the output")
    minors_among_users: bool = False
    operator_type: OperatorType | None = Field(default=None, description="overrides the provider's (CN-IR-03/04/05)")
    filing_number: str | None = Field(default=None, min_length=1, max_length=100,
                                      description="the service's filing (备案) number, shown to users (CN-PO-12)")
    base_model_filing: str | None = Field(default=None, min_length=1, max_length=100,
                                          description="filing number of the foundation model it is built on (CN-TC-12)")
    primary_model: str | None = None
    backup_model: str | None = None
    practices: list[str] = Field(default_factory=list, description="declared practices (for the EU tiers)")
    grading_table: str = "cn-default"
    labels: dict[str, str] = Field(default_factory=dict)
    public: PublicNotices | None = Field(None, description="end users' messages when the switch refuses (guard.errors.Notices)")

    @field_validator("practices")
    @classmethod
    def _practice_names(cls, v: list[str]) -> list[str]:
        for p in v:
            if not re.fullmatch(r"[a-z0-9_]+", p):
                raise ValueError(f"practice names are lower_snake_case, got {p!r}")
        return v

    def grading_attributes(self) -> dict[str, Any]:
        return self.model_dump(exclude={"id", "name", "provider", "jurisdiction", "grading_table", "labels", "primary_model",
                                        "public"})


class RegistrationFile(BaseModel):
    """A registration file: one service, or lists of jurisdictions, providers and services."""

    jurisdictions: list[JurisdictionSpec] = Field(default_factory=list)
    providers: list[ProviderSpec] = Field(default_factory=list)
    services: list[ServiceSpec] = Field(default_factory=list)


def _parse(doc: YamlDoc) -> RegistrationFile:
    data = doc.data
    if not isinstance(data, dict):
        raise doc.error((), "应为映射（键: 值）", "expected a mapping (key: value) at the top level")
    many = {"jurisdictions", "providers", "services"} & set(data)
    try:
        if many:
            unknown = set(data) - {"jurisdictions", "providers", "services"}
            if unknown:
                key = sorted(unknown)[0]
                raise doc.error((key,), "未知字段", "unknown field (expected jurisdictions, providers, services)")
            return unique_ids(RegistrationFile.model_validate(data), doc)
        return RegistrationFile(services=[ServiceSpec.model_validate(data)])
    except ValidationError as exc:
        raise doc.validation_error(exc) from None


def unique_ids(reg: RegistrationFile, doc: YamlDoc) -> RegistrationFile:
    """Refuse an id written twice in one file (a jurisdiction, provider or service): the second
    would silently replace the first (issue 14). The error names the file and both lines."""
    for kind, items in (("jurisdictions", reg.jurisdictions), ("providers", reg.providers), ("services", reg.services)):
        first: dict[str, int] = {}
        for i, item in enumerate(items):
            if item.id in first:
                was = doc.line_of((kind, first[item.id], "id"))
                at = f"（第一次在第 {was} 行）" if was else ""
                raise doc.error((kind, i, "id"), f"id {item.id} 在本文件中重复{at}",
                                f"id {item.id} appears twice in this file" + (f" (first at line {was})" if was else ""))
            first[item.id] = i
    return reg


def load_registration(path: str | Path) -> RegistrationFile:
    return _parse(load_yaml(path))


def parse_registration(text: str, name: str = "<request>") -> RegistrationFile:
    return _parse(parse_yaml(text, name))


def validate_service(data: Any, source: str = "<request>") -> ServiceSpec:
    try:
        return ServiceSpec.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"])
        raise Invalid(f"{source} 字段 {field}：{err['msg']}", f"{source} field {field}: {err['msg']}", field=field) from None
